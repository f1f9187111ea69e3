"""The database's tables. Fields hold stored values only; the rules live in `domain`."""

from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from nest_desktop.domain import clock
from nest_desktop.domain.permissions import ROLES

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row: the version of the schema this database is at (see `migrations`)."""

    version = IntegerField()
    upgraded_at = DateTimeField(default=clock.now)


class Site(BaseModel):
    """A NEST clinic; the phone greeting and the services' numbers are per site (TEL-09)."""

    name = CharField(max_length=100, unique=True)
    phone = CharField(max_length=20, default="")  # E.164
    address = TextField(default="")
    active = BooleanField(default=True)


class User(BaseModel):
    full_name = CharField(max_length=100)
    phone_first_name = CharField(max_length=50)  # said on the phone: "Clinique Nest, Clémence…"
    role = CharField(max_length=30, choices=[(r, r) for r in ROLES], default="secretary")
    site = ForeignKeyField(Site, null=True, backref="users", on_delete="SET NULL")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=clock.now)
    login = CharField(max_length=50, unique=True)
    password_hash = CharField(max_length=200, default="")  # Argon2; empty: to be chosen
    must_change_password = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)


class Patient(BaseModel):
    last_name = CharField(max_length=100)
    first_names = CharField(max_length=100)
    sort_key = CharField(max_length=210)  # folded "last first", for the list's order
    sex = CharField(max_length=1)  # "F" or "M"
    birth_date = DateField(null=True, index=True)
    email = CharField(max_length=200, default="")
    address = TextField(default="")
    site = ForeignKeyField(Site, null=True, backref="patients", on_delete="SET NULL")
    provenance = CharField(max_length=30, default="")
    provenance_detail = CharField(max_length=200, default="")  # the doctor, the event…
    visit_reason = TextField(default="")
    pathway = CharField(max_length=20, default="none")
    # the day a pathway with an end (post-natal) gives way to "none" (services.pathways)
    pathway_ends_on = DateField(null=True, index=True)
    intake_date = DateField(null=True)
    intake_by = ForeignKeyField(User, null=True, backref="intakes", on_delete="SET NULL")
    intake_tariffs_given = BooleanField(default=False)
    intake_pathways_given = BooleanField(default=False)
    intake_file_complete = BooleanField(default=False)
    intake_provenance_collected = BooleanField(default=False)
    sms_consent = BooleanField(default=False)
    newsletter_consent = BooleanField(default=False)
    preferred_channel = CharField(max_length=20, default="sms")
    language = CharField(max_length=5, default="fr")  # of her SMS (domain.sms.LANGUAGES)
    first_visit_date = DateField(null=True)
    # its moment, when an attended appointment gave it: the 72 hours count from there
    first_visit_at = DateTimeField(null=True)
    notes = TextField(default="")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    version = IntegerField(default=1)  # optimistic locking: a save names the version it read

    class Meta:
        # the list's order, covering the filters of the segments and lists that walk it
        # (adults, a site): 200 000 patients read from the index alone
        indexes = ((("sort_key", "birth_date", "site"), False),)

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"


class PatientPhone(BaseModel):
    patient = ForeignKeyField(Patient, backref="phones", on_delete="CASCADE")
    e164 = CharField(max_length=20, index=True)
    national_digits = CharField(max_length=20)  # searched by prefix as typed
    position = IntegerField(default=0)  # 0 is the main number
    # found wrong on a call: no SMS to it, shown struck, a new number asked for
    wrong_since = DateTimeField(null=True)

    class Meta:
        # covering: a prefix search reads the patients from the index alone
        indexes = ((("national_digits", "patient"), False),)


class PatientSearchToken(BaseModel):
    """One folded word of a patient's names: as-you-type search is an indexed prefix range."""

    patient = ForeignKeyField(Patient, backref="search_tokens", on_delete="CASCADE")
    token = CharField(max_length=100)

    class Meta:
        # covering: a prefix search reads the patients from the index alone
        indexes = ((("token", "patient"), False),)


class Interaction(BaseModel):
    """Every contact with a person: the timeline of her file."""

    patient = ForeignKeyField(Patient, backref="interactions", on_delete="CASCADE")
    occurred_at = DateTimeField(default=clock.now, index=True)
    user = ForeignKeyField(User, null=True, backref="interactions", on_delete="SET NULL")
    channel = CharField(max_length=20)
    direction = CharField(max_length=10)
    subject = CharField(max_length=200)
    notes = TextField(default="")
    outcome = CharField(max_length=200, default="")
    created_at = DateTimeField(default=clock.now)
    site = ForeignKeyField(Site, null=True, backref="interactions", on_delete="SET NULL")


class FamilyLink(BaseModel):
    parent = ForeignKeyField(Patient, backref="children_links", on_delete="CASCADE")
    child = ForeignKeyField(Patient, backref="parent_links", on_delete="CASCADE")
    relation = CharField(max_length=20)  # mother, father, guardian

    class Meta:
        indexes = ((("parent", "child"), True),)


class VaccinationPlan(BaseModel):
    """Which schedule a child follows and the clinic's optional vaccines chosen for her."""

    patient = ForeignKeyField(Patient, unique=True, backref="vaccination_plans",
                              on_delete="CASCADE")
    schedule = CharField(max_length=30, default="senegal")
    optional_vaccines = TextField(default="[]")  # JSON list of vaccine codes
    updated_at = DateTimeField(default=clock.now)


class VaccineDose(BaseModel):
    """A dose given, at NEST or elsewhere (PAT-11). Half the database on a large clinic: no
    index but the unique one, which also finds a child's doses."""

    patient = ForeignKeyField(Patient, backref="vaccine_doses", on_delete="CASCADE",
                              index=False)
    vaccine = CharField(max_length=30)
    dose = IntegerField()
    given_on = DateField()
    product = CharField(max_length=100, default="")
    lot = CharField(max_length=50, default="")
    place = CharField(max_length=20, default="nest")  # "nest" or "elsewhere"
    site = ForeignKeyField(Site, null=True, backref="vaccine_doses", on_delete="SET NULL",
                           index=False)
    recorded_by = ForeignKeyField(User, null=True, backref="vaccine_doses", on_delete="SET NULL",
                                  index=False)
    recorded_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("patient", "vaccine", "dose"), True),)


class ChildDueState(BaseModel):
    """A child's place in the due lists, kept current with her doses, plan and file (a
    cache of domain.vaccination.due_state: services.vaccination rebuilds it). Her site,
    birth date and name are copied here so that a list reads this table alone."""

    patient = ForeignKeyField(Patient, primary_key=True, backref="due_state",
                              on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, on_delete="SET NULL", index=False,
                           backref="due_states")
    birth_date = DateField()
    sort_name = CharField(max_length=210)  # "first names last name", as the list orders
    computed_on = DateField(index=True)
    next_scheduled = DateField(null=True, index=True)
    overdue_from = DateField(null=True)
    recheck_on = DateField(null=True, index=True)
    next_reminder_on = DateField(null=True, index=True)  # for the SMS reminders' pass

    class Meta:
        indexes = ((("site", "next_scheduled"), False),)


class AuditEntry(BaseModel):
    """Who did what and when (ISO 9001). Written by the services, never changed afterwards."""

    at = DateTimeField(default=clock.now, index=True)
    user = ForeignKeyField(User, null=True, backref="audit_entries", on_delete="SET NULL")
    user_name = CharField(max_length=100, default="")  # kept if the account is removed
    action = CharField(max_length=30)  # create, update, delete, login, login_failed, export…
    table = CharField(max_length=50, default="")
    record_id = IntegerField(null=True)
    changes = TextField(default="{}")  # JSON: field -> [old, new]
    details = TextField(default="")
    # The patient whose file the entry is about (her doses, links, contacts…), kept as a
    # number so that the trail outlives a deleted file.
    patient_id = IntegerField(null=True, index=True)
    # Tamper-evident: each entry's hash covers its fields and the hash of the entry before
    # it (services.audit.verify); empty for the entries written before version 12.
    previous_chain = CharField(max_length=64, default="")
    chain = CharField(max_length=64, default="")

    class Meta:
        indexes = ((("table", "record_id"), False),)


class Prospect(BaseModel):
    """A qualified prospect (PRO-01, PRO-02): someone interested who is not a patient yet."""

    last_name = CharField(max_length=100)
    first_names = CharField(max_length=100, default="")
    sort_key = CharField(max_length=210, index=True)
    birth_date = DateField(null=True, index=True)
    email = CharField(max_length=200, default="")
    site = ForeignKeyField(Site, null=True, backref="prospects", on_delete="SET NULL")
    channel = CharField(max_length=20)  # first contact (domain.prospects.CHANNELS)
    qualification = CharField(max_length=20)  # of the first request
    owner = ForeignKeyField(User, null=True, backref="prospects", on_delete="SET NULL")
    status = CharField(max_length=20, default="new", index=True)
    lost_reason = CharField(max_length=20, default="")
    patient = ForeignKeyField(Patient, null=True, backref="prospect_records",
                              on_delete="SET NULL")  # the patient she became
    converted_at = DateTimeField(null=True)
    sms_consent = BooleanField(default=False)  # her appointments' reminders (PAT-01)
    newsletter_consent = BooleanField(default=False)  # NEST's news and offers (procedure 001)
    # a lead imported with a phone and no name: the name is asked at the callback
    name_to_complete = BooleanField(default=False)
    notes = TextField(default="")
    created_at = DateTimeField(default=clock.now, index=True)
    created_by = ForeignKeyField(User, null=True, backref="prospects_created",
                                 on_delete="SET NULL")
    updated_at = DateTimeField(default=clock.now)
    version = IntegerField(default=1)

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}".strip()


class ProspectPhone(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="phones", on_delete="CASCADE")
    e164 = CharField(max_length=20, index=True)
    national_digits = CharField(max_length=20, index=True)
    position = IntegerField(default=0)


class ProspectSearchToken(BaseModel):
    prospect = ForeignKeyField(Prospect, backref="search_tokens", on_delete="CASCADE")
    token = CharField(max_length=100, index=True)


class ProspectRequest(BaseModel):
    """A qualified request (PRO-02) and its answer: a prospect's, or a patient's (PRO-03)."""

    prospect = ForeignKeyField(Prospect, null=True, backref="requests", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, null=True, backref="requests", on_delete="CASCADE")
    qualification = CharField(max_length=20)
    channel = CharField(max_length=20)
    received_at = DateTimeField(default=clock.now)
    text = TextField(default="")
    source = CharField(max_length=300, default="")  # a lead export's form and ad
    answer = TextField(default="")
    answered_at = DateTimeField(null=True, index=True)
    answered_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, backref="requests_created",
                                 on_delete="SET NULL")


class ProspectInteraction(BaseModel):
    """Every contact with a prospect: the timeline of her file (as `Interaction` for a
    patient)."""

    prospect = ForeignKeyField(Prospect, backref="interactions", on_delete="CASCADE")
    occurred_at = DateTimeField(default=clock.now, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    channel = CharField(max_length=20)
    direction = CharField(max_length=10)
    subject = CharField(max_length=200)
    notes = TextField(default="")
    outcome = CharField(max_length=200, default="")
    site = ForeignKeyField(Site, null=True, on_delete="SET NULL")


class FollowUpTask(BaseModel):
    """A call or survey due because of an event (first visit, DDR, discharge, prospect…).

    `key` names the event ("rule:table:id"): unique, so that two workstations running the
    engine at once still make one task.
    """

    key = CharField(max_length=120, unique=True)
    rule = CharField(max_length=40)
    patient = ForeignKeyField(Patient, null=True, backref="follow_ups", on_delete="CASCADE")
    prospect = ForeignKeyField(Prospect, null=True, backref="follow_ups", on_delete="CASCADE")
    source_table = CharField(max_length=40)
    source_id = IntegerField()
    event_at = DateTimeField()
    opens_at = DateTimeField()
    due_at = DateTimeField()
    site = ForeignKeyField(Site, null=True, backref="follow_ups", on_delete="SET NULL")
    assignee_role = CharField(max_length=30)
    assignee = ForeignKeyField(User, null=True, backref="follow_ups", on_delete="SET NULL")
    status = CharField(max_length=12, default="open")  # open, done, cancelled
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    outcome = CharField(max_length=30, default="")
    closed_at = DateTimeField(null=True)
    closed_by = ForeignKeyField(User, null=True, backref="closed_follow_ups",
                                on_delete="SET NULL")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    urgent = BooleanField(default=False)  # an urgent message: first on Today, marked

    class Meta:
        indexes = ((("status", "due_at"), False), (("source_table", "source_id"), False))


class SurveyResponse(BaseModel):
    """Answers to a satisfaction survey; an anonymous answer names no patient."""

    survey = CharField(max_length=40)
    patient = ForeignKeyField(Patient, null=True, backref="survey_responses",
                              on_delete="SET NULL")
    task = ForeignKeyField(FollowUpTask, null=True, backref="responses", on_delete="SET NULL")
    site = ForeignKeyField(Site, null=True, backref="survey_responses", on_delete="SET NULL")
    channel = CharField(max_length=20)  # phone, paper, desk
    answered_at = DateTimeField(default=clock.now, index=True)
    answers = TextField(default="{}")  # JSON: question -> answer
    score = IntegerField(null=True)  # 0-100, over the questions that are scored
    recorded_by = ForeignKeyField(User, null=True, backref="survey_responses",
                                  on_delete="SET NULL")


class GuestbookEntry(BaseModel):
    """A few words left by a patient or a visitor in the clinic's guestbook."""

    site = ForeignKeyField(Site, null=True, backref="guestbook", on_delete="SET NULL")
    written_on = DateField(index=True)
    author = CharField(max_length=100, default="")  # empty: anonymous
    text = TextField()
    recorded_by = ForeignKeyField(User, null=True, backref="guestbook_entries",
                                  on_delete="SET NULL")
    recorded_at = DateTimeField(default=clock.now)


class Campaign(BaseModel):
    """Calls to a segment of patients (PAT-04): to update their file, about an offer…"""

    name = CharField(max_length=100)
    reason = CharField(max_length=30)
    segment = TextField(default="{}")  # JSON: the filter that chose the patients
    site = ForeignKeyField(Site, null=True, backref="campaigns", on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, backref="campaigns", on_delete="SET NULL")
    created_at = DateTimeField(default=clock.now)


class CampaignMember(BaseModel):
    """A patient or a qualified prospect a campaign reaches."""

    campaign = ForeignKeyField(Campaign, backref="members", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, null=True, backref="campaigns", on_delete="CASCADE")
    prospect = ForeignKeyField(Prospect, null=True, backref="campaigns", on_delete="CASCADE")

    class Meta:
        indexes = ((("campaign", "patient"), True), (("campaign", "prospect"), True))


class PathwayChange(BaseModel):
    """Her pathway's history ("historique parcours", PAT-04): each change, when and why."""

    patient = ForeignKeyField(Patient, backref="pathway_changes", on_delete="CASCADE")
    from_pathway = CharField(max_length=20)
    to_pathway = CharField(max_length=20, index=True)
    changed_at = DateTimeField(default=clock.now)
    reason = CharField(max_length=20)  # domain.patients.PATHWAY_CHANGE_REASONS
    pregnancy_id = IntegerField(null=True)  # the pregnancy that made it, when one did
    changed_by = ForeignKeyField(User, null=True, on_delete="SET NULL")


class MothersGroup(BaseModel):
    """Her membership of the NEST mothers' group (PAT-06), with the day of each answer."""

    patient = ForeignKeyField(Patient, unique=True, backref="mothers_group",
                              on_delete="CASCADE")
    status = CharField(max_length=12)  # domain.patients.MOTHERS_GROUP_STATUSES
    channel = CharField(max_length=12, default="")  # whatsapp, facebook
    invited_on = DateField(null=True)
    joined_on = DateField(null=True)
    declined_on = DateField(null=True)
    left_on = DateField(null=True)
    updated_at = DateTimeField(default=clock.now)
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")


class NewsletterSeries(BaseModel):
    """A newsletter that repeats each month for a segment (PAT-06, PAT-12): each month every
    member gets the first of its topics she has not had yet."""

    name = CharField(max_length=100)
    segment = TextField(default="{}")  # JSON of services.segments.SegmentFilter
    day_of_month = IntegerField(default=1)  # 1 to 28
    send_time = CharField(max_length=5, default="10:00")
    channel = CharField(max_length=10, default="sms")  # sms, or export (email, WhatsApp)
    active = BooleanField(default=True)
    last_month = CharField(max_length=7, default="")  # "2026-12": the last month sent
    site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=clock.now)


class NewsletterTopic(BaseModel):
    series = ForeignKeyField(NewsletterSeries, backref="topics", on_delete="CASCADE")
    position = IntegerField()
    title = CharField(max_length=100)
    body = TextField()
    created_at = DateTimeField(default=clock.now)


class NewsletterSending(BaseModel):
    """One topic given to one person: never twice."""

    topic = ForeignKeyField(NewsletterTopic, backref="sendings", on_delete="CASCADE")
    patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE")
    prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE")
    month = CharField(max_length=7)
    channel = CharField(max_length=10)
    sent_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("topic", "patient"), True), (("topic", "prospect"), True))


class Pregnancy(BaseModel):
    """A pregnancy followed at NEST (PAT-05 to PAT-10). The DPA is computed from `ddr` with
    the clinic's convention, so that it is the same everywhere."""

    patient = ForeignKeyField(Patient, backref="pregnancies", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="pregnancies", on_delete="SET NULL")
    ddr = DateField(index=True)  # the DDR the pathway is computed from
    dating_method = CharField(max_length=20, default="ddr")
    stated_ddr = DateField(null=True)  # as the patient gave it, kept when a scan redated
    scan_date = DateField(null=True)
    scan_weeks = IntegerField(null=True)
    scan_days = IntegerField(null=True)
    planned_place = CharField(max_length=100, default="")
    status = CharField(max_length=12, default="ongoing")  # ongoing, delivered, ended
    end_reason = CharField(max_length=20, default="")
    ended_on = DateField(null=True)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    version = IntegerField(default=1)
    # its next milestone, kept current (a cache of domain.pregnancy.milestone_state that
    # services.pregnancy rebuilds): the list of pregnancies reads it
    next_milestone = CharField(max_length=40, default="")
    next_milestone_on = DateField(null=True)
    milestone_computed_on = DateField(null=True)
    milestone_recheck_on = DateField(null=True, index=True)

    class Meta:
        # the ongoing ones by term, a site's among them, read from the index alone
        indexes = ((("status", "ddr", "site"), False),)


class MilestoneRecord(BaseModel):
    """A milestone of a pregnancy marked done (with its date) or set aside."""

    pregnancy = ForeignKeyField(Pregnancy, backref="milestones", on_delete="CASCADE")
    milestone = CharField(max_length=40)
    status = CharField(max_length=12)  # done, cancelled
    done_on = DateField(null=True)
    recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    recorded_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("pregnancy", "milestone"), True),)


class Delivery(BaseModel):
    pregnancy = ForeignKeyField(Pregnancy, unique=True, backref="deliveries",
                                on_delete="CASCADE")
    delivered_at = DateTimeField()
    place = CharField(max_length=100, default="")
    at_nest = BooleanField(default=True)
    discharged_at = DateTimeField(null=True)
    recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    recorded_at = DateTimeField(default=clock.now)


class DeliveryBaby(BaseModel):
    delivery = ForeignKeyField(Delivery, backref="babies", on_delete="CASCADE")
    child = ForeignKeyField(Patient, backref="birth", on_delete="CASCADE")
    weight_grams = IntegerField(null=True)


class Call36Weeks(BaseModel):
    """What the 36-week call collected (PAT-07)."""

    pregnancy = ForeignKeyField(Pregnancy, backref="calls_36_weeks", on_delete="CASCADE")
    task = ForeignKeyField(FollowUpTask, null=True, on_delete="SET NULL")
    planned_place = CharField(max_length=100, default="")
    tariffs_given = BooleanField(default=False)
    coverage_given = BooleanField(default=False)
    financial_conditions_given = BooleanField(default=False)
    classes_proposed = BooleanField(default=False)
    classes_accepted = BooleanField(default=False)
    mothers_group = CharField(max_length=20, default="")  # whatsapp, facebook, member, declined
    newsletter_wanted = BooleanField(default=False)
    newsletter_channel = CharField(max_length=20, default="")
    child_followed_at_nest = BooleanField(default=False)
    notes = TextField(default="")
    recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    recorded_at = DateTimeField(default=clock.now)


class DirectoryEntry(BaseModel):
    """A service or a person of a site that calls are transferred to (TEL-05, TEL-09)."""

    site = ForeignKeyField(Site, backref="directory", on_delete="CASCADE")
    kind = CharField(max_length=10, default="service")  # service, person
    name = CharField(max_length=100)  # "Service des admissions": the greeting of its line
    said_as = CharField(max_length=120, default="")  # "le service des admissions"
    extension = CharField(max_length=20, default="")  # the internal number to dial
    user = ForeignKeyField(User, null=True, backref="directory_entries",
                           on_delete="SET NULL")  # who reads its messages
    takes_appointments = BooleanField(default=False)
    active = BooleanField(default=True)
    position = IntegerField(default=0)
    # a practitioner (or a room) of a service: Dr Sow in Pédiatrie
    service = ForeignKeyField("self", null=True, backref="practitioners", on_delete="SET NULL")


class CallRecord(BaseModel):
    """A line of the call register (TEL-03, TEL-08): every call, in and out."""

    direction = CharField(max_length=3)  # in, out
    started_at = DateTimeField(index=True)
    ended_at = DateTimeField(null=True)
    duration_seconds = IntegerField(default=0)
    hold_seconds = IntegerField(default=0)
    user = ForeignKeyField(User, null=True, backref="calls", on_delete="SET NULL")
    site = ForeignKeyField(Site, null=True, backref="calls", on_delete="SET NULL")
    phone = CharField(max_length=30, default="")  # E.164, or as given when not a number
    caller_name = CharField(max_length=200, default="")
    patient = ForeignKeyField(Patient, null=True, backref="calls", on_delete="SET NULL")
    prospect = ForeignKeyField(Prospect, null=True, backref="calls", on_delete="SET NULL")
    reason = CharField(max_length=40)  # a request type, or the follow-up rule called about
    summary = TextField(default="")
    outcome = CharField(max_length=20, index=True)
    transferred_to = ForeignKeyField(DirectoryEntry, null=True, backref="transfers",
                                     on_delete="SET NULL")
    task = ForeignKeyField(FollowUpTask, null=True, backref="calls", on_delete="SET NULL")
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="calls_resolved",
                                  on_delete="SET NULL")
    resolution = TextField(default="")

    class Meta:
        # the quality indicators' calls of a period read from this index alone
        indexes = ((("started_at", "direction", "outcome", "hold_seconds"), False),)


class PhoneMessage(BaseModel):
    """A message taken for a person or a service (TEL-04, TEL-07)."""

    call = ForeignKeyField(CallRecord, null=True, backref="messages", on_delete="SET NULL")
    site = ForeignKeyField(Site, null=True, backref="phone_messages", on_delete="SET NULL")
    recipient = ForeignKeyField(DirectoryEntry, null=True, backref="messages",
                                on_delete="SET NULL")
    recipient_name = CharField(max_length=100)  # kept as written when the entry changes
    caller_name = CharField(max_length=200)
    caller_phone = CharField(max_length=30, default="")
    patient = ForeignKeyField(Patient, null=True, backref="phone_messages",
                              on_delete="SET NULL")
    prospect = ForeignKeyField(Prospect, null=True, backref="phone_messages",
                               on_delete="SET NULL")
    text = TextField()
    urgent = BooleanField(default=False)
    taken_by = ForeignKeyField(User, null=True, backref="messages_taken", on_delete="SET NULL")
    taken_at = DateTimeField(index=True)
    confirmed_at = DateTimeField(null=True)
    confirmed_by = ForeignKeyField(User, null=True, backref="messages_confirmed",
                                   on_delete="SET NULL")
    confirmed_how = CharField(max_length=20, default="")  # recipient, secretary
    confirmation_note = CharField(max_length=200, default="")


class Appointment(BaseModel):
    """An appointment (RDV, TEL-02): a patient's, or a prospect's first one (PRO-02)."""

    patient = ForeignKeyField(Patient, null=True, backref="appointments", on_delete="CASCADE")
    prospect = ForeignKeyField(Prospect, null=True, backref="appointments",
                               on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="appointments", on_delete="SET NULL")
    service = ForeignKeyField(DirectoryEntry, null=True, backref="appointments",
                              on_delete="SET NULL")
    starts_at = DateTimeField(index=True)
    duration_minutes = IntegerField(default=30)
    reason = CharField(max_length=200, default="")
    status = CharField(max_length=12, default="booked")  # booked, attended, missed, cancelled
    cancel_reason = CharField(max_length=200, default="")
    call = ForeignKeyField(CallRecord, null=True, backref="appointments", on_delete="SET NULL")
    booked_by = ForeignKeyField(User, null=True, backref="appointments_booked",
                                on_delete="SET NULL")
    booked_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    version = IntegerField(default=1)
    kind = CharField(max_length=20, default="")  # domain.agenda.APPOINTMENT_KINDS
    # Booked outside the opening hours or over another appointment of the practitioner: why.
    override_reason = CharField(max_length=200, default="")
    arrived_at = DateTimeField(null=True)  # in the waiting room
    seen_at = DateTimeField(null=True)  # taken in: the appointment attended

    class Meta:
        # a period's appointments by status (the quality indicators) from the index alone
        indexes = ((("starts_at", "status"), False),)


class OpeningHours(BaseModel):
    """When a site, or one of its services or practitioners, takes appointments: one row
    per opening period of a weekday. A site without any follows domain.agenda.DEFAULT_WEEK;
    a service or practitioner without any follows its site."""

    site = ForeignKeyField(Site, backref="opening_hours", on_delete="CASCADE")
    entry = ForeignKeyField(DirectoryEntry, null=True, backref="opening_hours",
                            on_delete="CASCADE")
    weekday = IntegerField()  # 0: Monday
    opens = CharField(max_length=5)  # "08:00"
    closes = CharField(max_length=5)


class ClosedDay(BaseModel):
    """A day a site is closed (a holiday: Tabaski, Korité…): no appointment is booked."""

    site = ForeignKeyField(Site, backref="closed_days", on_delete="CASCADE")
    day = DateField()
    reason = CharField(max_length=100, default="")

    class Meta:
        indexes = ((("site", "day"), True),)


class SmsMessage(BaseModel):
    """One SMS of the outbox (PAT-01, PAT-11, PAT-12). A reminder's `key` names its record, its
    occurrence and its kind, so that it is scheduled, and sent, once."""

    key = CharField(max_length=120, unique=True)
    kind = CharField(max_length=12)  # domain.sms.KINDS
    patient = ForeignKeyField(Patient, null=True, backref="sms_messages", on_delete="CASCADE")
    prospect = ForeignKeyField(Prospect, null=True, backref="sms_messages",
                               on_delete="CASCADE")
    source_table = CharField(max_length=40, default="")  # appointment, patient (a child)…
    source_id = IntegerField(null=True)
    occurrence = CharField(max_length=60, default="")
    event_at = DateTimeField(null=True)  # the appointment's start, the dose's due day
    phone = CharField(max_length=20)  # E.164, as scheduled; read again at send time
    language = CharField(max_length=5, default="fr")
    site = ForeignKeyField(Site, null=True, backref="sms_messages", on_delete="SET NULL")
    campaign = ForeignKeyField(Campaign, null=True, backref="sms_messages",
                               on_delete="SET NULL")
    body = TextField(default="")  # a newsletter's text; a reminder's comes from its template
    text = TextField(default="")  # the text as sent (rendered at send time)
    parts = IntegerField(default=0)
    scheduled_at = DateTimeField()
    expires_at = DateTimeField(null=True)  # not sent after: cancelled as too late
    state = CharField(max_length=12, default="scheduled")  # domain.sms.STATES
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField()  # scheduled_at, then later after a failure
    last_error = TextField(default="")
    transport = CharField(max_length=20, default="")
    provider_ref = CharField(max_length=100, default="")
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="sms_created", on_delete="SET NULL")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("state", "next_attempt_at"), False), (("source_table", "source_id"), False),
                   (("scheduled_at",), False),
                   # the reminders of a period, for the quality indicators
                   (("kind", "event_at", "state", "source_table", "source_id"), False))


class SmsEvent(BaseModel):
    """The history of a message: each change of state, with who or what made it and why."""

    message = ForeignKeyField(SmsMessage, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=clock.now)
    state = CharField(max_length=12)
    detail = TextField(default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="sms_events")


class QualityCase(BaseModel):
    """A complaint or a non-conformity (ISO 9001 §10.2): never deleted; each step audited."""

    kind = CharField(max_length=20)  # domain.quality.KINDS
    source = CharField(max_length=20)  # domain.quality.SOURCES
    source_table = CharField(max_length=40, default="")  # survey_response, call_record…
    source_id = IntegerField(null=True)
    patient = ForeignKeyField(Patient, null=True, backref="quality_cases", on_delete="SET NULL")
    person_name = CharField(max_length=200, default="")  # who complained, without a file
    occurred_on = DateField()
    site = ForeignKeyField(Site, null=True, backref="quality_cases", on_delete="SET NULL")
    category = CharField(max_length=20)
    severity = CharField(max_length=12)
    description = TextField()
    assigned_to = ForeignKeyField(User, null=True, backref="quality_cases_assigned",
                                  on_delete="SET NULL")
    cause = TextField(default="")
    immediate_action = TextField(default="")
    effectiveness = TextField(default="")  # how it was checked, and what was found
    effective = BooleanField(null=True)
    status = CharField(max_length=12, default="recorded", index=True)
    closed_at = DateTimeField(null=True)
    closed_by = ForeignKeyField(User, null=True, backref="quality_cases_closed",
                                on_delete="SET NULL")
    recorded_at = DateTimeField(default=clock.now, index=True)
    recorded_by = ForeignKeyField(User, null=True, backref="quality_cases_recorded",
                                  on_delete="SET NULL")
    updated_at = DateTimeField(default=clock.now)
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("source_table", "source_id"), False), (("occurred_on", "site"), False))


class CorrectiveAction(BaseModel):
    """What is done so that it does not happen again: an owner, a deadline, on her Today."""

    case = ForeignKeyField(QualityCase, backref="actions", on_delete="CASCADE")
    description = TextField()
    owner = ForeignKeyField(User, null=True, backref="corrective_actions", on_delete="SET NULL")
    deadline = DateField()
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(User, null=True, backref="corrective_actions_done",
                              on_delete="SET NULL")
    result = TextField(default="")
    cancelled = BooleanField(default=False)
    created_at = DateTimeField(default=clock.now)
    created_by = ForeignKeyField(User, null=True, backref="corrective_actions_created",
                                 on_delete="SET NULL")


class Setting(BaseModel):
    """A clinic-wide setting, shared by every workstation; the value is JSON."""

    key = CharField(max_length=100, primary_key=True)
    value = TextField()


# In the order rows can be copied: a table after those it refers to.
ALL_MODELS = [SchemaVersion, Site, User, Patient, PatientPhone, PatientSearchToken,
              Interaction, FamilyLink, VaccinationPlan, VaccineDose, ChildDueState, AuditEntry,
              Setting,
              Prospect, ProspectPhone, ProspectSearchToken, ProspectRequest,
              ProspectInteraction, FollowUpTask, SurveyResponse, GuestbookEntry, Campaign,
              CampaignMember,
              Pregnancy, MilestoneRecord, Delivery, DeliveryBaby, Call36Weeks,
              DirectoryEntry, CallRecord, PhoneMessage, Appointment, SmsMessage, SmsEvent,
              OpeningHours, ClosedDay, PathwayChange, MothersGroup, NewsletterSeries,
              NewsletterTopic, NewsletterSending, QualityCase, CorrectiveAction]
