"""Today: every call and survey due, the most urgent first (overdue in red, then today, then
the next days), with a count per type; opening one starts the guided call."""

import datetime as dt

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import followup as rules
from nest_desktop.domain.permissions import ROLE_LABELS, ROLES
from nest_desktop.i18n import _, counted, format_date, format_datetime, format_number, ngettext
from nest_desktop.services import followup as service
from nest_desktop.services import session, settings
from nest_desktop.ui.common.lazy_model import LazyRowsModel
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import MessageLabel, headers_in_full, site_box

REFRESH_MS = 60_000  # deadlines pass and other desks work: the list follows every minute
OVERDUE_COLOUR = QColor("#b00020")
TODAY_COLOUR = QColor("#8a4b00")


def due_text(due_at: dt.datetime, when: dt.datetime) -> str:
    """'Today 18:00', 'Late by 2 days', or the date and time."""
    urgency = rules.urgency(due_at, when)
    if urgency == "overdue":
        days = (when.date() - due_at.date()).days
        if days == 0:
            return _("Late since {time}").format(time=due_at.strftime("%H:%M"))
        return ngettext("Late by {count} day", "Late by {count} days", days).format(count=days)
    if urgency == "today":
        return _("Today {time}").format(time=due_at.strftime("%H:%M"))
    return format_datetime(due_at)


class TaskTableModel(LazyRowsModel):
    """The ids of the tasks shown; rows are fetched by block when first shown."""

    COLUMNS = ("due", "type", "person", "phone", "attempts", "site", "assignee")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.when = clock.now()

    def headers(self) -> list[str]:
        return [_("Due"), _("Type"), _("Person"), _("Phone"), _("Attempts"), _("Site"),
                _("Assigned to")]

    def fetch(self, ids: list[int]) -> dict[int, service.TaskRow]:
        return service.rows_for(ids)

    def set_ids(self, ids: list[int], when: dt.datetime | None = None) -> None:
        self.when = when or clock.now()
        super().set_ids(ids)

    def task_id(self, row: int) -> int | None:
        return self.id_at(row)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        record = self.row_of(index.row())
        if record is None:
            return None
        urgency = rules.urgency(record.due_at, self.when)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(OVERDUE_COLOUR if urgency == "overdue" or record.urgent
                          else TODAY_COLOUR if urgency == "today" else QColor("black"))
        if role == Qt.ItemDataRole.FontRole and (urgency != "later" or record.urgent):
            font = QFont()
            font.setBold(True)
            return font
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = self.COLUMNS[index.column()]
        if column == "due":
            return due_text(record.due_at, self.when)
        if column == "type":
            label = service.rule_label(record.rule)
            # marked in words and a sign, not by colour alone
            if record.urgent:
                label = "⚠ " + _("URGENT") + " — " + label
            if record.rule == service.SAME_DAY_RULE and record.due_at.date() < self.when.date():
                label = "↩ " + (_("From yesterday") if (self.when.date() - record.due_at.date())
                                .days == 1 else _("From {day}").format(
                                    day=format_date(record.due_at.date(), "EEE d MMM"))
                                ) + " — " + label
            return label
        if column == "person":
            return record.person
        if column == "phone":
            return record.phone
        if column == "attempts":
            if not record.attempts:
                return ""
            text = format_number(record.attempts)
            if record.next_attempt_at:
                text += " · " + _("again at {time}").format(
                    time=format_datetime(record.next_attempt_at)
                    if record.next_attempt_at.date() != self.when.date()
                    else record.next_attempt_at.strftime("%H:%M"))
            return text
        if column == "site":
            return record.site
        if column == "assignee":
            return record.assignee
        return None


class TodayPage(QWidget):
    """The screen the application opens on."""

    openTask = Signal(int)  # the guided call of a task
    countChanged = Signal(int, int)  # tasks shown, of which overdue

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.types = QListWidget()
        self.types.setFixedWidth(250)
        self.types.setWordWrap(True)
        self.types.setStyleSheet("QListWidget::item { padding: 5px; }")
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        self.assignee_filter = QComboBox()
        self.assignee_filter.addItem(_("Everyone's"), "all")
        self.assignee_filter.addItem(_("Mine and my role's"), "mine")
        for role in ROLES:
            self.assignee_filter.addItem(_(ROLE_LABELS[role]), f"role:{role}")
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 11pt;")
        self.model = TaskTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((185, 215, 190, 110, 120, 150)):
            self.view.setColumnWidth(column, width)
        headers_in_full(self.view)
        self.call_button = QPushButton(_("Call…"))
        self.call_button.setToolTip(_("Opens the guided call of the selected task (Enter)"))
        self.call_button.clicked.connect(self._open_current)
        self.take_button = QPushButton(_("Assign to me"))
        self.take_button.clicked.connect(self._take_current)
        self.message = MessageLabel()

        filters = QHBoxLayout()
        filters.addWidget(QLabel(_("Site")))
        filters.addWidget(self.site_filter)
        filters.addWidget(QLabel(_("Assigned to")))
        filters.addWidget(self.assignee_filter)
        filters.addStretch(1)
        filters.addWidget(self.take_button)
        filters.addWidget(self.call_button)
        right = QVBoxLayout()
        right.addLayout(filters)
        right.addWidget(self.summary)
        right.addWidget(self.view, 1)
        right.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addWidget(self.types)
        layout.addLayout(right, 1)

        self.types.currentRowChanged.connect(lambda _row: self.refresh())
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self.assignee_filter.currentIndexChanged.connect(self.refresh)
        self.view.activated.connect(lambda index: self._open_row(index.row()))
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.view, activated=self._open_current)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.refresh_permissions()
        self.refresh()
        changes().tasks.connect(self.refresh)
        changes().server_back.connect(self.refresh)  # what could not be read while it was away
        changes().desk.connect(self._desk_changed)

    def _desk_changed(self) -> None:
        self.refresh_permissions()
        self.refresh()

    def refresh_permissions(self) -> None:
        may = session.may("followup.work")
        self.call_button.setEnabled(may)
        self.take_button.setEnabled(may)

    def current_filter(self) -> service.TaskFilter:
        item = self.types.currentItem()
        return service.TaskFilter(
            site_id=self.site_filter.currentData(),
            rule=item.data(Qt.ItemDataRole.UserRole) if item else None,
            assignee=self.assignee_filter.currentData(),
            horizon_days=int(settings.get("followup.horizon_days")))

    def refresh(self) -> None:
        """Reads the queue off the GUI thread; only the latest answer is shown."""
        self._generation += 1
        generation = self._generation
        task_filter, when = self.current_filter(), clock.now()

        def read():
            return service.task_ids(task_filter, when), service.counts(task_filter, when)

        run_in_background(read, lambda result: self._show(generation, when, *result),
                          owner=self.model)

    def _show(self, generation: int, when: dt.datetime, ids: list[int],
              counts: dict[str, tuple[int, int]]) -> None:
        if generation != self._generation:
            return
        selected = self.model.task_id(self.view.currentIndex().row())
        self.model.set_ids(ids, when)
        self._show_counts(counts)
        rule = self.current_filter().rule
        shown_overdue = sum(late for name, (_total, late) in counts.items()
                            if rule in (None, name))
        self.summary.setText(self._summary_text(len(ids), shown_overdue, when))
        if ids:
            row = ids.index(selected) if selected in ids else 0
            self.view.selectRow(row)

    def _summary_text(self, total: int, overdue: int, when: dt.datetime) -> str:
        if total == 0:
            return _("Nothing due up to {date}: every follow-up is up to date.").format(
                date=format_date(when.date() + dt.timedelta(
                    days=int(settings.get("followup.horizon_days"))), "long"))
        late = counted("{count} overdue", "{count} overdue", overdue, _("none overdue"))
        return ngettext("{count} follow-up to do", "{count} follow-ups to do", total).format(
            count=format_number(total)) + " — " + late

    def _show_counts(self, counts: dict[str, tuple[int, int]]) -> None:
        current = self.types.currentItem()
        chosen = current.data(Qt.ItemDataRole.UserRole) if current else None
        blocked = self.types.blockSignals(True)
        try:
            self.types.clear()
            total = sum(c for c, _late in counts.values())
            overdue = sum(late for _c, late in counts.values())
            self._add_type(None, _("All follow-ups"), total, overdue)
            for name in rules.rules():
                count, late = counts.get(name, (0, 0))
                self._add_type(name, service.rule_label(name), count, late)
            for row in range(self.types.count()):
                if self.types.item(row).data(Qt.ItemDataRole.UserRole) == chosen:
                    self.types.setCurrentRow(row)
        finally:
            self.types.blockSignals(blocked)
        self.countChanged.emit(total, overdue)

    def _add_type(self, rule: str | None, label: str, count: int, overdue: int) -> None:
        text = f"{label}\n{format_number(count)}"
        if overdue:
            text += " · " + ngettext("{count} overdue", "{count} overdue", overdue).format(
                count=format_number(overdue))
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, rule)
        if overdue:
            item.setForeground(QBrush(OVERDUE_COLOUR))
        elif not count:
            item.setForeground(QBrush(QColor("#777777")))
        self.types.addItem(item)

    def _open_current(self) -> None:
        self._open_row(self.view.currentIndex().row())

    def _open_row(self, row: int) -> None:
        task_id = self.model.task_id(row)
        if task_id is not None:
            self.openTask.emit(task_id)

    def _take_current(self) -> None:
        task_id = self.model.task_id(self.view.currentIndex().row())
        if task_id is None:
            return
        try:
            service.assign(task_id, session.current().id)
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.message.say(_("The follow-up is yours."))
        self.refresh()
