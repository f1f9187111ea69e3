"""The first run (the site and the first user) and choosing who is at the desk."""

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from nest_desktop.i18n import _
from nest_desktop.services import ValidationFailed, desk
from nest_desktop.ui.widgets import (
    FieldWithError,
    choice_box,
    dialog_buttons,
    section_title,
    site_box,
)


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
            self.role = choice_box(desk.ROLE_LABELS)
            if with_role:
                form.addRow(_("Role"), self._field("role", self.role))

    def _field(self, name, editor) -> FieldWithError:
        self.fields[name] = FieldWithError(editor)
        return self.fields[name]

    def site_form(self) -> desk.SiteForm:
        return desk.SiteForm(self.site_name.text(), self.site_phone.text(),
                             self.site_address.text())

    def user_form(self, role: str | None = None, site_id: int | None = None) -> desk.UserForm:
        return desk.UserForm(self.full_name.text(), self.phone_first_name.text(),
                             role or self.role.currentData(), site_id)

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
            self.site, self.user = desk.create_first_site_and_user(
                self.site_fields.site_form(), self.user_fields.user_form(role="administrator"))
        except ValidationFailed as failed:
            self.site_fields.show_errors(failed.errors)
            self.user_fields.show_errors(failed.errors)
            return
        self.accept()


class DeskLoginDialog(QDialog):
    """Who is at the desk, and on which site this workstation is."""

    def __init__(self, current_user_id: int | None, workstation_site_id: int | None,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Who is at the desk?"))
        self.user = QComboBox()
        for user in desk.users():
            self.user.addItem(f"{user.full_name} — {_(desk.ROLE_LABELS[user.role])}", user.id)
        self.user.setCurrentIndex(max(self.user.findData(current_user_id), 0))
        self.site = site_box(workstation_site_id)
        form = QFormLayout(self)
        form.addRow(_("At the desk"), self.user)
        form.addRow(_("This workstation's site"), self.site)
        form.addRow(dialog_buttons(self, self.accept))
        self.resize(460, 0)

    def chosen(self) -> tuple[int, int | None]:
        return self.user.currentData(), self.site.currentData()
