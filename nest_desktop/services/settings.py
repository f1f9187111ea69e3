"""Clinic-wide settings, stored as JSON in the Setting table and shared by every workstation."""

import json
from typing import Any

from nest_desktop.db.models import Setting, database
from nest_desktop.services import audit, session

DEFAULTS: dict[str, Any] = {
    "backup.folder": "",  # empty: the "backups" folder beside the database
    "backup.keep_days": 30,
    "backup.damage_alert": None,  # {"at", "detail"}: the last copy found the database damaged
    "export.csv_separator": ";",  # French Excel; "," for other spreadsheets
    "security.lock_minutes": 5,  # the screen locks after this long without use; 0: never
    "followup.closing_time": "18:00",  # same-day requests are dealt with by then (TEL-07)
    "followup.horizon_days": 7,  # Today shows the tasks due up to this many days ahead
    "pregnancy.convention": "naegele",  # or "french": DDR + 14 days + 9 months
    "pregnancy.tariffs": [],  # [label, amount in FCFA] printed in the 36-week pack
    "pregnancy.mothers_group_link": "",  # the WhatsApp/Facebook group, printed as a QR code
    "sms.transport": "none",  # services.sms.TRANSPORTS; each one's fields under "sms.<name>"
    "sms.timing": {},  # fields of domain.sms.Timing that differ from its defaults
    "sms.templates": {},  # kind -> language -> text, over domain.sms.DEFAULT_TEMPLATES
    "sms.part_price": 20,  # FCFA per SMS part, for the cost of a newsletter
}


def get(key: str) -> Any:
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return DEFAULTS.get(key)
    return json.loads(row.value)


def put(key: str, value: Any, secret_fields: tuple[str, ...] = (),
        permission: str = "settings.write") -> None:
    """Stores a setting; the `secret_fields` of a dict value (a password…) are audited as
    changed or not, never in clear. `permission`: the right it needs (the quality pilots
    set their own targets)."""
    session.require(permission)
    encoded = json.dumps(value)
    old = get(key)
    if secret_fields:
        old, value = _masked(old, secret_fields, None), _masked(value, secret_fields, old)
    with database.atomic():
        if Setting.update(value=encoded).where(Setting.key == key).execute() == 0:
            Setting.create(key=key, value=encoded)
        session.log("update", "setting", None, audit.diff({key: old}, {key: value}))


def record_state(key: str, value: Any) -> None:
    """A value the application itself keeps (not a choice of the clinic: no right needed, no
    trail), such as the last damage a backup found; inside the caller's transaction."""
    encoded = json.dumps(value)
    if Setting.update(value=encoded).where(Setting.key == key).execute() == 0:
        Setting.create(key=key, value=encoded)


def _masked(value: Any, secret_fields: tuple[str, ...], before: Any) -> Any:
    """The dict with each secret as stars; 'new' when it differs from `before`'s."""
    if not isinstance(value, dict):
        return value
    masked = dict(value)
    for name in secret_fields:
        if masked.get(name):
            changed = isinstance(before, dict) and before.get(name) != value.get(name)
            masked[name] = "*** (new)" if changed else "***"
    return masked
