"""Schema versions: a new database is created at the latest version, an older one upgraded.

To change the schema: change the models, add a function to `MIGRATIONS` under the next
number that brings a database of the previous version to the new one (with
`playhouse.migrate`, portable across SQLite and PostgreSQL), and raise `SCHEMA_VERSION`.
"""

from collections.abc import Callable

from peewee import (
    BooleanField,
    CharField,
    Database,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from nest_desktop.db.models import (
    ALL_MODELS,
    FollowUpTask,
    Patient,
    Prospect,
    SchemaVersion,
    Site,
    User,
)
from nest_desktop.domain import clock
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import fold

SCHEMA_VERSION = 15


def _add_vaccination(db: Database) -> None:
    """2: vaccination plans and doses given (child follow-up).

    The tables are frozen here as they were at version 2, so that later changes of the
    models never change what this step creates.
    """

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class VaccinationPlan(Frozen):
        patient = ForeignKeyField(Patient, unique=True, on_delete="CASCADE")
        schedule = CharField(max_length=30, default="senegal")
        optional_vaccines = TextField(default="[]")
        updated_at = DateTimeField(default=clock.now)

    class VaccineDose(Frozen):
        patient = ForeignKeyField(Patient, on_delete="CASCADE")
        vaccine = CharField(max_length=30)
        dose = IntegerField()
        given_on = DateField()
        product = CharField(max_length=100, default="")
        lot = CharField(max_length=50, default="")
        place = CharField(max_length=20, default="nest")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = DateTimeField(default=clock.now)

        class Meta:
            indexes = ((("patient", "vaccine", "dose"), True),)

    db.create_tables([VaccinationPlan, VaccineDose])


def _add_accounts_and_audit(db: Database) -> None:
    """3: accounts (login, Argon2 password, lockout) and the audit trail.

    Users made before accounts existed get a login from their first name and must choose a
    password at their first login.
    """
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    migrate(
        migrator.add_column("user", "login", CharField(max_length=50, default="")),
        migrator.add_column("user", "password_hash", CharField(max_length=200, default="")),
        migrator.add_column("user", "must_change_password", BooleanField(default=True)),
        migrator.add_column("user", "failed_logins", IntegerField(default=0)),
        migrator.add_column("user", "locked_until", DateTimeField(null=True)),
    )
    taken: set[str] = set()
    for user_id, first_name in db.execute_sql(
            'SELECT id, phone_first_name FROM "user" ORDER BY id').fetchall():
        login = "".join(ch for ch in fold(first_name) if ch.isalnum()) or "user"
        candidate, number = login, 1
        while candidate in taken:
            number += 1
            candidate = f"{login}{number}"
        taken.add(candidate)
        db.execute_sql('UPDATE "user" SET login = %s WHERE id = %s'.replace(
            "%s", db.param), (candidate, user_id))
    migrate(migrator.add_index("user", ("login",), True))

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class AuditEntry(Frozen):
        at = DateTimeField(default=clock.now, index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        user_name = CharField(max_length=100, default="")
        action = CharField(max_length=30)
        table = CharField(max_length=50, default="")
        record_id = IntegerField(null=True)
        changes = TextField(default="{}")
        details = TextField(default="")

        class Meta:
            indexes = ((("table", "record_id"), False),)

    db.create_tables([AuditEntry])


def _add_interaction_site(db: Database) -> None:
    """4: each contact carries the site where it was made (reports per site); the patient's
    site for the contacts recorded before."""
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("interaction", "site_id",
                                ForeignKeyField(Site, null=True, field=Site.id,
                                                on_delete="SET NULL")))
    db.execute_sql("UPDATE interaction SET site_id = (SELECT site_id FROM patient "
                   "WHERE patient.id = interaction.patient_id)")


def _add_audit_patient(db: Database) -> None:
    """5: each audit entry names the patient whose file it is about, for the file's history;
    entries about a patient record itself are filled in."""
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("audit_entry", "patient_id", IntegerField(null=True)),
            migrator.add_index("audit_entry", ("patient_id",), False))
    db.execute_sql("UPDATE audit_entry SET patient_id = record_id WHERE \"table\" = 'patient'")


def _add_follow_ups(db: Database) -> None:
    """6: follow-up tasks (the Today queue), satisfaction survey answers, the guestbook and
    call campaigns, frozen as at version 6."""

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class FollowUpTask(Frozen):
        key = CharField(max_length=120, unique=True)
        rule = CharField(max_length=40)
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE")
        source_table = CharField(max_length=40)
        source_id = IntegerField()
        event_at = DateTimeField()
        opens_at = DateTimeField()
        due_at = DateTimeField()
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        assignee_role = CharField(max_length=30)
        assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")
        status = CharField(max_length=12, default="open")
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        outcome = CharField(max_length=30, default="")
        closed_at = DateTimeField(null=True)
        closed_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=clock.now)
        updated_at = DateTimeField(default=clock.now)

        class Meta:
            indexes = ((("status", "due_at"), False), (("source_table", "source_id"), False))

    class SurveyResponse(Frozen):
        survey = CharField(max_length=40)
        patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL")
        task = ForeignKeyField(FollowUpTask, null=True, on_delete="SET NULL")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        channel = CharField(max_length=20)
        answered_at = DateTimeField(default=clock.now, index=True)
        answers = TextField(default="{}")
        score = IntegerField(null=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

    class GuestbookEntry(Frozen):
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        written_on = DateField(index=True)
        author = CharField(max_length=100, default="")
        text = TextField()
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = DateTimeField(default=clock.now)

    class Campaign(Frozen):
        name = CharField(max_length=100)
        reason = CharField(max_length=30)
        segment = TextField(default="{}")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=clock.now)

    class CampaignMember(Frozen):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        patient = ForeignKeyField(Patient, on_delete="CASCADE")

        class Meta:
            indexes = ((("campaign", "patient"), True),)

    db.create_tables([FollowUpTask, SurveyResponse, GuestbookEntry, Campaign, CampaignMember])


def _add_pregnancies(db: Database) -> None:
    """7: pregnancies, their milestones, deliveries and babies, the 36-week call's form;
    frozen as at version 7."""
    from nest_desktop.db.models import FollowUpTask

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Pregnancy(Frozen):
        patient = ForeignKeyField(Patient, on_delete="CASCADE")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        ddr = DateField(index=True)
        dating_method = CharField(max_length=20, default="ddr")
        stated_ddr = DateField(null=True)
        scan_date = DateField(null=True)
        scan_weeks = IntegerField(null=True)
        scan_days = IntegerField(null=True)
        planned_place = CharField(max_length=100, default="")
        status = CharField(max_length=12, default="ongoing")
        end_reason = CharField(max_length=20, default="")
        ended_on = DateField(null=True)
        created_at = DateTimeField(default=clock.now)
        updated_at = DateTimeField(default=clock.now)
        version = IntegerField(default=1)

    class MilestoneRecord(Frozen):
        pregnancy = ForeignKeyField(Pregnancy, on_delete="CASCADE")
        milestone = CharField(max_length=40)
        status = CharField(max_length=12)
        done_on = DateField(null=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = DateTimeField(default=clock.now)

        class Meta:
            indexes = ((("pregnancy", "milestone"), True),)

    class Delivery(Frozen):
        pregnancy = ForeignKeyField(Pregnancy, unique=True, on_delete="CASCADE")
        delivered_at = DateTimeField()
        place = CharField(max_length=100, default="")
        at_nest = BooleanField(default=True)
        discharged_at = DateTimeField(null=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = DateTimeField(default=clock.now)

    class DeliveryBaby(Frozen):
        delivery = ForeignKeyField(Delivery, on_delete="CASCADE")
        child = ForeignKeyField(Patient, on_delete="CASCADE")
        weight_grams = IntegerField(null=True)

    class Call36Weeks(Frozen):
        pregnancy = ForeignKeyField(Pregnancy, on_delete="CASCADE")
        task = ForeignKeyField(FollowUpTask, null=True, on_delete="SET NULL")
        planned_place = CharField(max_length=100, default="")
        tariffs_given = BooleanField(default=False)
        coverage_given = BooleanField(default=False)
        financial_conditions_given = BooleanField(default=False)
        classes_proposed = BooleanField(default=False)
        classes_accepted = BooleanField(default=False)
        mothers_group = CharField(max_length=20, default="")
        newsletter_wanted = BooleanField(default=False)
        newsletter_channel = CharField(max_length=20, default="")
        child_followed_at_nest = BooleanField(default=False)
        notes = TextField(default="")
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recorded_at = DateTimeField(default=clock.now)

    db.create_tables([Pregnancy, MilestoneRecord, Delivery, DeliveryBaby, Call36Weeks])


def _add_prospects(db: Database) -> None:
    """8: prospects, their phones, search words, requests and contacts; a follow-up may be
    about a prospect. Frozen as at version 8."""
    from playhouse.migrate import SchemaMigrator, migrate

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Prospect(Frozen):
        last_name = CharField(max_length=100)
        first_names = CharField(max_length=100, default="")
        sort_key = CharField(max_length=210, index=True)
        birth_date = DateField(null=True, index=True)
        email = CharField(max_length=200, default="")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        channel = CharField(max_length=20)
        qualification = CharField(max_length=20)
        owner = ForeignKeyField(User, null=True, on_delete="SET NULL")
        status = CharField(max_length=20, default="new", index=True)
        lost_reason = CharField(max_length=20, default="")
        patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL")
        converted_at = DateTimeField(null=True)
        notes = TextField(default="")
        created_at = DateTimeField(default=clock.now, index=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="prospects_created_frozen")
        updated_at = DateTimeField(default=clock.now)
        version = IntegerField(default=1)

    class ProspectPhone(Frozen):
        prospect = ForeignKeyField(Prospect, on_delete="CASCADE")
        e164 = CharField(max_length=20, index=True)
        national_digits = CharField(max_length=20, index=True)
        position = IntegerField(default=0)

    class ProspectSearchToken(Frozen):
        prospect = ForeignKeyField(Prospect, on_delete="CASCADE")
        token = CharField(max_length=100, index=True)

    class ProspectRequest(Frozen):
        prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE")
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE")
        qualification = CharField(max_length=20)
        channel = CharField(max_length=20)
        received_at = DateTimeField(default=clock.now)
        text = TextField(default="")
        answer = TextField(default="")
        answered_at = DateTimeField(null=True, index=True)
        answered_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="requests_created_frozen")

    class ProspectInteraction(Frozen):
        prospect = ForeignKeyField(Prospect, on_delete="CASCADE")
        occurred_at = DateTimeField(default=clock.now, index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        channel = CharField(max_length=20)
        direction = CharField(max_length=10)
        subject = CharField(max_length=200)
        notes = TextField(default="")
        outcome = CharField(max_length=200, default="")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL")

    db.create_tables([Prospect, ProspectPhone, ProspectSearchToken, ProspectRequest,
                      ProspectInteraction])
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("follow_up_task", "prospect_id",
                                ForeignKeyField(Prospect, null=True, field=Prospect.id,
                                                on_delete="CASCADE")))


def _add_reception(db: Database) -> None:
    """9: the answering of the phone: directory of services and people per site, call
    register, messages, appointments. Frozen as at version 9."""

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class DirectoryEntry(Frozen):
        site = ForeignKeyField(Site, on_delete="CASCADE", backref="frozen_directory")
        kind = CharField(max_length=10, default="service")
        name = CharField(max_length=100)
        said_as = CharField(max_length=120, default="")
        extension = CharField(max_length=20, default="")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL",
                               backref="frozen_directory_entries")
        takes_appointments = BooleanField(default=False)
        active = BooleanField(default=True)
        position = IntegerField(default=0)

    class CallRecord(Frozen):
        direction = CharField(max_length=3)
        started_at = DateTimeField(index=True)
        ended_at = DateTimeField(null=True)
        duration_seconds = IntegerField(default=0)
        hold_seconds = IntegerField(default=0)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="frozen_calls")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL", backref="frozen_calls")
        phone = CharField(max_length=30, default="")
        caller_name = CharField(max_length=200, default="")
        patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL",
                                  backref="frozen_calls")
        prospect = ForeignKeyField(Prospect, null=True, on_delete="SET NULL",
                                   backref="frozen_calls")
        reason = CharField(max_length=40)
        summary = TextField(default="")
        outcome = CharField(max_length=20, index=True)
        transferred_to = ForeignKeyField(DirectoryEntry, null=True, on_delete="SET NULL")
        task = ForeignKeyField(FollowUpTask, null=True, on_delete="SET NULL",
                               backref="frozen_calls")
        resolved_at = DateTimeField(null=True)
        resolved_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                      backref="frozen_calls_resolved")
        resolution = TextField(default="")

    class PhoneMessage(Frozen):
        call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL",
                               backref="frozen_phone_messages")
        recipient = ForeignKeyField(DirectoryEntry, null=True, on_delete="SET NULL")
        recipient_name = CharField(max_length=100)
        caller_name = CharField(max_length=200)
        caller_phone = CharField(max_length=30, default="")
        patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL",
                                  backref="frozen_phone_messages")
        prospect = ForeignKeyField(Prospect, null=True, on_delete="SET NULL",
                                   backref="frozen_phone_messages")
        text = TextField()
        urgent = BooleanField(default=False)
        taken_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                   backref="frozen_messages_taken")
        taken_at = DateTimeField(index=True)
        confirmed_at = DateTimeField(null=True)
        confirmed_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                       backref="frozen_messages_confirmed")
        confirmed_how = CharField(max_length=20, default="")
        confirmation_note = CharField(max_length=200, default="")

    class Appointment(Frozen):
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE",
                                  backref="frozen_appointments")
        prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE",
                                   backref="frozen_appointments")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL",
                               backref="frozen_appointments")
        service = ForeignKeyField(DirectoryEntry, null=True, on_delete="SET NULL")
        starts_at = DateTimeField(index=True)
        duration_minutes = IntegerField(default=30)
        reason = CharField(max_length=200, default="")
        status = CharField(max_length=12, default="booked")
        cancel_reason = CharField(max_length=200, default="")
        call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL")
        booked_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                    backref="frozen_appointments_booked")
        booked_at = DateTimeField(default=clock.now)
        updated_at = DateTimeField(default=clock.now)
        version = IntegerField(default=1)

    db.create_tables([DirectoryEntry, CallRecord, PhoneMessage, Appointment])


def _add_sms(db: Database) -> None:
    """10: the SMS outbox and its history; each patient's language for her SMS, each
    prospect's consent to SMS reminders. Frozen as at version 10."""
    # With a default in SQL: playhouse would make a NOT NULL column by copying the table,
    # and SQLite would cascade the drop of the old table to every contact and phone.
    db.execute_sql("ALTER TABLE patient ADD COLUMN language VARCHAR(5) NOT NULL DEFAULT 'fr'")
    db.execute_sql("ALTER TABLE prospect ADD COLUMN sms_consent BOOLEAN NOT NULL DEFAULT FALSE")

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Campaign(Frozen):
        name = CharField(max_length=100)

    class SmsMessage(Frozen):
        key = CharField(max_length=120, unique=True)
        kind = CharField(max_length=12)
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE",
                                  backref="frozen_sms")
        prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE",
                                   backref="frozen_sms")
        source_table = CharField(max_length=40, default="")
        source_id = IntegerField(null=True)
        occurrence = CharField(max_length=60, default="")
        event_at = DateTimeField(null=True)
        phone = CharField(max_length=20)
        language = CharField(max_length=5, default="fr")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL", backref="frozen_sms")
        campaign = ForeignKeyField(Campaign, null=True, on_delete="SET NULL",
                                   backref="frozen_sms")
        body = TextField(default="")
        text = TextField(default="")
        parts = IntegerField(default=0)
        scheduled_at = DateTimeField()
        expires_at = DateTimeField(null=True)
        state = CharField(max_length=12, default="scheduled")
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        last_error = TextField(default="")
        transport = CharField(max_length=20, default="")
        provider_ref = CharField(max_length=100, default="")
        sent_at = DateTimeField(null=True)
        delivered_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="frozen_sms_created")
        created_at = DateTimeField(default=clock.now)
        updated_at = DateTimeField(default=clock.now)

        class Meta:
            indexes = ((("state", "next_attempt_at"), False),
                       (("source_table", "source_id"), False), (("scheduled_at",), False))

    class SmsEvent(Frozen):
        message = ForeignKeyField(SmsMessage, on_delete="CASCADE", backref="frozen_events")
        at = DateTimeField(default=clock.now)
        state = CharField(max_length=12)
        detail = TextField(default="")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL",
                               backref="frozen_sms_events")

    db.create_tables([SmsMessage, SmsEvent])


def _add_agenda(db: Database) -> None:
    """11: the agenda: opening hours and closed days of the sites, each appointment's kind,
    override, arrival and time seen; the service of each practitioner; urgent tasks.
    Frozen as at version 11."""
    from playhouse.migrate import SchemaMigrator, migrate

    from nest_desktop.db.models import DirectoryEntry

    # With a default in SQL, for the reason given in _add_sms.
    db.execute_sql("ALTER TABLE appointment ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT ''")
    db.execute_sql("ALTER TABLE appointment ADD COLUMN override_reason VARCHAR(200) "
                   "NOT NULL DEFAULT ''")
    # and an urgent message's task is first on Today
    db.execute_sql("ALTER TABLE follow_up_task ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE")
    db.execute_sql("UPDATE follow_up_task SET urgent = TRUE WHERE source_table = "
                   "'phone_message' AND source_id IN (SELECT id FROM phone_message WHERE "
                   "urgent)")
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("appointment", "arrived_at", DateTimeField(null=True)),
            migrator.add_column("appointment", "seen_at", DateTimeField(null=True)),
            migrator.add_column("patient", "first_visit_at", DateTimeField(null=True)),
            migrator.add_column("patient_phone", "wrong_since", DateTimeField(null=True)),
            migrator.add_column("directory_entry", "service_id",
                                ForeignKeyField(DirectoryEntry, null=True,
                                                field=DirectoryEntry.id,
                                                on_delete="SET NULL")))

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class OpeningHours(Frozen):
        site = ForeignKeyField(Site, on_delete="CASCADE", backref="frozen_hours")
        entry = ForeignKeyField(DirectoryEntry, null=True, on_delete="CASCADE",
                                backref="frozen_hours")
        weekday = IntegerField()
        opens = CharField(max_length=5)
        closes = CharField(max_length=5)

    class ClosedDay(Frozen):
        site = ForeignKeyField(Site, on_delete="CASCADE", backref="frozen_closed_days")
        day = DateField()
        reason = CharField(max_length=100, default="")

        class Meta:
            indexes = ((("site", "day"), True),)

    db.create_tables([OpeningHours, ClosedDay])


def _add_pathways_and_newsletters(db: Database) -> None:
    """12: the pathway's history and end (post-natal), the mothers' group membership, the
    monthly newsletters, campaigns that reach qualified prospects, and the audit trail's
    chain. Frozen as at version 12."""
    import datetime as dt

    from playhouse.migrate import SchemaMigrator, migrate

    db.execute_sql("ALTER TABLE prospect ADD COLUMN newsletter_consent BOOLEAN NOT NULL "
                   "DEFAULT FALSE")
    # the trail's chain starts here: earlier entries keep an empty one (services.audit)
    db.execute_sql("ALTER TABLE audit_entry ADD COLUMN previous_chain VARCHAR(64) NOT NULL "
                   "DEFAULT ''")
    db.execute_sql("ALTER TABLE audit_entry ADD COLUMN chain VARCHAR(64) NOT NULL DEFAULT ''")
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("patient", "pathway_ends_on", DateField(null=True)),
            migrator.add_index("patient", ("pathway_ends_on",)),
            migrator.drop_not_null("campaign_member", "patient_id"),
            migrator.add_column("campaign_member", "prospect_id",
                                ForeignKeyField(Prospect, null=True, field=Prospect.id,
                                                on_delete="CASCADE")))
    migrate(migrator.add_index("campaign_member", ("campaign_id", "prospect_id"), True))

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class PathwayChange(Frozen):
        patient = ForeignKeyField(Patient, on_delete="CASCADE", backref="frozen_changes")
        from_pathway = CharField(max_length=20)
        to_pathway = CharField(max_length=20, index=True)
        changed_at = DateTimeField(default=clock.now)
        reason = CharField(max_length=20)
        pregnancy_id = IntegerField(null=True)
        changed_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="frozen_pathway_changes")

    class MothersGroup(Frozen):
        patient = ForeignKeyField(Patient, unique=True, on_delete="CASCADE",
                                  backref="frozen_group")
        status = CharField(max_length=12)
        channel = CharField(max_length=12, default="")
        invited_on = DateField(null=True)
        joined_on = DateField(null=True)
        declined_on = DateField(null=True)
        left_on = DateField(null=True)
        updated_at = DateTimeField(default=clock.now)
        updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="frozen_group_updates")

    class NewsletterSeries(Frozen):
        name = CharField(max_length=100)
        segment = TextField(default="{}")
        day_of_month = IntegerField(default=1)
        send_time = CharField(max_length=5, default="10:00")
        channel = CharField(max_length=10, default="sms")
        active = BooleanField(default=True)
        last_month = CharField(max_length=7, default="")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL", backref="frozen_series")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="frozen_series")
        created_at = DateTimeField(default=clock.now)

    class NewsletterTopic(Frozen):
        series = ForeignKeyField(NewsletterSeries, on_delete="CASCADE", backref="topics")
        position = IntegerField()
        title = CharField(max_length=100)
        body = TextField()
        created_at = DateTimeField(default=clock.now)

    class NewsletterSending(Frozen):
        topic = ForeignKeyField(NewsletterTopic, on_delete="CASCADE", backref="sendings")
        patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE",
                                  backref="frozen_sendings")
        prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE",
                                   backref="frozen_sendings")
        month = CharField(max_length=7)
        channel = CharField(max_length=10)
        sent_at = DateTimeField(default=clock.now)

        class Meta:
            indexes = ((("topic", "patient"), True), (("topic", "prospect"), True))

    db.create_tables([PathwayChange, MothersGroup, NewsletterSeries, NewsletterTopic,
                      NewsletterSending])
    # A mother kept "pregnancy" after her birth (before this version): post-natal for the
    # eight weeks after it, then without a pathway, as the procedure says.
    today = clock.today()
    births = db.execute_sql(
        "SELECT p.id, MAX(d.delivered_at), MAX(g.id) FROM patient p "
        "JOIN pregnancy g ON g.patient_id = p.id JOIN delivery d ON d.pregnancy_id = g.id "
        "WHERE p.pathway = 'pregnancy' AND NOT EXISTS (SELECT 1 FROM pregnancy o "
        "WHERE o.patient_id = p.id AND o.status = 'ongoing') GROUP BY p.id").fetchall()
    for patient_id, delivered_at, pregnancy_id in births:
        if isinstance(delivered_at, str):
            delivered_at = dt.datetime.fromisoformat(delivered_at)
        ends_on = delivered_at.date() + dt.timedelta(weeks=8)
        PathwayChange.create(patient=patient_id, from_pathway="pregnancy",
                             to_pathway="postnatal", changed_at=delivered_at, reason="birth",
                             pregnancy_id=pregnancy_id)
        if ends_on > today:
            Patient.update(pathway="postnatal", pathway_ends_on=ends_on).where(
                Patient.id == patient_id).execute()
        else:
            PathwayChange.create(patient=patient_id, from_pathway="postnatal",
                                 to_pathway="none",
                                 changed_at=dt.datetime.combine(ends_on, dt.time()),
                                 reason="postnatal_over")
            Patient.update(pathway="none").where(Patient.id == patient_id).execute()
    # What the 36-week calls heard about the mothers' group is her membership.
    answers = db.execute_sql(
        "SELECT g.patient_id, c.mothers_group, c.recorded_at FROM call36_weeks c "
        "JOIN pregnancy g ON g.id = c.pregnancy_id WHERE c.mothers_group <> '' "
        "ORDER BY c.recorded_at").fetchall()
    latest = {patient_id: (answer, at) for patient_id, answer, at in answers}
    for patient_id, (answer, at) in latest.items():
        day = (dt.datetime.fromisoformat(at) if isinstance(at, str) else at).date()
        if answer == "declined":
            MothersGroup.create(patient=patient_id, status="declined", declined_on=day)
        else:
            MothersGroup.create(patient=patient_id, status="joined", joined_on=day,
                                channel=answer if answer in ("whatsapp", "facebook") else "")


def _add_lead_details(db: Database) -> None:
    """13: a lead imported without a name (asked at the callback), and the form and ad a
    request came from (Meta's lead exports)."""
    db.execute_sql("ALTER TABLE prospect ADD COLUMN name_to_complete BOOLEAN NOT NULL "
                   "DEFAULT FALSE")
    db.execute_sql("ALTER TABLE prospect_request ADD COLUMN source VARCHAR(300) NOT NULL "
                   "DEFAULT ''")


def _add_kept_state(db: Database) -> None:
    """14: each child's place in the due lists and each pregnancy's next milestone, kept
    rather than computed for every list (built by the first maintenance pass: until then the
    lists compute them); covering indexes for the as-you-type search; the indexes of the
    vaccine doses that nothing used (half the database on a large clinic); the patients' order
covering the adults' and a site's filters; the ongoing pregnancies by term. Frozen as at
    version 14."""
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("pregnancy", "next_milestone",
                                CharField(max_length=40, default="")),
            migrator.add_column("pregnancy", "next_milestone_on", DateField(null=True)),
            migrator.add_column("pregnancy", "milestone_computed_on", DateField(null=True)),
            migrator.add_column("pregnancy", "milestone_recheck_on", DateField(null=True)),
            migrator.add_index("pregnancy", ("milestone_recheck_on",)))
    for index in ("vaccine_dose_patient_id", "vaccine_dose_site_id",
                  "vaccine_dose_recorded_by_id", "patient_search_token_token",
                  "patient_phone_national_digits"):
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
    # (a database made at version 1 has them already: its tables came from the models)
    db.execute_sql("CREATE INDEX IF NOT EXISTS patient_search_token_token_patient_id "
                   "ON patient_search_token (token, patient_id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS patient_phone_national_digits_patient_id "
                   "ON patient_phone (national_digits, patient_id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS pregnancy_status_ddr_site_id "
                   "ON pregnancy (status, ddr, site_id)")
    db.execute_sql("DROP INDEX IF EXISTS patient_sort_key")
    db.execute_sql("CREATE INDEX IF NOT EXISTS patient_sort_key_birth_date_site_id "
                   "ON patient (sort_key, birth_date, site_id)")

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ChildDueState(Frozen):
        patient = ForeignKeyField(Patient, primary_key=True, on_delete="CASCADE",
                                  backref="frozen_due_state")
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL", index=False,
                               backref="frozen_due_states")
        birth_date = DateField()
        sort_name = CharField(max_length=210)
        computed_on = DateField(index=True)
        next_scheduled = DateField(null=True, index=True)
        overdue_from = DateField(null=True)
        recheck_on = DateField(null=True, index=True)
        next_reminder_on = DateField(null=True, index=True)

        class Meta:
            indexes = ((("site", "next_scheduled"), False),)

    db.create_tables([ChildDueState])


def _add_quality_register(db: Database) -> None:
    """15: the register of complaints and non-conformities and their corrective actions
    (ISO 9001 §10.2); the indexes the quality indicators read a period's calls, appointments
    and SMS reminders from. Frozen as at version 15."""

    class Frozen(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class QualityCase(Frozen):
        kind = CharField(max_length=20)
        source = CharField(max_length=20)
        source_table = CharField(max_length=40, default="")
        source_id = IntegerField(null=True)
        patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL",
                                  backref="frozen_quality_cases")
        person_name = CharField(max_length=200, default="")
        occurred_on = DateField()
        site = ForeignKeyField(Site, null=True, on_delete="SET NULL",
                               backref="frozen_quality_cases")
        category = CharField(max_length=20)
        severity = CharField(max_length=12)
        description = TextField()
        assigned_to = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                      backref="frozen_quality_assigned")
        cause = TextField(default="")
        immediate_action = TextField(default="")
        effectiveness = TextField(default="")
        effective = BooleanField(null=True)
        status = CharField(max_length=12, default="recorded", index=True)
        closed_at = DateTimeField(null=True)
        closed_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                    backref="frozen_quality_closed")
        recorded_at = DateTimeField(default=clock.now, index=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                      backref="frozen_quality_recorded")
        updated_at = DateTimeField(default=clock.now)
        version = IntegerField(default=1)

        class Meta:
            indexes = ((("source_table", "source_id"), False),
                       (("occurred_on", "site"), False))

    class CorrectiveAction(Frozen):
        case = ForeignKeyField(QualityCase, on_delete="CASCADE", backref="frozen_actions")
        description = TextField()
        owner = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                backref="frozen_actions_owned")
        deadline = DateField()
        done_at = DateTimeField(null=True)
        done_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                  backref="frozen_actions_done")
        result = TextField(default="")
        cancelled = BooleanField(default=False)
        created_at = DateTimeField(default=clock.now)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="frozen_actions_created")

    db.create_tables([QualityCase, CorrectiveAction])
    db.execute_sql("CREATE INDEX IF NOT EXISTS call_record_started_at_direction_outcome_"
                   "hold_seconds ON call_record (started_at, direction, outcome, hold_seconds)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS appointment_starts_at_status "
                   "ON appointment (starts_at, status)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS sms_message_kind_event_at_state_source_table_"
                   "source_id ON sms_message (kind, event_at, state, source_table, source_id)")


# version -> function upgrading a database from version - 1 to version.
MIGRATIONS: dict[int, Callable[[Database], None]] = {
    2: _add_vaccination,
    3: _add_accounts_and_audit,
    4: _add_interaction_site,
    5: _add_audit_patient,
    6: _add_follow_ups,
    7: _add_pregnancies,
    8: _add_prospects,
    9: _add_reception,
    10: _add_sms,
    11: _add_agenda,
    12: _add_pathways_and_newsletters,
    13: _add_lead_details,
    14: _add_kept_state,
    15: _add_quality_register,
}


class SchemaError(RuntimeError):
    """The database cannot be used by this version of the application."""


def current_version(db: Database) -> int | None:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def upgrade(db: Database, target: int = SCHEMA_VERSION,
            migrations: dict[int, Callable[[Database], None]] | None = None) -> int:
    """Brings the database to `target`; returns the version it was at (0 when new)."""
    steps = MIGRATIONS if migrations is None else migrations
    version = current_version(db)
    if version is None:
        if db.get_tables():
            raise SchemaError(_("This database is not a NEST Desktop database."))
        with db.atomic():
            db.create_tables(ALL_MODELS)
            SchemaVersion.create(version=target)
        return 0
    if version > target:
        raise SchemaError(
            _("This database was written by a newer NEST Desktop (schema {found}, this version "
              "knows up to {known}). Install the newer version to open it.").format(
                found=version, known=target)
        )
    for step in range(version + 1, target + 1):
        if step not in steps:
            raise SchemaError(f"missing migration to schema version {step}")
        with db.atomic():
            steps[step](db)
            SchemaVersion.update(version=step).execute()
    return version
