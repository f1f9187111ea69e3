"""A workstation's PostgreSQL server: its address, a connection test, and its password kept in
the operating system's keyring (Windows Credential Manager) rather than in a file."""

from dataclasses import dataclass
from urllib.parse import quote

from nest_desktop.db import keyring_store
from nest_desktop.domain.messages import _

KEYRING_SERVICE = "NEST Desktop database"


class ConnectionProblem(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int = 5432
    name: str = "nest"
    user: str = "nest"

    def url(self, password: str = "") -> str:
        secret = f":{quote(password, safe='')}" if password else ""
        return (f"postgresql://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/"
                f"{quote(self.name, safe='')}")

    @property
    def keyring_user(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.name}"


def check_address(address: ServerAddress) -> dict[str, str]:
    errors = {}
    if not address.host.strip() or any(ch in address.host for ch in " /@:"):
        errors["host"] = _("Give the server's name or address, for example 192.168.1.10.")
    if not 1 <= address.port <= 65535:
        errors["port"] = _("A port is a number from 1 to 65535 (PostgreSQL: 5432).")
    if not address.name.strip():
        errors["name"] = _("Give the database's name.")
    if not address.user.strip():
        errors["user"] = _("Give the user name.")
    return errors


def test_connection(url: str, timeout_s: int = 5) -> None:
    """Connects once; raises ConnectionProblem with the server's reason."""
    import psycopg2

    try:
        connection = psycopg2.connect(url, connect_timeout=timeout_s)
    except psycopg2.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConnectionProblem(_("The server cannot be reached: {reason}").format(
            reason=reason)) from error
    connection.close()


def store_password(address: ServerAddress, password: str) -> bool:
    """True when the keyring holds it; False when this computer has no keyring."""
    return keyring_store.put(KEYRING_SERVICE, address.keyring_user, password)


def stored_password(address: ServerAddress) -> str | None:
    return keyring_store.get(KEYRING_SERVICE, address.keyring_user)
