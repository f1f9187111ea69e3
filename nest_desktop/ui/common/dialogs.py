"""Dialogs that more than one feature opens: the people a new record may already be
(PRO-05), a contact written on a person's timeline."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from nest_desktop.domain import patients as rules
from nest_desktop.domain import phones
from nest_desktop.i18n import _, format_date
from nest_desktop.services import ValidationFailed
from nest_desktop.services import patients as service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import FieldWithError, choice_box, dialog_buttons


class DuplicatesDialog(QDialog):
    """PRO-05: the people this may already be, before a second record is created."""

    def __init__(self, candidates: list[rules.DuplicateCandidate], parent=None,
                 open_label: str | None = None, create_label: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("This person may already have a file"))
        self.candidates = candidates
        self.chosen: rules.PersonRecord | None = None
        self.list = QListWidget()
        for index, candidate in enumerate(candidates):
            record = candidate.record
            reasons = ", ".join(_("same phone") if r == "phone" else
                                _("same birth date and a similar name")
                                for r in candidate.reasons)
            kind = _("Patient") if record.kind == "patient" else _("Prospect")
            parts = [_("{label}: {count}").format(label=kind, count=record.full_name)]
            if record.parent_name:
                parts.append(_("child of {name}").format(name=record.parent_name))
            if record.birth_date:
                parts.append(_("born on {date}").format(date=format_date(record.birth_date)))
            if record.phones:
                parts.append(", ".join(phones.display(p) for p in record.phones))
            item = QListWidgetItem(" — ".join(parts) + f"  ({reasons})")
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open())
        open_button = QPushButton(open_label or _("Open this file"))
        open_button.setDefault(True)
        create_button = QPushButton(create_label
                                    or _("It is another person: create the file"))
        cancel_button = QPushButton(_("Cancel"))
        open_button.clicked.connect(self._open)
        create_button.clicked.connect(self.accept)
        cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(create_button)
        buttons.addWidget(open_button)
        layout = QVBoxLayout(self)
        intro = QLabel(_("Before creating a new file, check whether the person is already "
                         "known. Never create a second file for her."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        fit_on_screen(self, 680, 300)

    @property
    def chosen_patient_id(self) -> int | None:
        return self.chosen.record_id if self.chosen else None

    def _open(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen = self.candidates[item.data(Qt.ItemDataRole.UserRole)].record
            self.accept()


class InteractionDialog(QDialog):
    """Records a contact with the patient (or, through `save_contact`, a prospect) on her
    timeline."""

    def __init__(self, patient_id: int | None, context: DeskContext, parent=None,
                 save_contact=None):
        super().__init__(parent)
        self.patient_id, self.context = patient_id, context
        self.save_contact = save_contact
        self.setWindowTitle(_("Record a contact"))
        self.channel = choice_box(rules.INTERACTION_CHANNELS)
        self.direction = choice_box(rules.INTERACTION_DIRECTIONS)
        self.subject = QLineEdit()
        self.subject.setMaxLength(200)
        self.outcome = QLineEdit()
        self.outcome.setMaxLength(200)
        self.notes = QPlainTextEdit()
        self.subject_field = FieldWithError(self.subject)
        form = QFormLayout(self)
        form.addRow(_("Channel"), self.channel)
        form.addRow(_("Direction"), self.direction)
        form.addRow(_("Subject *"), self.subject_field)
        form.addRow(_("Outcome"), self.outcome)
        form.addRow(_("Notes"), self.notes)
        form.addRow(dialog_buttons(self, self._save, save=True))
        self.resize(520, 360)

    def _save(self) -> None:
        try:
            if self.save_contact is not None:
                self.save_contact(self.channel.currentData(), self.direction.currentData(),
                                  self.subject.text(), self.notes.toPlainText(),
                                  self.outcome.text())
                self.accept()
                return
            service.add_interaction(
                self.patient_id, self.context.user.id, self.channel.currentData(),
                self.direction.currentData(), self.subject.text(), self.notes.toPlainText(),
                self.outcome.text(),
                site_id=self.context.site.id if self.context.site else None)
        except ValidationFailed as failed:
            self.subject_field.set_error(" ".join(failed.errors.values()))
            return
        self.accept()
