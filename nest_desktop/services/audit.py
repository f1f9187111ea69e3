"""The audit trail: every change, login, export and print, with who, when and what changed.

Entries are only ever added: no function here changes one, and only the administrator's
purge of those past their retention (`retention.purge`) removes the oldest, recorded by an
entry of its own that keeps where the trail now begins. The trail is
tamper-evident: each entry's `chain` is the SHA-256 of its fields and of the chain of the
entry written before it (`previous_chain`), so that an entry changed or removed afterwards
is found by `verify`.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peewee import fn

from nest_desktop.db.models import AuditEntry, User, database
from nest_desktop.domain import clock

_CHAINED = ("at", "user", "user_name", "action", "table", "record_id", "changes", "details",
            "patient_id")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def diff(old: dict, new: dict) -> dict[str, list]:
    """field -> [old, new] for each field whose value changed (None stands for 'absent')."""
    changes = {}
    for field in sorted(set(old) | set(new)):
        before, after = _plain(old.get(field)), _plain(new.get(field))
        if before != after:
            changes[field] = [before, after]
    return changes


def entry(action: str, table: str, record_id: int | None, by: User | None,
          changes: dict | None = None, details: str = "",
          patient_id: int | None = None) -> dict:
    """The values of an entry, for `record` or for many written at once (an import)."""
    return {"at": clock.now(), "user": by.id if by else None,
            "user_name": by.full_name if by else "", "action": action, "table": table,
            "record_id": record_id, "changes": json.dumps(changes or {}, ensure_ascii=False),
            "details": details,
            "patient_id": patient_id if patient_id is not None else (
                record_id if table == "patient" else None)}


def _moment(value) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(microsecond=0).isoformat() if isinstance(value, dt.datetime) \
        else str(value)


def chain_of(values: dict, previous: str) -> str:
    """The hash that seals an entry's fields to the one before it."""
    fields = {name: (_moment(values.get(name)) if name == "at" else values.get(name))
              for name in _CHAINED}
    fields["user"] = fields["user"] if not isinstance(fields["user"], User) else \
        fields["user"].id
    text = previous + json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_chain() -> str:
    return (AuditEntry.select(AuditEntry.chain).where(AuditEntry.chain != "")
            .order_by(AuditEntry.id.desc()).limit(1).scalar()) or ""


def _sealed(entries: list[dict]) -> list[dict]:
    previous = _last_chain()
    for values in entries:
        values["at"] = values["at"].replace(microsecond=0)  # as stored and read back
        values["previous_chain"] = previous
        values["chain"] = previous = chain_of(values, previous)
    return entries


def record(action: str, table: str, record_id: int | None, by: User | None,
           changes: dict | None = None, details: str = "",
           patient_id: int | None = None) -> AuditEntry:
    """Adds an entry (`session.log` adds one for the person at the desk)."""
    with database.atomic():  # the last chain read and the entry written together
        [values] = _sealed([entry(action, table, record_id, by, changes, details,
                                  patient_id)])
        return AuditEntry.create(**values)


def record_many(entries: list[dict]) -> None:
    """Entries made with `entry`, written in a few statements."""
    with database.atomic():
        _sealed(entries)
        for start in range(0, len(entries), 200):
            AuditEntry.insert_many(entries[start:start + 200]).execute()


def remove_before(moment: dt.datetime) -> tuple[int, str]:
    """The entries older than `moment` removed (the administrator's purge past their
    retention, `retention.purge`, which records it). Returns how many and the chain of the
    last one removed: the purge's own entry keeps it, so that the trail still verifies from
    the first entry kept. Inside the caller's transaction."""
    # Only a beginning of the trail goes (the chain runs on from what is kept): the entries
    # before the first one of `moment` or later, never a later one a clock put out of order.
    first_kept = (AuditEntry.select(fn.MIN(AuditEntry.id)).where(AuditEntry.at >= moment)
                  .scalar())
    gone = AuditEntry.id < first_kept if first_kept is not None else AuditEntry.id.is_null(False)
    last = AuditEntry.select(AuditEntry.chain).where(gone).order_by(AuditEntry.id.desc()).first()
    if last is None:
        return 0, ""
    return AuditEntry.delete().where(gone).execute(), last.chain


def _cut_points() -> set[bytes]:
    """The chains where purges cut the trail: an entry may follow one of them."""
    points = set()
    for (details,) in AuditEntry.select(AuditEntry.details).where(
            (AuditEntry.action == "purge") & (AuditEntry.table == "audit_entry")).tuples():
        try:
            cut = json.loads(details).get("cut", "")
        except ValueError:
            continue
        if cut:
            points.add(bytes.fromhex(cut))
    return points


@dataclass(frozen=True)
class ChainReport:
    checked: int  # entries whose chain was verified
    before_chain: int  # entries written before the trail was chained (version 12)
    broken_at: AuditEntry | None  # the first entry that does not verify
    problem: str  # "changed" or "missing_before" (an entry before it was removed)


def verify(batch: int = 5000) -> ChainReport:
    """Reads the whole trail in order: each entry must hash to its chain, and follow an
    entry that is there."""
    seen: set[bytes] = {b""} | _cut_points()
    checked = before = 0
    last_id = 0
    while True:
        rows = list(AuditEntry.select().where(AuditEntry.id > last_id)
                    .order_by(AuditEntry.id).limit(batch))
        if not rows:
            return ChainReport(checked, before, None, "")
        for row in rows:
            last_id = row.id
            if not row.chain:
                if checked:  # an entry of the chained trail lost its seal
                    return ChainReport(checked, before, row, "changed")
                before += 1
                continue
            values = {name: getattr(row, name if name != "user" else "user_id")
                      for name in _CHAINED}
            if chain_of(values, row.previous_chain) != row.chain:
                return ChainReport(checked, before, row, "changed")
            if bytes.fromhex(row.previous_chain) not in seen:
                return ChainReport(checked, before, row, "missing_before")
            seen.add(bytes.fromhex(row.chain))
            checked += 1


def history(table: str, record_id: int) -> list[AuditEntry]:
    """A record's entries, newest first."""
    return list(AuditEntry.select()
                .where((AuditEntry.table == table) & (AuditEntry.record_id == record_id))
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))


def patient_history(patient_id: int) -> list[AuditEntry]:
    """Everything about a patient's file: the file, her doses, links, contacts, prints."""
    return list(AuditEntry.select().where(AuditEntry.patient_id == patient_id)
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))


def entries_since(since: dt.datetime) -> list[AuditEntry]:
    return list(AuditEntry.select().where(AuditEntry.at >= since)
                .order_by(AuditEntry.at, AuditEntry.id))
