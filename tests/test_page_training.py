"""The Training page driven through AppTest with several filter combinations: no exception,
cards equal to `queries.indicators.headline`, tables equal to the query layer's frames; and the
page's figure builders on those frames (Plotly is opaque to AppTest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import training as charts
from dashboard.pages import TRAINING
from dashboard.theme import CATEGORY_COLOURS
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import INDICATOR_BY_KEY
from queries.targets import target_achievement_by_county
from queries.training import (
    people_trained_by_audience,
    people_trained_by_topic,
    private_security_coverage_by_county,
)
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

page = page_fixture(TRAINING.view)


def _targets_shown(at: AppTest) -> pd.DataFrame:
    """The 'every target' table (the last one with an Indicator column)."""
    return [f.value for f in at.dataframe if "Indicator" in f.value.columns][-1]


def _expected_actual_text(targets: pd.DataFrame) -> list[str]:
    return [
        "<5" if hidden else f"{value:.2f}".rstrip("0").rstrip(".") if not pd.isna(value) else ""
        for value, hidden in zip(targets["actual"], targets["actual_suppressed"], strict=True)
    ]


@pytest.mark.parametrize("params", PAGE_PARAMS, ids=PAGE_IDS)
def test_page_shows_the_query_layer_numbers(page, demo_db_path: Path, params) -> None:
    at = page(params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Training"
    filters = filters_of(params)
    assert cards_shown(at) == expected_cards(demo_db_path, filters, TRAINING.cards)
    engine = make_engine(f"sqlite:///{demo_db_path}")

    for dimension, function in (
        ("audience", people_trained_by_audience),
        ("topic", people_trained_by_topic),
    ):
        frame = function(engine, filters)
        if frame["people_trained"].sum() == 0:
            assert any("No training sessions" in i.value for i in at.info)
            continue
        shown = table_with(at, dimension.capitalize())
        assert shown[dimension.capitalize()].tolist() == [charts.label(c) for c in frame[dimension]]
        assert shown["People trained"].tolist() == frame["people_trained"].tolist()
        assert shown["Sessions"].tolist() == frame["sessions_count"].tolist()
        assert_numbers(shown["Female %"], frame["female_pct"])
        assert_numbers(shown["Certified %"], frame["certified_pct"])

    coverage = private_security_coverage_by_county(engine, filters)
    shown = table_with(at, "Coverage %")
    assert shown["Code"].tolist() == coverage["county_code"].tolist()
    assert (
        shown["Officers trained since launch"].tolist()
        == coverage["officers_trained_count"].tolist()
    )
    assert (
        shown["Officers at partner firms"].tolist()
        == coverage["officers_registered_count"].tolist()
    )
    assert_numbers(shown["Coverage %"], coverage["coverage_pct"])

    every_target = target_achievement_by_county(engine, filters, threshold=5)
    if every_target.empty:
        assert any("No targets are set" in i.value for i in at.info)
        return
    # The page computes the chosen indicator's actuals only: people trained, by default.
    assert "people_trained" in set(every_target["indicator"])
    targets = every_target[every_target["indicator"] == "people_trained"]
    shown = _targets_shown(at)
    assert shown["Code"].tolist() == targets["county_code"].tolist()
    assert shown["Indicator"].tolist() == targets["indicator_label"].tolist()
    assert shown["Actual"].tolist() == _expected_actual_text(targets)
    assert_numbers(shown["Target"], targets["target"])
    # The chart's table holds the default indicator (people trained) over the target period
    # most counties share, then the one covering more of the selected days (as the briefing).
    chart_table = next(f.value for f in at.dataframe if "Indicator" in f.value.columns)
    periods = targets.groupby(["period_start", "period_end"]).size().reset_index(name="counties")
    periods["days"] = [
        (min(end, filters.end) - max(start, filters.start)).days
        for start, end in zip(periods["period_start"], periods["period_end"], strict=True)
    ]
    first = periods.sort_values(["counties", "days", "period_start"]).iloc[-1]["period_start"]
    chosen = targets[targets["period_start"] == first].sort_values("county_name", kind="stable")
    assert chart_table["Code"].tolist() == chosen["county_code"].tolist()
    assert chart_table["Actual"].tolist() == _expected_actual_text(chosen)
    assert any("over the target's own period" in c.value for c in at.caption)


def test_choosing_the_rehab_target_shows_the_privacy_rule(page, demo_db_path: Path) -> None:
    params = {"period": "since_launch"}
    at = page(params)
    at = at.selectbox(key="target_indicator").set_value("rehab_referrals").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Privacy rule" in c.value for c in at.caption)
    # FY 2025/26; on a day within it, or just after, the only target period: no choice shown.
    if any(box.key == "target_period" for box in at.selectbox):
        at = (
            at.selectbox(key="target_period")
            .set_value((dt.date(2025, 7, 1), dt.date(2026, 6, 30)))
            .run()
        )
    assert not at.exception
    engine = make_engine(f"sqlite:///{demo_db_path}")
    targets = target_achievement_by_county(engine, filters_of(params), threshold=5)
    chosen = targets[
        (targets["indicator"] == "rehab_referrals")
        & (targets["period_start"] == dt.date(2025, 7, 1))
    ]
    chart_table = next(f.value for f in at.dataframe if "Indicator" in f.value.columns)
    assert set(chart_table["Indicator"]) == {INDICATOR_BY_KEY["rehab_referrals"].label}
    assert sorted(chart_table["Actual"]) == sorted(_expected_actual_text(chosen))


def test_a_ward_selection_hides_coverage_with_a_note(page, demo_db_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(demo_db_path) as connection:
        ward = connection.execute(
            "SELECT ward_code FROM trainings WHERE county_code = '032' AND ward_code IS NOT NULL "
            "ORDER BY held_on DESC LIMIT 1"
        ).fetchone()[0]
    at = page({"county": "032", "ward": ward, "period": "since_launch"})
    assert not at.exception, [e.value for e in at.exception]
    assert any("registered per county, not per ward" in i.value for i in at.info)
    assert not any("Coverage %" in f.value.columns for f in at.dataframe)
    assert any("Targets are set per county" in c.value for c in at.caption)


# The figure builders, on the demo frames the page passes them.


@pytest.fixture(scope="module")
def frames(demo_db_path: Path) -> dict[str, pd.DataFrame]:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = Filters(start=dt.date(2025, 7, 1), end=dt.date(2026, 3, 31))
    return {
        "audience": people_trained_by_audience(engine, filters),
        "topic": people_trained_by_topic(engine, filters),
        "coverage": private_security_coverage_by_county(engine, filters),
        "targets": target_achievement_by_county(engine, filters, threshold=5),
    }


@pytest.mark.parametrize("dimension", ["audience", "topic"])
def test_trained_by_figure_keeps_category_colours(frames, dimension: str) -> None:
    frame = frames[dimension]
    fig = charts.trained_by_figure(frame, dimension, "period")
    bars = fig.data[0]
    ordered = frame.sort_values("people_trained", kind="stable")
    assert list(bars.x) == ordered["people_trained"].tolist()
    assert list(bars.y) == [charts.label(c) for c in ordered[dimension]]
    assert list(bars.marker.color) == [CATEGORY_COLOURS[dimension][c] for c in ordered[dimension]]
    assert fig.layout.title.text == f"People trained by {dimension}"


def test_coverage_figure_caps_outliers_but_labels_the_truth(frames) -> None:
    coverage = frames["coverage"].copy()
    coverage.loc[
        coverage.index[0], ["officers_trained_count", "officers_registered_count", "coverage_pct"]
    ] = [900, 100, 900.0]
    fig = charts.coverage_figure(coverage, dt.date(2026, 3, 31), 12.5)
    bars = fig.data[0]
    drawn = coverage[
        (coverage["officers_trained_count"] > 0)
        | (coverage["officers_registered_count"].fillna(0) > 0)
    ]
    assert len(bars.y) == len(drawn)
    assert max(bars.x) == charts.COVERAGE_AXIS_CAP
    assert any(text.startswith("900.0% (900 of 100)") for text in bars.text)
    assert fig.layout.shapes[0].x0 == 12.5
    no_firm = drawn["coverage_pct"].isna().sum()
    assert sum("no partner firm" in text for text in bars.text) == no_firm
    # The axis runs past the cap to fit the labels, but no tick may: the last says it cuts.
    axis = fig.layout.xaxis
    assert axis.range[1] > charts.COVERAGE_AXIS_CAP
    assert max(axis.tickvals) == charts.COVERAGE_AXIS_CAP
    assert axis.ticktext[-1] == "150%+"


def test_coverage_ticks_are_plain_when_no_bar_is_cut(frames) -> None:
    coverage = frames["coverage"].copy()
    coverage["coverage_pct"] = coverage["coverage_pct"].clip(upper=90.0)
    axis = charts.coverage_figure(coverage, dt.date(2026, 3, 31), 12.5).layout.xaxis
    assert axis.tickvals is None and axis.ticksuffix == "%"


def test_target_figure_and_caption(frames) -> None:
    targets = frames["targets"]
    start, end = charts.target_periods(targets, "people_trained")[0]
    assert (start, end) == (dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    rows = charts.target_rows(targets, "people_trained", start)
    fig = charts.target_figure(rows)
    bars = fig.data[0]
    np.testing.assert_allclose(sorted(bars.x), sorted(rows["achieved_pct"]))
    lines = sorted(shape.x0 for shape in fig.layout.shapes)
    elapsed = 100 * (dt.date(2026, 3, 31) - start).days / 365 + 100 / 365
    assert lines == pytest.approx([elapsed, 100.0])
    caption = charts.target_caption(rows, 5)
    assert "01 Jul 2025 to 31 Mar 2026" in caption and "FY 2025/26" in caption
    # A rate target draws no 'elapsed' line: a rate has no pace.
    rate = charts.target_rows(targets, "ra_reporting_rate", start)
    assert len(charts.target_figure(rate).layout.shapes) == 1
