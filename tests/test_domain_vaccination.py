import datetime as dt
import json

import pytest

from nest_desktop.domain import vaccination as v
from nest_desktop.paths import RESOURCES_DIR

TODAY = dt.date(2026, 11, 23)


def by_key(doses):
    return {(d.vaccine, d.dose): d for d in doses}


def at_birth(birth, *args, **kwargs):
    """The calendar as planned on the day of birth: every dose on its day by the schedule."""
    return by_key(v.calendar(birth, *args, today=birth, **kwargs))


def test_born_after_july_2025_follows_the_hexavalent_schedule():
    doses = at_birth(dt.date(2025, 7, 1))
    assert doses[("BCG", 1)].due == dt.date(2025, 7, 1)
    assert doses[("HepB", 0)].due == dt.date(2025, 7, 1)
    assert doses[("VPO", 0)].due == dt.date(2025, 7, 1)
    assert doses[("Hexa", 1)].due == dt.date(2025, 8, 12)  # 6 weeks
    assert doses[("Hexa", 2)].due == dt.date(2025, 9, 9)  # 10 weeks
    assert doses[("Hexa", 3)].due == dt.date(2025, 10, 7)  # 14 weeks
    assert doses[("Rota", 2)].due == dt.date(2025, 9, 9)
    assert ("Rota", 3) not in doses
    assert doses[("RR", 1)].due == doses[("VAA", 1)].due == dt.date(2026, 4, 1)  # 9 months
    assert doses[("RR", 2)].due == dt.date(2026, 10, 1)  # 15 months
    assert doses[("Hexa", 4)].due == dt.date(2026, 10, 1)
    assert not any(d.vaccine in ("Penta", "VPI") for d in doses.values())


def test_born_before_july_2025_follows_the_pentavalent_schedule():
    doses = at_birth(dt.date(2025, 6, 30))
    assert doses[("Penta", 1)].due == dt.date(2025, 8, 11)
    assert doses[("VPI", 1)].due == dt.date(2025, 8, 11)
    assert doses[("VPI", 2)].due == dt.date(2025, 10, 6)  # 14 weeks
    assert not any(d.vaccine == "Hexa" for d in doses.values())


def test_calendar_months_end_of_month():
    doses = at_birth(dt.date(2025, 7, 31))
    assert doses[("RR", 1)].due == dt.date(2026, 4, 30)  # 9 months after 31 July
    born_may = by_key(v.calendar(dt.date(2027, 5, 31), today=TODAY))
    assert born_may[("RR", 1)].due == dt.date(2028, 2, 29)


def test_a_late_dose_moves_the_following_ones_by_their_minimum_interval():
    birth = dt.date(2026, 1, 5)
    on_time = at_birth(birth)
    late = by_key(v.calendar(birth, today=dt.date(2026, 4, 1),
                             given={("Hexa", 1): dt.date(2026, 4, 1),
                                    ("PCV", 1): dt.date(2026, 2, 16)}))
    assert on_time[("Hexa", 2)].due == dt.date(2026, 3, 16)
    assert late[("Hexa", 1)].status == v.GIVEN and late[("Hexa", 1)].given == dt.date(2026, 4, 1)
    assert late[("Hexa", 2)].due == dt.date(2026, 4, 29)  # 28 days after the late dose
    assert late[("Hexa", 3)].due == dt.date(2026, 5, 27)
    # Other vaccines keep their days by the schedule.
    assert late[("PCV", 2)].scheduled == on_time[("PCV", 2)].scheduled == dt.date(2026, 3, 16)


def test_statuses_given_due_overdue_upcoming_and_expired():
    birth = dt.date(2026, 9, 1)
    given = {("BCG", 1): birth, ("VPO", 0): birth}
    doses = by_key(v.calendar(birth, given=given, today=dt.date(2026, 10, 20)))
    assert doses[("BCG", 1)].status == v.GIVEN
    assert doses[("HepB", 0)].status == v.EXPIRED  # birth dose not given within 14 days
    assert doses[("Hexa", 1)].status == v.DUE  # due 13 October, within its 28-day window
    assert doses[("RR", 1)].status == v.UPCOMING
    later = by_key(v.calendar(birth, given=given, today=dt.date(2026, 11, 23)))
    assert later[("Hexa", 1)].status == v.OVERDUE
    assert later[("Hexa", 1)].scheduled == dt.date(2026, 10, 13)
    assert later[("Hexa", 1)].due == dt.date(2026, 11, 23)  # late: today, not in the past
    assert v.next_visit(list(later.values())) == dt.date(2026, 11, 23)
    # A given dose is never due again, even past its limit.
    old = by_key(v.calendar(birth, given={("HepB", 0): birth}, today=dt.date(2030, 1, 1)))
    assert old[("HepB", 0)].status == v.GIVEN


def test_hpv_is_for_girls_and_optional_vaccines_are_added_on_request():
    birth = dt.date(2017, 3, 1)
    boy = at_birth(birth, sex="M")
    girl = at_birth(birth, sex="F", optional=("Varicelle",))
    assert ("HPV", 1) not in boy and girl[("HPV", 1)].due == dt.date(2026, 3, 1)
    assert girl[("HPV", 2)].due == dt.date(2026, 8, 31)
    assert girl[("Varicelle", 2)].due == dt.date(2018, 9, 1)
    assert ("Varicelle", 1) not in boy


def test_french_schedule():
    doses = at_birth(dt.date(2026, 1, 15), "france")
    assert doses[("Hexa", 1)].due == dt.date(2026, 3, 15)
    assert doses[("MenB", 1)].due == dt.date(2026, 4, 15)
    assert doses[("ROR", 2)].due == dt.date(2027, 5, 15)
    with pytest.raises(ValueError):
        v.calendar(dt.date(2026, 1, 15), "nowhere")


def test_the_schedules_file_is_checked(tmp_path):
    data = json.loads((RESOURCES_DIR / "vaccination" / "schedules.json").read_text("utf-8"))
    del data["vaccines"]["BCG"]
    with pytest.raises(ValueError, match="BCG"):
        v.parse_schedules(data)
    assert v.vaccine_label("RR", "fr") == "Rougeole-rubéole (RR)"
    assert v.vaccine_label("RR", "en") == "Measles-rubella (MR)"


def test_a_child_seen_late_catches_up_from_today_never_in_the_past():
    """Born 15/07/2026, BCG only, seen on Sunday 29/11/2026 — worked by hand:
    Hexa 1 was due at 6 weeks (26/08) and is given today; Hexa 2 comes 28 days after today
    (27/12), not at 10 weeks (23/09); Hexa 3 28 days after that (24/01/2027); the booster at
    15 months (15/10/2027), which is later than Hexa 3 + 183 days (26/07/2027)."""
    birth, seen = dt.date(2026, 7, 15), dt.date(2026, 11, 29)
    doses = by_key(v.calendar(birth, given={("BCG", 1): birth}, today=seen))
    assert (doses[("Hexa", 1)].status, doses[("Hexa", 1)].scheduled) == (
        v.OVERDUE, dt.date(2026, 8, 26))
    assert [doses[("Hexa", n)].due for n in (1, 2, 3, 4)] == [
        dt.date(2026, 11, 29), dt.date(2026, 12, 27), dt.date(2027, 1, 24),
        dt.date(2027, 10, 15)]
    assert [doses[("Hexa", n)].status for n in (2, 3, 4)] == [v.UPCOMING] * 3
    assert [doses[("PCV", n)].due for n in (1, 2, 3)] == [
        dt.date(2026, 11, 29), dt.date(2026, 12, 27), dt.date(2027, 1, 24)]
    assert doses[("Rota", 2)].due == dt.date(2026, 12, 27)
    assert doses[("VPO", 0)].status == doses[("HepB", 0)].status == v.EXPIRED
    assert doses[("RR", 1)].due == dt.date(2027, 4, 15)  # 9 months: not moved
    # Nothing still to give is dated before the day she was seen.
    assert all(d.due >= seen for d in doses.values() if d.status not in (v.GIVEN, v.EXPIRED))
    # The next visit is today, with every dose late or due now, never one no longer given.
    assert v.next_visit(list(doses.values())) == seen
    assert sorted((d.vaccine, d.dose) for d in v.next_visit_doses(list(doses.values()))) == [
        ("Hexa", 1), ("PCV", 1), ("Rota", 1), ("VPO", 1)]


def test_a_booster_never_comes_before_the_series_it_completes():
    """Born 10/07/2025, no hexavalent dose at all, seen at 20 months on 10/03/2027: the
    booster (15 months, 10/10/2026) waits for Hexa 3 (05/05/2027) + 183 days: 04/11/2027."""
    birth, seen = dt.date(2025, 7, 10), dt.date(2027, 3, 10)
    doses = by_key(v.calendar(birth, today=seen))
    assert [doses[("Hexa", n)].due for n in (1, 2, 3, 4)] == [
        dt.date(2027, 3, 10), dt.date(2027, 4, 7), dt.date(2027, 5, 5), dt.date(2027, 11, 4)]
    assert doses[("Hexa", 4)].status == v.UPCOMING
    # Each day she is not seen moves the whole series on, never backwards.
    later = by_key(v.calendar(birth, today=seen + dt.timedelta(days=10)))
    assert later[("Hexa", 4)].due == dt.date(2027, 11, 14)


def test_a_late_dose_past_its_limit_is_no_longer_given_and_never_at_the_next_visit():
    birth = dt.date(2025, 7, 10)  # rotavirus is not given after 24 months
    doses = v.calendar(birth, today=dt.date(2027, 8, 1))
    rota = [d for d in doses if d.vaccine == "Rota"]
    assert [d.status for d in rota] == [v.EXPIRED, v.EXPIRED]
    # Shown at its day by the schedule, never as a dose to give today.
    assert [d.due for d in rota] == [dt.date(2025, 8, 21), dt.date(2025, 9, 18)]
    assert not any(d.vaccine == "Rota" for d in v.next_visit_doses(doses))


def listed_doses(doses, today, horizon):
    return [d for d in doses if d.status == v.OVERDUE
            or (d.status in (v.DUE, v.UPCOMING) and d.due <= horizon)]


def random_given(rng, birth, sex, today):
    """Doses as families bring them: on time, late, a series stopped, a dose from elsewhere
    after a missed one (a later dose given while an earlier one is not)."""
    given = {}
    delay = dt.timedelta(days=rng.choice([0, 3, 10, 40, 120]))
    stop = birth + dt.timedelta(days=rng.randint(0, 3000)) if rng.random() < 0.4 else None
    for dose in v.calendar(birth, sex=sex, today=birth):
        day = dose.scheduled + delay + dt.timedelta(days=rng.randint(0, 20))
        if day >= today or (stop and day > stop) or rng.random() < 0.08:
            continue
        if dose.limit and day > dose.limit:
            continue
        given[(dose.vaccine, dose.dose)] = day
    return given


def test_the_due_state_answers_as_the_calendar_every_day_until_it_says_to_recheck():
    """The stored state decides a child's place in the due lists without her calendar: on
    every day it is valid, it must say what the calendar says."""
    import random

    rng = random.Random(25)
    checked_days = 0
    for _child in range(400):
        computed_on = TODAY - dt.timedelta(days=rng.randint(0, 400))
        birth = computed_on - dt.timedelta(days=rng.randint(0, 16 * 365))
        sex = rng.choice("FM")
        given = random_given(rng, birth, sex, computed_on)
        state = v.due_state(v.calendar(birth, given=given, sex=sex, today=computed_on),
                            computed_on)
        last = state.recheck_on or computed_on + dt.timedelta(days=800)
        day = computed_on
        while day < last and day < computed_on + dt.timedelta(days=800):
            assert state.valid_on(day)
            doses = v.calendar(birth, given=given, sex=sex, today=day)
            for within in (0, 7, 30):
                horizon = day + dt.timedelta(days=within)
                shown = listed_doses(doses, day, horizon)
                assert state.listed(horizon) == bool(shown), (birth, given, day, within)
                reminder_days = {d.due for d in shown if d.status in (v.DUE, v.UPCOMING)
                                 and d.due == d.scheduled and not d.waits}
                # the SMS reminders' children: never one with a day to remind left out
                assert state.reminded(horizon) or not reminder_days, (birth, given, day)
                if reminder_days:  # a lower bound: a dose waiting for a late one moves on
                    assert state.next_reminder_on <= min(reminder_days)
                if shown:
                    assert state.first_due(day) == min(d.due for d in shown)
                    assert state.overdue(day) == any(d.status == v.OVERDUE for d in shown)
            checked_days += 1
            day += dt.timedelta(days=rng.choice([1, 3, 9, 30]))
        if state.recheck_on is not None:
            assert not state.valid_on(state.recheck_on)
    assert checked_days > 5000


def test_a_dose_counted_from_a_late_one_waits_and_moves_with_the_days():
    """Hexa 2 comes 28 days after Hexa 1: while Hexa 1 is late its day is 28 days after
    today, every day anew; no SMS names such a day. A dose whose age comes later keeps its
    own day."""
    birth = dt.date(2026, 9, 5)
    for today in (dt.date(2026, 11, 23), dt.date(2026, 11, 30)):
        doses = by_key(v.calendar(birth, today=today))
        assert doses[("Hexa", 1)].status == v.OVERDUE and not doses[("Hexa", 1)].waits
        assert doses[("Hexa", 2)].due == today + dt.timedelta(days=28)
        assert doses[("Hexa", 2)].waits
        assert not doses[("RR", 1)].waits  # at 9 months, long after: its own day
    on_time = by_key(v.calendar(birth, today=birth))
    assert not any(dose.waits for dose in on_time.values())
