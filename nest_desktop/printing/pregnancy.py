"""Pregnancy handouts: the pregnancy calendar (PAT-06), the 36-week information pack (PAT-07)
and the going-home handout (PAT-09). Texts arrive translated and formatted; this module only
lays them out."""

import functools
from dataclasses import dataclass, field

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing, Group
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    ACCENT,
    FONT_BOLD,
    Letterhead,
    Paragraph,
    build_pdf,
    key_value_table,
    styles,
    text_width,
)


@dataclass(frozen=True)
class CalendarRow:
    milestone: str
    period: str
    status: str
    done_on: str
    stressed: bool  # open now: printed bold on a grey band


@dataclass(frozen=True)
class PregnancyCalendar:
    title: str
    facts: list[tuple[str, str]]  # patient, DDR, DPA, SA today, dating
    headers: tuple[str, ...]
    rows: list[CalendarRow]
    note: str


def render_calendar(calendar: PregnancyCalendar, letterhead: Letterhead) -> bytes:
    st = styles()
    cell = st["body"].clone("cell", fontSize=9, leading=11)
    bold = cell.clone("cell_bold", fontName=FONT_BOLD)
    story = [Paragraph(calendar.title, st["title"]), key_value_table(calendar.facts),
             Spacer(1, 4 * mm)]
    data = [[Paragraph(h, bold) for h in calendar.headers]]
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9d9d9")),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for index, row in enumerate(calendar.rows, start=1):
        used = bold if row.stressed else cell
        data.append([Paragraph(value, used) for value in
                     (row.milestone, row.period, row.status, row.done_on)])
        if row.stressed:
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#eeeeee")))
    width = text_width()
    # The status may read "Non réalisé : à voir avec la sage-femme": room for it in words.
    table = Table(data, colWidths=[width * 0.31, width * 0.29, width * 0.26, width * 0.14],
                  repeatRows=1)
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 3 * mm), Paragraph(calendar.note, st["small"])]
    return build_pdf(story, letterhead, calendar.title)


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]


@dataclass(frozen=True)
class Handout:
    """The 36-week pack or the going-home handout."""

    title: str
    facts: list[tuple[str, str]]
    intro: str
    sections: list[Section]
    warnings: list[Section]  # printed in a frame, to find them at once
    tariffs_title: str = ""
    tariffs: list[tuple[str, str]] = field(default_factory=list)
    tariffs_note: str = ""
    group_title: str = ""
    group_text: str = ""
    group_link: str = ""
    closing: str = ""
    contact: str = ""


@functools.lru_cache(maxsize=8)
def _qr_squares(link: str) -> tuple[tuple[float, float, float, float], Group]:
    """The QR code's squares and bounds, encoded once: the group's link is the same on
    every pack of a batch, and the widget would encode it again at each drawing (~40 % of
    a pack's time)."""
    widget = QrCodeWidget(link)
    return widget.getBounds(), widget.draw()


def _qr(link: str, size: float) -> Drawing:
    (left, bottom, right, top), squares = _qr_squares(link)
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0,
                                             size / (top - bottom), 0, 0])
    drawing.add(squares)  # shared, read-only: drawn the same on every page
    return drawing


_GAP = 6 * mm  # between the two columns of a handout


def _side_by_side(blocks: list[list], width: float, gap: float = _GAP) -> list:
    """Blocks two by two in columns, so that short lists (a bag's contents) do not leave
    half of each line and a second page empty; an odd last block takes the whole width."""
    rows = []
    half = (width - gap) / 2
    for start in range(0, len(blocks), 2):
        pair = blocks[start:start + 2]
        if len(pair) == 1:
            rows.append(KeepTogether(pair[0]))
            continue
        # Like the other tables, as wide as the text and padded by 6 pt at its sides: the
        # columns line up with the paragraphs; a heading's space above is the row's padding.
        table = Table([pair], colWidths=[half + gap, half])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LEFTPADDING", (0, 0), (0, -1), 6),
                                   ("LEFTPADDING", (1, 0), (1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (0, -1), gap),
                                   ("RIGHTPADDING", (1, 0), (1, -1), 6),
                                   ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        rows.append(table)
    return rows


def _warning_frame(warning: Section, width: float, st: dict, bullet) -> Table:
    inner = [Paragraph(warning.title, st["heading"].clone(
        "warning_title", textColor=colors.HexColor("#b00020"), spaceBefore=0))]
    inner += [Paragraph(line, bullet, bulletText="!") for line in warning.lines]
    frame = Table([[inner]], colWidths=[width])
    frame.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#b00020")),
                               ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                               ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm)]))
    return frame


def render_handout(handout: Handout, letterhead: Letterhead) -> bytes:
    st = styles()
    width = text_width()
    bullet = st["body"].clone("bullet", leftIndent=4 * mm, bulletIndent=0, spaceAfter=0.5 * mm)
    story = [Paragraph(handout.title, st["title"])]
    if handout.facts:
        story += [key_value_table(handout.facts), Spacer(1, 3 * mm)]
    story.append(Paragraph(handout.intro, st["body"]))
    story += _side_by_side([
        [Paragraph(section.title, st["heading"])]
        + [Paragraph(line, bullet, bulletText="•") for line in section.lines]
        for section in handout.sections], width)
    if len(handout.warnings) == 2:  # the mother's and the baby's: side by side
        half = (width - _GAP) / 2
        story += [Spacer(1, 3 * mm), *_side_by_side(
            [[_warning_frame(w, half, st, bullet)] for w in handout.warnings], width)]
    else:
        for warning in handout.warnings:
            story += [Spacer(1, 3 * mm), KeepTogether(_warning_frame(warning, width, st,
                                                                     bullet))]
    if handout.tariffs_title:
        block = [Paragraph(handout.tariffs_title, st["heading"])]
        if handout.tariffs:
            amounts = st["body"].clone("amount", alignment=2)
            table = Table([[Paragraph(label, st["body"]), Paragraph(amount, amounts)]
                           for label, amount in handout.tariffs],
                          colWidths=[width * 0.7, width * 0.3])
            table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3,
                                        colors.HexColor("#bbbbbb")),
                                       ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
            block.append(table)
        block.append(Paragraph(handout.tariffs_note, st["small"]))
        story.append(KeepTogether(block))
    if handout.group_title:
        text = [Paragraph(handout.group_title, st["heading"]),
                Paragraph(handout.group_text, st["body"])]
        if handout.group_link:
            text.append(Paragraph(handout.group_link, st["small"]))
            # 24 mm: a phone reads it at arm's length, and the page keeps its one sheet.
            row = Table([[text, _qr(handout.group_link, 24 * mm)]],
                        colWidths=[width - 28 * mm, 28 * mm])
            row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
            story.append(KeepTogether(row))
        else:
            story.append(KeepTogether(text))  # its heading never alone at a page's foot
    if handout.closing:
        story += [Spacer(1, 3 * mm), Paragraph(handout.closing, st["body"].clone(
            "closing", textColor=ACCENT, fontName=FONT_BOLD))]
    if handout.contact:
        story += [Spacer(1, 2 * mm), Paragraph(handout.contact, st["body"])]
    return build_pdf(story, letterhead, handout.title)
