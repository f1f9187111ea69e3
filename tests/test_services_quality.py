"""The register of complaints and non-conformities (ISO 9001 §10.2), and its periods."""

import datetime as dt
import json

import pytest

from nest_desktop.db.models import AuditEntry, CorrectiveAction, FollowUpTask, QualityCase
from nest_desktop.domain import quality as rules
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    followup,
    patients,
    quality,
    session,
)
from nest_desktop.services.session import PermissionDenied
from tests.conftest import PASSWORD

pytestmark = pytest.mark.clock("2026-12-07 10:00")  # a Monday


def a_patient(site_id):
    return patients.create_patient(patients.PatientForm(
        last_name="Faye", first_names="Ndeye Coumba", phones=["77 200 30 40"],
        site_id=site_id))


def test_a_complaints_whole_life_from_the_desk_to_its_closing(desk, as_role, application_clock):
    site, admin = desk
    patient = a_patient(site.id)
    secretary = as_role("secretary")
    case = quality.record_case(quality.CaseForm(
        kind="complaint", source="desk", category="waiting", severity="major",
        description="Deux heures d'attente sans explication", occurred_on=dt.date(2026, 12, 7),
        site_id=site.id, patient_id=patient.id))
    assert case.status == rules.RECORDED and case.recorded_by_id == secretary.id
    # A secretary records it; analysing and acting are for the pilots.
    with pytest.raises(PermissionDenied):
        quality.update_case(case.id, case.version, quality.detail(case.id).form)
    with pytest.raises(PermissionDenied):
        quality.add_action(case.id, "Afficher les retards", secretary.id,
                           dt.date(2026, 12, 20))
    pilot = as_role("quality_pilot")
    form = quality.detail(case.id).form
    form.cause = "Un seul médecin de garde le samedi matin"
    form.immediate_action = "Excuses présentées, rendez-vous redonné en priorité"
    form.assigned_to_id = pilot.id
    case = quality.update_case(case.id, case.version, form)
    assert case.status == rules.ANALYSED and case.assigned_to_id == pilot.id
    # Closing needs its actions done: one goes on the secretary's Today.
    action = quality.add_action(case.id, "Prévenir les patientes du retard à l'arrivée",
                                secretary.id, dt.date(2026, 12, 18))
    assert QualityCase.get_by_id(case.id).status == rules.ACTING
    [task] = FollowUpTask.select().where(FollowUpTask.source_table == "corrective_action")
    assert (task.rule, task.assignee_id, task.status) == ("corrective_action", secretary.id,
                                                          "open")
    assert task.due_at == dt.datetime(2026, 12, 18, 18, 0)
    assert task.patient_id is None and task.site_id == site.id
    with pytest.raises(ValidationFailed) as refused:
        quality.check_effectiveness(case.id, QualityCase.get_by_id(case.id).version, "Vu",
                                    True)
    assert "pas toutes faites" in refused.value.errors["effectiveness"]
    # Her Today shows it, named by its case.
    session.login(secretary.login, PASSWORD)
    mine = followup.task_ids(followup.TaskFilter(assignee="mine"))
    assert task.id in mine
    assert followup.rows_for([task.id])[task.id].person.startswith(
        f"Réclamation n° {case.id}")
    with pytest.raises(ValidationFailed):
        quality.complete_action(action.id, "  ")
    quality.complete_action(action.id, "Affiche posée, les secrétaires préviennent")
    assert FollowUpTask.get_by_id(task.id).status == "done"
    assert QualityCase.get_by_id(case.id).status == rules.TO_CHECK
    # Checked: not effective, it stays open for a new action; then effective, closed.
    session.login(pilot.login, PASSWORD)
    case = QualityCase.get_by_id(case.id)
    case = quality.check_effectiveness(case.id, case.version,
                                       "Deux nouvelles plaintes en janvier", False)
    assert case.status == rules.TO_CHECK and case.closed_at is None and case.effective is False
    second = quality.add_action(case.id, "Deuxième médecin le samedi", pilot.id,
                                dt.date(2027, 1, 15))
    assert QualityCase.get_by_id(case.id).status == rules.ACTING
    application_clock.set_now(dt.datetime(2027, 1, 14, 9, 0))
    quality.complete_action(second.id, "Planning modifié")
    case = QualityCase.get_by_id(case.id)
    case = quality.check_effectiveness(case.id, case.version, "Aucune plainte en février",
                                       True)
    assert case.status == rules.CLOSED and case.closed_by_id == pilot.id
    # Closed: nothing changes it any more; nothing was deleted; every step is audited.
    with pytest.raises(ValidationFailed):
        quality.add_action(case.id, "Encore", pilot.id, dt.date(2027, 2, 1))
    assert CorrectiveAction.select().count() == 2
    trail = AuditEntry.select().where(AuditEntry.table.in_(["quality_case",
                                                            "corrective_action"]))
    steps = [(entry.table, entry.action, sorted(json.loads(entry.changes))) for entry in trail]
    assert ("quality_case", "create", ["category", "description", "kind", "occurred_on",
                                       "patient", "severity", "site", "source", "status"]) \
        in steps
    assert sum(1 for table, action, _c in steps if table == "corrective_action") == 4
    assert all(entry.patient_id == patient.id for entry in trail)
    # Her file lists it.
    assert quality.case_ids(quality.CaseFilter(status="all", patient_id=patient.id)) == [
        case.id]
    session.login("clemence", PASSWORD)
    assert admin.role == "administrator"


def test_a_case_is_checked_as_typed_and_two_desks_cannot_overwrite_each_other(db, as_role):
    pilot = as_role("quality_pilot")
    with pytest.raises(ValidationFailed) as refused:
        quality.record_case(quality.CaseForm(description=" ", category="",
                                             occurred_on=dt.date(2026, 12, 8)))
    assert set(refused.value.errors) == {"category", "description", "occurred_on"}
    assert QualityCase.select().count() == 0
    case = quality.record_case(quality.CaseForm(
        kind="non_conformity", source="indicator", category="follow_up", severity="minor",
        description="Appels de 72 h en retard", occurred_on=dt.date(2026, 12, 1)))
    form = quality.detail(case.id).form
    form.cause = "Absence non remplacée"
    quality.update_case(case.id, case.version, form)
    with pytest.raises(StaleRecordError):
        quality.update_case(case.id, case.version, form)  # read before the first save
    with pytest.raises(ValidationFailed) as refused:
        quality.add_action(case.id, "Former une remplaçante", pilot.id, dt.date(2026, 12, 6))
    assert refused.value.errors == {"deadline": "L’échéance est déjà passée."}
    with pytest.raises(ValidationFailed) as refused:
        quality.add_action(case.id, "", None, None)
    assert set(refused.value.errors) == {"action", "owner", "deadline"}


def test_a_cancelled_action_leaves_its_owners_today_and_a_minor_case_closes_without_one(
        db, as_role):
    pilot = as_role("quality_pilot")
    case = quality.record_case(quality.CaseForm(
        category="welcome", description="Accueil sec au téléphone",
        occurred_on=dt.date(2026, 12, 4)))
    with pytest.raises(ValidationFailed) as refused:
        quality.check_effectiveness(case.id, case.version, "Vu avec elle", True)
    assert "cause" in refused.value.errors["effectiveness"]
    action = quality.add_action(case.id, "Rappel du script d'accueil", pilot.id,
                                dt.date(2026, 12, 11))
    quality.cancel_action(action.id, "Remplacée par la réunion d'équipe")
    task = FollowUpTask.get(FollowUpTask.source_id == action.id)
    assert task.status == "cancelled"
    form = quality.detail(case.id).form
    form.cause = "Fin de journée chargée"
    form.immediate_action = "Rappel fait à la secrétaire le jour même"
    case = quality.update_case(case.id, QualityCase.get_by_id(case.id).version, form)
    assert case.status == rules.ANALYSED
    case = quality.check_effectiveness(case.id, case.version, "Pas de nouvelle plainte", True)
    assert case.status == rules.CLOSED


def test_a_low_survey_proposes_a_complaint_prefilled_once(db, desk, as_role):
    site, _admin = desk
    patient = a_patient(site.id)
    as_role("customer_relations")
    response = followup.record_survey(
        "discharge", {"welcome": 1, "care": 2, "comfort": 2, "information": 2,
                      "recommend": False, "comment": "Très mal reçue, 2 h d'attente"},
        patient.id, "phone", site.id)
    assert response.score == 19
    assert quality.proposes_complaint(response)
    form = quality.form_from_survey(response.id)
    assert (form.source, form.category, form.severity, form.patient_id, form.site_id) == (
        "survey", "welcome", "major", patient.id, site.id)
    assert form.description == "Très mal reçue, 2 h d'attente"
    quality.record_case(form)
    assert not quality.proposes_complaint(response)  # recorded already
    good = followup.record_survey(
        "discharge", {"welcome": 5, "care": 5, "comfort": 4, "information": 5,
                      "recommend": True}, patient.id, "phone", site.id)
    assert not quality.proposes_complaint(good)
    # The pilot sets the threshold; a secretary cannot.
    with pytest.raises(PermissionDenied):
        quality.set_complaint_threshold(90)
    as_role("quality_copilot")
    quality.set_complaint_threshold(95)
    assert quality.proposes_complaint(good)


def test_periods_and_the_ones_before():
    may = rules.period_of(rules.MONTH, dt.date(2026, 5, 17))
    assert (may.start, may.end, may.days) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31), 31)
    assert rules.previous(may).start == dt.date(2026, 4, 1)
    quarter = rules.period_of(rules.QUARTER, dt.date(2026, 1, 3))
    assert (quarter.start, quarter.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert rules.previous(quarter) == rules.Period("quarter", dt.date(2025, 10, 1),
                                                   dt.date(2025, 12, 31))
    dates = rules.period_of(rules.DATES, dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert rules.previous(dates) == rules.Period("dates", dt.date(2026, 2, 19),
                                                 dt.date(2026, 2, 28))
    trend = rules.last_periods(rules.period_of(rules.YEAR, dt.date(2026, 6, 1)), 3)
    assert [p.start.year for p in trend] == [2024, 2025, 2026]
    with pytest.raises(ValueError):
        rules.period_of(rules.DATES, dt.date(2026, 3, 10), dt.date(2026, 3, 1))
    assert rules.category_from_answers({"welcome": 4, "waiting": 1, "recommend": False}) == \
        "waiting"


def test_an_actions_task_lost_in_a_crash_is_made_again_for_its_owner(db, as_role):
    pilot = as_role("quality_pilot")
    case = quality.record_case(quality.CaseForm(
        category="billing", description="Facture erronée", occurred_on=dt.date(2026, 12, 2)))
    action = quality.add_action(case.id, "Vérifier les factures du mois", pilot.id,
                                dt.date(2027, 1, 8))
    FollowUpTask.delete().execute()  # written by an older version, or lost
    assert followup.catch_up(dt.datetime(2026, 12, 7, 10, 0)) == 1
    task = FollowUpTask.get()
    assert (task.source_id, task.assignee_id, task.due_at) == (
        action.id, pilot.id, dt.datetime(2027, 1, 8, 18, 0))
