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
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from nest_desktop.paths import FONTS_DIR, RESOURCES_DIR

LOGO = RESOURCES_DIR / "logo.png"  # the clinic may replace it by its own

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
ACCENT = colors.HexColor("#00695c")
MARGIN = 18 * mm  # A4
SMALL_MARGIN = 10 * mm  # A5 and smaller


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


@dataclass(frozen=True)
class Letterhead:
    site_name: str
    site_lines: str  # address and phone, already formatted
    footer: str  # e.g. "Printed on 23/11/2026 — page {page}"


def text_width(pagesize: tuple[float, float] = A4) -> float:
    return pagesize[0] - 2 * margin_for(pagesize)


def key_value_table(rows: list[tuple[str, str]], label_width: float = 55 * mm) -> Table:
    """Two columns, labels on the left: the way a file's fields are printed."""
    st = styles()
    from reportlab.platypus import Paragraph

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
                                 rightMargin=margin, topMargin=margin + 14 * mm,
                                 bottomMargin=margin,
                                 title=title, author=letterhead.site_name,
                                 creator="NEST Desktop")
    decorate = _page_decoration(letterhead)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _page_decoration(letterhead: Letterhead) -> Callable:
    def decorate(canvas, document) -> None:
        width, height = document.pagesize
        margin = margin_for(document.pagesize)
        small = margin < MARGIN
        canvas.saveState()
        # The frame pads its content by 6 pt: the header lines up with the text below.
        left = margin + 6
        if LOGO.exists():
            logo_size = 12 * mm
            canvas.drawImage(str(LOGO), width - left - logo_size, height - margin - 10,
                             logo_size, logo_size, mask="auto")
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, 11 if small else 13)
        canvas.drawString(left, height - margin, letterhead.site_name)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setFont(FONT, 7 if small else 8.5)
        canvas.drawString(left, height - margin - 11, letterhead.site_lines)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1)
        canvas.line(left, height - margin - 17, width - left - 14 * mm,
                    height - margin - 17)
        canvas.setFont(FONT, 8)
        canvas.drawRightString(width - left, margin - 6 * mm if small else margin - 8 * mm,
                               letterhead.footer.format(page=document.page))
        canvas.restoreState()

    return decorate
