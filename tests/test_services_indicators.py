"""The quality indicators on a clinic built here, every number counted by hand."""

import datetime as dt
import itertools

import pytest

from nest_desktop.db.models import (
    Appointment,
    ChildDueState,
    FollowUpTask,
    Patient,
    Prospect,
    Site,
    SmsMessage,
)
from nest_desktop.domain import quality as rules
from nest_desktop.services import (
    ValidationFailed,
    followup,
    indicators,
    quality,
    reception,
    session,
)
from nest_desktop.services.session import PermissionDenied
from tests.conftest import PASSWORD

pytestmark = pytest.mark.clock("2026-12-07 10:00")
NOVEMBER = rules.period_of(rules.MONTH, dt.date(2026, 11, 1))
NOW = dt.datetime(2026, 12, 7, 10, 0)
_keys = itertools.count(1)


def at(day, hour=10, minute=0, month=11):
    return dt.datetime(2026, month, day, hour, minute)


def task(rule, due, closed=None, status=None, site=None, closed_by=None, outcome="reached"):
    status = status or ("done" if closed else "open")
    return FollowUpTask.create(
        key=f"test:{next(_keys)}", rule=rule, source_table="test", source_id=next(_keys),
        event_at=due - dt.timedelta(days=3), opens_at=due - dt.timedelta(days=3), due_at=due,
        site=site, assignee_role="customer_relations", status=status,
        outcome=outcome if status == "done" else "", closed_at=closed, closed_by=closed_by)


@pytest.fixture
def clinic(desk, as_role):
    """November 2026 at two sites, as the desk lived it."""
    mermoz, admin = desk
    almadies = Site.create(name="Clinique Nest Almadies")
    awa = as_role("customer_relations")
    built = {"mermoz": mermoz, "almadies": almadies, "awa": awa, "admin": admin}
    # 72-hour calls due in November: 3 on time at Mermoz (2 by Awa), 1 late, 1 still open,
    # 1 cancelled (not counted), 1 on time at Almadies; and one late in October.
    on_time = [task("satisfaction_72h", at(d, 18), at(d, 11), site=mermoz.id,
                    closed_by=awa.id if d < 10 else admin.id) for d in (3, 5, 12)]
    built["late"] = task("satisfaction_72h", at(14, 18), at(16, 9), site=mermoz.id,
                         closed_by=admin.id)
    built["open"] = task("satisfaction_72h", at(20, 18), site=mermoz.id)
    task("satisfaction_72h", at(21, 18), at(21, 9), status="cancelled", site=mermoz.id)
    on_time.append(task("satisfaction_72h", at(25, 18), at(25, 9), site=almadies.id))
    task("satisfaction_72h", at(20, 18, month=10), at(22, 9, month=10), site=mermoz.id)
    # A 72-hour call due in December, not yet: not counted in December's either until due.
    task("satisfaction_72h", dt.datetime(2026, 12, 9, 18), site=mermoz.id)
    built["on_time"] = on_time
    # Two of the calls answered their survey (scored 100 and 50), and a paper one (20).
    followup.record_survey("satisfaction_72h", {"welcome": 5, "waiting": 5, "consultation": 5,
                                                "recommend": True, "comment": "Parfait"},
                           None, "phone", mermoz.id, on_time[0].id, at(3, 11))
    followup.record_survey("satisfaction_72h", {"welcome": 3, "waiting": 3, "consultation": 3,
                                                "recommend": True}, None, "phone", mermoz.id,
                           on_time[1].id, at(5, 11))
    followup.record_survey("discharge", {"welcome": 1, "care": 2, "comfort": 2,
                                         "information": 2, "recommend": False,
                                         "comment": "Deux heures d'attente"},
                           None, "paper", almadies.id, None, at(26, 15))
    # The phone: 8 incoming calls at Mermoz taken by Awa; 2 lost (one number known).
    for minute, outcome, hold, phone in ((0, "answered", 0, "77 100 00 01"),
                                         (10, "answered", 30, "77 100 00 02"),
                                         (20, "answered", 0, ""),
                                         (30, "answered", 90, "77 100 00 03"),
                                         (40, "call_back_later", 0, "77 100 00 04"),
                                         (50, "message", 0, "77 100 00 05"),
                                         (55, "lost", 0, "77 100 00 06"),
                                         (58, "lost", 0, "")):
        started = at(16, 9, minute)
        reception.record_call(reception.CallForm(
            started_at=started, ended_at=started + dt.timedelta(minutes=1, seconds=40),
            phone=phone, reason="information", outcome=outcome, hold_seconds=hold,
            summary="Rappeler pour les tarifs" if outcome == "call_back_later" else "",
            site_id=mermoz.id), when=started + dt.timedelta(minutes=2))
    # Appointments: 3 attended, 1 missed, 1 cancelled; 2 reminded, 1 reminder failed.
    appointments = [Appointment.create(site=mermoz.id, starts_at=at(d, 9), status=status,
                                       booked_by=admin.id)
                    for d, status in ((2, "attended"), (4, "attended"), (6, "attended"),
                                      (9, "missed"), (10, "cancelled"))]
    for appointment, state in zip(appointments[:3], ("sent", "delivered", "failed"),
                                  strict=True):
        SmsMessage.create(key=f"a:{appointment.id}", kind="appointment",
                          source_table="appointment", source_id=appointment.id,
                          event_at=appointment.starts_at, phone="+221771000001",
                          site=mermoz.id, scheduled_at=appointment.starts_at,
                          next_attempt_at=appointment.starts_at, state=state)
    # Prospects recorded in November: 4, one converted after 10 days (owner Awa).
    for day, converted in ((3, True), (8, False), (15, False), (22, False)):
        Prospect.create(last_name="Prospect", first_names=str(day), sort_key=f"p {day}",
                        site=mermoz.id, channel="phone", qualification="quote",
                        owner=awa.id, status="converted" if converted else "answered",
                        created_at=at(day, 9),
                        converted_at=at(day + 10, 9) if converted else None)
    # Children aged 12-23 months on 30 November: 3, one overdue; one of 2 years, up to date.
    for name, birth, overdue_from in (("A", dt.date(2025, 6, 1), None),
                                      ("B", dt.date(2025, 2, 1), dt.date(2026, 10, 1)),
                                      ("C", dt.date(2025, 11, 30), None),
                                      ("D", dt.date(2024, 6, 1), None)):
        child = Patient.create(last_name="Enfant", first_names=name, sort_key=name, sex="F",
                               birth_date=birth, site=mermoz.id)
        ChildDueState.create(patient=child.id, site=mermoz.id, birth_date=birth,
                             sort_name=name, computed_on=NOW.date(), overdue_from=overdue_from)
    # A complaint in November, closed in December by the pilot.
    session.login("clemence", PASSWORD)
    case = quality.record_case(quality.CaseForm(
        category="waiting", description="Attente", occurred_on=dt.date(2026, 11, 26),
        site_id=almadies.id))
    form = quality.detail(case.id).form
    form.cause, form.immediate_action = "Sous-effectif", "Excuses"
    case = quality.update_case(case.id, case.version, form)
    quality.check_effectiveness(case.id, case.version, "Plus de plainte", True)
    return built


def test_every_indicator_counts_what_the_clinic_did(clinic):
    values = indicators.compute(indicators.Scope(NOVEMBER), NOW)
    on_time = values["on_time.satisfaction_72h"]
    assert (on_time.base, on_time.parts) == (6, {"on_time": 4, "late": 1, "open": 1})
    assert on_time.value == pytest.approx(100 * 4 / 6)
    assert values["surveys.response_rate"].value == pytest.approx(100 * 2 / 6)
    assert values["surveys.mean_score"].value == pytest.approx((100 + 50 + 19) / 3)
    assert values["surveys.recommend"].value == pytest.approx(100 * 2 / 3)
    assert values["surveys.remarks"].value == 2
    assert values["phone.calls"].value == 8
    assert values["phone.lost"].value == pytest.approx(25.0)
    assert values["phone.answered"].value == pytest.approx(50.0)
    assert values["phone.hold_median"].value == 60  # of 30 s and 90 s
    busiest = values["phone.busiest_hour"]
    assert (busiest.value, busiest.parts) == (9, {"09": 8})  # all eight between 9 and 10
    assert values["phone.hold_over_minute"].value == pytest.approx(50.0)
    # The call to call back later and the lost line with a number: dealt with by the
    # closing time? Not at all (still open).
    same_day = values["phone.same_day"]
    assert (same_day.base, same_day.parts) == (2, {"on_time": 0, "late": 0, "open": 2})
    assert values["appointments.attended"].value == 3
    assert values["appointments.no_show"].value == pytest.approx(25.0)
    assert values["appointments.cancelled"].value == 1
    assert values["appointments.reminded"].value == pytest.approx(50.0)
    assert values["appointments.sms_failed"].value == 1
    assert values["prospects.conversion"].value == pytest.approx(25.0)
    assert values["prospects.days_to_convert"].value == 10
    assert values["children.up_to_date_12"].value == pytest.approx(100 * 2 / 3)
    assert values["children.up_to_date_24"].value == pytest.approx(100.0)
    assert values["children.overdue"].value == 1
    assert values["complaints.recorded"].value == 1
    assert values["complaints.closed"].value == pytest.approx(100.0)
    assert values["children.call_36_made"].value is None  # none fell due: nothing to count


def test_one_site_one_secretary_the_previous_period_and_the_targets(clinic):
    mermoz, awa = clinic["mermoz"], clinic["awa"]
    at_mermoz = indicators.compute(indicators.Scope(NOVEMBER, site_id=mermoz.id), NOW)
    assert at_mermoz["on_time.satisfaction_72h"].parts == {"on_time": 3, "late": 1, "open": 1}
    assert at_mermoz["surveys.mean_score"].value == 75
    awa_only = indicators.compute(indicators.Scope(NOVEMBER, user_id=awa.id), NOW)
    assert awa_only["on_time.satisfaction_72h"].parts == {"on_time": 2, "late": 0, "open": 0}
    assert awa_only["phone.calls"].value == 8
    assert "surveys.mean_score" not in awa_only  # not a secretary's figure
    rows = {row.indicator.key: row for row in indicators.table(indicators.Scope(NOVEMBER),
                                                                NOW)}
    row = rows["on_time.satisfaction_72h"]
    assert row.label == "Appel de satisfaction (72\u00a0h)\u00a0: fait à temps"
    assert row.previous.value == 0.0 and row.previous.parts["late"] == 1  # October
    assert (row.target, row.met) == (90.0, False)
    assert rows["phone.lost"].met is False and rows["phone.hold_median"].met is False
    indicators.set_target("on_time.satisfaction_72h", 60)
    with pytest.raises(ValidationFailed):
        indicators.set_target("phone.lost", 120)
    rows = {row.indicator.key: row for row in indicators.table(indicators.Scope(NOVEMBER),
                                                                NOW)}
    assert rows["on_time.satisfaction_72h"].met is True
    trend = indicators.trend(indicators.Scope(NOVEMBER), 3, NOW)
    assert [period.start.month for period, _v in trend] == [9, 10, 11]
    assert [v["on_time.satisfaction_72h"].parts["late"] for _p, v in trend] == [0, 1, 1]


def test_each_number_drills_down_to_its_records(clinic):
    scope = indicators.Scope(NOVEMBER)
    late = indicators.drill("on_time.satisfaction_72h", "late", scope, NOW)
    assert (late.kind, late.ids) == ("task", [clinic["late"].id])
    still_open = indicators.drill("on_time.satisfaction_72h", "open", scope, NOW)
    assert still_open.ids == [clinic["open"].id]
    every = indicators.drill("on_time.satisfaction_72h", "all", scope, NOW)
    assert len(every.ids) == 6
    rows = indicators.drill_rows(late.kind, late.ids)
    assert "fait le 16/11/2026 09:00" in rows[0].detail
    lost = indicators.drill("phone.lost", "all", scope, NOW)
    assert lost.kind == "call" and len(lost.ids) == 2
    assert indicators.drill_rows("call", lost.ids)[0].detail.startswith(
        "Elle a raccroché / ligne coupée")
    children = indicators.drill("children.up_to_date_12", "late", scope, NOW)
    assert [row.person for row in indicators.drill_rows("child", children.ids)] == ["B"]
    for indicator in rules.INDICATORS:  # every one drills
        for part in indicators.parts_of(indicator.key):
            found = indicators.drill(indicator.key, part, scope, NOW)
            assert len(indicators.drill_rows(found.kind, found.ids)) == len(found.ids)


def test_a_lost_line_with_a_number_is_called_back_the_same_day(clinic):
    from nest_desktop.db.models import CallRecord

    same_day = list(FollowUpTask.select().where(FollowUpTask.rule == "same_day"))
    assert len(same_day) == 2  # the call to call back later, and the lost line with a number
    evening = reception.end_of_day(clinic["mermoz"].id, dt.date(2026, 11, 16))
    lost = CallRecord.get((CallRecord.outcome == "lost") & (CallRecord.phone != ""))
    assert lost.id in [row.id for row in evening.open_calls]
    assert len(evening.open_calls) == 2
    reception.resolve_call(lost.id, "Rappelée, rendez-vous donné")
    assert FollowUpTask.get((FollowUpTask.source_id == lost.id)
                            & (FollowUpTask.rule == "same_day")).status == "done"


def test_a_secretary_cannot_set_the_targets(clinic, as_role):
    as_role("secretary")
    with pytest.raises(PermissionDenied):
        indicators.set_target("phone.lost", 3)


def test_the_management_review_pdf_reads_back_its_figures(clinic, tmp_path):
    from nest_desktop.services import management_review, settings
    from tests.test_paper import outside_printable_area, pages_of

    name, pdf = management_review.review_pdf(indicators.Scope(NOVEMBER), NOW)
    assert name == "Revue de direction — 2026-11.pdf"
    pages = pages_of(pdf, tmp_path)
    words = " ".join(page["text"] for page in pages)
    for expected in ("Revue de direction", "du 01/11/2026 au 30/11/2026",
                     "tous les sites", "Appel de satisfaction", "67 %", "sur 6",
                     "retard,", "encore", "Non atteint", "25 %",
                     "Deux heures d’attente", "Parfait", "Attente", "Clôturée",
                     "première revue de direction"):
        assert expected in words, expected
    assert all(outside_printable_area(page) == [] for page in pages)
    assert settings.get(management_review.LAST_REVIEW_KEY)["on"] == "2026-12-07"
    # The next review, a month later, says what changed since this one.
    _name, pdf = management_review.review_pdf(
        indicators.Scope(rules.period_of(rules.MONTH, dt.date(2026, 12, 1))),
        dt.datetime(2027, 1, 8, 9, 0))
    words = " ".join(page["text"] for page in pages_of(pdf, tmp_path))
    assert "Depuis la dernière revue (07/12/2026)" in words


def test_the_figures_go_to_csv_for_excel_with_their_trend(clinic, tmp_path):
    path = tmp_path / "indicateurs.csv"
    written = indicators.export_csv(path, indicators.Scope(NOVEMBER), NOW)
    assert written == len(rules.INDICATORS)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:5] == ["Objet", "Indicateur", "Unité", "Valeur", "Sur"]
    assert header[-6:] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    [row] = [line.split(";") for line in lines if "Appel de satisfaction" in line]
    assert row[3:8] == ["66,7", "6", "4", "1", "1"] and row[-2:] == ["0", "66,7"]
