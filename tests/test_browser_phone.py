"""On a phone (390x844) in headless Chromium: choosing a page closes the sidebar, which would
otherwise cover most of the screen; changing a filter leaves it open; on a laptop the sidebar
stays where it is."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from dashboard.pages import INCIDENTS, TRAINING
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
