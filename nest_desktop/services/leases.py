"""Leases: a long pass over the whole clinic (the SMS reminders' full catch-up, rebuilding the
kept states) is done by one workstation at a time, not by every open application at once.

A lease is a Setting row, `lease.<name>`, naming its holder and until when it holds: taken
in a transaction that holds the row, so that two desks asking at the same moment cannot both
have it; a holder that died lets it go by itself when its time is over.
"""

import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from peewee import SqliteDatabase

from nest_desktop.db.models import Setting, database
from nest_desktop.domain import clock

# this process on this workstation: two applications on one PC are two holders
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def _key(name: str) -> str:
    return f"lease.{name}"


def take(name: str, minutes: float = 10, holder: str = HOLDER) -> bool:
    """Takes the lease for `minutes` if nobody else holds it now; True when taken (or
    already held by `holder`, whose time is then extended)."""
    now = clock.now()
    with database.atomic():
        rows = Setting.select(Setting.value).where(Setting.key == _key(name))
        if not isinstance(database.obj, SqliteDatabase):  # (SQLite's BEGIN IMMEDIATE holds it)
            rows = rows.for_update()  # a server: the row is held until the commit
        row = rows.first()
        if row is not None:
            held = json.loads(row.value)
            if held.get("holder") != holder and \
                    dt.datetime.fromisoformat(held["until"]) > now:
                return False
        value = json.dumps({"holder": holder,
                            "until": (now + dt.timedelta(minutes=minutes)).isoformat()})
        if row is None:
            Setting.insert(key=_key(name), value=value).on_conflict_ignore().execute()
            # a desk that wrote it first meanwhile keeps it
            return json.loads(Setting.get_by_id(_key(name)).value)["holder"] == holder
        Setting.update(value=value).where(Setting.key == _key(name)).execute()
    return True


@contextmanager
def held(name: str, minutes: float = 10, holder: str = HOLDER) -> Iterator[bool]:
    """`with held(name) as mine:` the lease taken for the block if nobody else holds it
    (`mine` says whether), let go after it."""
    mine = take(name, minutes, holder)
    try:
        yield mine
    finally:
        if mine:
            release(name, holder)


def release(name: str, holder: str = HOLDER) -> None:
    """Lets the lease go at once (the pass is over)."""
    with database.atomic():
        row = Setting.get_or_none(Setting.key == _key(name))
        if row is not None and json.loads(row.value).get("holder") == holder:
            Setting.update(value=json.dumps({"holder": "", "until": clock.now().isoformat()})
                           ).where(Setting.key == _key(name)).execute()
