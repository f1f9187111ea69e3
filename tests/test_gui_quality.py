"""Quality, driven as the pilot and the secretaries would: a low survey proposes a
complaint, the register, the case window, the action on its owner's Today, her file."""

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from nest_desktop.db.models import FollowUpTask, QualityCase
from nest_desktop.services import desk as desk_service
from nest_desktop.services import patients, session
from nest_desktop.ui.followup.satisfaction_page import PaperSurveyDialog
from nest_desktop.ui.quality import case_dialog
from nest_desktop.ui.quality.case_dialog import CaseDialog
from tests.conftest import PASSWORD
from tests.test_gui import make_main_window, settle

pytestmark = pytest.mark.clock("2026-12-07 10:00")


def test_a_low_paper_survey_becomes_a_complaint_dealt_with_to_its_closing(
        qtbot, desk, monkeypatch):
    site, admin = desk
    khady = desk_service.create_user(desk_service.UserForm(
        "Khady Sow", "Khady", "secretary", site.id, "khady", PASSWORD, PASSWORD))
    patient = patients.create_patient(patients.PatientForm(
        last_name="Faye", first_names="Ndeye Coumba", phones=["77 200 30 40"],
        site_id=site.id))
    window = make_main_window(qtbot, desk)
    page = window.satisfaction_page
    window.show_section(page)
    asked = {}

    def yes(_parent, title, text, *_args):
        asked["question"] = text
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    proposed = {}

    def save_prefilled(dialog):
        proposed["category"] = dialog.category.currentData()
        proposed["description"] = dialog.description.toPlainText()
        proposed["person"] = dialog.person.text()
        dialog._save()
        return 1

    monkeypatch.setattr(CaseDialog, "exec", save_prefilled)

    def type_in(dialog):
        dialog.patient_id = patient.id
        form = dialog.survey_form
        form.inputs["welcome"].button(1).setChecked(True)
        for question in ("care", "comfort", "information"):
            form.inputs[question].button(2).setChecked(True)
        form.inputs["recommend"].button(0).setChecked(True)
        form.inputs["comment"].setText("Très mal reçue, 2 h d'attente")
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(PaperSurveyDialog, "exec", type_in)
    page._type_in()
    assert asked["question"].startswith("Elle a donné un score de 19/100.")
    assert proposed == {"category": "welcome", "description": "Très mal reçue, 2 h d'attente",
                        "person": "Ndeye Coumba Faye"}
    case = QualityCase.get()
    assert (case.source, case.source_table, case.patient_id, case.status) == (
        "survey", "survey_response", patient.id, "recorded")

    # The register on the Quality page.
    quality_page = window.quality_page
    window.show_section(quality_page)
    register = quality_page.register
    settle(qtbot, lambda: register.model.rowCount() == 1)
    assert register.model.data(register.model.index(0, 7)) == "Enregistrée"
    assert register.model.data(register.model.index(0, 5)) == "FAYE Ndeye Coumba"

    # The pilot analyses it and gives an action to Khady.
    monkeypatch.undo()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    dialog = CaseDialog(case.id, parent=window)
    qtbot.addWidget(dialog)
    dialog.cause.setPlainText("Accueil débordé pendant les sorties du matin")
    dialog.immediate_action.setPlainText("Appelée pour s'excuser")
    dialog._save()
    assert dialog.status.text() == "Cause analysée"
    dialog.action_text.setText("Une seconde secrétaire de 8 h à 10 h")
    dialog.action_owner.setCurrentIndex(dialog.action_owner.findData(khady.id))
    dialog.action_deadline.setText("31/12/2026")
    dialog._add_action()
    assert dialog.action_message.text() == ("L’action figure dans «\u00a0Aujourd’hui\u00a0» de "
                                            "son responsable.")
    assert dialog.actions.rowCount() == 1 and dialog.actions.item(0, 1).text() == "Khady Sow"
    dialog.effectiveness.setPlainText("Vu")
    dialog._check(True)
    assert dialog.effectiveness_field.error.text() == ("Ses actions correctives ne sont pas "
                                                       "toutes faites.")
    dialog.close()
    settle(qtbot, lambda: register.model.data(register.model.index(0, 7)) == "Actions en cours")

    # Khady sees it on her Today and says it is done from there.
    session.login("khady", PASSWORD)
    window.context.user = session.current()
    window.desk_changed()
    assert window.sections.item(window.pages.index(quality_page)).isHidden()
    [task] = FollowUpTask.select().where(FollowUpTask.rule == "corrective_action")
    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        lambda *args, **kwargs: ("Planning changé", True))

    def done_from_today(opened):
        assert opened.windowTitle() == f"Réclamation n° {case.id}"
        assert not opened.save_button.isVisibleTo(opened)  # hers to do, not to edit
        opened.actions.selectRow(0)
        opened._complete_action()
        return 0

    monkeypatch.setattr(CaseDialog, "exec", done_from_today)
    window.open_task(task.id)
    assert FollowUpTask.get_by_id(task.id).status == "done"
    assert QualityCase.get_by_id(case.id).status == "to_check"

    # Back to the pilot: the check closes it; her file lists it.
    session.login(admin.login, PASSWORD)
    window.context.user = session.current()
    window.desk_changed()
    monkeypatch.undo()
    dialog = CaseDialog(case.id, parent=window)
    qtbot.addWidget(dialog)
    assert dialog.check_box.isVisibleTo(dialog)
    dialog.effectiveness.setPlainText("Plus de plainte sur l'accueil du matin en janvier")
    dialog._check(True)
    assert dialog.status.text().startswith("Clôturée — ")
    assert not dialog.save_button.isVisibleTo(dialog)
    file_window = window.open_patient(patient.id)
    settle(qtbot, lambda: file_window.complaints.rowCount() == 1)
    assert file_window.complaints.item(0, 4).text() == "Clôturée"
    assert case_dialog.quality.case_for_source("survey_response", case.source_id) == case.id


def test_a_case_typed_wrong_says_so_beside_its_fields(qtbot, desk):
    dialog = CaseDialog()
    qtbot.addWidget(dialog)
    dialog.occurred_on.setText("31/12/2026")
    dialog._save()
    assert dialog.fields["category"].error.text() == "Choisissez une catégorie."
    assert dialog.fields["description"].error.text().startswith("Décrivez ce qui s’est passé")
    assert dialog.fields["occurred_on"].error.text() == "Cette date est dans le futur."
    assert QualityCase.select().count() == 0


def test_the_indicators_drill_down_to_a_file_and_the_review_is_previewed(
        qtbot, desk, monkeypatch):
    from nest_desktop.db.models import FollowUpTask as Task
    from nest_desktop.ui.quality.indicators_tab import DrillDialog

    site, admin = desk
    patient = patients.create_patient(patients.PatientForm(  # her 72-hour call: late
        last_name="Sarr", first_names="Fatou", phones=["77 555 12 34"], site_id=site.id,
        first_visit_date="16/11/2026", intake_date="16/11/2026"))
    task = Task.get(Task.rule == "satisfaction_72h")
    Task.update(status="done", outcome="reached",
                closed_at=task.due_at + __import__("datetime").timedelta(days=2),
                closed_by=admin.id).where(Task.id == task.id).execute()
    window = make_main_window(qtbot, desk)
    page = window.quality_page
    window.show_section(page)
    tab = page.indicators
    assert tab.period_label.text() == "novembre 2026"  # the last month, whole
    tab.site.setCurrentIndex(0)  # all sites
    settle(qtbot, lambda: tab.table.rowCount() > 20 and tab.message.text() == "")
    row = next(i for i, r in enumerate(tab.rows) if r.indicator.key == "on_time.satisfaction_72h")
    assert tab.table.item(row, 2).text() == "0\u00a0%"
    assert tab.table.item(row, 3).text() == "sur 1 — 1 en retard, 0 encore ouverts"
    assert tab.table.item(row, 6).text() == "Non atteint"
    tab.table.selectRow(row)
    assert tab.chart.chart().title() == tab.rows[row].label
    assert tab.chart.chart().series()[0].count() == 1  # November only had a value
    opened = {}

    def drill(dialog):
        settle(qtbot, lambda: dialog.table.rowCount() == 1)
        dialog.choose("late")
        settle(qtbot, lambda: dialog.count.text() == "1 enregistrements")
        assert dialog.table.item(0, 1).text() == "SARR Fatou"
        dialog.openPatient.connect(lambda patient_id: opened.setdefault("file", patient_id))
        dialog._open(dialog.table.model().index(0, 0))
        return 0

    monkeypatch.setattr(DrillDialog, "exec", drill)
    tab._drill(row)
    assert opened == {"file": patient.id}
    # A figure off target goes into the register as a non-conformity, prefilled.
    recorded = {}

    def save(dialog):
        recorded["kind"] = dialog.kind.currentData()
        recorded["source"] = dialog.source.currentData()
        # (Qt's plain text gives a no-break space as a space)
        recorded["description"] = dialog.description.toPlainText().replace("\u00a0", " ")
        dialog._save()
        return 1

    monkeypatch.setattr(CaseDialog, "exec", save)
    drill_dialog = DrillDialog("on_time.satisfaction_72h", tab.scope(), tab.rows[row].label)
    qtbot.addWidget(drill_dialog)
    drill_dialog.choose("late")
    settle(qtbot, lambda: drill_dialog.count.text() == "1 enregistrements")
    drill_dialog._record_non_conformity()
    assert recorded == {"kind": "non_conformity", "source": "indicator",
                        "description": "Appel de satisfaction (72 h) : fait à temps : 1 "
                                       "(faits en retard)."}
    assert QualityCase.get().occurred_on.isoformat() == "2026-11-30"
    # A target set by the pilot is met at once.
    monkeypatch.setattr("PySide6.QtWidgets.QInputDialog.getDouble",
                        lambda *args, **kwargs: (0.0, True))
    tab._set_target()
    settle(qtbot, lambda: tab.table.item(row, 6).text() == "Atteint")
    # The period moves back and forth; the review is made off the GUI thread and previewed.
    tab.earlier.click()
    assert tab.period_label.text() == "octobre 2026"
    tab.later.click()
    tab.later.click()
    assert tab.period_label.text() == "décembre 2026"
    assert not tab.later.isEnabled()  # nothing after the month under way
    shown = {}
    monkeypatch.setattr("nest_desktop.ui.main_window.PdfPreviewDialog.exec",
                        lambda dialog: shown.setdefault("pages", dialog.document.pageCount()))
    tab.review_button.click()
    settle(qtbot, lambda: "pages" in shown)
    assert shown["pages"] >= 2


def test_settings_show_the_records_age_and_purge_only_when_asked(qtbot, desk, monkeypatch,
                                                                   application_clock):
    import datetime as dt

    from nest_desktop.db.models import CallRecord
    from nest_desktop.services import reception

    application_clock.set_now(dt.datetime(2021, 5, 3, 9, 0))
    reception.record_call(reception.CallForm(
        started_at=dt.datetime(2021, 5, 3, 9, 0), phone="77 100 00 01", reason="information",
        outcome="answered"))
    application_clock.set_now(dt.datetime(2026, 12, 7, 10, 0))
    window = make_main_window(qtbot, desk)
    page = window.settings_page
    window.show_section(page)
    count, oldest, past = page.retention_counts["calls"]
    settle(qtbot, lambda: count.text() == "1")
    assert oldest.text() == "03/05/2021 (5 ans)"
    assert past.text() == "1 d’avant le 07/12/2023"
    assert page.retention_years["calls"].value() == 3
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Cancel)
    page.purge_buttons["calls"].click()
    assert CallRecord.select().count() == 1  # she said no: nothing went
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    page.purge_buttons["calls"].click()
    settle(qtbot, lambda: page.retention_message.text() == "1 enregistrements supprimés.")
    assert CallRecord.select().count() == 0
    settle(qtbot, lambda: not page.purge_buttons["calls"].isEnabled())
