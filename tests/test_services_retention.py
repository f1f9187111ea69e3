"""Records kept for their retention period, then purged only by an administrator's
explicit, audited action; the audit trail still verifies after its oldest part went."""

import datetime as dt
import json

import pytest

from nest_desktop.db.models import AuditEntry, CallRecord, SmsMessage, SurveyResponse
from nest_desktop.services import ValidationFailed, audit, followup, reception, retention
from nest_desktop.services.session import PermissionDenied
from tests.conftest import PASSWORD

pytestmark = pytest.mark.clock("2026-12-07 10:00")


def call_on(application_clock, day: dt.datetime) -> CallRecord:
    application_clock.set_now(day)
    return reception.record_call(reception.CallForm(
        started_at=day, ended_at=day + dt.timedelta(minutes=2), phone="77 100 00 01",
        reason="information", outcome="answered", site_id=None))


def test_the_records_age_and_an_administrators_purge(desk, as_role, application_clock):
    old = call_on(application_clock, dt.datetime(2022, 3, 1, 9, 0))
    recent = call_on(application_clock, dt.datetime(2025, 6, 1, 9, 0))
    application_clock.set_now(dt.datetime(2020, 5, 1, 9, 0))
    followup.record_survey("satisfaction_72h", {"welcome": 5, "waiting": 5,
                                                "consultation": 5, "recommend": True},
                           None, "phone", None)
    day = dt.datetime(2023, 1, 1)
    for key, state in (("old", "delivered"), ("waiting", "scheduled")):
        SmsMessage.create(key=key, kind="other", phone="+221771000001", scheduled_at=day,
                          next_attempt_at=day, state=state, created_at=day)
    application_clock.set_now(dt.datetime(2026, 12, 7, 10, 0))
    ages = {age.kind: age for age in retention.ages()}
    assert (ages["calls"].records, ages["calls"].past_retention) == (2, 1)  # 3 years
    assert ages["calls"].oldest == dt.date(2022, 3, 1)
    assert ages["calls"].cutoff == dt.datetime(2023, 12, 7)
    assert (ages["surveys"].records, ages["surveys"].past_retention) == (1, 1)  # 5 years
    assert ages["sms"].past_retention == 1  # the one still to send stays, whatever its age
    assert ages["audit"].past_retention == 0  # kept 10 years: the oldest is of 2020
    # Nothing goes by itself, nor by anyone but an administrator.
    as_role("quality_pilot")
    with pytest.raises(PermissionDenied):
        retention.purge("calls")
    with pytest.raises(PermissionDenied):
        retention.set_policies({"calls": 1})
    from nest_desktop.services import session

    session.login("clemence", PASSWORD)
    with pytest.raises(ValidationFailed) as refused:
        retention.set_policies({"calls": 0})
    assert "calls" in refused.value.errors
    assert retention.purge("calls") == 1
    assert [c.id for c in CallRecord.select()] == [recent.id]
    assert retention.purge("sms") == 1
    assert [m.key for m in SmsMessage.select()] == ["waiting"]
    entry = AuditEntry.select().where(AuditEntry.action == "purge").order_by(
        AuditEntry.id.desc()).first()
    assert json.loads(entry.details) == {"kind": "sms", "before": "2024-12-07", "removed": 1,
                                         "years": 2}
    assert entry.user_id == desk[1].id
    assert old.id not in [c.id for c in CallRecord.select()]
    assert SurveyResponse.select().count() == 1  # not asked for: kept


def test_the_audit_trail_verifies_after_its_oldest_part_is_purged(empty_db,
                                                                   application_clock):
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import session

    application_clock.set_now(dt.datetime(2014, 3, 1, 8, 0))  # the clinic's first year
    desk_service.create_first_site_and_user(
        desk_service.SiteForm("Clinique Nest Mermoz", "33 860 10 10", "Mermoz, Dakar"),
        desk_service.UserForm("Clémence Diatta", "Clémence", "administrator", None,
                              "clemence", PASSWORD, PASSWORD))
    session.login("clemence", PASSWORD)
    call_on(application_clock, dt.datetime(2014, 3, 1, 9, 0))
    call_on(application_clock, dt.datetime(2015, 3, 1, 9, 0))
    kept = call_on(application_clock, dt.datetime(2025, 3, 1, 9, 0))
    application_clock.set_now(dt.datetime(2026, 12, 7, 10, 0))
    before = AuditEntry.select().count()
    assert audit.verify().broken_at is None
    removed = retention.purge("audit")
    assert removed >= 4  # her account's, her login's and the two old calls' entries
    assert not AuditEntry.select().where(AuditEntry.at < dt.datetime(2016, 12, 7)).exists()
    assert AuditEntry.select().count() == before - removed + 1  # the purge's own entry
    assert AuditEntry.select().where(AuditEntry.record_id == kept.id).exists()
    report = audit.verify()
    assert report.broken_at is None and report.checked == AuditEntry.select().count()
    # An entry removed afterwards by hand is still found.
    AuditEntry.delete().where(AuditEntry.id == AuditEntry.select(AuditEntry.id).order_by(
        AuditEntry.id).limit(1).scalar()).execute()
    assert audit.verify().problem == "missing_before"
