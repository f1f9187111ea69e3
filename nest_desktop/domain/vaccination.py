"""Vaccination schedules as data, and the personalised calendar of a child (PAT-11).

The schedules live in `resources/vaccination/schedules.json`, which the clinic may correct;
the application tells this module where the file is (`use_schedule_file`).
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nest_desktop.domain import clock
from nest_desktop.domain.dates import add_months

GIVEN, DUE, OVERDUE, UPCOMING, EXPIRED = "given", "due", "overdue", "upcoming", "expired"
DEFAULT_SCHEDULE = "senegal"

_schedule_file: Path | None = None


def use_schedule_file(path: Path) -> None:
    global _schedule_file
    _schedule_file = Path(path)
    schedules.cache_clear()
    _rules.cache_clear()
    _dates_by_age.cache_clear()


@dataclass(frozen=True)
class Age:
    """An age counted from birth: days, weeks, calendar months or years."""

    days: int = 0
    weeks: int = 0
    months: int = 0
    years: int = 0

    def after(self, birth: dt.date) -> dt.date:
        months = self.months + 12 * self.years
        start = add_months(birth, months) if months else birth
        return start + dt.timedelta(days=self.days + 7 * self.weeks)

    @classmethod
    def parse(cls, data: dict) -> "Age":
        unknown = set(data) - {"days", "weeks", "months", "years"}
        if unknown or not data:
            raise ValueError(f"an age is given in days, weeks, months or years: {data}")
        return cls(**{key: int(value) for key, value in data.items()})


@dataclass(frozen=True)
class DoseRule:
    vaccine: str
    dose: int
    age: Age
    min_interval_days: int = 0
    window_days: int = 28
    limit_age: Age | None = None
    sex: str | None = None

    @classmethod
    def parse(cls, data: dict) -> "DoseRule":
        return cls(vaccine=data["vaccine"], dose=int(data["dose"]), age=Age.parse(data["age"]),
                   min_interval_days=int(data.get("min_interval_days", 0)),
                   window_days=int(data.get("window_days", 28)),
                   limit_age=Age.parse(data["limit_age"]) if data.get("limit_age") else None,
                   sex=data.get("sex"))


@dataclass(frozen=True)
class ScheduleVersion:
    id: str
    label: dict[str, str]
    doses: tuple[DoseRule, ...]
    born_from: dt.date | None = None
    born_before: dt.date | None = None

    def applies_to(self, birth: dt.date) -> bool:
        return ((self.born_from is None or birth >= self.born_from)
                and (self.born_before is None or birth < self.born_before))


@dataclass(frozen=True)
class Schedules:
    vaccines: dict[str, dict[str, str]]  # code -> label per language
    schedules: dict[str, tuple[dict[str, str], tuple[ScheduleVersion, ...]]]
    optional: tuple[DoseRule, ...] = ()

    def version_for(self, schedule: str, birth: dt.date) -> ScheduleVersion:
        if schedule not in self.schedules:
            raise ValueError(f"unknown vaccination schedule: {schedule}")
        for version in self.schedules[schedule][1]:
            if version.applies_to(birth):
                return version
        raise ValueError(f"no version of schedule {schedule} for a child born on {birth}")

    def optional_vaccines(self) -> list[str]:
        return list(dict.fromkeys(rule.vaccine for rule in self.optional))


def parse_schedules(data: dict) -> Schedules:
    """Reads the schedules' data; raises ValueError naming what is wrong."""
    try:
        vaccines = dict(data["vaccines"])
        parsed = {}
        for name, schedule in data["schedules"].items():
            versions = tuple(
                ScheduleVersion(
                    id=version["id"], label=version.get("label", {}),
                    doses=tuple(DoseRule.parse(d) for d in version["doses"]),
                    born_from=(dt.date.fromisoformat(version["born_from"])
                               if version.get("born_from") else None),
                    born_before=(dt.date.fromisoformat(version["born_before"])
                                 if version.get("born_before") else None))
                for version in schedule["versions"])
            parsed[name] = (schedule.get("label", {}), versions)
        optional = tuple(DoseRule.parse(d) for d in data.get("optional", {}).get("doses", []))
    except (KeyError, TypeError) as error:
        raise ValueError(f"vaccination schedules: missing or wrong entry {error}") from error
    result = Schedules(vaccines, parsed, optional)
    for _label, versions in parsed.values():
        for version in versions:
            for rule in version.doses:
                if rule.vaccine not in vaccines:
                    raise ValueError(f"vaccination schedules: {rule.vaccine} has no label")
    return result


@lru_cache(maxsize=1)
def schedules() -> Schedules:
    if _schedule_file is None:
        raise RuntimeError("the vaccination schedules' file was not given")
    with _schedule_file.open(encoding="utf-8") as handle:
        return parse_schedules(json.load(handle))


def vaccine_label(code: str, language: str) -> str:
    labels = schedules().vaccines.get(code, {})
    return labels.get(language) or labels.get("en") or code


@dataclass(slots=True)
class Dose:
    """One dose of a child's calendar.

    `due` is the day it is to be given: its day by the schedule (`scheduled`), or today when
    that day has passed and it was not given — never a day in the past for a dose still to
    give, so that the doses after a late one count their interval from a day that can be.
    """

    vaccine: str
    dose: int
    due: dt.date
    given: dt.date | None = None
    age: Age = field(default_factory=Age)
    window_end: dt.date | None = None  # after it, a dose not given is overdue
    limit: dt.date | None = None  # after it, the dose is no longer given
    status: str = UPCOMING
    scheduled: dt.date | None = None  # its day by the schedule and the doses before it
    # its day is counted from a late dose still to give: it moves with each day that dose
    # waits, so it is no day for an SMS reminder
    waits: bool = False


def calendar(birth_date: dt.date, schedule: str = DEFAULT_SCHEDULE, given: dict | None = None,
             *, sex: str | None = None, optional: tuple[str, ...] = (),
             today: dt.date | None = None) -> list[Dose]:
    """The personalised calendar of a child born on `birth_date`, as of `today`.

    `given` maps (vaccine, dose) to the date it was given. A dose is scheduled at its age, and
    not before the previous dose of the same vaccine plus its minimum interval. A dose not
    given whose day has passed is to be given today at the earliest (catch-up): the next
    doses of that vaccine count their interval from today, so that a booster never comes
    before the series it completes. A dose that cannot be given before its limit age is
    'expired' (no longer given), not overdue. `sex` leaves out the doses of the other sex;
    `optional` adds the clinic's optional vaccines named there.
    """
    given = given or {}
    today = today or clock.today()
    version = schedules().version_for(schedule, birth_date)
    previous: dict[str, dt.date] = {}  # vaccine -> day its last dose was given or is to be
    moving: dict[str, bool] = {}  # vaccine -> that day moves with today (a late dose)
    doses = []
    for rule, scheduled, limit, interval, window in _dates_by_age(
            version.id, tuple(sorted(optional)), birth_date):
        if sex and rule.sex and rule.sex != sex:
            continue
        waits = False
        if rule.vaccine in previous and interval:
            waits = moving[rule.vaccine] and previous[rule.vaccine] + interval >= scheduled
            scheduled = max(scheduled, previous[rule.vaccine] + interval)
        given_on = given.get((rule.vaccine, rule.dose))
        window_end = scheduled + window
        due = max(scheduled, today)  # never in the past while it is still to give
        if given_on:
            status = GIVEN
        elif limit and due > limit:
            status, due = EXPIRED, scheduled  # no longer given: not "to give today"
        elif today < scheduled:
            status = UPCOMING
        elif today <= window_end:
            status = DUE
        else:
            status = OVERDUE
        previous[rule.vaccine] = given_on or due
        moving[rule.vaccine] = status in (DUE, OVERDUE, UPCOMING) and (
            waits or due > scheduled)
        doses.append(Dose(rule.vaccine, rule.dose, given_on or due, given_on, rule.age,
                          window_end, limit, status, scheduled, waits))
    doses.sort(key=lambda d: (d.given or d.due, d.vaccine, d.dose))
    return doses


@lru_cache(maxsize=64)
def _rules(version_id: str, optional: tuple[str, ...]) -> tuple[DoseRule, ...]:
    """A version's doses and the optional ones asked for, each vaccine's doses in order."""
    data = schedules()
    version = next(v for _label, versions in data.schedules.values() for v in versions
                   if v.id == version_id)
    base_vaccines = {rule.vaccine for rule in version.doses}
    extra = [rule for rule in data.optional
             if rule.vaccine in optional and rule.vaccine not in base_vaccines]
    rules = list(version.doses) + extra
    return tuple(sorted(rules, key=lambda r: (r.vaccine, r.dose)))


@lru_cache(maxsize=1 << 15)
def _dates_by_age(version_id: str, optional: tuple[str, ...], birth: dt.date) -> tuple:
    """Each dose's rule, its date by age alone, its limit date, interval and window.

    Children share birth dates, so a clinic's calendars compute these few times.
    """
    return tuple(
        (rule, rule.age.after(birth), rule.limit_age.after(birth) if rule.limit_age else None,
         dt.timedelta(days=rule.min_interval_days), dt.timedelta(days=rule.window_days))
        for rule in _rules(version_id, optional))


PENDING = (DUE, OVERDUE, UPCOMING)


@dataclass(frozen=True)
class DueState:
    """What the due lists need of a child's calendar, kept beside her file so that a list is
    one indexed query (services.vaccination): exact from `computed_on` until `recheck_on`.

    It is read from the doses that head their vaccine's series: a dose still to give whose
    previous dose was given or is no longer given (or that has none). Their days do not move
    with time; the doses after them wait for them, so they come later and are never late
    while their head is still to give. Only a head that passes its limit age changes that,
    and the SMS reminders also need the next day a dose is scheduled from today on:
    `recheck_on` is the first day either moves.
    """

    computed_on: dt.date
    next_scheduled: dt.date | None  # the earliest day a dose still to give is scheduled
    overdue_from: dt.date | None  # from this day she has a dose overdue
    recheck_on: dt.date | None  # from this day the state may be wrong: compute it again
    # the first day from `computed_on` on that a dose is scheduled (an SMS reminder's day)
    next_reminder_on: dt.date | None = None

    def listed(self, horizon: dt.date) -> bool:
        """In the list of doses overdue or due by `horizon` (on a day it is valid)."""
        return self.next_scheduled is not None and self.next_scheduled <= horizon

    def reminded(self, horizon: dt.date) -> bool:
        """A dose is scheduled by `horizon` on a day still to come (on a day it is valid):
        her SMS reminders are to write."""
        return self.next_reminder_on is not None and self.next_reminder_on <= horizon

    def overdue(self, today: dt.date) -> bool:
        return self.overdue_from is not None and self.overdue_from <= today

    def first_due(self, today: dt.date) -> dt.date | None:
        """The earliest due day of her doses to give: today when one is due or late."""
        return None if self.next_scheduled is None else max(self.next_scheduled, today)

    def valid_on(self, today: dt.date) -> bool:
        return self.computed_on <= today and (self.recheck_on is None or today < self.recheck_on)


DUE_STATE_VERSION = "1"  # raised when what `due_state` computes changes


def due_state_fingerprint() -> str:
    """Names the schedules and the rules the stored due states were computed with: when it
    changes (a corrected schedules file, a new version), they are computed again."""
    return hashlib.sha256(f"{DUE_STATE_VERSION}:{schedules()!r}".encode()).hexdigest()[:16]


def due_state(doses: list[Dose], today: dt.date) -> DueState:
    """The due state of a calendar computed as of `today` (`calendar(..., today=today)`)."""
    series: dict[str, list[Dose]] = {}
    for dose in doses:
        series.setdefault(dose.vaccine, []).append(dose)
    heads = []
    for vaccine_doses in series.values():
        vaccine_doses.sort(key=lambda d: d.dose)
        previous_pending = False
        for dose in vaccine_doses:
            pending = dose.status in PENDING
            if pending and not previous_pending:
                heads.append(dose)
            previous_pending = pending
    if not heads:
        return DueState(today, None, None, None)
    one_day = dt.timedelta(days=1)
    next_reminder = min((d.scheduled for d in doses
                         if d.status in PENDING and not d.waits and d.scheduled >= today),
                        default=None)
    moves = [head.limit + one_day for head in heads if head.limit is not None]
    if next_reminder is not None:
        moves.append(next_reminder + one_day)
    return DueState(today, min(head.scheduled for head in heads),
                    min(head.window_end for head in heads) + one_day,
                    min(moves, default=None), next_reminder)


def next_visit(doses: list[Dose]) -> dt.date | None:
    """The next vaccination visit: the earliest day a dose still to give is to be given
    (today for a late child), never for a dose no longer given."""
    pending = [d.due for d in doses if d.status in (DUE, OVERDUE, UPCOMING)]
    return min(pending) if pending else None


def next_visit_doses(doses: list[Dose]) -> list[Dose]:
    """The doses to give at the next visit: every one to be given that day (all the late
    ones and those due, for a late child), as a nurse gives them together."""
    day = next_visit(doses)
    return [d for d in doses if d.due == day and d.status in (DUE, OVERDUE, UPCOMING)]
