"""Pregnancy dating (PAT-05) and the pathway's milestones (PAT-06), pure.

Sources in ../shared/REFERENCE.md: Naegele (DDR + 280 days, the default), the French
convention (DDR + 14 days + 9 calendar months), ACOG thresholds for redating by ultrasound.
The milestones are data in `resources/pregnancy/pathway.json`; the application says where.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nest_desktop.domain.dates import add_months
from nest_desktop.domain.followup import in_language
from nest_desktop.domain.messages import N_, _

NAEGELE = "naegele"
FRENCH = "french"
CONVENTIONS = {NAEGELE: N_("Naegele: DDR + 280 days (40 weeks)"),
               FRENCH: N_("French: DDR + 14 days + 9 months (about 41 weeks)")}
# Said beside the due date wherever it is printed, so that a midwife knows how it was counted.
CONVENTIONS_SHORT = {NAEGELE: N_("40 SA, Naegele's rule"),
                     FRENCH: N_("41 SA, French convention")}

# How the DDR used for the pathway was known.
DATING_METHODS = {
    "ddr": N_("Last menstrual period"),
    "dpa": N_("Due date given"),
    "ultrasound": N_("Early ultrasound"),
    "conception": N_("Date of conception"),
}
MAX_WEEKS = 44
MILESTONE_STATUSES = {"done": N_("Done"), "missed": N_("Missed"), "current": N_("Now"),
                      "upcoming": N_("To come"), "cancelled": N_("Set aside"),
                      "not_done": N_("Not done")}
# The same, on a document for the patient herself: a passed window is said neutrally.
PATIENT_MILESTONE_STATUSES = {**MILESTONE_STATUSES,
                              "missed": N_("Not done: to see with the midwife")}

_pathway_file: Path | None = None


def use_pathway_file(path: Path) -> None:
    global _pathway_file
    _pathway_file = Path(path)
    template.cache_clear()


# --- dating -------------------------------------------------------------------------------

def due_date_from_ddr(ddr: dt.date, convention: str = NAEGELE) -> dt.date:
    """The expected date of delivery (DPA, "terme")."""
    if convention == FRENCH:
        return add_months(ddr + dt.timedelta(days=14), 9)
    return ddr + dt.timedelta(days=280)


def ddr_from_due_date(dpa: dt.date, convention: str = NAEGELE) -> dt.date:
    """The DDR that gives this DPA under the convention (the inverse of due_date_from_ddr);
    under the French convention, the first of `ddrs_from_due_date`."""
    if convention == FRENCH:
        candidates = ddrs_from_due_date(dpa, FRENCH)
        return candidates[0] if candidates else add_months(dpa, -9) - dt.timedelta(days=14)
    return dpa - dt.timedelta(days=280)


def ddrs_from_due_date(dpa: dt.date, convention: str = NAEGELE) -> list[dt.date]:
    """Every DDR that gives this DPA: one under Naegele; under the French convention, months
    have different lengths and a due date at a month's end comes from several DDRs (14 to
    17 May 2026 all give 28 February 2027), or from none."""
    if convention != FRENCH:
        return [dpa - dt.timedelta(days=280)]
    start = add_months(dpa, -9) - dt.timedelta(days=14)
    return [start + dt.timedelta(days=shift) for shift in range(-3, 4)
            if due_date_from_ddr(start + dt.timedelta(days=shift), FRENCH) == dpa]


def ddr_from_conception(conception: dt.date) -> dt.date:
    """Conception is dated two weeks after the DDR (SG = SA − 2)."""
    return conception - dt.timedelta(days=14)


def gestational_age(ddr: dt.date, on: dt.date) -> tuple[int, int]:
    """Completed weeks of amenorrhoea and days: (32, 4) is "32 SA + 4 j"."""
    days = (on - ddr).days
    return days // 7, days % 7


def format_sa(weeks: int, days: int) -> str:
    return _("{weeks} SA + {days} d").format(weeks=weeks, days=days)


def date_at(ddr: dt.date, weeks: int, days: int = 0) -> dt.date:
    """The day a pregnancy reaches `weeks` SA + `days` d."""
    return ddr + dt.timedelta(weeks=weeks, days=days)


# Ultrasound redating (ACOG Committee Opinion 700): the scan's dating replaces the DDR when
# the difference is larger than this, by the gestational age at the scan.
_REDATING_LIMITS = ((9 * 7, 5), (14 * 7, 7), (16 * 7, 7), (22 * 7, 10), (28 * 7, 14),
                    (10_000, 21))


def redating_limit_days(age_days_at_scan: int) -> int:
    for below, limit in _REDATING_LIMITS:
        if age_days_at_scan < below:
            return limit
    return 21


@dataclass(frozen=True)
class Dating:
    ddr: dt.date  # the DDR the pathway is computed from
    method: str  # a key of DATING_METHODS
    difference_days: int = 0  # scan against DDR, when a scan was given


def date_by_ultrasound(ddr: dt.date | None, scan_date: dt.date, weeks: int, days: int
                       ) -> Dating:
    """A scan that measured `weeks` SA + `days` d on `scan_date`: the pathway follows it when
    there is no DDR, or when it differs from the DDR by more than the ACOG limit."""
    scan_ddr = scan_date - dt.timedelta(weeks=weeks, days=days)
    if ddr is None:
        return Dating(scan_ddr, "ultrasound")
    difference = (ddr - scan_ddr).days
    if abs(difference) > redating_limit_days(weeks * 7 + days):
        return Dating(scan_ddr, "ultrasound", difference)
    return Dating(ddr, "ddr", difference)


@dataclass(frozen=True)
class Warning:
    code: str  # future, over_44_weeks, not_female: impossible; young, old: to check
    message: str

    @property
    def impossible(self) -> bool:
        return self.code in ("future", "over_44_weeks", "not_female")


def warnings(ddr: dt.date, on: dt.date, sex: str = "F", birth_date: dt.date | None = None
             ) -> list[Warning]:
    """What makes this DDR or this patient impossible or implausible (empty: nothing)."""
    found = []
    if ddr > on:
        found.append(Warning("future", _("The last menstrual period is in the future.")))
    elif (on - ddr).days > MAX_WEEKS * 7:
        found.append(Warning("over_44_weeks", _(
            "The last menstrual period is more than {weeks} weeks ago.").format(
            weeks=MAX_WEEKS)))
    if sex != "F":
        found.append(Warning("not_female", _("This file is not a woman's.")))
    if birth_date is not None:
        age = (ddr - birth_date).days / 365.25
        if age < 11:
            found.append(Warning("young", _(
                "The patient is too young for a pregnancy: check the birth date.")))
        elif age > 55:
            found.append(Warning("old", _(
                "The patient is over 55: check the birth date and the DDR.")))
    return found


# --- the pathway's milestones -------------------------------------------------------------

@dataclass(frozen=True)
class Milestone:
    """A step of the pathway with its window, in SA + days from the DDR, or in days after
    the birth for the post-natal ones."""

    id: str
    label: dict[str, str]
    start: tuple[int, int]
    end: tuple[int, int]
    after_birth: bool = False
    follow_up: str = ""  # the follow-up rule it is done by, if any
    birth: bool = False  # the birth itself: its window until then, done on its day
    risk_factors_only: bool = False  # for women with risk factors only (glucose test)

    def label_in(self, language: str) -> str:
        return in_language(self.label, language) or self.id


def _weeks(text: str) -> tuple[int, int]:
    """"13+6" → (13, 6); "24" → (24, 0)."""
    weeks, _plus, days = str(text).partition("+")
    return int(weeks), int(days or 0)


def parse_template(data: dict) -> tuple[Milestone, ...]:
    try:
        milestones = tuple(Milestone(
            item["id"], dict(item["label"]), _weeks(item["from"]), _weeks(item["to"]),
            bool(item.get("after_birth", False)),
            item.get("follow_up", ""), bool(item.get("birth", False)),
            bool(item.get("risk_factors_only", False)))
            for item in data["milestones"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"pregnancy pathway: missing or wrong entry {error}") from error
    for milestone in milestones:
        if milestone.end < milestone.start:
            raise ValueError(f"pregnancy pathway: {milestone.id} ends before it starts")
    if len({m.id for m in milestones}) != len(milestones):
        raise ValueError("pregnancy pathway: two milestones have the same id")
    return milestones


@lru_cache(maxsize=1)
def template() -> tuple[Milestone, ...]:
    if _pathway_file is None:
        raise RuntimeError("the pregnancy pathway's file was not given")
    with _pathway_file.open(encoding="utf-8") as handle:
        return parse_template(json.load(handle))


@dataclass(frozen=True)
class PlannedMilestone:
    milestone: Milestone
    start: dt.date | None  # None: after a birth not yet recorded
    end: dt.date | None
    status: str  # done, missed, current, upcoming, cancelled, not_done
    done_on: dt.date | None


def plan(ddr: dt.date, today: dt.date, done: dict[str, dt.date] | None = None,
         birth: dt.date | None = None, cancelled: set[str] | None = None,
         ended: bool = False) -> list[PlannedMilestone]:
    """Each milestone's dates for this pregnancy and its status: done (with its date), missed
    (its window passed), current (open today), upcoming; cancelled when the pregnancy `ended`
    otherwise than by a birth, or when the milestone was set aside. After a `birth` (its
    date), the birth is done, and an antenatal milestone not done is closed ("not_done"),
    never current nor to come."""
    done, cancelled = done or {}, cancelled or set()
    if birth is not None:
        done = {**done, **{m.id: birth for m in template() if m.birth}}
    planned = []
    for milestone in template():
        if milestone.birth and birth is not None:
            start = end = birth
        elif milestone.after_birth:
            start = birth + dt.timedelta(weeks=milestone.start[0], days=milestone.start[1]) \
                if birth else None
            end = birth + dt.timedelta(weeks=milestone.end[0], days=milestone.end[1]) \
                if birth else None
        else:
            start, end = date_at(ddr, *milestone.start), date_at(ddr, *milestone.end)
        if milestone.id in done:
            status = "done"
        elif milestone.id in cancelled or ended:
            status = "cancelled"
        elif birth is not None and not milestone.after_birth:
            status = "not_done"  # closed by the birth, whether its window had passed or not
        elif start is None:
            status = "upcoming"
        elif end < today:
            status = "missed"
        elif start <= today:
            status = "current"
        else:
            status = "upcoming"
        planned.append(PlannedMilestone(milestone, start, end, status, done.get(milestone.id)))
    return planned


def next_milestone(planned: list[PlannedMilestone]) -> PlannedMilestone | None:
    """What to think of next: the open milestone that closes first, else the next to open."""
    current = [m for m in planned if m.status == "current"]
    if current:
        return min(current, key=lambda m: m.end)
    upcoming = [m for m in planned if m.status == "upcoming" and m.start is not None]
    return min(upcoming, key=lambda m: m.start) if upcoming else None


@dataclass(frozen=True)
class MilestoneState:
    """A pregnancy's next milestone kept beside it, so that the list of pregnancies is one
    query (services.pregnancy): exact from `computed_on` until `recheck_on`, the first day a
    milestone's window opens or closes."""

    computed_on: dt.date
    milestone: str  # its id, "" when none is left
    starts_on: dt.date | None
    recheck_on: dt.date | None  # None: nothing changes with time any more

    def valid_on(self, today: dt.date) -> bool:
        return self.computed_on <= today and (self.recheck_on is None or today < self.recheck_on)


MILESTONE_STATE_VERSION = "1"  # raised when what `milestone_state` computes changes


def milestone_state_fingerprint() -> str:
    """Names the pathway the stored next milestones were computed with: when it changes,
    they are computed again."""
    return hashlib.sha256(f"{MILESTONE_STATE_VERSION}:{template()!r}".encode()).hexdigest()[:16]


def milestone_state(planned: list[PlannedMilestone], today: dt.date) -> MilestoneState:
    """The state of a plan computed as of `today` (`plan(..., today)`)."""
    nearest = next_milestone(planned)
    changes = [m.start for m in planned if m.status == "upcoming" and m.start is not None]
    changes += [m.end + dt.timedelta(days=1) for m in planned if m.status == "current"]
    return MilestoneState(today, nearest.milestone.id if nearest else "",
                          nearest.start if nearest else None, min(changes, default=None))
