"""The clinic's passphrase (`db.vault`): set by an administrator, typed once on each
workstation that backs up, restores or sends SMS, kept in its OS keyring. It seals the copies
of the database and the SMS provider's secrets; the database keeps no key."""

from nest_desktop.db import vault
from nest_desktop.db.connection import sqlite_path
from nest_desktop.db.models import database
from nest_desktop.domain.messages import _
from nest_desktop.services import ValidationFailed, hooks, session, settings

Locked = vault.Locked  # what the windows catch
VAULT = "security.vault"
_keys: dict[tuple[str, str], bytes] = {}  # (vault id, passphrase) -> key, derived once


def clinic_vault() -> dict | None:
    return settings.get(VAULT) or None


def is_set() -> bool:
    return clinic_vault() is not None


def on_this_workstation() -> str | None:
    """The passphrase, when this workstation keeps the clinic's current one."""
    current = clinic_vault()
    if current is None:
        return None
    found = vault.remembered(current["id"])
    if found and _key(current, found) is not None:
        return found
    return None


def _key(current: dict, passphrase: str) -> bytes | None:
    cached = _keys.get((current["id"], passphrase))
    if cached is None:
        cached = vault.key_if_matches(current, passphrase)
        if cached is not None:
            _keys[(current["id"], passphrase)] = cached
    return cached


def locked_message() -> str:
    return _("This workstation does not have the clinic's passphrase: an administrator types "
             "it in Settings › Backups.")


def secrets_key() -> bytes:
    """The key of the secrets kept in the database; vault.Locked when this workstation
    cannot open them."""
    current = clinic_vault()
    passphrase = on_this_workstation()
    if current is None or passphrase is None:
        raise vault.Locked(locked_message() if current is not None else _(
            "The clinic has no passphrase yet: an administrator sets it in Settings › Backups."))
    return _key(current, passphrase)


def seal_secret(text: str) -> str:
    return vault.seal_text(secrets_key(), text) if text else ""


def open_secret(value: str) -> str:
    """A secret as the database keeps it, opened (a value from before sealing passes)."""
    return vault.open_text(secrets_key(), value) if vault.is_sealed_text(value) else value


def set_passphrase(passphrase: str, repeated: str, current_passphrase: str = "") -> bool:
    """Sets the clinic's passphrase (or changes it, given the current one), re-seals the
    secrets with it and keeps it on this workstation; True when in the OS keyring."""
    session.require("settings.write")
    problem = vault.passphrase_problem(passphrase, repeated)
    if problem:
        raise ValidationFailed({"passphrase": problem})
    old = clinic_vault()
    old_key = None
    if old is not None:
        old_key = _key(old, current_passphrase) if current_passphrase else None
        if old_key is None:
            raise ValidationFailed({"current": _("This is not the clinic's passphrase.")})
    new = vault.new_vault(passphrase)
    new_key = _key(new, passphrase)
    with database.atomic():
        # each holder of secrets seals its own again (or for the first time)
        hooks.secrets_resealed.call(lambda value: vault.open_text(old_key, value)
                                    if vault.is_sealed_text(value) else value,
                                    lambda text: vault.seal_text(new_key, text) if text else "")
        settings.put(VAULT, new)
        session.log("passphrase", "setting", None,
                    details=_("passphrase changed") if old is not None
                    else _("passphrase set"))
    if sqlite_path(database.obj) is not None:
        # the pages that held the secrets in clear leave the write-ahead log too
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return vault.remember(new["id"], passphrase)


def enter_on_this_workstation(passphrase: str) -> bool:
    """Keeps the clinic's passphrase on this workstation once checked; True in the keyring."""
    session.require("settings.write")
    current = clinic_vault()
    if current is None:
        raise ValidationFailed({"passphrase": _("The clinic has no passphrase yet.")})
    if _key(current, passphrase) is None:
        raise ValidationFailed({"passphrase": _("This is not the clinic's passphrase.")})
    session.log("passphrase", "setting", None, details=_("passphrase kept on a workstation"))
    return vault.remember(current["id"], passphrase)
