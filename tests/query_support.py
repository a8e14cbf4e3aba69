"""Shared helpers of the query tests: comparing a computed number with a hand-worked one, and
reading the demo database's raw rows for the pandas recomputations.

A helper module, not a test file: pytest collects nothing here.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import pandas as pd

from queries.filters import PROGRAMME_LAUNCH, Filters, financial_year_start
from tests.clock import TEST_AS_OF

# Date columns of the contract tables that `raw_table` parses.
DATE_COLUMNS = (
    "held_on",
    "partnered_on",
    "period_start",
    "period_end",
    "month",
    "submitted_on",
    "registered_on",
)


def same(actual: object, expected: float, tol: float = 1e-9) -> bool:
    """Whether a query's value equals the expected number to within `tol` (relative and
    absolute); an expected NaN means the value must be null or NaN."""
    if isinstance(expected, float) and math.isnan(expected):
        return actual is None or pd.isna(actual)
    return (
        actual is not None
        and not pd.isna(actual)
        and math.isclose(float(actual), expected, rel_tol=tol, abs_tol=tol)
    )


def raw_table(path: Path, table: str) -> pd.DataFrame:
    """Every row of a table of the SQLite database at `path`, read with sqlite3 and pandas only,
    with the DATE_COLUMNS it has parsed as datetimes."""
    with sqlite3.connect(path) as connection:
        frame = pd.read_sql_query(f"SELECT * FROM {table}", connection)
    for column in DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def demo_periods() -> list[Filters]:
    """The selections the pandas recomputations run on the demo database: the last 90 days,
    since launch, the financial year to date in three counties (from the year before's start
    in a year's first two months, so that the period holds a month already due on any day),
    and FY 2025/26 in Nakuru."""
    today = TEST_AS_OF
    year_start = financial_year_start(today - dt.timedelta(days=62))
    return [
        Filters(start=today - dt.timedelta(days=89), end=today),
        Filters(start=PROGRAMME_LAUNCH, end=today, preset="since_launch"),
        Filters(start=year_start, end=today, counties=("001", "032", "047")),
        Filters(start=dt.date(2025, 7, 1), end=dt.date(2026, 6, 30), counties=("032",)),
    ]


def in_counties(frame: pd.DataFrame, filters: Filters) -> pd.Series:
    """A mask of the rows of `frame` in the chosen counties (every row when none is chosen)."""
    codes = filters.county_codes
    return frame["county_code"].isin(codes) if codes else pd.Series(True, index=frame.index)
