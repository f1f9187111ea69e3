"""The guided outbound call (PAT-13): who to call, what to say, how it ended; a reached
satisfaction call fills in its survey. Every attempt is written on the person's file."""

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, surveys
from nest_desktop.domain import followup as rules
from nest_desktop.i18n import _, current_language, format_datetime, format_number, ngettext
from nest_desktop.services import ValidationFailed, documents, session
from nest_desktop.services import followup as service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import (
    ERROR_STYLE,
    FieldWithError,
    MessageLabel,
    ObjectSignal,
    choice_box,
    radio_choices,
    select_data,
)
from nest_desktop.ui.followup.today_page import due_text
from nest_desktop.ui.quality.case_dialog import propose_complaint


class SurveyForm(QWidget):
    """The questions of a survey: marks 1 to 5, yes or no, free text; each with its message."""

    def __init__(self, survey: str, parent=None):
        super().__init__(parent)
        self.survey = surveys.surveys()[survey]
        self.inputs: dict[str, object] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout(self)
        if any(q.kind == "score" for q in self.survey.questions):
            scale = QLabel(_("Marks: 1 = not satisfied at all, 5 = very satisfied."))
            scale.setStyleSheet("color: #555555;")
            form.addRow(scale)
        for question in self.survey.questions:
            if question.kind == "score":
                editor, group = QWidget(), QButtonGroup(self)
                row = QHBoxLayout(editor)
                row.setContentsMargins(0, 0, 0, 0)
                for mark in range(surveys.SCORE_MIN, surveys.SCORE_MAX + 1):
                    button = QRadioButton(str(mark))
                    group.addButton(button, mark)
                    row.addWidget(button)
                row.addStretch(1)
                self.inputs[question.id] = group
            elif question.kind == "yes_no":
                editor, group = QWidget(), QButtonGroup(self)
                row = QHBoxLayout(editor)
                row.setContentsMargins(0, 0, 0, 0)
                for text, value in ((_("Yes"), 1), (_("No"), 0)):
                    button = QRadioButton(text)
                    group.addButton(button, value)
                    row.addWidget(button)
                row.addStretch(1)
                self.inputs[question.id] = group
            else:
                editor = QLineEdit()
                editor.setMaxLength(surveys.TEXT_MAX)
                self.inputs[question.id] = editor
            field = FieldWithError(editor)
            self.errors[question.id] = field.error
            label = QLabel(question.label_in(current_language())
                           + ("" if question.required else " " + _("(optional)")))
            label.setWordWrap(True)
            label.setMinimumWidth(260)
            form.addRow(label, field)

    def answers(self) -> dict:
        answers = {}
        for question in self.survey.questions:
            editor = self.inputs[question.id]
            if isinstance(editor, QButtonGroup):
                checked = editor.checkedId()
                if checked != -1:
                    answers[question.id] = (bool(checked) if question.kind == "yes_no"
                                            else checked)
            elif editor.text().strip():
                answers[question.id] = editor.text().strip()
        return answers

    def show_errors(self, errors: dict[str, str]) -> None:
        for question_id, label in self.errors.items():
            message = errors.get(question_id, "")
            label.setText(message)
            label.setVisible(bool(message))


class Call36Panel(QWidget):
    """Every field of the 36-week call (PAT-07)."""

    def __init__(self, planned_place: str, patient_id: int | None = None, parent=None):
        super().__init__(parent)
        from nest_desktop.domain.patients import CONTACT_CHANNELS
        from nest_desktop.services import mothers_group
        from nest_desktop.services import pregnancy as pregnancy_service

        self.planned_place = QLineEdit(planned_place)
        self.planned_place.setMaxLength(100)
        self.checks = {name: QCheckBox(label) for name, label in (
            ("tariffs_given", _("Tariffs given")),
            ("coverage_given", _("Insurance coverage explained")),
            ("financial_conditions_given", _("Financial conditions given")),
            ("classes_proposed", _("Childbirth-preparation classes proposed")),
            ("classes_accepted", _("She accepts the classes")),
            ("newsletter_wanted", _("She wants the newsletters")),
            ("child_followed_at_nest", _("She wants her child followed at NEST")))}
        self.mothers_group = choice_box(pregnancy_service.MOTHERS_GROUP, empty_label="")
        member = mothers_group.membership(patient_id) if patient_id else None
        if member is not None and member.status == "joined":  # "si ce n'est déjà fait"
            select_data(self.mothers_group, "member")
        self.newsletter_channel = choice_box(CONTACT_CHANNELS, empty_label="")
        self.fields = {"planned_place": FieldWithError(self.planned_place),
                       "mothers_group": FieldWithError(self.mothers_group),
                       "newsletter_channel": FieldWithError(self.newsletter_channel),
                       "classes_accepted": FieldWithError(self.checks["classes_accepted"])}
        form = QFormLayout(self)
        form.addRow(_("Planned place of birth"), self.fields["planned_place"])
        for name in ("tariffs_given", "coverage_given", "financial_conditions_given",
                     "classes_proposed"):
            form.addRow("", self.checks[name])
        form.addRow("", self.fields["classes_accepted"])
        form.addRow(_("Mothers' group"), self.fields["mothers_group"])
        form.addRow("", self.checks["newsletter_wanted"])
        form.addRow(_("Newsletters by"), self.fields["newsletter_channel"])
        form.addRow("", self.checks["child_followed_at_nest"])

    def form(self, notes: str):
        from nest_desktop.services import pregnancy as pregnancy_service

        return pregnancy_service.Call36Form(
            planned_place=self.planned_place.text(),
            mothers_group=self.mothers_group.currentData() or "",
            newsletter_channel=self.newsletter_channel.currentData() or "", notes=notes,
            **{name: check.isChecked() for name, check in self.checks.items()})

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, field in self.fields.items():
            field.set_error(errors.get(name))


class MothersGroupPanel(QWidget):
    """Her answer to the offer of the mothers' group (PAT-06), kept on her file."""

    def __init__(self, parent=None):
        super().__init__(parent)
        from nest_desktop.services import mothers_group

        self.answer = choice_box(mothers_group.ANSWER_LABELS, empty_label="")
        self.field = FieldWithError(self.answer)
        form = QFormLayout(self)
        form.addRow(_("Mothers' group"), self.field)

    def show_errors(self, errors: dict[str, str]) -> None:
        self.field.set_error(errors.get("mothers_group"))


class ProspectCallPanel(QWidget):
    """What a prospect said on her callback (PRO-06) or conversion review (PRO-07)."""

    def __init__(self, review: bool, parent=None):
        super().__init__(parent)
        from nest_desktop.domain import prospects as prospect_rules

        choices = prospect_rules.REVIEW_RESULTS if review else prospect_rules.CALL_RESULTS
        layout = QVBoxLayout(self)
        self.results, self.buttons = radio_choices(
            {code: _(label) for code, label in choices.items()}, layout, self)
        self.result_error = QLabel()
        self.result_error.setStyleSheet(ERROR_STYLE)
        self.result_error.hide()
        layout.addWidget(self.result_error)
        self.reason = choice_box(prospect_rules.LOST_REASONS, empty_label="")
        self.reason_field = FieldWithError(self.reason)
        reason_row = QFormLayout()
        reason_row.addRow(_("Why"), self.reason_field)
        layout.addLayout(reason_row)
        if review:
            converted = QLabel(_("She became a patient? Create or find her patient file: the "
                                 "prospect is then marked converted by itself."))
            converted.setWordWrap(True)
            converted.setStyleSheet("color: #555555;")
            layout.addWidget(converted)

    def result(self) -> str:
        for code, button in self.buttons.items():
            if button.isChecked():
                return code
        return ""

    def show_errors(self, errors: dict[str, str]) -> None:
        self.result_error.setText(errors.get("result", ""))
        self.result_error.setVisible("result" in errors)
        self.reason_field.set_error(errors.get("reason"))


class OutboundCallDialog(QDialog):
    """Opened from Today over the person's file."""

    openPatient = Signal(int)
    openProspect = Signal(int)

    def __init__(self, context: DeskContext, task_id: int, parent=None):
        super().__init__(parent)
        self.documentRequested = ObjectSignal()  # a function making (name, PDF)
        self.task_id = task_id
        site_name = context.site.name if context.site else ""
        self.sheet = service.call_sheet(task_id, context.user.phone_first_name, site_name)
        task = self.sheet.task
        self.setWindowTitle(service.rule_label(task.rule) + " — " + (self.sheet.person or ""))
        self.setMinimumWidth(720)

        title = QLabel(f"<b>{service.rule_label(task.rule)}</b> — {self.sheet.person}")
        title.setStyleSheet("font-size: 13pt;")
        title.setWordWrap(True)  # a long rule's label and a long name
        when = clock.now()
        state = due_text(task.due_at, when)
        if task.attempts:
            state += " · " + ngettext("{count} attempt already", "{count} attempts already",
                                      task.attempts).format(count=format_number(task.attempts))
        if task.next_attempt_at:
            state += " · " + _("next attempt {time}").format(
                time=format_datetime(task.next_attempt_at))
        state_label = QLabel(state)
        if rules.urgency(task.due_at, when) == "overdue":
            state_label.setStyleSheet(ERROR_STYLE)
        phones = QLabel("   ".join(self.sheet.phones) or _("No phone number on the file."))
        phones.setStyleSheet("font-size: 16pt; font-weight: bold;")
        phones.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        script_box = QGroupBox(_("What to say"))
        script_layout = QVBoxLayout(script_box)
        for number, line in enumerate(self.sheet.script, start=1):
            label = QLabel(f"{number}. {line}")
            label.setWordWrap(True)
            script_layout.addWidget(label)

        contacts_box = QGroupBox(_("Last contacts"))
        contacts_layout = QVBoxLayout(contacts_box)
        for contact in self.sheet.last_contacts:
            text = f"{format_datetime(contact.occurred_at)} — {contact.subject}"
            if contact.outcome:
                text += f" — {contact.outcome}"
            label = QLabel(text)
            label.setWordWrap(True)
            contacts_layout.addWidget(label)
        if not self.sheet.last_contacts:
            contacts_layout.addWidget(QLabel(_("No contact yet.")))

        outcome_box = QGroupBox(_("How did the call end?"))
        outcome_layout = QVBoxLayout(outcome_box)
        self.outcomes, self.outcome_buttons = radio_choices(
            {outcome: service.outcome_label(outcome) for outcome in service.ATTEMPT_OUTCOMES},
            outcome_layout, self)
        self.outcome_error = QLabel()
        self.outcome_error.setStyleSheet(ERROR_STYLE)
        self.outcome_error.hide()
        outcome_layout.addWidget(self.outcome_error)
        self.call_back_at = QDateTimeEdit(clock.now() + dt.timedelta(hours=2))
        self.call_back_at.setCalendarPopup(True)
        self.call_back_at.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.call_back_field = FieldWithError(self.call_back_at)
        self.call_back_row = QWidget()
        call_back_form = QFormLayout(self.call_back_row)
        call_back_form.setContentsMargins(24, 0, 0, 0)
        call_back_form.addRow(_("Call back on"), self.call_back_field)
        outcome_layout.addWidget(self.call_back_row)
        retry = rules.rules()[task.rule]
        self.retry_note = QLabel(_("Without an answer, the call is proposed again at {time}; "
                                   "after {count} attempts it is closed as unreachable.")
                                 .format(time=rules.next_attempt(task.rule, when)
                                         .strftime("%H:%M"),
                                         count=retry.max_attempts))
        self.retry_note.setWordWrap(True)
        outcome_layout.addWidget(self.retry_note)

        self.survey_box = QGroupBox()
        survey_layout = QVBoxLayout(self.survey_box)
        self.survey_form = None
        self.call_36 = None
        if task.rule == "call_36_weeks" and task.source_table == "pregnancy":
            from nest_desktop.db.models import Pregnancy

            pregnancy = Pregnancy.get_or_none(Pregnancy.id == task.source_id)
            self.survey_box.setTitle(_("The 36-week call"))
            self.call_36 = Call36Panel(pregnancy.planned_place if pregnancy else "",
                                       task.patient_id)
            pack = QPushButton(_("Print the information pack…"))
            pack.clicked.connect(lambda: self.documentRequested.emit(
                lambda: documents.pack_36_weeks_pdf(task.source_id)))
            survey_layout.addWidget(self.call_36)
            survey_layout.addWidget(pack)
        self.group_panel = None
        if task.rule == "mothers_group_offer":
            self.survey_box.setTitle(_("The NEST mothers' group"))
            self.group_panel = MothersGroupPanel()
            survey_layout.addWidget(self.group_panel)
        self.prospect_panel = None
        if task.prospect_id and not task.patient_id:
            self.survey_box.setTitle(_("What she said"))
            self.prospect_panel = ProspectCallPanel(task.rule == "conversion_review")
            survey_layout.addWidget(self.prospect_panel)
        self.anonymous = QCheckBox(_("Anonymous answers (not linked to the file)"))
        if self.sheet.survey:
            self.survey_box.setTitle(surveys.surveys()[self.sheet.survey]
                                     .label_in(current_language()))
            self.survey_form = SurveyForm(self.sheet.survey)
            survey_layout.addWidget(self.anonymous)
            survey_layout.addWidget(self.survey_form)

        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(_("Notes for the file (optional)"))
        self.notes.setMaximumHeight(70)
        self.notes_field = FieldWithError(self.notes)
        self.message = MessageLabel()

        open_file = QPushButton(_("Open the file"))
        open_file.setEnabled(bool(task.patient_id or task.prospect_id))
        open_file.clicked.connect(lambda: self.openPatient.emit(task.patient_id)
                                  if task.patient_id else self.openProspect.emit(task.prospect_id))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.addButton(open_file, QDialogButtonBox.ButtonRole.ActionRole)
        self.book_button = QPushButton(_("Book an appointment…"))
        self.book_button.setEnabled(bool(task.patient_id or task.prospect_id)
                                    and session.may("calls.write"))
        self.book_button.clicked.connect(self._book)
        self.buttons.addButton(self.book_button, QDialogButtonBox.ButtonRole.ActionRole)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(title)
        layout.addWidget(state_label)
        layout.addWidget(phones)
        columns = QHBoxLayout()
        columns.addWidget(script_box, 3)
        columns.addWidget(contacts_box, 2)
        layout.addLayout(columns)
        layout.addWidget(outcome_box)
        layout.addWidget(self.survey_box)
        layout.addWidget(self.notes_field)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.message)
        outer.addWidget(self.buttons)
        fit_on_screen(self, 780, 760, "outbound_call")

        self.outcomes.buttonToggled.connect(self._outcome_changed)
        self._outcome_changed()
        if not session.may("followup.work"):
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
            self.message.say(_("Reading only: your role does not make follow-up calls."),
                             error=True)

    def _book(self) -> None:
        """An appointment taken during the call; the call to rebook a missed one is done by
        it."""
        from nest_desktop.ui.reception.appointments import AppointmentDialog, appointments_changed

        task = self.sheet.task
        dialog = AppointmentDialog(self.sheet.person, task.site_id, task.patient_id,
                                   None if task.patient_id else task.prospect_id, parent=self)
        if not dialog.exec() or dialog.appointment is None:
            return
        appointments_changed()
        booked = _("Appointment booked: {when} — {service}").format(
            when=format_datetime(dialog.appointment.starts_at),
            service=dialog.appointment.service.name)
        if service.get_task(task.id).status != service.OPEN:
            self.message.say(booked + " " + _("This call is done."))
            self.accept()
            return
        self.choose("reached")
        self.notes.setPlainText((self.notes.toPlainText() + "\n" + booked).strip())
        self.message.say(booked)

    def chosen_outcome(self) -> str | None:
        for outcome, button in self.outcome_buttons.items():
            if button.isChecked():
                return outcome
        return None

    def choose(self, outcome: str) -> None:
        self.outcome_buttons[outcome].setChecked(True)

    def _outcome_changed(self, *_args) -> None:
        outcome = self.chosen_outcome()
        self.call_back_row.setVisible(outcome == service.CALL_BACK_LATER)
        self.retry_note.setVisible(outcome == service.NO_ANSWER)
        self.survey_box.setVisible(outcome == service.REACHED and (
            self.survey_form is not None or self.call_36 is not None
            or self.prospect_panel is not None or self.group_panel is not None))

    def _call_back_time(self) -> dt.datetime:
        return self.call_back_at.dateTime().toPython().replace(second=0, microsecond=0)

    def _save(self) -> None:
        outcome = self.chosen_outcome()
        self.outcome_error.hide()
        self.call_back_field.set_error(None)
        self.notes_field.set_error(None)
        if self.survey_form is not None:
            self.survey_form.show_errors({})
        if self.call_36 is not None:
            self.call_36.show_errors({})
        if self.prospect_panel is not None:
            self.prospect_panel.show_errors({})
        if self.group_panel is not None:
            self.group_panel.show_errors({})
        if outcome is None:
            self.outcome_error.setText(_("Choose how the call ended."))
            self.outcome_error.show()
            return
        notes = self.notes.toPlainText()
        try:
            if outcome == service.REACHED and self.survey_form is not None:
                # The discharge survey is filled in at the desk, the others on the phone.
                channel = "desk" if self.sheet.task.rule == "discharge_survey" else "phone"
                response = service.complete_with_survey(
                    self.task_id, self.survey_form.answers(), self.anonymous.isChecked(),
                    notes, channel)
                propose_complaint(response, self)
            elif outcome == service.REACHED and self.call_36 is not None:
                from nest_desktop.services import pregnancy as pregnancy_service

                pregnancy_service.record_call_36_weeks(self.task_id, self.call_36.form(notes))
            elif outcome == service.REACHED and self.group_panel is not None:
                from nest_desktop.services import mothers_group

                mothers_group.answer_offer(self.task_id,
                                           self.group_panel.answer.currentData() or "", notes)
            elif outcome == service.REACHED and self.prospect_panel is not None:
                from nest_desktop.services import prospects

                prospects.complete_call(self.task_id, self.prospect_panel.result(),
                                        self.prospect_panel.reason.currentData() or "", notes)
            else:
                service.record_attempt(
                    self.task_id, outcome, notes,
                    self._call_back_time() if outcome == service.CALL_BACK_LATER else None)
        except ValidationFailed as failed:
            self._show_errors(failed.errors)
            return
        except (service.TaskClosed, session.PermissionDenied) as refused:
            self.message.say(str(refused), error=True)
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
            return
        self.accept()

    def done(self, result: int) -> None:
        """However the call ends, Today, the register and her open file are told."""
        task = self.sheet.task
        for signal in (changes().tasks, changes().calls):
            signal.emit()
        if task.patient_id:
            changes().patient.emit(task.patient_id)
        if task.prospect_id:
            changes().prospect.emit(task.prospect_id)
        super().done(result)

    def _show_errors(self, errors: dict[str, str]) -> None:
        if "outcome" in errors:
            self.outcome_error.setText(errors["outcome"])
            self.outcome_error.show()
        self.call_back_field.set_error(errors.get("call_back_at"))
        self.notes_field.set_error(errors.get("notes"))
        if self.survey_form is not None:
            self.survey_form.show_errors(errors)
        if self.call_36 is not None:
            self.call_36.show_errors(errors)
        if self.prospect_panel is not None:
            self.prospect_panel.show_errors(errors)
        if self.group_panel is not None:
            self.group_panel.show_errors(errors)
        self.message.say(_("Check the fields marked."), error=True)
