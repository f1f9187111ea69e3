"""Handouts: gathers a record, translates and formats it, and has `printing` lay it out."""

import datetime as dt
from xml.sax.saxutils import escape

from nest_desktop.db.models import Patient, Site
from nest_desktop.domain import patients as rules
from nest_desktop.domain import phones
from nest_desktop.i18n import _, format_age, format_date
from nest_desktop.printing import patient_sheet
from nest_desktop.printing.common import Letterhead
from nest_desktop.services import patients as patient_service


def letterhead(site: Site | None, today: dt.date) -> Letterhead:
    if site is None:
        return Letterhead("Clinique Nest", "", _("Printed on {date} — page {{page}}").format(
            date=format_date(today)))
    lines = [site.address.replace("\n", ", ")] if site.address else []
    if site.phone:
        lines.append(_("Tel. {phone}").format(phone=phones.display(site.phone)))
    return Letterhead(site.name, " — ".join(lines),
                      _("Printed on {date} — page {{page}}").format(date=format_date(today)))


def safe_file_name(text: str) -> str:
    """A file name Windows accepts, accents kept: no \\ / : * ? " < > |."""
    cleaned = "".join("-" if ch in '\\/:*?"<>|' else ch for ch in text)
    return " ".join(cleaned.split()).strip(" .") or "document"


def patient_sheet_pdf(patient_id: int, today: dt.date | None = None) -> tuple[str, bytes]:
    """The printed patient file: its suggested file name and the PDF."""
    today = today or dt.date.today()
    patient = Patient.get_by_id(patient_id)

    def text(value: str) -> str:
        return escape(value or "")

    birth = ""
    if patient.birth_date:
        age = format_age(patient.birth_date, today)
        birth = f"{format_date(patient.birth_date, 'long')} ({age})"
    numbers = ", ".join(phones.display(n) for n in patient_service.phones_of(patient_id))
    provenance = _(rules.PROVENANCES[patient.provenance]) if patient.provenance else ""
    if patient.provenance_detail:
        provenance += f" ({text(patient.provenance_detail)})"
    consents = []
    if patient.sms_consent:
        consents.append(_("SMS reminders"))
    if patient.newsletter_consent:
        consents.append(_("newsletters"))
    intake = format_date(patient.intake_date)
    if patient.intake_by:
        intake += " — " + text(patient.intake_by.full_name)
    family = [
        (_(rules.FAMILY_RELATIONS[m.relation]) if m.is_parent else _("Child"),
         text(m.full_name) + (f" ({format_date(m.birth_date)})" if m.birth_date else ""))
        for m in patient_service.family_of(patient_id)
    ]
    sections = [
        (_("Identity"), [
            (_("Last name"), text(patient.last_name.upper())),
            (_("First names"), text(patient.first_names)),
            (_("Sex"), _(rules.SEXES[patient.sex])),
            (_("Birth date"), birth),
        ]),
        (_("Contact details"), [
            (_("Phones"), numbers),
            (_("Email"), text(patient.email)),
            (_("Address"), text(patient.address)),
            (_("Preferred channel"), _(rules.CONTACT_CHANNELS[patient.preferred_channel])),
            (_("Agrees to receive"), ", ".join(consents) or _("nothing")),
        ]),
        (_("Visit"), [
            (_("Provenance"), provenance),
            (_("Reason for the visit"), text(patient.visit_reason)),
            (_("Standard pathway"), _(rules.PATHWAYS[patient.pathway])),
            (_("First visit"), format_date(patient.first_visit_date)),
            (_("Intake interview"), intake),
        ]),
    ]
    if family:
        sections.append((_("Family"), family))
    if patient.notes:
        sections.append((_("Notes"), [(_("Notes"), text(patient.notes).replace("\n", "<br/>"))]))
    sheet = patient_sheet.PatientSheet(
        title=_("Patient file — {name}").format(name=text(patient.full_name)),
        sections=sections,
        checklist_heading=_("Intake interview"),
        checklist=[(_(label), bool(getattr(patient, item)))
                   for item, label in rules.INTAKE_ITEMS.items()],
        signature_label=_("The patient's signature:"),
    )
    pdf = patient_sheet.render(sheet, letterhead(patient.site, today))
    name = safe_file_name(_("Patient file {name} {date}").format(
        name=patient.full_name, date=today.isoformat()))
    return name + ".pdf", pdf
