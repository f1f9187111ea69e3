"""The pregnancy calendar (PAT-05, PAT-06): dating from the DDR, the DPA, a conception date or
an early scan; every milestone's window and status on a timeline with today marked; the birth,
the discharge, or a pregnancy that ends otherwise."""

import datetime as dt

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import pregnancy as rules
from nest_desktop.domain.dates import parse_date
from nest_desktop.i18n import _, current_language, format_date
from nest_desktop.services import StaleRecordError, ValidationFailed, documents, session
from nest_desktop.services import pregnancy as service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    choice_box,
    dialog_buttons,
)

STATUS_COLOURS = {"done": "#2e7d32", "missed": "#b00020", "current": "#e08a00",
                  "upcoming": "#5b8bd6", "cancelled": "#9e9e9e", "not_done": "#616161"}


class PregnancyTimeline(QWidget):
    """Each milestone's window as a bar from the DDR to after the term, today and the DPA as
    lines, months marked: the pregnancy calendar at a glance."""

    ROW = 15
    HEADER = 22
    FOOTER = 18  # today's and the due date's names, under their lines
    LABEL = 250

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plan: list[rules.PlannedMilestone] = []
        self.ddr = self.dpa = self.today = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_plan(self, ddr: dt.date, dpa: dt.date, today: dt.date,
                  plan: list[rules.PlannedMilestone]) -> None:
        self.ddr, self.dpa, self.today, self.plan = ddr, dpa, today, plan
        self.setFixedHeight(self.HEADER + self.ROW * len(plan) + self.FOOTER)
        self.update()

    def _x(self, day: dt.date, width: float) -> float:
        span = (self.end - self.ddr).days or 1
        return self.LABEL + (day - self.ddr).days * (width - self.LABEL - 8) / span

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.ddr is None:
            return
        self.end = max([self.dpa + dt.timedelta(weeks=9)]
                       + [m.end for m in self.plan if m.end is not None])
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = self.width()
        small = QFont(self.font())
        small.setPointSizeF(8)
        painter.setFont(small)
        # Months along the top, with light lines down.
        month = self.ddr.replace(day=1)
        while month <= self.end:
            if month >= self.ddr:
                x = self._x(month, width)
                painter.setPen(QPen(QColor("#dddddd")))
                painter.drawLine(int(x), self.HEADER - 4, int(x), self.height())
                painter.setPen(QPen(QColor("#555555")))
                painter.drawText(int(x) + 2, 12, format_date(month, "MMM yy"))
            month = (month + dt.timedelta(days=32)).replace(day=1)
        language = current_language()
        for row, planned in enumerate(self.plan):
            y = self.HEADER + row * self.ROW
            painter.setPen(QPen(QColor("#222222")))
            painter.drawText(QRectF(4, y, self.LABEL - 8, self.ROW),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             painter.fontMetrics().elidedText(
                                 service.milestone_label(planned.milestone, language),
                                 Qt.TextElideMode.ElideRight, self.LABEL - 10))
            if planned.start is None:
                continue
            x1, x2 = self._x(planned.start, width), self._x(planned.end, width)
            colour = QColor(STATUS_COLOURS[planned.status])
            # Told apart without colour too: a window not done is hatched, the current one
            # outlined in black.
            painter.setPen(QPen(QColor("black"), 1.5) if planned.status == "current"
                           else Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour, Qt.BrushStyle.BDiagPattern)
                             if planned.status in ("missed", "not_done") else QBrush(colour))
            painter.drawRoundedRect(QRectF(x1, y + 3, max(x2 - x1, 4), self.ROW - 6), 3, 3)
            if planned.done_on:
                painter.setBrush(QColor("#1b5e20"))
                xd = self._x(planned.done_on, width)
                painter.drawEllipse(QRectF(xd - 4, y + 3, 8, 8))
        bottom = self.HEADER + self.ROW * len(self.plan)
        for day, colour, label in ((self.today, "#b00020", _("today")),
                                   (self.dpa, "#6a1b9a", _("due date"))):
            if self.ddr <= day <= self.end:
                x = self._x(day, width)
                painter.setPen(QPen(QColor(colour), 2))
                painter.drawLine(int(x), self.HEADER - 4, int(x), bottom + 2)
                text_width = painter.fontMetrics().horizontalAdvance(label)
                painter.drawText(int(x - text_width / 2), bottom + 14, label)
        painter.end()


class DoneDialog(QDialog):
    def __init__(self, label: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Milestone done"))
        self.day = DateEdit()
        self.day.setText(clock.today().strftime("%d/%m/%Y"))
        self.field = FieldWithError(self.day)
        form = QFormLayout(self)
        form.addRow(QLabel(label))
        form.addRow(_("Done on"), self.field)
        form.addRow(dialog_buttons(self, self._check))
        self.chosen: dt.date | None = None

    def _check(self) -> None:
        try:
            self.chosen = parse_date(self.day.text())
        except ValueError as error:
            self.field.set_error(str(error))
            return
        self.accept()


class DeliveryDialog(QDialog):
    """The birth: when, where, and each baby (up to three)."""

    def __init__(self, pregnancy_id: int, mother_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Record the birth"))
        self.pregnancy_id = pregnancy_id
        self.delivered_on = DateEdit()
        self.delivered_on.setText(clock.today().strftime("%d/%m/%Y"))
        self.delivered_time = QLineEdit("12:00")
        self.delivered_time.setMaximumWidth(80)
        self.at_nest = QCheckBox(_("At NEST"))
        self.at_nest.setChecked(True)
        self.place = QLineEdit()
        self.place.setPlaceholderText(_("Where, if not at NEST"))
        self.fields = {"delivered_on": FieldWithError(self.delivered_on),
                       "delivered_time": FieldWithError(self.delivered_time),
                       "place": FieldWithError(self.place)}
        # The baby's family name, usually the father's: asked, never the mother's by default;
        # her other children's when she has some.
        self.family_name = QLineEdit(service.children_family_name(mother_id))
        self.family_name.setMaxLength(100)
        self.family_name.setPlaceholderText(_("usually the father's"))
        self.fields["family_name"] = FieldWithError(self.family_name)
        self.babies = QGroupBox(_("Babies"))
        grid = QGridLayout(self.babies)
        for column, title in enumerate((_("Sex"), _("First name"), _("Last name"),
                                        _("Weight (g)"))):
            grid.addWidget(QLabel(title), 0, column)
        self.baby_rows = []
        for row in range(3):
            sex = QComboBox()
            sex.addItem("", "")
            sex.addItem(_("Girl"), "F")
            sex.addItem(_("Boy"), "M")
            first = QLineEdit()
            last = QLineEdit()
            last.setMaxLength(100)
            last.setPlaceholderText(_("as above"))
            weight = QLineEdit()
            weight.setMaximumWidth(90)
            error = QLabel()
            error.setStyleSheet("color: #b00020;")
            for column, widget in enumerate((sex, first, last, weight)):
                grid.addWidget(widget, 1 + 2 * row, column)
            grid.addWidget(error, 2 + 2 * row, 0, 1, 4)
            self.baby_rows.append((sex, first, last, weight, error))
        self.message = MessageLabel()
        form = QFormLayout(self)
        form.addRow(_("Born on"), self.fields["delivered_on"])
        form.addRow(_("At (time)"), self.fields["delivered_time"])
        form.addRow("", self.at_nest)
        form.addRow(_("Place"), self.fields["place"])
        form.addRow(_("Baby's family name"), self.fields["family_name"])
        form.addRow(self.babies)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save, save=True))

    def form(self) -> service.DeliveryForm:
        babies = [service.Baby(sex.currentData(), first.text(),
                               last.text().strip() or self.family_name.text(), weight.text())
                  for sex, first, last, weight, _error in self.baby_rows
                  if sex.currentData() or first.text().strip()]
        return service.DeliveryForm(self.delivered_on.text(), self.delivered_time.text(),
                                    self.place.text(), self.at_nest.isChecked(), babies)

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        for *_inputs, error in self.baby_rows:
            error.setText("")
        try:
            service.record_delivery(self.pregnancy_id, self.form())
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
                elif name.endswith("_last_name") and not self.family_name.text().strip():
                    self.fields["family_name"].set_error(message)
                elif name.startswith("baby_"):
                    label = self.baby_rows[int(name.split("_")[1])][4]
                    label.setText((label.text() + " " + message).strip())
            self.message.say(failed.errors.get("babies", _("Check the fields marked.")),
                             error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class DischargeDialog(QDialog):
    def __init__(self, pregnancy_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Discharge"))
        self.pregnancy_id = pregnancy_id
        self.day = DateEdit()
        self.day.setText(clock.today().strftime("%d/%m/%Y"))
        self.time = QLineEdit(clock.now().strftime("%H:%M"))
        self.time.setMaximumWidth(80)
        self.field = FieldWithError(self.day)
        self.message = MessageLabel()
        note = QLabel(_("The discharge survey is proposed at once; after a birth at NEST, the "
                        "call ten days later goes into Today."))
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(note)
        form.addRow(_("Discharged on"), self.field)
        form.addRow(_("At (time)"), self.time)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save, save=True))

    def _save(self) -> None:
        self.field.set_error(None)
        try:
            day = parse_date(self.day.text())
            hours, minutes = (int(p) for p in self.time.text().split(":"))
            moment = dt.datetime.combine(day, dt.time(hours, minutes))
        except ValueError as error:
            self.field.set_error(str(error) if str(error) else _("Type the time as 14:30."))
            return
        try:
            service.record_discharge(self.pregnancy_id, moment)
        except ValidationFailed as failed:
            self.field.set_error(" ".join(failed.errors.values()))
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class EndDialog(QDialog):
    def __init__(self, pregnancy_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("End of the pregnancy"))
        self.pregnancy_id = pregnancy_id
        self.reason = choice_box(service.END_REASONS, empty_label="")
        self.reason_field = FieldWithError(self.reason)
        self.day = DateEdit()
        self.day.setText(clock.today().strftime("%d/%m/%Y"))
        self.day_field = FieldWithError(self.day)
        self.message = MessageLabel()
        note = QLabel(_("The pathway closes: every call and message still planned for this "
                        "pregnancy is cancelled."))
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(note)
        form.addRow(_("Reason"), self.reason_field)
        form.addRow(_("On"), self.day_field)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._save))

    def _save(self) -> None:
        self.reason_field.set_error(None)
        self.day_field.set_error(None)
        try:
            day = parse_date(self.day.text())
        except ValueError as error:
            self.day_field.set_error(str(error))
            return
        try:
            service.end_pregnancy(self.pregnancy_id, self.reason.currentData() or "", day)
        except ValidationFailed as failed:
            self.reason_field.set_error(failed.errors.get("reason"))
            self.day_field.set_error(failed.errors.get("ended_on"))
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class PregnancyTab(QWidget):
    changed = Signal()  # tasks or the baby's file may have changed

    def __init__(self, context: DeskContext, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()  # a function making (name, PDF)
        self.context = context
        self.patient_id: int | None = None
        self.pregnancy = None
        self._syncing = False
        self.ddr = DateEdit()
        self.dpa = DateEdit()
        self.conception = DateEdit()
        self.scan_date = DateEdit()
        self.scan_weeks = QSpinBox()
        self.scan_weeks.setRange(0, 24)
        self.scan_weeks.setSpecialValueText(" ")
        self.scan_weeks.setSuffix(" " + _("SA"))
        self.scan_days = QSpinBox()
        self.scan_days.setRange(0, 6)
        self.scan_days.setSuffix(" " + _("d"))
        self.planned_place = QLineEdit()
        self.planned_place.setMaxLength(100)
        self.fields = {name: FieldWithError(editor) for name, editor in (
            ("ddr", self.ddr), ("dpa", self.dpa), ("conception", self.conception),
            ("scan_date", self.scan_date), ("scan_weeks", self.scan_weeks),
            ("planned_place", self.planned_place))}
        self.save_button = QPushButton(_("Save the pregnancy"))
        self.save_button.clicked.connect(self.save)
        self.new_button = QPushButton(_("New pregnancy"))
        self.new_button.clicked.connect(self._new)
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.summary.setWordWrap(True)
        self.method = QLabel()
        self.method.setWordWrap(True)
        self.message = MessageLabel()
        self.timeline = PregnancyTimeline()
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([_("Milestone"), _("Period"), _("Status"),
                                              _("Done on")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.done_button = QPushButton(_("Done…"))
        self.done_button.clicked.connect(self._mark_done)
        self.aside_button = QPushButton(_("Set aside"))
        self.aside_button.clicked.connect(lambda: self._mark("cancelled"))
        self.reset_button = QPushButton(_("Back to its dates"))
        self.reset_button.clicked.connect(lambda: self._mark(None))
        self.print_button = QPushButton(_("Print the calendar…"))
        self.print_button.clicked.connect(self._print)
        self.pack_button = QPushButton(_("36-week pack…"))
        self.pack_button.clicked.connect(self._print_pack)
        self.going_home_button = QPushButton(_("Going-home handout…"))
        self.going_home_button.clicked.connect(self._print_going_home)
        self.birth_button = QPushButton(_("Birth…"))
        self.birth_button.clicked.connect(self._birth)
        self.discharge_button = QPushButton(_("Discharge…"))
        self.discharge_button.clicked.connect(self._discharge)
        self.end_button = QPushButton(_("Ended otherwise…"))
        self.end_button.clicked.connect(self._end)

        dating = QGroupBox(_("Dating"))
        grid = QGridLayout(dating)
        grid.addWidget(QLabel(_("Last menstrual period (DDR)")), 0, 0)
        grid.addWidget(self.fields["ddr"], 0, 1)
        grid.addWidget(QLabel(_("or due date (DPA)")), 0, 2)
        grid.addWidget(self.fields["dpa"], 0, 3)
        grid.addWidget(QLabel(_("or date of conception")), 0, 4)
        grid.addWidget(self.fields["conception"], 0, 5)
        grid.addWidget(QLabel(_("Early scan on")), 1, 0)
        grid.addWidget(self.fields["scan_date"], 1, 1)
        grid.addWidget(QLabel(_("measuring")), 1, 2)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.fields["scan_weeks"])
        scan_row.addWidget(self.scan_days)
        grid.addLayout(scan_row, 1, 3)
        grid.addWidget(QLabel(_("Planned place of birth")), 2, 0)
        grid.addWidget(self.fields["planned_place"], 2, 1, 1, 3)
        grid.addWidget(self.save_button, 2, 5)
        grid.addWidget(self.new_button, 2, 4)

        # Two rows, so that the tab fits the patient window on a 1366×768 screen: what is
        # done to a milestone and to the pregnancy, then the documents to print.
        marks = QVBoxLayout()
        events = QHBoxLayout()
        events.addWidget(self.done_button)
        events.addWidget(self.aside_button)
        events.addWidget(self.reset_button)
        events.addStretch(1)
        events.addWidget(self.birth_button)
        events.addWidget(self.discharge_button)
        events.addWidget(self.end_button)
        documents_row = QHBoxLayout()
        documents_row.addStretch(1)
        documents_row.addWidget(self.print_button)
        documents_row.addWidget(self.pack_button)
        documents_row.addWidget(self.going_home_button)
        marks.addLayout(events)
        marks.addLayout(documents_row)
        layout = QVBoxLayout(self)
        layout.addWidget(dating)
        layout.addWidget(self.summary)
        layout.addWidget(self.method)
        layout.addWidget(self.message)
        # The timeline and the milestones share the height, the secretary moves the line
        # between them; on a 1366×768 screen each keeps room (the timeline scrolls).
        timeline = QScrollArea()
        timeline.setWidget(self.timeline)
        timeline.setWidgetResizable(True)
        timeline.setFrameShape(QFrame.Shape.NoFrame)
        timeline.setMinimumHeight(120)
        self.table.setMinimumHeight(150)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(timeline)
        self.splitter.addWidget(self.table)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(marks)

        self.ddr.textEdited.connect(lambda: self._sync_from("ddr"))
        self.dpa.textEdited.connect(lambda: self._sync_from("dpa"))
        self.conception.textEdited.connect(lambda: self._sync_from("conception"))

    # --- showing ------------------------------------------------------------------------

    def load(self, patient_id: int) -> None:
        self.patient_id = patient_id
        self.pregnancy = service.latest_of(patient_id)
        self.message.setText("")
        for field in self.fields.values():
            field.set_error(None)
        self._show()

    def _show(self) -> None:
        pregnancy = self.pregnancy
        for edit in (self.ddr, self.dpa, self.conception, self.scan_date, self.planned_place):
            edit.clear()
        self.scan_weeks.setValue(0)
        self.scan_days.setValue(0)
        today = clock.today()
        if pregnancy is None:
            self.summary.setText(_("No pregnancy recorded: type the DDR or the due date."))
            self.method.setText("")
            self.table.setRowCount(0)
            self.timeline.hide()
        else:
            dpa = service.due_date(pregnancy)
            self.ddr.setText(format_date(pregnancy.stated_ddr or pregnancy.ddr))
            self.dpa.setText(format_date(dpa))
            if pregnancy.scan_date:
                self.scan_date.setText(format_date(pregnancy.scan_date))
                self.scan_weeks.setValue(pregnancy.scan_weeks or 0)
                self.scan_days.setValue(pregnancy.scan_days or 0)
            self.planned_place.setText(pregnancy.planned_place)
            self.summary.setText(self._summary(pregnancy, dpa, today))
            method = _(rules.DATING_METHODS.get(pregnancy.dating_method, ""))
            text = _("Dated by: {method}").format(method=method)
            if pregnancy.dating_method == "ultrasound" and pregnancy.stated_ddr:
                text += " — " + _("DDR given {date}, corrected by the scan").format(
                    date=format_date(pregnancy.stated_ddr))
            text += " — " + _(rules.CONVENTIONS[service.convention()])
            self.method.setText(text)
            plan = service.plan_of(pregnancy, today)
            self.timeline.show()
            self.timeline.show_plan(pregnancy.ddr, dpa, today, plan)
            self._fill(plan)
        self._enable()

    def _summary(self, pregnancy, dpa: dt.date, today: dt.date) -> str:
        if pregnancy.status == "ended":
            return _("Pregnancy ended on {date} ({reason}).").format(
                date=format_date(pregnancy.ended_on, "long"),
                reason=_(service.END_REASONS.get(pregnancy.end_reason, "")).lower())
        if pregnancy.status == "delivered":
            return _("Birth recorded. Due date was {date}.").format(
                date=format_date(dpa, "full"))
        weeks, days = rules.gestational_age(pregnancy.ddr, today)
        return _("{age} today — due date {date} ({convention})").format(
            age=rules.format_sa(weeks, days), date=format_date(dpa, "full"),
            convention=service.convention_text())

    def _fill(self, plan: list[rules.PlannedMilestone]) -> None:
        language = current_language()
        self.table.setRowCount(len(plan))
        for row, planned in enumerate(plan):
            values = (service.milestone_label(planned.milestone, language),
                      service.milestone_period(planned),
                      _(rules.MILESTONE_STATUSES[planned.status]),
                      format_date(planned.done_on))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, planned.milestone.id)
                if column == 2:
                    item.setForeground(QBrush(QColor(STATUS_COLOURS[planned.status])))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def _enable(self) -> None:
        writable = session.may("patient.write")
        status = self.pregnancy.status if self.pregnancy else None
        editable = writable and status in (None, "ongoing")
        for widget in (self.ddr, self.dpa, self.conception, self.scan_date, self.scan_weeks,
                       self.scan_days, self.planned_place):
            widget.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.new_button.setVisible(writable and status in ("delivered", "ended"))
        has = self.pregnancy is not None
        for button in (self.done_button, self.aside_button, self.reset_button):
            button.setEnabled(writable and has)
        self.print_button.setEnabled(has)
        self.pack_button.setEnabled(status == "ongoing")
        self.going_home_button.setEnabled(status == "delivered")
        self.birth_button.setEnabled(writable and status == "ongoing")
        self.discharge_button.setEnabled(writable and status == "delivered")
        self.end_button.setEnabled(writable and status == "ongoing")

    def refresh_permissions(self) -> None:
        self._enable()

    # --- typing -------------------------------------------------------------------------

    def _sync_from(self, source: str) -> None:
        """Typing the DDR shows the DPA at once, and the other way round."""
        if self._syncing:
            return
        self._syncing = True
        try:
            try:
                typed = parse_date(getattr(self, source).text())
            except ValueError:
                return
            chosen = service.convention()
            if source == "ddr":
                ddr = typed
                self.dpa.setText(format_date(rules.due_date_from_ddr(ddr, chosen)))
                self.conception.clear()
            elif source == "dpa":
                ddr = rules.ddr_from_due_date(typed, chosen)
                self.ddr.clear()
                self.conception.clear()
            else:
                ddr = rules.ddr_from_conception(typed)
                self.ddr.clear()
                self.dpa.setText(format_date(rules.due_date_from_ddr(ddr, chosen)))
            weeks, days = rules.gestational_age(ddr, clock.today())
            if 0 <= weeks <= rules.MAX_WEEKS:
                self.summary.setText(_("{age} today").format(age=rules.format_sa(weeks, days)))
        finally:
            self._syncing = False

    def form(self) -> service.PregnancyForm:
        scanned = bool(self.scan_date.text().strip()) or self.scan_weeks.value() > 0
        return service.PregnancyForm(
            ddr=self.ddr.text(),
            dpa="" if self.ddr.text().strip() else self.dpa.text(),
            conception="" if (self.ddr.text().strip() or self.dpa.text().strip())
            else self.conception.text(),
            scan_date=self.scan_date.text(),
            scan_weeks=str(self.scan_weeks.value()) if scanned else "",
            scan_days=str(self.scan_days.value()) if scanned else "",
            planned_place=self.planned_place.text())

    def save(self) -> bool:
        for field in self.fields.values():
            field.set_error(None)
        try:
            self.pregnancy, notes = service.save_pregnancy(
                self.patient_id, self.form(),
                self.pregnancy.version if self.pregnancy and
                self.pregnancy.status == "ongoing" else None)
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                self.fields.get(name, self.fields["ddr"]).set_error(message)
            self.message.say(_("Check the fields marked."), error=True)
            return False
        except (StaleRecordError, session.PermissionDenied) as refused:
            self.message.say(str(refused), error=True)
            return False
        self._show()
        self.message.say(" ".join(notes) if notes else _("Pregnancy saved."), error=bool(notes))
        self.changed.emit()
        return True

    def _new(self) -> None:
        self.pregnancy = None
        self._show()
        self.ddr.setFocus()

    # --- milestones and events ----------------------------------------------------------

    def _selected(self) -> str | None:
        item = self.table.item(self.table.currentRow(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _mark_done(self) -> None:
        milestone = self._selected()
        if milestone is None:
            self.message.say(_("Choose a milestone in the list."), error=True)
            return
        label = self.table.item(self.table.currentRow(), 0).text()
        dialog = DoneDialog(label, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._apply(milestone, "done", dialog.chosen)

    def _mark(self, status: str | None) -> None:
        milestone = self._selected()
        if milestone is None:
            self.message.say(_("Choose a milestone in the list."), error=True)
            return
        self._apply(milestone, status, None)

    def _apply(self, milestone: str, status: str | None, day: dt.date | None) -> None:
        try:
            service.set_milestone(self.pregnancy.id, milestone, status, day)
        except ValidationFailed as failed:
            self.message.say(" ".join(failed.errors.values()), error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        row = self.table.currentRow()
        self._show()
        self.table.selectRow(row)

    def _print(self) -> None:
        pregnancy_id = self.pregnancy.id
        self.documentRequested.emit(lambda: documents.pregnancy_calendar_pdf(pregnancy_id))

    def _print_pack(self) -> None:
        pregnancy_id = self.pregnancy.id
        self.documentRequested.emit(lambda: documents.pack_36_weeks_pdf(pregnancy_id))

    def _print_going_home(self) -> None:
        pregnancy_id = self.pregnancy.id
        self.documentRequested.emit(lambda: documents.going_home_pdf(pregnancy_id))

    def _birth(self) -> None:
        patient = self.pregnancy.patient
        if DeliveryDialog(self.pregnancy.id, patient.id, self).exec() == \
                QDialog.DialogCode.Accepted:
            self.load(self.patient_id)
            self.message.say(_("Birth recorded: each baby has a file in paediatrics, linked "
                               "to the mother."))
            self.changed.emit()

    def _discharge(self) -> None:
        if DischargeDialog(self.pregnancy.id, self).exec() == QDialog.DialogCode.Accepted:
            self.load(self.patient_id)
            self.message.say(_("Discharge recorded: the survey and the call are in Today."))
            self.changed.emit()

    def _end(self) -> None:
        if EndDialog(self.pregnancy.id, self).exec() == QDialog.DialogCode.Accepted:
            self.load(self.patient_id)
            self.changed.emit()
