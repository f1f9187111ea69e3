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


# --- indicators (ISO 9001 §9.1) ----------------------------------------------------------------

PERCENT, COUNT, MINUTES, DAYS, SCORE, SECONDS, HOUR = (
    "percent", "count", "minutes", "days", "score", "seconds", "hour")


@dataclass(frozen=True)
class Indicator:
    key: str
    group: str  # a key of GROUPS
    label: str  # N_()
    definition: str  # N_(): what is counted, over what
    unit: str
    target: float | None  # the default target; the pilots set theirs
    higher_is_better: bool = True
    by_secretary: bool = False  # has a meaning per person


GROUPS = {
    "followup": N_("Follow-up on time"),
    "surveys": N_("Satisfaction surveys"),
    "prospects": N_("Prospects"),
    "phone": N_("Phone"),
    "appointments": N_("Appointments"),
    "children": N_("Vaccination and pregnancy"),
    "complaints": N_("Complaints"),
}

# The follow-ups whose deadlines the procedures set, each measured "closed before its deadline".
ON_TIME_RULES = ("satisfaction_72h", "call_36_weeks", "discharge_survey",
                 "post_discharge_call", "prospect_callback", "conversion_review")
ON_TIME_DEFINITION = N_(
    "Of the follow-ups whose deadline fell in the period: the share done before it. Late: done "
    "after it; still open: not done yet (overdue). Cancelled ones are not counted.")


def _indicators() -> tuple[Indicator, ...]:
    found = [Indicator(f"on_time.{rule}", "followup", "", ON_TIME_DEFINITION, PERCENT, 90.0,
                       by_secretary=True) for rule in ON_TIME_RULES]
    found += [
        Indicator("surveys.response_rate", "surveys", N_("Survey response rate"), N_(
            "Of the survey follow-ups (72-hour call, discharge) whose deadline fell in the "
            "period: the share whose survey was answered."), PERCENT, 70.0, by_secretary=True),
        Indicator("surveys.mean_score", "surveys", N_("Mean satisfaction score"), N_(
            "Mean score (out of 100) of the surveys answered in the period."), SCORE, 80.0),
        Indicator("surveys.recommend", "surveys", N_("Would recommend NEST"), N_(
            "Of the surveys answered in the period that asked it: the share who would "
            "recommend NEST."), PERCENT, 90.0),
        Indicator("surveys.remarks", "surveys", N_("Remarks written"), N_(
            "Surveys answered in the period with a written remark."), COUNT, None),
        Indicator("prospects.conversion", "prospects", N_("Prospects converted"), N_(
            "Of the prospects recorded in the period: the share who became patients (by now)."),
            PERCENT, 30.0, by_secretary=True),
        Indicator("prospects.days_to_convert", "prospects", N_("Median days to conversion"), N_(
            "Median number of days from the prospect's record to her conversion, over the "
            "prospects converted in the period."), DAYS, 30.0, higher_is_better=False),
        Indicator("phone.calls", "phone", N_("Incoming calls"), N_(
            "Incoming calls in the register in the period."), COUNT, None, by_secretary=True),
        Indicator("phone.per_day", "phone", N_("Incoming calls per day"), N_(
            "Incoming calls of the period divided by its days (up to today for the period "
            "under way)."), COUNT, None, by_secretary=True),
        Indicator("phone.busiest_hour", "phone", N_("Busiest hour"), N_(
            "The hour of the day that received the most incoming calls in the period; the "
            "calls of each hour are counted beside it."), HOUR, None, by_secretary=True),
        Indicator("phone.answered", "phone", N_("Calls answered at once"), N_(
            "Of the incoming calls: the share answered by the secretary herself."), PERCENT,
            None, by_secretary=True),
        Indicator("phone.transferred", "phone", N_("Calls transferred"), N_(
            "Of the incoming calls: the share put through to a service or a person."),
            PERCENT, None, by_secretary=True),
        Indicator("phone.message", "phone", N_("Messages taken"), N_(
            "Of the incoming calls: the share ending with a message taken."), PERCENT, None,
            by_secretary=True),
        Indicator("phone.call_back_later", "phone", N_("Will call back later"), N_(
            "Of the incoming calls: the share where she will call back later."), PERCENT,
            None, by_secretary=True),
        Indicator("phone.lost", "phone", N_("Lost calls"), N_(
            "Of the incoming calls: the share where she hung up or the line was lost."),
            PERCENT, 5.0, higher_is_better=False, by_secretary=True),
        Indicator("phone.same_day", "phone", N_("Requests and messages dealt with the same day"),
                  N_("Of the requests left open and the messages taken in the period: the share "
                     "dealt with by the closing time of their day."), PERCENT, 95.0,
                  by_secretary=True),
        Indicator("phone.same_day_delay", "phone", N_("Median delay to deal with a request"),
                  N_("Median time from the call or the message to its request dealt with, "
                     "in minutes."), MINUTES, 120.0, higher_is_better=False),
        Indicator("phone.hold_median", "phone", N_("Median hold"), N_(
            "Median time on hold, in seconds, of the calls put on hold in the period."),
            SECONDS, 30.0, higher_is_better=False, by_secretary=True),
        Indicator("phone.hold_over_minute", "phone", N_("Holds over one minute"), N_(
            "Of the calls put on hold: the share held more than one minute."), PERCENT, 10.0,
            higher_is_better=False, by_secretary=True),
        Indicator("appointments.attended", "appointments", N_("Appointments attended"), N_(
            "Appointments of the period (already past) that were attended."), COUNT, None),
        Indicator("appointments.no_show", "appointments", N_("No-show rate"), N_(
            "Of the past appointments of the period, attended or missed: the share missed."),
            PERCENT, 10.0, higher_is_better=False),
        Indicator("appointments.cancelled", "appointments", N_("Appointments cancelled"), N_(
            "Appointments of the period that were cancelled."), COUNT, None),
        Indicator("appointments.reminded", "appointments", N_("Appointments reminded by SMS"),
                  N_("Of the appointments of the period not cancelled: the share whose SMS "
                     "reminder was sent (delivered or not)."), PERCENT, 80.0),
        Indicator("appointments.sms_failed", "appointments", N_("Reminders failed"), N_(
            "Appointment reminders of the period that could not be sent."), COUNT, None,
            higher_is_better=False),
        Indicator("children.up_to_date_12", "children", N_("Children up to date at 12 months"),
                  N_("Of the children followed aged 12 to 23 months at the end of the period: "
                     "the share with no vaccine dose overdue today."), PERCENT, 90.0),
        Indicator("children.up_to_date_24", "children", N_("Children up to date at 24 months"),
                  N_("Of the children followed aged 24 to 35 months at the end of the period: "
                     "the share with no vaccine dose overdue today."), PERCENT, 90.0),
        Indicator("children.overdue", "children", N_("Children with a dose overdue"), N_(
            "Children followed with at least one vaccine dose overdue today."), COUNT, None,
            higher_is_better=False),
        Indicator("children.call_36_made", "children", N_("36-week calls made"), N_(
            "Of the pregnancies whose 36-week call fell due in the period: the share called "
            "(on time or late)."), PERCENT, 95.0),
        Indicator("complaints.recorded", "complaints", N_("Complaints and non-conformities"),
                  N_("Cases recorded in the period (by the day it happened)."), COUNT, None,
                  higher_is_better=False),
        Indicator("complaints.closed", "complaints", N_("Cases closed"), N_(
            "Of the cases of the period: the share closed, their actions found effective."),
            PERCENT, 80.0),
        Indicator("complaints.days_to_close", "complaints", N_("Median days to close a case"),
                  N_("Median number of days from the record to the closing, over the cases "
                     "closed in the period."), DAYS, 30.0, higher_is_better=False),
    ]
    return tuple(found)


INDICATORS: tuple[Indicator, ...] = _indicators()
INDICATORS_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}


def ratio(part: int, whole: int) -> float | None:
    """A share in %, None when there is nothing to count."""
    return None if not whole else 100.0 * part / whole


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (
        ordered[middle - 1] + ordered[middle]) / 2


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as value -> how many times (a histogram)."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(rank: int) -> int:  # the rank-th value, from 0
        seen = 0
        for value, count in ordered:
            seen += count
            if rank < seen:
                return value
        raise IndexError(rank)

    middle = total // 2
    return float(nth(middle)) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def target_met(indicator: Indicator, value: float | None, target: float | None) -> bool | None:
    """None when there is no target or no value."""
    if value is None or target is None:
        return None
    return value >= target if indicator.higher_is_better else value <= target
