"""Files handed to other programs: names Windows accepts, CSV that Excel opens in French."""

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from nest_desktop.db.integrity import owner_only
from nest_desktop.domain.messages import _
from nest_desktop.services import settings

# French Excel splits on ';' (',' is the decimal separator) and reads UTF-8 only with a BOM.
SEPARATORS = {";": ";", ",": ","}
ENCODING = "utf-8-sig"


class ExportError(RuntimeError):
    pass


# A cell a spreadsheet would run as a formula (OWASP, "CSV injection"): = + - @ tab, CR.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d .,]*$")  # "+221771234567", "-5": harmless


def spreadsheet_safe(value) -> object:
    """The cell as typed, except that text a spreadsheet would run as a formula is given a
    leading apostrophe (shown as text, never run); numbers and phone numbers are left."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and \
            not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def safe_file_name(text: str) -> str:
    """A file name Windows accepts, accents kept: no \\ / : * ? " < > | nor trailing dot."""
    cleaned = "".join("-" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    return " ".join(cleaned.split()).strip(" .") or "document"


def csv_separator() -> str:
    separator = settings.get("export.csv_separator")
    return separator if separator in SEPARATORS else ";"


def write_csv(path: Path, headers: list[str], rows: Iterable[Iterable],
              separator: str | None = None) -> int:
    """Writes a CSV for spreadsheets; returns the number of rows written."""
    separator = separator or csv_separator()
    count = 0
    partial = Path(path).with_suffix(".partial")
    try:
        with partial.open("w", encoding=ENCODING, newline="") as handle:
            writer = csv.writer(handle, delimiter=separator, quoting=csv.QUOTE_MINIMAL)
            writer.writerow([spreadsheet_safe(header) for header in headers])
            for row in rows:
                writer.writerow(["" if value is None else spreadsheet_safe(value)
                                 for value in row])
                count += 1
        owner_only(partial)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        message = _("The file could not be written: {error}").format(error=error)
        raise ExportError(message) from error
    return count

