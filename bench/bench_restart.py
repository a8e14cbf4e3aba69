"""How a restarted server serves the views users looked at before the restart (issue 9).

Three fresh processes, one after another, on the SQLite demo of the chosen size and its
serving copy (`.bench/demo-<size>.sqlite`, `.bench/serving-sqlite-<size>.duckdb`, built by
`bench_scale.py --serving on`; pages read the copy, so the source engine does not matter here):

1. `before`: a user opens each view below once (each a cache miss: the cold figure), and the
   app keeps the list of views beside the copy, as every warm-up does.
2. `restart`: a new process. A first user opens the Glossary (the server's first page), looks
   at it for `--wait` seconds, and then the views are opened again: timed.
3. `restart, nothing kept`: the same, with the kept views removed first (the app before this
   change).

Prints a table; asserts nothing.

    python bench/bench_restart.py --size 10m --wait 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_scale  # noqa: E402

# (label, page URL path, URL parameters): what an official and a county coordinator open.
VIEWS = (
    ("Overview, last 28 days", "overview", {}),
    ("Overview, this financial year", "overview", {"period": "this_fy"}),
    ("Incidents, last 28 days", "incidents", {}),
    ("Incidents, Nakuru, this financial year", "incidents", {"county": "032", "period": "this_fy"}),
    ("County profile, Nakuru", "county", {"county": "032"}),
    ("Briefing, this financial year", "briefing", {"period": "this_fy"}),
)


def _child(phase: str, url: str, wait: float) -> dict:
    """In a fresh process: the phase's steps; returns seconds per view."""
    os.environ["REPORTING_DB_URL"] = url
    from dashboard import data

    cases = {case.url_path: case for case in bench_scale.page_cases()}
    opened: dict[str, float] = {}
    if phase != "before":
        at = bench_scale._app_test(cases["glossary"])
        at.run()
        time.sleep(wait)  # the first user reads the glossary; the server may prepare meanwhile
    for label, path, params in VIEWS:
        at = bench_scale._app_test(cases[path], params)
        began = time.perf_counter()
        at.run()
        opened[label] = time.perf_counter() - began
        problems = bench_scale._problems(at)
        if problems:
            opened[label + " ERROR"] = problems
    if phase == "before":
        data.warm(url, budget_seconds=0)  # what every warm-up does first: keep the views
    copy = data.serving_copy(url)
    if copy is not None:
        copy.stop()
    return opened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1m", choices=sorted(bench_scale.SIZES))
    parser.add_argument("--wait", type=float, default=30.0, help="seconds on the first page")
    parser.add_argument(
        "--child", nargs=3, metavar=("PHASE", "URL", "WAIT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        phase, url, wait = args.child
        print("RESULT " + json.dumps(_child(phase, url, float(wait))))
        return 0

    incidents = bench_scale.SIZES[args.size]
    source = bench_scale.sqlite_path(incidents)
    copy = bench_scale.BENCH_DIR / f"serving-sqlite-{args.size}.duckdb"
    if not source.exists() or not copy.exists():
        print(
            f"build them first: python bench/bench_scale.py --sizes {args.size} "
            "--engines sqlite --serving on"
        )
        return 1
    kept = copy.with_name(copy.name + ".views.json")
    url = f"sqlite:///{source}"
    env = {
        **bench_scale._child_env(),
        bench_scale.SERVING_ENV_VAR: str(copy),
        bench_scale.SERVING_REFRESH_ENV_VAR: str(24 * 3600),  # no refresh beside the timings
        "USALAMA_RAISE_PAGE_ERRORS": "1",
    }
    results = {}
    for phase in ("before", "restart", "restart, nothing kept"):
        if phase != "restart":
            kept.unlink(missing_ok=True)
        completed = subprocess.run(
            [sys.executable, __file__, "--child", phase, url, str(args.wait)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        if completed.returncode or not lines:
            print(f"{phase}: failed\n{completed.stderr[-2000:]}")
            return 1
        results[phase] = json.loads(lines[-1].removeprefix("RESULT "))
    kept.unlink(missing_ok=True)
    phases = list(results)
    print(
        f"\n{args.size} incidents, SQLite source with its serving copy; "
        f"{args.wait:g} s on the first page after the restart; seconds to open each view:"
    )
    print("| view | " + " | ".join(phases) + " |")
    print("| --- | " + " | ".join("---" for _ in phases) + " |")
    for label, _, _ in VIEWS:
        cells = [results[p].get(label) for p in phases]
        print(
            f"| {label} | "
            + " | ".join(f"{c:.2f}" if isinstance(c, float) else "-" for c in cells)
            + " |"
        )
    for phase in phases:
        for key, value in results[phase].items():
            if key.endswith("ERROR"):
                print(f"{phase}: {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
