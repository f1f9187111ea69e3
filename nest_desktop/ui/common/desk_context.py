"""Who is at the desk, and on which site this workstation is."""

from dataclasses import dataclass

from nest_desktop.db.models import Site, User


@dataclass
class DeskContext:
    user: User
    site: Site | None
