"""The follow-up engine: tasks made once, moved, cancelled, worked through to an outcome."""

import datetime as dt
import json
import threading

import pytest

from nest_desktop.db.models import (
    AuditEntry,
    FollowUpTask,
    Interaction,
    Patient,
    SurveyResponse,
)
from nest_desktop.domain import clock
from nest_desktop.services import ValidationFailed, followup, session
from nest_desktop.services import patients as patient_service
from nest_desktop.services.session import PermissionDenied
from tests.conftest import PASSWORD


def new_patient(site_id, first_visit: dt.date | None, last_name="Sarr", phone="77 555 12 34"):
    """Her first visit with its intake interview held (the interview's own task has its own
    test)."""
    visit = first_visit.strftime("%d/%m/%Y") if first_visit else ""
    return patient_service.create_patient(patient_service.PatientForm(
        last_name=last_name, first_names="Fatou", phones=[phone], site_id=site_id,
        first_visit_date=visit, intake_date=visit))


def change_first_visit(patient_id: int, first_visit: dt.date | None):
    patient = patient_service.get_patient(patient_id)
    form = patient_service.form_of(patient)
    form.first_visit_date = first_visit.strftime("%d/%m/%Y") if first_visit else ""
    return patient_service.update_patient(patient_id, patient.version, form)


def tasks_of(patient_id: int) -> list[FollowUpTask]:
    return list(FollowUpTask.select().where(FollowUpTask.patient == patient_id))


@pytest.mark.clock("2026-11-24 10:00")  # a Tuesday: the deadline falls on a Thursday
def test_a_first_visit_makes_the_72_hour_call_once(desk):
    site, _user = desk
    visit = clock.today() - dt.timedelta(days=1)
    patient = new_patient(site.id, visit)
    [task] = tasks_of(patient.id)
    assert task.rule == "satisfaction_72h" and task.status == "open"
    assert task.site_id == site.id and task.assignee_role == "customer_relations"
    # The visit counts from the day's closing time: 72 hours later, at 18:00.
    assert task.due_at == dt.datetime.combine(visit + dt.timedelta(days=3), dt.time(18, 0))
    # Saving again and running the engine again make no second task.
    change_first_visit(patient.id, visit)
    assert followup.run() == 0  # nothing to make: the save made it
    assert len(tasks_of(patient.id)) == 1
    # A visit written without the engine (an import, an older version) is caught up by
    # the day's full pass.
    other = new_patient(site.id, None, "Ndour", "77 555 98 76")
    Patient.update(first_visit_date=visit).where(Patient.id == other.id).execute()
    assert followup.run(full=True) == 2  # her 72-hour call, and her intake interview
    assert followup.run(full=True) == 0
    assert {t.rule for t in tasks_of(other.id)} == {"satisfaction_72h", "intake_interview"}


@pytest.mark.clock("2026-11-24 10:00")
def test_a_first_visit_without_its_intake_interview_asks_a_medical_secretary_for_it(desk):
    """PAT-02: "un entretien d'entrée doit être tenu avec une secrétaire médicale"."""
    from nest_desktop.services import desk as desk_service

    site, admin = desk
    visit = dt.date(2026, 11, 24)
    patient = patient_service.create_patient(patient_service.PatientForm(
        last_name="Sarr", first_names="Fatou", phones=["77 555 12 34"], site_id=site.id,
        first_visit_date="24/11/2026"))
    intake = FollowUpTask.get((FollowUpTask.patient == patient.id)
                              & (FollowUpTask.rule == "intake_interview"))
    assert (intake.assignee_role, intake.due_at, intake.status) == (
        "secretary", dt.datetime.combine(visit, dt.time(18, 0)), "open")
    form = patient_service.form_of(patient)
    form.intake_date, form.intake_by_id = "24/11/2026", admin.id
    with pytest.raises(ValidationFailed) as refused:  # an administrator is no secretary
        patient_service.update_patient(patient.id, patient.version, form)
    assert refused.value.errors == {
        "intake_by": "L’entretien d’entrée est tenu par une secrétaire médicale."}
    secretary = desk_service.create_user(desk_service.UserForm(
        "Khady Sow", "Khady", "secretary", site.id, "khady", PASSWORD, PASSWORD))
    form.intake_by_id = secretary.id
    patient_service.update_patient(patient.id, patient.version, form)
    intake = FollowUpTask.get_by_id(intake.id)
    assert (intake.status, intake.outcome) == ("done", "intake_recorded")
    # the 72-hour call is not touched by it
    assert FollowUpTask.get((FollowUpTask.patient == patient.id)
                            & (FollowUpTask.rule == "satisfaction_72h")).status == "open"
    assert AuditEntry.select().where((AuditEntry.table == "follow_up_task")
                                     & (AuditEntry.action == "create")).count() == 2


def test_moving_clearing_and_restoring_the_visit(desk):
    site, _user = desk
    patient = new_patient(site.id, clock.today() - dt.timedelta(days=2))
    change_first_visit(patient.id, clock.today())
    [task] = tasks_of(patient.id)
    assert task.due_at.date() == clock.today() + dt.timedelta(days=3)
    change_first_visit(patient.id, None)
    [task] = tasks_of(patient.id)
    assert (task.status, task.outcome) == ("cancelled", "source_cancelled")
    change_first_visit(patient.id, clock.today())
    [task] = tasks_of(patient.id)
    assert task.status == "open"


def test_a_visit_from_the_archives_makes_no_call(desk):
    site, _user = desk
    patient = new_patient(site.id, clock.today() - dt.timedelta(days=200))
    assert tasks_of(patient.id) == []
    assert followup.run() == 0


def test_a_task_done_stays_done(desk):
    site, _user = desk
    patient = new_patient(site.id, clock.today())
    [task] = tasks_of(patient.id)
    followup.record_attempt(task.id, followup.DECLINED, "Pas le temps")
    change_first_visit(patient.id, clock.today() - dt.timedelta(days=1))
    followup.run()
    [task] = tasks_of(patient.id)
    assert (task.status, task.outcome) == ("done", "declined")
    assert task.due_at.date() == clock.today() + dt.timedelta(days=3)  # not moved once done


def test_no_answer_is_retried_then_closed_as_unreachable(desk):
    site, user = desk
    patient = new_patient(site.id, clock.today())
    [task] = tasks_of(patient.id)
    at = clock.now()
    task = followup.record_attempt(task.id, followup.NO_ANSWER, when=at)
    assert (task.status, task.attempts) == ("open", 1)
    assert task.next_attempt_at == at + dt.timedelta(hours=4)
    followup.record_attempt(task.id, followup.NO_ANSWER, when=at)
    task = followup.record_attempt(task.id, followup.NO_ANSWER, when=at)
    assert (task.status, task.outcome, task.attempts) == ("done", "unreachable", 3)
    assert task.closed_by_id == user.id
    calls = list(Interaction.select().where(Interaction.patient == patient.id))
    assert len(calls) == 3
    assert {(c.channel, c.direction, c.subject) for c in calls} == {
        ("phone", "outgoing", "Appel de satisfaction (72\u00a0h)")}
    with pytest.raises(followup.TaskClosed, match="déjà été traité"):
        followup.record_attempt(task.id, followup.NO_ANSWER)


def test_call_back_later_needs_a_time_and_a_wrong_number_closes(desk):
    site, _user = desk
    patient = new_patient(site.id, clock.today())
    [task] = tasks_of(patient.id)
    with pytest.raises(ValidationFailed) as refused:
        followup.record_attempt(task.id, followup.CALL_BACK_LATER)
    assert "call_back_at" in refused.value.errors
    assert Interaction.select().count() == 0  # nothing written for a refused attempt
    later = clock.now() + dt.timedelta(days=1)
    task = followup.record_attempt(task.id, followup.CALL_BACK_LATER, call_back_at=later)
    assert task.next_attempt_at == later and task.status == "open"
    task = followup.record_attempt(task.id, followup.WRONG_NUMBER)
    assert (task.status, task.outcome) == ("done", "wrong_number")


def test_the_survey_closes_the_call_and_can_stay_anonymous(desk):
    site, _user = desk
    patient = new_patient(site.id, clock.today())
    [task] = tasks_of(patient.id)
    with pytest.raises(ValidationFailed, match="enquête"):
        followup.record_attempt(task.id, followup.REACHED)
    incomplete = {"welcome": 5}
    with pytest.raises(ValidationFailed) as refused:
        followup.complete_with_survey(task.id, incomplete, anonymous=True)
    assert set(refused.value.errors) == {"waiting", "consultation", "recommend"}
    assert SurveyResponse.select().count() == 0
    answers = {"welcome": 5, "waiting": 3, "consultation": 4, "recommend": True,
               "comment": "Très bon accueil"}
    response = followup.complete_with_survey(task.id, answers, anonymous=True)
    assert response.patient_id is None and response.task_id == task.id
    assert response.score == 75  # marks 5, 3, 4 → 100, 50, 75
    assert json.loads(response.answers)["comment"] == "Très bon accueil"
    [call] = Interaction.select().where(Interaction.patient == patient.id)
    assert call.outcome == "Joint" and "anonyme" in call.notes and "Très bon" not in call.notes
    assert FollowUpTask.get_by_id(task.id).status == "done"


def test_the_quality_pilot_reads_the_queue_but_makes_no_call(desk, as_role):
    site, _user = desk
    patient = new_patient(site.id, clock.today())
    [task] = tasks_of(patient.id)
    as_role("quality_pilot")
    assert followup.task_ids(followup.TaskFilter()) == [task.id]
    with pytest.raises(PermissionDenied, match="Secrétaire"):
        followup.record_attempt(task.id, followup.NO_ANSWER)
    session.login("clemence", PASSWORD)


def test_today_lists_the_most_urgent_first_with_filters_and_counts(desk):
    site, user = desk
    late = new_patient(site.id, clock.today() - dt.timedelta(days=5), "Ba", "77 100 00 01")
    soon = new_patient(site.id, clock.today(), "Cisse", "77 100 00 02")
    ids = followup.task_ids(followup.TaskFilter())
    [late_task], [soon_task] = tasks_of(late.id), tasks_of(soon.id)
    assert ids == [late_task.id, soon_task.id]
    assert followup.counts(followup.TaskFilter()) == {"satisfaction_72h": (2, 1)}
    assert followup.task_ids(followup.TaskFilter(rule="call_36_weeks")) == []
    assert followup.task_ids(followup.TaskFilter(site_id=site.id + 1000)) == []
    # Clémence is an administrator: the 72-hour calls are customer relations' until given.
    assert followup.task_ids(followup.TaskFilter(assignee="mine")) == []
    followup.assign(soon_task.id, user.id)
    assert followup.task_ids(followup.TaskFilter(assignee="mine")) == [soon_task.id]
    rows = followup.rows_for(ids)
    assert rows[late_task.id].person == "BA Fatou" and rows[late_task.id].phone == "77 100 00 01"
    assert rows[soon_task.id].assignee == "Clémence Diatta"
    assert rows[late_task.id].assignee == "Secrétaire relation client (GRC)"


def test_two_workstations_scheduling_the_same_event_make_one_task(desk):
    """Two real connections at once (two PCs running the engine): one task, one entry."""
    site, _user = desk
    patient = new_patient(site.id, None)
    event = followup.first_visit_event(clock.today())
    barrier = threading.Barrier(2)
    errors = []

    def workstation():
        try:
            barrier.wait()
            followup.schedule("satisfaction_72h", "patient", patient.id, event, patient.id,
                              site.id)
        except Exception as error:  # reported by the assertion below
            errors.append(repr(error))
        finally:
            FollowUpTask._meta.database.close()

    threads = [threading.Thread(target=workstation) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(tasks_of(patient.id)) == 1
    assert AuditEntry.select().where((AuditEntry.table == "follow_up_task")
                                     & (AuditEntry.action == "create")).count() == 1


def test_an_unknown_rule_is_refused(desk):
    with pytest.raises(ValueError, match="unknown follow-up rule"):
        followup.schedule("tomorrow", "patient", 1, clock.now())


def test_satisfaction_month_by_month_and_remarks(desk):
    from nest_desktop.services import satisfaction

    site, _user = desk
    patient = new_patient(site.id, None)
    today = dt.date(2026, 11, 23)
    sheets = [(dt.datetime(2026, 11, 2, 10), {"welcome": 5, "waiting": 5, "consultation": 5,
                                              "recommend": True, "comment": "Parfait"}, None),
              (dt.datetime(2026, 11, 20, 10), {"welcome": 1, "waiting": 1, "consultation": 1,
                                               "recommend": False}, patient.id),
              (dt.datetime(2026, 9, 15, 10), {"welcome": 3, "waiting": 3, "consultation": 3,
                                              "recommend": True, "comment": "Bien"}, patient.id)]
    for when, answers, patient_id in sheets:
        followup.record_survey("satisfaction_72h", answers, patient_id, "phone", site.id,
                               when=when)
    months = satisfaction.monthly("satisfaction_72h", today=today)
    assert len(months) == 12 and months[-1].start == dt.date(2026, 11, 1)
    assert (months[-1].answers, months[-1].mean_score, months[-1].recommend_share) == (2, 50, 50)
    assert (months[-3].answers, months[-3].mean_score) == (1, 50)
    assert months[-2].answers == 0 and months[-2].mean_score is None
    assert satisfaction.monthly("discharge", today=today)[-1].answers == 0
    assert satisfaction.monthly(site_id=site.id + 1000, today=today)[-1].answers == 0
    found = satisfaction.remarks("satisfaction_72h")
    assert [(r.text, r.who) for r in found] == [("Parfait", ""), ("Bien", "Fatou Sarr")]


def test_the_guestbook_keeps_the_words_and_refuses_an_empty_page(desk):
    from nest_desktop.services import satisfaction

    site, _user = desk
    with pytest.raises(ValidationFailed) as refused:
        satisfaction.add_guestbook_entry("   ", "Awa", site.id)
    assert set(refused.value.errors) == {"text"}
    with pytest.raises(ValidationFailed) as refused:
        satisfaction.add_guestbook_entry("Merci", "", site.id, clock.today() + dt.timedelta(days=2))
    assert "written_on" in refused.value.errors
    satisfaction.add_guestbook_entry("Merci à toute l'équipe !", "", site.id)
    [entry] = satisfaction.guestbook(site.id)
    assert (entry.text, entry.author, entry.written_on) == ("Merci à toute l'équipe !", "",
                                                            clock.today())


@pytest.mark.clock("2026-11-25 11:00")  # the call falls due on a Friday, inside the hours
def test_an_impossible_event_is_refused_and_nothing_is_written(desk):
    site, _user = desk
    patient = new_patient(site.id, None)
    delivery = clock.now() - dt.timedelta(days=2)
    with pytest.raises(ValidationFailed) as refused:
        followup.schedule("post_discharge_call", "stay", 1, delivery - dt.timedelta(hours=5),
                          patient.id, site.id, not_before=delivery)
    assert refused.value.errors == {"event": "La sortie ne peut pas précéder l’accouchement."}
    with pytest.raises(ValidationFailed, match="futur"):
        followup.schedule("call_36_weeks", "pregnancy", 1, clock.now() + dt.timedelta(days=3),
                          patient.id, site.id)
    with pytest.raises(ValidationFailed, match="pas encore eu lieu"):
        followup.schedule("satisfaction_72h", "patient", patient.id,
                          clock.now() + dt.timedelta(days=1), patient.id, site.id)
    assert FollowUpTask.select().count() == 0
    task = followup.schedule("post_discharge_call", "stay", 1, delivery + dt.timedelta(days=1),
                             patient.id, site.id, not_before=delivery)
    assert task.due_at == delivery + dt.timedelta(days=11)


def test_a_new_source_plugs_into_the_engine_without_changing_it(desk, monkeypatch):
    """A source registers its events, its callers and what closing its tasks does; the
    engine calls them (the quality issue's complaints will be such a source)."""
    from nest_desktop.services import hooks

    site, user = desk
    now = clock.now()
    closed = []
    for hook in (hooks.task_events, hooks.task_callers, hooks.task_closed):
        monkeypatch.setattr(hook, "_functions", list(hook._functions))
    hooks.task_events.register(lambda when, window: [
        followup.Event("same_day", "complaint", 7, now - dt.timedelta(minutes=5), None,
                       site.id)])
    hooks.task_callers.register(lambda sources: {
        source: ("Mme Complainte", "77 000 00 07") for source in sources
        if source[0] == "complaint"})
    hooks.task_closed.register(lambda task, outcome, who, when: closed.append(
        (task.source_table, outcome, who.id)))
    assert followup.run(now) == 1
    assert followup.run(now) == 0  # caught up once, never twice
    [task] = FollowUpTask.select().where(FollowUpTask.source_table == "complaint")
    row = followup.rows_for([task.id])[task.id]
    assert (row.person, row.phone) == ("Mme Complainte", "77 000 00 07")
    followup.record_attempt(task.id, followup.WRONG_NUMBER, when=now)
    assert closed == [("complaint", "wrong_number", user.id)]


def test_one_source_answers_for_a_kind_of_task():
    from nest_desktop.services import hooks

    registry = hooks.Registry("test", "")
    first = registry.register("prospect", print)
    assert registry.register("prospect", first) is first  # registering again is harmless
    with pytest.raises(ValueError):
        registry.register("prospect", repr)


@pytest.mark.clock("2026-11-24 08:30")
def test_the_full_catch_up_is_done_once_a_day_or_when_the_deadlines_change(desk):
    """Each change makes its own tasks; the whole catch-up, which reads every stored event,
    is for what a crash or an older version left: once a day by one desk, and again when
    what the deadlines depend on changes."""
    from nest_desktop.services import leases, settings

    site, _user = desk
    visit = clock.today() - dt.timedelta(days=1)
    followup.run()  # the day's full pass
    missed = new_patient(site.id, None, "Ndour", "77 555 98 76")
    Patient.update(first_visit_date=visit).where(Patient.id == missed.id).execute()
    assert followup.run() == 0 and tasks_of(missed.id) == []  # the same day: not again
    # The next day, the first pass is the full one, on the desk that takes its lease.
    clock.set_now(dt.datetime(2026, 11, 25, 8, 30))
    assert leases.take(followup.PASS_LEASE, holder="accueil-2:77")
    assert followup.run() == 0 and tasks_of(missed.id) == []  # another desk is at it
    leases.release(followup.PASS_LEASE, holder="accueil-2:77")
    assert followup.run() == 2  # her 72-hour call and her intake interview
    # The closing time changes the deadlines: the next pass is a full one, that day.
    settings.put("followup.closing_time", "17:00")
    assert followup.run() >= 1
    [call] = [t for t in tasks_of(missed.id) if t.rule == "satisfaction_72h"]
    assert call.due_at.time() == dt.time(17, 0)
    assert followup.run() == 0
