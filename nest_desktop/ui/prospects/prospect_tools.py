"""The prospect manager's tools: importing lead exports with a preview, and the conversion
report with its chart (PRO-04, PRO-07)."""

import datetime as dt
from pathlib import Path

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import prospects as rules
from nest_desktop.domain.text import shown_name
from nest_desktop.i18n import N_, _, format_number, format_percent
from nest_desktop.services import ValidationFailed, documents, session
from nest_desktop.services import prospects as service
from nest_desktop.services.exports import ExportError
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    ask_save_path,
    choice_box,
    fill,
    read_only_table,
    select_data,
    site_box,
)

VERDICTS = {
    "new": N_("New prospect"),
    "prospect": N_("Already a prospect: request added to her file"),
    "patient": N_("Already a patient: request added to her file"),
    "repeated": N_("Same person as an earlier row: request added"),
    "error": N_("Not imported"),
}


class ImportDialog(QDialog):
    """Choose an export, see row by row what will happen, then import (prospect manager)."""

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Import leads (website form, Facebook)"))
        self.rows: list[service.LeadRow] = []
        self.unfinished: dict | None = None  # an earlier import of this file, interrupted
        self.path: Path | None = None
        self.channel = choice_box({code: label for code, label in rules.CHANNELS.items()
                                   if code in ("website", "facebook", "instagram", "email",
                                                "event")})
        self.qualification = choice_box(rules.QUALIFICATIONS)
        select_data(self.qualification, "programme")
        self.site = site_box(workstation_site_id, empty_label=_("No site"))
        self.file_label = QLabel(_("No file chosen."))
        choose = QPushButton(_("Choose the CSV file…"))
        choose.clicked.connect(self._choose)
        self.file_field = FieldWithError(self.file_label)
        self.table = read_only_table([_("Line"), _("Name"), _("Phone"), _("Request"),
                                      _("What will happen"), _("Known as")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary = QLabel()
        self.message = MessageLabel()
        self.import_button = QPushButton(_("Import"))
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._import)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.reject)
        form = QFormLayout()
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_field, 1)
        file_row.addWidget(choose)
        form.addRow(_("File"), file_row)
        form.addRow(_("The leads came by"), self.channel)
        form.addRow(_("Request when the row does not say"), self.qualification)
        form.addRow(_("Site"), self.site)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(close)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        for box in (self.channel, self.qualification, self.site):
            box.currentIndexChanged.connect(self._preview)
        fit_on_screen(self, 1000, 620, "lead_import")

    def _choose(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, _("Lead export"), "",
                                                    _("CSV files (*.csv *.txt)"))
        if name:
            self.load(Path(name))

    def load(self, path: Path) -> None:
        self.path = path
        self.file_label.setText(str(path))
        self._preview()

    def _preview(self) -> None:
        if self.path is None:
            return
        self.file_field.set_error(None)
        self.import_button.setEnabled(False)
        self.message.say(_("Checking each row…"))
        path, channel = self.path, self.channel.currentData()
        qualification, site_id = self.qualification.currentData(), self.site.currentData()

        def done(read) -> None:
            self.rows, self.unfinished = read
            self._show()

        def failed(error: Exception) -> None:
            self.rows, self.unfinished = [], None
            self._show()
            text = (" ".join(error.errors.values()) if isinstance(error, ValidationFailed)
                    else str(error))
            self.file_field.set_error(text)
            self.message.say("")

        def read():
            rows = service.preview_import(service.read_leads(path, channel, qualification,
                                                             site_id))
            return rows, service.unfinished_import(rows)

        run_in_background(read, done, failed, owner=self)

    def _show(self) -> None:
        fill(self.table, [(str(row.line), shown_name(row.form.full_name),
                           ", ".join(p for p in row.form.phones if p) or row.form.email,
                           _(rules.QUALIFICATIONS.get(row.request.qualification, ""))
                           # Meta's export says per row whether she came by Instagram
                           + (" · " + _(rules.CHANNELS[row.form.channel])
                              if row.form.channel != self.channel.currentData() else ""),
                           _(VERDICTS[row.verdict]) + (f" — {row.message}" if row.message else ""),
                           row.existing_name) for row in self.rows])
        for index, row in enumerate(self.rows):
            if row.verdict == "error":
                for column in range(self.table.columnCount()):
                    self.table.item(index, column).setForeground(QBrush(QColor("#b00020")))
        self.table.resizeColumnsToContents()
        counts = {verdict: sum(row.verdict == verdict for row in self.rows)
                  for verdict in VERDICTS}
        self.summary.setText(" · ".join(_("{label}: {count}").format(
            label=_(VERDICTS[v]), count=format_number(c)) for v, c in counts.items() if c))
        self.import_button.setEnabled(any(row.verdict != "error" for row in self.rows)
                                      and session.may("prospects.import"))
        if self.rows and self.unfinished:
            self.message.say(_("This file's import was interrupted after {done} rows of "
                               "{total}: Import resumes at row {next}.").format(
                done=format_number(self.unfinished["done"]),
                total=format_number(self.unfinished["total"]),
                next=format_number(self.unfinished["done"] + 1)), error=True)
        else:
            self.message.say(_("Nothing is written until you click Import.") if self.rows
                             else "")

    def _import(self) -> None:
        """Writes off the GUI thread: thousands of rows take a while."""
        self.import_button.setEnabled(False)
        self.message.say(_("Importing, {count} rows at a time: the other desks keep "
                           "working…").format(count=service.IMPORT_BATCH))
        rows = self.rows

        def done(result: service.ImportResult) -> None:
            # The prospects are written even if the dialog was closed meanwhile: the lists
            # hear of them in any case.
            changes().prospect.emit(0)  # many prospects: every list of them
            changes().tasks.emit()
            if shiboken6.isValid(self):
                self._imported(result)

        def failed(error: Exception) -> None:
            if shiboken6.isValid(self):
                self.message.say(str(error), error=True)

        run_in_background(lambda: service.import_leads(rows), done, failed)

    def _imported(self, result: service.ImportResult) -> None:
        self.message.say(_("{created} prospects created, {prospects} requests added to "
                           "prospects, {patients} to patients, {skipped} rows not imported.")
                         .format(created=format_number(result.created),
                                 prospects=format_number(result.on_prospects),
                                 patients=format_number(result.on_patients),
                                 skipped=format_number(result.skipped)))
        self.rows = []


class ConversionChart(QWidget):
    """Bars of the conversion rate per group, drawn with QPainter (nothing to install)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bars: list[tuple[str, float, str]] = []
        self.setMinimumHeight(220)

    def show_lines(self, bars: list[tuple[str, float, str]]) -> None:
        self.bars = bars
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = self.rect().adjusted(10, 10, -10, -40)
        if not self.bars:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _("No prospect."))
            return
        painter.setPen(QPen(QColor("#999999")))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        slot = area.width() / len(self.bars)
        for index, (label, rate, caption) in enumerate(self.bars):
            height = max(area.height() - 18, 1) * rate
            x = area.left() + index * slot + slot * 0.2
            bar = QRectF(x, area.bottom() - height, slot * 0.6, height)
            painter.fillRect(bar, QColor("#00695c"))
            painter.setPen(QPen(QColor("#222222")))
            painter.drawText(QRectF(x - slot * 0.2, bar.top() - 18, slot, 16),
                             Qt.AlignmentFlag.AlignCenter, caption)
            painter.drawText(QRectF(area.left() + index * slot, area.bottom() + 4, slot, 34),
                             Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, label)


class ReportDialog(QDialog):
    """Conversion rate by channel, request and month; time to conversion; callbacks on time."""

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()
        self.setWindowTitle(_("Prospect conversion"))
        today = clock.today()
        self.date_from, self.date_to = DateEdit(), DateEdit()
        self.date_from.setText((today - dt.timedelta(days=180)).replace(day=1)
                               .strftime("%d/%m/%Y"))
        self.date_to.setText(today.strftime("%d/%m/%Y"))
        self.site = site_box(None, empty_label=_("All sites"))
        self.from_field, self.to_field = FieldWithError(self.date_from), FieldWithError(
            self.date_to)
        show = QPushButton(_("Show"))
        show.clicked.connect(self.refresh)
        pdf = QPushButton(_("Print / PDF…"))
        pdf.clicked.connect(self._pdf)
        csv_button = QPushButton(_("Export CSV…"))
        csv_button.clicked.connect(self._csv)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-size: 11pt;")
        self.tabs = QTabWidget()
        self.tables, self.charts = {}, {}
        for kind, title in (("channel", _("By channel")), ("qualification", _("By request")),
                            ("month", _("By month added"))):
            page = QWidget()
            layout = QVBoxLayout(page)
            self.charts[kind] = ConversionChart()
            self.tables[kind] = read_only_table([_("Group"), _("Prospects"),
                                                 _("Became patients"), _("Conversion rate")])
            self.tables[kind].horizontalHeader().setStretchLastSection(True)
            layout.addWidget(self.charts[kind], 1)
            layout.addWidget(self.tables[kind], 1)
            self.tabs.addTab(page, title)
        self.message = MessageLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Prospects added from")))
        top.addWidget(self.from_field)
        top.addWidget(QLabel(_("to")))
        top.addWidget(self.to_field)
        top.addWidget(self.site)
        top.addWidget(show)
        top.addStretch(1)
        top.addWidget(csv_button)
        top.addWidget(pdf)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.report: service.ConversionReport | None = None
        select_data(self.site, workstation_site_id)
        fit_on_screen(self, 940, 680, "conversion_report")
        self.refresh()

    def _period(self) -> tuple[dt.date, dt.date] | None:
        from nest_desktop.domain.dates import parse_date

        days = []
        for edit, field in ((self.date_from, self.from_field), (self.date_to, self.to_field)):
            field.set_error(None)
            try:
                days.append(parse_date(edit.text()))
            except ValueError as error:
                field.set_error(str(error))
                return None
        return days[0], days[1]

    def refresh(self) -> None:
        period = self._period()
        if period is None:
            return
        try:
            self.report = service.conversion_report(*period, self.site.currentData())
        except ValidationFailed as failed:
            self.to_field.set_error(" ".join(failed.errors.values()))
            return
        report = self.report
        parts = service.report_summary(report)
        self.summary.setText(" ".join(parts))
        for kind, lines in (("channel", report.by_channel),
                            ("qualification", report.by_qualification),
                            ("month", report.by_month)):
            fill(self.tables[kind], [(service.group_label(kind, line.group),
                                      format_number(line.prospects),
                                      format_number(line.converted), format_percent(line.rate))
                                     for line in lines])
            self.tables[kind].resizeColumnsToContents()
            self.charts[kind].show_lines([(service.group_label(kind, line.group), line.rate,
                                           format_percent(line.rate)) for line in lines])

    def _csv(self) -> None:
        if self.report is None:
            return
        path = ask_save_path(self, _("Export the report"), _("Prospect conversion.csv"),
                             _("CSV files (*.csv)"))
        if path is None:
            return
        try:
            count = service.report_csv(path, self.report)
        except (ExportError, session.PermissionDenied) as error:
            self.message.say(str(error), error=True)
            return
        self.message.say(_("{count} lines written to {path}").format(
            count=format_number(count), path=path))

    def _pdf(self) -> None:
        if self.report is not None:
            report = self.report
            self.documentRequested.emit(lambda: documents.conversion_report_pdf(report))
