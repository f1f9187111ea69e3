"""Pregnancy dating and the pathway's milestones, on known dates."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nest_desktop.domain import pregnancy as p

D = dt.date


def test_naegele_and_the_french_convention():
    assert p.due_date_from_ddr(D(2026, 3, 1)) == D(2026, 12, 6)  # + 280 days
    assert p.ddr_from_due_date(D(2026, 12, 6)) == D(2026, 3, 1)
    # French: DDR + 14 days + 9 calendar months (41 SA + 2 here).
    assert p.due_date_from_ddr(D(2026, 3, 1), p.FRENCH) == D(2026, 12, 15)
    assert p.gestational_age(D(2026, 3, 1), D(2026, 12, 15)) == (41, 2)
    assert p.ddr_from_due_date(D(2026, 12, 15), p.FRENCH) == D(2026, 3, 1)
    # The end of a month is kept: 31 May + 9 months is the end of February.
    assert p.due_date_from_ddr(D(2026, 5, 17), p.FRENCH) == D(2027, 2, 28)


@given(st.dates(D(2000, 1, 1), D(2090, 1, 1)), st.sampled_from([p.NAEGELE, p.FRENCH]))
def test_the_ddr_found_from_a_due_date_gives_it_back(ddr, convention):
    dpa = p.due_date_from_ddr(ddr, convention)
    assert p.due_date_from_ddr(p.ddr_from_due_date(dpa, convention), convention) == dpa


def test_gestational_age_in_completed_weeks_and_days():
    assert p.gestational_age(D(2026, 3, 1), D(2026, 10, 15)) == (32, 4)
    assert p.format_sa(32, 4) == "32 SA + 4 j"
    assert p.gestational_age(D(2026, 3, 1), D(2026, 3, 1)) == (0, 0)
    assert p.date_at(D(2026, 3, 1), 36) == D(2026, 11, 8)
    assert p.ddr_from_conception(D(2026, 3, 15)) == D(2026, 3, 1)


def test_an_early_ultrasound_redates_beyond_the_acog_limit():
    # Scan on 1 June measuring 12 SA + 0 d: its DDR is 9 March.
    scan = D(2026, 6, 1)
    assert p.date_by_ultrasound(None, scan, 12, 0) == p.Dating(D(2026, 3, 9), "ultrasound")
    kept = p.date_by_ultrasound(D(2026, 3, 3), scan, 12, 0)  # 6 days apart: within 7
    assert kept == p.Dating(D(2026, 3, 3), "ddr", -6)
    moved = p.date_by_ultrasound(D(2026, 3, 1), scan, 12, 0)  # 8 days apart
    assert moved == p.Dating(D(2026, 3, 9), "ultrasound", -8)
    assert p.redating_limit_days(8 * 7 + 6) == 5 and p.redating_limit_days(30 * 7) == 21


def test_warnings_for_impossible_values():
    today = D(2026, 11, 23)

    def said(*args):
        return [(w.code, w.message, w.impossible) for w in p.warnings(*args)]

    assert said(D(2026, 5, 1), today, "F", D(1995, 1, 1)) == []
    assert said(D(2026, 12, 1), today) == [
        ("future", "La date des dernières règles est dans le futur.", True)]
    assert said(D(2025, 12, 1), today) == [
        ("over_44_weeks", "La date des dernières règles remonte à plus de 44 semaines.", True)]
    assert said(D(2026, 5, 1), today, "M")[0][0::2] == ("not_female", True)
    assert said(D(2026, 5, 1), today, "F", D(2019, 1, 1))[0][0::2] == ("young", False)
    assert "plus de 55\u00a0ans" in said(D(2026, 5, 1), today, "F", D(1960, 1, 1))[0][1]


def test_the_template_gives_each_milestone_its_dates_and_status():
    ddr, today = D(2026, 3, 1), D(2026, 10, 15)  # 32 SA + 4 j
    planned = {m.milestone.id: m for m in p.plan(ddr, today, {"ultrasound_1": D(2026, 5, 20)})}
    assert planned["ultrasound_1"].status == "done"
    assert planned["ultrasound_1"].done_on == D(2026, 5, 20)
    assert (planned["ultrasound_1"].start, planned["ultrasound_1"].end) == (
        D(2026, 5, 17), D(2026, 6, 6))  # 11 SA to 13 SA + 6 d
    assert planned["declaration"].status == "missed"
    assert planned["ultrasound_3"].status == "current"  # 30 to 35 SA
    assert planned["call_36_weeks"].status == "upcoming"
    assert planned["call_36_weeks"].milestone.follow_up == "call_36_weeks"
    assert planned["postnatal_consultation"].start is None  # no birth yet
    after = {m.milestone.id: m for m in p.plan(ddr, D(2026, 12, 20), birth=D(2026, 12, 1))}
    assert (after["postnatal_consultation"].start, after["postnatal_consultation"].end) == (
        D(2027, 1, 12), D(2027, 1, 26))
    ended = p.plan(ddr, today, ended=True)
    assert {m.status for m in ended} == {"cancelled"}


def test_a_broken_template_is_refused_with_its_reason():
    with pytest.raises(ValueError, match="ends before it starts"):
        p.parse_template({"milestones": [{"id": "a", "from": "12", "to": "11",
                                          "label": {"fr": "A"}}]})
    with pytest.raises(ValueError, match="missing or wrong"):
        p.parse_template({"milestones": [{"id": "a", "from": "x", "to": "11",
                                          "label": {"fr": "A"}}]})


def test_a_french_due_date_at_a_months_end_says_every_ddr_that_gives_it():
    # DDR + 14 days + 9 months: 14, 15, 16 and 17 May 2026 give 28, 29, 30, 31 May, and
    # 9 months later the end of February 2027 — worked by hand.
    assert p.ddrs_from_due_date(D(2027, 2, 28), p.FRENCH) == [
        D(2026, 5, 14), D(2026, 5, 15), D(2026, 5, 16), D(2026, 5, 17)]
    assert p.ddr_from_due_date(D(2027, 2, 28), p.FRENCH) == D(2026, 5, 14)
    assert p.ddrs_from_due_date(D(2027, 3, 1), p.FRENCH) == [D(2026, 5, 18)]
    assert p.ddrs_from_due_date(D(2027, 3, 1)) == [D(2026, 5, 25)]  # Naegele: one


def test_a_birth_closes_the_antenatal_milestones_and_is_on_the_calendar():
    ddr, born = D(2026, 3, 2), D(2026, 11, 20)  # born at 37 SA + 4 d
    plan = {m.milestone.id: m for m in p.plan(ddr, D(2026, 11, 25), done={
        "ultrasound_1": D(2026, 5, 28)}, birth=born)}
    assert plan["ultrasound_1"].status == "done"
    # Closed by the birth, its window passed (30 to 35 SA) or still open (36 to 40+6).
    assert plan["ultrasound_3"].status == plan["consultation_9"].status == "not_done"
    assert not [m for m in plan.values() if not m.milestone.after_birth
                and m.status in ("current", "upcoming")]
    birth = plan["term"]
    assert birth.milestone.birth and (birth.status, birth.done_on) == ("done", born)
    assert (birth.start, birth.end) == (born, born)
    # The post-natal consultation, 6 to 8 weeks after the birth, is to come.
    assert plan["postnatal_consultation"].status == "upcoming"
    assert plan["postnatal_consultation"].start == D(2027, 1, 1)
    # Before the birth, the birth's milestone is its window.
    before = {m.milestone.id: m for m in p.plan(ddr, D(2026, 11, 18))}
    assert before["term"].status == "current" and before["term"].start == D(2026, 11, 16)


def test_the_glucose_test_is_for_women_with_risk_factors():
    flagged = [m.id for m in p.template() if m.risk_factors_only]
    assert flagged == ["glucose_test"]


def test_the_milestone_state_answers_as_the_plan_every_day_until_it_says_to_recheck():
    """The stored next milestone decides the list of pregnancies without its plan: on every
    day it is valid, it must name what the plan names."""
    import random

    rng = random.Random(25)
    template = p.template()
    checked = 0
    for _pregnancy in range(300):
        computed_on = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 365))
        ddr = computed_on - dt.timedelta(days=rng.randint(-20, 300))
        done = {m.id: computed_on for m in template if rng.random() < 0.3}
        cancelled = {m.id for m in template if m.id not in done and rng.random() < 0.1}
        state = p.milestone_state(p.plan(ddr, computed_on, done, cancelled=cancelled),
                                  computed_on)
        day = computed_on
        while state.valid_on(day) and day < computed_on + dt.timedelta(days=400):
            nearest = p.next_milestone(p.plan(ddr, day, done, cancelled=cancelled))
            assert state.milestone == (nearest.milestone.id if nearest else "")
            assert state.starts_on == (nearest.start if nearest else None)
            checked += 1
            day += dt.timedelta(days=1)
        if state.recheck_on is not None:
            assert not state.valid_on(state.recheck_on)
    assert checked > 5000
