"""The Residents' Associations page driven through AppTest with several filter combinations:
no exception, cards equal to `queries.indicators.headline`, tables equal to the query layer's
frames; and the page's figure builders on those frames (Plotly is opaque to AppTest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import formatting
from dashboard.charts import associations as charts
from queries.associations import (
    forums_by_county,
    forums_by_month_and_type,
    months_starting_in,
    ras_by_settlement_type,
    reporting_by_county_month,
)
from queries.db import make_engine
from queries.filters import Filters, preset_period
from queries.indicators import INDICATOR_BY_KEY, headline, today_eat

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGE = "views/associations.py"
KEYS = [
    "ras_registered",
    "ras_active",
    "ra_reporting_rate",
    "ra_on_time_rate",
    "forums_held",
    "forum_attendance",
    "joint_forum_pct",
]
PARAMS = [
    {},
    {"county": "032"},
    {"county": "001,032,047", "compare": "last_year", "period": "last_month"},
    {"period": "custom", "from": "2025-07-01", "to": "2025-09-30"},
    {"period": "this_fy", "county": "047"},
    {"period": "since_launch", "compare": "last_year"},
]
IDS = ["all-28d", "nakuru", "three-last-month-last-year", "custom-q1", "nairobi-fy", "since-launch"]


def open_page(
    db: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, str], path: str
) -> AppTest:
    """Run the app on the demo database with these URL parameters, then switch to a page.

    The caches are cleared first: st.cache_data is shared by every AppTest in the process.
    """
    import streamlit as st

    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    monkeypatch.setenv("USALAMA_DEMO_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page(path).run()


@pytest.fixture
def page(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    return lambda params: open_page(demo_db_path, monkeypatch, params, PAGE)


def filters_of(params: dict[str, str]) -> Filters:
    """The Filters the app builds from these URL parameters (national demo user)."""
    preset = params.get("period", "last_28_days")
    if preset == "custom":
        start, end = dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])
    else:
        start, end = preset_period(preset, today_eat())
    return Filters(
        start=start,
        end=end,
        preset=preset,
        comparison=params.get("compare", "previous"),
        counties=tuple(c for c in params.get("county", "").split(",") if c),
    )


def expected_cards(db: Path, filters: Filters, keys: list[str]) -> dict[str, str]:
    table = headline(make_engine(f"sqlite:///{db}"), filters, 5).set_index("indicator")
    return {
        INDICATOR_BY_KEY[k].label: formatting.indicator_value(
            INDICATOR_BY_KEY[k], table.loc[k, "value"], bool(table.loc[k, "suppressed"]), 5
        )
        for k in keys
    }


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first st.dataframe on the page that has this column."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a '{column}' column")


def assert_numbers(shown: pd.Series, expected: pd.Series) -> None:
    np.testing.assert_allclose(
        pd.to_numeric(shown, errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(expected, errors="coerce").to_numpy(dtype=float),
        rtol=0,
        atol=0.051,
        equal_nan=True,  # tables show percentages to one decimal
    )


@pytest.mark.parametrize("params", PARAMS, ids=IDS)
def test_page_shows_the_query_layer_numbers(page, demo_db_path: Path, params) -> None:
    at = page(params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Residents' Associations"
    filters = filters_of(params)
    assert {m.label: m.value for m in at.metric} == expected_cards(demo_db_path, filters, KEYS)
    engine = make_engine(f"sqlite:///{demo_db_path}")

    settlement = ras_by_settlement_type(engine, filters)
    shown = table_with(at, "Settlement type")
    assert shown["Settlement type"].tolist() == [
        charts.label(c) for c in settlement["settlement_type"]
    ]
    for column, source in (
        ("Registered RAs", "ras_registered"),
        ("Active RAs", "ras_active"),
        ("Member households", "member_households"),
        ("Forums held", "forums_held"),
    ):
        assert shown[column].tolist() == settlement[source].tolist(), column

    monthly = forums_by_month_and_type(engine, filters)
    shown = table_with(at, "Forum type")
    assert shown["Forums held"].tolist() == monthly["forums_held"].tolist()
    assert shown["Attendance"].tolist() == monthly["forum_attendance"].tolist()

    by_county = forums_by_county(engine, filters)
    if by_county["forums_held"].sum():
        shown = table_with(at, "Joint forums %")
        assert shown["Code"].tolist() == by_county["county_code"].tolist()
        assert shown["Forums held"].tolist() == by_county["forums_held"].tolist()
        assert_numbers(shown["Joint forums %"], by_county["joint_forum_pct"])

    cells = reporting_by_county_month(engine, filters)
    if cells["expected_count"].sum():
        shown = table_with(at, "Reporting rate %")
        drawn = charts.drawn_cells(cells)
        assert shown["Code"].tolist() == drawn["county_code"].tolist()
        assert shown["Expected"].tolist() == drawn["expected_count"].tolist()
        assert shown["On time"].tolist() == drawn["on_time_count"].tolist()
        assert_numbers(shown["Reporting rate %"], drawn["reporting_rate_pct"])
        assert_numbers(shown["On-time rate %"], drawn["on_time_rate_pct"])
    else:
        assert not any("Reporting rate %" in f.value.columns for f in at.dataframe)
        assert any(
            "Reporting rates are counted per month" in i.value
            or "No monthly reports were expected" in i.value
            for i in at.info
        )


def test_switching_to_the_on_time_rate_keeps_the_page_whole(page) -> None:
    at = page({"period": "custom", "from": "2025-07-01", "to": "2025-09-30"})
    control = at.button_group(key="ra_rate_measure")
    at = control.set_value("on_time_rate_pct").run()
    assert not at.exception
    assert at.button_group(key="ra_rate_measure").value == "on_time_rate_pct"


def test_a_period_without_a_month_start_explains_itself(page) -> None:
    params = {"period": "custom", "from": "2025-07-02", "to": "2025-07-31"}
    assert months_starting_in(dt.date(2025, 7, 2), dt.date(2025, 7, 31)) == []
    at = page(params)
    assert not at.exception
    assert any("no month starts in the selected period" in i.value for i in at.info)


# The figure builders, on the demo frames the page passes them.


@pytest.fixture(scope="module")
def frames(demo_db_path: Path) -> dict[str, pd.DataFrame]:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = Filters(start=dt.date(2025, 7, 1), end=dt.date(2025, 9, 15))
    return {
        "cells": reporting_by_county_month(engine, filters),
        "monthly": forums_by_month_and_type(engine, filters),
        "county": forums_by_county(engine, filters),
        "settlement": ras_by_settlement_type(engine, filters),
    }


def test_heatmap_blank_cells_and_undrawn_rows(frames) -> None:
    cells = frames["cells"]
    fig = charts.reporting_heatmap(cells, "reporting_rate_pct", "period")
    trace = fig.data[0]
    drawn = charts.drawn_cells(cells)
    assert list(trace.y) == sorted(drawn["county_name"].unique(), reverse=True)
    assert list(trace.x) == ["Jul 2025", "Aug 2025", "Sep 2025"]
    z = np.array(trace.z, dtype=float)
    grid = drawn.pivot(index="county_name", columns="month", values="reporting_rate_pct")
    np.testing.assert_array_equal(z, grid.loc[list(trace.y)].to_numpy())
    # Cells with nothing expected stay blank (NaN), never 0.
    nothing = drawn["expected_count"] == 0
    assert drawn.loc[nothing, "reporting_rate_pct"].isna().all()
    assert np.isnan(z).sum() == int(nothing.sum())
    assert (trace.zmin, trace.zmax) == (0, 100)
    on_time = charts.reporting_heatmap(cells, "on_time_rate_pct", "period")
    assert "on-time" in on_time.layout.title.text
    undrawn = cells["county_code"].nunique() - drawn["county_code"].nunique()
    assert (str(undrawn) in charts.undrawn_note(cells)) == bool(undrawn)


def test_forum_figures(frames) -> None:
    monthly = frames["monthly"]
    fig = charts.forums_by_month_figure(monthly, "period")
    assert fig.layout.barmode == "stack"
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["RA meeting", "Security baraza"]
    assert sum(sum(trace.y) for trace in fig.data) == monthly["forums_held"].sum()
    assert list(fig.data[0].x)[-1] == "Sep 2025 (partial)"
    colours = {trace.name: trace.marker.color for trace in fig.data}
    assert colours["RA meeting"] == charts.theme.colours_for("forum_type")["ra_meeting"]

    county = frames["county"]
    joint = charts.joint_forums_figure(county, "period")
    bars = joint.data[0]
    with_forums = county[county["forums_held"] > 0]
    assert len(bars.y) == len(with_forums)
    assert list(bars.x) == sorted(with_forums["joint_forum_pct"])
    overall = 100 * county["joint_forums_count"].sum() / county["forums_held"].sum()
    assert joint.layout.shapes[0].x0 == pytest.approx(overall)
    attendance = charts.attendance_figure(county, "period")
    assert sum(attendance.data[0].x) == county["forum_attendance"].sum()


def test_settlement_figure(frames) -> None:
    settlement = frames["settlement"]
    fig = charts.settlement_figure(settlement, "period")
    assert len(fig.data) == 4
    assert list(fig.data[0].x) == settlement["ras_registered"].tolist()
    assert list(fig.data[2].x) == settlement["member_households"].tolist()
    assert "No RA linked" in list(fig.data[3].y)
