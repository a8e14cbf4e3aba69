"""The Rehabilitation page driven through AppTest with several filter combinations: no exception,
cards and tables equal to the query layer's for the same filters, and no referral count from 1
to 4 on screen; and the page's figure builders on those frames (Plotly is opaque to AppTest)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import rehab as charts
from dashboard.pages import REHABILITATION
from queries import rehab
from queries.db import make_engine
from queries.filters import Filters, preset_period
from queries.indicators import rehab_headline
from tests.app_support import (
    PAGE_IDS,
    PAGE_PARAMS,
    THRESHOLD,
    cards_shown,
    expected_cards,
    filters_of,
    page_fixture,
)
from tests.clock import TEST_AS_OF

# The shared combinations, and a week of two small counties.
PARAMS = [*PAGE_PARAMS, {"period": "last_7_days", "county": "014,031"}]
IDS = [*PAGE_IDS, "small-counties-week"]
BREAKDOWNS = {
    "source": rehab.referrals_by_source,
    "substance": rehab.referrals_by_substance,
    "sex": rehab.referrals_by_sex,
    "age_band": rehab.referrals_by_age_band,
}
COUNT_COLUMNS = ("Referrals", "In treatment now")


# At the default privacy threshold.
page = page_fixture(REHABILITATION.view, default_threshold=True)


def rehab_cards(db: Path, filters: Filters) -> dict[str, str]:
    """The page's cards, from `queries.indicators.rehab_headline`."""
    return expected_cards(db, filters, REHABILITATION.cards, source=rehab_headline)


def expected_tables(engine, filters: Filters) -> list[pd.DataFrame]:
    """The page's tables, in page order, built from the query layer's frames."""
    t = THRESHOLD
    tables = []
    total = rehab_headline(engine, filters, t).set_index("indicator")
    if total.loc["rehab_referrals", "value"] != 0:
        for dimension, function in BREAKDOWNS.items():
            tables.append(charts.category_table(function(engine, filters, t), dimension, t))
        months = rehab.referrals_by_month(engine, filters, t)
        if len(months) >= 3:
            tables.append(charts.month_table(months, t))
        tables.append(charts.funnel_table(rehab.referrals_by_stage(engine, filters, t), t))
        tables.append(charts.median_days_table(rehab.median_days_by_county(engine, filters, t), t))
    kinds = rehab.centres_by_kind(engine, filters, t)
    if kinds["centres"].sum() > 0:
        tables.append(charts.centres_table(kinds))
    admissions = rehab.current_admissions_by_county(engine, filters, t)
    if len(admissions):
        tables.append(charts.capacity_table(admissions, t))
    return tables


def _text(frame: pd.DataFrame) -> list[list[str]]:
    """A table's cells as text, whatever dtypes the Arrow round trip gave them."""
    return [[str(v) for v in row] for row in frame.reset_index(drop=True).itertuples(index=False)]


def assert_no_small_count_on_screen(at: AppTest) -> None:
    for metric in at.metric:
        assert not re.fullmatch(r"[1-4]", metric.value.strip()), (metric.label, metric.value)
    for table in at.dataframe:
        frame = table.value
        for column in COUNT_COLUMNS:
            if column in frame.columns:
                for value in frame[column]:
                    assert not re.fullmatch(r"[1-4](\.0)?", str(value).strip()), (column, value)


@pytest.mark.parametrize("params", PARAMS, ids=IDS)
def test_page_shows_the_query_layer_numbers(page, demo_db_path, params) -> None:
    at = page(params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Rehabilitation referrals"
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = filters_of(params)
    assert cards_shown(at) == rehab_cards(demo_db_path, filters)
    expected = expected_tables(engine, filters)
    shown = [f.value for f in at.dataframe]
    assert len(shown) == len(expected)
    for got, want in zip(shown, expected, strict=True):
        assert list(got.columns) == list(want.columns)
        assert _text(got) == _text(want)
    assert any("Privacy rule" in c.value for c in at.caption)
    assert_no_small_count_on_screen(at)


def test_a_county_with_wards(page, demo_db_path: Path) -> None:
    start, _ = preset_period("last_90_days", TEST_AS_OF)
    with sqlite3.connect(demo_db_path) as connection:
        wards = [
            code
            for (code,) in connection.execute(
                "SELECT ward_code FROM rehab_referrals WHERE county_code = '047' AND "
                "ward_code IS NOT NULL AND referred_on >= ? GROUP BY ward_code "
                "ORDER BY count(*) DESC, ward_code LIMIT 2",
                (start.isoformat(),),
            )
        ]
    params = {"county": "047", "ward": ",".join(wards), "period": "last_90_days"}
    at = page(params)
    assert not at.exception, [e.value for e in at.exception]
    assert any("(2 wards)" in m.value for m in at.markdown)
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = filters_of(params)
    assert filters.wards == tuple(sorted(wards))
    assert cards_shown(at) == rehab_cards(demo_db_path, filters)
    shown = [f.value for f in at.dataframe]
    assert [_text(f) for f in shown] == [_text(f) for f in expected_tables(engine, filters)]
    assert_no_small_count_on_screen(at)


def test_no_referrals_says_so(page, demo_db_path: Path) -> None:
    # Lamu has no activity at all since the start of the latest complete month.
    at = page({"county": "005", "period": "last_7_days"})
    assert not at.exception
    assert any("No referrals" in i.value for i in at.info)
    assert next(m for m in at.metric if m.label == "Rehab referrals").value == "0"
    assert not any("Referrals" in f.value.columns for f in at.dataframe)
    with sqlite3.connect(demo_db_path) as connection:
        (centres,) = connection.execute(
            "SELECT count(*) FROM rehab_centres WHERE county_code = '005'"
        ).fetchone()
    if centres == 0:
        assert any("No rehabilitation centre" in i.value for i in at.info)
        assert len(at.dataframe) == 0


@pytest.fixture(scope="module")
def frames(demo_db_path: Path) -> dict[str, pd.DataFrame]:
    """The query frames of a small selection with hidden cells: Nakuru, last 28 days."""
    engine = make_engine(f"sqlite:///{demo_db_path}")
    f = filters_of({"county": "032"})
    result = {name: function(engine, f, THRESHOLD) for name, function in BREAKDOWNS.items()}
    result["stage"] = rehab.referrals_by_stage(engine, f, THRESHOLD)
    # Since launch: part-months at both ends (launch on 8 June) and whole ones between, on any
    # day (this financial year, on 2 July, is one part-month).
    result["month"] = rehab.referrals_by_month(engine, filters_of({"period": "since_launch"}), 5)
    result["capacity"] = rehab.current_admissions_by_county(engine, filters_of({}), THRESHOLD)
    result["median"] = rehab.median_days_by_county(engine, filters_of({}), THRESHOLD)
    result["kinds"] = rehab.centres_by_kind(engine, filters_of({}), THRESHOLD)
    return result


def test_category_figures_never_draw_a_hidden_count(frames) -> None:
    seen_hidden = 0
    for dimension in BREAKDOWNS:
        frame = frames[dimension]
        fig = charts.category_figure(frame, dimension, THRESHOLD, "period")
        bars = fig.data[0]
        hidden = frame.loc[frame["referrals_suppressed"], dimension].map(charts.label).tolist()
        heights = dict(zip(bars.y, bars.x, strict=True))
        for label in hidden:
            assert pd.isna(heights[label]), (dimension, label)
        markers = [t for t in fig.data if t.type == "scatter"]
        if hidden:
            assert list(markers[0].y) == hidden
            # '<5' only on small counts; a cell hidden to protect one reads 'suppressed'.
            small = frame.loc[frame["referrals_suppressed"], "referrals_small"].tolist()
            assert list(markers[0].text) == ["<5" if s else "suppressed" for s in small]
            assert "'<5'" in fig.layout.title.subtitle.text
        else:
            assert markers == []
        seen_hidden += len(hidden)
        shown = frame[~frame["referrals_suppressed"]]
        for code, value in zip(shown[dimension], shown["referrals"], strict=True):
            if code == "other" and value == 0:
                continue
            assert heights[charts.label(code)] == value
        if dimension in ("source", "substance"):
            # Sorted on shown counts only; hidden categories come last, in contract order.
            order = list(bars.y)
            assert order[len(order) - len(hidden) :] == hidden
            drawn = [heights[label] for label in order[: len(order) - len(hidden)]]
            assert drawn == sorted(drawn, reverse=True)
    assert seen_hidden > 0


def test_funnel_figure(frames) -> None:
    frame = frames["stage"]
    fig = charts.funnel_figure(frame, THRESHOLD, "period")
    bars = fig.data[0]
    assert list(bars.y) == [charts.label(s) for s in frame["stage"]]
    for value, hidden, drawn in zip(
        frame["referrals"], frame["referrals_suppressed"], bars.x, strict=True
    ):
        assert pd.isna(drawn) if hidden else drawn == value
    colours = list(bars.marker.color)
    assert colours[:4] == [charts.REHAB_COLOUR] * 4 and charts.REHAB_COLOUR not in colours[4:]
    # A phone's drawing: the same bars under shorter names, so that the labels fit beside them.
    phone = charts.funnel_figure(frame, THRESHOLD, "period", narrow=True).data[0]
    assert list(phone.text) == list(bars.text)
    pd.testing.assert_series_equal(pd.Series(phone.x), pd.Series(bars.x))
    assert max(map(len, phone.y)) <= 12 < max(map(len, bars.y))


def test_month_figure_marks_partial_months(frames) -> None:
    frame = frames["month"]
    fig = charts.month_figure(frame, THRESHOLD, "period")
    names = {t.name: t for t in fig.data if t.type == "bar"}
    partial = frame[frame["is_partial"]]
    assert list(names["Part of month"].x) == [f"{m:%b}<br>{m:%Y}" for m in partial["month_start"]]
    whole = frame[~frame["is_partial"]]
    assert len(whole) >= 12
    pd.testing.assert_series_equal(
        pd.Series(list(names["Whole month"].y), dtype="float64"),
        whole["referrals"].reset_index(drop=True),
        check_names=False,
    )


def test_capacity_figure_and_median_figure(frames) -> None:
    frame = frames["capacity"]
    fig = charts.capacity_figure(frame, THRESHOLD, "28 Nov 2026")
    places, treated, labels = fig.data
    rows = frame.sort_values(["capacity", "county_name"], ascending=[False, True])
    assert list(places.y) == rows["county_name"].tolist()
    assert list(places.x) == rows["capacity"].tolist()
    for value, hidden, drawn, text in zip(
        rows["current_admissions"],
        rows["current_admissions_suppressed"],
        treated.x,
        labels.text,
        strict=True,
    ):
        if hidden:
            assert pd.isna(drawn) and text == "<5"
        else:
            assert drawn == value and text.startswith(f"{value:,.0f} in treatment")

    medians = frames["median"]
    fig = charts.median_days_figure(medians, "period")
    shown = medians[
        medians["median_days_to_admission"].notna()
        & ~medians["median_days_to_admission_suppressed"]
    ]
    assert sorted(fig.data[0].y) == sorted(shown["county_name"])
    assert list(fig.data[0].x) == sorted(shown["median_days_to_admission"], reverse=True)
    assert charts.hidden_median_counties(medians) == sorted(
        medians.loc[medians["median_days_to_admission_suppressed"], "county_name"]
    )

    kinds = frames["kinds"]
    fig = charts.centres_figure(kinds, "28 Nov 2026")
    assert list(fig.data[0].y) == kinds.loc[kinds["centres"] > 0, "capacity"].tolist()
