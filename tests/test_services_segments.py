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


# --- qualified prospects (procedure 001: "NEST concentre ces actions de communication sur
# les prospects qualifiés") ----------------------------------------------------------------------

@pytest.fixture
def leads(desk):
    """Three qualified prospects: Mariama (quote by phone on 3 November, accepts the
    newsletter), Coumba (appointment on Facebook on 20 November, SMS only) and Astou (lost,
    programme at a visit on 29 September, accepts the newsletter)."""
    from nest_desktop.services import prospects

    site, _user = desk
    made = []
    for last, first, phone, channel, request, day, news, sms in (
            ("Sarr", "Mariama", "77 301 11 11", "phone", "quote", 3, True, False),
            ("Ba", "Coumba", "77 302 22 22", "facebook", "appointment", 20, False, True),
            ("Gueye", "Astou", "77 303 33 33", "visit", "programme", -33, True, False)):
        when = dt.datetime(2026, 11, 1, 10, 0) + dt.timedelta(days=day - 1)
        made.append(prospects.create_prospect(
            prospects.ProspectForm(last_name=last, first_names=first, phones=[phone],
                                   site_id=site.id, channel=channel, newsletter_consent=news,
                                   sms_consent=sms),
            prospects.RequestForm(request, "Bonjour"), when, confirmed_new=True))
    from nest_desktop.db.models import Prospect

    Prospect.update(status="lost", lost_reason="price").where(
        Prospect.id == made[2].id).execute()
    return made


def prospects_of(**criteria) -> list[int]:
    return segments.prospect_ids(SegmentFilter(audience=segments.PROSPECTS, **criteria), TODAY)


def test_segments_of_qualified_prospects_by_request_channel_age_and_consent(leads, clinic):
    mariama, coumba, astou = leads
    assert prospects_of() == [coumba.id, mariama.id]  # in list order; the lost one left out
    assert prospects_of(include_lost=True) == [coumba.id, astou.id, mariama.id]
    assert prospects_of(request="quote") == [mariama.id]
    assert prospects_of(source="facebook") == [coumba.id]
    assert prospects_of(consent="newsletter") == [mariama.id]
    assert prospects_of(consent="sms") == [coumba.id]
    # her latest request: 20 days old (3 November) and 3 days old (20 November)
    assert prospects_of(request_min_days=10) == [mariama.id]
    assert prospects_of(request_max_days=10) == [coumba.id]
    assert prospects_of(request_min_days=3, request_max_days=3) == [coumba.id]
    assert prospects_of(include_lost=True, request_min_days=40) == [astou.id]
    # a patients' segment holds no prospect, and the other way round
    assert segments.patient_ids(SegmentFilter(audience=segments.PROSPECTS), TODAY) == []
    assert segments.prospect_ids(SegmentFilter(), TODAY) == []
    with pytest.raises(ValidationFailed) as refused:
        prospects_of(request="gift", request_min_days=30, request_max_days=10)
    assert set(refused.value.errors) == {"request", "request_max_days"}
    described = SegmentFilter(audience=segments.PROSPECTS, request="quote",
                              request_min_days=10).describe()
    assert described == "prospects qualifiés, Devis ou tarifs, demande d’il y a 10\u00a0jours " \
                        "ou plus"


@pytest.mark.clock("2026-11-23 10:00")
def test_a_call_campaign_to_prospects_puts_their_calls_in_today(leads):
    mariama, coumba, _astou = leads
    campaign = segments.create_campaign(
        "Journée portes ouvertes", "event", SegmentFilter(audience=segments.PROSPECTS),
        today=TODAY)
    members = list(CampaignMember.select().where(CampaignMember.campaign == campaign.id))
    assert {(m.patient_id, m.prospect_id) for m in members} == {(None, mariama.id),
                                                                (None, coumba.id)}
    tasks = list(FollowUpTask.select().where(FollowUpTask.rule == "campaign_call"))
    assert {(t.prospect_id, t.patient_id) for t in tasks} == {(mariama.id, None),
                                                              (coumba.id, None)}
    sheet = followup.call_sheet(tasks[0].id, "Clémence", "Clinique Nest Mermoz")
    assert any("Journée portes ouvertes" in line for line in sheet.script)
    assert segments.campaigns()[0].members == 2 and segments.campaigns()[0].open_tasks == 2


@pytest.mark.clock("2026-11-23 10:00")
def test_a_prospects_segment_is_exported_and_sent_the_newsletter_with_her_consent(leads,
                                                                                  tmp_path):
    from nest_desktop.db.models import SmsMessage
    from nest_desktop.services import sms

    mariama, _coumba, _astou = leads
    segment = SegmentFilter(audience=segments.PROSPECTS)
    path = tmp_path / "prospects.csv"
    assert segments.export_csv(path, segment, ";", TODAY) == 2
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0][4:6] == ["Demande", "Premier contact"]
    assert rows[1][:2] == ["BA", "Coumba"] and rows[2][4] == "Devis ou tarifs"
    preview = sms.preview_newsletter(segment, "Bonjour {prenom}, NEST vous invite.", TODAY)
    assert (preview.recipients, preview.left_out) == (1, 1)  # Coumba did not accept it
    campaign = sms.schedule_newsletter("Portes ouvertes", segment,
                                       "Bonjour {prenom}, NEST vous invite.",
                                       dt.datetime(2026, 11, 24, 10, 0), TODAY)
    [message] = SmsMessage.select().where(SmsMessage.campaign == campaign.id)
    assert (message.prospect_id, message.patient_id) == (mariama.id, None)
    assert sms.compose(message).text.startswith("Bonjour Mariama")
