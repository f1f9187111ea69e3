"""The prospect conversion report on paper: figures, a bar chart per grouping, the tables."""

from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from nest_desktop.printing.common import (
    ACCENT,
    FONT,
    FONT_BOLD,
    Letterhead,
    Paragraph,
    build_pdf,
    styles,
    text_width,
)


@dataclass(frozen=True)
class Grouping:
    title: str
    headers: tuple[str, str, str, str]
    rows: list[tuple[str, str, str, str]]  # label, prospects, converted, rate (formatted)
    rates: list[float]


@dataclass(frozen=True)
class ConversionDocument:
    title: str
    summary: list[str]
    groupings: list[Grouping]


def _short(label: str, length: int = 26) -> str:
    return label if len(label) <= length else label[:length - 1].rstrip() + "…"


def _chart(grouping: Grouping, width: float) -> Drawing:
    slanted = len(grouping.rows) > 4
    bottom = 22 * mm if slanted else 10 * mm
    height = 34 * mm + bottom
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, bottom
    chart.width, chart.height = width - 16 * mm, height - bottom - 4 * mm
    chart.data = [[round(rate * 100, 1) for rate in grouping.rates]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.valueAxis.valueStep = 25
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d %%"
    chart.categoryAxis.categoryNames = [_short(row[0]) for row in grouping.rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 35 if slanted else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if slanted else "n"
    chart.categoryAxis.labels.dy = -3
    chart.categoryAxis.labels.dx = 4 if slanted else 0
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def render(document: ConversionDocument, letterhead: Letterhead) -> bytes:
    st = styles()
    width = text_width()
    story = [Paragraph(document.title, st["title"])]
    story += [Paragraph(line, st["body"]) for line in document.summary]
    for grouping in document.groupings:
        data = [[Paragraph(f"<b>{h}</b>", st["body"]) for h in grouping.headers]]
        data += [[Paragraph(row[0], st["body"]), *row[1:]] for row in grouping.rows]
        table = Table(data, colWidths=[width * 0.46, width * 0.18, width * 0.18,
                                       width * 0.18], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), FONT, 9.5),
            ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9.5),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]))
        story.append(KeepTogether([Paragraph(grouping.title, st["heading"]),
                                   _chart(grouping, width), Spacer(1, 2 * mm), table]))
    return build_pdf(story, letterhead, document.title)
