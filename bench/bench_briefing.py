"""Benchmark of the briefing: building the model, and each export, on a demo database; and the
two PDF renderers measured against each other (fpdf2, which the app uses, and Debian's Chromium
printing the slides' HTML).

Run `./dev bench`, or `python bench/bench_briefing.py [INCIDENTS]` (default 20,000, the tests'
demo size). Prints figures only; it asserts nothing. The Chromium line needs /usr/bin/chromium
(or USALAMA_CHROMIUM) and Playwright, which `requirements-dev.txt` installs.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

TODAY = dt.date(2026, 11, 28)
RUNS = 3


def _times(function: Callable[[], bytes]) -> tuple[float, float, int]:
    seconds, size = [], 0
    for _ in range(RUNS):
        began = time.perf_counter()
        size = len(function())
        seconds.append(time.perf_counter() - began)
    return min(seconds), max(seconds), size


def main(incidents: int) -> None:
    from dashboard.briefing.deck import pptx_bytes
    from dashboard.briefing.pdf import chromium_pdf_bytes, library_pdf_bytes
    from dashboard.briefing.workbook import xlsx_bytes
    from queries.briefing import build_briefing
    from queries.db import make_engine
    from queries.demo import build_demo
    from queries.filters import Filters

    with tempfile.TemporaryDirectory(prefix="bench-briefing-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite'}"
        build_demo(url, incidents=incidents, today=TODAY)
        engine = make_engine(url)
        as_of = TODAY - dt.timedelta(days=1)
        start = as_of - dt.timedelta(days=27)
        for name, counties in (("national", ()), ("two counties", ("002", "032"))):
            filters = Filters(start=start, end=as_of, preset="custom", counties=counties)
            began = time.perf_counter()
            model = build_briefing(engine, filters, 5)
            print(
                f"{incidents:,} incidents, {name}: {len(model.slides)} slides, "
                f"model {time.perf_counter() - began:.2f} s"
            )
            for label, function in (
                ("pptx", pptx_bytes),
                ("xlsx", xlsx_bytes),
                ("pdf fpdf2 (used)", library_pdf_bytes),
                ("pdf chromium", chromium_pdf_bytes),
            ):
                try:
                    low, high, size = _times(lambda f=function, m=model: f(m))
                except Exception as exc:  # no Chromium here: say so, measure the rest
                    print(f"  {label}: not measured ({type(exc).__name__}: {exc})")
                    continue
                print(f"  {label}: {low:.2f}-{high:.2f} s over {RUNS} runs, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
