"""NEST Desktop: the front-desk follow-up tool of NEST mother-and-child clinics."""

__version__ = "0.1.0"
APP_NAME = "NEST Desktop"
ORGANIZATION = "NEST"

from nest_desktop import i18n as _i18n  # noqa: E402  (French by default, from the first import)
from nest_desktop.domain import followup as _followup  # noqa: E402
from nest_desktop.domain import pregnancy as _pregnancy  # noqa: E402
from nest_desktop.domain import surveys as _surveys  # noqa: E402
from nest_desktop.domain import vaccination as _vaccination  # noqa: E402
from nest_desktop.paths import RESOURCES_DIR as _RESOURCES_DIR  # noqa: E402

_i18n.set_language(_i18n.DEFAULT_LANGUAGE)
# The domain reads no file of its own choosing: it is told where the clinic's data is.
_vaccination.use_schedule_file(_RESOURCES_DIR / "vaccination" / "schedules.json")
_followup.use_rules_file(_RESOURCES_DIR / "followup" / "rules.json")
_surveys.use_surveys_file(_RESOURCES_DIR / "followup" / "surveys.json")
_pregnancy.use_pathway_file(_RESOURCES_DIR / "pregnancy" / "pathway.json")
