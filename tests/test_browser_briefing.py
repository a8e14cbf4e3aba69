"""The Briefing page in headless Chromium at 1920x1080: each slide fills the screen alone, its
headline is at least 40 px, its key figures at least 64 px, its source line 24 px, and on the
demo a 28 px mark says the data are synthetic; nothing overflows the slide, the
arrow keys move between slides; and printing a page hides the sidebar, fits charts to the page
width and prints tables whole. Screenshots go to artifacts/screenshots/briefing-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from dashboard.pages import BRIEFING, INCIDENTS
from tests.browser_support import page_errors, screenshot_path, settle

pytestmark = pytest.mark.browser

ADDRESS = f"{BRIEFING.public_path}?county=032"
SLIDES = 6  # five, definitions: one county has no slide of its own

_MEASURE_JS = """() => {
    const slide = document.querySelector('.bslide');
    const box = slide.getBoundingClientRect();
    const size = (el) => parseFloat(getComputedStyle(el).fontSize) * (parseFloat(
        getComputedStyle(slide).zoom) || 1);
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const over = [...slide.querySelectorAll('*')].filter((el) => {
        const r = el.getBoundingClientRect();
        return el.textContent.trim() && (r.right > box.right + 1 || r.bottom > box.bottom + 1);
    }).map((el) => el.textContent.trim().slice(0, 60));
    const footer = slide.querySelector('.footer').getBoundingClientRect();
    const intoFooter = [...slide.querySelectorAll('.body *, .sentences *')].filter((el) =>
        el.textContent.trim() && el.getBoundingClientRect().bottom > footer.top + 1
    ).map((el) => el.textContent.trim().slice(0, 60));
    const mark = slide.querySelector('.demo-mark');
    // A chart image is fitted into its box (object-fit: contain): its drawing's scale.
    const chartScales = [...slide.querySelectorAll('.chart img')].filter(
        (img) => img.clientWidth > 0).map((img) => Math.min(
        img.clientWidth / parseFloat(img.getAttribute('width')),
        img.clientHeight / parseFloat(img.getAttribute('height'))));
    return {
        intoFooter,
        footer: size(slide.querySelector('.footer')),
        chartScales,
        mark: mark ? [size(mark), mark.textContent, mark.getBoundingClientRect().bottom,
            slide.querySelector('h1').getBoundingClientRect().top] : null,
        number: slide.dataset.slide,
        box: [box.left, box.top, box.width, box.height],
        h1: size(slide.querySelector('h1')),
        lead: slide.querySelector('.lead') ? size(slide.querySelector('.lead')) : null,
        values: [...slide.querySelectorAll('.figure .value')].map(size),
        sidebarShown: !!sidebar && sidebar.getBoundingClientRect().width > 0 &&
            getComputedStyle(sidebar).display !== 'none',
        over,
    };
}"""


def test_every_slide_fills_a_projector_screen_readably(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}{ADDRESS}&slide=1")
    settle(page)
    for number in range(1, SLIDES + 1):
        assert page_errors(page) == []
        measured = page.evaluate(_MEASURE_JS)
        assert measured["number"] == str(number)
        left, top, width, height = measured["box"]
        assert (left, top) == (0, 0) and width >= 1900 and height >= 1060, measured["box"]
        assert measured["h1"] >= 40 and (measured["lead"] is None or measured["lead"] >= 40)
        assert all(size >= 64 for size in measured["values"]), measured["values"]
        # Read from 5 m: the source line too, and on the demo a mark above the title.
        assert measured["footer"] >= 24, measured["footer"]
        # Charts are drawn at the size they are shown: their 24 px text is not shrunk.
        assert all(scale >= 0.97 for scale in measured["chartScales"]), measured["chartScales"]
        mark_size, mark_text, mark_bottom, title_top = measured["mark"]
        assert mark_size >= 28 and mark_text == "SYNTHETIC DEMO DATA", measured["mark"]
        assert mark_bottom <= title_top, measured["mark"]
        assert not measured["sidebarShown"]
        assert measured["over"] == [], measured["over"]
        assert measured["intoFooter"] == [], measured["intoFooter"]
        page.screenshot(path=screenshot_path(f"briefing-{number}"))
        if number < SLIDES:
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                f"() => document.querySelector('.bslide')?.dataset.slide === '{number + 1}'",
                timeout=60_000,
            )
            settle(page)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        f"() => document.querySelector('.bslide')?.dataset.slide === '{SLIDES - 1}'",
        timeout=60_000,
    )
    assert "slide=" in page.url and "county=032" in page.url
    page.close()


_PRINT_JS = """() => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map((el) => {
        const zoom = parseFloat(getComputedStyle(el).zoom) || 1;
        return el.getBoundingClientRect().width * (zoom === 1 ? 1 : 1);
    });
    const tables = [...document.querySelectorAll('.print-table')].map((el) => [
        getComputedStyle(el).display, el.querySelectorAll('tbody tr').length]);
    const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
        .map((el) => getComputedStyle(el).display);
    return {sidebar: sidebar ? getComputedStyle(sidebar).display : 'none', charts, tables, grids};
}"""


def test_printing_a_page_hides_the_sidebar_fits_charts_and_prints_tables_whole(
    server: str, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{server}{INCIDENTS.public_path}")
    settle(page)
    page.emulate_media(media="print")
    measured = page.evaluate(_PRINT_JS)
    assert measured["sidebar"] == "none"
    assert measured["charts"] and all(width <= 704 for width in measured["charts"]), measured
    assert measured["tables"] and all(display == "block" for display, _ in measured["tables"])
    assert all(display == "none" for display in measured["grids"])
    # Whole tables: the longest printed table has more rows than the on-screen grid shows.
    assert max(rows for _, rows in measured["tables"]) > 16
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    (screenshot_path("print-incidents").with_suffix(".pdf")).write_bytes(pdf)
    page.close()
