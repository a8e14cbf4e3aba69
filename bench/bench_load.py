"""Drives 20 logged-in sessions at once against one served app and prints page-ready times.

The app runs on a demo database with OIDC login through a local provider (tests/oidc_support.py);
each session is a Chromium page in its own browser context, logged in as its own user (national,
county coordinators, an administrator) with its own filters, opening pages in turn. Every page is
checked: no error shown, the session's own user in the sidebar, the headline cards equal to the
query layer's for that session's selection, no county outside its selection in any table
(tests/load_support.py). Exits 1 if any page failed a check.

    ./dev bench load [--sessions 20] [--pages-each 3] [--incidents 200000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queries.demo import build_demo  # noqa: E402
from queries.filters import today_eat  # noqa: E402
from tests.load_support import (  # noqa: E402
    access_users,
    expected,
    percentile,
    provider_users,
    run_load,
    sessions,
)
from tests.oidc_support import app_with_login  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="sessions at once (20)")
    parser.add_argument("--pages-each", type=int, default=3, help="pages each session opens (3)")
    parser.add_argument(
        "--incidents", type=int, default=200_000, help="demo size in incidents (200,000)"
    )
    args = parser.parse_args(argv)

    load = sessions(args.sessions, args.pages_each)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        build_demo(f"sqlite:///{db}", incidents=args.incidents, today=today_eat())
        want = expected(db, load)
        with app_with_login(db, Path(tmp), provider_users(load), access_users(load)) as base:
            started = time.perf_counter()
            visits = run_load(base, load, want)
            wall = time.perf_counter() - started

    seconds = [v.seconds for v in visits]
    by_page: dict[str, list[float]] = defaultdict(list)
    for visit in visits:
        by_page[visit.page.title].append(visit.seconds)
    roles = sorted({s.role for s in load})
    print(
        f"{len(load)} sessions at once ({', '.join(roles)}), {len(visits)} page loads, "
        f"{args.incidents:,} incidents; wall time {wall:.1f} s (logins included)"
    )
    print(f"{'page':<26}{'loads':>6}{'p50 s':>8}{'p95 s':>8}{'max s':>8}")
    for title, times in [*sorted(by_page.items()), ("all pages", seconds)]:
        print(
            f"{title:<26}{len(times):>6}{percentile(times, 0.5):>8.2f}"
            f"{percentile(times, 0.95):>8.2f}{percentile(times, 1.0):>8.2f}"
        )
    failed = [v for v in visits if v.problems]
    for visit in failed:
        print(f"FAILED {visit.session.email} {visit.session.path(visit.page)}: {visit.problems}")
    print(f"{len(visits) - len(failed)} of {len(visits)} pages passed every check")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
