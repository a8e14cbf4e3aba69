"""Tests of the browser harness (tests/browser_support.py) on a tiny throwaway Streamlit app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser_support import (
    launch_chromium,
    page_errors,
    screenshot_path,
    serve_app,
    wait_for_streamlit,
)

pytestmark = pytest.mark.browser

TINY_APP = """\
import os

import streamlit as st

st.title("Harness check")
if st.query_params.get("fail"):
    raise RuntimeError("harness boom")
st.write("Usalama harness OK:", 6 * 7)
st.write("Marker from the environment:", os.environ.get("USALAMA_HARNESS_MARK", "missing"))
"""


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    script = tmp_path_factory.mktemp("tiny_app") / "tiny_app.py"
    script.write_text(TINY_APP)
    with serve_app({"USALAMA_HARNESS_MARK": "karibu"}, script=script) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_tiny_app_renders_without_errors(tiny_app: str, page: Page) -> None:
    page.goto(tiny_app)
    wait_for_streamlit(page)

    body = page.locator("body").inner_text()
    assert "Harness check" in body
    assert "Usalama harness OK: 42" in body
    assert "Marker from the environment: karibu" in body
    assert page_errors(page) == []
    page.screenshot(path=screenshot_path("harness"), full_page=True)


def test_page_errors_reports_an_exception(tiny_app: str, page: Page) -> None:
    page.goto(f"{tiny_app}/?fail=1")
    wait_for_streamlit(page)

    errors = page_errors(page)
    assert errors, page.locator("body").inner_text()
    assert any("harness boom" in error for error in errors)


def test_page_errors_sees_an_exception_with_details_hidden(
    tmp_path: Path, browser: Browser
) -> None:
    # As users see it: .streamlit/config.toml's own showErrorDetails (the project hides details).
    script = tmp_path / "failing_app.py"
    script.write_text('raise RuntimeError("hidden boom")\n')
    with serve_app(script=script, show_error_details=None) as base_url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(base_url)
        wait_for_streamlit(page)
        assert page_errors(page)
        context.close()


def test_serve_app_reports_a_server_that_dies(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_app.py"
    with pytest.raises(RuntimeError, match="exited") as caught, serve_app(script=missing):
        pass
    assert "no_such_app.py" in str(caught.value)
