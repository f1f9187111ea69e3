"""Opening the database: the embedded SQLite file by default, any server by URL."""

import os
import sys
from pathlib import Path

from peewee import Database, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url
from playhouse.shortcuts import ReconnectMixin

from nest_desktop.db import integrity, migrations
from nest_desktop.db.models import database
from nest_desktop.domain.messages import _

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # FULL: the write-ahead log is synced at each commit, so a save shown as done survives a
    # power cut (frequent in Dakar); measured by bench/bench_durability.py
    "synchronous": "full",
    "busy_timeout": 5000,  # ms: wait for another writer rather than fail at once
    # what is deleted or replaced is overwritten, not left in free pages: a secret sealed
    # later leaves no copy in clear in the file
    "secure_delete": 1,
}


# File systems reached over the network: SQLite's locks are not safe there (its own FAQ).
NETWORK_FILE_SYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs",
                                  "ceph", "glusterfs", "davfs", "fuse.sshfs", "fuse.davfs2"})
DRIVE_REMOTE = 4  # GetDriveTypeW's answer for a network drive


class NetworkShareRefused(OSError):
    """The embedded database was asked for on a network share."""


class ReconnectingPostgresqlDatabase(ReconnectMixin, PostgresqlDatabase):
    """The shared server: a connection the server dropped (a restart, a cut cable) is made
    again at the next query outside a transaction, on each thread, instead of failing with
    "connection already closed" until NEST is restarted. A query inside a transaction is
    not replayed: its error reaches the window, which keeps what was typed."""

    reconnect_errors = (
        (OperationalError, "server closed the connection"),
        (OperationalError, "terminating connection"),
        (OperationalError, "could not receive data"),
        (OperationalError, "could not send data"),
        (OperationalError, "ssl syscall"),
        (InterfaceError, "connection already closed"),
        (InterfaceError, "cursor already closed"),
    )


db_url.register_database(ReconnectingPostgresqlDatabase, "postgres", "postgresql")
# A server that does not answer is said within seconds, and a dead connection noticed (TCP
# keep-alives) rather than waited on for minutes.
SERVER_CONNECT_OPTIONS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30,
                          "keepalives_interval": 10, "keepalives_count": 3}


def mount_type(path: Path, mounts: str) -> str:
    """The file system type of the mount holding `path`, from /proc/mounts's text."""
    best, kind = "", ""
    target = str(path)
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind


def on_network_share(path: Path) -> bool:
    """Whether the database file would sit on a network share (a UNC path or a mapped
    network drive on Windows; NFS, SMB… elsewhere)."""
    text = str(path)
    if sys.platform == "win32":
        if text.startswith(("\\\\", "//")):
            return True
        drive = os.path.splitdrive(os.path.abspath(text))[0]
        if drive:
            import ctypes

            return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE
        return False
    try:
        mounts = Path("/proc/mounts").read_text()
    except OSError:
        return False
    return mount_type(Path(os.path.abspath(text)), mounts) in NETWORK_FILE_SYSTEMS


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + Path(path).as_posix()


def open_database(url: str) -> Database:
    """Connects the models to `url`, creating or upgrading the schema as needed."""
    if url.startswith("sqlite:///") and on_network_share(Path(url[len("sqlite:///"):])):
        raise NetworkShareRefused(_(
            "The database file is on a network share ({path}). The embedded database "
            "must stay on this computer's own disk: for several workstations, set up the "
            "shared server (Settings › Database of this workstation, PostgreSQL; see the "
            "README).").format(path=url[len("sqlite:///"):]))
    if url.startswith("sqlite"):
        # BEGIN IMMEDIATE: a transaction takes the write lock at once, so two workstations
        # wait for each other (busy timeout) instead of failing when both read then write.
        db = db_url.connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        db = db_url.connect(url, **(SERVER_CONNECT_OPTIONS if url.startswith("postgres")
                                    else {}))
    database.initialize(db)
    db.connect(reuse_if_open=True)
    path = sqlite_path(db)
    if path is not None:
        integrity.owner_only(path)  # the clinic's records: the user's alone
    try:
        migrations.upgrade(db)
    except Exception:
        db.close()
        raise
    return db


def sqlite_path(db: Database) -> Path | None:
    """The file of an SQLite database, None for a server or an in-memory database."""
    if isinstance(db, SqliteDatabase) and db.database not in ("", ":memory:"):
        return Path(db.database)
    return None


def close_database() -> None:
    db = database.obj
    if db is not None and not db.is_closed():
        db.close()
