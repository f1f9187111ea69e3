"""Segments (PAT-04): patients without a pathway, or qualified prospects (procedure 001: "NEST
concentre ces actions de communication sur les prospects qualifiés"), chosen by criteria; their
CSV export for a newsletter, and call campaigns that put a call task in Today for each member.
The same consent rules hold for both: a newsletter only to those who accept it."""

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from peewee import JOIN, fn

from nest_desktop.db.models import (
    Campaign,
    CampaignMember,
    FamilyLink,
    FollowUpTask,
    Interaction,
    PathwayChange,
    Patient,
    PatientPhone,
    Prospect,
    ProspectPhone,
    ProspectRequest,
    Site,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import followup as rules
from nest_desktop.domain import prospects as prospect_rules
from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.patients import CONTACT_CHANNELS, PATHWAYS
from nest_desktop.domain.phones import display
from nest_desktop.services import (
    ValidationFailed,
    audit,
    check_characters,
    hooks,
    ids_of,
    session,
)
from nest_desktop.services.exports import write_csv

PATIENTS, PROSPECTS = "patients", "prospects"
AUDIENCES = {PATIENTS: N_("Patients"), PROSPECTS: N_("Qualified prospects")}
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
    past_pathway: str = ""  # "" any, else a pathway she was in once (her pathway's history)
    adults_only: bool = True
    min_visits: int = 0  # visits written on the file
    min_years: int = 0  # years since the first visit
    child_age_band: str = ""  # "" any, else a key of CHILD_AGE_BANDS
    consent: str = ""  # "" any, "sms" or "newsletter"
    channel: str = ""  # "" any, else the preferred channel
    site_id: int | None = None
    audience: str = PATIENTS  # or PROSPECTS: the criteria below are theirs
    request: str = ""  # "" any, else a qualification of her requests (PRO-02)
    source: str = ""  # "" any, else the channel of her first contact
    request_min_days: int = 0  # her latest request at least this many days old
    request_max_days: int = 0  # … and at most (0: no limit)
    include_lost: bool = False  # the lost ones too (an offer may bring them back)

    def describe(self) -> str:
        """The filter in words, for a campaign's record and the export's audit entry."""
        if self.audience == PROSPECTS:
            return self._describe_prospects()
        parts = []
        if self.pathway:
            parts.append(_(PATHWAYS[self.pathway]))
        if self.past_pathway:
            parts.append(_("once in the pathway {pathway}").format(
                pathway=_(PATHWAYS[self.past_pathway])))
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

    def _describe_prospects(self) -> str:
        parts = [_("qualified prospects")]
        if self.request:
            parts.append(_(prospect_rules.QUALIFICATIONS[self.request]))
        if self.source:
            parts.append(_(prospect_rules.CHANNELS[self.source]))
        if self.request_min_days:
            parts.append(_("request {count}+ days old").format(count=self.request_min_days))
        if self.request_max_days:
            parts.append(_("request at most {count} days old").format(
                count=self.request_max_days))
        if self.include_lost:
            parts.append(_("lost ones included"))
        if self.consent:
            parts.append(_(CONSENTS[self.consent]))
        if self.site_id is not None:
            site = Site.get_or_none(Site.id == self.site_id)
            parts.append(site.name if site else "")
        return ", ".join(parts)


def _query(segment: SegmentFilter, today: dt.date):
    query = Patient.select(Patient.id)
    if segment.site_id is not None:
        query = query.where(Patient.site == segment.site_id)
    if segment.pathway:
        query = query.where(Patient.pathway == segment.pathway)
    if segment.past_pathway:
        query = query.where(Patient.id.in_(PathwayChange.select(PathwayChange.patient).where(
            PathwayChange.to_pathway == segment.past_pathway)))
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


def _prospect_query(segment: SegmentFilter, today: dt.date):
    """Qualified prospects still to win (not converted, not "no longer interested")."""
    closed = set(prospect_rules.CLOSED_STATUSES) - ({prospect_rules.LOST}
                                                    if segment.include_lost else set())
    query = Prospect.select(Prospect.id).where(Prospect.status.not_in(sorted(closed)))
    if segment.site_id is not None:
        query = query.where(Prospect.site == segment.site_id)
    if segment.source:
        query = query.where(Prospect.channel == segment.source)
    if segment.consent == "sms":
        query = query.where(Prospect.sms_consent == True)  # noqa: E712 (SQL)
    elif segment.consent == "newsletter":
        query = query.where(Prospect.newsletter_consent == True)  # noqa: E712
    if segment.request or segment.request_min_days or segment.request_max_days:
        latest = (ProspectRequest.select(ProspectRequest.prospect,
                                         fn.MAX(ProspectRequest.received_at).alias("latest"))
                  .where(ProspectRequest.prospect.is_null(False)))
        if segment.request:
            latest = latest.where(ProspectRequest.qualification == segment.request)
        latest = latest.group_by(ProspectRequest.prospect)
        midnight = dt.datetime.combine(today, dt.time.min)
        if segment.request_min_days:
            latest = latest.having(fn.MAX(ProspectRequest.received_at)
                                   < midnight - dt.timedelta(days=segment.request_min_days - 1))
        if segment.request_max_days:
            latest = latest.having(fn.MAX(ProspectRequest.received_at)
                                   >= midnight - dt.timedelta(days=segment.request_max_days))
        query = query.where(Prospect.id.in_(latest.select(ProspectRequest.prospect)))
    return query


def check(segment: SegmentFilter) -> None:
    errors = {}
    if segment.audience not in AUDIENCES:
        errors["audience"] = _("Choose patients or prospects.")
    if segment.request and segment.request not in prospect_rules.QUALIFICATIONS:
        errors["request"] = _("Choose a request from the list.")
    if segment.source and segment.source not in prospect_rules.CHANNELS:
        errors["source"] = _("Choose a channel from the list.")
    for name in ("request_min_days", "request_max_days"):
        if not 0 <= getattr(segment, name) <= 3650:
            errors[name] = _("Between 0 and 3 650 days.")
    if segment.request_min_days and segment.request_max_days and \
            segment.request_max_days < segment.request_min_days:
        errors["request_max_days"] = _("At least the number of days before it.")
    if segment.pathway and segment.pathway not in PATHWAYS:
        errors["pathway"] = _("Choose a pathway from the list.")
    if segment.past_pathway and segment.past_pathway not in PATHWAYS:
        errors["past_pathway"] = _("Choose a pathway from the list.")
    if segment.child_age_band and segment.child_age_band not in CHILD_AGE_BANDS:
        errors["child_age_band"] = _("Choose an age band from the list.")
    if not 0 <= segment.min_visits <= 500:
        errors["min_visits"] = _("Between 0 and 500 visits.")
    if not 0 <= segment.min_years <= 50:
        errors["min_years"] = _("Between 0 and 50 years.")
    if errors:
        raise ValidationFailed(errors)


def patient_ids(segment: SegmentFilter, today: dt.date | None = None) -> list[int]:
    """The patients of a segment, in the patient list's order (none for prospects')."""
    check(segment)
    if segment.audience != PATIENTS:
        return []
    return ids_of(_query(segment, today or clock.today()).order_by(Patient.sort_key, Patient.id))


def prospect_ids(segment: SegmentFilter, today: dt.date | None = None) -> list[int]:
    """The qualified prospects of a segment, in the prospect list's order (none for
    patients')."""
    check(segment)
    if segment.audience != PROSPECTS:
        return []
    query = _prospect_query(segment, today or clock.today()).order_by(Prospect.sort_key,
                                                                      Prospect.id)
    return [row[0] for row in query.tuples()]


def member_ids(segment: SegmentFilter, today: dt.date | None = None) -> list[int]:
    """Its members: patients' or prospects' ids, as the segment's audience says."""
    return (prospect_ids if segment.audience == PROSPECTS else patient_ids)(segment, today)


def from_json(text: str) -> SegmentFilter:
    """A segment as a campaign or a monthly newsletter stored it (older ones lack fields)."""
    known = {item.name for item in fields(SegmentFilter)}
    return SegmentFilter(**{key: value for key, value in json.loads(text or "{}").items()
                            if key in known})


def _shown_phones(phone_model, owner_field, ids: list[int]) -> dict[int, str]:
    """person -> her main number as written, for an export."""
    phones: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for person_id, e164 in (phone_model.select(owner_field, phone_model.e164)
                                .where(owner_field.in_(ids[start:start + 500]))
                                .order_by(phone_model.position.desc()).tuples()):
            phones[person_id] = display(e164)  # positions descending: the main one wins
    return phones


def _in_order(owner, ids: list[int]):
    """(id, record with its site) in the order of `ids`, read a block at a time."""
    for start in range(0, len(ids), 500):
        chunk = {p.id: p for p in owner.select(owner, Site)
                 .join(Site, JOIN.LEFT_OUTER, on=owner.site == Site.id)
                 .where(owner.id.in_(ids[start:start + 500]))}
        for person_id in ids[start:start + 500]:
            yield person_id, chunk[person_id]


def export_csv(path: Path, segment: SegmentFilter, separator: str | None = None,
               today: dt.date | None = None) -> int:
    """The segment's patients with their contact details and consents, for a newsletter."""
    session.require("patients.export")
    if segment.audience == PROSPECTS:
        return _export_prospects(path, segment, separator, today)
    ids = patient_ids(segment, today)
    phones = _shown_phones(PatientPhone, PatientPhone.patient, ids)

    def rows():
        for patient_id, patient in _in_order(Patient, ids):
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


def _export_prospects(path: Path, segment: SegmentFilter, separator: str | None,
                      today: dt.date | None) -> int:
    ids = prospect_ids(segment, today)
    phones = _shown_phones(ProspectPhone, ProspectPhone.prospect, ids)
    requests: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for prospect_id, qualification in (
                ProspectRequest.select(ProspectRequest.prospect, ProspectRequest.qualification)
                .where(ProspectRequest.prospect.in_(ids[start:start + 500]))
                .order_by(ProspectRequest.received_at).tuples()):
            requests[prospect_id] = qualification  # the latest

    def rows():
        for prospect_id, prospect in _in_order(Prospect, ids):
            request = requests.get(prospect_id, prospect.qualification)
            yield [prospect.last_name.upper(), prospect.first_names,
                   phones.get(prospect_id, ""), prospect.email,
                   _(prospect_rules.QUALIFICATIONS.get(request, "")),
                   _(prospect_rules.CHANNELS.get(prospect.channel, "")),
                   _("yes") if prospect.sms_consent else _("no"),
                   _("yes") if prospect.newsletter_consent else _("no"),
                   prospect.site.name if prospect.site_id else ""]

    count = write_csv(path, [_("Last name"), _("First names"), _("Phone"), _("Email"),
                             _("Request"), _("First contact"), _("SMS"), _("Newsletter"),
                             _("Site")], rows(), separator)
    with database.atomic():
        session.log("export", "prospect", None,
                    details=f"segment ({segment.describe()}): {count} prospects")
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
    ids = member_ids(segment, today)
    if not ids:
        raise ValidationFailed({"segment": _("This segment has nobody: nothing to call.")})
    person = "prospect" if segment.audience == PROSPECTS else "patient"
    owner_model = Prospect if person == "prospect" else Patient
    when = clock.now()
    rule = rules.rules()["campaign_call"]
    due = rules.deadline("campaign_call", when)
    opens = rules.opens_at("campaign_call", when)
    with database.atomic():
        campaign = Campaign.create(name=name.strip(), reason=reason, site=site_id,
                                   segment=json.dumps(asdict(segment)), created_by=user.id,
                                   created_at=when)
        for start in range(0, len(ids), 500):
            CampaignMember.insert_many([{"campaign": campaign.id, person: member_id}
                                        for member_id in ids[start:start + 500]]).execute()
        member_field = getattr(CampaignMember, person)
        members = list(CampaignMember.select(CampaignMember.id, member_field, owner_model.site)
                       .join(owner_model, on=member_field == owner_model.id)
                       .where(CampaignMember.campaign == campaign.id).tuples())
        tasks = [{"key": f"campaign_call:campaign_member:{member_id}", "rule": "campaign_call",
                  person: person_id, "source_table": "campaign_member",
                  "source_id": member_id, "event_at": when, "opens_at": opens, "due_at": due,
                  "site": person_site, "assignee_role": rule.assignee_role,
                  "created_at": when, "updated_at": when}
                 for member_id, person_id, person_site in members]
        for start in range(0, len(tasks), 500):
            FollowUpTask.insert_many(tasks[start:start + 500]).on_conflict_ignore().execute()
        session.log("create", "campaign", campaign.id,
                    {"name": [None, campaign.name], "reason": [None, reason],
                     "segment": [None, segment.describe()], "members": [None, len(ids)]})
        # Each task is in the trail as well, written at once rather than one by one.
        created = FollowUpTask.select(FollowUpTask.id, FollowUpTask.patient).where(
            (FollowUpTask.source_table == "campaign_member")
            & FollowUpTask.source_id.in_(CampaignMember.select(CampaignMember.id).where(
                CampaignMember.campaign == campaign.id))).tuples()
        entries = [{"at": when, "user": user.id, "user_name": user.full_name,
                    "action": "create", "table": "follow_up_task", "record_id": task_id,
                    "changes": json.dumps({"due_at": [None, due.isoformat()]}),
                    "details": f"campaign_call: {campaign.name}", "patient_id": patient_id}
                   for task_id, patient_id in created]
        audit.record_many(entries)
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
