"""The command line, `python -m queries.demo --url URL [--seed] [--incidents] [--today]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from sqlalchemy.exc import SQLAlchemyError

from queries.db import DataSourceError
from queries.demo.build import (
    DEFAULT_INCIDENTS,
    DEFAULT_SEED,
    DemoBuildError,
    build_demo,
    first_line,
)

# The first line of the package docstring, as `--help` has always shown it.
DESCRIPTION = (
    "The one deterministic seeder: creates the contract schema and fills it with synthetic data."
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m queries.demo", description=DESCRIPTION)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to (re)build")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    parser.add_argument(
        "--incidents",
        type=int,
        default=DEFAULT_INCIDENTS,
        help="incidents to generate (default 200000)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="snapshot day YYYY-MM-DD (default: today in EAT)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse_args(argv)
    began = time.perf_counter()

    def show(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {time.perf_counter() - began:6.1f}s {message}", flush=True)

    try:
        counts = build_demo(args.url, args.seed, args.incidents, args.today, show)
    except (ValueError, DataSourceError) as exc:
        print(f"python -m queries.demo: error: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, DemoBuildError) as exc:
        print(f"python -m queries.demo: error: {first_line(exc)}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - began
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"{name:<{width}} {rows:>12,}")
    print(f"{'total':<{width}} {sum(counts.values()):>12,} rows in {seconds:.1f} s")
    return 0
