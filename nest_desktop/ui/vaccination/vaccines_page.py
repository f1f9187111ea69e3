"""Children & vaccines: the children with doses overdue or due soon, for the day's calls
and SMS (PAT-11)."""


from PySide6.QtCore import Qt, Signal
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
from nest_desktop.services import DatabaseProblem, documents
from nest_desktop.services import vaccination as service
from nest_desktop.services.exports import ExportError, safe_file_name
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import ask_save_path, fit_columns, site_box


class DueChildrenModel(LazyRowsModel):
    """The children of the list in its order; each row's calendar is computed by block when
    the view first shows it (a list of thousands of children opens at once)."""

    COLUMNS = ("child", "age", "site", "doses", "due", "phone", "sms")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.today = clock.today()
        self.days = 7

    def headers(self) -> list[str]:
        return [_("Child"), _("Age"), _("Site"), _("Doses to give"), _("Due since / on"),
                _("Phone"), _("SMS")]

    def show_children(self, due: service.DueChildren, days: int, today) -> None:
        self.days, self.today = days, today
        self.set_ids(due.ids)

    def fetch(self, ids: list[int]) -> dict[int, service.DueRow]:
        return service.due_rows(ids, self.days, self.today)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.row_of(index.row())
        if row is None:
            return None
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
        # the columns fit the rows on screen (those fetched), never every child's
        self.view.verticalHeader().setResizeContentsPrecision(0)
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
        days, site_id, today = self.days.value(), self.site_filter.currentData(), clock.today()
        self.count_label.setText(_("Computing the calendars…"))
        run_in_background(lambda: service.due_children(days, site_id, today),
                          lambda due: self._show(generation, due, days, today),
                          owner=self.model)

    def _show(self, generation: int, due: service.DueChildren, days: int, today) -> None:
        if generation != self._generation:
            return
        self.model.show_children(due, days, today)
        fit_columns(self.view, 3)
        self.count_label.setText(
            counted("{count} child to call or remind", "{count} children to call or remind",
                    len(due.ids), _("No child to call or remind"))
            + " — " + counted("{count} with a dose overdue", "{count} with doses overdue",
                              due.overdue, _("none with a dose overdue")))

    def export(self) -> None:
        """Writes the list shown to a CSV that a French Excel opens as it is; the calendars
        of every child listed are computed off the GUI thread."""
        ids, days, today = list(self.model.ids()), self.model.days, self.model.today
        name = safe_file_name(_("Vaccines to give {date}").format(
            date=today.isoformat())) + ".csv"
        path = ask_save_path(self, _("Export the list"), name, _("CSV (*.csv)"))
        if path is None:
            return
        self.count_label.setText(_("Exporting…"))

        def write() -> int:
            rows = service.due_rows(ids, days, today)
            return documents.due_list_csv(path, [rows[i] for i in ids if i in rows])

        def failed(error: BaseException) -> None:
            self.count_label.setText("")
            QMessageBox.warning(self, _("Export failed"), str(error) if isinstance(
                error, ExportError | DatabaseProblem)
                else _("The file could not be written: {error}").format(error=error))

        run_in_background(write, lambda count: self.count_label.setText(
            ngettext("{count} child exported to {path}", "{count} children exported to {path}",
                     count).format(count=format_number(count), path=path)),
            failed, owner=self.model)

    def _open(self, index) -> None:
        child_id = self.model.id_at(index.row()) if index.isValid() else None
        if child_id is not None:
            self.openChild.emit(child_id)

