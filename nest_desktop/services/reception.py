"""Answering the phone (procedure 004, TEL-01 to TEL-09): the directory of each site, who
is calling, the call register, messages and appointments.

Every call is a line of the register and a contact on the caller's file; what is left
unsatisfied (a message, a call back, an unresolved request) becomes a `same_day` task of the
follow-up engine, on Today until it is dealt with (TEL-07, TEL-08).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from peewee import JOIN, fn

from nest_desktop.db.models import (
    Appointment,
    CallRecord,
    DirectoryEntry,
    FollowUpTask,
    Interaction,
    Patient,
    PatientPhone,
    PhoneMessage,
    Prospect,
    ProspectInteraction,
    ProspectPhone,
    Site,
    SmsMessage,
    User,
    database,
)
from nest_desktop.domain import agenda as agenda_rules
from nest_desktop.domain import clock, phones
from nest_desktop.domain import reception as rules
from nest_desktop.domain.dates import parse_date, parse_time
from nest_desktop.domain.messages import _
from nest_desktop.domain.patients import person_order
from nest_desktop.domain.pregnancy import format_sa, gestational_age
from nest_desktop.domain.text import list_name, shown_name
from nest_desktop.i18n import format_date
from nest_desktop.services import (
    ValidationFailed,
    agenda,
    audit,
    check_characters,
    followup,
    hold_rows,
    hooks,
    session,
    sms,
)
from nest_desktop.services.people import PATIENT, PROSPECT, parent_names, prefix_range
from nest_desktop.services.session import PermissionDenied

TEXT_MAX = 2000
SAME_DAY = followup.SAME_DAY_RULE
REBOOK = "rebook_missed"
CALL_SOURCE, MESSAGE_SOURCE, APPOINTMENT_SOURCE = "call_record", "phone_message", "appointment"
RECOGNITION_MIN_DIGITS = 3
RECOGNITION_LIMIT = 8


class AlreadyDone(RuntimeError):
    """Dealt with meanwhile, perhaps on another workstation."""


def _text_limits(errors: dict[str, str], limits: dict[str, tuple[str, int]]) -> None:
    for field, (text, limit) in limits.items():
        if len(text.strip()) > limit:
            errors.setdefault(field, _("At most {count} characters.").format(count=limit))
    check_characters(errors, **{field: text for field, (text, _limit) in limits.items()})


def _phone_or_error(raw: str, field: str, errors: dict[str, str]) -> str:
    if not raw.strip():
        return ""
    try:
        return phones.normalize(raw)
    except ValueError as error:
        errors[field] = str(error)
        return ""


# --- the directory of each site (TEL-05, TEL-09) --------------------------------------------

@dataclass(frozen=True)
class DirectoryForm:
    site_id: int | None = None
    kind: str = "service"
    name: str = ""
    said_as: str = ""
    extension: str = ""
    user_id: int | None = None
    takes_appointments: bool = False
    active: bool = True
    service_id: int | None = None  # a person's service (a practitioner of Pédiatrie)


def directory(site_id: int | None, active_only: bool = True,
              appointments_only: bool = False) -> list[DirectoryEntry]:
    """A site's services and people (every site's when `site_id` is None), services first."""
    query = DirectoryEntry.select(DirectoryEntry, Site).join(Site)
    if site_id is not None:
        query = query.where(DirectoryEntry.site == site_id)
    if active_only:
        query = query.where(DirectoryEntry.active == True)  # noqa: E712
    if appointments_only:
        query = query.where(DirectoryEntry.takes_appointments == True)  # noqa: E712
    return list(query.order_by(Site.name, DirectoryEntry.kind.desc(), DirectoryEntry.position,
                               DirectoryEntry.name))


def with_practitioners(entry_id: int) -> list[int]:
    """A service and the practitioners (or rooms) that belong to it; a person alone."""
    return [entry_id] + [row[0] for row in DirectoryEntry.select(DirectoryEntry.id).where(
        DirectoryEntry.service == entry_id).tuples()]


def save_entry(form: DirectoryForm, entry_id: int | None = None) -> DirectoryEntry:
    session.require("directory.manage")
    errors: dict[str, str] = {}
    name = " ".join(form.name.split())
    if not name:
        errors["entry_name"] = _("Give the name of the service or the person.")
    if form.kind not in rules.DIRECTORY_KINDS:
        errors["entry_kind"] = _("Choose a service or a person.")
    if form.site_id is None or Site.get_or_none(Site.id == form.site_id) is None:
        errors["entry_site"] = _("Choose the site.")
    extension = form.extension.strip()
    if extension and not all(c.isdigit() or c in "+ *#" for c in extension):
        errors["entry_extension"] = _("An internal number holds digits only.")
    _text_limits(errors, {"entry_name": (form.name, 100), "entry_said_as": (form.said_as, 120),
                          "entry_extension": (extension, 20)})
    service = (DirectoryEntry.get_or_none(DirectoryEntry.id == form.service_id)
               if form.service_id else None)
    if form.service_id and (service is None or service.kind != "service"
                            or service.site_id != form.site_id or service.id == entry_id
                            or form.kind != "person"):
        errors["entry_service"] = _("A person belongs to a service of her own site.")
    if name and not {"entry_name", "entry_site"} & set(errors) and DirectoryEntry.select().where(
            (DirectoryEntry.site == form.site_id) & (DirectoryEntry.name == name)
            & (DirectoryEntry.id != (entry_id or 0))).exists():
        errors["entry_name"] = _("This site's directory already has this name.")
    if errors:
        raise ValidationFailed(errors)
    values = {"site": form.site_id, "kind": form.kind, "name": name,
              "said_as": " ".join(form.said_as.split()), "extension": extension,
              "user": form.user_id, "takes_appointments": form.takes_appointments,
              "active": form.active, "service": form.service_id or None}
    with database.atomic():
        if entry_id is None:
            position = DirectoryEntry.select().where(
                DirectoryEntry.site == form.site_id).count()
            entry = DirectoryEntry.create(**values, position=position)
            session.log("create", "directory_entry", entry.id, audit.diff({}, values))
        else:
            old = DirectoryEntry.get_by_id(entry_id)
            DirectoryEntry.update(**values).where(DirectoryEntry.id == entry_id).execute()
            session.log("update", "directory_entry", entry_id, audit.diff(
                {key: getattr(old, key + "_id" if key in ("site", "user", "service") else key)
                 for key in values}, values))
            entry = DirectoryEntry.get_by_id(entry_id)
    return entry


def get_entry(entry_id: int) -> DirectoryEntry:
    return DirectoryEntry.get_by_id(entry_id)


def said_of(entry: DirectoryEntry) -> str:
    return entry.said_as or rules.said_as(entry.kind, entry.name)


@dataclass(frozen=True)
class Transfer:
    name: str
    phrase: str
    extension: str


def transfer_to(entry_id: int) -> Transfer:
    """What to say and which number to dial to put the caller through (TEL-05)."""
    entry = DirectoryEntry.get_by_id(entry_id)
    return Transfer(entry.name, rules.transfer_phrase(said_of(entry)), entry.extension)


# --- who is calling (TEL-01, PRO-05) ---------------------------------------------------------

@dataclass(frozen=True)
class CallerMatch:
    kind: str  # patient, prospect
    record_id: int
    name: str
    birth_date: dt.date | None
    phones: tuple[str, ...]  # shown as typed nationally
    parent_name: str = ""  # a child on her parent's number: whose child she is


def _matches(model, phone_model, owner_field, kind: str, digits: str, exact: str,
             exclude_converted: bool = False) -> list[CallerMatch]:
    if exact:
        condition = phone_model.e164 == exact
    else:
        condition = prefix_range(phone_model.national_digits, digits)
    owners = [row[0] for row in phone_model.select(owner_field).where(condition)
              .order_by(phone_model.national_digits).limit(RECOGNITION_LIMIT * 2).tuples()]
    if not owners:
        return []
    query = (model.select(model.id, model.first_names, model.last_name, model.birth_date)
             .where(model.id.in_(owners)))
    if exclude_converted:
        query = query.where(model.patient.is_null())
    numbers: dict[int, list[str]] = {}
    for owner_id, e164 in (phone_model.select(owner_field, phone_model.e164)
                           .where(owner_field.in_(owners))
                           .order_by(phone_model.position).tuples()):
        numbers.setdefault(owner_id, []).append(phones.display(e164))
    parents = parent_names(owners) if kind == PATIENT else {}
    return [CallerMatch(kind, record_id,
                        shown_name(f"{first} {last}".strip()), born,
                        tuple(numbers.get(record_id, ())), parents.get(record_id, ""))
            for record_id, first, last, born in query.order_by(model.sort_key).tuples()]


def recognise(typed: str, name: str = "", today: dt.date | None = None) -> list[CallerMatch]:
    """The people whose number starts with what is typed, in any written form (77 123…,
    +221 77…, 00221…); a whole number is matched exactly. The one whose `name` matches
    first, then adults before children (a mother's number is on her babies' files too),
    patients before prospects. A prospect who became a patient is found as the patient
    (PRO-05)."""
    digits = phones.search_digits(typed)
    if len(digits) < RECOGNITION_MIN_DIGITS:
        return []
    try:
        exact = phones.normalize(typed)
    except ValueError:
        exact = ""
    today = today or clock.today()
    found = _matches(Patient, PatientPhone, PatientPhone.patient, PATIENT, digits, exact)
    found += _matches(Prospect, ProspectPhone, ProspectPhone.prospect, PROSPECT, digits,
                      exact, exclude_converted=True)
    found.sort(key=lambda match: person_order(name, match.name, match.birth_date, match.kind,
                                              today))  # stable: by name within each rank
    return found[:RECOGNITION_LIMIT]


FIND_LIMIT = 20


def find_people(text: str, limit: int = FIND_LIMIT) -> list[CallerMatch]:
    """Patients, then prospects not yet patients, by name, phone or birth date: whom an
    appointment is for."""
    from nest_desktop.services import patients as patient_service
    from nest_desktop.services import prospects as prospect_service

    text = " ".join((text or "").split())
    if len(text) < 2:
        return []
    patient_ids = [row[0] for row in patient_service.search_query(text).limit(limit).tuples()]
    prospect_ids = prospect_service.search_ids(prospect_service.ProspectFilter(query=text),
                                               limit=limit)
    found = []
    for model, phone_model, owner, kind, ids in (
            (Patient, PatientPhone, PatientPhone.patient, PATIENT, patient_ids),
            (Prospect, ProspectPhone, ProspectPhone.prospect, PROSPECT, prospect_ids[:limit])):
        query = model.select(model.id, model.first_names, model.last_name,
                             model.birth_date).where(model.id.in_(ids))
        if model is Prospect:
            query = query.where(Prospect.patient.is_null())
        numbers: dict[int, list[str]] = {}
        for owner_id, e164 in (phone_model.select(owner, phone_model.e164)
                               .where(owner.in_(ids)).order_by(phone_model.position).tuples()):
            numbers.setdefault(owner_id, []).append(phones.display(e164))
        parents = parent_names(ids) if kind == PATIENT else {}
        found += [CallerMatch(kind, record_id,
                              shown_name(list_name(last, first)), born,
                              tuple(numbers.get(record_id, ())), parents.get(record_id, ""))
                  for record_id, first, last, born in query.order_by(model.sort_key).tuples()]
    return found[:limit]


@dataclass(frozen=True)
class CallerCard:
    """What the secretary sees at a glance of a recognised caller."""

    kind: str
    record_id: int
    name: str
    birth_date: dt.date | None
    phones: tuple[str, ...]
    pregnancy: str  # "28 SA + 3 j" for an ongoing pregnancy, else ""
    next_appointment: Appointment | None
    last_contacts: list  # Interaction or ProspectInteraction, newest first
    also_prospect: bool  # a patient who is a prospect too: the patient's file wins
    status: str  # a prospect's status
    wrong_phones: tuple[str, ...] = ()  # found wrong on a call: ask her for a new number


def caller_card(kind: str, record_id: int, today: dt.date | None = None) -> CallerCard:
    today = today or clock.today()
    moment = dt.datetime.combine(today, dt.time.min)
    if kind == PATIENT:
        from nest_desktop.services import pregnancy as pregnancy_service

        patient = Patient.get_by_id(record_id)
        numbers = tuple(phones.display(row.e164) for row in PatientPhone.select()
                        .where(PatientPhone.patient == record_id).order_by(PatientPhone.position))
        ongoing = pregnancy_service.ongoing_of(record_id)
        sa = format_sa(*gestational_age(ongoing.ddr, today)) if ongoing else ""
        upcoming = (Appointment.select(Appointment, DirectoryEntry)
                    .join(DirectoryEntry, JOIN.LEFT_OUTER)
                    .where((Appointment.patient == record_id) & (Appointment.status == "booked")
                           & (Appointment.starts_at >= moment))
                    .order_by(Appointment.starts_at).first())
        contacts = list(Interaction.select().where(Interaction.patient == record_id)
                        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                        .limit(3))
        also = Prospect.select().where(Prospect.patient == record_id).exists() or (
            Prospect.select().join(ProspectPhone).where(ProspectPhone.e164.in_(
                [row.e164 for row in PatientPhone.select(PatientPhone.e164)
                 .where(PatientPhone.patient == record_id)])).exists())
        wrong = tuple(phones.display(row.e164) for row in PatientPhone.select().where(
            (PatientPhone.patient == record_id) & PatientPhone.wrong_since.is_null(False)))
        return CallerCard(PATIENT, record_id, patient.full_name, patient.birth_date, numbers, sa,
                          upcoming, contacts, also, "", wrong)
    prospect = Prospect.get_by_id(record_id)
    numbers = tuple(phones.display(row.e164) for row in ProspectPhone.select()
                    .where(ProspectPhone.prospect == record_id).order_by(ProspectPhone.position))
    upcoming = (Appointment.select(Appointment, DirectoryEntry)
                .join(DirectoryEntry, JOIN.LEFT_OUTER)
                .where((Appointment.prospect == record_id) & (Appointment.status == "booked")
                       & (Appointment.starts_at >= moment))
                .order_by(Appointment.starts_at).first())
    contacts = list(ProspectInteraction.select()
                    .where(ProspectInteraction.prospect == record_id)
                    .order_by(ProspectInteraction.occurred_at.desc(),
                              ProspectInteraction.id.desc()).limit(3))
    return CallerCard(PROSPECT, record_id, shown_name(prospect.full_name),
                      prospect.birth_date, numbers, "",
                      upcoming, contacts, False, prospect.status)


# --- the call register (TEL-03, TEL-08) --------------------------------------------------------

@dataclass
class CallForm:
    """An incoming call as the secretary handled it."""

    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    phone: str = ""
    caller_name: str = ""
    patient_id: int | None = None
    prospect_id: int | None = None
    reason: str = "information"
    summary: str = ""
    outcome: str = ""
    transferred_to_id: int | None = None
    hold_seconds: int = 0
    site_id: int | None = None
    # An unknown caller with a qualified request (quote, programme, appointment) becomes a
    # prospect (PRO-02, PRO-04): her names as typed.
    last_name: str = ""
    first_names: str = ""
    birth_date: str = ""
    sms_consent: bool = False  # to the reminders of her appointments
    request_recorded: bool = False  # she was made a prospect during the call, request included
    message_ids: tuple[int, ...] = ()  # messages and appointments taken during the call
    appointment_ids: tuple[int, ...] = ()


def _clean_call(form: CallForm, when: dt.datetime) -> dict:
    errors: dict[str, str] = {}
    if form.reason not in rules.REQUEST_TYPES:
        errors["reason"] = _("Choose what the caller wants.")
    if form.outcome not in rules.OUTCOMES:
        errors["outcome"] = _("Choose how the call ended.")
    if form.outcome == rules.TRANSFERRED and form.transferred_to_id is None:
        errors["transferred_to"] = _("Choose the service or the person the call went to.")
    phone = _phone_or_error(form.phone, "phone", errors)
    ended = form.ended_at or when
    if form.started_at > when + dt.timedelta(minutes=5):
        errors["started_at"] = _("A call cannot be in the future.")
    elif ended < form.started_at:
        errors["started_at"] = _("A call cannot end before it began.")
    if form.hold_seconds < 0:
        errors["hold"] = _("The hold time cannot be negative.")
    if form.outcome in rules.UNSATISFIED and not form.summary.strip():
        errors["summary"] = _("Write what she asked: it is dealt with later today.")
    _text_limits(errors, {"summary": (form.summary, TEXT_MAX),
                          "caller_name": (form.caller_name, 200)})
    if errors:
        raise ValidationFailed(errors)
    duration = int((ended - form.started_at).total_seconds())
    return {"direction": "in", "started_at": form.started_at, "ended_at": ended,
            "duration_seconds": duration, "hold_seconds": min(int(form.hold_seconds), duration),
            "phone": phone, "caller_name": " ".join(form.caller_name.split()),
            "patient": form.patient_id, "prospect": form.prospect_id, "reason": form.reason,
            "summary": form.summary.strip(), "outcome": form.outcome,
            "transferred_to": form.transferred_to_id if form.outcome == rules.TRANSFERRED
            else None, "site": form.site_id}


def _subject(reason: str, direction: str = "in") -> str:
    label = _(rules.REQUEST_TYPES.get(reason, reason)) if reason in rules.REQUEST_TYPES \
        else followup.rule_label(reason)
    text = _("Incoming call: {reason}") if direction == "in" else _("Call: {reason}")
    return text.format(reason=label)[:200]


def outcome_text(call: CallRecord) -> str:
    text = _(rules.OUTCOMES[call.outcome])
    if call.outcome == rules.TRANSFERRED and call.transferred_to_id:
        text = _("Transferred to {name}").format(name=call.transferred_to.name)
    return text


def _contact(patient_id: int | None, prospect_id: int | None, channel: str, direction: str,
             subject: str, notes: str, outcome: str, when: dt.datetime, site_id: int | None,
             user: User) -> None:
    """A contact on the person's timeline, the patient's or else the prospect's; inside
    the caller's transaction."""
    if patient_id:
        values = {"patient": patient_id, "user": user.id, "channel": channel,
                  "direction": direction, "subject": subject[:200], "notes": notes,
                  "outcome": outcome[:200], "occurred_at": when, "site": site_id}
        interaction = Interaction.create(**values)
        session.log("create", "interaction", interaction.id, audit.diff({}, values),
                    patient_id=patient_id)
    elif prospect_id:
        from nest_desktop.services.prospects import add_prospect_interaction

        add_prospect_interaction(prospect_id, channel, direction, subject, notes, outcome,
                                 when, site_id, user)


def _contact_on_file(call: CallRecord, user: User) -> None:
    """The call on the caller's timeline (TEL-03)."""
    _contact(call.patient_id, call.prospect_id, "phone", "incoming", _subject(call.reason),
             call.summary, outcome_text(call), call.started_at, call.site_id, user)


def _qualified_request(form: CallForm, values: dict, when: dt.datetime,
                       confirmed_new: bool) -> None:
    """A quote, prices, programme or appointment request (PRO-02): on the patient's file
    (PRO-03), the prospect's, or a new prospect after the duplicate check (PRO-05). The
    answer given during the call is recorded with it, so the callback a week later follows
    (PRO-06)."""
    from nest_desktop.services import prospects

    answer = values["summary"] if values["outcome"] == rules.ANSWERED else ""
    request = prospects.RequestForm(values["reason"], values["summary"], answer)
    if values["patient"]:
        prospects.add_request(PATIENT, values["patient"], request, "phone", when)
    elif values["prospect"]:
        prospects.add_request(PROSPECT, values["prospect"], request, "phone", when)
    else:
        if not form.last_name.strip():
            raise ValidationFailed({"last_name": _(
                "Ask her name: a caller asking for an appointment, prices or the programme is "
                "recorded as a prospect.")})
        prospect = prospects.create_prospect(prospects.ProspectForm(
            last_name=form.last_name, first_names=form.first_names, birth_date=form.birth_date,
            phones=[values["phone"]] if values["phone"] else [], site_id=values["site"],
            channel="phone", sms_consent=form.sms_consent), request, when, confirmed_new)
        values["prospect"] = prospect.id
        values["caller_name"] = values["caller_name"] or prospect.full_name


def record_call(form: CallForm, confirmed_new: bool = False,
                when: dt.datetime | None = None) -> CallRecord:
    """An incoming call in the register and on the caller's file; what was left unsatisfied
    stays on Today until dealt with the same day (TEL-08).

    Raises prospects.DuplicateFound when an unknown caller with a qualified request may be
    known already (nothing is written: the secretary picks the file or confirms)."""
    user = session.require("calls.write")
    when = when or clock.now()
    values = _clean_call(form, when)
    with database.atomic():
        # A patient's appointment is not a prospect's request: it is in her appointments.
        qualified = values["reason"] in rules.QUALIFIED_REQUESTS and not (
            form.request_recorded or (values["reason"] == "appointment" and values["patient"]))
        if qualified:
            _qualified_request(form, values, when, confirmed_new)
        call = CallRecord.create(**values, user=user.id)
        session.log("create", "call_record", call.id, audit.diff({}, values),
                    patient_id=call.patient_id)
        if form.message_ids:
            PhoneMessage.update(call=call.id).where(
                PhoneMessage.id.in_(list(form.message_ids)) & PhoneMessage.call.is_null()
            ).execute()
        if form.appointment_ids:
            Appointment.update(call=call.id).where(
                Appointment.id.in_(list(form.appointment_ids)) & Appointment.call.is_null()
            ).execute()
        if not qualified:
            _contact_on_file(call, user)
        if rules.left_open(call.outcome, call.phone):
            followup.schedule(SAME_DAY, CALL_SOURCE, call.id, call.started_at, call.patient_id,
                              call.site_id, when, prospect_id=call.prospect_id)
    return CallRecord.get_by_id(call.id)


@hooks.task_attempted.register
def log_outgoing(task: FollowUpTask, user: User, attempt_outcome: str, notes: str,
                 when: dt.datetime) -> CallRecord:
    """An outgoing follow-up call in the register; inside the engine's transaction."""
    phone = ""
    owner = (PatientPhone.select(PatientPhone.e164).where(PatientPhone.patient == task.patient_id)
             if task.patient_id else ProspectPhone.select(ProspectPhone.e164).where(
                 ProspectPhone.prospect == task.prospect_id) if task.prospect_id else None)
    if owner is not None:
        first = owner.order_by(1).first()
        phone = first.e164 if first else ""
    caller = ""
    if task.source_table == CALL_SOURCE:
        source = CallRecord.get_or_none(CallRecord.id == task.source_id)
        if source:
            phone, caller = phone or source.phone, source.caller_name
    outcome = rules.OUTGOING_OUTCOMES.get(attempt_outcome, rules.ANSWERED)
    call = CallRecord.create(direction="out", started_at=when, ended_at=when, user=user.id,
                             site=task.site_id, phone=phone, caller_name=caller,
                             patient=task.patient_id, prospect=task.prospect_id,
                             reason=task.rule, summary=notes,
                             outcome=outcome, task=task.id)
    if task.source_table == CALL_SOURCE and attempt_outcome == "reached":
        _resolve(task.source_id, notes or _("Called back."), user, when)
    return call


@hooks.task_closed.register
def after_call_back(task: FollowUpTask, outcome: str, user: User, when: dt.datetime) -> None:
    """The same-day task of a request ended (reached, declined, wrong number, unreachable):
    the request is dealt with as far as it can be, and says how. Inside the engine's
    transaction."""
    if task.source_table != CALL_SOURCE:
        return
    _resolve(task.source_id, followup.outcome_label(outcome), user, when)


def _resolve(call_id: int, resolution: str, user: User, when: dt.datetime) -> bool:
    done = (CallRecord.update(resolved_at=when, resolved_by=user.id, resolution=resolution)
            .where((CallRecord.id == call_id) & CallRecord.resolved_at.is_null()).execute())
    if done:
        session.log("update", "call_record", call_id,
                    audit.diff({"resolved_at": None, "resolution": ""},
                               {"resolved_at": when, "resolution": resolution}))
    return bool(done)


def resolve_call(call_id: int, resolution: str, when: dt.datetime | None = None) -> None:
    """An unsatisfied request dealt with (by a call back, an email, in person)."""
    user = session.require("calls.write")
    when = when or clock.now()
    errors: dict[str, str] = {}
    if not resolution.strip():
        errors["resolution"] = _("Write how the request was dealt with.")
    _text_limits(errors, {"resolution": (resolution, TEXT_MAX)})
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        call = CallRecord.get_by_id(call_id)
        if not rules.left_open(call.outcome, call.phone) or not _resolve(
                call_id, resolution.strip(), user, when):
            raise AlreadyDone(_("This call needs nothing more."))
        followup.settle_source(CALL_SOURCE, call_id, "resolved", when)


@dataclass(frozen=True)
class RegisterFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    site_id: int | None = None
    user_id: int | None = None
    outcome: str | None = None
    direction: str | None = None
    open_only: bool = False


def _register_condition(register_filter: RegisterFilter):
    condition = CallRecord.id > 0
    if register_filter.date_from:
        condition &= CallRecord.started_at >= dt.datetime.combine(register_filter.date_from,
                                                                  dt.time.min)
    if register_filter.date_to:
        condition &= CallRecord.started_at <= dt.datetime.combine(register_filter.date_to,
                                                                  dt.time.max)
    if register_filter.site_id is not None:
        condition &= CallRecord.site == register_filter.site_id
    if register_filter.user_id is not None:
        condition &= CallRecord.user == register_filter.user_id
    if register_filter.outcome:
        condition &= CallRecord.outcome == register_filter.outcome
    if register_filter.direction:
        condition &= CallRecord.direction == register_filter.direction
    if register_filter.open_only:
        condition &= (_left_open() & CallRecord.resolved_at.is_null()
                      & (CallRecord.direction == "in"))
    return condition


def _left_open():
    """`rules.left_open` as a condition on the register."""
    return (CallRecord.outcome.in_(list(rules.UNSATISFIED))
            | ((CallRecord.outcome == rules.LOST) & (CallRecord.phone != "")))


def register_ids(register_filter: RegisterFilter) -> list[int]:
    """The calls of the register, the latest first."""
    return [row[0] for row in CallRecord.select(CallRecord.id)
            .where(_register_condition(register_filter))
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).tuples()]


def register_counts(register_filter: RegisterFilter) -> dict[str, int]:
    """outcome -> calls, the outcome filter aside."""
    everything = RegisterFilter(register_filter.date_from, register_filter.date_to,
                                register_filter.site_id, register_filter.user_id, None,
                                register_filter.direction)
    return dict(CallRecord.select(CallRecord.outcome, fn.COUNT(CallRecord.id))
                .where(_register_condition(everything)).group_by(CallRecord.outcome).tuples())


@dataclass(frozen=True)
class RegisterRow:
    id: int
    direction: str
    started_at: dt.datetime
    duration_seconds: int
    hold_seconds: int
    secretary: str
    caller: str  # the file's name, else the name given
    phone: str
    patient_id: int | None
    prospect_id: int | None
    reason: str
    summary: str
    outcome: str
    open: bool  # unsatisfied and not dealt with yet
    resolution: str
    site: str


def register_rows(ids: Iterable[int]) -> dict[int, RegisterRow]:
    ids = list(ids)
    if not ids:
        return {}
    transferred = DirectoryEntry.alias()
    query = (CallRecord.select(CallRecord, User, Patient, Prospect, Site, transferred)
             .join(User, JOIN.LEFT_OUTER, on=CallRecord.user == User.id).switch(CallRecord)
             .join(Patient, JOIN.LEFT_OUTER).switch(CallRecord)
             .join(Prospect, JOIN.LEFT_OUTER).switch(CallRecord)
             .join(Site, JOIN.LEFT_OUTER).switch(CallRecord)
             .join(transferred, JOIN.LEFT_OUTER,
                   on=CallRecord.transferred_to == transferred.id)
             .where(CallRecord.id.in_(ids)))
    rows = {}
    for call in query:
        person = call.patient if call.patient_id else call.prospect if call.prospect_id else None
        caller = (list_name(person.last_name, person.first_names) if person
                  else call.caller_name)
        reason = (_(rules.REQUEST_TYPES[call.reason]) if call.reason in rules.REQUEST_TYPES
                  else followup.rule_label(call.reason) if call.reason in followup.rules.rules()
                  else call.reason)
        rows[call.id] = RegisterRow(
            call.id, call.direction, call.started_at, call.duration_seconds, call.hold_seconds,
            call.user.full_name if call.user_id else "", caller,
            phones.display(call.phone) if call.phone.startswith("+") else call.phone,
            call.patient_id, call.prospect_id, reason, call.summary, outcome_text(call),
            call.direction == "in" and rules.left_open(call.outcome, call.phone)
            and call.resolved_at is None, call.resolution, call.site.name if call.site_id else "")
    return rows


def register(register_filter: RegisterFilter) -> list[RegisterRow]:
    """Every row of the filter, in the register's order (for the PDF and the CSV)."""
    ids = register_ids(register_filter)
    rows: dict[int, RegisterRow] = {}
    for start in range(0, len(ids), 500):
        rows.update(register_rows(ids[start:start + 500]))
    return [rows[row_id] for row_id in ids]


def get_call(call_id: int) -> CallRecord:
    return CallRecord.get_by_id(call_id)


def calls_of(patient_id: int | None = None, prospect_id: int | None = None,
             limit: int = 50) -> list[CallRecord]:
    condition = (CallRecord.patient == patient_id) if patient_id else (
        CallRecord.prospect == prospect_id)
    return list(CallRecord.select().where(condition)
                .order_by(CallRecord.started_at.desc()).limit(limit))


def duration_text(seconds: int) -> str:
    minutes, seconds = divmod(max(0, int(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def register_csv(path, register_filter: RegisterFilter, separator: str | None = None) -> int:
    from nest_desktop.services.exports import write_csv

    session.require("patients.export")  # names and numbers of callers leave the application
    rows = register(register_filter)
    headers = [_("Date and time"), _("Direction"), _("Site"), _("Secretary"), _("Caller"),
               _("Phone"), _("Reason"), _("Summary"), _("Outcome"), _("Duration (s)"),
               _("Hold (s)"), _("Still open"), _("How it was dealt with")]
    written = write_csv(path, headers, (
        [row.started_at.strftime("%d/%m/%Y %H:%M"), _(rules.DIRECTIONS[row.direction]),
         row.site, row.secretary, row.caller, row.phone, row.reason, row.summary, row.outcome,
         row.duration_seconds, row.hold_seconds, _("yes") if row.open else _("no"),
         row.resolution] for row in rows), separator)
    session.log("export", "call_record", None, details=f"{len(rows)} calls")
    return written


# --- messages (TEL-04, TEL-07) -----------------------------------------------------------------

@dataclass(frozen=True)
class MessageForm:
    recipient_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    text: str = ""
    urgent: bool = False
    patient_id: int | None = None
    prospect_id: int | None = None
    site_id: int | None = None


def take_message(form: MessageForm, call_id: int | None = None,
                 when: dt.datetime | None = None) -> PhoneMessage:
    """A message for a service or a person; on Today until its delivery is confirmed."""
    user = session.require("calls.write")
    when = when or clock.now()
    errors: dict[str, str] = {}
    recipient = (DirectoryEntry.get_or_none(DirectoryEntry.id == form.recipient_id)
                 if form.recipient_id else None)
    if recipient is None:
        errors["recipient"] = _("Choose who the message is for.")
    if not form.caller_name.strip():
        errors["message_caller"] = _("Write who left the message.")
    if not form.text.strip():
        errors["message_text"] = _("Write the message.")
    phone = _phone_or_error(form.caller_phone, "message_phone", errors)
    _text_limits(errors, {"message_text": (form.text, TEXT_MAX),
                          "message_caller": (form.caller_name, 200)})
    if errors:
        raise ValidationFailed(errors)
    values = {"call": call_id, "site": form.site_id or recipient.site_id,
              "recipient": recipient.id, "recipient_name": recipient.name,
              "caller_name": " ".join(form.caller_name.split()), "caller_phone": phone,
              "patient": form.patient_id, "prospect": form.prospect_id,
              "text": form.text.strip(), "urgent": form.urgent, "taken_at": when}
    with database.atomic():
        message = PhoneMessage.create(**values, taken_by=user.id)
        session.log("create", "phone_message", message.id, audit.diff({}, values),
                    patient_id=form.patient_id)
        followup.schedule(SAME_DAY, MESSAGE_SOURCE, message.id, when, form.patient_id,
                          values["site"], when, prospect_id=form.prospect_id,
                          urgent=form.urgent)
    return message


@dataclass(frozen=True)
class UrgentMessage:
    id: int
    taken_at: dt.datetime
    caller: str
    text: str


def urgent_messages_for(user_id: int) -> list[UrgentMessage]:
    """The urgent messages still to pass on whose recipient this person reads: she is
    alerted on her desk."""
    query = (PhoneMessage.select(PhoneMessage.id, PhoneMessage.taken_at,
                                 PhoneMessage.caller_name, PhoneMessage.text)
             .join(DirectoryEntry, on=PhoneMessage.recipient == DirectoryEntry.id)
             .where(PhoneMessage.urgent & PhoneMessage.confirmed_at.is_null()
                    & (DirectoryEntry.user == user_id))
             .order_by(PhoneMessage.taken_at))
    return [UrgentMessage(*row) for row in query.tuples()]


def may_confirm(message: PhoneMessage, how: str) -> bool:
    user = session.current()
    if user is None:
        return False
    if how == "recipient":
        return bool(message.recipient_id) and message.recipient.user_id == user.id
    return session.may("calls.write")


def confirm_message(message_id: int, how: str, note: str = "",
                    when: dt.datetime | None = None) -> None:
    """The message reached the right person (TEL-07): confirmed by her, or by the secretary
    who delivered it."""
    when = when or clock.now()
    user = session.current()
    errors: dict[str, str] = {}
    if how not in rules.MESSAGE_CONFIRMATIONS:
        errors["confirmed_how"] = _("Say who confirms the delivery.")
    _text_limits(errors, {"confirmation_note": (note, 200)})
    if errors:
        raise ValidationFailed(errors)
    message = PhoneMessage.get_by_id(message_id)
    if how == "recipient" and not may_confirm(message, how):
        raise PermissionDenied(_("Only {name} confirms as the recipient.").format(
            name=message.recipient_name))
    if how == "secretary":
        user = session.require("calls.write")
    with database.atomic():
        done = (PhoneMessage.update(confirmed_at=when, confirmed_by=user.id, confirmed_how=how,
                                    confirmation_note=note.strip())
                .where((PhoneMessage.id == message_id) & PhoneMessage.confirmed_at.is_null())
                .execute())
        if not done:
            raise AlreadyDone(_("This message was already confirmed as delivered."))
        session.log("update", "phone_message", message_id,
                    audit.diff({"confirmed_at": None, "confirmed_how": ""},
                               {"confirmed_at": when, "confirmed_how": how}),
                    patient_id=message.patient_id)
        followup.settle_source(MESSAGE_SOURCE, message_id, "delivered", when)
        _contact(message.patient_id, message.prospect_id, "other", "internal",
                 _("Message delivered to {name}").format(name=message.recipient_name),
                 message.text, "", when, message.site_id, user)


def get_message(message_id: int) -> PhoneMessage:
    return PhoneMessage.get_by_id(message_id)


def messages(site_id: int | None = None, open_only: bool = True, for_user: int | None = None,
             day: dt.date | None = None) -> list[PhoneMessage]:
    """Messages, the urgent and oldest unconfirmed first; `for_user`: addressed to her."""
    query = PhoneMessage.select(PhoneMessage, DirectoryEntry).join(DirectoryEntry,
                                                                   JOIN.LEFT_OUTER)
    if site_id is not None:
        query = query.where(PhoneMessage.site == site_id)
    if open_only:
        query = query.where(PhoneMessage.confirmed_at.is_null())
    if for_user is not None:
        query = query.where(DirectoryEntry.user == for_user)
    if day is not None:
        query = query.where(PhoneMessage.taken_at.between(
            dt.datetime.combine(day, dt.time.min), dt.datetime.combine(day, dt.time.max)))
    return list(query.order_by(PhoneMessage.confirmed_at.is_null(False),
                               PhoneMessage.urgent.desc(), PhoneMessage.taken_at))


# --- the end of the day (TEL-08) ---------------------------------------------------------------

@dataclass(frozen=True)
class EndOfDay:
    day: dt.date
    calls: int
    open_calls: list[RegisterRow]
    open_messages: list[PhoneMessage]

    @property
    def all_dealt_with(self) -> bool:
        return not self.open_calls and not self.open_messages


def end_of_day(site_id: int | None, day: dt.date) -> EndOfDay:
    """What is still open on the evening of `day`: that day's and any earlier day's."""
    total = CallRecord.select().where(_register_condition(
        RegisterFilter(day, day, site_id))).count()
    open_calls = register(RegisterFilter(None, day, site_id, open_only=True))
    open_messages = [m for m in messages(site_id, open_only=True)
                     if m.taken_at.date() <= day]
    return EndOfDay(day, total, open_calls, open_messages)


# --- appointments (TEL-02, PAT-01) -------------------------------------------------------------

@dataclass(frozen=True)
class AppointmentForm:
    patient_id: int | None = None
    prospect_id: int | None = None
    site_id: int | None = None
    service_id: int | None = None
    day: str = ""
    time: str = ""
    duration_minutes: int = 30
    reason: str = ""
    kind: str = ""
    # Why it is booked though outside the hours or over another appointment (confirmed).
    override_reason: str = ""


class ConfirmationNeeded(ValidationFailed):
    """The booking meets the agenda's limits (closed, outside the hours, the practitioner
    busy): booked only with the reason the secretary confirms it for."""

    def __init__(self, warnings: list[str]):
        super().__init__({"override": " ".join(warnings)})
        self.warnings = warnings


def _clean_appointment(form: AppointmentForm, when: dt.datetime,
                       exclude_id: int | None = None) -> dict:
    errors: dict[str, str] = {}
    if not form.patient_id and not form.prospect_id:
        errors["person"] = _("Choose who the appointment is for.")
    service = (DirectoryEntry.get_or_none(DirectoryEntry.id == form.service_id)
               if form.service_id else None)
    if service is None:
        errors["service"] = _("Choose the service or the practitioner.")
    day = start_time = None
    try:
        day = parse_date(form.day, when.date())
    except ValueError as error:
        errors["day"] = str(error)
    try:
        start_time = parse_time(form.time)
    except ValueError as error:
        errors["time"] = str(error)
    if form.kind and form.kind not in agenda_rules.APPOINTMENT_KINDS:
        errors["kind"] = _("Choose what the appointment is for from the list.")
    _text_limits(errors, {"reason": (form.reason, 200),
                          "override": (form.override_reason, 200)})
    starts_at = None
    if day and start_time:
        starts_at = dt.datetime.combine(day, start_time)
        problems = rules.appointment_problem(starts_at, form.duration_minutes, when)
        if "starts_at" in problems:
            errors["day"] = problems["starts_at"]
        if "duration" in problems:
            errors["duration"] = problems["duration"]
    if not errors:
        person = ((Appointment.patient == form.patient_id) if form.patient_id
                  else (Appointment.prospect == form.prospect_id))
        same_day = (Appointment.select().where(
            person & (Appointment.status == "booked") & (Appointment.id != (exclude_id or 0))
            & Appointment.starts_at.between(starts_at - dt.timedelta(hours=12),
                                            starts_at + dt.timedelta(hours=12))))
        for other in same_day:
            if rules.overlaps(starts_at, form.duration_minutes, other.starts_at,
                              other.duration_minutes):
                errors["time"] = _("She already has an appointment at {time}.").format(
                    time=other.starts_at.strftime("%H:%M"))
                break
    if errors:
        raise ValidationFailed(errors)
    site_id = form.site_id or service.site_id
    warnings = agenda.booking_warnings(site_id, service.id, starts_at, form.duration_minutes,
                                       exclude_id)
    override = " ".join(form.override_reason.split()) if warnings else ""
    if warnings and not override:
        raise ConfirmationNeeded(warnings)
    return {"patient": form.patient_id or None,
            "prospect": None if form.patient_id else form.prospect_id,
            "site": site_id, "service": service.id,
            "starts_at": starts_at, "duration_minutes": form.duration_minutes,
            "reason": " ".join(form.reason.split()), "kind": form.kind,
            "override_reason": override}


def _hold_person(patient_id: int | None, prospect_id: int | None) -> None:
    """Inside the booking's transaction: the person's row is held until the commit."""
    model, person_id = (Patient, patient_id) if patient_id else (Prospect, prospect_id)
    if person_id:
        hold_rows(model, [person_id])


def _log_appointment(action: str, appointment_id: int, changes: dict,
                     patient_id: int | None) -> None:
    session.log(action, "appointment", appointment_id, changes, patient_id=patient_id)


def book(form: AppointmentForm, call_id: int | None = None,
         when: dt.datetime | None = None) -> Appointment:
    user = session.require("calls.write")
    when = when or clock.now()
    with database.atomic():
        # checked inside the transaction, the person held: two desks booking her at the
        # same moment cannot both pass the check
        _hold_person(form.patient_id, form.prospect_id)
        values = _clean_appointment(form, when)
        appointment = Appointment.create(**values, call=call_id, booked_by=user.id,
                                         booked_at=when, updated_at=when)
        _log_appointment("create", appointment.id, audit.diff({}, values), values["patient"])
        if values["prospect"]:
            _answer_appointment_request(appointment, when)
        _rebooked(values["patient"], values["prospect"], when)
        sms.sync_appointment(appointment.id, when)
    return Appointment.get_by_id(appointment.id)


def _answer_appointment_request(appointment: Appointment, when: dt.datetime) -> None:
    """A prospect's appointment request is answered by the appointment itself (PRO-06: no
    callback follows)."""
    from nest_desktop.db.models import ProspectRequest
    from nest_desktop.services.prospects import answer_request

    pending = (ProspectRequest.select()
               .where((ProspectRequest.prospect == appointment.prospect_id)
                      & (ProspectRequest.qualification == "appointment")
                      & ProspectRequest.answered_at.is_null())
               .order_by(ProspectRequest.received_at.desc()).first())
    if pending is not None:
        answer_request(pending.id, _("Appointment booked: {when} — {service}").format(
            when=appointment.starts_at.strftime("%d/%m/%Y %H:%M"),
            service=appointment.service.name if appointment.service_id else ""), when)


def _booked_for_update(appointment_id: int, expected_version: int) -> Appointment:
    from nest_desktop.services import StaleRecordError

    claimed = (Appointment.update(version=Appointment.version + 1)
               .where((Appointment.id == appointment_id)
                      & (Appointment.version == expected_version)).execute())
    appointment = Appointment.get_by_id(appointment_id)
    if not claimed:
        raise StaleRecordError(_("This appointment was changed on another workstation: "
                                 "look at it again."))
    if appointment.status != "booked":
        raise AlreadyDone(_("This appointment is {status} already.").format(
            status=_(rules.APPOINTMENT_STATUSES[appointment.status]).lower()))
    return appointment


def move(appointment_id: int, expected_version: int, form: AppointmentForm,
         when: dt.datetime | None = None) -> Appointment:
    """Another day, time, service or reason for a booked appointment."""
    session.require("calls.write")
    when = when or clock.now()
    with database.atomic():
        current = Appointment.get_by_id(appointment_id)
        form = replace(form, patient_id=current.patient_id, prospect_id=current.prospect_id)
        _hold_person(form.patient_id, form.prospect_id)
        values = _clean_appointment(form, when, exclude_id=appointment_id)
        appointment = _booked_for_update(appointment_id, expected_version)
        old = {"starts_at": appointment.starts_at, "service": appointment.service_id,
               "site": appointment.site_id, "duration_minutes": appointment.duration_minutes,
               "reason": appointment.reason, "kind": appointment.kind,
               "override_reason": appointment.override_reason}
        changes = {key: values[key] for key in old}
        Appointment.update(**changes, updated_at=when).where(
            Appointment.id == appointment_id).execute()
        _log_appointment("update", appointment_id, audit.diff(old, changes),
                         appointment.patient_id)
        sms.sync_appointment(appointment_id, when)
    return Appointment.get_by_id(appointment_id)


def cancel(appointment_id: int, expected_version: int, reason: str,
           when: dt.datetime | None = None) -> None:
    session.require("calls.write")
    when = when or clock.now()
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["cancel_reason"] = _("Write why the appointment is cancelled.")
    _text_limits(errors, {"cancel_reason": (reason, 200)})
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        appointment = _booked_for_update(appointment_id, expected_version)
        Appointment.update(status="cancelled", cancel_reason=reason.strip(),
                           updated_at=when).where(Appointment.id == appointment_id).execute()
        _log_appointment("update", appointment_id,
                         {"status": ["booked", "cancelled"], "cancel_reason": ["", reason]},
                         appointment.patient_id)
        sms.sync_appointment(appointment_id, when)


def mark(appointment_id: int, expected_version: int, status: str,
         when: dt.datetime | None = None) -> Appointment:
    """Attended (the patient's visit: her first one starts the 72-hour call, PAT-03) or
    missed."""
    session.require("calls.write")
    when = when or clock.now()
    if status not in ("attended", "missed"):
        raise ValueError(f"not an outcome of an appointment: {status}")
    with database.atomic():
        appointment = _booked_for_update(appointment_id, expected_version)
        if appointment.starts_at.date() > when.date():
            raise ValidationFailed({"status": _("This appointment is still to come.")})
        if status == "attended" and not appointment.patient_id:
            raise ValidationFailed({"status": _(
                "She is still a prospect: make her a patient (intake) first, then mark the "
                "appointment attended.")})
        seen = {"seen_at": when} if status == "attended" else {}
        Appointment.update(status=status, updated_at=when, **seen).where(
            Appointment.id == appointment_id).execute()
        _log_appointment("update", appointment_id, {"status": ["booked", status],
                                                    **audit.diff({}, seen)},
                         appointment.patient_id)
        sms.sync_appointment(appointment_id, when)
        if status == "attended":
            _visit(appointment, when)
        else:
            _schedule_rebooking(Appointment.get_by_id(appointment_id), when)
    return Appointment.get_by_id(appointment_id)


def arrive(appointment_id: int, expected_version: int,
           when: dt.datetime | None = None) -> Appointment:
    """She is in the waiting room: her arrival time starts her waiting time."""
    session.require("calls.write")
    when = when or clock.now()
    with database.atomic():
        appointment = _booked_for_update(appointment_id, expected_version)
        if appointment.starts_at.date() != when.date():
            raise ValidationFailed({"status": _(
                "She can arrive only on the day of her appointment.")})
        if appointment.arrived_at is not None:
            raise AlreadyDone(_("Her arrival was recorded at {time}.").format(
                time=appointment.arrived_at.strftime("%H:%M")))
        Appointment.update(arrived_at=when, updated_at=when).where(
            Appointment.id == appointment_id).execute()
        _log_appointment("update", appointment_id, audit.diff({"arrived_at": None},
                                                              {"arrived_at": when}),
                         appointment.patient_id)
    return Appointment.get_by_id(appointment_id)


def _schedule_rebooking(appointment: Appointment, when: dt.datetime) -> None:
    """A missed appointment makes a call to offer another (on Today), unless she booked
    again meanwhile."""
    if _booked_after(appointment, appointment.updated_at):
        return
    followup.schedule(REBOOK, APPOINTMENT_SOURCE, appointment.id, appointment.updated_at,
                      appointment.patient_id, appointment.site_id, when,
                      prospect_id=appointment.prospect_id)


def _booked_after(appointment: Appointment, moment: dt.datetime) -> bool:
    person = ((Appointment.patient == appointment.patient_id) if appointment.patient_id
              else (Appointment.prospect == appointment.prospect_id))
    return Appointment.select().where(person & (Appointment.status == "booked")
                                      & (Appointment.booked_at >= moment)).exists()


def _rebooked(patient_id: int | None, prospect_id: int | None, when: dt.datetime) -> None:
    """A new appointment answers the calls to rebook the ones she missed."""
    person = ((Appointment.patient == patient_id) if patient_id
              else (Appointment.prospect == prospect_id))
    missed = [row[0] for row in Appointment.select(Appointment.id).where(
        person & (Appointment.status == "missed")).tuples()]
    open_ids = [row[0] for row in FollowUpTask.select(FollowUpTask.source_id).where(
        (FollowUpTask.rule == REBOOK) & (FollowUpTask.source_table == APPOINTMENT_SOURCE)
        & FollowUpTask.source_id.in_(missed) & (FollowUpTask.status == followup.OPEN)).tuples()]
    for appointment_id in open_ids:
        followup.settle_source(APPOINTMENT_SOURCE, appointment_id, "rebooked", when)


def _visit(appointment: Appointment, when: dt.datetime) -> None:
    """The attended appointment is a visit; the earliest is her first visit."""
    patient = Patient.get_by_id(appointment.patient_id)
    visit_day = appointment.starts_at.date()
    # her real moment: taken in from the waiting room, else the appointment's time
    visit_at = when if appointment.arrived_at is not None else appointment.starts_at
    if patient.first_visit_date is None or visit_day < patient.first_visit_date or (
            visit_day == patient.first_visit_date and patient.first_visit_at is None):
        Patient.update(first_visit_date=visit_day, first_visit_at=visit_at, updated_at=when,
                       version=Patient.version + 1).where(Patient.id == patient.id).execute()
        session.log("update", "patient", patient.id,
                    audit.diff({"first_visit_date": patient.first_visit_date},
                               {"first_visit_date": visit_day}), patient_id=patient.id)
        followup.sync_patient(Patient.get_by_id(patient.id), when)
    _contact(patient.id, None, "visit", "incoming", _("Appointment attended: {service}").format(
        service=appointment.service.name if appointment.service_id else ""),
        appointment.reason, "", appointment.starts_at, appointment.site_id, session.current())


@dataclass(frozen=True)
class AppointmentRow:
    id: int
    starts_at: dt.datetime
    duration_minutes: int
    person: str
    phone: str
    patient_id: int | None
    prospect_id: int | None
    service_id: int | None
    service: str
    reason: str
    status: str
    version: int
    site: str
    kind: str = ""
    arrived_at: dt.datetime | None = None
    seen_at: dt.datetime | None = None
    override_reason: str = ""
    site_id: int | None = None

    def waited_minutes(self, now: dt.datetime) -> int | None:
        """Her waiting time: so far while she waits, until she was seen after."""
        if self.arrived_at is None:
            return None
        return agenda_rules.waiting_minutes(self.arrived_at, self.seen_at, now)


def _appointment_rows(query) -> list[AppointmentRow]:
    appointments = list(query)
    phone_of: dict[tuple[str, int], str] = {}
    patient_ids = [a.patient_id for a in appointments if a.patient_id]
    for owner, e164 in (PatientPhone.select(PatientPhone.patient, PatientPhone.e164)
                        .where(PatientPhone.patient.in_(patient_ids))
                        .order_by(PatientPhone.position.desc()).tuples()):
        phone_of[(PATIENT, owner)] = phones.display(e164)
    prospect_ids = [a.prospect_id for a in appointments if a.prospect_id]
    for owner, e164 in (ProspectPhone.select(ProspectPhone.prospect, ProspectPhone.e164)
                        .where(ProspectPhone.prospect.in_(prospect_ids))
                        .order_by(ProspectPhone.position.desc()).tuples()):
        phone_of[(PROSPECT, owner)] = phones.display(e164)
    rows = []
    for a in appointments:
        person = a.patient if a.patient_id else a.prospect
        key = (PATIENT, a.patient_id) if a.patient_id else (PROSPECT, a.prospect_id)
        name = list_name(person.last_name, person.first_names)
        if a.prospect_id:
            name += " " + _("(prospect)")
        rows.append(AppointmentRow(a.id, a.starts_at, a.duration_minutes, name,
                                   phone_of.get(key, ""), a.patient_id, a.prospect_id,
                                   a.service_id, a.service.name if a.service_id else "",
                                   a.reason, a.status, a.version,
                                   a.site.name if a.site_id else "", a.kind, a.arrived_at,
                                   a.seen_at, a.override_reason, a.site_id))
    return rows


def _appointment_query():
    return (Appointment.select(Appointment, Patient, Prospect, DirectoryEntry, Site)
            .join(Patient, JOIN.LEFT_OUTER).switch(Appointment)
            .join(Prospect, JOIN.LEFT_OUTER).switch(Appointment)
            .join(DirectoryEntry, JOIN.LEFT_OUTER).switch(Appointment)
            .join(Site, JOIN.LEFT_OUTER))


def appointments_between(first_day: dt.date, last_day: dt.date, site_id: int | None = None,
                         service_id: int | None = None, with_cancelled: bool = False
                         ) -> list[AppointmentRow]:
    """The appointments of a day or a week, by time."""
    query = _appointment_query().where(Appointment.starts_at.between(
        dt.datetime.combine(first_day, dt.time.min), dt.datetime.combine(last_day, dt.time.max)))
    if site_id is not None:
        query = query.where(Appointment.site == site_id)
    if service_id is not None:  # the service's and its practitioners'
        query = query.where(Appointment.service.in_(with_practitioners(service_id)))
    if not with_cancelled:
        query = query.where(Appointment.status != "cancelled")
    return _appointment_rows(query.order_by(Appointment.starts_at, Appointment.id))


def waiting_room(site_id: int | None, day: dt.date) -> list[AppointmentRow]:
    """The day's arrivals, in the order they came: those still waiting, then those seen."""
    query = _appointment_query().where(
        Appointment.starts_at.between(dt.datetime.combine(day, dt.time.min),
                                      dt.datetime.combine(day, dt.time.max))
        & Appointment.arrived_at.is_null(False) & (Appointment.status != "cancelled"))
    if site_id is not None:
        query = query.where(Appointment.site == site_id)
    rows = _appointment_rows(query.order_by(Appointment.arrived_at, Appointment.id))
    return sorted(rows, key=lambda row: row.status != "booked")


def appointments_of(patient_id: int | None = None, prospect_id: int | None = None
                    ) -> list[AppointmentRow]:
    """A person's appointments, the latest first."""
    condition = (Appointment.patient == patient_id) if patient_id else (
        Appointment.prospect == prospect_id)
    return _appointment_rows(_appointment_query().where(condition)
                             .order_by(Appointment.starts_at.desc()))


def get_appointment(appointment_id: int) -> Appointment:
    return Appointment.get_by_id(appointment_id)


@hooks.prospect_records_moved.register
def move_prospect_records(from_prospect: int, patient_id: int | None = None,
                          prospect_id: int | None = None) -> None:
    """A prospect became a patient (`patient_id`), or was merged into another
    (`prospect_id`): her appointments, calls, messages and same-day tasks follow. Inside the
    caller's transaction."""
    if patient_id is not None:
        moved = [row[0] for row in Appointment.select(Appointment.id).where(
            Appointment.prospect == from_prospect).tuples()]
        Appointment.update(patient=patient_id, prospect=None).where(
            Appointment.id.in_(moved)).execute()
        for appointment_id in moved:  # as a patient, her consent to SMS now counts
            sms.sync_appointment(appointment_id)
        for model in (CallRecord, PhoneMessage):
            model.update(patient=patient_id).where(
                (model.prospect == from_prospect) & model.patient.is_null()).execute()
        FollowUpTask.update(patient=patient_id).where(
            (FollowUpTask.prospect == from_prospect) & (FollowUpTask.rule == SAME_DAY)
            & FollowUpTask.patient.is_null()).execute()
        # her SMS history goes on her file
        SmsMessage.update(patient=patient_id, prospect=None).where(
            SmsMessage.prospect == from_prospect).execute()
    elif prospect_id is not None:
        moved = [row[0] for row in Appointment.select(Appointment.id).where(
            Appointment.prospect == from_prospect).tuples()]
        for model in (Appointment, CallRecord, PhoneMessage, SmsMessage):
            model.update(prospect=prospect_id).where(model.prospect == from_prospect).execute()
        for appointment_id in moved:  # the kept file's consent and number now count
            sms.sync_appointment(appointment_id)


# --- the follow-up engine's view ---------------------------------------------------------------

def appointment_placeholders(appointment_id: int) -> dict[str, str]:
    """'{appointment}' in a call's script: 'on Tuesday 8 December 2026 at 10:00 (Pédiatrie)'."""
    appointment = Appointment.get_or_none(Appointment.id == appointment_id)
    if appointment is None:
        return {}
    said = _("on {day} at {time}").format(day=format_date(appointment.starts_at.date(), "full"),
                                          time=appointment.starts_at.strftime("%H:%M"))
    if appointment.service_id:
        said += f" ({appointment.service.name})"
    return {"{appointment}": said}


hooks.call_sheet_placeholders.register(APPOINTMENT_SOURCE, appointment_placeholders)


@hooks.task_callers.register
def callers_of(sources: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """(table, id) of calls and messages -> the caller's name and phone as she gave them."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    call_ids = [source_id for table, source_id in sources if table == CALL_SOURCE]
    message_ids = [source_id for table, source_id in sources if table == MESSAGE_SOURCE]
    for call_id, name, phone in (CallRecord.select(CallRecord.id, CallRecord.caller_name,
                                                   CallRecord.phone)
                                 .where(CallRecord.id.in_(call_ids)).tuples()):
        found[(CALL_SOURCE, call_id)] = (name, phones.display(phone) if phone else "")
    for message_id, name, phone in (PhoneMessage.select(PhoneMessage.id,
                                                        PhoneMessage.caller_name,
                                                        PhoneMessage.caller_phone)
                                    .where(PhoneMessage.id.in_(message_ids)).tuples()):
        found[(MESSAGE_SOURCE, message_id)] = (name, phones.display(phone) if phone else "")
    return found


@hooks.task_events.register
def reception_events(when: dt.datetime, window: dt.timedelta) -> list:
    """Unsatisfied calls and unconfirmed messages, recent enough: each makes a same-day
    task (run again at start-up, they never make a second one)."""
    since = when - window
    events = [followup.Event(SAME_DAY, CALL_SOURCE, call_id, started, patient_id, site_id,
                             prospect_id=prospect_id)
              for call_id, started, patient_id, prospect_id, site_id in
              CallRecord.select(CallRecord.id, CallRecord.started_at, CallRecord.patient,
                                CallRecord.prospect, CallRecord.site)
              .where((CallRecord.started_at >= since) & (CallRecord.direction == "in")
                     & _left_open() & CallRecord.resolved_at.is_null()).tuples()]
    events += [followup.Event(SAME_DAY, MESSAGE_SOURCE, message_id, taken, patient_id, site_id,
                              prospect_id=prospect_id, urgent=urgent)
               for message_id, taken, patient_id, prospect_id, site_id, urgent in
               PhoneMessage.select(PhoneMessage.id, PhoneMessage.taken_at, PhoneMessage.patient,
                                   PhoneMessage.prospect, PhoneMessage.site,
                                   PhoneMessage.urgent)
               .where((PhoneMessage.taken_at >= since)
                      & PhoneMessage.confirmed_at.is_null()).tuples()]
    events += [followup.Event(REBOOK, APPOINTMENT_SOURCE, appointment.id, appointment.updated_at,
                              appointment.patient_id, appointment.site_id,
                              prospect_id=appointment.prospect_id)
               for appointment in Appointment.select().where(
                   (Appointment.status == "missed") & (Appointment.updated_at >= since))
               if not _booked_after(appointment, appointment.updated_at)]
    return events
