"""Answering the phone: recognition by phone, the call register and its outcomes, messages
and their confirmation, the end-of-day list, appointments, the directory and the hold."""

import csv
import datetime as dt

import pytest

from nest_desktop.db.models import (
    CallRecord,
    FollowUpTask,
    Interaction,
    Patient,
    Prospect,
    ProspectRequest,
)
from nest_desktop.domain import reception as rules
from nest_desktop.services import StaleRecordError, ValidationFailed, followup, prospects
from nest_desktop.services import patients as patient_service
from nest_desktop.services import reception as service
from nest_desktop.services.session import PermissionDenied

MORNING = dt.datetime(2026, 11, 23, 9, 30)


def patient(site_id: int, last: str = "Ndiaye", first: str = "Fatou",
            phone: str = "77 123 45 67", born: str = "02/05/1990") -> Patient:
    return patient_service.create_patient(patient_service.PatientForm(
        last_name=last, first_names=first, sex="F", birth_date=born, phones=[phone],
        site_id=site_id), today=MORNING.date())


def entry(site_id: int, name: str = "Service des admissions", **changes):
    values = {"site_id": site_id, "kind": "service", "name": name, "extension": "201",
              "takes_appointments": True}
    values.update(changes)
    return service.save_entry(service.DirectoryForm(**values))


def call(site_id: int, **changes) -> CallRecord:
    values = {"started_at": MORNING, "ended_at": MORNING + dt.timedelta(minutes=3),
              "reason": "information", "summary": "Horaires du samedi", "outcome": "answered",
              "site_id": site_id}
    values.update(changes)
    return service.record_call(service.CallForm(**values), when=values["ended_at"])


def same_day_tasks(source_table: str, source_id: int) -> list[FollowUpTask]:
    return list(FollowUpTask.select().where((FollowUpTask.source_table == source_table)
                                            & (FollowUpTask.source_id == source_id)))


def test_the_caller_is_recognised_by_her_number_typed_any_way_the_patient_first(desk):
    site, _user = desk
    fatou = patient(site.id)
    also_prospect = prospects.create_prospect(prospects.ProspectForm(
        last_name="Ndiaye", first_names="Fatou", phones=["+221 77 123 45 67"], channel="phone",
        site_id=site.id), prospects.RequestForm("quote", "Tarifs"), MORNING, confirmed_new=True)
    other = prospects.create_prospect(prospects.ProspectForm(
        last_name="Sarr", first_names="Aïda", phones=["70 555 12 12"], channel="phone",
        site_id=site.id), prospects.RequestForm("programme"), MORNING)
    for typed in ("77 123 45 67", "+221771234567", "00221 77 123", "221771234567", "77-123",
                  "771"):
        found = service.recognise(typed)
        assert [(m.kind, m.record_id) for m in found] == [
            ("patient", fatou.id), ("prospect", also_prospect.id)], typed
        assert found[0].phones == ("77 123 45 67",)
    assert [(m.kind, m.record_id) for m in service.recognise("70 555")] == [
        ("prospect", other.id)]
    assert service.recognise("77") == []  # too few digits to say anything
    assert service.recognise("78 000 00 00") == []
    card = service.caller_card("patient", fatou.id, MORNING.date())
    assert card.also_prospect and card.name == "Fatou Ndiaye" and card.pregnancy == ""
    # Once she became the patient, the prospect is found as the patient only (PRO-05).
    prospects.convert(also_prospect.id, fatou.id, MORNING)
    assert [m.kind for m in service.recognise("77 123 45 67")] == ["patient"]


def test_an_answered_call_is_in_the_register_and_on_her_file(desk):
    site, user = desk
    fatou = patient(site.id)
    record = call(site.id, patient_id=fatou.id, phone="77 123 45 67", hold_seconds=40)
    assert record.direction == "in" and record.user_id == user.id
    assert record.duration_seconds == 180 and record.hold_seconds == 40
    assert record.phone == "+221771234567"
    [contact] = Interaction.select().where(Interaction.patient == fatou.id)
    assert contact.subject == "Appel entrant\u00a0: Information"
    assert contact.outcome == "Répondu" and contact.notes == "Horaires du samedi"
    assert same_day_tasks("call_record", record.id) == []
    [row] = service.register(service.RegisterFilter(MORNING.date(), MORNING.date(), site.id))
    assert row.caller == "NDIAYE Fatou" and row.outcome == "Répondu" and not row.open


def test_a_transfer_names_the_service_and_is_refused_without_it(desk):
    site, _user = desk
    admissions = entry(site.id)
    transfer = service.transfer_to(admissions.id)
    assert transfer.phrase == ("Un instant je vous prie, je vous passe le service des "
                               "admissions, veuillez rester en ligne s’il vous plaît.")
    assert transfer.extension == "201"
    with pytest.raises(ValidationFailed) as failed:
        call(site.id, outcome="transferred")
    assert set(failed.value.errors) == {"transferred_to"}
    record = call(site.id, outcome="transferred", transferred_to_id=admissions.id)
    [row] = service.register(service.RegisterFilter(site_id=site.id))
    assert row.outcome == "Transféré à Service des admissions"
    assert record.transferred_to_id == admissions.id


def test_an_unresolved_request_stays_on_today_until_dealt_with_the_same_day(desk):
    site, _user = desk
    with pytest.raises(ValidationFailed) as failed:
        call(site.id, outcome="unresolved", summary="")
    assert "summary" in failed.value.errors
    record = call(site.id, outcome="unresolved", phone="76 000 11 22", caller_name="Mme Sy",
                  summary="Résultats d'analyse de sa fille")
    [task] = same_day_tasks("call_record", record.id)
    assert task.rule == "same_day" and task.status == "open"
    assert task.due_at == dt.datetime(2026, 11, 23, 18, 0)
    sheet = followup.call_sheet(task.id, "Clémence", site.name)
    assert sheet.person == "Mme Sy" and sheet.phones == ["76 000 11 22"]
    assert sheet.script[0].startswith("Sa demande (09:30)")
    # Running the engine again makes no second task (idempotent).
    followup.run(MORNING + dt.timedelta(hours=1))
    assert len(same_day_tasks("call_record", record.id)) == 1
    end = service.end_of_day(site.id, MORNING.date())
    assert [row.id for row in end.open_calls] == [record.id] and not end.all_dealt_with
    # The call back from Today reaches her: the request is dealt with, the task done, and
    # the call back is in the register too.
    followup.record_attempt(task.id, "reached", "Résultats donnés",
                            when=MORNING + dt.timedelta(hours=2))
    assert service.get_call(record.id).resolved_at == MORNING + dt.timedelta(hours=2)
    assert followup.get_task(task.id).status == "done"
    outgoing = CallRecord.get(CallRecord.direction == "out")
    assert outgoing.task_id == task.id and outgoing.phone == "+221760001122"
    assert service.end_of_day(site.id, MORNING.date()).all_dealt_with


def test_a_request_dealt_with_another_way_is_closed_from_the_register(desk):
    site, _user = desk
    record = call(site.id, outcome="call_back_later", summary="Rappeler pour un devis")
    with pytest.raises(ValidationFailed):
        service.resolve_call(record.id, "  ")
    service.resolve_call(record.id, "Devis envoyé par courriel", MORNING + dt.timedelta(hours=1))
    [task] = same_day_tasks("call_record", record.id)
    assert task.status == "done" and task.outcome == "resolved"
    with pytest.raises(service.AlreadyDone):
        service.resolve_call(record.id, "Encore")
    answered = call(site.id)
    with pytest.raises(service.AlreadyDone):
        service.resolve_call(answered.id, "Rien à faire")


def test_a_message_is_on_today_until_its_delivery_is_confirmed(desk, as_role):
    site, clemence = desk
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import session

    doctor = desk_service.create_user(desk_service.UserForm(
        "Dr Aminata Fall", "Aminata", "secretary", site.id, "afall", "Dakar-2026!",
        "Dakar-2026!"))
    dr_fall = entry(site.id, "Dr Aminata Fall", kind="person", user_id=doctor.id,
                    extension="215")
    with pytest.raises(ValidationFailed) as failed:
        service.take_message(service.MessageForm(text=" "))
    assert set(failed.value.errors) == {"recipient", "message_caller", "message_text"}
    record = call(site.id, outcome="message", reason="message")
    message = service.take_message(service.MessageForm(
        dr_fall.id, "Mme Ba", "77 900 00 00", "Rappeler au sujet de l'échographie", True),
        call_id=record.id, when=MORNING)
    [task] = same_day_tasks("phone_message", message.id)
    assert task.status == "open" and task.due_at.hour == 18
    assert [m.id for m in service.messages(site.id, for_user=doctor.id)] == [message.id]
    # Another person cannot confirm as the recipient; the secretary can as the deliverer.
    assert not service.may_confirm(message, "recipient")
    with pytest.raises(PermissionDenied):
        service.confirm_message(message.id, "recipient")
    end = service.end_of_day(site.id, MORNING.date())
    assert [m.id for m in end.open_messages] == [message.id]
    session.login("afall", "Dakar-2026!")
    session.current()  # the doctor at her desk confirms she got it
    service.confirm_message(message.id, "recipient", when=MORNING + dt.timedelta(hours=1))
    stored = service.get_message(message.id)
    assert stored.confirmed_by_id == doctor.id and stored.confirmed_how == "recipient"
    assert followup.get_task(task.id).status == "done"
    assert followup.get_task(task.id).outcome == "delivered"
    with pytest.raises(service.AlreadyDone):
        service.confirm_message(message.id, "recipient")
    assert service.end_of_day(site.id, MORNING.date()).all_dealt_with
    assert clemence.id != doctor.id


def test_an_unknown_caller_asking_for_prices_becomes_a_prospect_called_back_in_a_week(desk):
    site, _user = desk
    with pytest.raises(ValidationFailed) as failed:
        call(site.id, reason="quote", phone="78 111 22 33", summary="Prix accouchement")
    assert "last_name" in failed.value.errors
    record = call(site.id, reason="quote", phone="78 111 22 33", summary="Prix accouchement",
                  last_name="Faye", first_names="Khady")
    prospect = Prospect.get_by_id(record.prospect_id)
    assert prospect.full_name == "Khady Faye" and prospect.channel == "phone"
    [request] = ProspectRequest.select().where(ProspectRequest.prospect == prospect.id)
    assert request.qualification == "quote" and request.answered_at is not None
    callback = FollowUpTask.get((FollowUpTask.prospect == prospect.id)
                                & (FollowUpTask.rule == "prospect_callback"))
    assert callback.due_at.date() == dt.date(2026, 11, 30)
    # The same caller again, with her number written another way: the duplicate check
    # stops a second prospect and nothing is written.
    calls_before = CallRecord.select().count()
    with pytest.raises(prospects.DuplicateFound):
        call(site.id, reason="programme", phone="+221 78 111 22 33", summary="Programme",
             last_name="Faye", first_names="Khadija")
    assert CallRecord.select().count() == calls_before
    assert Prospect.select().count() == 1
    # A patient's request goes on her file, no prospect is made (PRO-03).
    fatou = patient(site.id)
    call(site.id, reason="programme", patient_id=fatou.id, summary="Programme NEST")
    assert Prospect.select().count() == 1
    assert ProspectRequest.get(ProspectRequest.patient == fatou.id).qualification == "programme"


def test_appointments_are_booked_moved_cancelled_and_the_first_visit_starts_the_72h_call(desk):
    site, _user = desk
    admissions = entry(site.id, "Consultation prénatale")
    fatou = patient(site.id)
    form = service.AppointmentForm(fatou.id, None, site.id, admissions.id, "24/11/2026",
                                   "10 h 30", 30, "Première consultation")
    with pytest.raises(ValidationFailed) as failed:
        service.book(service.AppointmentForm(fatou.id, None, site.id, None, "31/02/2026", "25h"),
                     when=MORNING)
    assert set(failed.value.errors) == {"service", "day", "time"}
    booked = service.book(form, when=MORNING)
    assert booked.starts_at == dt.datetime(2026, 11, 24, 10, 30) and booked.status == "booked"
    with pytest.raises(ValidationFailed) as failed:
        service.book(service.AppointmentForm(fatou.id, None, site.id, admissions.id,
                                             "24/11/2026", "10:45"), when=MORNING)
    assert failed.value.errors["time"] == "Elle a déjà un rendez-vous à 10:30."
    moved = service.move(booked.id, booked.version, service.AppointmentForm(
        site_id=site.id, service_id=admissions.id, day="25/11/2026", time="08:00",
        duration_minutes=30, reason="Première consultation"), when=MORNING)
    assert moved.starts_at == dt.datetime(2026, 11, 25, 8, 0)
    with pytest.raises(StaleRecordError):
        service.cancel(booked.id, booked.version, "Empêchée")
    card = service.caller_card("patient", fatou.id, MORNING.date())
    assert card.next_appointment.id == booked.id
    day = service.appointments_between(dt.date(2026, 11, 25), dt.date(2026, 11, 25), site.id)
    assert [(row.person, row.service) for row in day] == [
        ("NDIAYE Fatou", "Consultation prénatale")]
    with pytest.raises(ValidationFailed) as failed:
        service.mark(booked.id, moved.version, "attended", when=MORNING)
    assert "status" in failed.value.errors  # still to come
    attended = service.mark(booked.id, moved.version, "attended",
                            when=dt.datetime(2026, 11, 25, 9, 0))
    assert attended.status == "attended"
    assert Patient.get_by_id(fatou.id).first_visit_date == dt.date(2026, 11, 25)
    task = FollowUpTask.get((FollowUpTask.patient == fatou.id)
                            & (FollowUpTask.rule == "satisfaction_72h"))
    # 72 hours after the visit's real moment (08:00), not after the day's closing time
    assert task.due_at == dt.datetime(2026, 11, 28, 8, 0)
    second = service.book(service.AppointmentForm(fatou.id, None, site.id, admissions.id,
                                                  "02/12/2026", "09:00"), when=MORNING)
    service.cancel(second.id, second.version, "Empêchée", when=MORNING)
    assert service.get_appointment(second.id).status == "cancelled"
    assert [row.status for row in service.appointments_of(fatou.id)] == [
        "cancelled", "attended"]


def test_a_prospects_appointment_follows_her_when_she_becomes_a_patient(desk):
    site, _user = desk
    consultation = entry(site.id, "Consultation gynécologique")
    record = call(site.id, reason="appointment", phone="70 444 44 44", last_name="Gueye",
                  first_names="Mariama", summary="RDV gynéco")
    prospect_id = record.prospect_id
    booked = service.book(service.AppointmentForm(None, prospect_id, site.id, consultation.id,
                                                  "23/11/2026", "11:00"), record.id, MORNING)
    with pytest.raises(ValidationFailed) as failed:
        service.mark(booked.id, booked.version, "attended", when=MORNING.replace(hour=12))
    assert "prospect" in failed.value.errors["status"]
    mariama = patient(site.id, "Gueye", "Mariama", "70 444 44 44", "01/01/1995")
    assert Prospect.get_by_id(prospect_id).status == "converted"  # found by her number
    moved = service.get_appointment(booked.id)
    assert moved.patient_id == mariama.id and moved.prospect_id is None
    assert service.get_call(record.id).patient_id == mariama.id


def test_the_register_filters_and_exports(desk, tmp_path):
    site, user = desk
    call(site.id)
    call(site.id, outcome="unresolved", summary="Devis à envoyer",
         started_at=MORNING + dt.timedelta(hours=1), ended_at=MORNING + dt.timedelta(hours=1,
                                                                                    minutes=2))
    call(site.id, started_at=MORNING - dt.timedelta(days=1),
         ended_at=MORNING - dt.timedelta(days=1) + dt.timedelta(minutes=1))
    today = service.RegisterFilter(MORNING.date(), MORNING.date(), site.id)
    assert len(service.register_ids(today)) == 2
    assert service.register_counts(today) == {"answered": 1, "unresolved": 1}
    unresolved = service.RegisterFilter(MORNING.date(), MORNING.date(), site.id,
                                        outcome="unresolved")
    [row] = service.register(unresolved)
    assert row.open and row.summary == "Devis à envoyer"
    assert service.register_ids(service.RegisterFilter(user_id=user.id + 99)) == []
    path = tmp_path / "registre.csv"
    assert service.register_csv(path, today) == 2
    with path.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    assert lines[0][0] == "Date et heure" and lines[1][8] == "Non résolu"


def test_the_directory_is_per_site_and_checked(desk):
    site, _user = desk
    from nest_desktop.services import desk as desk_service

    other = desk_service.create_site(desk_service.SiteForm("Clinique Nest Almadies"))
    entry(site.id)
    entry(other.id)  # the same service name on another site
    with pytest.raises(ValidationFailed) as failed:
        entry(site.id, extension="2O1")
    assert set(failed.value.errors) == {"entry_name", "entry_extension"}
    assert [e.site_id for e in service.directory(site.id)] == [site.id]
    assert len(service.directory(None)) == 2


def test_the_hold_prompts_come_at_30_seconds_then_every_minute():
    assert [rules.hold_prompts_due(s) for s in (0, 29, 30, 89, 90, 149, 150)] == [
        0, 0, 1, 1, 2, 2, 3]
    assert [rules.hold_prompt_at(n) for n in range(3)] == [30, 90, 150]


def test_the_transfer_phrase_names_the_service_as_said_on_the_phone():
    assert [rules.said_as("service", name) for name in (
        "Service des admissions", "Pédiatrie", "Échographie", "Hospitalisation")] == [
        "le service des admissions", "le service de pédiatrie", "le service d'échographie",
        "le service d'hospitalisation"]
    assert rules.said_as("person", "  Dr  Aminata Fall ") == "Dr Aminata Fall"


def test_a_call_back_that_cannot_reach_her_still_closes_the_request(desk):
    site, _user = desk
    record = call(site.id, outcome="unresolved", phone="76 000 11 22", summary="Devis")
    [task] = same_day_tasks("call_record", record.id)
    followup.record_attempt(task.id, "wrong_number", when=MORNING + dt.timedelta(hours=1))
    resolved = service.get_call(record.id)
    assert resolved.resolved_at is not None and resolved.resolution == "Faux numéro"
    assert service.end_of_day(site.id, MORNING.date()).all_dealt_with


def test_booking_a_prospects_appointment_answers_her_request(desk):
    site, _user = desk
    consultation = entry(site.id, "Gynécologie")
    prospect = prospects.create_prospect(prospects.ProspectForm(
        last_name="Sow", first_names="Binta", phones=["77 222 33 44"], channel="phone",
        site_id=site.id), prospects.RequestForm("appointment", "RDV gynéco"), MORNING)
    assert Prospect.get_by_id(prospect.id).status == "new"
    service.book(service.AppointmentForm(None, prospect.id, site.id, consultation.id,
                                         "24/11/2026", "09:00"), when=MORNING)
    request = ProspectRequest.get(ProspectRequest.prospect == prospect.id)
    assert request.answer == "Rendez-vous pris\u00a0: 24/11/2026 09:00 — Gynécologie"
    assert Prospect.get_by_id(prospect.id).status == "answered"
    assert not FollowUpTask.select().where((FollowUpTask.prospect == prospect.id)
                                           & (FollowUpTask.rule == "prospect_callback")).exists()
    # A message from someone without a file shows on Today under the name she gave.
    admissions = entry(site.id)
    message = service.take_message(service.MessageForm(admissions.id, "Mme Sy", "76 111 22 33",
                                                       "Rappeler"), when=MORNING)
    [task] = same_day_tasks("phone_message", message.id)
    row = followup.rows_for([task.id])[task.id]
    assert (row.person, row.phone) == ("Mme Sy", "76 111 22 33")


def test_a_number_shared_by_a_mother_and_her_babies_finds_the_adult_first(desk):
    site, _user = desk
    awa = patient(site.id, "Sarr", "Awa", "77 123 45 67", "02/05/1990")
    aunt = patient(site.id, "Sarr", "Awa Binta", "77 999 99 99", "03/03/1985")
    twins = [patient_service.create_patient(patient_service.PatientForm(
        last_name="Ba", first_names=first, sex="F", birth_date="20/11/2026",
        phones=["77 123 45 67"], site_id=site.id, pathway="paediatrics"),
        today=MORNING.date()) for first in ("Aaliyah", "Adama")]
    for child in twins:
        patient_service.link_family(awa.id, child.id, "mother")
    found = service.recognise("77 123 45 67", today=MORNING.date())
    # the babies sort before her by name, yet she comes first; they say whose they are
    assert [(m.name, m.parent_name) for m in found] == [
        ("Awa Sarr", ""), ("Aaliyah Ba", "Awa Sarr"), ("Adama Ba", "Awa Sarr")]
    # a name given puts the exact match first, then a similar one
    assert [m.name for m in service.recognise("77 12", "Adama Ba", MORNING.date())][:1] == [
        "Adama Ba"]
    from nest_desktop.services.people import existing_people

    candidates = existing_people("Sarr Awa", None, ["+221771234567", "+221779999999"])
    assert [(c.record.full_name, c.record.parent_name) for c in candidates] == [
        ("Awa Sarr", ""), ("Awa Binta Sarr", ""), ("Aaliyah Ba", "Awa Sarr"),
        ("Adama Ba", "Awa Sarr")]
    assert aunt.id != awa.id
