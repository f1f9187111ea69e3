"""Her pathway's history and the mothers' group as the file and Today's call window show
them (PAT-04, PAT-06)."""

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from nest_desktop.db.models import FollowUpTask
from nest_desktop.domain import clock
from nest_desktop.services import mothers_group
from nest_desktop.services import pregnancy as pregnancy_service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.followup.outbound_call import OutboundCallDialog
from nest_desktop.ui.patients import patient_window as module


@pytest.mark.clock("2026-11-23 10:00")
def test_the_offer_is_answered_from_today_and_shown_on_her_file(qtbot, desk, family,
                                                                monkeypatch):
    site, user = desk
    mother, _child = family
    pregnancy_service.save_pregnancy(mother.id, pregnancy_service.PregnancyForm(
        ddr=(clock.today() - dt.timedelta(weeks=10)).strftime("%d/%m/%Y")))
    offer = FollowUpTask.get(FollowUpTask.rule == "mothers_group_offer")
    call = OutboundCallDialog(DeskContext(user, site), offer.id)
    qtbot.addWidget(call)
    call.choose("reached")
    assert call.group_panel is not None and call.survey_box.isVisibleTo(call)
    call._save()  # no answer chosen: said next to the field, nothing recorded
    assert call.group_panel.field.error.text() == (
        "Indiquez si elle rejoint le groupe des mamans.")
    assert mothers_group.membership(mother.id) is None
    call.group_panel.answer.setCurrentIndex(call.group_panel.answer.findData("whatsapp"))
    call._save()
    assert call.result() == 1 and FollowUpTask.get_by_id(offer.id).status == "done"

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    window = module.PatientWindow(DeskContext(user, site), mother.id)
    qtbot.addWidget(window)
    assert window.group_state.text() == "Membre (WhatsApp) — membre depuis le 23/11/2026"
    history = window.pathway_history
    assert window.pathway_history_box.isVisibleTo(window) and history.rowCount() == 1
    assert [history.item(0, column).text() for column in (1, 2, 3)] == [
        "Sans parcours", "Grossesse", "Grossesse suivie"]

    def left(dialog):
        dialog.status.setCurrentIndex(dialog.status.findData("left"))
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(module.MothersGroupDialog, "exec", left)
    window.group_button.click()
    assert window.group_state.text().startswith("A quitté le groupe (WhatsApp) — membre")
    assert mothers_group.membership(mother.id).left_on == dt.date(2026, 11, 23)


@pytest.mark.clock("2026-11-23 10:00")
def test_the_segments_page_reaches_qualified_prospects(qtbot, desk, family):
    from nest_desktop.services import prospects, segments
    from tests.test_gui import make_main_window, settle

    site, _user = desk
    lead = prospects.create_prospect(
        prospects.ProspectForm(last_name="Sarr", first_names="Mariama", phones=["77 301 11 11"],
                               site_id=site.id, newsletter_consent=True),
        prospects.RequestForm("quote", "Tarifs de l’accouchement ?"), confirmed_new=True)
    window = make_main_window(qtbot, desk)
    page = window.segments_page
    window.show_section(page)
    settle(qtbot, lambda: page.model.rowCount() == 1)  # Awa, a patient
    page.audience.setCurrentIndex(page.audience.findData(segments.PROSPECTS))
    settle(qtbot, lambda: page.count_label.text() == "1\u00a0prospect dans ce segment")
    assert page.view.model() is page.prospect_model and page.criteria.currentIndex() == 1
    assert page.model.data(page.model.index(0, 0)) == "SARR Mariama"
    page.request.setCurrentIndex(page.request.findData("appointment"))
    settle(qtbot, lambda: page.model.rowCount() == 0)
    page.request.setCurrentIndex(page.request.findData("quote"))
    settle(qtbot, lambda: page.model.rowCount() == 1)
    with qtbot.waitSignal(page.openProspect) as opened:
        page._open(page.model.index(0, 0))
    assert opened.args == [lead.id]
    page.audience.setCurrentIndex(page.audience.findData(segments.PATIENTS))
    settle(qtbot, lambda: page.view.model() is page.patient_model
           and page.model.rowCount() == 1)


@pytest.mark.clock("2026-12-02 09:00")
def test_a_monthly_newsletter_is_prepared_from_the_segments_page(qtbot, desk, family,
                                                                 monkeypatch, tmp_path):
    from PySide6.QtWidgets import QTableWidgetItem

    from nest_desktop.db.models import NewsletterSending, NewsletterTopic
    from nest_desktop.services import newsletters, segments
    from nest_desktop.ui.patients.newsletters_dialog import NewslettersDialog, SeriesDialog

    mother, _child = family
    patient = mother.__class__.get_by_id(mother.id)
    patient.newsletter_consent = True
    patient.save()
    segment = segments.SegmentFilter(pathway="none", consent="newsletter")
    dialog = NewslettersDialog(segment, None)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0

    def prepare(series_dialog):
        qtbot.addWidget(series_dialog)
        series_dialog._save()  # no name, no topic: said, nothing saved
        seen = (series_dialog.fields["name"].error.text(), series_dialog.topics_error.text())
        series_dialog.name.setText("Lettre des mamans")
        series_dialog.channel.setCurrentIndex(series_dialog.channel.findData("export"))
        for title, body in (("Allaitement", "Bonjour {prenom}, l’allaitement…"),
                            ("Nutrition", "Bonjour {prenom}, bien manger…")):
            series_dialog._add_row(newsletters.TopicForm())
            row = series_dialog.topics.rowCount() - 1
            series_dialog.topics.setItem(row, 0, QTableWidgetItem(title))
            series_dialog.topics.setItem(row, 1, QTableWidgetItem(body))
        series_dialog.topics.setCurrentCell(1, 0)
        series_dialog._move(-1)  # Nutrition first
        series_dialog._save()
        assert seen == ("Nommez la lettre\u00a0: c’est ainsi que la boîte d’envoi la montre.",
                        "Préparez au moins un sujet.")
        return series_dialog.result()

    monkeypatch.setattr(SeriesDialog, "exec", prepare)
    dialog.new()
    assert [t.title for t in NewsletterTopic.select().order_by(NewsletterTopic.position)] == [
        "Nutrition", "Allaitement"]
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 2).text() == "le 1 à 10:00, exportée pour l’e-mail ou WhatsApp"
    # written after the 1st: its first letter is January's (an early export is allowed)
    assert dialog.table.item(0, 5).text() == "01/01/2027 10:00"
    dialog.export_to(dialog.rows[0].id, tmp_path / "lettre.csv")
    assert dialog.message.text().startswith("1\u00a0lettre exportée")
    assert NewsletterSending.get().patient_id == mother.id
    assert dialog.table.item(0, 4).text() == "1"


def test_a_workstation_left_on_overnight_runs_the_new_days_pass(qtbot, desk, monkeypatch):
    from tests.test_gui import make_main_window

    window = make_main_window(qtbot, desk)
    runs = []
    monkeypatch.setattr(window, "run_follow_up_engine", lambda: runs.append(clock.today()))
    window._new_day_pass()
    assert runs == []  # the same day: nothing
    window.engine_day = clock.today() - dt.timedelta(days=1)
    window._new_day_pass()
    assert runs == [clock.today()]
