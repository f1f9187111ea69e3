import datetime as dt

import pytest

from nest_desktop.db.models import VaccineDose
from nest_desktop.domain import vaccination as rules
from nest_desktop.services import ValidationFailed
from nest_desktop.services import vaccination as service

TODAY = dt.date(2026, 11, 23)


def by_key(doses):
    return {(d.vaccine, d.dose): d for d in doses}


def test_child_calendar_uses_the_plan_records_and_parents(family):
    mother, child = family
    calendar = service.child_calendar(child.id, TODAY)
    assert calendar.schedule == "senegal" and calendar.version.id == "senegal-2025-07"
    assert [(p.full_name, p.relation, p.phones, p.sms_consent) for p in calendar.parents] == [
        ("Awa Diop", "mother", ("+221771234567",), True)]
    service.set_plan(child.id, "france", ("Varicelle",))
    assert service.plan_of(child.id) == ("france", ("Varicelle",))
    assert service.child_calendar(child.id, TODAY).version.id == "france-2025"
    with pytest.raises(ValidationFailed):
        service.set_plan(child.id, "mars")


def test_recording_a_late_dose_moves_the_next_ones(family):
    _mother, child = family
    # Moussa, born 5/9/2026, seen on 23/11/2026: Hexa 1 was due at 6 weeks (17/10) and is to
    # be given today; Hexa 2 comes 28 days after today (21/12), not at 10 weeks (14/11).
    before = by_key(service.child_calendar(child.id, TODAY).doses)
    assert before[("Hexa", 1)].status == rules.OVERDUE
    assert (before[("Hexa", 1)].scheduled, before[("Hexa", 1)].due) == (
        dt.date(2026, 10, 17), TODAY)
    assert before[("Hexa", 2)].due == dt.date(2026, 12, 21)
    service.record_dose(child.id, "Hexa", 1, "20/11/2026", "Hexaxim", "L123", today=TODAY)
    after = by_key(service.child_calendar(child.id, TODAY).doses)
    assert after[("Hexa", 1)].given == dt.date(2026, 11, 20)
    assert after[("Hexa", 2)].due == dt.date(2026, 12, 18)
    assert service.child_calendar(child.id, TODAY).records[("Hexa", 1)].lot == "L123"


@pytest.mark.parametrize("changes, field", [
    ({"given_on": "01/12/2026"}, "given_on"),
    ({"given_on": "01/01/2026"}, "given_on"),
    ({"given_on": "31/02/2026"}, "given_on"),
    ({"vaccine": "Penta"}, "dose"),
    ({"place": "moon"}, "place"),
])
def test_bad_doses_are_refused_with_a_message(family, changes, field):
    _mother, child = family
    values = {"vaccine": "BCG", "dose": 1, "given_on": "06/09/2026", "place": "nest"}
    values.update(changes)
    with pytest.raises(ValidationFailed) as failed:
        service.record_dose(child.id, today=TODAY, **values)
    assert field in failed.value.errors
    assert VaccineDose.select().count() == 0


def test_a_dose_is_recorded_once_and_can_be_removed(family):
    _mother, child = family
    record = service.record_dose(child.id, "BCG", 1, "06/09/2026", today=TODAY)
    with pytest.raises(ValidationFailed, match="déjà"):
        service.record_dose(child.id, "BCG", 1, "07/09/2026", today=TODAY)
    service.remove_dose(record.id)
    assert by_key(service.child_calendar(child.id, TODAY).doses)[("BCG", 1)].given is None


def test_due_list_groups_the_doses_to_give_per_child(family, desk):
    mother, child = family
    service.record_dose(child.id, "BCG", 1, "06/09/2026", today=TODAY)
    rows = service.due_list(within_days=30, today=TODAY)
    assert [r.patient_id for r in rows] == [child.id]  # the mother is no child
    row = rows[0]
    assert row.overdue and row.contact_phone == "+221771234567"  # the mother's number
    assert row.sms_consent
    doses = {(d.vaccine, d.dose) for d in row.doses}
    assert ("Hexa", 2) in doses and ("BCG", 1) not in doses and ("RR", 1) not in doses
    assert service.due_list(within_days=30, site_id=desk[0].id + 1, today=TODAY) == []


def test_the_list_and_the_childs_file_agree_on_who_is_texted_and_what_is_late(desk):
    """A newborn's file takes her mother's number at birth (never her consent): the list
    texts the mother, with the mother's consent, as the file's parents box says."""
    from nest_desktop.services import patients

    site, _user = desk
    mother = patients.create_patient(patients.PatientForm(
        last_name="Diop", first_names="Awa", phones=["77 123 45 67"], sms_consent=True,
        site_id=site.id))
    baby = patients.create_patient(patients.PatientForm(
        last_name="Fall", first_names="Aïcha", sex="F", birth_date="01/07/2026",
        phones=["77 123 45 67"], pathway="paediatrics", site_id=site.id))
    patients.link_family(mother.id, baby.id, "mother")
    [row] = service.due_list(within_days=30, today=TODAY)
    assert (row.contact_id, row.sms_consent) == (mother.id, True)
    [parent] = service.child_calendar(baby.id, TODAY).parents
    assert parent.sms_consent == row.sms_consent
    late_on_file = {(d.vaccine, d.dose) for d in service.child_calendar(baby.id, TODAY).doses
                    if d.status == rules.OVERDUE}
    assert late_on_file and late_on_file == {(d.vaccine, d.dose) for d in row.doses
                                             if d.status == rules.OVERDUE}


def test_the_doses_of_one_visit_are_recorded_together_or_not_at_all(family):
    _mother, child = family
    visit = [d for d in rules.next_visit_doses(service.child_calendar(child.id, TODAY).doses)]
    assert len(visit) >= 3  # the 6-week visit
    given = [service.GivenDose(d.vaccine, d.dose, "Produit", f"L{index}")
             for index, d in enumerate(visit)]
    too_long = given[:-1] + [service.GivenDose(visit[-1].vaccine, visit[-1].dose, "", "x" * 51)]
    with pytest.raises(ValidationFailed) as failed:
        service.record_visit(child.id, too_long, "20/11/2026", today=TODAY)
    assert set(failed.value.errors) == {f"{len(visit) - 1}:lot"}
    assert VaccineDose.select().count() == 0  # none of them
    with pytest.raises(ValidationFailed) as failed:
        service.record_visit(child.id, [service.GivenDose("Hexa", 1), service.GivenDose("Hexa", 2)],
                             "20/11/2026", today=TODAY)
    assert failed.value.errors == {"1:dose": "Deux doses d’un même vaccin ne se donnent pas le "
                                             "même jour."}
    with pytest.raises(ValidationFailed) as failed:
        service.record_visit(child.id, [], "20/11/2026", today=TODAY)
    assert failed.value.errors == {"doses": "Cochez les doses données."}
    records = service.record_visit(child.id, given, "20/11/2026", today=TODAY)
    assert [(r.vaccine, r.lot) for r in records] == [(g.vaccine, g.lot) for g in given]
    after = by_key(service.child_calendar(child.id, TODAY).doses)
    assert all(after[(d.vaccine, d.dose)].status == rules.GIVEN for d in visit)
