"""The briefing as a PDF, one slide per page, for e-mail.

Two renderers were measured (README, "PDF renderer"): Debian's Chromium printing the slides'
HTML (`chromium_pdf_bytes`, the page's own look) and fpdf2 drawing the model directly
(`library_pdf_bytes`). `pdf_bytes` is the one the app and the command use.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from dashboard.briefing.html import TICKS, change_line, label_every, nice_max, tick_text
from queries.briefing.model import DEMO_MARK, Briefing, Chart, Slide

CHROMIUM = os.environ.get("USALAMA_CHROMIUM", "/usr/bin/chromium")
# Without the networking switches Chromium keeps dialling Google hosts that a closed network
# refuses; as root it needs --no-sandbox. The browser tests launch it with the same switches.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SERIES_RGB = ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00))


def chromium_pdf_bytes(model: Briefing) -> bytes:
    """Chromium (through Playwright, never a downloaded browser) prints the slides' HTML."""
    from playwright.sync_api import sync_playwright

    from dashboard.briefing.html import document_html

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_content(document_html(model), wait_until="load")
            return page.pdf(width="1920px", height="1080px", print_background=True)
        finally:
            browser.close()


class _Pages:
    """fpdf2 with the slide's type scale (points on a 1440x810 pt page: 16:9 at 20 x 11.25 in)."""

    def __init__(self) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="L", unit="pt", format=(810, 1440))
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(54, 36, 54)
        family = "DejaVu"
        if (FONT_DIR / "DejaVuSans.ttf").exists():
            self.pdf.add_font(family, "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.pdf.add_font(family, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        else:  # no Unicode font: the core font (a few symbols become '?')
            family = "Helvetica"
        self.family = family

    def text(
        self,
        x: float,
        y: float,
        w: float,
        size: float,
        text: str,
        bold=False,
        grey=False,
        align="L",
    ):
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*((0x33, 0x33, 0x33) if grey else (0x11, 0x11, 0x11)))
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(w, size * 1.25, self._safe(text), align=align)
        return self.pdf.get_y()

    def _safe(self, text: str) -> str:
        if self.family == "DejaVu":
            return text
        return text.encode("latin-1", "replace").decode("latin-1")


def _chart(pages: _Pages, chart: Chart, x: float, y: float, w: float, h: float) -> None:
    pdf = pages.pdf
    y = pages.text(x, y, w, 20, chart.title, bold=True) - 22
    if len(chart.series) > 1:
        for s, series in enumerate(chart.series):
            pdf.set_fill_color(*SERIES_RGB[s % 2])
            pdf.rect(x + 170 + s * 200, y + 26, 14, 14, "F")
            pages.text(x + 190 + s * 200, y + 24, 180, 14, series.name)
        y += 22
    values = [v for s in chart.series for v in s.values if v is not None]

    if not values:
        pages.text(x, y + h / 2, w, 18, chart.note or "No values to show.", grey=True)
        return
    top = nice_max(max(values, default=0.0))
    # What the chart leaves out is said under it, as on the screen and in the PowerPoint.
    note_h = 20 if chart.note else 0
    if chart.note:
        pages.text(x, y + h - 16, w, 13, chart.note, grey=True)
    left, plot_top, right, bottom = x + 70, y + 40, x + w - 40, y + h - 30 - note_h
    if chart.kind == "bar":
        left = x + 170
    pdf.set_draw_color(200, 200, 200)
    n = max(len(chart.categories), 1)
    pdf.set_font(pages.family, "", 13)
    if chart.kind == "bar":
        # At most 80 pt a category, the axis right under the bars (as on the screen).
        bottom = plot_top + min((bottom - plot_top) / n, 80) * n
    for tick in range(TICKS + 1):
        if chart.kind == "bar":
            tx = left + (right - left) * tick / TICKS
            pdf.line(tx, plot_top, tx, bottom)
            pdf.text(tx - 10, bottom + 18, tick_text(top * tick / TICKS))
        else:
            ty = bottom - (bottom - plot_top) * tick / TICKS
            pdf.line(left, ty, right, ty)
            pdf.text(x, ty + 4, tick_text(top * tick / TICKS))
    for s, series in enumerate(chart.series):
        pdf.set_fill_color(*SERIES_RGB[s % 2])
        pdf.set_draw_color(*SERIES_RGB[s % 2])
        if chart.kind == "bar":
            band = min((bottom - plot_top) / n, 80)
            bar = band * 0.8 / len(chart.series)
            for c, value in enumerate(series.values):
                if s == 0:
                    pdf.text(x, plot_top + c * band + band / 2 + 4, chart.categories[c][:18])
                if value is not None:
                    width = (right - left) * value / top
                    pdf.rect(left, plot_top + c * band + band * 0.1 + s * bar, width, bar, "F")
                    # Each bar's value at its end, where bars are thick enough to hold it.
                    if bar >= 14:
                        pdf.text(
                            left + width + 4,
                            plot_top + c * band + band * 0.1 + s * bar + bar / 2 + 4,
                            tick_text(value),
                        )
        else:
            band = (right - left) / n
            every = label_every(chart.categories, right - left, 13)
            for c, label in enumerate(chart.categories):
                if s == 0 and c % every == 0:
                    pdf.text(left + band * c + band * 0.2, bottom + 18, label)
            if chart.kind == "line":
                pdf.set_line_width(3)
                points = [
                    (left + band * (c + 0.5), bottom - (bottom - plot_top) * v / top)
                    for c, v in enumerate(series.values)
                    if v is not None
                ]
                for (x1, y1), (x2, y2) in itertools.pairwise(points):
                    pdf.line(x1, y1, x2, y2)
                for px, py in points:
                    pdf.ellipse(px - 4, py - 4, 8, 8, "F")
                pdf.set_line_width(1)
            else:
                bar = band * 0.7 / len(chart.series)
                for c, value in enumerate(series.values):
                    if value is not None:
                        height = (bottom - plot_top) * value / top
                        pdf.rect(
                            left + band * c + band * 0.15 + s * bar,
                            bottom - height,
                            bar,
                            height,
                            "F",
                        )


def _slide(pages: _Pages, model: Briefing, slide: Slide, number: int) -> None:
    pdf = pages.pdf
    pdf.add_page()
    width = 1440 - 108
    if model.is_demo:  # as on the screen: white on dark orange, above the title at the right
        pdf.set_fill_color(0x9A, 0x3C, 0x00)
        pdf.rect(54 + width - 330, 0, 330, 30, "F")
        pdf.set_font(pages.family, "B", 18)
        pdf.set_text_color(0xFF, 0xFF, 0xFF)
        pdf.set_xy(54 + width - 330, 3)
        pdf.cell(330, 24, DEMO_MARK, align="C")
    y = pages.text(54, 36, width, 40, slide.title, bold=True) + 8
    for index, sentence in enumerate(slide.sentences):
        y = pages.text(54, y, width, 28 if index == 0 else 21, sentence, bold=index == 0) + 4
    y += 10
    if slide.definitions:
        column = (width - 40) / 2
        start, col, cy = y, 0, y
        for label, text in slide.definitions + [["Note", n] for n in slide.notes]:
            if cy > 700:
                col, cy = col + 1, start
            cy = pages.text(54 + col * (column + 40), cy, column, 14, f"{label}: {text}") + 5
    else:
        area_w = width / 2 if slide.charts else width
        columns = 2 if slide.charts else 4
        cell_w = area_w / columns
        for index, figure in enumerate(slide.figures):
            fx = 54 + (index % columns) * cell_w
            fy = y + (index // columns) * 150
            # A long label wraps to a second line: the value and change move down with it.
            below = pages.text(fx, fy, cell_w - 20, 18, figure.label, bold=True, grey=True)
            below = pages.text(fx, below, cell_w - 20, 46, figure.text, bold=True)
            pages.text(fx, below + 2, cell_w - 20, 15, change_line(figure)[0], grey=True)
        if slide.charts:
            each = (720 - y) / len(slide.charts)
            for index, chart in enumerate(slide.charts):
                _chart(
                    pages, chart, 54 + width / 2 + 20, y + index * each, width / 2 - 20, each - 10
                )
    footer = " ".join(slide.notes) + " " if not slide.definitions and slide.notes else ""
    pdf.set_draw_color(17, 17, 17)
    pdf.line(54, 738, 54 + width, 738)
    mark = f"{DEMO_MARK} · " if model.is_demo else ""
    right = 300 if model.is_demo else 150
    pages.text(54, 744, width - right - 10, 13, footer + slide.source, grey=True)
    pages.text(
        54 + width - right,
        744,
        right,
        13,
        f"{mark}{number}/{len(model.slides)}",
        grey=True,
        align="R",
    )


def library_pdf_bytes(model: Briefing) -> bytes:
    """fpdf2 draws each slide from the model (no browser)."""
    pages = _Pages()
    pages.pdf.set_title(model.title)
    for number, slide in enumerate(model.slides, start=1):
        _slide(pages, model, slide, number)
    return bytes(pages.pdf.output())


def pdf_bytes(model: Briefing) -> bytes:
    """The PDF the app and the command produce: fpdf2, chosen by measurement (README)."""
    return library_pdf_bytes(model)
