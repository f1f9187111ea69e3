"""The vaccines of a child's file (PAT-11): her schedule, each dose with its status, doses
recorded, the parents reminders go to, and the printed calendar."""


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
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain import patients as patient_rules
from nest_desktop.domain import vaccination as rules
from nest_desktop.i18n import N_, _, current_language, format_date, format_schedule_age
from nest_desktop.services import ValidationFailed, documents, session
from nest_desktop.services import vaccination as service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    DateEdit,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    choice_box,
    dialog_buttons,
)

STATUS_LABELS = {
    rules.GIVEN: N_("Given"),
    rules.DUE: N_("Due"),
    rules.OVERDUE: N_("Overdue"),
    rules.UPCOMING: N_("Upcoming"),
    rules.EXPIRED: N_("No longer given"),
}
# Colour helps at a glance; the status is always written too.
STATUS_COLOURS = {
    rules.GIVEN: "#e8f5e9",
    rules.DUE: "#fff8e1",
    rules.OVERDUE: "#ffebee",
    rules.EXPIRED: "#eeeeee",
}


class VaccinationTab(QWidget):
    changed = Signal()  # a dose or the plan changed: lists of doses due are out of date

    def __init__(self, context: DeskContext, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()  # a function making (name, PDF)
        self._loading = False
        self.context = context
        self.patient_id: int | None = None
        self.calendar: service.ChildCalendar | None = None
        data = rules.schedules()
        language = current_language()
        self.schedule = QComboBox()
        for code, (label, _versions) in data.schedules.items():
            self.schedule.addItem(label.get(language, code), code)
        self.optional_checks: dict[str, QCheckBox] = {}
        optional_row = QHBoxLayout()
        for code in data.optional_vaccines():
            check = QCheckBox(rules.vaccine_label(code, language))
            self.optional_checks[code] = check
            optional_row.addWidget(check)
            check.toggled.connect(self._plan_changed)
        optional_row.addStretch(1)
        self.schedule.currentIndexChanged.connect(self._plan_changed)
        self.version_label = QLabel()
        self.version_label.setWordWrap(True)
        self.parents = QLabel()
        self.parents.setWordWrap(True)
        self.next_visit = QLabel()
        self.next_visit.setWordWrap(True)  # many doses at one visit: the line wraps
        self.next_visit.setStyleSheet("font-weight: bold;")
        self.table = QTableWidget(0, 9)
        self.table.setHorizontalHeaderLabels([
            _("Vaccine"), _("Dose"), _("Age"), _("Due on"), _("Status"), _("Given on"),
            _("Product"), _("Lot"), _("Place")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(lambda _index: self.record_dose())
        self.message = MessageLabel()
        record = QPushButton(_("Record a dose…"))
        record.clicked.connect(self.record_dose)
        remove = QPushButton(_("Remove the recorded dose"))
        remove.clicked.connect(self.remove_dose)
        self.writers = [record, remove, self.schedule]
        self.page_size = QComboBox()
        self.page_size.addItems(["A4", "A5"])
        print_button = QPushButton(_("Print the calendar…"))
        print_button.clicked.connect(self.print_calendar)

        plan = QFormLayout()
        plan.addRow(_("Schedule"), self.schedule)
        plan.addRow(_("Optional vaccines"), optional_row)
        plan.addRow("", self.version_label)
        plan.addRow(_("Reminders go to"), self.parents)
        buttons = QHBoxLayout()
        buttons.addWidget(record)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        buttons.addWidget(self.page_size)
        buttons.addWidget(print_button)
        layout = QVBoxLayout(self)
        layout.addLayout(plan)
        layout.addWidget(self.next_visit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    def refresh_permissions(self) -> None:
        writable = session.may("vaccination.write")
        for widget in self.writers + list(self.optional_checks.values()):
            widget.setEnabled(writable)

    def load(self, patient_id: int) -> None:
        self.patient_id = patient_id
        try:
            self.calendar = service.child_calendar(patient_id)
        except ValidationFailed as failed:
            self.calendar = None
            self.table.setRowCount(0)
            self.message.say(" ".join(failed.errors.values()), error=True)
            return
        self._loading = True
        try:
            self.schedule.setCurrentIndex(max(self.schedule.findData(self.calendar.schedule), 0))
            for code, check in self.optional_checks.items():
                check.setChecked(code in self.calendar.optional)
        finally:
            self._loading = False
        self._show()

    def _show(self) -> None:
        calendar = self.calendar
        language = current_language()
        self.version_label.setText(calendar.version.label.get(language, calendar.version.id))
        # An optional vaccine already in the child's schedule is not offered twice.
        in_schedule = {rule.vaccine for rule in calendar.version.doses}
        for code, check in self.optional_checks.items():
            check.setVisible(code not in in_schedule)
        self.parents.setText(self._parents_text(calendar.parents))
        self.next_visit.setText(documents.next_visit_line(calendar.doses, clock.today())
                                or _("Every dose is recorded."))
        self.table.setRowCount(len(calendar.doses))
        for row, dose in enumerate(calendar.doses):
            record = calendar.records.get((dose.vaccine, dose.dose))
            values = (
                rules.vaccine_label(dose.vaccine, language),
                documents.dose_label(dose.dose),
                format_schedule_age(dose.age.days, dose.age.weeks, dose.age.months,
                                    dose.age.years),
                format_date(dose.due),
                _(STATUS_LABELS[dose.status]),
                format_date(dose.given),
                record.product if record else "",
                record.lot if record else "",
                _(service.PLACES[record.place]) if record else "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, (dose.vaccine, dose.dose))
                if dose.status in STATUS_COLOURS:
                    item.setBackground(QBrush(QColor(STATUS_COLOURS[dose.status])))
                if dose.status == rules.OVERDUE:  # seen without colour too (a grey screen)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    @staticmethod
    def _parents_text(parents: list[service.ParentContact]) -> str:
        if not parents:
            return _("No parent linked: link the mother or the father in the Family tab.")
        lines = []
        for parent in parents:
            numbers = ", ".join(phones.display(n) for n in parent.phones) or _("no phone")
            consent = (_("agrees to SMS") if parent.sms_consent
                       else _("no consent to SMS"))
            relation = _(patient_rules.FAMILY_RELATIONS[parent.relation])
            lines.append(f"{parent.full_name} ({relation.lower()}) — {numbers} — {consent}")
        return "\n".join(lines)

    def _plan_changed(self) -> None:
        if self._loading or self.patient_id is None:
            return
        optional = tuple(code for code, check in self.optional_checks.items()
                         if check.isChecked())
        try:
            service.set_plan(self.patient_id, self.schedule.currentData(), optional)
        except ValidationFailed as failed:
            self.message.say(" ".join(failed.errors.values()), error=True)
            return
        self.load(self.patient_id)
        self.message.say(_("Schedule saved."))
        self.changed.emit()

    def selected_dose(self) -> tuple[str, int] | None:
        selected = self.table.selectionModel().selectedRows()
        item = self.table.item(selected[0].row(), 0) if selected else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def record_dose(self) -> None:
        if self.calendar is None:
            return
        pending = [d for d in self.calendar.doses if d.status != rules.GIVEN]
        if not pending:
            self.message.say(_("Every dose is recorded."))
            return
        dialog = DoseDialog(self.patient_id, pending, self.selected_dose(), self.context, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load(self.patient_id)
            self.message.say(_("Doses recorded: the following dates are updated."))
            self.changed.emit()

    def remove_dose(self) -> None:
        key = self.selected_dose()
        record = self.calendar.records.get(key) if (self.calendar and key) else None
        if record is None:
            self.message.say(_("Choose a dose given in the list."), error=True)
            return
        if QMessageBox.question(self, _("Remove the recorded dose"),
                                _("Remove this dose from the child's record?")
                                ) == QMessageBox.StandardButton.Yes:
            service.remove_dose(record.id)
            self.load(self.patient_id)
            self.changed.emit()

    def print_calendar(self) -> None:
        if self.patient_id is None or self.calendar is None:
            return
        patient_id, page = self.patient_id, self.page_size.currentText()
        self.documentRequested.emit(
            lambda: documents.vaccination_calendar_pdf(patient_id, page))


class DoseDialog(QDialog):
    """Records the doses given at one visit, at NEST or elsewhere: the doses of that day are
    ticked already (the 6-week visit is four vaccines), each with its product and lot."""

    def __init__(self, patient_id: int, pending: list[rules.Dose],
                 selected: tuple[str, int] | None, context: DeskContext, parent=None):
        super().__init__(parent)
        self.patient_id = patient_id
        self.context = context
        self.pending = pending
        self.setWindowTitle(_("Record the doses of a visit"))
        # the chosen dose's day, else the next visit's
        day = next((d.due for d in pending if (d.vaccine, d.dose) == selected), None)
        if day is None:
            visit = rules.next_visit_doses(pending)
            day = visit[0].due if visit else None
        self.doses = QTableWidget(len(pending), 3)
        self.doses.setHorizontalHeaderLabels([_("Dose"), _("Product"), _("Lot")])
        self.doses.verticalHeader().hide()
        self.doses.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.doses.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.products: list[QLineEdit] = []
        self.lots: list[QLineEdit] = []
        for row, dose in enumerate(pending):
            item = QTableWidgetItem(_("{dose} (due on {date})").format(
                dose=documents.dose_text(dose), date=format_date(dose.due)))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if dose.due == day
                               else Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, (dose.vaccine, dose.dose))
            self.doses.setItem(row, 0, item)
            product, lot = QLineEdit(), QLineEdit()
            product.setMaxLength(100)
            lot.setMaxLength(50)
            self.doses.setCellWidget(row, 1, product)
            self.doses.setCellWidget(row, 2, lot)
            self.products.append(product)
            self.lots.append(lot)
        self.doses.setColumnWidth(1, 150)
        self.doses.setColumnWidth(2, 120)
        self.doses_error = QLabel()
        self.doses_error.setStyleSheet(ERROR_STYLE)
        self.doses_error.setWordWrap(True)
        self.doses_error.hide()
        self.given_on = DateEdit()
        self.given_on.setText(clock.today().strftime("%d/%m/%Y"))
        self.place = choice_box(service.PLACES)
        self.fields = {"given_on": FieldWithError(self.given_on),
                       "place": FieldWithError(self.place)}
        form = QFormLayout(self)
        form.addRow(QLabel(_("Tick the doses given at this visit.")))
        form.addRow(self.doses)
        form.addRow(self.doses_error)
        form.addRow(_("Given on"), self.fields["given_on"])
        form.addRow(_("Place"), self.fields["place"])
        form.addRow(dialog_buttons(self, self._save, save=True))
        fit_on_screen(self, 680, 520, "doses")

    def checked_rows(self) -> list[int]:
        return [row for row in range(self.doses.rowCount())
                if self.doses.item(row, 0).checkState() == Qt.CheckState.Checked]

    def check(self, vaccine: str, dose: int, checked: bool = True) -> None:
        for row in range(self.doses.rowCount()):
            if self.doses.item(row, 0).data(Qt.ItemDataRole.UserRole) == (vaccine, dose):
                self.doses.item(row, 0).setCheckState(
                    Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _save(self) -> None:
        rows = self.checked_rows()
        given = [service.GivenDose(*self.doses.item(row, 0).data(Qt.ItemDataRole.UserRole),
                                   self.products[row].text(), self.lots[row].text())
                 for row in rows]
        for field in self.fields.values():
            field.set_error(None)
        for editor in self.lots:
            editor.setStyleSheet("")
        self.doses_error.hide()
        try:
            service.record_visit(
                self.patient_id, given, self.given_on.text(), self.place.currentData(),
                self.context.site.id if self.context.site else None, self.context.user.id)
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            problems = []
            for name, message in failed.errors.items():
                index, _sep, what = name.partition(":")
                if name == "doses":
                    problems.append(message)
                elif what:
                    row = rows[int(index)]
                    problems.append(f"{self.doses.item(row, 0).text()}\u00a0: {message}")
                    if what == "lot":
                        self.lots[row].setStyleSheet("border: 1px solid #b00020;")
            self.doses_error.setText("\n".join(problems))
            self.doses_error.setVisible(bool(problems))
            return
        self.accept()
