"""Pathways that end (PAT-04): pregnancy, post-natal, then without a pathway, each change kept
on her file and read by the segments; the mothers' group offered when the pathway starts."""

import datetime as dt

import pytest

from nest_desktop.db.models import FollowUpTask, Interaction, PathwayChange, Patient
from nest_desktop.domain import clock
from nest_desktop.services import ValidationFailed, followup, mothers_group, pathways, segments
from nest_desktop.services import patients as patient_service
from nest_desktop.services import pregnancy as pregnancy_service


def typed(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def steps(patient_id: int) -> list[tuple[str, str, str]]:
    return [(row.from_pathway, row.to_pathway, row.reason)
            for row in reversed(pathways.history_of(patient_id))]


def pregnant(mother, weeks: int):
    pregnancy, _notes = pregnancy_service.save_pregnancy(mother.id, pregnancy_service.PregnancyForm(
        ddr=typed(clock.today() - dt.timedelta(weeks=weeks))))
    return pregnancy


@pytest.mark.clock("2026-11-27 10:00")
def test_a_birth_makes_her_post_natal_for_eight_weeks_then_without_a_pathway(family):
    mother, _child = family
    pregnancy = pregnant(mother, 39)
    pregnancy_service.record_delivery(pregnancy.id, pregnancy_service.DeliveryForm(
        delivered_on="25/11/2026", delivered_time="04:30", at_nest=True,
        babies=[pregnancy_service.Baby("F", "Aïcha", "Fall")]))
    patient = Patient.get_by_id(mother.id)
    # born on 25 November: post-natal until 20 January 2027 (8 weeks, the post-natal
    # consultation), then without a pathway
    assert (patient.pathway, patient.pathway_ends_on) == ("postnatal", dt.date(2027, 1, 20))
    assert steps(mother.id) == [("none", "pregnancy", "pregnancy"),
                                ("pregnancy", "postnatal", "birth")]
    without = segments.SegmentFilter(pathway="none")
    assert mother.id not in segments.patient_ids(without)
    # the engine's pass on 19 January leaves her; on 20 January she leaves the pathway
    followup.run(dt.datetime(2027, 1, 19, 8, 0))
    assert Patient.get_by_id(mother.id).pathway == "postnatal"
    followup.run(dt.datetime(2027, 1, 20, 8, 0))
    patient = Patient.get_by_id(mother.id)
    assert (patient.pathway, patient.pathway_ends_on) == ("none", None)
    assert steps(mother.id)[-1] == ("postnatal", "none", "postnatal_over")
    assert pathways.history_of(mother.id)[0].changed_at == dt.datetime(2027, 1, 20, 8, 0)
    followup.run(dt.datetime(2027, 1, 21, 8, 0))  # nothing more
    assert len(steps(mother.id)) == 3
    # now in the "without a pathway" segments, and in those of her past pathway
    assert mother.id in segments.patient_ids(without, dt.date(2027, 1, 21))
    former = segments.SegmentFilter(pathway="none", past_pathway="pregnancy")
    assert segments.patient_ids(former, dt.date(2027, 1, 21)) == [mother.id]
    assert "une fois dans le parcours Grossesse" in former.describe()


@pytest.mark.clock("2026-11-27 10:00")
def test_a_birth_recorded_after_the_post_natal_weeks_leaves_her_without_a_pathway(family):
    mother, _child = family
    pregnancy = pregnant(mother, 43)
    pregnancy_service.record_delivery(pregnancy.id, pregnancy_service.DeliveryForm(
        delivered_on="25/09/2026", babies=[pregnancy_service.Baby("M", "Omar", "Fall")]))
    assert Patient.get_by_id(mother.id).pathway == "none"
    assert steps(mother.id)[1:] == [("pregnancy", "postnatal", "birth"),
                                    ("postnatal", "none", "postnatal_over")]


def test_a_pregnancy_that_ends_otherwise_closes_the_pathway_in_its_history(family):
    mother, _child = family
    pregnancy = pregnant(mother, 10)
    pregnancy_service.end_pregnancy(pregnancy.id, "miscarriage", clock.today())
    assert Patient.get_by_id(mother.id).pathway == "none"
    assert steps(mother.id) == [("none", "pregnancy", "pregnancy"),
                                ("pregnancy", "none", "pregnancy_ended")]
    assert PathwayChange.get(PathwayChange.reason == "pregnancy_ended").pregnancy_id == \
        pregnancy.id


def test_a_pathway_changed_on_the_file_is_kept_with_who_changed_it(desk):
    site, user = desk
    patient = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Khady", pathway="gynaecology", site_id=site.id))
    form = patient_service.form_of(patient)
    form.pathway = "postnatal"
    patient_service.update_patient(patient.id, patient.version, form)
    saved = Patient.get_by_id(patient.id)
    assert saved.pathway_ends_on == clock.today() + dt.timedelta(weeks=8)
    history = pathways.history_of(patient.id)
    assert [(row.to_pathway, row.reason, row.by) for row in history] == [
        ("postnatal", "file", user.full_name), ("gynaecology", "file", user.full_name)]
    form = patient_service.form_of(saved)  # saved again unchanged: nothing new
    patient_service.update_patient(patient.id, saved.version, form)
    assert len(pathways.history_of(patient.id)) == 2


# --- the mothers' group (PAT-06) ---------------------------------------------------------------

def offers() -> list[FollowUpTask]:
    return list(FollowUpTask.select().where(FollowUpTask.rule == "mothers_group_offer"))


@pytest.mark.clock("2026-11-23 10:00")  # a Monday
def test_the_group_is_offered_when_the_pregnancy_pathway_starts(family):
    mother, _child = family
    pregnant(mother, 12)
    [offer] = offers()
    # a week to make the call, by the end of that Monday's opening hours
    assert (offer.patient_id, offer.assignee_role, offer.due_at) == (
        mother.id, "customer_relations", dt.datetime(2026, 11, 30, 18, 0))
    sheet = followup.call_sheet(offer.id, "Clémence", "Clinique Nest Mermoz")
    assert any("Groupe des Mamans NEST" in line for line in sheet.script)
    member = mothers_group.answer_offer(offer.id, "whatsapp", "Ravie")
    assert (member.status, member.channel, member.joined_on) == (
        "joined", "whatsapp", dt.date(2026, 11, 23))
    assert FollowUpTask.get_by_id(offer.id).status == "done"
    assert Interaction.get(Interaction.patient == mother.id).notes == "Ravie"
    with pytest.raises(ValidationFailed):
        mothers_group.answer_offer(offer.id, "maybe")
    # the catch-up at start-up makes no second offer
    followup.run()
    assert len(offers()) == 1


@pytest.mark.clock("2026-11-23 10:00")
def test_an_answer_on_her_file_settles_the_offer_and_is_not_asked_again(family):
    mother, _child = family
    pregnancy = pregnant(mother, 12)
    mothers_group.record(mother.id, "invited", when=dt.datetime(2026, 11, 23, 11, 0))
    assert offers()[0].status == "done" and offers()[0].outcome == "mothers_group_answered"
    mothers_group.record(mother.id, "declined", when=dt.datetime(2026, 11, 25, 9, 0))
    member = mothers_group.membership(mother.id)
    # each answer keeps its day
    assert (member.status, member.invited_on, member.declined_on) == (
        "declined", dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    with pytest.raises(ValidationFailed) as refused:
        mothers_group.record(mother.id, "joined", "telegram")
    assert set(refused.value.errors) == {"channel"}
    # a later pregnancy: she declined, the group is not offered again
    pregnancy_service.end_pregnancy(pregnancy.id, "miscarriage", clock.today())
    pregnant(mother, 6)
    assert len(offers()) == 1


@pytest.mark.clock("2026-11-23 10:00")
def test_a_pregnancy_followed_late_is_asked_at_36_weeks_which_keeps_her_answer(family):
    mother, _child = family
    pregnant(mother, 35)
    assert offers() == []  # the 36-week call asks it, very soon
    call = FollowUpTask.get(FollowUpTask.rule == "call_36_weeks")
    pregnancy_service.record_call_36_weeks(call.id, pregnancy_service.Call36Form(
        planned_place="Clinique Nest Mermoz", mothers_group="facebook"))
    member = mothers_group.membership(mother.id)
    assert (member.status, member.channel) == ("joined", "facebook")
