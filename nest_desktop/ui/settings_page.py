"""Settings: language, sites and users, backups (daily copy, back up now, restore)."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import phones
from nest_desktop.i18n import LANGUAGE_NAMES, _, current_language, format_datetime, format_number
from nest_desktop.services import ValidationFailed, backup, desk, exports, settings
from nest_desktop.ui.desk_dialogs import SiteUserForm
from nest_desktop.ui.tasks import run_in_background
from nest_desktop.ui.widgets import ERROR_STYLE, dialog_buttons, site_box


class SiteDialog(QDialog):
    def __init__(self, site=None, parent=None):
        super().__init__(parent)
        self.site = site
        self.setWindowTitle(_("Edit the site") if site else _("New site"))
        form = QFormLayout(self)
        self.fields = SiteUserForm(form, with_site=True, with_user=False)
        if site:
            self.fields.site_name.setText(site.name)
            self.fields.site_phone.setText(phones.display(site.phone) if site.phone else "")
            self.fields.site_address.setText(site.address)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 0)

    def _save(self) -> None:
        try:
            if self.site:
                desk.update_site(self.site.id, self.fields.site_form())
            else:
                desk.create_site(self.fields.site_form())
        except ValidationFailed as failed:
            self.fields.show_errors(failed.errors)
            return
        self.accept()


class UserDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("New user"))
        form = QFormLayout(self)
        self.fields = SiteUserForm(form, with_site=False, with_user=True, with_role=True)
        self.site = site_box()
        form.addRow(_("Site"), self.site)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 0)

    def _save(self) -> None:
        try:
            desk.create_user(self.fields.user_form(site_id=self.site.currentData()))
        except ValidationFailed as failed:
            self.fields.show_errors(failed.errors)
            return
        self.accept()


class SettingsPage(QScrollArea):
    languageChanged = Signal(str)
    restoreRequested = Signal(Path)  # the main window closes the files, then restores

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._language_box())
        layout.addWidget(self._exports_box())
        layout.addWidget(self._sites_box())
        layout.addWidget(self._users_box())
        layout.addWidget(self._backup_box())
        layout.addStretch(1)
        self.setWidget(content)

    # --- language ------------------------------------------------------------------

    def _language_box(self) -> QGroupBox:
        box = QGroupBox(_("Language"))
        self.language = QComboBox()
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(self.language.findData(current_language()))
        self.language.currentIndexChanged.connect(
            lambda: self.languageChanged.emit(self.language.currentData()))
        form = QFormLayout(box)
        form.addRow(_("Language of the interface"), self.language)
        return box

    def _exports_box(self) -> QGroupBox:
        box = QGroupBox(_("Exports"))
        self.csv_separator = QComboBox()
        self.csv_separator.addItem(_("; (Excel in French)"), ";")
        self.csv_separator.addItem(_(", (other spreadsheets)"), ",")
        self.csv_separator.setCurrentIndex(max(self.csv_separator.findData(
            exports.csv_separator()), 0))
        self.csv_separator.currentIndexChanged.connect(
            lambda: settings.put("export.csv_separator", self.csv_separator.currentData()))
        form = QFormLayout(box)
        form.addRow(_("Separator of CSV files"), self.csv_separator)
        return box

    # --- sites and users -----------------------------------------------------------

    def _sites_box(self) -> QGroupBox:
        box = QGroupBox(_("NEST sites"))
        self.sites_list = QListWidget()
        self.sites_list.setMaximumHeight(110)
        add, edit = QPushButton(_("Add a site…")), QPushButton(_("Edit…"))
        add.clicked.connect(lambda: self._site_dialog(None))
        edit.clicked.connect(self._edit_site)
        self.sites_list.itemActivated.connect(self._edit_site)
        layout = QVBoxLayout(box)
        layout.addWidget(self.sites_list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(edit)
        row.addStretch(1)
        layout.addLayout(row)
        self._refresh_sites()
        return box

    def _refresh_sites(self) -> None:
        self.sites_list.clear()
        for site in desk.sites():
            text = site.name + (f" — {phones.display(site.phone)}" if site.phone else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, site.id)
            self.sites_list.addItem(item)

    def _edit_site(self) -> None:
        item = self.sites_list.currentItem()
        if item is not None:
            self._site_dialog(desk.get_site(item.data(Qt.ItemDataRole.UserRole)))

    def _site_dialog(self, site) -> None:
        if SiteDialog(site, self).exec() == QDialog.DialogCode.Accepted:
            self._refresh_sites()

    def _users_box(self) -> QGroupBox:
        box = QGroupBox(_("Users"))
        self.users_list = QListWidget()
        self.users_list.setMaximumHeight(140)
        add = QPushButton(_("Add a user…"))
        add.clicked.connect(self._add_user)
        layout = QVBoxLayout(box)
        layout.addWidget(self.users_list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addStretch(1)
        layout.addLayout(row)
        self._refresh_users()
        return box

    def _refresh_users(self) -> None:
        self.users_list.clear()
        for user in desk.users():
            site = f" — {user.site.name}" if user.site else ""
            self.users_list.addItem(f"{user.full_name} ({user.phone_first_name}) — "
                                    f"{_(desk.ROLE_LABELS[user.role])}{site}")

    def _add_user(self) -> None:
        if UserDialog(self).exec() == QDialog.DialogCode.Accepted:
            self._refresh_users()

    # --- backups -------------------------------------------------------------------

    def _backup_box(self) -> QGroupBox:
        box = QGroupBox(_("Backups"))
        layout = QVBoxLayout(box)
        self.backup_status = QLabel()
        self.backup_status.setWordWrap(True)
        try:
            backup.database_file()
        except backup.BackupError as error:
            layout.addWidget(QLabel(str(error)))
            return box
        self.folder = QLineEdit(str(backup.backup_folder()))
        self.folder.setReadOnly(True)
        choose = QPushButton(_("Choose…"))
        choose.clicked.connect(self._choose_folder)
        self.keep_days = QSpinBox()
        self.keep_days.setRange(1, 3650)
        self.keep_days.setSuffix(" " + _("days"))
        self.keep_days.setValue(int(settings.get("backup.keep_days")))
        self.keep_days.valueChanged.connect(lambda v: settings.put("backup.keep_days", int(v)))
        self.backups_list = QListWidget()
        self.backups_list.setMaximumHeight(150)
        self.back_up_button = QPushButton(_("Back up now"))
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton(_("Restore the selected copy…"))
        self.restore_button.clicked.connect(self._restore_selected)
        restore_file = QPushButton(_("Restore from a file…"))
        restore_file.clicked.connect(self._restore_file)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        form = QFormLayout()
        form.addRow(_("Folder (a USB drive or a network share is safer)"), folder_row)
        form.addRow(_("Keep the copies for"), self.keep_days)
        layout.addWidget(QLabel(_("A copy of the database is made every day while the "
                                  "application runs.")))
        layout.addLayout(form)
        layout.addWidget(self.backups_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_up_button)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(restore_file)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.backup_status)
        self.refresh_backups()
        return box

    def refresh_backups(self) -> None:
        self.backups_list.clear()
        for copy in backup.backups():
            size = format_number(round(copy.size / 1024 / 1024, 1))
            item = QListWidgetItem(_("{when} — {size} MB").format(
                when=format_datetime(copy.taken_at), size=size))
            item.setData(Qt.ItemDataRole.UserRole, str(copy.path))
            self.backups_list.addItem(item)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Backup folder"), self.folder.text())
        if folder:
            settings.put("backup.folder", folder)
            self.folder.setText(folder)
            self.refresh_backups()

    def _say(self, text: str, error: bool = False) -> None:
        self.backup_status.setStyleSheet(ERROR_STYLE if error else "")
        self.backup_status.setText(text)

    def back_up_now(self) -> None:
        self.back_up_button.setEnabled(False)
        self._say(_("Backing up…"))

        def done(copy: backup.Backup) -> None:
            self.back_up_button.setEnabled(True)
            self._say(_("Copy written: {path}").format(path=copy.path))
            self.refresh_backups()

        def failed(error: Exception) -> None:
            self.back_up_button.setEnabled(True)
            self._say(str(error), error=True)

        run_in_background(backup.back_up_now, done, failed, owner=self)

    def _restore_selected(self) -> None:
        item = self.backups_list.currentItem()
        if item is None:
            self._say(_("Choose the copy to restore in the list."), error=True)
            return
        self._confirm_restore(Path(item.data(Qt.ItemDataRole.UserRole)), item.text())

    def _restore_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Restore from a file"), self.folder.text(), _("Database copies (*.sqlite3)"))
        if path:
            self._confirm_restore(Path(path), path)

    def _confirm_restore(self, path: Path, label: str) -> None:
        answer = QMessageBox.warning(
            self, _("Restore a copy"),
            _("Replace all the data of this workstation by the copy “{copy}”?\n\n"
              "The current data is backed up first, so this can be undone.").format(copy=label),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.restoreRequested.emit(path)
