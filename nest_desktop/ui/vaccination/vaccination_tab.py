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
from nest_desktop.ui.common.widgets import (
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
            self.message.say(_("Dose recorded: the following dates are updated."))
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
    """Records a dose given, at NEST or elsewhere."""

    def __init__(self, patient_id: int, pending: list[rules.Dose],
                 selected: tuple[str, int] | None, context: DeskContext, parent=None):
        super().__init__(parent)
        self.patient_id = patient_id
        self.context = context
        self.setWindowTitle(_("Record a dose"))
        self.dose = QComboBox()
        for dose in pending:
            self.dose.addItem(_("{dose} (due on {date})").format(
                dose=documents.dose_text(dose), date=format_date(dose.due)),
                (dose.vaccine, dose.dose))
        if selected:
            # findData() does not compare Python tuples: look for the dose by hand.
            for index in range(self.dose.count()):
                if self.dose.itemData(index) == selected:
                    self.dose.setCurrentIndex(index)
        self.given_on = DateEdit()
        self.given_on.setText(clock.today().strftime("%d/%m/%Y"))
        self.product = QLineEdit()
        self.product.setMaxLength(100)
        self.lot = QLineEdit()
        self.lot.setMaxLength(50)
        self.place = choice_box(service.PLACES)
        self.fields = {"dose": FieldWithError(self.dose),
                       "given_on": FieldWithError(self.given_on),
                       "lot": FieldWithError(self.lot), "place": FieldWithError(self.place)}
        form = QFormLayout(self)
        form.addRow(_("Dose"), self.fields["dose"])
        form.addRow(_("Given on"), self.fields["given_on"])
        form.addRow(_("Product"), self.product)
        form.addRow(_("Lot"), self.fields["lot"])
        form.addRow(_("Place"), self.fields["place"])
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 0)

    def _save(self) -> None:
        vaccine, dose = self.dose.currentData()
        try:
            service.record_dose(
                self.patient_id, vaccine, dose, self.given_on.text(), self.product.text(),
                self.lot.text(), self.place.currentData(),
                self.context.site.id if self.context.site else None, self.context.user.id)
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            return
        self.accept()
