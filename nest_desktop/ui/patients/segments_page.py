"""Segments (PAT-04): patients without a pathway chosen by pathway, loyalty, children's age and
consent, or qualified prospects by request, channel and age of the request (procedure 001);
counted, listed, exported for a newsletter, sent a newsletter (once or monthly), or called
through a campaign."""

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nest_desktop.domain import clock
from nest_desktop.domain import prospects as prospect_rules
from nest_desktop.domain.patients import CONTACT_CHANNELS, PATHWAYS
from nest_desktop.i18n import _, counted, format_datetime, format_number, ngettext
from nest_desktop.services import ValidationFailed, segments, session
from nest_desktop.services.exports import ExportError, safe_file_name
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import (
    FieldWithError,
    MessageLabel,
    ask_save_path,
    choice_box,
    dialog_buttons,
    fill,
    headers_in_full,
    read_only_table,
    site_box,
)
from nest_desktop.ui.patients.newsletters_dialog import NewslettersDialog
from nest_desktop.ui.patients.patient_list import PatientTableModel
from nest_desktop.ui.prospects.prospects_page import ProspectTableModel


class CampaignDialog(QDialog):
    """Names the campaign read out in the call script, and says why."""

    def __init__(self, segment: segments.SegmentFilter, count: int, site_id: int | None,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("New call campaign"))
        self.segment, self.site_id = segment, site_id
        self.name = QLineEdit()
        self.name.setMaxLength(100)
        self.name.setPlaceholderText(_("e.g. Open day on 12 December"))
        self.name_field = FieldWithError(self.name)
        self.reason = choice_box(segments.CAMPAIGN_REASONS)
        self.message = MessageLabel()
        intro = QLabel(ngettext(
            "A call to {count} person will be added to Today ({segment}).",
            "A call to each of {count} people will be added to Today ({segment}).",
            count).format(count=format_number(count), segment=segment.describe()))
        intro.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow(_("Campaign"), self.name_field)
        form.addRow(_("Reason"), self.reason)
        form.addRow(self.message)
        form.addRow(dialog_buttons(self, self._create))
        self.resize(520, 200)

    def _create(self) -> None:
        self.name_field.set_error(None)
        try:
            self.campaign = segments.create_campaign(self.name.text(), self.reason.currentData(),
                                                     self.segment, self.site_id)
        except ValidationFailed as failed:
            self.name_field.set_error(failed.errors.get("name"))
            if "segment" in failed.errors:
                self.message.say(failed.errors["segment"], error=True)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.accept()


class SegmentsPage(QWidget):
    openPatient = Signal(int)
    openProspect = Signal(int)

    def __init__(self, workstation_site_id: int | None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.workstation_site_id = workstation_site_id
        self.audience = choice_box(segments.AUDIENCES)
        self.site_filter = site_box(workstation_site_id, empty_label=_("All sites"))
        self.consent = choice_box(segments.CONSENTS, empty_label=_("Any"))
        top = QHBoxLayout()
        for label, editor in ((_("Reach"), self.audience), (_("Site"), self.site_filter),
                              (_("Consent"), self.consent)):
            top.addWidget(QLabel(label))
            top.addWidget(editor)
        top.addStretch(1)
        self.criteria = QStackedWidget()
        self.criteria.addWidget(self._patient_criteria())
        self.criteria.addWidget(self._prospect_criteria())

        self.count_label = QLabel()
        self.count_label.setStyleSheet("font-size: 11pt;")
        self.patient_model = PatientTableModel(self)
        self.prospect_model = ProspectTableModel(self)
        self.model = self.patient_model
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        self._set_widths()
        self.view.activated.connect(self._open)
        self.export_button = QPushButton(_("Export for a newsletter (CSV)…"))
        self.export_button.clicked.connect(self.export)
        self.campaign_button = QPushButton(_("Call campaign…"))
        self.campaign_button.clicked.connect(self.new_campaign)
        self.newsletter_button = QPushButton(_("Newsletter by SMS…"))
        self.newsletter_button.clicked.connect(self.new_newsletter)
        self.monthly_button = QPushButton(_("Monthly newsletters…"))
        self.monthly_button.clicked.connect(self.monthly_newsletters)
        self.message = MessageLabel()
        self.campaigns = read_only_table([_("Campaign"), _("Reason"), _("Created"),
                                          _("People"), _("Calls still to make")])
        self.campaigns.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.campaigns.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.campaigns.setMaximumHeight(140)

        # the count on its own line: the four actions need the page's width at 1366×768
        actions = QHBoxLayout()
        for button in (self.export_button, self.campaign_button, self.newsletter_button,
                       self.monthly_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.criteria)
        layout.addWidget(self.count_label)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addWidget(QLabel(_("Campaigns")))
        layout.addWidget(self.campaigns)

        for box in (self.audience, self.site_filter, self.consent, self.pathway,
                    self.past_pathway, self.child_age, self.channel, self.request,
                    self.source):
            box.currentIndexChanged.connect(self.refresh)
        for spin in (self.min_visits, self.min_years, self.request_min_days,
                     self.request_max_days):
            spin.valueChanged.connect(self.refresh)
        for check in (self.adults_only, self.include_lost):
            check.toggled.connect(self.refresh)
        self.refresh_permissions()
        changes().desk.connect(self.refresh_permissions)

    def _patient_criteria(self) -> QWidget:
        self.pathway = choice_box(PATHWAYS, empty_label=_("Any pathway"))
        self.pathway.setCurrentIndex(max(self.pathway.findData("none"), 0))
        self.past_pathway = choice_box(PATHWAYS, empty_label=_("Any"))
        self.adults_only = QCheckBox(_("Adults only"))
        self.adults_only.setChecked(True)
        self.min_visits = QSpinBox()
        self.min_visits.setRange(0, 500)
        self.min_visits.setSuffix(" " + _("visits or more"))
        self.min_years = QSpinBox()
        self.min_years.setRange(0, 50)
        self.min_years.setSuffix(" " + _("years or more"))
        self.child_age = choice_box(segments.CHILD_AGE_BAND_LABELS, empty_label=_("Any"))
        self.channel = choice_box(CONTACT_CHANNELS, empty_label=_("Any"))
        box = QGroupBox(_("Patients to reach"))
        grid = QGridLayout(box)
        for row, column, label, editor in (
                (0, 0, _("Pathway"), self.pathway), (0, 2, _("Children"), self.child_age),
                (1, 0, _("Loyalty"), self.min_visits), (1, 2, _("Patient for"), self.min_years),
                (2, 0, _("Once in the pathway"), self.past_pathway),
                (2, 2, _("Preferred channel"), self.channel)):
            grid.addWidget(QLabel(label), row, column)
            grid.addWidget(editor, row, column + 1)
        grid.addWidget(self.adults_only, 3, 1)
        return box

    def _prospect_criteria(self) -> QWidget:
        self.request = choice_box(prospect_rules.QUALIFICATIONS, empty_label=_("Any"))
        self.source = choice_box(prospect_rules.CHANNELS, empty_label=_("Any"))
        self.request_min_days = QSpinBox()
        self.request_min_days.setRange(0, 3650)
        self.request_min_days.setSpecialValueText(_("any"))
        self.request_min_days.setSuffix(" " + _("days or more"))
        self.request_max_days = QSpinBox()
        self.request_max_days.setRange(0, 3650)
        self.request_max_days.setSpecialValueText(_("any"))
        self.request_max_days.setSuffix(" " + _("days at most"))
        self.include_lost = QCheckBox(_("Include the prospects marked lost"))
        box = QGroupBox(_("Qualified prospects to reach (procedure 001)"))
        grid = QGridLayout(box)
        for row, column, label, editor in (
                (0, 0, _("Request"), self.request), (0, 2, _("First contact"), self.source),
                (1, 0, _("Her latest request"), self.request_min_days),
                (1, 2, _("and"), self.request_max_days)):
            grid.addWidget(QLabel(label), row, column)
            grid.addWidget(editor, row, column + 1)
        grid.addWidget(self.include_lost, 2, 1)
        return box

    def _prospects(self) -> bool:
        return self.audience.currentData() == segments.PROSPECTS

    def _set_widths(self) -> None:
        widths = ((190, 120, 150, 150, 130) if self._prospects()
                  else (150, 160, 75, 165, 115, 175))
        for column, width in enumerate(widths):
            self.view.setColumnWidth(column, width)
        headers_in_full(self.view)

    def _open(self, index) -> None:
        row_id = self.model.id_at(index.row())
        if row_id is not None:
            (self.openProspect if self._prospects() else self.openPatient).emit(row_id)

    def refresh_permissions(self) -> None:
        self.export_button.setEnabled(session.may("patients.export"))
        self.campaign_button.setEnabled(session.may("campaign.create"))
        self.newsletter_button.setEnabled(session.may("sms.send"))

    def new_newsletter(self) -> None:
        from nest_desktop.ui.sms.sms_page import NewsletterDialog

        dialog = NewsletterDialog(self.segment(), self)
        if dialog.exec():
            self.message.say(_("The newsletter is scheduled: see it in SMS."))
            self.refresh()
            changes().sms.emit()

    def monthly_newsletters(self) -> None:
        NewslettersDialog(self.segment(), self).exec()
        self.refresh()
        changes().sms.emit()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()  # counted when looked at, not at start-up

    def segment(self) -> segments.SegmentFilter:
        common = {"consent": self.consent.currentData() or "",
                  "site_id": self.site_filter.currentData()}
        if self._prospects():
            return segments.SegmentFilter(
                audience=segments.PROSPECTS, request=self.request.currentData() or "",
                source=self.source.currentData() or "",
                request_min_days=self.request_min_days.value(),
                request_max_days=self.request_max_days.value(),
                include_lost=self.include_lost.isChecked(), adults_only=False, **common)
        return segments.SegmentFilter(
            pathway=self.pathway.currentData() or "",
            past_pathway=self.past_pathway.currentData() or "",
            adults_only=self.adults_only.isChecked(),
            min_visits=self.min_visits.value(), min_years=self.min_years.value(),
            child_age_band=self.child_age.currentData() or "",
            channel=self.channel.currentData() or "", **common)

    def refresh(self) -> None:
        prospects = self._prospects()
        self.criteria.setCurrentIndex(1 if prospects else 0)
        model = self.prospect_model if prospects else self.patient_model
        if model is not self.model:
            self.model = model
            self.view.setModel(model)
            self._set_widths()
        self._generation += 1
        generation, segment = self._generation, self.segment()
        run_in_background(lambda: (segments.member_ids(segment), segments.campaigns()),
                          lambda result: self._show(generation, prospects, *result),
                          owner=self)

    def _show(self, generation: int, prospects: bool, ids: list[int], campaigns) -> None:
        if generation != self._generation:
            return
        self.model.set_ids(ids)
        if prospects:
            text = counted("{count} prospect in this segment",
                           "{count} prospects in this segment", len(ids),
                           _("No prospect in this segment"))
        else:
            text = counted("{count} patient in this segment", "{count} patients in this segment",
                           len(ids), _("No patient in this segment"))
        self.count_label.setText(text)
        fill(self.campaigns, [(c.name, _(segments.CAMPAIGN_KINDS.get(c.reason, c.reason)),
                               format_datetime(c.created_at), format_number(c.members),
                               format_number(c.open_tasks)) for c in campaigns])

    def export(self) -> None:
        name = safe_file_name(_("Segment {date}").format(date=clock.today().isoformat()))
        path = ask_save_path(self, _("Export the segment"), name + ".csv", _("CSV (*.csv)"))
        if path is not None:
            self.export_to(path)

    def export_to(self, path: Path) -> None:
        try:
            count = segments.export_csv(path, self.segment())
        except (ExportError, session.PermissionDenied) as error:
            QMessageBox.warning(self, _("Export failed"), str(error))
            return
        self.message.say(ngettext("{count} person exported to {path}",
                                  "{count} people exported to {path}", count)
                         .format(count=format_number(count), path=path))

    def new_campaign(self) -> None:
        dialog = CampaignDialog(self.segment(), self.model.rowCount(), self.workstation_site_id,
                                self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.message.say(_("Campaign created: its calls are in Today."))
            self.refresh()
            changes().tasks.emit()
