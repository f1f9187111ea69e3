"""The quality indicators (ISO 9001 §9.1), computed from the records by SQL aggregates for a
period, a site or all, a secretary or all; each number drills down to its records."""

import datetime as dt
import json
from dataclasses import dataclass, field

from peewee import JOIN, Case, fn

from nest_desktop.db.models import (
    Appointment,
    CallRecord,
    ChildDueState,
    FollowUpTask,
    Patient,
    Prospect,
    QualityCase,
    SmsMessage,
    SurveyResponse,
    User,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.domain import reception as reception_rules
from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import list_name, shown_name
from nest_desktop.i18n import format_number
from nest_desktop.services import (
    ValidationFailed,
    as_date,
    followup,
    ids_of,
    quality,
    session,
    settings,
)

TARGETS_KEY = "quality.targets"
settings.DEFAULTS.setdefault(TARGETS_KEY, {})
SURVEY_RULES = ("satisfaction_72h", "discharge_survey")
TREND_PERIODS = 6


@dataclass(frozen=True)
class Scope:
    period: rules.Period
    site_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Value:
    key: str
    value: float | None
    base: int  # what it is counted over: the follow-ups, calls, surveys…
    parts: dict[str, int] = field(default_factory=dict)  # on time, late, still open…


def label(indicator: rules.Indicator) -> str:
    if indicator.key.startswith("on_time."):
        return _("{follow_up}: done on time").format(
            follow_up=followup.rule_label(indicator.key.split(".", 1)[1]))
    return _(indicator.label)


def targets() -> dict[str, float | None]:
    """The pilots' targets, the defaults where they set none."""
    chosen = settings.get(TARGETS_KEY) or {}
    return {indicator.key: chosen.get(indicator.key, indicator.target)
            for indicator in rules.INDICATORS}


def set_target(key: str, target: float | None) -> None:
    if key not in rules.INDICATORS_BY_KEY:
        raise ValueError(f"unknown indicator: {key}")
    indicator = rules.INDICATORS_BY_KEY[key]
    if target is not None and (target < 0 or (indicator.unit == rules.PERCENT
                                              and target > 100)):
        raise ValidationFailed({"target": _("Give a target from 0 to 100 %.")
                                if indicator.unit == rules.PERCENT
                                else _("The target cannot be negative.")})
    chosen = dict(settings.get(TARGETS_KEY) or {})
    chosen[key] = target
    settings.put(TARGETS_KEY, chosen, permission="quality.manage")


# --- the records behind each number -------------------------------------------------------------

def _in_period(column, scope: Scope):
    return (column >= scope.period.starts_at()) & (column < scope.period.ends_before())


def _days_in_period(column, scope: Scope):
    return (column >= scope.period.start) & (column <= scope.period.end)


def _tasks(scope: Scope, rule_names) -> object:
    condition = (_in_period(FollowUpTask.due_at, scope)
                 & FollowUpTask.rule.in_(list(rule_names))
                 & (FollowUpTask.status != followup.CANCELLED))
    if scope.site_id is not None:
        condition &= FollowUpTask.site == scope.site_id
    if scope.user_id is not None:
        condition &= ((FollowUpTask.closed_by == scope.user_id)
                      | ((FollowUpTask.status == followup.OPEN)
                         & (FollowUpTask.assignee == scope.user_id)))
    return condition


def _task_part(part: str, now: dt.datetime):
    done = FollowUpTask.status == followup.DONE
    return {"on_time": done & (FollowUpTask.closed_at <= FollowUpTask.due_at),
            "late": done & (FollowUpTask.closed_at > FollowUpTask.due_at),
            "open": (FollowUpTask.status == followup.OPEN) & (FollowUpTask.due_at < now),
            "not_due": (FollowUpTask.status == followup.OPEN) & (FollowUpTask.due_at >= now),
            "reached": done & (FollowUpTask.outcome == "reached")}[part]


def _calls(scope: Scope):
    condition = _in_period(CallRecord.started_at, scope) & (CallRecord.direction == "in")
    if scope.site_id is not None:
        condition &= CallRecord.site == scope.site_id
    if scope.user_id is not None:
        condition &= CallRecord.user == scope.user_id
    return condition


def _surveys(scope: Scope):
    condition = _in_period(SurveyResponse.answered_at, scope)
    if scope.site_id is not None:
        condition &= SurveyResponse.site == scope.site_id
    if scope.user_id is not None:
        condition &= SurveyResponse.recorded_by == scope.user_id
    return condition


def _prospects(scope: Scope, column=None):
    condition = _in_period(column or Prospect.created_at, scope)
    if scope.site_id is not None:
        condition &= Prospect.site == scope.site_id
    if scope.user_id is not None:
        condition &= Prospect.owner == scope.user_id
    return condition


def _appointments(scope: Scope, now: dt.datetime | None = None):
    condition = _in_period(Appointment.starts_at, scope)
    if now is not None:
        condition &= Appointment.starts_at < now
    if scope.site_id is not None:
        condition &= Appointment.site == scope.site_id
    if scope.user_id is not None:
        condition &= Appointment.booked_by == scope.user_id
    return condition


def _reminders_sent(scope: Scope):
    """The appointments' SMS reminders of the period that went (delivered or not)."""
    return ((SmsMessage.kind == "appointment") & _in_period(SmsMessage.event_at, scope)
            & SmsMessage.state.in_(["sent", "delivered"])
            & (SmsMessage.source_table == "appointment"))


def _failed_reminders(scope: Scope):
    condition = (_in_period(SmsMessage.event_at, scope) & (SmsMessage.kind == "appointment")
                 & (SmsMessage.state == "failed"))
    if scope.site_id is not None:
        condition &= SmsMessage.site == scope.site_id
    return condition


def _cohort(scope: Scope, months: int):
    """Children followed aged `months` to `months` + 11 at the end of the period."""
    end = scope.period.end
    condition = ((ChildDueState.birth_date <= add_months(end, -months))
                 & (ChildDueState.birth_date > add_months(end, -(months + 12))))
    if scope.site_id is not None:
        condition &= ChildDueState.site == scope.site_id
    return condition


def _overdue(today: dt.date):
    return ChildDueState.overdue_from.is_null(False) & (ChildDueState.overdue_from <= today)


def _overdue_children(scope: Scope, today: dt.date):
    condition = _overdue(today)
    if scope.site_id is not None:
        condition &= ChildDueState.site == scope.site_id
    return condition


def _closed_cases(scope: Scope):
    """The cases closed in the period (for their time to close)."""
    condition = _in_period(QualityCase.closed_at, scope)
    if scope.site_id is not None:
        condition &= QualityCase.site == scope.site_id
    if scope.user_id is not None:
        condition &= QualityCase.assigned_to == scope.user_id
    return condition


_REMARK = SurveyResponse.answers.contains('"comment": ')  # a survey with a written remark


def _cases(scope: Scope):
    condition = _days_in_period(QualityCase.occurred_on, scope)
    if scope.site_id is not None:
        condition &= QualityCase.site == scope.site_id
    if scope.user_id is not None:
        condition &= QualityCase.assigned_to == scope.user_id
    return condition


def _hour_of(column):
    """The hour of a moment, in the database's own words."""
    from peewee import SqliteDatabase

    if isinstance(database.obj, SqliteDatabase):
        return fn.strftime("%H", column)
    return fn.date_part("hour", column)


def _sum(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _minutes(start, end) -> float:
    return (end - start).total_seconds() / 60


def _moment(value):
    """A date and time from a raw row: SQLite gives its text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


# --- computing ----------------------------------------------------------------------------------

def compute(scope: Scope, now: dt.datetime | None = None) -> dict[str, Value]:
    """Every indicator of the scope, a few aggregate queries in all."""
    now = now or clock.now()
    today = now.date()
    values: dict[str, Value] = {}

    # Follow-ups, by rule: one query.
    tracked = (*rules.ON_TIME_RULES, followup.SAME_DAY_RULE)
    query = (FollowUpTask.select(
        FollowUpTask.rule, fn.COUNT(FollowUpTask.id), _sum(_task_part("on_time", now)),
        _sum(_task_part("late", now)), _sum(_task_part("open", now)),
        _sum(_task_part("not_due", now)), _sum(_task_part("reached", now)))
        .where(_tasks(scope, tracked)).group_by(FollowUpTask.rule))
    by_rule = {rule: [int(n or 0) for n in numbers] for rule, *numbers in query.tuples()}
    for rule in tracked:
        total, on_time, late, still_open, not_due, reached = by_rule.get(rule, [0] * 6)
        counted = total - not_due
        key = "phone.same_day" if rule == followup.SAME_DAY_RULE else f"on_time.{rule}"
        values[key] = Value(key, rules.ratio(on_time, counted), counted,
                            {"on_time": on_time, "late": late, "open": still_open})
        if rule == "call_36_weeks":
            values["children.call_36_made"] = Value(
                "children.call_36_made", rules.ratio(reached, counted), counted,
                {"reached": reached, "open": still_open})
    delays = [_minutes(_moment(start), _moment(end)) for start, end in
              database.execute(FollowUpTask.select(FollowUpTask.event_at,
                                                   FollowUpTask.closed_at).where(
                  _tasks(scope, [followup.SAME_DAY_RULE])
                  & (FollowUpTask.status == followup.DONE)))]
    values["phone.same_day_delay"] = Value("phone.same_day_delay", rules.median(delays),
                                           len(delays))

    # Surveys: the follow-ups that ask one, and the answers of the period.
    survey_tasks = (FollowUpTask.select(
        fn.COUNT(FollowUpTask.id), _sum(_task_part("not_due", now)),
        _sum(fn.EXISTS(SurveyResponse.select(SurveyResponse.id).where(
            SurveyResponse.task == FollowUpTask.id))))
        .where(_tasks(scope, SURVEY_RULES)).tuples().first()) or (0, 0, 0)
    total, not_due, answered = (int(n or 0) for n in survey_tasks)
    values["surveys.response_rate"] = Value("surveys.response_rate",
                                            rules.ratio(answered, total - not_due),
                                            total - not_due, {"answered": answered})
    asked = SurveyResponse.answers.contains('"recommend": ')
    yes = SurveyResponse.answers.contains('"recommend": true')
    count, mean, asked_count, yes_count, remarks = (SurveyResponse.select(
        fn.COUNT(SurveyResponse.id), fn.AVG(SurveyResponse.score), _sum(asked), _sum(yes),
        _sum(_REMARK)).where(_surveys(scope)).tuples().first()) or (0, None, 0, 0, 0)
    count = int(count or 0)
    values["surveys.mean_score"] = Value("surveys.mean_score",
                                         float(mean) if mean is not None else None, count)
    values["surveys.recommend"] = Value("surveys.recommend",
                                        rules.ratio(int(yes_count or 0), int(asked_count or 0)),
                                        int(asked_count or 0))
    values["surveys.remarks"] = Value("surveys.remarks", float(remarks or 0), count)

    # Prospects.
    recorded, converted = (Prospect.select(
        fn.COUNT(Prospect.id), _sum(Prospect.status == "converted"))
        .where(_prospects(scope)).tuples().first()) or (0, 0)
    recorded = int(recorded or 0)
    values["prospects.conversion"] = Value("prospects.conversion",
                                           rules.ratio(int(converted or 0), recorded), recorded,
                                           {"converted": int(converted or 0)})
    days = [(_moment(end) - _moment(start)).total_seconds() / 86400 for start, end in
            database.execute(Prospect.select(Prospect.created_at, Prospect.converted_at).where(
                _prospects(scope, Prospect.converted_at)
                & (Prospect.status == "converted")))]
    values["prospects.days_to_convert"] = Value("prospects.days_to_convert",
                                                rules.median(days), len(days))

    # The phone: one query by outcome, the holds apart.
    by_outcome = dict(CallRecord.select(CallRecord.outcome, fn.COUNT(CallRecord.id))
                      .where(_calls(scope)).group_by(CallRecord.outcome).tuples())
    calls = sum(by_outcome.values())
    values["phone.calls"] = Value("phone.calls", float(calls), calls,
                                  {outcome: by_outcome.get(outcome, 0)
                                   for outcome in reception_rules.OUTCOMES})
    by_hour = {int(hour): count for hour, count in
               CallRecord.select(_hour_of(CallRecord.started_at), fn.COUNT(CallRecord.id))
               .where(_calls(scope)).group_by(_hour_of(CallRecord.started_at)).tuples()}
    busiest = max(by_hour.items(), key=lambda item: (item[1], -item[0]), default=None)
    values["phone.busiest_hour"] = Value("phone.busiest_hour",
                                         float(busiest[0]) if busiest else None, calls,
                                         {f"{hour:02d}": by_hour[hour]
                                          for hour in sorted(by_hour)})
    elapsed = (min(scope.period.end, today) - scope.period.start).days + 1
    values["phone.per_day"] = Value("phone.per_day",
                                    calls / elapsed if elapsed > 0 else None, calls)
    for outcome in (reception_rules.ANSWERED, reception_rules.TRANSFERRED,
                    reception_rules.MESSAGE, reception_rules.CALL_BACK_LATER,
                    reception_rules.LOST):
        key = f"phone.{outcome}"
        values[key] = Value(key, rules.ratio(by_outcome.get(outcome, 0), calls), calls,
                            {outcome: by_outcome.get(outcome, 0)})
    # The holds by length (a few hundred lengths at most): their median without their rows.
    hold_lengths = dict(CallRecord.select(CallRecord.hold_seconds, fn.COUNT(CallRecord.id))
                        .where(_calls(scope) & (CallRecord.hold_seconds > 0))
                        .group_by(CallRecord.hold_seconds).tuples())
    held = sum(hold_lengths.values())
    values["phone.hold_median"] = Value("phone.hold_median",
                                        rules.median_of_counts(hold_lengths), held)
    over = sum(count for seconds, count in hold_lengths.items() if seconds > 60)
    values["phone.hold_over_minute"] = Value("phone.hold_over_minute",
                                             rules.ratio(over, held), held, {"over": over})

    # Appointments: one query by status, those past and those reminded counted in it.
    by_status = {status: (int(total or 0), int(past or 0))
                 for status, total, past in Appointment.select(
                     Appointment.status, fn.COUNT(Appointment.id),
                     _sum(Appointment.starts_at < now))
                 .where(_appointments(scope)).group_by(Appointment.status).tuples()}
    attended = by_status.get("attended", (0, 0))[1]
    missed = by_status.get("missed", (0, 0))[1]
    values["appointments.attended"] = Value("appointments.attended", float(attended),
                                            attended)
    values["appointments.no_show"] = Value("appointments.no_show",
                                           rules.ratio(missed, attended + missed),
                                           attended + missed, {"missed": missed})
    cancelled = by_status.get("cancelled", (0, 0))[0]
    values["appointments.cancelled"] = Value("appointments.cancelled", float(cancelled),
                                             cancelled)
    kept = sum(total for status, (total, _past) in by_status.items() if status != "cancelled")
    # From the reminders of the period (their day is the appointment's), not a look-up per
    # appointment: an index range rather than a probe for each of 100 000 appointments.
    reminded = (SmsMessage.select(fn.COUNT(SmsMessage.source_id.distinct()))
                .join(Appointment, on=Appointment.id == SmsMessage.source_id)
                .where(_reminders_sent(scope) & _appointments(scope)
                       & (Appointment.status != "cancelled")).scalar() or 0)
    values["appointments.reminded"] = Value("appointments.reminded",
                                            rules.ratio(reminded, kept), kept,
                                            {"reminded": reminded})
    failed = SmsMessage.select(fn.COUNT(SmsMessage.id)).where(
        _failed_reminders(scope)).scalar() or 0
    values["appointments.sms_failed"] = Value("appointments.sms_failed", float(failed), failed)

    # Children: the kept due states (as of today).
    for months in (12, 24):
        cohort, late = (ChildDueState.select(fn.COUNT(ChildDueState.patient),
                                             _sum(_overdue(today)))
                        .where(_cohort(scope, months)).tuples().first()) or (0, 0)
        cohort, late = int(cohort or 0), int(late or 0)
        key = f"children.up_to_date_{months}"
        values[key] = Value(key, rules.ratio(cohort - late, cohort), cohort, {"late": late})
    overdue = ChildDueState.select(fn.COUNT(ChildDueState.patient)).where(
        _overdue_children(scope, today)).scalar() or 0
    values["children.overdue"] = Value("children.overdue", float(overdue), overdue)

    # Complaints and non-conformities.
    cases, closed = (QualityCase.select(fn.COUNT(QualityCase.id),
                                        _sum(QualityCase.status == rules.CLOSED))
                     .where(_cases(scope)).tuples().first()) or (0, 0)
    cases, closed = int(cases or 0), int(closed or 0)
    values["complaints.recorded"] = Value("complaints.recorded", float(cases), cases)
    values["complaints.closed"] = Value("complaints.closed", rules.ratio(closed, cases), cases,
                                        {"closed": closed})
    durations = [(_moment(end) - _moment(start)).total_seconds() / 86400 for start, end in
                 QualityCase.select(QualityCase.recorded_at, QualityCase.closed_at)
                 .where(_closed_cases(scope)).tuples()]
    values["complaints.days_to_close"] = Value("complaints.days_to_close",
                                               rules.median(durations), len(durations))
    if scope.user_id is not None:  # per person: only what has a meaning per person
        values = {key: value for key, value in values.items()
                  if rules.INDICATORS_BY_KEY[key].by_secretary}
    return values


@dataclass(frozen=True)
class Row:
    """One indicator as the dashboard and the review show it."""

    indicator: rules.Indicator
    label: str
    value: Value
    previous: Value | None
    target: float | None
    met: bool | None


def table(scope: Scope, now: dt.datetime | None = None,
          computed: dict[rules.Period, dict[str, Value]] | None = None) -> list[Row]:
    """Each indicator with the previous period's value, its target and met or not.
    `computed`: the periods' values known already (a trend), not computed again."""
    now = now or clock.now()
    computed = computed or {}
    earlier = rules.previous(scope.period)
    current = computed.get(scope.period) or compute(scope, now)
    before = computed.get(earlier) or compute(Scope(earlier, scope.site_id, scope.user_id),
                                              now)
    chosen = targets()
    return [Row(indicator, label(indicator), current[indicator.key],
                before.get(indicator.key), chosen[indicator.key],
                rules.target_met(indicator, current[indicator.key].value,
                                 chosen[indicator.key]))
            for indicator in rules.INDICATORS if indicator.key in current]


def details_text(row: Row) -> str:
    """What a value is counted over, and its parts: 'over 15 — 2 late, 1 still open',
    'over 1 520 — 10 h: 240, 9 h: 210…'; nothing for a plain count."""
    value, parts = row.value, row.value.parts
    if row.indicator.unit == rules.COUNT:
        return ""
    if not value.base:
        return "—"
    words = [_("over {count}").format(count=format_number(value.base))]
    if {"on_time", "late", "open"} <= set(parts):
        words.append(_("{late} late, {open} still open").format(
            late=format_number(parts["late"]), open=format_number(parts["open"])))
    elif "open" in parts:
        words.append(_("{open} still open").format(open=format_number(parts["open"])))
    hours = sorted(((hour, count) for hour, count in parts.items() if hour.isdigit()),
                   key=lambda item: -item[1])[:4]
    if hours:  # the calls of the busiest hours
        words.append(", ".join(_("{hour} h: {count}").format(
            hour=int(hour), count=format_number(count)) for hour, count in hours))
    if "late" in parts and "on_time" not in parts:
        words.append(_("{late} with a dose overdue").format(late=format_number(parts["late"])))
    return " — ".join(words)


def trend(scope: Scope, count: int = TREND_PERIODS, now: dt.datetime | None = None
          ) -> list[tuple[rules.Period, dict[str, Value]]]:
    """The indicators over the last `count` periods, the oldest first."""
    now = now or clock.now()
    return [(period, compute(Scope(period, scope.site_id, scope.user_id), now))
            for period in rules.last_periods(scope.period, count)]


def table_and_trend(scope: Scope, now: dt.datetime | None = None
                    ) -> tuple[list[Row], list[tuple[rules.Period, dict[str, Value]]]]:
    """What the dashboard and the review show: the table, from the trend's last two periods."""
    now = now or clock.now()
    periods = trend(scope, TREND_PERIODS, now)
    return table(scope, now, dict(periods)), periods


# --- drilling down ------------------------------------------------------------------------------

TASK, CALL, SURVEY, PROSPECT, APPOINTMENT, SMS, CHILD, CASE = (
    "task", "call", "survey", "prospect", "appointment", "sms", "child", "case")


@dataclass(frozen=True)
class Drill:
    kind: str
    ids: list[int]


def parts_of(key: str) -> tuple[str, ...]:
    """The numbers an indicator drills into, the first being all its records."""
    if key.startswith("on_time.") or key == "phone.same_day":
        return ("all", "on_time", "late", "open")
    if key == "children.call_36_made":
        return ("all", "reached", "open")
    if key.startswith("children.up_to_date"):
        return ("all", "late")
    return ("all",)


def drill(key: str, part: str, scope: Scope, now: dt.datetime | None = None) -> Drill:
    """The records behind a number (`part`: one of `parts_of(key)`)."""
    now = now or clock.now()
    if part not in parts_of(key):
        raise ValueError(f"{key} has no part {part}")
    if key.startswith("on_time.") or key in ("phone.same_day", "children.call_36_made",
                                             "surveys.response_rate",
                                             "phone.same_day_delay"):
        rule_names = {"phone.same_day": [followup.SAME_DAY_RULE],
                      "phone.same_day_delay": [followup.SAME_DAY_RULE],
                      "children.call_36_made": ["call_36_weeks"],
                      "surveys.response_rate": list(SURVEY_RULES)}.get(
            key, [key.split(".", 1)[-1]])
        condition = _tasks(scope, rule_names) & ~_task_part("not_due", now)
        if part != "all":
            condition &= _task_part(part, now)
        return Drill(TASK, ids_of(FollowUpTask.select(FollowUpTask.id).where(condition)
                                .order_by(FollowUpTask.due_at)))
    if key.startswith("surveys."):
        condition = _surveys(scope)
        if key == "surveys.remarks":
            condition &= _REMARK
        return Drill(SURVEY, ids_of(SurveyResponse.select(SurveyResponse.id).where(condition)
                                  .order_by(SurveyResponse.answered_at)))
    if key.startswith("prospects."):
        condition = (_prospects(scope) if key == "prospects.conversion"
                     else _prospects(scope, Prospect.converted_at)
                     & (Prospect.status == "converted"))
        return Drill(PROSPECT, ids_of(Prospect.select(Prospect.id).where(condition)
                                    .order_by(Prospect.created_at)))
    if key.startswith("phone."):
        condition = _calls(scope)
        outcome = key.split(".", 1)[1]
        if outcome in reception_rules.OUTCOMES:
            condition &= CallRecord.outcome == outcome
        elif key.startswith("phone.hold"):
            condition &= CallRecord.hold_seconds > (60 if key == "phone.hold_over_minute" else 0)
        return Drill(CALL, ids_of(CallRecord.select(CallRecord.id).where(condition)
                                .order_by(CallRecord.started_at)))
    if key == "appointments.sms_failed":
        return Drill(SMS, ids_of(SmsMessage.select(SmsMessage.id).where(
            _failed_reminders(scope)).order_by(SmsMessage.event_at)))
    if key.startswith("appointments."):
        condition = {"appointments.attended": _appointments(scope, now)
                     & (Appointment.status == "attended"),
                     "appointments.no_show": _appointments(scope, now)
                     & Appointment.status.in_(["attended", "missed"]),
                     "appointments.cancelled": _appointments(scope)
                     & (Appointment.status == "cancelled"),
                     "appointments.reminded": _appointments(scope)
                     & (Appointment.status != "cancelled")}[key]
        return Drill(APPOINTMENT, ids_of(Appointment.select(Appointment.id).where(condition)
                                       .order_by(Appointment.starts_at)))
    if key.startswith("children."):
        if key == "children.overdue":
            condition = _overdue_children(scope, now.date())
        else:
            condition = _cohort(scope, int(key.rsplit("_", 1)[1]))
            if part == "late":
                condition &= _overdue(now.date())
        return Drill(CHILD, ids_of(ChildDueState.select(ChildDueState.patient).where(condition)
                                 .order_by(ChildDueState.sort_name)))
    condition = _closed_cases(scope) if key == "complaints.days_to_close" else _cases(scope)
    return Drill(CASE, ids_of(QualityCase.select(QualityCase.id).where(condition)
                            .order_by(QualityCase.occurred_on)))


@dataclass(frozen=True)
class DrillRow:
    id: int
    when: dt.datetime | dt.date | None
    person: str
    detail: str
    patient_id: int | None = None
    prospect_id: int | None = None


def _name(last_name, first_names) -> str:
    return shown_name(list_name(last_name, first_names)) if last_name else ""


def drill_rows(kind: str, ids: list[int]) -> list[DrillRow]:
    """The records of a drill, in the order of `ids`, as a list shows them."""
    if not ids:
        return []
    found: dict[int, DrillRow] = {}
    if kind == TASK:
        closed = dict(FollowUpTask.select(FollowUpTask.id, FollowUpTask.closed_at).where(
            FollowUpTask.id.in_(ids)).tuples())
        for task_id, row in followup.rows_for(ids).items():
            done = (_("done on {when}").format(
                when=_moment(closed[task_id]).strftime("%d/%m/%Y %H:%M"))
                if closed.get(task_id) else _("not done"))
            found[task_id] = DrillRow(
                task_id, row.due_at, row.person,
                " — ".join((followup.rule_label(row.rule), row.assignee, done)),
                row.patient_id, row.prospect_id)
    elif kind == CALL:
        query = (CallRecord.select(CallRecord, Patient.last_name, Patient.first_names,
                                   User.full_name)
                 .join(Patient, JOIN.LEFT_OUTER).switch(CallRecord)
                 .join(User, JOIN.LEFT_OUTER, on=CallRecord.user == User.id)
                 .where(CallRecord.id.in_(ids)))
        for call in query:
            person = (_name(call.patient.last_name, call.patient.first_names)
                      if call.patient_id else call.caller_name)
            found[call.id] = DrillRow(
                call.id, call.started_at, person,
                f"{_(reception_rules.OUTCOMES.get(call.outcome, call.outcome))} — "
                f"{call.user.full_name if call.user_id else ''}"
                + (f" — {_('hold')} {call.hold_seconds} s" if call.hold_seconds else ""),
                call.patient_id, call.prospect_id)
    elif kind == SURVEY:
        query = (SurveyResponse.select(SurveyResponse, Patient.last_name, Patient.first_names)
                 .join(Patient, JOIN.LEFT_OUTER).where(SurveyResponse.id.in_(ids)))
        for response in query:
            comment = json.loads(response.answers).get("comment", "")
            person = (_name(response.patient.last_name, response.patient.first_names)
                      if response.patient_id else _("Anonymous"))
            score = "" if response.score is None else f"{response.score}/100"
            found[response.id] = DrillRow(response.id, response.answered_at, person,
                                          " — ".join(x for x in (score, comment) if x),
                                          response.patient_id)
    elif kind == PROSPECT:
        for prospect in Prospect.select().where(Prospect.id.in_(ids)):
            found[prospect.id] = DrillRow(prospect.id, prospect.created_at,
                                          _name(prospect.last_name, prospect.first_names),
                                          prospect.channel + " — " + prospect.status,
                                          prospect.patient_id, prospect.id)
    elif kind == APPOINTMENT:
        query = (Appointment.select(Appointment, Patient.last_name, Patient.first_names)
                 .join(Patient, JOIN.LEFT_OUTER).where(Appointment.id.in_(ids)))
        for appointment in query:
            person = (_name(appointment.patient.last_name, appointment.patient.first_names)
                      if appointment.patient_id else "")
            found[appointment.id] = DrillRow(
                appointment.id, appointment.starts_at, person,
                f"{_(reception_rules.APPOINTMENT_STATUSES[appointment.status])} — "
                f"{appointment.reason}", appointment.patient_id, appointment.prospect_id)
    elif kind == SMS:
        query = (SmsMessage.select(SmsMessage, Patient.last_name, Patient.first_names)
                 .join(Patient, JOIN.LEFT_OUTER).where(SmsMessage.id.in_(ids)))
        for message in query:
            person = (_name(message.patient.last_name, message.patient.first_names)
                      if message.patient_id else message.phone)
            found[message.id] = DrillRow(message.id, message.event_at, person,
                                         message.last_error, message.patient_id,
                                         message.prospect_id)
    elif kind == CHILD:
        query = (ChildDueState.select(ChildDueState.patient, ChildDueState.sort_name,
                                      ChildDueState.birth_date, ChildDueState.overdue_from)
                 .where(ChildDueState.patient.in_(ids)))
        for child_id, name, birth, overdue_from in query.tuples():
            overdue_from = as_date(overdue_from)
            found[child_id] = DrillRow(
                child_id, as_date(birth), name,
                _("overdue since {date}").format(date=overdue_from.strftime("%d/%m/%Y"))
                if overdue_from else _("up to date"), child_id)
    elif kind == CASE:
        for case_id, row in quality.rows_for(ids).items():
            found[case_id] = DrillRow(case_id, row.occurred_on, row.person,
                                      f"{_(rules.STATUSES[row.status])} — {row.description}",
                                      row.patient_id)
    else:
        raise ValueError(f"unknown kind: {kind}")
    return [found[record_id] for record_id in ids if record_id in found]


# --- the figures for Excel ------------------------------------------------------------------------

def period_name(period: rules.Period) -> str:
    """As a heading: '2026-11', '2026-T4', '2026', '01/11/2026-15/11/2026'."""
    if period.kind == rules.MONTH:
        return period.start.strftime("%Y-%m")
    if period.kind == rules.QUARTER:
        return _("{year}-Q{number}").format(year=period.start.year,
                                             number=(period.start.month + 2) // 3)
    if period.kind == rules.YEAR:
        return str(period.start.year)
    return f"{period.start:%d/%m/%Y}-{period.end:%d/%m/%Y}"


def export_csv(path, scope: Scope, now: dt.datetime | None = None) -> int:
    """The indicators of the scope with their counts, previous period, target, and their
    trend over the last periods, for a spreadsheet; the export is audited."""
    from nest_desktop.services import exports

    session.require("quality.manage")
    now = now or clock.now()
    rows, periods = table_and_trend(scope, now)

    def number(value: float | None) -> str:
        return "" if value is None else format_number(round(value, 1))

    headers = [_("Subject"), _("Indicator"), _("Unit"), _("Value"), _("Counted over"),
               _("Done on time"), _("Done late"), _("Still open"), _("Previous period"),
               _("Target"), _("Met"), *[period_name(period) for period, _v in periods]]
    lines = []
    for row in rows:
        parts = row.value.parts
        lines.append([
            _(rules.GROUPS[row.indicator.group]), row.label, _(UNIT_LABELS[row.indicator.unit]),
            number(row.value.value), row.value.base, parts.get("on_time", ""),
            parts.get("late", ""), parts.get("open", ""),
            number(row.previous.value if row.previous else None), number(row.target),
            {True: _("yes"), False: _("no"), None: ""}[row.met],
            *[number(values[row.indicator.key].value) if row.indicator.key in values else ""
              for _period, values in periods]])
    written = exports.write_csv(path, headers, lines)
    session.log("export", "quality_indicators", None,
                details=f"{period_name(scope.period)} site={scope.site_id or ''} "
                        f"user={scope.user_id or ''}")
    return written


UNIT_LABELS = {rules.PERCENT: "%", rules.COUNT: N_("number"), rules.MINUTES: N_("minutes"),
               rules.DAYS: N_("days"), rules.SCORE: N_("score out of 100"),
               rules.SECONDS: N_("seconds"), rules.HOUR: N_("hour of the day")}
