"""Patients without a pathway (PAT-04): segments for newsletters, their CSV export, and call
campaigns that put a call task in Today for each patient of a segment."""

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import JOIN, fn

from nest_desktop.db.models import (
    AuditEntry,
    Campaign,
    CampaignMember,
    FamilyLink,
    FollowUpTask,
    Interaction,
    Patient,
    PatientPhone,
    Site,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import followup as rules
from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.patients import CONTACT_CHANNELS, PATHWAYS
from nest_desktop.domain.phones import display
from nest_desktop.services import ValidationFailed, check_characters, hooks, session
from nest_desktop.services.exports import write_csv

CHILD_AGE_BANDS = {  # months: from, to (excluded)
    "0-2": (0, 24),
    "2-6": (24, 72),
    "6-12": (72, 144),
    "12-18": (144, 216),
}
CHILD_AGE_BAND_LABELS = {
    "0-2": N_("Parents of a child under 2"),
    "2-6": N_("Parents of a child of 2 to 6"),
    "6-12": N_("Parents of a child of 6 to 12"),
    "12-18": N_("Parents of a child of 12 to 18"),
}
CONSENTS = {"sms": N_("Accepts SMS"), "newsletter": N_("Accepts the newsletter")}
CAMPAIGN_REASONS = {
    "update_file": N_("Updating the file"),
    "offer": N_("An offer or a promotion"),
    "event": N_("An event"),
    "news": N_("News from NEST"),
}
# what a campaign can be in the list: a call campaign's reason, or a newsletter by SMS
CAMPAIGN_KINDS = {**CAMPAIGN_REASONS, "sms_newsletter": N_("Newsletter by SMS")}


@dataclass(frozen=True)
class SegmentFilter:
    pathway: str = ""  # "" any, else a code of PATHWAYS
    adults_only: bool = True
    min_visits: int = 0  # visits written on the file
    min_years: int = 0  # years since the first visit
    child_age_band: str = ""  # "" any, else a key of CHILD_AGE_BANDS
    consent: str = ""  # "" any, "sms" or "newsletter"
    channel: str = ""  # "" any, else the preferred channel
    site_id: int | None = None

    def describe(self) -> str:
        """The filter in words, for a campaign's record and the export's audit entry."""
        parts = []
        if self.pathway:
            parts.append(_(PATHWAYS[self.pathway]))
        if self.adults_only:
            parts.append(_("adults"))
        if self.min_visits:
            parts.append(_("{count}+ visits").format(count=self.min_visits))
        if self.min_years:
            parts.append(_("{count}+ years at NEST").format(count=self.min_years))
        if self.child_age_band:
            parts.append(_(CHILD_AGE_BAND_LABELS[self.child_age_band]))
        if self.consent:
            parts.append(_(CONSENTS[self.consent]))
        if self.channel:
            parts.append(_(CONTACT_CHANNELS[self.channel]))
        if self.site_id is not None:
            site = Site.get_or_none(Site.id == self.site_id)
            parts.append(site.name if site else "")
        return ", ".join(parts) or _("every patient")


def _query(segment: SegmentFilter, today: dt.date):
    query = Patient.select(Patient.id)
    if segment.site_id is not None:
        query = query.where(Patient.site == segment.site_id)
    if segment.pathway:
        query = query.where(Patient.pathway == segment.pathway)
    if segment.adults_only:
        query = query.where(Patient.birth_date.is_null()
                            | (Patient.birth_date <= add_months(today, -12 * 18)))
    if segment.min_years:
        query = query.where(Patient.first_visit_date <= add_months(today,
                                                                   -12 * segment.min_years))
    if segment.min_visits:
        visitors = (Interaction.select(Interaction.patient)
                    .where(Interaction.channel == "visit").group_by(Interaction.patient)
                    .having(fn.COUNT(Interaction.id) >= segment.min_visits))
        query = query.where(Patient.id.in_(visitors))
    if segment.child_age_band:
        start, end = CHILD_AGE_BANDS[segment.child_age_band]
        Child = Patient.alias()
        parents = (FamilyLink.select(FamilyLink.parent)
                   .join(Child, on=FamilyLink.child == Child.id)
                   .where((Child.birth_date > add_months(today, -end))
                          & (Child.birth_date <= add_months(today, -start))))
        query = query.where(Patient.id.in_(parents))
    if segment.consent == "sms":
        query = query.where(Patient.sms_consent == True)  # noqa: E712 (SQL)
    elif segment.consent == "newsletter":
        query = query.where(Patient.newsletter_consent == True)  # noqa: E712
    if segment.channel:
        query = query.where(Patient.preferred_channel == segment.channel)
    return query


def check(segment: SegmentFilter) -> None:
    errors = {}
    if segment.pathway and segment.pathway not in PATHWAYS:
        errors["pathway"] = _("Choose a pathway from the list.")
    if segment.child_age_band and segment.child_age_band not in CHILD_AGE_BANDS:
        errors["child_age_band"] = _("Choose an age band from the list.")
    if not 0 <= segment.min_visits <= 500:
        errors["min_visits"] = _("Between 0 and 500 visits.")
    if not 0 <= segment.min_years <= 50:
        errors["min_years"] = _("Between 0 and 50 years.")
    if errors:
        raise ValidationFailed(errors)


def patient_ids(segment: SegmentFilter, today: dt.date | None = None) -> list[int]:
    """The patients of a segment, in the patient list's order."""
    check(segment)
    query = _query(segment, today or clock.today()).order_by(Patient.sort_key, Patient.id)
    return [row[0] for row in query.tuples()]


def export_csv(path: Path, segment: SegmentFilter, separator: str | None = None,
               today: dt.date | None = None) -> int:
    """The segment's patients with their contact details and consents, for a newsletter."""
    session.require("patients.export")
    ids = patient_ids(segment, today)
    phones: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk_ids = ids[start:start + 500]
        for phone in (PatientPhone.select().where(PatientPhone.patient.in_(chunk_ids))
                      .order_by(PatientPhone.position.desc())):
            phones[phone.patient_id] = display(phone.e164)

    def rows():
        for start in range(0, len(ids), 500):
            chunk = {p.id: p for p in Patient.select(Patient, Site)
                     .join(Site, JOIN.LEFT_OUTER, on=Patient.site == Site.id)
                     .where(Patient.id.in_(ids[start:start + 500]))}
            for patient_id in ids[start:start + 500]:
                patient = chunk[patient_id]
                yield [patient.last_name.upper(), patient.first_names, phones.get(patient_id, ""),
                       patient.email, _(PATHWAYS.get(patient.pathway, "")),
                       _(CONTACT_CHANNELS.get(patient.preferred_channel, "")),
                       _("yes") if patient.sms_consent else _("no"),
                       _("yes") if patient.newsletter_consent else _("no"),
                       patient.site.name if patient.site_id else ""]

    count = write_csv(path, [_("Last name"), _("First names"), _("Phone"), _("Email"),
                             _("Pathway"), _("Preferred channel"), _("SMS"), _("Newsletter"),
                             _("Site")], rows(), separator)
    with database.atomic():
        session.log("export", "patient", None,
                    details=f"segment ({segment.describe()}): {count} patients")
    return count


def create_campaign(name: str, reason: str, segment: SegmentFilter,
                    site_id: int | None = None, today: dt.date | None = None) -> Campaign:
    """The campaign, its members, and a call task in Today for each, in one transaction."""
    user = session.require("campaign.create")
    errors = {}
    if not name.strip():
        errors["name"] = _("Name the campaign: the secretaries read it in the call script.")
    elif len(name.strip()) > 100:
        errors["name"] = _("At most {count} characters.").format(count=100)
    if reason not in CAMPAIGN_REASONS:
        errors["reason"] = _("Choose a reason from the list.")
    check_characters(errors, name=name)
    if errors:
        raise ValidationFailed(errors)
    ids = patient_ids(segment, today)
    if not ids:
        raise ValidationFailed({"segment": _("This segment has no patient: nothing to call.")})
    when = clock.now()
    rule = rules.rules()["campaign_call"]
    due = rules.deadline("campaign_call", when)
    opens = rules.opens_at("campaign_call", when)
    with database.atomic():
        campaign = Campaign.create(name=name.strip(), reason=reason, site=site_id,
                                   segment=json.dumps(asdict(segment)), created_by=user.id,
                                   created_at=when)
        for start in range(0, len(ids), 500):
            CampaignMember.insert_many([{"campaign": campaign.id, "patient": patient_id}
                                        for patient_id in ids[start:start + 500]]).execute()
        members = list(CampaignMember.select(CampaignMember.id, CampaignMember.patient,
                                             Patient.site)
                       .join(Patient).where(CampaignMember.campaign == campaign.id).tuples())
        tasks = [{"key": f"campaign_call:campaign_member:{member_id}", "rule": "campaign_call",
                  "patient": patient_id, "source_table": "campaign_member",
                  "source_id": member_id, "event_at": when, "opens_at": opens, "due_at": due,
                  "site": patient_site, "assignee_role": rule.assignee_role,
                  "created_at": when, "updated_at": when}
                 for member_id, patient_id, patient_site in members]
        for start in range(0, len(tasks), 500):
            FollowUpTask.insert_many(tasks[start:start + 500]).on_conflict_ignore().execute()
        session.log("create", "campaign", campaign.id,
                    {"name": [None, campaign.name], "reason": [None, reason],
                     "segment": [None, segment.describe()], "members": [None, len(ids)]})
        # Each task is in the trail as well, written at once rather than one by one.
        created = FollowUpTask.select(FollowUpTask.id, FollowUpTask.patient).where(
            (FollowUpTask.source_table == "campaign_member")
            & (FollowUpTask.source_id.in_([m[0] for m in members]))).tuples()
        entries = [{"at": when, "user": user.id, "user_name": user.full_name,
                    "action": "create", "table": "follow_up_task", "record_id": task_id,
                    "changes": json.dumps({"due_at": [None, due.isoformat()]}),
                    "details": f"campaign_call: {campaign.name}", "patient_id": patient_id}
                   for task_id, patient_id in created]
        for start in range(0, len(entries), 500):
            AuditEntry.insert_many(entries[start:start + 500]).execute()
    return campaign


@dataclass(frozen=True)
class CampaignRow:
    id: int
    name: str
    reason: str
    created_at: dt.datetime
    members: int
    open_tasks: int


def campaigns(limit: int = 100) -> list[CampaignRow]:
    rows = []
    for campaign in Campaign.select().order_by(Campaign.created_at.desc()).limit(limit):
        member_ids = CampaignMember.select(CampaignMember.id).where(
            CampaignMember.campaign == campaign.id)
        members = member_ids.count()
        open_tasks = FollowUpTask.select().where(
            (FollowUpTask.source_table == "campaign_member")
            & FollowUpTask.source_id.in_(member_ids) & (FollowUpTask.status == "open")).count()
        rows.append(CampaignRow(campaign.id, campaign.name, campaign.reason,
                                campaign.created_at, members, open_tasks))
    return rows


def campaign_name_of_member(member_id: int) -> str:
    member = CampaignMember.get_or_none(CampaignMember.id == member_id)
    return member.campaign.name if member else ""


hooks.call_sheet_placeholders.register(
    "campaign_member", lambda member_id: {"{campaign}": campaign_name_of_member(member_id)})
