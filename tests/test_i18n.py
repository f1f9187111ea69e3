import datetime as dt
import gettext
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from nest_desktop import i18n
from nest_desktop.domain import phones
from nest_desktop.paths import TRANSLATIONS_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import translations  # noqa: E402


def test_every_message_of_the_code_has_its_french_translation():
    assert translations.missing_french() == []


def test_catalogs_and_resources_are_set_as_french_typography_wants():
    assert translations.untypeset_french() == []
    assert translations.untypeset_resources() == []
    assert translations.typeset_json('{"a": "l\'accueil : 9 h"}') == (
        '{"a": "l’accueil\\u00a0: 9\\u00a0h"}')


def test_dates_and_times_as_french_writes_them():
    i18n.set_language("fr")
    assert i18n.format_datetime(dt.datetime(2026, 11, 26, 4, 35), "long") == (
        "26 novembre 2026 à 04 h 35")
    assert i18n.format_datetime(dt.datetime(2026, 11, 26, 4, 35)) == "26/11/2026 04:35"
    assert i18n.format_date(dt.date(2026, 12, 1), "full") == "mardi 1er décembre 2026"
    assert i18n.format_date(dt.date(2026, 12, 1)) == "01/12/2026"
    assert i18n.format_date(dt.date(2026, 12, 11), "long") == "11 décembre 2026"
    i18n.set_language("en")
    assert i18n.format_datetime(dt.datetime(2026, 11, 26, 4, 35), "long") == (
        "November 26, 2026 at 04:35")
    i18n.set_language("fr")


def test_a_count_of_none_is_written_in_words():
    i18n.set_language("fr")
    assert i18n.counted("{count} call", "{count} calls", 0, i18n._("No call")) == "Aucun appel"
    assert i18n.counted("{count} call", "{count} calls", 1, i18n._("No call")) == "1 appel"
    assert i18n.counted("{count} call", "{count} calls", 1234, i18n._("No call")) == (
        "1\u202f234 appels")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalogs_match_their_sources(language):
    po_file = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "nest_desktop.po"
    with po_file.open("rb") as handle:
        source = read_po(handle)
    compiled = gettext.GNUTranslations(po_file.with_suffix(".mo").open("rb"))
    for message in source:
        if message.id and isinstance(message.id, str) and message.string:
            read = (compiled.pgettext(message.context, message.id) if message.context
                    else compiled.gettext(message.id))
            assert read == message.string, (message.context, message.id)


def test_switching_language_changes_interface_and_domain_messages():
    assert i18n._("Patients") == "Patients"
    assert i18n._("Settings") == "Paramètres"
    i18n.set_language("en")
    assert i18n._("Settings") == "Settings"
    with pytest.raises(ValueError, match="Enter a phone number"):
        phones.normalize("")
    i18n.set_language("fr")
    with pytest.raises(ValueError, match="Saisissez un numéro"):
        phones.normalize("")


def test_babel_formats_dates_numbers_and_fcfa():
    assert i18n.format_date(dt.date(2026, 11, 24)) == "24/11/2026"
    assert i18n.format_date(dt.date(2026, 11, 24), "full") == "mardi 24 novembre 2026"
    assert i18n.format_fcfa(1234567) == "1\u202f234\u202f567\u00a0FCFA"
    assert i18n.format_age(dt.date(2026, 1, 30), dt.date(2026, 11, 23)) == "9 mois"
    assert i18n.format_age(dt.date(1990, 1, 1), dt.date(2026, 11, 23)) == "36 ans"
    i18n.set_language("en")
    assert i18n.format_number(1234567) == "1,234,567"
    assert i18n.format_age(dt.date(2025, 11, 23), dt.date(2026, 11, 23)) == "12 months"
