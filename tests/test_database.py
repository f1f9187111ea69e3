import sqlite3

import pytest
from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField
from playhouse.migrate import SchemaMigrator, migrate

from nest_desktop.db import migrations
from nest_desktop.db.connection import close_database, open_database, sqlite_url
from nest_desktop.db.models import Patient, SchemaVersion, Site, User


@pytest.fixture
def db(empty_db):
    """These tests write their own rows in a new database."""
    return empty_db


@pytest.mark.sqlite_only
def test_new_database_is_created_at_the_latest_version_with_sqlite_pragmas(db):
    assert migrations.current_version(db) == migrations.SCHEMA_VERSION
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_an_older_database_is_upgraded_in_place_without_losing_a_row(db):
    Site.create(name="Clinique Nest Mermoz")

    def add_site_email(database):
        migrate(SchemaMigrator.from_database(database).add_column(
            "site", "email", CharField(default="")))

    previous = migrations.upgrade(db, target=migrations.SCHEMA_VERSION + 1,
                                  migrations={migrations.SCHEMA_VERSION + 1: add_site_email})
    assert previous == migrations.SCHEMA_VERSION
    assert migrations.current_version(db) == migrations.SCHEMA_VERSION + 1
    assert db.execute_sql("SELECT name, email FROM site").fetchall() == [
        ("Clinique Nest Mermoz", "")]


def test_a_failed_migration_leaves_the_database_as_it_was(db):
    Site.create(name="Clinique Nest Mermoz")

    def broken(database):
        database.execute_sql("UPDATE site SET name = 'changed'")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrations.upgrade(db, target=migrations.SCHEMA_VERSION + 1,
                           migrations={migrations.SCHEMA_VERSION + 1: broken})
    assert Site.get().name == "Clinique Nest Mermoz"
    assert migrations.current_version(db) == migrations.SCHEMA_VERSION


def test_a_database_newer_than_the_application_is_refused(tmp_path):
    path = tmp_path / "newer.sqlite3"
    open_database(sqlite_url(path))
    SchemaVersion.update(version=migrations.SCHEMA_VERSION + 1).execute()
    close_database()
    with pytest.raises(migrations.SchemaError) as error:
        open_database(sqlite_url(path))
    assert "plus récente" in str(error.value)


def test_a_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE something (id INTEGER)")
    connection.close()
    with pytest.raises(migrations.SchemaError):
        open_database(sqlite_url(path))


def test_deleting_a_patient_cascades_to_phones(desk):
    from nest_desktop.services import patients

    patient = patients.create_patient(patients.PatientForm(
        last_name="Diop", first_names="Awa", phones=["771234567"]))
    Patient.delete_by_id(patient.id)
    assert patients.search_ids("77 12") == []


def make_version_1(db):
    """Takes a new database back to what version 1 was, with a site and two users."""
    from nest_desktop.db.models import (
        ALL_MODELS,
        FamilyLink,
        PatientPhone,
        PatientSearchToken,
        SchemaVersion,
        Setting,
    )

    version_1 = {SchemaVersion, Site, User, Patient, PatientPhone, PatientSearchToken,
                 FamilyLink, Setting}
    db.drop_tables([model for model in ALL_MODELS if model not in version_1])

    class V1Interaction(Model):  # the table as version 1 made it: no site
        patient = ForeignKeyField(Patient, on_delete="CASCADE")
        occurred_at = DateTimeField(index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        channel = CharField(max_length=20)
        direction = CharField(max_length=10)
        subject = CharField(max_length=200)
        notes = TextField(default="")
        outcome = CharField(max_length=200, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "interaction"

    db.create_tables([V1Interaction])
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.drop_index("user", "user_login"),
            *[migrator.drop_column("user", column) for column in (
                "login", "password_hash", "must_change_password", "failed_logins",
                "locked_until")])
    SchemaVersion.update(version=1).execute()
    site = Site.create(name="Clinique Nest Almadies")
    patient = Patient.create(last_name="Diop", first_names="Awa", sort_key="diop awa", sex="F",
                             site=site)
    V1Interaction.create(patient=patient, occurred_at="2026-01-02 09:00:00", channel="phone",
                         direction="incoming", subject="Tarifs", created_at="2026-01-02 09:00:00")
    migrate(migrator.drop_column("patient", "language"))  # came with the SMS (version 10)
    migrate(migrator.drop_column("patient", "first_visit_at"))  # with the agenda (11)
    migrate(migrator.drop_column("patient_phone", "wrong_since"))  # 11 too
    migrate(migrator.drop_index("patient", "patient_pathway_ends_on"),  # the pathways (12)
            migrator.drop_column("patient", "pathway_ends_on"))
    db.execute_sql("INSERT INTO site (name, phone, address, active) "
                   "VALUES ('Clinique Nest Mermoz', '', '', TRUE)")
    for name, first_name in (("Clémence Diatta", "Clémence"), ("Clémence Sow", "Clémence")):
        db.execute_sql('INSERT INTO "user" (full_name, phone_first_name, role, active, '
                       f"created_at) VALUES ({db.param}, {db.param}, 'secretary', TRUE, "
                       "'2026-01-01 08:00:00')", (name, first_name))


def test_a_version_1_database_is_upgraded_to_the_latest_and_keeps_its_rows(db):
    from nest_desktop.db.models import AuditEntry, Interaction, User, VaccinationPlan, VaccineDose

    make_version_1(db)
    assert migrations.upgrade(db) == 1
    assert migrations.current_version(db) == migrations.SCHEMA_VERSION
    assert [s.name for s in Site.select().order_by(Site.id)] == [
        "Clinique Nest Almadies", "Clinique Nest Mermoz"]
    # A contact made before sites were recorded on contacts takes her patient's site.
    assert Interaction.get().site.name == "Clinique Nest Almadies"
    # Users made before accounts get distinct logins and choose a password at first login.
    assert [(u.login, u.password_hash, u.must_change_password)
            for u in User.select().order_by(User.id)] == [
        ("clemence", "", True), ("clemence2", "", True)]
    # What the steps made is what the models describe.
    for model in (VaccinationPlan, VaccineDose, AuditEntry, User, Interaction, Patient):
        columns = {c.name for c in db.get_columns(model._meta.table_name)}
        assert columns == {f.column_name for f in model._meta.sorted_fields}, model
    assert Patient.get().language == "fr"
    assert any(i.unique for i in db.get_indexes("vaccine_dose"))
    assert {"user_login": True}.items() <= {i.name: i.unique
                                            for i in db.get_indexes("user")}.items()


def test_a_repeated_insert_writes_what_peewee_would(db):
    """The import's fast path: one statement built, run for each row, same rows stored."""
    import datetime as dt

    from nest_desktop.db.bulk import RepeatedInsert
    from nest_desktop.db.models import Prospect

    insert = RepeatedInsert(Prospect)
    ids = [insert(last_name=last, first_names="Awa", sort_key=f"{last.lower()} awa",
                  birth_date=born, channel="phone", qualification="quote", status="new",
                  created_at=dt.datetime(2026, 11, 23, 9, 0), site=None)
           for last, born in (("Diop", None), ("Fall", dt.date(1990, 1, 2)),
                              ("Sarr", dt.date(1988, 5, 6)))]
    assert not insert.fallback and insert.sql is not None
    stored = [Prospect.get_by_id(prospect_id) for prospect_id in ids]
    assert [(p.last_name, p.birth_date, p.version, p.notes) for p in stored] == [
        ("Diop", None, 1, ""), ("Fall", dt.date(1990, 1, 2), 1, ""),
        ("Sarr", dt.date(1988, 5, 6), 1, "")]
