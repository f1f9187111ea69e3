"""The agenda: opening hours and closed days, the override a booking outside them or over
the practitioner's other appointment needs, arrival and waiting time, the call to rebook a
missed appointment, the free slots of a day."""

import datetime as dt

import pytest

from nest_desktop.db.models import AuditEntry, FollowUpTask
from nest_desktop.domain import agenda as rules
from nest_desktop.services import ValidationFailed, agenda, followup
from nest_desktop.services import desk as desk_service
from nest_desktop.services import reception as service
from tests.test_services_reception import entry, patient

MONDAY = dt.datetime(2026, 11, 23, 9, 30)  # Monday 23 November 2026


def form(person_id: int, site_id: int, entry_id: int, day: str, time: str,
         minutes: int = 30, **changes) -> service.AppointmentForm:
    return service.AppointmentForm(person_id, None, site_id, entry_id, day, time, minutes,
                                   "Consultation", **changes)


def test_hours_are_typed_as_a_secretary_writes_them():
    assert rules.hours_text(rules.parse_hours("8h-12h30, 15 h à 18 h")) == (
        "08:00-12:30, 15:00-18:00")
    assert rules.parse_hours("") == []
    for wrong in ("18:00-08:00", "08:00-12:00, 11:00-13:00", "8h", "25-26"):
        with pytest.raises(ValueError):
            rules.parse_hours(wrong)
    sunday_three = dt.datetime(2026, 11, 29, 3, 0)
    assert not rules.fits_hours(sunday_three, 30, rules.DEFAULT_WEEK[6])
    assert rules.fits_hours(dt.datetime(2026, 11, 28, 12, 30), 30, rules.DEFAULT_WEEK[5])
    assert not rules.fits_hours(dt.datetime(2026, 11, 28, 12, 45), 30, rules.DEFAULT_WEEK[5])


def test_a_sunday_at_three_and_the_same_doctor_twice_need_a_confirmed_reason(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou, awa = patient(site.id), patient(site.id, "Fall", "Awa", "77 222 22 22")
    with pytest.raises(service.ConfirmationNeeded) as needed:
        service.book(form(fatou.id, site.id, doctor.id, "29/11/2026", "03:00"), when=MONDAY)
    assert needed.value.warnings == [
        "Aucun rendez-vous n’est donné ce jour de la semaine."]
    service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "10:00"), when=MONDAY)
    with pytest.raises(service.ConfirmationNeeded) as needed:
        service.book(form(awa.id, site.id, doctor.id, "24/11/2026", "10:15"), when=MONDAY)
    assert needed.value.warnings == ["Dr Sow a déjà un rendez-vous à 10:00."]
    with pytest.raises(service.ConfirmationNeeded) as needed:
        service.book(form(awa.id, site.id, doctor.id, "24/11/2026", "17:45"), when=MONDAY)
    assert needed.value.warnings == ["En dehors des heures d’ouverture (08:00-18:00)."]
    # Confirmed, with its reason: booked, and the reason kept and audited.
    urgent = service.book(form(awa.id, site.id, doctor.id, "24/11/2026", "10:15",
                               override_reason="Urgence, vue entre deux patientes"),
                          when=MONDAY)
    assert urgent.override_reason == "Urgence, vue entre deux patientes"
    logged = AuditEntry.get((AuditEntry.table == "appointment")
                            & (AuditEntry.record_id == urgent.id))
    assert "Urgence" in logged.changes
    # A reason given where nothing needed one is not kept.
    plain = service.book(form(awa.id, site.id, doctor.id, "25/11/2026", "11:00",
                              override_reason="au cas où"), when=MONDAY)
    assert plain.override_reason == ""
    # Moving onto the other patient's time needs it again.
    with pytest.raises(service.ConfirmationNeeded):
        service.move(plain.id, plain.version, form(awa.id, site.id, doctor.id, "24/11/2026",
                                                   "09:45"), when=MONDAY)
    # Another practitioner at the same time is free.
    other = entry(site.id, "Dr Ba", kind="person", extension="202")
    service.book(form(fatou.id, site.id, other.id, "25/11/2026", "14:00"), when=MONDAY)


def test_the_sites_and_the_practitioners_hours_and_the_closed_days(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou = patient(site.id)
    agenda.save_week_hours(site.id, None, {0: "08:00-12:00, 14:00-17:00", 1: "8h-17h",
                                           2: "8h-17h", 3: "8h-17h", 4: "8h-17h"})
    assert agenda.week_hours(site.id)[5] == []  # Saturday now closed
    with pytest.raises(service.ConfirmationNeeded) as needed:
        service.book(form(fatou.id, site.id, doctor.id, "30/11/2026", "12:30"), when=MONDAY)
    assert needed.value.warnings == [
        "En dehors des heures d’ouverture (08:00-12:00, 14:00-17:00)."]
    # Dr Sow consults on Tuesday afternoons only; the site's hours stay for the others.
    agenda.save_week_hours(site.id, doctor.id, {1: "14:00-17:00"})
    assert agenda.week_hours(site.id, doctor.id)[0] == []
    with pytest.raises(service.ConfirmationNeeded):
        service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "09:00"), when=MONDAY)
    service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "14:00"), when=MONDAY)
    agenda.save_week_hours(site.id, doctor.id, {})  # back to the site's hours
    assert agenda.week_hours(site.id, doctor.id)[0] == [(dt.time(8), dt.time(12)),
                                                        (dt.time(14), dt.time(17))]
    with pytest.raises(ValidationFailed) as failed:
        agenda.save_week_hours(site.id, None, {0: "17h-8h", 3: "huit heures"})
    assert set(failed.value.errors) == {"weekday_0", "weekday_3"}
    assert agenda.week_hours(site.id)[0] == [(dt.time(8), dt.time(12)),
                                             (dt.time(14), dt.time(17))]  # nothing written
    agenda.add_closed_day(site.id, "01/12/2026", "Tabaski", today=MONDAY.date())
    with pytest.raises(ValidationFailed) as failed:
        agenda.add_closed_day(site.id, "1/12/2026", "", today=MONDAY.date())
    assert failed.value.errors == {"closed_day": "Ce jour est déjà fermé."}
    with pytest.raises(service.ConfirmationNeeded) as needed:
        service.book(form(fatou.id, site.id, doctor.id, "01/12/2026", "10:00"), when=MONDAY)
    assert needed.value.warnings == ["Le site est fermé ce jour-là (Tabaski)."]
    assert agenda.free_slots(site.id, doctor.id, dt.date(2026, 12, 1), 30) == []
    [closed] = agenda.closed_days(site.id)
    agenda.remove_closed_day(closed.id)
    assert agenda.free_slots(site.id, doctor.id, dt.date(2026, 12, 1), 30)


def test_free_slots_leave_out_the_booked_times_and_the_grid_shows_each_practitioner(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    entry(site.id, "Standard", takes_appointments=False, extension="100")
    fatou = patient(site.id)
    agenda.save_week_hours(site.id, None, {1: "08:00-10:00"})
    service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "08:30", 45), when=MONDAY)
    tuesday = dt.date(2026, 11, 24)
    slots = agenda.free_slots(site.id, doctor.id, tuesday, 30)
    assert [slot.strftime("%H:%M") for slot in slots] == ["08:00", "09:15", "09:30"]
    assert agenda.next_free_slot(site.id, doctor.id, 30, dt.datetime(2026, 11, 24, 9, 20)) \
        == dt.datetime(2026, 11, 24, 9, 30)
    [column] = agenda.day_columns(site.id, tuesday)
    assert column.name == "Dr Sow" and column.periods == [(dt.time(8), dt.time(10))]
    assert [slot.strftime("%H:%M") for slot in column.free] == [
        "08:00", "08:15", "09:15", "09:30", "09:45"]


def test_arrival_waiting_time_and_seen(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou, awa = patient(site.id), patient(site.id, "Fall", "Awa", "77 222 22 22")
    tuesday = dt.date(2026, 11, 24)
    first = service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "10:00"),
                         when=MONDAY)
    second = service.book(form(awa.id, site.id, doctor.id, "24/11/2026", "10:30"),
                          when=MONDAY)
    with pytest.raises(ValidationFailed):  # not the day yet
        service.arrive(first.id, first.version, when=MONDAY)
    arrived = service.arrive(first.id, first.version, when=dt.datetime(2026, 11, 24, 9, 50))
    with pytest.raises(service.AlreadyDone):
        service.arrive(first.id, arrived.version, when=dt.datetime(2026, 11, 24, 9, 55))
    service.arrive(second.id, second.version, when=dt.datetime(2026, 11, 24, 10, 5))
    seen = service.mark(first.id, service.get_appointment(first.id).version, "attended",
                        when=dt.datetime(2026, 11, 24, 10, 12))
    assert seen.seen_at == dt.datetime(2026, 11, 24, 10, 12)
    at_ten_forty = dt.datetime(2026, 11, 24, 10, 40)
    room = service.waiting_room(site.id, tuesday)
    assert [(row.person, row.status, row.waited_minutes(at_ten_forty)) for row in room] == [
        ("FALL Awa", "booked", 35), ("NDIAYE Fatou", "attended", 22)]


def test_a_missed_appointment_makes_a_call_to_rebook_settled_by_the_new_booking(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou = patient(site.id)
    booked = service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "10:00"),
                          when=MONDAY)
    missed_at = dt.datetime(2026, 11, 24, 17, 0)
    service.mark(booked.id, booked.version, "missed", when=missed_at)
    task = FollowUpTask.get(FollowUpTask.rule == "rebook_missed")
    assert (task.patient_id, task.source_table, task.source_id, task.status) == (
        fatou.id, "appointment", booked.id, "open")
    assert task.due_at == dt.datetime(2026, 11, 25, 18, 0)  # the next day, by closing time
    sheet = followup.call_sheet(task.id, "Clémence", "Clinique Nest Mermoz")
    assert any("le mardi 24 novembre 2026 à 10:00 (Dr Sow)" in line for line in sheet.script)
    # Run again at start-up: no second task.
    followup.run(missed_at + dt.timedelta(hours=1))
    assert FollowUpTask.select().where(FollowUpTask.rule == "rebook_missed").count() == 1
    service.book(form(fatou.id, site.id, doctor.id, "27/11/2026", "10:00"),
                 when=missed_at + dt.timedelta(hours=2))
    task = FollowUpTask.get_by_id(task.id)
    assert (task.status, task.outcome) == ("done", "rebooked")


def test_today_puts_the_calls_to_make_now_before_those_waiting_for_a_later_try(desk):
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou, awa = patient(site.id), patient(site.id, "Fall", "Awa", "77 222 22 22")
    for person, time in ((fatou, "08:00"), (awa, "08:30")):
        booked = service.book(form(person.id, site.id, doctor.id, "24/11/2026", time),
                              when=MONDAY)
        service.mark(booked.id, booked.version, "missed", when=dt.datetime(2026, 11, 24, 9))
    at_ten = dt.datetime(2026, 11, 24, 10, 0)
    first, second = followup.task_ids(followup.TaskFilter(), at_ten)
    assert FollowUpTask.get_by_id(first).patient_id == fatou.id  # same deadline: in order
    followup.record_attempt(first, "no_answer", when=at_ten)  # tried again later
    assert followup.task_ids(followup.TaskFilter(), at_ten + dt.timedelta(minutes=5)) == [
        second, first]


def test_practitioners_belong_to_a_service_and_its_agenda_shows_them(desk):
    site, _user = desk
    paediatrics = entry(site.id, "Pédiatrie")
    doctor = entry(site.id, "Dr Sow", kind="person", service_id=paediatrics.id,
                   extension="205")
    other_site = desk_service.create_site(desk_service.SiteForm(
        "Clinique Nest Ouakam", "33 860 20 20", "Ouakam"))
    elsewhere = entry(other_site.id, "Pédiatrie Ouakam")
    with pytest.raises(ValidationFailed) as failed:
        entry(site.id, "Dr Ba", kind="person", service_id=elsewhere.id, extension="206")
    assert failed.value.errors == {
        "entry_service": "Une personne appartient à un service de son propre site."}
    with pytest.raises(ValidationFailed):  # a service does not belong to a service
        entry(site.id, "Néonatologie", service_id=paediatrics.id, extension="207")
    fatou = patient(site.id)
    service.book(form(fatou.id, site.id, doctor.id, "24/11/2026", "10:00"), when=MONDAY)
    tuesday = dt.date(2026, 11, 24)
    # the service's list holds its practitioners' appointments
    [row] = service.appointments_between(tuesday, tuesday, site.id, paediatrics.id)
    assert row.service == "Dr Sow"
    assert service.with_practitioners(paediatrics.id) == [paediatrics.id, doctor.id]
    assert service.with_practitioners(doctor.id) == [doctor.id]


def test_the_72_hours_run_from_the_visits_real_moment_and_every_deadline_is_in_hours(desk):
    """PAT-03 "dans les 72 heures": taken in at 09:00 on Monday, called by Thursday 09:00;
    a deadline outside the site's hours comes back to the end of that day's hours, or of
    the last open day before a closed one."""
    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    fatou = patient(site.id)
    monday = dt.datetime(2026, 11, 23, 8, 30)
    booked = service.book(form(fatou.id, site.id, doctor.id, "23/11/2026", "08:45"),
                          when=monday)
    booked = service.arrive(booked.id, booked.version, when=dt.datetime(2026, 11, 23, 8, 40))
    service.mark(booked.id, booked.version, "attended", when=dt.datetime(2026, 11, 23, 9, 0))
    task = FollowUpTask.get(FollowUpTask.rule == "satisfaction_72h")
    assert (task.event_at, task.due_at) == (dt.datetime(2026, 11, 23, 9, 0),
                                            dt.datetime(2026, 11, 26, 9, 0))
    followup.run(dt.datetime(2026, 11, 23, 10, 0))  # the start-up pass keeps it
    assert FollowUpTask.get_by_id(task.id).due_at == dt.datetime(2026, 11, 26, 9, 0)
    # A rule's deadline at night, on a Sunday, on a closed day:
    late = followup.due_at("satisfaction_72h", dt.datetime(2026, 11, 23, 19, 30), site.id,
                           dt.time(18, 0))
    assert late == dt.datetime(2026, 11, 26, 18, 0)
    night = followup.due_at("prospect_callback", dt.datetime(2026, 11, 24, 3, 30), site.id,
                            dt.time(18, 0))
    assert night.date() == dt.date(2026, 12, 1) and night.time() == dt.time(18, 0)
    sunday = followup.due_at("satisfaction_72h", dt.datetime(2026, 11, 26, 10, 0), site.id,
                             dt.time(18, 0))
    assert sunday == dt.datetime(2026, 11, 28, 13, 0)  # Saturday's closing
    agenda.add_closed_day(site.id, "28/11/2026", "Grand Magal", today=MONDAY.date())
    assert followup.due_at("satisfaction_72h", dt.datetime(2026, 11, 26, 10, 0), site.id,
                           dt.time(18, 0)) == dt.datetime(2026, 11, 27, 18, 0)


def test_a_call_about_a_baby_asks_for_her_parent(desk):
    """The outbound script speaks to the right person: 'Suis-je bien avec la maman
    d’Omar ?', on the mother's number first."""
    from nest_desktop.services import patients as patient_service

    site, _user = desk
    doctor = entry(site.id, "Dr Sow", kind="person")
    mother = patient(site.id, "Diop", "Awa", "77 123 45 67")
    omar = patient_service.create_patient(patient_service.PatientForm(
        last_name="Fall", first_names="Omar Sy", sex="M", birth_date="01/10/2026",
        phones=["70 999 99 99"], site_id=site.id, pathway="paediatrics"),
        today=MONDAY.date())
    patient_service.link_family(mother.id, omar.id, "mother")
    booked = service.book(form(omar.id, site.id, doctor.id, "24/11/2026", "10:00"),
                          when=MONDAY)
    service.mark(booked.id, booked.version, "missed", when=dt.datetime(2026, 11, 24, 17))
    task = FollowUpTask.get(FollowUpTask.rule == "rebook_missed")
    sheet = followup.call_sheet(task.id, "Clémence", "Clinique Nest Mermoz")
    assert sheet.script[0] == ("Bonjour, je suis Clémence de Clinique Nest Mermoz. Suis-je "
                               "bien avec la maman d’Omar\u202f?")
    assert sheet.phones[0] == "77 123 45 67"
