"""NEST Desktop: the front-desk follow-up tool of NEST mother-and-child clinics."""

__version__ = "0.1.0"
APP_NAME = "NEST Desktop"
ORGANIZATION = "NEST"

from nest_desktop import i18n as _i18n  # noqa: E402  (French by default, from the first import)

_i18n.set_language(_i18n.DEFAULT_LANGUAGE)
