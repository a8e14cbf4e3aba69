"""Every page served for real and loaded in headless Chromium (Debian's), at projector and phone
sizes; links reproduce the view in a fresh browser; filters survive moving between pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from dashboard.pages import COUNTY_PROFILE, OVERVIEW, visible_pages
from tests.browser_support import (
    page_errors,
    screenshot_path,
    settle,
)

pytestmark = pytest.mark.browser

# Page name -> the address to open: every page a non-administrator sees, the County profile
# with a county chosen so that it draws the profile rather than the county picker.
PAGES = {
    page.url_path: page.public_path + ("?county=032" if page is COUNTY_PROFILE else "")
    for page in visible_pages(sees_data_quality=False)
}
VIEWPORTS = {"projector": (1920, 1080), "phone": (390, 844)}
# Messages the app shows instead of a page when something went wrong.
FAILURE_TEXTS = (
    "could not be drawn",
    "cannot be reached",
    "did not answer within",
    "does not follow the reporting data contract",
)


def _problems(page: Page) -> list[str]:
    text = page.inner_text("body")
    return page_errors(page) + [t for t in FAILURE_TEXTS if t in text]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_errors(server, browser, name, viewport) -> None:
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(server + PAGES[name])
        settle(page)
        assert _problems(page) == []
        assert "Synthetic demo data" in page.inner_text("body")
        assert "Data as of" in page.inner_text("body")
        page.screenshot(path=screenshot_path(f"{name}-{viewport}"))
        # A tall capture of the whole page, for reviewing it as a user would.
        page.set_viewport_size({"width": width, "height": 5200 if width > 1000 else 9000})
        settle(page)
        page.screenshot(path=screenshot_path(f"{name}-{viewport}-full"))
    finally:
        page.close()


def _metrics(page: Page) -> list[str]:
    return [m.inner_text() for m in page.query_selector_all('[data-testid="stMetric"]')]


def test_a_copied_link_reproduces_the_view(server, browser) -> None:
    first = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = first.new_page()
    page.goto(server + "/?period=last_90_days&compare=last_year&county=047")
    settle(page)
    # Change a filter through the widget, as a user would: add Nakuru.
    page.get_by_text("Nairobi (047)").first.wait_for()
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.click()
    page.keyboard.type("Nakuru")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    settle(page)
    copied = page.url
    assert re.search(r"county=032%2C047|county=032,047", copied), copied
    shown = _metrics(page)
    first.close()

    fresh = browser.new_context(viewport={"width": 1920, "height": 1080})
    again = fresh.new_page()
    again.goto(copied)
    settle(again)
    assert _metrics(again) == shown and len(shown) == len(OVERVIEW.cards)
    fresh.close()


def test_filters_survive_moving_between_pages(server, browser) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(server + "/?period=this_fy&county=032")
    settle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Training").click()
    settle(page)
    assert "/training" in page.url and "county=032" in page.url and "period=this_fy" in page.url
    assert "Nakuru" in page.inner_text('[data-testid="stSidebar"]')
    context.close()
