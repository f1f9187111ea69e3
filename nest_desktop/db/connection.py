"""Opening the database: the embedded SQLite file by default, any server by URL."""

from pathlib import Path

from peewee import Database, SqliteDatabase
from playhouse import db_url

from nest_desktop.db import migrations
from nest_desktop.db.models import database

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 5000,  # ms: wait for another writer rather than fail at once
}


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + Path(path).as_posix()


def open_database(url: str) -> Database:
    """Connects the models to `url`, creating or upgrading the schema as needed."""
    if url.startswith("sqlite"):
        # BEGIN IMMEDIATE: a transaction takes the write lock at once, so two workstations
        # wait for each other (busy timeout) instead of failing when both read then write.
        db = db_url.connect(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        db = db_url.connect(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
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
