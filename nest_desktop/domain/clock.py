"""The application's one clock: the date and time at the clinic.

Everything in NEST Desktop that needs "now" or "today" asks here, never the system clock:
the clinics are in Dakar, on UTC+0 all year (no summer time), whatever time zone a PC is set
to; and the tests, the demo and the self-test set the moment they need (`set_now`).
Durations (time-outs, the idle lock) are measured with `time.monotonic()`, not with this.
"""

import datetime as dt

CLINIC_TIMEZONE = dt.timezone(dt.timedelta(0), "GMT")  # Africa/Dakar: UTC+0, no summer time

# Set by `set_now`: a clock stopped at a moment, or running on from it (an offset).
_stopped_at: dt.datetime | None = None
_offset = dt.timedelta(0)


def system_now() -> dt.datetime:
    """The real time at the clinic, as the system tells it, whatever was set."""
    return dt.datetime.now(CLINIC_TIMEZONE).replace(tzinfo=None)


def now() -> dt.datetime:
    """The clinic's date and time, to the second, naive (as stored in the database)."""
    stopped_at = _stopped_at
    moment = stopped_at if stopped_at is not None else system_now() + _offset
    return moment.replace(microsecond=0)


def today() -> dt.date:
    """The clinic's date."""
    return now().date()


def set_now(moment: dt.datetime | dt.date, *, running: bool = False) -> None:
    """Sets the clock at `moment` (a date: at its midnight): stopped there, or running on from
    it at the pace of the system clock. For the tests, the demo and the self-test only."""
    global _stopped_at, _offset
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time.min)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CLINIC_TIMEZONE).replace(tzinfo=None)
    if running:
        _stopped_at, _offset = None, moment - system_now()
    else:
        _stopped_at, _offset = moment, dt.timedelta(0)


def advance(delta: dt.timedelta) -> None:
    """Moves the clock on by `delta` (stopped or running)."""
    global _stopped_at, _offset
    if _stopped_at is not None:
        _stopped_at += delta
    else:
        _offset += delta


def reset() -> None:
    """Back to the system's time."""
    global _stopped_at, _offset
    _stopped_at, _offset = None, dt.timedelta(0)


def is_set() -> bool:
    return _stopped_at is not None or _offset != dt.timedelta(0)


def parse_moment(text: str) -> dt.datetime:
    """'2027-01-31 23:30', '2027-01-31T23:30:00' or '2027-01-31' (midnight); ValueError else."""
    value = text.strip()
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date and time (YYYY-MM-DD HH:MM): {text!r}") from None
