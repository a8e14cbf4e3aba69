"""The Residents' Associations page driven through AppTest with several filter combinations:
no exception, cards equal to `queries.indicators.headline`, tables equal to the query layer's
frames; and the page's figure builders on those frames (Plotly is opaque to AppTest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.charts import associations as charts
from dashboard.pages import ASSOCIATIONS
from queries.associations import (
    forums_by_county,
    forums_by_month_and_type,
    months_starting_in,
    ras_by_settlement_type,
    reporting_by_county_month,
)
from queries.db import make_engine
from queries.filters import Filters
from tests.app_support import (
    PAGE_IDS,
    PAGE_PARAMS,
    assert_numbers,
    cards_shown,
    expected_cards,
    filters_of,
    page_fixture,
    table_with,
)
from tests.clock import TEST_AS_OF

page = page_fixture(ASSOCIATIONS.view)


@pytest.mark.parametrize("params", PAGE_PARAMS, ids=PAGE_IDS)
def test_page_shows_the_query_layer_numbers(page, demo_db_path: Path, params) -> None:
    at = page(params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Residents' Associations"
    filters = filters_of(params)
    assert cards_shown(at) == expected_cards(demo_db_path, filters, ASSOCIATIONS.cards)
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
            "Reporting rates by county are counted per month" in i.value
            or "No monthly reports were due yet" in i.value
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
    info = next(i.value for i in at.info if "no month starts in the selected period" in i.value)
    # The cards show the latest month due instead, and the note says which: as of D, the month
    # before D's if its reports were due by the 10th of D's month, else the one before that.
    back = 1 if TEST_AS_OF.day >= 10 else 2
    month = (TEST_AS_OF.year * 12 + TEST_AS_OF.month - 1 - back) % 12 + 1
    year = (TEST_AS_OF.year * 12 + TEST_AS_OF.month - 1 - back) // 12
    assert f"The cards above show {dt.date(year, month, 1):%B %Y}, the latest month due" in info


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
    assert list(trace.x) == ["Jul<br>2025", "Aug<br>2025", "Sep<br>2025"]
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


def test_a_phone_names_at_most_six_months_each_with_its_year_when_it_changes() -> None:
    """Since launch (Jun 2025 - Dec 2026, 19 months) a phone names every fourth month, upright,
    the year under the first and under the first month of each new year; the tick values are
    the chart's own month labels, a starred month starred on the phone too."""
    months = list(pd.date_range("2025-06-01", "2026-12-01", freq="MS"))
    starred = [False] * 18 + [True]
    axis = charts.months_on_a_phone(months, starred)["xaxis"]
    assert axis["ticktext"] == ["Jun<br>2025", "Oct", "Feb<br>2026", "Jun", "Oct"]
    assert axis["tickvals"] == [
        "Jun<br>2025",
        "Oct<br>2025",
        "Feb<br>2026",
        "Jun<br>2026",
        "Oct<br>2026",
    ]
    assert axis["tickangle"] == 0
    few = charts.months_on_a_phone(months[:3], [False, False, True])["xaxis"]
    assert few["ticktext"] == ["Jun<br>2025", "Jul", "Aug<br>*"]
    bare = charts.months_on_a_phone(months[5:8], [False] * 3, with_years=False)["xaxis"]
    assert bare["ticktext"] == ["Nov", "Dec", "Jan"]
    assert bare["tickvals"] == ["Nov<br>2025", "Dec<br>2025", "Jan<br>2026"]


def test_forum_figures(frames) -> None:
    monthly = frames["monthly"]
    fig = charts.forums_by_month_figure(monthly, "period")
    assert fig.layout.barmode == "stack"
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["RA meeting", "Security baraza"]
    assert sum(sum(trace.y) for trace in fig.data) == monthly["forums_held"].sum()
    assert list(fig.data[0].x)[-1] == "Sep<br>2025*"
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
    no_ra = list(fig.data[3].y).index("No RA linked")
    assert [trace.text[no_ra] for trace in fig.data[:3]] == ["n/a"] * 3
    assert fig.data[3].text[no_ra] == f"{settlement['forums_held'].iloc[no_ra]:,}"
