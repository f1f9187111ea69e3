"""The agenda as the desk uses it: a new appointment from the Appointments page for a person
found by name, or a new prospect after the duplicate check; the free times one click away;
Sunday 03:00 held until a reason is written; the practitioners' day grid; arrival, the
waiting room and seen; the opening hours in Settings; a missed appointment's call to rebook
answered from Today's call window."""

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from nest_desktop.db.models import Appointment, FollowUpTask, Prospect
from nest_desktop.domain import clock
from nest_desktop.services import agenda, reception
from nest_desktop.services import patients as patient_service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.followup.outbound_call import OutboundCallDialog
from nest_desktop.ui.reception import appointments as module
from nest_desktop.ui.settings.agenda_dialogs import OpeningHoursDialog
from tests.test_gui import make_main_window

TUESDAY = "2026-11-24 09:00"


@pytest.fixture
def clinic(desk):
    site, _user = desk
    doctor = reception.save_entry(reception.DirectoryForm(
        site.id, "person", "Dr Sow", "", "205", None, True))
    midwife = reception.save_entry(reception.DirectoryForm(
        site.id, "person", "Sage-femme Diallo", "", "206", None, True))
    fatou = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Fatou", sex="F", birth_date="02/05/1990",
        phones=["77 123 45 67"], site_id=site.id))
    return site, doctor, midwife, fatou


def picking(qtbot, monkeypatch, choose):
    """The person picker answers with `choose(picker)`."""
    def run(picker):
        qtbot.addWidget(picker)
        choose(picker)
        return picker.result()

    monkeypatch.setattr(module.PersonPickerDialog, "exec", run)


@pytest.mark.clock(TUESDAY)
def test_a_new_appointment_from_the_page_for_a_person_found_by_name(qtbot, desk, clinic,
                                                                    monkeypatch):
    site, doctor, _midwife, fatou = clinic
    window = make_main_window(qtbot, desk)
    page = window.appointments_page

    def find_fatou(picker):
        picker.search.setText("ndiaye fat")
        assert picker.results.rowCount() == 1 and picker.results.item(0, 0).text() == (
            "NDIAYE Fatou")
        picker._choose()

    picking(qtbot, monkeypatch, find_fatou)

    def book(dialog):
        qtbot.addWidget(dialog)
        assert dialog.who.text() == "Personne n’est encore choisie"
        dialog._save()
        assert dialog.person_field.error.text() == "Choisissez pour qui est le rendez-vous."
        dialog.pick.click()
        assert "NDIAYE Fatou" in dialog.who.text()
        dialog.service.setCurrentIndex(dialog.service.findData(doctor.id))
        dialog.kind.setCurrentIndex(dialog.kind.findData("vaccination"))
        assert dialog.duration.currentData() == 15
        dialog.day.setText("24/11/2026")
        dialog._show_day()
        # the free times start after now (09:00) and every quarter hour
        assert dialog.free.itemText(1) == "09:00" and dialog.free.itemText(2) == "09:15"
        dialog.free.setCurrentIndex(3)
        dialog._take_free_time()
        assert dialog.time.text() == "09:30"
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(module.AppointmentDialog, "exec", book)
    page.new_button.click()
    [appointment] = Appointment.select()
    assert (appointment.patient_id, appointment.service_id, appointment.kind,
            appointment.starts_at) == (fatou.id, doctor.id, "vaccination",
                                       dt.datetime(2026, 11, 24, 9, 30))
    assert "Rendez-vous pris" in page.message.text()
    assert page.table.rowCount() == 1


@pytest.mark.clock(TUESDAY)
def test_a_new_person_is_checked_for_a_file_before_her_prospect_file_is_made(qtbot, desk,
                                                                              clinic,
                                                                              monkeypatch):
    site, doctor, _midwife, fatou = clinic
    dialog = module.AppointmentDialog(None, site.id)
    qtbot.addWidget(dialog)
    seen = {}

    def new_person(picker):
        picker.search.setText("Gueye")
        assert "Aucune personne trouvée" in picker.found.text()
        picker.new_last.setText("Ndiaye")
        picker.new_first.setText("Fatou")
        picker.new_phone.setText("77 123 45 67")
        picker._create()
        # her consent to SMS is asked, not assumed
        assert picker.new_fields["sms_consent"].error.text() == (
            "Demandez-lui si elle accepte les rappels par SMS.")
        picker.new_consent.setCurrentIndex(picker.new_consent.findData(True))
        picker._create()

    def it_is_her(duplicates):
        seen["candidates"] = [c.record.full_name for c in duplicates.candidates]
        duplicates._open()
        return duplicates.result()

    monkeypatch.setattr(module.PersonPickerDialog, "exec",
                        lambda picker: (new_person(picker), picker.result())[1])
    from nest_desktop.ui.common import dialogs
    monkeypatch.setattr(dialogs.DuplicatesDialog, "exec", it_is_her)
    dialog.pick.click()
    assert seen["candidates"] == ["Fatou Ndiaye"]
    assert (dialog.patient_id, dialog.prospect_id) == (fatou.id, None)
    assert Prospect.select().count() == 0
    # Another person: her prospect file is made, with her answer about SMS.

    def someone_else(picker):
        picker.new_last.setText("Gueye")
        picker.new_first.setText("Awa")
        picker.new_phone.setText("70 444 44 44")
        picker.new_consent.setCurrentIndex(picker.new_consent.findData(False))
        picker._create()

    monkeypatch.setattr(module.PersonPickerDialog, "exec",
                        lambda picker: (someone_else(picker), picker.result())[1])
    dialog.pick.click()
    prospect = Prospect.get()
    assert (dialog.patient_id, dialog.prospect_id) == (None, prospect.id)
    assert (prospect.last_name, prospect.sms_consent) == ("Gueye", False)
    assert "GUEYE Awa (prospect)" in dialog.who.text()


@pytest.mark.clock(TUESDAY)
def test_sunday_at_three_is_held_until_a_reason_is_written(qtbot, desk, clinic):
    site, doctor, _midwife, fatou = clinic
    dialog = module.AppointmentDialog("Fatou Ndiaye", site.id, fatou.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.service.setCurrentIndex(dialog.service.findData(doctor.id))
    dialog.day.setText("29/11/2026")
    dialog._show_day()
    assert dialog.hours.text() == "Fermé ce jour-là"
    assert dialog.free.itemText(0) == "aucune heure libre"
    dialog.time.setText("03:00")
    assert not dialog.fields["override"].isVisible()
    dialog._save()
    assert Appointment.select().count() == 0
    assert dialog.fields["override"].isVisible()
    assert "Aucun rendez-vous n’est donné ce jour de la semaine." in dialog.message.text()
    dialog.override.setText("Césarienne programmée, accord du Dr Sow")
    dialog._save()
    assert dialog.result() == 1
    assert Appointment.get().override_reason == "Césarienne programmée, accord du Dr Sow"


@pytest.mark.clock(TUESDAY)
def test_the_day_grid_arrival_the_waiting_room_and_seen(qtbot, desk, clinic, monkeypatch):
    site, doctor, midwife, fatou = clinic
    awa = patient_service.create_patient(patient_service.PatientForm(
        last_name="Fall", first_names="Awa", sex="F", birth_date="01/01/1992",
        phones=["77 222 22 22"], site_id=site.id))
    for person, entry, time in ((fatou, doctor, "09:30"), (awa, midwife, "10:00")):
        reception.book(reception.AppointmentForm(person.id, None, site.id, entry.id,
                                                 "24/11/2026", time, 45, "Consultation"))
    window = make_main_window(qtbot, desk)
    page = window.appointments_page
    page.views.setCurrentIndex(page.AGENDA)
    grid = page.grid
    assert [grid.horizontalHeaderItem(c).text() for c in range(grid.columnCount())] == [
        "Dr Sow", "Sage-femme Diallo"]
    assert grid.verticalHeaderItem(0).text() == "08:00"
    assert grid.verticalHeaderItem(grid.rowCount() - 1).text() == "17:45"
    row_930 = grid.times.index(dt.time(9, 30))
    assert grid.item(row_930, 0).text() == "09:30 NDIAYE Fatou"
    assert grid.item(row_930 + 1, 0).text() == "│"  # 45 minutes: three rows
    assert grid.item(row_930 + 3, 0).text() == ""
    # A double-click on a free time books it for that practitioner at that time.
    opened = {}

    def book(dialog):
        qtbot.addWidget(dialog)
        opened["values"] = (dialog.service.currentData(), dialog.day.text(), dialog.time.text())
        return 0

    monkeypatch.setattr(module.AppointmentDialog, "exec", book)
    grid.setCurrentCell(grid.times.index(dt.time(11, 0)), 1)
    page._grid_activated()
    assert opened["values"] == (midwife.id, "24/11/2026", "11:00")
    # Arrival, from the grid.
    grid.setCurrentCell(row_930, 0)
    clock.set_now(dt.datetime(2026, 11, 24, 9, 20))
    page._act("arrived")
    page.views.setCurrentIndex(page.WAITING)
    assert page.room.rowCount() == 1 and page.room.item(0, 1).text() == "NDIAYE Fatou"
    clock.set_now(dt.datetime(2026, 11, 24, 9, 55))
    page._show_waiting_room()
    assert page.room.item(0, 4).text() == "35 min"
    assert page.counts.text() == "1 personne attend"
    page.room.selectRow(0)
    assert not page.action_buttons["arrived"].isEnabled()
    page._act("attended")
    assert page.room.item(0, 5).text() == "Reçue à 09:55"
    assert "attente moyenne des personnes reçues : 35 min" in page.counts.text().replace(
        "\u00a0", " ").replace("\u202f", " ")


@pytest.mark.clock(TUESDAY)
def test_the_opening_hours_and_closed_days_in_settings(qtbot, desk, clinic):
    site, doctor, _midwife, _fatou = clinic
    dialog = OpeningHoursDialog(site.id, site.name)
    qtbot.addWidget(dialog)
    assert dialog.days[5].text() == "08:00-13:00" and dialog.days[6].text() == ""
    dialog.days[0].setText("8h-12h, 15h-18h")
    dialog.days[2].setText("18h-8h")
    dialog._save()
    assert dialog.fields["weekday_2"].error.text() == (
        "La fermeture vient après l’ouverture\u00a0: 18h-8h.")
    dialog.days[2].setText("08:00-18:00")
    dialog.closed_day.setText("01/12/2026")
    dialog.closed_reason.setText("Tabaski")
    dialog._add_closed_day()
    assert dialog.closed.rowCount() == 1
    dialog._save()
    assert agenda.week_hours(site.id)[0] == [(dt.time(8), dt.time(12)),
                                             (dt.time(15), dt.time(18))]
    assert agenda.closed_reason(site.id, dt.date(2026, 12, 1)) == "Tabaski"
    own = OpeningHoursDialog(site.id, "Dr Sow", doctor.id)
    qtbot.addWidget(own)
    assert own.days[0].text() == "" and own.days[0].placeholderText() == (
        "08:00-12:00, 15:00-18:00")  # follows the site's until she has her own
    own.days[1].setText("14:00-17:00")
    own._save()
    assert agenda.week_hours(site.id, doctor.id)[0] == []


@pytest.mark.clock(TUESDAY)
def test_a_missed_appointment_is_rebooked_from_todays_call(qtbot, desk, clinic, monkeypatch):
    site, doctor, _midwife, fatou = clinic
    user = desk[1]
    booked = reception.book(reception.AppointmentForm(fatou.id, None, site.id, doctor.id,
                                                      "24/11/2026", "08:00", 30, ""))
    reception.mark(booked.id, booked.version, "missed")
    task = FollowUpTask.get(FollowUpTask.rule == "rebook_missed")
    call = OutboundCallDialog(DeskContext(user, site), task.id)
    qtbot.addWidget(call)
    assert any("le mardi 24 novembre 2026 à 08:00 (Dr Sow)" in line
               for line in call.sheet.script)

    def rebook(dialog):
        qtbot.addWidget(dialog)
        dialog.service.setCurrentIndex(dialog.service.findData(doctor.id))
        dialog.day.setText("26/11/2026")
        dialog.time.setText("10:00")
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(module.AppointmentDialog, "exec", rebook)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    call.book_button.click()
    assert call.result() == 1
    task = FollowUpTask.get_by_id(task.id)
    assert (task.status, task.outcome) == ("done", "rebooked")


@pytest.mark.clock(TUESDAY)
def test_a_practitioner_is_put_in_her_service_and_the_services_agenda_shows_her(qtbot, desk,
                                                                                clinic):
    from nest_desktop.ui.settings.settings_page import DirectoryEntryDialog

    site, doctor, midwife, _fatou = clinic
    paediatrics = reception.save_entry(reception.DirectoryForm(
        site.id, "service", "Pédiatrie", "", "210", None, True))
    dialog = DirectoryEntryDialog(reception.get_entry(doctor.id))
    qtbot.addWidget(dialog)
    assert [dialog.service.itemText(i) for i in range(dialog.service.count())] == [
        "Aucun", "Pédiatrie"]
    dialog.service.setCurrentIndex(dialog.service.findData(paediatrics.id))
    dialog._save()
    assert reception.get_entry(doctor.id).service_id == paediatrics.id
    box = module.QComboBox()
    module.fill_service_box(box, site.id)
    assert [box.itemText(i) for i in range(box.count())] == [
        "Pédiatrie", "    Dr Sow", "Sage-femme Diallo"]
    page = module.AppointmentsPage(site.id)
    qtbot.addWidget(page)
    page.service_filter.setCurrentIndex(page.service_filter.findData(paediatrics.id))
    page.views.setCurrentIndex(page.AGENDA)
    assert [page.grid.horizontalHeaderItem(c).text() for c in range(page.grid.columnCount())] \
        == ["Pédiatrie", "Dr Sow"]
    assert midwife.id not in [entry_id for entry_id, _day in page.grid.columns]
