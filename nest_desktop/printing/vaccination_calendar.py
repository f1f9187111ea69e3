"""The personalised vaccination calendar handed to the parents (PAT-11): one A4 page (two
clean A5 pages when its rows need them), boxes to fill in at each visit, the next visit
stressed in a way that survives black-and-white printing (bold and a grey band, not colour
alone)."""

import html
import re
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    FONT_BOLD,
    Letterhead,
    Paragraph,
    build_pdf,
    for_paper,
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


TAIL_ROWS = 3  # rows kept with the closing lines: they never stand alone on a page


class _PageMark(Flowable):
    """Draws nothing; remembers the page it was laid out on."""

    def __init__(self):
        super().__init__()
        self.page = 0

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        self.page = self.canv.getPageNumber()


def render(calendar: VaccinationCalendar, letterhead: Letterhead, page: str = "A4") -> bytes:
    """One A4 page; on A5, text of 8 pt at least and room to write by hand in each row, on
    two pages with the table's header repeated when the rows need it. The closing lines
    never stand alone on a page: the last rows go with them."""
    pdf, table_page, closing_page = _render(calendar, letterhead, page, keep_tail=False)
    if closing_page > table_page:
        pdf, _table_page, _closing_page = _render(calendar, letterhead, page, keep_tail=True)
    return pdf


def _render(calendar: VaccinationCalendar, letterhead: Letterhead, page: str,
            keep_tail: bool) -> tuple[bytes, int, int]:
    pagesize = PAGE_SIZES[page]
    small = page == "A5"
    st = styles()
    size = 8
    cell = st["body"].clone("cell", fontSize=size, leading=size + 1.5)
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
            "next_visit", spaceBefore=1 * mm, fontSize=9 if small else 11.5,
            leading=11 if small else 15)))
    # On A5 the age goes: the day to come is what the parents need, and the rest must hold
    # on the narrower page without cutting a date.
    columns = _A5_COLUMNS if small else tuple(range(len(calendar.headers)))
    texts = [tuple(calendar.headers[c] for c in columns)] + [
        tuple((r.vaccine, r.dose, r.age, r.due, r.given, r.lot, "")[c] for c in columns)
        for r in calendar.rows]
    header = [Paragraph(h, cell_bold) for h in texts[0]]
    body, marks = [], []
    for row, values in zip(calendar.rows, texts[1:], strict=True):
        style_of = cell_bold if row.next_visit else cell_grey if row.no_longer_due else cell
        body.append([Paragraph(value, style_of) for value in values])
        marks.append(row.next_visit)
    padding = 1.5 if small else 3
    widths = _column_widths(texts, columns, text_width(pagesize), size, padding)
    # Each row leaves room to write a date, a lot number and a signature by hand: a row of
    # one line is this high, and grows with its text.
    room = (7 if small else 6.6) * mm - cell.leading
    table_mark, closing_mark = _PageMark(), _PageMark()
    tail = TAIL_ROWS if keep_tail and len(body) > TAIL_ROWS else 0
    head_rows, tail_rows = body[:len(body) - tail], body[len(body) - tail:]
    story.append(_table(header, head_rows, marks[:len(head_rows)], widths, room, padding))
    story.append(table_mark)
    closing = [Spacer(1, 3 * mm), Paragraph(calendar.schedule_line, st["small"]),
               Paragraph(calendar.contact_line, cell_bold.clone(
                   "contact", fontName=FONT_BOLD, fontSize=size + 1)), closing_mark]
    if tail_rows:
        # On the next page with its own header, like the table's other pages.
        story.append(KeepTogether([_table(header, tail_rows, marks[len(head_rows):], widths,
                                          room, padding), *closing]))
    else:
        story.extend(closing)
    pdf = build_pdf(story, letterhead, calendar.title, pagesize)
    return pdf, table_mark.page, closing_mark.page


# Columns whose text is never broken (a dose, a date given, a lot number); the others break
# at their spaces, not at the no-break spaces that hold "10 semaines" or "29 nov. 2026"
# together. Room to write a date, a lot and a signature by hand.
_WHOLE = (1, 4, 5)
_A5_COLUMNS = (0, 1, 3, 4, 5, 6)  # vaccine, dose, due, given, lot, signature
_HAND_WRITTEN = {4: "00/00/0000", 5: "L0000-00", 6: "Signature 00"}
_SLACK = 3  # points: what ReportLab's line breaking needs beyond the measured width


def _column_widths(rows: list[tuple[str, ...]], columns: tuple[int, ...], total: float,
                   size: float, padding: float) -> list[float]:
    """Widths from the content: each column as wide as its longest word (its whole text for
    dates, doses and lots) in bold, so that no word is cut; what is left goes to the vaccine's
    name until it holds on one line (a row of one line: the page holds every dose), then to
    the signature, for a hand to write in."""
    def width_of(value: str) -> float:
        plain = re.sub(r"<[^>]+>", "", value)
        return stringWidth(html.unescape(plain), FONT_BOLD, size)

    needs = []
    for position, column in enumerate(columns):
        widest = 0.0
        for row in rows:
            value = for_paper(row[position])
            parts = [value] if column in _WHOLE else value.split(" ")
            widest = max([widest] + [width_of(part) for part in parts])
        if column in _HAND_WRITTEN:
            widest = max(widest, width_of(_HAND_WRITTEN[column]))
        needs.append(widest + 2 * padding + _SLACK)
    left = total - sum(needs)
    if left < 0:  # too narrow whatever is done: shrink every column alike (text wraps)
        return [need * total / sum(needs) for need in needs]
    whole_name = max(width_of(row[0]) for row in rows) + 2 * padding + _SLACK
    to_name = min(left, max(0.0, whole_name - needs[0]))
    needs[0] += to_name
    needs[-1] += left - to_name
    return needs


def _table(header: list, rows: list[list], next_visit: list[bool], widths: list[float],
           room: float, padding: float) -> Table:
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9d9d9")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, 0), 2),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 2),
        ("TOPPADDING", (0, 1), (-1, -1), room / 2),
        ("BOTTOMPADDING", (0, 1), (-1, -1), room / 2),
        ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding),
    ]
    for index, stressed in enumerate(next_visit, start=1):
        if stressed:  # bold, a grey band and heavy rules: it survives black and white
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#ececec")))
            style.append(("LINEABOVE", (0, index), (-1, index), 1.2, colors.black))
            style.append(("LINEBELOW", (0, index), (-1, index), 1.2, colors.black))
    table = Table([header, *rows], colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table
