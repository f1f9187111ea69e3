"""Names as people type them: without accents or case, split into words, compared loosely."""

import difflib
import re
import unicodedata

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


_SPACE_BY_A_NUMBER = re.compile(r"(?<=\d) (?=\S)|(?<=\S) (?=\d)")


def keep_numbers_together(text: str) -> str:
    """A number stays on the line of what it counts or dates, as French typography wants:
    "10 semaines", "29 nov. 2026", "3 200 g" never break beside a number (no-break spaces)."""
    return _SPACE_BY_A_NUMBER.sub("\u00a0", text)
