"""The patient file (PAT-02): identity, contacts, provenance and pathway, intake interview,
consents, family, the contacts timeline and notes. A save is one transaction."""


from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import patients as rules
from nest_desktop.domain import quality as quality_rules
from nest_desktop.domain import sms as sms_rules
from nest_desktop.i18n import N_, _, format_date, format_datetime, pgettext
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    desk,
    documents,
    history,
    mothers_group,
    pathways,
    quality,
    session,
)
from nest_desktop.services import patients as service
from nest_desktop.services import vaccination as vaccination_service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.dialogs import DuplicatesDialog, InteractionDialog
from nest_desktop.ui.common.errors import database_trouble
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    DateEdit,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    choice_box,
    dialog_buttons,
    fill,
    read_only_table,
    scrolling,
    select_data,
    site_box,
)
from nest_desktop.ui.pregnancy.pregnancy_tab import PregnancyTab
from nest_desktop.ui.quality.case_dialog import CaseDialog
from nest_desktop.ui.reception.appointments import AppointmentsBox
from nest_desktop.ui.sms.sms_page import OutboxView
from nest_desktop.ui.vaccination.vaccination_tab import VaccinationTab

PHONE_FIELDS = ("phone_0", "phone_1", "phone_2")
MOTHERS_GROUP_DAYS = (("invited_on", N_("invited on {date}")),
                      ("joined_on", N_("member since {date}")),
                      ("declined_on", N_("declined on {date}")),
                      ("left_on", N_("left on {date}")))


class MothersGroupDialog(QDialog):
    """Her answer about the mothers' group, written at once (not with the file's save)."""

    def __init__(self, patient_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("The NEST mothers' group"))
        self.patient_id = patient_id
        member = mothers_group.membership(patient_id)
        self.status = choice_box(rules.MOTHERS_GROUP_STATUSES)
        self.channel = choice_box(rules.MOTHERS_GROUP_CHANNELS, empty_label=_("(not said)"))
        if member is not None:
            select_data(self.status, member.status)
            select_data(self.channel, member.channel or None)
        self.fields = {"status": FieldWithError(self.status),
                       "channel": FieldWithError(self.channel)}
        self.message = MessageLabel()
        form = QFormLayout(self)
        form.addRow(_("Her answer"), self.fields["status"])
        form.addRow(_("Group"), self.fields["channel"])
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save))

    def _save(self) -> None:
        try:
            mothers_group.record(self.patient_id, self.status.currentData(),
                                 self.channel.currentData() or "")
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class PatientWindow(QMainWindow):
    saved = Signal(int)
    openPatient = Signal(int)

    def __init__(self, context: DeskContext, patient_id: int | None = None, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()  # a function making (name, PDF)
        self.context = context
        self.patient_id = patient_id
        self.version: int | None = None
        self.confirmed_not_duplicate = False
        self._dirty = False
        self._loading = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        fit_on_screen(self, 860, 720, "patient_window")
        self.fields: dict[str, FieldWithError] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(scrolling(self._file_tab()), _("File"))
        self.tabs.addTab(scrolling(self._intake_tab()), _("Intake and consents"))
        self.family_tab_index = self.tabs.addTab(scrolling(self._family_tab()), _("Family"))
        self.vaccination = VaccinationTab(context)
        self.vaccination.documentRequested.connect(self.documentRequested)
        self.vaccination.changed.connect(changes().vaccines)
        changes().patient.connect(self._patient_changed)
        changes().desk.connect(self.refresh_permissions)
        changes().quality.connect(self._refresh_complaints)
        self.vaccination_tab_index = self.tabs.addTab(scrolling(self.vaccination), _("Vaccines"))
        self.pregnancy = PregnancyTab(context)
        self.pregnancy.documentRequested.connect(self.documentRequested)
        self.pregnancy.changed.connect(self._pregnancy_changed)
        self.pregnancy_tab_index = self.tabs.addTab(scrolling(self.pregnancy), _("Pregnancy"))
        self.appointments = AppointmentsBox("", context.site.id if context.site else None)
        self.appointments.changed.connect(self._appointments_changed)
        self.appointments_tab_index = self.tabs.addTab(scrolling(self.appointments),
                                                     _("Appointments"))
        self.timeline_tab_index = self.tabs.addTab(self._timeline_tab(), _("Contacts"))
        self.sms = OutboxView(for_patient=True)
        self.sms_tab_index = self.tabs.addTab(scrolling(self.sms), _("SMS"))
        self.notes = QPlainTextEdit()
        self.tabs.addTab(self.notes, _("Notes"))
        self.history = QTableWidget(0, 4)
        self.history.setHorizontalHeaderLabels([_("When"), _("By"), _("Action"), _("Changes")])
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().hide()
        self.history.setWordWrap(True)
        self.history_tab_index = self.tabs.addTab(self.history, _("History"))
        self.tabs.currentChanged.connect(
            lambda index: self._refresh_history() if index == self.history_tab_index else None)

        self.message = MessageLabel()
        self.save_button = QPushButton(_("Save"))
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.setDefault(True)
        self.print_button = QPushButton(_("Print the file…"))
        self.print_button.setShortcut(QKeySequence.StandardKey.Print)
        close_button = QPushButton(_("Close"))
        self.save_button.clicked.connect(self.save)
        self.print_button.clicked.connect(self._print)
        close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(close_button)
        buttons.addWidget(self.save_button)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)  # its own line: a long message wraps, never clipped
        layout.addLayout(buttons)
        self.setCentralWidget(central)
        self._watch_changes()
        self.load()

    # --- building the tabs -----------------------------------------------------------

    def _field(self, name: str, editor: QWidget) -> FieldWithError:
        self.fields[name] = FieldWithError(editor)
        return self.fields[name]

    def _file_tab(self) -> QWidget:
        self.last_name = QLineEdit()
        self.first_names = QLineEdit()
        self.sex = choice_box(rules.SEXES)
        self.birth_date = DateEdit()
        self.phone_edits = [QLineEdit() for _name in PHONE_FIELDS]
        for edit in self.phone_edits:
            edit.setPlaceholderText(_("77 123 45 67"))
            edit.setMaximumWidth(220)
            edit.textEdited.connect(lambda _text, e=edit: self._unstrike(e))
        self.email = QLineEdit()
        self.address = QLineEdit()
        self.site = site_box(empty_label=_("(no site)"))
        self.provenance = choice_box(rules.PROVENANCES, empty_label=_("(not collected)"))
        self.provenance_detail = QLineEdit()
        self.provenance_detail.setPlaceholderText(_("Doctor's name, event, who recommended…"))
        self.visit_reason = QLineEdit()
        self.pathway = choice_box(rules.PATHWAYS)
        self.visit_reason.editingFinished.connect(self._propose_pathway)
        self.first_visit_date = DateEdit()

        form = QFormLayout()
        form.addRow(_("Last name *"), self._field("last_name", self.last_name))
        form.addRow(_("First names *"), self._field("first_names", self.first_names))
        form.addRow(_("Sex *"), self._field("sex", self.sex))
        form.addRow(_("Birth date"), self._field("birth_date", self.birth_date))
        form.addRow(_("Main phone"), self._field("phone_0", self.phone_edits[0]))
        form.addRow(_("Other phone"), self._field("phone_1", self.phone_edits[1]))
        form.addRow(_("Other phone"), self._field("phone_2", self.phone_edits[2]))
        form.addRow(_("Email"), self._field("email", self.email))
        form.addRow(_("Address"), self._field("address", self.address))
        form.addRow(_("Site"), self._field("site", self.site))
        form.addRow(_("Provenance"), self._field("provenance", self.provenance))
        form.addRow(_("Provenance details"), self.provenance_detail)
        form.addRow(_("Reason for the visit"), self._field("visit_reason", self.visit_reason))
        form.addRow(_("Standard pathway"), self._field("pathway", self.pathway))
        self.pathway_end = QLabel()
        form.addRow("", self.pathway_end)
        form.addRow(_("First visit"), self._field("first_visit_date", self.first_visit_date))
        # "historique parcours" (PAT-04): what the segments read as her loyalty
        self.pathway_history = read_only_table([_("When"), _("From"), _("To"), _("Why"),
                                                _("By")])
        self.pathway_history.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.pathway_history.setMaximumHeight(120)
        self.pathway_history_box = QWidget()
        history_layout = QVBoxLayout(self.pathway_history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(QLabel("<b>{}</b>".format(_("Pathway history"))))
        history_layout.addWidget(self.pathway_history)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.pathway_history_box)
        layout.addStretch(1)
        return page

    def _refresh_pathway_history(self, patient) -> None:
        rows = pathways.history_of(self.patient_id) if self.patient_id else []
        fill(self.pathway_history, [
            (format_datetime(row.changed_at), _(rules.PATHWAYS.get(row.from_pathway, "")),
             _(rules.PATHWAYS.get(row.to_pathway, "")),
             _(rules.PATHWAY_CHANGE_REASONS.get(row.reason, row.reason)), row.by)
            for row in rows])
        self.pathway_history_box.setVisible(bool(rows))
        ends_on = patient.pathway_ends_on if patient is not None else None
        self.pathway_end.setText(_("Until {date}, then without a pathway.").format(
            date=format_date(ends_on)) if ends_on else "")
        self.pathway_end.setVisible(ends_on is not None)

    def _intake_tab(self) -> QWidget:
        self.intake_date = DateEdit()
        self.intake_by = QComboBox()
        self.intake_by.addItem(_("(not recorded)"), None)
        for user in desk.users():
            self.intake_by.addItem(user.full_name, user.id)
        self.intake_checks = {item: QCheckBox(_(label))
                              for item, label in rules.INTAKE_ITEMS.items()}
        # asked, never assumed: a new file starts on "ask her"
        self.sms_consent = QComboBox()
        self.sms_consent.addItem(_("Ask her"), None)
        self.sms_consent.addItem(_("Yes, she accepts SMS (appointment and vaccine reminders)"),
                                 True)
        self.sms_consent.addItem(_("No SMS"), False)
        self.newsletter_consent = QCheckBox(_("Agrees to receive newsletters"))
        self.preferred_channel = choice_box(rules.CONTACT_CHANNELS)
        self.language = choice_box(sms_rules.LANGUAGES)
        mark_done = QPushButton(_("Interview held today by me"))
        mark_done.clicked.connect(self._intake_done_now)

        form = QFormLayout()
        form.addRow(QLabel("<b>{}</b>".format(_("Intake interview with a medical secretary"))))
        form.addRow(_("Date"), self._field("intake_date", self.intake_date))
        form.addRow(_("Secretary"), self.intake_by)
        form.addRow("", mark_done)
        for check in self.intake_checks.values():
            form.addRow("", check)
        form.addRow(QLabel("<b>{}</b>".format(_("Consents"))))
        form.addRow(pgettext("field", "SMS reminders"),
                    self._field("sms_consent", self.sms_consent))
        form.addRow("", self.newsletter_consent)
        form.addRow(_("Preferred channel"),
                    self._field("preferred_channel", self.preferred_channel))
        form.addRow(_("Language of her SMS"), self._field("language", self.language))
        # the mothers' group (PAT-06): her answer is kept at once, with its day
        self.group_state = QLabel()
        self.group_state.setWordWrap(True)
        self.group_button = QPushButton(_("Record her answer…"))
        self.group_button.clicked.connect(self._record_group_answer)
        group_row = QHBoxLayout()
        group_row.addWidget(self.group_state, 1)
        group_row.addWidget(self.group_button)
        self.group_title = QLabel("<b>{}</b>".format(_("The NEST mothers' group")))
        form.addRow(self.group_title)
        form.addRow(group_row)
        page = QWidget()
        page.setLayout(form)
        return page

    def _refresh_mothers_group(self, patient) -> None:
        member = mothers_group.membership(self.patient_id) if self.patient_id else None
        if member is None:
            self.group_state.setText(_("Not offered yet."))
        else:
            days = [_(label).format(date=format_date(getattr(member, name)))
                    for name, label in MOTHERS_GROUP_DAYS if getattr(member, name)]
            status = _(rules.MOTHERS_GROUP_STATUSES[member.status])
            if member.channel:
                status += f" ({_(rules.MOTHERS_GROUP_CHANNELS[member.channel])})"
            self.group_state.setText("{} — {}".format(status, ", ".join(days)))
        shown = patient is not None and patient.sex == "F"
        for widget in (self.group_title, self.group_state, self.group_button):
            widget.setVisible(shown)
        self.group_button.setEnabled(session.may("patient.write"))

    def _record_group_answer(self) -> None:
        dialog = MothersGroupDialog(self.patient_id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._refresh_mothers_group(service.get_patient(self.patient_id))
            self._refresh_history()
            changes().tasks.emit()  # an offer still in Today is settled

    def _family_tab(self) -> QWidget:
        self.family_list = QListWidget()
        self.family_list.itemActivated.connect(
            lambda item: self.openPatient.emit(item.data(Qt.ItemDataRole.UserRole)[1]))
        add = QPushButton(_("Link a relative…"))
        remove = QPushButton(_("Remove the link"))
        add.clicked.connect(self._add_family_link)
        remove.clicked.connect(self._remove_family_link)
        self.family_error = QLabel()
        self.family_error.setStyleSheet(ERROR_STYLE)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel(_("Parents and children (double-click opens their file).")))
        layout.addWidget(self.family_list, 1)
        layout.addWidget(self.family_error)
        layout.addLayout(buttons)
        return page

    def _timeline_tab(self) -> QWidget:
        self.timeline = QTableWidget(0, 6)
        self.timeline.setHorizontalHeaderLabels(
            [_("When"), _("Channel"), _("Direction"), _("Subject"), _("Outcome"), _("By")])
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.verticalHeader().hide()
        self.timeline.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        add = QPushButton(_("Record a contact…"))
        add.clicked.connect(self._add_interaction)
        # Her own requests for prices or the programme (PRO-03): answered here, called back
        # a week later (PRO-06).
        self.requests = read_only_table([_("Received on"), _("Request"), _("Her words"),
                                         _("Answer"), _("Answered on")])
        self.requests.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.requests.setMaximumHeight(130)
        self.request_rows: list = []
        self.answer_button = QPushButton(_("Record the answer…"))
        self.answer_button.clicked.connect(self._answer_request)
        self.requests_box = QWidget()
        requests_layout = QVBoxLayout(self.requests_box)
        requests_layout.setContentsMargins(0, 0, 0, 0)
        requests_layout.addWidget(QLabel(_("Requests")))
        requests_layout.addWidget(self.requests)
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.answer_button)
        answer_row.addStretch(1)
        requests_layout.addLayout(answer_row)
        # Her complaints (ISO 9001 §10.2): what she told us went wrong and what was done.
        self.complaints = read_only_table([_("Date"), _("Type"), _("Category"),
                                           _("What happened"), _("Status")])
        self.complaints.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.complaints.setMaximumHeight(110)
        self.complaints.doubleClicked.connect(self._open_complaint)
        self.complaint_ids: list[int] = []
        self.complaints_box = QWidget()
        complaints_layout = QVBoxLayout(self.complaints_box)
        complaints_layout.setContentsMargins(0, 0, 0, 0)
        complaints_layout.addWidget(QLabel(_("Complaints")))
        complaints_layout.addWidget(self.complaints)
        complain = QPushButton(_("Record a complaint…"))
        complain.clicked.connect(self._record_complaint)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.requests_box)
        layout.addWidget(self.complaints_box)
        layout.addWidget(self.timeline, 1)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(complain)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _refresh_complaints(self) -> None:
        self.complaint_ids = (quality.case_ids(quality.CaseFilter(
            status="all", patient_id=self.patient_id)) if self.patient_id else [])
        rows = quality.rows_for(self.complaint_ids)
        fill(self.complaints, [(
            format_date(row.occurred_on), _(quality_rules.KINDS[row.kind]),
            _(quality_rules.CATEGORIES.get(row.category, row.category)),
            " ".join(row.description.split()), _(quality_rules.STATUSES[row.status]))
            for row in (rows[case_id] for case_id in self.complaint_ids)])
        self.complaints_box.setVisible(bool(self.complaint_ids))

    def _open_complaint(self) -> None:
        row = self.complaints.currentRow()
        if 0 <= row < len(self.complaint_ids):
            CaseDialog(self.complaint_ids[row], parent=self).exec()
            self._refresh_complaints()

    def _record_complaint(self) -> None:
        if not self.patient_id:
            return
        patient = service.get_patient(self.patient_id)
        CaseDialog(form=quality.CaseForm(occurred_on=clock.today(),
                                         patient_id=self.patient_id,
                                         site_id=patient.site_id), parent=self).exec()
        self._refresh_complaints()

    def _refresh_requests(self) -> None:
        from nest_desktop.domain import prospects as prospect_rules
        from nest_desktop.services import prospects

        self.request_rows = (prospects.requests_of(patient_id=self.patient_id)
                             if self.patient_id else [])
        fill(self.requests, [(format_datetime(r.received_at),
                              _(prospect_rules.QUALIFICATIONS[r.qualification]), r.text,
                              r.answer, format_datetime(r.answered_at))
                             for r in self.request_rows])
        self.requests_box.setVisible(bool(self.request_rows))
        if self.request_rows:
            self.requests.selectRow(0)
        self.answer_button.setEnabled(session.may("prospects.write"))

    def _answer_request(self) -> None:
        from nest_desktop.ui.prospects.prospects_page import AnswerDialog

        row = self.requests.currentRow()
        if 0 <= row < len(self.request_rows) and AnswerDialog(
                self.request_rows[row], self).exec() == QDialog.DialogCode.Accepted:
            self.refresh_contacts()
            changes().tasks.emit()

    def _watch_changes(self) -> None:
        for edit in (self.last_name, self.first_names, self.birth_date, *self.phone_edits,
                     self.email, self.address, self.provenance_detail, self.visit_reason,
                     self.first_visit_date, self.intake_date):
            edit.textChanged.connect(self._mark_dirty)
        for box in (self.sex, self.site, self.provenance, self.pathway, self.intake_by,
                    self.preferred_channel, self.language, self.sms_consent):
            box.currentIndexChanged.connect(self._mark_dirty)
        for check in (*self.intake_checks.values(), self.newsletter_consent):
            check.toggled.connect(self._mark_dirty)
        self.notes.textChanged.connect(self._mark_dirty)

    # --- loading and saving --------------------------------------------------------

    def _mark_dirty(self) -> None:
        if not self._loading:
            self._dirty = True
            self._update_title()

    def is_dirty(self) -> bool:
        return self._dirty

    def _update_title(self) -> None:
        name = " ".join(p for p in (self.first_names.text().strip(),
                                    self.last_name.text().strip().upper()) if p)
        title = name or _("New patient")
        self.setWindowTitle(("* " if self._dirty else "") + title + " — NEST Desktop")

    def load(self) -> None:
        self._loading = True
        try:
            patient = None
            if self.patient_id is None:
                form = service.PatientForm(site_id=self.context.site.id if self.context.site
                                           else None, sms_consent=None)
                self.version = None
            else:
                patient = service.get_patient(self.patient_id)
                form = service.form_of(patient)
                self.version = patient.version
            self._show_form(form)
            self._show_wrong_numbers()
            self._refresh_family()
            self._refresh_timeline()
            self._refresh_requests()
            self._refresh_complaints()
            self._refresh_pathway_history(patient)
            self._refresh_mothers_group(patient)
        finally:
            self._loading = False
        self._dirty = False
        for index in (self.family_tab_index, self.timeline_tab_index,
                      self.appointments_tab_index, self.sms_tab_index):
            self.tabs.setTabEnabled(index, self.patient_id is not None)
        if patient is not None:
            self.appointments.set_person(self.patient_id, patient.full_name, patient.site_id)
            self.sms.patient_id = self.patient_id
        self._show_vaccination()
        self._show_pregnancy()
        self.print_button.setEnabled(self.patient_id is not None)
        self._update_title()
        self.refresh_permissions()

    def _propose_pathway(self) -> None:
        """The reason for the visit proposes the standard pathway, while none is chosen."""
        proposed = rules.proposed_pathway(self.visit_reason.text())
        if proposed and self.pathway.currentData() in (None, "", "none"):
            select_data(self.pathway, proposed)
            self.message.say(_("Pathway proposed from the reason for the visit: {pathway}.")
                             .format(pathway=_(rules.PATHWAYS[proposed])))

    @staticmethod
    def _unstrike(edit: QLineEdit) -> None:
        """A number typed over a wrong one is a new number."""
        font = edit.font()
        font.setStrikeOut(False)
        edit.setFont(font)

    def _show_wrong_numbers(self) -> None:
        """A number found wrong on a call: struck, and a new one asked for."""
        wrong = ({phones.display(n) for n in service.wrong_numbers(self.patient_id)}
                 if self.patient_id is not None else set())
        for index, edit in enumerate(self.phone_edits):
            font = edit.font()
            font.setStrikeOut(edit.text() in wrong)
            edit.setFont(font)
            if edit.text() in wrong:
                self.fields[f"phone_{index}"].set_error(_(
                    "Found wrong on a call: ask her for a new number."))

    def load_form(self, form: service.PatientForm) -> None:
        """A new file pre-filled (a prospect becoming a patient): to check, then save."""
        self._show_form(form)
        self._dirty = True

    def refresh_permissions(self) -> None:
        """The quality pilot reads files and changes nothing; she and the administrator see
        each file's history."""
        writable = session.may("patient.write")
        self.save_button.setEnabled(writable)
        self.save_button.setToolTip("Ctrl+S" if writable else _("Read only for your role."))
        auditor = session.may("audit.read") and self.patient_id is not None
        self.tabs.setTabVisible(self.history_tab_index, auditor)
        if auditor:
            self._refresh_history()
        self.vaccination.refresh_permissions()
        self.pregnancy.refresh_permissions()

    def _refresh_history(self) -> None:
        entries = history.patient_entries(self.patient_id)
        self.history.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            line = history.describe(entry)
            for column, value in enumerate((line.when, line.who, line.what, line.details)):
                self.history.setItem(row, column, QTableWidgetItem(value))
        self.history.resizeColumnsToContents()
        self.history.resizeRowsToContents()
        self.history.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

    def _show_vaccination(self) -> None:
        """Children have a Vaccines tab; it follows the saved birth date."""
        child = self.patient_id is not None and vaccination_service.is_child(
            service.get_patient(self.patient_id))
        self.tabs.setTabVisible(self.vaccination_tab_index, child)
        if child:
            self.vaccination.load(self.patient_id)

    def _show_pregnancy(self) -> None:
        """Women have a Pregnancy tab: the pregnancy calendar."""
        patient = service.get_patient(self.patient_id) if self.patient_id else None
        woman = patient is not None and patient.sex == "F" and not (
            patient.birth_date and (clock.today() - patient.birth_date).days < 10 * 365)
        self.tabs.setTabVisible(self.pregnancy_tab_index, woman)
        if woman:
            self.pregnancy.load(self.patient_id)

    def show_pregnancy(self) -> None:
        if self.tabs.isTabVisible(self.pregnancy_tab_index):
            self.tabs.setCurrentIndex(self.pregnancy_tab_index)

    def _pregnancy_changed(self) -> None:
        """The pregnancy set the file's pathway, or a birth added children: shown at once,
        unless the secretary is typing in the file (her save is then checked as usual)."""
        if not self._dirty:
            current = self.tabs.currentIndex()
            self.load()
            self.tabs.setCurrentIndex(current)
        changes().pregnancies.emit()
        changes().tasks.emit()

    def show_vaccines(self) -> None:
        if self.tabs.isTabVisible(self.vaccination_tab_index):
            self.tabs.setCurrentIndex(self.vaccination_tab_index)

    def _show_form(self, form: service.PatientForm) -> None:
        self.last_name.setText(form.last_name)
        self.first_names.setText(form.first_names)
        select_data(self.sex, form.sex)
        self.birth_date.setText(form.birth_date)
        for edit, number in zip(self.phone_edits, form.phones + ["", "", ""], strict=False):
            edit.setText(number)
        self.email.setText(form.email)
        self.address.setText(form.address)
        select_data(self.site, form.site_id)
        select_data(self.provenance, form.provenance)
        self.provenance_detail.setText(form.provenance_detail)
        self.visit_reason.setText(form.visit_reason)
        select_data(self.pathway, form.pathway)
        self.first_visit_date.setText(form.first_visit_date)
        self.intake_date.setText(form.intake_date)
        select_data(self.intake_by, form.intake_by_id)
        for item, check in self.intake_checks.items():
            check.setChecked(bool(getattr(form, item)))
        select_data(self.sms_consent, form.sms_consent)
        self.newsletter_consent.setChecked(form.newsletter_consent)
        select_data(self.preferred_channel, form.preferred_channel)
        select_data(self.language, form.language)
        self.notes.setPlainText(form.notes)

    def collect(self) -> service.PatientForm:
        form = service.PatientForm(
            last_name=self.last_name.text(), first_names=self.first_names.text(),
            sex=self.sex.currentData(), birth_date=self.birth_date.text(),
            phones=[edit.text() for edit in self.phone_edits], email=self.email.text(),
            address=self.address.text(), site_id=self.site.currentData(),
            provenance=self.provenance.currentData(),
            provenance_detail=self.provenance_detail.text(),
            visit_reason=self.visit_reason.text(), pathway=self.pathway.currentData(),
            intake_date=self.intake_date.text(), intake_by_id=self.intake_by.currentData(),
            sms_consent=self.sms_consent.currentData(),
            newsletter_consent=self.newsletter_consent.isChecked(),
            preferred_channel=self.preferred_channel.currentData(),
            language=self.language.currentData(),
            first_visit_date=self.first_visit_date.text(), notes=self.notes.toPlainText())
        for item, check in self.intake_checks.items():
            setattr(form, item, check.isChecked())
        return form

    def _show_errors(self, errors: dict[str, str]) -> None:
        first_tab = None
        for name, field in self.fields.items():
            field.set_error(errors.get(name))
            if name in errors and first_tab is None:
                first_tab = self._tab_of(field)
        if first_tab is not None:
            self.tabs.setCurrentIndex(first_tab)
        self.message.say(_("Please correct the fields marked: nothing was saved.")
                  if errors else "", error=bool(errors))

    def _tab_of(self, widget: QWidget) -> int | None:
        for index in range(self.tabs.count()):
            if self.tabs.widget(index).isAncestorOf(widget):
                return index
        return None

    def save(self) -> bool:
        """Checks and saves the file; True when it was saved."""
        form = self.collect()
        try:
            service.clean(form)
        except ValidationFailed as failed:
            self._show_errors(failed.errors)
            return False
        self._show_errors({})
        if self.patient_id is None and not self.confirmed_not_duplicate:
            candidates = service.find_duplicates(form)
            if candidates:
                dialog = DuplicatesDialog(candidates, self)
                if dialog.exec() != QDialog.DialogCode.Accepted:
                    return False
                if dialog.chosen_patient_id is not None:
                    self.openPatient.emit(dialog.chosen_patient_id)
                    self.message.say(_("The existing file is open: nothing was created."))
                    return False
                self.confirmed_not_duplicate = True
        try:
            if self.patient_id is None:
                patient = service.create_patient(form)
            else:
                patient = service.update_patient(self.patient_id, self.version, form)
        except ValidationFailed as failed:
            self._show_errors(failed.errors)
            return False
        except StaleRecordError as stale:
            QMessageBox.warning(self, _("File changed elsewhere"), str(stale))
            return False
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return False
        except Exception as error:  # the server gone: the window stays, with what was typed
            problem = database_trouble(error)
            if problem is None:
                raise
            self.message.say(str(problem), error=True)
            return False
        self.patient_id = patient.id
        self.load()
        self.message.say(_("File saved."))
        self.saved.emit(patient.id)
        changes().patient.emit(patient.id)
        return True

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self._dirty:
            answer = QMessageBox.question(
                self, _("Unsaved changes"),
                _("This file has unsaved changes. Save them before closing?"),
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                try:
                    saved = self.save()
                except Exception:  # never closed on an edit that was not saved
                    event.ignore()
                    raise
                if not saved:
                    event.ignore()
                    return
        event.accept()

    def _intake_done_now(self) -> None:
        self.intake_date.setText(clock.today().strftime("%d/%m/%Y"))
        select_data(self.intake_by, self.context.user.id)

    def _print(self) -> None:
        if self._dirty and not self.save():
            return
        if self.patient_id is not None:
            patient_id = self.patient_id
            self.documentRequested.emit(lambda: documents.patient_sheet_pdf(patient_id))

    # --- family and timeline ---------------------------------------------------------

    def _refresh_family(self) -> None:
        self.family_list.clear()
        if self.patient_id is None:
            return
        for member in service.family_of(self.patient_id):
            relation = _(rules.FAMILY_RELATIONS.get(member.relation, member.relation))
            text = (_("{relation}: {name}") if member.is_parent
                    else _("Child: {name}")).format(name=member.full_name, relation=relation)
            if member.birth_date:
                text += " — " + _("born on {date}").format(date=format_date(member.birth_date))
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, (member.link_id, member.patient_id))
            self.family_list.addItem(item)

    def _family_changed(self) -> None:
        self._refresh_family()
        self._show_vaccination()  # the parents the reminders go to

    def _add_family_link(self) -> None:
        dialog = FamilyLinkDialog(self.patient_id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._family_changed()

    def _remove_family_link(self) -> None:
        item = self.family_list.currentItem()
        if item is None:
            self.family_error.setText(_("Choose the link to remove in the list."))
            return
        self.family_error.setText("")
        if QMessageBox.question(self, _("Remove the link"),
                                _("Remove this family link? The files themselves are kept.")
                                ) == QMessageBox.StandardButton.Yes:
            service.unlink_family(item.data(Qt.ItemDataRole.UserRole)[0])
            self._family_changed()

    def _appointments_changed(self) -> None:
        """An attended appointment may be her first visit: the file shows it (unless the
        secretary is typing in it, whose save is then told the file changed)."""
        if self._dirty:
            self.refresh_contacts()
        else:
            self.load()

    def _patient_changed(self, patient_id: int) -> None:
        """Her file changed elsewhere (a call, a follow-up): the contacts show it."""
        if patient_id and patient_id == self.patient_id:
            self.refresh_contacts()

    def refresh_contacts(self) -> None:
        """Contacts written elsewhere (a follow-up call) show on the open file."""
        self._refresh_timeline()
        self._refresh_requests()
        self._refresh_complaints()
        self.appointments.refresh()
        self._refresh_history()

    def _refresh_timeline(self) -> None:
        entries = service.interactions_of(self.patient_id) if self.patient_id else []
        self.timeline.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            values = (
                format_datetime(entry.occurred_at),
                _(rules.INTERACTION_CHANNELS.get(entry.channel, entry.channel)),
                _(rules.INTERACTION_DIRECTIONS.get(entry.direction, entry.direction)),
                entry.subject + (f"\n{entry.notes}" if entry.notes else ""),
                entry.outcome,
                entry.user.phone_first_name if entry.user else "",
            )
            for column, value in enumerate(values):
                self.timeline.setItem(row, column, QTableWidgetItem(value))
        self.timeline.resizeColumnsToContents()
        self.timeline.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

    def _add_interaction(self) -> None:
        dialog = InteractionDialog(self.patient_id, self.context, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._refresh_timeline()


class FamilyLinkDialog(QDialog):
    """Links the file's patient to a parent or a child found by the same search as the list."""

    def __init__(self, patient_id: int, parent=None):
        super().__init__(parent)
        self.patient_id = patient_id
        self._generation = 0
        self.setWindowTitle(_("Link a relative"))
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Name, phone or birth date of the relative"))
        self.results = QListWidget()
        self.results_note = QLabel()
        self.is_parent = QRadioButton(_("The person chosen is a parent of this patient"))
        self.is_child = QRadioButton(_("The person chosen is a child of this patient"))
        self.is_parent.setChecked(True)
        self.relation = choice_box(rules.FAMILY_RELATIONS)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        buttons = dialog_buttons(self, self._link)
        form = QFormLayout()
        form.addRow(_("Relation of the parent"), self.relation)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.results_note)
        layout.addWidget(self.is_parent)
        layout.addWidget(self.is_child)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._find)
        self.resize(560, 480)

    def _find(self, text: str) -> None:
        """The same search as the list, off the GUI thread; only the latest answer shows."""
        self._generation += 1
        generation = self._generation
        if len(text.strip()) < 2:
            self.results.clear()
            self.results_note.setText("")
            return

        def search() -> tuple[list[int], dict]:
            ids = [i for i in service.search_ids(text) if i != self.patient_id]
            return ids, service.rows_for(ids[:50])

        run_in_background(search, lambda found: self._show_found(generation, *found),
                          owner=self)

    def _show_found(self, generation: int, ids: list[int], rows: dict) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        for patient_id in ids[:50]:
            row = rows[patient_id]
            label = f"{row.first_names} {row.last_name}"
            if row.birth_date:
                label += " — " + format_date(row.birth_date)
            if row.phone:
                label += " — " + phones.display(row.phone)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, patient_id)
            self.results.addItem(item)
        self.results_note.setText(
            _("{shown} of {total} shown: type more to narrow the search.").format(
                shown=min(50, len(ids)), total=len(ids)) if len(ids) > 50 else "")

    def _link(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self.error.setText(_("Search for the relative and choose her in the list."))
            return
        other = item.data(Qt.ItemDataRole.UserRole)
        parent_id, child_id = ((other, self.patient_id) if self.is_parent.isChecked()
                               else (self.patient_id, other))
        try:
            service.link_family(parent_id, child_id, self.relation.currentData())
        except ValidationFailed as failed:
            self.error.setText(" ".join(failed.errors.values()))
            return
        self.accept()
