"""The clinic's passphrase (Settings › Backups): set it, type it on this workstation, or
change it. It seals the copies of the database and the SMS provider's secrets."""

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QVBoxLayout

from nest_desktop.i18n import _
from nest_desktop.services import ValidationFailed, passphrase
from nest_desktop.ui.common.widgets import FieldWithError, dialog_buttons
from nest_desktop.ui.settings.desk_dialogs import password_edit


def passphrase_state() -> tuple[str, bool]:
    """What Settings says of the passphrase, and whether it is a warning."""
    if not passphrase.is_set():
        return _("The copies are not sealed: set the clinic's passphrase so that a copy on a "
                 "USB drive or a share cannot be read without it."), True
    if passphrase.on_this_workstation() is None:
        return passphrase.locked_message(), True
    return _("Copies sealed with the clinic's passphrase (AES-256), kept on this "
             "workstation."), False


class PassphraseDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = ("set" if not passphrase.is_set() else
                     "enter" if passphrase.on_this_workstation() is None else "change")
        self.setWindowTitle({"set": _("Set the clinic's passphrase"),
                             "enter": _("The clinic's passphrase on this workstation"),
                             "change": _("Change the clinic's passphrase")}[self.mode])
        layout = QVBoxLayout(self)
        form = QFormLayout()
        intro = QLabel({
            "set": _("The passphrase seals the copies of the database and the SMS provider's "
                     "secrets. Write it down and keep it in a safe place: a sealed copy "
                     "cannot be restored without it, and nobody can find it again."),
            "enter": _("Type the passphrase the administrator set for the clinic: this "
                       "workstation keeps it in its keyring to seal its copies and send SMS."),
            "change": _("The copies made from now on are sealed with the new passphrase; "
                        "the earlier ones still need the old one."),
        }[self.mode])
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        self.current = password_edit()
        self.new = password_edit()
        self.repeated = password_edit()
        self.fields = {"current": FieldWithError(self.current),
                       "passphrase": FieldWithError(self.new),
                       "repeated": FieldWithError(self.repeated)}
        if self.mode == "change":
            form.addRow(_("Current passphrase"), self.fields["current"])
        form.addRow(_("Passphrase") if self.mode != "change" else _("New passphrase"),
                    self.fields["passphrase"])
        if self.mode != "enter":
            form.addRow(_("Repeat it"), self.fields["repeated"])
        self.where = ""
        layout.addWidget(dialog_buttons(self, self._save, save=True))
        self.setMinimumWidth(560)

    def _save(self) -> None:
        for field in self.fields.values():
            field.set_error(None)
        try:
            if self.mode == "enter":
                in_keyring = passphrase.enter_on_this_workstation(self.new.text())
            else:
                in_keyring = passphrase.set_passphrase(self.new.text(), self.repeated.text(),
                                                       self.current.text())
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                self.fields.get(name, self.fields["passphrase"]).set_error(message)
            return
        self.where = (_("Kept in this workstation's keyring.") if in_keyring else _(
            "This computer has no keyring: the passphrase is kept in a file of your own "
            "data folder, readable by you alone."))
        self.accept()
