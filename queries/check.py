"""`python -m queries.check --url URL`: does a reporting database follow the data contract?

For the ministry's data team, before the dashboard is pointed at a database (or after a load).
It reads only, and reports, over whole tables: missing tables and columns and wrong types,
rows that break a rule (the data-quality page's checks: unknown county or ward codes, incidents
resolved before they were reported, referral dates going backwards, coordinates outside
Kenya...), duplicate keys, event dates in the future or before 2020, values outside the
contract's lists with their counts, NULLs in required columns, and, on SQLite, timestamps
spelled more than one way. Every finding comes from `queries.quality`, the same functions the
data-quality page shows. Counts are exact: whoever runs this holds the database credentials.

Exit status: 0 when the database conforms, 1 when it does not, 2 on a usage or connection error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from queries import quality
from queries.db import (
    DataSourceError,
    make_engine,
    missing_columns,
    missing_tables,
    read_frame,
    resolve_source,
    wrong_types,
)
from queries.filters import EAT_OFFSET, Filters

CONTRACT = "data contract v1.1 (docs/data-contract.md)"
# Nullable columns: counted for information, never a breach.
FOR_INFORMATION = frozenset({"Incident without coordinates"})


@dataclass(frozen=True)
class Finding:
    """One line of the report: what is wrong, where, and how many rows."""

    section: str
    what: str
    where: str
    rows: int | None = None


def structure_findings(engine: Engine) -> list[Finding]:
    """Missing tables, missing columns and wrong types."""
    found = [Finding("Structure", "table or view missing", name) for name in missing_tables(engine)]
    found += [
        Finding("Structure", "column missing", f"{table}.{column}")
        for table, column in missing_columns(engine)
    ]
    found += [
        Finding("Structure", f"type should be {expected}, is {stored}", f"{table}.{column}")
        for table, column, expected, stored in wrong_types(engine)
    ]
    return found


def _raw(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["row_count"] > 0]


def row_findings(engine: Engine, today: dt.date) -> tuple[list[Finding], list[Finding]]:
    """Rule breaches over whole tables, and the figures reported for information only.

    The selects are the data-quality page's, run without its privacy rounding (the data team
    needs exact counts to find the rows).
    """
    everything = Filters(start=dt.date(2020, 1, 1), end=today, preset="custom")
    breaches: list[Finding] = []
    info: list[Finding] = []
    checks = read_frame(engine, quality.quality_checks_select(everything, whole_tables=True))
    for row in _raw(checks).itertuples():
        target = info if row.check in FOR_INFORMATION else breaches
        target.append(Finding("Rows that break a rule", row.check, row.table_name, row.row_count))
    tables = read_frame(engine, quality.table_checks_select(everything, today))
    for row in _raw(tables).itertuples():
        what = row.check if row.check.startswith("Duplicate") else f"date {row.check}"
        breaches.append(Finding("Keys and dates", what, row.table_name, row.row_count))
    unknown = read_frame(engine, quality.unknown_values_select(everything, whole_tables=True))
    for row in unknown.itertuples():
        breaches.append(
            Finding(
                "Values outside the contract's lists",
                f"value {row.value!r}",
                f"{row.table_name}.{row.column_name}",
                row.row_count,
            )
        )
    nulls = read_frame(engine, quality.required_nulls_select(everything))
    for row in _raw(nulls).itertuples():
        breaches.append(
            Finding(
                "Empty required columns",
                "NULL",
                f"{row.table_name}.{row.column_name}",
                row.row_count,
            )
        )
    spellings = quality.mixed_spellings(engine, everything)
    for row in spellings.itertuples():
        breaches.append(
            Finding(
                "Timestamp spellings (SQLite stores them as text)",
                f"written as {row.spelling}",
                f"{row.table_name}.{row.column_name}",
                row.row_count,
            )
        )
    return breaches, info


def _rows(count: int) -> str:
    return f"{count:>10,} row{'' if count == 1 else 's'}"


def _display_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def report(url: str, engine: Engine, now: dt.datetime) -> tuple[str, bool]:
    """The report's text and whether the database conforms."""
    today = (now + EAT_OFFSET).date()
    lines = [
        f"Contract check of {_display_url(url)}",
        f"against the {CONTRACT}, {now:%Y-%m-%d %H:%M} UTC. Nothing was changed.",
        "",
    ]
    structure = structure_findings(engine)
    breaches: list[Finding] = []
    info: list[Finding] = []
    if structure:
        lines.append("The row checks were not run: the tables do not have the contract's shape.")
        lines.append("")
    else:
        breaches, info = row_findings(engine, today)
    findings = structure + breaches
    section = None
    for finding in findings:
        if finding.section != section:
            section = finding.section
            lines += ([""] if lines[-1] else []) + [f"{section}:"]
        count = "" if finding.rows is None else _rows(finding.rows)
        lines.append(f"  {finding.where:<40} {finding.what:<48}{count}".rstrip())
    if info:
        lines += ["", "For information (allowed by the contract):"]
        for finding in info:
            lines.append(f"  {finding.where:<40} {finding.what:<48}{_rows(finding.rows or 0)}")
    lines.append("")
    if findings:
        lines.append(
            f"Result: does NOT conform: {len(findings)} finding"
            f"{'s' if len(findings) != 1 else ''}. Fix them where the data are written; the "
            "dashboard shows the same findings on its Data quality page."
        )
    else:
        lines.append("Result: conforms to the data contract.")
    return "\n".join(line.rstrip() for line in lines), not findings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m queries.check",
        description="Check that a reporting database follows the Usalama Mitaani data contract. "
        "Exit 0: conforms; 1: does not; 2: usage or connection error.",
    )
    parser.add_argument(
        "--url", help="SQLAlchemy URL of the database (default: resolved as for the app)"
    )
    return parser


def main(argv: Sequence[str] | None = None, now: dt.datetime | None = None) -> int:
    """Print the report; the exit status says whether the database conforms.

    Args:
        argv: the command-line arguments.
        now: the current UTC time (naive), for "in the future"; the wall clock by default.
    """
    args = _parser().parse_args(argv)  # exits 2 on a usage error
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    url = args.url or resolve_source().url
    try:
        engine = make_engine(url)
        text, conforms = report(url, engine, now)
    except DataSourceError as exc:
        print(f"error: cannot check {_display_url(url)}: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0 if conforms else 1


if __name__ == "__main__":
    sys.exit(main())
