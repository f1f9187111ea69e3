"""This workstation's own choices, kept in Qt's settings for the user: which database it uses,
and where it has written copies of it (the recovery window looks there without the
database).

The server's password goes to the OS keyring; only a computer without one keeps it in the
settings (and the Settings page says so).
"""

from PySide6.QtCore import QSettings

from nest_desktop.db.server import ServerAddress, store_password, stored_password


def server_address() -> ServerAddress | None:
    store = QSettings()
    host = store.value("database/host", "")
    if not host:
        return None
    return ServerAddress(host, int(store.value("database/port", 5432)),
                         store.value("database/name", "nest"),
                         store.value("database/user", "nest"))


def database_url() -> str | None:
    """The server chosen in Settings, or None for the embedded SQLite file."""
    address = server_address()
    if address is None:
        return None
    password = stored_password(address) or QSettings().value("database/password", "")
    return address.url(password)


def save_server(address: ServerAddress, password: str) -> bool:
    """Remembers the server; True when the password went to the keyring."""
    store = QSettings()
    store.setValue("database/host", address.host)
    store.setValue("database/port", address.port)
    store.setValue("database/name", address.name)
    store.setValue("database/user", address.user)
    in_keyring = store_password(address, password) if password else True
    if in_keyring:
        store.remove("database/password")
    else:
        store.setValue("database/password", password)
    return in_keyring


def use_embedded_database() -> None:
    store = QSettings()
    for key in ("host", "port", "name", "user", "password"):
        store.remove(f"database/{key}")


BACKUP_FOLDERS_KEY = "backup/folders"


def remember_backup_folder(folder) -> None:
    """Called when a copy is written."""
    store = QSettings()
    folders = [str(f) for f in (store.value(BACKUP_FOLDERS_KEY, []) or []) if f]
    if str(folder) not in folders:
        store.setValue(BACKUP_FOLDERS_KEY, [str(folder), *folders][:5])


def backup_folders() -> list[str]:
    value = QSettings().value(BACKUP_FOLDERS_KEY, []) or []
    return [str(f) for f in ([value] if isinstance(value, str) else value) if f]
