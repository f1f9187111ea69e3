"""The prospect list and file from the GUI: create from a call, be stopped by the duplicate
check, answer and see the callback, convert to a patient, see the report move."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from nest_desktop.db.models import FollowUpTask, Patient, Prospect
from nest_desktop.ui.prospects import prospects_page as page_module
from nest_desktop.ui.prospects.prospect_tools import ReportDialog
from tests.test_gui import make_main_window


def type_awa(window, phone="77 123 45 67"):
    window.last_name.setText("Diop")
    window.first_names.setText("Awa")
    window.phone_edits[0].setText(phone)
    window.qualification.setCurrentIndex(window.qualification.findData("quote"))
    window.request_text.setPlainText("Prix d'un accouchement")


def test_a_prospect_from_a_call_to_a_patient(qtbot, desk, monkeypatch):
    main = make_main_window(qtbot, desk)
    main.show_section(main.prospects_page)
    # Bad input: said at the field, nothing written.
    window = main.new_prospect()
    window.save()
    assert window.fields["last_name"].error.isVisible()
    assert "qualifiés" in window.fields["qualification"].error.text()
    assert Prospect.select().count() == 0
    type_awa(window)
    assert window.save()
    prospect = Prospect.get()
    assert window.prospect_id == prospect.id and window.follow_box.isVisibleTo(window)
    assert "Analyse de la conversion" in window.tasks_label.text()

    # The same person typed another way: stopped, the request goes on her file.
    shown = {}

    def choose_existing(dialog):
        shown["text"] = dialog.list.item(0).text()
        dialog._open()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(page_module.DuplicatesDialog, "exec", choose_existing)
    again = main.new_prospect()
    type_awa(again, phone="+221 77-123-45-67")
    again.last_name.setText("DIOPE")
    with qtbot.waitSignal(again.openProspect) as opened:
        assert again.save()
    assert opened.args == [prospect.id] and "même téléphone" in shown["text"]
    assert Prospect.select().count() == 1
    assert main.open_prospect(prospect.id).requests.rowCount() == 2

    # The answer makes the callback a week later, on Today.
    def answer(dialog):
        dialog.answer.setPlainText("Forfait envoyé")
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(page_module.AnswerDialog, "exec", answer)
    window = main.open_prospect(prospect.id)
    window.requests.selectRow(0)
    window._answer()
    assert "Rappel du prospect" in window.tasks_label.text()
    assert FollowUpTask.select().where(FollowUpTask.rule == "prospect_callback").count() == 1

    # Converted: a patient file pre-filled from hers; saved, the prospect is converted.
    report = ReportDialog(None, main)
    qtbot.addWidget(report)
    assert "0 devenus patients" in report.summary.text()
    patient_window = main.convert_prospect(prospect.id)
    assert patient_window.last_name.text() == "Diop"
    assert patient_window.phone_edits[0].text() == "77 123 45 67"
    monkeypatch.setattr("nest_desktop.ui.patients.patient_window.DuplicatesDialog.exec",
                        lambda dialog: QDialog.DialogCode.Accepted)
    assert patient_window.save()
    prospect = Prospect.get_by_id(prospect.id)
    assert prospect.status == "converted" and prospect.patient_id == Patient.get().id
    assert window.actions["patient"].isVisibleTo(window)
    report.refresh()
    assert "1 devenus patients (100" in report.summary.text()
    assert FollowUpTask.select().where(FollowUpTask.status == "open",
                                       FollowUpTask.prospect == prospect.id).count() == 0


def test_the_list_filters_and_opens_with_enter(qtbot, desk):
    from nest_desktop.services import prospects

    prospects.create_prospect(prospects.ProspectForm(last_name="Sarr", first_names="Coumba",
                                                     phones=["70 555 66 77"],
                                                     site_id=desk[0].id),
                              prospects.RequestForm("appointment", "", "RDV mardi"))
    main = make_main_window(qtbot, desk)
    page = main.prospects_page
    main.show_section(page)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert "Répondu\u00a0: 1" in page.counts.text()
    page.status.setCurrentIndex(page.status.findData("new"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    page.status.setCurrentIndex(0)
    page.search.setText("70 555")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    with qtbot.waitSignal(page.openProspect):
        qtbot.keyClick(page.search, Qt.Key.Key_Return)
    page.created_from.setText("31/02/2026")
    page.refresh()
    assert page.period_error.isVisibleTo(page)


@pytest.mark.clock("2026-11-23 09:00")
def test_the_import_dialog_previews_a_meta_export_and_imports_it(qtbot, desk, as_role,
                                                                  tmp_path):
    from nest_desktop.db.models import Prospect
    from nest_desktop.ui.prospects.prospect_tools import ImportDialog
    from tests.test_gui import settle
    from tests.test_services_prospects import META_EXPORT

    export = tmp_path / "leads_meta.csv"
    export.write_text(META_EXPORT, encoding="utf-16")
    as_role("prospect_manager")
    dialog = ImportDialog(desk[0].id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.load(export)
    settle(qtbot, lambda: dialog.table.rowCount() == 5)
    assert dialog.table.item(1, 1).text() == "(nom à compléter)"
    assert dialog.table.item(1, 4).text() == (
        "Nouveau prospect — sans nom\u00a0: à demander au rappel")
    assert dialog.message.text() == "Rien n’est écrit avant de cliquer sur Importer."
    dialog._import()
    settle(qtbot, lambda: "prospects créés" in dialog.message.text())
    assert Prospect.select().count() == 4  # no patient known here: four new prospects
