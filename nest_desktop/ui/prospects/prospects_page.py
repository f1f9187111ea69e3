"""The prospect list (one of the client's four windows) and the prospect's file: qualified
requests, answers, callbacks, conversion, merge (procedure PO06-PR0001)."""

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import patients as patient_rules
from nest_desktop.domain import prospects as rules
from nest_desktop.domain.dates import parse_date
from nest_desktop.domain.text import fill_in, shown_name
from nest_desktop.i18n import _, counted, format_date, format_datetime, format_number
from nest_desktop.services import StaleRecordError, ValidationFailed, desk, session
from nest_desktop.services import prospects as service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.dialogs import DuplicatesDialog, InteractionDialog
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    choice_box,
    dialog_buttons,
    fill,
    headers_in_full,
    read_only_table,
    select_data,
    site_box,
)
from nest_desktop.ui.reception.appointments import AppointmentsBox


def _user_box(empty_label: str) -> QComboBox:
    box = QComboBox()
    box.addItem(empty_label, None)
    for user in desk.users():
        box.addItem(user.full_name, user.id)
    return box


class ProspectTableModel(LazyRowsModel):
    COLUMNS = ("name", "phone", "channel", "qualification", "status", "next_call", "owner",
               "site", "created")

    def headers(self) -> list[str]:
        return [_("Name"), _("Phone"), _("Channel"), _("Request"), _("Status"),
                _("Next call"), _("In charge"), _("Site"), _("Added on")]

    def fetch(self, ids: list[int]) -> dict:
        return service.rows_for(ids)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
        column = self.COLUMNS[index.column()]
        values = {
            "name": row.name,
            "phone": phones.display(row.phone) if row.phone else "",
            "channel": _(rules.CHANNELS.get(row.channel, row.channel)),
            "qualification": _(rules.QUALIFICATIONS.get(row.qualification, row.qualification)),
            "status": _(rules.STATUSES.get(row.status, row.status)),
            "next_call": format_date(row.next_call.date()) if row.next_call else "",
            "owner": row.owner,
            "site": row.site,
            "created": format_date(row.created_at.date()),
        }
        return values[column]


class ProspectsPage(QWidget):
    """Search, filters and counts over the lazy list; Enter opens the prospect's file."""

    openProspect = Signal(int)
    newProspect = Signal()
    importRequested = Signal()
    reportRequested = Signal()

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search: name, phone in any form, birth date"))
        self.search.setClearButtonEnabled(True)
        self.status = choice_box(rules.STATUSES, empty_label=_("Every status"))
        self.channel = choice_box(rules.CHANNELS, empty_label=_("Every channel"))
        self.qualification = choice_box(rules.QUALIFICATIONS, empty_label=_("Every request"))
        self.owner = _user_box(_("Anyone in charge"))
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        self.created_from, self.created_to = DateEdit(), DateEdit()
        self.created_from.setPlaceholderText(_("added from"))
        self.created_to.setPlaceholderText(_("until"))
        self.period_error = QLabel()
        self.period_error.setStyleSheet("color: #b00020;")
        self.new_button = QPushButton(_("New prospect"))
        self.new_button.clicked.connect(self.newProspect)
        self.import_button = QPushButton(_("Import leads…"))
        self.import_button.clicked.connect(self.importRequested)
        report = QPushButton(_("Conversion report…"))
        report.clicked.connect(self.reportRequested)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.model = ProspectTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((170, 110, 150, 150, 120, 90, 130, 150)):
            self.view.setColumnWidth(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        headers_in_full(self.view)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.import_button)
        top.addWidget(report)
        filters = QHBoxLayout()
        for widget in (self.status, self.channel, self.qualification, self.owner,
                       self.site_filter, self.created_from, self.created_to):
            filters.addWidget(widget)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.period_error)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.counts)
        self.period_error.hide()

        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(lambda: self._open_row(
            max(self.view.currentIndex().row(), 0)))
        for box in (self.status, self.channel, self.qualification, self.owner,
                    self.site_filter):
            box.currentIndexChanged.connect(self.refresh)
        for edit in (self.created_from, self.created_to):
            edit.editingFinished.connect(self.refresh)
        self.view.activated.connect(lambda index: self._open_row(index.row()))
        self.refresh_permissions()
        self.refresh()
        changes().prospect.connect(self._prospect_changed)
        changes().desk.connect(self.refresh_permissions)

    def _prospect_changed(self, _prospect_id: int) -> None:
        self.refresh()

    def refresh_permissions(self) -> None:
        self.new_button.setEnabled(session.may("prospects.write"))
        self.import_button.setEnabled(session.may("prospects.import"))
        self.import_button.setToolTip("" if session.may("prospects.import") else _(
            "Importing leads is for the prospect manager."))

    def current_filter(self) -> service.ProspectFilter | None:
        dates = []
        for edit in (self.created_from, self.created_to):
            text = edit.text().strip()
            try:
                dates.append(parse_date(text) if text else None)
            except ValueError as error:
                self.period_error.setText(str(error))
                self.period_error.show()
                return None
        self.period_error.hide()
        return service.ProspectFilter(
            query=self.search.text(), status=self.status.currentData() or "",
            channel=self.channel.currentData() or "",
            qualification=self.qualification.currentData() or "",
            owner_id=self.owner.currentData(), site_id=self.site_filter.currentData(),
            created_from=dates[0], created_to=dates[1])

    def refresh(self) -> None:
        prospect_filter = self.current_filter()
        if prospect_filter is None:
            return
        self._generation += 1
        generation = self._generation
        run_in_background(
            lambda: (service.search_ids(prospect_filter),
                     service.counts_by_status(prospect_filter)),
            lambda result: self._show(generation, *result), owner=self.model)

    def _show(self, generation: int, ids: list[int], counts: dict[str, int]) -> None:
        if generation != self._generation:
            return
        self.model.set_ids(ids)
        total = counted("{count} prospect", "{count} prospects", len(ids), _("No prospect"))
        parts = [_("{label}: {count}").format(label=_(label),
                                              count=format_number(counts[status]))
                 for status, label in rules.STATUSES.items() if counts.get(status)]
        self.counts.setText(total + ("  —  " + " · ".join(parts) if parts else ""))
        if ids:
            self.view.selectRow(0)

    def _open_row(self, row: int) -> None:
        prospect_id = self.model.id_at(row)
        if prospect_id is not None:
            self.openProspect.emit(prospect_id)


class ProspectWindow(QMainWindow):
    """The prospect's file: who she is, her requests and their answers, her contacts, and
    what can happen next (answer, call back, convert, merge, lost)."""

    saved = Signal(int)
    openPatient = Signal(int)
    openProspect = Signal(int)
    convertRequested = Signal(int)

    def __init__(self, context: DeskContext, prospect_id: int | None = None, parent=None):
        super().__init__(parent)
        self.context = context
        self.prospect_id = prospect_id
        self.version: int | None = None
        self.name_to_complete = False  # a lead imported without a name
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._telling = False  # saying her own change: no need to reload for it
        self.saved.connect(self._tell_saved)
        changes().prospect.connect(self._prospect_changed)
        changes().desk.connect(self.refresh_permissions)
        self.fields: dict[str, FieldWithError] = {}

        self.last_name, self.first_names = QLineEdit(), QLineEdit()
        self.birth_date = DateEdit()
        self.phone_edits = [QLineEdit() for _index in range(3)]
        self.email = QLineEdit()
        self.site = site_box(context.site.id if context.site else None,
                             empty_label=_("No site"))
        self.channel = choice_box(rules.CHANNELS)
        self.owner = _user_box(_("Nobody yet"))
        select_data(self.owner, context.user.id)
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(60)
        self.sms_consent = QCheckBox(_("Agrees to SMS reminders of her appointments"))
        self.newsletter_consent = QCheckBox(_("Agrees to receive newsletters"))
        identity = QFormLayout()
        for name, label, editor in (
                ("last_name", _("Last name *"), self.last_name),
                ("first_names", _("First names"), self.first_names),
                ("birth_date", _("Birth date"), self.birth_date),
                ("phone_0", _("Phone"), self.phone_edits[0]),
                ("phone_1", _("Other phone"), self.phone_edits[1]),
                ("phone_2", _("Other phone"), self.phone_edits[2]),
                ("email", _("Email"), self.email),
                ("channel", _("First contact by"), self.channel),
                ("owner", _("In charge"), self.owner),
                ("site", _("Site"), self.site),
                ("notes", _("Notes"), self.notes)):
            self.fields[name] = FieldWithError(editor)
            identity.addRow(label, self.fields[name])
        identity.addRow("", self.sms_consent)
        identity.addRow("", self.newsletter_consent)

        # The first request, asked when the prospect is created (PRO-02).
        self.request_box = QGroupBox(_("Her request"))
        self.qualification = choice_box(rules.QUALIFICATIONS, empty_label="")
        self.request_text = QPlainTextEdit()
        self.request_text.setMaximumHeight(60)
        self.answer_text = QPlainTextEdit()
        self.answer_text.setMaximumHeight(60)
        self.answer_text.setPlaceholderText(_("If you answered her at once"))
        request_form = QFormLayout(self.request_box)
        for name, label, editor in (("qualification", _("She asks for *"), self.qualification),
                                    ("request", _("Her words"), self.request_text),
                                    ("answer", _("Answer given"), self.answer_text)):
            self.fields[name] = FieldWithError(editor)
            request_form.addRow(label, self.fields[name])
        qualified = QLabel(_("Only qualified prospects are recorded: an appointment, a quote or "
                             "prices, or information on the NEST programme."))
        qualified.setWordWrap(True)
        qualified.setStyleSheet("color: #555555;")
        request_form.addRow(qualified)

        self.status_label = QLabel()
        self.status_label.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.tasks_label = QLabel()
        self.tasks_label.setWordWrap(True)
        self.requests = read_only_table([_("Received"), _("Request"), _("Her words"),
                                         _("Answer"), _("Answered on")])
        for column in (2, 3):
            self.requests.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.Stretch)
        self.timeline = read_only_table([_("When"), _("Channel"), _("Subject"), _("Outcome"),
                                         _("By")])
        self.timeline.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.actions: dict[str, QPushButton] = {}
        actions_row = QHBoxLayout()
        for name, label, slot in (
                ("answer", _("Record the answer…"), self._answer),
                ("request", _("New request…"), self._new_request),
                ("contact", _("Record a contact…"), self._add_contact),
                ("convert", _("Make her a patient…"), self._convert),
                ("merge", _("Merge with…"), self._merge),
                ("lost", _("Lost / not interested…"), self._close_prospect),
                ("patient", _("Open her patient file"), self._open_patient)):
            button = QPushButton(label)
            button.clicked.connect(slot)
            self.actions[name] = button
            actions_row.addWidget(button)
        actions_row.addStretch(1)
        self.follow_box = QGroupBox(_("Follow-up"))
        follow = QVBoxLayout(self.follow_box)
        follow.addWidget(self.status_label)
        follow.addWidget(self.tasks_label)
        follow.addLayout(actions_row)
        follow.addWidget(QLabel(_("Requests")))
        follow.addWidget(self.requests, 1)
        follow.addWidget(QLabel(_("Contacts")))
        follow.addWidget(self.timeline, 1)
        # Her first appointment may be booked before she is a patient (PRO-02).
        self.appointments = AppointmentsBox("", context.site.id if context.site else None)
        self.appointments.changed.connect(self.load)
        follow.addWidget(self.appointments)

        self.message = MessageLabel()
        self.save_button = QPushButton(_("Save"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.save_button)
        left = QVBoxLayout()
        left.addLayout(identity)
        left.addWidget(self.request_box)
        left.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addWidget(self.follow_box, 3)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(body, 1)
        layout.addLayout(bottom)
        self.setCentralWidget(central)
        fit_on_screen(self, 1180, 720, "prospect_window")
        self.load()

    # --- showing ---------------------------------------------------------------------

    def _tell_saved(self, prospect_id: int) -> None:
        self._telling = True
        try:
            changes().prospect.emit(prospect_id)
            changes().tasks.emit()
        finally:
            self._telling = False

    def _prospect_changed(self, prospect_id: int) -> None:
        """Her file changed elsewhere (a call, a follow-up, her conversion): shown."""
        if not self._telling and prospect_id and prospect_id == self.prospect_id:
            self.load()

    def load(self) -> None:
        new = self.prospect_id is None
        self.request_box.setVisible(new)
        self.follow_box.setVisible(not new)
        self.name_to_complete = False
        if new:
            self.setWindowTitle(_("New prospect"))
            self.refresh_permissions()
            return
        prospect = service.get_prospect(self.prospect_id)
        self.version = prospect.version
        form = service.form_of(prospect)
        # a lead imported without a name: asked at the callback, typed here
        self.name_to_complete = form.name_to_complete
        self.last_name.setPlaceholderText(_("Name to complete: ask her at the callback")
                                          if form.name_to_complete else "")
        self.last_name.setText(form.last_name)
        self.first_names.setText(form.first_names)
        self.birth_date.setText(form.birth_date)
        for edit, number in zip(self.phone_edits, form.phones + ["", "", ""], strict=False):
            edit.setText(number)
        self.email.setText(form.email)
        select_data(self.site, form.site_id)
        select_data(self.channel, form.channel)
        select_data(self.owner, form.owner_id)
        self.notes.setPlainText(form.notes)
        self.sms_consent.setChecked(form.sms_consent)
        self.newsletter_consent.setChecked(form.newsletter_consent)
        self.setWindowTitle(_("Prospect — {name}").format(
            name=shown_name(prospect.full_name)))
        status = _(rules.STATUSES[prospect.status])
        if prospect.status == rules.LOST and prospect.lost_reason:
            status += " — " + _(rules.LOST_REASONS[prospect.lost_reason])
        if prospect.status == rules.CONVERTED and prospect.converted_at:
            status += " — " + _("on {date}").format(date=format_date(prospect.converted_at))
        self.status_label.setText(status)
        tasks = service.open_tasks_of(self.prospect_id)
        from nest_desktop.services.followup import rule_label

        self.tasks_label.setText("\n".join(
            _("{task}: due on {date}").format(task=rule_label(task.rule),
                                              date=format_date(task.due_at.date()))
            for task in tasks) or _("No call planned."))
        self.request_rows = service.requests_of(self.prospect_id)
        fill(self.requests, [(format_datetime(r.received_at),
                              _(rules.QUALIFICATIONS[r.qualification]),
                              r.text + (f"\n({r.source})" if r.source else ""), r.answer,
                              format_datetime(r.answered_at)) for r in self.request_rows])
        if self.request_rows:
            self.requests.selectRow(0)
        fill(self.timeline, [(format_datetime(c.occurred_at),
                              _(patient_rules.INTERACTION_CHANNELS.get(c.channel, c.channel)),
                              c.subject + (f"\n{c.notes}" if c.notes else ""), c.outcome,
                              c.user.phone_first_name if c.user else "")
                             for c in service.interactions_of(self.prospect_id)])
        self.timeline.resizeColumnsToContents()
        self.timeline.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.converted_patient_id = prospect.patient_id
        self.status = prospect.status
        self.appointments.person = prospect.full_name
        self.appointments.prospect_id = self.prospect_id
        self.appointments.site_id = prospect.site_id
        self.appointments.refresh()
        self.refresh_permissions()

    def refresh_permissions(self) -> None:
        may = session.may("prospects.write")
        self.save_button.setEnabled(may)
        if self.prospect_id is None:
            return
        converted = self.status == rules.CONVERTED
        unanswered = any(r.answered_at is None for r in self.request_rows)
        self.actions["answer"].setEnabled(may and bool(self.request_rows))
        self.actions["answer"].setText(_("Record the answer…") if unanswered or not
                                       self.request_rows else _("Answer again…"))
        self.actions["request"].setEnabled(may)
        self.actions["contact"].setEnabled(may)
        self.actions["convert"].setVisible(not converted)
        self.actions["convert"].setEnabled(may)
        self.actions["merge"].setEnabled(session.may("prospects.merge"))
        self.actions["lost"].setVisible(self.status not in rules.CLOSED_STATUSES)
        self.actions["lost"].setEnabled(may)
        self.actions["patient"].setVisible(bool(self.converted_patient_id))

    def collect(self) -> service.ProspectForm:
        return service.ProspectForm(
            last_name=self.last_name.text(), first_names=self.first_names.text(),
            birth_date=self.birth_date.text(), phones=[e.text() for e in self.phone_edits],
            email=self.email.text(), site_id=self.site.currentData(),
            channel=self.channel.currentData(), owner_id=self.owner.currentData(),
            notes=self.notes.toPlainText(), sms_consent=self.sms_consent.isChecked(),
            newsletter_consent=self.newsletter_consent.isChecked(),
            name_to_complete=self.name_to_complete)

    def collect_request(self) -> service.RequestForm:
        return service.RequestForm(self.qualification.currentData() or "",
                                   self.request_text.toPlainText(),
                                   self.answer_text.toPlainText())

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name, field in self.fields.items():
            field.set_error(errors.get(name))
        if errors:
            self.message.say(_("Please correct the fields marked: nothing was saved."),
                             error=True)

    # --- saving ----------------------------------------------------------------------

    def save(self) -> bool:
        form = self.collect()
        try:
            if self.prospect_id is None:
                return self._create(form)
            prospect = service.update_prospect(self.prospect_id, self.version, form)
        except ValidationFailed as failed:
            self._show_errors(failed.errors)
            return False
        except StaleRecordError as stale:
            QMessageBox.warning(self, _("File changed elsewhere"), str(stale))
            return False
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return False
        self._show_errors({})
        self.load()
        self.message.say(_("File saved."))
        self.saved.emit(prospect.id)
        return True

    def _create(self, form: service.ProspectForm, confirmed_new: bool = False) -> bool:
        request = self.collect_request()
        try:
            prospect = service.create_prospect(form, request, confirmed_new=confirmed_new)
        except service.DuplicateFound as found:
            self._show_errors({})
            dialog = DuplicatesDialog(found.candidates, self,
                                      open_label=_("Record the request on this file"),
                                      create_label=_("It is another person: create the "
                                                     "prospect"))
            if dialog.exec() != QDialog.DialogCode.Accepted:
                self.message.say(_("Nothing was created."))
                return False
            if dialog.chosen is None:
                return self._create(form, confirmed_new=True)
            return self._record_on_existing(dialog.chosen, request, form.channel)
        self.prospect_id = prospect.id
        self._show_errors({})
        self.load()
        self.message.say(_("Prospect saved. Her conversion will be reviewed on {date}.")
                         .format(date=format_date(_month_later(prospect.created_at))))
        self.saved.emit(prospect.id)
        return True

    def _record_on_existing(self, record, request: service.RequestForm, channel: str) -> bool:
        """PRO-05: never a second record; her request goes on the file that exists."""
        try:
            service.add_request(record.kind, record.record_id, request, channel)
        except ValidationFailed as failed:
            self._show_errors(failed.errors)
            return False
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return False
        if record.kind == "patient":
            self.openPatient.emit(record.record_id)
        else:
            self.openProspect.emit(record.record_id)
            self.saved.emit(record.record_id)
        self.message.say(fill_in(_("Her request was recorded on the existing file of {name}: no "
                                "prospect was created."), name=record.full_name))
        self.save_button.setEnabled(False)
        return True

    # --- actions ---------------------------------------------------------------------

    def _selected_request(self):
        row = self.requests.currentRow()
        return self.request_rows[row] if 0 <= row < len(self.request_rows) else None

    def _answer(self) -> None:
        request = self._selected_request()
        if request is None:
            return
        if AnswerDialog(request, self).exec() == QDialog.DialogCode.Accepted:
            self.load()
            self.saved.emit(self.prospect_id)

    def _new_request(self) -> None:
        if RequestDialog(self.prospect_id, self.channel.currentData(), self).exec() == \
                QDialog.DialogCode.Accepted:
            self.load()
            self.saved.emit(self.prospect_id)

    def _add_contact(self) -> None:
        dialog = InteractionDialog(None, self.context, self, save_contact=lambda *values:
                                   service.record_contact(self.prospect_id, *values))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load()

    def _convert(self) -> None:
        self.convertRequested.emit(self.prospect_id)

    def _merge(self) -> None:
        dialog = MergeDialog(self.prospect_id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load()
            self.message.say(_("Files merged."))
            self.saved.emit(self.prospect_id)

    def _close_prospect(self) -> None:
        if CloseProspectDialog(self.prospect_id, self).exec() == QDialog.DialogCode.Accepted:
            self.load()
            self.saved.emit(self.prospect_id)

    def _open_patient(self) -> None:
        if self.converted_patient_id:
            self.openPatient.emit(self.converted_patient_id)


def _month_later(moment: dt.datetime) -> dt.date:
    from nest_desktop.domain.followup import deadline

    return deadline(service.REVIEW_RULE, moment).date()


class AnswerDialog(QDialog):
    """The answer given to a request (PRO-06): a quote or programme answer is called back a
    week later."""

    def __init__(self, request, parent=None):
        super().__init__(parent)
        self.request = request
        self.setWindowTitle(_("Answer to her request"))
        self.answer = QPlainTextEdit(request.answer)
        self.answer_field = FieldWithError(self.answer)
        self.answered_on = QLineEdit(clock.now().strftime("%d/%m/%Y"))
        self.answered_on.setMaxLength(10)
        self.date_field = FieldWithError(self.answered_on)
        form = QFormLayout(self)
        form.addRow(_("Request"), QLabel(_(rules.QUALIFICATIONS[request.qualification])
                                         + (f" — {request.text}" if request.text else "")))
        form.addRow(_("Answer given *"), self.answer_field)
        form.addRow(_("Answered on"), self.date_field)
        if rules.FOLLOW_UP_AFTER_ANSWER[request.qualification]:
            note = QLabel(_("She will be called back one week after the answer (on Today)."))
        else:
            note = QLabel(_("An appointment request needs no callback."))
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 300)

    def _save(self) -> None:
        self.date_field.set_error(None)
        try:
            day = parse_date(self.answered_on.text())
        except ValueError as error:
            self.date_field.set_error(str(error))
            return
        now = clock.now()
        moment = now if day == now.date() else dt.datetime.combine(day, dt.time(12, 0))
        try:
            service.answer_request(self.request.id, self.answer.toPlainText(), moment)
        except ValidationFailed as failed:
            self.answer_field.set_error(failed.errors.get("answer"))
            self.date_field.set_error(failed.errors.get("answered_at"))
            return
        except session.PermissionDenied as refused:
            self.answer_field.set_error(str(refused))
            return
        self.accept()


class RequestDialog(QDialog):
    """Another request from a known prospect."""

    def __init__(self, prospect_id: int, channel: str, parent=None):
        super().__init__(parent)
        self.prospect_id = prospect_id
        self.setWindowTitle(_("New request"))
        self.channel = choice_box(rules.CHANNELS)
        select_data(self.channel, channel if channel not in rules.WRITTEN_CHANNELS else "phone")
        self.qualification = choice_box(rules.QUALIFICATIONS, empty_label="")
        self.text = QPlainTextEdit()
        self.answer = QPlainTextEdit()
        self.answer.setPlaceholderText(_("If you answered her at once"))
        self.fields = {name: FieldWithError(editor) for name, editor in (
            ("channel", self.channel), ("qualification", self.qualification),
            ("request", self.text), ("answer", self.answer))}
        form = QFormLayout(self)
        form.addRow(_("By"), self.fields["channel"])
        form.addRow(_("She asks for *"), self.fields["qualification"])
        form.addRow(_("Her words"), self.fields["request"])
        form.addRow(_("Answer given"), self.fields["answer"])
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 360)

    def _save(self) -> None:
        try:
            service.add_request("prospect", self.prospect_id, service.RequestForm(
                self.qualification.currentData() or "", self.text.toPlainText(),
                self.answer.toPlainText()), self.channel.currentData())
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            return
        except session.PermissionDenied as refused:
            self.fields["channel"].set_error(str(refused))
            return
        self.accept()


class CloseProspectDialog(QDialog):
    def __init__(self, prospect_id: int, parent=None):
        super().__init__(parent)
        self.prospect_id = prospect_id
        self.setWindowTitle(_("End of her follow-up"))
        self.status = QComboBox()
        self.status.addItem(_(rules.STATUSES[rules.LOST]), rules.LOST)
        self.status.addItem(_(rules.STATUSES[rules.NOT_INTERESTED]), rules.NOT_INTERESTED)
        self.reason = choice_box(rules.LOST_REASONS, empty_label="")
        self.reason_field = FieldWithError(self.reason)
        self.note = QPlainTextEdit()
        form = QFormLayout(self)
        form.addRow(_("She is"), self.status)
        form.addRow(_("Why"), self.reason_field)
        form.addRow(_("Notes"), self.note)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.status.currentIndexChanged.connect(
            lambda: self.reason.setEnabled(self.status.currentData() == rules.LOST))

    def _save(self) -> None:
        try:
            service.close_prospect(self.prospect_id, self.status.currentData(),
                                   self.reason.currentData() or "", self.note.toPlainText())
        except ValidationFailed as failed:
            self.reason_field.set_error(" ".join(failed.errors.values()))
            return
        self.accept()


class MergeDialog(QDialog):
    """Finds the other file of the same person and merges it into this one."""

    def __init__(self, prospect_id: int, parent=None):
        super().__init__(parent)
        self.prospect_id = prospect_id
        self.setWindowTitle(_("Merge two files of the same person"))
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Name or phone of the other file"))
        self.found = QListWidget()
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        explain = QLabel(_("The other file's phones, requests, contacts and calls come into "
                           "this one; the other file is then deleted. The merge is kept in "
                           "the audit trail."))
        explain.setWordWrap(True)
        layout.addWidget(explain)
        layout.addWidget(self.search)
        layout.addWidget(self.found, 1)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, self._merge))
        self.search.textChanged.connect(self._search)
        self.resize(560, 380)
        prospect = service.get_prospect(prospect_id)
        self._show(service.duplicates_of(service.form_of(prospect), prospect_id))

    def _show(self, candidates) -> None:
        self.found.clear()
        for candidate in candidates:
            record = candidate.record
            if record.kind != "prospect":
                continue
            item = QListWidgetItem(record.full_name + (
                " — " + ", ".join(phones.display(p) for p in record.phones)
                if record.phones else ""))
            item.setData(Qt.ItemDataRole.UserRole, record.record_id)
            self.found.addItem(item)

    def _search(self, text: str) -> None:
        self.found.clear()
        if len(text.strip()) < 2:
            return
        ids = [i for i in service.search_ids(service.ProspectFilter(query=text))
               if i != self.prospect_id][:50]
        for row in service.rows_for(ids).values():
            item = QListWidgetItem(row.name + (f" — {phones.display(row.phone)}"
                                               if row.phone else "")
                                   + f" — {format_date(row.created_at.date())}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.found.addItem(item)

    def _merge(self) -> None:
        item = self.found.currentItem()
        if item is None:
            self.error.setText(_("Choose the other file in the list."))
            return
        try:
            service.merge(self.prospect_id, item.data(Qt.ItemDataRole.UserRole))
        except (ValidationFailed, session.PermissionDenied) as refused:
            self.error.setText(" ".join(refused.errors.values())
                               if isinstance(refused, ValidationFailed) else str(refused))
            return
        self.accept()
