"""The appointment card (TEL-02): A6, handed over at the desk or slipped in the pregnancy
folder; the day and the time large enough to read at a glance, black on white."""

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from nest_desktop.printing.common import FONT_BOLD, Letterhead, Paragraph, build_pdf, styles
from nest_desktop.printing.common import text_width as page_text_width

PAGE = A6


@dataclass(frozen=True)
class AppointmentCard:
    title: str
    person: str
    day: str  # "Tuesday 24 November 2026"
    time: str  # "10:00 (30 minutes)"
    rows: list[tuple[str, str]]  # label, value: with whom, what for, where
    note: str  # what to do if she cannot come


def render(card: AppointmentCard, letterhead: Letterhead) -> bytes:
    st = styles()
    big = ParagraphStyle("big", parent=st["body"], fontName=FONT_BOLD, fontSize=13, leading=16)
    cell = ParagraphStyle("card_cell", parent=st["body"], fontSize=9, leading=11.5)
    label = ParagraphStyle("card_label", parent=cell, textColor=colors.HexColor("#444444"))
    width = page_text_width(PAGE) - 12
    story = [Paragraph(card.title, st["heading"]), Paragraph(card.person, big),
             Spacer(1, 2 * mm)]
    when = Table([[Paragraph(card.day, big)], [Paragraph(card.time, big)]], colWidths=[width])
    when.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 5)]))
    story += [when, Spacer(1, 2 * mm)]
    label_width = 24 * mm
    details = Table([[Paragraph(key, label), Paragraph(value or "—", cell)]
                     for key, value in card.rows],
                    colWidths=[label_width, width - label_width])
    details.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [details, Spacer(1, 2 * mm), Paragraph(card.note, cell)]
    return build_pdf(story, letterhead, card.title, PAGE)
