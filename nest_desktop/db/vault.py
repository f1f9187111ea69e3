"""The clinic's passphrase, and what it locks: the database copies that leave the PC (USB
drives, shares) and the SMS provider's secrets inside the database.

The administrator sets the passphrase once; the database keeps only its salt and a sealed
check word, never the passphrase nor a key. Each workstation that backs up, restores or sends
SMS keeps the passphrase in its OS keyring (Windows Credential Manager); a computer with no
keyring keeps it in a file of the user's data folder readable by her alone.

Sealed copies are AES-256-GCM in 1 MiB chunks (the STREAM construction: each chunk's nonce
holds its number and whether it is the last, so a chunk cannot be moved, dropped or the file
cut short unseen), with a key derived from the passphrase by scrypt and a salt of each file.
The header keeps the clinic's vault id in clear, so that the recovery window, which has no
database, finds the passphrase in this PC's keyring.
"""

import base64
import os
import secrets as random
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from nest_desktop.db import keyring_store
from nest_desktop.domain.messages import _

MAGIC = b"NEST-SEALED-1\n"
CHUNK = 1 << 20
_ID, _SALT, _PREFIX = 16, 16, 7
HEADER_SIZE = len(MAGIC) + _ID + _SALT + _PREFIX
_TAG = 16
KEYRING_SERVICE = "NEST Desktop clinic passphrase"
SECRET_PREFIX = "sealed:1:"
CHECK_WORD = "NEST"
MIN_LENGTH = 12


class Locked(RuntimeError):
    """What is asked needs the clinic's passphrase, which this workstation does not have."""


class WrongPassphrase(Locked):
    pass


def derive_key(passphrase: str, salt: bytes) -> bytes:
    # scrypt at 2^15 (32 MiB, ~0.1 s): costly to guess offline, once per copy or start
    return Scrypt(salt=salt, length=32, n=2 ** 15, r=8, p=1).derive(passphrase.encode())


# --- the clinic's vault: its id, salt and check word, kept in the database's settings ----------

def new_vault(passphrase: str) -> dict:
    """What the database keeps of a new passphrase: no key, only how to recognise it."""
    vault = {"id": random.token_hex(_ID), "salt": random.token_hex(_SALT)}
    vault["check"] = seal_text(key_for(vault, passphrase), CHECK_WORD)
    return vault


def key_for(vault: dict, passphrase: str) -> bytes:
    return derive_key(passphrase, bytes.fromhex(vault["salt"]))


def key_if_matches(vault: dict, passphrase: str) -> bytes | None:
    """The key of the clinic's secrets when `passphrase` is hers, derived once."""
    key = key_for(vault, passphrase)
    try:
        return key if open_text(key, vault["check"]) == CHECK_WORD else None
    except WrongPassphrase:
        return None


def matches(vault: dict, passphrase: str) -> bool:
    return key_if_matches(vault, passphrase) is not None


def passphrase_problem(passphrase: str, repeated: str) -> str | None:
    if len(passphrase) < MIN_LENGTH:
        return _("At least {count} characters: a sentence is easy to remember.").format(
            count=MIN_LENGTH)
    if passphrase != repeated:
        return _("The two passphrases differ.")
    return None


# --- secrets inside the database ---------------------------------------------------------------

def seal_text(key: bytes, text: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), SECRET_PREFIX.encode())
    return SECRET_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def is_sealed_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_PREFIX)


def open_text(key: bytes, token: str) -> str:
    raw = base64.b64decode(token[len(SECRET_PREFIX):])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], SECRET_PREFIX.encode()).decode()
    except InvalidTag as error:
        raise WrongPassphrase(_("The clinic's passphrase does not open this secret.")) \
            from error


# --- sealed files -----------------------------------------------------------------------------

def is_sealed_file(path: Path) -> bool:
    try:
        with Path(path).open("rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def sealed_file_vault_id(path: Path) -> str | None:
    with Path(path).open("rb") as handle:
        header = handle.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        return None
    return header[len(MAGIC):len(MAGIC) + _ID].hex()


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def seal_file(source: Path, target: Path, vault: dict, passphrase: str) -> None:
    """`source` sealed into `target` (written whole or raising)."""
    salt, prefix = os.urandom(_SALT), os.urandom(_PREFIX)
    header = MAGIC + bytes.fromhex(vault["id"]) + salt + prefix
    cipher = AESGCM(derive_key(passphrase, salt))
    with Path(source).open("rb") as plain, Path(target).open("wb") as sealed:
        sealed.write(header)
        number, chunk = 0, plain.read(CHUNK)
        while True:
            following = plain.read(CHUNK)
            last = not following
            sealed.write(cipher.encrypt(_nonce(prefix, number, last), chunk, header))
            if last:
                break
            number, chunk = number + 1, following
        sealed.flush()
        os.fsync(sealed.fileno())


def open_file(source: Path, target: Path | None, passphrase: str) -> None:
    """`source` opened into `target` (None: only authenticated, every chunk read); raises
    WrongPassphrase for a wrong passphrase, a changed or a cut file alike."""
    with Path(source).open("rb") as sealed:
        header = sealed.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise WrongPassphrase(_("This file is not a sealed NEST copy."))
        salt = header[len(MAGIC) + _ID:len(MAGIC) + _ID + _SALT]
        prefix = header[-_PREFIX:]
        cipher = AESGCM(derive_key(passphrase, salt))
        out = Path(target).open("wb") if target is not None else None
        try:
            number, chunk = 0, sealed.read(CHUNK + _TAG)
            while True:
                following = sealed.read(CHUNK + _TAG)
                try:
                    plain = cipher.decrypt(_nonce(prefix, number, not following), chunk, header)
                except InvalidTag as error:
                    raise WrongPassphrase(_(
                        "The passphrase does not open this copy, or the copy was changed or "
                        "cut short.")) from error
                if out is not None:
                    out.write(plain)
                if not following:
                    break
                number, chunk = number + 1, following
        finally:
            if out is not None:
                out.close()


# --- the passphrase on this workstation ----------------------------------------------------------

def _fallback_file(vault_id: str) -> Path:
    """Where a computer with no keyring keeps it: the user's own data folder, like Qt's
    AppDataLocation, never beside the copies."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home()))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "NEST" / "NEST Desktop" / "keys" / f"{vault_id}.key"


def remember(vault_id: str, passphrase: str) -> bool:
    """Kept on this workstation; True in the OS keyring, False in the user's own file."""
    if keyring_store.put(KEYRING_SERVICE, vault_id, passphrase):
        return True
    path = _fallback_file(vault_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(passphrase)
    return False


def remembered(vault_id: str) -> str | None:
    found = keyring_store.get(KEYRING_SERVICE, vault_id)
    if found:
        return found
    try:
        return _fallback_file(vault_id).read_text(encoding="utf-8") or None
    except OSError:
        return None


def remembered_for_copy(path: Path) -> str | None:
    """The passphrase this workstation keeps for the clinic a sealed copy belongs to."""
    vault_id = sealed_file_vault_id(path)
    return remembered(vault_id) if vault_id else None
