"""Screenshots of the main windows on a demo clinic, for the README and for review.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [folder] [--language en]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QCoreApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nest_desktop.app import install_language  # noqa: E402
from nest_desktop.db.connection import open_database, sqlite_url  # noqa: E402
from nest_desktop.domain import clock  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="shots")
    parser.add_argument("--language", default="fr")
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    QCoreApplication.setOrganizationName("NEST-screenshots")
    app = QApplication(sys.argv[:1])
    install_language(app, args.language)
    work = Path(tempfile.mkdtemp())
    open_database(sqlite_url(work / "demo.sqlite3"))
    from nest_desktop.services import demo, desk
    from nest_desktop.ui.common.desk_context import DeskContext
    from nest_desktop.ui.common.tasks import wait_for_background_work
    from nest_desktop.ui.main_window import MainWindow
    from nest_desktop.ui.settings.desk_dialogs import FirstRunDialog

    def settle(until=lambda: True) -> None:
        for _round in range(200):
            wait_for_background_work()
            app.processEvents()
            if _round >= 4 and until():
                return

    from nest_desktop.ui.settings.desk_dialogs import LoginDialog, PasswordDialog

    first_run = FirstRunDialog()
    first_run.show()
    settle()
    first_run.grab().save(str(folder / "first-run.png"))
    demo.generate(600)
    from nest_desktop.services import session

    session.login("clemence", demo.DEMO_PASSWORD)
    user = desk.users()[0]
    window = MainWindow(DeskContext(user, desk.sites()[0]), "demo")
    window.resize(1200, 760)
    window.show()
    settle()
    window.grab().save(str(folder / "main-window.png"))  # opens on Today
    from nest_desktop.ui.followup.outbound_call import OutboundCallDialog

    window.today_page.site_filter.setCurrentIndex(0)  # every site
    settle()
    window.grab().save(str(folder / "today.png"))
    call = OutboundCallDialog(window.context, window.today_page.model.task_id(0), window)
    call.show()
    settle()
    call.grab().save(str(folder / "call.png"))
    call.choose("reached")
    settle()
    call.grab().save(str(folder / "call-survey.png"))
    call.reject()
    window.show_section(window.patients_page)
    window.patients_page.search.setText("77")
    settle(lambda: window.patients_page.model.rowCount() > 0)
    window.grab().save(str(folder / "search.png"))
    patient_id = window.patients_page.model.patient_id(0)
    file_window = window.open_patient(patient_id)
    settle()
    for index in range(file_window.tabs.count()):
        file_window.tabs.setCurrentIndex(index)
        settle()
        file_window.grab().save(str(folder / f"patient-file-{index}.png"))
    new_window = window.new_patient()
    new_window.birth_date.setText("31/12/2999")
    new_window.phone_edits[0].setText("77 12")
    new_window.save()
    settle()
    new_window.grab().save(str(folder / "patient-file-errors.png"))
    window.show_section(window.prospects_page)
    window.prospects_page.site_filter.setCurrentIndex(0)
    settle(lambda: window.prospects_page.model.rowCount() > 0)
    window.grab().save(str(folder / "prospects.png"))
    prospect_window = window.open_prospect(window.prospects_page.model.id_at(0))
    settle()
    prospect_window.grab().save(str(folder / "prospect-file.png"))
    new_prospect = window.new_prospect()
    new_prospect.last_name.setText("Test")
    new_prospect.phone_edits[0].setText("77 12")
    new_prospect.save()
    settle()
    new_prospect.grab().save(str(folder / "prospect-errors.png"))
    from nest_desktop.ui.prospects.prospect_tools import ImportDialog, ReportDialog

    report = ReportDialog(None, window)
    report.show()
    settle()
    report.grab().save(str(folder / "prospect-report.png"))
    report.reject()
    leads = Path(tempfile.mkdtemp()) / "leads.csv"
    leads.write_text("full_name;phone_number;message\nCoumba Sarr;70 555 66 77;Tarifs ?\n"
                     "XX;12;\n", encoding="utf-8")
    importer = ImportDialog(None, window)
    importer.show()
    importer.load(leads)
    settle()
    importer.grab().save(str(folder / "prospect-import.png"))
    importer.reject()
    from nest_desktop.db.models import FollowUpTask as Task

    callback = Task.select().where((Task.rule == "prospect_callback")
                                   & (Task.status == "open")).first()
    if callback:
        dialog = OutboundCallDialog(window.context, callback.id, window)
        dialog.show()
        dialog.choose("reached")
        settle()
        dialog.grab().save(str(folder / "call-prospect.png"))
        dialog.reject()
    window.show_section(window.pregnancies_page)
    window.pregnancies_page.site_filter.setCurrentIndex(0)
    settle(lambda: window.pregnancies_page.model.rowCount() > 0)
    window.grab().save(str(folder / "pregnancies.png"))
    pregnancies = window.pregnancies_page.model
    pregnant = pregnancies.row_of(pregnancies.rowCount() // 3)
    window.open_pregnancy(pregnant.patient_id)
    settle()
    window.patient_windows[pregnant.patient_id].resize(1100, 820)
    settle()
    window.patient_windows[pregnant.patient_id].grab().save(str(folder / "pregnancy.png"))
    from nest_desktop.db.models import FollowUpTask

    call_36 = FollowUpTask.select().where((FollowUpTask.rule == "call_36_weeks")
                                          & (FollowUpTask.status == "open")).first()
    if call_36:
        dialog = OutboundCallDialog(window.context, call_36.id, window)
        dialog.show()
        dialog.choose("reached")
        settle()
        dialog.grab().save(str(folder / "call-36-weeks.png"))
        dialog.reject()
    window.show_section(window.vaccines_page)
    window.vaccines_page.site_filter.setCurrentIndex(0)
    settle(lambda: window.vaccines_page.model.rowCount() > 0)
    window.grab().save(str(folder / "children-vaccines.png"))
    child_id = window.vaccines_page.model.id_at(0)
    window.open_child_vaccines(child_id)
    settle()
    window.patient_windows[child_id].grab().save(str(folder / "child-vaccines.png"))
    from nest_desktop.ui.vaccination.vaccination_tab import DoseDialog

    tab = window.patient_windows[child_id].vaccination
    doses = DoseDialog(child_id, [d for d in tab.calendar.doses if d.status != "given"], None,
                       window.context, window)
    doses.show()
    settle()
    doses.grab().save(str(folder / "visit-doses.png"))
    doses.reject()
    window.show_section(window.settings_page)
    settle()
    window.grab().save(str(folder / "settings.png"))
    window.show_section(window.segments_page)
    window.segments_page.child_age.setCurrentIndex(1)
    settle()
    window.grab().save(str(folder / "segments.png"))
    _pathway_shots(window, folder, settle)
    _sms_shots(window, folder, settle)
    window.show_section(window.satisfaction_page)
    window.satisfaction_page.site_filter.setCurrentIndex(0)
    settle()
    window.grab().save(str(folder / "satisfaction.png"))
    window.satisfaction_page.tabs.setCurrentIndex(1)
    settle()
    window.grab().save(str(folder / "guestbook.png"))
    from nest_desktop.ui.followup.satisfaction_page import PaperSurveyDialog

    paper = PaperSurveyDialog(None, window)
    paper.show()
    paper.person.setText("Diop")
    paper._save()
    settle()
    paper.grab().save(str(folder / "paper-survey.png"))
    _quality_shots(window, folder, settle)
    history_window = window.patient_windows[patient_id]
    history_window.email.setText("alioune.ba@example.sn")
    history_window.phone_edits[1].setText("+221 76 555 44 33")
    history_window.save()
    from nest_desktop.services import documents

    documents.patient_sheet_pdf(patient_id)
    history_window.tabs.setCurrentIndex(history_window.history_tab_index)
    settle()
    history_window.grab().save(str(folder / "history.png"))
    _reception_shots(window, folder, settle)
    login = LoginDialog(user.id, None, locked=True)
    login.show()
    login.password.setText("wrong")
    login._log_in()
    settle()
    login.grab().save(str(folder / "lock-screen.png"))
    password = PasswordDialog(required=True)
    password.show()
    settle()
    password.grab().save(str(folder / "password.png"))
    os._exit(0)  # the windows ask about unsaved changes on close: not wanted here


def _quality_shots(window, folder: Path, settle) -> None:
    """The register and a case under way, at the desk's size."""
    from nest_desktop.db.models import QualityCase
    from nest_desktop.ui.quality.case_dialog import CaseDialog
    from nest_desktop.ui.quality.indicators_tab import DrillDialog

    window.resize(1360, 728)
    window.show_section(window.quality_page)
    tab = window.quality_page.indicators
    tab.site.setCurrentIndex(0)
    settle(lambda: tab.table.rowCount() > 20 and tab.message.text() == "")
    tab.table.selectRow(0)
    settle()
    window.grab().save(str(folder / "quality-indicators.png"))
    drill = DrillDialog("on_time.satisfaction_72h", tab.scope(), tab.rows[0].label, window)
    drill.show()
    drill.choose("late")
    settle(lambda: drill.table.rowCount() > 0)
    drill.grab().save(str(folder / "quality-drill.png"))
    drill.reject()
    window.quality_page.tabs.setCurrentIndex(1)
    register = window.quality_page.register
    register.status.setCurrentIndex(register.status.findData("all"))
    settle(lambda: register.model.rowCount() > 0)
    window.grab().save(str(folder / "quality-register.png"))
    case = QualityCase.select().where(QualityCase.status == "acting").first()
    if case:
        dialog = CaseDialog(case.id, parent=window)
        dialog.show()
        settle()
        dialog.grab().save(str(folder / "quality-case.png"))
        dialog.reject()
    new = CaseDialog(parent=window)
    new.show()
    new._save()
    settle()
    new.grab().save(str(folder / "quality-case-errors.png"))
    new.reject()
    settings_page = window.settings_page
    window.show_section(settings_page)
    settle(lambda: settings_page.retention_counts["audit"][0].text() != "")
    settings_page.ensureWidgetVisible(settings_page.retention_box, 0, 0)
    settle()
    window.grab().save(str(folder / "settings-retention.png"))


def _reception_shots(window, folder: Path, settle) -> None:
    """The call script, the register, messages, end of day, appointments, the directory."""
    import datetime as dt

    from nest_desktop.services import reception
    from nest_desktop.ui.reception.appointments import AppointmentDialog
    from nest_desktop.ui.reception.calls_page import ConfirmMessageDialog, MessageDialog

    window.show_section(window.calls_page)
    window.calls_page.register.site_filter.setCurrentIndex(0)
    window.calls_page.register.date_from.setText(
        (clock.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y"))
    window.calls_page.register.refresh()
    settle()
    window.grab().save(str(folder / "call-register.png"))
    window.calls_page.tabs.setCurrentIndex(1)
    window.calls_page.messages.site_filter.setCurrentIndex(0)
    settle()
    window.grab().save(str(folder / "messages.png"))
    window.calls_page.tabs.setCurrentIndex(2)
    window.calls_page.end_of_day.site_filter.setCurrentIndex(0)
    settle()
    window.grab().save(str(folder / "end-of-day.png"))
    window.show_section(window.appointments_page)
    window.appointments_page.site_filter.setCurrentIndex(0)
    window.appointments_page.span.button(1).setChecked(True)
    settle()
    window.grab().save(str(folder / "appointments-week.png"))
    _agenda_shots(window, folder, settle)
    call = window.incoming_call()
    row = reception.register(reception.RegisterFilter(site_id=None))[-1]
    call.phone.setText(row.phone[:6])
    call.recognise()
    call.summary.setPlainText("Demande le prix de l'échographie du 3e trimestre")
    call.reason.setCurrentIndex(call.reason.findData("quote"))
    call.show_transfer()
    call.transfer_to.setCurrentIndex(2)
    call.toggle_hold()
    call.hold_started -= dt.timedelta(seconds=95)
    call.tick()
    settle()
    call.grab().save(str(folder / "incoming-call.png"))
    call.end_hold()
    unknown = window.incoming_call()
    unknown.phone.setText("78 000 1")
    unknown.recognise()
    unknown.reason.setCurrentIndex(unknown.reason.findData("programme"))
    unknown.choose_outcome("answered")
    unknown.save()
    settle()
    unknown.grab().save(str(folder / "incoming-call-errors.png"))
    booking = AppointmentDialog("Fatou Ndiaye", window.context.site.id, patient_id=1,
                                parent=window)
    booking.show()
    settle()
    booking.grab().save(str(folder / "appointment.png"))
    message = MessageDialog(window.context.site.id, "Mme Sy", "77 000 00 00", parent=window)
    message.show()
    message._save()
    settle()
    message.grab().save(str(folder / "message-errors.png"))
    waiting = reception.messages(None, open_only=True)
    if waiting:
        confirm = ConfirmMessageDialog(waiting[0].id, window)
        confirm.show()
        settle()
        confirm.grab().save(str(folder / "message-confirm.png"))
    window.show_section(window.settings_page)
    window.settings_page.ensureWidgetVisible(window.settings_page.directory)
    settle()
    window.grab().save(str(folder / "settings-directory.png"))


def _agenda_shots(window, folder: Path, settle) -> None:
    """The practitioners' day grid, the waiting room, the person picker, a booking held for
    its reason, the opening hours."""
    import datetime as dt

    from nest_desktop.services import reception
    from nest_desktop.ui.reception.appointments import AppointmentDialog, PersonPickerDialog
    from nest_desktop.ui.settings.agenda_dialogs import OpeningHoursDialog

    page = window.appointments_page
    page.site_filter.setCurrentIndex(1)
    page.span.button(0).setChecked(True)
    busiest = max(reception.appointments_between(clock.today(), clock.today() + dt.timedelta(
        days=14), page.site_filter.currentData()) or [None],
        key=lambda row: 0 if row is None else sum(
            1 for other in reception.appointments_between(row.starts_at.date(),
                                                          row.starts_at.date())))
    day = busiest.starts_at.date() if busiest else clock.today()
    page.show_day(day)
    page.views.setCurrentIndex(page.AGENDA)
    settle()
    window.grab().save(str(folder / "agenda-day.png"))
    page.show_day(clock.today())
    for row in reception.appointments_between(clock.today(), clock.today(),
                                              page.site_filter.currentData())[:3]:
        if row.status == "booked":
            reception.arrive(row.id, row.version)
    page.views.setCurrentIndex(page.WAITING)
    settle()
    window.grab().save(str(folder / "waiting-room.png"))
    picker = PersonPickerDialog(window.context.site.id, window)
    picker.search.setText("Nd")
    picker.show()
    settle()
    picker.grab().save(str(folder / "person-picker.png"))
    picker.reject()
    booking = AppointmentDialog("Fatou Ndiaye", window.context.site.id, patient_id=1,
                                parent=window)
    sunday = clock.today() + dt.timedelta(days=6 - clock.today().weekday())
    booking.day.setText(sunday.strftime("%d/%m/%Y"))
    booking.time.setText("03:00")
    booking._show_day()
    booking.show()
    booking._save()
    settle()
    booking.grab().save(str(folder / "appointment-override.png"))
    booking.reject()
    hours = OpeningHoursDialog(window.context.site.id, window.context.site.name, parent=window)
    hours.show()
    settle()
    hours.grab().save(str(folder / "opening-hours.png"))
    hours.reject()


def _pathway_shots(window, folder: Path, settle) -> None:
    """Qualified prospects in the segments, the monthly newsletters, a post-natal mother's
    file with her pathway's history and the mothers' group."""
    from nest_desktop.db.models import Patient
    from nest_desktop.services import newsletters, segments
    from nest_desktop.ui.patients.newsletters_dialog import NewslettersDialog, SeriesDialog

    page = window.segments_page
    page.audience.setCurrentIndex(page.audience.findData(segments.PROSPECTS))
    settle()
    window.grab().save(str(folder / "segments-prospects.png"))
    page.audience.setCurrentIndex(page.audience.findData(segments.PATIENTS))
    page.child_age.setCurrentIndex(0)
    page.pathway.setCurrentIndex(page.pathway.findData("pregnancy"))
    settle()
    series = newsletters.save_series(None, newsletters.SeriesForm(
        "Lettre des futures mamans", page.segment(), 5, "10:00", "sms", True, [
            newsletters.TopicForm("Bien manger enceinte", "Bonjour {prenom}, ce mois-ci : "
                                  "bien manger pendant la grossesse. Questions au {tel_site}."),
            newsletters.TopicForm("Préparer la valise de maternité", "Bonjour {prenom}, la "
                                  "valise de maternité : la liste est à la {site}."),
            newsletters.TopicForm("L’allaitement", "Bonjour {prenom}, l’atelier allaitement "
                                  "vous attend à la {site}.")]))
    listing = NewslettersDialog(page.segment(), window)
    listing.show()
    settle()
    listing.grab().save(str(folder / "newsletters.png"))
    editor = SeriesDialog(None, series.id, listing)
    editor.show()
    settle()
    editor.grab().save(str(folder / "newsletter-series.png"))
    editor.reject()
    listing.reject()
    mother = Patient.select().where(Patient.pathway == "postnatal").first()
    if mother is not None:
        file_window = window.open_patient(mother.id)
        settle()
        file_window.grab().save(str(folder / "pathway-history.png"))
        file_window.tabs.setCurrentIndex(1)
        settle()
        file_window.grab().save(str(folder / "mothers-group.png"))
        file_window.close()


def _sms_shots(window, folder: Path, settle) -> None:
    """The outbox, a message's history, the newsletter dialog, the SMS settings, the file's
    SMS tab."""
    from nest_desktop.ui.sms.sms_page import NewsletterDialog

    window.show_section(window.sms_page)
    settle()
    page = window.sms_page
    for row in range(page.model.rowCount()):
        if page.model.row_of(row).state == "sent":
            page.table.selectRow(row)
            break
    settle()
    window.grab().save(str(folder / "sms-outbox.png"))
    dialog = NewsletterDialog(window.segments_page.segment(), window)
    dialog.name.setText("Atelier allaitement de décembre")
    dialog.body.setPlainText("Bonjour {prenom}, l’atelier allaitement a lieu samedi 5 "
                             "décembre à 10 h à la {site}. Inscription au {tel_site}.")
    dialog.show()
    dialog._update_preview()  # without waiting for the pause in typing
    settle(lambda: "destinataire" in dialog.preview.text())
    dialog.grab().save(str(folder / "sms-newsletter.png"))
    dialog.reject()
    window.show_section(window.settings_page)
    settings_page = window.settings_page
    box = settings_page.sms_box
    box.transport.setCurrentIndex(box.transport.findData("orange"))
    settle()
    settings_page.ensureWidgetVisible(box, 0, 0)
    settings_page.verticalScrollBar().setValue(box.y())
    settle()
    window.grab().save(str(folder / "sms-settings.png"))
    box.transport.setCurrentIndex(box.transport.findData("http"))  # a Kannel gateway
    box.preset.setCurrentIndex(box.preset.findData("kannel"))
    box.preset.activated.emit(box.preset.currentIndex())
    size = window.size()
    window.resize(1366, 768)
    settle()
    settings_page.verticalScrollBar().setValue(box.y())
    settle()
    window.grab().save(str(folder / "sms-settings-kannel.png"))
    window.resize(size)
    box.transport.setCurrentIndex(box.transport.findData("orange"))
    settle()
    settings_page.verticalScrollBar().setValue(box.y() + 420)
    settle()
    window.grab().save(str(folder / "sms-templates.png"))
    sent = next(page.model.row_of(row) for row in range(page.model.rowCount())
                if page.model.row_of(row).patient_id)
    file_window = window.open_patient(sent.patient_id)
    file_window.tabs.setCurrentIndex(file_window.sms_tab_index)
    settle()
    file_window.grab().save(str(folder / "sms-file.png"))



if __name__ == "__main__":
    main()
