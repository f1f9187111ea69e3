"""Monthly newsletters (PAT-06, PAT-12: "les newsletters mensuelles (nutrition, allaitement, en
cas de maladie…) sont diffusées sur ce groupe, et envoyées individuellement"): a series for a
segment, its topics prepared ahead. Each month, on its day, every member of the segment who
accepts the newsletter gets the first topic she has not had yet — never one twice, so a
woman who enters the segment late starts at the first. By SMS through the outbox, or
exported for email or WhatsApp (the export is what counts as given)."""

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from peewee import fn

from nest_desktop.db.models import (
    Campaign,
    CampaignMember,
    NewsletterSending,
    NewsletterSeries,
    NewsletterTopic,
    Patient,
    Prospect,
    SmsMessage,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import sms as sms_rules
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.patients import CONTACT_CHANNELS
from nest_desktop.domain.phones import display
from nest_desktop.domain.text import fill_in
from nest_desktop.services import ValidationFailed, check_characters, hooks, segments, session
from nest_desktop.services import sms as sms_service
from nest_desktop.services.exports import write_csv

CHANNELS = {"sms": N_("By SMS (the outbox)"),
            "export": N_("Exported for email or WhatsApp")}
NEWSLETTER_REASON = sms_service.NEWSLETTER_REASON  # each month's campaign is a newsletter
SENT_BY = {"sms": N_("by SMS"), "export": N_("exported for email or WhatsApp")}
CHUNK = 500


@dataclass
class TopicForm:
    title: str = ""
    body: str = ""
    id: int | None = None  # a topic kept from before


@dataclass
class SeriesForm:
    name: str = ""
    segment: segments.SegmentFilter = field(default_factory=segments.SegmentFilter)
    day_of_month: int = 1
    send_time: str = "10:00"
    channel: str = "sms"
    active: bool = True
    topics: list[TopicForm] = field(default_factory=list)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _send_moment(series: NewsletterSeries, day: dt.date) -> dt.datetime:
    hours, minutes = (int(part) for part in series.send_time.split(":"))
    return dt.datetime(day.year, day.month, series.day_of_month, hours, minutes)


def _check(form: SeriesForm, series_id: int | None) -> tuple[list[TopicForm], dt.time]:
    errors: dict[str, str] = {}
    if not form.name.strip():
        errors["name"] = _("Name the newsletter: it is how the outbox shows it.")
    elif len(form.name.strip()) > 100:
        errors["name"] = _("At most {count} characters.").format(count=100)
    if not 1 <= int(form.day_of_month) <= 28:
        errors["day_of_month"] = _("A day from 1 to 28, so that every month has it.")
    try:
        hours, minutes = (int(part) for part in form.send_time.strip().split(":"))
        send_time = dt.time(hours, minutes)
    except ValueError:
        errors["send_time"] = _("Type the time as 10:00.")
        send_time = dt.time(10, 0)
    if form.channel not in CHANNELS:
        errors["channel"] = _("Choose how it is sent.")
    try:
        segments.check(form.segment)
    except ValidationFailed as failed:
        errors["segment"] = next(iter(failed.errors.values()))
    topics = [TopicForm(t.title.strip(), t.body.strip(), t.id) for t in form.topics
              if t.title.strip() or t.body.strip()]
    if not topics:
        errors["topics"] = _("Prepare at least one topic.")
    for index, topic in enumerate(topics, start=1):
        problem = None
        if not topic.title or len(topic.title) > 100:
            problem = _("Topic {number}: a title of 1 to 100 characters.").format(number=index)
        elif not topic.body or len(topic.body) > 1000:
            problem = _("Topic {number}: a text of 1 to 1 000 characters.").format(number=index)
        else:  # the same placeholders by SMS and in the export
            template_problem = sms_rules.template_problem(sms_rules.to_gsm7(topic.body),
                                                          sms_rules.NEWSLETTER)
            if template_problem:
                problem = _("Topic {number}: ").format(number=index) + template_problem
        if problem:
            errors.setdefault("topics", problem)
        check_characters(errors, **{f"topic_{index}": topic.title + topic.body})
    kept = ({row[0] for row in NewsletterTopic.select(NewsletterTopic.id).where(
        NewsletterTopic.series == series_id).tuples()} if series_id else set())
    if any(t.id is not None and t.id not in kept for t in topics):
        errors["topics"] = _("This newsletter was changed meanwhile: open it again.")
    sent = _sent_topic_ids(series_id) if series_id else set()
    if sent - {t.id for t in topics}:
        errors["topics"] = _("A topic already sent cannot be removed: who had it is kept.")
    check_characters(errors, name=form.name)
    if errors:
        raise ValidationFailed(errors)
    return topics, send_time


def _sent_topic_ids(series_id: int) -> set[int]:
    return {row[0] for row in NewsletterSending.select(NewsletterSending.topic).join(
        NewsletterTopic).where(NewsletterTopic.series == series_id).distinct().tuples()}


def save_series(series_id: int | None, form: SeriesForm) -> NewsletterSeries:
    """The series and its topics in their order, in one transaction."""
    user = session.require("sms.send")
    topics, send_time = _check(form, series_id)
    when = clock.now()
    values = {"name": form.name.strip(), "segment": json.dumps(asdict(form.segment)),
              "day_of_month": int(form.day_of_month), "send_time": send_time.strftime("%H:%M"),
              "channel": form.channel, "active": bool(form.active),
              "site": form.segment.site_id}
    with database.atomic():
        if series_id is None:
            series = NewsletterSeries.create(**values, created_by=user.id, created_at=when)
            action = "create"
        else:
            NewsletterSeries.update(**values).where(NewsletterSeries.id == series_id).execute()
            series = NewsletterSeries.get_by_id(series_id)
            action = "update"
        keep = [t.id for t in topics if t.id is not None]
        NewsletterTopic.delete().where((NewsletterTopic.series == series.id)
                                       & NewsletterTopic.id.not_in(keep or [0])).execute()
        # positions moved out of the way first: (series, position) stays readable meanwhile
        NewsletterTopic.update(position=NewsletterTopic.position + 10000).where(
            NewsletterTopic.series == series.id).execute()
        for position, topic in enumerate(topics, start=1):
            if topic.id is None:
                NewsletterTopic.create(series=series.id, position=position, title=topic.title,
                                       body=topic.body, created_at=when)
            else:
                NewsletterTopic.update(position=position, title=topic.title,
                                       body=topic.body).where(
                    NewsletterTopic.id == topic.id).execute()
        session.log(action, "newsletter_series", series.id,
                    {"name": [None, values["name"]], "segment": [None, form.segment.describe()],
                     "day_of_month": [None, values["day_of_month"]],
                     "channel": [None, form.channel], "topics": [None, len(topics)]})
    return NewsletterSeries.get_by_id(series.id)


def form_of(series_id: int) -> SeriesForm:
    series = NewsletterSeries.get_by_id(series_id)
    return SeriesForm(series.name, segments.from_json(series.segment), series.day_of_month,
                      series.send_time, series.channel, series.active,
                      [TopicForm(t.title, t.body, t.id) for t in NewsletterTopic.select()
                       .where(NewsletterTopic.series == series_id)
                       .order_by(NewsletterTopic.position)])


@dataclass(frozen=True)
class SeriesRow:
    id: int
    name: str
    segment: str
    day_of_month: int
    send_time: str
    channel: str
    active: bool
    topics: int
    given: int  # topics given, person by person
    last_month: str
    next_send: dt.datetime | None


def next_send(series: NewsletterSeries, when: dt.datetime) -> dt.datetime | None:
    """The next monthly moment still to come for it (this month's if not yet given)."""
    if not series.active:
        return None
    this_month = _send_moment(series, when.date())
    # a series written after this month's day starts next month: nobody gets, on the day
    # it is written, a letter meant for the 1st
    if series.last_month != month_key(when.date()) and series.created_at <= this_month:
        return this_month
    following = (when.date().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return _send_moment(series, following)


def series_list(when: dt.datetime | None = None) -> list[SeriesRow]:
    when = when or clock.now()
    topics = dict(NewsletterTopic.select(NewsletterTopic.series, fn.COUNT(NewsletterTopic.id))
                  .group_by(NewsletterTopic.series).tuples())
    given = dict(NewsletterTopic.select(NewsletterTopic.series, fn.COUNT(NewsletterSending.id))
                 .join(NewsletterSending).group_by(NewsletterTopic.series).tuples())
    return [SeriesRow(s.id, s.name, segments.from_json(s.segment).describe(), s.day_of_month,
                      s.send_time, s.channel, s.active, topics.get(s.id, 0), given.get(s.id, 0),
                      s.last_month, next_send(s, when))
            for s in NewsletterSeries.select().order_by(NewsletterSeries.name)]


@dataclass(frozen=True)
class Give:
    """The topic one member gets this month."""

    person_id: int
    topic_id: int
    first_names: str
    site_id: int | None


def _month_gives(series: NewsletterSeries, today: dt.date) -> list[Give]:
    """Each member who accepts the newsletter, and the first topic she has not had."""
    segment = segments.from_json(series.segment)
    prospects = segment.audience == segments.PROSPECTS
    owner = Prospect if prospects else Patient
    person = NewsletterSending.prospect if prospects else NewsletterSending.patient
    ordered = [row[0] for row in NewsletterTopic.select(NewsletterTopic.id).where(
        NewsletterTopic.series == series.id).order_by(NewsletterTopic.position).tuples()]
    ids = segments.member_ids(segment, today)
    gives = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        had: dict[int, set[int]] = {}
        for person_id, topic_id in (NewsletterSending.select(person, NewsletterSending.topic)
                                    .where(person.in_(chunk)
                                           & NewsletterSending.topic.in_(ordered)).tuples()):
            had.setdefault(person_id, set()).add(topic_id)
        for person_id, first_names, site_id in (
                owner.select(owner.id, owner.first_names, owner.site)
                .where(owner.id.in_(chunk) & (owner.newsletter_consent == True))  # noqa: E712
                .tuples()):
            topic = next((t for t in ordered if t not in had.get(person_id, ())), None)
            if topic is not None:
                gives.append(Give(person_id, topic, first_names, site_id))
    return gives


def _claim_month(series_id: int, month: str) -> bool:
    """This workstation gives the month (another one may be at it too): one wins."""
    return NewsletterSeries.update(last_month=month).where(
        (NewsletterSeries.id == series_id) & (NewsletterSeries.last_month != month)
    ).execute() == 1


def _record(series: NewsletterSeries, gives: list[Give], month: str, channel: str,
            when: dt.datetime, prospects: bool) -> Campaign:
    """The month's campaign (the outbox and the campaigns list name it) and who had what."""
    user = session.current()
    person = "prospect" if prospects else "patient"
    campaign = Campaign.create(name=f"{series.name} — {month}", reason=NEWSLETTER_REASON,
                               segment=series.segment, site=series.site_id,
                               created_by=user.id if user else series.created_by_id,
                               created_at=when)
    for start in range(0, len(gives), CHUNK):
        chunk = gives[start:start + CHUNK]
        CampaignMember.insert_many([{"campaign": campaign.id, person: give.person_id}
                                    for give in chunk]).execute()
        NewsletterSending.insert_many([{"topic": give.topic_id, person: give.person_id,
                                        "month": month, "channel": channel, "sent_at": when}
                                       for give in chunk]).on_conflict_ignore().execute()
    return campaign


def send_month(series_id: int, when: dt.datetime) -> int:
    """This month's SMS of a series, in the outbox at its moment; the number of messages."""
    series = NewsletterSeries.get_by_id(series_id)
    month = month_key(when.date())
    prospects = segments.from_json(series.segment).audience == segments.PROSPECTS
    gives = _month_gives(series, when.date())
    phones = sms_service.main_numbers([give.person_id for give in gives], prospects)
    gives = [give for give in gives if give.person_id in phones]
    bodies = dict(NewsletterTopic.select(NewsletterTopic.id, NewsletterTopic.body).where(
        NewsletterTopic.series == series.id).tuples())
    send_at = sms_rules.next_opening(max(when, _send_moment(series, when.date())),
                                     sms_service.timing())
    person = "prospect" if prospects else "patient"
    with database.atomic():
        if not _claim_month(series.id, month):
            return 0
        campaign = _record(series, gives, month, "sms", when, prospects)
        for start in range(0, len(gives), CHUNK):
            SmsMessage.insert_many([{
                "key": f"{sms_rules.NEWSLETTER}:series{series.id}:{month}:{person[:2]}"
                       f"{give.person_id}",
                "kind": sms_rules.NEWSLETTER, person: give.person_id,
                "source_table": "newsletter_topic", "source_id": give.topic_id,
                "phone": phones[give.person_id], "site": give.site_id,
                "campaign": campaign.id, "body": sms_rules.to_gsm7(bodies[give.topic_id]),
                "scheduled_at": send_at, "next_attempt_at": send_at, "created_at": when,
                "updated_at": when} for give in gives[start:start + CHUNK]]
            ).on_conflict_ignore().execute()
        session.log("create", "campaign", campaign.id,
                    {"name": [None, campaign.name], "reason": [None, NEWSLETTER_REASON],
                     "members": [None, len(gives)], "send_at": [None, send_at.isoformat()]},
                    details=f"newsletter_series {series.id}")
    return len(gives)


def export_month(series_id: int, path: Path, when: dt.datetime | None = None,
                 separator: str | None = None) -> int:
    """This month's topics of an email/WhatsApp series, one row per member, to send from
    the clinic's mailbox or phone; exporting is giving (each topic once per person)."""
    session.require("patients.export")
    when = when or clock.now()
    series = NewsletterSeries.get_by_id(series_id)
    month = month_key(when.date())
    if series.channel != "export":
        raise ValidationFailed({"channel": _("This newsletter is sent by SMS.")})
    if series.last_month == month:
        raise ValidationFailed({"month": _("This month's letter was given already.")})
    segment = segments.from_json(series.segment)
    prospects = segment.audience == segments.PROSPECTS
    gives = _month_gives(series, when.date())
    owner = Prospect if prospects else Patient
    people = {}
    for start in range(0, len(gives), CHUNK):
        people.update({p.id: p for p in owner.select().where(
            owner.id.in_([g.person_id for g in gives[start:start + CHUNK]]))})
    phones = sms_service.main_numbers([give.person_id for give in gives], prospects)
    topics = {t.id: t for t in NewsletterTopic.select().where(
        NewsletterTopic.series == series.id)}

    def rows():
        for give in gives:
            who, topic = people[give.person_id], topics[give.topic_id]
            channel = getattr(who, "preferred_channel", "")
            yield [who.last_name.upper(), who.first_names,
                   display(phones[give.person_id]) if give.person_id in phones else "",
                   who.email, _(CONTACT_CHANNELS.get(channel, "")) if channel else "",
                   topic.title, fill_in(  # not made fit for SMS: an email keeps its "…"
                       topic.body, prenom=who.first_names.split(" ")[0] if who.first_names
                       else "", **sms_service.site_values(give.site_id))]

    with database.atomic():
        if not _claim_month(series.id, month):
            raise ValidationFailed({"month": _("This month's letter was given already.")})
        count = write_csv(path, [_("Last name"), _("First names"), _("Phone"), _("Email"),
                                 _("Preferred channel"), _("Topic"), _("Text")], rows(),
                          separator)
        campaign = _record(series, gives, month, "export", when, prospects)
        session.log("export", "campaign", campaign.id,
                    details=f"newsletter_series {series.id} ({month}): {count}")
    return count


@hooks.outbox_sources.register
def send_due_series(when: dt.datetime) -> int:
    """Each active SMS series whose day has come this month and was not given yet."""
    month = month_key(when.date())
    sent = 0
    for series in NewsletterSeries.select().where(
            (NewsletterSeries.active == True) & (NewsletterSeries.channel == "sms")  # noqa: E712
            & (NewsletterSeries.last_month != month)):
        moment = next_send(series, when)
        if moment is not None and moment <= when:
            sent += send_month(series.id, when)
    return sent


def export_due(when: dt.datetime | None = None) -> list[SeriesRow]:
    """The email/WhatsApp series whose letter of the month is due and not yet exported."""
    when = when or clock.now()
    return [row for row in series_list(when) if is_export_due(row, when)]


def is_export_due(row: SeriesRow, when: dt.datetime) -> bool:
    return (row.channel == "export" and row.active and row.next_send is not None
            and row.next_send <= when)


@hooks.prospect_records_moved.register
def follow_the_person(from_prospect: int, patient_id: int | None = None,
                      prospect_id: int | None = None) -> None:
    """A prospect who became a patient, or was merged: the topics she had stay hers, so
    none is given to her twice."""
    target = {"patient": patient_id, "prospect": None} if patient_id else \
        {"prospect": prospect_id}
    for sending in NewsletterSending.select().where(
            NewsletterSending.prospect == from_prospect):
        duplicate = NewsletterSending.select().where(
            (NewsletterSending.topic == sending.topic_id)
            & ((NewsletterSending.patient == patient_id) if patient_id
               else (NewsletterSending.prospect == prospect_id))).exists()
        if duplicate:
            sending.delete_instance()
        else:
            NewsletterSending.update(**target).where(
                NewsletterSending.id == sending.id).execute()

