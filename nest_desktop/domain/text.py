"""Names as people type them: without accents or case, split into words, compared loosely."""

import difflib
import re
import unicodedata
from collections.abc import Mapping

from nest_desktop.domain.messages import _

_SEPARATORS = re.compile(r"[\s'’\-‐.,;/]+")


def fold(text: str) -> str:
    """Lower case without accents: 'Ndèye Aïssatou' -> 'ndeye aissatou'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def words(text: str) -> list[str]:
    """The folded words of a name, in order, without duplicates."""
    seen: list[str] = []
    for word in _SEPARATORS.split(fold(text)):
        if word and word not in seen:
            seen.append(word)
    return seen


def list_name(last_name: str | None, first_names: str | None) -> str:
    """A person as the lists show her: 'DIOP Awa'."""
    return f"{(last_name or '').upper()} {first_names or ''}".strip()


def shown_name(name: str) -> str:
    """A person as shown anywhere: a lead imported without a name (Meta's exports) is
    "(name to complete)" until the callback gives it."""
    return name or _("(name to complete)")


def clean_name(text: str) -> str:
    """A name as stored: inner spaces collapsed, ends trimmed, the case kept as typed."""
    return " ".join(text.split())


def similar_names(first: str, second: str, threshold: float = 0.8) -> bool:
    """Whether two full names may be the same person.

    A shared word of three letters or more ('Fatou Diop' / 'Diop Fatou Binetou'), or close
    spellings ('Aissatou Ndiaye' / 'Aïssatou Ndiay').
    """
    first_words, second_words = words(first), words(second)
    if not first_words or not second_words:
        return False
    if any(len(w) >= 3 and w in second_words for w in first_words):
        return True
    ratio = difflib.SequenceMatcher(
        None, " ".join(sorted(first_words)), " ".join(sorted(second_words))
    ).ratio()
    return ratio >= threshold


def has_control_characters(text: str) -> bool:
    """Invisible control characters (NUL and the like, pasted from elsewhere) that a database
    may refuse; tabs and line breaks are allowed."""
    return any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text or "")


NBSP = "\u00a0"  # before ":" and inside « », beside numbers
NNBSP = "\u202f"  # the narrow one, before ";", "!" and "?"

_TAG = re.compile(r"(<[^>]*>)")  # ReportLab's and Qt's markup: left as it is
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
_BEFORE_COLON = re.compile(r"[ \t\u00a0\u202f]+(?=:)")
_BEFORE_HIGH_MARK = re.compile(r"[ \t\u00a0\u202f]+(?=[;!?])")
_AFTER_OPENING_QUOTE = re.compile(r"«[ \t\u00a0\u202f]*")
_BEFORE_CLOSING_QUOTE = re.compile(r"[ \t\u00a0\u202f]*»")
# A number keeps what it counts (and a digit group the next one): "7 000", "3 200 g",
# "38 °C", "24 novembre", "77 123 45 67", "10 h 35"; and an abbreviation what it abbreviates
# the number of ("29 nov. 2026", "Tél. 33 860 10 10"); a line may still break before it.
# A date may still leave its time ("23/11/2026 09:30").
_AFTER_A_NUMBER = re.compile(r"(?<=\d) (?=[^\s\d])")
_BETWEEN_NUMBER_PARTS = re.compile(
    r"(?<=[\d+]) (?=\d+(?:\s|$|[^\d:/.]))|(?<=\d h) (?=\d)|(?<=\w\.) (?=[\d+])")


def _keep_numbers_together(text: str) -> str:
    """A number stays on the line of what it counts, as French typography wants."""
    return _AFTER_A_NUMBER.sub(NBSP, _BETWEEN_NUMBER_PARTS.sub(NBSP, text))


def _typeset_words(text: str) -> str:
    text = _APOSTROPHE.sub("’", text)
    text = _BEFORE_COLON.sub(NBSP, text)
    text = _BEFORE_HIGH_MARK.sub(NNBSP, text)
    if "«" in text or "»" in text:
        text = _AFTER_OPENING_QUOTE.sub("«" + NBSP, text)
        text = _BEFORE_CLOSING_QUOTE.sub(NBSP + "»", text)
    return _keep_numbers_together(text)


def typeset(text: str) -> str:
    """A text as French typography prints it, the one way every printed and shown text is
    set: one apostrophe (’), a no-break space where a space stands before ":" (a narrow one
    before ";", "!", "?") and inside « », numbers that never leave what they count.

    Only spaces that are there are changed, so English ("Answered: 1") and addresses
    ("https://…", "10:30") are left as they are; markup tags are not touched."""
    if not text:
        return text or ""
    return "".join(part if part.startswith("<") else _typeset_words(part)
                   for part in _TAG.split(text))


_VOWELS = frozenset("AEIOUÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouàâäéèêëîïôöùûü")
_BEFORE_A_PLACEHOLDER = re.compile(r"\b([Dd]e|[Qq]ue) \{(\w+)\}")


def elide(template: str, values: Mapping[str, object]) -> str:
    """The template with French elision where a name put in starts with a vowel:
    "vaccins de {enfant}" with Abdoulaye gives "vaccins d’{enfant}" ("vaccins d’Abdoulaye"),
    "rendez-vous de {prenom}" with Aïssatou "rendez-vous d’Aïssatou". Only the junction is
    changed, never the name (a "de" inside it stays as typed)."""
    def junction(match: re.Match) -> str:
        word, key = match.groups()
        value = _TAG.sub("", str(values.get(key, "")))
        if value[:1] in _VOWELS:
            return f"{word[:-1]}’{{{key}}}"
        return match.group(0)
    return _BEFORE_A_PLACEHOLDER.sub(junction, template)


def fill_in(template: str, **values: object) -> str:
    """`template.format(**values)`, elided as French writes it (`elide`)."""
    return elide(template, values).format(**values)
