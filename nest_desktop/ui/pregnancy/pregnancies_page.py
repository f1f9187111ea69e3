"""Ongoing pregnancies: SA today, due date, the next milestone; by site, SA range, due month."""


from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import pregnancy as rules
from nest_desktop.i18n import _, counted, format_date
from nest_desktop.services import pregnancy as service
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import fit_columns, site_box


class PregnancyTableModel(LazyRowsModel):
    """The ongoing pregnancies' ids; each row fetched by block when the view first shows it."""

    COLUMNS = ("patient", "today", "due", "milestone", "from", "site")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.today = clock.today()

    def headers(self) -> list[str]:
        return [_("Patient"), _("Today"), _("Due date"), _("Next milestone"), _("From"),
                _("Site")]

    def show_pregnancies(self, ids, today) -> None:
        self.today = today
        self.set_ids(ids)

    def fetch(self, ids: list[int]) -> dict[int, service.PregnancyRow]:
        return service.pregnancy_rows(ids, self.today)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
        return (row.person, rules.format_sa(row.weeks, row.days), format_date(row.dpa),
                row.next_milestone, format_date(row.next_date), row.site)[index.column()]


class PregnanciesPage(QWidget):
    openPatient = Signal(int)

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        self.min_weeks = QSpinBox()
        self.min_weeks.setRange(0, rules.MAX_WEEKS)
        self.max_weeks = QSpinBox()
        self.max_weeks.setRange(0, rules.MAX_WEEKS)
        self.max_weeks.setValue(rules.MAX_WEEKS)
        for spin in (self.min_weeks, self.max_weeks):
            spin.setSuffix(" " + _("SA"))
        self.due_this_month = QCheckBox(_("Due this month"))
        self.count_label = QLabel()
        self.model = PregnancyTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        # the columns fit the rows on screen (those fetched), never every pregnancy's
        self.view.verticalHeader().setResizeContentsPrecision(0)
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.activated.connect(self._open)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Site")))
        top.addWidget(self.site_filter)
        top.addWidget(QLabel(_("From")))
        top.addWidget(self.min_weeks)
        top.addWidget(QLabel(_("to")))
        top.addWidget(self.max_weeks)
        top.addWidget(self.due_this_month)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self.min_weeks.valueChanged.connect(self.refresh)
        self.max_weeks.valueChanged.connect(self.refresh)
        self.due_this_month.toggled.connect(self.refresh)
        changes().pregnancies.connect(self.refresh)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        self._generation += 1
        generation = self._generation
        site_id, low, high = (self.site_filter.currentData(), self.min_weeks.value(),
                              self.max_weeks.value())
        today = clock.today()
        month = today if self.due_this_month.isChecked() else None
        run_in_background(lambda: service.ongoing_ids(site_id, low, high, month, today),
                          lambda ids: self._show(generation, ids, today), owner=self.model)

    def _show(self, generation: int, ids, today) -> None:
        if generation != self._generation:
            return
        self.model.show_pregnancies(ids, today)
        fit_columns(self.view, 3)
        self.count_label.setText(counted("{count} ongoing pregnancy",
                                         "{count} ongoing pregnancies", len(ids),
                                         _("No ongoing pregnancy")))

    def _open(self, index) -> None:
        row = self.model.row_of(index.row()) if index.isValid() else None
        if row is not None:
            self.openPatient.emit(row.patient_id)
