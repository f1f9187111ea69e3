"""The SMS outbox (PAT-01, PAT-11, PAT-12): what is scheduled, sent or failed, with counts per
state, cancel / send again / send now, each message's history; the same list on a patient's
file with "Write an SMS…"; the newsletter dialog opened from a segment."""

import datetime as dt
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import sms as rules
from nest_desktop.domain.dates import entry_text, parse_date, parse_time
from nest_desktop.i18n import _, counted, format_datetime, format_fcfa, format_number, ngettext
from nest_desktop.services import ValidationFailed, session
from nest_desktop.services import sms as service
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    DateEdit,
    FieldWithError,
    MessageLabel,
    ask_save_path,
    choice_box,
    dialog_buttons,
    headers_in_full,
    read_period,
)

SENDS_HERE_KEY = "sms/sends_from_this_workstation"
STATE_COLOURS = {rules.FAILED: QColor("#b00020"), rules.CANCELLED: QColor("#777777"),
                 rules.SENT: QColor("#1b5e20"), rules.DELIVERED: QColor("#1b5e20")}


class LengthLabel(QLabel):
    """Under a text being written: its length once made GSM-7, and in how many SMS it goes."""

    def __init__(self, editor: QPlainTextEdit, parent=None):
        super().__init__(parent)
        self.editor = editor
        editor.textChanged.connect(self.update_text)
        self.update_text()

    def update_text(self) -> None:
        text = rules.to_gsm7(self.editor.toPlainText().strip())
        length = rules.length(text)
        self.setText(length.describe())
        self.setStyleSheet(ERROR_STYLE if length.encoding != "GSM-7" or length.parts > 2
                           else "color: #555555;")


class OutboxModel(LazyRowsModel):
    COLUMNS = ("scheduled", "kind", "recipient", "phone", "about", "state")

    def headers(self) -> list[str]:
        return [_("Scheduled for"), _("Kind"), _("To"), _("Phone"), _("About"), _("State")]

    def fetch(self, ids: list[int]) -> dict:
        return service.outbox_rows(ids)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and column == "state" \
                and row.state in STATE_COLOURS:
            return QBrush(STATE_COLOURS[row.state])
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.last_error or row.text or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == "state":
            text = _(rules.STATES[row.state])
            if row.state == rules.SCHEDULED and row.attempts:
                text += " — " + ngettext("{count} try failed", "{count} tries failed",
                                         row.attempts).format(count=row.attempts)
            return text
        return {
            "scheduled": format_datetime(row.scheduled_at),
            "kind": _(rules.KINDS.get(row.kind, row.kind)),
            "recipient": row.recipient, "phone": row.phone, "about": row.about,
        }[column]


class OutboxView(QWidget):
    """The outbox, or one patient's messages (`for_patient`: her file sets `patient_id`)."""

    openPatient = Signal(int)
    openProspect = Signal(int)
    newsletterRequested = Signal()
    changed = Signal()

    def __init__(self, for_patient: bool = False, parent=None):
        super().__init__(parent)
        self.for_patient = for_patient
        self.patient_id: int | None = None
        self._generation = 0
        today = clock.today()
        self.date_from, self.date_to = DateEdit(), DateEdit()
        self.date_from.setText(entry_text(today - dt.timedelta(days=7)))
        self.date_to.setText(entry_text(today + dt.timedelta(days=30)))
        self.state = choice_box(rules.STATES, _("Every state"))
        self.kind = choice_box(rules.KINDS, _("Every kind"))
        self.filter_error = QLabel()
        self.filter_error.setStyleSheet(ERROR_STYLE)
        self.filter_error.hide()
        self.gateway_state = QLabel()  # a gateway refusing every message: what to fix
        self.gateway_state.setWordWrap(True)
        self.gateway_state.setStyleSheet(ERROR_STYLE)
        self.gateway_state.hide()
        filters = QHBoxLayout()
        if not for_patient:
            for label, widget in ((_("Scheduled from"), self.date_from), (_("to"), self.date_to)):
                filters.addWidget(QLabel(label))
                filters.addWidget(widget)
        filters.addWidget(self.state)
        filters.addWidget(self.kind)
        filters.addStretch(1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        if not for_patient:
            filters.addWidget(self.status)

        self.model = OutboxModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((125, 150, 170, 105, 230)):
            self.table.setColumnWidth(column, width)
        headers_in_full(self.table)
        self.table.doubleClicked.connect(lambda _index: self._open_file())
        self.counts = QLabel()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setStyleSheet("color: #333333;")
        self.message = MessageLabel()

        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.setToolTip(_("The selected messages still to go will not go."))
        self.cancel_button.clicked.connect(self._cancel)
        self.retry_button = QPushButton(_("Send again"))
        self.retry_button.setToolTip(_("The selected failed messages are scheduled again."))
        self.retry_button.clicked.connect(self._retry)
        self.now_button = QPushButton(_("Send now"))
        self.now_button.setToolTip(_("The selected messages go on the next round, without "
                                     "waiting for their time (within the sending hours)."))
        self.now_button.clicked.connect(self._send_now)
        actions = QHBoxLayout()
        for button in (self.cancel_button, self.retry_button, self.now_button):
            actions.addWidget(button)
        if not for_patient:
            open_file = QPushButton(_("Open the file"))
            open_file.clicked.connect(self._open_file)
            actions.addWidget(open_file)
        actions.addStretch(1)
        if not for_patient:
            newsletter = QPushButton(_("Newsletter to a segment…"))
            newsletter.setToolTip(_("Choose the patients in Segments and campaigns, then "
                                    "\"Newsletter by SMS…\"."))
            newsletter.clicked.connect(self.newsletterRequested)
            self.export_button = QPushButton(_("Export the due messages (CSV)…"))
            self.export_button.clicked.connect(self._export)
            self.run_button = QPushButton(_("Send the due messages now"))
            self.run_button.clicked.connect(self.run_requested)
            for button in (newsletter, self.export_button, self.run_button):
                actions.addWidget(button)
        else:
            write = QPushButton(_("Write an SMS…"))
            write.clicked.connect(self._write)
            write.setEnabled(session.may("sms.send"))
            actions.addWidget(write)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.filter_error)
        layout.addWidget(self.gateway_state)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counts)
        layout.addWidget(self.detail)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        for box in (self.state, self.kind):
            box.currentIndexChanged.connect(self.refresh)
        for edit in (self.date_from, self.date_to):
            edit.editingFinished.connect(self.refresh)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.sms_sender: SmsSender | None = None  # set by the main window
        self._selection_changed()
        changes().sms.connect(self._outbox_changed)

    def _outbox_changed(self) -> None:
        if self.isVisible():  # otherwise read when shown
            self.refresh()

    # -- the list -------------------------------------------------------------------------
    def current_filter(self) -> service.OutboxFilter | None:
        if self.for_patient:  # all her messages, whenever
            if self.patient_id is None:
                return None
            days = (None, None)
        else:
            days = read_period(self.date_from, self.date_to, self.filter_error)
            if days is None:
                return None
        return service.OutboxFilter(days[0], days[1], self.state.currentData() or "",
                                    self.kind.currentData() or "", self.patient_id)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        outbox_filter = self.current_filter()
        if outbox_filter is None:
            return
        self._generation += 1
        generation = self._generation

        def read():
            return (service.outbox_ids(outbox_filter), service.outbox_counts(outbox_filter),
                    service.chosen_transport(), service.gateway_problem())

        run_in_background(read, lambda result: self._show(generation, *result),
                          owner=self.model)

    def _show(self, generation: int, ids: list[int], counts: dict, transport: str,
              gateway_problem: str) -> None:
        if generation != self._generation:
            return
        self.model.set_ids(ids)
        total = sum(counts.values())
        parts = [_("{state}: {count}").format(state=_(label),
                                              count=format_number(counts[code]))
                 for code, label in rules.STATES.items() if counts.get(code)]
        self.counts.setText(counted("{count} message", "{count} messages", total,
                                    _("No message")) + (" — " + ", ".join(parts) if parts else ""))
        if not self.for_patient:
            self.export_button.setVisible(transport == "csv")
            self.status.setText(_("Sent by: {transport}").format(
                transport=_(service.TRANSPORTS.get(transport, transport))))
        self.gateway_state.setText(_("The messages wait: {reason}").format(
            reason=gateway_problem) if gateway_problem else "")
        self.gateway_state.setVisible(bool(gateway_problem))
        self._selection_changed()

    def selected_rows(self) -> list[service.OutboxRow]:
        rows = [self.model.row_of(index.row())
                for index in self.table.selectionModel().selectedRows()]
        return [row for row in rows if row is not None]

    def _selection_changed(self, *_args) -> None:
        rows = self.selected_rows()
        allowed = session.may("sms.send")
        states = {row.state for row in rows}
        self.cancel_button.setEnabled(allowed and rules.SCHEDULED in states)
        self.now_button.setEnabled(allowed and rules.SCHEDULED in states)
        self.retry_button.setEnabled(allowed and rules.FAILED in states)
        if len(rows) != 1:
            self.detail.setText("")
            return
        row = rows[0]
        lines = [row.text or _("The text is written when it is sent, from her file as it is "
                               "then.")]
        for event in service.history(row.id):
            state = _(rules.STATES[event.state])
            lines.append(_("{when} — {state}: {detail}").format(
                when=format_datetime(event.at), state=state, detail=event.detail)
                if event.detail else f"{format_datetime(event.at)} — {state}")
        self.detail.setText("\n".join(lines))

    # -- actions ----------------------------------------------------------------------------
    def _act(self, action, done_text: str) -> None:
        ids = [row.id for row in self.selected_rows()]
        try:
            count = action(ids)
        except (ValidationFailed, session.PermissionDenied) as error:
            self.message.say(str(error), error=True)
            return
        self.message.say(done_text.format(count=count))
        self.refresh()
        self.changed.emit()

    def _cancel(self) -> None:
        self._act(service.cancel, _("Messages cancelled: {count}."))

    def _retry(self) -> None:
        self._act(service.retry, _("Messages scheduled again: {count}."))

    def _send_now(self) -> None:
        self._act(service.send_now, _("Messages brought forward: {count}."))
        self.run_requested()

    def run_requested(self) -> None:
        if self.sms_sender is not None:
            self.message.say(_("Sending the due messages…"))
            self.sms_sender.run_now()

    def sender_finished(self, text: str, error: bool) -> None:
        self.message.say(text, error)  # the list follows changes().sms

    def _open_file(self) -> None:
        rows = self.selected_rows()
        if rows and rows[0].patient_id:
            self.openPatient.emit(rows[0].patient_id)
        elif rows and rows[0].prospect_id:
            self.openProspect.emit(rows[0].prospect_id)

    def _export(self) -> None:
        path = ask_save_path(self, _("Export the due messages"),
                             f"sms-{clock.today().isoformat()}.csv", "CSV (*.csv)")
        if path is None:
            return
        def exported(count: int) -> None:
            self.message.say(ngettext("{count} message exported: send the file from the SMS "
                                      "website.", "{count} messages exported: send the file "
                                      "from the SMS website.", count).format(count=count))
            self.refresh()

        def failed(error: Exception) -> None:
            self.message.say(_("The file could not be written: {error}").format(error=error),
                             error=True)

        # each message is composed from the records: off the GUI thread
        run_in_background(lambda: service.export_due_csv(Path(path)), exported, failed,
                          owner=self)

    def _write(self) -> None:
        if WriteSmsDialog(self.patient_id, self).exec():
            self.message.say(_("The SMS is in the outbox."))
            self.refresh()
            self.run_requested()


class WriteSmsDialog(QDialog):
    """An SMS to one patient, written by hand (kind 'other')."""

    def __init__(self, patient_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Write an SMS"))
        self.patient_id = patient_id
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText(_("Hello {prenom}, …"))
        self.body_field = FieldWithError(self.body)
        self.length = LengthLabel(self.body)
        self.error = MessageLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Placeholders: {prenom}, {site}, {tel_site}")))
        layout.addWidget(self.body_field)
        layout.addWidget(self.length)
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, self._accept))
        self.resize(460, 260)

    def _accept(self) -> None:
        try:
            service.send_one(self.patient_id, self.body.toPlainText())
        except ValidationFailed as failed:
            self.body_field.set_error(failed.errors.get("body"))
            self.error.say(failed.errors.get("phone", ""), error=True)
            return
        except session.PermissionDenied as error:
            self.error.say(str(error), error=True)
            return
        self.accept()


class NewsletterDialog(QDialog):
    """A newsletter by SMS to a segment (PAT-04, PAT-12): the text, the moment, and before
    scheduling, who gets it and what it costs in SMS."""

    def __init__(self, segment, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Newsletter by SMS"))
        self.segment = segment
        self._generation = 0
        self.name = QLineEdit()
        self.name.setMaxLength(100)
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText(_("Hello {prenom}, …"))
        self.day = DateEdit()
        tomorrow = clock.today() + dt.timedelta(days=1)
        self.day.setText(entry_text(tomorrow))
        self.time = QLineEdit("10:00")
        self.time.setMaximumWidth(80)
        self.fields = {"name": FieldWithError(self.name), "body": FieldWithError(self.body),
                       "send_at": FieldWithError(self.day)}
        self.length = LengthLabel(self.body)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("background: #f4f4f4; padding: 6px;")
        self.error = MessageLabel()
        when = QHBoxLayout()
        when.addWidget(self.fields["send_at"])
        when.addWidget(QLabel(_("at")))
        when.addWidget(self.time)
        when.addStretch(1)
        form = QFormLayout()
        form.addRow(_("Segment"), QLabel(segment.describe()))
        form.addRow(_("Name"), self.fields["name"])
        form.addRow(_("Text"), self.fields["body"])
        form.addRow("", QLabel(_("Placeholders: {prenom}, {site}, {tel_site}")))
        form.addRow("", self.length)
        form.addRow(_("Send on"), when)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.error)
        self.buttons = dialog_buttons(self, self._accept)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self, singleShot=True, interval=400)
        self._timer.timeout.connect(self._update_preview)
        self.body.textChanged.connect(self._timer.start)
        fit_on_screen(self, 620, 480, "newsletter")
        self._update_preview()

    def _update_preview(self) -> None:
        body = self.body.toPlainText()
        if not body.strip():
            self.preview.setText(_("Write the text to see who gets it and what it costs."))
            return
        self._generation += 1
        generation, segment = self._generation, self.segment

        def shown(preview) -> None:
            if generation == self._generation:
                self._show_preview(preview)

        def failed(error: Exception) -> None:
            if generation == self._generation:
                self.preview.setText(str(getattr(error, "errors", {}).get("body", error)))

        run_in_background(lambda: service.preview_newsletter(segment, body), shown, failed,
                          owner=self)

    def _show_preview(self, preview: service.NewsletterPreview) -> None:
        self.preview.setText(
            ngettext("{count} recipient", "{count} recipients", preview.recipients).format(
                count=format_number(preview.recipients))
            + " — " + ngettext("{count} without a number or the newsletter consent, left out",
                               "{count} without a number or the newsletter consent, left out",
                               preview.left_out).format(count=format_number(preview.left_out))
            + "\n" + _("{parts} SMS in all, about {cost}").format(
                parts=format_number(preview.total_parts), cost=format_fcfa(preview.cost))
            + "\n\n" + _("As the first one gets it:") + "\n" + preview.sample)

    def _accept(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        try:
            day = parse_date(self.day.text())
            send_at = dt.datetime.combine(day, parse_time(self.time.text()))
        except ValueError as error:
            self.fields["send_at"].set_error(str(error))
            return
        name, segment, body = self.name.text(), self.segment, self.body.toPlainText()
        # a segment of thousands is written off the GUI thread; the dialog waits for it
        self.buttons.setEnabled(False)
        run_in_background(lambda: service.schedule_newsletter(name, segment, body, send_at),
                          self._scheduled, self._refused, owner=self)

    def _scheduled(self, campaign) -> None:
        self.campaign = campaign
        self.accept()

    def _refused(self, error: Exception) -> None:
        self.buttons.setEnabled(True)
        if isinstance(error, ValidationFailed):
            for name, message in error.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
                else:
                    self.error.say(message, error=True)
        else:
            self.error.say(str(error), error=True)


class SmsSender(QObject):
    """Sends the due SMS in the background while the application is open: on its own thread
    (a modem may take half a minute a message), every minute and when asked."""

    finished = Signal(str, bool)  # what happened, whether it went wrong
    INTERVAL_MS = 60_000
    # The reminders' full catch-up (consents, numbers, settings changed) every quarter of an
    # hour; a booking or a dose schedules its own at once.
    CATCH_UP = dt.timedelta(minutes=15)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.stopping = threading.Event()
        self.busy = False
        self.caught_up_at: dt.datetime | None = None
        self.timer = QTimer(self, interval=self.INTERVAL_MS)
        self.timer.timeout.connect(self.run_now)

    def start(self) -> None:
        self.timer.start()
        QTimer.singleShot(5_000, self.run_now)  # after the windows have what they need

    @staticmethod
    def sends_here() -> bool:
        """Whether this workstation sends (Settings › SMS): with a GSM modem, only the PC it
        is plugged in does."""
        return QSettings().value(SENDS_HERE_KEY, True, type=bool)

    def run_now(self) -> None:
        if self.busy or self.stopping.is_set():
            return
        if not self.sends_here():
            self.finished.emit(_("This workstation does not send the SMS: another one does "
                                 "(Settings › SMS)."), False)
            return
        self.busy = True
        moment = clock.now()
        schedule = self.caught_up_at is None or moment - self.caught_up_at >= self.CATCH_UP
        if schedule:
            self.caught_up_at = moment
        def round_():
            listening = service.keep_delivery_listener()  # the gateway's delivery reports
            scheduled, report = service.run(should_stop=self.stopping.is_set,
                                            schedule=schedule)
            if listening:
                report.errors.append(listening)
            return scheduled, report

        run_in_background(round_, self._done, self._failed, owner=self, pool=self.pool)

    def _done(self, result) -> None:
        self.busy = False
        _scheduled, report = result
        self.finished.emit(report.describe() + (
            "\n" + report.errors[-1] if report.errors else ""), bool(report.errors))
        if report.sent or report.failed or report.retried or report.cancelled or report.errors:
            changes().sms.emit()

    def _failed(self, error: Exception) -> None:
        self.busy = False
        self.finished.emit(_("The SMS could not be sent: {error}").format(error=error), True)

    def stop(self, timeout_ms: int = 10_000) -> None:
        self.timer.stop()
        self.stopping.set()
        self.pool.waitForDone(timeout_ms)
        service.stop_delivery_listener()
