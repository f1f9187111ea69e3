"""Where the application's own files are: in the source tree or in a frozen build."""

import sys
from pathlib import Path


def _project_root() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


PROJECT_ROOT = _project_root()
RESOURCES_DIR = PROJECT_ROOT / "resources"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"
FONTS_DIR = RESOURCES_DIR / "fonts"
