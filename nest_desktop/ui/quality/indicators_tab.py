"""The quality indicators for a period, a site and a secretary: value, previous period,
target, met or not; the trend of the one chosen (QtCharts); each number opens its records."""

import datetime as dt

from PySide6.QtCharts import QCategoryAxis, QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.i18n import N_, _, format_date, format_datetime, format_indicator, format_number
from nest_desktop.services import ValidationFailed, desk, indicators, quality, session
from nest_desktop.services.people import typed_date
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import DateEdit, MessageLabel, fill, read_only_table, site_box
from nest_desktop.ui.quality.case_dialog import CaseDialog

PART_LABELS = {"all": N_("All"), "on_time": N_("Done on time"), "late": N_("Done late"),
               "open": N_("Still open"), "reached": N_("Called")}
VALUE, DETAILS, PREVIOUS, TARGET, MET = 2, 3, 4, 5, 6


def period_text(period: rules.Period) -> str:
    if period.kind == rules.MONTH:
        return format_date(period.start, "MMMM y")
    if period.kind == rules.QUARTER:
        return _("Quarter {number} {year}").format(number=(period.start.month + 2) // 3,
                                                   year=period.start.year)
    if period.kind == rules.YEAR:
        return str(period.start.year)
    return _("{start} to {end}").format(start=format_date(period.start),
                                        end=format_date(period.end))


class DrillDialog(QDialog):
    """The records behind one number; a person's file opens from her row."""

    openPatient = Signal(int)
    openProspect = Signal(int)
    openCase = Signal(int)

    def __init__(self, key: str, scope: indicators.Scope, title: str, parent=None):
        super().__init__(parent)
        self.key, self.scope = key, scope
        self.setWindowTitle(title)
        self.part = QComboBox()
        for part in indicators.parts_of(key):
            self.part.addItem(_(PART_LABELS[part]), part)
        self.count = QLabel()
        self.table = read_only_table([_("When"), _("Person"), _("Details")])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._open)
        self.rows: list[indicators.DrillRow] = []
        self._generation = 0
        self.kind = ""
        hint = QLabel(_("Double-click a row to open the file."))
        hint.setStyleSheet("color: #555555;")
        self.title = title
        record = QPushButton(_("Record a non-conformity…"))
        record.setToolTip(_("A deadline missed or a figure off target: into the register, "
                            "to find its cause and act on it."))
        record.clicked.connect(self._record_non_conformity)
        bottom = QHBoxLayout()
        bottom.addWidget(hint, 1)
        bottom.addWidget(record)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Show")))
        top.addWidget(self.part)
        top.addStretch(1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.part.currentIndexChanged.connect(self.refresh)
        fit_on_screen(self, 900, 560, remember="quality_drill")
        self.refresh()

    def choose(self, part: str) -> None:
        self.part.setCurrentIndex(max(self.part.findData(part), 0))

    def refresh(self) -> None:
        key, scope, part = self.key, self.scope, self.part.currentData()
        self._generation += 1
        generation = self._generation

        def read():
            found = indicators.drill(key, part, scope)
            return found.kind, indicators.drill_rows(found.kind, found.ids)

        run_in_background(read, lambda result: self._show(generation, *result),
                          owner=self.table)

    def _show(self, generation: int, kind: str, rows: list[indicators.DrillRow]) -> None:
        if generation != self._generation:  # an answer to a choice since changed
            return
        self.kind, self.rows = kind, rows

        def when(value) -> str:
            if isinstance(value, dt.datetime):
                return format_datetime(value)
            return format_date(value) if value else ""

        fill(self.table, [(when(row.when), row.person, row.detail) for row in rows])
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        self.count.setText(_("{count} records").format(count=format_number(len(rows))))

    def _record_non_conformity(self) -> None:
        """The register's case for what this number shows, prefilled (source: an indicator)."""
        description = _("{indicator}: {count} ({part}).").format(
            indicator=self.title, count=format_number(len(self.rows)),
            part=self.part.currentText().lower())
        CaseDialog(form=quality.CaseForm(
            kind=rules.NON_CONFORMITY, source="indicator",
            category="follow_up" if self.kind == indicators.TASK else "other",
            description=description, occurred_on=min(self.scope.period.end, clock.today()),
            site_id=self.scope.site_id), parent=self).exec()

    def _open(self, index) -> None:
        if not 0 <= index.row() < len(self.rows):
            return
        row = self.rows[index.row()]
        if self.kind == indicators.CASE:
            self.openCase.emit(row.id)
        elif row.patient_id:
            self.openPatient.emit(row.patient_id)
        elif row.prospect_id:
            self.openProspect.emit(row.prospect_id)


class TrendChart(QChartView):
    """One indicator over the last periods, its target as a dashed line."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(170)
        self.show_trend(None, [], None)

    def show_trend(self, indicator: rules.Indicator | None,
                   points: list[tuple[str, float | None]], target: float | None) -> None:
        chart = QChart()
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        if indicator is None:
            chart.setTitle(_("Choose an indicator to see its trend."))
            self.setChart(chart)
            return
        chart.setTitle(indicators.label(indicator))
        series = QLineSeries()
        series.setPointsVisible(True)
        series.setPen(QPen(QColor("#1565c0"), 2))
        axis_x = QCategoryAxis()
        axis_x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        known = [value for _label, value in points if value is not None]
        for index, (label, value) in enumerate(points):
            axis_x.append(label, index)
            if value is not None:
                series.append(index, value)
        chart.addSeries(series)
        top = max([*known, target or 0, 1])
        if indicator.unit in (rules.PERCENT, rules.SCORE):
            top = 100
        axis_y = QValueAxis()
        axis_y.setRange(0, top * (1 if top == 100 else 1.15))
        axis_y.setLabelFormat("%d")
        # half a period of room each side: the first and last labels and points show whole
        axis_x.setRange(-0.5, max(len(points) - 1, 1) + 0.5)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(axis_x)
        series.attachAxis(axis_y)
        if target is not None and points:
            line = QLineSeries()
            pen = QPen(QColor("#2e7d32"), 1.5, Qt.PenStyle.DashLine)
            line.setPen(pen)
            line.append(-0.5, target)
            line.append(max(len(points) - 1, 1) + 0.5, target)
            chart.addSeries(line)
            line.attachAxis(axis_x)
            line.attachAxis(axis_y)
        self.setChart(chart)


class IndicatorsTab(QWidget):
    openPatient = Signal(int)
    openProspect = Signal(int)
    openCase = Signal(int)
    reviewRequested = Signal(object)  # the scope of the management review to print
    exportRequested = Signal(object)  # the scope whose figures go to CSV

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.rows: list[indicators.Row] = []
        self.trend: list[tuple[rules.Period, dict]] = []
        self.period_kind = QComboBox()
        for code, label in rules.PERIOD_KINDS.items():
            self.period_kind.addItem(_(label), code)
        today = clock.today()
        self.period = rules.previous(rules.period_of(rules.MONTH, today))  # last month
        self.earlier = QPushButton("◀")
        self.earlier.setToolTip(_("The period before"))
        self.later = QPushButton("▶")
        self.later.setToolTip(_("The period after"))
        for button in (self.earlier, self.later):
            button.setFixedWidth(34)
        self.period_label = QLabel()
        self.period_label.setMinimumWidth(150)
        self.period_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.date_from, self.date_to = DateEdit(), DateEdit()
        self.dates = QWidget()
        dates = QHBoxLayout(self.dates)
        dates.setContentsMargins(0, 0, 0, 0)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel(_("to")))
        dates.addWidget(self.date_to)
        self.site = site_box(workstation_site_id, empty_label=_("All sites"))
        self.secretary = QComboBox()
        self.secretary.addItem(_("Everyone"), None)
        self.target_button = QPushButton(_("Target…"))
        self.target_button.clicked.connect(self._set_target)
        self.review_button = QPushButton(_("Management review (PDF)…"))
        self.review_button.clicked.connect(lambda: self.reviewRequested.emit(self.scope()))
        self.export_button = QPushButton(_("Export (CSV)…"))
        self.export_button.clicked.connect(lambda: self.exportRequested.emit(self.scope()))
        self.message = MessageLabel()
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels([_("Subject"), _("Indicator"), _("Value"),
                                              _("Counted"), _("Previous period"),
                                              _("Target"), _("Met")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.table.cellDoubleClicked.connect(self._drill)
        self.definition = QLabel()
        self.definition.setWordWrap(True)
        self.definition.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.chart = TrendChart()
        below = QWidget()
        below_layout = QHBoxLayout(below)
        below_layout.setContentsMargins(0, 0, 0, 0)
        below_layout.addWidget(self.definition, 1)
        below_layout.addWidget(self.chart, 2)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(below)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 190])  # the figures first; the trend of the one chosen
        top = QHBoxLayout()
        top.addWidget(self.period_kind)
        top.addWidget(self.earlier)
        top.addWidget(self.period_label)
        top.addWidget(self.later)
        top.addWidget(self.dates)
        top.addWidget(QLabel(_("Site")))
        top.addWidget(self.site)
        top.addWidget(QLabel(_("Secretary")))
        top.addWidget(self.secretary)
        top.addStretch(1)
        buttons = QHBoxLayout()
        hint = QLabel(_("Double-click a number to see its records."))
        hint.setStyleSheet("color: #555555;")
        buttons.addWidget(hint)
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.target_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.review_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.period_kind.currentIndexChanged.connect(self._kind_changed)
        self.earlier.clicked.connect(lambda: self._move(-1))
        self.later.clicked.connect(lambda: self._move(1))
        for edit in (self.date_from, self.date_to):
            edit.editingFinished.connect(self._dates_typed)
        self.site.currentIndexChanged.connect(self.refresh)
        self.secretary.currentIndexChanged.connect(self.refresh)
        changes().quality.connect(self.refresh)
        self._show_period()

    def fill_secretaries(self) -> None:
        if self.secretary.count() > 1 or not session.may("quality.manage"):
            return
        blocked = self.secretary.blockSignals(True)
        for user in desk.users():
            self.secretary.addItem(user.full_name, user.id)
        self.secretary.blockSignals(blocked)

    def scope(self) -> indicators.Scope:
        return indicators.Scope(self.period, self.site.currentData(),
                                self.secretary.currentData())

    # --- the period ---------------------------------------------------------------------

    def _show_period(self) -> None:
        dates = self.period.kind == rules.DATES
        self.dates.setVisible(dates)
        for widget in (self.earlier, self.later, self.period_label):
            widget.setVisible(not dates)
        self.period_label.setText(period_text(self.period))
        self.later.setEnabled(self.period.end < clock.today())

    def _kind_changed(self) -> None:
        kind = self.period_kind.currentData()
        if kind == rules.DATES:
            self.date_from.setText(self.period.start.strftime("%d/%m/%Y"))
            self.date_to.setText(self.period.end.strftime("%d/%m/%Y"))
            self.period = rules.period_of(rules.DATES, self.period.start, self.period.end)
        else:
            self.period = rules.period_of(kind, self.period.start)
        self._show_period()
        self.refresh()

    def _move(self, step: int) -> None:
        if step < 0:
            self.period = rules.previous(self.period)
        else:
            self.period = rules.period_of(self.period.kind,
                                          self.period.end + dt.timedelta(days=1))
        self._show_period()
        self.refresh()

    def _dates_typed(self) -> None:
        start, end = typed_date(self.date_from.text()), typed_date(self.date_to.text())
        if start is None or end is None or end < start:
            self.message.say(_("Give the period as two dates, the first before the second."),
                             error=True)
            return
        self.message.say("")
        self.period = rules.period_of(rules.DATES, start, end)
        self.refresh()

    # --- the figures --------------------------------------------------------------------

    def refresh(self) -> None:
        if not session.may("quality.manage"):
            return
        self.fill_secretaries()
        self._generation += 1
        generation = self._generation
        scope = self.scope()
        self.message.say(_("Computing…"))

        run_in_background(lambda: indicators.table_and_trend(scope),
                          lambda result: self._show(generation, *result),
                          self._failed, owner=self.table)

    def _failed(self, error: Exception) -> None:
        self.message.say(str(error), error=True)

    def _show(self, generation: int, rows: list[indicators.Row], trend) -> None:
        if generation != self._generation:
            return
        self.message.say("")
        selected = self.table.currentRow()
        self.rows, self.trend = rows, trend
        self.table.setRowCount(len(rows))
        last_group = None
        for index, row in enumerate(rows):
            unit = row.indicator.unit
            group = _(rules.GROUPS[row.indicator.group])
            cells = (group if group != last_group else "", row.label,
                     format_indicator(unit, row.value.value), indicators.details_text(row),
                     format_indicator(unit, row.previous.value if row.previous else None),
                     format_indicator(unit, row.target) if row.target is not None else "",
                     {True: _("Met"), False: _("Not met"), None: ""}[row.met])
            last_group = group
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(_(row.indicator.definition))
                if column in (VALUE, PREVIOUS, TARGET):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if column == MET and row.met is not None:
                    item.setForeground(QBrush(QColor("#1b5e20" if row.met else "#b00020")))
                if column == 0:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(index, column, item)
        for column in (0, VALUE, DETAILS, PREVIOUS, TARGET, MET):
            self.table.resizeColumnToContents(column)
        self.table.selectRow(selected if 0 <= selected < len(rows) else 0)
        self._show_selected()

    def selected_row(self) -> indicators.Row | None:
        index = self.table.currentRow()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def _show_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            self.definition.setText("")
            self.chart.show_trend(None, [], None)
            return
        self.definition.setText(f"<b>{row.label}</b><br>{_(row.indicator.definition)}")
        points = [(period_text(period) if period.kind != rules.MONTH
                   else format_date(period.start, "MMM yy"),
                   values[row.indicator.key].value if row.indicator.key in values else None)
                  for period, values in self.trend]
        self.chart.show_trend(row.indicator, points, row.target)

    def _drill(self, row_index: int, _column: int = 0) -> None:
        if not 0 <= row_index < len(self.rows):
            return
        row = self.rows[row_index]
        dialog = DrillDialog(row.indicator.key, self.scope(),
                             f"{row.label} — {period_text(self.period)}", self)
        dialog.openPatient.connect(self.openPatient)
        dialog.openProspect.connect(self.openProspect)
        dialog.openCase.connect(self.openCase)
        dialog.exec()

    def _set_target(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        maximum = 100.0 if row.indicator.unit in (rules.PERCENT, rules.SCORE) else 1e6
        value, given = QInputDialog.getDouble(
            self, _("Target"), _("Target for “{indicator}”:").format(indicator=row.label),
            row.target if row.target is not None else 0.0, 0.0, maximum, 1)
        if not given:
            return
        try:
            indicators.set_target(row.indicator.key, value)
        except (ValidationFailed, session.PermissionDenied) as refused:
            self.message.say(" ".join(refused.errors.values())
                             if isinstance(refused, ValidationFailed) else str(refused),
                             error=True)
            return
        changes().quality.emit()
