"""Patients: the file (PAT-02), the list and its search, the duplicate check (PRO-05)."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from peewee import JOIN, fn

from nest_desktop.db.models import (
    FamilyLink,
    Interaction,
    Patient,
    PatientPhone,
    PatientSearchToken,
    Site,
    User,
    database,
)
from nest_desktop.domain import clock, permissions, phones
from nest_desktop.domain import patients as rules
from nest_desktop.domain import sms as sms_rules
from nest_desktop.domain.dates import entry_text, parse_date
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import clean_name, fold, words
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    audit,
    check_characters,
    followup,
    hooks,
    ids_of,
    pathways,
    people,
    session,
)


@dataclass
class PatientForm:
    """A patient file as typed: texts as entered, choices as codes."""

    last_name: str = ""
    first_names: str = ""
    sex: str = "F"
    birth_date: str = ""
    phones: list[str] = field(default_factory=list)
    email: str = ""
    address: str = ""
    site_id: int | None = None
    provenance: str = ""
    provenance_detail: str = ""
    visit_reason: str = ""
    pathway: str = "none"
    intake_date: str = ""
    intake_by_id: int | None = None
    intake_tariffs_given: bool = False
    intake_pathways_given: bool = False
    intake_file_complete: bool = False
    intake_provenance_collected: bool = False
    sms_consent: bool | None = False  # None: not asked yet (the intake form asks it)
    newsletter_consent: bool = False
    preferred_channel: str = "sms"
    language: str = "fr"  # of her SMS
    first_visit_date: str = ""
    notes: str = ""


def _parse_optional_date(text: str, field_name: str, errors: dict[str, str]) -> dt.date | None:
    if not (text or "").strip():
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        errors[field_name] = str(error)
        return None


def clean(form: PatientForm, today: dt.date | None = None) -> tuple[dict, list[str]]:
    """Checks a form; returns the values to store and the phones in E.164.

    Raises ValidationFailed with a message per field; phone errors are keyed 'phone_0'…
    """
    today = today or clock.today()
    errors: dict[str, str] = {}
    for name in ("last_name", "first_names"):
        message = rules.validate_name(getattr(form, name))
        if message:
            errors[name] = message
    if form.sex not in rules.SEXES:
        errors["sex"] = _("Choose the sex.")
    birth_date = _parse_optional_date(form.birth_date, "birth_date", errors)
    if "birth_date" not in errors:
        message = rules.validate_birth_date(birth_date, today)
        if message:
            errors["birth_date"] = message
    e164_numbers = people.clean_phones(form.phones, errors)
    if form.sms_consent is None and e164_numbers:
        errors["sms_consent"] = _("Ask her whether she accepts SMS reminders.")
    message = rules.validate_email(form.email)
    if message:
        errors["email"] = message
    intake_date = _parse_optional_date(form.intake_date, "intake_date", errors)
    if intake_date and intake_date > today:
        errors["intake_date"] = _("The intake interview cannot be in the future.")
    first_visit = _parse_optional_date(form.first_visit_date, "first_visit_date", errors)
    if "first_visit_date" not in errors:
        message = rules.validate_first_visit(first_visit, birth_date, today)
        if message:
            errors["first_visit_date"] = message
    if form.provenance and form.provenance not in rules.PROVENANCES:
        errors["provenance"] = _("Choose a provenance from the list.")
    if form.pathway not in rules.PATHWAYS:
        errors["pathway"] = _("Choose a pathway from the list.")
    if form.preferred_channel not in rules.CONTACT_CHANNELS:
        errors["preferred_channel"] = _("Choose a channel from the list.")
    if form.language not in sms_rules.LANGUAGES:
        errors["language"] = _("Choose a language from the list.")
    check_characters(errors, last_name=form.last_name, first_names=form.first_names,
                     email=form.email, address=form.address,
                     provenance=form.provenance_detail, visit_reason=form.visit_reason,
                     notes=form.notes)
    if errors:
        raise ValidationFailed(errors)
    last_name, first_names = clean_name(form.last_name), clean_name(form.first_names)
    values = {
        "last_name": last_name,
        "first_names": first_names,
        "sort_key": f"{fold(last_name)} {fold(first_names)}",
        "sex": form.sex,
        "birth_date": birth_date,
        "email": form.email.strip(),
        "address": form.address.strip(),
        "site": form.site_id,
        "provenance": form.provenance,
        "provenance_detail": form.provenance_detail.strip(),
        "visit_reason": form.visit_reason.strip(),
        "pathway": form.pathway,
        "intake_date": intake_date,
        "intake_by": form.intake_by_id,
        "sms_consent": bool(form.sms_consent),
        "newsletter_consent": form.newsletter_consent,
        "preferred_channel": form.preferred_channel,
        "language": form.language,
        "first_visit_date": first_visit,
        "notes": form.notes.strip(),
    }
    for item in rules.INTAKE_ITEMS:
        values[item] = bool(getattr(form, item))
    return values, e164_numbers


def _write_phones_and_tokens(patient_id: int, e164_numbers: list[str], last_name: str,
                             first_names: str) -> None:
    # a number found wrong stays marked while it is kept on the file
    wrong = dict(PatientPhone.select(PatientPhone.e164, PatientPhone.wrong_since).where(
        (PatientPhone.patient == patient_id) & PatientPhone.wrong_since.is_null(False)).tuples())
    PatientPhone.delete().where(PatientPhone.patient == patient_id).execute()
    PatientSearchToken.delete().where(PatientSearchToken.patient == patient_id).execute()
    if e164_numbers:
        PatientPhone.insert_many(
            [{"patient": patient_id, "e164": number,
              "national_digits": phones.national_digits(number), "position": position,
              "wrong_since": wrong.get(number)}
             for position, number in enumerate(e164_numbers)]
        ).execute()
    tokens = words(f"{last_name} {first_names}")
    if tokens:
        PatientSearchToken.insert_many(
            [{"patient": patient_id, "token": token[:100]} for token in tokens]
        ).execute()


def _audited(values: dict, e164_numbers: list[str]) -> dict:
    shown = {key: value for key, value in values.items() if key != "sort_key"}
    shown["phones"] = list(e164_numbers)
    return shown


def _check_intake_by(values: dict, old_user_id: int | None = None) -> None:
    """The intake interview is held by a medical secretary (PAT-02): checked when it is
    recorded, not on every later save of the file."""
    user_id = values.get("intake_by")
    if not user_id or user_id == old_user_id:
        return
    user = User.get_or_none(User.id == user_id)
    if user is None or not permissions.allowed(user.role, "intake.hold"):
        raise ValidationFailed({"intake_by": _(
            "The intake interview is held by a medical secretary.")})


def create_patient(form: PatientForm, today: dt.date | None = None) -> Patient:
    session.require("patient.write")
    values, e164_numbers = clean(form, today)
    _check_intake_by(values)
    with database.atomic():
        patient = Patient.create(**values, pathway_ends_on=pathways.end_of_file_pathway(
            values["pathway"], clock.today()))
        _write_phones_and_tokens(patient.id, e164_numbers, values["last_name"],
                                 values["first_names"])
        session.log("create", "patient", patient.id,
                    audit.diff({}, _audited(values, e164_numbers)))
        pathways.recorded(patient.id, "none", values["pathway"], "file", clock.now())
        followup.sync_patient(patient)
        hooks.patient_created.call(patient, e164_numbers)  # a prospect converts (PRO-07)
    return patient


def update_patient(patient_id: int, expected_version: int, form: PatientForm,
                   today: dt.date | None = None) -> Patient:
    """Saves a changed file; refused if someone saved it since `expected_version` was read."""
    session.require("patient.write")
    values, e164_numbers = clean(form, today)
    old = Patient.get_by_id(patient_id)
    _check_intake_by(values, old.intake_by_id)
    old_values = _audited({key: getattr(old, key if key not in ("site", "intake_by")
                                        else f"{key}_id") for key in values},
                          phones_of(patient_id))
    if values["pathway"] != old.pathway:  # a pathway with an end chosen by hand
        values["pathway_ends_on"] = pathways.end_of_file_pathway(values["pathway"],
                                                                 clock.today())
    with database.atomic():
        changed = (Patient.update(**values, updated_at=clock.now(), version=Patient.version + 1)
                   .where((Patient.id == patient_id) & (Patient.version == expected_version))
                   .execute())
        if changed != 1:
            raise StaleRecordError(
                _("This file was changed on another workstation since you opened it. "
                  "Close it and open it again to see the changes.")
            )
        _write_phones_and_tokens(patient_id, e164_numbers, values["last_name"],
                                 values["first_names"])
        session.log("update", "patient", patient_id,
                    audit.diff(old_values, _audited(values, e164_numbers)))
        pathways.recorded(patient_id, old.pathway, values["pathway"], "file", clock.now())
        patient = Patient.get_by_id(patient_id)
        followup.sync_patient(patient)
        if (old.birth_date, old.sex, old.site_id, old.first_names, old.last_name) != (
                patient.birth_date, patient.sex, patient.site_id, patient.first_names,
                patient.last_name):
            # her calendar moves with them; her place in the lists shows them
            hooks.child_doses_changed.call(patient_id)
        if (old.sms_consent, old.language, old_values.get("phones")) != (
                patient.sms_consent, patient.language, e164_numbers):
            # her reminders are in the outbox as soon as she agrees (or gone when she no
            # longer does)
            hooks.patient_contact_changed.call(patient_id)
    return patient


def get_patient(patient_id: int) -> Patient:
    return Patient.get_by_id(patient_id)


def wrong_numbers(patient_id: int) -> list[str]:
    """Her numbers found wrong on a call (E.164): to replace at her next contact."""
    return [row[0] for row in PatientPhone.select(PatientPhone.e164).where(
        (PatientPhone.patient == patient_id) & PatientPhone.wrong_since.is_null(False))
        .order_by(PatientPhone.position).tuples()]


@hooks.task_attempted.register
def mark_wrong_number(task, user, attempt_outcome: str, notes: str, when) -> None:
    """A follow-up call found her number wrong: the number called (her main one, the
    first the call window shows) is marked; inside the call's transaction."""
    if attempt_outcome != "wrong_number" or not task.patient_id:
        return
    main = (PatientPhone.select().where((PatientPhone.patient == task.patient_id)
                                        & PatientPhone.wrong_since.is_null())
            .order_by(PatientPhone.position).first())
    if main is None:
        return
    PatientPhone.update(wrong_since=when).where(PatientPhone.id == main.id).execute()
    session.log("update", "patient_phone", main.id,
                {"wrong_since": [None, when.isoformat(timespec="minutes")]},
                details=phones.display(main.e164), patient_id=task.patient_id)
    hooks.patient_contact_changed.call(task.patient_id)  # no SMS to it any more


def phones_of(patient_id: int) -> list[str]:
    query = (PatientPhone.select(PatientPhone.e164)
             .where(PatientPhone.patient == patient_id).order_by(PatientPhone.position))
    return [row.e164 for row in query]


def form_of(patient: Patient) -> PatientForm:
    """The form showing a stored patient."""
    form = PatientForm()
    for item in fields(PatientForm):
        if item.name in ("phones", "site_id", "intake_by_id"):
            continue
        value = getattr(patient, item.name)
        setattr(form, item.name, entry_text(value) if isinstance(value, dt.date) else value)
    form.phones = [phones.display(number) for number in phones_of(patient.id)]
    form.site_id = patient.site_id
    form.intake_by_id = patient.intake_by_id
    return form


# --- the list and its search ------------------------------------------------------------

SORT_COLUMNS = {
    "name": (Patient.sort_key,),
    "birth_date": (Patient.birth_date, Patient.sort_key),
    "created_at": (Patient.created_at, Patient.id),
}



def search_ids(query: str = "", sort: str = "name", descending: bool = False,
               site_id: int | None = None, limit: int | None = None) -> list[int]:
    """Ids of the patients matching `query`, in list order; the first `limit` only, if
    given (the database stops there rather than find every match of "77").

    The query is a phone number in any written form, or words: parts of names (accents and
    case ignored) and birth dates.
    """
    select = search_query(query, sort, descending, site_id)
    return ids_of(select if limit is None else select.limit(limit))


def search_query(query: str = "", sort: str = "name", descending: bool = False,
                 site_id: int | None = None):
    """The SELECT behind `search_ids` (the benchmark runs its SQL without Peewee too)."""
    select = Patient.select(Patient.id)
    text = (query or "").strip()
    if text and phones.looks_like_phone(text) and phones.search_digits(text):
        digits = phones.search_digits(text)
        select = select.where(Patient.id.in_(
            PatientPhone.select(PatientPhone.patient)
            .where(people.prefix_range(PatientPhone.national_digits, digits))))
    elif text:
        for term in text.split():
            try:
                select = select.where(Patient.birth_date == parse_date(term))
                continue
            except ValueError:
                pass
            for word in words(term):
                select = select.where(Patient.id.in_(
                    PatientSearchToken.select(PatientSearchToken.patient)
                    .where(people.prefix_range(PatientSearchToken.token, word))))
    if site_id is not None:
        select = select.where(Patient.site == site_id)
    columns = SORT_COLUMNS.get(sort, SORT_COLUMNS["name"])
    return select.order_by(*[c.desc() if descending else c.asc() for c in columns])


@dataclass(frozen=True)
class PatientRow:
    id: int
    last_name: str
    first_names: str
    sex: str
    birth_date: dt.date | None
    phone: str  # E.164 of the main number, '' if none
    site_name: str
    pathway: str


def rows_for(ids: Iterable[int]) -> dict[int, PatientRow]:
    """The list's columns for a batch of patients, in one query each for patients and phones."""
    ids = list(ids)
    if not ids:
        return {}
    main_phones = dict(
        PatientPhone.select(PatientPhone.patient, fn.MIN(PatientPhone.e164))
        .where(PatientPhone.patient.in_(ids) & (PatientPhone.position == 0))
        .group_by(PatientPhone.patient).tuples()
    )
    query = (Patient.select(Patient.id, Patient.last_name, Patient.first_names, Patient.sex,
                            Patient.birth_date, Site.name, Patient.pathway)
             .join(Site, JOIN.LEFT_OUTER).where(Patient.id.in_(ids)).tuples())
    return {
        row[0]: PatientRow(row[0], row[1], row[2], row[3], row[4], main_phones.get(row[0], ""),
                           row[5] or "", row[6])
        for row in query
    }


def count() -> int:
    return Patient.select().count()


# --- duplicate check (PRO-05) -----------------------------------------------------------

def find_duplicates(form: PatientForm, exclude_id: int | None = None
                    ) -> list[rules.DuplicateCandidate]:
    """Patients who may already be the person in `form` (phone, or birth date and name)."""
    return people.existing_people(
        f"{form.first_names} {form.last_name}", people.typed_date(form.birth_date),
        people.typed_phones(form.phones), kinds=(people.PATIENT,),
        exclude=(people.PATIENT, exclude_id) if exclude_id is not None else None)


# --- timeline and family ----------------------------------------------------------------

def add_interaction(patient_id: int, user_id: int | None, channel: str, direction: str,
                    subject: str, notes: str = "", outcome: str = "",
                    occurred_at: dt.datetime | None = None,
                    site_id: int | None = None) -> Interaction:
    session.require("patient.write")
    errors = {}
    if not subject.strip():
        errors["subject"] = _("Write what the contact was about.")
    if channel not in rules.INTERACTION_CHANNELS:
        errors["channel"] = _("Choose a channel from the list.")
    if direction not in rules.INTERACTION_DIRECTIONS:
        errors["direction"] = _("Choose a direction from the list.")
    if len(subject.strip()) > 200 or len(outcome.strip()) > 200:
        errors["subject"] = _("The subject and the outcome have at most 200 characters.")
    check_characters(errors, subject=subject + outcome + notes)
    if occurred_at and occurred_at > clock.now() + dt.timedelta(minutes=5):
        errors["occurred_at"] = _("A contact cannot be in the future.")
    if errors:
        raise ValidationFailed(errors)
    values = {"patient": patient_id, "user": user_id, "channel": channel,
              "direction": direction, "subject": subject.strip(), "notes": notes.strip(),
              "outcome": outcome.strip(), "occurred_at": occurred_at or clock.now(),
              "site": site_id}
    with database.atomic():
        interaction = Interaction.create(**values)
        session.log("create", "interaction", interaction.id, audit.diff({}, values),
                    patient_id=patient_id)
    return interaction


def interactions_of(patient_id: int) -> list[Interaction]:
    return list(Interaction.select(Interaction, User).join(User, JOIN.LEFT_OUTER)
                .where(Interaction.patient == patient_id)
                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()))


@dataclass(frozen=True)
class FamilyMember:
    link_id: int
    patient_id: int
    full_name: str
    birth_date: dt.date | None
    relation: str  # the parent's relation to the child
    is_parent: bool  # True when this member is the parent of the file's patient


def link_family(parent_id: int, child_id: int, relation: str) -> FamilyLink:
    session.require("patient.write")
    if parent_id == child_id:
        raise ValidationFailed({"family": _("A person cannot be her own parent.")})
    if relation not in rules.FAMILY_RELATIONS:
        raise ValidationFailed({"family": _("Choose the relation from the list.")})
    with database.atomic():
        exists = FamilyLink.select().where(
            ((FamilyLink.parent == parent_id) & (FamilyLink.child == child_id))
            | ((FamilyLink.parent == child_id) & (FamilyLink.child == parent_id))).exists()
        if exists:
            raise ValidationFailed({"family": _("These two people are already linked.")})
        link = FamilyLink.create(parent=parent_id, child=child_id, relation=relation)
        session.log("create", "family_link", link.id, audit.diff(
            {}, {"parent": parent_id, "child": child_id, "relation": relation}),
            patient_id=child_id)
    return link


def unlink_family(link_id: int) -> None:
    session.require("patient.write")
    link = FamilyLink.get_or_none(FamilyLink.id == link_id)
    if link is None:
        return
    with database.atomic():
        FamilyLink.delete().where(FamilyLink.id == link_id).execute()
        session.log("delete", "family_link", link_id, audit.diff(
            {"parent": link.parent_id, "child": link.child_id, "relation": link.relation}, {}),
            patient_id=link.child_id)


def family_of(patient_id: int) -> list[FamilyMember]:
    members = []
    Parent = Patient.alias()
    for link in (FamilyLink.select(FamilyLink, Parent)
                 .join(Parent, on=FamilyLink.parent == Parent.id)
                 .where(FamilyLink.child == patient_id).order_by(FamilyLink.id)):
        members.append(FamilyMember(link.id, link.parent.id, link.parent.full_name,
                                    link.parent.birth_date, link.relation, True))
    Child = Patient.alias()
    for link in (FamilyLink.select(FamilyLink, Child)
                 .join(Child, on=FamilyLink.child == Child.id)
                 .where(FamilyLink.parent == patient_id).order_by(FamilyLink.id)):
        members.append(FamilyMember(link.id, link.child.id, link.child.full_name,
                                    link.child.birth_date, link.relation, False))
    return members


@hooks.task_events.register
def first_visit_events(when: dt.datetime, window: dt.timedelta) -> list[followup.Event]:
    """Each first visit recent enough: the 72-hour satisfaction call (PAT-03)."""
    closing = followup.closing_time()
    events = []
    for patient_id, visit, visit_at, site_id, intake in (
            Patient.select(Patient.id, Patient.first_visit_date, Patient.first_visit_at,
                           Patient.site, Patient.intake_date)
            .where(Patient.first_visit_date >= (when - window).date()).tuples()):
        moment = followup.first_visit_event(visit, closing, visit_at)
        events.append(followup.Event("satisfaction_72h", "patient", patient_id, moment,
                                     patient_id, site_id))
        if intake is None:  # the intake interview is still to hold (PAT-02)
            events.append(followup.Event(followup.INTAKE, "patient", patient_id, moment,
                                         patient_id, site_id))
    return events
