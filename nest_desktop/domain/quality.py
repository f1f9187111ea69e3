"""Complaints, non-conformities and their corrective actions (ISO 9001 §10.2), and the
periods the quality indicators are computed over (§9.1). Pure: no Qt, no database."""

import datetime as dt
from dataclasses import dataclass

from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import N_, _

COMPLAINT, NON_CONFORMITY = "complaint", "non_conformity"
KINDS = {COMPLAINT: N_("Complaint"), NON_CONFORMITY: N_("Non-conformity")}

# Where it was heard or found.
SOURCES = {
    "survey": N_("Satisfaction survey"),
    "call": N_("Phone call"),
    "guestbook": N_("Guestbook"),
    "desk": N_("At the desk"),
    "indicator": N_("Missed deadline found by an indicator"),
    "audit": N_("Internal audit"),
    "other": N_("Other"),
}
CATEGORIES = {
    "welcome": N_("Welcome"),
    "waiting": N_("Waiting time"),
    "price": N_("Prices"),
    "care": N_("Care"),
    "information": N_("Information given"),
    "billing": N_("Billing"),
    "comfort": N_("Comfort and meals"),
    "follow_up": N_("Follow-up not done"),
    "other": N_("Other"),
}
SEVERITIES = {"minor": N_("Minor"), "major": N_("Major"), "critical": N_("Critical")}

# A case's life: recorded, its cause analysed, actions under way, their effectiveness to
# check, closed. The status follows from what was written (`status_of`), never typed.
RECORDED, ANALYSED, ACTING, TO_CHECK, CLOSED = (
    "recorded", "analysed", "acting", "to_check", "closed")
STATUSES = {
    RECORDED: N_("Recorded"),
    ANALYSED: N_("Cause analysed"),
    ACTING: N_("Actions under way"),
    TO_CHECK: N_("Effectiveness to check"),
    CLOSED: N_("Closed, effective"),
}
OPEN_STATUSES = (RECORDED, ANALYSED, ACTING, TO_CHECK)

DESCRIPTION_MAX = 4000
TEXT_MAX = 2000
ACTION_HORIZON_DAYS = 366  # a corrective action's deadline is within the year
DEFAULT_COMPLAINT_SCORE = 50  # a survey scored below this proposes a complaint

# A survey question's id -> the category of a complaint about it (the lowest one scored).
QUESTION_CATEGORIES = {"welcome": "welcome", "waiting": "waiting", "consultation": "care",
                       "care": "care", "comfort": "comfort", "information": "information"}


def status_of(cause: str, actions: list[tuple[bool, bool]], effective: bool | None,
              closed: bool) -> str:
    """`actions`: (done, cancelled) for each corrective action."""
    if closed:
        return CLOSED
    live = [done for done, cancelled in actions if not cancelled]
    if live and all(live):
        return TO_CHECK
    if live:
        return ACTING
    return ANALYSED if cause.strip() else RECORDED


def check_case(kind: str, source: str, category: str, severity: str, description: str,
               occurred_on: dt.date | None, today: dt.date) -> dict[str, str]:
    """What is wrong with a case as typed: field -> message to show beside it."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = _("Choose a complaint or a non-conformity.")
    if source not in SOURCES:
        errors["source"] = _("Choose where it comes from.")
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    if severity not in SEVERITIES:
        errors["severity"] = _("Choose a severity.")
    if not description.strip():
        errors["description"] = _("Describe what happened, in her words if she said it.")
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = _("At most {count} characters.").format(count=DESCRIPTION_MAX)
    if occurred_on is None:
        errors["occurred_on"] = _("Give the date.")
    elif occurred_on > today:
        errors["occurred_on"] = _("This date is in the future.")
    return errors


def check_action(description: str, owner_id: int | None, deadline: dt.date | None,
                 today: dt.date) -> dict[str, str]:
    errors = {}
    if not description.strip():
        errors["action"] = _("Say what will be done.")
    elif len(description) > TEXT_MAX:
        errors["action"] = _("At most {count} characters.").format(count=TEXT_MAX)
    if owner_id is None:
        errors["owner"] = _("Choose who does it.")
    if deadline is None:
        errors["deadline"] = _("Give the deadline.")
    elif deadline < today:
        errors["deadline"] = _("The deadline has passed already.")
    elif deadline > today + dt.timedelta(days=ACTION_HORIZON_DAYS):
        errors["deadline"] = _("Choose a deadline within a year.")
    return errors


def proposes_complaint(score: int | None, threshold: int) -> bool:
    """A survey scored below the pilot's threshold proposes a complaint."""
    return score is not None and score < threshold


def category_from_answers(answers: dict) -> str:
    """The category of the worst-scored question a complaint is likely about."""
    scored = [(value, question) for question, value in answers.items()
              if question in QUESTION_CATEGORIES and isinstance(value, int)
              and not isinstance(value, bool)]
    if not scored:
        return "other"
    return QUESTION_CATEGORIES[min(scored)[1]]


# --- periods ---------------------------------------------------------------------------------

MONTH, QUARTER, YEAR, DATES = "month", "quarter", "year", "dates"
PERIOD_KINDS = {MONTH: N_("Month"), QUARTER: N_("Quarter"), YEAR: N_("Year"),
                DATES: N_("Dates")}


@dataclass(frozen=True)
class Period:
    """Days `start` to `end` included."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min)

    def ends_before(self) -> dt.datetime:
        """The first moment after the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min)


def period_of(kind: str, day: dt.date, end: dt.date | None = None) -> Period:
    """The month, quarter or year holding `day`, or the days from `day` to `end`."""
    if kind == MONTH:
        start = day.replace(day=1)
        return Period(kind, start, add_months(start, 1) - dt.timedelta(days=1))
    if kind == QUARTER:
        start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return Period(kind, start, add_months(start, 3) - dt.timedelta(days=1))
    if kind == YEAR:
        return Period(kind, dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    if kind == DATES:
        if end is None or end < day:
            raise ValueError("a period of dates needs an end on or after its start")
        return Period(kind, day, end)
    raise ValueError(f"unknown period kind: {kind}")


def previous(period: Period) -> Period:
    """The period before: the month, quarter or year before, or as many days before."""
    if period.kind == DATES:
        end = period.start - dt.timedelta(days=1)
        return Period(DATES, end - dt.timedelta(days=period.days - 1), end)
    return period_of(period.kind, period.start - dt.timedelta(days=1))


def last_periods(period: Period, count: int) -> list[Period]:
    """`count` periods ending with `period`, the oldest first (a trend)."""
    found = [period]
    while len(found) < count:
        found.append(previous(found[-1]))
    return list(reversed(found))
