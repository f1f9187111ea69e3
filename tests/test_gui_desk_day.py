"""Small things that cost time every day at the desk: the birth asks the baby's family name
(usually the father's), never the mother's by default; the intake asks her consent to SMS
rather than assuming "no", and a booking says when no reminder will go."""

import datetime as dt

import pytest

from nest_desktop.db.models import Patient
from nest_desktop.services import patients as patient_service
from nest_desktop.services import pregnancy as pregnancy_service
from nest_desktop.ui.pregnancy.pregnancy_tab import DeliveryDialog


def expecting(site_id: int, first: str, phone: str):
    mother = patient_service.create_patient(patient_service.PatientForm(
        last_name="Diop", first_names=first, sex="F", birth_date="02/05/1990",
        phones=[phone], site_id=site_id))
    pregnancy, _notes = pregnancy_service.save_pregnancy(
        mother.id, pregnancy_service.PregnancyForm(ddr="01/03/2026"))
    return mother, pregnancy


@pytest.mark.clock("2026-11-30 10:00")
def test_the_birth_asks_the_babys_family_name_and_proposes_her_childrens(qtbot, desk):
    site, _user = desk
    mother, pregnancy = expecting(site.id, "Awa", "77 123 45 67")
    dialog = DeliveryDialog(pregnancy.id, mother.id)
    qtbot.addWidget(dialog)
    assert dialog.family_name.text() == ""  # a first child: not "Diop" by default
    sex, first, _last, _weight, _error = dialog.baby_rows[0]
    sex.setCurrentIndex(sex.findData("F"))
    first.setText("Aïcha")
    dialog._save()
    assert dialog.fields["family_name"].error.text() == (
        "Indiquez le nom de famille du bébé (en général celui du père).")
    assert Patient.select().count() == 1
    dialog.family_name.setText("Fall")
    dialog._save()
    assert dialog.result() == 1
    baby = Patient.get(Patient.first_names == "Aïcha")
    assert (baby.last_name, baby.birth_date) == ("Fall", dt.date(2026, 11, 30))
    # Her next baby will be proposed her children's family name; another first-time mother
    # is proposed none.
    assert pregnancy_service.children_family_name(mother.id) == "Fall"
    other, first_pregnancy = expecting(site.id, "Rama", "77 222 22 22")
    other_dialog = DeliveryDialog(first_pregnancy.id, other.id)
    qtbot.addWidget(other_dialog)
    assert other_dialog.family_name.text() == ""


def test_the_intake_asks_her_consent_to_sms_and_the_booking_says_no_reminder(qtbot, desk,
                                                                             monkeypatch):
    from nest_desktop.ui.reception.appointments import AppointmentDialog
    from tests.test_gui import fill_aissatou, make_main_window

    window = make_main_window(qtbot, desk)
    new = window.new_patient()
    fill_aissatou(new)
    new.sms_consent.setCurrentIndex(new.sms_consent.findData(None))  # not asked yet
    assert new.save() is False
    assert new.fields["sms_consent"].error.text() == (
        "Demandez-lui si elle accepte les rappels par SMS.")
    assert new.tabs.currentWidget().isAncestorOf(new.fields["sms_consent"])  # shown
    new.sms_consent.setCurrentIndex(new.sms_consent.findData(False))
    assert new.save() is True
    patient = Patient.get(Patient.first_names == "Aïssatou")
    assert patient.sms_consent is False
    site, _user = desk
    from nest_desktop.services import reception

    entry = reception.save_entry(reception.DirectoryForm(
        site.id, "person", "Dr Sow", "", "205", None, True))
    booking = AppointmentDialog("Aïssatou Ndiaye", site.id, patient.id)
    qtbot.addWidget(booking)
    booking.service.setCurrentIndex(booking.service.findData(entry.id))
    booking.time.setText("10:00")
    booking._show_day()
    assert booking.sms_note.text() == "Pas de rappel SMS\u00a0: elle n’a pas accepté les SMS."


@pytest.mark.clock("2026-11-24 09:00")
def test_an_urgent_message_is_first_on_today_and_alerts_the_person_it_is_for(qtbot, desk,
                                                                             monkeypatch):
    from PySide6.QtWidgets import QApplication

    from nest_desktop.domain import clock
    from nest_desktop.services import followup, reception
    from nest_desktop.ui.common.tasks import wait_for_background_work
    from tests.test_gui import make_main_window

    site, user = desk
    mine = reception.save_entry(reception.DirectoryForm(
        site.id, "person", "Clémence Diatta", "", "201", user.id, False))
    other = reception.save_entry(reception.DirectoryForm(
        site.id, "service", "Comptabilité", "", "230", None, False))
    reception.take_message(reception.MessageForm(other.id, "M. Faye", "77 500 00 00",
                                                 "Facture à renvoyer"),
                           when=dt.datetime(2026, 11, 24, 8, 0))
    beeps = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    window = make_main_window(qtbot, desk)
    wait_for_background_work()
    qtbot.waitUntil(lambda: not window.urgent_notice.isVisible() and True)
    assert beeps == []
    clock.set_now(dt.datetime(2026, 11, 24, 9, 5))
    urgent = reception.take_message(reception.MessageForm(
        mine.id, "Dr Sow", "77 600 00 00", "Rappeler tout de suite pour la césarienne",
        urgent=True))
    window.urgent_notice.check()
    qtbot.waitUntil(window.urgent_notice.isVisible)
    assert "Message urgent pour vous (09:05) de Dr Sow" in window.urgent_notice.text.text()
    assert beeps == [1]
    window.urgent_notice.check()  # not sounded twice
    wait_for_background_work()
    qtbot.wait(50)
    assert beeps == [1]
    # First on Today, marked in words, though the other message is older.
    ids = followup.task_ids(followup.TaskFilter(site_id=None), clock.now())
    assert followup.get_task(ids[0]).source_id == urgent.id
    window.today_page.refresh()
    qtbot.waitUntil(lambda: window.today_page.model.rowCount() == 2)
    first = window.today_page.model.index(0, 1)
    qtbot.waitUntil(lambda: window.today_page.model.data(first) is not None)
    assert window.today_page.model.data(first).startswith("⚠ URGENT — ")
    # Passed on: the notice goes.
    reception.confirm_message(urgent.id, "recipient")
    window.urgent_notice.check()
    qtbot.waitUntil(lambda: not window.urgent_notice.isVisible())


@pytest.mark.clock("2026-11-24 12:40")
def test_before_the_site_closes_the_open_lines_are_shown_and_leaving_asks(qtbot, desk,
                                                                         monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from nest_desktop.domain import clock
    from nest_desktop.services import agenda, reception
    from tests.test_gui import make_main_window

    site, _user = desk
    start = dt.datetime(2026, 11, 24, 9, 0)
    reception.record_call(reception.CallForm(
        started_at=start, ended_at=start + dt.timedelta(minutes=2), reason="information",
        summary="Résultats d'analyse", outcome="unresolved", site_id=site.id,
        phone="77 444 44 44", caller_name="Mme Ba"), when=start)
    window = make_main_window(qtbot, desk)
    notice = window.closing_notice
    notice.check()  # the default hours close at 18:00: too early for the notice
    qtbot.wait(100)
    assert not notice.isVisible()
    # this site closes at 13:00 on Tuesdays: its own time, not the clinic's
    agenda.save_week_hours(site.id, None, {1: "08:00-13:00"})
    notice.check()
    qtbot.waitUntil(notice.isVisible)
    assert notice.text.text() == (
        "Le site ferme à 13:00\u00a0: 1 ligne est encore ouverte aujourd’hui.")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: (
        asked.append(args[2]), QMessageBox.StandardButton.No)[1])
    locked = []
    window.lockRequested.connect(lambda: locked.append(1))
    window.leave_desk()
    assert locked == [] and "1 demande ou message est encore ouvert" in asked[0]
    assert window.calls_page.tabs.currentWidget() is window.calls_page.end_of_day
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    window.leave_desk()
    assert locked == [1]
    clock.set_now(dt.datetime(2026, 11, 24, 12, 50))
    call = reception.register(reception.RegisterFilter(site_id=site.id, open_only=True))[0]
    reception.resolve_call(call.id, "Résultats transmis par téléphone")
    notice.check()
    qtbot.waitUntil(lambda: not notice.isVisible())
    assert window.lines_left_open() == 0


def test_the_lock_screen_says_why_it_is_locked(qtbot, desk, monkeypatch):
    from PySide6.QtWidgets import QApplication, QLabel

    from nest_desktop.app import Application
    from nest_desktop.services import session
    from nest_desktop.ui.common.desk_context import DeskContext
    from nest_desktop.ui.settings import desk_dialogs
    from tests.conftest import PASSWORD

    notes = []

    def log_back_in(dialog):
        qtbot.addWidget(dialog)
        dialog.show()
        [note] = [label for label in dialog.findChildren(QLabel) if "Connectez-vous" in
                  label.text()]
        notes.append(note.text())
        assert note.wordWrap() and note.width() <= dialog.width()
        dialog.password.setText(PASSWORD)
        dialog._log_in()
        return dialog.result()

    monkeypatch.setattr(desk_dialogs.LoginDialog, "exec", log_back_in)
    application = Application(QApplication.instance(), "test")
    application.context = DeskContext(desk[1], desk[0])
    application.show_main_window()
    qtbot.addWidget(application.window)
    application.lock()  # after a while without use
    application.window.leave_desk()  # 'Change user': no line open, no question
    assert notes == [
        "L’écran s’est verrouillé après 5\u00a0minutes sans activité, pour protéger les "
        "dossiers. Connectez-vous pour continuer\u00a0: le travail non enregistré est "
        "conservé.",
        "Clémence Diatta a verrouillé l’écran pour quitter le poste. Connectez-vous pour "
        "continuer\u00a0: le travail non enregistré est conservé."]
    assert session.current().id == desk[1].id
    application.window.close()


def test_a_field_in_error_keeps_its_size_and_its_message_goes_once_corrected(qtbot):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QWidget

    from nest_desktop.ui.common.widgets import FieldWithError

    form = QWidget()
    qtbot.addWidget(form)
    layout = QFormLayout(form)
    name, choice = QLineEdit(), QComboBox()
    choice.addItems(["", "Oui", "Non"])
    name_field, choice_field = FieldWithError(name), FieldWithError(choice)
    layout.addRow("Nom", name_field)
    layout.addRow("Choix", choice_field)
    form.show()
    qtbot.waitExposed(form)
    height = name.height()
    name_field.set_error("Indiquez le nom.")
    choice_field.set_error("Choisissez.")
    qtbot.wait(20)
    assert name_field.error.isVisible() and name.height() >= height
    QTest.keyClicks(name, "Diop")
    assert not name_field.error.isVisible() and name_field.error.text() == ""
    assert choice_field.error.isVisible()  # only the field corrected loses its message
    choice.setCurrentIndex(1)
    assert not choice_field.error.isVisible()
    assert name.styleSheet() == ""  # back to the native frame


def test_settings_show_which_revision_of_each_procedure_is_applied(qtbot, desk):
    from tests.test_gui import make_main_window

    window = make_main_window(qtbot, desk)
    table = window.settings_page.procedures
    rows = {table.item(row, 0).text(): [table.item(row, c).text() for c in range(5)]
            for row in range(table.rowCount())}
    assert rows["Procédure de suivi des prospects"][1:3] == ["PO06-PR0001", "6 — 05/10/2021"]
    from nest_desktop.services import followup

    assert followup.rule_label("prospect_callback") in rows["Procédure de suivi des prospects"][4]
    assert rows["Procédure de suivi des patients"][1] == "pas de code sur le document"
    assert "Appel de satisfaction (72\u00a0h)" in rows["Procédure de suivi des patients"][4]


@pytest.mark.clock("2026-11-24 08:30")
def test_what_was_left_open_yesterday_is_first_on_today_flagged(qtbot, desk):
    from nest_desktop.db.models import FollowUpTask
    from nest_desktop.services import followup, reception
    from tests.test_gui import make_main_window

    site, _user = desk
    old_visit = patient_service.create_patient(patient_service.PatientForm(
        last_name="Sarr", first_names="Rama", sex="F", phones=["77 555 55 55"],
        site_id=site.id, first_visit_date="18/11/2026", intake_date="18/11/2026"),
        today=dt.date(2026, 11, 18))
    assert FollowUpTask.get(FollowUpTask.patient == old_visit.id).due_at < dt.datetime(
        2026, 11, 23)  # a 72-hour call late since last week
    evening = dt.datetime(2026, 11, 23, 17, 0)
    reception.record_call(reception.CallForm(
        started_at=evening, ended_at=evening + dt.timedelta(minutes=2), reason="information",
        summary="Résultats d'analyse", outcome="unresolved", site_id=site.id,
        phone="77 444 44 44", caller_name="Mme Ba"), when=evening)
    ids = followup.task_ids(followup.TaskFilter())
    assert followup.get_task(ids[0]).rule == "same_day"  # before the older late call
    window = make_main_window(qtbot, desk)
    model = window.today_page.model
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    first = model.index(0, 1)
    qtbot.waitUntil(lambda: model.data(first) is not None)
    assert model.data(first) == "↩ D’hier — Demande à traiter dans la journée"


@pytest.mark.clock("2026-11-28 12:45")
def test_the_quality_pilot_sees_each_sites_open_lines_at_its_closing(qtbot, desk):
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import reception
    from nest_desktop.ui.common.desk_context import DeskContext
    from nest_desktop.ui.reception.desk_notices import ClosingNotice

    site, _user = desk
    other = desk_service.create_site(desk_service.SiteForm("Clinique Nest Ouakam", "", ""))
    for where in (site, other):
        start = dt.datetime(2026, 11, 28, 9, 0)
        reception.record_call(reception.CallForm(
            started_at=start, ended_at=start + dt.timedelta(minutes=1), reason="information",
            summary="Tarifs", outcome="unresolved", site_id=where.id, phone="77 444 44 44",
            caller_name="Mme Ba"), when=start)
    pilot = desk_service.create_user(desk_service.UserForm(
        "Mariama Ndiaye", "Mariama", "quality_pilot", None, "mariama", "Dakar-2026!x",
        "Dakar-2026!x"))
    notice = ClosingNotice(DeskContext(pilot, None))
    qtbot.addWidget(notice)
    notice.check()
    qtbot.waitUntil(lambda: notice.text.text() != "")
    # a Saturday: both sites close at 13:00 (the usual hours)
    assert notice.text.text() == (
        "Clinique Nest Mermoz ferme à 13:00\u00a0: 1 ligne encore ouverte; Clinique Nest "
        "Ouakam ferme à 13:00\u00a0: 1 ligne encore ouverte.")


@pytest.mark.clock("2026-11-24 10:00")
def test_a_wrong_number_found_on_a_call_is_struck_and_replaced_at_the_next_contact(qtbot,
                                                                                   desk):
    from nest_desktop.db.models import FollowUpTask, PatientPhone
    from nest_desktop.services import followup, reception
    from nest_desktop.services import sms as sms_service
    from tests.test_gui import make_main_window

    site, _user = desk
    awa = patient_service.create_patient(patient_service.PatientForm(
        last_name="Diop", first_names="Awa", sex="F", phones=["77 123 45 67", "76 111 22 33"],
        sms_consent=True, site_id=site.id, first_visit_date="23/11/2026",
        intake_date="23/11/2026"))
    task = FollowUpTask.get(FollowUpTask.rule == "satisfaction_72h")
    followup.record_attempt(task.id, "wrong_number", "Un monsieur, ne la connaît pas")
    main = PatientPhone.get((PatientPhone.patient == awa.id) & (PatientPhone.position == 0))
    assert main.wrong_since == dt.datetime(2026, 11, 24, 10, 0)
    assert patient_service.wrong_numbers(awa.id) == ["+221771234567"]
    # no SMS to it: her other number is used
    assert sms_service._contacts([awa.id])[awa.id][0] == "+221761112233"
    # the next call shows it struck and asks for a new one
    card = reception.caller_card("patient", awa.id)
    assert card.wrong_phones == ("77 123 45 67",)
    window = make_main_window(qtbot, desk)
    file_window = window.open_patient(awa.id)
    assert file_window.phone_edits[0].font().strikeOut()
    assert file_window.fields["phone_0"].error.text() == (
        "Trouvé erroné lors d’un appel\u00a0: demandez-lui un nouveau numéro.")
    assert file_window.save() is True  # kept on the file: still marked
    assert patient_service.wrong_numbers(awa.id) == ["+221771234567"]
    file_window = window.open_patient(awa.id)
    file_window.phone_edits[0].setText("78 999 88 77")  # her new number
    assert file_window.save() is True
    assert patient_service.wrong_numbers(awa.id) == []


def test_the_reason_for_the_visit_proposes_the_pathway_in_the_file(qtbot, desk, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from tests.test_gui import make_main_window

    # the file typed in is left unsaved at the end, without the question
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    window = make_main_window(qtbot, desk)
    new = window.new_patient()
    assert new.pathway.currentData() == "none"
    new.visit_reason.setText("Première consultation de grossesse")
    new.visit_reason.editingFinished.emit()
    assert new.pathway.currentData() == "pregnancy"
    assert new.message.text() == (
        "Parcours proposé d’après le motif de la visite\u00a0: Grossesse.")
    new.pathway.setCurrentIndex(new.pathway.findData("gynaecology"))  # her choice stays
    new.visit_reason.setText("Échographie")
    new.visit_reason.editingFinished.emit()
    assert new.pathway.currentData() == "gynaecology"
