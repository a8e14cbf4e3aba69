"""Prints how long each page takes to draw (cold cache and cached) on the default demo database,
and how long the headline queries take on SQLite at 200k and 1M incidents."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard.pages import visible_pages  # noqa: E402
from queries.db import make_engine  # noqa: E402
from queries.demo import build_demo  # noqa: E402
from queries.filters import (  # noqa: E402
    Filters,
    preset_period,
    today_eat,
)
from queries.indicators import county_league, headline  # noqa: E402
from queries.trends import streams_by_week  # noqa: E402

PAGES = [page.view for page in visible_pages(sees_data_quality=False)]


def time_pages(db: Path) -> None:
    import logging

    import streamlit as st

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ["USALAMA_DEMO_DB"] = str(db)
    os.environ.pop("REPORTING_DB_URL", None)
    print(f"{'page':<28}{'cold s':>10}{'cached s':>10}")
    for page in PAGES:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
        if page.endswith("county_profile.py"):
            at.query_params["county"] = "032"
        if page != PAGES[0]:
            at.run()
            at.switch_page(page)
            st.cache_data.clear()
        started = time.perf_counter()
        at.run()
        cold = time.perf_counter() - started
        started = time.perf_counter()
        at.run()
        warm = time.perf_counter() - started
        status = "error" if at.exception or at.error else ""
        print(f"{page:<28}{cold:>10.2f}{warm:>10.2f} {status}")


def time_queries(db: Path, label: str) -> None:
    engine = make_engine(f"sqlite:///{db}")
    today = today_eat()
    for preset in ("last_28_days", "this_fy", "since_launch"):
        start, end = preset_period(preset, today)
        filters = Filters(start=start, end=end, preset=preset)
        for function in (headline, county_league, streams_by_week):
            started = time.perf_counter()
            function(engine, filters, 5)
            print(
                f"{label:<10}{preset:<16}{function.__name__:<18}"
                f"{time.perf_counter() - started:>8.2f} s"
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for incidents in (200_000, 1_000_000):
            db = Path(tmp) / f"demo-{incidents}.sqlite"
            build_demo(f"sqlite:///{db}", incidents=incidents, today=today_eat())
            if incidents == 200_000:
                print("Page draw times through AppTest, default demo (200k incidents):")
                time_pages(db)
            print(f"Query times, SQLite, {incidents:,} incidents:")
            time_queries(db, f"{incidents // 1000}k")


if __name__ == "__main__":
    main()
