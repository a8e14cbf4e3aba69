"""Helpers for browser tests: serve the Streamlit app and drive it with Debian's Chromium.

Playwright uses /usr/bin/chromium (Debian's package); `playwright install` is never run because
no browser can be downloaded here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

from dashboard.briefing.pdf import CHROMIUM, CHROMIUM_ARGS
from tests.isolation import server_options

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_SCRIPT = PROJECT_ROOT / "dashboard" / "app.py"
SCREENSHOT_DIR = PROJECT_ROOT / "artifacts" / "screenshots"
HEALTH_TIMEOUT_S = 60.0
ERROR_SELECTORS = ('[data-testid="stException"]', ".stException")
TRACEBACK_MARK = "Traceback (most recent call last)"

# Loopback requests must not go through any proxy configured in the environment.
_LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _streamlit_command() -> list[str]:
    venv_streamlit = PROJECT_ROOT / ".venv" / "bin" / "streamlit"
    if venv_streamlit.exists():
        return [str(venv_streamlit)]
    return [sys.executable, "-m", "streamlit"]


def _healthy(base_url: str) -> bool:
    try:
        with _LOCAL_OPENER.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def serve_app(
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    script: str | os.PathLike[str] = APP_SCRIPT,
    timeout: float = HEALTH_TIMEOUT_S,
    show_error_details: str | None = "full",
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Run `streamlit run SCRIPT` headless on 127.0.0.1 and yield its base URL.

    The server runs from the project root (so .streamlit/config.toml applies) in its own process
    group, which is terminated on exit. Its output goes to a log file that is printed when the
    server fails to become healthy or the body of the `with` raises.

    Args:
        env: variables set on top of this process's environment (e.g. REPORTING_DB_URL).
        port: the port to listen on; a free one by default.
        script: the Streamlit script; the dashboard's app.py by default.
        timeout: seconds to wait for /_stcore/health to answer.
        show_error_details: overrides client.showErrorDetails so that tests (and page_errors)
            see the real exception; None keeps .streamlit/config.toml's setting, to test what
            users see.
        options: more `streamlit run` options, e.g. `("--secrets.files", "/tmp/x/secrets.toml")`
            to read secrets from a temporary file; without one, the server reads the suite's
            empty secrets file (tests/isolation.py), never the developer's or the project's.

    Raises:
        RuntimeError: the server exited or did not answer in time (the message has its log).
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        *_streamlit_command(),
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    if show_error_details is not None:
        command += ["--client.showErrorDetails", show_error_details]
    command += server_options(options)
    process_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile(prefix="streamlit-log-") as log:

        def log_text() -> str:
            log.flush()
            log.seek(0)
            return log.read().decode(errors="replace")

        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=process_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(base_url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"streamlit exited with code {process.returncode} before serving "
                        f"{script}:\n{log_text()}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"streamlit did not answer {base_url}/_stcore/health within {timeout:.0f} "
                        f"s:\n{log_text()}"
                    )
                time.sleep(0.2)
            try:
                yield base_url
            except BaseException:
                print(f"--- streamlit server log ({script}) ---\n{log_text()}")
                raise
        finally:
            _stop(process)


def launch_chromium(playwright: Playwright, **launch_options: object) -> Browser:
    """Launch Debian's headless Chromium through Playwright (no downloaded browser needed)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=list(CHROMIUM_ARGS),
        **launch_options,  # type: ignore[arg-type]
    )


APP_IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const connection = app.getAttribute('data-test-connection-state');
    const script = app.getAttribute('data-test-script-state');
    if (connection !== null && connection !== 'CONNECTED') return false;
    if (script !== null && script !== 'notRunning' && script !== 'compilationError') return false;
    return true;
}"""


def wait_for_streamlit(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the app is connected and its script has finished running.

    Checked twice, a moment apart, so that a script which reruns itself is not caught between
    two runs.
    """
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    for _ in range(2):
        page.wait_for_function(APP_IDLE_JS, timeout=timeout_ms, polling=100)
        page.wait_for_timeout(250)
    page.wait_for_function(APP_IDLE_JS, timeout=timeout_ms, polling=100)


def page_errors(page: Page) -> list[str]:
    """Texts of the exceptions the app shows, and of any traceback printed in the page."""
    errors: list[str] = []
    for selector in ERROR_SELECTORS:
        for element in page.locator(selector).all():
            message = element.inner_text().strip()
            if message not in errors:
                errors.append(message)
    body = page.locator("body").inner_text()
    if TRACEBACK_MARK in body and not any(TRACEBACK_MARK in error for error in errors):
        errors.append(body[body.index(TRACEBACK_MARK) :])
    return errors


def screenshot_path(name: str) -> Path:
    """Where a browser test saves a screenshot: artifacts/screenshots/NAME.png (gitignored)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"{name}.png"


def settle(page: Page) -> None:
    """Wait until a Streamlit page has finished drawing, charts and tables included (they
    draw after the script finishes, so wait, pause, and wait again)."""
    wait_for_streamlit(page, timeout_ms=90_000)
    time.sleep(1.0)
    wait_for_streamlit(page, timeout_ms=90_000)


@contextmanager
def demo_app(demo_db_path: Path) -> Iterator[str]:
    """The app served on the demo database file, as a base URL."""
    with serve_app(
        env={"USALAMA_DEMO_DB": str(demo_db_path), "REPORTING_DB_URL": ""}, show_error_details=None
    ) as base_url:
        yield base_url


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


_TABLES_JS = """() => [...document.querySelectorAll('.print-table table')].map((table) => ({
    headers: [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim()),
    rows: [...table.querySelectorAll('tbody tr')].map(
        (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())),
}))"""


def metric_cards(page: Page) -> dict[str, str]:
    """The headline cards on the page: label -> value, as drawn. Waits for them first: on a
    loaded machine a page reported idle may still be drawing its main area (a rerun after the
    login, or after a link's county was corrected to the user's own)."""
    page.locator('[data-testid="stMetric"]').first.wait_for(state="visible", timeout=60_000)
    wait_for_streamlit(page, timeout_ms=60_000)
    cards: dict[str, str] = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').first.text_content() or ""
        value = metric.locator('[data-testid="stMetricValue"]').first.text_content() or ""
        cards[label.strip()] = value.strip()
    return cards


def table_column(page: Page, headers: Sequence[str], column: str) -> list[str]:
    """One column of the first table whose columns start with `headers`, read from the table's
    HTML copy (the grid itself is drawn on a canvas), every row included."""
    for table in page.evaluate(_TABLES_JS):
        if table["headers"][: len(headers)] == list(headers) and column in table["headers"]:
            index = table["headers"].index(column)
            return [row[index] for row in table["rows"]]
    raise AssertionError(f"no table with columns {list(headers)}... and {column} on {page.url}")
