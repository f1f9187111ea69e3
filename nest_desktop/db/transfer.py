"""Moving a clinic from its SQLite file to a PostgreSQL server (or any empty database).

    python -m nest_desktop.db.transfer SOURCE_URL TARGET_URL

The target must be empty: its schema is created at the latest version, every row is copied
with its id (links preserved), the servers' id sequences are moved past the copied ids, and
the row counts of both sides are compared.
"""

import sys

from peewee import Database, PostgresqlDatabase
from playhouse import db_url

from nest_desktop.db import migrations
from nest_desktop.db.connection import SQLITE_PRAGMAS
from nest_desktop.db.models import ALL_MODELS, SchemaVersion

BATCH = 1000


class TransferError(RuntimeError):
    pass


def connect(url: str) -> Database:
    if url.startswith("sqlite"):
        return db_url.connect(url, pragmas=SQLITE_PRAGMAS)
    return db_url.connect(url)


def copy_database(source: Database, target: Database) -> dict[str, int]:
    """Copies every table of `source` into the empty `target`; returns the rows per table."""
    with source.bind_ctx(ALL_MODELS):
        migrations.upgrade(source)  # both sides at the same, latest, version
    with target.bind_ctx(ALL_MODELS):
        if target.get_tables():
            raise TransferError(f"the target database is not empty: {target.get_tables()}")
        migrations.upgrade(target)
    counts: dict[str, int] = {}
    with target.atomic():
        for model in ALL_MODELS:
            if model is SchemaVersion:
                continue
            copied = 0
            with source.bind_ctx([model]):
                rows = model.select().order_by(*model._meta.get_primary_keys()).dicts()
                batch = []
                for row in rows.iterator():
                    batch.append(row)
                    if len(batch) == BATCH:
                        copied += _insert(model, batch, target)
                        batch = []
                copied += _insert(model, batch, target)
            counts[model._meta.table_name] = copied
        if isinstance(target, PostgresqlDatabase):
            move_sequences(target)
    for model in ALL_MODELS:
        if model is SchemaVersion:
            continue
        with source.bind_ctx([model]):
            expected = model.select().count()
        with target.bind_ctx([model]):
            found = model.select().count()
        if expected != found or found != counts[model._meta.table_name]:
            raise TransferError(f"{model._meta.table_name}: {expected} rows in the source, "
                                f"{found} in the target")
    return counts


def _insert(model, batch: list[dict], target: Database) -> int:
    if batch:
        with target.bind_ctx([model]):
            model.insert_many(batch).execute()
    return len(batch)


def move_sequences(target: PostgresqlDatabase) -> None:
    """New rows on the server get ids after the copied ones."""
    for model in ALL_MODELS:
        primary = model._meta.primary_key
        if getattr(primary, "field_type", "") != "AUTO":
            continue
        table = model._meta.table_name
        target.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{primary.column_name}'), "
            f"COALESCE((SELECT MAX(\"{primary.column_name}\") FROM \"{table}\"), 0) + 1, false)")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    source, target = connect(args[0]), connect(args[1])
    try:
        counts = copy_database(source, target)
    except TransferError as error:
        print(f"not copied: {error}")
        return 1
    for table, count in counts.items():
        print(f"{table:<24} {count:>9} rows")
    print("copy checked: the row counts match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
