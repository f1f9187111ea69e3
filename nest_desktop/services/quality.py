"""The register of complaints and non-conformities (ISO 9001 §10.2): recorded by anyone who
hears one, analysed, acted on and closed by the quality pilots. A corrective action is a
follow-up task of its owner (on her Today) until she says it is done. Nothing is deleted;
each step is in the audit trail."""

import datetime as dt
import json
from dataclasses import dataclass, field

from peewee import JOIN, fn

from nest_desktop.db.models import (
    CorrectiveAction,
    Patient,
    QualityCase,
    Site,
    SurveyResponse,
    User,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import list_name, shown_name
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    as_date,
    audit,
    check_characters,
    desk,
    followup,
    hooks,
    session,
    settings,
)

ACTION_RULE = "corrective_action"
ACTION_TABLE = "corrective_action"
COMPLAINT_SCORE_KEY = "quality.complaint_below_score"
settings.DEFAULTS.setdefault(COMPLAINT_SCORE_KEY, rules.DEFAULT_COMPLAINT_SCORE)


@dataclass
class CaseForm:
    """A case as typed in its window."""

    kind: str = rules.COMPLAINT
    source: str = "desk"
    category: str = ""
    severity: str = "minor"
    description: str = ""
    occurred_on: dt.date | None = None
    site_id: int | None = None
    patient_id: int | None = None
    person_name: str = ""
    source_table: str = ""
    source_id: int | None = None
    assigned_to_id: int | None = None
    cause: str = ""
    immediate_action: str = ""


def _validate(form: CaseForm) -> dict[str, str]:
    errors = rules.check_case(form.kind, form.source, form.category, form.severity,
                              form.description, form.occurred_on, clock.today())
    for name in ("cause", "immediate_action"):
        if len(getattr(form, name)) > rules.TEXT_MAX:
            errors[name] = _("At most {count} characters.").format(count=rules.TEXT_MAX)
    if len(form.person_name) > 200:
        errors["person_name"] = _("At most {count} characters.").format(count=200)
    check_characters(errors, description=form.description, cause=form.cause,
                     immediate_action=form.immediate_action, person_name=form.person_name)
    if form.site_id is not None and not Site.select().where(Site.id == form.site_id).exists():
        errors["site"] = _("Choose a site from the list.")
    if form.patient_id is not None and not Patient.select().where(
            Patient.id == form.patient_id).exists():
        errors["patient"] = _("This patient's file no longer exists.")
    if form.assigned_to_id is not None and desk.get_user(form.assigned_to_id) is None:
        errors["assigned_to"] = _("Choose an active account.")
    return errors


def _values(form: CaseForm) -> dict:
    return {"kind": form.kind, "source": form.source, "category": form.category,
            "severity": form.severity, "description": form.description.strip(),
            "occurred_on": form.occurred_on, "site": form.site_id,
            "patient": form.patient_id, "person_name": form.person_name.strip(),
            "assigned_to": form.assigned_to_id, "cause": form.cause.strip(),
            "immediate_action": form.immediate_action.strip()}


def _log(action: str, case: QualityCase, changes: dict, details: str = "") -> None:
    session.log(action, "quality_case", case.id, changes, details=details,
                patient_id=case.patient_id)


def record_case(form: CaseForm) -> QualityCase:
    """A complaint or non-conformity heard or found, by anyone at the desk."""
    user = session.require("quality.record")
    errors = _validate(form)
    if form.assigned_to_id is not None or form.cause.strip():
        if not session.may("quality.manage"):
            errors.setdefault("assigned_to", _("Assigning and analysing are for the quality "
                                               "pilots."))
    if errors:
        raise ValidationFailed(errors)
    values = _values(form)
    now = clock.now()
    with database.atomic():
        case = QualityCase.create(**values, source_table=form.source_table,
                                  source_id=form.source_id,
                                  status=rules.status_of(form.cause, [], None, False),
                                  recorded_at=now, recorded_by=user.id, updated_at=now)
        written = {**values, "status": case.status, "source_table": form.source_table,
                   "source_id": form.source_id}
        _log("create", case, audit.diff({}, {name: value for name, value in written.items()
                                             if value not in ("", None)}))
    return case


def _status(case: QualityCase) -> str:
    actions = [(a.done_at is not None, a.cancelled) for a in
               CorrectiveAction.select().where(CorrectiveAction.case == case.id)]
    return rules.status_of(case.cause, actions, case.effective, case.closed_at is not None)


def _locked_case(case_id: int, version: int | None = None) -> QualityCase:
    """The case claimed until the transaction ends (its version raised)."""
    condition = QualityCase.id == case_id
    if version is not None:
        condition &= QualityCase.version == version
    if not QualityCase.update(version=QualityCase.version + 1, updated_at=clock.now()).where(
            condition).execute():
        raise StaleRecordError(_("This record was changed on another workstation: close it "
                                 "and open it again."))
    return QualityCase.get_by_id(case_id)


def _save_status(case: QualityCase) -> None:
    status = _status(case)
    if status != case.status:
        QualityCase.update(status=status).where(QualityCase.id == case.id).execute()
        _log("update", case, {"status": [case.status, status]})
        case.status = status


def update_case(case_id: int, version: int, form: CaseForm) -> QualityCase:
    """Its description, category, severity, assignment, cause and immediate action."""
    session.require("quality.manage")
    errors = _validate(form)
    if errors:
        raise ValidationFailed(errors)
    values = _values(form)
    with database.atomic():
        case = _locked_case(case_id, version)
        if case.closed_at is not None:
            raise ValidationFailed({"description": _("This case is closed.")})
        old = {name: getattr(case, name + "_id" if name in ("site", "patient", "assigned_to")
                             else name) for name in values}
        changes = audit.diff(old, values)
        if changes:
            QualityCase.update(**values).where(QualityCase.id == case_id).execute()
            _log("update", case, changes)
        case = QualityCase.get_by_id(case_id)
        _save_status(case)
    return case


def _schedule_action(action: CorrectiveAction, case: QualityCase) -> None:
    followup.schedule(ACTION_RULE, ACTION_TABLE, action.id,
                      dt.datetime.combine(action.deadline, dt.time.min), None, case.site_id,
                      assignee_id=action.owner_id)


def add_action(case_id: int, description: str, owner_id: int | None,
               deadline: dt.date | None) -> CorrectiveAction:
    """A corrective action: on its owner's Today until she says it is done."""
    user = session.require("quality.manage")
    errors = rules.check_action(description, owner_id, deadline, clock.today())
    check_characters(errors, action=description)
    if owner_id is not None and desk.get_user(owner_id) is None:
        errors["owner"] = _("Choose an active account.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        case = _locked_case(case_id)
        if case.closed_at is not None:
            raise ValidationFailed({"action": _("This case is closed.")})
        action = CorrectiveAction.create(case=case_id, description=description.strip(),
                                         owner=owner_id, deadline=deadline,
                                         created_at=clock.now(), created_by=user.id)
        session.log("create", "corrective_action", action.id,
                    audit.diff({}, {"case": case_id, "description": action.description,
                                    "owner": owner_id, "deadline": deadline}),
                    patient_id=case.patient_id)
        _schedule_action(action, case)
        _save_status(case)
    return action


def _locked_action(action_id: int) -> tuple[CorrectiveAction, QualityCase]:
    action = CorrectiveAction.get_by_id(action_id)
    case = _locked_case(action.case_id)
    action = CorrectiveAction.get_by_id(action_id)
    if action.done_at is not None or action.cancelled:
        raise ValidationFailed({"result": _("This action was dealt with already.")})
    return action, case


def complete_action(action_id: int, result: str) -> CorrectiveAction:
    """Its owner (or a quality pilot) says what was done: her task is done."""
    user = session.require("quality.record")
    errors = {}
    if not result.strip():
        errors["result"] = _("Say what was done.")
    elif len(result) > rules.TEXT_MAX:
        errors["result"] = _("At most {count} characters.").format(count=rules.TEXT_MAX)
    check_characters(errors, result=result)
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    with database.atomic():
        action, case = _locked_action(action_id)
        if action.owner_id != user.id and not session.may("quality.manage"):
            raise session.PermissionDenied(_("Only its owner or a quality pilot says an "
                                             "action is done."))
        CorrectiveAction.update(done_at=now, done_by=user.id, result=result.strip()).where(
            CorrectiveAction.id == action_id).execute()
        session.log("update", "corrective_action", action_id,
                    {"done_at": [None, now.isoformat()], "result": [None, result.strip()]},
                    patient_id=case.patient_id)
        followup.settle_source(ACTION_TABLE, action_id, "corrective_action_done", now)
        _save_status(case)
    return CorrectiveAction.get_by_id(action_id)


def cancel_action(action_id: int, reason: str) -> None:
    """An action that will not be done (replaced by another): kept, struck out."""
    session.require("quality.manage")
    if not reason.strip():
        raise ValidationFailed({"result": _("Say why it is cancelled.")})
    with database.atomic():
        action, case = _locked_action(action_id)
        CorrectiveAction.update(cancelled=True, result=reason.strip()).where(
            CorrectiveAction.id == action_id).execute()
        session.log("update", "corrective_action", action_id,
                    {"cancelled": [False, True], "result": [None, reason.strip()]},
                    patient_id=case.patient_id)
        followup.cancel_source(ACTION_TABLE, action_id)
        _save_status(case)


def check_effectiveness(case_id: int, version: int, finding: str, effective: bool
                        ) -> QualityCase:
    """What the check found. Effective: the case is closed. Not effective: it stays open
    for a new action."""
    user = session.require("quality.manage")
    errors = {}
    if not finding.strip():
        errors["effectiveness"] = _("Say how it was checked and what was found.")
    elif len(finding) > rules.TEXT_MAX:
        errors["effectiveness"] = _("At most {count} characters.").format(count=rules.TEXT_MAX)
    check_characters(errors, effectiveness=finding)
    now = clock.now()
    with database.atomic():
        case = _locked_case(case_id, version)
        status = _status(case)
        if status == rules.CLOSED:
            errors["effectiveness"] = _("This case is closed.")
        elif status == rules.ACTING:
            errors["effectiveness"] = _("Its corrective actions are not all done yet.")
        elif not case.cause.strip():
            errors["effectiveness"] = _("Write the cause found before closing it.")
        elif status == rules.RECORDED or (status == rules.ANALYSED
                                          and not case.immediate_action.strip()):
            errors["effectiveness"] = _("Write what was done (an immediate action or a "
                                        "corrective action) before closing it.")
        if errors:
            raise ValidationFailed(errors)
        values = {"effectiveness": finding.strip(), "effective": effective}
        if effective:
            values.update(closed_at=now, closed_by=user.id, status=rules.CLOSED)
        QualityCase.update(**values).where(QualityCase.id == case_id).execute()
        _log("update", case, audit.diff(
            {"effectiveness": case.effectiveness, "effective": case.effective,
             "status": case.status, "closed_at": None},
            {"effectiveness": finding.strip(), "effective": effective,
             "status": values.get("status", case.status), "closed_at": values.get("closed_at")}))
    return QualityCase.get_by_id(case_id)


# --- reading the register -------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilter:
    status: str = "open"  # "open", "all", or one of rules.STATUSES
    site_id: int | None = None
    kind: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    patient_id: int | None = None


def _case_condition(case_filter: CaseFilter):
    condition = QualityCase.id.is_null(False)
    if case_filter.status == "open":
        condition &= QualityCase.status.in_(rules.OPEN_STATUSES)
    elif case_filter.status != "all":
        condition &= QualityCase.status == case_filter.status
    if case_filter.site_id is not None:
        condition &= QualityCase.site == case_filter.site_id
    if case_filter.kind:
        condition &= QualityCase.kind == case_filter.kind
    if case_filter.start:
        condition &= QualityCase.occurred_on >= case_filter.start
    if case_filter.end:
        condition &= QualityCase.occurred_on <= case_filter.end
    if case_filter.patient_id is not None:
        condition &= QualityCase.patient == case_filter.patient_id
    return condition


def case_ids(case_filter: CaseFilter) -> list[int]:
    """The newest first."""
    return [row[0] for row in QualityCase.select(QualityCase.id).where(
        _case_condition(case_filter)).order_by(QualityCase.occurred_on.desc(),
                                               QualityCase.id.desc()).tuples()]


@dataclass(frozen=True)
class CaseRow:
    id: int
    kind: str
    occurred_on: dt.date
    site: str
    person: str
    category: str
    severity: str
    description: str
    status: str
    assigned_to: str
    next_deadline: dt.date | None  # of its open actions
    patient_id: int | None


def rows_for(ids) -> dict[int, CaseRow]:
    ids = list(ids)
    if not ids:
        return {}
    deadlines = dict(CorrectiveAction.select(CorrectiveAction.case, fn.MIN(
        CorrectiveAction.deadline)).where(
        CorrectiveAction.case.in_(ids) & CorrectiveAction.done_at.is_null()
        & ~CorrectiveAction.cancelled).group_by(CorrectiveAction.case).tuples())
    query = (QualityCase.select(QualityCase, Patient, Site, User)
             .join(Patient, JOIN.LEFT_OUTER).switch(QualityCase)
             .join(Site, JOIN.LEFT_OUTER).switch(QualityCase)
             .join(User, JOIN.LEFT_OUTER, on=QualityCase.assigned_to == User.id)
             .where(QualityCase.id.in_(ids)))
    rows = {}
    for case in query:
        person = (shown_name(list_name(case.patient.last_name, case.patient.first_names))
                  if case.patient_id else case.person_name)
        deadline = as_date(deadlines.get(case.id))
        rows[case.id] = CaseRow(
            case.id, case.kind, case.occurred_on, case.site.name if case.site_id else "",
            person, case.category, case.severity, case.description, case.status,
            case.assigned_to.full_name if case.assigned_to_id else "", deadline,
            case.patient_id)
    return rows


@dataclass(frozen=True)
class ActionRow:
    id: int
    description: str
    owner: str
    owner_id: int | None
    deadline: dt.date
    done_at: dt.datetime | None
    result: str
    cancelled: bool


@dataclass(frozen=True)
class CaseDetail:
    case: QualityCase
    form: CaseForm
    person: str
    actions: list[ActionRow] = field(default_factory=list)
    recorded_by: str = ""


def detail(case_id: int) -> CaseDetail:
    case = QualityCase.get_by_id(case_id)
    form = CaseForm(case.kind, case.source, case.category, case.severity, case.description,
                    case.occurred_on, case.site_id, case.patient_id, case.person_name,
                    case.source_table, case.source_id, case.assigned_to_id, case.cause,
                    case.immediate_action)
    person = case.person_name
    if case.patient_id:
        person = shown_name(list_name(case.patient.last_name, case.patient.first_names))
    actions = [ActionRow(a.id, a.description, a.owner.full_name if a.owner_id else "",
                         a.owner_id, a.deadline, a.done_at, a.result, a.cancelled)
               for a in CorrectiveAction.select(CorrectiveAction, User)
               .join(User, JOIN.LEFT_OUTER, on=CorrectiveAction.owner == User.id)
               .where(CorrectiveAction.case == case_id).order_by(CorrectiveAction.id)]
    return CaseDetail(case, form, person, actions,
                      case.recorded_by.full_name if case.recorded_by_id else "")


def case_of_action(action_id: int) -> int:
    return CorrectiveAction.get_by_id(action_id).case_id


def complaint_threshold() -> int:
    return int(settings.get(COMPLAINT_SCORE_KEY))


def set_complaint_threshold(score: int) -> None:
    if not 0 <= score <= 100:
        raise ValidationFailed({"threshold": _("Give a score from 0 to 100.")})
    settings.put(COMPLAINT_SCORE_KEY, int(score), permission="quality.manage")


def form_from_survey(response_id: int) -> CaseForm:
    """A complaint prefilled from a survey's answers: her words, the category of the
    question she scored worst, her site and file."""
    response = SurveyResponse.get_by_id(response_id)
    answers = json.loads(response.answers)
    score = _("score {score}/100").format(score=response.score) \
        if response.score is not None else ""
    remark = str(answers.get("comment", "")).strip()
    description = remark or _("Survey answered with a low {score}.").format(score=score)
    return CaseForm(kind=rules.COMPLAINT, source="survey",
                    category=rules.category_from_answers(answers),
                    severity="major" if (response.score or 0) < 25 else "minor",
                    description=description, occurred_on=response.answered_at.date(),
                    site_id=response.site_id, patient_id=response.patient_id,
                    source_table="survey_response", source_id=response.id)


def case_for_source(source_table: str, source_id: int) -> int | None:
    """The case already recorded from a survey or a call, if any."""
    found = QualityCase.select(QualityCase.id).where(
        (QualityCase.source_table == source_table)
        & (QualityCase.source_id == source_id)).first()
    return found.id if found else None


def proposes_complaint(response: SurveyResponse) -> bool:
    """Whether a survey just recorded should propose a complaint (its score is below the
    pilot's threshold and none was recorded from it)."""
    return (rules.proposes_complaint(response.score, complaint_threshold())
            and case_for_source("survey_response", response.id) is None)


# --- its place in the follow-up engine ------------------------------------------------------

def _events(when: dt.datetime, window: dt.timedelta) -> list[followup.Event]:
    """The open actions (their task made again after a crash); their deadline is ahead or
    recent."""
    query = (CorrectiveAction.select(CorrectiveAction.id, CorrectiveAction.deadline,
                                     QualityCase.site, CorrectiveAction.owner)
             .join(QualityCase)
             .where(CorrectiveAction.done_at.is_null() & ~CorrectiveAction.cancelled
                    & (CorrectiveAction.deadline >= (when - window).date())))
    return [followup.Event(ACTION_RULE, ACTION_TABLE, action_id,
                           dt.datetime.combine(as_date(deadline), dt.time.min), None, site_id,
                           assignee_id=owner_id)
            for action_id, deadline, site_id, owner_id in query.tuples()]


def _callers(sources: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """What Today shows for an action: the case it belongs to."""
    ids = [source_id for table, source_id in sources if table == ACTION_TABLE]
    if not ids:
        return {}
    query = (CorrectiveAction.select(CorrectiveAction.id, QualityCase.id, QualityCase.kind,
                                     QualityCase.category)
             .join(QualityCase).where(CorrectiveAction.id.in_(ids)))
    return {(ACTION_TABLE, action_id): (
        _("{kind} no. {number} — {category}").format(
            kind=_(rules.KINDS[kind]), number=case_id,
            category=_(rules.CATEGORIES.get(category, category))), "")
        for action_id, case_id, kind, category in query.tuples()}


hooks.task_events.register(_events)
hooks.task_callers.register(_callers)
