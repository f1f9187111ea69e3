"""Calls and messages: the call register with its filters, printed or exported (TEL-03,
TEL-08); messages and their confirmed delivery (TEL-04, TEL-07); the end-of-day list of what
is still open."""

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
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
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import reception as rules
from nest_desktop.domain.dates import entry_text
from nest_desktop.i18n import _, counted, format_date, format_datetime, format_number, ngettext
from nest_desktop.services import ValidationFailed, desk, documents, reception, session
from nest_desktop.services.exports import safe_file_name
from nest_desktop.services.people import typed_date
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    DateEdit,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    ask_save_path,
    choice_box,
    dialog_buttons,
    fill,
    headers_in_full,
    read_only_table,
    read_period,
    section_title,
    site_box,
)

OPEN_COLOUR = QColor("#b00020")


def fill_directory_box(box: QComboBox, site_id: int | None, selected_id: int | None = None,
                       empty_label: str | None = None) -> None:
    """The site's services and people, with their internal number."""
    blocked = box.blockSignals(True)
    box.clear()
    if empty_label is not None:
        box.addItem(empty_label, None)
    for entry in reception.directory(site_id):
        label = entry.name + (f" — {entry.extension}" if entry.extension else "")
        if site_id is None:
            label += f" ({entry.site.name})"
        box.addItem(label, entry.id)
    if selected_id is not None:
        box.setCurrentIndex(max(box.findData(selected_id), 0))
    box.blockSignals(blocked)


def calls_and_tasks_changed() -> None:
    """A call dealt with or a message delivered: the register and Today change."""
    changes().calls.emit()
    changes().tasks.emit()


class MessageDialog(QDialog):
    """Takes a message for a service or a person (TEL-04)."""

    def __init__(self, site_id: int | None, caller_name: str = "", caller_phone: str = "",
                 patient_id: int | None = None, prospect_id: int | None = None,
                 call_id: int | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Take a message"))
        self.site_id, self.patient_id, self.prospect_id = site_id, patient_id, prospect_id
        self.call_id = call_id
        self.message_id: int | None = None
        self.recipient = QComboBox()
        fill_directory_box(self.recipient, site_id, empty_label=_("Choose…"))
        self.caller = QLineEdit(caller_name)
        self.caller.setMaxLength(200)
        self.phone = QLineEdit(caller_phone)
        self.phone.setMaxLength(30)
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(90)
        self.urgent = QCheckBox(_("Urgent"))
        self.fields = {"recipient": FieldWithError(self.recipient),
                       "message_caller": FieldWithError(self.caller),
                       "message_phone": FieldWithError(self.phone),
                       "message_text": FieldWithError(self.text)}
        self.message = MessageLabel()
        form = QFormLayout(self)
        form.addRow(_("For"), self.fields["recipient"])
        form.addRow(_("From"), self.fields["message_caller"])
        form.addRow(_("Number to call back"), self.fields["message_phone"])
        form.addRow(_("Message"), self.fields["message_text"])
        form.addRow("", self.urgent)
        note = QLabel(_("The message stays on Today until its delivery is confirmed."))
        note.setStyleSheet("color: #555555;")
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 380)

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        try:
            saved = reception.take_message(reception.MessageForm(
                self.recipient.currentData(), self.caller.text(), self.phone.text(),
                self.text.toPlainText(), self.urgent.isChecked(), self.patient_id,
                self.prospect_id, self.site_id), self.call_id)
        except ValidationFailed as failed:
            for name, text in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(text)
            self.message.say(_("Check the fields marked."), error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.message_id = saved.id
        self.accept()


class ConfirmMessageDialog(QDialog):
    """A message and the confirmation that it reached the right person (TEL-07)."""

    def __init__(self, message_id: int, parent=None):
        super().__init__(parent)
        self.message_id = message_id
        message = reception.get_message(message_id)
        self.setWindowTitle(_("Message for {name}").format(name=message.recipient_name))
        details = QLabel()
        details.setWordWrap(True)
        details.setTextFormat(Qt.TextFormat.PlainText)
        lines = [_("For: {name}").format(name=message.recipient_name),
                 _("From: {name}").format(name=message.caller_name)]
        if message.caller_phone:
            lines.append(_("Number to call back: {phone}").format(
                phone=phones.display(message.caller_phone)))
        lines.append(_("Taken on {when} by {who}").format(
            when=format_datetime(message.taken_at),
            who=message.taken_by.full_name if message.taken_by_id else "—"))
        if message.urgent:
            lines.append(_("Urgent"))
        lines += ["", message.text]
        details.setText("\n".join(lines))
        self.how = QComboBox()
        for how, label in rules.MESSAGE_CONFIRMATIONS.items():
            if reception.may_confirm(message, how):
                self.how.addItem(_(label), how)
        self.note = QLineEdit()
        self.note.setMaxLength(200)
        self.note.setPlaceholderText(_("How it was delivered (optional)"))
        self.status = MessageLabel()
        form = QFormLayout(self)
        form.addRow(details)
        if message.confirmed_at:
            self.status.say(_("Delivered: confirmed on {when} by {who}.").format(
                when=format_datetime(message.confirmed_at),
                who=message.confirmed_by.full_name if message.confirmed_by_id else "—"))
            form.addRow(self.status)
            close = dialog_buttons(self, self.accept)
            form.addRow(close)
            return
        form.addRow(_("Confirmed"), self.how)
        form.addRow(_("Note"), self.note)
        form.addRow(self.status)
        buttons = dialog_buttons(self, self._confirm)
        buttons.button(buttons.StandardButton.Ok).setText(_("Confirm the delivery"))
        if self.how.count() == 0:
            buttons.button(buttons.StandardButton.Ok).setEnabled(False)
            self.status.say(_("Only the recipient or a desk secretary confirms the delivery."),
                            error=True)
        form.addRow(buttons)
        self.resize(480, 320)

    def _confirm(self) -> None:
        try:
            reception.confirm_message(self.message_id, self.how.currentData(),
                                      self.note.text())
        except ValidationFailed as failed:
            self.status.say(" ".join(failed.errors.values()), error=True)
            return
        except (reception.AlreadyDone, session.PermissionDenied) as refused:
            self.status.say(str(refused), error=True)
            return
        calls_and_tasks_changed()
        self.accept()


class ResolveCallDialog(QDialog):
    """An unsatisfied request dealt with another way than a call back from Today."""

    def __init__(self, call_id: int, parent=None):
        super().__init__(parent)
        self.call_id = call_id
        call = reception.get_call(call_id)
        self.setWindowTitle(_("Request dealt with"))
        request = QLabel(_("Her request ({time}): {summary}").format(
            time=format_datetime(call.started_at), summary=call.summary))
        request.setWordWrap(True)
        self.resolution = QPlainTextEdit()
        self.resolution.setTabChangesFocus(True)
        self.resolution.setMaximumHeight(90)
        self.field = FieldWithError(self.resolution)
        self.status = MessageLabel()
        form = QFormLayout(self)
        form.addRow(request)
        form.addRow(_("How it was dealt with"), self.field)
        form.addRow(self.status)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(500, 260)

    def _save(self) -> None:
        self.field.set_error(None)
        try:
            reception.resolve_call(self.call_id, self.resolution.toPlainText())
        except ValidationFailed as failed:
            self.field.set_error(failed.errors.get("resolution"))
            return
        except (reception.AlreadyDone, session.PermissionDenied) as refused:
            self.status.say(str(refused), error=True)
            return
        self.accept()


class RegisterModel(LazyRowsModel):
    COLUMNS = ("time", "direction", "caller", "phone", "reason", "outcome", "duration",
               "hold", "secretary", "site")

    def headers(self) -> list[str]:
        return [_("Date and time"), _("Direction"), _("Caller"), _("Phone"), _("Reason"),
                _("Outcome"), _("Duration"), _("Hold"), _("Secretary"), _("Site")]

    def fetch(self, ids: list[int]) -> dict:
        return reception.register_rows(ids)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and row.open and column == "outcome":
            return QBrush(OPEN_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(part for part in (row.summary, row.resolution) if part) or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            "time": format_datetime(row.started_at),
            "direction": _(rules.DIRECTIONS[row.direction]),
            "caller": row.caller, "phone": row.phone, "reason": row.reason,
            "outcome": row.outcome + (" — " + _("still open") if row.open else ""),
            "duration": reception.duration_text(row.duration_seconds),
            "hold": reception.duration_text(row.hold_seconds) if row.hold_seconds else "",
            "secretary": row.secretary, "site": row.site,
        }[column]


class RegisterTab(QWidget):
    openPatient = Signal(int)
    openProspect = Signal(int)
    changed = Signal()

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()
        today = entry_text(clock.today())
        self.date_from, self.date_to = DateEdit(), DateEdit()
        self.date_from.setText(today)
        self.date_to.setText(today)
        self.site_filter = site_box(site_id, _("Every site"))
        self.secretary = QComboBox()
        self.secretary.addItem(_("Every secretary"), None)
        for user in desk.all_users():
            self.secretary.addItem(user.full_name, user.id)
        self.outcome = choice_box(rules.OUTCOMES, _("Every outcome"))
        self.direction = choice_box(rules.DIRECTIONS, _("In and out"))
        self.open_only = QCheckBox(_("Still open only"))
        self.filter_error = QLabel()
        self.filter_error.setStyleSheet(ERROR_STYLE)
        filters = QHBoxLayout()
        for label, widget in ((_("From"), self.date_from), (_("to"), self.date_to),
                              (None, self.site_filter), (None, self.secretary),
                              (None, self.outcome), (None, self.direction)):
            if label:
                filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.open_only)
        filters.addStretch(1)
        self.model = RegisterModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 70, 170, 110, 150, 190, 80, 60, 140)):
            self.table.setColumnWidth(column, width)
        headers_in_full(self.table)
        self.table.doubleClicked.connect(lambda _index: self._open_file())
        self.counts = QLabel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #333333;")
        self.message = MessageLabel()
        self.resolve_button = QPushButton(_("Request dealt with…"))
        self.resolve_button.clicked.connect(self._resolve)
        open_file = QPushButton(_("Open the file"))
        open_file.clicked.connect(self._open_file)
        csv_button = QPushButton(_("Export (CSV)…"))
        csv_button.clicked.connect(self._export)
        pdf_button = QPushButton(_("Print the register…"))
        pdf_button.clicked.connect(self._print)
        actions = QHBoxLayout()
        for button in (self.resolve_button, open_file):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(csv_button)
        actions.addWidget(pdf_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.filter_error)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.counts)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.filter_error.hide()
        for box in (self.site_filter, self.secretary, self.outcome, self.direction):
            box.currentIndexChanged.connect(self.refresh)
        self.open_only.toggled.connect(self.refresh)
        self.date_from.editingFinished.connect(self.refresh)
        self.date_to.editingFinished.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.refresh()

    def current_filter(self) -> reception.RegisterFilter | None:
        days = read_period(self.date_from, self.date_to, self.filter_error)
        if days is None:
            return None
        return reception.RegisterFilter(days[0], days[1], self.site_filter.currentData(),
                                        self.secretary.currentData(),
                                        self.outcome.currentData() or None,
                                        self.direction.currentData() or None,
                                        self.open_only.isChecked())

    def refresh(self) -> None:
        register_filter = self.current_filter()
        if register_filter is None:
            return
        self.model.set_ids(reception.register_ids(register_filter))
        counts = reception.register_counts(register_filter)
        total = sum(counts.values())
        parts = [_("{label}: {count}").format(label=_(label),
                                              count=format_number(counts.get(code, 0)))
                 for code, label in rules.OUTCOMES.items() if counts.get(code)]
        self.counts.setText(counted("{count} call", "{count} calls", total, _("No call"))
                            + (" — " + ", ".join(parts) if parts else ""))
        self._selection_changed()

    def selected(self) -> reception.RegisterRow | None:
        index = self.table.currentIndex()
        return self.model.row_of(index.row()) if index.isValid() else None

    def _selection_changed(self, *_args) -> None:
        row = self.selected()
        self.resolve_button.setEnabled(bool(row and row.open and session.may("calls.write")))
        if row is None:
            self.summary.setText("")
            return
        text = row.summary or _("No summary.")
        if row.resolution:
            text += "\n" + _("Dealt with: {how}").format(how=row.resolution)
        self.summary.setText(text)

    def _resolve(self) -> None:
        row = self.selected()
        if row and ResolveCallDialog(row.id, self).exec():
            self.message.say(_("The request is dealt with."))
            self.refresh()
            self.changed.emit()

    def _open_file(self) -> None:
        row = self.selected()
        if row and row.patient_id:
            self.openPatient.emit(row.patient_id)
        elif row and row.prospect_id:
            self.openProspect.emit(row.prospect_id)

    def _export(self) -> None:
        register_filter = self.current_filter()
        if register_filter is None:
            return
        name = safe_file_name(_("call register") + " " + (
            register_filter.date_from.isoformat() if register_filter.date_from else "")) + ".csv"
        path = ask_save_path(self, _("Export the register"), name, "CSV (*.csv)")
        if path is None:
            return
        try:
            count = reception.register_csv(path, register_filter)
        except (OSError, session.PermissionDenied) as error:
            self.message.say(str(error), error=True)
            return
        self.message.say(ngettext("{count} call exported.", "{count} calls exported.", count)
                         .format(count=format_number(count)))

    def _print(self) -> None:
        register_filter = self.current_filter()
        if register_filter is not None:
            self.documentRequested.emit(lambda: documents.call_register_pdf(register_filter))


class MessagesTab(QWidget):
    changed = Signal()

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.site_filter = site_box(site_id, _("Every site"))
        self.scope = QComboBox()
        self.scope.addItem(_("To deliver"), "open")
        self.scope.addItem(_("For me"), "mine")
        self.scope.addItem(_("Every message of the day"), "day")
        self.table = read_only_table([_("Taken"), _("For"), _("From"), _("Phone"),
                                      _("Message"), _("Delivery confirmed")])
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self._open())
        self.ids: list[int] = []
        open_button = QPushButton(_("Open / confirm the delivery…"))
        open_button.clicked.connect(self._open)
        new_button = QPushButton(_("Take a message…"))
        new_button.clicked.connect(self._new)
        self.new_button = new_button
        self.count = QLabel()
        filters = QHBoxLayout()
        filters.addWidget(self.site_filter)
        filters.addWidget(self.scope)
        filters.addStretch(1)
        filters.addWidget(new_button)
        actions = QHBoxLayout()
        actions.addWidget(open_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addLayout(actions)
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        scope = self.scope.currentData()
        user = session.current()
        rows = reception.messages(
            self.site_filter.currentData(), open_only=scope == "open",
            for_user=user.id if scope == "mine" and user else None,
            day=clock.today() if scope == "day" else None)
        self.ids = [m.id for m in rows]
        fill(self.table, [(format_datetime(m.taken_at),
                           m.recipient_name + (" — " + _("Urgent") if m.urgent else ""),
                           m.caller_name, phones.display(m.caller_phone) if m.caller_phone
                           else "", m.text, format_datetime(m.confirmed_at) if m.confirmed_at
                           else _("not yet")) for m in rows])
        for index, message in enumerate(rows):
            if not message.confirmed_at:
                self.table.item(index, 5).setForeground(QBrush(OPEN_COLOUR))
            if message.urgent:
                self.table.item(index, 1).setForeground(QBrush(OPEN_COLOUR))
        waiting = sum(1 for m in rows if not m.confirmed_at)
        self.count.setText(counted("{count} message to deliver", "{count} messages to deliver",
                                   waiting, _("No message to deliver")))
        self.new_button.setEnabled(session.may("calls.write"))

    def _open(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.ids) and ConfirmMessageDialog(self.ids[row], self).exec():
            self.refresh()
            self.changed.emit()

    def _new(self) -> None:
        if MessageDialog(self.site_filter.currentData(), parent=self).exec():
            self.refresh()
            self.changed.emit()


class EndOfDayTab(QWidget):
    """TEL-08: what is still open this evening; every line is dealt with before leaving."""

    changed = Signal()

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()
        self.site_id = site_id
        self.day = DateEdit()
        self.day.setText(entry_text(clock.today()))
        self.site_filter = site_box(site_id, _("Every site"))
        self.verdict = QLabel()
        self.verdict.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.verdict.setWordWrap(True)
        self.calls = read_only_table([_("Time"), _("Caller"), _("Phone"), _("Request"),
                                      _("Outcome")])
        self.calls.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.messages = read_only_table([_("Taken"), _("For"), _("From"), _("Message")])
        self.messages.horizontalHeader().setSectionResizeMode(3,
                                                              QHeaderView.ResizeMode.Stretch)
        self.call_ids: list[int] = []
        self.message_ids: list[int] = []
        self.calls.doubleClicked.connect(lambda _index: self._resolve())
        self.messages.doubleClicked.connect(lambda _index: self._confirm())
        resolve = QPushButton(_("Request dealt with…"))
        resolve.clicked.connect(self._resolve)
        confirm = QPushButton(_("Open / confirm the delivery…"))
        confirm.clicked.connect(self._confirm)
        print_button = QPushButton(_("Print the day's register…"))
        print_button.clicked.connect(self._print)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Evening of")))
        top.addWidget(self.day)
        top.addWidget(self.site_filter)
        top.addStretch(1)
        top.addWidget(print_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.verdict)
        layout.addWidget(QLabel(_("Requests not satisfied")))
        layout.addWidget(self.calls, 1)
        layout.addWidget(resolve)
        layout.addWidget(QLabel(_("Messages not confirmed as delivered")))
        layout.addWidget(self.messages, 1)
        layout.addWidget(confirm)
        self.day.editingFinished.connect(self.refresh)
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def chosen_day(self) -> dt.date | None:
        day = typed_date(self.day.text())
        self.error.setText("" if day else _(
            "Write the date as day/month/year, for example 23/11/2026."))
        self.error.setVisible(day is None)
        return day

    def refresh(self) -> None:
        day = self.chosen_day()
        if day is None:
            return
        end = reception.end_of_day(self.site_filter.currentData(), day)
        self.call_ids = [row.id for row in end.open_calls]
        self.message_ids = [m.id for m in end.open_messages]
        fill(self.calls, [(format_datetime(row.started_at), row.caller, row.phone,
                           row.summary, row.outcome) for row in end.open_calls])
        fill(self.messages, [(format_datetime(m.taken_at), m.recipient_name, m.caller_name,
                              m.text) for m in end.open_messages])
        calls = counted("{count} call", "{count} calls", end.calls, _("No call"))
        if end.all_dealt_with:
            self.verdict.setStyleSheet("font-size: 13pt; font-weight: bold; color: #1b5e20;")
            self.verdict.setText(_("{calls} on {day}: every line is dealt with.").format(
                calls=calls, day=format_date(day, "full")))
        else:
            self.verdict.setStyleSheet("font-size: 13pt; font-weight: bold; color: #b00020;")
            self.verdict.setText(_("{calls} on {day}: {open} still open.").format(
                calls=calls, day=format_date(day, "full"),
                open=format_number(len(end.open_calls) + len(end.open_messages))))

    def _resolve(self) -> None:
        row = self.calls.currentRow()
        if 0 <= row < len(self.call_ids) and ResolveCallDialog(self.call_ids[row], self).exec():
            self.refresh()
            self.changed.emit()

    def _confirm(self) -> None:
        row = self.messages.currentRow()
        if 0 <= row < len(self.message_ids) and ConfirmMessageDialog(
                self.message_ids[row], self).exec():
            self.refresh()
            self.changed.emit()

    def _print(self) -> None:
        day = self.chosen_day()
        if day is not None:
            register_filter = reception.RegisterFilter(day, day, self.site_filter.currentData())
            self.documentRequested.emit(lambda: documents.call_register_pdf(register_filter))


class CallsPage(QWidget):
    """Section 'Calls & messages'."""

    openPatient = Signal(int)
    openProspect = Signal(int)
    newCall = Signal()

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()
        self.register = RegisterTab(site_id)
        self.messages = MessagesTab(site_id)
        self.end_of_day = EndOfDayTab(site_id)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.register, _("Call register"))
        self.tabs.addTab(self.messages, _("Messages"))
        self.tabs.addTab(self.end_of_day, _("End of the day"))
        new_call = QPushButton(_("Incoming call (F2)"))
        new_call.setStyleSheet("font-weight: bold;")
        new_call.clicked.connect(self.newCall)
        top = QHBoxLayout()
        top.addWidget(section_title(_("Calls & messages")))
        top.addStretch(1)
        top.addWidget(new_call)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.register.openPatient.connect(self.openPatient)
        self.register.openProspect.connect(self.openProspect)
        for tab in (self.register, self.messages, self.end_of_day):
            tab.changed.connect(calls_and_tasks_changed)
        self.register.documentRequested.connect(self.documentRequested)
        self.end_of_day.documentRequested.connect(self.documentRequested)
        self.site_filter = self.register.site_filter
        changes().calls.connect(self.refresh)

    def refresh(self) -> None:
        self.register.refresh()
        self.messages.refresh()
        self.end_of_day.refresh()
