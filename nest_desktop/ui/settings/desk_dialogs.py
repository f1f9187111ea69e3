"""The first run (the site and the first administrator), logging in at the desk, the
administrators' recovery code, and changing one's password."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from nest_desktop.domain import permissions
from nest_desktop.domain.permissions import ROLE_LABELS
from nest_desktop.i18n import _
from nest_desktop.services import ValidationFailed, desk, documents, session
from nest_desktop.ui.common.widgets import (
    FieldWithError,
    choice_box,
    dialog_buttons,
    section_title,
    site_box,
)


def password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(200)
    return edit


class SiteUserForm:
    """The fields of a site and of a user, with their messages; shared by the dialogs."""

    def __init__(self, form: QFormLayout, with_site: bool, with_user: bool,
                 with_role: bool = False):
        self.fields: dict[str, FieldWithError] = {}
        if with_site:
            self.site_name = QLineEdit()
            self.site_name.setPlaceholderText(_("e.g. Clinique Nest Mermoz"))
            self.site_phone = QLineEdit()
            self.site_phone.setPlaceholderText(_("33 860 10 10"))
            self.site_address = QLineEdit()
            form.addRow(_("Site name, as said on the phone *"), self._field("site_name",
                                                                           self.site_name))
            form.addRow(_("Site phone"), self._field("site_phone", self.site_phone))
            form.addRow(_("Address"), self.site_address)
        if with_user:
            self.full_name = QLineEdit()
            self.phone_first_name = QLineEdit()
            self.phone_first_name.setPlaceholderText(_("e.g. Clémence"))
            form.addRow(_("Full name *"), self._field("full_name", self.full_name))
            form.addRow(_("First name said on the phone *"),
                        self._field("phone_first_name", self.phone_first_name))
            self.role = choice_box(ROLE_LABELS)
            if with_role:
                form.addRow(_("Role"), self._field("role", self.role))
            self.login = QLineEdit()
            self.login.setPlaceholderText(_("e.g. clemence"))
            self.password = password_edit()
            self.confirmation = password_edit()
            form.addRow(_("Login *"), self._field("login", self.login))
            form.addRow(_("Password (8 characters or more) *"),
                        self._field("password", self.password))
            form.addRow(_("The password again *"), self.confirmation)

    def _field(self, name, editor) -> FieldWithError:
        self.fields[name] = FieldWithError(editor)
        return self.fields[name]

    def site_form(self) -> desk.SiteForm:
        return desk.SiteForm(self.site_name.text(), self.site_phone.text(),
                             self.site_address.text())

    def user_form(self, role: str | None = None, site_id: int | None = None) -> desk.UserForm:
        return desk.UserForm(self.full_name.text(), self.phone_first_name.text(),
                             role or self.role.currentData(), site_id, self.login.text(),
                             self.password.text(), self.confirmation.text())

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, field in self.fields.items():
            field.set_error(errors.get(name))


class FirstRunDialog(QDialog):
    """Creates the clinic's site and its first user, an administrator."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Welcome to NEST Desktop"))
        self.site = None
        self.user = None
        layout = QVBoxLayout(self)
        intro = QLabel(_("This workstation has no database yet. Give the clinic's site and "
                         "your name: you will be its first user, with the administrator role."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(section_title(_("The site")))
        site_form = QFormLayout()
        layout.addLayout(site_form)
        layout.addWidget(section_title(_("You")))
        user_form = QFormLayout()
        layout.addLayout(user_form)
        self.site_fields = SiteUserForm(site_form, with_site=True, with_user=False)
        self.user_fields = SiteUserForm(user_form, with_site=False, with_user=True)
        layout.addWidget(dialog_buttons(self, self._create))
        self.resize(560, 0)

    def _create(self) -> None:
        try:
            form = self.user_fields.user_form(role="administrator")
            self.site, self.user = desk.create_first_site_and_user(
                self.site_fields.site_form(), form)
        except ValidationFailed as failed:
            self.site_fields.show_errors(failed.errors)
            self.user_fields.show_errors(failed.errors)
            return
        session.login(self.user.login, form.password)
        RecoveryCodeDialog(desk.new_recovery_code(), self).exec()
        self.accept()


class RecoveryCodeDialog(QDialog):
    """The recovery code just made: shown once, to print (or copy by hand) and lock away."""

    def __init__(self, code: str, parent=None):
        super().__init__(parent)
        self.code = code
        self.setWindowTitle(_("Administrators' recovery code"))
        layout = QVBoxLayout(self)
        intro = QLabel(_("If every administrator forgets her password, this code opens an "
                         "administrator's account, once. It is shown only now: print it and "
                         "keep the sheet under lock, away from the workstations."))
        intro.setWordWrap(True)
        shown = QLabel(code)
        shown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        shown.setStyleSheet("font-size: 20pt; font-weight: bold; padding: 8px; "
                            "border: 2px solid #333;")
        print_button = QPushButton(_("Print…"))
        print_button.clicked.connect(self.print_sheet)
        done = QPushButton(_("I have printed or copied it"))
        done.setDefault(True)
        done.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(print_button)
        buttons.addStretch(1)
        buttons.addWidget(done)
        layout.addWidget(intro)
        layout.addWidget(shown)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

    def print_sheet(self) -> None:
        """The sheet is made off the GUI thread (ReportLab, the trail), then previewed."""
        from nest_desktop.ui.common.pdf_preview import PdfPreviewDialog
        from nest_desktop.ui.common.tasks import run_in_background

        def show(made: tuple[str, bytes]) -> None:
            name, pdf = made
            PdfPreviewDialog(pdf, name, self).exec()

        def failed(error: Exception) -> None:
            QMessageBox.warning(self, _("The action was not done"), str(error))

        code = self.code
        run_in_background(lambda: documents.recovery_code_pdf(code), show, failed, owner=self)


class RecoveryLoginDialog(QDialog):
    """An administrator comes in with the printed recovery code and a new password."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Recovery code"))
        self.login = QLineEdit()
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX")
        self.new = password_edit()
        self.confirmation = password_edit()
        self.fields = {"login": FieldWithError(self.login), "code": FieldWithError(self.code),
                       "new_password": FieldWithError(self.new)}
        layout = QVBoxLayout(self)
        note = QLabel(_("For an administrator whose password is lost, with the sheet printed "
                        "when the clinic was created (or the last one made in Settings). The "
                        "code then works no more."))
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        form.addRow(_("Administrator's login"), self.fields["login"])
        form.addRow(_("Recovery code"), self.fields["code"])
        form.addRow(_("New password ({count} characters or more)").format(
            count=permissions.PASSWORD_MIN_LENGTH), self.fields["new_password"])
        form.addRow(_("The new password again"), self.confirmation)
        layout.addLayout(form)
        layout.addWidget(dialog_buttons(self, self._recover))
        self.setMinimumWidth(520)

    def _recover(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        try:
            desk.recover_with_code(self.login.text(), self.code.text(), self.new.text(),
                                   self.confirmation.text())
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            self.new.clear()
            self.confirmation.clear()
            return
        self.accept()


class LoginDialog(QDialog):
    """Who is at the desk, with her password; also the lock screen's way back in."""

    def __init__(self, last_user_id: int | None, workstation_site_id: int | None,
                 locked: bool = False, parent=None, why_locked: str = ""):
        super().__init__(parent)
        self.setWindowTitle(_("Screen locked") if locked else _("Who is at the desk?"))
        self.user = QComboBox()
        for user in desk.users():
            self.user.addItem(f"{user.full_name} — {_(ROLE_LABELS[user.role])}", user.login)
        for index in range(self.user.count()):
            if desk.users()[index].id == last_user_id:
                self.user.setCurrentIndex(index)
        self.password = password_edit()
        self.password_field = FieldWithError(self.password)
        self.site = site_box(workstation_site_id)
        form = QFormLayout(self)
        if locked:
            note = QLabel(why_locked or _("The screen was locked after a while without use. "
                                          "Log in to go on: unsaved work is kept."))
            note.setWordWrap(True)
            form.addRow(note)
        form.addRow(_("At the desk"), self.user)
        form.addRow(_("Password"), self.password_field)
        # A workstation's site is set once, at its first login; then in Settings.
        if workstation_site_id is None:
            form.addRow(_("This workstation's site"), self.site)
        else:
            self.site.hide()
        recovery = QPushButton(_("Recovery code…"))
        recovery.setFlat(True)
        recovery.clicked.connect(self._recovery_code)
        form.addRow("", recovery)
        form.addRow(dialog_buttons(self, self._log_in))
        self.password.setFocus()
        self.resize(480, 0)

    def _recovery_code(self) -> None:
        if RecoveryLoginDialog(self).exec() == QDialog.DialogCode.Accepted:
            self.accept()  # she is logged in

    def _log_in(self) -> None:
        try:
            session.login(self.user.currentData(), self.password.text())
        except session.LoginFailed as failed:
            self.password.clear()
            self.password_field.set_error(str(failed))
            return
        self.accept()

    def chosen_site(self) -> int | None:
        return self.site.currentData()


class PasswordDialog(QDialog):
    """The person at the desk changes her password (required after a temporary one)."""

    def __init__(self, required: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Change my password"))
        self.current = password_edit()
        self.new = password_edit()
        self.confirmation = password_edit()
        self.fields = {"current_password": FieldWithError(self.current),
                       "new_password": FieldWithError(self.new)}
        form = QFormLayout(self)
        if required:
            note = QLabel(_("Your password was given by an administrator: choose your own."))
            note.setWordWrap(True)
            form.addRow(note)
        form.addRow(_("Current password"), self.fields["current_password"])
        form.addRow(_("New password ({count} characters or more)").format(
            count=permissions.PASSWORD_MIN_LENGTH), self.fields["new_password"])
        form.addRow(_("The new password again"), self.confirmation)
        form.addRow(dialog_buttons(self, self._change))
        self.resize(480, 0)

    def _change(self) -> None:
        try:
            session.change_own_password(self.current.text(), self.new.text(),
                                        self.confirmation.text())
        except ValidationFailed as failed:
            for name, field in self.fields.items():
                field.set_error(failed.errors.get(name))
            return
        self.accept()
