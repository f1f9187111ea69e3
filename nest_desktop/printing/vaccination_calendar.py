"""The personalised vaccination calendar handed to the parents (PAT-11): one page, boxes to
fill in at each visit, the next visit stressed in a way that survives black-and-white
printing (bold and a grey band, not colour alone)."""

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    FONT_BOLD,
    Letterhead,
    build_pdf,
    styles,
    text_width,
)

PAGE_SIZES = {"A4": A4, "A5": A5}


@dataclass(frozen=True)
class CalendarRow:
    vaccine: str
    dose: str
    age: str
    due: str  # the due date in words, or why the dose is no longer given
    given: str  # the date given, empty for a box to fill in
    lot: str
    next_visit: bool  # part of the next visit
    no_longer_due: bool


@dataclass(frozen=True)
class VaccinationCalendar:
    """Everything already translated and formatted: the document only lays it out."""

    title: str
    child_lines: list[str]  # name, birth date, parents…
    next_visit_line: str
    headers: tuple[str, ...]  # vaccine, dose, age, due, given, lot, signature
    rows: list[CalendarRow]
    contact_line: str
    schedule_line: str


def render(calendar: VaccinationCalendar, letterhead: Letterhead, page: str = "A4") -> bytes:
    pagesize = PAGE_SIZES[page]
    small = page == "A5"
    st = styles()
    size = 6.5 if small else 8.5
    cell = st["body"].clone("cell", fontSize=size, leading=size + 2)
    cell_bold = cell.clone("cell_bold", fontName=FONT_BOLD)
    cell_grey = cell.clone("cell_grey", textColor=colors.HexColor("#666666"))
    story = [Paragraph(calendar.title, st["title"].clone(
        "calendar_title", fontSize=13 if small else 17, leading=16 if small else 21,
        spaceAfter=2 * mm if small else 4 * mm))]
    for line in calendar.child_lines:
        story.append(Paragraph(line, cell if small else st["body"]))
    story.append(Spacer(1, 2 * mm))
    if calendar.next_visit_line:
        story.append(Paragraph(calendar.next_visit_line, st["heading"].clone(
            "next_visit", spaceBefore=1 * mm, fontSize=8.5 if small else 11.5,
            leading=10.5 if small else 15)))
    data = [[Paragraph(h, cell_bold) for h in calendar.headers]]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9d9d9")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1 if small else 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 if small else 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 if small else 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 if small else 3),
    ]
    for index, row in enumerate(calendar.rows, start=1):
        style_of = cell_bold if row.next_visit else cell_grey if row.no_longer_due else cell
        data.append([Paragraph(text, style_of) for text in
                     (row.vaccine, row.dose, row.age, row.due, row.given, row.lot, "")])
        if row.next_visit:
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#ececec")))
            style.append(("LINEABOVE", (0, index), (-1, index), 1.2, colors.black))
            style.append(("LINEBELOW", (0, index), (-1, index), 1.2, colors.black))
    width = text_width(pagesize)
    shares = (0.23, 0.075, 0.115, 0.17, 0.115, 0.115, 0.18)
    # On A4 each row leaves room to write a date and a lot number by hand.
    heights = None if small else [None] + [8.2 * mm] * len(calendar.rows)
    table = Table(data, colWidths=[width * share for share in shares], rowHeights=heights,
                  repeatRows=1)
    table.setStyle(TableStyle(style))
    story.append(table)
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(calendar.schedule_line, st["small"]))
    story.append(Paragraph(calendar.contact_line, cell_bold.clone("contact", fontName=FONT_BOLD,
                                                                   fontSize=size + 1)))
    return build_pdf(story, letterhead, calendar.title, pagesize)
