"""On a phone (390x844) in headless Chromium: choosing a page closes the sidebar, which would
otherwise cover most of the screen; changing a filter leaves it open; on a laptop the sidebar
stays where it is. The county map shows the drawing fitted to the screen, whole, with Kenya's
outline drawn (offline: no basemap)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from dashboard.charts.profile import scorecard_table
from dashboard.maps import OUTLINE_FILL_RGBA
from dashboard.pages import BRIEFING, COUNTY_PROFILE, INCIDENTS, TRAINING
from queries.geography import counties_frame
from queries.indicators import INDICATOR_BY_KEY
from tests.browser_support import page_errors, settle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# How much of the window the sidebar covers, in pixels (0 when closed).
_SIDEBAR_SHOWN_PX = """() => {
    const box = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
    return Math.max(0, Math.min(box.right, innerWidth) - Math.max(box.left, 0));
}"""


def _open(browser: Browser, server: str, viewport: dict) -> Page:
    page = browser.new_page(viewport=viewport)
    page.goto(server + "/")
    settle(page)
    return page


def _open_sidebar(page: Page) -> None:
    page.get_by_test_id("stExpandSidebarButton").click()
    page.wait_for_function(f"() => ({_SIDEBAR_SHOWN_PX})() > 200")


def _choose_page(page: Page, title: str, url_path: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    page.wait_for_url(f"**/{url_path}")
    settle(page)
    assert page_errors(page) == []


def test_choosing_a_page_on_a_phone_closes_the_sidebar(server, browser) -> None:
    page = _open(browser, server, PHONE)
    try:
        assert page.evaluate(_SIDEBAR_SHOWN_PX) == 0  # a phone starts with it closed
        _open_sidebar(page)
        _choose_page(page, INCIDENTS.title, INCIDENTS.url_path)
        page.wait_for_function(f"() => ({_SIDEBAR_SHOWN_PX})() === 0")
        assert page.get_by_role("heading", name="Incidents").first.is_visible()
        # It opens again for the next choice, and closes again after it.
        _open_sidebar(page)
        _choose_page(page, TRAINING.title, TRAINING.url_path)
        page.wait_for_function(f"() => ({_SIDEBAR_SHOWN_PX})() === 0")
    finally:
        page.close()


def test_changing_a_filter_on_a_phone_leaves_the_sidebar_open(server, browser) -> None:
    page = _open(browser, server, PHONE)
    try:
        _open_sidebar(page)
        page.locator(
            '[data-testid="stSidebar"] [data-testid="stRadio"] label',
            has_text="Same period last year",
        ).click()
        settle(page)
        assert "compare=last_year" in page.url
        assert page.evaluate(_SIDEBAR_SHOWN_PX) > 200
    finally:
        page.close()


def test_on_a_laptop_the_sidebar_stays_open_after_choosing_a_page(server, browser) -> None:
    page = _open(browser, server, LAPTOP)
    try:
        assert page.evaluate(_SIDEBAR_SHOWN_PX) > 200
        _choose_page(page, INCIDENTS.title, INCIDENTS.url_path)
        assert page.evaluate(_SIDEBAR_SHOWN_PX) > 200
    finally:
        page.close()


_BOX = """(selector) => {
    const el = document.querySelector(selector);
    if (!el) return null;
    const box = el.getBoundingClientRect();
    return {left: box.left, right: box.right, width: box.width, height: box.height,
            shown: getComputedStyle(el).display !== 'none' && box.width > 0};
}"""


def _outline_share(png: bytes) -> float:
    """The share of a screenshot's pixels in the outline's fill colour (Kenya's land)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    close = (np.abs(pixels - np.array(OUTLINE_FILL_RGBA[:3])) <= 3).all(axis=-1)
    return float(close.mean())


@pytest.mark.parametrize(
    ("viewport", "shown", "hidden"),
    [
        (PHONE, "narrow-county-map", "wide-county-map"),
        (LAPTOP, "wide-county-map", "narrow-county-map"),
    ],
    ids=["phone", "laptop"],
)
def test_the_county_map_fits_the_screen_and_draws_kenya(server, browser, viewport, shown, hidden):
    page = _open(browser, server, viewport)
    try:
        assert page.evaluate(_BOX, f".st-key-{hidden}")["shown"] is False
        container = page.locator(f".st-key-{shown}")
        container.scroll_into_view_if_needed()
        canvas = container.locator("canvas").first
        canvas.wait_for(state="visible")
        box = page.evaluate(_BOX, f".st-key-{shown}")
        assert box["shown"] and box["left"] >= 0 and box["right"] <= viewport["width"]
        # deck.gl draws after the page settles: wait until Kenya's land colour is on screen.
        for _ in range(20):
            share = _outline_share(container.screenshot())
            if share > 0.1:
                break
            page.wait_for_timeout(500)
        assert share > 0.1  # Kenya's outline is filled in, under the circles
    finally:
        page.close()


def test_on_a_phone_the_weekly_category_bars_keep_room_under_their_legend(server, browser):
    """Eleven categories' legend wraps to a dozen rows on a phone: drawn at the laptop's
    height, the bars were left about 100 px. The phone's drawing leaves them at least 300."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{server}/{INCIDENTS.url_path}")
        settle(page)
        key = ".st-key-narrow-incidents-per-week-by-category"
        assert page.evaluate(_BOX, ".st-key-wide-incidents-per-week-by-category")["shown"] is False
        container = page.locator(key)
        container.scroll_into_view_if_needed()
        plot = container.locator(".nsewdrag").first
        plot.wait_for(state="visible")
        assert plot.bounding_box()["height"] >= 300
        box = page.evaluate(_BOX, key)
        assert box["shown"] and box["left"] >= 0 and box["right"] <= PHONE["width"]
    finally:
        page.close()


def test_on_a_phone_the_briefing_slide_flows_to_the_screen_at_a_readable_size(server, browser):
    """The 1920 px slide zoomed to a phone's width set its figures about 13 px tall; on a phone
    the slide flows instead: as wide as the screen, its figures at least 28 px tall."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{server}/{BRIEFING.url_path}")
        settle(page)
        slide = page.locator(".bslide").first
        slide.wait_for(state="visible")
        box = slide.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
        assert box["width"] >= PHONE["width"] * 0.8
        values = page.locator(".bslide .figure .value")
        assert values.count() >= 4
        heights = [values.nth(i).bounding_box()["height"] for i in range(values.count())]
        assert min(heights) >= 28, heights
        # No figure runs off the screen's right edge.
        rights = [
            values.nth(i).bounding_box()["x"] + values.nth(i).bounding_box()["width"]
            for i in range(values.count())
        ]
        assert max(rights) <= PHONE["width"] + 1, rights
        # The chart shown is the phone's drawing: its 24 px text reads at 14 px or more.
        page.goto(f"{server}/{BRIEFING.url_path}?slide=2")
        settle(page)
        page.locator(".bslide .chart img.phone").first.wait_for(state="visible")
        scales = page.evaluate(
            """() => [...document.querySelectorAll('.bslide .chart img')]
                .filter((img) => img.getBoundingClientRect().width > 0)
                .map((img) => img.getBoundingClientRect().width /
                    parseFloat(img.getAttribute('width')))"""
        )
        assert scales and all(24 * scale >= 14 for scale in scales), scales
    finally:
        page.close()


_SCORECARD = """() => {
    const table = [...document.querySelectorAll('.print-table')].find((el) =>
        [...el.querySelectorAll('thead th')].some((th) => th.textContent.trim() === 'Kenya'));
    const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
        .filter((el) => el.getBoundingClientRect().height > 0).length;
    if (!table) return {grids};
    const style = getComputedStyle(table);
    const kenya = [...table.querySelectorAll('tr')].map((tr) => tr.lastElementChild);
    return {
        grids,
        shown: style.display !== 'none' && table.getBoundingClientRect().height > 0,
        rows: table.querySelectorAll('tbody tr').length,
        kenyaRight: Math.max(...kenya.map((cell) => cell.getBoundingClientRect().right)),
        kenyaLeft: Math.min(...kenya.map((cell) => cell.getBoundingClientRect().left)),
        scrollsSideways: table.scrollWidth > table.clientWidth + 1,
        widths: [table.scrollWidth, table.clientWidth, table.offsetWidth],
    };
}"""


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_county_scorecard_shows_kenyas_column_without_scrolling_sideways(
    server, browser, viewport
):
    """On a phone the grid's long first column pushed the scorecard's Kenya column off-screen;
    a phone now gets the table as text, wrapped to the screen. A laptop keeps the grid."""
    # A phone's scrollbars overlay the page (a desktop's take 15 px of the table's width).
    page = browser.new_page(viewport=viewport, is_mobile=viewport is PHONE, has_touch=True)
    try:
        page.goto(f"{server}/{COUNTY_PROFILE.url_path}?county=032")
        settle(page)
        page.locator('[data-testid="stMetric"]').first.wait_for(state="visible")
        measured = page.evaluate(_SCORECARD)
        if viewport is LAPTOP:
            assert measured["grids"] >= 1 and measured["shown"] is False, measured
            return
        assert measured["grids"] == 0 and measured["shown"], measured
        assert measured["rows"] >= 8, measured
        assert not measured["scrollsSideways"], measured["widths"]
        assert measured["kenyaLeft"] > 0 and measured["kenyaRight"] <= PHONE["width"], measured
    finally:
        page.close()


def _widest_scorecard() -> pd.DataFrame:
    """The scorecard's widest cells on any day, made by the page's own code: every indicator
    ranked 47 of 47, both values hidden ('Suppressed' is the widest value), the longest county
    name and a month note on every row."""
    indicators = list(INDICATOR_BY_KEY)
    scorecard = pd.DataFrame(
        {
            "indicator": indicators,
            "rank": 47.0,
            "ranked_counties": 47,
            "period_note": "Apr 2027: latest month due",
            "county_value": 0.5,
            "county_suppressed": True,
            "national_value": 0.5,
            "national_suppressed": True,
        }
    )
    longest = max(counties_frame()["name"], key=len)
    table = scorecard_table(scorecard, longest, threshold=5)
    # A hidden count reads '<5'; the widest a count's value can read is 'Suppressed'.
    table[longest] = table["Kenya"] = "Suppressed"
    return table


def test_the_widest_scorecard_a_day_can_bring_fits_a_phone(server, browser) -> None:
    """Which cells are widest depends on the day's figures: on 15 May 2027's demo Kenya's own
    column read 'Suppressed', and the table scrolled sideways by 25 px. The worst case, put in
    the page's table (its fonts and styles), fits the screen."""
    widest = _widest_scorecard()
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page.goto(f"{server}/{COUNTY_PROFILE.url_path}?county=032")
        settle(page)
        page.locator('[data-testid="stMetric"]').first.wait_for(state="visible")
        page.evaluate(
            """(html) => {
                const table = [...document.querySelectorAll('.print-table')].find((el) =>
                    [...el.querySelectorAll('thead th')].some((th) =>
                        th.textContent.trim() === 'Kenya'));
                table.innerHTML = html;
            }""",
            widest.to_html(index=False),
        )
        measured = page.evaluate(_SCORECARD)
        assert measured["rows"] == len(widest), measured
        assert not measured["scrollsSideways"], measured["widths"]
        assert measured["kenyaLeft"] > 0 and measured["kenyaRight"] <= PHONE["width"], measured
    finally:
        page.close()


_BAR_LABELS_OUTSIDE = """() => {
    const cut = [];
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const svg = plot.querySelector('svg.main-svg');
        if (!svg) continue;
        const box = svg.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;  // the other screen's drawing
        const keyed = plot.closest('[class*="st-key-"]');
        const title = keyed ? [...keyed.classList].find((c) => c.startsWith('st-key-')) : '?';
        for (const text of plot.querySelectorAll('text.bartext')) {
            const r = text.getBoundingClientRect();
            if (r.width === 0) continue;
            if (r.right > box.right + 1 || r.left < box.left - 1) {
                cut.push(`${title}: "${text.textContent}" ${r.left.toFixed(0)}-` +
                    `${r.right.toFixed(0)} of ${box.left.toFixed(0)}-${box.right.toFixed(0)}`);
            }
        }
    }
    return cut;
}"""


@pytest.mark.parametrize(
    "page_path",
    [
        "rehabilitation",
        "associations",
        "associations?period=this_fy",
        "training",
        "incidents?period=since_launch",
    ],
)
def test_on_a_phone_no_bar_label_runs_off_its_chart(server, browser, page_path) -> None:
    """Bar charts label each bar past its end; on a 390 px phone the funnel cut "310 (100%)"
    to "310 (100%" at the screen's edge. Every bar label of every chart drawn for the phone
    lies inside its chart."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{server}/{page_path}")
        settle(page)
        assert page_errors(page) == []
        page.wait_for_function("() => document.querySelectorAll('text.bartext').length > 0")
        assert page.evaluate(_BAR_LABELS_OUTSIDE) == []
    finally:
        page.close()


_HIDDEN_WEEK_LABELS = """() => {
    const hidden = [];
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        if (plot.getBoundingClientRect().width === 0) continue;  // the other screen's drawing
        for (const text of plot.querySelectorAll('.xaxislayer-above .xtick text')) {
            // "02 Nov", or on a phone "02" over "Nov" (two lines: "02Nov").
            if (/^\\d\\d ?[A-Z][a-z]{2}( \\d{4})?$/.test(text.textContent) &&
                getComputedStyle(text).display === 'none') {
                hidden.push(text.textContent);
            }
        }
    }
    return hidden;
}"""


@pytest.mark.parametrize("page_path", ["", INCIDENTS.url_path])
def test_on_a_phone_every_week_on_a_weekly_axis_is_labelled(server, browser, page_path) -> None:
    """Plotly hides a tick label that would pass the drawing's right edge: on a phone the last
    (partial) week of every weekly chart stood unlabelled."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{server}/{page_path}")
        settle(page)
        page.wait_for_function("() => document.querySelectorAll('.xtick text').length > 0")
        assert page.evaluate(_HIDDEN_WEEK_LABELS) == []
    finally:
        page.close()


_SIDEWAYS_TICK_LABELS = """() => {
    const sideways = [];
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        if (plot.getBoundingClientRect().width === 0) continue;  // the other screen's drawing
        const keyed = plot.closest('[class*="st-key-"]');
        const chart = keyed ? [...keyed.classList].find((c) => c.startsWith('st-key-')) : '?';
        for (const text of plot.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text')) {
            const turn = /rotate\\((-?[\\d.]+)/.exec(text.getAttribute('transform') || '');
            if (turn && Math.abs(parseFloat(turn[1])) > 1) {
                sideways.push(`${chart}: "${text.textContent}" at ${Math.round(turn[1])} degrees`);
            }
        }
    }
    return sideways;
}"""


@pytest.mark.parametrize(
    "page_path",
    [
        "",
        INCIDENTS.url_path,
        "associations?period=this_fy",
        "associations?period=since_launch",
        TRAINING.url_path,
        "rehabilitation",
        f"{COUNTY_PROFILE.url_path}?county=032",
    ],
)
def test_on_a_phone_no_axis_label_is_turned_sideways(server, browser, page_path) -> None:
    """Where labels do not fit, Plotly turns them 30-90 degrees: on a phone every weekly date,
    every month, the kinds of rehab centre and the value axis of most bar charts read
    sideways. Dates and months stand in two short lines, and bars that carry their own
    value show no value axis numbers on a phone."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{server}/{page_path}")
        settle(page)
        assert page_errors(page) == []
        page.wait_for_function("() => document.querySelectorAll('.xtick text').length > 0")
        assert page.evaluate(_SIDEWAYS_TICK_LABELS) == []
    finally:
        page.close()
