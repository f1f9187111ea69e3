"""The agenda (TEL-02, PAT-01): when each site, service and practitioner takes appointments,
the days a site is closed, and what a booking meets: outside the hours, over another
appointment of the same practitioner, the free slots of a day."""

import datetime as dt
from dataclasses import dataclass

from nest_desktop.db.models import Appointment, ClosedDay, DirectoryEntry, OpeningHours, database
from nest_desktop.domain import agenda as rules
from nest_desktop.domain.dates import parse_date
from nest_desktop.domain.messages import _
from nest_desktop.domain.reception import overlaps
from nest_desktop.services import ValidationFailed, audit, check_characters, session


def _intervals(rows) -> dict[int, list[rules.Interval]]:
    week: dict[int, list[rules.Interval]] = {weekday: [] for weekday in range(7)}
    for weekday, opens, closes in rows:
        week[weekday].append((dt.time.fromisoformat(opens), dt.time.fromisoformat(closes)))
    return {weekday: sorted(periods) for weekday, periods in week.items()}


def week_hours(site_id: int, entry_id: int | None = None) -> dict[int, list[rules.Interval]]:
    """The week of a site (entry None) or of one of its services or practitioners: weekday
    -> opening periods. Set by the clinic, or else the site's, or else the default week."""
    for owner in ([entry_id] if entry_id else []) + [None]:
        condition = (OpeningHours.site == site_id) & (
            OpeningHours.entry.is_null() if owner is None else OpeningHours.entry == owner)
        rows = list(OpeningHours.select(OpeningHours.weekday, OpeningHours.opens,
                                        OpeningHours.closes).where(condition).tuples())
        if rows:
            return _intervals(rows)
    return {weekday: list(periods) for weekday, periods in rules.DEFAULT_WEEK.items()}


def has_own_hours(site_id: int, entry_id: int | None = None) -> bool:
    condition = (OpeningHours.site == site_id) & (
        OpeningHours.entry.is_null() if entry_id is None else OpeningHours.entry == entry_id)
    return OpeningHours.select().where(condition).exists()


def save_week_hours(site_id: int, entry_id: int | None, texts: dict[int, str]) -> None:
    """Weekday -> the hours as typed ('08:00-12:30, 15:00-18:00'; empty: closed). Every
    day empty: an entry follows its site's hours, a site the default week."""
    session.require("directory.manage")
    errors: dict[str, str] = {}
    week: dict[int, list[rules.Interval]] = {}
    for weekday in range(7):
        try:
            week[weekday] = rules.parse_hours(texts.get(weekday, ""))
        except ValueError as error:
            errors[f"weekday_{weekday}"] = str(error)
    if errors:
        raise ValidationFailed(errors)
    condition = (OpeningHours.site == site_id) & (
        OpeningHours.entry.is_null() if entry_id is None else OpeningHours.entry == entry_id)
    old = {weekday: rules.hours_text(periods) for weekday, periods in _intervals(
        OpeningHours.select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes)
        .where(condition).tuples()).items()}
    new = {weekday: rules.hours_text(periods) for weekday, periods in week.items()}
    with database.atomic():
        OpeningHours.delete().where(condition).execute()
        if any(week.values()):
            OpeningHours.insert_many([
                {"site": site_id, "entry": entry_id, "weekday": weekday,
                 "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"}
                for weekday, periods in week.items() for opens, closes in periods]).execute()
        session.log("update", "opening_hours", entry_id or site_id, audit.diff(
            {str(k): v for k, v in old.items()}, {str(k): v for k, v in new.items()}),
            details=f"site {site_id}" + (f", entry {entry_id}" if entry_id else ""))


@dataclass(frozen=True)
class ClosedDayRow:
    id: int
    day: dt.date
    reason: str


def closed_days(site_id: int, since: dt.date | None = None) -> list[ClosedDayRow]:
    query = ClosedDay.select().where(ClosedDay.site == site_id)
    if since is not None:
        query = query.where(ClosedDay.day >= since)
    return [ClosedDayRow(row.id, row.day, row.reason) for row in query.order_by(ClosedDay.day)]


def add_closed_day(site_id: int, day_text: str, reason: str,
                   today: dt.date | None = None) -> ClosedDayRow:
    session.require("directory.manage")
    errors: dict[str, str] = {}
    day = None
    try:
        day = parse_date(day_text, today)
    except ValueError as error:
        errors["closed_day"] = str(error)
    reason = " ".join(reason.split())
    if len(reason) > 100:
        errors["closed_reason"] = _("At most {count} characters.").format(count=100)
    check_characters(errors, closed_reason=reason)
    if day and ClosedDay.select().where((ClosedDay.site == site_id)
                                        & (ClosedDay.day == day)).exists():
        errors["closed_day"] = _("This day is already closed.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        row = ClosedDay.create(site=site_id, day=day, reason=reason)
        session.log("create", "closed_day", row.id, audit.diff(
            {}, {"site": site_id, "day": day, "reason": reason}))
    return ClosedDayRow(row.id, row.day, row.reason)


def remove_closed_day(closed_day_id: int) -> None:
    session.require("directory.manage")
    with database.atomic():
        row = ClosedDay.get_or_none(ClosedDay.id == closed_day_id)
        if row is None:
            return
        ClosedDay.delete().where(ClosedDay.id == closed_day_id).execute()
        session.log("delete", "closed_day", closed_day_id, audit.diff(
            {"site": row.site_id, "day": row.day, "reason": row.reason}, {}))


def closed_reason(site_id: int, day: dt.date) -> str | None:
    """Why the site is closed that day ('' when no reason was given); None when open."""
    row = ClosedDay.get_or_none((ClosedDay.site == site_id) & (ClosedDay.day == day))
    return None if row is None else row.reason


def hours_on(site_id: int, entry_id: int | None, day: dt.date) -> list[rules.Interval]:
    """The opening periods of that day; none when closed."""
    if closed_reason(site_id, day) is not None:
        return []
    return week_hours(site_id, entry_id)[day.weekday()]


def closing_time(site_id: int, day: dt.date) -> dt.time | None:
    """When the site closes that day (the end of its last opening period); None when it is
    closed all day."""
    periods = hours_on(site_id, None, day)
    return periods[-1][1] if periods else None


def _busy(entry_id: int, first: dt.datetime, last: dt.datetime,
          exclude_id: int | None = None) -> list[Appointment]:
    return list(Appointment.select().where(
        (Appointment.service == entry_id) & (Appointment.status != "cancelled")
        & (Appointment.id != (exclude_id or 0))
        & Appointment.starts_at.between(first, last)).order_by(Appointment.starts_at))


def booking_warnings(site_id: int, entry_id: int, starts_at: dt.datetime, minutes: int,
                     exclude_id: int | None = None) -> list[str]:
    """What the secretary must confirm before booking: the site closed, outside the hours
    of the practitioner, another appointment of hers at that time."""
    warnings = []
    closed = closed_reason(site_id, starts_at.date())
    if closed is not None:
        warnings.append(_("The site is closed that day ({reason}).").format(
            reason=closed) if closed else _("The site is closed that day."))
    else:
        periods = week_hours(site_id, entry_id)[starts_at.weekday()]
        if not rules.fits_hours(starts_at, minutes, periods):
            warnings.append(_("Outside the opening hours ({hours}).").format(
                hours=rules.hours_text(periods)) if periods else _(
                "No appointment is given on that day of the week."))
    for other in _busy(entry_id, starts_at - dt.timedelta(hours=12),
                       starts_at + dt.timedelta(hours=12), exclude_id):
        if overlaps(starts_at, minutes, other.starts_at, other.duration_minutes):
            warnings.append(_("{name} already has an appointment at {time}.").format(
                name=other.service.name, time=other.starts_at.strftime("%H:%M")))
            break
    return warnings


def free_slots(site_id: int, entry_id: int, day: dt.date, minutes: int,
               after: dt.datetime | None = None, exclude_id: int | None = None
               ) -> list[dt.datetime]:
    """The times of that day a practitioner can take an appointment of `minutes`."""
    periods = hours_on(site_id, entry_id, day)
    busy = [(a.starts_at, a.duration_minutes) for a in _busy(
        entry_id, dt.datetime.combine(day, dt.time.min), dt.datetime.combine(day, dt.time.max),
        exclude_id)]
    return rules.free_slots(day, periods, busy, minutes, after=after)


def next_free_slot(site_id: int, entry_id: int, minutes: int, after: dt.datetime,
                   days: int = 60) -> dt.datetime | None:
    """The first time from `after` the practitioner can take it, within `days`."""
    for offset in range(days):
        day = after.date() + dt.timedelta(days=offset)
        slots = free_slots(site_id, entry_id, day, minutes, after=after)
        if slots:
            return slots[0]
    return None


@dataclass(frozen=True)
class AgendaColumn:
    """A practitioner's (or a room's) day in the grid."""

    entry_id: int
    name: str
    periods: list[rules.Interval]
    free: list[dt.datetime]


def day_columns(site_id: int, day: dt.date, entry_ids: list[int] | None = None
                ) -> list[AgendaColumn]:
    """Each practitioner taking appointments at the site, with her hours and free slots
    (of the shortest kind) that day."""
    query = DirectoryEntry.select().where(
        (DirectoryEntry.site == site_id) & (DirectoryEntry.takes_appointments == True)  # noqa: E712
        & (DirectoryEntry.active == True))  # noqa: E712
    if entry_ids is not None:
        query = query.where(DirectoryEntry.id.in_(entry_ids))
    columns = []
    for entry in query.order_by(DirectoryEntry.kind.desc(), DirectoryEntry.position,
                                DirectoryEntry.name):
        columns.append(AgendaColumn(entry.id, entry.name, hours_on(site_id, entry.id, day),
                                    free_slots(site_id, entry.id, day, rules.SLOT_MINUTES)))
    return columns


class HoursBook:
    """Every site's opening hours and closed days, read once (two queries) for a pass of
    the follow-up engine, which puts each deadline inside its site's hours."""

    def __init__(self):
        self.weeks: dict[int, dict[int, list[rules.Interval]]] = {}
        rows: dict[int, list[tuple]] = {}
        for site_id, weekday, opens, closes in (
                OpeningHours.select(OpeningHours.site, OpeningHours.weekday, OpeningHours.opens,
                                    OpeningHours.closes)
                .where(OpeningHours.entry.is_null()).tuples()):
            rows.setdefault(site_id, []).append((weekday, opens, closes))
        for site_id, site_rows in rows.items():
            self.weeks[site_id] = _intervals(site_rows)
        self.closed = set(ClosedDay.select(ClosedDay.site, ClosedDay.day).tuples())

    def periods_on(self, site_id: int | None, day: dt.date) -> list[rules.Interval]:
        if site_id is not None and (site_id, day) in self.closed:
            return []
        return self.weeks.get(site_id, rules.DEFAULT_WEEK)[day.weekday()]

    def inside_hours(self, site_id: int | None, moment: dt.datetime) -> dt.datetime:
        return rules.inside_hours(moment, lambda day: self.periods_on(site_id, day))
