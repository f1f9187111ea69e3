"""Satisfaction: survey answers and scores month by month, the remarks, paper surveys typed
in, and the guestbook."""

import datetime as dt

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock, surveys
from nest_desktop.domain.dates import parse_date
from nest_desktop.domain.text import fill_in
from nest_desktop.i18n import _, current_language, format_date, format_number, ngettext
from nest_desktop.services import ValidationFailed, quality, satisfaction, session
from nest_desktop.services import followup as followup_service
from nest_desktop.services import patients as patient_service
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    dialog_buttons,
    fill,
    read_only_table,
    site_box,
)
from nest_desktop.ui.followup.outbound_call import SurveyForm
from nest_desktop.ui.quality.case_dialog import CaseDialog, propose_complaint


def survey_label(name: str) -> str:
    return surveys.surveys()[name].label_in(current_language())


class PaperSurveyDialog(QDialog):
    """A survey answered on paper (the discharge form) or at the desk, typed in."""

    def __init__(self, site_id: int | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Type in a survey"))
        self.site_id = site_id
        self.patient_id: int | None = None
        self._search_generation = 0
        self.survey = QComboBox()
        for name in surveys.surveys():
            self.survey.addItem(survey_label(name), name)
        self.survey.setCurrentIndex(max(self.survey.findData("discharge"), 0))
        self.channel = QComboBox()
        for code in ("paper", "desk"):
            self.channel.addItem(_(followup_service.SURVEY_CHANNELS[code]), code)
        self.answered_on = DateEdit()
        self.answered_on.setText(clock.today().strftime("%d/%m/%Y"))
        self.date_field = FieldWithError(self.answered_on)
        self.person = QLineEdit()
        self.person.setPlaceholderText(_("Phone or name; empty: anonymous"))
        self.person_found = QLabel(_("Anonymous answers"))
        self.person.textChanged.connect(self._find_person)
        self.form_holder = QVBoxLayout()
        self.survey_form: SurveyForm | None = None
        self.message = MessageLabel()

        form = QFormLayout()
        form.addRow(_("Survey"), self.survey)
        form.addRow(_("Collected"), self.channel)
        form.addRow(_("Date"), self.date_field)
        form.addRow(_("Patient"), self.person)
        form.addRow("", self.person_found)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(self.form_holder)
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self._save, save=True))
        self.survey.currentIndexChanged.connect(self._show_questions)
        self._show_questions()

    def _show_questions(self) -> None:
        if self.survey_form is not None:
            self.survey_form.setParent(None)
            self.survey_form.deleteLater()
        self.survey_form = SurveyForm(self.survey.currentData())
        self.form_holder.addWidget(self.survey_form)

    def _find_person(self, text: str) -> None:
        """Searched off the GUI thread as she types; only the latest answer counts."""
        self.patient_id = None
        self._search_generation += 1
        generation = self._search_generation
        if not text.strip():
            self.person_found.setText(_("Anonymous answers"))
            return

        def search():
            ids = patient_service.search_ids(text)[:2]
            return ids, patient_service.get_patient(ids[0]) if len(ids) == 1 else None

        run_in_background(search, lambda found: self._show_person(generation, *found),
                          owner=self.person_found)

    def _show_person(self, generation: int, ids: list[int], patient) -> None:
        if generation != self._search_generation:
            return
        if patient is not None:
            self.patient_id = patient.id
            self.person_found.setText(fill_in(_("Answers of {name}"),
                                           name=f"{patient.first_names} {patient.last_name}"))
        elif ids:
            self.person_found.setText(_("Several people match: type more."))
        else:
            self.person_found.setText(_("Nobody matches: the answers stay anonymous."))

    def _save(self) -> None:
        self.date_field.set_error(None)
        try:
            answered_on = parse_date(self.answered_on.text())
        except ValueError as error:
            self.date_field.set_error(str(error))
            return
        if answered_on > clock.today():
            self.date_field.set_error(_("This date is in the future."))
            return
        try:
            response = followup_service.record_survey(
                self.survey.currentData(), self.survey_form.answers(), self.patient_id,
                self.channel.currentData(), self.site_id,
                when=dt.datetime.combine(answered_on, clock.now().time())
                .replace(microsecond=0))
        except ValidationFailed as failed:
            self.survey_form.show_errors(failed.errors)
            self.message.say(_("Check the fields marked."), error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        propose_complaint(response, self)
        self.accept()


class SatisfactionPage(QWidget):
    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.workstation_site_id = workstation_site_id
        self.survey_filter = QComboBox()
        self.survey_filter.addItem(_("All surveys"), None)
        for name in surveys.surveys():
            self.survey_filter.addItem(survey_label(name), name)
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        self.months = read_only_table([_("Month"), _("Answers"), _("Mean score (out of 100)"),
                                       _("Would recommend NEST")])
        self.months.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.remarks = read_only_table([_("Date"), _("Survey"), _("Remark"), _("From")])
        self.remarks.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.remarks.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.type_in = QPushButton(_("Type in a paper survey…"))
        self.type_in.clicked.connect(self._type_in)

        surveys_tab = QWidget()
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Survey")))
        top.addWidget(self.survey_filter)
        top.addWidget(QLabel(_("Site")))
        top.addWidget(self.site_filter)
        top.addStretch(1)
        top.addWidget(self.type_in)
        layout = QVBoxLayout(surveys_tab)
        layout.addLayout(top)
        layout.addWidget(self.months, 3)
        self.complain = QPushButton(_("Record a complaint from this remark…"))
        self.complain.clicked.connect(self._complaint_from_remark)
        self.remark_rows: list = []
        remarks_title = QHBoxLayout()
        remarks_title.addWidget(QLabel(_("Latest remarks")))
        remarks_title.addStretch(1)
        remarks_title.addWidget(self.complain)
        layout.addLayout(remarks_title)
        layout.addWidget(self.remarks, 2)

        guestbook_tab = QWidget()
        self.entries = read_only_table([_("Date"), _("Written by"), _("Words"), _("Site")])
        self.entries.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.entries.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.author = QLineEdit()
        self.author.setPlaceholderText(_("Name as signed (optional)"))
        self.author.setMaxLength(100)
        self.author_field = FieldWithError(self.author)
        self.words = QPlainTextEdit()
        self.words.setMaximumHeight(80)
        self.words_field = FieldWithError(self.words)
        self.written_on = DateEdit()
        self.written_on.setText(clock.today().strftime("%d/%m/%Y"))
        self.written_field = FieldWithError(self.written_on)
        self.add_entry = QPushButton(_("Add to the guestbook"))
        self.add_entry.clicked.connect(self._add_entry)
        self.guestbook_message = MessageLabel()
        entry_form = QFormLayout()
        entry_form.addRow(_("Words written"), self.words_field)
        entry_form.addRow(_("Signed"), self.author_field)
        entry_form.addRow(_("Date"), self.written_field)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_entry)
        add_row.addStretch(1)
        entry_form.addRow("", add_row)
        guestbook_layout = QVBoxLayout(guestbook_tab)
        guestbook_layout.addWidget(self.entries, 1)
        guestbook_layout.addLayout(entry_form)
        guestbook_layout.addWidget(self.guestbook_message)

        self.tabs = QTabWidget()
        self.tabs.addTab(surveys_tab, _("Surveys"))
        self.tabs.addTab(guestbook_tab, _("Guestbook"))
        outer = QVBoxLayout(self)
        outer.addWidget(self.tabs)

        self.survey_filter.currentIndexChanged.connect(self.refresh)
        self.site_filter.currentIndexChanged.connect(self.refresh)
        self.refresh_permissions()
        changes().desk.connect(self.refresh_permissions)

    def refresh_permissions(self) -> None:
        may = session.may("followup.work")
        self.type_in.setEnabled(may)
        self.add_entry.setEnabled(may)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()  # computed when looked at, not at start-up

    def _complaint_from_remark(self) -> None:
        """The pilot (or anyone) marks a remark as a complaint: recorded prefilled."""
        row = self.remarks.currentRow()
        if not 0 <= row < len(self.remark_rows):
            QMessageBox.information(self, _("Record a complaint"),
                                    _("Choose a remark in the list first."))
            return
        remark = self.remark_rows[row]
        recorded = quality.case_for_source("survey_response", remark.response_id)
        CaseDialog(recorded, None if recorded else quality.form_from_survey(remark.response_id),
                   parent=self).exec()

    def refresh(self) -> None:
        self._generation += 1
        generation = self._generation
        survey, site_id = self.survey_filter.currentData(), self.site_filter.currentData()

        def read():
            return (satisfaction.monthly(survey, site_id), satisfaction.remarks(survey, site_id),
                    [(e, e.site.name if e.site_id else "")
                     for e in satisfaction.guestbook(site_id)])

        run_in_background(read, lambda result: self._show(generation, *result),
                          owner=self.months)

    def _show(self, generation: int, months, remarks, entries) -> None:
        if generation != self._generation:
            return
        fill(self.months, [(
            format_date(month.start, "MMMM y"),
            format_number(month.answers),
            "" if month.mean_score is None else format_number(month.mean_score),
            "" if month.recommend_share is None else f"{format_number(month.recommend_share)} %",
        ) for month in reversed(months)])
        self.remark_rows = remarks
        fill(self.remarks, [(format_date(r.answered_at.date()), survey_label(r.survey), r.text,
                             r.who or _("Anonymous")) for r in remarks])
        fill(self.entries, [(format_date(e.written_on), e.author or _("Anonymous"), e.text, site)
                            for e, site in entries])
        total = sum(month.answers for month in months)
        self.tabs.setTabText(0, _("Surveys") + " — " + ngettext(
            "{count} answer in 12 months", "{count} answers in 12 months", total).format(
            count=format_number(total)))

    def _type_in(self) -> None:
        dialog = PaperSurveyDialog(self.workstation_site_id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def _add_entry(self) -> None:
        for field in (self.words_field, self.author_field, self.written_field):
            field.set_error(None)
        try:
            written_on = parse_date(self.written_on.text())
        except ValueError as error:
            self.written_field.set_error(str(error))
            return
        try:
            satisfaction.add_guestbook_entry(self.words.toPlainText(), self.author.text(),
                                             self.workstation_site_id, written_on)
        except ValidationFailed as failed:
            self.words_field.set_error(failed.errors.get("text"))
            self.author_field.set_error(failed.errors.get("author"))
            self.written_field.set_error(failed.errors.get("written_on"))
            return
        except session.PermissionDenied as refused:
            self.guestbook_message.say(str(refused), error=True)
            return
        self.words.clear()
        self.author.clear()
        self.guestbook_message.say(_("Added to the guestbook."))
        self.refresh()
