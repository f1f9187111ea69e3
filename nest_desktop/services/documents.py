"""Handouts: gathers a record, translates and formats it, and has `printing` lay it out."""

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

from nest_desktop.db.models import Patient, Site, database
from nest_desktop.domain import clock, phones
from nest_desktop.domain import patients as rules
from nest_desktop.domain import vaccination as vaccine_rules
from nest_desktop.i18n import (
    N_,
    _,
    counted,
    current_language,
    format_age,
    format_date,
    format_datetime,
    format_list,
    format_number,
    format_schedule_age,
    ngettext,
    pgettext,
)
from nest_desktop.services import audit, history, session, vaccination
from nest_desktop.services import patients as patient_service
from nest_desktop.services.exports import safe_file_name, write_csv


def text(value: str) -> str:
    """A value of a record inside a ReportLab paragraph, its markup characters escaped."""
    return escape(value or "")


def letterhead(site: Site | None, today: dt.date):
    """The printing's Letterhead of a site (ReportLab is imported when a first document is
    printed, not at start)."""
    from nest_desktop.printing.common import Letterhead

    footer = _("Printed on {date} — page {{page}} of {{pages}}").format(date=format_date(today))
    if site is None:
        return Letterhead("Clinique Nest", "", footer)
    lines = [site.address.replace("\n", ", ")] if site.address else []
    if site.phone:
        lines.append(_("Tel. {phone}").format(phone=phones.display(site.phone)))
    return Letterhead(site.name, " — ".join(lines), footer)


def patient_sheet_pdf(patient_id: int, today: dt.date | None = None) -> tuple[str, bytes]:
    """The printed patient file: its suggested file name and the PDF."""
    from nest_desktop.printing import patient_sheet

    session.require("document.print")
    today = today or clock.today()
    patient = Patient.get_by_id(patient_id)
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
            (_("Address"), text(patient.address).replace("\n", "<br/>")),
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
        signature_label=signature_label(patient, today),
    )
    pdf = patient_sheet.render(sheet, letterhead(patient.site, today))
    with database.atomic():
        session.log("print", "patient", patient_id, details=N_("patient file"))
    name = safe_file_name(_("Patient file {name} {date}").format(
        name=patient.full_name, date=today.isoformat()))
    return name + ".pdf", pdf


def appointment_card_pdf(appointment_id: int, today: dt.date | None = None
                         ) -> tuple[str, bytes]:
    """The appointment card handed to her (A6): who, when, with whom, where."""
    from nest_desktop.db.models import Appointment
    from nest_desktop.domain import agenda as agenda_rules
    from nest_desktop.printing import appointment_card

    session.require("document.print")
    today = today or clock.today()
    appointment = Appointment.get_by_id(appointment_id)
    person = appointment.patient if appointment.patient_id else appointment.prospect
    site = appointment.site
    rows = [(_("With"), text(appointment.service.name) if appointment.service_id else "")]
    if appointment.kind:
        rows.append((_("What for"), text(_(agenda_rules.APPOINTMENT_KINDS[appointment.kind][0]))))
    if appointment.reason:
        rows.append((_("Reason"), text(appointment.reason)))
    if site is not None:
        rows.append((_("Where"), text(", ".join(part for part in (
            site.name, site.address.replace("\n", ", ")) if part))))
    call = (_("If you cannot come, please call us on {phone} to book another time.").format(
        phone=phones.display(site.phone)) if site is not None and site.phone else
        _("If you cannot come, please call us to book another time."))
    card = appointment_card.AppointmentCard(
        title=_("Appointment card"), person=text(person.full_name),
        day=format_date(appointment.starts_at.date(), "full").capitalize(),
        time=_("{time} ({duration})").format(
            time=appointment.starts_at.strftime("%H:%M"),
            duration=ngettext("{count} minute", "{count} minutes",
                              appointment.duration_minutes).format(
                count=format_number(appointment.duration_minutes))),
        rows=rows, note=call)
    pdf = appointment_card.render(card, letterhead(site, today))
    with database.atomic():
        session.log("print", "appointment", appointment_id, details=N_("appointment card"),
                    patient_id=appointment.patient_id)
    name = safe_file_name(_("Appointment {name} {date}").format(
        name=person.full_name, date=appointment.starts_at.date().isoformat()))
    return name + ".pdf", pdf


def recovery_code_pdf(code: str, today: dt.date | None = None) -> tuple[str, bytes]:
    """The sheet of the administrators' recovery code, just made (`desk.new_recovery_code`);
    the code is in no file but this PDF, which is not saved unless she chooses to."""
    from nest_desktop.printing import recovery_sheet
    from nest_desktop.services import desk

    user = session.require("accounts.manage")
    today = today or clock.today()
    made = desk.recovery_code_made() or {}
    sheet = recovery_sheet.RecoverySheet(
        title=_("Administrators' recovery code"), code=code,
        made=_("Made on {date} by {name}. It replaces any earlier code.").format(
            date=format_date(today, "long"), name=text(made.get("made_by", user.full_name))),
        steps=[_("When no administrator knows her password any more: on the login window, "
                 "click “Recovery code…”."),
               _("Type an administrator's login, this code, and her new password twice."),
               _("The code works once. Then an administrator prints a new one in Settings "
                 "› Users › “New recovery code…”.")],
        keep=_("Keep this sheet under lock, away from the workstations. Whoever holds it "
               "can open an administrator's account."))
    pdf = recovery_sheet.render(sheet, letterhead(Site.select().order_by(Site.id).first(),
                                                  today))
    with database.atomic():
        session.log("print", "user", user.id, details=N_("administrators' recovery code"))
    return safe_file_name(_("Recovery code {date}").format(date=today.isoformat())) + ".pdf", pdf


def signature_label(patient: Patient, today: dt.date) -> str:
    """Who signs the printed file: a minor's parent or legal guardian, else the patient,
    named by her or his sex."""
    from nest_desktop.domain.dates import age_in_years

    if patient.birth_date and age_in_years(patient.birth_date, today) < 18:
        return _("Signature of a parent or the legal guardian:")
    if patient.sex == "F":
        return pgettext("woman", "The patient's signature:")
    if patient.sex == "M":
        return pgettext("man", "The patient's signature:")
    return _("The patient's signature:")


def next_visit_line(doses: list[vaccine_rules.Dose], today: dt.date) -> str:
    """The next vaccination visit with its real day (today for a late child) and the doses
    to give then; empty when nothing is left to give."""
    day = vaccine_rules.next_visit(doses)
    if day is None:
        return ""
    names = ", ".join(dose_text(d) for d in vaccine_rules.next_visit_doses(doses))
    if day <= today and any(d.status == vaccine_rules.OVERDUE for d in doses):
        return _("Next vaccination visit: as soon as possible, from {date} — {doses}").format(
            date=format_date(day, "full"), doses=names)
    return _("Next vaccination visit: {date} — {doses}").format(
        date=format_date(day, "full"), doses=names)


def born_on(sex: str | None) -> str:
    """"né le" for a boy, "née le" for a girl, "né(e) le" only when the sex is not known."""
    if sex == "M":
        return pgettext("boy", "<b>{name}</b>, born on {date}")
    if sex == "F":
        return pgettext("girl", "<b>{name}</b>, born on {date}")
    return _("<b>{name}</b>, born on {date}")


def dose_label(dose: int) -> str:
    return _("booster") if dose >= 4 else str(dose)


def dose_text(dose: vaccine_rules.Dose) -> str:
    """'Rougeole-rubéole (RR) — 1'."""
    label = vaccine_rules.vaccine_label(dose.vaccine, current_language())
    return f"{label} — {dose_label(dose.dose)}"


def vaccination_calendar_pdf(patient_id: int, page: str = "A4",
                             today: dt.date | None = None) -> tuple[str, bytes]:
    """The child's personalised vaccination calendar for the parents (PAT-11)."""
    from nest_desktop.printing import vaccination_calendar

    session.require("document.print")
    today = today or clock.today()
    calendar = vaccination.child_calendar(patient_id, today)
    child = calendar.patient
    language = current_language()
    next_doses = vaccine_rules.next_visit_doses(calendar.doses)
    rows = []
    for entry in calendar.doses:
        record = calendar.records.get((entry.vaccine, entry.dose))
        expired = entry.status == vaccine_rules.EXPIRED
        rows.append(vaccination_calendar.CalendarRow(
            vaccine=text(vaccine_rules.vaccine_label(entry.vaccine, language)),
            dose=dose_label(entry.dose),
            age=format_schedule_age(
                entry.age.days, entry.age.weeks, entry.age.months, entry.age.years),
            due=_("no longer given") if expired else format_date(
                entry.due, "d MMM y" if page == "A4" else "entry"),
            given=format_date(entry.given),
            lot=text(record.lot if record else ""),
            next_visit=entry in next_doses,
            no_longer_due=expired))
    parents = format_list([
        "{name} ({relation}{phones})".format(
            name=text(p.full_name), relation=_(rules.FAMILY_RELATIONS[p.relation]).lower(),
            phones=(", " + format_list([phones.display(n) for n in p.phones], "or"))
            if p.phones else "")
        for p in calendar.parents])
    child_lines = [
        born_on(child.sex).format(name=text(child.full_name),
                                                   date=format_date(child.birth_date, "long")),
    ]
    if parents:
        child_lines.append(_("Parents: {parents}").format(parents=parents))
    site = child.site
    contact = (_("Questions, appointments: {site}, {phone}").format(
        site=text(site.name), phone=phones.display(site.phone)) if site and site.phone
        else _("Bring this calendar to every visit."))
    document = vaccination_calendar.VaccinationCalendar(
        title=_("Vaccination calendar"),
        child_lines=child_lines,
        next_visit_line=next_visit_line(calendar.doses, today),
        headers=(_("Vaccine"), _("Dose"), _("Age"), _("Due on"), _("Given on"), _("Lot"),
                 _("Signature, stamp")),
        rows=rows,
        contact_line=contact,
        schedule_line=_("Schedule: {schedule}. When a dose is given late, the dates of the "
                        "next doses are moved.").format(
            schedule=text(calendar.version.label.get(language) or calendar.version.id)),
    )
    pdf = vaccination_calendar.render(document, letterhead(site, today), page)
    with database.atomic():
        session.log("print", "patient", patient_id, details=N_("vaccination calendar"))
    name = safe_file_name(_("Vaccination calendar {name} {date}").format(
        name=child.full_name, date=today.isoformat()))
    return name + ".pdf", pdf


def due_list_csv(path: Path, rows: list[vaccination.DueRow], separator: str | None = None) -> int:
    """The children with doses to give (Children & vaccines), for calls and SMS campaigns."""
    session.require("patients.export")
    language = current_language()
    headers = [_("Child"), _("Birth date"), _("Site"), _("Doses to give"), _("First due date"),
               _("Overdue"), _("Phone"), _("SMS")]
    count = write_csv(path, headers, (
        [row.child_name, format_date(row.birth_date), row.site_name,
         ", ".join(f"{vaccine_rules.vaccine_label(d.vaccine, language)} {dose_label(d.dose)}"
                   for d in row.doses),
         format_date(row.first_due), _("yes") if row.overdue else _("no"),
         phones.display(row.contact_phone) if row.contact_phone else "",
         _("yes") if row.sms_consent else _("no")]
        for row in rows), separator)
    with database.atomic():
        session.log("export", "patient", None,
                    details=_("vaccines to give: {count} children").format(count=count))
    return count


def audit_csv(path: Path, since: dt.datetime, separator: str | None = None) -> int:
    """The audit trail since a date, for the quality pilot (ISO 9001 reviews)."""
    session.require("audit.read")
    headers = [_("When"), _("By"), _("Action"), _("Record"), _("Number"), _("Changes"),
               _("Details")]
    count = write_csv(path, headers, (
        [format_datetime(entry.at), entry.user_name, history.describe(entry).what,
         entry.table, entry.record_id if entry.record_id is not None else "", entry.changes,
         history.details_text(entry)]
        for entry in audit.entries_since(since)), separator)
    with database.atomic():
        session.log("export", "audit_entry", None,
                    details=_("audit trail: {count} entries").format(count=count))
    return count


# --- pregnancy handouts -------------------------------------------------------------------

def _handout_texts(name: str) -> dict:
    """The clinic's texts for a handout, in the language of the desk (French otherwise)."""
    import json

    from nest_desktop.paths import RESOURCES_DIR

    with (RESOURCES_DIR / "pregnancy" / "handouts.json").open(encoding="utf-8") as handle:
        texts = json.load(handle)[name]
    return texts.get(current_language()) or texts["fr"]


def _pregnancy_facts(pregnancy, today: dt.date) -> list[tuple[str, str]]:
    from nest_desktop.domain import pregnancy as pregnancy_rules
    from nest_desktop.services import pregnancy as pregnancy_service

    patient = pregnancy.patient
    dpa = pregnancy_service.due_date(pregnancy)
    facts = [(pgettext("woman", "Patient"),
              f"<b>{text(patient.first_names)} {text(patient.last_name)}</b>"),
             (_("Last menstrual period"), format_date(pregnancy.ddr, "long")),
             (_("Due date ({convention})").format(
                 convention=pregnancy_service.convention_text()),
              f"<b>{format_date(dpa, 'full')}</b>")]
    if pregnancy.status == "ongoing":
        weeks, days = pregnancy_rules.gestational_age(pregnancy.ddr, today)
        facts.append((_("Today"), pregnancy_rules.format_sa(weeks, days)))
    if pregnancy.planned_place:
        facts.append((_("Planned place of birth"), text(pregnancy.planned_place)))
    return facts


def _contact(site: Site | None) -> str:
    if site is None:
        return ""
    line = f"<b>{text(site.name)}</b>"
    if site.address:
        line += " — " + text(site.address.replace("\n", ", "))
    if site.phone:
        line += " — " + _("Tel. {phone}").format(phone=phones.display(site.phone))
    return line


def pregnancy_calendar_pdf(pregnancy_id: int, today: dt.date | None = None
                           ) -> tuple[str, bytes]:
    """The pregnancy calendar for the patient: every milestone with its dates and status."""
    from nest_desktop.db.models import Pregnancy
    from nest_desktop.domain import pregnancy as pregnancy_rules
    from nest_desktop.printing import pregnancy as printing
    from nest_desktop.services import pregnancy as pregnancy_service

    session.require("document.print")
    today = today or clock.today()
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    patient = pregnancy.patient
    language = current_language()
    rows = []
    for planned in pregnancy_service.plan_of(pregnancy, today):
        period = pregnancy_service.milestone_period(planned)
        rows.append(printing.CalendarRow(
            text(pregnancy_service.milestone_label(planned.milestone, language)), period,
            _(pregnancy_rules.PATIENT_MILESTONE_STATUSES[planned.status]),
                                         format_date(planned.done_on),
                                         planned.status == "current"))
    method = _(pregnancy_rules.DATING_METHODS.get(pregnancy.dating_method, ""))
    facts = _pregnancy_facts(pregnancy, today) + [(_("Dated by"), method)]
    document = printing.PregnancyCalendar(
        title=_("My pregnancy calendar"), facts=facts,
        headers=(_("Milestone"), _("Period"), _("Status"), _("Done on")), rows=rows,
        note=_("The dates follow the recommended windows, in weeks of amenorrhoea (SA) from "
               "the last menstrual period. Bring this calendar to each consultation."))
    pdf = printing.render_calendar(document, letterhead(pregnancy.site, today))
    with database.atomic():
        session.log("print", "pregnancy", pregnancy_id, details=N_("pregnancy calendar"),
                    patient_id=patient.id)
    name = safe_file_name(_("Pregnancy calendar {name} {date}").format(
        name=f"{patient.first_names} {patient.last_name}", date=today.isoformat()))
    return name + ".pdf", pdf


def pack_36_weeks_pdf(pregnancy_id: int, today: dt.date | None = None,
                      log: bool = True) -> tuple[str, bytes]:
    """The 36-week information pack (PAT-07), personalised."""
    from nest_desktop.db.models import Pregnancy
    from nest_desktop.i18n import format_fcfa
    from nest_desktop.printing import pregnancy as printing
    from nest_desktop.services import settings

    session.require("document.print")
    today = today or clock.today()
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    patient = pregnancy.patient
    texts = _handout_texts("pack_36_weeks")
    group_link = str(settings.get("pregnancy.mothers_group_link") or "")
    tariffs = [(text(str(label)), format_fcfa(int(amount)))
               for label, amount in settings.get("pregnancy.tariffs") or []]
    document = printing.Handout(
        title=text(texts["title"]), facts=_pregnancy_facts(pregnancy, today),
        intro=text(texts["intro"]),
        sections=[printing.Section(text(s["title"]), [text(line) for line in s["lines"]])
                  for s in texts["sections"]],
        warnings=[printing.Section(text(texts["warning_title"]),
                                   [text(line) for line in texts["warnings"]])],
        tariffs_title=text(texts["tariffs_title"]), tariffs=tariffs,
        tariffs_note=text(texts["tariffs_note"]) if tariffs
        else _("Ask the desk for the tariffs and the coverage of your insurance."),
        group_title=text(texts["group_title"]),
        # Without a link there is no code to scan: the text says so, not "scan this code".
        group_text=text(texts["group_text"] if group_link
                        else texts.get("group_text_without_link", texts["group_text"])),
        # No contact line at the foot: the letterhead, on this one page, gives the site's
        # name, address and phone; a line repeating it would take the page's last room.
        group_link=group_link)
    pdf = printing.render_handout(document, letterhead(pregnancy.site, today))
    if log:
        with database.atomic():
            session.log("print", "pregnancy", pregnancy_id, details=N_("36-week information pack"),
                        patient_id=patient.id)
    name = safe_file_name(_("36-week pack {name} {date}").format(
        name=f"{patient.first_names} {patient.last_name}", date=today.isoformat()))
    return name + ".pdf", pdf


def going_home_pdf(pregnancy_id: int, today: dt.date | None = None) -> tuple[str, bytes]:
    """The handout given at discharge (PAT-09)."""
    from nest_desktop.db.models import Delivery, DeliveryBaby, Pregnancy
    from nest_desktop.printing import pregnancy as printing

    session.require("document.print")
    today = today or clock.today()
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    patient = pregnancy.patient
    texts = _handout_texts("going_home")
    facts = [(_("Mother"), f"<b>{text(patient.first_names)} {text(patient.last_name)}</b>")]
    delivery = Delivery.get_or_none(Delivery.pregnancy == pregnancy_id)
    if delivery is not None:
        facts.append((_("Birth"), format_datetime(delivery.delivered_at, "long")))
        for baby in DeliveryBaby.select().where(DeliveryBaby.delivery == delivery.id):
            line = f"{text(baby.child.first_names)} {text(baby.child.last_name)}"
            if baby.weight_grams:
                line += " — " + _("{grams} g").format(grams=format_number(baby.weight_grams))
            facts.append((_("Baby"), line))
    document = printing.Handout(
        title=text(texts["title"]), facts=facts, intro=text(texts["intro"]),
        sections=[printing.Section(text(s["title"]), [text(line) for line in s["lines"]])
                  for s in texts["sections"]],
        warnings=[printing.Section(text(texts["mother_warning_title"]),
                                   [text(line) for line in texts["mother_warnings"]]),
                  printing.Section(text(texts["baby_warning_title"]),
                                   [text(line) for line in texts["baby_warnings"]])],
        closing=text(texts["invitation"]), contact=_contact(pregnancy.site))
    pdf = printing.render_handout(document, letterhead(pregnancy.site, today))
    with database.atomic():
        session.log("print", "pregnancy", pregnancy_id, details=N_("going-home handout"),
                    patient_id=patient.id)
    name = safe_file_name(_("Going home {name} {date}").format(
        name=f"{patient.first_names} {patient.last_name}", date=today.isoformat()))
    return name + ".pdf", pdf


def conversion_report_pdf(report, today: dt.date | None = None) -> tuple[str, bytes]:
    """The prospect conversion report (PRO-07) with its charts."""
    from nest_desktop.i18n import format_percent
    from nest_desktop.printing import conversion_report as printing
    from nest_desktop.services import desk
    from nest_desktop.services import prospects as prospect_service

    session.require("document.print")
    today = today or clock.today()
    site = desk.get_site(report.site_id) if report.site_id else None
    summary = [_("Prospects added from {start} to {end}{site}.").format(
        start=format_date(report.date_from), end=format_date(report.date_to),
        site=f" — {text(site.name)}" if site else "")]
    summary += prospect_service.report_summary(report)
    headers = (_("Group"), _("Prospects"), _("Became patients"), _("Conversion rate"))
    groupings = [printing.Grouping(
        title, headers,
        [(text(prospect_service.group_label(kind, line.group)), format_number(line.prospects),
          format_number(line.converted), format_percent(line.rate)) for line in lines],
        [line.rate for line in lines])
        for kind, title, lines in (("channel", _("By channel"), report.by_channel),
                                   ("qualification", _("By request"), report.by_qualification),
                                   ("month", _("By month added"), report.by_month)) if lines]
    document = printing.ConversionDocument(_("Prospect conversion"), summary, groupings)
    pdf = printing.render(document, letterhead(site, today))
    with database.atomic():
        session.log("print", "prospect", None, details=N_("conversion report"))
    name = safe_file_name(_("Prospect conversion {start} {end}").format(
        start=report.date_from.isoformat(), end=report.date_to.isoformat()))
    return name + ".pdf", pdf


def call_register_pdf(register_filter, today: dt.date | None = None) -> tuple[str, bytes]:
    """The call register of a period (TEL-03, TEL-08): every call, what is still open."""
    from nest_desktop.domain import reception as reception_rules
    from nest_desktop.printing import call_register as printing
    from nest_desktop.services import desk, reception

    session.require("document.print")
    today = today or clock.today()
    site = desk.get_site(register_filter.site_id) if register_filter.site_id else None
    rows = reception.register(register_filter)
    first, last = register_filter.date_from, register_filter.date_to
    where = f" — {text(site.name)}" if site else ""
    if first and first == last:
        heading = _("Calls of {day}{site}").format(day=format_date(first, "full"), site=where)
    elif first and last:
        heading = _("Calls from {start} to {end}{site}").format(
            start=format_date(first, "long"), end=format_date(last, "long"), site=where)
    elif first:
        heading = _("Calls since {start}{site}").format(start=format_date(first, "long"),
                                                        site=where)
    elif last:
        heading = _("Calls up to {end}{site}").format(end=format_date(last, "long"),
                                                      site=where)
    else:
        heading = _("Every call{site}").format(site=where)
    still_open = sum(1 for row in rows if row.open)
    summary = [counted("{count} call.", "{count} calls.", len(rows), _("No call."))]
    summary.append(_("Every line is dealt with.") if not still_open else ngettext(
        "{count} request still open (marked ●, in bold).",
        "{count} requests still open (marked ●, in bold).",
        still_open).format(count=format_number(still_open)))
    lines = []
    for row in rows:
        subject = f"<b>{text(row.reason)}</b>"
        if row.summary:
            subject += "<br/>" + text(row.summary)
        if row.resolution:
            subject += "<br/><i>" + text(_("Dealt with: {how}").format(how=row.resolution)) \
                + "</i>"
        timing = reception.duration_text(row.duration_seconds)
        if row.hold_seconds:
            timing += "<br/>" + text(_("hold {time}").format(
                time=reception.duration_text(row.hold_seconds)))
        lines.append(printing.RegisterLine((
            format_datetime(row.started_at),
            text(_(reception_rules.DIRECTIONS[row.direction])), text(row.caller),
            text(row.phone), subject, text(row.outcome), timing, text(row.secretary)),
            row.open))
    document = printing.RegisterDocument(
        heading, summary,
        (_("Date and time"), _("Direction"), _("Caller"), _("Phone"), _("Request"),
         _("Outcome"), _("Duration"), _("Secretary")), lines, _("No call in this period."))
    pdf = printing.render(document, letterhead(site, today))
    with database.atomic():
        session.log("print", "call_record", None,
                    details=_("call register: {count} calls").format(count=len(rows)))
    name = safe_file_name(_("Call register {start} {end}").format(
        start=first.isoformat() if first else "", end=last.isoformat() if last else ""))
    return name + ".pdf", pdf
