"""Prospects (procedure PO06-PR0001): the qualified prospect's file and requests, the
duplicate check before any creation, the callbacks and the one-month conversion review."""

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from peewee import JOIN, fn

from nest_desktop.db.bulk import RepeatedInsert
from nest_desktop.db.models import (
    FollowUpTask,
    Interaction,
    Patient,
    PatientPhone,
    Prospect,
    ProspectInteraction,
    ProspectPhone,
    ProspectRequest,
    ProspectSearchToken,
    Site,
    User,
    database,
)
from nest_desktop.domain import clock, phones
from nest_desktop.domain import patients as patient_rules
from nest_desktop.domain import prospects as rules
from nest_desktop.domain.dates import entry_text, parse_date
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import clean_name, fill_in, fold, list_name, shown_name, words
from nest_desktop.i18n import format_date, format_number
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    audit,
    check_characters,
    followup,
    hooks,
    people,
    session,
    settings,
)

TEXT_MAX = 2000
REVIEW_RULE, CALLBACK_RULE = "conversion_review", "prospect_callback"


class DuplicateFound(RuntimeError):
    """The person may already be a patient or a prospect: nothing was created."""

    def __init__(self, candidates: list[patient_rules.DuplicateCandidate]):
        super().__init__(_("This person may already be known: nothing was created."))
        self.candidates = candidates


@dataclass
class ProspectForm:
    """A prospect's file as typed."""

    last_name: str = ""
    first_names: str = ""
    birth_date: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    site_id: int | None = None
    channel: str = "phone"
    owner_id: int | None = None
    notes: str = ""
    sms_consent: bool = False  # her appointments are reminded by SMS
    newsletter_consent: bool = False  # NEST's news, offers and monthly newsletters
    # a lead with a phone and no name: kept so until a name is typed on her file
    name_to_complete: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}".strip()


@dataclass
class RequestForm:
    """What she asks (PRO-02), and the answer when it was given at once."""

    qualification: str = ""
    text: str = ""
    answer: str = ""
    source: str = ""  # a lead export's form and ad, as Meta names them


def _long_text(errors: dict[str, str], **texts: str) -> None:
    for name, text in texts.items():
        if len(text or "") > TEXT_MAX and name not in errors:
            errors[name] = _("At most {count} characters.").format(count=TEXT_MAX)
    check_characters(errors, **texts)


def clean(form: ProspectForm, today: dt.date | None = None) -> tuple[dict, list[str]]:
    """The values to store and the phones in E.164; ValidationFailed with a message per
    field."""
    today = today or clock.today()
    errors: dict[str, str] = {}
    nameless = form.name_to_complete and not (form.last_name.strip()
                                              or form.first_names.strip())
    message = None if nameless else patient_rules.validate_name(form.last_name)
    if message:
        errors["last_name"] = message
    message = patient_rules.validate_name(form.first_names, required=False)
    if message:
        errors["first_names"] = message
    birth_date = None
    if form.birth_date.strip():
        try:
            birth_date = parse_date(form.birth_date)
            message = patient_rules.validate_birth_date(birth_date, today)
            if message:
                errors["birth_date"] = message
        except ValueError as error:
            errors["birth_date"] = str(error)
    numbers = people.clean_phones(form.phones, errors)
    message = patient_rules.validate_email(form.email)
    if message:
        errors["email"] = message
    if not numbers and not form.email.strip() and not any(
            key.startswith("phone_") or key == "email" for key in errors):
        errors["phone_0"] = _("Give a phone number or an email: without them nobody can "
                              "answer her or call her back.")
    if form.channel not in rules.CHANNELS:
        errors["channel"] = _("Choose how she contacted NEST.")
    check_characters(errors, last_name=form.last_name, first_names=form.first_names,
                     email=form.email)
    _long_text(errors, notes=form.notes)
    if errors:
        raise ValidationFailed(errors)
    last_name, first_names = clean_name(form.last_name), clean_name(form.first_names)
    return {"last_name": last_name, "first_names": first_names,
            "sort_key": f"{fold(last_name)} {fold(first_names)}".strip(),
            "birth_date": birth_date, "email": form.email.strip(), "site": form.site_id,
            "channel": form.channel, "owner": form.owner_id,
            "notes": form.notes.strip(), "sms_consent": bool(form.sms_consent),
            "newsletter_consent": bool(form.newsletter_consent),
            "name_to_complete": nameless}, numbers


def clean_request(request: RequestForm) -> None:
    errors: dict[str, str] = {}
    if request.qualification not in rules.QUALIFICATIONS:
        errors["qualification"] = _(
            "Only qualified requests are recorded: an appointment, a quote or prices, or "
            "information on the NEST programme. Answer other questions without creating a "
            "prospect.")
    _long_text(errors, request=request.text, answer=request.answer)
    if errors:
        raise ValidationFailed(errors)


def _check_channel_rights(channel: str) -> User:
    """Anyone at the desk records calls and visits; written requests (email, website form)
    are centralised by the prospect manager (PRO-04)."""
    user = session.require("prospects.write")
    if channel in rules.WRITTEN_CHANNELS:
        session.require("prospects.create_written")
    return user


def duplicates_of(form: ProspectForm, exclude_prospect_id: int | None = None
                  ) -> list[patient_rules.DuplicateCandidate]:
    """Patients and prospects who may already be this person (PRO-05)."""
    return people.existing_people(
        form.full_name, people.typed_date(form.birth_date), people.typed_phones(form.phones),
        exclude=(people.PROSPECT, exclude_prospect_id) if exclude_prospect_id else None)


def _phone_and_token_rows(prospect_id: int, numbers: list[str], last_name: str,
                          first_names: str) -> tuple[list[dict], list[dict]]:
    """Her phones (searched by their digits) and the folded words of her names."""
    return ([{"prospect": prospect_id, "e164": number,
              "national_digits": phones.national_digits(number), "position": position}
             for position, number in enumerate(numbers)],
            [{"prospect": prospect_id, "token": token[:100]}
             for token in words(f"{last_name} {first_names}")])


def _write_phones_and_tokens(prospect_id: int, numbers: list[str], last_name: str,
                             first_names: str) -> None:
    ProspectPhone.delete().where(ProspectPhone.prospect == prospect_id).execute()
    ProspectSearchToken.delete().where(ProspectSearchToken.prospect == prospect_id).execute()
    phone_rows, token_rows = _phone_and_token_rows(prospect_id, numbers, last_name,
                                                   first_names)
    if phone_rows:
        ProspectPhone.insert_many(phone_rows).execute()
    if token_rows:
        ProspectSearchToken.insert_many(token_rows).execute()


def _log(action: str, prospect_id: int, changes: dict, details: str = "") -> None:
    session.log(action, "prospect", prospect_id, changes, details=details)


def add_prospect_interaction(prospect_id: int, channel: str, direction: str, subject: str,
                             notes: str = "", outcome: str = "",
                             when: dt.datetime | None = None, site_id: int | None = None,
                             user: User | None = None) -> ProspectInteraction:
    """A contact on the prospect's timeline; inside the caller's transaction."""
    user = user or session.current()
    values = {"prospect": prospect_id, "user": user.id if user else None, "channel": channel,
              "direction": direction, "subject": subject[:200], "notes": notes,
              "outcome": outcome[:200], "occurred_at": when or clock.now(), "site": site_id}
    interaction = ProspectInteraction.create(**values)
    session.log("create", "prospect_interaction", interaction.id, audit.diff({}, values))
    return interaction


def record_contact(prospect_id: int, channel: str, direction: str, subject: str,
                   notes: str = "", outcome: str = "") -> ProspectInteraction:
    """A contact typed on the prospect's file."""
    session.require("prospects.write")
    errors = {}
    if not subject.strip():
        errors["subject"] = _("Write what the contact was about.")
    elif len(subject.strip()) > 200 or len(outcome.strip()) > 200:
        errors["subject"] = _("The subject and the outcome have at most 200 characters.")
    if channel not in patient_rules.INTERACTION_CHANNELS:
        errors["channel"] = _("Choose a channel from the list.")
    if direction not in patient_rules.INTERACTION_DIRECTIONS:
        errors["direction"] = _("Choose a direction from the list.")
    _long_text(errors, notes=notes, subject=subject + outcome)
    if errors:
        raise ValidationFailed(errors)
    prospect = Prospect.get_by_id(prospect_id)
    with database.atomic():
        return add_prospect_interaction(prospect_id, channel, direction, subject.strip(),
                                        notes.strip(), outcome.strip(), site_id=prospect.site_id)


def _request_subject(qualification: str, text: str) -> str:
    label = _(rules.QUALIFICATIONS[qualification])
    return (f"{label}: {text}" if text else label)[:200]


def _create_request(request: RequestForm, channel: str, when: dt.datetime, user: User,
                    site_id: int | None, prospect_id: int | None = None,
                    patient_id: int | None = None) -> ProspectRequest:
    """The request, its contact on the file, and its answer when given at once."""
    row = ProspectRequest.create(prospect=prospect_id, patient=patient_id,
                                 qualification=request.qualification, channel=channel,
                                 received_at=when, text=request.text.strip(),
                                 source=request.source.strip(), site=site_id,
                                 created_by=user.id)
    session.log("create", "prospect_request", row.id, audit.diff({}, {
        "prospect": prospect_id, "patient": patient_id, "qualification": row.qualification,
        "channel": channel, "text": row.text, "source": row.source}), patient_id=patient_id)
    subject = _request_subject(request.qualification, row.text)
    contact_channel = channel if channel in patient_rules.INTERACTION_CHANNELS else "other"
    if patient_id:
        # A patient's request goes on her file (PRO-03).
        values = {"patient": patient_id, "user": user.id, "channel": contact_channel,
                  "direction": "incoming", "subject": subject, "occurred_at": when,
                  "site": site_id, "notes": "", "outcome": ""}
        interaction = Interaction.create(**values)
        session.log("create", "interaction", interaction.id, audit.diff({}, values),
                    patient_id=patient_id)
    else:
        add_prospect_interaction(prospect_id, contact_channel, "incoming", subject,
                                 when=when, site_id=site_id, user=user)
    if request.answer.strip():
        _answer(row, request.answer.strip(), when, user)
    return row


def create_prospect(form: ProspectForm, request: RequestForm, when: dt.datetime | None = None,
                    confirmed_new: bool = False) -> Prospect:
    """A new qualified prospect with her first request.

    Refused with DuplicateFound when she may already be a patient or a prospect, unless the
    secretary checked the candidates and confirmed she is someone else."""
    user = _check_channel_rights(form.channel)
    when = when or clock.now()
    errors: dict[str, str] = {}
    try:
        values, numbers = clean(form, when.date())
    except ValidationFailed as failed:
        errors.update(failed.errors)
    try:
        clean_request(request)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        if not confirmed_new:
            candidates = duplicates_of(form)
            if candidates:
                raise DuplicateFound(candidates)
        prospect = Prospect.create(**values, qualification=request.qualification,
                                   status=rules.NEW, created_at=when, updated_at=when,
                                   created_by=user.id)
        _write_phones_and_tokens(prospect.id, numbers, values["last_name"],
                                 values["first_names"])
        shown = {**values, "phones": numbers, "qualification": request.qualification}
        shown.pop("sort_key")
        _log("create", prospect.id, audit.diff({}, shown),
             details=_("confirmed as a new person") if confirmed_new else "")
        _create_request(request, form.channel, when, user, values["site"],
                        prospect_id=prospect.id)
        followup.schedule(REVIEW_RULE, "prospect", prospect.id, when, None, values["site"],
                          when, prospect_id=prospect.id)
    return Prospect.get_by_id(prospect.id)


def add_request(kind: str, record_id: int, request: RequestForm, channel: str,
                when: dt.datetime | None = None) -> ProspectRequest:
    """A request from someone already known goes on her file: the patient's when she is one
    (PRO-03, PRO-05), else the prospect's. No second record is made."""
    user = _check_channel_rights(channel)
    when = when or clock.now()
    clean_request(request)
    if channel not in rules.CHANNELS:
        raise ValidationFailed({"channel": _("Choose how she contacted NEST.")})
    with database.atomic():
        if kind == people.PATIENT:
            patient = Patient.get_by_id(record_id)
            return _create_request(request, channel, when, user, patient.site_id,
                                   patient_id=record_id)
        prospect = Prospect.get_by_id(record_id)
        if prospect.status != rules.CONVERTED:
            _set_status(prospect, rules.NEW, when)  # a request to answer (the answer follows)
        return _create_request(request, channel, when, user, prospect.site_id,
                               prospect_id=record_id)


def _set_status(prospect: Prospect, status: str, when: dt.datetime, reason: str = "") -> None:
    if prospect.status == status and prospect.lost_reason == reason:
        return
    Prospect.update(status=status, lost_reason=reason, updated_at=when,
                    version=Prospect.version + 1).where(Prospect.id == prospect.id).execute()
    _log("update", prospect.id, audit.diff(
        {"status": prospect.status, "lost_reason": prospect.lost_reason},
        {"status": status, "lost_reason": reason}))
    prospect.status, prospect.lost_reason = status, reason


def _answer(row: ProspectRequest, answer: str, when: dt.datetime, user: User) -> None:
    old = {"answer": row.answer, "answered_at": row.answered_at}
    ProspectRequest.update(answer=answer, answered_at=when, answered_by=user.id).where(
        ProspectRequest.id == row.id).execute()
    session.log("update", "prospect_request", row.id,
                audit.diff(old, {"answer": answer, "answered_at": when}),
                patient_id=row.patient_id)
    subject = _("Answer: {request}").format(
        request=_(rules.QUALIFICATIONS[row.qualification]))
    if row.patient_id:
        values = {"patient": row.patient_id, "user": user.id, "channel": "phone",
                  "direction": "outgoing", "subject": subject, "notes": answer,
                  "occurred_at": when, "site": row.site_id, "outcome": ""}
        interaction = Interaction.create(**values)
        session.log("create", "interaction", interaction.id, audit.diff({}, values),
                    patient_id=row.patient_id)
    else:
        add_prospect_interaction(row.prospect_id, "phone", "outgoing", subject, answer,
                                 when=when, site_id=row.site_id, user=user)
    rule = rules.FOLLOW_UP_AFTER_ANSWER[row.qualification]
    if rule:  # PRO-06: call back one week after the answer
        followup.schedule(rule, "prospect_request", row.id, when, row.patient_id, row.site_id,
                          when, prospect_id=row.prospect_id)
    if row.prospect_id:
        prospect = Prospect.get_by_id(row.prospect_id)
        if prospect.status not in rules.CLOSED_STATUSES:
            _set_status(prospect, rules.status_after_answer(row.qualification), when)


def answer_request(request_id: int, answer: str, answered_at: dt.datetime | None = None
                   ) -> ProspectRequest:
    """The answer given (PRO-06): a quote or programme request is called back a week later
    (on Today); an appointment request needs nothing more."""
    user = session.require("prospects.write")
    when = answered_at or clock.now()
    errors: dict[str, str] = {}
    if not answer.strip():
        errors["answer"] = _("Write the answer given.")
    if when > clock.now() + dt.timedelta(minutes=5):
        errors["answered_at"] = _("The answer cannot be in the future.")
    _long_text(errors, answer=answer)
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        row = ProspectRequest.get_by_id(request_id)
        if when < row.received_at - dt.timedelta(minutes=5):
            raise ValidationFailed({"answered_at": _("The answer cannot be before the request "
                                                     "({date}).").format(
                date=row.received_at.strftime("%d/%m/%Y %H:%M"))})
        _answer(row, answer.strip(), when, user)
    return ProspectRequest.get_by_id(request_id)


def update_prospect(prospect_id: int, expected_version: int, form: ProspectForm) -> Prospect:
    session.require("prospects.write")
    values, numbers = clean(form)
    old = Prospect.get_by_id(prospect_id)
    if form.channel != old.channel and form.channel in rules.WRITTEN_CHANNELS:
        session.require("prospects.create_written")
    old_values = {key: getattr(old, key if key not in ("site", "owner") else f"{key}_id")
                  for key in values if key != "sort_key"}
    old_values["phones"] = phones_of(prospect_id)
    with database.atomic():
        changed = (Prospect.update(**values, updated_at=clock.now(), version=Prospect.version + 1)
                   .where((Prospect.id == prospect_id)
                          & (Prospect.version == expected_version)).execute())
        if changed != 1:
            raise StaleRecordError(_("This file was changed on another workstation since you "
                                     "opened it. Close it and open it again to see the "
                                     "changes."))
        _write_phones_and_tokens(prospect_id, numbers, values["last_name"],
                                 values["first_names"])
        shown = {key: value for key, value in values.items() if key != "sort_key"}
        shown["phones"] = numbers
        _log("update", prospect_id, audit.diff(old_values, shown))
    return Prospect.get_by_id(prospect_id)


# --- how a prospect's follow-up ends ----------------------------------------------------

def _settle_tasks(prospect_id: int, outcome: str, when: dt.datetime) -> None:
    """Her open callbacks and review are closed: nobody calls a settled prospect."""
    user = session.current()
    # A message or a request left open by a call is still dealt with the same day.
    for task in FollowUpTask.select().where((FollowUpTask.prospect == prospect_id)
                                            & (FollowUpTask.status == followup.OPEN)
                                            & (FollowUpTask.rule != "same_day")):
        FollowUpTask.update(status=followup.DONE, outcome=outcome, closed_at=when,
                            closed_by=user.id if user else None, updated_at=when).where(
            FollowUpTask.id == task.id).execute()
        session.log("update", "follow_up_task", task.id,
                    {"status": [followup.OPEN, followup.DONE], "outcome": [task.outcome,
                                                                           outcome]},
                    details=task.rule)


def close_prospect(prospect_id: int, status: str, reason: str = "", note: str = "",
                   when: dt.datetime | None = None) -> None:
    """Lost (with its reason) or no longer interested."""
    session.require("prospects.write")
    when = when or clock.now()
    errors = {}
    if status not in (rules.LOST, rules.NOT_INTERESTED):
        errors["status"] = _("Choose how her follow-up ends.")
    if status == rules.LOST and reason not in rules.LOST_REASONS:
        errors["reason"] = _("Give the reason she was lost.")
    _long_text(errors, note=note)
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        prospect = Prospect.get_by_id(prospect_id)
        if prospect.status == rules.CONVERTED:
            raise ValidationFailed({"status": _("She already became a patient.")})
        _set_status(prospect, status, when, reason if status == rules.LOST else "")
        label = _(rules.STATUSES[status])
        if status == rules.LOST:
            label += " — " + _(rules.LOST_REASONS[reason])
        add_prospect_interaction(prospect_id, "other", "internal", label, note.strip(),
                                 when=when, site_id=prospect.site_id)
        _settle_tasks(prospect_id, status, when)


def _convert(prospect: Prospect, patient_id: int, when: dt.datetime) -> None:
    Prospect.update(status=rules.CONVERTED, patient=patient_id, converted_at=when,
                    lost_reason="", updated_at=when, version=Prospect.version + 1).where(
        Prospect.id == prospect.id).execute()
    _log("update", prospect.id, audit.diff(
        {"status": prospect.status, "patient": prospect.patient_id, "converted_at": None},
        {"status": rules.CONVERTED, "patient": patient_id, "converted_at": when}))
    patient = Patient.get_by_id(patient_id)
    add_prospect_interaction(prospect.id, "other", "internal",
                             _("Became a patient: {name}").format(name=patient.full_name),
                             when=when, site_id=prospect.site_id)
    values = {"patient": patient_id, "user": session.current().id if session.current()
              else None, "channel": "other", "direction": "internal",
              "subject": _("Former prospect since {date} ({channel})").format(
                  date=prospect.created_at.strftime("%d/%m/%Y"),
                  channel=_(rules.CHANNELS.get(prospect.channel, prospect.channel))),
              "occurred_at": when, "site": patient.site_id, "notes": "", "outcome": ""}
    interaction = Interaction.create(**values)
    session.log("create", "interaction", interaction.id, audit.diff({}, values),
                patient_id=patient_id)
    _settle_tasks(prospect.id, "converted", when)
    hooks.prospect_records_moved.call(prospect.id, patient_id=patient_id)


def convert(prospect_id: int, patient_id: int, when: dt.datetime | None = None) -> None:
    """She became this patient (PRO-07): linked, marked converted with the date."""
    session.require("prospects.write")
    when = when or clock.now()
    with database.atomic():
        prospect = Prospect.get_by_id(prospect_id)
        if prospect.status == rules.CONVERTED:
            if prospect.patient_id == patient_id:
                return
            raise ValidationFailed({"patient": _("She is already linked to another patient.")})
        _convert(prospect, patient_id, when)


@hooks.patient_created.register
def detect_conversion(patient: Patient, numbers: list[str],
                      when: dt.datetime | None = None) -> list[int]:
    """A new patient who was a prospect (same phone, or birth date and a similar name) is
    that prospect converted. Inside the patient's transaction; returns the prospects."""
    candidates = people.existing_people(patient.full_name, patient.birth_date, numbers,
                                        kinds=(people.PROSPECT,))
    converted = []
    for candidate in candidates:
        prospect = Prospect.get_by_id(candidate.record.record_id)
        if prospect.status != rules.CONVERTED:
            _convert(prospect, patient.id, when or clock.now())
            converted.append(prospect.id)
    return converted


def patient_form_from(prospect_id: int):
    """The patient file pre-filled from the prospect's, to convert her."""
    from nest_desktop.services.patients import PatientForm

    prospect = Prospect.get_by_id(prospect_id)
    return PatientForm(
        last_name=prospect.last_name, first_names=prospect.first_names, sex="F",
        birth_date=entry_text(prospect.birth_date) if prospect.birth_date else "",
        phones=[phones.display(number) for number in phones_of(prospect_id)],
        email=prospect.email, site_id=prospect.site_id,
        provenance=rules.PROVENANCE_OF_CHANNEL.get(prospect.channel, "other"),
        provenance_detail=_("Prospect since {date}").format(
            date=prospect.created_at.strftime("%d/%m/%Y")))


def _contact_for_task(task: FollowUpTask, user: User, outcome: str, notes: str,
                      when: dt.datetime) -> ProspectInteraction:
    """A call made for a prospect's follow-up, on her timeline."""
    return add_prospect_interaction(task.prospect_id, "phone", "outgoing",
                                    followup.rule_label(task.rule), notes,
                                    followup.outcome_label(outcome), when, task.site_id, user)


hooks.task_contact_writers.register("prospect", _contact_for_task)


@hooks.task_closed.register
def after_call_closed(task: FollowUpTask, outcome: str, _user: User | None,
                      when: dt.datetime) -> None:
    """A callback or review ended without the form (declined, wrong number, unreachable):
    the prospect's status follows. Called by the follow-up engine inside its transaction."""
    if not task.prospect_id:
        return
    prospect = Prospect.get_or_none(Prospect.id == task.prospect_id)
    if prospect is None or prospect.status in rules.CLOSED_STATUSES:
        return
    if outcome == "declined":
        _set_status(prospect, rules.NOT_INTERESTED, when)
    elif outcome in ("unreachable", "wrong_number") and prospect.status == rules.TO_CALL_BACK:
        _set_status(prospect, rules.ANSWERED, when)


def complete_call(task_id: int, result: str, reason: str = "", notes: str = "",
                  when: dt.datetime | None = None) -> None:
    """A callback (PRO-06) or conversion review (PRO-07) that reached her: what she said."""
    session.require("followup.work")
    when = when or clock.now()
    task = FollowUpTask.get_by_id(task_id)
    choices = rules.REVIEW_RESULTS if task.rule == REVIEW_RULE else rules.CALL_RESULTS
    errors = {}
    if result not in choices:
        errors["result"] = _("Choose what she said.")
    if result == "lost" and reason not in rules.LOST_REASONS:
        errors["reason"] = _("Give the reason she was lost.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        followup.close_reached(task_id, (_(choices[result]) + ". " + notes.strip()).strip(),
                               when)
        prospect = Prospect.get_by_id(task.prospect_id)
        if result in ("lost", "not_interested"):
            _set_status(prospect, result, when, reason if result == "lost" else "")
            _settle_tasks(prospect.id, result, when)
        elif result == "call_back":
            followup.schedule(CALLBACK_RULE, "follow_up_task", task.id, when, None,
                              prospect.site_id, when, prospect_id=prospect.id)
            _set_status(prospect, rules.TO_CALL_BACK, when)
        elif prospect.status in (rules.NEW, rules.TO_CALL_BACK):
            _set_status(prospect, rules.ANSWERED, when)


# --- merging two files of one person ------------------------------------------------------

def merge(keep_id: int, other_id: int, when: dt.datetime | None = None) -> Prospect:
    """Two prospects who are the same person: `other` goes into `keep` with her phones,
    requests, contacts and follow-ups, and is deleted; the trail keeps all she held."""
    session.require("prospects.merge")
    when = when or clock.now()
    if keep_id == other_id:
        raise ValidationFailed({"merge": _("Choose another prospect to merge with.")})
    with database.atomic():
        keep, other = Prospect.get_by_id(keep_id), Prospect.get_by_id(other_id)
        if other.status == rules.CONVERTED and keep.status == rules.CONVERTED and \
                keep.patient_id != other.patient_id:
            raise ValidationFailed({"merge": _("These two prospects became two different "
                                               "patients: they are not the same person.")})
        numbers = phones_of(keep_id)
        extra = [n for n in phones_of(other_id) if n not in numbers]
        kept_numbers = (numbers + extra)[:people.MAX_PHONES]
        dropped = [n for n in extra if n not in kept_numbers]
        notes = "\n".join(text for text in (keep.notes, other.notes) if text)
        if dropped:
            notes += ("\n" if notes else "") + _("Other numbers: {numbers}").format(
                numbers=", ".join(phones.display(n) for n in dropped))
        changes = {"birth_date": keep.birth_date or other.birth_date,
                   "email": keep.email or other.email, "site": keep.site_id or other.site_id,
                   "owner": keep.owner_id or other.owner_id, "notes": notes,
                   "created_at": min(keep.created_at, other.created_at)}
        if keep.status in (rules.NEW, rules.ANSWERED) and other.status not in (rules.NEW,):
            changes.update(status=other.status, lost_reason=other.lost_reason,
                           patient=other.patient_id, converted_at=other.converted_at)
        if keep.created_at > other.created_at:
            changes.update(channel=other.channel, qualification=other.qualification)
        Prospect.update(**changes, updated_at=when, version=Prospect.version + 1).where(
            Prospect.id == keep_id).execute()
        _write_phones_and_tokens(keep_id, kept_numbers, keep.last_name, keep.first_names)
        ProspectRequest.update(prospect=keep_id).where(
            ProspectRequest.prospect == other_id).execute()
        ProspectInteraction.update(prospect=keep_id).where(
            ProspectInteraction.prospect == other_id).execute()
        # One review of her conversion is enough: the other file's is closed as merged.
        for task in FollowUpTask.select().where((FollowUpTask.prospect == other_id)
                                                & (FollowUpTask.rule == REVIEW_RULE)
                                                & (FollowUpTask.status == followup.OPEN)):
            FollowUpTask.update(status=followup.DONE, outcome="merged", closed_at=when,
                                updated_at=when).where(FollowUpTask.id == task.id).execute()
        FollowUpTask.update(prospect=keep_id).where(FollowUpTask.prospect == other_id).execute()
        hooks.prospect_records_moved.call(other_id, prospect_id=keep_id)
        old_values = {key: getattr(other, key) for key in (
            "last_name", "first_names", "birth_date", "email", "channel", "qualification",
            "status", "lost_reason", "notes", "created_at")}
        old_values.update(site=other.site_id, owner=other.owner_id,
                          phones=phones_of(other_id) or extra, id=other_id)
        _log("merge", keep_id, audit.diff(old_values, {}),
             details=_("{name} (file {number}) merged into this file").format(
                 name=other.full_name, number=other_id))
        session.log("delete", "prospect", other_id, audit.diff(old_values, {}),
                    details=_("merged into file {number}").format(number=keep_id))
        add_prospect_interaction(keep_id, "other", "internal", fill_in(_(
            "File of {name} created on {date} merged into this one"),
                name=other.full_name, date=format_date(other.created_at.date())),
            when=when, site_id=keep.site_id)
        Prospect.delete().where(Prospect.id == other_id).execute()
    return Prospect.get_by_id(keep_id)


# --- reading --------------------------------------------------------------------------------

def get_prospect(prospect_id: int) -> Prospect:
    return Prospect.get_by_id(prospect_id)


def phones_of(prospect_id: int) -> list[str]:
    return [number for (number,) in ProspectPhone.select(ProspectPhone.e164)
            .where(ProspectPhone.prospect == prospect_id).order_by(ProspectPhone.position)
            .tuples()]


def form_of(prospect: Prospect) -> ProspectForm:
    return ProspectForm(
        last_name=prospect.last_name, first_names=prospect.first_names,
        birth_date=entry_text(prospect.birth_date) if prospect.birth_date else "",
        phones=[phones.display(number) for number in phones_of(prospect.id)],
        email=prospect.email, site_id=prospect.site_id, channel=prospect.channel,
        owner_id=prospect.owner_id, notes=prospect.notes, sms_consent=prospect.sms_consent,
        newsletter_consent=prospect.newsletter_consent,
        name_to_complete=prospect.name_to_complete)


def requests_of(prospect_id: int | None = None, patient_id: int | None = None
                ) -> list[ProspectRequest]:
    condition = (ProspectRequest.prospect == prospect_id) if prospect_id else (
        ProspectRequest.patient == patient_id)
    return list(ProspectRequest.select().where(condition)
                .order_by(ProspectRequest.received_at.desc(), ProspectRequest.id.desc()))


def interactions_of(prospect_id: int) -> list[ProspectInteraction]:
    return list(ProspectInteraction.select(ProspectInteraction, User)
                .join(User, JOIN.LEFT_OUTER)
                .where(ProspectInteraction.prospect == prospect_id)
                .order_by(ProspectInteraction.occurred_at.desc(),
                          ProspectInteraction.id.desc()))


def open_tasks_of(prospect_id: int) -> list[FollowUpTask]:
    return list(FollowUpTask.select().where((FollowUpTask.prospect == prospect_id)
                                            & (FollowUpTask.status == followup.OPEN))
                .order_by(FollowUpTask.due_at))


@dataclass(frozen=True)
class ProspectFilter:
    query: str = ""
    status: str = ""
    channel: str = ""
    qualification: str = ""
    owner_id: int | None = None
    site_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None



def _filtered(select, prospect_filter: ProspectFilter, with_status: bool = True):
    text = prospect_filter.query.strip()
    if text and phones.looks_like_phone(text) and phones.search_digits(text):
        select = select.where(Prospect.id.in_(
            ProspectPhone.select(ProspectPhone.prospect)
            .where(people.prefix_range(ProspectPhone.national_digits, phones.search_digits(text)))))
    elif text:
        for term in text.split():
            try:
                select = select.where(Prospect.birth_date == parse_date(term))
                continue
            except ValueError:
                pass
            for word in words(term):
                select = select.where(Prospect.id.in_(
                    ProspectSearchToken.select(ProspectSearchToken.prospect)
                    .where(people.prefix_range(ProspectSearchToken.token, word))))
    if with_status and prospect_filter.status:
        select = select.where(Prospect.status == prospect_filter.status)
    if prospect_filter.channel:
        select = select.where(Prospect.channel == prospect_filter.channel)
    if prospect_filter.qualification:
        select = select.where(Prospect.qualification == prospect_filter.qualification)
    if prospect_filter.owner_id is not None:
        select = select.where(Prospect.owner == prospect_filter.owner_id)
    if prospect_filter.site_id is not None:
        select = select.where(Prospect.site == prospect_filter.site_id)
    if prospect_filter.created_from:
        select = select.where(Prospect.created_at >= dt.datetime.combine(
            prospect_filter.created_from, dt.time.min))
    if prospect_filter.created_to:
        select = select.where(Prospect.created_at < dt.datetime.combine(
            prospect_filter.created_to + dt.timedelta(days=1), dt.time.min))
    return select


def search_ids(prospect_filter: ProspectFilter, limit: int | None = None) -> list[int]:
    """The prospects shown by the list, the newest first (the first `limit` of them)."""
    query = _filtered(Prospect.select(Prospect.id), prospect_filter).order_by(
        Prospect.created_at.desc(), Prospect.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [row[0] for row in query.tuples()]


def counts_by_status(prospect_filter: ProspectFilter) -> dict[str, int]:
    """status -> prospects, for the list's counts (the status filter aside)."""
    query = _filtered(Prospect.select(Prospect.status, fn.COUNT(Prospect.id)),
                      prospect_filter, with_status=False).group_by(Prospect.status)
    return dict(query.tuples())


@dataclass(frozen=True)
class ProspectRow:
    id: int
    name: str
    phone: str
    channel: str
    qualification: str
    status: str
    owner: str
    site: str
    created_at: dt.datetime
    next_call: dt.datetime | None


def rows_for(ids: Iterable[int]) -> dict[int, ProspectRow]:
    ids = list(ids)
    if not ids:
        return {}
    main_phone = dict(ProspectPhone.select(ProspectPhone.prospect, fn.MIN(ProspectPhone.e164))
                      .where(ProspectPhone.prospect.in_(ids) & (ProspectPhone.position == 0))
                      .group_by(ProspectPhone.prospect).tuples())
    next_call = dict(FollowUpTask.select(FollowUpTask.prospect, fn.MIN(FollowUpTask.due_at))
                     .where(FollowUpTask.prospect.in_(ids)
                            & (FollowUpTask.status == followup.OPEN))
                     .group_by(FollowUpTask.prospect).tuples())
    query = (Prospect.select(Prospect.id, Prospect.last_name, Prospect.first_names,
                             Prospect.channel, Prospect.qualification, Prospect.status,
                             User.full_name, Site.name, Prospect.created_at)
             .join(User, JOIN.LEFT_OUTER, on=Prospect.owner == User.id).switch(Prospect)
             .join(Site, JOIN.LEFT_OUTER).where(Prospect.id.in_(ids)).tuples())
    rows = {}
    for record_id, last, first, channel, qualification, status, owner, site, created in query:
        due = next_call.get(record_id)
        if isinstance(due, str):  # SQLite hands MIN() back as text
            due = dt.datetime.fromisoformat(due)
        rows[record_id] = ProspectRow(record_id, shown_name(list_name(last, first)),
                                      main_phone.get(record_id, ""), channel, qualification,
                                      status, owner or "", site or "", created, due)
    return rows


def count() -> int:
    return Prospect.select().count()


# --- events for the follow-up engine ----------------------------------------------------

@hooks.task_events.register
def prospect_events(when: dt.datetime, window: dt.timedelta) -> list:
    """The stored events that make prospects' follow-ups: each prospect added (the review a
    month later, PRO-07) and each answer to a quote or programme request (the callback a week
    later, PRO-06)."""
    events = [followup.Event(REVIEW_RULE, "prospect", prospect_id, created, None, site_id,
                             prospect_id=prospect_id)
              for prospect_id, created, site_id in
              Prospect.select(Prospect.id, Prospect.created_at, Prospect.site)
              .where((Prospect.created_at >= when - window - dt.timedelta(days=31))
                     & Prospect.status.not_in(list(rules.CLOSED_STATUSES))).tuples()]
    needing = [q for q, rule in rules.FOLLOW_UP_AFTER_ANSWER.items() if rule]
    events += [followup.Event(CALLBACK_RULE, "prospect_request", request_id, answered,
                              patient_id, site_id, prospect_id=prospect_id)
               for request_id, answered, patient_id, prospect_id, site_id in
               ProspectRequest.select(ProspectRequest.id, ProspectRequest.answered_at,
                                      ProspectRequest.patient, ProspectRequest.prospect,
                                      ProspectRequest.site)
               .join(Prospect, JOIN.LEFT_OUTER)
               .where((ProspectRequest.answered_at >= when - window - dt.timedelta(days=7))
                      & ProspectRequest.qualification.in_(needing)
                      & (Prospect.status.is_null()
                         | Prospect.status.not_in(list(rules.CLOSED_STATUSES)))).tuples()]
    return events


# --- importing website-form and Facebook lead exports (PRO-04) -----------------------------

# Column names as the exports write them (Facebook Lead Ads, website form plug-ins), folded.
_COLUMNS = {
    "full_name": ("full_name", "full name", "nom complet", "name", "nom et prenom",
                  "nom & prenom", "prenom et nom", "your-name"),
    "last_name": ("last_name", "last name", "nom", "nom de famille"),
    "first_names": ("first_name", "first name", "prenom", "prenoms"),
    "phone": ("phone_number", "phone", "phone number", "telephone", "tel", "mobile",
              "numero de telephone", "numero", "your-phone", "whatsapp"),
    "email": ("email", "e-mail", "courriel", "adresse email", "your-email", "mail"),
    "birth_date": ("date_of_birth", "birth_date", "date de naissance", "naissance"),
    "request": ("message", "demande", "request", "votre message", "your-message",
                "commentaire", "comments", "question"),
    "qualification": ("qualification", "type de demande", "objet", "subject", "sujet"),
    "received_at": ("created_time", "date", "submitted", "date de la demande", "created"),
    "platform": ("platform",),  # Meta: fb or ig
    "form_name": ("form_name",),
    "ad_name": ("ad_name",),
}
# Meta's lead exports: the columns of the lead and its ad, and the form's standard fields;
# any other column is one of the form's own questions, named after it
# ("quelle_est_votre_demande_?"), whose answers make the request's text.
_META_MARKERS = frozenset({"form id", "is organic", "platform", "adset id"})
_META_NOT_QUESTIONS = frozenset({
    "id", "created time", "ad id", "ad name", "adset id", "adset name", "campaign id",
    "campaign name", "form id", "form name", "is organic", "platform", "lead status",
    "inbox url", "page id", "page name", "retailer item id", "vehicle", "home listing",
    "city", "state", "province", "country", "zip code", "post code", "street address",
    "gender", "marital status", "relationship status", "military status", "job title",
    "company name", "work email", "work phone number", "custom disclaimer responses"})
_PLATFORMS = {"fb": "facebook", "facebook": "facebook", "ig": "instagram",
              "instagram": "instagram"}
_QUALIFICATION_WORDS = {"appointment": ("rdv", "rendez", "appointment", "consultation"),
                        "quote": ("devis", "tarif", "prix", "quote", "price", "cout"),
                        "programme": ("programme", "program", "nest")}
IMPORT_MAX_ROWS = 20000


@dataclass
class LeadRow:
    """One row of an export, as read, and what the preview found for it."""

    line: int
    form: ProspectForm
    request: RequestForm
    received_at: dt.datetime | None = None
    verdict: str = ""  # new, prospect, patient, repeated, error
    existing_id: int | None = None  # the patient or prospect found (the row, if repeated)
    existing_name: str = ""
    message: str = ""


def _fold_header(text: str) -> str:
    return " ".join(fold(text).replace("_", " ").split()) if text else ""


IMPORT_MAX_BYTES = 20_000_000  # far above 20 000 leads; a bigger file is not an export


def _read_text(path) -> str:
    size = os.path.getsize(path)
    if size > IMPORT_MAX_BYTES:
        raise ValidationFailed({"file": _(
            "This file is too large ({size} MB): an export of leads is at most {limit} MB. "
            "Check that it is the right file, or split it.").format(
            size=format_number(round(size / 1_000_000, 1)),
            limit=IMPORT_MAX_BYTES // 1_000_000)})
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")  # Facebook's exports
        except UnicodeDecodeError as error:  # a broken character (an unpaired surrogate)
            raise ValidationFailed({"file": _(
                "This file holds a broken character near byte {position}: save it again "
                "from the spreadsheet or export it again.").format(position=error.start)}
            ) from error
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _guess_qualification(text: str, default: str) -> str:
    folded = fold(text or "")
    for qualification, keys in _QUALIFICATION_WORDS.items():
        if any(key in folded for key in keys):
            return qualification
    return default


def _question_label(column: str) -> str:
    """Meta names a question's column after it: "quelle_est_votre_demande_?" -> "Quelle est
    votre demande ?"."""
    label = " ".join(column.replace("_", " ").split())
    return label[:1].upper() + label[1:]


def _answer_line(question: str, answer: str) -> str:
    # Meta writes a multiple choice's answer as its snake_case value: "rdv_pediatre"
    answer = answer.replace("_", " ") if " " not in answer else answer
    return f"{question} {answer}" if question.endswith("?") else f"{question} : {answer}"


def _lead_source(form_name: str, ad_name: str) -> str:
    parts = []
    if form_name:
        parts.append(_("form “{name}”").format(name=form_name))
    if ad_name:
        parts.append(_("ad “{name}”").format(name=ad_name))
    return " — ".join(parts)[:300]


def _parse_received(text: str) -> dt.datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    # Dakar is on UTC all year: the exports' UTC times are the clinic's.
    iso = re.sub(r"(Z|[+-]\d{2}:?\d{2})$", "", text.replace("T", " "))
    try:
        return dt.datetime.fromisoformat(iso).replace(microsecond=0)
    except ValueError:
        pass
    for written in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):  # Excel in French
        try:
            return dt.datetime.strptime(text, written)
        except ValueError:
            pass
    try:
        return dt.datetime.combine(parse_date(text.split()[0]), dt.time(9, 0))
    except ValueError:
        return None


def _checked_lines(reader):
    """The CSV reader's rows; a line it cannot read (a field beyond its limit, a NUL byte) is
    a message naming the line, never the reader's own error."""
    import csv

    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationFailed({"file": _(
                "Line {line} of the file cannot be read ({error}): check the file.").format(
                line=reader.line_num, error=error)}) from error


def read_leads(path, channel: str, qualification: str, site_id: int | None
               ) -> list[LeadRow]:
    """The rows of a CSV export (any separator, UTF-8, UTF-16 or Windows encoding)."""
    import csv

    errors = {}
    if channel not in rules.CHANNELS:
        errors["channel"] = _("Choose how she contacted NEST.")
    if qualification not in rules.QUALIFICATIONS:
        errors["qualification"] = _("Choose the kind of request of the rows that do not say.")
    if errors:
        raise ValidationFailed(errors)
    try:
        content = _read_text(path)
    except OSError as error:
        raise ValidationFailed({"file": _("The file could not be read: {error}").format(
            error=error)}) from error
    sample = content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # the file as a stream: a quoted field keeps its line breaks (a message on two lines)
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    reader = _checked_lines(csv.reader(io.StringIO(content, newline=""), dialect))
    header = next(reader, None)
    if not header:
        raise ValidationFailed({"file": _("The file is empty.")})
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        folded = _fold_header(name)
        for target, names in _COLUMNS.items():
            if target not in positions and folded in {_fold_header(n) for n in names}:
                positions[target] = index
    if "phone" not in positions and "email" not in positions:
        raise ValidationFailed({"file": _(
            "No phone nor email column was found in the first line: check that the file is "
            "the export of the website form or of the Facebook leads.")})
    folded_header = [_fold_header(name) for name in header]
    meta = bool(_META_MARKERS & set(folded_header))
    questions = [(index, _question_label(name)) for index, name in enumerate(header)
                 if meta and index not in positions.values()
                 and folded_header[index] not in _META_NOT_QUESTIONS]
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        if len(rows) >= IMPORT_MAX_ROWS:
            raise ValidationFailed({"file": _("At most {count} rows at a time: split the "
                                              "file.").format(count=IMPORT_MAX_ROWS)})

        def value(name: str, values=values) -> str:
            index = positions.get(name)
            return values[index].strip() if index is not None and index < len(values) else ""

        last, first = value("last_name"), value("first_names")
        if not last and value("full_name"):
            parts = value("full_name").split()
            # "Awa Diop": the family name comes last in the exports.
            first, last = " ".join(parts[:-1]), parts[-1]
        answers = [_answer_line(label, values[index].strip()) for index, label in questions
                   if index < len(values) and values[index].strip()]
        request_text = "\n".join(part for part in (value("request"), *answers) if part)
        # Meta writes its numbers "p:+221771234567"
        phone = re.sub(r"^p:", "", value("phone"), flags=re.IGNORECASE)
        row_channel = _PLATFORMS.get(value("platform").lower(), channel)
        rows.append(LeadRow(
            line, ProspectForm(last_name=last, first_names=first,
                               birth_date=value("birth_date"), phones=[phone],
                               email=value("email"), site_id=site_id, channel=row_channel,
                               name_to_complete=not (last or first)),
            RequestForm(_guess_qualification(value("qualification") or request_text,
                                             qualification), request_text[:TEXT_MAX],
                        source=_lead_source(value("form_name"), value("ad_name"))),
            _parse_received(value("received_at"))))
    return rows


def preview_import(rows: list[LeadRow], today: dt.date | None = None) -> list[LeadRow]:
    """Says, row by row, what importing would do: a new prospect, a request on a prospect or
    on a patient already known, a repeat of an earlier row, or what is wrong. Writes nothing.
    The people already known are read once for every row (PRO-05)."""
    cleaned: list[tuple[LeadRow, dict, list[str]]] = []
    for row in rows:
        row.verdict, row.existing_id, row.existing_name, row.message = "", None, "", ""
        try:
            values, numbers = clean(row.form, today)
            clean_request(row.request)
        except ValidationFailed as failed:
            row.verdict = "error"
            row.message = " ".join(failed.errors.values())
            continue
        cleaned.append((row, values, numbers))
    known = people.KnownPeople([n for _row, _values, numbers in cleaned for n in numbers],
                               [values["birth_date"] for _row, values, _numbers in cleaned])
    # Earlier rows of the file, by phone and birth date: a repeat is found without going
    # through every row before it.
    earlier: dict[object, list[patient_rules.PersonRecord]] = {}
    for row, values, numbers in cleaned:
        born = values["birth_date"]
        also = {id(record): record for key in [*numbers, born] if key
                for record in earlier.get(key, ())}
        candidates = known.candidates(row.form.full_name, born, numbers,
                                      also=also.values())
        if candidates:
            record = candidates[0].record
            row.verdict = record.kind
            row.existing_id, row.existing_name = record.record_id, record.full_name
            continue
        row.verdict = "new"
        if values["name_to_complete"]:
            row.message = _("no name: to ask at the callback")
        record = patient_rules.PersonRecord("repeated", row.line, row.form.full_name, born,
                                            tuple(numbers))
        for key in [*numbers, born]:
            if key:
                earlier.setdefault(key, []).append(record)
    return rows


@dataclass(frozen=True)
class ImportResult:
    created: int
    on_prospects: int
    on_patients: int
    skipped: int


# Rows written per transaction: the write lock is held well under a second, so another desk
# saving meanwhile waits a moment instead of meeting "database is locked".
IMPORT_BATCH = 200
_IMPORT_PROGRESS = "prospects.import_progress."


def import_key(rows: list[LeadRow]) -> str:
    """The same file read with the same choices gives the same key: an import interrupted
    resumes where it stopped."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr((row.line, asdict(row.form), asdict(row.request),
                            row.received_at)).encode())
    return digest.hexdigest()[:32]


def unfinished_import(rows: list[LeadRow]) -> dict | None:
    """{"done", "total", …} when an import of these very rows was interrupted."""
    progress = settings.get(_IMPORT_PROGRESS + import_key(rows))
    return progress if progress and not progress.get("finished") else None


def import_leads(rows: list[LeadRow], when: dt.datetime | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Writes what the preview showed: new prospects, and the requests of people already
    known on their file; the check runs again as each row is written. In batches of short
    transactions, each with the import's progress: an interrupted import (a power cut, the
    application closed) resumes at its first row not written when the same file is
    imported again, and is shown as interrupted until then."""
    session.require("prospects.import")
    when = when or clock.now()
    key = _IMPORT_PROGRESS + import_key(rows)
    progress = settings.get(key)
    if not progress or progress.get("finished"):
        progress = {"total": len(rows), "done": 0, "created": 0, "on_prospects": 0,
                    "on_patients": 0, "skipped": 0, "started": when.isoformat()}
    starts = list(range(progress["done"], len(rows), IMPORT_BATCH)) or [len(rows)]
    for start in starts:
        batch = rows[start:start + IMPORT_BATCH]
        with database.atomic():
            counts = _import_batch(batch, when)
            progress = {**progress, "done": start + len(batch),
                        **{name: progress[name] + counts[name] for name in counts}}
            if progress["done"] >= len(rows):
                progress["finished"] = when.isoformat()
                session.log("import", "prospect", None, {
                    "rows": [None, len(rows)], "created": [None, progress["created"]]})
            settings.record_state(key, progress)
        if on_progress is not None:
            on_progress(progress["done"], len(rows))
    return ImportResult(progress["created"], progress["on_prospects"],
                        progress["on_patients"], progress["skipped"])


def _import_batch(rows: list[LeadRow], when: dt.datetime) -> dict[str, int]:
    """One batch, inside its transaction. A row repeating one of an earlier batch finds the
    prospect that row made through the duplicate check, as rows stored meanwhile by another
    desk are found."""
    created = on_prospects = on_patients = skipped = 0
    models = {people.PATIENT: Patient, people.PROSPECT: Prospect}
    to_create: list[tuple[LeadRow, dt.datetime]] = []
    repeats: list[tuple[LeadRow, dt.datetime]] = []
    new_lines: set[int] = set()
    # Numbers stored since the preview (another workstation, an earlier batch): those rows
    # are checked again; the others keep the preview's verdict, which saves a search per row.
    wanted = sorted({number for row in rows if row.verdict == "new"
                     for number in people.typed_phones(row.form.phones)})
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for phone_model in (PatientPhone, ProspectPhone):
            taken.update(number for (number,) in phone_model.select(phone_model.e164)
                         .where(phone_model.e164.in_(chunk)).tuples())
    for row in rows:
        if row.verdict == "error":
            skipped += 1
            continue
        received = row.received_at if row.received_at and row.received_at <= when else when
        if row.verdict == "repeated" and row.existing_id in new_lines:
            repeats.append((row, received))  # on the prospect its earlier row makes
            continue
        target = None
        if row.verdict in models and models[row.verdict].select().where(
                models[row.verdict].id == row.existing_id).exists():
            target = (row.verdict, row.existing_id)
        elif row.verdict != "new" or taken & set(people.typed_phones(row.form.phones)):
            candidates = duplicates_of(row.form)
            if candidates:
                target = (candidates[0].record.kind, candidates[0].record.record_id)
        if target is None:
            to_create.append((row, received))
            new_lines.add(row.line)
            created += 1
            continue
        add_request(target[0], target[1], row.request, row.form.channel, received)
        if target[0] == people.PATIENT:
            on_patients += 1
        else:
            on_prospects += 1
    made = _create_many(to_create, when)
    for row, received in repeats:
        add_request(people.PROSPECT, made[row.existing_id], row.request, row.form.channel,
                    received)
        on_prospects += 1
    return {"created": created, "on_prospects": on_prospects, "on_patients": on_patients,
            "skipped": skipped}


def _create_many(rows: list[tuple[LeadRow, dt.datetime]], when: dt.datetime
                 ) -> dict[int, int]:
    """The new prospects of an import, as `create_prospect` makes them one by one (file,
    phones, search words, request, contact, review a month later, audit trail), in a few
    statements for all: 5 000 rows in seconds. Inside the import's transaction; the rows
    were checked by the preview and the duplicate check. Returns line -> prospect id."""
    user = session.require("prospects.import")
    phone_rows, token_rows, entries, reviews, answered = [], [], [], [], []
    made: dict[int, int] = {}
    insert_prospect, insert_request, insert_contact = (
        RepeatedInsert(Prospect), RepeatedInsert(ProspectRequest),
        RepeatedInsert(ProspectInteraction))
    for row, received in rows:
        values, numbers = clean(row.form, when.date())
        prospect_id = insert_prospect(**values, qualification=row.request.qualification,
                                      status=rules.NEW, created_at=received,
                                      updated_at=received, created_by=user.id)
        made[row.line] = prospect_id
        phones_of, tokens_of = _phone_and_token_rows(prospect_id, numbers, values["last_name"],
                                                     values["first_names"])
        phone_rows += phones_of
        token_rows += tokens_of
        shown = {**values, "phones": numbers, "qualification": row.request.qualification}
        shown.pop("sort_key")
        entries.append(audit.entry("create", "prospect", prospect_id, user,
                                   audit.diff({}, shown), "confirmed_new"))
        text = row.request.text.strip()
        source = row.request.source.strip()
        request_id = insert_request(
            prospect=prospect_id, patient=None, qualification=row.request.qualification,
            channel=row.form.channel, received_at=received, text=text, source=source,
            site=values["site"], created_by=user.id)
        entries.append(audit.entry("create", "prospect_request", request_id, user, audit.diff(
            {}, {"prospect": prospect_id, "patient": None,
                 "qualification": row.request.qualification, "channel": row.form.channel,
                 "text": text, "source": source})))
        contact = {"prospect": prospect_id, "user": user.id,
                   "channel": row.form.channel if row.form.channel in
                   patient_rules.INTERACTION_CHANNELS else "other",
                   "direction": "incoming",
                   "subject": _request_subject(row.request.qualification, text),
                   "notes": "", "outcome": "", "occurred_at": received, "site": values["site"]}
        contact_id = insert_contact(**contact)
        entries.append(audit.entry("create", "prospect_interaction", contact_id, user,
                                   audit.diff({}, contact)))
        reviews.append(followup.Event(REVIEW_RULE, "prospect", prospect_id, received, None,
                                      values["site"], prospect_id=prospect_id))
        if row.request.answer.strip():
            answered.append((request_id, row.request.answer.strip(), received))
    for model, batch in ((ProspectPhone, phone_rows), (ProspectSearchToken, token_rows)):
        for start in range(0, len(batch), 200):
            model.insert_many(batch[start:start + 200]).execute()
    audit.record_many(entries)
    followup.create_tasks(reviews, when)
    for request_id, answer, received in answered:  # rare in a lead export
        _answer(ProspectRequest.get_by_id(request_id), answer, received, user)
    return made


# --- the conversion report (PRO-07) ---------------------------------------------------------

@dataclass(frozen=True)
class ConversionReport:
    date_from: dt.date
    date_to: dt.date
    site_id: int | None
    prospects: int
    converted: int
    by_channel: list[rules.ConversionLine]
    by_qualification: list[rules.ConversionLine]
    by_month: list[rules.ConversionLine]
    median_days: float | None
    callbacks_due: int
    callbacks_on_time: int

    @property
    def rate(self) -> float:
        return self.converted / self.prospects if self.prospects else 0.0


def conversion_report(date_from: dt.date, date_to: dt.date, site_id: int | None = None,
                      when: dt.datetime | None = None) -> ConversionReport:
    """Prospects added between the two dates: how many became patients, by channel,
    qualification and month; how long it took; whether their callbacks were made on time."""
    when = when or clock.now()
    if date_to < date_from:
        raise ValidationFailed({"date_to": _("The end of the period is before its start.")})
    start = dt.datetime.combine(date_from, dt.time.min)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
    condition = (Prospect.created_at >= start) & (Prospect.created_at < end)
    if site_id is not None:
        condition &= Prospect.site == site_id
    facts = [rules.ProspectFact(created.date(), channel, qualification,
                                converted.date() if converted else None)
             for created, channel, qualification, converted in
             Prospect.select(Prospect.created_at, Prospect.channel, Prospect.qualification,
                             Prospect.converted_at).where(condition).tuples()]
    callbacks = (FollowUpTask.select(FollowUpTask.status, FollowUpTask.outcome,
                                     FollowUpTask.closed_at, FollowUpTask.due_at)
                 .join(Prospect, on=FollowUpTask.prospect == Prospect.id)
                 .where(condition & (FollowUpTask.rule == CALLBACK_RULE)
                        & (FollowUpTask.due_at < when)).tuples())
    due = on_time = 0
    for status, outcome, closed_at, due_at in callbacks:
        if status == followup.DONE and outcome in ("converted", "lost", "not_interested",
                                                   "merged"):
            continue  # settled before the call was due: nothing to make
        due += 1
        on_time += bool(status == followup.DONE and closed_at and closed_at <= due_at)
    return ConversionReport(
        date_from, date_to, site_id, len(facts),
        sum(fact.converted_on is not None for fact in facts),
        rules.conversion_by(facts, lambda fact: fact.channel),
        rules.conversion_by(facts, lambda fact: fact.qualification),
        rules.conversion_by(facts, lambda fact: rules.month_of(fact.created_on)),
        rules.days_to_conversion(facts), due, on_time)


def report_summary(report: ConversionReport) -> list[str]:
    """The report's figures in sentences, for the window and the paper."""
    from nest_desktop.i18n import format_number, format_percent

    lines = [_("{prospects} prospects, {converted} became patients ({rate}).").format(
        prospects=format_number(report.prospects), converted=format_number(report.converted),
        rate=format_percent(report.rate))]
    if report.median_days is not None:
        lines.append(_("Median time to conversion: {days} days.").format(
            days=format_number(round(report.median_days))))
    if report.callbacks_due:
        lines.append(_("Callbacks made on time: {done} of {due} ({rate}).").format(
            done=format_number(report.callbacks_on_time), due=format_number(report.callbacks_due),
            rate=format_percent(report.callbacks_on_time / report.callbacks_due)))
    return lines


def group_label(kind: str, group: str) -> str:
    if kind == "channel":
        return _(rules.CHANNELS.get(group, group))
    if kind == "qualification":
        return _(rules.QUALIFICATIONS.get(group, group))
    from nest_desktop.i18n import format_date

    year, month = group.split("-")
    return format_date(dt.date(int(year), int(month), 1), "MMMM y")


def report_csv(path, report: ConversionReport, separator: str | None = None) -> int:
    from nest_desktop.i18n import format_percent
    from nest_desktop.services.exports import write_csv

    session.require("prospects.write")

    def rows():
        for kind, title, lines in (("channel", _("Channel"), report.by_channel),
                                   ("qualification", _("Request"), report.by_qualification),
                                   ("month", _("Month added"), report.by_month)):
            for line in lines:
                yield [title, group_label(kind, line.group), line.prospects, line.converted,
                       format_percent(line.rate)]

    count = write_csv(path, [_("By"), _("Group"), _("Prospects"), _("Became patients"),
                             _("Conversion rate")], rows(), separator)
    with database.atomic():
        session.log("export", "prospect", None, details=_("conversion report"))
    return count
