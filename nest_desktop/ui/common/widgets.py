"""Small widgets shared by the windows: a field with its message, a date entry, choice boxes."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QScrollArea,
    QStyle,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.i18n import _
from nest_desktop.services import desk
from nest_desktop.ui.common.notifier import changes

ERROR_STYLE = "color: #b00020;"


class FieldWithError(QWidget):
    """An input with the message about its value right below it."""

    def __init__(self, editor: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        # The message goes as soon as the field is corrected.
        for signal in ("textEdited", "currentIndexChanged", "toggled"):
            if hasattr(editor, signal):
                getattr(editor, signal).connect(lambda *_args: self.set_error(None))
                break
        else:
            if isinstance(editor, QPlainTextEdit):
                editor.textChanged.connect(lambda: self.set_error(None))

    def set_error(self, message: str | None) -> None:
        if not message and self.error.isHidden() and not self.error.text():
            return
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        if isinstance(self.editor, QLineEdit):
            # a red frame without the field changing size: a style sheet border alone
            # drops the native frame's height
            if message:
                self.editor.setMinimumHeight(self.editor.sizeHint().height())
            self.editor.setStyleSheet("QLineEdit { border: 1px solid #b00020; "
                                      "border-radius: 2px; padding: 1px 2px; }"
                                      if message else "")


class MessageLabel(QLabel):
    """The line under a form or a group that says what happened: green, or red when wrong."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)

    def say(self, text: str, error: bool = False) -> None:
        self.setStyleSheet(ERROR_STYLE if error else "color: #1b5e20;")
        self.setText(text)
        # the lines it wraps to, asked of the layout at once (a window of fixed height
        # otherwise keeps one line's room and clips a long message)
        self.setMinimumHeight(self.heightForWidth(max(self.width(), 300)) if text else 0)


class DateEdit(QLineEdit):
    """A date typed day first; checked by the service, which says what is wrong."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText(_("dd/mm/yyyy"))
        self.setMaxLength(10)
        self.setMaximumWidth(140)


def read_period(date_from: QLineEdit, date_to: QLineEdit,
                error: QLabel) -> tuple[dt.date | None, dt.date | None] | None:
    """The period typed in two date fields (either may be empty), or None once `error` says
    what is wrong with it."""
    from nest_desktop.services.people import typed_date

    errors, days = [], []
    for edit in (date_from, date_to):
        text = edit.text().strip()
        day = typed_date(text)
        if text and day is None:
            errors.append(_("Write the date as day/month/year, for example 23/11/2026."))
        days.append(day)
    if days[0] and days[1] and days[1] < days[0]:
        errors.append(_("The end of the period comes before its start."))
    error.setText(" ".join(dict.fromkeys(errors)))
    error.setVisible(bool(errors))
    return None if errors else (days[0], days[1])


def choice_box(choices: dict[str, str], empty_label: str | None = None) -> QComboBox:
    """A combo box of translated labels carrying their codes as data."""
    box = QComboBox()
    if empty_label is not None:
        box.addItem(empty_label, "")
    for code, label in choices.items():
        box.addItem(_(label), code)
    return box


def radio_choices(labels: dict[str, str], layout, owner: QWidget, columns: int = 0
                  ) -> tuple[QButtonGroup, dict[str, QRadioButton]]:
    """One radio button per code, labels already translated, added to `layout` (a grid of
    `columns` when given): the group and the buttons by code."""
    group, buttons = QButtonGroup(owner), {}
    for index, (code, label) in enumerate(labels.items()):
        button = QRadioButton(label)
        buttons[code] = button
        group.addButton(button)
        if columns:
            layout.addWidget(button, index // columns, index % columns)
        else:
            layout.addWidget(button)
    return group, buttons


def select_data(box: QComboBox, value) -> None:
    index = box.findData(value)
    box.setCurrentIndex(max(index, 0))


def row_of(*widgets: QWidget) -> QWidget:
    """The widgets side by side on one line, from the left."""
    holder = QWidget()
    line = QHBoxLayout(holder)
    line.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        line.addWidget(widget)
    line.addStretch(1)
    return holder


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold; font-size: 13pt;")
    label.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return label


def dialog_buttons(dialog: QDialog, on_accept: Callable[[], None],
                   save: bool = False) -> QDialogButtonBox:
    """OK (or Save) and Cancel: accepting calls `on_accept`, which closes the dialog itself
    once the input is right; Cancel rejects."""
    main = QDialogButtonBox.StandardButton.Save if save else QDialogButtonBox.StandardButton.Ok
    buttons = QDialogButtonBox(main | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(on_accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class SiteBox(QComboBox):
    """The NEST sites, with the site's id as data; a site added or renamed in Settings shows
    at once, the choice kept."""

    def __init__(self, selected_id: int | None = None, empty_label: str | None = None):
        super().__init__()
        self.setProperty("empty_label", empty_label)
        fill_site_box(self, selected_id)
        changes().sites.connect(self.refill)

    def refill(self) -> None:
        fill_site_box(self, self.currentData())


def site_box(selected_id: int | None = None, empty_label: str | None = None) -> SiteBox:
    """The NEST sites, with the site's id as data; `empty_label` adds a 'none' choice."""
    return SiteBox(selected_id, empty_label)


def fill_site_box(box: QComboBox, selected_id: int | None = None) -> None:
    """(Re)fills a box of `site_box` with the sites as they are now, the choice kept, without
    signalling a change."""
    blocked = box.blockSignals(True)
    try:
        box.clear()
        empty_label = box.property("empty_label")
        if empty_label is not None:
            box.addItem(empty_label, None)
        for site in desk.sites():
            box.addItem(site.name, site.id)
        if selected_id is not None:
            box.setCurrentIndex(max(box.findData(selected_id), 0))
    finally:
        box.blockSignals(blocked)


def scrolling(content: QWidget) -> QScrollArea:
    """A page or a tab that scrolls on a small screen (1366×768) rather than push the
    window's buttons off it; where there is room it simply fills the space."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def fit_columns(view: QTableView, stretched: int) -> None:
    """The columns as wide as their title and the rows on screen (a lazy model fetches only
    those: set the vertical header's resize precision to 0), the `stretched` one taking
    what is left."""
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.resizeColumnsToContents()
    headers_in_full(view)  # and never narrower than its title
    header.setSectionResizeMode(stretched, QHeaderView.ResizeMode.Stretch)


def headers_in_full(view: QTableView) -> None:
    """Each column at least as wide as its title ("Secrétaire", "Prochain appel", never
    "rochain appe"); a cell too long for its column ends with "…" and shows whole in its
    tooltip (the models give it). Columns that stretch or fit their content are left."""
    header = view.horizontalHeader()
    model = view.model()
    if model is None:
        return
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    margin = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 14
    for section in range(model.columnCount()):
        if header.sectionResizeMode(section) != QHeaderView.ResizeMode.Interactive:
            continue
        title = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
        needed = header.fontMetrics().horizontalAdvance(title) + margin
        if header.sectionSize(section) < needed:
            header.resizeSection(section, needed)


def read_only_table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setWordWrap(True)
    return table


def fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            table.setItem(row, column, QTableWidgetItem(value))
    table.resizeRowsToContents()


class ObjectSignal:
    """A signal carrying a Python object (a function making a document) between widgets.

    Not a Qt Signal(object): PySide6 6.12.0 drops a reference to each object emitted that
    way. Connected slots, or other ObjectSignals, are called in order, at once."""

    def __init__(self):
        self._slots: list = []

    def connect(self, slot) -> None:
        self._slots.append(slot)

    def emit(self, value) -> None:
        for slot in list(self._slots):
            slot(value)

    __call__ = emit


def ask_save_path(parent: QWidget, title: str, file_name: str, file_filter: str) -> Path | None:
    """Where to save a file: the dialog opens in the folder last used for a document or an
    export, else in Documents (never the program's folder); None when she gave up."""
    folder = QSettings().value("exports/folder", "") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    path, _selected = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / file_name),
                                                  file_filter)
    if not path:
        return None
    QSettings().setValue("exports/folder", str(Path(path).parent))
    return Path(path)
