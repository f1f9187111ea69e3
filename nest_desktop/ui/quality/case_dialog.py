"""One complaint or non-conformity: recorded at the desk, then analysed, acted on, checked
and closed by the quality pilots (ISO 9001 §10.2)."""

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.i18n import _, format_date, format_datetime
from nest_desktop.services import StaleRecordError, ValidationFailed, desk, quality, session
from nest_desktop.services.people import typed_date
from nest_desktop.ui.common.errors import database_trouble
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    choice_box,
    fill,
    read_only_table,
    scrolling,
    select_data,
    site_box,
)


def _text_box(height: int = 70) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)
    box.setMinimumHeight(height)
    box.setMaximumHeight(height * 3 // 2)  # the window's room goes to the actions
    return box


class CaseDialog(QDialog):
    """`case_id` None: a new case, from `form` when something proposed it (a survey)."""

    def __init__(self, case_id: int | None = None, form: quality.CaseForm | None = None,
                 parent=None):
        super().__init__(parent)
        self.case_id = case_id
        self.version: int | None = None
        self.manager = session.may("quality.manage")
        self.form = form or quality.CaseForm(occurred_on=clock.today())
        self.kind = choice_box(rules.KINDS)
        self.source = choice_box(rules.SOURCES)
        self.occurred_on = DateEdit()
        self.site = site_box(empty_label=_("No site"))
        self.person = QLabel()
        self.person.setWordWrap(True)
        self.person_name = QLineEdit()
        self.person_name.setMaxLength(200)
        self.person_name.setPlaceholderText(_("Name and phone, when she has no file"))
        self.category = choice_box(rules.CATEGORIES, empty_label=_("Choose…"))
        self.severity = choice_box(rules.SEVERITIES)
        self.description = _text_box(90)
        self.assigned_to = QComboBox()
        self.assigned_to.addItem(_("Nobody yet"), None)
        owners = desk.users()  # read once: who a case or an action can be given to
        for owner in owners:
            self.assigned_to.addItem(owner.full_name, owner.id)
        self.cause = _text_box()
        self.immediate_action = _text_box()
        self.status = QLabel()
        self.status.setStyleSheet("font-weight: bold;")
        self.fields = {
            "kind": FieldWithError(self.kind), "source": FieldWithError(self.source),
            "occurred_on": FieldWithError(self.occurred_on),
            "site": FieldWithError(self.site), "person_name": FieldWithError(self.person_name),
            "patient": FieldWithError(self.person),
            "category": FieldWithError(self.category),
            "severity": FieldWithError(self.severity),
            "description": FieldWithError(self.description),
            "assigned_to": FieldWithError(self.assigned_to),
            "cause": FieldWithError(self.cause),
            "immediate_action": FieldWithError(self.immediate_action)}
        what = QFormLayout()
        what.addRow(_("Status"), self.status)
        what.addRow(_("Type"), self.fields["kind"])
        what.addRow(_("Source"), self.fields["source"])
        what.addRow(_("Date *"), self.fields["occurred_on"])
        what.addRow(_("Site"), self.fields["site"])
        what.addRow(_("Person"), self.fields["patient"])
        what.addRow("", self.fields["person_name"])
        what.addRow(_("Category *"), self.fields["category"])
        what.addRow(_("Severity"), self.fields["severity"])
        what.addRow(_("What happened *"), self.fields["description"])
        self.analysis = QGroupBox(_("Analysis"))
        analysis = QFormLayout(self.analysis)
        analysis.addRow(_("Assigned to"), self.fields["assigned_to"])
        analysis.addRow(_("Cause found"), self.fields["cause"])
        analysis.addRow(_("Immediate action"), self.fields["immediate_action"])
        self.save_button = QPushButton(_("Save"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        self.message = MessageLabel()

        self.actions_box = QGroupBox(_("Corrective actions"))
        self.actions = read_only_table([_("Action"), _("Owner"), _("Deadline"), _("Done")])
        self.actions.setMinimumHeight(110)
        self.action_text = QLineEdit()
        self.action_text.setMaxLength(rules.TEXT_MAX)
        self.action_text.setPlaceholderText(_("What will be done so that it does not happen "
                                              "again"))
        self.action_owner = QComboBox()
        self.action_owner.addItem(_("Choose…"), None)
        for owner in owners:
            self.action_owner.addItem(owner.full_name, owner.id)
        self.action_deadline = DateEdit()
        self.action_fields = {"action": FieldWithError(self.action_text),
                              "owner": FieldWithError(self.action_owner),
                              "deadline": FieldWithError(self.action_deadline)}
        add = QPushButton(_("Add the action"))
        add.clicked.connect(self._add_action)
        self.done_button = QPushButton(_("Done…"))
        self.done_button.clicked.connect(self._complete_action)
        self.cancel_button = QPushButton(_("Cancel the action…"))
        self.cancel_button.clicked.connect(self._cancel_action)
        self.action_message = MessageLabel()
        new_action = QFormLayout()
        new_action.addRow(_("New action"), self.action_fields["action"])
        new_action.addRow(_("Owner"), self.action_fields["owner"])
        new_action.addRow(_("Deadline"), self.action_fields["deadline"])
        self.new_action = QWidget()
        self.new_action.setLayout(new_action)
        action_buttons = QHBoxLayout()
        action_buttons.addWidget(self.done_button)
        action_buttons.addWidget(self.cancel_button)
        action_buttons.addStretch(1)
        action_buttons.addWidget(add)
        actions = QVBoxLayout(self.actions_box)
        actions.addWidget(self.actions)
        actions.addLayout(action_buttons)
        actions.addWidget(self.new_action)
        actions.addWidget(self.action_message)
        self.add_button = add

        self.check_box = QGroupBox(_("Effectiveness check"))
        self.effectiveness = _text_box()
        self.effectiveness.setPlaceholderText(_("How it was checked, and what was found"))
        self.effectiveness_field = FieldWithError(self.effectiveness)
        effective = QPushButton(_("Effective: close the case"))
        effective.clicked.connect(lambda: self._check(True))
        not_effective = QPushButton(_("Not effective: keep it open"))
        not_effective.clicked.connect(lambda: self._check(False))
        check_buttons = QHBoxLayout()
        check_buttons.addWidget(not_effective)
        check_buttons.addStretch(1)
        check_buttons.addWidget(effective)
        check = QVBoxLayout(self.check_box)
        check.addWidget(self.effectiveness_field)
        check.addLayout(check_buttons)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(what)
        layout.addWidget(self.analysis)
        layout.addWidget(self.actions_box)
        layout.addWidget(self.check_box)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(close)
        buttons.addWidget(self.save_button)
        outer = QVBoxLayout(self)
        outer.addWidget(scrolling(content))
        outer.addLayout(buttons)
        fit_on_screen(self, 780, 860, remember="quality_case")
        self._load()

    # --- showing --------------------------------------------------------------------------

    def _show_form(self, form: quality.CaseForm, person: str) -> None:
        select_data(self.kind, form.kind)
        select_data(self.source, form.source)
        self.occurred_on.setText(form.occurred_on.strftime("%d/%m/%Y")
                                 if form.occurred_on else "")
        select_data(self.site, form.site_id)
        select_data(self.category, form.category)
        select_data(self.severity, form.severity)
        self.description.setPlainText(form.description)
        select_data(self.assigned_to, form.assigned_to_id)
        self.cause.setPlainText(form.cause)
        self.immediate_action.setPlainText(form.immediate_action)
        self.person_name.setText(form.person_name)
        self.person.setText(person or _("No patient file"))
        self.fields["person_name"].setVisible(not form.patient_id)

    def _load(self) -> None:
        if self.case_id is None:
            person = ""
            if self.form.patient_id:
                from nest_desktop.services import patients

                patient = patients.get_patient(self.form.patient_id)
                person = f"{patient.first_names} {patient.last_name}"
            self._show_form(self.form, person)
            self.status.setText(_("New"))
            self.setWindowTitle(_("Record a complaint or a non-conformity"))
            for box in (self.actions_box, self.check_box):
                box.hide()
            self.analysis.setVisible(self.manager)
            return
        detail = quality.detail(self.case_id)
        case = detail.case
        self.version = case.version
        self.form = detail.form
        self._show_form(detail.form, detail.person)
        closed = case.closed_at is not None
        state = _(rules.STATUSES[case.status])
        if closed:
            state += " — " + _("{when} by {name}").format(
                when=format_datetime(case.closed_at),
                name=case.closed_by.full_name if case.closed_by_id else "")
        self.status.setText(state)
        self.setWindowTitle(_("{kind} no. {number}").format(
            kind=_(rules.KINDS[case.kind]), number=case.id))
        rows = []
        for action in detail.actions:
            if action.cancelled:
                done = _("Cancelled: {reason}").format(reason=action.result)
            elif action.done_at:
                done = f"{format_date(action.done_at.date())} — {action.result}"
            else:
                done = ""
            rows.append((action.description, action.owner, format_date(action.deadline), done))
        fill(self.actions, rows)
        self.actions.resizeRowsToContents()
        self.action_ids = [action.id for action in detail.actions]
        self.action_rows = detail.actions
        editable = self.manager and not closed
        for widget in (self.kind, self.source, self.occurred_on, self.site, self.person_name,
                       self.category, self.severity, self.assigned_to):
            widget.setEnabled(editable)
        for box in (self.description, self.cause, self.immediate_action):
            box.setReadOnly(not editable)
        self.save_button.setVisible(editable)
        self.new_action.setVisible(editable)
        self.add_button.setVisible(editable)
        self.cancel_button.setVisible(editable)
        user = session.current()
        mine = any(a.owner_id == user.id and not a.done_at and not a.cancelled
                   for a in detail.actions)
        self.done_button.setVisible(not closed and (self.manager or mine))
        self.check_box.setVisible(self.manager and (closed or case.status in (
            rules.ANALYSED, rules.TO_CHECK)))
        self.effectiveness.setPlainText(case.effectiveness)
        self.effectiveness.setReadOnly(closed)
        for button in self.check_box.findChildren(QPushButton):
            button.setVisible(not closed)

    # --- writing --------------------------------------------------------------------------

    def _collect(self) -> quality.CaseForm | None:
        day = typed_date(self.occurred_on.text())
        if self.occurred_on.text().strip() and day is None:
            self.fields["occurred_on"].set_error(
                _("Write the date as day/month/year, for example 23/11/2026."))
            return None
        form = self.form
        return quality.CaseForm(
            self.kind.currentData(), self.source.currentData(),
            self.category.currentData() or "", self.severity.currentData(),
            self.description.toPlainText(), day, self.site.currentData(), form.patient_id,
            self.person_name.text() if not form.patient_id else "", form.source_table,
            form.source_id, self.assigned_to.currentData() if self.manager else None,
            self.cause.toPlainText() if self.manager else "",
            self.immediate_action.toPlainText() if self.manager else "")

    def _refused(self, error: Exception, fields: dict[str, FieldWithError],
                 message: MessageLabel) -> None:
        if isinstance(error, ValidationFailed):
            shown = False
            for name, text in error.errors.items():
                if name in fields:
                    fields[name].set_error(text)
                    shown = True
            message.say(_("Correct what is shown in red.") if shown
                        else " ".join(error.errors.values()), error=True)
        elif isinstance(error, (StaleRecordError, session.PermissionDenied)):
            message.say(str(error), error=True)
        elif (problem := database_trouble(error)) is not None:
            message.say(str(problem), error=True)
        else:
            raise error

    def _save(self) -> None:
        form = self._collect()
        if form is None:
            return
        try:
            if self.case_id is None:
                case = quality.record_case(form)
                self.case_id = case.id
            else:
                quality.update_case(self.case_id, self.version, form)
        except Exception as error:  # noqa: BLE001 (each kind said in its place)
            self._refused(error, self.fields, self.message)
            return
        changes().quality.emit()
        if form.patient_id:
            changes().patient.emit(form.patient_id)
        self.message.say(_("Saved."))
        if not self.manager:  # recorded: the pilots take it from here
            self.accept()
            return
        self._load()
        self.actions_box.show()

    def _chosen_action(self):
        row = self.actions.currentRow()
        if not 0 <= row < len(self.action_rows):
            self.action_message.say(_("Choose an action in the list."), error=True)
            return None
        return self.action_rows[row]

    def _after_action(self) -> None:
        changes().quality.emit()
        changes().tasks.emit()
        self._load()

    def _add_action(self) -> None:
        deadline = typed_date(self.action_deadline.text())
        if self.action_deadline.text().strip() and deadline is None:
            self.action_fields["deadline"].set_error(
                _("Write the date as day/month/year, for example 23/11/2026."))
            return
        try:
            quality.add_action(self.case_id, self.action_text.text(),
                               self.action_owner.currentData(), deadline)
        except Exception as error:  # noqa: BLE001
            self._refused(error, self.action_fields, self.action_message)
            return
        self.action_text.clear()
        self.action_deadline.clear()
        self.action_owner.setCurrentIndex(0)
        self.action_message.say(_("The action is on its owner's Today."))
        self._after_action()

    def _complete_action(self) -> None:
        action = self._chosen_action()
        if action is None:
            return
        result, given = QInputDialog.getMultiLineText(
            self, _("Action done"), _("What was done:"), "")
        if not given:
            return
        try:
            quality.complete_action(action.id, result)
        except Exception as error:  # noqa: BLE001
            self._refused(error, {}, self.action_message)
            return
        self.action_message.say(_("The action is done."))
        self._after_action()

    def _cancel_action(self) -> None:
        action = self._chosen_action()
        if action is None:
            return
        reason, given = QInputDialog.getText(self, _("Cancel the action"),
                                             _("Why it will not be done:"))
        if not given:
            return
        try:
            quality.cancel_action(action.id, reason)
        except Exception as error:  # noqa: BLE001
            self._refused(error, {}, self.action_message)
            return
        self.action_message.say(_("The action is cancelled."))
        self._after_action()

    def _check(self, effective: bool) -> None:
        try:
            quality.check_effectiveness(self.case_id, self.version,
                                        self.effectiveness.toPlainText(), effective)
        except Exception as error:  # noqa: BLE001
            self._refused(error, {"effectiveness": self.effectiveness_field}, self.message)
            return
        changes().quality.emit()
        self.message.say(_("The case is closed.") if effective
                         else _("Noted: add a new corrective action."))
        self._load()


def propose_complaint(response, parent: QWidget | None = None) -> bool:
    """After a survey: below the pilot's score, a complaint prefilled is proposed. True when
    one was recorded."""
    if not quality.proposes_complaint(response):
        return False
    answer = QMessageBox.question(
        parent, _("Low satisfaction"),
        _("She gave a score of {score}/100. Record a complaint, so that the quality pilot "
          "deals with it?").format(score=response.score),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes)
    if answer != QMessageBox.StandardButton.Yes:
        return False
    dialog = CaseDialog(form=quality.form_from_survey(response.id), parent=parent)
    dialog.exec()
    return dialog.case_id is not None
