"""Message catalogs: extract the messages from the code, merge them into each language's
catalog, compile the catalogs.

    python scripts/translations.py update    # after changing messages; then translate the .po
    python scripts/translations.py compile   # writes the .mo files the application loads
    python scripts/translations.py check     # fails when a message has no French translation
                                             # or a text not set as French typography wants
    python scripts/translations.py resources # sets the texts of resources/**/*.json
"""

import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from nest_desktop.domain.text import typeset

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
DOMAIN = "nest_desktop"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "counted": (1, 2)}
# English is the language of the code's messages: its catalog stays empty on purpose.
LANGUAGES = {"fr": "fr_SN", "en": "en"}


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    template = Catalog(project="NEST Desktop", domain=DOMAIN)
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / "nest_desktop", method_map, keywords=KEYWORDS, comment_tags=("Translators:",)):
        template.add(message, None, [(f"nest_desktop/{filename}", lineno)],
                     auto_comments=comments, context=context)
    return template


def read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def update() -> None:
    template = extract()
    with (TRANSLATIONS / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, width=100)
    for language, locale in LANGUAGES.items():
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(path, locale) if path.exists() else Catalog(locale=locale, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        if language == "fr":
            for message in catalog:
                if isinstance(message.string, tuple):
                    message.string = tuple(typeset(s) for s in message.string)
                elif message.string:
                    message.string = typeset(message.string)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)


def compile_all() -> None:
    for language, locale in LANGUAGES.items():
        catalog = read(po_path(language), locale)
        with po_path(language).with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


def missing_french() -> list[str]:
    """Messages of the code that the French catalog does not translate."""
    catalog = read(po_path("fr"), "fr_SN")
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = found.string if found else None
        if isinstance(strings, tuple):
            strings = all(strings) and strings
        if not strings or (found and found.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


RESOURCES = ROOT / "resources"
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def typeset_json(source: str) -> str:
    """A JSON file's text with each of its strings `typeset`, the rest as it was written;
    no-break spaces written as escapes, to be seen by whoever edits the file."""
    def typeset_literal(match: re.Match) -> str:
        value = json.loads(match.group(0))
        if typeset(value) == value:
            return match.group(0)
        literal = json.dumps(typeset(value), ensure_ascii=False)
        return literal.replace("\u00a0", "\\u00a0").replace("\u202f", "\\u202f")
    return _JSON_STRING.sub(typeset_literal, source)


def untypeset_resources() -> list[str]:
    return [str(path.relative_to(ROOT)) for path in sorted(RESOURCES.rglob("*.json"))
            if typeset_json(source := path.read_text(encoding="utf-8")) != source]


def typeset_resources() -> None:
    for path in sorted(RESOURCES.rglob("*.json")):
        source = path.read_text(encoding="utf-8")
        path.write_text(typeset_json(source), encoding="utf-8")


def untypeset_french() -> list[str]:
    """French translations that `update` would set otherwise (an apostrophe, a space)."""
    wrong = []
    for message in read(po_path("fr"), "fr_SN"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wrong += [s for s in strings if message.id and s and typeset(s) != s]
    return wrong


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "resources":
        typeset_resources()
    elif command == "compile":
        compile_all()
    elif command == "check":
        missing = missing_french()
        print("\n".join(missing) or "every message has its French translation")
        untypeset = untypeset_french() + untypeset_resources()
        if untypeset:
            print("not set as French typography wants (run update):", *untypeset, sep="\n")
        sys.exit(1 if missing or untypeset else 0)
    else:
        sys.exit(__doc__)
