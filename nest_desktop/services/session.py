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
from nest_desktop.services import ValidationFailed, audit

_hasher = PasswordHasher()
_current: User | None = None


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
    try:
        return bool(password_hash) and _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str, confirmation: str | None = None) -> str | None:
    if len(password) < permissions.PASSWORD_MIN_LENGTH:
        return _("A password has at least 8 characters.")
    if password.strip() != password:
        return _("A password neither starts nor ends with a space.")
    if confirmation is not None and confirmation != password:
        return _("The two passwords differ.")
    return None


def login(login_name: str, password: str, when: dt.datetime | None = None) -> User:
    """Opens the session; five failures in a row lock the account for a while."""
    global _current
    when = when or clock.now()
    refused = LoginFailed(_("Wrong login or password."))
    user = User.get_or_none((User.login == login_name.strip().lower()) & (User.active == True))  # noqa: E712
    if user is None:
        audit.record("login_failed", "user", None, None, details=_("unknown login"))
        raise refused
    if user.locked_until and user.locked_until > when:
        audit.record("login_failed", "user", user.id, user, details=_("account locked"))
        raise LoginFailed(_("Too many failed attempts: this account is locked until {time}.")
                          .format(time=user.locked_until.strftime("%H:%M")))
    if not user.password_hash:
        raise LoginFailed(_("This account has no password yet: an administrator must set one."))
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        failures = user.failed_logins + 1
        locked_until = None
        if failures >= permissions.MAX_FAILED_LOGINS:
            locked_until = when + dt.timedelta(minutes=permissions.LOCKOUT_MINUTES)
            failures = 0
        with database.atomic():
            User.update(failed_logins=failures, locked_until=locked_until).where(
                User.id == user.id).execute()
            audit.record("login_failed", "user", user.id, user,
                         details=_("too many attempts: account locked") if locked_until
                         else _("attempt {number}").format(number=failures))
        if locked_until:
            raise LoginFailed(_("Too many failed attempts: this account is locked until "
                                "{time}.").format(time=locked_until.strftime("%H:%M"))) from None
        raise refused from None
    updates = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(user.password_hash):
        updates["password_hash"] = _hasher.hash(password)
    with database.atomic():
        User.update(**updates).where(User.id == user.id).execute()
        audit.record("login", "user", user.id, user)
    _current = User.get_by_id(user.id)
    return _current


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
    problem = password_problem(new_password, confirmation)
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
    problem = password_problem(temporary, confirmation)
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
    global _current
    _current = None
