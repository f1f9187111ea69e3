"""The administrators' recovery code on paper (issue 24 §3): printed when the clinic is
created or a new code is made, kept under lock, away from the workstations."""

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from nest_desktop.printing.common import FONT_BOLD, Letterhead, Paragraph, build_pdf, styles
from nest_desktop.printing.common import text_width as page_text_width


@dataclass(frozen=True)
class RecoverySheet:
    title: str
    code: str  # "K7QH-2XWP-…"
    made: str  # "Made on 6 December 2026 by Clémence Diatta."
    steps: list[str]
    keep: str  # where to keep the sheet


def render(sheet: RecoverySheet, letterhead: Letterhead) -> bytes:
    st = styles()
    code_style = ParagraphStyle("recovery_code", parent=st["body"], fontName=FONT_BOLD,
                                fontSize=22, leading=28, alignment=1)
    width = page_text_width()
    boxed = Table([[Paragraph(sheet.code, code_style)]], colWidths=[width])
    boxed.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 5 * mm), ("BOTTOMPADDING", (0, 0), (-1, -1), 5 * mm)]))
    story = [Paragraph(sheet.title, st["title"]), Paragraph(sheet.made, st["body"]),
             Spacer(1, 6 * mm), boxed, Spacer(1, 6 * mm)]
    story += [Paragraph(f"{number}. {step}", st["body"])
              for number, step in enumerate(sheet.steps, start=1)]
    story += [Spacer(1, 6 * mm), Paragraph(sheet.keep, st["heading"])]
    return build_pdf(story, letterhead, sheet.title)
