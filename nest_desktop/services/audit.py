"""The audit trail: every change, login, export and print, with who, when and what changed.

Entries are only ever added: no function here changes or deletes one.
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from nest_desktop.db.models import AuditEntry, User
from nest_desktop.domain import clock


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


def record(action: str, table: str, record_id: int | None, by: User | None,
           changes: dict | None = None, details: str = "",
           patient_id: int | None = None) -> AuditEntry:
    """Adds an entry (`session.log` adds one for the person at the desk)."""
    return AuditEntry.create(**entry(action, table, record_id, by, changes, details,
                                     patient_id))


def record_many(entries: list[dict]) -> None:
    """Entries made with `entry`, written in a few statements."""
    for start in range(0, len(entries), 200):
        AuditEntry.insert_many(entries[start:start + 200]).execute()


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
