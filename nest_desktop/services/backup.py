"""Copies of the embedded SQLite database: daily, on demand, and restore (with a copy first).
Each copy is checked whole before it is listed; a restore can never put an empty or damaged
database in place of the clinic's.

SQLite's online backup API copies a consistent database while the application writes to it
(Peewee 4 has no `backup()` on a plain SqliteDatabase).
"""

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nest_desktop.db import integrity, migrations, vault
from nest_desktop.db.connection import sqlite_path
from nest_desktop.db.models import AuditEntry, User, database
from nest_desktop.domain import clock
from nest_desktop.domain.messages import _
from nest_desktop.services import ValidationFailed, audit, passphrase, session, settings

# a copy in clear (.sqlite3), or sealed with the clinic's passphrase (.nestcopy)
_NAME = re.compile(r"^nest-(\d{4}-\d{2}-\d{2})_(\d{6})\.(sqlite3|nestcopy)$")
SEALED_SUFFIX = ".nestcopy"


class BackupError(RuntimeError):
    pass


class DatabaseDamaged(BackupError):
    """The live database failed the check of its copy."""


class PassphraseNeeded(BackupError):
    """The copy is sealed with a passphrase this workstation does not keep (or the one typed
    does not open it): the window asks for it and tries again."""


@contextlib.contextmanager
def readable(copy_path: Path, typed_passphrase: str = "") -> Iterator[Path]:
    """A copy as an SQLite file: itself when in clear; a sealed one opened into a temporary
    file readable by the user alone, removed afterwards. Needs no database (the recovery
    window): the passphrase is the one typed, else the one this PC keeps for the copy's
    clinic."""
    copy_path = Path(copy_path)
    if not vault.is_sealed_file(copy_path):
        yield copy_path
        return
    secret = typed_passphrase or vault.remembered_for_copy(copy_path)
    if not secret:
        raise PassphraseNeeded(_("This copy is sealed with the clinic's passphrase: type it "
                                 "to open the copy."))
    descriptor, name = tempfile.mkstemp(prefix="nest-opened-", suffix=".sqlite3")
    os.close(descriptor)
    plain = Path(name)
    try:
        try:
            vault.open_file(copy_path, plain, secret)
        except vault.WrongPassphrase as wrong:
            raise PassphraseNeeded(str(wrong)) from wrong
        yield plain
    finally:
        plain.unlink(missing_ok=True)


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: dt.datetime
    size: int


def database_file() -> Path:
    path = sqlite_path(database.obj)
    if path is None:
        raise BackupError(_("Backups from the application exist only for the embedded database; "
                            "the database server has its own backups."))
    return path


def backup_folder() -> Path:
    chosen = settings.get("backup.folder")
    return Path(chosen) if chosen else database_file().parent / "backups"


def backups() -> list[Backup]:
    """The copies in the backup folder, newest first."""
    return copies_in(backup_folder())


def copies_in(folder: Path) -> list[Backup]:
    """The copies found in a folder, newest first (the recovery window reads them without
    the database)."""
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                taken_at = dt.datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H%M%S")
                found.append(Backup(path, taken_at, path.stat().st_size))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def _remove_unfinished(folder: Path) -> None:
    """Copies a crash or a power cut left half-written (`.partial`): only this application
    writes copies of its database, one at a time."""
    for path in folder.glob("nest-*.partial*"):  # with a journal left beside it
        try:
            path.unlink()
        except OSError:
            pass


def back_up_now(when: dt.datetime | None = None, protect: Iterable[Path] = ()) -> Backup:
    """A copy, checked whole before it is listed; a damaged database is reported, never
    copied over the good copies. `protect`: copies the pruning must keep (a restore's)."""
    session.require("backup.create")
    when = (when or clock.now()).replace(microsecond=0)
    folder = backup_folder()
    clinic_vault = passphrase.clinic_vault()
    secret = passphrase.on_this_workstation() if clinic_vault else None
    if clinic_vault and not secret:
        raise BackupError(passphrase.locked_message())
    live = database_file()
    # a sealed copy is checked in clear beside the database, never on the USB drive
    plain = (live.with_name(f"{live.name}.{when:%Y%m%d%H%M%S}.copy.partial") if secret
             else None)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_unfinished(folder)
        target = folder / f"nest-{when:%Y-%m-%d_%H%M%S}" \
                          f"{SEALED_SUFFIX if secret else '.sqlite3'}"
        partial = target.with_suffix(".partial")
        checked = plain or partial
        integrity.copy(live, checked)
        try:
            integrity.check(checked)
        except integrity.Damaged as damage:
            checked.unlink(missing_ok=True)
            _raise_damage_alert(when, str(damage))
            raise DatabaseDamaged(_(
                "{detail}. No copy was made, and the earlier copies are kept: an "
                "administrator must restore the last good one (Settings › Backups).").format(
                detail=str(damage).rstrip("."))) from damage
        if plain is not None:
            vault.seal_file(plain, partial, clinic_vault, secret)
            integrity.owner_only(partial)
        partial.replace(target)
    except (OSError, sqlite3.Error, integrity.Damaged) as error:
        if isinstance(error, DatabaseDamaged):
            raise
        raise BackupError(_("The backup could not be written to {folder}: {error}").format(
            folder=folder, error=error)) from error
    finally:
        if plain is not None:
            for leftover in live.parent.glob(f"{live.name}.*.copy.partial*"):
                leftover.unlink(missing_ok=True)
    if settings.get(DAMAGE_ALERT):
        settings.record_state(DAMAGE_ALERT, None)
    prune(when, protect)
    return Backup(target, when, target.stat().st_size)


DAMAGE_ALERT = "backup.damage_alert"


def _raise_damage_alert(when: dt.datetime, detail: str) -> None:
    """Kept in the settings (if the database still takes a write) and in the trail, for the
    administrators' notice."""
    try:
        with database.atomic():
            settings.record_state(DAMAGE_ALERT, {"at": when.isoformat(), "detail": detail})
            session.log("damage", "database", None, details=detail)
    except Exception:  # noqa: BLE001 (a damaged database may refuse the write too)
        pass


def damage_alert() -> dict | None:
    """The last damage found by a backup, until a good copy is made again."""
    return settings.get(DAMAGE_ALERT) or None


def prune(today: dt.datetime | None = None, protect: Iterable[Path] = ()) -> list[Path]:
    """Deletes the copies older than the days to keep, never the newest one nor a protected
    one, and none at all unless a newer copy is found whole: the last good copies are never
    pruned while the newer ones are bad."""
    keep_days = int(settings.get("backup.keep_days"))
    limit = (today or clock.now()) - dt.timedelta(days=keep_days)
    protected = {Path(path).resolve() for path in protect}
    listed = backups()
    old = [b for b in listed[1:] if b.taken_at < limit and b.path.resolve() not in protected]
    if not old:
        return []
    kept = [b for b in listed if b not in old]  # the newest first
    if not any(_whole(b.path) for b in kept[:3]):
        return []
    for backup in old:
        backup.path.unlink(missing_ok=True)
    return [b.path for b in old]


def _whole(path: Path) -> bool:
    if vault.is_sealed_file(path):
        # sealed only once checked whole: every chunk authentic means the same file
        secret = vault.remembered_for_copy(path)
        try:
            vault.open_file(path, None, secret or "")
        except (vault.WrongPassphrase, OSError):
            return False
        return True
    try:
        integrity.check(path)  # the full check: a damaged leaf escapes the quick one
    except integrity.Damaged:
        return False
    return True


def check_whole() -> None:
    """SQLite's quick check of the whole embedded database, off the GUI thread once the
    window shows (the start's own check stops short on a large file). Damage is raised as
    a backup raises it, with the administrators' alert."""
    live = database_file()
    try:
        integrity.check(live, quick=True)
    except integrity.Damaged as damage:
        _raise_damage_alert(clock.now(), str(damage))
        raise DatabaseDamaged(_(
            "{detail}. Work stops here: an administrator must restore the last good copy "
            "(Settings › Backups).").format(detail=str(damage).rstrip("."))) from damage


def back_up_or_check(today: dt.date | None = None) -> Backup | None:
    """Once after the start: the day's copy if due (it checks the file whole), else the
    live file's whole check; never both."""
    copy = back_up_if_due(today)
    if copy is None:
        check_whole()
    return copy


def back_up_if_due(today: dt.date | None = None) -> Backup | None:
    """The daily copy: taken unless one exists for today already."""
    today = today or clock.today()
    if any(b.taken_at.date() == today for b in backups()):
        return None
    return back_up_now()


@dataclass(frozen=True)
class RestoreReport:
    safety_copy: Path  # the data as it was just before
    before: dict[str, int]  # rows of the main tables before the restore
    after: dict[str, int]  # and after: the copy's


def restore(source: Path, typed_passphrase: str = "") -> RestoreReport:
    """Replaces the database's content by a copy: the copy is checked (whole, a NEST
    database of a known version) and staged first, the current data copied aside (the copy
    chosen protected from pruning), and the result checked against the copy before the
    restore says it succeeded. A sealed copy needs the clinic's passphrase: the one this
    workstation keeps, else `typed_passphrase` (PassphraseNeeded asks for it)."""
    session.require("backup.restore")
    source = Path(source)
    with readable(source, typed_passphrase) as opened:
        live_vault = passphrase.clinic_vault()
        if typed_passphrase and live_vault and vault.matches(live_vault, typed_passphrase):
            # the same clinic's passphrase: the safety copy is sealed with it too
            vault.remember(live_vault["id"], typed_passphrase)
        report = _restore_from(source, opened)
    if typed_passphrase and vault.is_sealed_file(source):
        # the restored clinic's passphrase, kept here for its next copies
        vault.remember(vault.sealed_file_vault_id(source), typed_passphrase)
    return report


def _restore_from(source: Path, opened: Path) -> RestoreReport:
    who = session.require("backup.restore")
    try:
        state = integrity.check(opened)
    except integrity.Damaged as damage:
        raise BackupError(_("This file is not a readable database copy: {detail}").format(
            detail=damage)) from damage
    if state.version is None:
        raise BackupError(_("This file is not a NEST Desktop database copy."))
    if state.version > migrations.SCHEMA_VERSION:
        raise BackupError(_("This copy was written by a newer NEST Desktop: install it first."))
    target = database_file()
    staging = target.with_name(target.name + ".restoring")
    try:
        integrity.copy(opened, staging)  # the copy may sit on a USB drive pulled out meanwhile
        if integrity.check(staging, quick=True).counts != state.counts:
            raise BackupError(_("The copy changed while it was read: nothing was restored."))
        try:
            # only its counts are wanted: the small tables checked, not the whole file
            before = integrity.check(target, quick=True, tables=integrity.START_TABLES).counts
        except integrity.Damaged:
            before = {}  # what is restored over cannot be counted
        try:
            safety = back_up_now(protect=[source]).path
        except DatabaseDamaged:  # the cure for a damaged database: kept aside as it is
            safety = backup_folder() / f"nest-damaged-{clock.now():%Y-%m-%d_%H%M%S}.sqlite3"
            shutil.copy2(target, safety)
        later = _entries_after(staging)
        database.close()
        try:
            integrity.copy(staging, target)
        finally:
            database.connect(reuse_if_open=True)
        migrations.upgrade(database.obj)
        # traceability survives the restore: what the trail said since the copy is added
        # back, marked, after the copy's own entries
        marker = _("[written before the restore of {file}]").format(file=source.name)
        known = {row[0] for row in User.select(User.id).tuples()}  # the copy's accounts
        audit.record_many([{**values, "details": f"{marker} {values['details']}".strip(),
                            "user": values["user"] if values["user"] in known else None}
                           for values in later])
        after = integrity.check(target, quick=True).counts
    except integrity.Damaged as damage:
        raise BackupError(_("The restore failed: {detail}").format(detail=damage)) from damage
    except OSError as error:
        raise BackupError(_("The restore failed: {detail}").format(detail=error)) from error
    finally:
        staging.unlink(missing_ok=True)
    if any(after.get(table, 0) < count for table, count in state.counts.items()):
        raise BackupError(_("The restored database does not hold what the copy holds; the "
                            "data as it was just before is in {path}.").format(path=safety))
    # The copy holds the trail as it was then; the restore itself is added to it.
    audit.record("restore", "database", None, User.get_or_none(User.id == who.id),
                 details=_("{file}; safety copy {copy}").format(
                     file=source.name, copy=safety.name))
    return RestoreReport(safety, before, after)


def _entries_after(copy_path: Path) -> list[dict]:
    """The live trail's entries later than the copy's last one, as `audit.entry` makes them."""
    connection = integrity.open_read_only(copy_path)
    try:
        last = connection.execute("SELECT MAX(at) FROM audit_entry").fetchone()[0]
    finally:
        connection.close()
    query = AuditEntry.select().order_by(AuditEntry.id)
    if last is not None:
        last_at = last if isinstance(last, dt.datetime) else dt.datetime.fromisoformat(last)
        query = query.where(AuditEntry.at > last_at)
    return [{"at": e.at, "user": e.user_id, "user_name": e.user_name, "action": e.action,
             "table": e.table, "record_id": e.record_id, "changes": e.changes,
             "details": e.details, "patient_id": e.patient_id} for e in query]


def reopen_after_restore() -> None:
    """Reopens this thread's connection so that it reads the restored file afresh."""
    database.close()
    database.connect(reuse_if_open=True)


# --- at start: a damaged database, and its recovery without it ------------------------------

def startup_problem(path: Path) -> str | None:
    """What is wrong with the database file at start, or None: a zero-length or unreadable
    file is damage, not a new clinic (a missing one is a new clinic). Its header, schema and
    the small tables read first are checked; the whole file, which takes seconds on a large
    clinic (0.9 s at 200 000 patients), once the window shows (`check_whole`)."""
    if not Path(path).exists():
        return None
    try:
        integrity.check(path, quick=True, tables=integrity.START_TABLES)
    except integrity.Damaged as damage:
        return str(damage)
    return None  # a database of another program is refused by the schema's check


@dataclass(frozen=True)
class CopyFound:
    path: Path
    taken_at: dt.datetime | None
    size: int
    counts: dict[str, int]  # empty when it cannot be read
    problem: str  # "" when it can be restored
    sealed: bool = False  # sealed with the clinic's passphrase
    needs_passphrase: bool = False  # sealed, and this PC does not keep its passphrase


def recovery_copies(database_path: Path, folders: Iterable[Path] = ()) -> list[CopyFound]:
    """The copies the recovery window offers, newest first: in the folder beside the
    database and in the folders this workstation remembers, each read for its contents."""
    seen: set[Path] = set()
    found = []
    for folder in [Path(database_path).parent / "backups", *map(Path, folders)]:
        for copy_ in copies_in(folder):
            if copy_.path.resolve() in seen:
                continue
            seen.add(copy_.path.resolve())
            found.append(describe_copy(copy_.path, copy_.taken_at))
    return sorted(found, key=lambda c: c.taken_at or dt.datetime.min, reverse=True)


def describe_copy(path: Path, taken_at: dt.datetime | None = None,
                  typed_passphrase: str = "") -> CopyFound:
    path = Path(path)
    size = path.stat().st_size if path.exists() else 0
    sealed = vault.is_sealed_file(path)
    try:
        with readable(path, typed_passphrase) as opened:
            state = integrity.check(opened, quick=True)
        problem = ("" if state.version is not None and state.version <= migrations.SCHEMA_VERSION
                   else _("not a copy this version can restore"))
        counts = state.counts
    except PassphraseNeeded:
        return CopyFound(path, taken_at, size, {}, "", sealed, needs_passphrase=True)
    except integrity.Damaged as damage:
        problem, counts = str(damage), {}
    return CopyFound(path, taken_at, size, counts, problem, sealed)


def recover(database_path: Path, copy_path: Path, login: str, password: str,
            typed_passphrase: str = "") -> Path:
    """Puts a copy in place of a damaged database, once an administrator *of that copy* has
    given her password; the damaged file is kept aside (its name returned), never deleted.
    Needs nothing from the damaged database; a sealed copy needs the clinic's passphrase."""
    database_path, copy_path = Path(database_path), Path(copy_path)
    try:
        with readable(copy_path, typed_passphrase) as opened:
            aside = _recover_from(database_path, opened, login, password)
    except PassphraseNeeded as needed:
        raise ValidationFailed({"passphrase": str(needed)}) from needed
    if typed_passphrase and vault.is_sealed_file(copy_path):
        vault.remember(vault.sealed_file_vault_id(copy_path), typed_passphrase)
    return aside


def _recover_from(database_path: Path, copy_path: Path, login: str, password: str) -> Path:
    try:
        state = integrity.check(copy_path)
    except integrity.Damaged as damage:
        raise ValidationFailed({"copy": str(damage)}) from damage
    if state.version is None or state.version > migrations.SCHEMA_VERSION:
        raise ValidationFailed({"copy": _("This file is not a NEST Desktop database copy.")})
    connection = integrity.open_read_only(copy_path)
    try:
        row = connection.execute(
            'SELECT password_hash, role, active FROM "user" WHERE login = ?',
            (login.strip().lower(),)).fetchone()
    finally:
        connection.close()
    if row is None or not row[2] or not session.password_matches(row[0], password):
        raise ValidationFailed({"password": _("Wrong login or password for this copy.")})
    if row[1] != "administrator":
        raise ValidationFailed({"login": _("Only an administrator can restore a copy.")})
    aside = database_path
    if database_path.exists():
        stamp = clock.now().strftime("%Y-%m-%d_%H%M%S")
        aside = database_path.with_name(f"{database_path.stem}.damaged-{stamp}"
                                        f"{database_path.suffix}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(database_path) + suffix)
            if part.exists():
                part.replace(Path(str(aside) + suffix))
    staging = database_path.with_name(database_path.name + ".restoring")
    try:
        integrity.copy(copy_path, staging)
        staging.replace(database_path)
    except (OSError, integrity.Damaged) as error:
        staging.unlink(missing_ok=True)
        raise ValidationFailed({"copy": _("The restore failed: {detail}").format(
            detail=error)}) from error
    return aside


def record_recovery(copy_path: Path, aside: Path, login: str) -> None:
    """Once the restored database is open: the recovery in its trail."""
    user = User.get_or_none(User.login == login.strip().lower())
    audit.record("restore", "database", None, user,
                 details=_("recovery at start from {file}; damaged database kept as {aside}")
                 .format(file=Path(copy_path).name, aside=Path(aside).name))
