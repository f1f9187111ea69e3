"""Use cases: each runs its database work in one transaction and calls the domain's rules."""

import datetime as dt

from nest_desktop.domain.messages import _
from nest_desktop.domain.text import has_control_characters


class ValidationFailed(ValueError):
    """Bad input: `errors` maps each field to the message to show next to it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class StaleRecordError(RuntimeError):
    """The record was changed by someone else since it was read."""


class DatabaseProblem(RuntimeError):
    """The database could not do the action: nothing of it was written, what was typed is
    kept, and it can be done again."""


class DatabaseBusy(DatabaseProblem):
    """Another desk held the database's write lock longer than the wait."""


class ServerUnreachable(DatabaseProblem):
    """The shared server cannot be reached (stopped, restarting, the network cut); the
    connection is made again by itself once it is back."""


_BUSY_WORDS = ("database is locked", "database is busy", "lock timeout",
               "could not obtain lock")
# psycopg2's words for a server that went away or cannot be reached
_UNREACHABLE_WORDS = ("server closed the connection", "connection already closed",
                      "terminating connection", "could not connect", "connection refused",
                      "connection timed out", "timeout expired", "no route to host",
                      "network is unreachable", "ssl syscall", "could not receive data",
                      "could not send data", "shutting down", "starting up",
                      "connection to server", "cursor already closed", "connection lost")


def database_problem(error: BaseException) -> DatabaseProblem | None:
    """A database's lock or a server out of reach as a French message that says nothing was
    lost, None for any other error."""
    from peewee import InterfaceError, OperationalError

    if isinstance(error, DatabaseProblem):
        return error
    if not isinstance(error, OperationalError | InterfaceError):
        return None
    text = str(error).lower()
    if any(words in text for words in _BUSY_WORDS):
        return DatabaseBusy(_(
            "The database is busy: another desk is writing a long change (an import, a "
            "backup). Nothing was saved and what you typed is kept: try again in a moment."))
    if any(words in text for words in _UNREACHABLE_WORDS):
        return ServerUnreachable(_(
            "The database server cannot be reached (stopped, or the network is cut): "
            "nothing was saved and what you typed is kept. Save again once it is back: NEST "
            "connects again by itself."))
    return None


def server_reachable() -> bool:
    """Whether the database answers now (the connection is made again if it was lost)."""
    from peewee import InterfaceError, OperationalError

    from nest_desktop.db.models import database

    try:
        database.execute_sql("SELECT 1").fetchone()
        return True
    except (OperationalError, InterfaceError):
        return False


def ids_of(query) -> list[int]:
    """The first column of a SELECT (ids, in its order), read from the raw cursor: building
    Peewee's rows costs several times the query itself on a list of 100 000."""
    from nest_desktop.db.models import database

    return [row[0] for row in database.execute(query)]


def rows_in(query, field, ids, chunk: int = 2000):
    """The rows of `query` whose `field` is one of `ids`, by chunks, from the raw cursor: a
    long IN list through Peewee's nodes and rows costs several times the query itself. The
    values come as the driver gives them (`as_date` for a date from SQLite)."""
    from peewee import SQL, NodeList

    from nest_desktop.db.models import database

    ids = list(ids)
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        marks = ", ".join([database.param] * len(part))
        yield from database.execute(query.where(NodeList((field, SQL(f"IN ({marks})", part)))))


def as_date(value):
    """A date from a raw cursor: SQLite gives its text, a server a date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def hold_rows(model, ids) -> None:
    """Inside a transaction: a server locks these rows until the commit, so that what is read
    next includes what another desk was writing about them; SQLite's BEGIN IMMEDIATE holds
    the whole database already."""
    from peewee import SqliteDatabase

    from nest_desktop.db.models import database

    ids = sorted(set(ids))  # always in the same order: two desks never wait for each other
    if ids and not isinstance(database.obj, SqliteDatabase):
        # NO KEY UPDATE: holders wait for each other, not for a desk that only inserted a
        # row pointing to these (a dose: its key share), which then waits for them
        list(model.select(model.id).where(model.id.in_(ids)).for_update("FOR NO KEY UPDATE"))


def check_characters(errors: dict[str, str], **texts: str) -> None:
    """Adds a message for each text holding an invisible control character."""
    for field, text in texts.items():
        if field not in errors and isinstance(text, str) and has_control_characters(text):
            errors[field] = _("This text holds an invisible control character: "
                              "type it again rather than paste it.")


# The sources of follow-up tasks and SMS reminders register with the engine and the scheduler
# (`hooks`) when imported: all of them are, whichever service a caller imports first, so that
# none is missing from the start-up catch-up or a transaction.
from nest_desktop.services import (  # noqa: E402, F401
    kept_state,
    mothers_group,
    newsletters,
    patients,
    pregnancy,
    prospects,
    quality,
    reception,
    segments,
    sms,
    vaccination,
)
