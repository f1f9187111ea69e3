"""Copies of the embedded SQLite database: daily, on demand, and restore (with a copy first).

SQLite's online backup API copies a consistent database while the application writes to it
(Peewee 4 has no `backup()` on a plain SqliteDatabase).
"""

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from nest_desktop.db import migrations
from nest_desktop.db.connection import sqlite_path
from nest_desktop.db.models import User, database
from nest_desktop.domain import clock
from nest_desktop.domain.messages import _
from nest_desktop.services import audit, session, settings

_NAME = re.compile(r"^nest-(\d{4}-\d{2}-\d{2})_(\d{6})\.sqlite3$")


class BackupError(RuntimeError):
    pass


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


def _copy(source: Path, target: Path) -> None:
    source_connection = sqlite3.connect(str(source))
    target_connection = sqlite3.connect(str(target))
    try:
        with target_connection:
            source_connection.backup(target_connection)
    finally:
        target_connection.close()
        source_connection.close()


def backups() -> list[Backup]:
    """The copies in the backup folder, newest first."""
    folder = backup_folder()
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                taken_at = dt.datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H%M%S")
                found.append(Backup(path, taken_at, path.stat().st_size))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def back_up_now(when: dt.datetime | None = None) -> Backup:
    session.require("backup.create")
    when = (when or clock.now()).replace(microsecond=0)
    folder = backup_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"nest-{when:%Y-%m-%d_%H%M%S}.sqlite3"
        partial = target.with_suffix(".partial")
        _copy(database_file(), partial)
        partial.replace(target)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(_("The backup could not be written to {folder}: {error}").format(
            folder=folder, error=error)) from error
    prune(when)
    return Backup(target, when, target.stat().st_size)


def prune(today: dt.datetime | None = None) -> list[Path]:
    """Deletes the copies older than the days to keep, never the newest one."""
    keep_days = int(settings.get("backup.keep_days"))
    limit = (today or clock.now()) - dt.timedelta(days=keep_days)
    removed = []
    for backup in backups()[1:]:
        if backup.taken_at < limit:
            backup.path.unlink(missing_ok=True)
            removed.append(backup.path)
    return removed


def back_up_if_due(today: dt.date | None = None) -> Backup | None:
    """The daily copy: taken unless one exists for today already."""
    today = today or clock.today()
    if any(b.taken_at.date() == today for b in backups()):
        return None
    return back_up_now()


def restore(source: Path) -> Backup:
    """Replaces the database's content by a copy, after backing up the current content."""
    who = session.require("backup.restore")
    source = Path(source)
    try:
        connection = sqlite3.connect(f"file:{source.as_posix()}?mode=ro", uri=True)
        try:
            ok = connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = (connection.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                       if "schema_version" in tables else None)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(_("This file is not a readable database copy.")) from error
    if not ok or version is None:
        raise BackupError(_("This file is not a readable database copy."))
    if version > migrations.SCHEMA_VERSION:
        raise BackupError(_("This copy was written by a newer NEST Desktop: install it first."))
    safety_copy = back_up_now()
    target = database_file()
    database.close()
    _copy(source, target)
    database.connect(reuse_if_open=True)
    migrations.upgrade(database.obj)
    # The copy holds the trail as it was then; the restore itself is added to it.
    audit.record("restore", "database", None, User.get_or_none(User.id == who.id),
                 details=_("{file}; safety copy {copy}").format(
                     file=source.name, copy=safety_copy.path.name))
    return safety_copy


def reopen_after_restore() -> None:
    """Reopens this thread's connection so that it reads the restored file afresh."""
    database.close()
    database.connect(reuse_if_open=True)
