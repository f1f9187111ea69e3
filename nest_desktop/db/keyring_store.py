"""The operating system's keyring (Windows Credential Manager), where a workstation keeps
what must not sit in a file: the server's password, the clinic's passphrase. A computer
without one answers False / None, and the caller says where it keeps the secret instead."""


def put(service: str, user: str, secret: str) -> bool:
    """True when the keyring holds it; False when this computer has no keyring."""
    try:
        import keyring
        from keyring.errors import KeyringError

        keyring.set_password(service, user, secret)
    except (ImportError, KeyringError, RuntimeError):
        return False
    return True


def get(service: str, user: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        return keyring.get_password(service, user)
    except (ImportError, KeyringError, RuntimeError):
        return None
