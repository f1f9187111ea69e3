"""The call script window from the keyboard: F2, the number typed and recognised, an
appointment booked, the call recorded in the register and on the file; the hold prompts
with the application's clock stopped; a message on Today until its delivery is confirmed;
the register and end-of-day views."""

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from nest_desktop.db.models import (
    Appointment,
    CallRecord,
    FollowUpTask,
    Interaction,
    PhoneMessage,
    Prospect,
)
from nest_desktop.domain import clock
from nest_desktop.services import followup, reception
from nest_desktop.services import patients as patient_service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.reception import appointments as appointments_module
from nest_desktop.ui.reception import calls_page as calls_module
from nest_desktop.ui.reception.call_window import IncomingCallWindow
from tests.test_gui import make_main_window


@pytest.fixture(autouse=True)
def abandon_without_asking(monkeypatch):
    """A call window still open when a test ends is closed without its question (the
    windows are closed after the test, before the shared clean-up)."""
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)


def fatou(site_id: int):
    return patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Fatou", sex="F", birth_date="02/05/1990",
        phones=["77 123 45 67"], site_id=site_id))


def directory(site_id: int):
    admissions = reception.save_entry(reception.DirectoryForm(
        site_id, "service", "Service des admissions", "", "201", None, False))
    prenatal = reception.save_entry(reception.DirectoryForm(
        site_id, "service", "Consultation prénatale", "", "210", None, True))
    return admissions, prenatal


def test_a_whole_call_from_the_keyboard_books_an_appointment(qtbot, desk, monkeypatch):
    site, _user = desk
    patient = fatou(site.id)
    _admissions, prenatal = directory(site.id)
    window = make_main_window(qtbot, desk)

    QTest.keyClick(window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: len(window.call_windows) == 1)
    call = window.call_windows[0]
    qtbot.addWidget(call)
    assert call.greeting.text() == "« Clinique Nest Mermoz, Clémence, bonjour »"
    call.line.setCurrentIndex(call.line.findData(_admissions.id))
    assert call.greeting.text() == "« Service des admissions, Clémence, bonjour »"
    call.phone.setFocus()
    QTest.keyClicks(call.phone, "+221 77 123")
    qtbot.waitUntil(lambda: call.kind == "patient", timeout=3000)
    assert call.record_id == patient.id and "Fatou Ndiaye" in call.card.text()
    assert "Aucun rendez-vous à venir." in call.card.text()

    def book(dialog):
        QTest.keyClicks(dialog.time, "10h30")
        day = clock.today() + dt.timedelta(days=1)
        while day.weekday() > 4:  # a weekday, inside the default opening hours
            day += dt.timedelta(days=1)
        dialog.day.setText(day.strftime("%d/%m/%Y"))
        dialog.service.setCurrentIndex(dialog.service.findData(prenatal.id))
        dialog.reason.setText("Première consultation")  # keyClicks types ASCII only
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(appointments_module.AppointmentDialog, "exec", book)
    QTest.keyClick(call, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    [appointment] = Appointment.select()
    assert appointment.patient_id == patient.id and appointment.starts_at.hour == 10
    assert call.chosen_outcome() == "answered"
    assert "Rendez-vous pris" in call.done_list.text()
    QTest.keyClick(call, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.call_windows)

    [record] = CallRecord.select()
    assert record.patient_id == patient.id and record.reason == "appointment"
    assert record.phone == "+221771234567"  # her file's number: only a part was typed
    assert record.outcome == "answered"
    assert Appointment.get_by_id(appointment.id).call_id == record.id
    contact = Interaction.get(Interaction.patient == patient.id)
    assert contact.subject == "Appel entrant\u00a0: Rendez-vous"
    assert window.calls_page.register.model.rowCount() == 1
    # The appointments page and the file show it.
    window.appointments_page.show_day(appointment.starts_at.date())
    assert window.appointments_page.table.rowCount() == 1
    file_window = window.open_patient(patient.id)
    assert file_window.appointments.table.rowCount() == 1


@pytest.mark.clock("2026-11-23 10:00")
def test_the_hold_prompts_at_30_seconds_then_every_minute(qtbot, desk, monkeypatch,
                                                         application_clock):
    site, user = desk
    directory(site.id)
    beeps = []
    monkeypatch.setattr(QApplication, "beep",
                        staticmethod(lambda: beeps.append(application_clock.now())))
    call = IncomingCallWindow(DeskContext(user, site))
    qtbot.addWidget(call)
    call.show()
    call.activateWindow()
    qtbot.waitUntil(call.isActiveWindow)  # shortcuts act in the active window
    call.ticker.stop()  # the stopped clock moves on and ticks only when the test says

    def wait(seconds: int) -> None:
        application_clock.advance(dt.timedelta(seconds=seconds))
        call.tick()

    QTest.keyClick(call, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert call.on_hold and not call.prompt_visible()
    wait(29)
    assert not call.prompt_visible() and beeps == []
    wait(1)
    assert call.prompt_visible() and len(beeps) == 1
    assert "En attente depuis 30 s" in call.hold_label.text()
    call.choice_buttons["keep_waiting"].click()
    assert call.on_hold and not call.prompt_visible()
    wait(59)
    assert not call.prompt_visible()
    wait(1)
    assert call.prompt_visible() and len(beeps) == 2  # 90 s: a minute after the first
    call.choice_buttons["call_back_later"].click()
    assert not call.on_hold and call.chosen_outcome() == "call_back_later"
    call.summary.setPlainText("Rappeler pour ses résultats")
    call.reason.setCurrentIndex(call.reason.findData("information"))
    wait(20)
    call.save()
    [record] = CallRecord.select()
    assert record.hold_seconds == 90 and record.duration_seconds == 110
    task = FollowUpTask.get(FollowUpTask.source_table == "call_record")
    assert task.rule == "same_day" and task.status == "open"


def test_a_message_stays_on_today_until_its_delivery_is_confirmed(qtbot, desk, monkeypatch):
    site, _user = desk
    patient = fatou(site.id)
    admissions, _prenatal = directory(site.id)
    window = make_main_window(qtbot, desk)
    call = window.incoming_call()
    qtbot.addWidget(call)
    qtbot.waitUntil(call.isActiveWindow)  # in front of the main window, for its shortcuts
    call.phone.setText("771234567")
    call.recognise()

    def take(dialog):
        dialog.recipient.setCurrentIndex(dialog.recipient.findData(admissions.id))
        QTest.keyClicks(dialog.text, "Rappeler au sujet de la facture")
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(calls_module.MessageDialog, "exec", take)
    QTest.keyClick(call, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    [message] = PhoneMessage.select()
    assert message.caller_name == "Fatou Ndiaye" and message.patient_id == patient.id
    assert call.chosen_outcome() == "message"
    call.save()
    assert PhoneMessage.get_by_id(message.id).call_id is not None
    window.today_page.refresh()
    qtbot.waitUntil(lambda: window.today_page.model.rowCount() == 1)
    task_id = window.today_page.model.task_id(0)
    assert followup.get_task(task_id).source_table == "phone_message"
    assert window.calls_page.end_of_day.message_ids == [message.id]

    def confirm(dialog):
        dialog._confirm()
        return dialog.result()

    monkeypatch.setattr(calls_module.ConfirmMessageDialog, "exec", confirm)
    window.open_task(task_id)
    assert followup.get_task(task_id).status == "done"
    assert PhoneMessage.get_by_id(message.id).confirmed_how == "secretary"
    qtbot.waitUntil(lambda: window.today_page.model.rowCount() == 0)
    assert window.calls_page.end_of_day.message_ids == []
    assert "toutes les lignes sont traitées" in window.calls_page.end_of_day.verdict.text()


def test_an_unknown_caller_asking_for_prices_is_stopped_until_named(qtbot, desk):
    site, user = desk
    call = IncomingCallWindow(DeskContext(user, site))
    qtbot.addWidget(call)
    call.phone.setText("78 111 22 33")
    call.recognise()
    assert call.kind is None and not call.unknown_box.isHidden()
    call.reason.setCurrentIndex(call.reason.findData("quote"))
    call.summary.setPlainText("Prix de l'accouchement : 450 000 F CFA donné")
    call.choose_outcome("answered")
    call.save()
    assert not call.saved
    assert "Demandez son nom" in call.new_fields["last_name"].error.text()
    assert CallRecord.select().count() == 0
    call.last_name.setText("Faye")
    call.first_names.setText("Khady")
    call.save()
    assert call.saved
    prospect = Prospect.get()
    assert prospect.full_name == "Khady Faye"
    assert CallRecord.get().prospect_id == prospect.id


def test_a_patients_price_request_is_answered_later_from_her_file(qtbot, desk, monkeypatch):
    site, _user = desk
    patient = fatou(site.id)
    window = make_main_window(qtbot, desk)
    call = window.incoming_call()
    call.phone.setText("77 123 45 67")
    call.recognise()
    call.reason.setCurrentIndex(call.reason.findData("quote"))
    call.summary.setPlainText("Prix de la césarienne : à vérifier avec la comptabilité")
    call.choose_outcome("call_back_later")
    call.save()
    assert call.saved and Prospect.select().count() == 0  # PRO-03: on her own file
    file_window = window.open_patient(patient.id)
    assert not file_window.requests_box.isHidden()
    assert file_window.requests.item(0, 3).text() == ""  # not answered yet

    def answer(dialog):
        dialog.answer.setPlainText("950 000 F CFA, forfait 5 jours")
        dialog._save()
        return dialog.result()

    monkeypatch.setattr("nest_desktop.ui.prospects.prospects_page.AnswerDialog.exec", answer)
    file_window._answer_request()
    assert file_window.requests.item(0, 3).text() == "950 000 F CFA, forfait 5 jours"
    callback = FollowUpTask.get((FollowUpTask.patient == patient.id)
                                & (FollowUpTask.rule == "prospect_callback"))
    assert callback.status == "open"


def test_a_call_opened_by_mistake_is_cancelled_and_the_closing_words_are_shown(qtbot, desk,
                                                                              monkeypatch):
    window = make_main_window(qtbot, desk)
    QTest.keyClick(window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: len(window.call_windows) == 1)
    call = window.call_windows[0]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: (
        asked.append(args[2]), QMessageBox.StandardButton.Cancel)[1])
    call.activateWindow()
    qtbot.waitUntil(call.isActiveWindow)
    QTest.keyClick(call.phone, Qt.Key.Key_Escape)  # nothing typed: closed at once
    qtbot.waitUntil(lambda: not window.call_windows)
    assert asked == [] and CallRecord.select().count() == 0
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: len(window.call_windows) == 1)
    call = window.call_windows[0]
    qtbot.addWidget(call)
    call.summary.setPlainText("Horaires du samedi")
    call.choose_outcome("answered")
    assert call.closing_words.text() == (
        "Pour finir\u00a0: «\u00a0Merci de votre appel, bonne journée. Au revoir.\u00a0», "
        "puis raccrochez.")
    call.choose_outcome("message")
    assert "Votre message sera transmis aujourd’hui" in call.closing_words.text()
    call.cancel_button.click()  # something typed: asked, and kept when she says no
    assert len(asked) == 1 and "pas encore dans le registre" in asked[0]
    assert window.call_windows == [call] and call.isVisible()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    call.cancel_button.click()
    qtbot.waitUntil(lambda: not window.call_windows)
    assert CallRecord.select().count() == 0
