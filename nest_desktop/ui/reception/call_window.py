"""The incoming call (procedure 004, the call script): the greeting to say, the caller
recognised as her number is typed, what she wants, an appointment, a transfer, the hold
with its prompts, a message, and how the call ended — all from the keyboard (F2)."""

import datetime as dt
from html import escape

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import reception as rules
from nest_desktop.i18n import _, format_date, format_datetime
from nest_desktop.services import ValidationFailed, desk, prospects, reception, session
from nest_desktop.services.people import PATIENT
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.dialogs import DuplicatesDialog
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    DateEdit,
    FieldWithError,
    MessageLabel,
    choice_box,
    radio_choices,
)

RECOGNITION_DELAY_MS = 120  # typing on: one search once the fingers pause
TICK_MS = 1000
NEW_CALLER = -1


class IncomingCallWindow(QWidget):
    """One call, from picking up to the register. The window reads the clock every second for
    the call's length and the hold prompts."""

    recorded = Signal(int)  # the call's id in the register
    openPatient = Signal(int)
    openProspect = Signal(int)

    def __init__(self, context: DeskContext, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.context = context
        self.site_id = context.site.id if context.site else None
        self.started_at = clock.now()
        self.kind: str | None = None  # patient, prospect, or None: not known
        self.record_id: int | None = None
        self.caller: reception.CallerCard | None = None
        self.request_recorded = False  # a prospect made during the call holds the request
        self.message_ids: list[int] = []
        self.appointment_ids: list[int] = []
        self.hold_started: dt.datetime | None = None
        self.hold_seconds = 0.0
        self.prompts_shown = 0
        self.saved = False
        self.setWindowTitle(_("Incoming call"))

        # 1. The greeting (TEL-01).
        self.line = QComboBox()
        self.line.addItem(_("Reception line"), None)
        self.entries = {entry.id: entry for entry in reception.directory(self.site_id)}
        for entry in self.entries.values():
            if entry.kind == "service":
                self.line.addItem(_("Transferred to {name}").format(name=entry.name), entry.id)
        self.greeting = QLabel()
        self.greeting.setStyleSheet("font-size: 17pt; font-weight: bold; color: #00695c;")
        self.greeting.setWordWrap(True)
        self.elapsed = QLabel()
        self.elapsed.setStyleSheet("color: #555555;")

        # 2. Who is calling (PRO-05: the patient wins).
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(_("Her number, as she gives it"))
        self.phone.setMaxLength(30)
        self.phone.setStyleSheet("font-size: 14pt;")
        self.phone_field = FieldWithError(self.phone)
        self.matches = QListWidget()
        self.matches.setMaximumHeight(120)
        self.card = QLabel()
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.card.setMinimumWidth(320)
        self.open_file = QPushButton(_("Open her file"))
        self.open_file.clicked.connect(self._open_file)
        self.last_name, self.first_names = QLineEdit(), QLineEdit()
        self.last_name.setMaxLength(100)
        self.first_names.setMaxLength(100)
        self.birth_date = DateEdit()
        self.caller_name = QLineEdit()
        self.caller_name.setMaxLength(200)
        self.caller_name.setPlaceholderText(_("As she introduces herself (optional)"))
        self.sms_consent = QCheckBox(_("Agrees to SMS reminders of her appointments"))
        self.new_fields = {"last_name": FieldWithError(self.last_name),
                           "first_names": FieldWithError(self.first_names),
                           "birth_date": FieldWithError(self.birth_date)}
        self.unknown_box = QWidget()
        unknown_form = QFormLayout(self.unknown_box)
        unknown_form.setContentsMargins(0, 0, 0, 0)
        unknown_form.addRow(_("Name given"), self.caller_name)
        unknown_form.addRow(_("Last name"), self.new_fields["last_name"])
        unknown_form.addRow(_("First names"), self.new_fields["first_names"])
        unknown_form.addRow(_("Birth date"), self.new_fields["birth_date"])
        unknown_form.addRow("", self.sms_consent)
        unknown_note = QLabel(_("Unknown caller: her names are needed to record her as a "
                                "prospect (appointment, prices, programme)."))
        unknown_note.setWordWrap(True)
        unknown_note.setStyleSheet("color: #555555;")
        unknown_form.addRow(unknown_note)
        caller_box = QGroupBox(_("Caller"))
        caller_layout = QHBoxLayout(caller_box)
        left = QVBoxLayout()
        phone_row = QFormLayout()
        phone_row.addRow(_("&Phone"), self.phone_field)
        left.addLayout(phone_row)
        left.addWidget(self.matches)
        left.addWidget(self.unknown_box)
        right = QVBoxLayout()
        right.addWidget(self.card, 1)
        right.addWidget(self.open_file)
        caller_layout.addLayout(left, 3)
        caller_layout.addLayout(right, 2)

        # 3. What she wants and the answer given (TEL-03).
        self.reason = choice_box(rules.REQUEST_TYPES, _("Choose…"))
        self.reason_field = FieldWithError(self.reason)
        self.summary = QPlainTextEdit()
        self.summary.setTabChangesFocus(True)
        self.summary.setPlaceholderText(_("What she asks, and the answer given"))
        self.summary.setMaximumHeight(80)
        self.summary_field = FieldWithError(self.summary)
        request_box = QGroupBox(_("Request"))
        request_form = QFormLayout(request_box)
        request_form.addRow(_("&Request"), self.reason_field)
        request_form.addRow(_("Summary"), self.summary_field)

        # 4. What can be done during the call.
        self.book_button = QPushButton(_("Book an appointment… (Ctrl+R)"))
        self.transfer_button = QPushButton(_("Transfer… (Ctrl+T)"))
        self.hold_button = QPushButton(_("Put on hold (Ctrl+H)"))
        self.message_button = QPushButton(_("Take a message… (Ctrl+M)"))
        self.book_button.clicked.connect(self.book)
        self.transfer_button.clicked.connect(self.show_transfer)
        self.hold_button.clicked.connect(self.toggle_hold)
        self.message_button.clicked.connect(self.take_message)
        actions = QHBoxLayout()
        for button in (self.book_button, self.transfer_button, self.hold_button,
                       self.message_button):
            actions.addWidget(button)
        self.done_list = QLabel()
        self.done_list.setWordWrap(True)
        self.done_list.setStyleSheet("color: #1b5e20;")

        # Transfer (TEL-05): the phrase to say and the number to dial.
        self.transfer_box = QGroupBox(_("Transfer"))
        self.transfer_to = QComboBox()
        self.transfer_to.addItem(_("Choose…"), None)
        for entry in self.entries.values():
            label = entry.name + (f" — {entry.extension}" if entry.extension else "")
            self.transfer_to.addItem(label, entry.id)
        self.transfer_phrase = QLabel()
        self.transfer_phrase.setWordWrap(True)
        self.transfer_phrase.setStyleSheet("font-size: 12pt; font-style: italic;")
        self.transfer_number = QLabel()
        self.transfer_number.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.transfer_field = FieldWithError(self.transfer_to)
        transferred = QPushButton(_("Transferred: end the call"))
        transferred.clicked.connect(self._transferred)
        transfer_layout = QFormLayout(self.transfer_box)
        transfer_layout.addRow(_("To"), self.transfer_field)
        transfer_layout.addRow(self.transfer_phrase)
        transfer_layout.addRow(_("Number to dial"), self.transfer_number)
        transfer_layout.addRow(transferred)
        self.transfer_to.currentIndexChanged.connect(self._transfer_chosen)
        self.transfer_box.hide()

        # Hold (TEL-06): the time on hold, and the prompt to take the line back.
        self.hold_box = QFrame()
        self.hold_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.hold_label = QLabel()
        self.hold_label.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.prompt = QLabel(_("Take the line back: does she still want to wait, call back "
                               "later or leave a message?"))
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet(ERROR_STYLE + " font-size: 12pt; font-weight: bold;")
        self.choice_buttons = {}
        choices = QHBoxLayout()
        for choice, label in rules.HOLD_CHOICES.items():
            button = QPushButton(_(label))
            button.clicked.connect(lambda _checked=False, c=choice: self.hold_choice(c))
            self.choice_buttons[choice] = button
            choices.addWidget(button)
        take_back = QPushButton(_("Take the line back"))
        take_back.clicked.connect(self.end_hold)
        hold_layout = QVBoxLayout(self.hold_box)
        hold_layout.addWidget(self.hold_label)
        hold_layout.addWidget(self.prompt)
        hold_layout.addLayout(choices)
        hold_layout.addWidget(take_back)
        self.hold_box.hide()

        # 5. How it ended (TEL-03 to TEL-08).
        outcome_box = QGroupBox(_("How did the call end?"))
        self.outcomes, self.outcome_buttons = radio_choices(  # two rows: a 1366 px screen
            {outcome: _(label) for outcome, label in rules.OUTCOMES.items()},
            QGridLayout(outcome_box), self, columns=3)
        self.outcome_error = QLabel()
        self.outcome_error.setStyleSheet(ERROR_STYLE)
        self.outcome_error.hide()
        self.closing_words = QLabel()
        self.closing_words.setWordWrap(True)
        self.closing_words.setStyleSheet("font-size: 12pt; font-style: italic;")
        self.outcomes.buttonToggled.connect(lambda *_args: self._show_closing_words())
        self.message = MessageLabel()
        self.save_button = QPushButton(_("Record the call (Ctrl+Enter)"))
        self.save_button.setStyleSheet("font-weight: bold;")
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton(_("Cancel (Esc)"))
        self.cancel_button.setToolTip(_("A call opened by mistake: close it without recording"))
        self.cancel_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)

        top = QHBoxLayout()
        top.addWidget(self.greeting, 1)
        top.addWidget(self.line)
        # The panels that open during the call (transfer, hold) scroll rather than squeeze
        # the others; the greeting and the record button stay in view.
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(caller_box)
        layout.addWidget(request_box)
        layout.addLayout(actions)
        layout.addWidget(self.done_list)
        layout.addWidget(self.transfer_box)
        layout.addWidget(self.hold_box)
        layout.addWidget(outcome_box)
        layout.addWidget(self.outcome_error)
        layout.addWidget(self.closing_words)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(self.elapsed)
        outer.addWidget(scroll, 1)
        outer.addLayout(bottom)

        for keys, slot in (("Ctrl+R", self.book), ("Ctrl+T", self.show_transfer),
                           ("Ctrl+H", self.toggle_hold), ("Ctrl+M", self.take_message),
                           ("Ctrl+Return", self.save), ("Ctrl+Enter", self.save),
                           ("Escape", self.close)):
            QShortcut(QKeySequence(keys), self, activated=slot)

        self.recognition_timer = QTimer(self, singleShot=True)
        self.recognition_timer.setInterval(RECOGNITION_DELAY_MS)
        self.recognition_timer.timeout.connect(self.recognise)
        self.phone.textEdited.connect(lambda _text: self.recognition_timer.start())
        # a name typed on a shared number (a mother and her babies) puts her first
        for name_edit in (self.last_name, self.first_names, self.caller_name):
            name_edit.textEdited.connect(lambda _text: self.matches.count() > 2
                                         and self.recognition_timer.start())
        self.phone.returnPressed.connect(self._phone_entered)
        self.matches.currentItemChanged.connect(self._match_chosen)
        self.line.currentIndexChanged.connect(self._show_greeting)
        self.ticker = QTimer(self)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start(TICK_MS)
        self._show_greeting()
        self._show_caller()
        self.tick()
        if not session.may("calls.write"):
            self.save_button.setEnabled(False)
            self.message.say(_("Reading only: your role does not record calls."), error=True)
        fit_on_screen(self, 900, 820, "incoming_call")
        self.phone.setFocus()

    # --- greeting and recognition ----------------------------------------------------------

    def _show_greeting(self) -> None:
        entry = self.entries.get(self.line.currentData())
        service = entry.name if entry else None
        self.greeting.setText("« " + desk.greeting(self.context.site, self.context.user,
                                                   service) + " »")

    def recognise(self) -> None:
        """The people whose number starts with what is typed; the first (a patient before a
        prospect) is chosen."""
        if self.request_recorded:
            return  # the caller was recorded as a prospect during this call
        typed_name = " ".join(part.text() for part in (self.first_names, self.last_name,
                                                       self.caller_name))
        found = reception.recognise(self.phone.text(), typed_name)
        blocked = self.matches.blockSignals(True)
        self.matches.clear()
        for match in found:
            kind = _("Patient") if match.kind == PATIENT else _("Prospect")
            parts = [f"{kind} — {match.name}"]
            if match.parent_name:
                parts.append(_("child of {name}").format(name=match.parent_name))
            if match.birth_date:
                parts.append(_("born on {date}").format(date=format_date(match.birth_date)))
            parts.append(", ".join(match.phones))
            item = QListWidgetItem(" — ".join(parts))
            item.setData(Qt.ItemDataRole.UserRole, (match.kind, match.record_id))
            self.matches.addItem(item)
        new_item = QListWidgetItem(_("Someone else (not known yet)"))
        new_item.setData(Qt.ItemDataRole.UserRole, (None, NEW_CALLER))
        self.matches.addItem(new_item)
        self.matches.setCurrentRow(0)
        self.matches.blockSignals(blocked)
        self._match_chosen(self.matches.currentItem())

    def _phone_entered(self) -> None:
        """Enter in the number: recognised at once, and on to what she wants."""
        self.recognition_timer.stop()
        self.recognise()
        self.reason.setFocus()

    def _match_chosen(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            self.kind, self.record_id = None, None
        else:
            kind, record_id = item.data(Qt.ItemDataRole.UserRole)
            self.kind, self.record_id = (kind, record_id) if kind else (None, None)
        self._show_caller()

    def choose_caller(self, kind: str, record_id: int) -> None:
        """The caller is this file (from a duplicate check or a prospect made now)."""
        self.kind, self.record_id = kind, record_id
        self._show_caller()
        blocked = self.matches.blockSignals(True)
        self.matches.clear()
        label = (_("Patient") if kind == PATIENT else _("Prospect")) + f" — {self.caller.name}"
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, (kind, record_id))
        self.matches.addItem(item)
        self.matches.setCurrentRow(0)
        self.matches.blockSignals(blocked)

    def _show_caller(self) -> None:
        known = self.kind is not None
        self.unknown_box.setVisible(not known)
        self.open_file.setEnabled(known)
        if not known:
            self.caller = None
            self.card.setText(_("<i>Not recognised: type her number, or her names below.</i>"))
            return
        # Read once per caller chosen; her name and numbers are taken from it afterwards.
        card = self.caller = reception.caller_card(self.kind, self.record_id,
                                                   clock.now().date())
        lines = [f"<b style='font-size:13pt'>{card.name}</b> — "
                 + (_("Patient") if card.kind == PATIENT else _("Prospect"))]
        if card.birth_date:
            lines.append(_("born on {date}").format(date=format_date(card.birth_date)))
        if card.phones:
            lines.append(", ".join(f"<s>{number}</s>" if number in card.wrong_phones
                                   else number for number in card.phones))
        if card.wrong_phones:
            lines.append("<b style='color:#b00020'>" + escape(_(
                "Number found wrong ({numbers}): ask her for a new one.").format(
                numbers=", ".join(card.wrong_phones))) + "</b>")
        if card.pregnancy:
            lines.append(_("Pregnancy: {sa}").format(sa=card.pregnancy))
        if card.next_appointment is not None:
            appointment = card.next_appointment
            lines.append(_("Next appointment: {when} — {service}").format(
                when=format_datetime(appointment.starts_at),
                service=appointment.service.name if appointment.service_id else ""))
        else:
            lines.append(_("No appointment to come."))
        if card.also_prospect:
            lines.append(_("Also a prospect: the patient's file is used."))
        if card.last_contacts:
            lines.append("<u>" + _("Last contacts") + "</u>")
            for contact in card.last_contacts:
                text = f"{format_datetime(contact.occurred_at)} — {contact.subject}"
                if contact.outcome:
                    text += f" ({contact.outcome})"
                lines.append(text)
        self.card.setText("<br/>".join(lines))

    def _open_file(self) -> None:
        if self.kind == PATIENT:
            self.openPatient.emit(self.record_id)
        elif self.kind:
            self.openProspect.emit(self.record_id)

    # --- during the call -----------------------------------------------------------------

    def _person_name(self) -> str:
        if self.kind:
            return self.caller.name
        typed = f"{self.first_names.text().strip()} {self.last_name.text().strip()}".strip()
        return typed or self.caller_name.text().strip()

    def _clear_errors(self) -> None:
        for field in (*self.new_fields.values(), self.phone_field, self.summary_field,
                      self.reason_field, self.transfer_field):
            field.set_error(None)
        self.outcome_error.hide()

    def _show_errors(self, errors: dict[str, str]) -> None:
        fields = {**self.new_fields, "phone": self.phone_field, "summary": self.summary_field,
                  "reason": self.reason_field, "transferred_to": self.transfer_field,
                  "caller_name": self.phone_field}
        for name, text in errors.items():
            if name in fields:
                fields[name].set_error(text)
        if "outcome" in errors:
            self.outcome_error.setText(errors["outcome"])
            self.outcome_error.show()
        shown = set(fields) | {"outcome"}
        other = [text for name, text in errors.items() if name not in shown]
        self.message.say(" ".join(other) or _("Check the fields marked."), error=True)

    def ensure_person(self, qualification: str) -> bool:
        """An unknown caller becomes a prospect (after the duplicate check) so that an
        appointment can be booked for her. False when the secretary stopped."""
        if self.kind:
            return True
        self._clear_errors()
        form = prospects.ProspectForm(
            last_name=self.last_name.text(), first_names=self.first_names.text(),
            birth_date=self.birth_date.text(), phones=[self.phone.text()]
            if self.phone.text().strip() else [], site_id=self.site_id, channel="phone",
            sms_consent=self.sms_consent.isChecked())
        request = prospects.RequestForm(qualification, self.summary.toPlainText())
        confirmed = False
        while True:
            try:
                prospect = prospects.create_prospect(form, request, clock.now(), confirmed)
                break
            except prospects.DuplicateFound as found:
                known = self._known_already(found, _("It is her: use this file"))
                if known is None:
                    return False
                if known:
                    return True
                confirmed = True
            except ValidationFailed as failed:
                errors = dict(failed.errors)
                if "phone_0" in errors:
                    errors["phone"] = errors.pop("phone_0")
                self._show_errors(errors)
                return False
            except session.PermissionDenied as refused:
                self.message.say(str(refused), error=True)
                return False
        self.request_recorded = True
        self.choose_caller("prospect", prospect.id)
        self._note(_("Recorded as a prospect: {name}.").format(name=prospect.full_name))
        return True

    def _known_already(self, found: prospects.DuplicateFound, open_label: str) -> bool | None:
        """The duplicate check stopped a new prospect (PRO-05): True when she is one of the
        files found (now the caller), False when she is someone else, None to stop."""
        dialog = DuplicatesDialog(found.candidates, self, open_label=open_label,
                                  create_label=_("It is another person: record her"))
        if not dialog.exec():
            return None
        if dialog.chosen is None:
            return False
        self.choose_caller(dialog.chosen.kind, dialog.chosen.record_id)
        return True

    def _note(self, text: str) -> None:
        current = self.done_list.text()
        self.done_list.setText((current + "\n" if current else "") + "✓ " + text)

    def book(self) -> None:
        from nest_desktop.ui.reception.appointments import AppointmentDialog

        select_reason = self.reason.findData("appointment")
        if self.reason.currentData() not in rules.QUALIFIED_REQUESTS:
            self.reason.setCurrentIndex(select_reason)
        if not self.ensure_person("appointment"):
            return
        dialog = AppointmentDialog(
            self._person_name(), self.site_id, self.record_id if self.kind == PATIENT else None,
            self.record_id if self.kind != PATIENT else None, parent=self)
        if dialog.exec() and dialog.appointment is not None:
            appointment = dialog.appointment
            self.appointment_ids.append(appointment.id)
            text = _("Appointment booked: {when} — {service}").format(
                when=format_datetime(appointment.starts_at), service=appointment.service.name)
            self._note(text)
            if not self.summary.toPlainText().strip():
                self.summary.setPlainText(text)
            self.choose_outcome(rules.ANSWERED)
            self._show_caller()

    def show_transfer(self) -> None:
        self.transfer_box.show()
        self.transfer_to.setFocus()

    def _transfer_chosen(self) -> None:
        entry_id = self.transfer_to.currentData()
        if entry_id is None:
            self.transfer_phrase.setText("")
            self.transfer_number.setText("")
            return
        transfer = reception.transfer_to(entry_id)
        self.transfer_phrase.setText("« " + transfer.phrase + " »")
        self.transfer_number.setText(transfer.extension or _("no internal number"))

    def _transferred(self) -> None:
        self.choose_outcome(rules.TRANSFERRED)
        self.save()

    def choose_outcome(self, outcome: str) -> None:
        self.outcome_buttons[outcome].setChecked(True)

    def _show_closing_words(self) -> None:
        words = rules.CLOSING_WORDS.get(self.chosen_outcome())
        self.closing_words.setText(_("To end: « {words} », then hang up.").format(
            words=_(words)) if words else "")

    def chosen_outcome(self) -> str:
        for outcome, button in self.outcome_buttons.items():
            if button.isChecked():
                return outcome
        return ""

    # --- the hold (TEL-06) -------------------------------------------------------------------

    @property
    def on_hold(self) -> bool:
        return self.hold_started is not None

    def toggle_hold(self) -> None:
        if self.on_hold:
            self.end_hold()
        else:
            self.hold_started = clock.now()
            self.prompts_shown = 0
            self.hold_box.show()
            self.prompt.hide()
            for button in self.choice_buttons.values():
                button.hide()
            self.hold_button.setText(_("Take the line back (Ctrl+H)"))
            self.tick()

    def end_hold(self) -> None:
        if not self.on_hold:
            return
        self.hold_seconds += (clock.now() - self.hold_started).total_seconds()
        self.hold_started = None
        self.hold_box.hide()
        self.hold_button.setText(_("Put on hold (Ctrl+H)"))
        self.tick()

    def prompt_visible(self) -> bool:
        return self.on_hold and not self.prompt.isHidden()

    def tick(self) -> None:
        """Every second: the call's length, and on hold the prompt when it is due."""
        moment = clock.now()
        length = reception.duration_text(int((moment - self.started_at).total_seconds()))
        text = _("Call started at {time} — {length}").format(
            time=self.started_at.strftime("%H:%M"), length=length)
        held = self.hold_seconds
        if self.on_hold:
            current = (moment - self.hold_started).total_seconds()
            held += current
            self.hold_label.setText(_("On hold for {time}").format(
                time=reception.duration_text(int(current))))
            due = rules.hold_prompts_due(current)
            if due > self.prompts_shown:
                self.prompts_shown = due
                self._prompt()
        if held:
            text += " — " + _("on hold {time}").format(time=reception.duration_text(int(held)))
        self.elapsed.setText(text)

    def _prompt(self) -> None:
        """Seen and heard: the line must be taken back (30 s, then every minute)."""
        self.prompt.show()
        for button in self.choice_buttons.values():
            button.show()
        QApplication.beep()
        QApplication.alert(self)
        self.choice_buttons["keep_waiting"].setFocus()

    def hold_choice(self, choice: str) -> None:
        if choice == "keep_waiting":
            self.prompt.hide()
            for button in self.choice_buttons.values():
                button.hide()
            return
        self.end_hold()
        if choice == "call_back_later":
            self.choose_outcome(rules.CALL_BACK_LATER)
            self.summary.setFocus()
        else:
            self.take_message()

    # --- message (TEL-04) --------------------------------------------------------------------

    def take_message(self) -> None:
        from nest_desktop.ui.reception.calls_page import MessageDialog

        dialog = MessageDialog(self.site_id, self._person_name(), self.caller_phone(),
                               self.record_id if self.kind == PATIENT else None,
                               self.record_id if self.kind == "prospect" else None,
                               parent=self)
        if dialog.exec() and dialog.message_id:
            self.message_ids.append(dialog.message_id)
            message = reception.get_message(dialog.message_id)
            self._note(_("Message taken for {name}.").format(name=message.recipient_name))
            if not self.reason.currentData():
                self.reason.setCurrentIndex(self.reason.findData("message"))
            if not self.summary.toPlainText().strip():
                self.summary.setPlainText(_("Message for {name}: {text}").format(
                    name=message.recipient_name, text=message.text))
            self.choose_outcome(rules.MESSAGE)

    # --- the end of the call -----------------------------------------------------------------

    def caller_phone(self) -> str:
        """The number typed when whole; else, for a recognised caller, her file's."""
        typed = self.phone.text()
        if self.kind:
            try:
                phones.normalize(typed)
            except ValueError:
                return self.caller.phones[0] if self.caller.phones else ""
        return typed

    def form(self) -> reception.CallForm:
        held = self.hold_seconds
        if self.on_hold:
            held += (clock.now() - self.hold_started).total_seconds()
        return reception.CallForm(
            started_at=self.started_at, ended_at=clock.now(), phone=self.caller_phone(),
            caller_name=self.caller_name.text() or (self._person_name() if self.kind else ""),
            patient_id=self.record_id if self.kind == PATIENT else None,
            prospect_id=self.record_id if self.kind == "prospect" else None,
            reason=self.reason.currentData() or "", summary=self.summary.toPlainText(),
            outcome=self.chosen_outcome(),
            transferred_to_id=self.transfer_to.currentData(), hold_seconds=int(held),
            site_id=self.site_id, last_name=self.last_name.text(),
            first_names=self.first_names.text(), birth_date=self.birth_date.text(),
            sms_consent=self.sms_consent.isChecked(), request_recorded=self.request_recorded,
            message_ids=tuple(self.message_ids),
            appointment_ids=tuple(self.appointment_ids))

    def save(self) -> None:
        if self.saved or not self.save_button.isEnabled():
            return
        self._clear_errors()
        form = self.form()
        confirmed = False
        while True:
            try:
                call = reception.record_call(form, confirmed, clock.now())
                break
            except prospects.DuplicateFound as found:
                known = self._known_already(found, _("It is her: record on this file"))
                if known is None:
                    return
                if known:
                    form = self.form()
                else:
                    confirmed = True
            except ValidationFailed as failed:
                self._show_errors(failed.errors)
                return
            except session.PermissionDenied as refused:
                self.message.say(str(refused), error=True)
                return
        self.saved = True
        self.ticker.stop()
        self.recorded.emit(call.id)
        # The register, the agenda, Today and the caller's open file show the call.
        for signal in (changes().calls, changes().appointments, changes().tasks):
            signal.emit()
        if call.patient_id:
            changes().patient.emit(call.patient_id)
        if call.prospect_id:
            changes().prospect.emit(call.prospect_id)
        self.close()

    def typed_anything(self) -> bool:
        """Whether closing without recording would lose something the secretary did."""
        typed = (self.phone, self.last_name, self.first_names, self.caller_name)
        return bool(any(editor.text().strip() for editor in typed)
                    or self.summary.toPlainText().strip() or self.chosen_outcome()
                    or self.message_ids or self.appointment_ids or self.record_id
                    or self.on_hold)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.saved or not session.may("calls.write") or not self.typed_anything():
            self.ticker.stop()
            event.accept()
            return
        question = _("This call is not in the register yet. Close it without recording it?")
        if self.appointment_ids or self.message_ids:
            question += " " + _("The appointment or the message taken stays recorded.")
        answer = QMessageBox.question(
            self, _("Incoming call"), question,
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Discard:
            self.ticker.stop()
            event.accept()
        else:
            event.ignore()
