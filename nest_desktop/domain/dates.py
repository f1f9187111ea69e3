"""Dates as secretaries type them (23/11/2026, 23.11.26, 2026-11-23)."""

import calendar
import datetime as dt
import re

from nest_desktop.domain import clock
from nest_desktop.domain.messages import _

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str, today: dt.date | None = None) -> dt.date:
    """Parses a day-first date; a two-digit year is the closest past year of that ending.

    Raises ValueError with a message for the user.
    """
    value = (text or "").strip()
    iso = _ISO.match(value)
    day_first = _DAY_FIRST.match(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif day_first:
        day, month, year = (int(part) for part in day_first.groups())
        if len(day_first.group(3)) == 2:
            current = (today or clock.today()).year
            year += current - current % 100
            if year > current:
                year -= 100
    else:
        raise ValueError(_("Write the date as day/month/year, for example 23/11/2026."))
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ValueError(_("This date does not exist.")) from error


def age_in_years(birth_date: dt.date, on: dt.date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    return months - int(on.day < birth_date.day)


def entry_text(value: dt.date | None) -> str:
    """A date as it is typed in the forms: 23/11/2026."""
    return value.strftime("%d/%m/%Y") if value else ""


def add_months(value, months: int):
    """Calendar months, for a date or a datetime: 31 January + 1 month = 28 (or 29)
    February, 31 May + 9 months = the last day of February."""
    year, month = divmod(value.month - 1 + months, 12)
    year, month = value.year + year, month + 1
    return value.replace(year=year, month=month,
                         day=min(value.day, calendar.monthrange(year, month)[1]))


_TIME = re.compile(r"^(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?$")


def parse_time(text: str) -> dt.time:
    """A time as typed: 10:30, 10h30, 10 h 30, 10h, 9.15. Raises ValueError with a message."""
    match = _TIME.match(" ".join((text or "").split()).replace(" h ", "h").replace(" h", "h"))
    if not match:
        raise ValueError(_("Write the time as hours:minutes, for example 10:30."))
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(_("This time does not exist."))
    return dt.time(hours, minutes)
