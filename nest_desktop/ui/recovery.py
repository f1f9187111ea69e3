"""The recovery window (issue 24): the database was found damaged at start. It lists the
copies with their date and contents and puts one in place once an administrator of that
copy has logged in — without the damaged database, which is kept aside, never deleted."""

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from nest_desktop.i18n import _, format_datetime, format_number
from nest_desktop.services import ValidationFailed, backup
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import ERROR_STYLE, FieldWithError, fill, read_only_table
from nest_desktop.ui.settings import workstation
from nest_desktop.ui.settings.desk_dialogs import password_edit


class RecoveryDialog(QDialog):
    def __init__(self, database_path: Path, problem: str, parent=None):
        super().__init__(parent)
        self.database_path = Path(database_path)
        self.setWindowTitle(_("NEST Desktop — the database is damaged"))
        intro = QLabel(_(
            "The clinic's database cannot be used: {problem}\n\nChoose the latest good copy "
            "and log in as an administrator of that copy to put it back. The damaged file "
            "is kept aside, not deleted. What was entered since the copy was made must be "
            "typed again.").format(problem=problem))
        intro.setWordWrap(True)
        self.table = read_only_table([_("Copy of"), _("Patients"), _("Users"), _("Size"),
                                      _("State")])
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 150)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.copies: list[backup.CopyFound] = []
        other = QPushButton(_("Another copy (USB drive…)…"))
        other.clicked.connect(self._choose_file)
        self.login = QLineEdit()
        self.password = password_edit()
        self.passphrase = password_edit()
        self.passphrase.setPlaceholderText(_("only for a sealed copy this PC cannot open"))
        self.fields = {"login": FieldWithError(self.login),
                       "password": FieldWithError(self.password),
                       "passphrase": FieldWithError(self.passphrase)}
        self.copy_error = QLabel()
        self.copy_error.setStyleSheet(ERROR_STYLE)
        self.copy_error.setWordWrap(True)
        self.copy_error.hide()
        restore = QPushButton(_("Restore this copy"))
        restore.setDefault(True)
        restore.clicked.connect(self.restore)
        quit_button = QPushButton(_("Quit"))
        quit_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(other)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.copy_error)
        form = QFormLayout()
        form.addRow(_("Administrator's login"), self.fields["login"])
        form.addRow(_("Password"), self.fields["password"])
        form.addRow(_("Clinic's passphrase"), self.fields["passphrase"])
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(quit_button)
        buttons.addWidget(restore)
        layout.addLayout(buttons)
        self.resize(760, 480)
        # each copy is read for its contents: off the GUI thread (a USB drive, big copies)
        self.copy_error.setText(_("Reading the copies…"))
        self.copy_error.setStyleSheet("")
        self.copy_error.show()
        folders = [Path(f) for f in workstation.backup_folders()]
        run_in_background(lambda: backup.recovery_copies(self.database_path, folders),
                          self._copies_read, owner=self)

    def _copies_read(self, copies: list[backup.CopyFound]) -> None:
        self.copy_error.hide()
        self.copy_error.setStyleSheet(ERROR_STYLE)
        self.show_copies(copies)

    def show_copies(self, copies: list[backup.CopyFound]) -> None:
        self.copies = copies
        fill(self.table, [(
            format_datetime(c.taken_at) if c.taken_at else c.path.name,
            format_number(c.counts["patient"]) if "patient" in c.counts else "",
            format_number(c.counts["user"]) if "user" in c.counts else "",
            _("{size} MB").format(size=format_number(round(c.size / 1_000_000, 1))),
            copy_state(c)) for c in copies])
        good = next((index for index, c in enumerate(copies) if not c.problem), None)
        if good is not None:
            self.table.selectRow(good)

    def _choose_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, _("A copy of the database"), "",
                                                    _("NEST copies (*.nestcopy *.sqlite3)"))
        if name:
            found = backup.describe_copy(Path(name))
            self.show_copies([found, *[c for c in self.copies if c.path != found.path]])
            self.table.selectRow(0)

    def restore(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        self.copy_error.hide()
        row = self.table.currentRow()
        if not 0 <= row < len(self.copies):
            self.copy_error.setText(_("Choose a copy in the list."))
            self.copy_error.show()
            return
        chosen = self.copies[row]
        try:
            self.aside = backup.recover(self.database_path, chosen.path, self.login.text(),
                                        self.password.text(), self.passphrase.text())
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            if "copy" in failed.errors:
                self.copy_error.setText(failed.errors["copy"])
                self.copy_error.show()
            self.password.clear()
            self.passphrase.clear()
            return
        self.chosen = chosen
        QMessageBox.information(self, _("Copy restored"), _(
            "The copy was put back. The damaged database is kept as {path}.").format(
            path=self.aside))
        self.accept()


def copy_state(found: backup.CopyFound) -> str:
    if found.problem:
        return found.problem
    if found.needs_passphrase:
        return _("sealed: type the clinic's passphrase")
    return _("good, sealed") if found.sealed else _("good")
