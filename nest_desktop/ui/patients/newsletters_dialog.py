"""The monthly newsletters of the segments (PAT-06, PAT-12): each series, its day, how it is
sent, its topics prepared ahead, and the export of the month for email or WhatsApp."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from nest_desktop.domain import clock
from nest_desktop.i18n import _, format_datetime, format_number, ngettext, pgettext
from nest_desktop.services import ValidationFailed, newsletters, segments, session
from nest_desktop.services.exports import ExportError, safe_file_name
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    FieldWithError,
    MessageLabel,
    ask_save_path,
    choice_box,
    dialog_buttons,
    fill,
    headers_in_full,
    read_only_table,
    select_data,
)


class SeriesDialog(QDialog):
    """A monthly newsletter: for the segment it was made from, its topics in their order."""

    def __init__(self, segment: segments.SegmentFilter | None, series_id: int | None = None,
                 parent=None):
        super().__init__(parent)
        self.series_id = series_id
        form = (newsletters.form_of(series_id) if series_id is not None
                else newsletters.SeriesForm(segment=segment))
        self.segment = form.segment
        self.setWindowTitle(_("Monthly newsletter"))
        self.name = QLineEdit(form.name)
        self.name.setMaxLength(100)
        self.name.setPlaceholderText(_("e.g. Letter for mothers-to-be"))
        self.day = QSpinBox()
        self.day.setRange(1, 28)
        self.day.setValue(form.day_of_month)
        self.day.setPrefix(_("on the") + " ")
        self.day.setSuffix(" " + _("of each month"))
        self.time = QLineEdit(form.send_time)
        self.time.setMaximumWidth(80)
        self.channel = choice_box(newsletters.CHANNELS)
        select_data(self.channel, form.channel)
        self.active = QCheckBox(_("Active: sent each month"))
        self.active.setChecked(form.active)
        self.fields = {name: FieldWithError(editor) for name, editor in (
            ("name", self.name), ("day_of_month", self.day), ("send_time", self.time),
            ("channel", self.channel))}
        self.topics = QTableWidget(0, 2)
        self.topics.setHorizontalHeaderLabels([_("Topic"), _("Text (placeholders {prenom}, "
                                                             "{site}, {tel_site})")])
        self.topics.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.topics.setColumnWidth(0, 180)
        self.topics.verticalHeader().setDefaultSectionSize(44)
        self.topics.setWordWrap(True)
        for topic in form.topics:
            self._add_row(topic)
        self.topics_error = QLabel()
        self.topics_error.setStyleSheet(ERROR_STYLE)
        self.topics_error.setWordWrap(True)
        self.topics_error.hide()
        buttons = QHBoxLayout()
        for label, slot in ((_("Add a topic"), lambda: self._add_row(newsletters.TopicForm())),
                            (_("Remove"), self._remove), (_("Up"), lambda: self._move(-1)),
                            (_("Down"), lambda: self._move(1))):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.message = MessageLabel()
        intro = QLabel(_("Each month, on its day, everyone of the segment who accepts the "
                         "newsletter gets the first topic she has not had yet: prepare them "
                         "ahead, in their order. A topic is never given twice."))
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        top = QFormLayout()
        top.addRow(_("Name"), self.fields["name"])
        top.addRow(_("Segment"), QLabel(self.segment.describe()))
        when = QHBoxLayout()
        when.addWidget(self.fields["day_of_month"])
        when.addWidget(QLabel(_("at")))
        when.addWidget(self.fields["send_time"])
        when.addStretch(1)
        top.addRow(pgettext("newsletter", "Sending"), when)
        top.addRow(_("How"), self.fields["channel"])
        top.addRow("", self.active)
        layout.addLayout(top)
        layout.addWidget(QLabel("<b>{}</b>".format(_("Topics, in their order"))))
        layout.addWidget(self.topics, 1)
        layout.addWidget(self.topics_error)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self._save))
        self.resize(820, 560)

    def _add_row(self, topic: newsletters.TopicForm) -> None:
        row = self.topics.rowCount()
        self.topics.insertRow(row)
        title = QTableWidgetItem(topic.title)
        title.setData(Qt.ItemDataRole.UserRole, topic.id)
        self.topics.setItem(row, 0, title)
        self.topics.setItem(row, 1, QTableWidgetItem(topic.body))
        if not topic.title:
            self.topics.setCurrentCell(row, 0)
            self.topics.editItem(title)

    def _remove(self) -> None:
        row = self.topics.currentRow()
        if row >= 0:
            self.topics.removeRow(row)

    def _move(self, step: int) -> None:
        row = self.topics.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.topics.rowCount():
            return
        taken = [self.topics.takeItem(row, column) for column in range(2)]
        others = [self.topics.takeItem(target, column) for column in range(2)]
        for column in range(2):
            self.topics.setItem(target, column, taken[column])
            self.topics.setItem(row, column, others[column])
        self.topics.setCurrentCell(target, 0)

    def form(self) -> newsletters.SeriesForm:
        topics = []
        for row in range(self.topics.rowCount()):
            title, body = self.topics.item(row, 0), self.topics.item(row, 1)
            topics.append(newsletters.TopicForm(
                title.text() if title else "", body.text() if body else "",
                title.data(Qt.ItemDataRole.UserRole) if title else None))
        return newsletters.SeriesForm(self.name.text(), self.segment, self.day.value(),
                                      self.time.text(), self.channel.currentData(),
                                      self.active.isChecked(), topics)

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        self.topics_error.hide()
        try:
            self.series = newsletters.save_series(self.series_id, self.form())
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            problem = failed.errors.get("topics") or failed.errors.get("segment") or next(
                (text for key, text in failed.errors.items() if key.startswith("topic_")), "")
            self.topics_error.setText(problem)
            self.topics_error.setVisible(bool(problem))
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class NewslettersDialog(QDialog):
    """Every monthly newsletter, and what is due to export this month."""

    def __init__(self, segment: segments.SegmentFilter, parent=None):
        super().__init__(parent)
        self.segment = segment
        self.setWindowTitle(_("Monthly newsletters"))
        self.table = read_only_table([_("Newsletter"), _("Segment"),
                                      pgettext("newsletter", "Sending"), _("Topics"),
                                      _("Topics given"), _("Next")])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 220)
        headers_in_full(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda _index: self.edit())
        self.rows: list[newsletters.SeriesRow] = []
        self.message = MessageLabel()
        new = QPushButton(_("New, for this segment…"))
        new.clicked.connect(self.new)
        self.edit_button = QPushButton(_("Change…"))
        self.edit_button.clicked.connect(self.edit)
        self.export_button = QPushButton(_("Export this month's letter…"))
        self.export_button.clicked.connect(self.export)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (new, self.edit_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("This segment: {segment}").format(
            segment=segment.describe())))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        may_send = session.may("sms.send")
        new.setEnabled(may_send)
        self.edit_button.setEnabled(may_send)
        self.export_button.setEnabled(session.may("patients.export"))
        self.resize(900, 420)
        self.refresh()

    def refresh(self) -> None:
        now = clock.now()
        self.rows = newsletters.series_list(now)
        due = {row.id for row in self.rows if newsletters.is_export_due(row, now)}
        fill(self.table, [(
            row.name, row.segment,
            _("the {day} at {time}, {how}").format(
                day=row.day_of_month, time=row.send_time,
                how=_(newsletters.SENT_BY[row.channel])),
            format_number(row.topics), format_number(row.given),
            (_("to export now") if row.id in due else
             format_datetime(row.next_send) if row.next_send else _("stopped")))
            for row in self.rows])
        if self.rows:
            self.table.selectRow(0)

    def _current(self) -> newsletters.SeriesRow | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def new(self) -> None:
        dialog = SeriesDialog(self.segment, None, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.message.say(_("Monthly newsletter saved."))
            self.refresh()

    def edit(self) -> None:
        current = self._current()
        if current is not None and SeriesDialog(None, current.id, self).exec() == \
                QDialog.DialogCode.Accepted:
            self.message.say(_("Monthly newsletter saved."))
            self.refresh()

    def export(self) -> None:
        current = self._current()
        if current is None:
            return
        name = safe_file_name(f"{current.name} {clock.today():%Y-%m}")
        path = ask_save_path(self, _("Export this month's letter"), name + ".csv",
                             _("CSV (*.csv)"))
        if path is not None:
            self.export_to(current.id, path)

    def export_to(self, series_id: int, path: Path) -> None:
        try:
            count = newsletters.export_month(series_id, path)
        except ValidationFailed as failed:
            self.message.say(next(iter(failed.errors.values())), error=True)
            return
        except (ExportError, session.PermissionDenied) as error:
            QMessageBox.warning(self, _("Export failed"), str(error))
            return
        self.message.say(ngettext(
            "{count} letter exported to {path}: send it from the clinic's mailbox or WhatsApp.",
            "{count} letters exported to {path}: send them from the clinic's mailbox or "
            "WhatsApp.", count).format(count=format_number(count), path=path))
        self.refresh()
