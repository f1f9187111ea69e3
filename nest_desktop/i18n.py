"""Languages and formatting: gettext catalogs compiled with Babel, dates and money with Babel.

Messages in the code are written in English and translated through `translations/`;
French (fr_SN) is the default language of the interface.
"""

import datetime as dt
import gettext as _gettext
import re
from decimal import Decimal

from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers

from nest_desktop.domain import messages as domain_messages
from nest_desktop.domain.dates import age_in_months, age_in_years
from nest_desktop.paths import TRANSLATIONS_DIR

DOMAIN = "nest_desktop"
DEFAULT_LANGUAGE = "fr"
# Babel locale used for formatting each interface language (CLDR has no en_SN).
LOCALES = {"fr": "fr_SN", "en": "en"}
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
# Dates are typed and shown day first in both languages, as everywhere in Senegal.
DATE_ENTRY_PATTERN = "dd/MM/yyyy"

_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_language = "en"


def set_language(language: str) -> None:
    """Activates a language of `LOCALES` for messages and formatting."""
    global _translations, _language
    if language not in LOCALES:
        raise ValueError(f"unsupported language: {language}")
    _translations = _gettext.translation(
        DOMAIN, localedir=str(TRANSLATIONS_DIR), languages=[language], fallback=True
    )
    _language = language
    domain_messages.set_translator(_translations.gettext)


def current_language() -> str:
    return _language


def current_locale() -> str:
    return LOCALES[_language]


def _(message: str) -> str:
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _translations.ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """A message whose French depends on what English does not say: pgettext("girl",
    "born on") is "née le"."""
    return _translations.pgettext(context, message)


def counted(singular: str, plural: str, count: int, none: str) -> str:
    """A count as French writes it: `none` in words when there is none ("Aucun appel"),
    then "1 appel", "1 234 appels"."""
    if count == 0:
        return none
    return ngettext(singular, plural, count).format(count=format_number(count))


def N_(message: str) -> str:
    """Marks a message for extraction; `_()` translates it where it is shown."""
    return message


def format_date(value: dt.date | None, style: str = "entry") -> str:
    """'entry' gives 23/11/2026; 'medium', 'long', 'full' (or a Babel pattern) give the
    language's forms, the first of the month as French writes it: "1er décembre 2026"."""
    if value is None:
        return ""
    pattern = DATE_ENTRY_PATTERN if style == "entry" else style
    text = babel_dates.format_date(value, pattern, locale=current_locale())
    if value.day == 1 and _language == "fr" and style != "entry":
        text = re.sub(r"(?<!\d)1(?= \D)", "1er", text, count=1)
    return text


def format_time(value: dt.time | dt.datetime) -> str:
    """A time in a sentence, as the language writes it: "04 h 35", "04:35"."""
    # Translators: a Babel (CLDR) time pattern; letters between quotes are printed as such.
    return babel_dates.format_time(value, _("HH:mm"), locale=current_locale())


def format_datetime(value: dt.datetime | None, style: str = "entry") -> str:
    """'entry' gives 23/11/2026 10:00 (lists and forms); any other style a sentence's words:
    "26 novembre 2026 à 04 h 35"."""
    if value is None:
        return ""
    if style == "entry":
        clock_time = babel_dates.format_time(value, "HH:mm", locale=current_locale())
        return f"{format_date(value.date())} {clock_time}"
    return _("{date} at {time}").format(date=format_date(value.date(), style),
                                        time=format_time(value))


def format_number(value: int | float | Decimal) -> str:
    return babel_numbers.format_decimal(value, locale=current_locale())


def format_list(items: list[str], style: str = "and") -> str:
    """Items joined as the language writes them: "Awa, Fatou et Moussa"; with style "or",
    "77 123 45 67 ou 76 555 44 33"."""
    kind = {"and": "standard", "or": "or"}[style]
    return babel_lists.format_list(list(items), kind, locale=current_locale())


def format_percent(ratio: float) -> str:
    """0.375 -> '38 %' (French) or '38%'."""
    return babel_numbers.format_percent(ratio, locale=current_locale())


def format_fcfa(amount: int | Decimal) -> str:
    """An amount in CFA francs as the clinic writes it: '1 234 567 FCFA' (no decimals)."""
    rounded = Decimal(amount).quantize(Decimal(1))
    return babel_numbers.format_decimal(rounded, locale=current_locale()) + "\u00a0FCFA"


def format_age(birth_date: dt.date, on: dt.date) -> str:
    """'34 years'; in months below two years, as parents and paediatricians say it."""
    months = age_in_months(birth_date, on)
    if months < 24:
        return ngettext("{count} month", "{count} months", months).format(count=months)
    years = age_in_years(birth_date, on)
    return ngettext("{count} year", "{count} years", years).format(count=years)


def format_schedule_age(days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> str:
    """The age of a vaccine dose as parents read it: 'At birth', '6 weeks', '9 months'."""
    if years:
        return ngettext("{count} year", "{count} years", years).format(count=years)
    if months:
        return ngettext("{count} month", "{count} months", months).format(count=months)
    if weeks:
        return ngettext("{count} week", "{count} weeks", weeks).format(count=weeks)
    if days:
        return ngettext("{count} day", "{count} days", days).format(count=days)
    return _("At birth")


def format_indicator(unit: str, value: float | None) -> str:
    """A quality indicator's value in its unit (domain.quality): '67 %', '75/100', '12 min',
    '45 s', '10 days', '8'; a dash when there was nothing to count."""
    if value is None:
        return "—"
    if unit == "percent":
        return format_percent(value / 100)
    if unit == "hour":  # an hour of the day: "10 h–11 h"
        return _("{start} h–{end} h").format(start=int(value), end=int(value) + 1)
    shown = format_number(round(value, 1) if unit == "days" else round(value))
    return {"score": _("{value}/100"), "minutes": _("{value} min"),
            "seconds": _("{value} s"), "days": _("{value} days")}.get(
        unit, "{value}").format(value=shown)
