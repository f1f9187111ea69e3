"""Sites, users and who is at the desk (TEL-09); the first run creates the first of each."""

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from nest_desktop.db.models import Site, User, database
from nest_desktop.domain import clock, phones
from nest_desktop.domain.messages import _
from nest_desktop.domain.patients import validate_name
from nest_desktop.domain.permissions import ADMINISTRATOR, ROLES
from nest_desktop.services import ValidationFailed, audit, check_characters, session, settings
from nest_desktop.services.session import PermissionDenied

_LOGIN = re.compile(r"\A[a-z0-9][a-z0-9._-]{1,49}\Z")


@dataclass(frozen=True)
class SiteForm:
    name: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class UserForm:
    full_name: str = ""
    phone_first_name: str = ""
    role: str = "secretary"
    site_id: int | None = None
    login: str = ""
    password: str = ""  # the first password, or a temporary one the user changes
    confirmation: str = ""


def needs_first_run() -> bool:
    return not User.select().where(User.active == True).exists()  # noqa: E712


def _clean_site(form: SiteForm, site_id: int | None = None) -> dict:
    errors = {}
    name = " ".join(form.name.split())
    check_characters(errors, site_name=form.name + form.address)
    if not name:
        errors["site_name"] = _("Give the site's name, as said on the phone.")
    elif "site_name" not in errors and Site.select().where(
            (Site.name == name) & (Site.id != (site_id or 0))).exists():
        errors["site_name"] = _("A site already has this name.")
    phone = ""
    if form.phone.strip():
        try:
            phone = phones.normalize(form.phone)
        except ValueError as error:
            errors["site_phone"] = str(error)
    if errors:
        raise ValidationFailed(errors)
    return {"name": name[:100], "phone": phone, "address": form.address.strip()}


def _clean_user(form: UserForm) -> dict:
    errors = {}
    for key, value in (("full_name", form.full_name), ("phone_first_name", form.phone_first_name)):
        message = validate_name(value)
        if message:
            errors[key] = message
    if form.role not in ROLES:
        errors["role"] = _("Choose a role from the list.")
    login = form.login.strip().lower()
    if not _LOGIN.match(login):
        errors["login"] = _("A login has 2 to 50 lower-case letters, digits, '.', '-' or '_'.")
    elif User.select().where(User.login == login).exists():
        errors["login"] = _("This login is taken.")
    problem = session.password_problem(form.password, form.confirmation,
                                       (login, form.full_name, form.phone_first_name))
    if problem:
        errors["password"] = problem
    check_characters(errors, full_name=form.full_name, phone_first_name=form.phone_first_name)
    if len(form.phone_first_name.strip()) > 50:
        errors["phone_first_name"] = _("A first name has at most 50 characters.")
    if errors:
        raise ValidationFailed(errors)
    return {"full_name": " ".join(form.full_name.split()),
            "phone_first_name": " ".join(form.phone_first_name.split()),
            "role": form.role, "site": form.site_id, "login": login,
            "password_hash": session.hash_password(form.password)}


def create_first_site_and_user(site: SiteForm, user: UserForm) -> tuple[Site, User]:
    """The first run: the clinic's site and its first user, an administrator, together."""
    if not needs_first_run():
        raise PermissionDenied(_("The first run is over: an administrator adds the users."))
    errors = {}
    try:
        site_values = _clean_site(site)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    try:
        user_values = _clean_user(user)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        new_site = Site.create(**site_values)
        user_values.update(site=new_site.id, role="administrator", must_change_password=False)
        new_user = User.create(**user_values)
        audit.record("create", "site", new_site.id, new_user, audit.diff({}, site_values))
        audit.record("create", "user", new_user.id, new_user, audit.diff({}, _shown(user_values)))
    return new_site, new_user


def _shown(values: dict) -> dict:
    """What the audit trail may keep of a user: never the password's hash."""
    return {key: value for key, value in values.items() if key != "password_hash"}


def create_site(form: SiteForm) -> Site:
    session.require("sites.manage")
    values = _clean_site(form)
    with database.atomic():
        site = Site.create(**values)
        session.log("create", "site", site.id, audit.diff({}, values))
    return site


def update_site(site_id: int, form: SiteForm) -> Site:
    session.require("sites.manage")
    values = _clean_site(form, site_id)
    old = Site.get_by_id(site_id)
    with database.atomic():
        Site.update(**values).where(Site.id == site_id).execute()
        session.log("update", "site", site_id,
                    audit.diff({key: getattr(old, key) for key in values}, values))
    return Site.get_by_id(site_id)


def create_user(form: UserForm) -> User:
    """An administrator adds a user with a temporary password, changed at the first login."""
    session.require("accounts.manage")
    values = _clean_user(form)
    with database.atomic():
        user = User.create(**values, must_change_password=True)
        session.log("create", "user", user.id, audit.diff({}, _shown(values)))
    return user


def all_users() -> list[User]:
    """Active and disabled accounts, for their management."""
    return list(User.select().order_by(User.active.desc(), User.full_name))


def sites() -> list[Site]:
    return list(Site.select().where(Site.active == True).order_by(Site.name))  # noqa: E712


def users() -> list[User]:
    return list(User.select().where(User.active == True).order_by(User.full_name))  # noqa: E712


def get_user(user_id: int) -> User | None:
    return User.get_or_none((User.id == user_id) & (User.active == True))  # noqa: E712


def get_site(site_id: int) -> Site | None:
    return Site.get_or_none(Site.id == site_id)


def greeting(site: Site | None, user: User, service: str | None = None) -> str:
    """What to say on picking up (TEL-01): 'Clinique Nest, Clémence, bonjour'."""
    first_name = user.phone_first_name
    if service:
        return _("{service}, {first_name}, hello").format(service=service,
                                                                 first_name=first_name)
    structure = site.name if site else "Clinique Nest"
    return _("{structure}, {first_name}, hello").format(structure=structure,
                                                               first_name=first_name)


# --- the administrators' recovery code ---------------------------------------------------------

RECOVERY_CODE = "security.recovery_code"  # {"hash", "made_at", "made_by"}; None once used
# no 0/O nor 1/I/L to misread on paper: 31 signs; 20 of them, about 99 bits
_CODE_SIGNS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _normalized_code(code: str) -> str:
    return "".join(code.upper().split()).replace("-", "")


def new_recovery_code(when: dt.datetime | None = None) -> str:
    """A new code, printed at once: it lets an administrator in when every administrator's
    password is lost, once. The database keeps its hash only; the earlier code no longer
    works."""
    user = session.require("accounts.manage")
    signs = "".join(secrets.choice(_CODE_SIGNS) for _ in range(20))
    with database.atomic():
        settings.record_state(RECOVERY_CODE, {
            "hash": session.hash_password(signs),
            "made_at": (when or clock.now()).replace(microsecond=0).isoformat(),
            "made_by": user.full_name})
        session.log("recovery_code", "user", user.id, details=_("new recovery code"))
    return "-".join(signs[i:i + 4] for i in range(0, 20, 4))


def recovery_code_made() -> dict | None:
    """When the code in force was made and by whom, None when there is none (used)."""
    record = settings.get(RECOVERY_CODE)
    return {k: v for k, v in record.items() if k != "hash"} if record else None


def recover_with_code(login_name: str, code: str, new_password: str,
                      confirmation: str) -> User:
    """An administrator gets in with the printed recovery code and chooses a new password;
    the code is then used up. Wrong passwords' waits do not apply: the code is the way in
    when they hold every account."""
    record = settings.get(RECOVERY_CODE)
    user = User.get_or_none((User.login == login_name.strip().lower())
                            & (User.active == True))  # noqa: E712
    matches = session.password_matches(record["hash"] if record else session.dummy_hash(),
                                       _normalized_code(code))
    if not (record and matches):
        with database.atomic():
            audit.record("recovery_code_refused", "user", user.id if user else None, user)
        raise ValidationFailed({"code": _("This is not the recovery code in force (a code "
                                          "works once; a new one replaces the old).")})
    if user is None or user.role != ADMINISTRATOR:
        raise ValidationFailed({"login": _("The recovery code opens an administrator's "
                                           "account only.")})
    problem = session.password_problem(new_password, confirmation,
                                       (user.login, user.full_name, user.phone_first_name))
    if problem:
        raise ValidationFailed({"new_password": problem})
    with database.atomic():
        User.update(password_hash=session.hash_password(new_password), failed_logins=0,
                    locked_until=None, must_change_password=False).where(
            User.id == user.id).execute()
        settings.record_state(RECOVERY_CODE, None)
        audit.record("recovery_code_used", "user", user.id, user,
                     details=_("password replaced with the recovery code; the code is used up"))
    return session.recovered(user.id)
