"""`python -m queries.indicators`: every contract indicator for a selection, as JSON or CSV.

This is how analysts pull figures into other tools, so its output carries the same privacy rule
as the dashboard: a hidden count is "<5", a hidden percentage or median is "suppressed".
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from queries.access import AccessConfigError, access_config
from queries.db import (
    SECRETS_FILE,
    DataSourceError,
    check_contract,
    make_engine,
    read_frame,
    resolve_source,
)
from queries.filters import Filters
from queries.indicators import INDICATOR_BY_KEY, INDICATOR_KEYS, indicator_sql, indicators_frame
from queries.privacy import (
    SUPPRESSED_PCT,
    flag_column,
    small_column,
    suppressed_label,
    suppression_threshold,
)
from queries.reference import with_as_of
from queries.schema import counties

log = logging.getLogger(__name__)


class UsageError(ValueError):
    """A bad argument; the message names it."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (use YYYY-MM-DD)") from None


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that say what to compute for whom: --url, --from, --to, --county, --as-of
    and --as (shared with `python -m dashboard.briefing`)."""
    parser.add_argument(
        "--url",
        help="SQLAlchemy database URL (default: REPORTING_DB_URL, "
        "then .streamlit/secrets.toml, then the demo database)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=_date,
        required=True,
        help="first day of the period (EAT), YYYY-MM-DD",
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=_date,
        required=True,
        help="last day of the period (EAT), YYYY-MM-DD",
    )
    parser.add_argument(
        "--county",
        action="append",
        default=[],
        metavar="CODE",
        help="3-digit county code; repeat for several (default: all counties)",
    )
    parser.add_argument(
        "--as-of",
        dest="as_of",
        type=_date,
        help="the as-of date D, YYYY-MM-DD: nothing after it counts as known (default: the EAT "
        "date of the latest incident report)",
    )
    parser.add_argument(
        "--as",
        dest="identity",
        action="append",
        metavar="EMAIL",
        help="apply this user's access scope from [access] in .streamlit/secrets.toml "
        "(required when the deployment has login configured)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m queries.indicators",
        description="Print every contract indicator for a period and a set of counties.",
    )
    add_selection_arguments(parser)
    parser.add_argument("--by-county", action="store_true", help="one set of indicators per county")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument(
        "--sql",
        metavar="KEY",
        choices=INDICATOR_KEYS,
        help="print the SQL of one indicator for this database's engine instead of its value",
    )
    return parser


def _scope_for(identity: str | None, known: set[str], secrets_file: Path) -> tuple[str, ...] | None:
    """The county scope the command runs with: the identity's, from the deployment's access
    list; None (all counties) when no login is configured and no identity is given."""
    secrets: dict = {}
    if secrets_file.exists():
        try:
            secrets = tomllib.loads(secrets_file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{secrets_file} cannot be read: {exc}") from exc
    if identity is None:
        if "auth" in secrets:
            raise UsageError("this deployment has login configured: say who you are with --as")
        return None
    try:
        config = access_config(secrets.get("access"), known, secrets_file.parent)
    except AccessConfigError as exc:
        raise UsageError(str(exc)) from exc
    grant = config.grant_for(identity)
    if grant is None:
        raise UsageError(f"{identity} has no access to the dashboard's data")
    return grant.scope


def output_value(row: pd.Series, key: str, threshold: int) -> float | int | str | None:
    """A cell as the command prints it: a number, null, '<threshold' for a small count, or
    'suppressed' (a percentage or median, or a count hidden only to protect another cell)."""
    if bool(row.get(flag_column(key), False)):
        small = bool(row.get(small_column(key), True))
        is_count = INDICATOR_BY_KEY[key].kind == "count"
        return suppressed_label(threshold) if is_count and small else SUPPRESSED_PCT
    value = row.get(key)
    if value is None or pd.isna(value):
        return None
    if INDICATOR_BY_KEY[key].kind in ("count", "sum"):
        return int(value)
    return float(value)


def _row_dict(row: pd.Series, threshold: int) -> dict[str, float | int | str | None]:
    return {key: output_value(row, key, threshold) for key in INDICATOR_KEYS}


@dataclass(frozen=True)
class Selection:
    """What a command computes: the database, the filters (scope and as-of resolved), the
    privacy threshold, and whether the database is the synthetic demo."""

    engine: Engine
    filters: Filters
    threshold: int
    is_demo: bool


def selection_from_args(args: argparse.Namespace, comparison: str = "previous") -> Selection:
    """Check the arguments of `add_selection_arguments` and open the selection they name.

    Raises:
        UsageError: a bad argument (the message names it).
        DataSourceError: the database cannot be used.
    """
    identities = args.identity or []
    if len(identities) > 1:
        # The last of several would silently win: say which one is meant instead.
        raise UsageError("--as may be given once")
    args.identity = identities[0] if identities else None
    if args.start > args.end:
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    if args.as_of is not None and args.end > args.as_of:
        raise UsageError(
            f"--to {args.end} is after --as-of {args.as_of}: nothing after it is known"
        )
    source = None if args.url else resolve_source()
    url = args.url or source.url
    engine = make_engine(url)
    check_contract(engine)
    known = set(read_frame(engine, select(counties.c.code))["code"])
    unknown = [code for code in args.county if code not in known]
    if unknown:
        raise UsageError(f"unknown county code(s): {', '.join(unknown)}")
    scope = _scope_for(args.identity, known, SECRETS_FILE)
    outside = [code for code in args.county if scope is not None and code not in scope]
    if outside:
        raise UsageError(f"county code(s) outside {args.identity}'s access: {', '.join(outside)}")
    threshold = suppression_threshold()
    filters = with_as_of(
        engine,
        Filters(
            start=args.start,
            end=args.end,
            preset="custom",
            counties=tuple(args.county),
            scope=scope,
            as_of=args.as_of,
            comparison=comparison,
        ),
    )
    return Selection(engine, filters, threshold, bool(source and source.is_demo))


def run(argv: Sequence[str] | None = None) -> str:
    """Compute and render the output text.

    Raises:
        UsageError: a bad argument (the message names it).
        DataSourceError: the database cannot be used.
    """
    args = _parser().parse_args(argv)
    selection = selection_from_args(args)
    engine, filters, threshold = selection.engine, selection.filters, selection.threshold
    grain = "county" if args.by_county else None
    if args.sql:
        return indicator_sql(args.sql, engine.dialect, filters, grain) + ";"
    frame = indicators_frame(engine, filters, threshold, grain)
    chosen = list(filters.county_codes) if filters.county_codes else None

    if args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        head = (
            ["from", "to", "as_of", "county_code"] if grain else ["from", "to", "as_of", "counties"]
        )
        writer.writerow(head + list(INDICATOR_KEYS))
        for _, row in frame.iterrows():
            where = row["county_code"] if grain else ";".join(chosen or ["all"])
            values = _row_dict(row, threshold).values()
            writer.writerow(
                [
                    args.start,
                    args.end,
                    filters.as_of,
                    where,
                    *["" if v is None else v for v in values],
                ]
            )
        return buffer.getvalue()

    document: dict[str, object] = {
        "from": args.start.isoformat(),
        "to": args.end.isoformat(),
        "as_of": filters.as_of.isoformat(),
        "counties": chosen,
    }
    if grain:
        document["by_county"] = {
            row["county_code"]: _row_dict(row, threshold) for _, row in frame.iterrows()
        }
    else:
        document["indicators"] = _row_dict(frame.iloc[0], threshold)
    return json.dumps(document, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: print the indicators, or one line naming the problem and exit non-zero."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        print(run(argv).rstrip("\n"))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DataSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
