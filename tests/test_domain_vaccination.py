import datetime as dt
import json

import pytest

from nest_desktop.domain import vaccination as v
from nest_desktop.paths import RESOURCES_DIR

TODAY = dt.date(2026, 11, 23)


def by_key(doses):
    return {(d.vaccine, d.dose): d for d in doses}


def test_born_after_july_2025_follows_the_hexavalent_schedule():
    doses = by_key(v.calendar(dt.date(2025, 7, 1), today=TODAY))
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
    doses = by_key(v.calendar(dt.date(2025, 6, 30), today=TODAY))
    assert doses[("Penta", 1)].due == dt.date(2025, 8, 11)
    assert doses[("VPI", 1)].due == dt.date(2025, 8, 11)
    assert doses[("VPI", 2)].due == dt.date(2025, 10, 6)  # 14 weeks
    assert not any(d.vaccine == "Hexa" for d in doses.values())


def test_calendar_months_end_of_month():
    doses = by_key(v.calendar(dt.date(2025, 7, 31), today=TODAY))
    assert doses[("RR", 1)].due == dt.date(2026, 4, 30)  # 9 months after 31 July
    born_may = by_key(v.calendar(dt.date(2027, 5, 31), today=TODAY))
    assert born_may[("RR", 1)].due == dt.date(2028, 2, 29)


def test_a_late_dose_moves_the_following_ones_by_their_minimum_interval():
    birth = dt.date(2026, 1, 5)
    on_time = by_key(v.calendar(birth, today=TODAY))
    late = by_key(v.calendar(birth, today=TODAY, given={("Hexa", 1): dt.date(2026, 4, 1)}))
    assert on_time[("Hexa", 2)].due == dt.date(2026, 3, 16)
    assert late[("Hexa", 1)].status == v.GIVEN and late[("Hexa", 1)].given == dt.date(2026, 4, 1)
    assert late[("Hexa", 2)].due == dt.date(2026, 4, 29)  # 28 days after the late dose
    assert late[("Hexa", 3)].due == dt.date(2026, 5, 27)
    assert late[("PCV", 2)].due == on_time[("PCV", 2)].due  # other vaccines keep their dates


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
    assert v.next_visit(list(later.values())) == dt.date(2026, 10, 13)
    # A given dose is never due again, even past its limit.
    old = by_key(v.calendar(birth, given={("HepB", 0): birth}, today=dt.date(2030, 1, 1)))
    assert old[("HepB", 0)].status == v.GIVEN


def test_hpv_is_for_girls_and_optional_vaccines_are_added_on_request():
    birth = dt.date(2017, 3, 1)
    boy = by_key(v.calendar(birth, sex="M", today=TODAY))
    girl = by_key(v.calendar(birth, sex="F", today=TODAY, optional=("Varicelle",)))
    assert ("HPV", 1) not in boy and girl[("HPV", 1)].due == dt.date(2026, 3, 1)
    assert girl[("HPV", 2)].due == dt.date(2026, 8, 31)
    assert girl[("Varicelle", 2)].due == dt.date(2018, 9, 1)
    assert ("Varicelle", 1) not in boy


def test_french_schedule():
    doses = by_key(v.calendar(dt.date(2026, 1, 15), "france", today=TODAY))
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
