"""The embedded database's file as a file: is it a NEST database, whole, of which version,
holding what — read without ever creating it (a missing or empty file is damage, not a new
clinic) and without writing to it."""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from nest_desktop.domain.messages import _

SQLITE_HEADER = b"SQLite format 3\x00"
# What a restore shows before and after, and checks it brought back.
MAIN_TABLES = ("patient", "user", "prospect", "pregnancy", "appointment", "follow_up_task",
               "call_record", "sms_message", "audit_entry")


class Damaged(Exception):
    """The file cannot be used as a NEST database; the message says why, in French."""


@dataclass(frozen=True)
class FileState:
    version: int | None  # the schema version, None when it is not a NEST database
    counts: dict[str, int]  # rows of the main tables
    checked: bool = True  # False: the check ran out of time before its end


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing SQLite file: `sqlite3.connect` alone would
    create an empty database where the file is missing."""
    path = Path(path)
    if not path.is_file():
        raise Damaged(_("The file {name} does not exist.").format(name=path.name))
    if path.stat().st_size == 0:
        raise Damaged(_("The file {name} is empty (0 bytes).").format(name=path.name))
    with path.open("rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            raise Damaged(_("The file {name} is not a database.").format(name=path.name))
    try:
        return sqlite3.connect(f"file:{quote(path.resolve().as_posix())}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise Damaged(_("The file {name} cannot be read: {error}").format(
            name=path.name, error=error)) from error


# What the start checks (`tables`): the small tables every session reads first. SQLite's
# check of a whole file is one step of its machine that no time limit can cut short.
START_TABLES = ("schema_version", "site", "user", "setting")


def check(path: Path, quick: bool = False,
          tables: tuple[str, ...] | None = None) -> FileState:
    """Reads the file through SQLite's own check (`integrity_check`, or the faster
    `quick_check`), of these `tables` only if given (then `checked` is False: the rest was
    not read); raises Damaged. The check of a whole file cannot be cut short: it is one
    step of SQLite's machine, which a progress handler never interrupts."""
    connection = open_read_only(path)
    try:
        checked = tables is None
        pragma = "quick_check" if quick else "integrity_check"
        if tables is None:
            result = connection.execute(f"PRAGMA {pragma}").fetchall()
        else:
            present = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            result = [row for table in tables if table in present
                      for row in connection.execute(f'PRAGMA {pragma}("{table}")')
                      if row != ("ok",)] or [("ok",)]
        if result != [("ok",)]:
            raise Damaged(_("The database is damaged: {detail}").format(
                detail="; ".join(str(row[0]) for row in result[:3])))
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = (connection.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                   if "schema_version" in tables else None)
        counts = {table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                  for table in MAIN_TABLES if table in tables}
    except sqlite3.DatabaseError as error:
        raise Damaged(_("The database is damaged: {detail}").format(detail=error)) from error
    finally:
        connection.close()
    return FileState(version, counts, checked)


def owner_only(path: Path) -> None:
    """Readable by the user alone (0600) where the system has such modes."""
    if os.name == "posix" and Path(path).exists():
        os.chmod(path, 0o600)


def copy(source: Path, target: Path) -> None:
    """A consistent copy of `source` into `target` through SQLite's backup API, the source
    opened read-only (a missing source is an error, never an empty copy)."""
    source_connection = open_read_only(source)
    try:
        target_connection = sqlite3.connect(str(target))
        try:
            with target_connection:
                source_connection.backup(target_connection)
            # A copy is one self-contained file: no write-ahead log beside it to lose
            # when it is renamed, moved to a USB drive or opened read-only.
            target_connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            owner_only(target)
            target_connection.close()
    except sqlite3.Error as error:
        raise Damaged(_("The copy could not be made: {error}").format(error=error)) from error
    finally:
        source_connection.close()
