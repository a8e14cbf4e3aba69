"""Timestamps and dates in any ISO spelling give the figures of the canonical form.

SQLite keeps TIMESTAMP and DATE columns as text, and writers differ: '2026-11-30T20:05:33' (a
common default), with 'Z', with fractional seconds, a DATE with a time part, or several of these in
one column. `queries.dialect.normalised` reads every such column through datetime()/date() on
SQLite; these tests rewrite the stored text of hand-made rows (and of the demo database) into
those spellings and require exactly the same counts, shares and medians.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Date, DateTime, Engine, text
from sqlalchemy.dialects import postgresql

from queries import associations, incidents, quality, rehab, targets, training, trends
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import indicators_frame
from queries.reference import county_list, data_as_of
from queries.schema import metadata
from queries.where import period_where
from tests import test_indicators_handmade as handmade
from tests.clock import TEST_AS_OF
from tests.query_support import demo_periods, same
from tests.rows import THREE_COUNTIES, insert_rows
from tests.test_indicators_handmade import EXPECTED_BY_COUNTY, EXPECTED_TOTAL, PERIOD

T = dt.datetime
D = dt.date

# SQL rewriting a canonical value `{c}` ('YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD') into each spelling.
_TIMESTAMP_FORMS = {
    "T": "replace({c}, ' ', 'T')",
    "Z": "replace({c}, ' ', 'T') || 'Z'",
    "fraction": "{c} || '.250'",
    "T-fraction-Z": "replace({c}, ' ', 'T') || '.999999Z'",
}
_DATE_FORMS = {
    "T": "{c} || 'T00:00:00'",
    "Z": "{c} || 'T00:00:00Z'",
    "fraction": "{c} || ' 00:00:00.000'",
    "T-fraction-Z": "{c} || ' 00:00:00'",
}
FORMS = [*_TIMESTAMP_FORMS, "mixed"]


def _spelled(forms: dict[str, str], form: str, column: str) -> str:
    if form != "mixed":
        return forms[form].format(c=column)
    cases = " ".join(
        f"WHEN {i} THEN {sql.format(c=column)}" for i, sql in enumerate(forms.values())
    )
    # rowid % 5 == 4 keeps the canonical form: a column mixing all five spellings.
    return f"CASE rowid % 5 {cases} ELSE {column} END"


def rewrite_sqlite(path: Path, form: str) -> int:
    """Rewrite every TIMESTAMP and DATE value of the SQLite database at `path` into `form`;
    returns how many values changed."""
    changed = 0
    with sqlite3.connect(path) as connection:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, DateTime):
                    forms = _TIMESTAMP_FORMS
                elif isinstance(column.type, Date):
                    forms = _DATE_FORMS
                else:
                    continue
                name = f'"{column.name}"'
                before = connection.total_changes
                connection.execute(
                    f"UPDATE {table.name} SET {name} = {_spelled(forms, form, name)} "
                    f"WHERE {name} IS NOT NULL AND {name} <> {_spelled(forms, form, name)}"
                )
                changed += connection.total_changes - before
    return changed


# The hand-made rows of tests/test_indicators_handmade.py, on the SQLite `empty_db_url` below.
engine = handmade.engine


@pytest.fixture
def empty_db_url(tmp_path: Path) -> str:
    """SQLite only here: PostgreSQL stores real timestamps, so the spelling is SQLite's problem."""
    url = f"sqlite:///{tmp_path / 'contract.sqlite'}"
    writer = make_engine(url, read_only=False)
    metadata.create_all(writer)
    writer.dispose()
    return url


def _check(frame: pd.DataFrame, expected: dict[str, float]) -> None:
    wrong = {k: (frame[k].iloc[0], v) for k, v in expected.items() if not same(frame[k].iloc[0], v)}
    assert wrong == {}


@pytest.mark.parametrize("form", FORMS)
def test_every_indicator_is_the_same_in_any_spelling(engine: Engine, form: str) -> None:
    path = Path(engine.url.database.removeprefix("file:").split("?")[0])
    assert rewrite_sqlite(path, form) > 30
    engine.dispose()
    _check(indicators_frame(engine, PERIOD, threshold=5), EXPECTED_TOTAL)
    by_county = indicators_frame(engine, PERIOD, threshold=5, grain="county")
    for code, expected in EXPECTED_BY_COUNTY.items():
        _check(by_county[by_county["county_code"] == code].reset_index(drop=True), expected)
    # The latest report is 2025-07-31 21:00:00 UTC, written in whatever spelling.
    assert data_as_of(engine) == T(2025, 8, 1, 0, 0, 0)


# The EAT-midnight edge on both engines, with the values written as text by the test itself.
_EDGE_ROWS = [
    # (id, reported_at as written, acknowledged_at as written); EAT day in the comment
    (1, "2026-11-30T20:59:59", "2026-11-30T22:59:59"),  # 30 November, acknowledged in 2 h
    (2, "2026-11-30T21:00:00Z", "2026-12-01T01:00:00Z"),  # 1 December, 4 h
    (3, "2026-11-30 20:59:59.750", "2026-11-30 21:59:59.750"),  # 30 November, 1 h
    (4, "2026-11-30 21:00:00", "2026-12-01T00:00:00.000Z"),  # 1 December, 3 h
    (5, "2026-12-01T20:59:59.999999Z", None),  # 1 December, not acknowledged
]


def _insert_edge_rows(url: str) -> Engine:
    writer = make_engine(url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)

    def quoted(value: str | None) -> str:
        return "NULL" if value is None else f"'{value}'"  # test constants, written as literals

    with writer.begin() as connection:
        for row_id, reported, acknowledged in _EDGE_ROWS:
            connection.execute(
                text(
                    "INSERT INTO incidents (id, reported_at, county_code, category, channel, "
                    f"severity, status, acknowledged_at) VALUES ({row_id}, {quoted(reported)}, "
                    f"'047', 'theft', 'hatua_app', 'low', 'acknowledged', {quoted(acknowledged)})"
                )
            )
    writer.dispose()
    return make_engine(url)


def test_eat_midnight_edges_on_text_written_by_another_writer(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for url in (
        f"sqlite:///{tmp_path / 'edges.sqlite'}",
        request.getfixturevalue("make_pg_database")(),
    ):
        writer = make_engine(url, read_only=False)
        metadata.create_all(writer)
        writer.dispose()
        reader = _insert_edge_rows(url)
        november = Filters(D(2026, 11, 1), D(2026, 11, 30), as_of=D(2026, 12, 1))
        december = replace(november, start=D(2026, 12, 1), end=D(2026, 12, 1))
        nov = incidents.incident_measures(reader, november)
        dec = incidents.incident_measures(reader, december)
        assert (nov["incidents_reported"].iloc[0], dec["incidents_reported"].iloc[0]) == (2, 3), url
        assert same(nov["median_hours_to_acknowledge"].iloc[0], 1.5), url
        assert same(dec["median_hours_to_acknowledge"].iloc[0], 3.5), url
        assert data_as_of(reader).replace(microsecond=0) == T(2026, 12, 1, 23, 59, 59), url
        reader.dispose()


def test_postgresql_sql_is_unchanged() -> None:
    """The normalisation is SQLite's alone: on PostgreSQL each column is compared as it is (the
    condition stays index-friendly)."""
    pg = postgresql.dialect()
    for statement in (
        incidents.incident_measures_select("postgresql", PERIOD),
        associations.ra_measures_select("postgresql", PERIOD),
        rehab.rehab_measures_select("postgresql", PERIOD),
    ):
        sql = str(statement.compile(dialect=pg, compile_kwargs={"literal_binds": True}))
        assert "datetime(" not in sql and "normalised" not in sql and "date(" not in sql
    where = period_where(incidents.incidents.c.reported_at, PERIOD)
    sql = str(where[0].compile(dialect=pg, compile_kwargs={"literal_binds": True}))
    assert sql == "incidents.reported_at >= '2025-06-30 21:00:00'"


def _query_functions() -> list:
    plain = [
        incidents.compstat_by_county,
        incidents.incident_increase_by_ward,
        incidents.incident_measures,
        incidents.incidents_by_category,
        incidents.incidents_by_channel,
        incidents.incidents_by_ward,
        incidents.incidents_by_week_and_category,
        incidents.open_incidents_by_age,
        incidents.response_hours_by_county,
        associations.forums_by_county,
        associations.forums_by_month_and_type,
        associations.ra_measures,
        associations.ras_by_settlement_type,
        associations.reporting_by_county_month,
        training.people_trained_by_audience,
        training.people_trained_by_topic,
        training.private_security_coverage_by_county,
        training.training_measures,
    ]
    with_threshold = [
        rehab.centres_by_kind,
        rehab.current_admissions_by_county,
        rehab.median_days_by_county,
        rehab.referrals_by_age_band,
        rehab.referrals_by_month,
        rehab.referrals_by_sex,
        rehab.referrals_by_source,
        rehab.referrals_by_stage,
        rehab.referrals_by_substance,
        rehab.rehab_measures,
        trends.streams_by_week,
        quality.quality_checks,
        quality.unknown_values,
        targets.target_achievement_by_county,
    ]
    return [(f, {}) for f in plain] + [(f, {"threshold": 5}) for f in with_threshold]


def test_every_query_on_the_demo_is_the_same_with_mixed_spellings(
    demo_db_path: Path, tmp_path: Path
) -> None:
    mixed_path = tmp_path / "mixed.sqlite"
    shutil.copy(demo_db_path, mixed_path)
    assert rewrite_sqlite(mixed_path, "mixed") > 10_000
    canonical, mixed = (
        make_engine(f"sqlite:///{demo_db_path}"),
        make_engine(f"sqlite:///{mixed_path}"),
    )
    assert data_as_of(mixed) == data_as_of(canonical)
    pd.testing.assert_frame_equal(county_list(mixed), county_list(canonical))
    periods = demo_periods()
    for filters in (periods[0], periods[2]):
        filters = replace(filters, as_of=TEST_AS_OF)
        for grain in (None, "county"):
            pd.testing.assert_frame_equal(
                indicators_frame(mixed, filters, 5, grain),
                indicators_frame(canonical, filters, 5, grain),
            )
        for function, kwargs in _query_functions():
            pd.testing.assert_frame_equal(
                function(mixed, filters, **kwargs),
                function(canonical, filters, **kwargs),
                obj=function.__qualname__,
            )
