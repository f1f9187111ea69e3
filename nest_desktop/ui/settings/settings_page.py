"""Settings: language, sites and users, backups (daily copy, back up now, restore)."""

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.db.server import ServerAddress, check_address, test_connection
from nest_desktop.domain import clock, permissions, phones
from nest_desktop.domain import reception as reception_rules
from nest_desktop.domain.permissions import ROLE_LABELS
from nest_desktop.i18n import (
    LANGUAGE_NAMES,
    _,
    current_language,
    format_age,
    format_date,
    format_datetime,
    format_number,
    ngettext,
)
from nest_desktop.services import (
    ValidationFailed,
    backup,
    desk,
    documents,
    exports,
    followup,
    history,
    reception,
    retention,
    session,
    settings,
)
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    FieldWithError,
    MessageLabel,
    ask_save_path,
    choice_box,
    dialog_buttons,
    fill,
    read_only_table,
    select_data,
    site_box,
)
from nest_desktop.ui.settings import workstation
from nest_desktop.ui.settings.desk_dialogs import (
    RecoveryCodeDialog,
    SiteUserForm,
    password_edit,
)
from nest_desktop.ui.settings.passphrase_dialog import PassphraseDialog, passphrase_state
from nest_desktop.ui.sms.sms_settings import SmsSettingsBox


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


class TemporaryPasswordDialog(QDialog):
    """An administrator gives a user a temporary password (forgotten, or locked out)."""

    def __init__(self, user_id: int, parent=None):
        super().__init__(parent)
        self.user_id = user_id
        self.setWindowTitle(_("Temporary password"))
        self.password = password_edit()
        self.confirmation = password_edit()
        self.field = FieldWithError(self.password)
        form = QFormLayout(self)
        form.addRow(_("Temporary password"), self.field)
        form.addRow(_("The password again"), self.confirmation)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(460, 0)

    def _save(self) -> None:
        try:
            session.reset_password(self.user_id, self.password.text(), self.confirmation.text())
        except ValidationFailed as failed:
            self.field.set_error(" ".join(failed.errors.values()))
            return
        self.accept()


class DirectoryEntryDialog(QDialog):
    """A service or a person of a site's directory: its internal number, how it is named
    when a call is put through (TEL-05), who reads its messages (TEL-07)."""

    def __init__(self, entry=None, site_id: int | None = None, parent=None):
        super().__init__(parent)
        self.entry = entry
        self.setWindowTitle(_("Edit the directory entry") if entry else _("New directory entry"))
        self.site = site_box(entry.site_id if entry else site_id)
        self.kind = choice_box(reception_rules.DIRECTORY_KINDS)
        self.name = QLineEdit(entry.name if entry else "")
        self.name.setMaxLength(100)
        self.said_as = QLineEdit(entry.said_as if entry else "")
        self.said_as.setMaxLength(120)
        self.said_as.setPlaceholderText(_("e.g. le service des admissions"))
        self.extension = QLineEdit(entry.extension if entry else "")
        self.extension.setMaxLength(20)
        self.user = QComboBox()
        self.user.addItem(_("Nobody"), None)
        for user in desk.users():
            self.user.addItem(user.full_name, user.id)
        self.service = QComboBox()  # a person's service
        self.appointments = QCheckBox(_("Takes appointments"))
        self.active = QCheckBox(_("In use"))
        self.active.setChecked(entry.active if entry else True)
        if entry:
            select_data(self.kind, entry.kind)
            select_data(self.user, entry.user_id)
            self.appointments.setChecked(entry.takes_appointments)
        self.fields = {"entry_site": FieldWithError(self.site),
                       "entry_kind": FieldWithError(self.kind),
                       "entry_name": FieldWithError(self.name),
                       "entry_said_as": FieldWithError(self.said_as),
                       "entry_extension": FieldWithError(self.extension),
                       "entry_service": FieldWithError(self.service)}
        self.phrase = QLabel()
        self.phrase.setWordWrap(True)
        self.phrase.setStyleSheet("color: #555555; font-style: italic;")
        form = QFormLayout(self)
        form.addRow(_("Site"), self.fields["entry_site"])
        form.addRow(_("Kind"), self.fields["entry_kind"])
        form.addRow(_("Name"), self.fields["entry_name"])
        form.addRow(_("Said as"), self.fields["entry_said_as"])
        form.addRow(_("Internal number"), self.fields["entry_extension"])
        form.addRow(_("Service (for a person)"), self.fields["entry_service"])
        form.addRow(_("Reads its messages"), self.user)
        hours = QPushButton(_("Its own opening hours…"))
        hours.setToolTip(_("When it takes appointments, if not the site's hours"))
        hours.setEnabled(entry is not None)
        hours.clicked.connect(self._hours)
        appointments_row = QHBoxLayout()
        appointments_row.addWidget(self.appointments)
        appointments_row.addWidget(hours)
        appointments_row.addStretch(1)
        form.addRow("", appointments_row)
        form.addRow("", self.active)
        form.addRow(self.phrase)
        form.addRow(dialog_buttons(self, self._save, save=True))
        for edit in (self.name, self.said_as):
            edit.textChanged.connect(self._show_phrase)
        self.kind.currentIndexChanged.connect(self._show_phrase)
        self.kind.currentIndexChanged.connect(lambda _index: self._fill_services())
        self.site.currentIndexChanged.connect(lambda _index: self._fill_services())
        self._fill_services(entry.service_id if entry else None)
        self._show_phrase()
        self.resize(560, 0)

    def _fill_services(self, selected: int | None = None) -> None:
        """The site's services a person may belong to."""
        if selected is None:
            selected = self.service.currentData()
        self.service.clear()
        self.service.addItem(_("None"), None)
        for other in reception.directory(self.site.currentData(), active_only=False):
            if other.kind == "service" and (self.entry is None or other.id != self.entry.id):
                self.service.addItem(other.name, other.id)
        select_data(self.service, selected)
        self.service.setEnabled(self.kind.currentData() == "person")

    def _hours(self) -> None:
        from nest_desktop.ui.settings.agenda_dialogs import OpeningHoursDialog

        OpeningHoursDialog(self.entry.site_id, self.entry.name, self.entry.id, self).exec()

    def _show_phrase(self) -> None:
        said = " ".join(self.said_as.text().split()) or reception_rules.said_as(
            self.kind.currentData(), self.name.text())
        self.phrase.setText("« " + reception_rules.transfer_phrase(said or "…") + " »")

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        form = reception.DirectoryForm(
            self.site.currentData(), self.kind.currentData(), self.name.text(),
            self.said_as.text(), self.extension.text(), self.user.currentData(),
            self.appointments.isChecked(), self.active.isChecked(),
            self.service.currentData() if self.kind.currentData() == "person" else None)
        try:
            reception.save_entry(form, self.entry.id if self.entry else None)
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
            return
        except session.PermissionDenied as refused:
            QMessageBox.warning(self, _("Not allowed"), str(refused))
            return
        self.accept()


def audit_report_text(report) -> str:
    before = (" " + ngettext("({count} older entry, written before the trail was sealed.)",
                             "({count} older entries, written before the trail was sealed.)",
                             report.before_chain).format(count=format_number(
                                 report.before_chain))) if report.before_chain else ""
    if report.broken_at is None:
        return ngettext("The trail is whole: {count} entry verified.",
                        "The trail is whole: {count} entries verified.",
                        report.checked).format(count=format_number(report.checked)) + before
    entry = report.broken_at
    what = (_("it was changed after it was written") if report.problem == "changed"
            else _("an entry before it was removed"))
    return _("The trail is broken at entry {id} of {when} ({action}, {user}): {what}. "
             "The {count} entries before it verify.").format(
        id=entry.id, when=format_datetime(entry.at), action=entry.action,
        user=entry.user_name or "—", what=what, count=format_number(report.checked))


class SettingsPage(QScrollArea):
    languageChanged = Signal(str)
    restoreRequested = Signal(Path)  # the main window closes the files, then restores

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        content = QWidget()
        layout = QVBoxLayout(content)
        self.admin_only: list[QWidget] = []  # enabled for the administrator only
        layout.addWidget(self._language_box())
        layout.addWidget(self._exports_box())
        layout.addWidget(self._follow_up_box())
        self.sms_box = SmsSettingsBox()
        layout.addWidget(self.sms_box)
        layout.addWidget(self._sites_box())
        layout.addWidget(self._directory_box())
        layout.addWidget(self._users_box())
        layout.addWidget(self._database_box())
        layout.addWidget(self._backup_box())
        layout.addWidget(self._audit_box())
        layout.addWidget(self._retention_box())
        layout.addStretch(1)
        self.setWidget(content)
        self.refresh_permissions()
        changes().desk.connect(self.refresh_permissions)
        changes().backups.connect(self.refresh_backups)

    def refresh_permissions(self) -> None:
        """What the person at the desk may change; the services refuse the rest anyway."""
        admin = session.may("settings.write")
        for widget in [*self.admin_only, *self.sms_box.admin_widgets]:
            widget.setEnabled(admin)
        self.audit_box.setVisible(session.may("audit.read"))

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
        box = QGroupBox(_("Exports and security"))
        self.csv_separator = QComboBox()
        self.csv_separator.addItem(_("; (Excel in French)"), ";")
        self.csv_separator.addItem(_(", (other spreadsheets)"), ",")
        self.csv_separator.setCurrentIndex(max(self.csv_separator.findData(
            exports.csv_separator()), 0))
        self.csv_separator.currentIndexChanged.connect(
            lambda: settings.put("export.csv_separator", self.csv_separator.currentData()))
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(0, 120)
        self.lock_minutes.setSuffix(" " + _("minutes"))
        self.lock_minutes.setSpecialValueText(_("never"))
        self.lock_minutes.setValue(int(settings.get("security.lock_minutes")))
        self.lock_minutes.valueChanged.connect(
            lambda value: settings.put("security.lock_minutes", int(value)))
        form = QFormLayout(box)
        form.addRow(_("Separator of CSV files"), self.csv_separator)
        form.addRow(_("Lock the screen after (takes effect at the next start)"),
                    self.lock_minutes)
        self.admin_only += [self.csv_separator, self.lock_minutes]
        return box

    # --- follow-ups and the pregnancy pathway --------------------------------------

    def _follow_up_box(self) -> QGroupBox:
        from PySide6.QtCore import QTime

        from nest_desktop.domain import pregnancy as pregnancy_rules

        box = QGroupBox(_("Follow-ups and pregnancies"))
        self.closing_time = QTimeEdit()
        self.closing_time.setDisplayFormat("HH:mm")
        hours, minutes = str(settings.get("followup.closing_time")).split(":")
        self.closing_time.setTime(QTime(int(hours), int(minutes)))
        self.closing_time.editingFinished.connect(lambda: settings.put(
            "followup.closing_time", self.closing_time.time().toString("HH:mm")))
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 60)
        self.horizon.setSuffix(" " + _("days"))
        self.horizon.setValue(int(settings.get("followup.horizon_days")))
        self.horizon.valueChanged.connect(
            lambda value: settings.put("followup.horizon_days", int(value)))
        self.convention = QComboBox()
        for code, label in pregnancy_rules.CONVENTIONS.items():
            self.convention.addItem(_(label), code)
        self.convention.setCurrentIndex(max(self.convention.findData(
            settings.get("pregnancy.convention")), 0))
        self.convention.currentIndexChanged.connect(
            lambda: settings.put("pregnancy.convention", self.convention.currentData()))
        self.tariffs = QTableWidget(0, 2)
        self.tariffs.setHorizontalHeaderLabels([_("Service"), _("Amount (FCFA)")])
        self.tariffs.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tariffs.verticalHeader().hide()
        self.tariffs.setMinimumHeight(140)
        for label, amount in settings.get("pregnancy.tariffs") or []:
            self._add_tariff_row(str(label), format_number(int(amount)))
        add_row = QPushButton(_("Add a line"))
        add_row.clicked.connect(lambda: self._add_tariff_row("", ""))
        self.group_link = QLineEdit(str(settings.get("pregnancy.mothers_group_link") or ""))
        self.group_link.setPlaceholderText("https://chat.whatsapp.com/…")
        self.group_link_field = FieldWithError(self.group_link)
        save_pack = QPushButton(_("Save the tariffs and the link"))
        save_pack.clicked.connect(self.save_pack_settings)
        self.pack_message = MessageLabel()
        form = QFormLayout(box)
        form.addRow(_("Same-day requests are dealt with by"), self.closing_time)
        form.addRow(_("Today shows the follow-ups due within"), self.horizon)
        form.addRow(_("Due date convention"), self.convention)
        form.addRow(_("Tariffs in the 36-week pack"), self.tariffs)
        form.addRow("", add_row)
        form.addRow(_("Mothers' group link (QR code)"), self.group_link_field)
        form.addRow("", save_pack)
        form.addRow(self.pack_message)
        form.addRow(QLabel("<b>{}</b>".format(_("Procedures the follow-ups apply"))))
        form.addRow(self._procedures_table())
        self.admin_only += [self.closing_time, self.horizon, self.convention, self.tariffs,
                            add_row, self.group_link, save_pack]
        return box

    def _procedures_table(self) -> QTableWidget:
        """Which version of each procedure the rules implement, for an audit."""
        applied = followup.procedures_applied()
        self.procedures = read_only_table([_("Procedure"), _("Code"), _("Revision (I.E.)"),
                                           _("Pilot"), _("Calls and surveys")])
        fill(self.procedures, [(
            item.title, item.code or _("no code on the document"),
            (item.revision + (" — " + format_date(item.date) if item.date else ""))
            if item.revision else _("none on the document"), item.pilot,
            ", ".join(item.rules)) for item in applied])
        self.procedures.resizeColumnsToContents()
        self.procedures.horizontalHeader().setSectionResizeMode(
            4, QHeaderView.ResizeMode.Stretch)
        self.procedures.setWordWrap(True)
        self.procedures.resizeRowsToContents()
        self.procedures.setMinimumHeight(140)
        return self.procedures

    def _add_tariff_row(self, label: str, amount: str) -> None:
        row = self.tariffs.rowCount()
        self.tariffs.insertRow(row)
        self.tariffs.setItem(row, 0, QTableWidgetItem(label))
        self.tariffs.setItem(row, 1, QTableWidgetItem(amount))

    def save_pack_settings(self) -> None:
        from nest_desktop.services import pregnancy as pregnancy_service

        rows = [(self.tariffs.item(r, 0).text() if self.tariffs.item(r, 0) else "",
                 self.tariffs.item(r, 1).text() if self.tariffs.item(r, 1) else "")
                for r in range(self.tariffs.rowCount())]
        self.group_link_field.set_error(None)
        try:
            pregnancy_service.save_pack_settings(rows, self.group_link.text())
        except ValidationFailed as failed:
            self.group_link_field.set_error(failed.errors.get("group_link"))
            lines = [m for k, m in failed.errors.items() if k.startswith("tariff_")]
            self.pack_message.say(" ".join(lines) or _("Check the fields marked."), error=True)
            return
        except session.PermissionDenied as refused:
            self.pack_message.say(str(refused), error=True)
            return
        self.pack_message.say(_("Saved: the next packs print these tariffs."))

    # --- sites and users -----------------------------------------------------------

    def _sites_box(self) -> QGroupBox:
        box = QGroupBox(_("NEST sites"))
        self.sites_list = QListWidget()
        self.sites_list.setMaximumHeight(110)
        add, edit = QPushButton(_("Add a site…")), QPushButton(_("Edit…"))
        hours = QPushButton(_("Opening hours and closed days…"))
        add.clicked.connect(lambda: self._site_dialog(None))
        edit.clicked.connect(self._edit_site)
        hours.clicked.connect(self._site_hours)
        self.admin_only += [add, edit, hours]
        self.sites_list.itemActivated.connect(self._edit_site)
        layout = QVBoxLayout(box)
        layout.addWidget(self.sites_list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(edit)
        row.addWidget(hours)
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
        if not session.may("sites.manage"):
            return
        if item is not None:
            self._site_dialog(desk.get_site(item.data(Qt.ItemDataRole.UserRole)))

    def _site_hours(self) -> None:
        from nest_desktop.ui.settings.agenda_dialogs import OpeningHoursDialog

        item = self.sites_list.currentItem() or self.sites_list.item(0)
        if item is None or not session.may("directory.manage"):
            return
        site = desk.get_site(item.data(Qt.ItemDataRole.UserRole))
        OpeningHoursDialog(site.id, site.name, parent=self).exec()

    def _site_dialog(self, site) -> None:
        if SiteDialog(site, self).exec() == QDialog.DialogCode.Accepted:
            self._refresh_sites()
            changes().sites.emit()  # every box of sites refills itself

    def _directory_box(self) -> QGroupBox:
        """Each site's services and people, with their internal numbers (TEL-05, TEL-09)."""
        box = QGroupBox(_("Phone directory of the sites"))
        self.directory = read_only_table([_("Site"), _("Name"), _("Internal number"),
                                          _("Appointments"), _("Messages read by"),
                                          _("In use")])
        self.directory.setMinimumHeight(160)
        self.directory.doubleClicked.connect(lambda _index: self._edit_entry())
        self.directory_ids: list[int] = []
        add, edit = QPushButton(_("Add…")), QPushButton(_("Edit…"))
        add.clicked.connect(lambda: self._entry_dialog(None))
        edit.clicked.connect(self._edit_entry)
        self.admin_only += [add, edit]
        layout = QVBoxLayout(box)
        layout.addWidget(self.directory)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(edit)
        row.addStretch(1)
        layout.addLayout(row)
        self._refresh_directory()
        return box

    def _refresh_directory(self) -> None:
        entries = reception.directory(None, active_only=False)
        self.directory_ids = [entry.id for entry in entries]
        fill(self.directory, [(entry.site.name, entry.name, entry.extension,
                               _("yes") if entry.takes_appointments else "",
                               entry.user.full_name if entry.user_id else "",
                               _("yes") if entry.active else _("no")) for entry in entries])
        self.directory.resizeColumnsToContents()

    def _edit_entry(self) -> None:
        row = self.directory.currentRow()
        if session.may("directory.manage") and 0 <= row < len(self.directory_ids):
            self._entry_dialog(reception.get_entry(self.directory_ids[row]))

    def _entry_dialog(self, entry) -> None:
        site_id = self.workstation_site.currentData()
        if DirectoryEntryDialog(entry, site_id, self).exec() == QDialog.DialogCode.Accepted:
            self._refresh_directory()
            changes().sites.emit()

    def _users_box(self) -> QGroupBox:
        box = QGroupBox(_("Users"))
        self.users_list = QListWidget()
        self.users_list.setMaximumHeight(140)
        add = QPushButton(_("Add a user…"))
        add.clicked.connect(self._add_user)
        toggle = QPushButton(_("Disable / enable"))
        toggle.clicked.connect(self._toggle_user)
        reset = QPushButton(_("Temporary password…"))
        reset.clicked.connect(self._reset_password)
        recovery = QPushButton(_("New recovery code…"))
        recovery.clicked.connect(self.new_recovery_code)
        self.recovery_state = QLabel()
        self.recovery_state.setWordWrap(True)
        self.users_message = MessageLabel()
        layout = QVBoxLayout(box)
        layout.addWidget(self.users_list)
        row = QHBoxLayout()
        for button in (add, toggle, reset, recovery):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.recovery_state)
        layout.addWidget(self.users_message)
        self.admin_only += [add, toggle, reset, recovery]
        self._refresh_users()
        return box

    def new_recovery_code(self) -> None:
        answer = QMessageBox.question(
            self, _("New recovery code"),
            _("Make a new administrators' recovery code? The printed one stops working."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            RecoveryCodeDialog(desk.new_recovery_code(), self).exec()
            self._refresh_users()

    def _refresh_users(self) -> None:
        made = desk.recovery_code_made()
        self.recovery_state.setText(
            _("Recovery code in force: made on {date} by {name}.").format(
                date=format_datetime(dt.datetime.fromisoformat(made["made_at"])),
                name=made["made_by"]) if made else
            _("No recovery code in force (used, or never made): make one and lock it away."))
        self.recovery_state.setStyleSheet("" if made else ERROR_STYLE)
        self.users_list.clear()
        for user in desk.all_users():
            site = f" — {user.site.name}" if user.site else ""
            state = "" if user.active else " — " + _("disabled")
            if user.failed_logins:  # someone is trying her password: the administrators see
                state += " — " + ngettext("{count} wrong password in a row",
                                          "{count} wrong passwords in a row",
                                          user.failed_logins).format(count=user.failed_logins)
            item = QListWidgetItem(f"{user.full_name} ({user.login}) — "
                                   f"{_(ROLE_LABELS[user.role])}{site}{state}")
            if user.failed_logins >= permissions.FREE_ATTEMPTS:
                item.setForeground(QColor("#b00020"))
            item.setData(Qt.ItemDataRole.UserRole, (user.id, user.active))
            self.users_list.addItem(item)

    def _selected_user(self) -> tuple[int, bool] | None:
        item = self.users_list.currentItem()
        if item is None:
            self.users_message.say(_("Choose a user in the list."), error=True)
            return None
        return item.data(Qt.ItemDataRole.UserRole)

    def _toggle_user(self) -> None:
        selected = self._selected_user()
        if selected is None:
            return
        user_id, active = selected
        try:
            session.set_active(user_id, not active)
        except (ValidationFailed, session.PermissionDenied) as error:
            message = (" ".join(error.errors.values()) if isinstance(error, ValidationFailed)
                       else str(error))
            self.users_message.say(message, error=True)
            return
        self._refresh_users()
        self.users_message.say(_("Account enabled.") if not active else _("Account disabled."))

    def _reset_password(self) -> None:
        selected = self._selected_user()
        if selected is not None and TemporaryPasswordDialog(selected[0], self).exec():
            self.users_message.say(_("Temporary password set: the user chooses her own at her next "
                              "login."))

    def _add_user(self) -> None:
        if UserDialog(self).exec() == QDialog.DialogCode.Accepted:
            self._refresh_users()

    # --- backups -------------------------------------------------------------------

    def _backup_box(self) -> QGroupBox:
        box = QGroupBox(_("Backups"))
        layout = QVBoxLayout(box)
        self.backup_status = MessageLabel()
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
        self.admin_only.append(choose)
        self.admin_only.append(self.keep_days)
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton(_("Restore the selected copy…"))
        self.restore_button.clicked.connect(self._restore_selected)
        restore_file = QPushButton(_("Restore from a file…"))
        restore_file.clicked.connect(self._restore_file)
        self.passphrase_state = MessageLabel()
        self.passphrase_button = QPushButton(_("Clinic's passphrase…"))
        self.passphrase_button.clicked.connect(self._passphrase)
        self.admin_only += [self.restore_button, restore_file, self.passphrase_button]
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        form = QFormLayout()
        form.addRow(_("Folder (a USB drive or a network share is safer)"), folder_row)
        form.addRow(_("Keep the copies for"), self.keep_days)
        layout.addWidget(QLabel(_("A copy of the database is made every day while the "
                                  "application runs.")))
        layout.addLayout(form)
        sealing = QHBoxLayout()
        sealing.addWidget(self.passphrase_state, 1)
        sealing.addWidget(self.passphrase_button)
        layout.addLayout(sealing)
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

    # --- database ---------------------------------------------------------------------

    def _database_box(self) -> QGroupBox:
        """Where this workstation's data is: its own file, or the clinic's shared server."""
        box = QGroupBox(_("Database of this workstation"))
        address = workstation.server_address()
        self.use_server = QCheckBox(_("Use the clinic's shared PostgreSQL server"))
        self.use_server.setChecked(address is not None)
        self.server_host = QLineEdit(address.host if address else "")
        self.server_host.setPlaceholderText("192.168.1.10")
        self.server_port = QSpinBox()
        self.server_port.setRange(1, 65535)
        self.server_port.setValue(address.port if address else 5432)
        self.server_name = QLineEdit(address.name if address else "nest")
        self.server_user = QLineEdit(address.user if address else "nest")
        self.server_password = password_edit()
        self.server_fields = {name: FieldWithError(editor) for name, editor in (
            ("host", self.server_host), ("port", self.server_port),
            ("name", self.server_name), ("user", self.server_user))}
        test = QPushButton(_("Test the connection"))
        test.clicked.connect(self.test_server)
        save = QPushButton(_("Save (applies at the next start)"))
        save.clicked.connect(self.save_server)
        self.server_message = MessageLabel()
        form = QFormLayout(box)
        self.workstation_site = site_box(
            int(QSettings().value("desk/site_id", 0) or 0) or None)
        self.workstation_site.currentIndexChanged.connect(
            lambda: QSettings().setValue("desk/site_id", self.workstation_site.currentData()))
        form.addRow(_("This workstation's site (lists show it first)"), self.workstation_site)
        form.addRow(self.use_server)
        form.addRow(_("Server"), self.server_fields["host"])
        form.addRow(_("Port"), self.server_fields["port"])
        form.addRow(_("Database"), self.server_fields["name"])
        form.addRow(_("User"), self.server_fields["user"])
        form.addRow(_("Password"), self.server_password)
        buttons = QHBoxLayout()
        buttons.addWidget(test)
        buttons.addWidget(save)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.server_message)
        self.admin_only += [self.workstation_site, self.use_server, save]
        server_widgets = [*self.server_fields.values(), self.server_password, test]
        self.use_server.toggled.connect(
            lambda checked: [widget.setEnabled(checked) for widget in server_widgets])
        for widget in server_widgets:
            widget.setEnabled(self.use_server.isChecked())
        return box

    def _server_address(self) -> ServerAddress | None:
        address = ServerAddress(self.server_host.text().strip(), self.server_port.value(),
                                self.server_name.text().strip(),
                                self.server_user.text().strip())
        errors = check_address(address)
        for name, field in self.server_fields.items():
            field.set_error(errors.get(name))
        return None if errors else address

    def test_server(self, then=None) -> None:
        """Connects off the GUI thread (an unreachable server takes seconds to say so);
        `then(address)` runs once the connection works."""
        address = self._server_address()
        if address is None:
            return
        url = address.url(self.server_password.text())
        self.server_message.say(_("Testing the connection…"))

        def works(_result) -> None:
            self.server_message.say(_("Connection works."))
            if then:
                then(address)

        def fails(error: Exception) -> None:
            self.server_message.say(str(error), error=True)

        run_in_background(lambda: test_connection(url), works, fails, owner=self)

    def save_server(self) -> None:
        if not self.use_server.isChecked():
            workstation.use_embedded_database()
            self.server_message.say(_("This workstation will use its own database at the next "
                               "start."))
            return
        self.test_server(then=self._remember_server)

    def _remember_server(self, address: ServerAddress) -> None:
        in_keyring = workstation.save_server(address, self.server_password.text())
        self.server_message.say(
            _("Saved: the shared server is used from the next start.")
            + ("" if in_keyring else " " + _("This computer has no keyring: the password is "
                                             "kept in the user's settings.")))

    # --- audit trail ------------------------------------------------------------------

    def _audit_box(self) -> QGroupBox:
        self.audit_box = QGroupBox(_("Audit trail"))
        self.audit_days = QSpinBox()
        self.audit_days.setRange(1, 3650)
        self.audit_days.setValue(90)
        self.audit_days.setSuffix(" " + _("days"))
        export = QPushButton(_("Export the audit trail (CSV)…"))
        export.clicked.connect(self._export_audit)
        self.audit_message = QLabel()
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Entries of the last")))
        row.addWidget(self.audit_days)
        row.addWidget(export)
        self.verify_button = QPushButton(_("Verify the trail"))
        self.verify_button.clicked.connect(self.verify_audit)
        row.addWidget(self.verify_button)
        row.addStretch(1)
        self.audit_message.setWordWrap(True)
        layout = QVBoxLayout(self.audit_box)
        layout.addLayout(row)
        layout.addWidget(self.audit_message)
        return self.audit_box

    # --- retention of records (ISO 9001 §7.5.3) ---------------------------------------

    def _retention_box(self) -> QGroupBox:
        box = self.retention_box = QGroupBox(_("Retention of records"))
        grid = QGridLayout()
        for column, title in enumerate((_("Records"), _("Kept for"), _("How many"),
                                        _("The oldest"), _("Past their retention"), "")):
            label = QLabel(f"<b>{title}</b>")
            grid.addWidget(label, 0, column)
        self.retention_years: dict[str, QSpinBox] = {}
        self.retention_counts: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        self.purge_buttons: dict[str, QPushButton] = {}
        self.retention_ages: dict[str, retention.Age] = {}
        for row, (kind, label) in enumerate(retention.KINDS.items(), start=1):
            years = QSpinBox()
            years.setRange(1, retention.MAX_YEARS)
            years.setSuffix(" " + _("years"))
            purge = QPushButton(_("Purge…"))
            purge.clicked.connect(lambda _checked=False, kind=kind: self.purge(kind))
            counts = (QLabel(), QLabel(), QLabel())
            grid.addWidget(QLabel(_(label)), row, 0)
            grid.addWidget(years, row, 1)
            for column, widget in enumerate(counts, start=2):
                grid.addWidget(widget, row, column)
            grid.addWidget(purge, row, 5)
            self.retention_years[kind] = years
            self.retention_counts[kind] = counts
            self.purge_buttons[kind] = purge
            self.admin_only.append(years)
        grid.setColumnStretch(6, 1)
        save = QPushButton(_("Save the periods"))
        save.clicked.connect(self.save_retention)
        self.admin_only.append(save)
        self.retention_message = MessageLabel()
        explanation = QLabel(_("Nothing is ever deleted by itself: records past their period "
                               "stay until an administrator purges them here, and each purge "
                               "is written in the audit trail."))
        explanation.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(save)
        buttons.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(explanation)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.retention_message)
        return box

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh_retention()

    def refresh_retention(self) -> None:
        """The records' age, counted off the GUI thread (a large register)."""
        run_in_background(retention.ages, self._show_retention, owner=self)

    def _show_retention(self, ages: list) -> None:
        today = clock.today()
        admin = session.may("records.purge")
        self.retention_ages = {age.kind: age for age in ages}  # what a purge is asked about
        for age in ages:
            self.retention_years[age.kind].setValue(age.years)
            count, oldest, past = self.retention_counts[age.kind]
            count.setText(format_number(age.records))
            oldest.setText(_("{date} ({age})").format(
                date=format_date(age.oldest), age=format_age(age.oldest, today))
                if age.oldest else "—")
            past.setText(_("{count} from before {date}").format(
                count=format_number(age.past_retention), date=format_date(age.cutoff.date()))
                if age.past_retention else _("none"))
            self.purge_buttons[age.kind].setEnabled(admin and age.past_retention > 0)

    def save_retention(self) -> None:
        try:
            retention.set_policies({kind: spin.value()
                                    for kind, spin in self.retention_years.items()})
        except (ValidationFailed, session.PermissionDenied) as refused:
            self.retention_message.say(
                " ".join(refused.errors.values()) if isinstance(refused, ValidationFailed)
                else str(refused), error=True)
            return
        self.retention_message.say(_("Saved."))
        self.refresh_retention()

    def purge(self, kind: str) -> None:
        """Asked once more, with what the list shows will go; done off the GUI thread."""
        age = self.retention_ages.get(kind)
        if age is None or not age.past_retention:
            return
        answer = QMessageBox.question(
            self, _("Purge records"),
            _("Delete for good {count} records of “{kind}” from before {date}? They cannot be "
              "brought back, except from a backup made before. The purge is written in the "
              "audit trail.").format(count=format_number(age.past_retention),
                                     kind=_(retention.KINDS[kind]),
                                     date=format_date(age.cutoff.date())),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.retention_message.say(_("Purging…"))

        def done(removed: int) -> None:
            self.retention_message.say(_("{count} records deleted.").format(
                count=format_number(removed)))
            self.refresh_retention()

        def failed(error: Exception) -> None:
            self.retention_message.say(str(error), error=True)

        run_in_background(lambda: retention.purge(kind), done, failed, owner=self)

    def verify_audit(self) -> None:
        """Every entry checked against its seal, off the GUI thread (a long trail)."""
        self.verify_button.setEnabled(False)
        self.audit_message.setStyleSheet("")
        self.audit_message.setText(_("Verifying the trail…"))

        def done(report) -> None:
            self.verify_button.setEnabled(True)
            self.audit_message.setText(audit_report_text(report))
            self.audit_message.setStyleSheet(ERROR_STYLE if report.broken_at else "")

        def failed(error: Exception) -> None:
            self.verify_button.setEnabled(True)
            self.audit_message.setText(str(error))

        run_in_background(history.verify_trail, done, failed, owner=self)

    def _export_audit(self) -> None:
        name = exports.safe_file_name(_("Audit trail {date}").format(
            date=clock.today().isoformat())) + ".csv"
        path = ask_save_path(self, _("Export the audit trail"), name, _("CSV (*.csv)"))
        if path is None:
            return
        since = clock.now() - dt.timedelta(days=self.audit_days.value())
        self.audit_message.setText(_("Exporting…"))
        run_in_background(
            lambda: documents.audit_csv(Path(path), since),
            lambda count: self.audit_message.setText(
                _("{count} entries exported to {path}").format(
                    count=format_number(count), path=path)),
            lambda error: self.audit_message.setText(str(error)), owner=self)

    def refresh_backups(self) -> None:
        self.backups_list.clear()
        # the keyring and the key's derivation take a while the first time: off the GUI thread
        run_in_background(passphrase_state,
                          lambda state: self.passphrase_state.say(state[0], error=state[1]),
                          owner=self)
        for copy in backup.backups():
            size = format_number(round(copy.size / 1024 / 1024, 1))
            item = QListWidgetItem(_("{when} — {size} MB").format(
                when=format_datetime(copy.taken_at), size=size)
                + (" — " + _("sealed") if copy.path.suffix == backup.SEALED_SUFFIX else ""))
            item.setData(Qt.ItemDataRole.UserRole, str(copy.path))
            self.backups_list.addItem(item)
        alert = backup.damage_alert()
        if alert:  # until a good copy is made again (a restore, or the damage repaired)
            self.backup_status.say(_("On {when} the backup found the database damaged: "
                                     "{detail}").format(
                when=format_datetime(dt.datetime.fromisoformat(alert["at"])),
                detail=alert["detail"]), error=True)

    def _passphrase(self) -> None:
        dialog = PassphraseDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            changes().backups.emit()
            self.backup_status.say(_("Passphrase saved. {where}").format(where=dialog.where))

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Backup folder"), self.folder.text())
        if folder:
            settings.put("backup.folder", folder)
            self.folder.setText(folder)
            self.refresh_backups()

    def back_up_now(self) -> None:
        self.back_up_button.setEnabled(False)
        self.backup_status.say(_("Backing up…"))

        def done(copy: backup.Backup) -> None:
            self.back_up_button.setEnabled(True)
            self.backup_status.say(_("Copy written: {path}").format(path=copy.path))
            workstation.remember_backup_folder(copy.path.parent)
            self.refresh_backups()

        def failed(error: Exception) -> None:
            self.back_up_button.setEnabled(True)
            self.backup_status.say(str(error), error=True)

        run_in_background(backup.back_up_now, done, failed, owner=self)

    def _restore_selected(self) -> None:
        item = self.backups_list.currentItem()
        if item is None:
            self.backup_status.say(_("Choose the copy to restore in the list."), error=True)
            return
        self._confirm_restore(Path(item.data(Qt.ItemDataRole.UserRole)), item.text())

    def _restore_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Restore from a file"), self.folder.text(),
            _("Database copies (*.nestcopy *.sqlite3)"))
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
