"""Filters -> SQL conditions, as a table of cases (Datasette tests its filter parsing this way).

Each case compiles the conditions `queries.where` builds for a Filters on both dialects and
compares them, with the bound values written in, to the SQL a reader would write by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import and_
from sqlalchemy.dialects import postgresql, sqlite

from queries import where
from queries.filters import Filters
from queries.schema import forums, incidents, ra_monthly_reports, targets

D = dt.date
NOV = Filters(start=D(2026, 11, 1), end=D(2026, 11, 28))


# On SQLite a stored TIMESTAMP or DATE column is text that writers spell differently ('T', 'Z',
# fractions, a date with a time part): each comparison is an index-friendly prefilter on the
# stored text's day, then the exact test on datetime()/date() of it. PostgreSQL compares the
# column as it is (the expectations in CASES).
SQLITE_CASES = {
    "timestamp period: UTC bounds of the EAT days, half open": (
        "(incidents.reported_at >= date('2026-10-31 21:00:00', '-1 day') "
        "AND datetime(incidents.reported_at) >= '2026-10-31 21:00:00') "
        "AND (incidents.reported_at < date('2026-11-28 21:00:00', '+2 days') "
        "AND datetime(incidents.reported_at) < '2026-11-28 21:00:00')"
    ),
    "date period: inclusive dates": (
        "(forums.held_on >= '2026-11-01' AND date(forums.held_on) >= '2026-11-01') "
        "AND (forums.held_on < date('2026-11-28', '+1 day') "
        "AND date(forums.held_on) <= '2026-11-28')"
    ),
    "timestamp on or before the end: before the next EAT midnight": (
        "(incidents.reported_at < date('2026-11-28 21:00:00', '+2 days') "
        "AND datetime(incidents.reported_at) < '2026-11-28 21:00:00')"
    ),
    "date on or before the end": (
        "(ra_monthly_reports.month < date('2026-11-28', '+1 day') "
        "AND date(ra_monthly_reports.month) <= '2026-11-28')"
    ),
    "one EAT day starts at 21:00 UTC the day before": (
        "(incidents.reported_at >= date('2025-06-30 21:00:00', '-1 day') "
        "AND datetime(incidents.reported_at) >= '2025-06-30 21:00:00') "
        "AND (incidents.reported_at < date('2025-07-01 21:00:00', '+2 days') "
        "AND datetime(incidents.reported_at) < '2025-07-01 21:00:00')"
    ),
    "a row's own period overlaps the selection": (
        "(targets.period_start < date('2026-11-28', '+1 day') "
        "AND date(targets.period_start) <= '2026-11-28') "
        "AND (targets.period_end >= '2026-11-01' AND date(targets.period_end) >= '2026-11-01')"
    ),
}


def _sql(conditions: list, dialect) -> str:
    if not conditions:
        return "(no condition)"
    clause = and_(*conditions)
    return str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


CASES = [
    pytest.param(
        where.period_where(incidents.c.reported_at, NOV),
        "incidents.reported_at >= '2026-10-31 21:00:00' "
        "AND incidents.reported_at < '2026-11-28 21:00:00'",
        id="timestamp period: UTC bounds of the EAT days, half open",
    ),
    pytest.param(
        where.period_where(forums.c.held_on, NOV),
        "forums.held_on >= '2026-11-01' AND forums.held_on <= '2026-11-28'",
        id="date period: inclusive dates",
    ),
    pytest.param(
        where.until_end_where(incidents.c.reported_at, NOV),
        "incidents.reported_at < '2026-11-28 21:00:00'",
        id="timestamp on or before the end: before the next EAT midnight",
    ),
    pytest.param(
        where.until_end_where(ra_monthly_reports.c.month, NOV),
        "ra_monthly_reports.month <= '2026-11-28'",
        id="date on or before the end",
    ),
    pytest.param(
        where.between_where(incidents.c.reported_at, D(2025, 7, 1), D(2025, 7, 1)),
        "incidents.reported_at >= '2025-06-30 21:00:00' "
        "AND incidents.reported_at < '2025-07-01 21:00:00'",
        id="one EAT day starts at 21:00 UTC the day before",
    ),
    pytest.param(
        where.county_where(incidents.c.county_code, NOV), "(no condition)", id="no county: all"
    ),
    pytest.param(
        where.county_where(
            incidents.c.county_code, Filters(NOV.start, NOV.end, counties=("047", "032"))
        ),
        "incidents.county_code IN ('032', '047')",
        id="chosen counties, sorted",
    ),
    pytest.param(
        where.county_where(incidents.c.county_code, Filters(NOV.start, NOV.end, scope=("001",))),
        "incidents.county_code IN ('001')",
        id="no choice within a scope: the scope",
    ),
    pytest.param(
        where.county_where(
            incidents.c.county_code,
            Filters(NOV.start, NOV.end, counties=("047",), scope=("001", "002")),
        ),
        "incidents.county_code IN ('001', '002')",
        id="a choice outside the scope never widens it",
    ),
    pytest.param(
        where.overlaps_where(targets.c.period_start, targets.c.period_end, NOV),
        "targets.period_start <= '2026-11-28' AND targets.period_end >= '2026-11-01'",
        id="a row's own period overlaps the selection",
    ),
    pytest.param(
        where.area_where(
            incidents, Filters(NOV.start, NOV.end, counties=("032",), wards=("0160",))
        ),
        "incidents.county_code IN ('032') AND incidents.ward_code IN ('0160')",
        id="county and ward",
    ),
]


@pytest.mark.parametrize(
    ("conditions", "expected", "sqlite_expected"),
    [pytest.param(*case.values, SQLITE_CASES.get(case.id), id=case.id) for case in CASES],
)
@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_filters_become_these_conditions(
    conditions: list, expected: str, sqlite_expected: str | None, dialect
) -> None:
    if dialect.name == "sqlite" and sqlite_expected is not None:
        expected = sqlite_expected
    assert _sql(conditions, dialect).replace("\n", " ") == expected


def test_values_reach_sql_only_as_bound_parameters() -> None:
    hostile = Filters(NOV.start, NOV.end, counties=("047'; DROP TABLE incidents; --",))
    compiled = and_(*where.area_where(incidents, hostile)).compile(dialect=postgresql.dialect())
    assert "DROP" not in str(compiled)
    assert "047'; DROP TABLE incidents; --" in [
        value for values in compiled.params.values() for value in values
    ]
