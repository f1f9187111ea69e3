"""Appointments (TEL-02, PAT-01): booking, moving, cancelling from a call or a file; the day's
and the week's appointments by service."""

import datetime as dt
from html import escape

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import agenda as agenda_rules
from nest_desktop.domain import clock
from nest_desktop.domain import reception as rules
from nest_desktop.domain.dates import entry_text
from nest_desktop.domain.text import list_name
from nest_desktop.i18n import _, counted, format_date, format_number, ngettext
from nest_desktop.services import StaleRecordError, ValidationFailed, agenda, reception, session
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    dialog_buttons,
    fill,
    read_only_table,
    section_title,
    site_box,
)

STATUS_COLOURS = {"attended": "#1b5e20", "missed": "#b00020", "cancelled": "#777777"}


def fill_service_box(box: QComboBox, site_id: int | None, selected_id: int | None = None,
                     empty_label: str | None = None) -> None:
    """The services and practitioners of the site that take appointments: each service
    followed by its practitioners, then the practitioners of no service."""
    blocked = box.blockSignals(True)
    box.clear()
    if empty_label is not None:
        box.addItem(empty_label, None)
    entries = reception.directory(site_id, appointments_only=True)
    services = [e for e in entries if e.kind == "service"]
    known = {e.id for e in services}
    ordered = []
    for service in services:
        ordered.append((service, False))
        ordered += [(e, True) for e in entries
                    if e.kind != "service" and e.service_id == service.id]
    ordered += [(e, False) for e in entries
                if e.kind != "service" and e.service_id not in known]
    for entry, indented in ordered:
        label = entry.name if site_id is not None else f"{entry.name} ({entry.site.name})"
        box.addItem(("    " if indented else "") + label, entry.id)
    if selected_id is not None:
        box.setCurrentIndex(max(box.findData(selected_id), 0))
    box.blockSignals(blocked)


def status_text(status: str) -> str:
    return _(rules.APPOINTMENT_STATUSES.get(status, status))


def row_status(row: reception.AppointmentRow) -> str:
    """'Booked', 'Arrived at 09:50', 'Seen at 10:12', 'Missed'…"""
    if row.status == "attended" and row.seen_at is not None:
        return _("Seen at {time}").format(time=row.seen_at.strftime("%H:%M"))
    if row.status == "booked" and row.arrived_at is not None:
        return _("Arrived at {time}").format(time=row.arrived_at.strftime("%H:%M"))
    return status_text(row.status)


def duration_words(minutes: int | None) -> str:
    """'35 min', '1 h 05'."""
    if minutes is None:
        return ""
    if minutes < 60:
        return _("{count} min").format(count=format_number(minutes))
    return _("{hours} h {minutes:02d}").format(hours=minutes // 60, minutes=minutes % 60)


class PersonPickerDialog(QDialog):
    """Whom the appointment is for: a patient or a prospect found by name, phone or birth
    date, or a new prospect, created after the duplicate check (PRO-05)."""

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.site_id = site_id
        self.setWindowTitle(_("Whom is the appointment for?"))
        self.chosen: tuple[int | None, int | None, str] | None = None
        self.matches: list[reception.CallerMatch] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Name, phone or birth date"))
        self.search.setClearButtonEnabled(True)
        self.results = read_only_table([_("Name"), _("Born on"), _("Phone"), _("File")])
        self.results.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.results.doubleClicked.connect(lambda _index: self._choose())
        self.found = QLabel()
        choose = QPushButton(_("Choose"))
        choose.setDefault(True)
        choose.clicked.connect(self._choose)
        self.new_last, self.new_first, self.new_phone = QLineEdit(), QLineEdit(), QLineEdit()
        for editor, limit in ((self.new_last, 100), (self.new_first, 100),
                              (self.new_phone, 30)):
            editor.setMaxLength(limit)
        self.new_consent = QComboBox()
        self.new_consent.addItem(_("Ask her first"), None)
        self.new_consent.addItem(_("Yes, she accepts SMS reminders"), True)
        self.new_consent.addItem(_("No SMS"), False)
        self.new_fields = {name: FieldWithError(editor) for name, editor in (
            ("last_name", self.new_last), ("first_names", self.new_first),
            ("phones", self.new_phone), ("sms_consent", self.new_consent))}
        create = QPushButton(_("Create her prospect file and continue"))
        create.clicked.connect(self._create)
        new_box = QGroupBox(_("Not found: a new person"))
        new_form = QFormLayout(new_box)
        new_form.addRow(_("Last name"), self.new_fields["last_name"])
        new_form.addRow(_("First names"), self.new_fields["first_names"])
        new_form.addRow(_("Phone"), self.new_fields["phones"])
        new_form.addRow(_("Accepts SMS reminders"), self.new_fields["sms_consent"])
        new_form.addRow(create)
        self.message = MessageLabel()
        cancel = QPushButton(_("Cancel"))
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addStretch(1)
        buttons.addWidget(choose)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.found)
        layout.addLayout(buttons)
        layout.addWidget(new_box)
        layout.addWidget(self.message)
        self.search.textChanged.connect(self._search)
        self._search()
        fit_on_screen(self, 640, 560, "person_picker")

    def _search(self) -> None:
        self.matches = reception.find_people(self.search.text())
        fill(self.results, [(match.name + (" — " + _("child of {name}").format(
            name=match.parent_name) if match.parent_name else ""),
                             format_date(match.birth_date) if match.birth_date
                             else "", ", ".join(match.phones[:2]),
                             _("Patient") if match.kind == "patient" else _("Prospect"))
                            for match in self.matches])
        self.results.resizeColumnsToContents()
        self.results.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        if self.matches:
            self.results.selectRow(0)
        typed = len(" ".join(self.search.text().split()))
        if len(self.matches) >= reception.FIND_LIMIT:
            self.found.setText(_("The first {count}: type more of her name or number.").format(
                count=format_number(len(self.matches))))
        else:
            self.found.setText("" if typed < 2 else counted(
                "{count} person found", "{count} people found", len(self.matches),
                _("Nobody found: check the spelling, or create her file below.")))

    def _choose(self) -> None:
        row = self.results.currentRow()
        if not 0 <= row < len(self.matches):
            self.message.say(_("Choose a person in the list, or create her file."), error=True)
            return
        match = self.matches[row]
        self.chosen = ((match.record_id, None, match.name) if match.kind == "patient"
                       else (None, match.record_id, match.name + " " + _("(prospect)")))
        self.accept()

    def _create(self, confirmed_new: bool = False) -> None:
        from nest_desktop.services import prospects
        from nest_desktop.ui.common.dialogs import DuplicatesDialog

        for field in self.new_fields.values():
            field.set_error(None)
        if self.new_consent.currentData() is None:
            self.new_fields["sms_consent"].set_error(
                _("Ask her whether she accepts SMS reminders."))
            return
        form = prospects.ProspectForm(
            last_name=self.new_last.text(), first_names=self.new_first.text(),
            phones=[self.new_phone.text()] if self.new_phone.text().strip() else [],
            site_id=self.site_id, channel="phone", sms_consent=self.new_consent.currentData())
        try:
            prospect = prospects.create_prospect(form, prospects.RequestForm("appointment"),
                                                 confirmed_new=confirmed_new)
        except prospects.DuplicateFound as found:
            dialog = DuplicatesDialog(found.candidates, self, _("It is her: choose this file"),
                                      _("It is another person: create her file"))
            if not dialog.exec():
                return
            if dialog.chosen is None:
                self._create(confirmed_new=True)
                return
            record = dialog.chosen
            self.chosen = ((record.record_id, None, record.full_name) if record.kind == "patient"
                           else (None, record.record_id,
                                 record.full_name + " " + _("(prospect)")))
            self.accept()
            return
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                field = self.new_fields.get("phones" if name.startswith("phone") else name)
                if field is not None:
                    field.set_error(message)
            other = [m for name, m in failed.errors.items()
                     if name not in self.new_fields and not name.startswith("phone")]
            if other:
                self.message.say(" ".join(other), error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.chosen = (None, prospect.id, list_name(prospect.last_name, prospect.first_names)
                       + " " + _("(prospect)"))
        self.accept()


class AppointmentDialog(QDialog):
    """Books an appointment for a person, or moves a booked one. Beside it, the day of the
    service or practitioner: her appointments and the free times, one click to take one.
    Outside the opening hours or over another appointment, the booking needs a reason."""

    def __init__(self, person: str | None, site_id: int | None, patient_id: int | None = None,
                 prospect_id: int | None = None, appointment_id: int | None = None,
                 call_id: int | None = None, parent=None, service_id: int | None = None,
                 starts_at: dt.datetime | None = None):
        super().__init__(parent)
        self.patient_id, self.prospect_id = patient_id, prospect_id
        self.appointment_id, self.call_id = appointment_id, call_id
        self.appointment = None
        existing = reception.get_appointment(appointment_id) if appointment_id else None
        self.setWindowTitle(_("Move the appointment") if existing else _("Book an appointment"))
        self.who = QLabel()
        self.who.setWordWrap(True)
        self.pick = QPushButton(_("Choose…"))
        self.pick.clicked.connect(self._pick_person)
        self.pick.setVisible(existing is None)
        self.site = site_box(existing.site_id if existing else site_id)
        self.service = QComboBox()
        self.kind = QComboBox()
        self.kind.addItem("", "")
        for key, (label, _minutes) in agenda_rules.APPOINTMENT_KINDS.items():
            self.kind.addItem(_(label), key)
        self.day = DateEdit()
        self.time = QLineEdit()
        self.time.setPlaceholderText(_("hh:mm"))
        self.time.setMaxLength(8)
        self.time.setMaximumWidth(90)
        self.duration = QComboBox()
        for minutes in rules.APPOINTMENT_DURATIONS:
            self.duration.addItem(ngettext("{count} minute", "{count} minutes", minutes)
                                  .format(count=format_number(minutes)), minutes)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.override = QLineEdit()
        self.override.setMaxLength(200)
        self.override.setPlaceholderText(_("Why it is booked all the same"))
        self.fields = {name: FieldWithError(widget) for name, widget in (
            ("service", self.service), ("kind", self.kind), ("day", self.day),
            ("time", self.time), ("duration", self.duration), ("reason", self.reason),
            ("override", self.override))}
        self.day_list = read_only_table([_("Time"), _("Patient"), _("Reason")])
        self.day_list.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.day_list.setMinimumWidth(340)
        self.day_title = QLabel()
        self.day_title.setWordWrap(True)
        self.hours = QLabel()
        self.hours.setWordWrap(True)
        self.sms_note = QLabel()  # whether a reminder will go, or why not
        self.sms_note.setWordWrap(True)
        self.free = QComboBox()
        self.free.setToolTip(_("The free times of the day for this length: choose one"))
        self.free.activated.connect(self._take_free_time)
        self.form_layout = form = QFormLayout()
        person_box = QWidget()
        person_row = QHBoxLayout(person_box)
        person_row.setContentsMargins(0, 0, 0, 0)
        person_row.addWidget(self.who, 1)
        person_row.addWidget(self.pick)
        self.person_field = FieldWithError(person_box)
        form.addRow(_("For"), self.person_field)
        form.addRow(_("Site"), self.site)
        form.addRow(_("Service or practitioner"), self.fields["service"])
        form.addRow(_("What for"), self.fields["kind"])
        form.addRow(_("Day"), self.fields["day"])
        form.addRow(_("Time"), self.fields["time"])
        form.addRow(_("Duration"), self.fields["duration"])
        form.addRow(_("Reason"), self.fields["reason"])
        form.addRow(_("Exception"), self.fields["override"])
        form.setRowVisible(self.fields["override"], False)
        form.addRow(self.sms_note)
        self.message = MessageLabel()
        side = QVBoxLayout()
        side.addWidget(self.day_title)
        side.addWidget(self.hours)
        free_row = QHBoxLayout()
        free_row.addWidget(QLabel(_("Free times")))
        free_row.addWidget(self.free, 1)
        side.addLayout(free_row)
        side.addWidget(self.day_list, 1)
        columns = QHBoxLayout()
        columns.addLayout(form, 3)
        columns.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self._save, save=True))
        self._show_person(person)
        self.site.currentIndexChanged.connect(self._site_changed)
        self.service.currentIndexChanged.connect(self._show_day)
        self.day.editingFinished.connect(self._show_day)
        self.duration.currentIndexChanged.connect(self._show_day)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.time.editingFinished.connect(self._show_sms_outlook)
        if existing:
            fill_service_box(self.service, existing.site_id, existing.service_id)
            self.day.setText(entry_text(existing.starts_at.date()))
            self.time.setText(existing.starts_at.strftime("%H:%M"))
            self.kind.setCurrentIndex(max(self.kind.findData(existing.kind), 0))
            self.duration.setCurrentIndex(max(self.duration.findData(existing.duration_minutes),
                                              0))
            self.reason.setText(existing.reason)
            self.override.setText(existing.override_reason)
        else:
            fill_service_box(self.service, self.site.currentData(), service_id)
            self.duration.setCurrentIndex(self.duration.findData(30))
            day = starts_at.date() if starts_at else clock.today() + dt.timedelta(days=1)
            self.day.setText(entry_text(day))
            if starts_at:
                self.time.setText(starts_at.strftime("%H:%M"))
        self._show_day()
        fit_on_screen(self, 860, 460, "appointment")

    def _show_person(self, person: str | None) -> None:
        self.who.setText(f"<b>{escape(person)}</b>" if person else _("Nobody chosen yet"))

    def _show_sms_outlook(self) -> None:
        from nest_desktop.domain.dates import parse_date, parse_time
        from nest_desktop.services import sms

        try:
            starts_at = dt.datetime.combine(parse_date(self.day.text()),
                                            parse_time(self.time.text()))
        except ValueError:
            starts_at = None
        if starts_at is None or not (self.patient_id or self.prospect_id):
            self.sms_note.setText("")
            return
        outlook = sms.appointment_outlook(self.patient_id, self.prospect_id, starts_at)
        self.sms_note.setText(outlook.text)
        self.sms_note.setStyleSheet("" if outlook.will_send else "color: #8a4b00;")

    def _pick_person(self) -> None:
        picker = PersonPickerDialog(self.site.currentData(), self)
        if picker.exec() and picker.chosen:
            self.patient_id, self.prospect_id, name = picker.chosen
            self._show_person(name)
            self.person_field.set_error(None)
            self._show_sms_outlook()

    def _site_changed(self) -> None:
        fill_service_box(self.service, self.site.currentData())
        self._show_day()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        if kind:
            self.duration.setCurrentIndex(max(self.duration.findData(
                agenda_rules.kind_minutes(kind)), 0))

    def _show_day(self) -> None:
        from nest_desktop.services.people import typed_date

        day = typed_date(self.day.text())
        service_id = self.service.currentData()
        site_id = self.site.currentData()
        self.free.clear()
        if day is None or service_id is None:
            self.day_title.setText(_("Choose a service and a day to see its appointments."))
            self.hours.setText("")
            fill(self.day_list, [])
            return
        entry = reception.get_entry(service_id)
        site_id = entry.site_id
        rows = [row for row in reception.appointments_between(day, day, None, service_id)
                if row.id != self.appointment_id]
        self.day_title.setText(_("{service} on {day}: {count}").format(
            service=self.service.currentText(), day=format_date(day, "full"),
            count=counted("{count} appointment", "{count} appointments", len(rows),
                          _("no appointment"))))
        closed = agenda.closed_reason(site_id, day)
        periods = agenda.hours_on(site_id, service_id, day)
        self.hours.setText(
            (_("Closed: {reason}").format(reason=closed) if closed else _("Closed that day"))
            if closed is not None else _("Hours: {hours}").format(
                hours=agenda_rules.hours_text(periods)) if periods else _("Closed that day"))
        slots = agenda.free_slots(site_id, service_id, day, self.duration.currentData() or 30,
                                  after=clock.now() if day == clock.today() else None,
                                  exclude_id=self.appointment_id)
        self.free.addItem(counted("{count} free time", "{count} free times", len(slots),
                                  _("no free time")), None)
        for slot in slots:
            self.free.addItem(slot.strftime("%H:%M"), slot.strftime("%H:%M"))
        fill(self.day_list, [(row.starts_at.strftime("%H:%M") + " – " + (
            row.starts_at + dt.timedelta(minutes=row.duration_minutes)).strftime("%H:%M"),
            row.person, row.reason) for row in rows])
        self._show_sms_outlook()

    def _take_free_time(self) -> None:
        if self.free.currentData():
            self.time.setText(self.free.currentData())
            self.fields["time"].set_error(None)
            self._show_sms_outlook()

    def form(self) -> reception.AppointmentForm:
        override = self.override.text() if self.form_layout.isRowVisible(
            self.fields["override"]) else ""
        return reception.AppointmentForm(
            self.patient_id, self.prospect_id, self.site.currentData(),
            self.service.currentData(), self.day.text(), self.time.text(),
            self.duration.currentData(), self.reason.text(), self.kind.currentData() or "",
            override)

    def _save(self) -> None:
        for field in (*self.fields.values(), self.person_field):
            field.set_error(None)
        try:
            if self.appointment_id:
                version = reception.get_appointment(self.appointment_id).version
                self.appointment = reception.move(self.appointment_id, version, self.form())
            else:
                self.appointment = reception.book(self.form(), self.call_id)
        except reception.ConfirmationNeeded as needed:
            self.form_layout.setRowVisible(self.fields["override"], True)
            if self.override.text().strip():
                self.fields["override"].set_error(needed.errors["override"])
            self.message.say(" ".join(needed.warnings) + " " + _(
                "To book it all the same, write why under Exception, then save again."),
                error=True)
            self.override.setFocus()
            return
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
            if "person" in failed.errors:
                self.person_field.set_error(failed.errors["person"])
            other = [m for name, m in failed.errors.items()
                     if name not in self.fields and name != "person"]
            self.message.say(" ".join(other) or _("Check the fields marked."), error=True)
            return
        except (StaleRecordError, reception.AlreadyDone, session.PermissionDenied) as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class CancelAppointmentDialog(QDialog):
    def __init__(self, appointment_id: int, parent=None):
        super().__init__(parent)
        self.appointment_id = appointment_id
        appointment = reception.get_appointment(appointment_id)
        self.setWindowTitle(_("Cancel the appointment"))
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason_field = FieldWithError(self.reason)
        self.message = MessageLabel()
        form = QFormLayout(self)
        form.addRow(QLabel(_("Appointment of {when}").format(
            when=format_date(appointment.starts_at.date(), "full") + " "
            + appointment.starts_at.strftime("%H:%M"))))
        form.addRow(_("Why"), self.reason_field)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save))

    def _save(self) -> None:
        try:
            version = reception.get_appointment(self.appointment_id).version
            reception.cancel(self.appointment_id, version, self.reason.text())
        except ValidationFailed as failed:
            self.reason_field.set_error(failed.errors.get("cancel_reason"))
            return
        except (StaleRecordError, reception.AlreadyDone, session.PermissionDenied) as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


def action_row(first: tuple[str, str], act) -> tuple[QHBoxLayout, dict[str, QPushButton]]:
    """The buttons under a list of appointments: `first`, then move, cancel, arrived, seen
    (attended), missed; each calls `act(action)`."""
    row, buttons = QHBoxLayout(), {}
    for action, label in (first, ("move", _("Move…")), ("cancel", _("Cancel…")),
                          ("arrived", _("Arrived")), ("attended", _("Seen")),
                          ("missed", _("Missed")), ("card", _("Print the card…"))):
        button = QPushButton(label)
        button.clicked.connect(lambda _checked=False, a=action: act(a))
        row.addWidget(button)
        buttons[action] = button
    row.addStretch(1)
    return row, buttons


def colour_statuses(table, rows, column: int) -> None:
    """Attended in green, missed in red, cancelled in grey."""
    for index, row in enumerate(rows):
        colour = STATUS_COLOURS.get(row.status)
        if colour:
            table.item(index, column).setForeground(QBrush(QColor(colour)))


def print_card(parent: QWidget, appointment_id: int) -> None:
    """The appointment card, made off the GUI thread, then shown to print or save."""
    from nest_desktop.services import documents
    from nest_desktop.ui.common.pdf_preview import PdfPreviewDialog

    def show(result: tuple[str, bytes]) -> None:
        name, pdf = result
        PdfPreviewDialog(pdf, name, parent).exec()

    def failed(error: Exception) -> None:
        QMessageBox.warning(parent, _("Appointment card"), str(error))

    run_in_background(lambda: documents.appointment_card_pdf(appointment_id), show, failed,
                      owner=parent)


def act_on_appointment(parent: QWidget, appointment_id: int, action: str,
                       person: str = "") -> str | None:
    """Move, cancel, attended or missed, from any list; returns the error to show, if any."""
    appointment = reception.get_appointment(appointment_id)
    if action == "move":
        dialog = AppointmentDialog(person, appointment.site_id, appointment.patient_id,
                                   appointment.prospect_id, appointment_id, parent=parent)
        dialog.exec()
        return None
    if action == "cancel":
        CancelAppointmentDialog(appointment_id, parent).exec()
        return None
    if action == "card":
        print_card(parent, appointment_id)
        return None
    try:
        if action == "arrived":
            reception.arrive(appointment_id, appointment.version)
        else:
            reception.mark(appointment_id, appointment.version, action)
    except ValidationFailed as failed:
        return " ".join(failed.errors.values())
    except (StaleRecordError, reception.AlreadyDone, session.PermissionDenied) as refused:
        return str(refused)
    return None


def appointments_changed() -> None:
    """An appointment booked, moved, cancelled or marked: every list of appointments, and
    Today (a first visit makes its 72-hour call), are out of date."""
    changes().appointments.emit()
    changes().tasks.emit()


class AppointmentsBox(QGroupBox):
    """A person's appointments on her file, with book / move / cancel / attended."""

    changed = Signal()

    def __init__(self, person: str, site_id: int | None, patient_id: int | None = None,
                 prospect_id: int | None = None, parent=None):
        super().__init__(_("Appointments"), parent)
        self.person, self.site_id = person, site_id
        self.patient_id, self.prospect_id = patient_id, prospect_id
        self.table = read_only_table([_("Date"), _("Service or practitioner"), _("Reason"),
                                      _("Status")])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(170)
        self.message = MessageLabel()
        self.rows: list[reception.AppointmentRow] = []
        buttons, self.action_buttons = action_row(("book", _("Book…")), self._act)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.refresh()
        changes().appointments.connect(self.refresh)

    def refresh(self) -> None:
        if not (self.patient_id or self.prospect_id):
            fill(self.table, [])
            self.setEnabled(False)
            return
        self.setEnabled(True)
        rows = self.rows = reception.appointments_of(self.patient_id, self.prospect_id)
        fill(self.table, [(row.starts_at.strftime("%d/%m/%Y %H:%M"), row.service, row.reason,
                           row_status(row)) for row in rows])
        colour_statuses(self.table, rows, 3)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self._selection_changed()

    def set_person(self, patient_id: int | None, person: str, site_id: int | None) -> None:
        self.patient_id, self.person, self.site_id = patient_id, person, site_id
        self.refresh()

    def selected_id(self) -> int | None:
        row = self.table.currentRow()
        return self.rows[row].id if 0 <= row < len(self.rows) else None

    def _selection_changed(self) -> None:
        may = session.may("calls.write")
        row = self.table.currentRow()
        status = self.rows[row].status if 0 <= row < len(self.rows) else None
        self.action_buttons["book"].setEnabled(may)
        for action in ("move", "cancel", "attended", "missed", "arrived"):
            self.action_buttons[action].setEnabled(may and status == "booked")
        self.action_buttons["card"].setEnabled(status == "booked")

    def _act(self, action: str) -> None:
        self.message.setText("")
        if action == "book":
            dialog = AppointmentDialog(self.person, self.site_id, self.patient_id,
                                       self.prospect_id, parent=self)
            if dialog.exec():
                self.message.say(_("Appointment booked."))
        else:
            chosen = self.selected_id()
            if chosen is None:
                return
            error = act_on_appointment(self, chosen, action, self.person)
            if error:
                self.message.say(error, error=True)
        appointments_changed()  # this box refreshes with every list of appointments
        self.changed.emit()


class AgendaGrid(QTableWidget):
    """A day of the site's practitioners side by side (one column each), or a week of one
    practitioner (one column a day): a row every 15 minutes of the opening hours, each
    appointment over the rows it takes, the free times blank, the closed ones grey.
    Double-click a free time to book it."""

    CLOSED = QColor("#e0e0e0")
    BOOKED = QColor("#cfe8e3")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(110)
        # (entry id, day) of each column; the time of each row
        self.columns: list[tuple[int, dt.date]] = []
        self.times: list[dt.time] = []
        self.booked: dict[tuple[int, int], reception.AppointmentRow] = {}

    def show_days(self, columns: list[tuple[int, dt.date, str, list[agenda_rules.Interval]]],
                  rows: list[reception.AppointmentRow]) -> None:
        """`columns`: (entry id, day, title, opening periods) side by side."""
        self.clear()
        self.booked = {}
        self.columns = [(entry_id, day) for entry_id, day, _title, _periods in columns]
        periods = {(entry_id, day): intervals for entry_id, day, _title, intervals in columns}
        times = set()
        for intervals in periods.values():
            times.update(agenda_rules.grid_times(intervals))
        for row in rows:  # an appointment outside the hours still shows
            moment = row.starts_at.replace(minute=row.starts_at.minute
                                           - row.starts_at.minute % agenda_rules.SLOT_MINUTES)
            times.add(moment.time())
        self.times = sorted(times)
        self.setColumnCount(len(columns))
        self.setRowCount(len(self.times))
        self.setHorizontalHeaderLabels([title for _entry, _day, title, _periods in columns])
        self.setVerticalHeaderLabels([moment.strftime("%H:%M") for moment in self.times])
        for column, key in enumerate(self.columns):
            for index, moment in enumerate(self.times):
                item = QTableWidgetItem("")
                starts = dt.datetime.combine(key[1], moment)
                if not agenda_rules.fits_hours(starts, agenda_rules.SLOT_MINUTES, periods[key]):
                    item.setBackground(QBrush(self.CLOSED))
                    item.setToolTip(_("Closed"))
                else:
                    item.setToolTip(_("Free: double-click to book {time}").format(
                        time=moment.strftime("%H:%M")))
                self.setItem(index, column, item)
        position = {key: column for column, key in enumerate(self.columns)}
        for row in rows:
            column = position.get((row.service_id, row.starts_at.date()))
            if column is None or row.status == "cancelled":
                continue
            start = row.starts_at
            end = start + dt.timedelta(minutes=row.duration_minutes)
            first = True
            for index, moment in enumerate(self.times):
                slot = dt.datetime.combine(start.date(), moment)
                if slot + dt.timedelta(minutes=agenda_rules.SLOT_MINUTES) <= start or slot >= end:
                    continue
                item = self.item(index, column)
                item.setBackground(QBrush(self.BOOKED))
                if first:
                    label = f"{start:%H:%M} {row.person}"
                    if row.status != "booked":
                        label += f" — {status_text(row.status).lower()}"
                    item.setText(label)
                    first = False
                else:
                    item.setText("│")
                item.setToolTip(f"{start:%H:%M}–{end:%H:%M} {row.person}"
                                + (f" — {row.reason}" if row.reason else ""))
                colour = STATUS_COLOURS.get(row.status)
                if colour:
                    item.setForeground(QBrush(QColor(colour)))
                self.booked[(index, column)] = row

    def chosen(self) -> tuple[reception.AppointmentRow | None, int | None, dt.datetime | None]:
        """The appointment under the current cell, or the free time (entry, moment) it is."""
        index, column = self.currentRow(), self.currentColumn()
        if not (0 <= index < len(self.times) and 0 <= column < len(self.columns)):
            return None, None, None
        row = self.booked.get((index, column))
        entry_id, day = self.columns[column]
        return row, entry_id, dt.datetime.combine(day, self.times[index])


class AppointmentsPage(QWidget):
    """The appointments (TEL-02): the day's or the week's list by service, the agenda of the
    practitioners with their free times, and the waiting room. Bounded lists, shown whole."""

    openPatient = Signal(int)
    openProspect = Signal(int)

    LIST, AGENDA, WAITING = 0, 1, 2

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.day = clock.today()
        self.rows: list[reception.AppointmentRow] = []
        self.waiting: list[reception.AppointmentRow] = []
        self.site_filter = site_box(site_id, _("Every site"))
        self.service_filter = QComboBox()
        self.span = QButtonGroup(self)
        day_button, week_button = QRadioButton(_("Day")), QRadioButton(_("Week"))
        day_button.setChecked(True)
        self.span.addButton(day_button, 0)
        self.span.addButton(week_button, 1)
        previous, today, following = (QPushButton("◀"), QPushButton(_("Today")),
                                      QPushButton("▶"))
        previous.setToolTip(_("Before"))
        following.setToolTip(_("After"))
        previous.clicked.connect(lambda: self._shift(-1))
        following.clicked.connect(lambda: self._shift(1))
        today.clicked.connect(self._today)
        self.new_button = QPushButton(_("New appointment…"))
        self.new_button.clicked.connect(lambda: self._book())
        self.period = QLabel()
        self.period.setStyleSheet("font-weight: bold;")
        filters = QHBoxLayout()
        filters.addWidget(QLabel(_("Site")))
        filters.addWidget(self.site_filter)
        filters.addWidget(QLabel(_("Service or practitioner")))
        filters.addWidget(self.service_filter, 1)
        filters.addWidget(day_button)
        filters.addWidget(week_button)
        filters.addWidget(previous)
        filters.addWidget(today)
        filters.addWidget(following)
        title_row = QHBoxLayout()
        title_row.addWidget(section_title(_("Appointments")))
        title_row.addStretch(1)
        title_row.addWidget(self.new_button)
        self.table = read_only_table([_("Day"), _("Time"), _("Service or practitioner"),
                                      _("Patient"), _("Phone"), _("Reason"), _("Status")])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._open)
        self.grid = AgendaGrid()
        self.grid.cellDoubleClicked.connect(lambda _row, _column: self._grid_activated())
        self.grid_note = QLabel()
        self.grid_note.setWordWrap(True)
        grid_page = QWidget()
        grid_layout = QVBoxLayout(grid_page)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addWidget(self.grid_note)
        grid_layout.addWidget(self.grid, 1)
        self.room = read_only_table([_("Appointment"), _("Patient"), _("Service or practitioner"),
                                     _("Arrived at"), _("Waiting"), _("Status")])
        self.room.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.room.doubleClicked.connect(self._open)
        self.views = QTabWidget()
        self.views.addTab(self.table, _("List"))
        self.views.addTab(grid_page, _("Agenda"))
        self.views.addTab(self.room, _("Waiting room"))
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.message = MessageLabel()
        actions, self.action_buttons = action_row(("open", _("Open the file")), self._act)
        layout = QVBoxLayout(self)
        layout.addLayout(title_row)
        layout.addLayout(filters)
        layout.addWidget(self.period)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.counts)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.site_filter.currentIndexChanged.connect(self._site_changed)
        self.service_filter.currentIndexChanged.connect(self.refresh)
        self.span.idToggled.connect(lambda _id, checked: checked and self.refresh())
        self.views.currentChanged.connect(lambda _index: self.refresh())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.grid.itemSelectionChanged.connect(self._selection_changed)
        self.room.itemSelectionChanged.connect(self._selection_changed)
        fill_service_box(self.service_filter, site_id, empty_label=_("Every service"))
        # the waiting times go on while she waits
        self.ticker = QTimer(self)
        self.ticker.setInterval(60_000)
        self.ticker.timeout.connect(lambda: self.views.currentIndex() == self.WAITING
                                    and self._show_waiting_room())
        self.ticker.start()
        self.refresh()
        changes().appointments.connect(self.refresh)

    def _site_changed(self) -> None:
        fill_service_box(self.service_filter, self.site_filter.currentData(),
                         empty_label=_("Every service"))
        self.refresh()

    def _shift(self, direction: int) -> None:
        self.day += dt.timedelta(days=direction * (7 if self.span.checkedId() == 1 else 1))
        self.refresh()

    def _today(self) -> None:
        self.day = clock.today()
        self.refresh()

    def show_day(self, day: dt.date) -> None:
        self.day = day
        self.refresh()

    def period_bounds(self) -> tuple[dt.date, dt.date]:
        if self.span.checkedId() == 1 and self.views.currentIndex() != self.WAITING:
            return rules.week_of(self.day)
        return self.day, self.day

    def refresh(self) -> None:
        first, last = self.period_bounds()
        self.period.setText(format_date(first, "full") if first == last else _(
            "Week of {first} to {last}").format(first=format_date(first, "long"),
                                                last=format_date(last, "long")))
        self.rows = reception.appointments_between(first, last, self.site_filter.currentData(),
                                                   self.service_filter.currentData(),
                                                   with_cancelled=True)
        fill(self.table, [(format_date(row.starts_at.date(), "EEE d MMM"),
                           row.starts_at.strftime("%H:%M"), row.service, row.person, row.phone,
                           row.reason, row_status(row)) for row in self.rows])
        colour_statuses(self.table, self.rows, 6)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        booked = sum(1 for row in self.rows if row.status != "cancelled")
        by_service: dict[str, int] = {}
        for row in self.rows:
            if row.status != "cancelled":
                by_service[row.service] = by_service.get(row.service, 0) + 1
        self.counts.setText(counted("{count} appointment", "{count} appointments", booked,
                                    _("No appointment")) + (" — " + ", ".join(
                                _("{label}: {count}").format(label=name,
                                                             count=format_number(count))
                                for name, count in sorted(by_service.items()))
                                if by_service else ""))
        if self.views.currentIndex() == self.AGENDA:
            self._show_grid(first, last)
        elif self.views.currentIndex() == self.WAITING:
            self._show_waiting_room()
        self._selection_changed()

    def _grid_site(self) -> int | None:
        site_id = self.site_filter.currentData()
        if site_id is None and self.service_filter.currentData() is not None:
            site_id = reception.get_entry(self.service_filter.currentData()).site_id
        return site_id

    def _show_grid(self, first: dt.date, last: dt.date) -> None:
        site_id = self._grid_site()
        if site_id is None:
            self.grid_note.setText(_("Choose a site to see its practitioners' agenda."))
            self.grid.show_days([], [])
            return
        entry_id = self.service_filter.currentData()
        if first != last and entry_id is not None:
            name = self.service_filter.currentText()
            days = [first + dt.timedelta(days=offset) for offset in range(7)]
            columns = [(entry_id, day, format_date(day, "EEE d MMM"),
                        agenda.hours_on(site_id, entry_id, day)) for day in days]
            self.grid_note.setText(_("{name}: the week. Double-click a free time to book it.")
                                   .format(name=name))
        else:
            if first != last:
                self.grid_note.setText(_("The week's agenda is shown for one practitioner: "
                                         "choose her above. Here, the day of {day}.").format(
                    day=format_date(self.day, "full")))
            else:
                self.grid_note.setText(_("Double-click a free time to book it; grey: closed."))
            shown = reception.with_practitioners(entry_id) if entry_id is not None else None
            columns = [(column.entry_id, self.day, column.name, column.periods)
                       for column in agenda.day_columns(site_id, self.day, shown)]
            first = last = self.day
        rows = reception.appointments_between(first, last, site_id, entry_id)
        self.grid.show_days(columns, rows)
        closed = agenda.closed_reason(site_id, self.day) if first == last else None
        if closed is not None:
            self.grid_note.setText(_("The site is closed that day ({reason}).").format(
                reason=closed) if closed else _("The site is closed that day."))

    def _show_waiting_room(self) -> None:
        now = clock.now()
        self.waiting = reception.waiting_room(self.site_filter.currentData(), self.day)
        fill(self.room, [(row.starts_at.strftime("%H:%M"), row.person, row.service,
                          row.arrived_at.strftime("%H:%M"),
                          duration_words(row.waited_minutes(now)), row_status(row))
                         for row in self.waiting])
        colour_statuses(self.room, self.waiting, 5)
        self.room.resizeColumnsToContents()
        self.room.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        still = [row for row in self.waiting if row.status == "booked"]
        seen = [row.waited_minutes(now) for row in self.waiting if row.seen_at is not None]
        text = counted("{count} person waiting", "{count} people waiting", len(still),
                       _("Nobody waiting"))
        if seen:
            text += " — " + _("average wait of those seen: {duration}").format(
                duration=duration_words(round(sum(seen) / len(seen))))
        self.counts.setText(text)

    def selected(self) -> reception.AppointmentRow | None:
        view = self.views.currentIndex()
        if view == self.AGENDA:
            return self.grid.chosen()[0]
        table, rows = (self.room, self.waiting) if view == self.WAITING else (self.table,
                                                                              self.rows)
        row = table.currentRow()
        return rows[row] if 0 <= row < len(rows) else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        may = session.may("calls.write")
        self.new_button.setEnabled(may)
        self.action_buttons["open"].setEnabled(chosen is not None)
        for action in ("move", "cancel", "attended", "missed", "arrived"):
            self.action_buttons[action].setEnabled(
                may and chosen is not None and chosen.status == "booked")
        self.action_buttons["arrived"].setEnabled(
            self.action_buttons["arrived"].isEnabled() and chosen.arrived_at is None)
        self.action_buttons["card"].setEnabled(chosen is not None and chosen.status == "booked")

    def _grid_activated(self) -> None:
        row, entry_id, moment = self.grid.chosen()
        if row is not None:
            self._open()
        elif entry_id is not None and session.may("calls.write"):
            self._book(entry_id, moment)

    def _book(self, entry_id: int | None = None, moment: dt.datetime | None = None) -> None:
        self.message.setText("")
        site_id = self._grid_site() or self.site_filter.currentData()
        dialog = AppointmentDialog(None, site_id, parent=self,
                                   service_id=entry_id or self.service_filter.currentData(),
                                   starts_at=moment)
        if dialog.exec() and dialog.appointment is not None:
            self.message.say(_("Appointment booked: {when} — {service}").format(
                when=format_date(dialog.appointment.starts_at.date(), "full") + " "
                + dialog.appointment.starts_at.strftime("%H:%M"),
                service=dialog.appointment.service.name))
        appointments_changed()

    def _open(self, _index: QModelIndex | None = None) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        if chosen.patient_id:
            self.openPatient.emit(chosen.patient_id)
        elif chosen.prospect_id:
            self.openProspect.emit(chosen.prospect_id)

    def _act(self, action: str) -> None:
        chosen = self.selected()
        self.message.setText("")
        if chosen is None:
            return
        if action == "open":
            self._open()
            return
        error = act_on_appointment(self, chosen.id, action, chosen.person)
        if error:
            self.message.say(error, error=True)
        appointments_changed()
