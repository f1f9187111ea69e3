"""The follow-up engine and the Today work queue.

Events stored by the other services (a first visit, a DDR, a discharge, a prospect, a call
left unresolved) make tasks through `schedule`, inside the event's own transaction, so that
the event and its task are saved together or not at all. A task's `key` names its event:
scheduling again moves the task instead of making a second one, on any workstation.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import JOIN, Case, fn

from nest_desktop.db.models import (
    FamilyLink,
    FollowUpTask,
    Interaction,
    Patient,
    PatientPhone,
    Prospect,
    ProspectInteraction,
    ProspectPhone,
    Site,
    SurveyResponse,
    User,
    database,
)
from nest_desktop.domain import clock, surveys
from nest_desktop.domain import followup as rules
from nest_desktop.domain import patients as patient_rules
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.permissions import ROLE_LABELS
from nest_desktop.domain.phones import display
from nest_desktop.domain.text import elide, list_name, shown_name
from nest_desktop.i18n import current_language
from nest_desktop.services import (
    ValidationFailed,
    agenda,
    audit,
    check_characters,
    hooks,
    leases,
    session,
    settings,
)

OPEN, DONE, CANCELLED = "open", "done", "cancelled"
SAME_DAY_RULE = "same_day"  # a request or a message of the phone, to deal with the same day
INTAKE = "intake_interview"  # a first visit without its intake interview (PAT-02)

# What a call attempt can end with (PAT-13).
REACHED = "reached"
NO_ANSWER = "no_answer"
CALL_BACK_LATER = "call_back_later"
WRONG_NUMBER = "wrong_number"
DECLINED = "declined"
OUTCOME_LABELS = {
    REACHED: N_("Reached"),
    NO_ANSWER: N_("No answer"),
    CALL_BACK_LATER: N_("Asked to be called back later"),
    WRONG_NUMBER: N_("Wrong number"),
    DECLINED: N_("Declined"),
    # how a task ends without a call
    "unreachable": N_("Unreachable after every attempt"),
    "source_cancelled": N_("Cancelled: the event is gone"),
    # how a prospect's follow-up ends when her file is settled
    "converted": N_("Became a patient"),
    "lost": N_("Prospect lost"),
    "not_interested": N_("No longer interested"),
    "merged": N_("Prospect merged with another file"),
    # how a same-day task ends (TEL-07, TEL-08)
    "delivered": N_("Message delivered"),
    "resolved": N_("Request dealt with"),
}
ATTEMPT_OUTCOMES = (NO_ANSWER, CALL_BACK_LATER, WRONG_NUMBER, DECLINED, REACHED)
SURVEY_CHANNELS = {"phone": N_("Phone"), "paper": N_("Paper form"), "desk": N_("At the desk")}


class TaskClosed(RuntimeError):
    """The task was dealt with meanwhile (on another workstation, perhaps)."""


def closing_time() -> dt.time:
    hours, minutes = str(settings.get("followup.closing_time")).split(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class ProcedureApplied:
    """For an audit: a procedure at its revision, and the rules that apply it."""

    title: str
    code: str
    revision: str
    date: dt.date | None
    pilot: str
    rules: list[str]  # their labels


def procedures_applied() -> list[ProcedureApplied]:
    language = current_language()
    applied = []
    for key, procedure in rules.procedures().items():
        labels = [rule.label_in(language) for rule in rules.rules().values()
                  if rule.procedure == key]
        applied.append(ProcedureApplied(
            procedure.title_in(language), procedure.code, procedure.revision,
            dt.date.fromisoformat(procedure.date) if procedure.date else None,
            procedure.pilot_in(language), labels))
    return applied


def rule_label(rule: str) -> str:
    return rules.rules()[rule].label_in(current_language())


def outcome_label(outcome: str) -> str:
    return _(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome


def due_at(rule: str, event: dt.datetime, site_id: int | None, closing: dt.time,
           book: "agenda.HoursBook | None" = None) -> dt.datetime:
    """The rule's deadline, inside the opening hours of the site (a callback computed
    from an answer recorded at 03:30 is not due at 03:30 a week later)."""
    return (book or agenda.HoursBook()).inside_hours(site_id,
                                                     rules.deadline(rule, event, closing))


def _key(rule: str, source_table: str, source_id: int) -> str:
    return f"{rule}:{source_table}:{source_id}"


def _log(action: str, task: FollowUpTask, changes: dict) -> None:
    """`changes`: field -> [old, new], dates and times included."""
    changes = audit.diff({field: old for field, (old, _new) in changes.items()},
                         {field: new for field, (_old, new) in changes.items()})
    session.log(action, "follow_up_task", task.id, changes, details=task.rule,
                patient_id=task.patient_id)


# --- the engine ---------------------------------------------------------------------------

def schedule(rule: str, source_table: str, source_id: int, event: dt.datetime,
             patient_id: int | None = None, site_id: int | None = None,
             when: dt.datetime | None = None,
             not_before: dt.datetime | None = None,
             prospect_id: int | None = None, urgent: bool = False,
             hours: "agenda.HoursBook | None" = None,
             assignee_id: int | None = None) -> FollowUpTask | None:
    """The task of `rule` for this event: made, moved, or left alone when already done.

    Call it inside the event's transaction. None when the event is too old to call about.
    An impossible event (a discharge before the delivery given as `not_before`) is refused
    with ValidationFailed({"event": message}), so the caller's transaction writes nothing.
    `hours`: the sites' opening hours when the caller read them already (the engine's pass).
    `assignee_id`: the person it is for, when the event names her (a corrective action's
    owner); else everyone of the rule's role.
    """
    if rule not in rules.rules():
        raise ValueError(f"unknown follow-up rule: {rule}")
    when = when or clock.now()
    problem = rules.impossible_event(rule, event, when, not_before)
    if problem:
        raise ValidationFailed({"event": problem})
    closing = closing_time()
    key = _key(rule, source_table, source_id)
    values = {"event_at": event, "due_at": due_at(rule, event, site_id, closing, hours),
              "opens_at": rules.opens_at(rule, event, closing), "patient": patient_id,
              "prospect": prospect_id, "site": site_id, "urgent": urgent}
    if assignee_id is not None:
        values["assignee"] = assignee_id
    with database.atomic():
        task = FollowUpTask.get_or_none(FollowUpTask.key == key)
        if task is None:
            if not rules.worth_creating(rule, event, when, closing):
                return None
            created = (FollowUpTask.insert(
                key=key, rule=rule, source_table=source_table, source_id=source_id,
                assignee_role=rules.rules()[rule].assignee_role, created_at=when,
                updated_at=when, **values)
                .on_conflict_ignore().execute())
            task = FollowUpTask.get(FollowUpTask.key == key)
            if created:  # not made meanwhile by another workstation
                _log("create", task, audit.diff({}, {k: v for k, v in values.items()}))
            return task
        if task.status == DONE:
            return task
        old = {"event_at": task.event_at, "due_at": task.due_at, "opens_at": task.opens_at,
               "patient": task.patient_id, "prospect": task.prospect_id, "site": task.site_id,
               "urgent": task.urgent, "assignee": task.assignee_id}
        if assignee_id is None:
            del old["assignee"]
        changes = audit.diff(old, values)
        reopen = task.status == CANCELLED and task.outcome == "source_cancelled"
        if not changes and not reopen:
            return task
        extra = {"status": OPEN, "outcome": "", "closed_at": None} if reopen else {}
        (FollowUpTask.update(**values, **extra, updated_at=when)
         .where((FollowUpTask.id == task.id) & (FollowUpTask.status != DONE)).execute())
        if reopen:
            changes["status"] = [CANCELLED, OPEN]
        _log("update", task, changes)
        return FollowUpTask.get_by_id(task.id)


def create_tasks(events: list["Event"], when: dt.datetime) -> int:
    """The tasks of events that have none yet (new records written in bulk, an import): a
    few statements for all, each task audited as `schedule` would. Inside the caller's
    transaction; returns the number made."""
    closing = closing_time()
    book = agenda.HoursBook()
    rows = []
    for event in events:
        if not rules.worth_creating(event.rule, event.at, when, closing):
            continue
        rows.append({"key": _key(event.rule, event.source_table, event.source_id),
                     "rule": event.rule, "source_table": event.source_table,
                     "source_id": event.source_id, "event_at": event.at,
                     "due_at": due_at(event.rule, event.at, event.site_id, closing, book),
                     "opens_at": rules.opens_at(event.rule, event.at, closing),
                     "patient": event.patient_id, "prospect": event.prospect_id,
                     "site": event.site_id, "urgent": event.urgent,
                     "assignee_role": rules.rules()[event.rule].assignee_role,
                     "assignee": event.assignee_id,
                     "created_at": when, "updated_at": when})
    user = session.current()
    made = 0
    for start in range(0, len(rows), 200):
        chunk = rows[start:start + 200]
        existing = {key for (key,) in FollowUpTask.select(FollowUpTask.key).where(
            FollowUpTask.key.in_([row["key"] for row in chunk])).tuples()}
        chunk = [row for row in chunk if row["key"] not in existing]
        if not chunk:
            continue
        FollowUpTask.insert_many(chunk).on_conflict_ignore().execute()
        ids = dict(FollowUpTask.select(FollowUpTask.key, FollowUpTask.id)
                   .where(FollowUpTask.key.in_([row["key"] for row in chunk])).tuples())
        shown = ("event_at", "due_at", "opens_at", "patient", "prospect", "site")
        audit.record_many([audit.entry("create", "follow_up_task", ids[row["key"]], user,
                                       audit.diff({}, {k: row[k] for k in shown}),
                                       row["rule"], row["patient"]) for row in chunk])
        made += len(chunk)
    return made


def cancel_source(source_table: str, source_id: int,
                  only_rules: Iterable[str] | None = None) -> int:
    """The event is gone (a date removed, a record deleted): its open tasks are cancelled."""
    condition = ((FollowUpTask.source_table == source_table)
                 & (FollowUpTask.source_id == source_id) & (FollowUpTask.status == OPEN))
    if only_rules is not None:
        condition &= FollowUpTask.rule.in_(list(only_rules))
    with database.atomic():
        tasks = list(FollowUpTask.select().where(condition))
        for task in tasks:
            FollowUpTask.update(status=CANCELLED, outcome="source_cancelled",
                                closed_at=clock.now(), updated_at=clock.now()).where(
                (FollowUpTask.id == task.id) & (FollowUpTask.status == OPEN)).execute()
            _log("update", task, {"status": [OPEN, CANCELLED]})
    return len(tasks)


def settle_source(source_table: str, source_id: int, outcome: str,
                  when: dt.datetime | None = None,
                  only_rules: Iterable[str] | None = None) -> int:
    """What the event asked for was done another way (a message confirmed, a request dealt
    with by email): its open tasks are done, by the person at the desk."""
    when = when or clock.now()
    user = session.current()
    condition = ((FollowUpTask.source_table == source_table)
                 & (FollowUpTask.source_id == source_id) & (FollowUpTask.status == OPEN))
    if only_rules is not None:
        condition &= FollowUpTask.rule.in_(list(only_rules))
    with database.atomic():
        tasks = list(FollowUpTask.select().where(condition))
        for task in tasks:
            FollowUpTask.update(status=DONE, outcome=outcome, closed_at=when,
                                closed_by=user.id if user else None, next_attempt_at=None,
                                updated_at=when).where(
                (FollowUpTask.id == task.id) & (FollowUpTask.status == OPEN)).execute()
            _log("update", task, {"status": [OPEN, DONE], "outcome": [task.outcome, outcome]})
    return len(tasks)


def first_visit_event(visit_date: dt.date, closing: dt.time | None = None,
                      visit_at: dt.datetime | None = None) -> dt.datetime:
    """When the 72 hours start (PAT-03): the visit's real moment when an attended
    appointment gave it; a visit known by its date only counts from that day's closing
    time."""
    if visit_at is not None and visit_at.date() == visit_date:
        return visit_at
    return dt.datetime.combine(visit_date, closing or closing_time())


def sync_patient(patient: Patient, when: dt.datetime | None = None) -> bool:
    """The tasks a patient's file makes by itself: the 72-hour call after her first visit
    (PAT-03), and the intake interview while it is not recorded (PAT-02). True when a task
    exists for the call or was cancelled."""
    if patient.first_visit_date and not patient.intake_date:
        schedule(INTAKE, "patient", patient.id,
                 first_visit_event(patient.first_visit_date, visit_at=patient.first_visit_at),
                 patient.id, patient.site_id, when)
    elif patient.intake_date:
        settle_source("patient", patient.id, "intake_recorded", when, only_rules=[INTAKE])
    else:
        cancel_source("patient", patient.id, [INTAKE])
    if patient.first_visit_date:
        return schedule("satisfaction_72h", "patient", patient.id,
                        first_visit_event(patient.first_visit_date,
                                          visit_at=patient.first_visit_at), patient.id,
                        patient.site_id, when) is not None
    return cancel_source("patient", patient.id, ["satisfaction_72h"]) > 0


@dataclass(frozen=True)
class Event:
    """A stored event that makes a follow-up: what `schedule` needs."""

    rule: str
    source_table: str
    source_id: int
    at: dt.datetime
    patient_id: int | None
    site_id: int | None
    not_before: dt.datetime | None = None
    prospect_id: int | None = None
    urgent: bool = False
    assignee_id: int | None = None  # the person it is for, when the event names her


def stored_events(when: dt.datetime) -> list[Event]:
    """Every stored event recent enough to still make a task, from every source registered
    (first visits, pregnancies, discharges, prospects, calls and messages…)."""
    window = dt.timedelta(days=rules.backfill_days() + 4)
    return [event for events in hooks.task_events.call(when, window) for event in events]


PASS_KEY = "followup.pass"  # the last full pass's day and what its deadlines depended on
PASS_LEASE = "followup.pass"


def run(when: dt.datetime | None = None, full: bool | None = None) -> int:
    """The engine's pass (after the start and each new day, on every workstation): what
    changes with time alone is brought up to date (`hooks.time_passes`), and once a day,
    by the one workstation taking its lease, or when the rules, the closing time or the
    opening hours changed, every stored event is caught up (`catch_up`): each change makes
    its own tasks in its transaction, so the catch-up only mends what a crash or an older
    version left, and moves deadlines whose rules changed. Returns the tasks made or
    moved."""
    when = when or clock.now()
    book = agenda.HoursBook()
    fingerprint = hashlib.sha256(repr((
        rules.rules(), closing_time(), sorted(book.weeks.items()), sorted(book.closed))
    ).encode()).hexdigest()[:16]
    mark = settings.get(PASS_KEY) or {}
    if full is None:
        full = (mark.get("day") != when.date().isoformat()
                or mark.get("fingerprint") != fingerprint)
    touched = 0
    if full:
        with leases.held(PASS_LEASE) as mine:
            if mine:
                touched = catch_up(when, book)
                with database.atomic():
                    settings.record_state(PASS_KEY, {"day": when.date().isoformat(),
                                                     "fingerprint": fingerprint})
    hooks.time_passes.call(when)  # a post-natal pathway over…: their own transactions
    return touched


def catch_up(when: dt.datetime, book: "agenda.HoursBook | None" = None) -> int:
    """Brings the tasks in line with every stored event: never duplicates a task, and
    leaves old events alone. Returns the number of tasks made or moved."""
    closing = closing_time()
    book = book or agenda.HoursBook()
    events = stored_events(when)
    keys = [_key(e.rule, e.source_table, e.source_id) for e in events]
    known = {}
    for start in range(0, len(keys), 500):
        known.update({key: (event_at, status, site_id, due)
                      for key, event_at, status, site_id, due in
                      FollowUpTask.select(FollowUpTask.key, FollowUpTask.event_at,
                                          FollowUpTask.status, FollowUpTask.site,
                                          FollowUpTask.due_at)
                      .where(FollowUpTask.key.in_(keys[start:start + 500])).tuples()})
    # Only what needs a write is looked at inside the transaction, which stays short.
    to_sync = []
    for event, key in zip(events, keys, strict=True):
        seen = known.get(key)
        if seen is None:
            if rules.worth_creating(event.rule, event.at, when, closing) and \
                    rules.impossible_event(event.rule, event.at, when, event.not_before) is None:
                to_sync.append(event)
        elif seen[1] != DONE and (
                seen[1] != OPEN or (seen[0], seen[2]) != (event.at, event.site_id)
                # a rule the clinic changed (its deadline) applies to the open tasks too
                or seen[3] != due_at(event.rule, event.at, event.site_id, closing, book)):
            to_sync.append(event)
    touched = 0
    with database.atomic():
        for event in to_sync:
            if schedule(event.rule, event.source_table, event.source_id, event.at,
                        event.patient_id, event.site_id, when, event.not_before,
                        event.prospect_id, event.urgent, book, event.assignee_id):
                touched += 1
    return touched


# --- the Today queue ----------------------------------------------------------------------

@dataclass(frozen=True)
class TaskFilter:
    site_id: int | None = None
    rule: str | None = None
    assignee: str = "all"  # "all", "mine", "role:<role>" or "user:<id>"
    horizon_days: int = 7


def _condition(task_filter: TaskFilter, when: dt.datetime):
    end = dt.datetime.combine(when.date() + dt.timedelta(days=task_filter.horizon_days),
                              dt.time.max)
    # Due within the horizon, or open to be done already (a campaign's calls).
    condition = (FollowUpTask.status == OPEN) & (
        (FollowUpTask.due_at <= end) | (FollowUpTask.opens_at <= when))
    if task_filter.site_id is not None:
        condition &= FollowUpTask.site == task_filter.site_id
    if task_filter.rule:
        condition &= FollowUpTask.rule == task_filter.rule
    assignee = task_filter.assignee
    if assignee == "mine":
        user = session.current()
        condition &= ((FollowUpTask.assignee == user.id)
                      | (FollowUpTask.assignee.is_null()
                         & (FollowUpTask.assignee_role == user.role)))
    elif assignee.startswith("role:"):
        condition &= FollowUpTask.assignee_role == assignee[5:]
    elif assignee.startswith("user:"):
        condition &= FollowUpTask.assignee == int(assignee[5:])
    return condition


def task_ids(task_filter: TaskFilter, when: dt.datetime | None = None) -> list[int]:
    """The open tasks to show, what needs doing first: urgent messages, then the requests
    left open at a previous day's closing (TEL-08: first the next morning), then by
    deadline (overdue, today, then the next days), those waiting for a later attempt
    after."""
    when = when or clock.now()
    waiting = Case(None, [(FollowUpTask.next_attempt_at > when, 1)], 0)
    from_before = Case(None, [((FollowUpTask.rule == SAME_DAY_RULE)
                               & (FollowUpTask.due_at < dt.datetime.combine(when.date(),
                                                                            dt.time.min)), 0)],
                       1)
    query = (FollowUpTask.select(FollowUpTask.id)
             .where(_condition(task_filter, when))
             .order_by(FollowUpTask.urgent.desc(), from_before, waiting, FollowUpTask.due_at,
                       FollowUpTask.id))
    return [row[0] for row in query.tuples()]


def counts(task_filter: TaskFilter, when: dt.datetime | None = None
           ) -> dict[str, tuple[int, int]]:
    """rule -> (tasks shown, of which overdue), for the navigation; the rule filter aside."""
    when = when or clock.now()
    everything = TaskFilter(task_filter.site_id, None, task_filter.assignee,
                            task_filter.horizon_days)
    overdue = fn.SUM(Case(None, [(FollowUpTask.due_at < when, 1)], 0))
    query = (FollowUpTask.select(FollowUpTask.rule, fn.COUNT(FollowUpTask.id), overdue)
             .where(_condition(everything, when)).group_by(FollowUpTask.rule))
    return {rule: (total, int(late or 0)) for rule, total, late in query.tuples()}


@dataclass(frozen=True)
class TaskRow:
    id: int
    rule: str
    patient_id: int | None
    prospect_id: int | None
    person: str
    phone: str
    due_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime | None
    site: str
    assignee: str
    urgent: bool = False


def rows_for(ids: Iterable[int]) -> dict[int, TaskRow]:
    """The rows of a page of the list, in one query each for tasks and phones."""
    ids = list(ids)
    if not ids:
        return {}
    main_phone, prospect_phone = {}, {}
    query = (FollowUpTask.select(FollowUpTask, Patient, Prospect, Site, User)
             .join(Patient, JOIN.LEFT_OUTER).switch(FollowUpTask)
             .join(Prospect, JOIN.LEFT_OUTER).switch(FollowUpTask)
             .join(Site, JOIN.LEFT_OUTER).switch(FollowUpTask)
             .join(User, JOIN.LEFT_OUTER, on=FollowUpTask.assignee == User.id)
             .where(FollowUpTask.id.in_(ids)))
    tasks = list(query)
    patient_ids = [t.patient_id for t in tasks if t.patient_id]
    for phone in (PatientPhone.select().where(PatientPhone.patient.in_(patient_ids))
                  .order_by(PatientPhone.position.desc())):
        main_phone[phone.patient_id] = display(phone.e164)
    for phone in (ProspectPhone.select().where(
            ProspectPhone.prospect.in_([t.prospect_id for t in tasks if t.prospect_id]))
            .order_by(ProspectPhone.position.desc())):
        prospect_phone[phone.prospect_id] = display(phone.e164)
    # A same-day request or message from someone without a file: as she gave herself.
    callers = {}
    for found in hooks.task_callers.call([(t.source_table, t.source_id) for t in tasks
                                          if not (t.patient_id or t.prospect_id)]):
        callers.update(found)
    rows = {}
    for task in tasks:
        person = task.patient if task.patient_id else (
            task.prospect if task.prospect_id else None)
        name = shown_name(list_name(person.last_name, person.first_names)) if person else ""
        phone = (main_phone.get(task.patient_id, "") if task.patient_id
                 else prospect_phone.get(task.prospect_id, ""))
        if person is None:
            name, phone = callers.get((task.source_table, task.source_id), ("", ""))
        assignee = (task.assignee.full_name if task.assignee_id
                    else _(ROLE_LABELS.get(task.assignee_role, task.assignee_role)))
        rows[task.id] = TaskRow(task.id, task.rule, task.patient_id, task.prospect_id, name,
                                phone, task.due_at,
                                task.attempts, task.next_attempt_at,
                                task.site.name if task.site_id else "", assignee,
                                task.urgent)
    return rows


def get_task(task_id: int) -> FollowUpTask:
    return FollowUpTask.get_by_id(task_id)


def assign(task_id: int, user_id: int | None) -> None:
    """Gives a task to a person (None: back to everyone of its role)."""
    session.require("followup.work")
    with database.atomic():
        task = FollowUpTask.get_by_id(task_id)
        FollowUpTask.update(assignee=user_id, updated_at=clock.now()).where(
            FollowUpTask.id == task_id).execute()
        _log("update", task, {"assignee": [task.assignee_id, user_id]})


# --- working a task through (the guided outbound call, PAT-13) ---------------------------

def _open_task_for_update(task_id: int) -> FollowUpTask:
    """The task, claimed until the transaction ends; TaskClosed if dealt with already.

    The claim is an update of the open row: PostgreSQL locks the row, SQLite the database,
    so a second workstation waits, then finds the task closed.
    """
    claimed = (FollowUpTask.update(updated_at=clock.now())
               .where((FollowUpTask.id == task_id) & (FollowUpTask.status == OPEN)).execute())
    task = FollowUpTask.get_by_id(task_id)
    if not claimed:
        who = task.closed_by.full_name if task.closed_by_id else ""
        raise TaskClosed(_("This follow-up was already dealt with ({outcome}) {who}.").format(
            outcome=outcome_label(task.outcome),
            who=_("by {name}").format(name=who) if who else "").strip())
    return task


def _write_interaction(task: FollowUpTask, user: User, outcome: str, notes: str,
                       when: dt.datetime) -> Interaction | None:
    """The attempt on the person's file, and in the call register (TEL-03)."""
    hooks.task_attempted.call(task, user, outcome, notes, when)
    if task.prospect_id and not task.patient_id:
        write_contact = hooks.task_contact_writers.get("prospect")
        return write_contact(task, user, outcome, notes, when) if write_contact else None
    if not task.patient_id:
        return None
    values = {"patient": task.patient_id, "user": user.id, "channel": "phone",
              "direction": "outgoing", "subject": rule_label(task.rule),
              "notes": notes, "outcome": outcome_label(outcome), "occurred_at": when,
              "site": task.site_id}
    interaction = Interaction.create(**values)
    session.log("create", "interaction", interaction.id, audit.diff({}, values),
                patient_id=task.patient_id)
    return interaction


def _close(task: FollowUpTask, outcome: str, user: User, when: dt.datetime,
           attempts: int) -> None:
    FollowUpTask.update(status=DONE, outcome=outcome, closed_at=when, closed_by=user.id,
                        attempts=attempts, next_attempt_at=None, updated_at=when).where(
        FollowUpTask.id == task.id).execute()
    _log("update", task, {"status": [OPEN, DONE], "outcome": [task.outcome, outcome],
                          "attempts": [task.attempts, attempts]})
    hooks.task_closed.call(task, outcome, user, when)


def record_attempt(task_id: int, outcome: str, notes: str = "",
                   call_back_at: dt.datetime | None = None,
                   when: dt.datetime | None = None) -> FollowUpTask:
    """One call made for a task: written on the person's file as a contact.

    No answer: tried again later (after the rule's delay, or at `call_back_at`) until the
    rule's number of attempts, then closed as unreachable. Asked to be called back: at
    `call_back_at`. Wrong number, declined, reached: the task is done. (A task whose call
    fills in a survey is done through `complete_with_survey`.)
    """
    user = session.require("followup.work")
    when = when or clock.now()
    errors = {}
    if outcome not in ATTEMPT_OUTCOMES:
        errors["outcome"] = _("Choose how the call ended.")
    if outcome == CALL_BACK_LATER and (call_back_at is None or call_back_at <= when):
        errors["call_back_at"] = _("Give the day and time she asked to be called back, "
                                   "after now.")
    if call_back_at is not None and call_back_at > when + dt.timedelta(days=90):
        errors["call_back_at"] = _("A call back is within the next three months.")
    check_characters(errors, notes=notes)
    if len(notes) > 2000:
        errors["notes"] = _("At most {count} characters.").format(count=2000)
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        task = _open_task_for_update(task_id)
        rule = rules.rules()[task.rule]
        if outcome == REACHED and rule.survey:
            raise ValidationFailed({"outcome": _("Fill in the survey to finish this call.")})
        attempts = task.attempts + 1
        _write_interaction(task, user, outcome, notes.strip(), when)
        if outcome in (NO_ANSWER, CALL_BACK_LATER):
            if outcome == NO_ANSWER and attempts >= rule.max_attempts:
                _close(task, "unreachable", user, when, attempts)
            else:
                next_at = call_back_at or rules.next_attempt(task.rule, when)
                FollowUpTask.update(attempts=attempts, next_attempt_at=next_at,
                                    outcome=outcome, updated_at=when).where(
                    FollowUpTask.id == task.id).execute()
                _log("update", task, {"attempts": [task.attempts, attempts],
                                      "next_attempt_at": [task.next_attempt_at, next_at],
                                      "outcome": [task.outcome, outcome]})
        else:
            _close(task, outcome, user, when, attempts)
    return FollowUpTask.get_by_id(task_id)


def close_reached(task_id: int, notes: str = "", when: dt.datetime | None = None) -> None:
    """The call reached the person and its form was saved by the caller's transaction."""
    user = session.require("followup.work")
    when = when or clock.now()
    with database.atomic():
        task = _open_task_for_update(task_id)
        _write_interaction(task, user, REACHED, notes.strip(), when)
        _close(task, REACHED, user, when, task.attempts + 1)


def record_survey(survey: str, answers: dict, patient_id: int | None, channel: str,
                  site_id: int | None, task_id: int | None = None,
                  when: dt.datetime | None = None) -> SurveyResponse:
    """An answer sheet; `patient_id` None keeps it anonymous. Inside a transaction."""
    user = session.require("followup.work")
    if survey not in surveys.surveys():
        raise ValueError(f"unknown survey: {survey}")
    kept, errors = surveys.check_answers(survey, answers)
    if channel not in SURVEY_CHANNELS:
        errors["channel"] = _("Choose how the answers were given.")
    check_characters(errors, **{k: v for k, v in kept.items() if isinstance(v, str)})
    if errors:
        raise ValidationFailed(errors)
    when = when or clock.now()
    with database.atomic():
        response = SurveyResponse.create(
            survey=survey, patient=patient_id, task=task_id, site=site_id, channel=channel,
            answered_at=when, answers=json.dumps(kept, ensure_ascii=False),
            score=surveys.score(survey, kept), recorded_by=user.id)
        # An anonymous sheet names nobody in the trail either.
        session.log("create", "survey_response", response.id,
                    {"survey": [None, survey], "anonymous": [None, patient_id is None]},
                    patient_id=patient_id)
    return response


def complete_with_survey(task_id: int, answers: dict, anonymous: bool, notes: str = "",
                         channel: str = "phone", when: dt.datetime | None = None
                         ) -> SurveyResponse:
    """The person answered the survey of her follow-up: the answers are saved (without her
    name if she asks), the call goes on her file, the task is done."""
    user = session.require("followup.work")
    when = when or clock.now()
    with database.atomic():
        task = _open_task_for_update(task_id)
        survey = rules.rules()[task.rule].survey
        if not survey:
            raise ValueError(f"the rule {task.rule} has no survey")
        response = record_survey(survey, answers, None if anonymous else task.patient_id,
                                 channel, task.site_id, task.id, when)
        summary = _("Survey answered anonymously.") if anonymous else _("Survey answered.")
        _write_interaction(task, user, REACHED, (summary + " " + notes.strip()).strip(), when)
        _close(task, REACHED, user, when, task.attempts + 1)
    return response


@dataclass(frozen=True)
class CallSheet:
    """What the guided call shows: who to call, on which numbers, what to say."""

    task: FollowUpTask
    person: str
    phones: list[str]
    script: list[str]
    survey: str
    last_contacts: list[Interaction]


def call_sheet(task_id: int, caller_first_name: str, site_name: str) -> CallSheet:
    task = FollowUpTask.get_by_id(task_id)
    rule = rules.rules()[task.rule]
    person, numbers, contacts = "", [], []
    asked_for = ""  # a child's call asks for her parent
    if task.patient_id:
        patient = task.patient
        person = f"{patient.first_names} {patient.last_name}"
        numbers = [display(p.e164) for p in PatientPhone.select()
                   .where(PatientPhone.patient == task.patient_id)
                   .order_by(PatientPhone.position)]
        link = (FamilyLink.select().where(FamilyLink.child == task.patient_id)
                .order_by(FamilyLink.id).first()
                if patient_rules.is_child(patient.birth_date, clock.today()) else None)
        if link is not None:
            asked_for = _(patient_rules.ASKED_FOR.get(link.relation,
                                                      patient_rules.ASKED_FOR["guardian"])
                          ).format(child=(first := patient.first_names.split(" ")[0]),
                                   of_child=patient_rules.french_of(first))
            parent_numbers = [display(p.e164) for p in PatientPhone.select()
                              .where(PatientPhone.patient == link.parent_id)
                              .order_by(PatientPhone.position)]
            numbers = list(dict.fromkeys(parent_numbers + numbers))
        contacts = list(Interaction.select().where(Interaction.patient == task.patient_id)
                        .order_by(Interaction.occurred_at.desc()).limit(5))
    elif task.prospect_id:
        prospect = task.prospect
        person = shown_name(prospect.full_name)
        numbers = [display(p.e164) for p in ProspectPhone.select()
                   .where(ProspectPhone.prospect == task.prospect_id)
                   .order_by(ProspectPhone.position)]
        contacts = list(ProspectInteraction.select()
                        .where(ProspectInteraction.prospect == task.prospect_id)
                        .order_by(ProspectInteraction.occurred_at.desc()).limit(5))
    request = ""
    if task.source_table == "call_record":
        from nest_desktop.db.models import CallRecord

        call = CallRecord.get_or_none(CallRecord.id == task.source_id)
        if call is not None:
            request = _("Her request ({time}): {summary}").format(
                time=call.started_at.strftime("%H:%M"), summary=call.summary)
            if not person:
                person = call.caller_name or display(call.phone)
                numbers = [display(call.phone)] if call.phone else []
    site = task.site.name if task.site_id else site_name
    fill = {"{patient}": asked_for or person or "…", "{caller}": caller_first_name,
            "{site}": site}
    placeholders_of = hooks.call_sheet_placeholders.get(task.source_table)
    if placeholders_of is not None:
        fill.update(placeholders_of(task.source_id))
    script = []
    for line in rule.script_in(current_language()):
        line = elide(line, {placeholder.strip("{}"): value for placeholder, value in fill.items()})
        for placeholder, value in fill.items():  # not str.format: the clinic edits these
            line = line.replace(placeholder, value)
        script.append(line)
    if request:
        script.insert(0, request)
    return CallSheet(task, person, numbers, script, rule.survey, contacts)
