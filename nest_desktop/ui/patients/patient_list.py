"""The patient list: as-you-type search over a lazy model that holds ids, not rows."""


from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.domain.patients import PATHWAYS, SEXES
from nest_desktop.i18n import _, counted, format_age, format_date, format_number
from nest_desktop.services import patients as service
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import headers_in_full, site_box


class PatientTableModel(LazyRowsModel):
    """The ids of a search; each row's columns are fetched by block when first shown."""

    COLUMNS = ("name", "first_names", "sex", "birth_date", "phone", "site", "pathway")
    SORTABLE = {0: "name", 1: "name", 3: "birth_date"}
    sortRequested = Signal(str, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.today = clock.today()

    def headers(self) -> list[str]:
        return [_("Last name"), _("First names"), _("Sex"), _("Birth date"), _("Phone"),
                _("Site"), _("Pathway")]

    def fetch(self, ids: list[int]) -> dict[int, service.PatientRow]:
        return service.rows_for(ids)

    def patient_id(self, row: int) -> int | None:
        return self.id_at(row)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        record = self.row_of(index.row())
        if record is None:
            return None
        column = self.COLUMNS[index.column()]
        if column == "name":
            return record.last_name
        if column == "first_names":
            return record.first_names
        if column == "sex":
            return _(SEXES.get(record.sex, ""))
        if column == "birth_date":
            if record.birth_date is None:
                return ""
            age = format_age(record.birth_date, self.today)
            return f"{format_date(record.birth_date)} ({age})"
        if column == "phone":
            return phones.display(record.phone) if record.phone else ""
        if column == "site":
            return record.site_name
        if column == "pathway":
            return _(PATHWAYS.get(record.pathway, ""))
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORTABLE.get(column)
        if key:
            self.sortRequested.emit(key, order == Qt.SortOrder.DescendingOrder)


FIRST_PAGE = 1000  # a search shows its first matches at once; all of them when asked


class PatientListPage(QWidget):
    """Search field, site filter, the list; Enter or a double click opens the file."""

    openPatient = Signal(int)
    newPatient = Signal()

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self._sort = ("name", False)
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            _("Search: name, phone in any form (77 123 45 67, +221…), birth date"))
        self.search.setClearButtonEnabled(True)
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        new_button = QPushButton(_("New patient"))
        new_button.setToolTip("Ctrl+N")
        new_button.clicked.connect(self.newPatient)
        self.count_label = QLabel()
        self.model = PatientTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 160, 75, 165, 115, 175)):
            self.view.setColumnWidth(column, width)
        headers_in_full(self.view)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.site_filter)
        top.addWidget(new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.show_all = QPushButton(_("Show them all"))
        self.show_all.setVisible(False)
        self.show_all.clicked.connect(self.show_everyone)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.show_all)
        layout.addLayout(bottom)

        self.search.textChanged.connect(lambda _text: self.refresh())
        self.search.returnPressed.connect(self._open_first_or_current)
        self.site_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.model.sortRequested.connect(self._sort_by)
        self.view.activated.connect(lambda index: self._open_row(index.row()))
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.view,
                  activated=lambda: self._open_row(self.view.currentIndex().row()))
        self._stale = True
        self.refresh()
        changes().patient.connect(self._patient_changed)
        changes().restored.connect(self.refresh)

    def _patient_changed(self, _patient_id: int) -> None:
        self.refresh()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _sort_by(self, key: str, descending: bool) -> None:
        self._sort = (key, descending)
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Runs the search off the GUI thread; only the latest answer is shown: its first
        FIRST_PAGE matches."""
        self._search(everyone=False)

    def show_everyone(self) -> None:
        """"Show them all": every match of the search, counted."""
        self._search(everyone=True)

    def _search(self, everyone: bool) -> None:
        if not self.isVisible():
            self._stale = True  # searched when shown: no work at start for a hidden list
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        query, (sort, descending) = self.search.text(), self._sort
        site_id = self.site_filter.currentData()
        limit = None if everyone else FIRST_PAGE + 1
        run_in_background(
            lambda: service.search_ids(query, sort, descending, site_id, limit),
            lambda ids: self._show(generation, ids, limit),
            owner=self.model,
        )

    def _show(self, generation: int, ids: list[int], limit: int | None) -> None:
        if generation != self._generation:
            return
        more = limit is not None and len(ids) >= limit
        self.model.set_ids(ids[:FIRST_PAGE] if more else ids)
        self.show_all.setVisible(more)
        if more:
            self.count_label.setText(_("More than {count} patients: type more of the name or "
                                       "number, or show them all.").format(
                count=format_number(FIRST_PAGE)))
        else:
            self.count_label.setText(counted("{count} patient", "{count} patients", len(ids),
                                             _("No patient")))
        if ids:
            self.view.selectRow(0)

    def _open_first_or_current(self) -> None:
        row = self.view.currentIndex().row()
        self._open_row(row if row >= 0 else 0)

    def _open_row(self, row: int) -> None:
        patient_id = self.model.patient_id(row)
        if patient_id is not None:
            self.openPatient.emit(patient_id)
