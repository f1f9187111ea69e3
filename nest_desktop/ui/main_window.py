"""The main window: who is at the desk, the sections of the mission, keyboard first."""

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.i18n import N_, _, format_number, ngettext
from nest_desktop.services import backup, desk, followup, quality, reception, session
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.offline_bar import OfflineBar
from nest_desktop.ui.common.pdf_preview import PdfPreviewDialog
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import scrolling
from nest_desktop.ui.followup.outbound_call import OutboundCallDialog
from nest_desktop.ui.followup.satisfaction_page import SatisfactionPage
from nest_desktop.ui.followup.today_page import TodayPage
from nest_desktop.ui.patients.patient_list import PatientListPage
from nest_desktop.ui.patients.patient_window import PatientWindow
from nest_desktop.ui.patients.segments_page import SegmentsPage
from nest_desktop.ui.pregnancy.pregnancies_page import PregnanciesPage
from nest_desktop.ui.prospects.prospect_tools import ImportDialog, ReportDialog
from nest_desktop.ui.prospects.prospects_page import ProspectsPage, ProspectWindow
from nest_desktop.ui.quality.case_dialog import CaseDialog
from nest_desktop.ui.quality.quality_page import QualityPage
from nest_desktop.ui.reception.appointments import AppointmentsPage
from nest_desktop.ui.reception.call_window import IncomingCallWindow
from nest_desktop.ui.reception.calls_page import CallsPage, ConfirmMessageDialog
from nest_desktop.ui.reception.desk_notices import ClosingNotice, UrgentNotice
from nest_desktop.ui.settings import workstation
from nest_desktop.ui.settings.desk_dialogs import PasswordDialog
from nest_desktop.ui.settings.settings_page import SettingsPage
from nest_desktop.ui.sms.sms_page import OutboxView, SmsSender
from nest_desktop.ui.vaccination.vaccines_page import VaccinesPage

log = logging.getLogger(__name__)
BACKUP_CHECK_MS = 60 * 60 * 1000  # the daily copy is checked for every hour
FIRST_BACKUP_CHECK_MS = 10_000  # and once shortly after the start


class MainWindow(QMainWindow):
    languageChanged = Signal(str)
    lockRequested = Signal()
    closing = Signal()  # the window accepted to close
    shown = Signal()

    def __init__(self, context: DeskContext, database_label: str, parent=None):
        super().__init__(parent)
        self.context = context
        self.patient_windows: dict[int, PatientWindow] = {}
        self.new_patient_windows: list[PatientWindow] = []
        self.prospect_windows: dict[int, ProspectWindow] = {}
        self.new_prospect_windows: list[ProspectWindow] = []
        self.setWindowTitle("NEST Desktop")

        self.greeting = QLabel()
        self.greeting.setStyleSheet("font-size: 12pt;")
        self.at_desk = QLabel()
        switch_user = QPushButton(_("Change user"))
        switch_user.setToolTip(_("Hides the windows until someone logs in (Ctrl+L)"))
        switch_user.clicked.connect(self.leave_desk)
        password = QPushButton(_("My password…"))
        password.clicked.connect(lambda: PasswordDialog(parent=self).exec())
        header = QHBoxLayout()
        header.addWidget(self.greeting, 1)
        header.addWidget(self.at_desk)
        header.addWidget(password)
        header.addWidget(switch_user)

        self.sections = QListWidget()
        self.sections.setFixedWidth(225)
        self.sections.setStyleSheet("QListWidget { font-size: 11pt; } "
                                    "QListWidget::item { padding: 8px; }")
        self.stack = QStackedWidget()
        self.pages: list[QWidget] = []  # in the order of the sections, each in its scroll area
        self.today_page = TodayPage(context.site.id if context.site else None)
        self.today_page.openTask.connect(self.open_task)
        self.today_page.countChanged.connect(self._show_today_count)
        self.calls_page = CallsPage(context.site.id if context.site else None)
        self.calls_page.newCall.connect(self.incoming_call)
        self.calls_page.openPatient.connect(self.open_patient)
        self.calls_page.openProspect.connect(self.open_prospect)
        self.calls_page.documentRequested.connect(self.show_document)
        self.appointments_page = AppointmentsPage(context.site.id if context.site else None)
        self.appointments_page.openPatient.connect(self.open_patient)
        self.appointments_page.openProspect.connect(self.open_prospect)
        self.call_windows: list[IncomingCallWindow] = []
        self.patients_page = PatientListPage(context.site.id if context.site else None)
        self.patients_page.openPatient.connect(self.open_patient)
        self.patients_page.newPatient.connect(self.new_patient)
        self.prospects_page = ProspectsPage(context.site.id if context.site else None)
        self.prospects_page.openProspect.connect(self.open_prospect)
        self.prospects_page.newProspect.connect(self.new_prospect)
        self.prospects_page.importRequested.connect(self.import_leads)
        self.prospects_page.reportRequested.connect(self.conversion_report)
        self.pregnancies_page = PregnanciesPage(context.site.id if context.site else None)
        self.pregnancies_page.openPatient.connect(self.open_pregnancy)
        self.vaccines_page = VaccinesPage(context.site.id if context.site else None)
        self.vaccines_page.openChild.connect(self.open_child_vaccines)
        self.segments_page = SegmentsPage(context.site.id if context.site else None)
        self.segments_page.openPatient.connect(self.open_patient)
        self.segments_page.openProspect.connect(self.open_prospect)
        self.sms_sender = SmsSender(self)
        self.sms_page = OutboxView()
        self.sms_page.sms_sender = self.sms_sender
        self.sms_sender.finished.connect(self.sms_page.sender_finished)
        self.sms_page.openPatient.connect(self.open_patient)
        self.sms_page.openProspect.connect(self.open_prospect)
        self.sms_page.newsletterRequested.connect(
            lambda: self.show_section(self.segments_page))
        self.satisfaction_page = SatisfactionPage(context.site.id if context.site else None)
        self.quality_page = QualityPage(context.site.id if context.site else None)
        self.quality_page.openPatient.connect(self.open_patient)
        self.quality_page.openProspect.connect(self.open_prospect)
        self.quality_page.documentRequested.connect(self.show_document)
        self.settings_page = SettingsPage()
        self.settings_page.languageChanged.connect(self.languageChanged)
        self.settings_page.restoreRequested.connect(self.restore)
        self._add_section(_("Today"), self.today_page)
        self._add_section(_("Calls & messages"), self.calls_page)
        self._add_section(_("Appointments"), self.appointments_page)
        self._add_section(_("Patients"), self.patients_page)
        self._add_section(_("Prospects"), self.prospects_page)
        self._add_section(_("Pregnancies"), self.pregnancies_page)
        self._add_section(_("Children & vaccines"), self.vaccines_page)
        self._add_section(_("Segments & campaigns"), self.segments_page)
        self._add_section(_("SMS"), self.sms_page)
        self._add_section(_("Satisfaction"), self.satisfaction_page)
        self._add_section(_("Quality"), self.quality_page)
        self._add_section(_("Settings"), self.settings_page)
        self._show_sections_allowed()
        changes().desk.connect(self._show_sections_allowed)
        self.sections.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sections.setCurrentRow(0)

        body = QHBoxLayout()
        body.addWidget(self.sections)
        body.addWidget(self.stack, 1)
        self.urgent_notice = UrgentNotice(context)
        self.urgent_notice.openMessages.connect(self.show_messages)
        self.closing_notice = ClosingNotice(context)
        self.closing_notice.openEndOfDay.connect(self.show_end_of_day)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        self.offline_bar = OfflineBar()  # the shared server away: said, then gone once back
        layout.addWidget(self.offline_bar)
        layout.addWidget(self.urgent_notice)
        layout.addWidget(self.closing_notice)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(_("Database: {where}").format(where=database_label))

        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.focus_search)
        QShortcut(QKeySequence.StandardKey.New, self, activated=self.new_patient)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.leave_desk)
        # The phone rings whatever window is in front (TEL-01).
        QShortcut(QKeySequence("F2"), self, activated=self.incoming_call,
                  context=Qt.ShortcutContext.ApplicationShortcut)
        self._show_desk()
        self._restore_geometry()

        # Timers owned by the window: they stop with it, never acting for a closed one.
        self.backup_timer = QTimer(self)
        self.backup_timer.timeout.connect(self.daily_backup)
        # a workstation left on overnight: the new day's pass (a post-natal pathway over…)
        self.backup_timer.timeout.connect(self._new_day_pass)
        self.backup_timer.start(BACKUP_CHECK_MS)
        self.first_backup_timer = QTimer(self, singleShot=True)
        # the day's copy if due (checked whole), else the live file checked whole
        self.first_backup_timer.timeout.connect(lambda: self.daily_backup(check_whole=True))
        self.first_backup_timer.start(FIRST_BACKUP_CHECK_MS)
        self.engine_day = clock.today()
        # the engine's pass once the window shows: it does not hold the start back
        self.engine_timer = QTimer(self, singleShot=True)
        self.engine_timer.timeout.connect(self.run_follow_up_engine)
        self.engine_timer.start(0)
        self.urgent_notice.check()
        self.closing_notice.check()

    def _add_section(self, title: str, page: QWidget) -> None:
        self.sections.addItem(title)
        self.stack.addWidget(scrolling(page))
        self.pages.append(page)

    def _show_sections_allowed(self) -> None:
        """Quality is the pilots' and the administrator's."""
        row = self.pages.index(self.quality_page)
        allowed = session.may("quality.manage")
        self.sections.item(row).setHidden(not allowed)
        if not allowed and self.sections.currentRow() == row:
            self.sections.setCurrentRow(0)

    def current_page(self) -> QWidget:
        return self.pages[self.stack.currentIndex()]

    def _show_desk(self) -> None:
        user, site = self.context.user, self.context.site
        self.greeting.setText(_("On the phone: “{greeting}”").format(
            greeting=desk.greeting(site, user)))
        self.at_desk.setText(_("At the desk: {name}").format(name=user.full_name)
                             + (f" — {site.name}" if site else ""))

    # --- windows ---------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.shown.emit()

    def _restore_geometry(self) -> None:
        fit_on_screen(self, 1360, 760, "main_window")  # the whole of a 1366×768 screen

    def close_patient_windows(self) -> bool:
        """Closes every open file (each asks about unsaved changes); False if one stays."""
        for window in [*self.call_windows, *self.patient_windows.values(),
                       *self.new_patient_windows, *self.prospect_windows.values(),
                       *self.new_prospect_windows]:
            if not window.close():
                return False
        return True

    def lines_left_open(self) -> int:
        """Today's requests and messages still open at this desk's site (or every site)."""
        left = reception.end_of_day(self.context.site.id if self.context.site else None,
                                    clock.today())
        return len(left.open_calls) + len(left.open_messages)

    def confirm_leaving(self) -> bool:
        """Leaving the desk with lines still open today asks first (TEL-08)."""
        count = self.lines_left_open()
        if not count:
            return True
        answer = QMessageBox.question(
            self, _("Lines still open"),
            ngettext("{count} request or message is still open today: nothing is to be left "
                     "unresolved at the end of the day. Leave all the same?",
                     "{count} requests or messages are still open today: nothing is to be "
                     "left unresolved at the end of the day. Leave all the same?",
                     count).format(count=format_number(count)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            self.show_end_of_day()
            return False
        return True

    def leave_desk(self) -> None:
        """'Change user' and Ctrl+L: the screen locks, after asking about open lines."""
        if self.confirm_leaving():
            self.lockRequested.emit()

    def closeEvent(self, event) -> None:  # noqa: N802
        # Closed by the secretary (not by the application, a restore or a test): asked.
        if event.spontaneous() and not self.confirm_leaving():
            event.ignore()
            return
        if not self.close_patient_windows():
            event.ignore()
            return
        self.backup_timer.stop()
        self.first_backup_timer.stop()
        self.offline_bar.timer.stop()
        self.sms_sender.stop()
        self.closing.emit()
        event.accept()

    def show_end_of_day(self) -> None:
        self.show_section(self.calls_page)
        self.calls_page.tabs.setCurrentWidget(self.calls_page.end_of_day)

    def show_messages(self) -> None:
        self.show_section(self.calls_page)
        self.calls_page.tabs.setCurrentWidget(self.calls_page.messages)

    def focus_search(self) -> None:
        self.show_section(self.patients_page)
        self.patients_page.focus_search()

    def show_section(self, page: QWidget) -> None:
        self.sections.setCurrentRow(self.pages.index(page))

    # --- follow-ups --------------------------------------------------------------------

    def _show_today_count(self, total: int, overdue: int) -> None:
        row = self.pages.index(self.today_page)
        text = _("Today")
        if total:
            text += f" ({format_number(total)})"
        item = self.sections.item(row)
        item.setText(text)
        item.setToolTip(ngettext("{count} overdue", "{count} overdue", overdue)
                        .format(count=format_number(overdue)) if overdue else "")
        item.setForeground(QBrush(QColor("#b00020")) if overdue else QBrush())

    # --- the phone ---------------------------------------------------------------------

    def incoming_call(self) -> IncomingCallWindow:
        """F2: the call script window, in front of everything (TEL-01)."""
        window = IncomingCallWindow(self.context)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.call_windows.append(window)
        window.destroyed.connect(lambda: self.call_windows.remove(window)
                                 if window in self.call_windows else None)
        window.openPatient.connect(self.open_patient)
        window.openProspect.connect(self.open_prospect)
        window.recorded.connect(self._call_recorded)
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def _call_recorded(self, _call_id: int) -> None:
        self.statusBar().showMessage(_("Call recorded in the register."), 10_000)

    def open_task(self, task_id: int) -> None:
        """The guided call, over the person's file when the task is about a patient; a
        message to deliver opens the message and its confirmation (TEL-07)."""
        task = followup.get_task(task_id)
        if task.source_table == "phone_message":
            ConfirmMessageDialog(task.source_id, self).exec()
            return
        if task.source_table == quality.ACTION_TABLE:  # its case, where it is said done
            CaseDialog(quality.case_of_action(task.source_id), parent=self).exec()
            return
        parent = (self.open_patient(task.patient_id) if task.patient_id
                  else self.open_prospect(task.prospect_id) if task.prospect_id else self)
        dialog = OutboundCallDialog(self.context, task_id, parent)
        dialog.openPatient.connect(self.open_patient)
        dialog.openProspect.connect(self.open_prospect)
        dialog.documentRequested.connect(self.show_document)
        dialog.exec()  # it tells the pages and her file what changed

    def _new_day_pass(self) -> None:
        if clock.today() != self.engine_day:
            self.run_follow_up_engine()

    def run_follow_up_engine(self) -> None:
        """Brings the tasks in line with the stored events, off the GUI thread."""
        self.engine_day = clock.today()
        def failed(error: Exception) -> None:
            self.statusBar().showMessage(_("The follow-ups could not be brought up to date: "
                                           "{error}").format(error=error))

        run_in_background(followup.run, lambda _count: changes().tasks.emit(), failed,
                          owner=self)

    def open_patient(self, patient_id: int) -> PatientWindow:
        window = self.patient_windows.get(patient_id)
        if window is None:
            window = self._patient_window(patient_id)
            self.patient_windows[patient_id] = window
            window.destroyed.connect(lambda: self.patient_windows.pop(patient_id, None))
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    # --- prospects ---------------------------------------------------------------------

    def open_prospect(self, prospect_id: int) -> ProspectWindow:
        window = self.prospect_windows.get(prospect_id)
        if window is None:
            window = self._prospect_window(prospect_id)
            self.prospect_windows[prospect_id] = window
            window.destroyed.connect(lambda: self.prospect_windows.pop(prospect_id, None))
        else:
            window.load()
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def new_prospect(self) -> ProspectWindow:
        window = self._prospect_window(None)
        self.new_prospect_windows.append(window)
        window.destroyed.connect(lambda: self.new_prospect_windows.remove(window)
                                 if window in self.new_prospect_windows else None)
        window.saved.connect(lambda prospect_id: self._adopt_prospect(window, prospect_id))
        window.show()
        return window

    def _adopt_prospect(self, window: ProspectWindow, prospect_id: int) -> None:
        if window in self.new_prospect_windows and window.prospect_id == prospect_id:
            self.new_prospect_windows.remove(window)
            self.prospect_windows[prospect_id] = window
            window.destroyed.connect(lambda: self.prospect_windows.pop(prospect_id, None))

    def _prospect_window(self, prospect_id: int | None) -> ProspectWindow:
        window = ProspectWindow(self.context, prospect_id)
        window.openPatient.connect(self.open_patient)
        window.openProspect.connect(self.open_prospect)
        window.convertRequested.connect(self.convert_prospect)
        return window

    def convert_prospect(self, prospect_id: int) -> PatientWindow:
        """A new patient file pre-filled from the prospect's; once saved, the prospect is
        found by the duplicate check and marked converted (PRO-07)."""
        from nest_desktop.services import prospects

        window = self.new_patient()
        window.load_form(prospects.patient_form_from(prospect_id))

        def converted(patient_id: int) -> None:
            prospect = prospects.get_prospect(prospect_id)
            if prospect.patient_id is None:
                prospects.convert(prospect_id, patient_id)
            changes().prospect.emit(prospect_id)  # her file and the list show it
            changes().tasks.emit()

        window.saved.connect(converted)
        return window

    def import_leads(self) -> None:
        dialog = ImportDialog(self.context.site.id if self.context.site else None, self)
        dialog.exec()
        dialog.deleteLater()  # its rows and table go; an import still running is dropped

    def conversion_report(self) -> None:
        dialog = ReportDialog(self.context.site.id if self.context.site else None, self)
        dialog.documentRequested.connect(self.show_document)
        dialog.exec()
        dialog.deleteLater()

    def open_pregnancy(self, patient_id: int) -> None:
        self.open_patient(patient_id).show_pregnancy()

    def open_child_vaccines(self, patient_id: int) -> None:
        self.open_patient(patient_id).show_vaccines()

    def new_patient(self) -> PatientWindow:
        window = self._patient_window(None)
        self.new_patient_windows.append(window)
        window.destroyed.connect(lambda: self.new_patient_windows.remove(window)
                                 if window in self.new_patient_windows else None)
        window.saved.connect(lambda patient_id: self._adopt(window, patient_id))
        window.show()
        return window

    def _adopt(self, window: PatientWindow, patient_id: int) -> None:
        """A new file once saved is the file of that patient."""
        if window in self.new_patient_windows:
            self.new_patient_windows.remove(window)
            self.patient_windows[patient_id] = window
            window.destroyed.connect(lambda: self.patient_windows.pop(patient_id, None))

    def _patient_window(self, patient_id: int | None) -> PatientWindow:
        window = PatientWindow(self.context, patient_id)
        window.openPatient.connect(self.open_patient)
        window.documentRequested.connect(self.show_document)
        return window

    def show_document(self, make: Callable[[], tuple[str, bytes]]) -> None:
        """Makes a handout off the GUI thread, then shows it to print or save."""
        self.statusBar().showMessage(_("Preparing the document…"))

        def show(result: tuple[str, bytes]) -> None:
            self.statusBar().clearMessage()
            name, pdf = result
            PdfPreviewDialog(pdf, name, self).exec()

        run_in_background(make, show, self._report_error, owner=self)

    def _report_error(self, error: Exception) -> None:
        self.statusBar().clearMessage()
        QMessageBox.warning(self, _("Something went wrong"), str(error))

    # --- the desk ----------------------------------------------------------------------

    def desk_changed(self) -> None:
        """Someone else logged in (the lock screen): her name, site and rights are shown."""
        self._show_desk()
        remember_desk(self.context.user.id, self.context.site.id if self.context.site else None)
        changes().desk.emit()  # every page and open file shows what she may do

    # --- backups -----------------------------------------------------------------------

    def daily_backup(self, check_whole: bool = False) -> None:
        def done(copy) -> None:
            if copy is not None:
                workstation.remember_backup_folder(copy.path.parent)
                self.statusBar().showMessage(_("Daily backup written: {path}").format(
                    path=copy.path), 10_000)
                changes().backups.emit()

        def failed(error: Exception) -> None:
            if isinstance(error, backup.DatabaseDamaged):
                # said at once to whoever is at the desk: an administrator must restore
                QMessageBox.critical(self, _("The database is damaged"), str(error))
                self.statusBar().showMessage(str(error))
            elif not isinstance(error, backup.BackupError) or "server" not in str(error):
                self.statusBar().showMessage(_("The daily backup failed: {error}").format(
                    error=error))

        try:
            backup.database_file()
        except backup.BackupError:
            return  # a database server has its own backups
        run_in_background(backup.back_up_or_check if check_whole else backup.back_up_if_due,
                          done, failed, owner=self)

    def restore(self, path: Path, typed_passphrase: str = "") -> None:
        if not self.close_patient_windows():
            return
        self.setEnabled(False)
        self.statusBar().showMessage(_("Restoring…"))

        def done(report: backup.RestoreReport) -> None:
            self.setEnabled(True)
            backup.reopen_after_restore()
            changes().restored.emit()
            changes().backups.emit()
            QMessageBox.information(self, _("Copy restored"), _(
                "The copy was restored. The data as it was just before is kept in {path}."
            ).format(path=report.safety_copy) + "\n\n" + restored_counts(report))
            self.statusBar().clearMessage()

        def failed(error: Exception) -> None:
            self.setEnabled(True)
            self.statusBar().clearMessage()
            if isinstance(error, backup.PassphraseNeeded):
                typed, given = QInputDialog.getText(
                    self, _("Sealed copy"), str(error), QLineEdit.EchoMode.Password)
                if given and typed:
                    self.restore(path, typed)
                return
            self._report_error(error)

        run_in_background(lambda: backup.restore(path, typed_passphrase), done, failed,
                          owner=self)


TABLE_LABELS = {"patient": N_("Patients"), "user": N_("Users"), "prospect": N_("Prospects"),
                "pregnancy": N_("Pregnancies"), "appointment": N_("Appointments"),
                "follow_up_task": N_("Follow-up tasks"), "call_record": N_("Calls"),
                "sms_message": N_("SMS"), "audit_entry": N_("Audit entries")}


def restored_counts(report: backup.RestoreReport) -> str:
    """What the main tables held before the restore and hold now."""
    lines = [_("Before → after:")]
    for table, label in TABLE_LABELS.items():
        if table in report.after or table in report.before:
            lines.append(_("{label}: {before} → {after}").format(
                label=_(label), before=format_number(report.before.get(table, 0)),
                after=format_number(report.after.get(table, 0))))
    return "\n".join(lines)


def remember_desk(user_id: int, site_id: int | None) -> None:
    """The workstation remembers who was last at the desk and its own site."""
    store = QSettings()
    store.setValue("desk/user_id", user_id)
    store.setValue("desk/site_id", site_id if site_id is not None else 0)
