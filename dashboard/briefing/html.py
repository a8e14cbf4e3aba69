"""The briefing's slides as HTML: 1920x1080, large type, high contrast, charts as inline SVG.

The Briefing page shows these slides and the PDF prints them, so the screen and the e-mailed file
read the same. Every text from the model is HTML-escaped.
"""

from __future__ import annotations

import base64
import math
from html import escape

from queries.briefing.model import DEMO_MARK, Briefing, Chart, Figure, Slide, unchanged_line

SLIDE_W, SLIDE_H = 1920, 1080
SERIES_COLOURS = ("#0072B2", "#E69F00")
ARROWS = {"up": "▲", "down": "▼", "flat": "■"}
# Five steps of an axis that tops at 1, 2, 2.5, 5 or 10 x 10^n are round numbers.
TICKS = 5
# A chart's text, in px of the 1920 px slide: read from 5 m across a meeting room, nothing under
# 24 px (the chart image is drawn about 1.07 times its own size on the slide).
AXIS_PX, LABEL_PX, TITLE_PX = 24, 26, 30
# A chart's drawing width: its column is about 924 px of the 1920 px slide.
CHART_W = 900
# On a phone the slide flows at half size, charts under the figures (slideshow.PHONE_SLIDE_CSS):
# a narrower, taller drawing of each chart keeps its text at about 16 px on a 390 px screen,
# where the projector's drawing, zoomed to fit, set it at 8-10 px.
PHONE_CHART = (560, 460)
# An average DejaVu Sans glyph is about 0.6 of the type size wide.
GLYPH_EM = 0.6

CSS = """
.bslide { width: 1920px; height: 1080px; box-sizing: border-box; padding: 48px 72px 36px;
  background: #ffffff; color: #111111; font-family: 'DejaVu Sans', Arial, sans-serif;
  display: flex; flex-direction: column; overflow: hidden; position: relative; }
.bslide h1 { font-size: 56px; line-height: 1.1; margin: 0 0 18px 0; font-weight: 700; }
.bslide .sentences { margin: 0 0 22px 0; }
.bslide .sentences p { font-size: 30px; line-height: 1.3; margin: 0 0 10px 0; }
.bslide .sentences p.lead { font-size: 40px; font-weight: 700; line-height: 1.2; }
.bslide .body { flex: 1; display: flex; gap: 48px; min-height: 0; }
.bslide .figures { display: grid; gap: 18px 36px; align-content: start; flex: 1; }
.bslide .figures.wide { grid-template-columns: repeat(4, 1fr); }
.bslide .figures.half { grid-template-columns: repeat(2, 1fr); }
.bslide .figure div { line-height: 1.2; }
.bslide .figure .label { font-size: 26px; font-weight: 700; color: #333333; }
.bslide .figure .value { font-size: 72px; font-weight: 700; line-height: 1.05; }
.bslide .figures.half .figure .value { font-size: 64px; }
.bslide .figure .change { font-size: 24px; color: #333333; }
.bslide .figure .change.up { color: #005A8C; font-weight: 700; }
.bslide .figure .change.down { color: #9A3C00; font-weight: 700; }
.bslide .charts { flex: 1.15; display: flex; flex-direction: column; gap: 12px; min-height: 0; }
.bslide .chart { flex: 1; min-height: 0; }
.bslide .chart img { width: 100%; height: 100%; object-fit: contain; object-position: left top; }
.bslide .chart img.phone { display: none; }
.bslide .definitions { font-size: 21px; line-height: 1.28; columns: 2; column-gap: 56px; }
.bslide .definitions p { font-size: 21px; line-height: 1.28; margin: 0 0 8px 0; break-inside: avoid; }
.bslide .footer span:last-child { white-space: nowrap; }
.bslide .footer { font-size: 24px; color: #333333; border-top: 2px solid #111111;
  padding-top: 10px; margin-top: 14px; display: flex; justify-content: space-between; gap: 32px; }
.bslide p.notes { font-size: 24px; color: #333333; margin: 0 0 8px 0; }
.bslide .demo-mark { position: absolute; top: 0; right: 72px; background: #9A3C00; color: #ffffff;
  font-size: 28px; font-weight: 700; letter-spacing: 0.04em; line-height: 1;
  padding: 8px 20px 10px; border-radius: 0 0 8px 8px; }
"""


def change_line(figure: Figure) -> tuple[str, str]:
    """(text, css class) of the line under a figure."""
    if figure.hidden:
        return "Hidden under the privacy rule", ""
    if figure.change_text is None:
        return unchanged_line(figure), ""
    if figure.test is None:
        verdict = "not tested"
    else:
        verdict = "meaningful" if figure.meaningful else "within normal variation"
    css = figure.direction if figure.meaningful and figure.direction != "flat" else ""
    return f"{ARROWS[figure.direction or 'flat']} {figure.change_text} · {verdict}", css or ""


def _figure(figure: Figure) -> str:
    text, css = change_line(figure)
    return (
        f'<div class="figure"><div class="label">{escape(figure.label)}</div>'
        f'<div class="value">{escape(figure.text)}</div>'
        f'<div class="change {css}">{escape(text)}</div></div>'
    )


def tick_text(value: float) -> str:
    """An axis tick: '1,250', '12.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def nice_max(value: float) -> float:
    """The top of a value axis: 1, 2, 2.5, 5 or 10 times a power of ten, at least `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    # Each step divides into TICKS round ticks (6,000: 1,200 a tick) and wastes little width:
    # 5,518 tops at 6,000, not 10,000.
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def label_every(categories: list[str], plot_width: float, size: float) -> int:
    """Label every n-th category of a horizontal axis so that labels of this type size do not
    touch: 1 when they all fit."""
    longest = max((len(c) for c in categories), default=1)
    label_w = longest * size * GLYPH_EM + size  # a type size of space between labels
    return max(1, -(-round(len(categories) * label_w) // max(round(plot_width), 1)))


def _text_w(text: str, size: float, bold: bool = False) -> float:
    return len(text) * size * (0.66 if bold else GLYPH_EM)


def _lines(text: str, width: float, size: float) -> list[str]:
    """Words of `text` in lines no wider than `width` at this type size."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_w(f"{lines[-1]} {word}", size) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def chart_svg(chart: Chart, width: int = 820, height: int = 420) -> str:
    """A chart as SVG: a line, or grouped columns or bars; a None value is a gap. A title too
    long for the width is set smaller (down to 20 px); the note under the chart wraps."""
    values = [v for s in chart.series for v in s.values if v is not None]
    top = nice_max(max(values, default=0.0))
    title_px = max(20, min(TITLE_PX, int(width / max(_text_w(chart.title, 1, bold=True), 1))))
    parts = [
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="{escape(chart.title)}" font-family="DejaVu Sans, Arial">',
        f'<text x="0" y="{TITLE_PX}" font-size="{title_px}" font-weight="700" fill="#111">'
        f"{escape(chart.title)}</text>",
    ]
    if not values:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" font-size="{LABEL_PX}" '
            'text-anchor="middle" '
            f'fill="#333">{escape(chart.note or "No values to show.")}</text></svg>'
        )
        return "".join(parts)
    # Legend entries side by side, 320 px apart, or one under another where they do not fit.
    legend = len(chart.series) > 1
    side_by_side = 320 + 34 + _text_w(chart.series[-1].name, LABEL_PX) <= width
    legend_rows = (1 if side_by_side else len(chart.series)) if legend else 0
    legend_h = 40 * legend_rows
    # What the chart leaves out (partial weeks, hidden months) is said under it, not only in
    # the workbook: a reader adding up the points must not find they miss the headline.
    note_lines = _lines(chart.note, width, 22) if chart.note else []
    note_h = 30 * len(note_lines) + 6 if note_lines else 0
    plot_top = TITLE_PX + 26 + legend_h
    if chart.kind == "bar":
        longest = max((len(c) for c in chart.categories), default=0)
        left = min(width // 2, max(120, round(longest * LABEL_PX * GLYPH_EM) + 20))
        right, bottom = width - 70, height - 44 - note_h
    else:
        tick_w = len(tick_text(top)) * AXIS_PX * GLYPH_EM
        left, right, bottom = round(tick_w) + 20, width - 24, height - 54 - note_h
    for index, line in enumerate(note_lines):
        y = height - 8 - 30 * (len(note_lines) - 1 - index)
        parts.append(f'<text x="0" y="{y}" font-size="22" fill="#333">{escape(line)}</text>')
    for index, series in enumerate(chart.series if legend else []):
        # Under the title: a long name never runs off the right edge.
        x = index * 320 if side_by_side else 0
        colour = SERIES_COLOURS[index % 2]
        y = TITLE_PX + 16 + (0 if side_by_side else 40 * index)
        parts.append(f'<rect x="{x}" y="{y}" width="26" height="26" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 34}" y="{y + 22}" font-size="{LABEL_PX}" fill="#111">'
            f"{escape(series.name)}</text>"
        )
    n = max(len(chart.categories), 1)
    if chart.kind == "bar":
        span = right - left
        # A few categories do not make bars as tall as the chart: at most 110 px a category,
        # with the axis right under them (the rest of the drawing stays empty).
        band = min((bottom - plot_top) / n, 110)
        bottom = plot_top + band * n
        # A narrow drawing labels every other grid line, so that the numbers never touch.
        every = 1 if (TICKS + 1) * (_text_w(tick_text(top), AXIS_PX) + 16) <= span else 2
        for tick in range(TICKS + 1):
            x = left + span * tick / TICKS
            parts.append(
                f'<line x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" y2="{bottom}" stroke="#ccc"/>'
            )
            if tick % every == 0:
                parts.append(
                    f'<text x="{x:.1f}" y="{bottom + AXIS_PX + 8}" font-size="{AXIS_PX}" '
                    f'text-anchor="middle" fill="#111">{tick_text(top * tick / TICKS)}</text>'
                )
        bar_h = band * 0.8 / max(len(chart.series), 1)
        for c, category in enumerate(chart.categories):
            y0 = plot_top + c * band
            parts.append(
                f'<text x="{left - 10}" y="{y0 + band / 2 + 9:.1f}" font-size="{LABEL_PX}" '
                f'text-anchor="end" fill="#111">{escape(category)}</text>'
            )
            for s, series in enumerate(chart.series):
                value = series.values[c]
                if value is None:
                    continue
                w = span * value / top
                y = y0 + band * 0.1 + s * bar_h
                parts.append(
                    f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" '
                    f'height="{bar_h:.1f}" fill="{SERIES_COLOURS[s % 2]}"/>'
                )
                # Each bar says its value, read from across a room rather than off the axis,
                # where bars are thick enough for its text (a few categories); a long bar
                # holds its label inside its end.
                if bar_h < AXIS_PX:
                    continue
                inside = w > span - 80
                parts.append(
                    f'<text x="{left + w + (-8 if inside else 8):.1f}" '
                    f'y="{y + bar_h / 2 + 8:.1f}" font-size="{AXIS_PX}" '
                    f'text-anchor="{"end" if inside else "start"}" '
                    f'fill="{"#fff" if inside else "#111"}">{tick_text(value)}</text>'
                )
    else:
        span = bottom - plot_top
        # A short plot (several charts on a slide) has fewer ticks than labels would overlap.
        ticks = TICKS if span >= TICKS * AXIS_PX * 1.5 else (2 if span >= 2 * AXIS_PX * 1.5 else 1)
        for tick in range(ticks + 1):
            y = bottom - span * tick / ticks
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ccc"/>'
                f'<text x="{left - 10}" y="{y + 8:.1f}" font-size="{AXIS_PX}" text-anchor="end" '
                f'fill="#111">{tick_text(top * tick / ticks)}</text>'
            )
        band = (right - left) / n
        every = label_every(chart.categories, right - left, AXIS_PX)
        for c, category in enumerate(chart.categories):
            if c % every == 0:
                parts.append(
                    f'<text x="{left + band * (c + 0.5):.1f}" y="{bottom + AXIS_PX + 10}" '
                    f'font-size="{AXIS_PX}" '
                    f'text-anchor="middle" fill="#111">{escape(category)}</text>'
                )
        for s, series in enumerate(chart.series):
            colour = SERIES_COLOURS[s % 2]
            if chart.kind == "line":
                points = [
                    (left + band * (c + 0.5), bottom - span * v / top)
                    for c, v in enumerate(series.values)
                    if v is not None
                ]
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="5"/>'
                )
                parts.extend(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}"/>' for x, y in points
                )
            else:
                bar_w = band * 0.7 / max(len(chart.series), 1)
                for c, value in enumerate(series.values):
                    if value is None:
                        continue
                    h = span * value / top
                    x = left + band * c + band * 0.15 + s * bar_w
                    parts.append(
                        f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"/>'
                    )
    parts.append("</svg>")
    return "".join(parts)


def chart_img(chart: Chart, width: int, height: int, css: str = "") -> str:
    """The chart as an `<img>` of its SVG (a data URI): the page's HTML sanitiser drops inline
    SVG, an image it keeps."""
    data = base64.b64encode(chart_svg(chart, width, height).encode()).decode()
    css_class = f' class="{css}"' if css else ""
    return (
        f'<img alt="{escape(chart.title)}" src="data:image/svg+xml;base64,{data}" '
        f'width="{width}" height="{height}"{css_class}>'
    )


def _text_height(
    texts: list[str], size: float, line_height: float, gap: float, bold=False
) -> float:
    """About how tall these paragraphs stand across the slide's 1776 px (a line holds about
    1776 / (0.6 x size) characters, bold 0.66)."""
    per_line = (SLIDE_W - 144) / (size * (0.66 if bold else GLYPH_EM))
    lines = sum(max(1, math.ceil(len(text) / per_line)) for text in texts)
    return lines * size * line_height + gap * len(texts)


def chart_height(slide: Slide) -> int:
    """The height each chart of a slide is drawn at: the room left under the title, sentences and
    notes and above the footer, shared by its charts. Drawn at the size it is shown, a chart's
    24 px text stays 24 px; drawn taller, the browser shrank it to fit (to about 19 px on the
    incidents slide, with three sentences under the headline)."""
    lead, rest = slide.sentences[:1], slide.sentences[1:]
    used = (
        48
        + 36  # the slide's padding
        + 56 * 1.1
        + 18  # the title
        + _text_height(lead, 40, 1.2, 10, bold=True)
        + _text_height(rest, 30, 1.3, 10)
        + 22  # under the sentences
        + _text_height(slide.notes, 24, 1.3, 8)
        + 2 * 24 * 1.3
        + 10
        + 14
        + 2  # the footer, two lines
    )
    gaps = 12 * (len(slide.charts) - 1)
    each = (SLIDE_H - used - gaps) / max(len(slide.charts), 1)
    return int(min(max(each, 220), 640))


def slide_html(model: Briefing, slide: Slide, number: int) -> str:
    """One slide as a 1920x1080 `<section>` (needs `CSS`)."""
    sentences = "".join(
        f'<p class="{"lead" if index == 0 else ""}">{escape(text)}</p>'
        for index, text in enumerate(slide.sentences)
    )
    if slide.definitions:
        body = '<div class="definitions">' + "".join(
            f"<p><b>{escape(label)}</b>: {escape(text)}</p>" for label, text in slide.definitions
        )
        body += "".join(f"<p>{escape(note)}</p>" for note in slide.notes) + "</div>"
        notes = ""
    else:
        layout = "half" if slide.charts else "wide"
        figures = f'<div class="figures {layout}">{"".join(map(_figure, slide.figures))}</div>'
        charts = ""
        if slide.charts:
            height = chart_height(slide)
            charts = '<div class="charts">' + "".join(
                f'<div class="chart">{chart_img(chart, CHART_W, height)}'
                f"{chart_img(chart, *PHONE_CHART, css='phone')}</div>"
                for chart in slide.charts
            )
            charts += "</div>"
        body = figures + charts
        notes = "".join(f'<p class="notes">{escape(note)}</p>' for note in slide.notes)
    footer = (
        f'<div class="footer"><span>{escape(slide.source)}</span>'
        f"<span>{escape(model.period_text)} · {number}/{len(model.slides)}</span></div>"
    )
    # Any slide may be projected, or photographed, on its own: on the demo each one says, in
    # type that reads across the room, that its figures are not real.
    mark = f'<div class="demo-mark">{DEMO_MARK}</div>' if model.is_demo else ""
    return (
        f'<section class="bslide" data-slide="{number}">{mark}<h1>{escape(slide.title)}</h1>'
        f'<div class="sentences">{sentences}</div><div class="body">{body}</div>'
        f"{notes}{footer}</section>"
    )


def document_html(model: Briefing) -> str:
    """Every slide in one HTML document, one slide per printed page (for the PDF)."""
    slides = "".join(slide_html(model, s, i) for i, s in enumerate(model.slides, start=1))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(model.title)}</title><style>"
        "@page { size: 1920px 1080px; margin: 0; } html, body { margin: 0; padding: 0; }"
        ".bslide { break-after: page; }"
        f"{CSS}</style></head><body>{slides}</body></html>"
    )
