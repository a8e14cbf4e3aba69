"""Benchmark of the demo seeder: build time, file size and peak memory per incident count (SQLite).

Run `./dev bench`, or `python bench/bench_demo.py [N ...]` (default: 200,000 and 1,000,000
incidents). Each size is built in its own child process, so its peak memory is its own.
Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (200_000, 1_000_000)
# A fixed snapshot day keeps runs comparable from one day to the next.
TODAY = dt.date(2026, 11, 28)


def build_one(incidents: int) -> dict[str, float]:
    """Build one demo database in a temporary folder and measure it (runs in the child)."""
    from queries.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        path = Path(folder) / "demo.sqlite"
        began = time.perf_counter()
        counts = build_demo(f"sqlite:///{path}", incidents=incidents, today=TODAY)
        seconds = time.perf_counter() - began
        size = path.stat().st_size
    # ru_maxrss is in kilobytes on Linux.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "incidents": counts["incidents"],
        "rows": sum(counts.values()),
        "seconds": seconds,
        "file_mb": size / 2**20,
        "peak_rss_mb": peak_kb / 1024,
    }


def run_child(incidents: int) -> dict[str, float]:
    """Measure one size in a fresh interpreter, with the project importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    output = subprocess.run(
        [sys.executable, __file__, "--one", str(incidents)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(build_one(int(argv[1]))))
        return
    sizes = [int(arg.replace("_", "").replace(",", "")) for arg in argv] or list(DEFAULT_SIZES)
    print(f"{'incidents':>12} {'all rows':>12} {'seconds':>9} {'file MB':>9} {'peak RSS MB':>12}")
    for incidents in sizes:
        result = run_child(incidents)
        print(
            f"{result['incidents']:>12,} {result['rows']:>12,} {result['seconds']:>9.1f} "
            f"{result['file_mb']:>9.0f} {result['peak_rss_mb']:>12.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
