"""The states the lists keep (each child's doses due, each pregnancy's next milestone) give
the same lists as computing every calendar and plan, on any day, and every writer keeps
them: checked on a demo clinic whose days pass, and through each way a record changes."""

import datetime as dt

import pytest

from nest_desktop.domain import clock
from nest_desktop.services import kept_state, settings
from nest_desktop.services import pregnancy as pregnancy_service
from nest_desktop.services import vaccination as vaccination_service

START = dt.date(2026, 11, 23)


def computed_everything(key):
    """The lists as computed without the kept states (their fingerprint put aside)."""
    class Computed:
        def __enter__(self):
            self.kept = settings.get(key)
            settings.record_state(key, "")

        def __exit__(self, *_exc):
            settings.record_state(key, self.kept)
    return Computed()


def due_lists(today, site_id):
    return {within: [(row.patient_id, row.doses, row.contact_phone, row.overdue)
                     for row in vaccination_service.due_list(within, site_id, today)]
            for within in (0, 7, 30)}


def pregnancies(today, site_id):
    return [pregnancy_service.ongoing(site_id, today=today),
            pregnancy_service.ongoing(site_id, 20, 30, today=today)]


@pytest.mark.clock("2026-11-23 08:00")
def test_the_kept_states_give_the_computed_lists_as_the_days_pass(db, desk):
    from nest_desktop.services import demo

    demo.generate(400)
    assert kept_state.differences() == {"children_due": [], "pregnancy_milestones": []}
    site_id = desk[0].id
    listed = 0
    for days, pass_runs in ((0, False), (1, False), (6, True), (45, False), (45, True),
                            (200, False), (400, True)):
        today = START + dt.timedelta(days=days)
        clock.set_now(dt.datetime.combine(today, dt.time(8)))
        if pass_runs:  # the engine's pass brings what time made stale up to date
            kept_state.refresh_stale()
            assert kept_state.differences() == {"children_due": [],
                                                "pregnancy_milestones": []}
        for site in (None, site_id):
            kept_lists = due_lists(today, site)
            with computed_everything(vaccination_service.STATE_KEY):
                assert due_lists(today, site) == kept_lists, (days, site)
            kept_pregnancies = pregnancies(today, site)
            with computed_everything(pregnancy_service.MILESTONE_STATE_KEY):
                assert pregnancies(today, site) == kept_pregnancies, (days, site)
            listed += len(kept_lists[7]) + len(kept_pregnancies[0])
        due = vaccination_service.due_children(7, today=today)
        assert len(due.ids) == len(kept_lists[7]) if site_id is None else True
    assert listed > 200  # the clinic had children and pregnancies to list


@pytest.mark.clock("2026-11-23 08:00")
def test_the_order_and_counts_of_the_due_children_are_those_of_the_rows(db, desk):
    from nest_desktop.services import demo

    demo.generate(300)
    due = vaccination_service.due_children(30)
    rows = vaccination_service.due_list(30)
    assert list(due.ids) == [row.patient_id for row in rows]
    assert due.overdue == sum(row.overdue for row in rows) > 0
    page = vaccination_service.due_rows(due.ids[:5], 30)
    assert [page[patient_id] for patient_id in due.ids[:5]] == rows[:5]


@pytest.mark.clock("2026-11-23 08:00")
def test_every_writer_keeps_the_states(db, desk, family):
    from nest_desktop.services import patients

    mother, child = family
    site_id = desk[0].id

    def nothing_differs():
        assert kept_state.differences() == {"children_due": [], "pregnancy_milestones": []}

    kept_state.rebuild()
    nothing_differs()
    # a child's doses, plan and file
    visit = vaccination_service.GivenDose("Hexa", 1), vaccination_service.GivenDose("PCV", 1)
    records = vaccination_service.record_visit(child.id, list(visit), "20/11/2026")
    nothing_differs()
    vaccination_service.remove_dose(records[0].id)
    nothing_differs()
    vaccination_service.set_plan(child.id, "france", ("Varicelle",))
    nothing_differs()
    form = patients.form_of(patients.get_patient(child.id))
    form.birth_date = "05/03/2026"
    patients.update_patient(child.id, patients.get_patient(child.id).version, form)
    nothing_differs()
    form.first_names = "Moussa Junior"  # the lists read her name from her kept state
    patients.update_patient(child.id, patients.get_patient(child.id).version, form)
    nothing_differs()
    assert "Moussa Junior Fall" in [row.child_name for row in
                                    vaccination_service.due_list(400)]
    baby = patients.create_patient(patients.PatientForm(
        last_name="Fall", first_names="Awa", sex="F", birth_date="01/11/2026",
        pathway="paediatrics", site_id=site_id))
    nothing_differs()
    assert baby.id in vaccination_service.due_children(30).ids
    # a pregnancy's dating and milestones
    pregnancy, _notes = pregnancy_service.save_pregnancy(
        mother.id, pregnancy_service.PregnancyForm(ddr="01/06/2026"))
    nothing_differs()
    pregnancy_service.save_pregnancy(mother.id, pregnancy_service.PregnancyForm(
        ddr="20/06/2026"), pregnancy_service.ongoing_of(mother.id).version)
    nothing_differs()
    [row] = pregnancy_service.ongoing()
    pregnancy_service.set_milestone(pregnancy.id, row_milestone_id(row), "done",
                                    dt.date(2026, 11, 20))
    nothing_differs()
    assert pregnancy_service.ongoing()[0].next_milestone != row.next_milestone
    pregnancy_service.end_pregnancy(pregnancy.id, "miscarriage", dt.date(2026, 11, 22))
    nothing_differs()
    assert pregnancy_service.ongoing() == []


def row_milestone_id(row) -> str:
    from nest_desktop.domain import pregnancy as rules

    return next(m.id for m in rules.template()
                if pregnancy_service.milestone_label(m, "fr") == row.next_milestone)


@pytest.mark.clock("2026-11-23 08:00")
def test_a_changed_schedule_is_computed_until_the_pass_rebuilds(db, desk, family, monkeypatch):
    from nest_desktop.domain import vaccination as rules

    _mother, child = family
    kept_state.rebuild()
    before = vaccination_service.due_list(30)
    monkeypatch.setattr(rules, "DUE_STATE_VERSION", "changed")
    assert kept_state.differences()["children_due"] == []  # the values themselves still hold
    assert vaccination_service.due_list(30) == before  # computed, not read
    assert kept_state.refresh_stale() >= 1  # rebuilt with the new fingerprint
    assert settings.get(vaccination_service.STATE_KEY) == rules.due_state_fingerprint()


@pytest.mark.clock("2026-11-23 08:00")
def test_the_rebuild_command_finds_and_mends_a_wrong_state(db, family, capsys):
    from nest_desktop.app import rebuild_state_command
    from nest_desktop.db.connection import open_database
    from nest_desktop.db.models import ChildDueState, database

    _mother, child = family
    kept_state.rebuild()
    url = database_url()
    ChildDueState.update(next_scheduled=dt.date(2040, 1, 1)).where(
        ChildDueState.patient == child.id).execute()
    assert rebuild_state_command(["--check", "--database", url]) == 1
    assert f"children_due: 1 differ from the computation ({child.id})" in capsys.readouterr().out
    assert rebuild_state_command(["--database", url]) == 0
    out = capsys.readouterr().out
    assert "children_due: 0 differ" in out and "pregnancy_milestones: 0 differ" in out
    open_database(url)  # the command closed it
    assert database.is_closed() is False


def database_url() -> str:
    from nest_desktop.db.connection import sqlite_path
    from nest_desktop.db.models import database

    path = sqlite_path(database.obj)
    if path is not None:
        return f"sqlite:///{path}"
    from tests.conftest import SERVER_URL

    return SERVER_URL
