"""Clinic-wide settings, stored as JSON in the Setting table and shared by every workstation."""

import json
from typing import Any

from nest_desktop.db.models import Setting, database

DEFAULTS: dict[str, Any] = {
    "backup.folder": "",  # empty: the "backups" folder beside the database
    "backup.keep_days": 30,
    "export.csv_separator": ";",  # French Excel; "," for other spreadsheets
}


def get(key: str) -> Any:
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return DEFAULTS.get(key)
    return json.loads(row.value)


def put(key: str, value: Any) -> None:
    encoded = json.dumps(value)
    with database.atomic():
        if Setting.update(value=encoded).where(Setting.key == key).execute() == 0:
            Setting.create(key=key, value=encoded)
