"""Segments of patients without a pathway (PAT-04), their export and call campaigns."""

import csv
import datetime as dt

import pytest

from nest_desktop.db.models import AuditEntry, CampaignMember, FollowUpTask, Interaction
from nest_desktop.services import ValidationFailed, followup, segments
from nest_desktop.services import patients as patient_service
from nest_desktop.services.segments import SegmentFilter
from nest_desktop.services.session import PermissionDenied

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def clinic(family, desk):
    """Awa (mother of a baby, accepts SMS) and Ndèye (gynaecology for three years, three
    visits, accepts the newsletter)."""
    mother, child = family
    site, user = desk
    regular = patient_service.create_patient(patient_service.PatientForm(
        last_name="Faye", first_names="Ndèye", phones=["78 222 33 44"], site_id=site.id,
        pathway="gynaecology", newsletter_consent=True, birth_date="12/03/1985",
        first_visit_date="10/01/2023"))
    for days in (10, 200, 700):
        Interaction.create(patient=regular.id, user=user.id, channel="visit",
                           direction="incoming", subject="Consultation",
                           occurred_at=dt.datetime(2026, 11, 1) - dt.timedelta(days=days))
    return mother, child, regular


def ids(**criteria) -> list[int]:
    return segments.patient_ids(SegmentFilter(**criteria), TODAY)


def test_segments_by_pathway_children_loyalty_and_consent(clinic):
    mother, child, regular = clinic
    assert set(ids()) == {mother.id, regular.id}  # adults only: the baby is not written to
    assert set(ids(adults_only=False)) == {mother.id, child.id, regular.id}
    assert ids(pathway="gynaecology") == [regular.id]
    assert ids(child_age_band="0-2") == [mother.id]
    assert ids(child_age_band="2-6") == []
    assert ids(min_visits=3) == [regular.id]
    assert ids(min_visits=4) == []
    assert ids(min_years=3) == [regular.id]
    assert ids(consent="sms") == [mother.id]
    assert ids(consent="newsletter") == [regular.id]
    with pytest.raises(ValidationFailed) as refused:
        ids(min_years=-1)
    assert "min_years" in refused.value.errors
    assert SegmentFilter(consent="sms", child_age_band="0-2").describe() == (
        "adultes, Parents d’un enfant de moins de 2\u00a0ans, Accepte les SMS")


def test_the_export_is_for_excel_and_in_the_trail(clinic, tmp_path, as_role):
    path = tmp_path / "segment.csv"
    assert segments.export_csv(path, SegmentFilter(consent="newsletter"), today=TODAY) == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:3] == ["Nom", "Prénoms", "Téléphone"]
    assert rows[1][:3] == ["FAYE", "Ndèye", "78 222 33 44"] and rows[1][7] == "oui"
    assert AuditEntry.select().where(AuditEntry.action == "export").count() == 1
    as_role("secretary")
    with pytest.raises(PermissionDenied):
        segments.export_csv(path, SegmentFilter(), today=TODAY)


def test_a_campaign_puts_a_call_for_each_patient_in_today(clinic, as_role):
    mother, _child, regular = clinic
    with pytest.raises(ValidationFailed) as refused:
        segments.create_campaign("  ", "offer", SegmentFilter(), today=TODAY)
    assert "name" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        segments.create_campaign("Journée portes ouvertes", "event",
                                 SegmentFilter(min_visits=40), today=TODAY)
    assert "segment" in refused.value.errors
    campaign = segments.create_campaign("Journée portes ouvertes", "event", SegmentFilter(),
                                        today=TODAY)
    assert CampaignMember.select().where(CampaignMember.campaign == campaign.id).count() == 2
    tasks = list(FollowUpTask.select().where(FollowUpTask.rule == "campaign_call"))
    assert {t.patient_id for t in tasks} == {mother.id, regular.id}
    assert all(t.status == "open" and (t.due_at - t.event_at).days == 14 for t in tasks)
    assert AuditEntry.select().where(AuditEntry.table == "follow_up_task").count() == 2
    [row] = segments.campaigns()
    assert (row.name, row.members, row.open_tasks) == ("Journée portes ouvertes", 2, 2)
    sheet = followup.call_sheet(tasks[0].id, "Clémence", "Clinique Nest Mermoz")
    assert sheet.script[1] == "Nous vous appelons au sujet de\u00a0: Journée portes ouvertes."
    followup.record_attempt(tasks[0].id, followup.REACHED, "Adresse mise à jour")
    assert segments.campaigns()[0].open_tasks == 1
    as_role("secretary")
    with pytest.raises(PermissionDenied, match="relation client"):
        segments.create_campaign("Offre", "offer", SegmentFilter(), today=TODAY)
