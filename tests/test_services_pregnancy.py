"""Pregnancies: dating, the 36-week call, birth, discharge and a pregnancy that ends."""

import datetime as dt

import pytest

from nest_desktop.db.models import (
    Call36Weeks,
    FamilyLink,
    FollowUpTask,
    Interaction,
    Patient,
    Pregnancy,
)
from nest_desktop.domain import clock
from nest_desktop.services import ValidationFailed, followup, settings
from nest_desktop.services import patients as patient_service
from nest_desktop.services import pregnancy as service


def typed(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def mother(family):
    return family[0]


def task_of(rule: str) -> FollowUpTask | None:
    return FollowUpTask.get_or_none(FollowUpTask.rule == rule)


@pytest.mark.clock("2026-11-25 10:00")  # the deadlines fall on weekdays
def test_a_ddr_starts_the_pathway_and_its_36_week_call(mother):
    ddr = clock.today() - dt.timedelta(weeks=30)
    pregnancy, notes = service.save_pregnancy(mother.id, service.PregnancyForm(ddr=typed(ddr)))
    assert (pregnancy.ddr, pregnancy.dating_method, notes) == (ddr, "ddr", [])
    assert service.due_date(pregnancy) == ddr + dt.timedelta(days=280)
    assert Patient.get_by_id(mother.id).pathway == "pregnancy"
    task = task_of("call_36_weeks")
    # Due by the end of the window the calendar shows, 36+0 to 36+6: the closing time of
    # 36 weeks + 6 days, not overdue from the first minute of week 36.
    assert task.due_at == dt.datetime.combine(ddr + dt.timedelta(weeks=36, days=6),
                                              followup.closing_time())
    assert task.opens_at == dt.datetime.combine(ddr + dt.timedelta(weeks=35), dt.time.min)
    # A corrected DDR moves the call; no second pregnancy, no second task.
    service.save_pregnancy(mother.id, service.PregnancyForm(ddr=typed(ddr + dt.timedelta(3))))
    assert Pregnancy.select().count() == 1
    assert FollowUpTask.select().where(FollowUpTask.rule == "call_36_weeks").count() == 1
    assert task_of("call_36_weeks").due_at.date() == ddr + dt.timedelta(weeks=36, days=9)


def test_the_dpa_or_a_scan_dates_the_pregnancy_with_the_clinic_convention(mother):
    dpa = clock.today() + dt.timedelta(days=100)
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(dpa=typed(dpa)))
    assert (pregnancy.ddr, pregnancy.dating_method) == (dpa - dt.timedelta(280), "dpa")
    settings.put("pregnancy.convention", "french")
    assert service.due_date(pregnancy) > dpa  # about 41 SA in the French convention
    settings.put("pregnancy.convention", "naegele")
    ddr = clock.today() - dt.timedelta(weeks=14)
    scan = clock.today() - dt.timedelta(weeks=2)
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(ddr), scan_date=typed(scan), scan_weeks="12", scan_days="3"))
    # The scan says 12+3 two weeks ago, i.e. 14+3 today: 3 days apart, the DDR is kept.
    assert (pregnancy.ddr, pregnancy.dating_method) == (ddr, "ddr")
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(ddr), scan_date=typed(scan), scan_weeks="10", scan_days="0"))
    # 10+0 two weeks ago: 14 days from the DDR, beyond the 7 days: the scan dates it.
    assert pregnancy.dating_method == "ultrasound" and pregnancy.stated_ddr == ddr
    assert pregnancy.ddr == scan - dt.timedelta(weeks=10)


def test_impossible_dates_are_refused_at_their_field(mother, family):
    with pytest.raises(ValidationFailed) as refused:
        service.save_pregnancy(mother.id, service.PregnancyForm(
            ddr=typed(clock.today() + dt.timedelta(days=2))))
    assert refused.value.errors == {"ddr": "La date des dernières règles est dans le futur."}
    with pytest.raises(ValidationFailed) as refused:
        service.save_pregnancy(mother.id, service.PregnancyForm())
    assert "ddr" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        service.save_pregnancy(mother.id, service.PregnancyForm(
            ddr=typed(clock.today() - dt.timedelta(weeks=50))))
    assert "44 semaines" in refused.value.errors["ddr"]
    with pytest.raises(ValidationFailed) as refused:
        service.save_pregnancy(family[1].id, service.PregnancyForm(
            ddr=typed(clock.today() - dt.timedelta(weeks=8))))
    assert "pas celui d’une femme" in refused.value.errors["ddr"]
    with pytest.raises(ValidationFailed) as refused:
        service.save_pregnancy(mother.id, service.PregnancyForm(
            ddr=typed(clock.today() - dt.timedelta(weeks=8)), scan_weeks="30"))
    assert "scan_weeks" in refused.value.errors
    assert Pregnancy.select().count() == 0 and FollowUpTask.select().count() == 0


def test_milestones_marked_done_set_aside_or_back(mother):
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=20))))
    service.set_milestone(pregnancy.id, "ultrasound_1", "done",
                          clock.today() - dt.timedelta(weeks=7))
    service.set_milestone(pregnancy.id, "glucose_test", "cancelled")
    plan = {m.milestone.id: m for m in service.plan_of(pregnancy)}
    assert plan["ultrasound_1"].status == "done"
    assert plan["glucose_test"].status == "cancelled"
    assert plan["declaration"].status == "missed"
    service.set_milestone(pregnancy.id, "glucose_test", None)
    assert {m.milestone.id: m for m in service.plan_of(pregnancy)}[
        "glucose_test"].status == "upcoming"
    with pytest.raises(ValidationFailed):
        service.set_milestone(pregnancy.id, "ultrasound_2", "done", clock.today() + dt.timedelta(1))


def test_the_36_week_call_keeps_every_field_and_closes_its_task(mother):
    service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=35, days=2))))
    task = task_of("call_36_weeks")
    with pytest.raises(ValidationFailed) as refused:
        service.record_call_36_weeks(task.id, service.Call36Form(newsletter_wanted=True))
    assert set(refused.value.errors) == {"planned_place", "mothers_group",
                                         "newsletter_channel"}
    form = service.Call36Form(
        planned_place="Clinique Nest Mermoz", tariffs_given=True, coverage_given=True,
        financial_conditions_given=True, classes_proposed=True, classes_accepted=True,
        mothers_group="whatsapp", newsletter_wanted=True, newsletter_channel="whatsapp",
        child_followed_at_nest=True, notes="Très contente")
    call = service.record_call_36_weeks(task.id, form)
    assert Call36Weeks.get_by_id(call.id).mothers_group == "whatsapp"
    assert task_of("call_36_weeks").status == "done"
    patient = Patient.get_by_id(mother.id)
    assert patient.newsletter_consent and patient.preferred_channel == "whatsapp"
    assert Interaction.get().subject == "Appel de la 36e semaine"
    plan = {m.milestone.id: m for m in service.plan_of(Pregnancy.get())}
    assert plan["call_36_weeks"].status == "done"
    with pytest.raises(followup.TaskClosed):
        service.record_call_36_weeks(task.id, form)


@pytest.mark.clock("2026-11-27 10:00")  # a Friday
def test_a_birth_makes_the_babies_patients_and_discharge_makes_the_follow_ups(mother):
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=39))))
    with pytest.raises(ValidationFailed) as refused:
        service.record_delivery(pregnancy.id, service.DeliveryForm(
            delivered_on=typed(clock.today()), babies=[service.Baby("X", "")]))
    assert {"baby_0_sex", "baby_0_first_names", "baby_0_last_name"} <= set(refused.value.errors)
    assert refused.value.errors["baby_0_last_name"] == (
        "Indiquez le nom de famille du bébé (en général celui du père).")
    delivered = dt.datetime.combine(clock.today() - dt.timedelta(days=3), dt.time(4, 30))
    service.record_delivery(pregnancy.id, service.DeliveryForm(
        delivered_on=typed(delivered.date()), delivered_time="04:30", at_nest=True,
        babies=[service.Baby("F", "Aïcha", "Fall", weight_grams="3150"),
                service.Baby("M", "Ousmane", "Fall", "2900")]))
    babies = list(Patient.select().where(Patient.birth_date == delivered.date()))
    assert {(b.first_names, b.last_name, b.pathway) for b in babies} == {
        ("Aïcha", "Fall", "paediatrics"), ("Ousmane", "Fall", "paediatrics")}
    assert service.children_family_name(mother.id) == "Fall"
    assert FamilyLink.select().where(FamilyLink.parent == mother.id).count() == 3
    assert patient_service.phones_of(babies[0].id) == patient_service.phones_of(mother.id)
    assert Pregnancy.get_by_id(pregnancy.id).status == "delivered"
    assert task_of("call_36_weeks").status == "cancelled"  # born before the call was made
    with pytest.raises(ValidationFailed) as refused:
        service.record_discharge(pregnancy.id, delivered - dt.timedelta(hours=2))
    assert refused.value.errors == {"event": "La sortie ne peut pas précéder l’accouchement."}
    discharged = delivered + dt.timedelta(days=2)
    service.record_discharge(pregnancy.id, discharged)
    # Discharged at 04:30 on Thursday: the survey is due by the end of that day's hours;
    # ten days later is a Sunday, when nobody calls: by Saturday's closing, 13:00.
    assert task_of("discharge_survey").due_at == dt.datetime(2026, 11, 26, 18, 0)
    assert task_of("post_discharge_call").due_at == dt.datetime(2026, 12, 5, 13, 0)


def test_a_pregnancy_that_ends_cancels_what_was_planned(mother):
    pregnancy, _notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=35, days=1))))
    service.end_pregnancy(pregnancy.id, "miscarriage", clock.today())
    assert task_of("call_36_weeks").status == "cancelled"
    assert {m.status for m in service.plan_of(Pregnancy.get())} == {"cancelled"}
    assert Patient.get_by_id(mother.id).pathway == "none"
    assert service.ongoing() == []
    with pytest.raises(ValidationFailed):
        service.end_pregnancy(pregnancy.id, "miscarriage", clock.today())


def test_the_list_of_ongoing_pregnancies_with_filters(mother, desk):
    site, _user = desk
    other = patient_service.create_patient(patient_service.PatientForm(
        last_name="Sow", first_names="Mariama", phones=["77 444 55 66"], site_id=site.id))
    service.save_pregnancy(mother.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=32, days=4))))
    service.save_pregnancy(other.id, service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=10))))
    rows = service.ongoing()
    assert [(r.person, r.weeks, r.days) for r in rows] == [("DIOP Awa", 32, 4),
                                                           ("SOW Mariama", 10, 0)]
    assert rows[0].next_milestone == "Échographie du 3e trimestre"
    assert [r.person for r in service.ongoing(min_weeks=20)] == ["DIOP Awa"]
    assert [r.person for r in service.ongoing(max_weeks=20)] == ["SOW Mariama"]
    assert [r.person for r in service.ongoing(due_in_month=rows[1].dpa)] == ["SOW Mariama"]
    assert service.ongoing(site_id=site.id + 100) == []
    assert clock.now()  # the clock used by the engine


def test_the_engine_catches_up_pregnancies_and_discharges_written_without_it(mother):
    from nest_desktop.db.models import Delivery

    ddr = clock.today() - dt.timedelta(weeks=35)
    pregnancy = Pregnancy.create(patient=mother.id, ddr=ddr)
    assert followup.run() == 1 and task_of("call_36_weeks").source_id == pregnancy.id
    assert followup.run(full=True) == 0
    born = clock.now() - dt.timedelta(days=3)
    Pregnancy.update(status="delivered").where(Pregnancy.id == pregnancy.id).execute()
    Delivery.create(pregnancy=pregnancy.id, delivered_at=born, at_nest=False,
                    discharged_at=born + dt.timedelta(days=2))
    assert followup.run(full=True) == 1  # the survey; no ten-day call after a birth elsewhere
    assert task_of("discharge_survey") is not None and task_of("post_discharge_call") is None


@pytest.mark.clock("2026-11-25 10:00")  # the deadline falls on a weekday
def test_a_deadline_changed_in_the_rules_moves_the_open_tasks_at_the_next_pass(mother):
    """A database from before the 36-week call was due at the end of its window: the
    engine's pass at start-up moves its open tasks (and leaves the done ones alone)."""
    ddr = clock.today() - dt.timedelta(weeks=30)
    service.save_pregnancy(mother.id, service.PregnancyForm(ddr=typed(ddr)))
    old_deadline = dt.datetime.combine(ddr + dt.timedelta(weeks=36), dt.time.min)
    FollowUpTask.update(due_at=old_deadline).where(
        FollowUpTask.rule == "call_36_weeks").execute()
    assert followup.run() == 1
    assert task_of("call_36_weeks").due_at == dt.datetime.combine(
        ddr + dt.timedelta(weeks=36, days=6), followup.closing_time())
    assert followup.run() == 0


def test_a_french_due_date_from_several_ddrs_says_which_one_the_pathway_follows(mother):
    settings.put("pregnancy.convention", "french")
    _pregnancy, notes = service.save_pregnancy(mother.id, service.PregnancyForm(
        dpa="28/02/2027"), today=dt.date(2026, 11, 23))
    assert notes == ["Avec la convention française, ce terme correspond à plusieurs dates de "
                     "dernières règles (14/05/2026, 15/05/2026, 16/05/2026, 17/05/2026)\u00a0: "
                     "le parcours suit le 14/05/2026. Saisissez la DDR si elle est connue."]
    assert Pregnancy.get().ddr == dt.date(2026, 5, 14)
