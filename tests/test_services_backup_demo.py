import datetime as dt

import pytest

from nest_desktop.db.models import DeliveryBaby, FamilyLink, Interaction, Patient, Site, VaccineDose
from nest_desktop.domain import clock
from nest_desktop.services import backup, demo, settings
from nest_desktop.services import patients as patient_service


@pytest.mark.sqlite_only
def test_back_up_now_prune_and_daily_copy(db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "usb"))
    settings.put("backup.keep_days", 7)
    old = backup.back_up_now(dt.datetime(2026, 11, 1, 9, 0, 0))
    assert old.path.parent == tmp_path / "usb" and old.size > 0
    # Each new copy prunes the copies older than the days to keep.
    recent = backup.back_up_now(dt.datetime(2026, 11, 20, 9, 0, 0))
    assert not old.path.exists()
    newest = backup.back_up_now(dt.datetime(2026, 11, 21, 9, 0, 0))
    # The newest copy is kept whatever its age.
    assert backup.prune(dt.datetime(2027, 6, 1)) == [recent.path]
    assert [b.path for b in backup.backups()] == [newest.path]
    assert backup.back_up_if_due(dt.date(2026, 11, 21)) is None
    assert backup.back_up_if_due(clock.today()) is not None


@pytest.mark.sqlite_only
@pytest.mark.clock("2026-11-22 18:00")  # the copy was made that morning
def test_restore_brings_back_the_copy_after_saving_the_current_data(db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "copies"))
    Site.create(name="Clinique Nest Ouakam")
    copy = backup.back_up_now(dt.datetime(2026, 11, 22, 8, 0, 0))
    Site.create(name="Clinique Nest Almadies")
    report = backup.restore(copy.path)
    backup.reopen_after_restore()
    assert [s.name for s in Site.select().order_by(Site.id)] == [
        "Clinique Nest Mermoz", "Clinique Nest Ouakam"]
    assert report.safety_copy.exists() and report.safety_copy != copy.path
    assert report.before["user"] == report.after["user"] == 1


@pytest.mark.sqlite_only
def test_restore_refuses_a_file_that_is_not_a_copy(db, tmp_path):
    bogus = tmp_path / "nest-2026-11-22_080000.sqlite3"
    bogus.write_bytes(b"not a database")
    with pytest.raises(backup.BackupError):
        backup.restore(bogus)


def test_settings_default_and_round_trip(db):
    assert settings.get("backup.keep_days") == 30
    settings.put("backup.keep_days", 60)
    settings.put("backup.keep_days", 90)
    assert settings.get("backup.keep_days") == 90


def test_demo_generates_a_believable_clinic_reproducibly(db):
    written = demo.generate(300, seed=7, today=dt.date(2026, 11, 23))
    babies = DeliveryBaby.select().count()
    assert babies >= 3  # recent births at NEST, their babies on file
    assert written == Patient.select().count() - babies == 300
    assert FamilyLink.select().count() > 50 and Interaction.select().count() > 100
    assert VaccineDose.select().count() > 500
    pathways = {p.pathway for p in Patient.select(Patient.pathway)}
    # the recent births made their mothers post-natal (PAT-04)
    assert pathways == {"pregnancy", "gynaecology", "paediatrics", "none", "postnatal"}
    someone = Patient.get_by_id(1)
    assert patient_service.search_ids(someone.first_names.split()[0]) != []
    assert patient_service.phones_of(someone.id)[0].startswith("+221")


@pytest.mark.clock("2028-02-29 09:00")
def test_the_demo_lives_on_the_clocks_day(db):
    from nest_desktop.db.models import Appointment, Pregnancy

    demo.generate(120, seed=3)
    today = clock.today()
    assert max(p.birth_date for p in Patient.select() if p.birth_date) <= today
    assert max(i.occurred_at for i in Interaction.select()) <= clock.now()
    assert min(i.occurred_at for i in Interaction.select()) > clock.now() - dt.timedelta(
        days=3 * 365)
    days = {a.starts_at.date() for a in Appointment.select()}
    assert min(days) < today < max(days)  # the desk's agenda around today
    assert all(today - dt.timedelta(weeks=45) < p.ddr <= today for p in Pregnancy.select())


def test_demo_doses_follow_each_child_calendar(db):
    from nest_desktop.services import vaccination

    demo.generate(200, seed=4)
    child = Patient.select().where(Patient.pathway == "paediatrics").first()
    calendar = vaccination.child_calendar(child.id)
    assert all(dose.given is None or dose.given >= dose.due for dose in calendar.doses)
    assert vaccination.due_list(7) != []


def test_demo_mothers_were_adults_when_their_children_were_born(db):
    demo.generate(400, seed=3)
    Mother, Child = Patient.alias(), Patient.alias()
    links = (FamilyLink.select(Mother.birth_date, Child.birth_date)
             .join(Mother, on=FamilyLink.parent == Mother.id)
             .switch(FamilyLink).join(Child, on=FamilyLink.child == Child.id).tuples())
    assert links.count() > 50
    assert all((child - mother).days >= 18 * 365 for mother, child in links)
