"""The call register on paper (TEL-03, TEL-08): one line a call, landscape A4, what is still
open marked so that black-and-white printing keeps it: a dot, bold text, a heavy rule, and a
tint for colour printers."""

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    ACCENT,
    FONT_BOLD,
    Letterhead,
    Paragraph,
    build_pdf,
    styles,
)

PAGE = landscape(A4)
OPEN_MARK = "●"
# Time, direction, caller, phone, reason and summary, outcome, duration / hold, secretary.
COLUMN_WIDTHS_MM = (22, 14, 38, 24, 80, 34, 19, 0)  # the last one takes what is left


@dataclass(frozen=True)
class RegisterLine:
    cells: tuple[str, ...]  # already formatted, in the order of the headers
    still_open: bool


@dataclass(frozen=True)
class RegisterDocument:
    title: str
    summary: list[str]
    headers: tuple[str, ...]
    lines: list[RegisterLine]
    empty_text: str


def render(document: RegisterDocument, letterhead: Letterhead) -> bytes:
    st = styles()
    cell = ParagraphStyle("cell", parent=st["body"], fontSize=7.5, leading=9.5)
    head = ParagraphStyle("head", parent=cell, fontName=FONT_BOLD, textColor=colors.white)
    story = [Paragraph(document.title, st["title"])]
    story += [Paragraph(line, st["body"]) for line in document.summary]
    story.append(Spacer(1, 3 * mm))
    if not document.lines:
        story.append(Paragraph(document.empty_text, st["body"]))
        return build_pdf(story, letterhead, document.title, PAGE)
    available = PAGE[0] - 2 * 18 * mm - 12
    widths = [w * mm for w in COLUMN_WIDTHS_MM[:-1]]
    widths.append(available - sum(widths))
    data = [[Paragraph(header, head) for header in document.headers]]
    bold = cell.clone("cell_open", fontName=FONT_BOLD)
    data += [[Paragraph((f"{OPEN_MARK} " if line.still_open and index == 0 else "") + value,
                        bold if line.still_open else cell)
              for index, value in enumerate(line.cells)] for line in document.lines]
    table = Table(data, colWidths=widths, repeatRows=1)
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cccccc")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for row, line in enumerate(document.lines, start=1):
        if line.still_open:
            commands.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#fdecea")))
            commands.append(("LINEBEFORE", (0, row), (0, row), 2.5, colors.black))
    table.setStyle(TableStyle(commands))
    story.append(table)
    return build_pdf(story, letterhead, document.title, PAGE)
