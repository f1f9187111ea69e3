"""The clinic's passphrase (issue 24 §1, §4): copies sealed before they leave the PC, the SMS
provider's secrets never in clear in the database file, restores and the recovery window
asking for the passphrase where this workstation does not keep it."""

import datetime as dt
import os

import pytest

from nest_desktop.db import vault
from nest_desktop.db.connection import sqlite_path
from nest_desktop.db.models import Patient, database
from nest_desktop.services import ValidationFailed, backup, passphrase, settings
from nest_desktop.services import patients as patient_service
from nest_desktop.services import sms as sms_service
from tests.conftest import PASSPHRASE, PASSWORD


def add_patients(*names: str) -> None:
    for name in names:
        patient_service.create_patient(patient_service.PatientForm(
            last_name=name, first_names="Awa"))


def forget_on_this_workstation() -> None:
    """As on another PC of the clinic: its keyring does not hold the passphrase."""
    vault._fallback_file(passphrase.clinic_vault()["id"]).unlink()


def file_bytes() -> bytes:
    """The database as it lies on the disk: the file and its write-ahead log."""
    path = sqlite_path(database.obj)
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists())


def test_a_sealed_file_opens_only_whole_unchanged_and_with_its_passphrase(tmp_path):
    clinic = vault.new_vault(PASSPHRASE)
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(vault.CHUNK * 2 + 12345))  # three chunks, the last short
    sealed = tmp_path / "sealed.nestcopy"
    vault.seal_file(plain, sealed, clinic, PASSPHRASE)
    assert vault.is_sealed_file(sealed) and vault.sealed_file_vault_id(sealed) == clinic["id"]
    opened = tmp_path / "opened.bin"
    vault.open_file(sealed, opened, PASSPHRASE)
    assert opened.read_bytes() == plain.read_bytes()
    with pytest.raises(vault.WrongPassphrase):
        vault.open_file(sealed, None, "une autre phrase de passe")
    whole = sealed.read_bytes()
    cut = tmp_path / "cut.nestcopy"  # the last chunk lost: a copy cut short is refused
    cut.write_bytes(whole[:vault.HEADER_SIZE + 2 * (vault.CHUNK + 16)])
    changed = tmp_path / "changed.nestcopy"  # one bit flipped on a failing USB drive
    changed.write_bytes(whole[:5000] + bytes([whole[5000] ^ 1]) + whole[5001:])
    swapped = tmp_path / "swapped.nestcopy"  # two chunks exchanged
    first = vault.HEADER_SIZE
    second = first + vault.CHUNK + 16
    swapped.write_bytes(whole[:first] + whole[second:2 * second - first] + whole[first:second]
                        + whole[2 * second - first:])
    for broken in (cut, changed, swapped):
        with pytest.raises(vault.WrongPassphrase):
            vault.open_file(broken, None, PASSPHRASE)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    vault.seal_file(empty, sealed, clinic, PASSPHRASE)
    vault.open_file(sealed, opened, PASSPHRASE)
    assert opened.read_bytes() == b""


@pytest.mark.sqlite_only
@pytest.mark.clock("2026-12-06 10:00")
def test_copies_are_sealed_and_restored_with_the_passphrase_asked_where_it_is_not_kept(
        db, tmp_path):
    settings.put("backup.folder", str(tmp_path / "usb"))
    add_patients("Ndiongue-Sarr")
    before = backup.back_up_now(dt.datetime(2026, 12, 5, 18, 0))
    assert before.path.suffix == ".sqlite3" and b"Ndiongue-Sarr" in before.path.read_bytes()
    assert not passphrase.is_set()
    passphrase.set_passphrase(PASSPHRASE, PASSPHRASE)
    copy = backup.back_up_now(dt.datetime(2026, 12, 6, 9, 0))
    assert copy.path.suffix == ".nestcopy"
    raw = copy.path.read_bytes()
    assert b"Ndiongue-Sarr" not in raw and b"SQLite format 3" not in raw
    assert [p.name for p in copy.path.parent.iterdir() if "partial" in p.name] == []
    assert [p.name for p in sqlite_path(database.obj).parent.iterdir()
            if "partial" in p.name] == []
    add_patients("Fall")
    # on another PC: the copy is sealed, the passphrase is asked, a wrong one refused
    forget_on_this_workstation()
    with pytest.raises(backup.BackupError, match="phrase secrète"):
        backup.back_up_now()  # a copy in clear never replaces a sealed one
    with pytest.raises(backup.PassphraseNeeded):
        backup.restore(copy.path)
    with pytest.raises(backup.PassphraseNeeded):
        backup.restore(copy.path, "ce n'est pas la phrase")
    assert Patient.select().count() == 2  # nothing changed
    report = backup.restore(copy.path, PASSPHRASE)
    backup.reopen_after_restore()
    assert [p.last_name for p in Patient.select()] == ["Ndiongue-Sarr"]
    assert (report.before["patient"], report.after["patient"]) == (2, 1)
    assert report.safety_copy.suffix == ".nestcopy"  # made with the passphrase typed
    assert passphrase.on_this_workstation() == PASSPHRASE  # kept for the next copies
    # the old copies in clear are still listed and restorable; the newest check is done
    # on sealed copies too before anything is pruned
    settings.put("backup.keep_days", 1)
    assert backup.prune(dt.datetime(2026, 12, 7, 8, 30)) == [before.path]


@pytest.mark.sqlite_only
def test_the_recovery_window_opens_a_sealed_copy_with_the_passphrase(db, tmp_path):
    from nest_desktop.db.connection import close_database, open_database, sqlite_url

    folder = tmp_path / "clinic"
    settings.put("backup.folder", str(folder / "backups"))
    passphrase.set_passphrase(PASSPHRASE, PASSPHRASE)
    add_patients("Diop", "Sow")
    copy = backup.back_up_now(dt.datetime(2026, 12, 3, 19, 0))
    vault_id = passphrase.clinic_vault()["id"]
    close_database()
    live = folder / "nest.sqlite3"
    live.write_bytes(b"")
    [found] = backup.recovery_copies(live)  # this PC keeps the passphrase: read whole
    assert (found.sealed, found.needs_passphrase, found.counts["patient"]) == (True, False, 2)
    vault._fallback_file(vault_id).unlink()  # a new PC, the old one burnt
    [found] = backup.recovery_copies(live)
    assert (found.sealed, found.needs_passphrase, found.counts, found.problem) == (
        True, True, {}, "")
    with pytest.raises(ValidationFailed) as refused:
        backup.recover(live, copy.path, "clemence", PASSWORD)
    assert set(refused.value.errors) == {"passphrase"}
    with pytest.raises(ValidationFailed) as refused:
        backup.recover(live, copy.path, "clemence", PASSWORD, "pas la bonne phrase")
    assert set(refused.value.errors) == {"passphrase"} and live.stat().st_size == 0
    backup.recover(live, copy.path, "clemence", PASSWORD, PASSPHRASE)
    assert vault.remembered(vault_id) == PASSPHRASE
    open_database(sqlite_url(live))
    try:
        assert Patient.select().count() == 2
    finally:
        close_database()


def test_a_secret_is_refused_until_the_clinic_has_a_passphrase(desk):
    with pytest.raises(ValidationFailed) as refused:
        sms_service.save_transport("orange", {"client_id": "nest", "client_secret": "s3cret",
                                              "sender": "33 860 10 10"})
    assert refused.value.errors == {"client_secret": (
        "La clinique n’a pas encore de phrase secrète\u00a0: un administrateur la définit dans "
        "Paramètres › Sauvegardes.")}
    assert settings.get("sms.orange") is None


@pytest.mark.sqlite_only
def test_the_provider_secrets_are_never_in_clear_in_the_database_file(desk):
    """Secrets saved before the passphrase (by an earlier version) are sealed when it is
    set, and leave no copy in the file's free pages nor in its write-ahead log."""
    secret, key = "OrangeSecret-7Hq2ZpX", "ApiKey-9sLmW4"
    settings.put("sms.orange", {**sms_service.TRANSPORT_DEFAULTS["orange"],
                                "client_id": "nest", "client_secret": secret,
                                "sender": "+221338601010"},
                 secret_fields=sms_service.SECRET_FIELDS["orange"])  # as earlier versions
    settings.put("sms.transport", "orange")
    assert sms_service.secrets_in_clear() == ["orange"]
    passphrase.set_passphrase(PASSPHRASE, PASSPHRASE)
    assert sms_service.secrets_in_clear() == []
    sms_service.save_transport("http", {"url": "https://sms.example.sn/send",
                                        "fixed_fields": f"api_key={key}"})
    sms_service.save_transport("modem", {"port": "COM4", "pin": "4321"})
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    on_disk = file_bytes()
    for clear in (secret, key, b"pin\": \"4321".decode()):
        assert clear.encode() not in on_disk
    # the workstation keeping the passphrase sends; another one lets the messages wait
    sms_service.save_transport("orange", {})
    assert sms_service.make_transport().client_secret == secret
    forget_on_this_workstation()
    with pytest.raises(passphrase.Locked):
        sms_service.make_transport()
    _scheduled, sent = sms_service.run(schedule=False)
    assert sent.note == ("Ce poste n’a pas la phrase secrète de la clinique\u00a0: un "
                         "administrateur la saisit dans Paramètres › Sauvegardes.")


def test_the_passphrase_is_set_checked_typed_on_a_workstation_and_changed(desk, as_role):
    with pytest.raises(ValidationFailed) as refused:
        passphrase.set_passphrase("court", "court")
    assert set(refused.value.errors) == {"passphrase"}
    with pytest.raises(ValidationFailed):
        passphrase.set_passphrase(PASSPHRASE, PASSPHRASE + "!")
    passphrase.set_passphrase(PASSPHRASE, PASSPHRASE)
    sms_service.save_transport("orange", {"client_id": "nest", "client_secret": "s3cret",
                                          "sender": "33 860 10 10"})
    stored = settings.get(passphrase.VAULT)
    assert PASSPHRASE not in str(stored) and set(stored) == {"id", "salt", "check"}
    forget_on_this_workstation()
    with pytest.raises(ValidationFailed):
        passphrase.enter_on_this_workstation("une phrase inventée ici")
    passphrase.enter_on_this_workstation(PASSPHRASE)
    assert passphrase.on_this_workstation() == PASSPHRASE
    new = "Une nouvelle phrase pour l'année 2027"
    with pytest.raises(ValidationFailed) as refused:
        passphrase.set_passphrase(new, new, "pas l'actuelle")
    assert set(refused.value.errors) == {"current"}
    passphrase.set_passphrase(new, new, PASSPHRASE)
    assert passphrase.on_this_workstation() == new
    assert sms_service.make_transport().client_secret == "s3cret"  # sealed again
    as_role("secretary")
    with pytest.raises(passphrase.session.PermissionDenied):
        passphrase.enter_on_this_workstation(new)


@pytest.mark.sqlite_only
def test_settings_set_the_passphrase_and_say_what_is_sealed(qtbot, db, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from nest_desktop.ui.settings import passphrase_dialog
    from nest_desktop.ui.settings.settings_page import SettingsPage
    from tests.test_gui import settle

    page = SettingsPage(None)
    qtbot.addWidget(page)
    settle(qtbot, lambda: page.passphrase_state.text().startswith(
        "Les copies ne sont pas chiffrées"))
    dialogs = []

    def answered(dialog):
        dialogs.append(dialog)
        dialog.new.setText("trop courte")
        dialog.repeated.setText("trop courte")
        dialog._save()
        assert dialog.fields["passphrase"].error.text().startswith("Au moins 12 caractères")
        dialog.new.setText(PASSPHRASE)
        dialog.repeated.setText(PASSPHRASE)
        dialog._save()
        return dialog.result()

    monkeypatch.setattr(passphrase_dialog.PassphraseDialog, "exec", answered)
    page._passphrase()
    assert dialogs[0].mode == "set" and dialogs[0].result() == QDialog.DialogCode.Accepted
    settle(qtbot, lambda: page.passphrase_state.text().startswith(
        "Copies chiffrées avec la phrase secrète"))
    assert "fichier de votre dossier de données" in page.backup_status.text()
    forget_on_this_workstation()
    page.refresh_backups()
    settle(qtbot, lambda: page.passphrase_state.text().startswith(
        "Ce poste n’a pas la phrase secrète"))
    # the SMS settings say the provider's secrets cannot be opened on this PC
    settings.put("sms.transport", "orange")
    page.sms_box.refresh_secrets_state()
    settle(qtbot, lambda: page.sms_box.secrets_state.text().startswith(
        "Ce poste n’a pas la phrase secrète"))
    assert passphrase_dialog.PassphraseDialog().mode == "enter"
