"""Translation hook for the domain's messages.

The domain imports nothing of ours, so the application injects the active catalog here
(`nest_desktop.i18n.set_language`); until then messages stay in their source language.
"""

from collections.abc import Callable

_translate: Callable[[str], str] | None = None


def set_translator(translate: Callable[[str], str] | None) -> None:
    global _translate
    _translate = translate


def _(message: str) -> str:
    return _translate(message) if _translate else message


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, where it is shown."""
    return message
