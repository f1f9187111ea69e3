"""The audit trail as a person reads it: each entry's fields named in her language, codes
turned into their words ("Fille", "Mère", "Rougeole-rubéole (RR)"), dates as she writes
them; never a column name ("given_on") or a code ("satisfaction_72h")."""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from nest_desktop.db.models import AuditEntry, Patient, Site, User
from nest_desktop.domain import followup as followup_rules
from nest_desktop.domain import patients as patient_rules
from nest_desktop.domain import phones
from nest_desktop.domain import pregnancy as pregnancy_rules
from nest_desktop.domain import reception as reception_rules
from nest_desktop.domain import sms as sms_rules
from nest_desktop.domain import vaccination as vaccine_rules
from nest_desktop.i18n import N_, _, current_language, format_date, format_datetime
from nest_desktop.services import audit, followup, pregnancy, session, vaccination

# Every field a patient's entries may name; those left out say nothing to a reader (the
# record's own numbers, sort keys, versions) and are not shown.
FIELD_LABELS = {
    "last_name": N_("Last name"), "first_names": N_("First names"), "sex": N_("Sex"),
    "birth_date": N_("Birth date"), "phones": N_("Phones"), "email": N_("Email"),
    "address": N_("Address"), "site": N_("Site"), "provenance": N_("Provenance"),
    "provenance_detail": N_("Provenance details"), "visit_reason": N_("Reason for the visit"),
    "pathway": N_("Standard pathway"), "first_visit_date": N_("First visit"),
    "intake_date": N_("Intake interview"), "intake_by": N_("Secretary"),
    "sms_consent": N_("Agrees to receive SMS (appointment and vaccine reminders)"),
    "newsletter_consent": N_("Agrees to receive the information letter"),
    "preferred_channel": N_("Preferred channel"), "notes": N_("Notes"),
    "language": N_("Language of her SMS"),
    **patient_rules.INTAKE_ITEMS,
    # vaccines
    "vaccine": N_("Vaccine"), "dose": N_("Dose"), "given_on": N_("Given on"),
    "product": N_("Product"), "lot": N_("Lot"), "place": N_("Place"),
    "schedule": N_("Schedule"), "optional": N_("Optional vaccines"),
    # family and contacts
    "parent": N_("Parent"), "child": N_("Child"), "relation": N_("Relation"),
    "occurred_at": N_("When"), "channel": N_("Channel"), "direction": N_("Direction"),
    "subject": N_("Subject"), "outcome": N_("Outcome"), "user": N_("By"),
    # pregnancy
    "ddr": N_("Last menstrual period"), "dating_method": N_("Dated by"),
    "stated_ddr": N_("DDR stated by the patient"), "scan_date": N_("Scan date"),
    "scan_weeks": N_("Weeks at the scan"), "scan_days": N_("Days at the scan"),
    "planned_place": N_("Planned place of birth"), "status": N_("Status"),
    "end_reason": N_("End of the pregnancy"), "ended_on": N_("Ended on"),
    "done_on": N_("Done on"), "delivered_at": N_("Birth"), "at_nest": N_("Born at NEST"),
    "babies": N_("Babies"), "discharged_at": N_("Discharge"),
    "tariffs_given": N_("Tariffs given"), "coverage_given": N_("Coverage explained"),
    "financial_conditions_given": N_("Financial conditions given"),
    "classes_proposed": N_("Birth preparation proposed"),
    "classes_accepted": N_("Birth preparation accepted"),
    "mothers_group": N_("Mothers' group"), "newsletter_wanted": N_("Information letter wanted"),
    "newsletter_channel": N_("Information letter by"),
    "child_followed_at_nest": N_("Child followed at NEST"),
    # follow-up, calls, messages, surveys
    "rule": N_("Follow-up"), "event_at": N_("Event"), "opens_at": N_("From"),
    "due_at": N_("Due by"), "attempts": N_("Attempts"), "closed_at": N_("Closed on"),
    "survey": N_("Survey"), "anonymous": N_("Anonymous"), "started_at": N_("Started at"),
    "ended_at": N_("Ended at"), "phone": N_("Phone"), "caller_name": N_("Caller"),
    "reason": N_("Request"), "summary": N_("Summary"), "transferred_to": N_("Transferred to"),
    "resolved_at": N_("Dealt with on"), "resolution": N_("Dealt with"),
    "recipient_name": N_("For"), "caller_phone": N_("Caller's phone"), "text": N_("Message"),
    "urgent": N_("Urgent"), "confirmed_at": N_("Passed on"), "confirmed_how": N_("Passed on how"),
    "service": N_("Service"), "starts_at": N_("Starts at"),
    "duration_minutes": N_("Duration (minutes)"), "cancel_reason": N_("Reason cancelled"),
}

# What an entry is about, beside what was done (the file itself goes unnamed).
TABLE_LABELS = {
    "interaction": N_("Contact"), "family_link": N_("Family"), "vaccine_dose": N_("Vaccine"),
    "vaccination_plan": N_("Vaccination calendar"), "pregnancy": N_("Pregnancy"),
    "pregnancy_milestone": N_("Pregnancy calendar"), "call_36_weeks": N_("36-week call"),
    "delivery": N_("Birth"), "follow_up_task": N_("Follow-up"),
    "survey_response": N_("Survey"), "call_record": N_("Call"),
    "phone_message": N_("Message"), "appointment": N_("Appointment"),
}
ACTION_LABELS = {
    "create": N_("Created"), "update": N_("Changed"), "delete": N_("Deleted"),
    "print": N_("Printed"), "export": N_("Exported"), "merge": N_("Merged"),
}


def _mapped(labels: dict[str, str]) -> Callable[[object], str]:
    return lambda value: _(labels[value]) if value in labels else str(value)


def _vaccines(value) -> str:
    codes = value if isinstance(value, list) else [value]
    return ", ".join(vaccine_rules.vaccine_label(str(c), current_language()) for c in codes)


def _user(value) -> str:
    user = User.get_or_none(User.id == value) if isinstance(value, int) else None
    return user.full_name if user else str(value)


def _site(value) -> str:
    site = Site.get_or_none(Site.id == value) if isinstance(value, int) else None
    return site.name if site else str(value)


def _rule(value) -> str:
    found = followup_rules.rules().get(str(value))
    return found.label_in(current_language()) if found else str(value)


_VALUES: dict[str, Callable[[object], str]] = {
    "sex": _mapped(patient_rules.SEXES), "provenance": _mapped(patient_rules.PROVENANCES),
    "pathway": _mapped(patient_rules.PATHWAYS),
    "preferred_channel": _mapped(patient_rules.CONTACT_CHANNELS),
    "relation": _mapped(patient_rules.FAMILY_RELATIONS),
    "channel": _mapped(patient_rules.INTERACTION_CHANNELS),
    "direction": _mapped({**patient_rules.INTERACTION_DIRECTIONS,
                          **reception_rules.DIRECTIONS}),
    "dating_method": _mapped(pregnancy_rules.DATING_METHODS),
    "vaccine": _vaccines, "optional": _vaccines,
    "user": _user, "intake_by": _user, "site": _site, "rule": _rule,
    "reason": _mapped(reception_rules.REQUEST_TYPES),
    "language": _mapped(sms_rules.LANGUAGES), "place": _mapped(vaccination.PLACES),
    "end_reason": _mapped(pregnancy.END_REASONS),
    "outcome": _mapped({**followup.OUTCOME_LABELS, **reception_rules.OUTCOMES}),
    "status": _mapped({**pregnancy_rules.MILESTONE_STATUSES,
                       **reception_rules.APPOINTMENT_STATUSES,
                       "ongoing": N_("Ongoing"), "ended": N_("Ended"),
                       followup.OPEN: N_("To do"), followup.DONE: N_("Done"),
                       followup.CANCELLED: N_("Cancelled")}),
}
# Fields holding another record's number: named by the person when it is a patient.
_PEOPLE = ("parent", "child")


def _date_or_moment(value: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) <= 10:
        return format_date(moment.date())
    return format_datetime(moment)


_EMPTY = (None, "", [])


def value_text(field: str, value) -> str:
    """One value of an entry as a person reads it."""
    if value in _EMPTY:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field in _VALUES:
        return _VALUES[field](value)
    if field in _PEOPLE and isinstance(value, int):
        person = Patient.get_or_none(Patient.id == value)
        return person.full_name if person else str(value)
    if isinstance(value, list):
        return ", ".join(value_text(field, v) for v in value)
    if isinstance(value, str):
        if value.startswith("+") and value[1:].isdigit():
            return phones.display(value)
        if value[:1].isdigit() and "-" in value[:5]:
            return _date_or_moment(value) or value
    return str(value)


def details_text(entry: AuditEntry) -> str:
    """What an entry says beside its changes: the document printed, the follow-up."""
    if entry.table == "follow_up_task" and entry.details:
        return _rule(entry.details)
    if entry.table == "pregnancy_milestone" and entry.details:
        found = next((m for m in pregnancy_rules.template() if m.id == entry.details), None)
        return found.label_in(current_language()) if found else entry.details
    return _(entry.details) if entry.details else ""


@dataclass(frozen=True)
class HistoryLine:
    when: str
    who: str
    what: str
    details: str


def verify_trail() -> audit.ChainReport:
    """The whole trail checked against its seals, for the quality pilot and administrators."""
    session.require("audit.read")
    return audit.verify()


def patient_entries(patient_id: int) -> list[AuditEntry]:
    """Her file's trail, for whoever may read her file (the trail says what it held)."""
    session.require("patient.read")
    return audit.patient_history(patient_id)


def describe(entry: AuditEntry) -> HistoryLine:
    changes = json.loads(entry.changes or "{}")
    lines = [_("{field}: {old} → {new}").format(
        field=_(FIELD_LABELS[field]), old=value_text(field, old), new=value_text(field, new))
        for field, (old, new) in changes.items()
        if field in FIELD_LABELS and (old not in _EMPTY or new not in _EMPTY)]
    action = _(ACTION_LABELS.get(entry.action, entry.action))
    if entry.table in TABLE_LABELS:
        action = f"{_(TABLE_LABELS[entry.table])} — {action.lower()}"
    details = details_text(entry)
    if details and lines:
        lines.insert(0, details)
    return HistoryLine(format_datetime(entry.at), entry.user_name, action,
                       "\n".join(lines) or details)
