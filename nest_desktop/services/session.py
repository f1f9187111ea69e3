"""Who is at the desk: logging in with a password, roles checked before any change (ISO 9001).

One person at a time uses a workstation: the session is this process's. Passwords are hashed
with Argon2 and never stored, shown or logged in clear.
"""

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nest_desktop.db.models import User, database
from nest_desktop.domain import clock, permissions
from nest_desktop.domain.messages import _
from nest_desktop.domain.text import fold
from nest_desktop.services import ValidationFailed, audit

_hasher = PasswordHasher()
_dummy_hash = ""  # made at the first unknown login, not at import (the start stays quick)
_current: User | None = None
# wrong passwords typed on this workstation, whatever the account
_workstation_failures = 0
_workstation_not_before: dt.datetime | None = None


class PermissionDenied(RuntimeError):
    """The person at the desk may not do this; the message says who may."""


class LoginFailed(ValueError):
    pass


def current() -> User | None:
    return _current


def require(action: str) -> User:
    """The person at the desk, if her role allows `action`; else PermissionDenied."""
    if _current is None:
        raise PermissionDenied(_("Log in first."))
    if not permissions.allowed(_current.role, action):
        roles = ", ".join(_(permissions.ROLE_LABELS[r]) for r in permissions.roles_for(action))
        raise PermissionDenied(_("This is for: {roles}.").format(roles=roles))
    return _current


def log(action: str, table: str = "", record_id: int | None = None,
        changes: dict | None = None, details: str = "", patient_id: int | None = None) -> None:
    """Adds an audit entry for the person at the desk; call it inside the change's
    transaction, so that the change and its entry are written together or not at all."""
    audit.record(action, table, record_id, _current, changes, details, patient_id)


def may(action: str) -> bool:
    return _current is not None and permissions.allowed(_current.role, action)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` is the one of this hash (the recovery window checks an
    administrator of a copy this way, without the damaged database)."""
    return bool(password_hash) and _matches(password_hash, password)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str, confirmation: str | None = None,
                     personal: tuple[str, ...] = ()) -> str | None:
    """Why a new password is refused, or None: too short, the login or the name, the demo's,
    or easy to guess (zxcvbn, the strength estimator, scores it below 3 of 4)."""
    if len(password) < permissions.PASSWORD_MIN_LENGTH:
        return _("A password has at least {count} characters.").format(
            count=permissions.PASSWORD_MIN_LENGTH)
    if password.strip() != password:
        return _("A password neither starts nor ends with a space.")
    if confirmation is not None and confirmation != password:
        return _("The two passwords differ.")
    squeezed = fold("".join(password.split()))
    words_of_her = [fold("".join(text.split())) for text in personal if text and text.strip()]
    words_of_her += [fold(word) for text in personal if text for word in text.split()]
    if squeezed in words_of_her:
        return _("A password is not the login or the name.")
    if password == permissions.DEMO_PASSWORD:
        return _("This is the demo's password: choose another one.")
    from zxcvbn import zxcvbn  # its word lists load on the first password checked

    if zxcvbn(password, user_inputs=[w for w in words_of_her if w][:10])["score"] < 3:
        return _("This password is too easy to guess: make it longer, with several words, "
                 "digits or signs.")
    return None


def login(login_name: str, password: str, when: dt.datetime | None = None) -> User:
    """Opens the session. Wrong passwords in a row slow down the next attempts, on the
    account and on this workstation (5 s, 10 s… up to a minute), instead of locking the
    account: the right password is accepted as soon as the wait is over."""
    global _current, _workstation_failures, _workstation_not_before
    when = when or clock.now()
    refused = LoginFailed(_("Wrong login or password."))
    user = User.get_or_none((User.login == login_name.strip().lower()) & (User.active == True))  # noqa: E712
    not_before = max(filter(None, (_workstation_not_before,
                                   user.locked_until if user is not None else None)),
                     default=None)
    if not_before is not None and when < not_before:
        seconds = max(1, int((not_before - when).total_seconds() + 0.999))
        raise LoginFailed(_("Too many wrong passwords: try again in {seconds} s.").format(
            seconds=seconds))
    if user is None or not user.password_hash:
        # as long as for a known login: the time taken does not tell which logins exist
        _matches(dummy_hash(), password)
        _workstation_failures += 1
        _workstation_not_before = _after(when, _workstation_failures)
        audit.record("login_failed", "user", None, None, details=_("unknown login"))
        if user is not None:
            raise LoginFailed(_("This account has no password yet: an administrator must "
                                "set one."))
        raise refused
    if not _matches(user.password_hash, password):
        failures = user.failed_logins + 1
        _workstation_failures += 1
        _workstation_not_before = _after(when, _workstation_failures)
        delay = permissions.throttle_seconds(failures)
        with database.atomic():
            User.update(failed_logins=failures, locked_until=_after(when, failures)).where(
                User.id == user.id).execute()
            audit.record("login_failed", "user", user.id, user, details=(
                _("attempt {number}; next attempt in {seconds} s").format(
                    number=failures, seconds=delay) if delay
                else _("attempt {number}").format(number=failures)))
        raise refused
    _workstation_failures, _workstation_not_before = 0, None
    updates = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(user.password_hash):
        updates["password_hash"] = _hasher.hash(password)
    with database.atomic():
        User.update(**updates).where(User.id == user.id).execute()
        audit.record("login", "user", user.id, user)
    _current = User.get_by_id(user.id)
    return _current


def recovered(user_id: int) -> User:
    """Opens the session of an administrator who proved herself with the recovery code
    (`desk.recover_with_code`): the waits of wrong passwords are over for her and here."""
    global _current, _workstation_failures, _workstation_not_before
    _workstation_failures, _workstation_not_before = 0, None
    _current = User.get_by_id(user_id)
    return _current


def dummy_hash() -> str:
    """A hash no password matches: checked for an unknown login, so that it takes as long
    as a known one."""
    global _dummy_hash
    if not _dummy_hash:
        _dummy_hash = _hasher.hash("not anybody's password")
    return _dummy_hash


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _after(when: dt.datetime, failures: int) -> dt.datetime | None:
    seconds = permissions.throttle_seconds(failures)
    return when + dt.timedelta(seconds=seconds) if seconds else None


def logout() -> None:
    global _current
    if _current is not None:
        audit.record("logout", "user", _current.id, _current)
    _current = None


def change_own_password(current_password: str, new_password: str, confirmation: str) -> None:
    """The owner changes her password; the current one proves it is her."""
    user = require("patient.read")
    try:
        _hasher.verify(User.get_by_id(user.id).password_hash, current_password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise ValidationFailed({"current_password": _("The current password is wrong.")}
                               ) from None
    me = User.get_by_id(user.id)
    problem = password_problem(new_password, confirmation,
                               (me.login, me.full_name, me.phone_first_name))
    if problem:
        raise ValidationFailed({"new_password": problem})
    if new_password == current_password:
        raise ValidationFailed({"new_password": _("Choose a password other than the current one.")})
    with database.atomic():
        User.update(password_hash=hash_password(new_password), must_change_password=False
                    ).where(User.id == user.id).execute()
        log("password_changed", "user", user.id)
    user.must_change_password = False


def reset_password(user_id: int, temporary: str, confirmation: str) -> None:
    """An administrator gives a temporary password, to be changed at the next login."""
    require("accounts.manage")
    target = User.get_by_id(user_id)
    problem = password_problem(temporary, confirmation,
                               (target.login, target.full_name, target.phone_first_name))
    if problem:
        raise ValidationFailed({"new_password": problem})
    with database.atomic():
        User.update(password_hash=hash_password(temporary), must_change_password=True,
                    failed_logins=0, locked_until=None).where(User.id == user_id).execute()
        log("password_reset", "user", user_id)


def set_active(user_id: int, active: bool) -> None:
    me = require("accounts.manage")
    if user_id == me.id and not active:
        raise ValidationFailed({"user": _("You cannot disable your own account.")})
    with database.atomic():
        User.update(active=active).where(User.id == user_id).execute()
        log("update", "user", user_id, {"active": [not active, active]})


def _reset_for_tests() -> None:
    global _current, _workstation_failures, _workstation_not_before
    _current = None
    _workstation_failures, _workstation_not_before = 0, None
