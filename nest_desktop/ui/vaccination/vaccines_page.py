"""Children & vaccines: the children with doses overdue or due soon, for the day's calls
and SMS (PAT-11)."""


from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, phones
from nest_desktop.i18n import _, counted, format_age, format_date, format_number, ngettext
from nest_desktop.services import documents
from nest_desktop.services import vaccination as service
from nest_desktop.services.exports import ExportError, safe_file_name
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import ask_save_path, site_box

_NO_PARENT = QModelIndex()


class DueChildrenModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[service.DueRow] = []
        self.today = clock.today()

    def headers(self) -> list[str]:
        return [_("Child"), _("Age"), _("Site"), _("Doses to give"), _("Due since / on"),
                _("Phone"), _("SMS")]

    def set_rows(self, rows: list[service.DueRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.today = clock.today()
        self.endResetModel()

    def rowCount(self, parent=_NO_PARENT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else 7

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.BackgroundRole and row.overdue:
            return QBrush(QColor("#ffebee"))
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = index.column()
        if column == 0:
            return row.child_name
        if column == 1:
            return format_age(row.birth_date, self.today)
        if column == 2:
            return row.site_name
        if column == 3:
            return ", ".join(documents.dose_text(d) for d in row.doses)
        if column == 4:
            text = format_date(row.first_due)
            return _("{date} (overdue)").format(date=text) if row.overdue else text
        if column == 5:
            return phones.display(row.contact_phone) if row.contact_phone else ""
        if column == 6:
            return _("yes") if row.sms_consent else _("no")
        return None


class VaccinesPage(QWidget):
    openChild = Signal(int)

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.days = QSpinBox()
        self.days.setRange(0, 90)
        self.days.setValue(7)
        self.days.setSuffix(" " + _("days"))
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        refresh = QPushButton(_("Refresh"))
        refresh.clicked.connect(self.refresh)
        export = QPushButton(_("Export (CSV)…"))
        export.clicked.connect(self.export)
        self.count_label = QLabel()
        self.model = DueChildrenModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.activated.connect(self._open)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Doses overdue, or due within")))
        top.addWidget(self.days)
        top.addWidget(self.site_filter)
        top.addStretch(1)
        top.addWidget(refresh)
        top.addWidget(export)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.days.valueChanged.connect(self.refresh)
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self._stale = True  # computed when first shown: no work for a page nobody opened
        changes().vaccines.connect(self.refresh)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self._generation += 1
        generation = self._generation
        days, site_id = self.days.value(), self.site_filter.currentData()
        self.count_label.setText(_("Computing the calendars…"))
        run_in_background(lambda: service.due_list(days, site_id),
                          lambda rows: self._show(generation, rows), owner=self.model)

    def _show(self, generation: int, rows: list[service.DueRow]) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(rows)
        self.view.resizeColumnsToContents()
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        overdue = sum(row.overdue for row in rows)
        self.count_label.setText(
            counted("{count} child to call or remind", "{count} children to call or remind",
                    len(rows), _("No child to call or remind"))
            + " — " + counted("{count} with a dose overdue", "{count} with doses overdue",
                              overdue, _("none with a dose overdue")))

    def export(self) -> None:
        """Writes the list shown to a CSV that a French Excel opens as it is."""
        rows = list(self.model.rows)
        name = safe_file_name(_("Vaccines to give {date}").format(
            date=clock.today().isoformat())) + ".csv"
        path = ask_save_path(self, _("Export the list"), name, _("CSV (*.csv)"))
        if path is None:
            return
        try:
            count = documents.due_list_csv(path, rows)
        except ExportError as error:
            QMessageBox.warning(self, _("Export failed"), str(error))
            return
        self.count_label.setText(ngettext("{count} child exported to {path}",
                                          "{count} children exported to {path}", count)
                                 .format(count=format_number(count), path=path))

    def _open(self, index) -> None:
        if index.isValid():
            self.openChild.emit(self.model.rows[index.row()].patient_id)

