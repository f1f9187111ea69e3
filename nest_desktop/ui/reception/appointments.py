"""Appointments (TEL-02, PAT-01): booking, moving, cancelling from a call or a file; the day's
and the week's appointments by service."""

import datetime as dt

from PySide6.QtCore import QModelIndex, Signal
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
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import reception as rules
from nest_desktop.domain.dates import entry_text
from nest_desktop.i18n import _, counted, format_date, format_number, ngettext
from nest_desktop.services import StaleRecordError, ValidationFailed, reception, session
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
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
    """The services and practitioners of the site that take appointments."""
    blocked = box.blockSignals(True)
    box.clear()
    if empty_label is not None:
        box.addItem(empty_label, None)
    for entry in reception.directory(site_id, appointments_only=True):
        label = entry.name if site_id is not None else f"{entry.name} ({entry.site.name})"
        box.addItem(label, entry.id)
    if selected_id is not None:
        box.setCurrentIndex(max(box.findData(selected_id), 0))
    box.blockSignals(blocked)


def status_text(status: str) -> str:
    return _(rules.APPOINTMENT_STATUSES.get(status, status))


class AppointmentDialog(QDialog):
    """Books an appointment for a person, or moves a booked one; the service's other
    appointments of that day are shown beside it, to pick a free time."""

    def __init__(self, person: str, site_id: int | None, patient_id: int | None = None,
                 prospect_id: int | None = None, appointment_id: int | None = None,
                 call_id: int | None = None, parent=None):
        super().__init__(parent)
        self.patient_id, self.prospect_id = patient_id, prospect_id
        self.appointment_id, self.call_id = appointment_id, call_id
        self.appointment = None
        existing = reception.get_appointment(appointment_id) if appointment_id else None
        self.setWindowTitle(_("Move the appointment") if existing else _("Book an appointment"))
        self.site = site_box(existing.site_id if existing else site_id)
        self.service = QComboBox()
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
        self.fields = {name: FieldWithError(widget) for name, widget in (
            ("service", self.service), ("day", self.day), ("time", self.time),
            ("duration", self.duration), ("reason", self.reason))}
        self.person_error = QLabel()
        self.person_error.hide()
        self.day_list = read_only_table([_("Time"), _("Patient"), _("Reason")])
        self.day_list.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.day_list.setMinimumWidth(340)
        self.day_title = QLabel()
        form = QFormLayout()
        who = QLabel(f"<b>{person}</b>")
        form.addRow(_("For"), who)
        form.addRow(_("Site"), self.site)
        form.addRow(_("Service or practitioner"), self.fields["service"])
        form.addRow(_("Day"), self.fields["day"])
        form.addRow(_("Time"), self.fields["time"])
        form.addRow(_("Duration"), self.fields["duration"])
        form.addRow(_("Reason"), self.fields["reason"])
        self.message = MessageLabel()
        side = QVBoxLayout()
        side.addWidget(self.day_title)
        side.addWidget(self.day_list, 1)
        columns = QHBoxLayout()
        columns.addLayout(form, 3)
        columns.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self._save, save=True))
        self.site.currentIndexChanged.connect(self._site_changed)
        self.service.currentIndexChanged.connect(self._show_day)
        self.day.editingFinished.connect(self._show_day)
        if existing:
            fill_service_box(self.service, existing.site_id, existing.service_id)
            self.day.setText(entry_text(existing.starts_at.date()))
            self.time.setText(existing.starts_at.strftime("%H:%M"))
            self.duration.setCurrentIndex(max(self.duration.findData(existing.duration_minutes),
                                              0))
            self.reason.setText(existing.reason)
        else:
            fill_service_box(self.service, self.site.currentData())
            self.duration.setCurrentIndex(self.duration.findData(30))
            tomorrow = clock.today() + dt.timedelta(days=1)
            self.day.setText(entry_text(tomorrow))
        self._show_day()
        fit_on_screen(self, 820, 420, "appointment")

    def _site_changed(self) -> None:
        fill_service_box(self.service, self.site.currentData())
        self._show_day()

    def _show_day(self) -> None:
        from nest_desktop.services.people import typed_date

        day = typed_date(self.day.text())
        service_id = self.service.currentData()
        if day is None or service_id is None:
            self.day_title.setText(_("Choose a service and a day to see its appointments."))
            fill(self.day_list, [])
            return
        rows = [row for row in reception.appointments_between(day, day, None, service_id)
                if row.id != self.appointment_id]
        self.day_title.setText(_("{service} on {day}: {count}").format(
            service=self.service.currentText(), day=format_date(day, "full"),
            count=counted("{count} appointment", "{count} appointments", len(rows),
                          _("no appointment"))))
        fill(self.day_list, [(row.starts_at.strftime("%H:%M") + " – " + (
            row.starts_at + dt.timedelta(minutes=row.duration_minutes)).strftime("%H:%M"),
            row.person, row.reason) for row in rows])

    def form(self) -> reception.AppointmentForm:
        return reception.AppointmentForm(
            self.patient_id, self.prospect_id, self.site.currentData(),
            self.service.currentData(), self.day.text(), self.time.text(),
            self.duration.currentData(), self.reason.text())

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        try:
            if self.appointment_id:
                version = reception.get_appointment(self.appointment_id).version
                self.appointment = reception.move(self.appointment_id, version, self.form())
            else:
                self.appointment = reception.book(self.form(), self.call_id)
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
            other = [m for name, m in failed.errors.items() if name not in self.fields]
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
    """The buttons under a list of appointments: `first`, then move, cancel, attended,
    missed; each calls `act(action)`."""
    row, buttons = QHBoxLayout(), {}
    for action, label in (first, ("move", _("Move…")), ("cancel", _("Cancel…")),
                          ("attended", _("Attended")), ("missed", _("Missed"))):
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
    try:
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
                           status_text(row.status)) for row in rows])
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
        for action in ("move", "cancel", "attended", "missed"):
            self.action_buttons[action].setEnabled(may and status == "booked")

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


class AppointmentsPage(QWidget):
    """The day's or the week's appointments by service (TEL-02): a bounded list, shown
    whole."""

    openPatient = Signal(int)
    openProspect = Signal(int)

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.day = clock.today()
        self.rows: list[reception.AppointmentRow] = []
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
        self.table = read_only_table([_("Day"), _("Time"), _("Service or practitioner"),
                                      _("Patient"), _("Phone"), _("Reason"), _("Status")])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._open)
        self.counts = QLabel()
        self.message = MessageLabel()
        actions, self.action_buttons = action_row(("open", _("Open the file")), self._act)
        layout = QVBoxLayout(self)
        layout.addWidget(section_title(_("Appointments")))
        layout.addLayout(filters)
        layout.addWidget(self.period)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counts)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.site_filter.currentIndexChanged.connect(self._site_changed)
        self.service_filter.currentIndexChanged.connect(self.refresh)
        self.span.idToggled.connect(lambda _id, checked: checked and self.refresh())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        fill_service_box(self.service_filter, site_id, empty_label=_("Every service"))
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
        if self.span.checkedId() == 1:
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
                           row.reason, status_text(row.status)) for row in self.rows])
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
        self._selection_changed()

    def selected(self) -> reception.AppointmentRow | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        may = session.may("calls.write")
        self.action_buttons["open"].setEnabled(chosen is not None)
        for action in ("move", "cancel", "attended", "missed"):
            self.action_buttons[action].setEnabled(
                may and chosen is not None and chosen.status == "booked")

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
