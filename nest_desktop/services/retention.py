"""How long each kind of record is kept (ISO 9001 §7.5.3: records kept for a set time, then
disposed of), the records' age, and the purge: never by itself, only by an administrator who
asks for it, in one transaction, and written in the audit trail (which stays verifiable)."""

import datetime as dt
import json
from dataclasses import dataclass

from peewee import Case, fn

from nest_desktop.db.models import AuditEntry, CallRecord, SmsMessage, SurveyResponse, database
from nest_desktop.domain import clock
from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import N_, _
from nest_desktop.services import ValidationFailed, as_date, audit, session, settings

KEY = "retention.years"
KINDS = {
    "calls": N_("Call register"),
    "surveys": N_("Survey answers"),
    "sms": N_("SMS sent"),
    "audit": N_("Audit trail"),
}
DEFAULT_YEARS = {"calls": 3, "surveys": 5, "sms": 2, "audit": 10}
settings.DEFAULTS.setdefault(KEY, {})
MAX_YEARS = 50
# A message still to send, or being sent, is never purged, whatever its age.
_FINAL_SMS = ("sent", "delivered", "failed", "cancelled")


def _records(kind: str):
    """(model, its date column, the condition on what may go at all)."""
    if kind == "calls":
        return CallRecord, CallRecord.started_at, CallRecord.id.is_null(False)
    if kind == "surveys":
        return SurveyResponse, SurveyResponse.answered_at, SurveyResponse.id.is_null(False)
    if kind == "sms":
        return SmsMessage, SmsMessage.created_at, SmsMessage.state.in_(_FINAL_SMS)
    if kind == "audit":
        return AuditEntry, AuditEntry.at, AuditEntry.id.is_null(False)
    raise ValueError(f"unknown kind of record: {kind}")


def policies() -> dict[str, int]:
    """Years each kind is kept (the clinic's choice, else the defaults)."""
    chosen = settings.get(KEY) or {}
    return {kind: int(chosen.get(kind, DEFAULT_YEARS[kind])) for kind in KINDS}


def set_policies(years: dict[str, int]) -> None:
    errors = {kind: _("From 1 to {count} years.").format(count=MAX_YEARS)
              for kind, value in years.items() if kind in KINDS
              and not (isinstance(value, int) and 1 <= value <= MAX_YEARS)}
    unknown = set(years) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of record: {sorted(unknown)}")
    if errors:
        raise ValidationFailed(errors)
    settings.put(KEY, {**policies(), **years})


def cutoff(years: int, today: dt.date | None = None) -> dt.datetime:
    """Records kept `years` years from before this moment are past their retention."""
    today = today or clock.today()
    return dt.datetime.combine(add_months(today, -12 * years), dt.time.min)


@dataclass(frozen=True)
class Age:
    kind: str
    years: int
    records: int
    oldest: dt.date | None
    past_retention: int  # records older than the period that a purge would remove
    cutoff: dt.datetime


def ages(today: dt.date | None = None) -> list[Age]:
    """Each kind's records: how many, the oldest, how many are past their retention."""
    found = []
    kept = policies()
    for kind in KINDS:
        model, column, allowed = _records(kind)
        limit = cutoff(kept[kind], today)
        count, oldest, past = (model.select(
            fn.COUNT(model.id), fn.MIN(column),
            fn.SUM(Case(None, [((column < limit) & allowed, 1)], 0))).tuples().first()
        ) or (0, None, 0)
        if isinstance(oldest, dt.datetime):
            oldest = oldest.date()
        found.append(Age(kind, kept[kind], int(count or 0), as_date(oldest),
                         int(past or 0), limit))
    return found


def purge(kind: str, today: dt.date | None = None) -> int:
    """Removes the records of `kind` past their retention: the administrator's explicit
    action, audited with what went. Returns how many went."""
    user = session.require("records.purge")
    model, column, allowed = _records(kind)
    years = policies()[kind]
    limit = cutoff(years, today)
    condition = (column < limit) & allowed
    with database.atomic():
        if kind == "audit":
            removed, last_chain = audit.remove_before(limit)
        else:
            removed = model.delete().where(condition).execute()
            last_chain = ""
        details = {"kind": kind, "before": limit.date().isoformat(), "removed": removed,
                   "years": years}
        if last_chain:
            details["cut"] = last_chain  # where the trail kept now begins: still verifiable
        audit.record("purge", model._meta.table_name, None, user,
                     details=json.dumps(details))
    return removed
