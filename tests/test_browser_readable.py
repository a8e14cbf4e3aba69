"""Readable on a laptop (1366x768), a projector (1920x1080) and a phone (390x844): every page in
the registry, served for real on the demo and measured in headless Chromium (Debian's).

- No card cuts its label, value, delta or "vs comparison period": no element under a card is
  wider than its box where the box hides the overflow (overflow-x hidden or clip, or an ellipsis).
- The page never scrolls sideways (tables and charts may scroll inside themselves).
- On the projector, captions and chart subtitles are at least 16 px.

One page load per page and size, in one browser; the Data quality page (administrators only) is
reached by switching the demo's role to Admin.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from dashboard.pages import COUNTY_PROFILE, DATA_QUALITY, PAGES
from tests.browser_support import page_errors, settle

pytestmark = pytest.mark.browser

SIZES = {"laptop": (1366, 768), "projector": (1920, 1080), "phone": (390, 844)}
# Page name -> address: the County profile with a county chosen, so that it draws its cards.
ADDRESSES = {
    page.url_path: page.public_path + ("?county=032" if page is COUNTY_PROFILE else "")
    for page in PAGES
    if not page.admin_only
}
MIN_CAPTION_PX = 16.0
# The default demo period gives cards these long delta texts on any day; the test relies on
# seeing them. "Oct 2026: latest month due" and "· meaningful" are measured on the days they
# appear (most, not all: on 2 July no change in the last 28 days is meaningful).
# "referred 07 Oct – 03 Nov": the follow-up shares read for the latest window old enough.
LONG_DELTAS = ("referred ", "as it stands now", "· normal variation")

_MEASURE_JS = """() => {
    const cut = [];
    for (const card of document.querySelectorAll('[data-testid="stMetric"]')) {
        for (const el of [card, ...card.querySelectorAll('*')]) {
            if (el.scrollWidth <= el.clientWidth) continue;
            const style = getComputedStyle(el);
            const hides = style.overflowX === 'hidden' || style.overflowX === 'clip';
            if (hides || style.textOverflow === 'ellipsis') {
                const name = el.getAttribute('data-testid') || el.tagName.toLowerCase();
                cut.push(`${name} ${el.scrollWidth}>${el.clientWidth}px: ` +
                         JSON.stringify(el.textContent.trim().slice(0, 80)));
            }
        }
    }
    const main = document.querySelector('[data-testid="stMain"]');
    const fonts = (selector) => [...document.querySelectorAll(selector)]
        .filter((el) => el.textContent.trim())
        .map((el) => [parseFloat(getComputedStyle(el).fontSize),
                      el.textContent.trim().slice(0, 60)]);
    return {
        cut,
        cards: [...document.querySelectorAll('[data-testid="stMetric"]')]
            .map((card) => card.innerText),
        pageWidth: document.documentElement.scrollWidth,
        mainWidth: main ? main.scrollWidth : 0,
        mainBox: main ? main.clientWidth : 0,
        viewport: window.innerWidth,
        captions: fonts('[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p'),
        subtitles: fonts('p.chart-subtitle'),
    };
}"""


def _open_data_quality(page: Page) -> None:
    """Switch the demo's role to Admin on the page already open, then go to Data quality."""
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.is_visible():  # a phone starts with the sidebar closed
        expand.click()
    page.locator(
        '[data-testid="stSidebar"] [data-testid="stRadio"] label', has_text="Admin"
    ).click()
    settle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text=DATA_QUALITY.title).click()
    settle(page)
    assert f"/{DATA_QUALITY.url_path}" in page.url


def _measure_every_page(browser: Browser, server: str, width: int, height: int) -> dict[str, dict]:
    page = browser.new_page(viewport={"width": width, "height": height})
    measured: dict[str, dict] = {}
    try:
        for name, address in ADDRESSES.items():
            page.goto(server + address)
            settle(page)
            assert page_errors(page) == [], name
            measured[name] = page.evaluate(_MEASURE_JS)
        _open_data_quality(page)
        assert page_errors(page) == [], DATA_QUALITY.url_path
        measured[DATA_QUALITY.url_path] = page.evaluate(_MEASURE_JS)
    finally:
        page.close()
    return measured


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_is_readable(server, browser, size) -> None:
    width, height = SIZES[size]
    measured = _measure_every_page(browser, server, width, height)
    assert set(measured) == {page.url_path for page in PAGES}

    problems: list[str] = []
    for name, m in measured.items():
        problems += [f"{name}: card text cut: {cut}" for cut in m["cut"]]
        if m["pageWidth"] > m["viewport"] + 1:
            problems.append(f"{name}: page {m['pageWidth']} px wide in a {m['viewport']} px window")
        if m["mainWidth"] > m["mainBox"] + 1:
            problems.append(f"{name}: main area {m['mainWidth']} px wide in {m['mainBox']} px")
        if size == "projector":
            problems += [
                f"{name}: {px} px text under 16 px: {text!r}"
                for px, text in m["captions"] + m["subtitles"]
                if px < MIN_CAPTION_PX
            ]
    assert problems == []

    # The checks saw what they are meant to: every page with cards drew all of them, and the
    # long delta texts were among them; the projector check saw captions and chart subtitles.
    for page in PAGES:
        assert len(measured[page.url_path]["cards"]) >= len(page.cards), page.url_path
    card_text = "\n".join(text for m in measured.values() for text in m["cards"])
    assert [delta for delta in LONG_DELTAS if delta not in card_text] == []
    if size == "projector":
        assert all(
            sum(len(m[kind]) for m in measured.values()) > 0 for kind in ("captions", "subtitles")
        )
