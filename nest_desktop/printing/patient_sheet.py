"""The patient file printed for the paper folder and the patient's signature (PAT-02)."""

from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from nest_desktop.printing.common import (
    Letterhead,
    Paragraph,
    build_pdf,
    key_value_table,
    styles,
)

CHECKED, UNCHECKED = "\u2611", "\u2610"


@dataclass(frozen=True)
class PatientSheet:
    """Everything already translated and formatted: the document only lays it out."""

    title: str
    sections: list[tuple[str, list[tuple[str, str]]]]  # heading, (label, value) rows
    checklist_heading: str
    checklist: list[tuple[str, bool]]
    signature_label: str


def render(sheet: PatientSheet, letterhead: Letterhead) -> bytes:
    st = styles()
    story = [Paragraph(sheet.title, st["title"])]
    for heading, rows in sheet.sections:
        story.append(Paragraph(heading, st["heading"]))
        story.append(key_value_table(rows))
    story.append(Paragraph(sheet.checklist_heading, st["heading"]))
    for label, done in sheet.checklist:
        story.append(Paragraph(f"{CHECKED if done else UNCHECKED}&nbsp;&nbsp;{label}", st["body"]))
    story.append(Spacer(1, 14 * mm))
    story.append(Paragraph(sheet.signature_label, st["body"]))
    return build_pdf(story, letterhead, sheet.title)
