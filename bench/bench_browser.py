"""Prints how long each page takes to be ready in headless Chromium, served for real on the
default demo database (200,000 incidents): first load (cold caches) and a reload (cached)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from queries.demo import build_demo  # noqa: E402
from queries.filters import today_eat  # noqa: E402
from tests.browser_support import launch_chromium, serve_app, wait_for_streamlit  # noqa: E402

PAGES = {
    "Overview": "/",
    "Incidents": "/incidents",
    "Residents' Associations": "/associations",
    "Training": "/training",
    "Rehabilitation": "/rehabilitation",
    "County profile": "/county?county=032",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        build_demo(f"sqlite:///{db}", incidents=200_000, today=today_eat())
        env = {"USALAMA_DEMO_DB": str(db), "REPORTING_DB_URL": ""}
        with serve_app(env=env, show_error_details=None) as base, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            print(f"{'page':<26}{'first load s':>14}{'reload s':>10}")
            for name, path in PAGES.items():
                timings = []
                for _ in range(2):
                    started = time.perf_counter()
                    page.goto(base + path)
                    wait_for_streamlit(page, timeout_ms=120_000)
                    timings.append(time.perf_counter() - started)
                print(f"{name:<26}{timings[0]:>14.2f}{timings[1]:>10.2f}")
            browser.close()


if __name__ == "__main__":
    main()
