"""The Residents' Associations queries on hand-made rows (both engines) and against pandas
recomputations over the demo database. Expected values are worked out by hand or with pandas
from the raw rows, never by calling the code under test."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from queries.associations import (
    forums_by_county,
    forums_by_month_and_type,
    months_overlapping,
    months_starting_in,
    ra_measures,
    ras_by_settlement_type,
    reporting_by_county_month,
)
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import headline
from queries.schema import FORUM_TYPES, SETTLEMENT_TYPES
from tests.query_support import demo_periods, in_counties, raw_table, same
from tests.rows import THREE_COUNTIES, insert_rows

D = dt.date
NAN = float("nan")
JUL_AUG = Filters(start=D(2025, 7, 1), end=D(2025, 8, 31), preset="custom")


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(
        writer,
        "wards",
        [
            dict(code="W1", county_code="001", name="Ward one"),
            dict(code="W2", county_code="001", name="Ward two"),
        ],
    )
    insert_rows(
        writer,
        "residents_associations",
        [
            dict(
                id=1,
                county_code="001",
                ward_code="W1",
                settlement_type="estate",
                registered_on=D(2025, 1, 1),
                status="active",
                members=100,
            ),
            dict(
                id=2,
                county_code="001",
                ward_code="W2",
                settlement_type="informal_settlement",
                registered_on=D(2025, 6, 1),
                status="dormant",
                members=50,
            ),
            # Registered on the last day but one of the period: registered, never active.
            dict(
                id=3,
                county_code="001",
                settlement_type="estate",
                registered_on=D(2025, 8, 30),
                status="active",
                members=70,
            ),
            dict(
                id=4,
                county_code="032",
                settlement_type="village",
                registered_on=D(2024, 1, 1),
                status="suspended",
                members=30,
            ),
            # A settlement type outside the contract: counted as 'other'.
            dict(
                id=5,
                county_code="032",
                settlement_type="slum",
                registered_on=D(2024, 5, 1),
                status="active",
                members=40,
            ),
            dict(
                id=6,
                county_code="032",
                settlement_type="gated_community",
                registered_on=D(2025, 2, 1),
                status="active",
                members=20,
            ),
            # Registered after the period: neither registered nor active in it.
            dict(
                id=7,
                county_code="047",
                settlement_type="mixed",
                registered_on=D(2025, 9, 2),
                status="active",
                members=10,
            ),
        ],
    )
    insert_rows(
        writer,
        "ra_monthly_reports",
        [
            dict(ra_id=1, month=D(2025, 7, 1), submitted_on=D(2025, 8, 10)),  # the 10th: on time
            dict(ra_id=2, month=D(2025, 7, 1), submitted_on=D(2025, 8, 11)),  # the 11th: late
            dict(ra_id=4, month=D(2025, 7, 1), submitted_on=D(2025, 8, 1)),  # suspended RA's row
            dict(ra_id=5, month=D(2025, 7, 1), submitted_on=None),  # missing
            dict(ra_id=6, month=D(2025, 7, 1), submitted_on=D(2025, 6, 30)),  # early: on time
            dict(ra_id=1, month=D(2025, 8, 1), submitted_on=D(2025, 9, 9)),
            dict(ra_id=2, month=D(2025, 8, 1), submitted_on=None),
            dict(ra_id=1, month=D(2025, 6, 1), submitted_on=D(2025, 7, 2)),  # month outside
            dict(ra_id=1, month=D(2025, 9, 1), submitted_on=D(2025, 10, 1)),  # month outside
            # December's deadline is 10 January of the next year.
            dict(ra_id=1, month=D(2025, 12, 1), submitted_on=D(2026, 1, 10)),
            dict(ra_id=2, month=D(2025, 12, 1), submitted_on=D(2026, 1, 11)),
        ],
    )
    insert_rows(
        writer,
        "forums",
        [
            dict(
                id=1,
                ra_id=1,
                county_code="001",
                ward_code="W1",
                held_on=D(2025, 7, 5),
                forum_type="ra_meeting",
                attendance=30,
                police_present=True,
                ngao_present=True,
            ),
            dict(
                id=2,
                county_code="001",
                held_on=D(2025, 7, 20),
                forum_type="security_baraza",
                attendance=50,
                police_present=True,
            ),  # police alone: not joint
            dict(
                id=3,
                ra_id=5,
                county_code="032",
                held_on=D(2025, 6, 30),
                attendance=99,
                police_present=True,
                ngao_present=True,
            ),  # before the period
            dict(
                id=4,
                ra_id=6,
                county_code="032",
                held_on=D(2025, 8, 31),
                forum_type="youth_forum",
                attendance=20,
                ngao_present=True,
                private_security_present=True,
            ),  # no police
            dict(
                id=5,
                ra_id=5,
                county_code="032",
                held_on=D(2025, 7, 12),
                forum_type="chiefs_baraza",
                attendance=10,
                police_present=True,
                private_security_present=True,
            ),  # unknown type -> other; joint
            dict(
                id=6,
                ra_id=4,
                county_code="032",
                held_on=D(2025, 8, 1),
                forum_type="faith_forum",
                attendance=5,
                police_present=True,
                ngao_present=True,
                private_security_present=True,
            ),  # joint; held by the suspended RA
            dict(
                id=7,
                ra_id=2,
                county_code="001",
                ward_code="W2",
                held_on=D(2025, 9, 1),
                attendance=40,
            ),  # after the period
        ],
    )
    writer.dispose()
    return make_engine(empty_db_url)


def test_month_helpers() -> None:
    assert months_starting_in(D(2025, 7, 2), D(2025, 7, 31)) == []
    assert months_starting_in(D(2025, 7, 1), D(2025, 7, 1)) == [D(2025, 7, 1)]
    assert months_starting_in(D(2025, 11, 15), D(2026, 2, 1)) == [
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert months_overlapping(D(2025, 11, 15), D(2026, 1, 3)) == [
        D(2025, 11, 1),
        D(2025, 12, 1),
        D(2026, 1, 1),
    ]


def test_reporting_grid_with_on_time_late_and_missing_reports(engine: Engine) -> None:
    frame = reporting_by_county_month(engine, JUL_AUG)
    got = {
        (row.county_code, row.month.date()): (
            row.expected_count,
            row.submitted_count,
            row.on_time_count,
            row.late_count,
            row.missing_count,
            row.reporting_rate_pct,
            row.on_time_rate_pct,
        )
        for row in frame.itertuples()
    }
    expected = {
        # RA1 on the 10th (on time), RA2 on the 11th (late).
        ("001", D(2025, 7, 1)): (2, 2, 1, 1, 0, 100.0, 50.0),
        ("001", D(2025, 8, 1)): (2, 1, 1, 0, 1, 50.0, 50.0),
        # RA4 (suspended, its row still expected), RA5 missing, RA6 early.
        ("032", D(2025, 7, 1)): (3, 2, 2, 0, 1, 200 / 3, 200 / 3),
        ("032", D(2025, 8, 1)): (0, 0, 0, 0, 0, NAN, NAN),  # nothing expected: blank
        ("047", D(2025, 7, 1)): (0, 0, 0, 0, 0, NAN, NAN),
        ("047", D(2025, 8, 1)): (0, 0, 0, 0, 0, NAN, NAN),
    }
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert got[key][:5] == values[:5], key
        assert same(got[key][5], values[5]) and same(got[key][6], values[6]), key
    assert list(frame["county_name"].unique()) == ["Mombasa", "Nairobi", "Nakuru"]


def test_reporting_cells_add_up_to_the_headline(engine: Engine) -> None:
    frame = reporting_by_county_month(engine, JUL_AUG)
    row = ra_measures(engine, JUL_AUG).iloc[0]
    assert frame["expected_count"].sum() == 7 and frame["submitted_count"].sum() == 5
    assert same(row["ra_reporting_rate"], 100 * 5 / 7)
    assert same(row["ra_on_time_rate"], 100 * frame["on_time_count"].sum() / 7)


def test_december_reports_are_due_on_10_january(engine: Engine) -> None:
    frame = reporting_by_county_month(
        engine, Filters(start=D(2025, 12, 1), end=D(2025, 12, 31), counties=("001",))
    )
    assert frame[["expected_count", "submitted_count", "on_time_count"]].values.tolist() == [
        [2, 2, 1]
    ]


def test_reporting_without_a_month_start_is_empty(engine: Engine) -> None:
    frame = reporting_by_county_month(engine, Filters(start=D(2025, 7, 2), end=D(2025, 7, 31)))
    assert frame.empty and "reporting_rate_pct" in frame.columns


def test_reporting_respects_wards_and_scope(engine: Engine) -> None:
    ward = Filters(start=JUL_AUG.start, end=JUL_AUG.end, counties=("001",), wards=("W1",))
    frame = reporting_by_county_month(engine, ward)
    assert frame[["expected_count", "submitted_count", "on_time_count"]].values.tolist() == [
        [1, 1, 1],
        [1, 1, 1],
    ]
    sneaky = Filters(start=JUL_AUG.start, end=JUL_AUG.end, counties=("001",), scope=("032",))
    assert set(reporting_by_county_month(engine, sneaky)["county_code"]) == {"032"}


def test_forums_by_month_and_type(engine: Engine) -> None:
    frame = forums_by_month_and_type(engine, JUL_AUG)
    assert list(frame["forum_type"].unique()) == [*FORUM_TYPES, "other"]
    assert len(frame) == 2 * 6 and not frame["is_partial"].any()
    nonzero = {
        (row.month.date(), row.forum_type): (row.forums_held, row.forum_attendance)
        for row in frame.itertuples()
        if row.forums_held
    }
    assert nonzero == {
        (D(2025, 7, 1), "ra_meeting"): (1, 30),
        (D(2025, 7, 1), "security_baraza"): (1, 50),
        (D(2025, 7, 1), "other"): (1, 10),
        (D(2025, 8, 1), "youth_forum"): (1, 20),
        (D(2025, 8, 1), "faith_forum"): (1, 5),
    }


def test_forums_by_month_marks_partial_months(engine: Engine) -> None:
    frame = forums_by_month_and_type(engine, Filters(start=D(2025, 7, 5), end=D(2025, 8, 10)))
    assert frame["is_partial"].all()
    assert frame.groupby(frame["month"].dt.month)["forums_held"].sum().to_dict() == {7: 3, 8: 1}
    # Without unknown types there is no 'other' bucket.
    clean = forums_by_month_and_type(engine, Filters(start=D(2025, 8, 1), end=D(2025, 8, 31)))
    assert list(clean["forum_type"]) == list(FORUM_TYPES)
    assert not clean["is_partial"].any()


def test_forums_by_county_with_presence_combinations(engine: Engine) -> None:
    frame = forums_by_county(engine, JUL_AUG).set_index("county_code")
    assert list(frame.index) == ["001", "047", "032"]  # ordered by name
    assert frame.loc[
        "001", ["forums_held", "forum_attendance", "joint_forums_count", "police_present_count"]
    ].tolist() == [2, 80, 1, 2]
    # 032: police+private (joint), all three (joint), NGAO+private without police (not joint).
    assert frame.loc[
        "032", ["forums_held", "forum_attendance", "joint_forums_count", "police_present_count"]
    ].tolist() == [3, 35, 2, 2]
    assert same(frame.loc["001", "joint_forum_pct"], 50.0)
    assert same(frame.loc["032", "joint_forum_pct"], 200 / 3)
    assert same(frame.loc["001", "attendance_per_forum"], 40.0)
    assert frame.loc["047", "forums_held"] == 0
    assert same(frame.loc["047", "joint_forum_pct"], NAN)
    assert same(frame.loc["047", "attendance_per_forum"], NAN)
    row = ra_measures(engine, JUL_AUG).iloc[0]
    assert frame["forums_held"].sum() == row["forums_held"] == 5
    assert frame["forum_attendance"].sum() == row["forum_attendance"] == 115
    assert same(row["joint_forum_pct"], 100 * frame["joint_forums_count"].sum() / 5)


def test_ras_by_settlement_type(engine: Engine) -> None:
    frame = ras_by_settlement_type(engine, JUL_AUG)
    assert list(frame["settlement_type"]) == [*SETTLEMENT_TYPES, "other", "no_ra"]
    got = frame.set_index("settlement_type")[
        ["ras_registered", "ras_active", "member_households", "forums_held"]
    ].T.to_dict("list")
    assert got == {
        "estate": [2, 1, 170, 1],  # RA1 active (forum 1), RA3 registered but silent
        "informal_settlement": [1, 1, 50, 0],  # RA2 active by its report of 11 Aug
        "gated_community": [1, 1, 20, 1],
        "village": [0, 0, 0, 1],  # RA4 is suspended; its forum still counts
        "mixed": [0, 0, 0, 0],  # RA7 registers after the period
        "other": [1, 1, 40, 1],  # 'slum'
        "no_ra": [0, 0, 0, 1],  # forum 2 has no RA
    }
    assert same(frame.set_index("settlement_type").loc["estate", "active_pct"], 50.0)
    assert same(frame.set_index("settlement_type").loc["mixed", "active_pct"], NAN)
    row = ra_measures(engine, JUL_AUG).iloc[0]
    assert frame["ras_registered"].sum() == row["ras_registered"] == 5
    assert frame["ras_active"].sum() == row["ras_active"] == 4
    assert frame["forums_held"].sum() == row["forums_held"]


def test_settlement_types_respect_the_county_choice(engine: Engine) -> None:
    nakuru = Filters(start=JUL_AUG.start, end=JUL_AUG.end, counties=("032",))
    frame = ras_by_settlement_type(engine, nakuru).set_index("settlement_type")
    assert frame["ras_registered"].sum() == 2 and frame["forums_held"].sum() == 3
    assert "no_ra" not in frame.index and frame.loc["other", "member_households"] == 40


# Pandas recomputations over the demo database.


@pytest.fixture(scope="module")
def demo(demo_db_path: Path) -> tuple[Engine, dict[str, pd.DataFrame]]:
    tables = {
        name: raw_table(demo_db_path, name)
        for name in ("counties", "residents_associations", "forums", "ra_monthly_reports")
    }
    with sqlite3.connect(demo_db_path) as connection:
        tables["latest_report"] = pd.read_sql(
            "SELECT max(reported_at) AS at FROM incidents", connection
        )
    return make_engine(f"sqlite:///{demo_db_path}"), tables


def _as_of(raw: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The contract's default as-of date: the EAT date of the latest report."""
    latest = pd.Timestamp(raw["latest_report"]["at"].iloc[0])
    return (latest + pd.Timedelta(hours=3)).normalize()


@pytest.mark.parametrize("period", range(4))
def test_reporting_matches_pandas_on_the_demo(demo, period: int) -> None:
    engine, raw = demo
    filters = demo_periods()[period]
    start, end = pd.Timestamp(filters.start), pd.Timestamp(filters.end)
    reports = raw["ra_monthly_reports"].merge(
        raw["residents_associations"][["id", "county_code"]], left_on="ra_id", right_on="id"
    )
    reports = reports[(reports["month"] >= start) & (reports["month"] <= end)]
    reports = reports[in_counties(reports, filters)]
    deadline = reports["month"] + pd.DateOffset(months=1) + pd.Timedelta(days=9)
    as_of = _as_of(raw)
    reports = reports.assign(
        submitted=reports["submitted_on"].notna() & (reports["submitted_on"] <= as_of),
        on_time=reports["submitted_on"].notna() & (reports["submitted_on"] <= deadline),
    )
    due_months = set(reports.loc[deadline <= as_of, "month"])
    want = reports.groupby(["county_code", "month"]).agg(
        expected_count=("ra_id", "size"),
        submitted_count=("submitted", "sum"),
        on_time_count=("on_time", "sum"),
    )
    frame = reporting_by_county_month(engine, filters)
    got = (
        frame[frame["expected_count"] > 0]
        .set_index(["county_code", "month"])[["expected_count", "submitted_count", "on_time_count"]]
        .sort_index()
    )
    pd.testing.assert_frame_equal(got, want.sort_index(), check_dtype=False, check_index_type=False)
    assert len(want) > 0
    # Every other cell of the grid is blank, and the grid covers every month x county.
    blank = frame[frame["expected_count"] == 0]
    assert blank["reporting_rate_pct"].isna().all() and blank["on_time_rate_pct"].isna().all()
    n_counties = len(filters.county_codes) if filters.county_codes else len(raw["counties"])
    assert len(frame) == n_counties * len(months_starting_in(filters.start, filters.end))
    cells = frame.set_index(["county_code", "month"]).loc[want.index]
    is_due = pd.Series(
        [month in due_months for _, month in want.index], index=want.index, dtype=bool
    )
    assert (cells["is_due"] == is_due).all()
    # A month not yet due is not missing: no rate, nothing counted missing.
    expected_rate = (100 * want["on_time_count"] / want["expected_count"]).where(is_due)
    np.testing.assert_allclose(cells["on_time_rate_pct"], expected_rate)
    assert (cells.loc[~is_due.to_numpy(), "missing_count"] == 0).all()


@pytest.mark.parametrize("period", range(4))
def test_forums_match_pandas_on_the_demo(demo, period: int) -> None:
    engine, raw = demo
    filters = demo_periods()[period]
    forums = raw["forums"]
    forums = forums[
        (forums["held_on"] >= pd.Timestamp(filters.start))
        & (forums["held_on"] <= pd.Timestamp(filters.end))
    ]
    forums = forums[in_counties(forums, filters)]
    forums = forums.assign(
        month=forums["held_on"].dt.to_period("M").dt.to_timestamp(),
        forum_type=forums["forum_type"].where(forums["forum_type"].isin(FORUM_TYPES), "other"),
        joint=(forums["police_present"] == 1)
        & ((forums["ngao_present"] == 1) | (forums["private_security_present"] == 1)),
    )
    monthly = forums_by_month_and_type(engine, filters)
    want = forums.groupby(["month", "forum_type"]).agg(
        forums_held=("id", "size"), forum_attendance=("attendance", "sum")
    )
    got = monthly[monthly["forums_held"] > 0].set_index(["month", "forum_type"])[
        ["forums_held", "forum_attendance"]
    ]
    pd.testing.assert_frame_equal(
        got.sort_index(), want.sort_index(), check_dtype=False, check_index_type=False
    )

    by_county = forums_by_county(engine, filters).set_index("county_code")
    want_county = forums.groupby("county_code").agg(
        held=("id", "size"), attendance=("attendance", "sum"), joint=("joint", "sum")
    )
    for code, row in want_county.iterrows():
        assert by_county.loc[code, "forums_held"] == row["held"]
        assert by_county.loc[code, "forum_attendance"] == row["attendance"]
        assert math.isclose(
            by_county.loc[code, "joint_forum_pct"], 100 * row["joint"] / row["held"]
        )
    assert by_county["forums_held"].sum() == len(forums)


@pytest.mark.parametrize("period", range(4))
def test_settlement_types_match_pandas_on_the_demo(demo, period: int) -> None:
    engine, raw = demo
    filters = demo_periods()[period]
    start, end = pd.Timestamp(filters.start), pd.Timestamp(filters.end)
    ras = raw["residents_associations"]
    ras = ras[(ras["registered_on"] <= end) & (ras["status"] != "suspended")]
    ras = ras[in_counties(ras, filters)]
    all_forums = raw["forums"]
    in_period = all_forums[(all_forums["held_on"] >= start) & (all_forums["held_on"] <= end)]
    reports = raw["ra_monthly_reports"]
    submitted = reports[(reports["submitted_on"] >= start) & (reports["submitted_on"] <= end)]
    active_ids = set(in_period["ra_id"].dropna().astype(int)) | set(submitted["ra_id"])
    ras = ras.assign(
        settlement_type=ras["settlement_type"].where(
            ras["settlement_type"].isin(SETTLEMENT_TYPES), "other"
        ),
        active=ras["id"].isin(active_ids),
    )
    want = ras.groupby("settlement_type").agg(
        ras_registered=("id", "size"),
        ras_active=("active", "sum"),
        member_households=("members", "sum"),
    )
    forums = in_period[in_counties(in_period, filters)].merge(
        raw["residents_associations"][["id", "settlement_type"]].rename(
            columns={"id": "ra_key", "settlement_type": "ra_type"}
        ),
        left_on="ra_id",
        right_on="ra_key",
        how="left",
    )
    forums_type = forums["ra_type"].where(forums["ra_type"].isin(SETTLEMENT_TYPES), "other")
    forums_type = forums_type.where(forums["ra_key"].notna(), "no_ra")
    want_forums = forums_type.value_counts()

    frame = ras_by_settlement_type(engine, filters).set_index("settlement_type")
    for code in want.index:
        assert (
            frame.loc[code, ["ras_registered", "ras_active", "member_households"]].tolist()
            == want.loc[code].tolist()
        ), code
    assert frame["ras_registered"].sum() == len(ras)
    for code, count in want_forums.items():
        assert frame.loc[code, "forums_held"] == count, code
    assert frame["forums_held"].sum() == len(forums)


def test_demo_breakdowns_add_up_to_the_headline(demo) -> None:
    engine, _ = demo
    filters = demo_periods()[1]
    table = headline(engine, filters, 5).set_index("indicator")["value"]
    settlement = ras_by_settlement_type(engine, filters)
    assert settlement["ras_registered"].sum() == table["ras_registered"]
    assert settlement["ras_active"].sum() == table["ras_active"]
    assert settlement["forums_held"].sum() == table["forums_held"]
    cells = reporting_by_county_month(engine, filters)
    due = cells[cells["is_due"]]  # the headline counts only months already due
    assert math.isclose(
        100 * due["submitted_count"].sum() / due["expected_count"].sum(),
        table["ra_reporting_rate"],
    )
    county = forums_by_county(engine, filters)
    assert county["forum_attendance"].sum() == table["forum_attendance"]
