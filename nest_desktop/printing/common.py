"""The house style of every handout: A4, embedded DejaVu fonts (French spaces and accents
print as they should; Helvetica draws Babel's narrow no-break space as a box), a header with
the site and a footer with the page number."""

import io
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph as _ReportLabParagraph
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from nest_desktop.domain.text import NBSP, NNBSP, typeset
from nest_desktop.paths import FONTS_DIR, RESOURCES_DIR

LOGO = RESOURCES_DIR / "logo.png"  # the clinic may replace it by its own

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
ACCENT = colors.HexColor("#00695c")
MARGIN = 18 * mm  # A4
SMALL_MARGIN = 10 * mm  # A5 and smaller
PRINTABLE = 10 * mm  # what most office printers leave blank at each edge
FOOTER_ROOM = 6 * mm  # between the text and the edge's printable line, for the footer


def margin_for(pagesize: tuple[float, float]) -> float:
    return MARGIN if pagesize[0] >= A4[0] - 1 else SMALL_MARGIN


def register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                      boldItalic=FONT_BOLD)


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13, alignment=TA_LEFT)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10,
                                textColor=colors.HexColor("#555555")),
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=17,
                                leading=21, textColor=ACCENT, spaceAfter=4 * mm),
        "heading": ParagraphStyle("heading", parent=body, fontName=FONT_BOLD, fontSize=11.5,
                                  leading=15, textColor=ACCENT, spaceBefore=4 * mm,
                                  spaceAfter=1.5 * mm),
        "label": ParagraphStyle("label", parent=body, textColor=colors.HexColor("#444444")),
    }


def for_paper(text: str) -> str:
    """A text as it is printed: set by French typography (`typeset`). ReportLab breaks lines
    at a narrow no-break space as at a space, so it prints the plain no-break one instead."""
    return typeset(text).replace(NNBSP, NBSP)


class Paragraph(_ReportLabParagraph):
    """Every text on paper, `for_paper`."""

    def __init__(self, text: str, *args, **kwargs):
        super().__init__(for_paper(text), *args, **kwargs)


@dataclass(frozen=True)
class Letterhead:
    site_name: str
    site_lines: str  # address and phone, already formatted
    footer: str  # e.g. "Printed on 23/11/2026 — page {page} of {pages}"


def text_width(pagesize: tuple[float, float] = A4) -> float:
    return pagesize[0] - 2 * margin_for(pagesize)


def key_value_table(rows: list[tuple[str, str]], label_width: float = 55 * mm) -> Table:
    """Two columns, labels on the left: the way a file's fields are printed."""
    st = styles()
    data = [[Paragraph(label, st["label"]), Paragraph(value or "—", st["body"])]
            for label, value in rows]
    table = Table(data, colWidths=[label_width, A4[0] - 2 * MARGIN - label_width])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    return table


def build_pdf(story: list, letterhead: Letterhead, title: str,
              pagesize: tuple[float, float] = A4) -> bytes:
    """Lays out `story` on pages with the letterhead; returns the PDF's bytes."""
    register_fonts()
    buffer = io.BytesIO()
    margin = margin_for(pagesize)
    document = SimpleDocTemplate(buffer, pagesize=pagesize, leftMargin=margin,
                                 rightMargin=margin,
                                 topMargin=max(margin, PRINTABLE) + 10 * mm + 4 * mm,
                                 bottomMargin=max(margin, PRINTABLE + FOOTER_ROOM),
                                 title=title, author=letterhead.site_name,
                                 creator="NEST Desktop")
    decorate = _page_decoration(letterhead)

    def numbered_canvas(*args, **kwargs) -> Canvas:
        return _NumberedCanvas(letterhead.footer, margin, *args, **kwargs)

    document.build(story, onFirstPage=decorate, onLaterPages=decorate,
                   canvasmaker=numbered_canvas)
    return buffer.getvalue()


class _NumberedCanvas(Canvas):
    """Holds the pages back until the last one, then writes each one's footer with the
    number of pages: "page 2 of 3"."""

    def __init__(self, footer: str, margin: float, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer, self._margin = footer, margin
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(FONT, 8)
        self.setFillColor(colors.black)
        # Inside the printable area, however small the page's margins.
        self.drawRightString(width - self._margin - 6, PRINTABLE + 1 * mm,
                             self._footer.format(page=self._pageNumber, pages=total))
        self.restoreState()


def fitted_line(line: str, room: float, size: float, smallest: float = 6.5
                ) -> tuple[float, str]:
    """A line drawn in `room` points: smaller down to `smallest`, then cut with '…'."""
    register_fonts()
    while size > smallest and pdfmetrics.stringWidth(line, FONT, size) > room:
        size -= 0.5
    if pdfmetrics.stringWidth(line, FONT, size) <= room:
        return size, line
    while line and pdfmetrics.stringWidth(line + "…", FONT, size) > room:
        line = line[:-1]
    return size, line.rstrip(" ,—") + "…"


def _page_decoration(letterhead: Letterhead) -> Callable:
    def decorate(canvas, document) -> None:
        width, height = document.pagesize
        margin = margin_for(document.pagesize)
        small = margin < MARGIN
        canvas.saveState()
        # The frame pads its content by 6 pt: the header lines up with the text below. The
        # header starts inside the printable area, whatever the page's margin.
        left = margin + 6
        top = height - max(margin, PRINTABLE)
        if LOGO.exists():
            logo_size = 12 * mm
            canvas.drawImage(str(LOGO), width - left - logo_size, top - logo_size,
                             logo_size, logo_size, mask="auto")
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, 11 if small else 13)
        canvas.drawString(left, top - 11, letterhead.site_name)
        canvas.setFillColor(colors.HexColor("#555555"))
        room = width - 2 * left - 14 * mm  # the logo's corner stays clear
        size, lines = fitted_line(letterhead.site_lines, room, 8 if small else 8.5)
        canvas.setFont(FONT, size)
        canvas.drawString(left, top - 22, lines)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1)
        canvas.line(left, top - 28, width - left - 14 * mm, top - 28)
        canvas.restoreState()

    return decorate
