"""Quality (the quality pilot, co-pilot and administrator): the indicators with their trend,
the management review and the register of complaints and non-conformities."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.i18n import _, counted, format_date
from nest_desktop.services import indicators, management_review, quality
from nest_desktop.services.exports import safe_file_name
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    DateEdit,
    ask_save_path,
    choice_box,
    fit_columns,
    read_period,
    site_box,
)
from nest_desktop.ui.quality.case_dialog import CaseDialog
from nest_desktop.ui.quality.indicators_tab import IndicatorsTab


class CaseTableModel(LazyRowsModel):
    COLUMNS = ("number", "date", "kind", "category", "severity", "person", "description",
               "status", "deadline", "assigned", "site")

    def headers(self) -> list[str]:
        return [_("No."), _("Date"), _("Type"), _("Category"), _("Severity"), _("Person"),
                _("What happened"), _("Status"), _("Next deadline"), _("Assigned to"),
                _("Site")]

    def fetch(self, ids: list[int]) -> dict[int, quality.CaseRow]:
        return quality.rows_for(ids)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            late = row.next_deadline is not None and row.next_deadline < clock.today()
            if (index.column() == 8 and late) or (index.column() == 4
                                                  and row.severity == "critical"):
                return QBrush(QColor("#b00020"))
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 6:
            return row.description
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        description = " ".join(row.description.split())
        return (str(row.id), format_date(row.occurred_on), _(rules.KINDS[row.kind]),
                _(rules.CATEGORIES.get(row.category, row.category)),
                _(rules.SEVERITIES.get(row.severity, row.severity)), row.person,
                description if len(description) <= 90 else description[:89] + "…",
                _(rules.STATUSES[row.status]),
                format_date(row.next_deadline) if row.next_deadline else "",
                row.assigned_to, row.site)[index.column()]


class RegisterTab(QWidget):
    """The register, filtered; a case opens in its window."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.status = QComboBox()
        self.status.addItem(_("Open"), "open")
        self.status.addItem(_("All"), "all")
        for code, label in rules.STATUSES.items():
            self.status.addItem(_(label), code)
        self.kind = choice_box(rules.KINDS, empty_label=_("Complaints and non-conformities"))
        self.site = site_box(empty_label=_("All sites"))
        self.date_from, self.date_to = DateEdit(), DateEdit()
        self.period_error = QLabel()
        self.period_error.setStyleSheet("color: #b00020;")
        self.period_error.hide()
        new = QPushButton(_("Record…"))
        new.clicked.connect(self.new_case)
        self.count = QLabel()
        self.model = CaseTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setResizeContentsPrecision(0)
        self.view.activated.connect(self._open)
        top = QHBoxLayout()
        for label, widget in ((_("Status"), self.status), (_("Type"), self.kind),
                              (_("Site"), self.site), (_("From"), self.date_from),
                              (_("to"), self.date_to)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(new)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.period_error)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        for box in (self.status, self.kind, self.site):
            box.currentIndexChanged.connect(self.refresh)
        for edit in (self.date_from, self.date_to):
            edit.editingFinished.connect(self.refresh)
        changes().quality.connect(self.refresh)

    def current_filter(self) -> quality.CaseFilter | None:
        period = read_period(self.date_from, self.date_to, self.period_error)
        if period is None:
            return None
        return quality.CaseFilter(self.status.currentData(), self.site.currentData(),
                                  self.kind.currentData() or None, *period)

    def refresh(self) -> None:
        case_filter = self.current_filter()
        if case_filter is None:
            return
        self._generation += 1
        generation = self._generation
        run_in_background(lambda: quality.case_ids(case_filter),
                          lambda ids: self._show(generation, ids), owner=self.model)

    def _show(self, generation: int, ids: list[int]) -> None:
        if generation != self._generation:
            return
        self.model.set_ids(ids)
        fit_columns(self.view, 6)
        self.count.setText(counted("{count} case", "{count} cases", len(ids), _("No case")))

    def new_case(self) -> None:
        CaseDialog(parent=self).exec()

    def _open(self, index) -> None:
        case_id = self.model.id_at(index.row()) if index.isValid() else None
        if case_id is not None:
            CaseDialog(case_id, parent=self).exec()


class QualityPage(QWidget):
    """The indicators and the register; the review printed, the figures exported."""

    openPatient = Signal(int)
    openProspect = Signal(int)
    documentRequested = Signal(object)  # () -> (file name, PDF bytes), made off the GUI thread

    def __init__(self, workstation_site_id: int | None = None, parent=None):
        super().__init__(parent)
        self.tabs = QTabWidget()
        self.indicators = IndicatorsTab(workstation_site_id)
        self.register = RegisterTab()
        self.tabs.addTab(self.indicators, _("Indicators"))
        self.tabs.addTab(self.register, _("Complaints and non-conformities"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.indicators.openPatient.connect(self.openPatient)
        self.indicators.openProspect.connect(self.openProspect)
        self.indicators.openCase.connect(lambda case_id: CaseDialog(case_id, parent=self).exec())
        self.indicators.reviewRequested.connect(self.print_review)
        self.indicators.exportRequested.connect(self.export_figures)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.indicators.refresh()
        self.register.refresh()

    def print_review(self, scope: indicators.Scope) -> None:
        self.documentRequested.emit(lambda: management_review.review_pdf(scope))

    def export_figures(self, scope: indicators.Scope) -> None:
        name = safe_file_name(_("Quality indicators {period}").format(
            period=indicators.period_name(scope.period))) + ".csv"
        path = ask_save_path(self, _("Export the indicators"), name, _("CSV (*.csv)"))
        if path is None:
            return
        self.indicators.message.say(_("Exporting…"))

        def failed(error: Exception) -> None:
            self.indicators.message.say(str(error), error=True)

        run_in_background(lambda: indicators.export_csv(path, scope),
                          lambda count: self.indicators.message.say(
                              _("Exported to {path}.").format(path=path)),
                          failed, owner=self)
