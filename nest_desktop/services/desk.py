"""Sites, users and who is at the desk (TEL-09); the first run creates the first of each."""

from dataclasses import dataclass

from nest_desktop.db.models import ROLES, Site, User, database
from nest_desktop.domain import phones
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.patients import validate_name
from nest_desktop.services import ValidationFailed

ROLE_LABELS = {
    "secretary": N_("Medical secretary"),
    "customer_relations": N_("Customer-relations secretary"),
    "prospect_manager": N_("Prospect manager"),
    "quality_pilot": N_("Quality pilot"),
    "administrator": N_("Administrator"),
}
assert set(ROLE_LABELS) == set(ROLES)


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


def needs_first_run() -> bool:
    return not User.select().where(User.active == True).exists()  # noqa: E712


def _clean_site(form: SiteForm, site_id: int | None = None) -> dict:
    errors = {}
    name = " ".join(form.name.split())
    if not name:
        errors["site_name"] = _("Give the site's name, as said on the phone.")
    elif Site.select().where((Site.name == name) & (Site.id != (site_id or 0))).exists():
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
    if errors:
        raise ValidationFailed(errors)
    return {"full_name": " ".join(form.full_name.split()),
            "phone_first_name": " ".join(form.phone_first_name.split())[:50],
            "role": form.role, "site": form.site_id}


def create_first_site_and_user(site: SiteForm, user: UserForm) -> tuple[Site, User]:
    """The first run: the clinic's site and its first user, an administrator, together."""
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
        user_values["site"] = new_site.id
        new_user = User.create(**user_values)
    return new_site, new_user


def create_site(form: SiteForm) -> Site:
    values = _clean_site(form)
    with database.atomic():
        return Site.create(**values)


def update_site(site_id: int, form: SiteForm) -> Site:
    values = _clean_site(form, site_id)
    with database.atomic():
        Site.update(**values).where(Site.id == site_id).execute()
    return Site.get_by_id(site_id)


def create_user(form: UserForm) -> User:
    values = _clean_user(form)
    with database.atomic():
        return User.create(**values)


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
