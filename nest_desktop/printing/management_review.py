"""The management review on paper (ISO 9001 §9.3): the indicators with their targets and
trend, satisfaction and its remarks, the complaints and their actions, what changed since the
last review. Readable in black and white: met or not is written, the target line dashed."""

from dataclasses import dataclass, field

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    FONT,
    FONT_BOLD,
    Letterhead,
    Paragraph,
    build_pdf,
    styles,
    text_width,
)

GRID = colors.HexColor("#bbbbbb")


@dataclass(frozen=True)
class IndicatorLine:
    label: str
    value: str
    counted: str
    previous: str
    target: str
    met: str  # "Met", "Not met" or empty: printed, never a colour alone
    trend: list[float | None]  # the last periods' values, the oldest first
    target_value: float | None
    top: float | None  # the scale's top (100 for a share), None: the values' own


@dataclass(frozen=True)
class IndicatorGroup:
    title: str
    lines: list[IndicatorLine]


@dataclass(frozen=True)
class CaseLine:
    number: str
    date: str
    what: str  # category, severity, who
    description: str
    actions: str  # each with its owner, deadline and state
    status: str


@dataclass(frozen=True)
class ReviewDocument:
    title: str
    summary: list[str]
    headers: tuple[str, ...]  # indicator, value, counted, previous, target, met, trend
    trend_caption: str
    groups: list[IndicatorGroup]
    remarks_title: str
    remarks: list[tuple[str, str, str]]  # date, who and score, words
    cases_title: str
    case_headers: tuple[str, ...]
    cases: list[CaseLine]
    changes_title: str
    changes: list[str] = field(default_factory=list)
    empty: str = ""  # said where a section has nothing


def sparkline(values: list[float | None], target: float | None, top: float | None,
              width: float, height: float) -> Drawing:
    """The trend of one indicator: a line through the periods' values, the target dashed."""
    drawing = Drawing(width, height)
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    if not points:
        return drawing
    known = [value for _index, value in points]
    highest = top if top is not None else max([*known, target or 0]) or 1
    plot = LinePlot()
    plot.x, plot.y = 1, 2
    plot.width, plot.height = width - 2, height - 4
    plot.data = [points]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(len(values) - 1, 1)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, highest * 1.05
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.visible = False
    plot.lines[0].strokeColor = colors.black
    plot.lines[0].strokeWidth = 1
    plot.lines[0].symbol = makeMarker("FilledCircle", size=2)
    drawing.add(plot)
    if target is not None:
        y = plot.y + plot.height * min(target, highest * 1.05) / (highest * 1.05)
        drawing.add(Line(plot.x, y, plot.x + plot.width, y, strokeColor=colors.grey,
                         strokeWidth=0.6, strokeDashArray=[2, 2]))
    return drawing


def render(document: ReviewDocument, letterhead: Letterhead) -> bytes:
    st = styles()
    width = text_width()
    story = [Paragraph(document.title, st["title"])]
    story += [Paragraph(line, st["body"]) for line in document.summary]
    widths = [width * 0.30, width * 0.10, width * 0.17, width * 0.12, width * 0.09,
              width * 0.11, width * 0.11]
    spark_width, spark_height = widths[-1] - 6, 8 * mm
    for group in document.groups:
        data = [[Paragraph(f"<b>{header}</b>", st["small"]) for header in document.headers]]
        for line in group.lines:
            data.append([Paragraph(line.label, st["body"]), line.value,
                         Paragraph(line.counted, st["small"]), line.previous, line.target,
                         line.met, sparkline(line.trend, line.target_value, line.top,
                                             spark_width, spark_height)])
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("FONT", (0, 1), (-1, -1), FONT, 9),
            ("FONT", (5, 1), (5, -1), FONT_BOLD, 8),
            ("ALIGN", (1, 1), (1, -1), "RIGHT"),
            ("ALIGN", (3, 1), (4, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        story.append(KeepTogether([Paragraph(group.title, st["heading"]), table]))
    story.append(Paragraph(document.trend_caption, st["small"]))

    story.append(Paragraph(document.remarks_title, st["heading"]))
    if document.remarks:
        data = [[Paragraph(date, st["small"]), Paragraph(who, st["small"]),
                 Paragraph(words, st["body"])] for date, who, words in document.remarks]
        table = Table(data, colWidths=[width * 0.13, width * 0.22, width * 0.65])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID)]))
        story.append(table)
    else:
        story.append(Paragraph(document.empty, st["body"]))

    story.append(Paragraph(document.cases_title, st["heading"]))
    if document.cases:
        data = [[Paragraph(f"<b>{header}</b>", st["small"]) for header in document.case_headers]]
        data += [[case.number, Paragraph(case.date, st["small"]),
                  Paragraph(case.what, st["small"]), Paragraph(case.description, st["small"]),
                  Paragraph(case.actions, st["small"]), Paragraph(case.status, st["small"])]
                 for case in document.cases]
        table = Table(data, colWidths=[width * 0.06, width * 0.12, width * 0.17, width * 0.25,
                                       width * 0.28, width * 0.12], repeatRows=1)
        table.setStyle(TableStyle([("FONT", (0, 1), (0, -1), FONT, 8.5),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID)]))
        story.append(table)
    else:
        story.append(Paragraph(document.empty, st["body"]))

    story.append(Paragraph(document.changes_title, st["heading"]))
    story += [Paragraph("• " + line, st["body"]) for line in document.changes] or [
        Paragraph(document.empty, st["body"])]
    story.append(Spacer(1, 4 * mm))
    return build_pdf(story, letterhead, document.title)
