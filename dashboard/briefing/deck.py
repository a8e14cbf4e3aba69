"""The briefing as a PowerPoint deck (python-pptx): one 16:9 slide per model slide, with native,
editable charts (chart data inside the file, not pictures), titles, sources and definitions."""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from queries.briefing.model import DEMO_MARK, Briefing, Chart, Figure, Slide, unchanged_line

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
INK = RGBColor(0x11, 0x11, 0x11)
MUTED = RGBColor(0x44, 0x44, 0x44)
UP, DOWN = RGBColor(0x00, 0x5A, 0x8C), RGBColor(0x9A, 0x3C, 0x00)
DEMO_FILL, WHITE = RGBColor(0x9A, 0x3C, 0x00), RGBColor(0xFF, 0xFF, 0xFF)
SERIES_COLOURS = (RGBColor(0x00, 0x72, 0xB2), RGBColor(0xE6, 0x9F, 0x00))
CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
}
ARROWS = {"up": "▲", "down": "▼", "flat": "■"}
MARGIN = Inches(0.5)


def _text(slide, left, top, width, height, paragraphs, size, bold=False, colour=INK):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for index, text in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.text = text
        paragraph.font.size = Pt(size)
        paragraph.font.bold = bold
        paragraph.font.color.rgb = colour
        paragraph.space_after = Pt(4)
    return box


def change_line(figure: Figure) -> str:
    """The line under a figure: arrow, change, and whether it is meaningful; or its note."""
    if figure.hidden:
        return "Hidden under the privacy rule"
    if figure.change_text is None:
        return unchanged_line(figure)
    verdict = (
        "meaningful"
        if figure.meaningful
        else ("within normal variation" if figure.test else "not tested")
    )
    return f"{ARROWS[figure.direction or 'flat']} {figure.change_text} · {verdict}"


def _figures(slide, figures: list[Figure], left, top, width, height, columns: int) -> None:
    rows = max(1, -(-len(figures) // columns))
    cell_w, cell_h = width // columns, height // rows
    for index, figure in enumerate(figures):
        x = left + (index % columns) * cell_w
        y = top + (index // columns) * cell_h
        box = slide.shapes.add_textbox(x, y, cell_w - Inches(0.15), cell_h - Inches(0.1))
        frame = box.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.TOP
        label = frame.paragraphs[0]
        label.text = figure.label
        label.font.size, label.font.bold, label.font.color.rgb = Pt(14), True, MUTED
        value = frame.add_paragraph()
        value.text = figure.text
        # A word ("Suppressed", "No data") is longer than a number: smaller, so it never breaks.
        size = 30 if columns > 2 else 26
        if not any(ch.isdigit() for ch in figure.text) or figure.text.startswith("<"):
            size -= 6
        value.font.size, value.font.bold, value.font.color.rgb = Pt(size), True, INK
        change = frame.add_paragraph()
        change.text = change_line(figure)
        change.font.size = Pt(12)
        colour = MUTED
        if figure.meaningful and figure.direction in ("up", "down"):
            colour = UP if figure.direction == "up" else DOWN
        change.font.color.rgb = colour


def _chart(slide, chart: Chart, left, top, width, height) -> None:
    data = CategoryChartData()
    data.categories = chart.categories or ["–"]
    for series in chart.series:
        data.add_series(series.name, series.values or [None])
    if chart.note:  # under the chart: what is left out, or why it is empty
        _text(slide, left, top + height - Inches(0.35), width, Inches(0.35), [chart.note], 11,
              colour=MUTED)  # fmt: skip
        height -= Inches(0.35)
    frame = slide.shapes.add_chart(CHART_TYPES[chart.kind], left, top, width, height, data)
    plot = frame.chart
    plot.has_title = True
    plot.chart_title.text_frame.text = chart.title
    plot.chart_title.text_frame.paragraphs[0].font.size = Pt(16)
    plot.chart_title.text_frame.paragraphs[0].font.bold = True
    plot.has_legend = len(chart.series) > 1
    if plot.has_legend:
        plot.legend.position = XL_LEGEND_POSITION.BOTTOM
        plot.legend.include_in_layout = False
        plot.legend.font.size = Pt(12)
    plot.category_axis.tick_labels.font.size = Pt(12)
    plot.value_axis.tick_labels.font.size = Pt(12)
    plot.value_axis.has_major_gridlines = True
    if chart.kind == "bar":
        plot.category_axis.reverse_order = True  # first category at the top, as listed
    for index, series in enumerate(plot.series):
        fill = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        if chart.kind == "line":
            series.format.line.color.rgb = fill
            series.format.line.width = Pt(3)
            series.smooth = False
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = fill


def _definitions(slide, rows: list[list[str]], left, top, width, height) -> None:
    """Label / definition rows in two tables side by side, so that every indicator fits."""
    if not rows:
        return
    half = (len(rows) + 1) // 2
    gap = Inches(0.3)
    column_w = (width - gap) // 2
    for index, part in enumerate((rows[:half], rows[half:])):
        if not part:
            continue
        x = left + index * (column_w + gap)
        shape = slide.shapes.add_table(len(part), 2, x, top, column_w, Emu(height // 2))
        table = shape.table
        table.first_row = False
        table.columns[0].width = Inches(1.9)
        table.columns[1].width = column_w - Inches(1.9)
        for r, (label, definition) in enumerate(part):
            for c, text in enumerate((label, definition)):
                cell = table.cell(r, c)
                cell.text = text
                paragraph = cell.text_frame.paragraphs[0]
                paragraph.font.size = Pt(9)
                paragraph.font.bold = c == 0
                cell.margin_top = cell.margin_bottom = Pt(1)
            table.rows[r].height = Pt(12)


def _demo_mark(slide) -> None:
    """On the demo, 'SYNTHETIC DEMO DATA' in white on dark orange at the slide's top right,
    above the title, large enough to read when projected (14 pt is 28 px of a 1920 px screen)."""
    width, height = Inches(3.6), Inches(0.3)
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, WIDTH - MARGIN - width, 0, width, height)
    shape.name = "Demo mark"
    shape.fill.solid()
    shape.fill.fore_color.rgb = DEMO_FILL
    shape.line.fill.background()
    frame = shape.text_frame
    frame.margin_top = frame.margin_bottom = 0
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    paragraph = frame.paragraphs[0]
    paragraph.text = DEMO_MARK
    paragraph.alignment = PP_ALIGN.CENTER
    paragraph.font.size, paragraph.font.bold, paragraph.font.color.rgb = Pt(14), True, WHITE


def _slide(deck, model: Briefing, page: Slide, number: int) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
    if model.is_demo:
        _demo_mark(slide)
    inner = WIDTH - 2 * MARGIN
    title = _text(slide, MARGIN, Inches(0.25), inner, Inches(0.7), [page.title], 26, bold=True)
    title.name = "Title"
    lines = _text(slide, MARGIN, Inches(1.0), inner, Inches(1.85), page.sentences, 14)
    lead = lines.text_frame.paragraphs[0]
    lead.font.size, lead.font.bold = Pt(18), True
    # PowerPoint shrinks the sentences if a long selection's words overflow their box.
    lines.text_frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
    body_top, body_bottom = Inches(2.9), Inches(6.6)
    body_h = body_bottom - body_top
    if page.definitions:
        notes = [["Note", note] for note in page.notes]
        _definitions(slide, page.definitions + notes, MARGIN, Inches(1.8), inner, body_h)
    elif page.charts:
        half = inner // 2
        _figures(slide, page.figures, MARGIN, body_top, half, body_h, 2)
        each = body_h // len(page.charts)
        for index, chart in enumerate(page.charts):
            _chart(slide, chart, MARGIN + half, body_top + index * each, half, each)
    else:
        _figures(slide, page.figures, MARGIN, body_top, inner, body_h, 4)
    footer = [page.source]
    if page.notes and not page.definitions:
        footer = [" ".join(page.notes), *footer]
    footer.append(
        f"{model.title} · {model.footer_text} · data as of {model.as_of:%d %b %Y} · {number}"
    )
    box = _text(slide, MARGIN, Inches(6.65), inner, Inches(0.8), footer, 10, colour=MUTED)
    box.text_frame.paragraphs[-1].alignment = PP_ALIGN.RIGHT
    notes = slide.notes_slide.notes_text_frame
    notes.text = "\n".join(page.sentences + page.notes + [page.source])


def pptx_bytes(model: Briefing) -> bytes:
    """The deck's bytes: one slide per model slide, in order."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    deck.core_properties.title = model.title
    deck.core_properties.subject = f"{model.period_text}; data as of {model.as_of:%d %b %Y}"
    for number, page in enumerate(model.slides, start=1):
        _slide(deck, model, page, number)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
