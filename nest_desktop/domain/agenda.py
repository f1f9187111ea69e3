"""The agenda's rules (TEL-02, PAT-01): opening hours, appointment kinds and their lengths,
what makes a booking need a confirmed override, the free slots of a day. Pure: no Qt, no
database."""

import datetime as dt
import re
from collections.abc import Callable, Iterable
from itertools import pairwise

from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.reception import overlaps

Interval = tuple[dt.time, dt.time]

# The hours of a site that set none: Monday to Friday 08:00-18:00, Saturday morning.
DEFAULT_WEEK: dict[int, list[Interval]] = {
    **{weekday: [(dt.time(8), dt.time(18))] for weekday in range(5)},
    5: [(dt.time(8), dt.time(13))],
    6: [],
}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))

# What the appointment is for, and how long it takes unless the secretary says otherwise.
APPOINTMENT_KINDS: dict[str, tuple[str, int]] = {
    "consultation": (N_("Consultation"), 30),
    "intake": (N_("First visit (intake interview)"), 45),
    "prenatal": (N_("Prenatal visit"), 30),
    "ultrasound": (N_("Ultrasound"), 30),
    "postnatal": (N_("Post-natal visit"), 30),
    "paediatric": (N_("Paediatric consultation"), 20),
    "vaccination": (N_("Vaccination"), 15),
    "other": (N_("Other"), 30),
}
SLOT_MINUTES = 15

_TIME = r"(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?"
_INTERVAL = re.compile(rf"^\s*{_TIME}\s*(?:-|–|à)\s*{_TIME}\s*$")


def parse_hours(text: str) -> list[Interval]:
    """A day's opening hours as typed: '08:00-12:30, 15:00-18:00', '8h-13h'; empty: closed.

    Raises ValueError with a message for the user."""
    intervals: list[Interval] = []
    for part in (piece for piece in re.split(r"[,;/]| et ", text or "") if piece.strip()):
        match = _INTERVAL.match(part)
        if not match:
            raise ValueError(_("Write the hours as 08:00-12:30, 15:00-18:00 (empty: closed)."))
        opens_h, opens_m, closes_h, closes_m = (int(group or 0) for group in match.groups())
        if max(opens_h, closes_h) > 23 or max(opens_m, closes_m) > 59:
            raise ValueError(_("This time does not exist."))
        opens, closes = dt.time(opens_h, opens_m), dt.time(closes_h, closes_m)
        if closes <= opens:
            raise ValueError(_("Closing comes after opening: {hours}.").format(
                hours=part.strip()))
        intervals.append((opens, closes))
    intervals.sort()
    for (_opens, closes), (next_opens, _next_closes) in pairwise(intervals):
        if next_opens < closes:
            raise ValueError(_("Two periods of the day overlap."))
    return intervals


def hours_text(intervals: Iterable[Interval]) -> str:
    """'08:00-12:30, 15:00-18:00'; empty when closed."""
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in intervals)


def kind_minutes(kind: str) -> int:
    return APPOINTMENT_KINDS.get(kind, APPOINTMENT_KINDS["other"])[1]


def fits_hours(starts_at: dt.datetime, minutes: int, intervals: Iterable[Interval]) -> bool:
    """Whether the whole appointment falls inside one opening period of its day."""
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    day = starts_at.date()
    return any(dt.datetime.combine(day, opens) <= starts_at
               and ends_at <= dt.datetime.combine(day, closes) for opens, closes in intervals)


def free_slots(day: dt.date, intervals: Iterable[Interval],
               busy: Iterable[tuple[dt.datetime, int]], minutes: int,
               step: int = SLOT_MINUTES, after: dt.datetime | None = None) -> list[dt.datetime]:
    """The times of the day, every `step` minutes inside the opening hours, where an
    appointment of `minutes` fits without meeting a busy one; none before `after`."""
    busy = list(busy)
    slots = []
    for opens, closes in intervals:
        start = dt.datetime.combine(day, opens)
        end = dt.datetime.combine(day, closes)
        while start + dt.timedelta(minutes=minutes) <= end:
            if (after is None or start >= after) and not any(
                    overlaps(start, minutes, other, length) for other, length in busy):
                slots.append(start)
            start += dt.timedelta(minutes=step)
    return slots


def grid_times(intervals: Iterable[Interval], step: int = SLOT_MINUTES) -> list[dt.time]:
    """The rows of a day's grid: every `step` minutes of the opening hours."""
    times = []
    for opens, closes in intervals:
        moment = dt.datetime.combine(dt.date.min, opens)
        end = dt.datetime.combine(dt.date.min, closes)
        while moment < end:
            times.append(moment.time())
            moment += dt.timedelta(minutes=step)
    return times


def waiting_minutes(arrived_at: dt.datetime, seen_at: dt.datetime | None,
                    now: dt.datetime) -> int:
    """How long she waited (or has been waiting) since she arrived."""
    return max(0, int(((seen_at or now) - arrived_at).total_seconds() // 60))


def inside_hours(moment: dt.datetime, periods_on: Callable[[dt.date], list[Interval]],
                 look_back_days: int = 7) -> dt.datetime:
    """A deadline where someone is at the desk to meet it: `moment` itself inside the day's
    opening hours, else the end of that day's hours, else (a closed day) the end of the
    last open day before it; unchanged when the site opens on none of those days."""
    periods = periods_on(moment.date())
    if any(opens <= moment.time() <= closes for opens, closes in periods):
        return moment
    if periods:
        return dt.datetime.combine(moment.date(), periods[-1][1])
    for back in range(1, look_back_days + 1):
        day = moment.date() - dt.timedelta(days=back)
        periods = periods_on(day)
        if periods:
            return dt.datetime.combine(day, periods[-1][1])
    return moment
