"""Settings > SMS: how the messages leave (provider, website, modem or file), when reminders
go, and the templates, with their length in SMS as a patient would get them."""

import datetime as dt

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import sms as rules
from nest_desktop.i18n import N_, _
from nest_desktop.services import ValidationFailed, passphrase, session, settings
from nest_desktop.services import sms as service
from nest_desktop.sms.transports import MESSAGE_PLACEHOLDERS, Refused, Retry
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    FieldWithError,
    MessageLabel,
    row_of,
    select_data,
)
from nest_desktop.ui.sms.sms_page import SENDS_HERE_KEY, SmsSender

SAMPLE = {"prenom": "Aminata", "prenom_enfant": "Moussa",
          "date_heure": "", "date": "", "heure": "", "service": "Pédiatrie",
          "vaccin": "Penta, VPO, Pneumo", "site": "Clinique Nest Mermoz",
          "tel_site": "33 860 10 10"}
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

# field -> label, for each transport's form; secrets are typed in a password field
TRANSPORT_FIELDS = {
    "orange": [("client_id", N_("Client ID")), ("client_secret", N_("Client secret")),
               ("sender", N_("Sender number")), ("token_url", N_("Token address")),
               ("api_url", N_("API address"))],
    "http": [("method", N_("Request")), ("url", N_("Gateway address")),
             ("phone_field", N_("Name of the number field")),
             ("text_field", N_("Name of the text field")),
             ("fixed_fields", N_("Credentials and fixed fields (name=value, one a line)")),
             ("message_fields", N_("Fields of each message (name=value, one a line)")),
             ("phone_without_plus", N_("Number without the +")),
             ("success_text", N_("The answer says it went with")),
             ("max_parts", N_("Most SMS the gateway sends of one message")),
             ("delivery_address", N_("Delivery reports: this workstation's address"))],
    "modem": [("port", N_("Serial port")), ("baudrate", N_("Speed (bauds)")),
              ("pin", N_("SIM PIN"))],
}


def _sample(language: str) -> dict[str, str]:
    when = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(10, 30))
    return {**SAMPLE, "date_heure": rules.when_in_words(when, language),
            "date": rules.date_in_words(when.date(), language),
            "heure": rules.time_in_words(when.time(), language)}


class TemplateEditor(QWidget):
    """One template; below it, the message as a patient gets it and its length in SMS."""

    def __init__(self, kind: str, language: str, parent=None):
        super().__init__(parent)
        self.kind, self.language = kind, language
        self.editor = QPlainTextEdit(service.template(kind, language))
        self.editor.setFixedHeight(70)
        self.field = FieldWithError(self.editor)
        self.example = QLabel()
        self.example.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.example)
        self.editor.textChanged.connect(self.update_example)
        self.update_example()

    def text(self) -> str:
        return self.editor.toPlainText()

    def update_example(self) -> None:
        text = self.text()
        problem = rules.template_problem(text, self.kind)
        self.parts = 0  # the SMS it makes with the example's values (0 while it is wrong)
        if problem:
            self.example.setStyleSheet(ERROR_STYLE)
            self.example.setText(problem)
            return
        rendered = rules.render(text, _sample(self.language))
        length = rules.length(rendered)
        self.parts = length.parts
        self.example.setStyleSheet(ERROR_STYLE if length.encoding != "GSM-7" or length.parts > 1
                                   else "color: #555555;")
        self.example.setText(_("Example: {text}").format(text=rendered) + "\n"
                             + length.describe())


class SmsSettingsBox(QGroupBox):
    def __init__(self, parent=None):
        super().__init__(_("SMS"), parent)
        self.templates: list[TemplateEditor] = []
        self.transport = QComboBox()
        for code, label in service.TRANSPORTS.items():
            self.transport.addItem(_(label), code)
        self.transport.setCurrentIndex(max(self.transport.findData(
            service.chosen_transport()), 0))
        self.stack = QStackedWidget()
        self.transport_fields: dict[str, dict[str, QWidget]] = {}
        self.transport_errors: dict[str, dict[str, FieldWithError]] = {}
        for code in service.TRANSPORTS:
            self.stack.addWidget(self._transport_form(code))
        self.transport.currentIndexChanged.connect(self._show_transport)
        self._show_transport(self.transport.currentIndex())
        self.sends_here = QCheckBox(_("This workstation sends the SMS (untick it on the PCs "
                                      "without the modem)"))
        self.sends_here.setChecked(SmsSender.sends_here())
        self.sends_here.toggled.connect(
            lambda checked: QSettings().setValue(SENDS_HERE_KEY, checked))
        save_transport = QPushButton(_("Save the way of sending"))
        save_transport.clicked.connect(self.save_transport)
        self.test_number = QLineEdit()
        self.test_number.setPlaceholderText(_("77 123 45 67"))
        self.test_number.setMaximumWidth(160)
        test = QPushButton(_("Send a test SMS"))
        test.clicked.connect(self.send_test)
        test_row = QHBoxLayout()
        test_row.addWidget(save_transport)
        test_row.addStretch(1)
        test_row.addWidget(QLabel(_("to")))
        test_row.addWidget(self.test_number)
        test_row.addWidget(test)
        self.transport_message = MessageLabel()
        self.secrets_state = MessageLabel()
        self.refresh_secrets_state()
        changes().backups.connect(self.refresh_secrets_state)  # the passphrase was set
        changes().sms.connect(self.refresh_secrets_state)  # a round met the gateway's refusal

        timing = service.timing()
        self.times: dict[str, QLineEdit] = {}
        self.timing_fields: dict[str, FieldWithError] = {}
        for name in ("appointment_eve_at", "appointment_morning_at", "vaccine_at", "opens_at",
                     "closes_at"):
            edit = QLineEdit(getattr(timing, name).strftime("%H:%M"))
            edit.setMaximumWidth(80)
            self.times[name] = edit
            self.timing_fields[name] = FieldWithError(edit)
        self.morning = QCheckBox(_("also the morning of the appointment, at"))
        self.morning.setChecked(timing.appointment_morning)
        self.confirmation = QCheckBox(_("An SMS confirms each appointment when it is booked "
                                        "or moved (to those who accept SMS)"))
        self.confirmation.setChecked(timing.appointment_confirmation)
        self.days_before = QSpinBox()
        self.days_before.setRange(0, 14)
        self.days_before.setSuffix(" " + _("days before, and on the day, at"))
        self.days_before.setValue(timing.vaccine_days_before)
        self.late_hours = QSpinBox()
        self.late_hours.setRange(1, 48)
        self.late_hours.setSuffix(" " + _("hours late"))
        self.late_hours.setValue(timing.late_hours)
        self.part_price = QSpinBox()
        self.part_price.setRange(0, 500)
        self.part_price.setSuffix(" FCFA")
        self.part_price.setValue(int(settings.get("sms.part_price") or 0))
        for spin in (self.days_before, self.late_hours, self.part_price):
            spin.setMaximumWidth(260)
        for name, widget in (("vaccine_days_before", self.days_before),
                             ("late_hours", self.late_hours)):
            self.timing_fields[name] = FieldWithError(widget)
        save_timing = QPushButton(_("Save the timing"))
        save_timing.clicked.connect(self.save_timing)
        self.timing_message = MessageLabel()

        tabs = QTabWidget()
        for kind in rules.TEMPLATE_KINDS:
            page = QWidget()
            page_layout = QFormLayout(page)
            page_layout.addRow(QLabel(_("Placeholders: {names}").format(
                names=", ".join("{" + name + "}" for name in rules.PLACEHOLDERS_OF[kind]))))
            for language, name in LANGUAGE_NAMES.items():
                editor = TemplateEditor(kind, language)
                self.templates.append(editor)
                page_layout.addRow(name, editor)
            tabs.addTab(page, _(rules.KINDS[kind]))
        save_templates = QPushButton(_("Save the templates"))
        save_templates.clicked.connect(self.save_templates)
        self.templates_message = MessageLabel()

        form = QFormLayout(self)
        form.addRow(_("Sent by"), self.transport)
        form.addRow(self.stack)
        form.addRow(test_row)
        form.addRow(self.sends_here)
        form.addRow(self.transport_message)
        form.addRow(self.secrets_state)
        form.addRow(QLabel("<b>{}</b>".format(_("When reminders go"))))
        form.addRow(_("Appointment: the day before at"),
                    row_of(self.timing_fields["appointment_eve_at"], self.morning,
                        self.timing_fields["appointment_morning_at"]))
        form.addRow("", self.confirmation)
        form.addRow(_("Vaccines"), row_of(self.timing_fields["vaccine_days_before"],
                                       self.timing_fields["vaccine_at"]))
        form.addRow(_("Sending hours: from"),
                    row_of(self.timing_fields["opens_at"], QLabel(_("to")),
                        self.timing_fields["closes_at"]))
        form.addRow(_("A reminder is cancelled when"), self.timing_fields["late_hours"])
        form.addRow(_("Price of one SMS"), self.part_price)
        form.addRow("", row_of(save_timing))
        form.addRow(self.timing_message)
        form.addRow(QLabel("<b>{}</b>".format(_("Templates"))))
        form.addRow(tabs)
        form.addRow("", row_of(save_templates))
        form.addRow(self.templates_message)
        for editor in self.templates:
            editor.editor.textChanged.connect(self.update_longest)
        self.update_longest()
        self.admin_widgets = [self.transport, self.stack, self.sends_here, save_transport,
                              save_timing, save_templates, tabs, self.part_price, self.morning,
                              self.days_before, self.late_hours, *self.times.values()]

    def refresh_secrets_state(self) -> None:
        """Secrets saved in clear (before the passphrase), or this PC unable to open them;
        read off the GUI thread (the keyring and the key's derivation take a while)."""
        def state() -> str:
            if service.gateway_problem():
                return _("The last round stopped: {reason}").format(
                    reason=service.gateway_problem())
            if service.secrets_in_clear():
                return _("The provider's secrets are saved in clear in the database: set the "
                         "clinic's passphrase (Settings › Backups) to seal them.")
            if (service.SECRET_FIELDS.get(service.chosen_transport()) and passphrase.is_set()
                    and passphrase.on_this_workstation() is None):
                return passphrase.locked_message()
            return ""

        def show(text: str) -> None:
            self.secrets_state.say(text, error=True)
            self.secrets_state.setVisible(bool(text))

        self.secrets_state.hide()
        run_in_background(state, show, owner=self)

    def _show_transport(self, index: int) -> None:
        """Only the chosen transport's fields, without the room the longest form takes."""
        self.stack.setCurrentIndex(index)
        self.stack.setFixedHeight(self.stack.currentWidget().sizeHint().height())

    def _transport_form(self, code: str) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        if code not in TRANSPORT_FIELDS:
            form.addRow(QLabel(_("Nothing to set: the messages wait in the outbox.") if code
                               == "none" else _("The due messages are exported from the SMS "
                                                "section, then sent from the website.")))
            return page
        values = service.transport_settings(code)
        secrets = service.SECRET_FIELDS.get(code, ())
        widgets: dict[str, QWidget] = {}
        errors: dict[str, FieldWithError] = {}
        if code == "http":
            self.preset = QComboBox()
            self.preset.addItem(_("Choose to fill the form…"), "")
            for preset, (label, _values) in service.HTTP_PRESETS.items():
                self.preset.addItem(_(label), preset)
            self.preset.activated.connect(self._fill_preset)
            form.addRow(_("Gateway"), self.preset)
        for name, label in TRANSPORT_FIELDS[code]:
            if name == "phone_without_plus":
                widget = QCheckBox()
                widget.setChecked(bool(values[name]))
            elif name == "method":
                widget = QComboBox()
                for method, method_label in service.HTTP_METHODS.items():
                    widget.addItem(_(method_label), method)
                select_data(widget, values[name])
            elif name == "max_parts":
                widget = QSpinBox()
                widget.setRange(0, 255)
                widget.setSpecialValueText(_("no limit"))
                widget.setValue(int(values[name] or 0))
                widget.setMaximumWidth(120)
                widget.valueChanged.connect(self.update_longest)
            elif name == "fixed_fields":
                widget = QPlainTextEdit()
                widget.setFixedHeight(56)
                widget.setPlaceholderText(_("Saved: type again to replace") if values[name]
                                          else "username=…\npassword=…")
            elif name == "message_fields":
                widget = QPlainTextEdit(str(values[name]))
                widget.setFixedHeight(92)  # the five lines of the Kannel preset
                widget.setToolTip(_("Values filled for each message: {names}.").format(
                    names=", ".join("{" + known + "}" for known in MESSAGE_PLACEHOLDERS))
                    + "\n" + _("{coding}: 0 for GSM-7, 2 for UCS-2 (Kannel); {unicode}: 0 or "
                               "1; {delivery_url}: the address the gateway calls back with "
                               "the delivery report."))
            else:
                widget = QLineEdit("" if name in secrets else str(values[name]))
                if name in secrets:
                    widget.setEchoMode(QLineEdit.EchoMode.Password)
                    widget.setPlaceholderText(_("Saved: type again to replace")
                                              if values[name] else "")
                if name == "sender" and values[name]:
                    widget.setText(phones.display(str(values[name])))
                if name == "delivery_address":
                    widget.setPlaceholderText("http://192.168.1.20:13080")
                    widget.setToolTip(_("Where the gateway reaches this workstation to say "
                                        "whether each message reached the phone; empty: no "
                                        "report asked for."))
            widgets[name] = widget
            errors[name] = FieldWithError(widget)
            if name == "max_parts":
                self.longest = QLabel()
                self.longest.setWordWrap(True)
                self.longest.setMinimumWidth(480)
                form.addRow(_(label), row_of(errors[name], self.longest))
                continue
            form.addRow(_(label), errors[name])
        self.transport_fields[code] = widgets
        self.transport_errors[code] = errors
        return page

    def _fill_preset(self, index: int) -> None:
        """A gateway's usual settings in the form (not saved, the secrets left alone)."""
        preset = self.preset.itemData(index)
        if not preset:
            return
        widgets = self.transport_fields["http"]
        for name, value in service.HTTP_PRESETS[preset][1].items():
            widget = widgets[name]
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                select_data(widget, value)
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QPlainTextEdit):
                widget.setPlainText(str(value))
            else:
                widget.setText(str(value))
        self.transport_message.say(_("Filled for {gateway}: type its address and the "
                                     "credentials, then save.").format(
            gateway=self.preset.itemText(index)))
        self.preset.setCurrentIndex(0)

    def update_longest(self) -> None:
        """Beside the gateway's limit: the longest template in SMS, as a patient gets it."""
        if not hasattr(self, "longest") or not self.templates:
            return
        editor = max(self.templates, key=lambda template: template.parts)
        parts = editor.parts
        limit = self.transport_fields["http"]["max_parts"].value()
        text = _("The longest template goes in {parts} SMS ({kind}, {language}).").format(
            parts=parts, kind=_(rules.KINDS[editor.kind]),
            language=LANGUAGE_NAMES[editor.language])
        if limit and parts > limit:
            text += " " + _("The gateway would cut it: shorten it, or raise its limit.")
        self.longest.setStyleSheet(ERROR_STYLE if limit and parts > limit else "")
        self.longest.setText(text)

    def _transport_values(self, code: str) -> dict:
        values = {}
        for name, widget in self.transport_fields.get(code, {}).items():
            if isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                values[name] = widget.currentData()
            elif isinstance(widget, QSpinBox):
                values[name] = widget.value()
            elif isinstance(widget, QPlainTextEdit):
                values[name] = widget.toPlainText()
            else:
                values[name] = widget.text().strip()
        return values

    def save_transport(self) -> None:
        code = self.transport.currentData()
        for field in self.transport_errors.get(code, {}).values():
            field.set_error(None)
        try:
            service.save_transport(code, self._transport_values(code))
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.transport_errors.get(code, {}):
                    self.transport_errors[code][name].set_error(message)
            self.transport_message.say(_("Correct the fields marked."), error=True)
            return
        except session.PermissionDenied as error:
            self.transport_message.say(str(error), error=True)
            return
        for name in service.SECRET_FIELDS.get(code, ()):  # never left on screen
            widget = self.transport_fields[code][name]
            widget.clear()
            widget.setPlaceholderText(_("Saved: type again to replace"))
        self.transport_message.say(_("Saved. The messages go this way from now on."))

    def send_test(self) -> None:
        try:
            number = phones.normalize(self.test_number.text())
        except ValueError as error:
            self.transport_message.say(str(error), error=True)
            return
        try:
            transport = service.make_transport()
        except passphrase.Locked as locked:
            self.transport_message.say(str(locked), error=True)
            return
        if transport is None:
            self.transport_message.say(_("Save a provider, a website or a modem first."),
                                       error=True)
            return
        self.transport_message.say(_("Sending the test SMS…"))

        def send() -> str:
            try:
                return transport.send(number, _("Test of NEST Desktop: SMS are working."),
                                      f"test:{clock.now():%Y%m%d%H%M%S}")
            finally:
                transport.close()

        def failed(error: Exception) -> None:
            if isinstance(error, Retry | Refused):
                self.transport_message.say(str(error), error=True)
            else:
                self.transport_message.say(_("The test failed: {error}").format(error=error),
                                           error=True)

        run_in_background(send, lambda _ref: self.transport_message.say(
            _("The test SMS went: check the phone.")), failed, owner=self)

    def save_timing(self) -> None:
        for field in self.timing_fields.values():
            field.set_error(None)
        texts = {name: edit.text() for name, edit in self.times.items()}
        try:
            timing = service.parse_timing(
                **texts, appointment_morning="yes" if self.morning.isChecked() else "",
                appointment_confirmation="yes" if self.confirmation.isChecked() else "",
                vaccine_days_before=str(self.days_before.value()),
                late_hours=str(self.late_hours.value()))
            service.save_timing(timing)
            settings.put("sms.part_price", self.part_price.value())
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.timing_fields:
                    self.timing_fields[name].set_error(message)
            self.timing_message.say(_("Correct the fields marked."), error=True)
            return
        except session.PermissionDenied as error:
            self.timing_message.say(str(error), error=True)
            return
        self.timing_message.say(_("Saved. The reminders are scheduled again with this timing "
                                  "on the next round."))

    def save_templates(self) -> None:
        texts: dict[str, dict[str, str]] = {}
        for editor in self.templates:
            editor.field.set_error(None)
            texts.setdefault(editor.kind, {})[editor.language] = editor.text()
        try:
            service.save_templates(texts)
        except ValidationFailed as failed:
            for editor in self.templates:
                editor.field.set_error(failed.errors.get(f"{editor.kind}.{editor.language}"))
            self.templates_message.say(_("Correct the templates marked."), error=True)
            return
        except session.PermissionDenied as error:
            self.templates_message.say(str(error), error=True)
            return
        for editor in self.templates:  # shown as stored: typography made GSM-7
            editor.editor.setPlainText(service.template(editor.kind, editor.language))
        self.templates_message.say(_("Saved. Each SMS is written with them when it is sent."))
