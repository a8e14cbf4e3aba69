"""The Incidents page driven through AppTest with several filter combinations (cards and tables
equal the query layer's), and its figure and map builders on known frames (Plotly and pydeck are
opaque to AppTest)."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import maps, theme
from dashboard.charts import incidents as charts
from dashboard.pages import INCIDENTS
from queries import incidents as q
from queries.db import make_engine
from queries.filters import Filters
from queries.geography import (
    KENYA_BOUNDS,
    KM_PER_DEGREE,
    counties_frame,
    density_hexagon_degrees,
    hexagon_radius_m,
)
from queries.schema import INCIDENT_CATEGORIES
from tests.app_support import (
    cards_shown,
    expected_cards,
    filters_asked,
    filters_of,
    page_fixture,
    tables_with,
)

PARAMS = [
    {},
    {"county": "032"},
    {"county": "001,032,047", "compare": "last_year", "period": "last_month"},
    {"period": "custom", "from": "2025-07-01", "to": "2025-09-30"},
    {"period": "this_fy", "county": "047", "compare": "last_year"},
    {"period": "last_7_days"},
]
IDS = [
    "all-28d",
    "nakuru",
    "three-last-month-last-year",
    "custom-q1",
    "nairobi-fy-last-year",
    "all-7d",
]


page = page_fixture(INCIDENTS.view)


def assert_same(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, same values (numbers to within float noise; nulls in the same cells)."""
    assert list(shown.columns) == list(expected.columns)
    assert len(shown) == len(expected)
    for column in expected.columns:
        left, right = shown[column].reset_index(drop=True), expected[column].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(right) and not pd.api.types.is_bool_dtype(right):
            np.testing.assert_allclose(
                pd.to_numeric(left).to_numpy(dtype=float),
                right.to_numpy(dtype=float),
                rtol=1e-9,
                equal_nan=True,
                err_msg=column,
            )
        elif pd.api.types.is_datetime64_any_dtype(right):
            assert pd.to_datetime(left).dt.date.tolist() == right.dt.date.tolist(), column
        else:
            assert [None if pd.isna(v) else v for v in left] == [
                None if pd.isna(v) else v for v in right
            ], column


def check_page(at: AppTest, db: Path, filters: Filters) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Incidents"
    assert cards_shown(at) == expected_cards(db, filters, INCIDENTS.cards)
    engine = make_engine(f"sqlite:///{db}")

    assert_same(tables_with(at, "is_partial")[0], q.incidents_by_week_and_category(engine, filters))
    assert_same(tables_with(at, "category")[-1], q.incidents_by_category(engine, filters))
    assert_same(tables_with(at, "channel")[0], q.incidents_by_channel(engine, filters))
    assert_same(
        tables_with(at, "median_hours_to_resolve")[0], q.response_hours_by_county(engine, filters)
    )
    assert_same(tables_with(at, "age_band")[0], q.open_incidents_by_age(engine, filters))
    top, rising = tables_with(at, "ward_name")
    assert_same(top, q.incidents_by_ward(engine, filters, limit=10))
    assert_same(rising, q.incident_increase_by_ward(engine, filters, limit=10))
    assert_same(
        tables_with(at, "County")[0],
        charts.compstat_table(
            charts.compstat_places(
                q.compstat_by_county(engine, filters), len(filters.ward_codes or ())
            )
        ),
    )

    status = q.incidents_by_coordinate_status(engine, filters).set_index("coordinate_status")
    drawn = int(status.loc["in_kenya", "count"])
    # The map's hexagons (the page's, chosen for its counties) hold every drawable incident
    # (counted in SQL, not sampled).
    hexagons = q.incident_density(engine, filters)
    assert int(hexagons["incidents"].sum()) == drawn
    placed = charts.coordinate_table(q.incidents_by_coordinate_status(engine, filters))
    assert placed["count"].tolist()[0] == drawn
    assert_same(tables_with(at, "Incidents")[0], placed)
    caption = " ".join(c.value for c in at.caption)
    assert f"{drawn:,} incidents drawn" in caption
    assert f"{int(placed['count'].iloc[2]):,} without GPS coordinates" in caption
    assert f"{int(placed['count'].iloc[1]):,} with coordinates outside Kenya" in caption


@pytest.mark.parametrize("params", PARAMS, ids=IDS)
def test_page_shows_the_query_layer_numbers(page, demo_db_path: Path, params) -> None:
    at = page(params)
    check_page(at, demo_db_path, filters_of(params))


def test_page_with_a_ward_selection(page, demo_db_path: Path) -> None:
    with sqlite3.connect(demo_db_path) as connection:
        ward = connection.execute(
            "SELECT ward_code FROM incidents WHERE county_code = '032' AND ward_code IS NOT NULL"
            " GROUP BY ward_code ORDER BY count(*) DESC, ward_code LIMIT 1"
        ).fetchone()[0]
    params = {"county": "032", "ward": ward, "period": "last_90_days"}
    at = page(params)
    check_page(at, demo_db_path, filters_of(params))
    top = tables_with(at, "ward_name")[0]
    assert top["ward_code"].tolist() in ([ward], [])


def test_the_page_reads_the_wards_once_for_both_rankings(
    page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Top wards and wards rising most come from one read of every ward's two counts."""
    reads = filters_asked(monkeypatch, q, "incident_counts_by_ward")
    at = page({"county": "032"})
    assert not at.exception, [e.value for e in at.exception]
    assert len(reads) == 1
    assert len(tables_with(at, "ward_name")) == 2


def test_compstat_is_computed_once_for_periods_ending_the_same_day(
    page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CompStat's windows end on the period's last day, whatever its start: the last 28 days,
    this financial year and since launch all end on the as-of date, so one computation serves
    them all; a custom period ending earlier is a new one."""
    asked = filters_asked(monkeypatch, q, "compstat_by_county")
    at = page({})
    shown = tables_with(at, "County")[0]
    for preset in ("this_fy", "since_launch"):
        at.selectbox(key="f_preset").set_value(preset).run()
        assert not at.exception, [e.value for e in at.exception]
        pd.testing.assert_frame_equal(tables_with(at, "County")[0], shown)
    assert len(asked) == 1
    assert asked[0].start == asked[0].end
    at.query_params["period"] = "custom"
    ended = asked[0].end - dt.timedelta(days=40)
    at.query_params["from"], at.query_params["to"] = str(ended - dt.timedelta(days=9)), str(ended)
    at.run()
    assert [f.end for f in asked] == [asked[0].end, ended]


def test_page_states_what_the_map_leaves_out(page, demo_db_path: Path) -> None:
    # The demo plants incidents with coordinates outside Kenya in recent weeks.
    at = page({"period": "last_90_days"})
    assert not at.exception
    shown = tables_with(at, "Incidents")[0].set_index("Incidents")["count"]
    assert shown["Coordinates outside Kenya (not drawn)"] > 0
    assert shown["No coordinates (not drawn)"] > 0


# The figure builders, on frames with known contents.

WEEKS = pd.to_datetime(["2025-06-30", "2025-07-07", "2025-07-14"])


def weekly_frame() -> pd.DataFrame:
    rows = []
    for i, week in enumerate(WEEKS):
        for category in INCIDENT_CATEGORIES:
            rows.append(
                dict(
                    week_start=week,
                    category=category,
                    count=(10 * (i + 1) if category == "theft" else 1),
                    is_partial=i == 0,
                )
            )
    return pd.DataFrame(rows)


def test_weekly_figure_stacks_categories_and_fades_partial_weeks() -> None:
    fig = charts.weekly_by_category_figure(weekly_frame(), "Kenya · 01 Jul 2025 – 20 Jul 2025")
    assert fig.layout.barmode == "stack"
    assert "per week" in fig.layout.title.text
    assert "01 Jul 2025" in fig.layout.title.subtitle.text
    assert "partial" in fig.layout.title.subtitle.text
    names = [trace.name for trace in fig.data]
    assert names[0] == "Theft" and names[-1] == "Other"  # largest at the bottom, other last
    theft = fig.data[0]
    assert list(theft.y) == [10, 20, 30]
    assert list(theft.marker.opacity) == [charts.PARTIAL_OPACITY, 1.0, 1.0]
    assert theft.marker.color == theme.CATEGORY_COLOURS["category"]["theft"]
    assert fig.data[-1].marker.color == theme.OTHER_GREY
    assert fig.layout.yaxis.title.text == "Incidents per week"


def test_mix_figure_orders_bars_and_labels_shares() -> None:
    mix = pd.DataFrame(
        {
            "channel": ["hatua_app", "hotline", "other"],
            "count": [30, 10, 0],
            "share_pct": [75.0, 25.0, 0.0],
        }
    )
    fig = charts.mix_figure(mix, "channel", "Incidents by reporting channel", "Kenya · July")
    bar = fig.data[0]
    assert list(bar.y) == ["Hotline", "Hatua App"]  # largest drawn at the top; no empty Other
    assert list(bar.x) == [10, 30]
    assert list(bar.text) == ["10 (25%)", "30 (75%)"]
    some_other = mix.assign(count=[30, 10, 2], share_pct=[71.4, 23.8, 4.8])
    bar = charts.mix_figure(some_other, "channel", "By channel", "Kenya · July").data[0]
    assert list(bar.y) == ["Other", "Hotline", "Hatua App"]
    assert list(bar.text) == ["2 (5%)", "10 (24%)", "30 (71%)"]
    assert bar.marker.color[-1] == theme.CATEGORY_COLOURS["channel"]["hatua_app"]
    assert fig.layout.xaxis.title.text == "Incidents reported"


def test_response_figure_drops_counties_without_times() -> None:
    response = pd.DataFrame(
        {
            "county_code": ["001", "032", "047"],
            "county_name": ["Mombasa", "Nakuru", "Nairobi"],
            "incidents_reported": [6, 3, 0],
            "acknowledged_count": [2, 2, 0],
            "median_hours_to_acknowledge": [2.25, 3.5, np.nan],
            "resolved_count": [1, 1, 0],
            "median_hours_to_resolve": [10.0, 4.0, np.nan],
        }
    )
    fig = charts.response_hours_figure(response, "July")
    acknowledge, resolve = fig.data
    assert list(resolve.y) == ["Nakuru", "Mombasa"]  # slowest to resolve at the top
    assert list(resolve.x) == [4.0, 10.0]
    assert list(acknowledge.x) == [3.5, 2.25]
    assert list(acknowledge.text) == ["3.5 h", "2.2 h"]
    assert fig.layout.xaxis.title.text == "Median hours"


def test_a_median_over_a_few_incidents_is_drawn_grey() -> None:
    """A county's median over 1 incident headed the chart as if it were a finding."""
    response = pd.DataFrame(
        {
            "county_name": ["Marsabit", "Nakuru"],
            "acknowledged_count": [1, 40],
            "median_hours_to_acknowledge": [9.0, 2.0],
            "resolved_count": [9, 10],  # 9 is under FEW_FOR_A_MEDIAN (10), 10 is not
            "median_hours_to_resolve": [80.0, 30.0],
        }
    )
    fig = charts.response_hours_figure(response, "July")
    acknowledge, resolve = (trace for trace in fig.data if trace.type == "bar")
    grey = charts.TENTATIVE_GREY
    assert list(resolve.y) == ["Nakuru", "Marsabit"]
    assert list(resolve.marker.color) == [charts.PALETTE[0], grey]
    assert list(acknowledge.marker.color) == [charts.PALETTE[1], grey]
    assert "grey: a median over fewer than 10 incidents" in fig.layout.title.subtitle.text


def test_a_county_without_a_median_says_so_in_its_row() -> None:
    """Turkana's row in the resolve panel stood blank: no bar, no label."""
    response = pd.DataFrame(
        {
            "county_name": ["Nakuru", "Turkana"],
            "acknowledged_count": [4, 2],
            "median_hours_to_acknowledge": [2.0, 5.0],
            "resolved_count": [3, 0],
            "median_hours_to_resolve": [30.0, np.nan],
        }
    )
    fig = charts.response_hours_figure(response, "July")
    notes = [trace for trace in fig.data if trace.type == "scatter"]
    assert len(notes) == 1
    assert list(notes[0].y) == ["Turkana"] and list(notes[0].text) == ["none resolved"]
    assert notes[0].xaxis == "x2"  # the resolve panel, beside the bars it stands in for
    assert [trace.xaxis for trace in fig.data if trace.type == "bar"] == ["x", "x2"]


def test_open_by_age_figure_totals() -> None:
    open_age = pd.DataFrame(
        {
            "age_band": [b for b in q.AGE_BAND_LABELS for _ in range(3)],
            "status": ["reported", "acknowledged", "actioned"] * 4,
            "count": [2, 1, 1, 1, 1, 1, 3, 1, 0, 2, 1, 0],
        }
    )
    fig = charts.open_by_age_figure(open_age, "Kenya")
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert [trace.name for trace in bars] == ["Reported", "Acknowledged", "Actioned"]
    assert list(bars[0].y) == [2, 1, 3, 2]
    totals = next(trace for trace in fig.data if trace.type == "scatter")
    assert list(totals.text) == ["4", "3", "4", "3"]
    assert list(totals.x) == list(q.AGE_BAND_LABELS)
    # For a phone the bars lie across, youngest at the top, totals beyond each bar's end.
    across = charts.open_by_age_figure(open_age, "Kenya", across=True)
    bars = [trace for trace in across.data if trace.type == "bar"]
    assert all(trace.orientation == "h" for trace in bars)
    assert list(bars[0].x) == [2, 1, 3, 2] and list(bars[0].y) == list(q.AGE_BAND_LABELS)
    totals = next(trace for trace in across.data if trace.type == "scatter")
    assert list(totals.x) == [4, 3, 4, 3] and totals.textposition == "middle right"
    assert across.layout.yaxis.autorange == "reversed"
    assert across.layout.xaxis.range[1] > 4  # room for the longest total


def test_ward_figures_name_the_county() -> None:
    wards = pd.DataFrame(
        {
            "ward_code": ["W9", "W4", "W2"],
            "ward_name": ["Mathare", "Kibera", "Likoni"],
            "county_code": ["047", "047", "001"],
            "county_name": ["Nairobi", "Nairobi", "Mombasa"],
            "count": [30, 5, 4],
            "comparison_count": [10, 2, 0],
            "change": [20, 3, 4],
            "change_pct": [200.0, 150.0, np.nan],
        }
    )
    top = charts.top_wards_figure(wards.iloc[1:], "July")
    # Two short lines: one long line is cut at a phone's edge.
    assert list(top.data[0].y) == ["Likoni<br>(Mombasa)", "Kibera<br>(Nairobi)"]
    assert "Top 2 wards" in top.layout.title.text
    rising = charts.ward_increase_figure(wards, "July against June")
    # Counts, not "+150%" on a ward that had 2; only 10 -> 30 is meaningful: √2 (√30 − √10) =
    # 3.27, against 1.16 for 2 -> 5 and 2.83 for 0 -> 4.
    assert list(rising.data[0].text) == ["+4 (0 → 4)", "+3 (2 → 5)", "+20 (10 → 30)"]
    grey = charts.TENTATIVE_GREY
    assert list(rising.data[0].marker.color) == [grey, grey, charts.PALETTE[5]]


def test_the_ward_rise_chart_says_which_counties_it_leaves_out() -> None:
    wards = pd.DataFrame(
        {
            "county_name": ["Nairobi", "Kwale", "Kwale", "Bungoma"],
            "comparable": [True, False, False, False],
        }
    )
    empty, line = charts.ward_rise_left_out(wards)
    assert empty.startswith("No ward of the other counties")
    assert line.endswith("one not yet in is not compared. Left out: Bungoma, Kwale.")
    empty, line = charts.ward_rise_left_out(wards.iloc[1:])
    assert empty.startswith("No ward can be compared") and "not valid for any county" in line
    empty, line = charts.ward_rise_left_out(wards.iloc[:1])
    assert line is None and empty.startswith("No ward had more incidents")
    figure = charts.ward_increase_figure(
        wards.iloc[:0].assign(count=[], comparison_count=[], change=[], ward_name=[]),
        "July",
        "No ward can be compared: x",
    )
    assert "No ward can be compared: x" in str(figure.layout.annotations)


def _compstat(names: list[str], changes: list[float], meaningful: list[bool]) -> pd.DataFrame:
    """A CompStat frame whose 28-day window alone has changes (one row a name, 'Total' first),
    each from 10 a year earlier."""
    frame = pd.DataFrame(
        {"county_code": [None, *[f"{i:03d}" for i in range(1, len(names))]], "county_name": names}
    )
    for key in ("wtd", "d28", "ytd"):
        frame[f"{key}_last_year_count"] = 10
        frame[f"{key}_count"] = [round(10 + c / 10) if c == c else 10 for c in changes]
        frame[f"{key}_change_pct"] = changes if key == "d28" else np.nan
        frame[f"{key}_meaningful"] = meaningful if key == "d28" else False
    return frame


def test_compstat_names_only_the_changes_the_test_calls_meaningful() -> None:
    names = ["Total", "Kwale", "Mombasa"]
    note = charts.compstat_test_note(_compstat(names, [10.0, 200.0, -40.0], [True, False, True]))
    assert note.startswith(
        "Meaningful changes (Poisson test, |z| ≥ 3): Total, 28 days 10 → 11 (+10.0%); "
        "Mombasa, 28 days 10 → 6 (-40.0%). Every other change % is within"
    )
    # From none a year earlier the test can speak, but there is no %: the counts say it.
    from_none = _compstat(["Total", "Kwale"], [np.nan, np.nan], [True, True])
    from_none["d28_last_year_count"], from_none["d28_count"] = 0, 12
    assert "Kwale, 28 days 0 → 12." in charts.compstat_test_note(from_none)
    note = charts.compstat_test_note(_compstat(names, [10.0, 200.0, -40.0], [False] * 3))
    assert note.startswith("No change % in this table is meaningful")
    assert charts.compstat_test_note(_compstat(names, [np.nan] * 3, [False] * 3)) is None
    # One county: its total is the county, named once.
    alone = charts.compstat_test_note(_compstat(["Total", "Kwale"], [50.0, 50.0], [True, True]))
    assert "Kwale, 28 days 10 → 15 (+50.0%)." in alone and "Total" not in alone
    # Twelve meaningful: eight named, then how many more.
    many = [f"County {i:02d}" for i in range(12)]
    note = charts.compstat_test_note(_compstat(["Total", *many], [5.0] * 13, [False, *[True] * 12]))
    assert "County 07, 28 days 10 → 10 (+5.0%); and 4 more." in note and "County 08" not in note
    # With wards chosen a county's row is theirs, and says so; the total is not renamed.
    places = charts.compstat_places(_compstat(["Total", "Kwale"], [5.0, 5.0], [False] * 2), 2)
    assert places["county_name"].tolist() == ["Total", "Kwale (2 wards)"]


def test_compstat_table_reads_plainly() -> None:
    compstat = pd.DataFrame(
        {
            "county_code": [None, "001"],
            "county_name": ["Total", "Mombasa"],
            "wtd_count": [3, 3],
            "wtd_last_year_count": [2, 2],
            "wtd_change_pct": [50.0, 50.0],
            "d28_count": [5, 5],
            "d28_last_year_count": [3, 3],
            "d28_change_pct": [200 / 3, 200 / 3],
            "ytd_count": [7, 7],
            "ytd_last_year_count": [0, 0],
            "ytd_change_pct": [np.nan, np.nan],
        }
    )
    shown = charts.compstat_table(compstat)
    assert list(shown.columns)[:4] == [
        "County",
        "Week to date",
        "Week to date, a year earlier",
        "Week to date, change %",
    ]
    assert shown["28 days, change %"].tolist() == [66.7, 66.7]
    assert shown["Year to date, change %"].isna().all()


def test_coordinate_table_accounts_for_every_incident() -> None:
    status = pd.DataFrame(
        {"coordinate_status": ["in_kenya", "outside_kenya", "missing"], "count": [10, 2, 5]}
    )
    table = charts.coordinate_table(status)
    assert table["Incidents"].tolist() == [
        "Drawn on the map",
        "Coordinates outside Kenya (not drawn)",
        "No coordinates (not drawn)",
    ]
    assert table["count"].tolist() == [10, 2, 5]
    assert int(table["count"].sum()) == 17


# The density map.

COUNTIES = pd.DataFrame(
    {
        "county_code": ["032", "047"],
        "county_name": ["Nakuru", "Nairobi"],
        "latitude": [-0.30, -1.29],
        "longitude": [36.07, 36.82],
        "area_km2": [7496.0, 696.0],
        "population": [2162202, 4397073],
    }
)


def deck_json(deck: pdk.Deck) -> dict:
    return json.loads(deck.to_json())


def test_density_deck_draws_each_counted_hexagon_without_a_basemap() -> None:
    points = pd.DataFrame(
        {
            "latitude": [-0.30, -0.31, -1.29],
            "longitude": [36.07, 36.08, 36.8],
            "incidents": [4, 1, 9],
            "radius_degrees": 0.01,
        }
    )
    deck = maps.incident_density_deck(points, COUNTIES)
    spec = deck_json(deck)
    outline, hexagons = spec["layers"][:2]
    assert outline["id"] == "kenya-outline"  # Kenya's border from assets/, under the hexagons
    assert outline["data"] == maps.kenya_outline()
    # Drawn as counted in SQL: one six-cornered disk a row, not binned again in the browser.
    assert hexagons["@@type"] == "ColumnLayer" and hexagons["diskResolution"] == 6
    assert [row["incidents"] for row in hexagons["data"]] == [4, 1, 9]
    # Quantile classes of (1, 4, 9) over six shades, worked out by hand: the thresholds at
    # 1/6 ... 5/6 (linear interpolation) are 2, 3, 4, 5.67 and 7.33, and a value on a
    # threshold stays below it: 1 -> shade 0, 4 -> shade 2, 9 -> shade 5.
    ramp = maps.DENSITY_RAMP
    assert [row["colour"] for row in hexagons["data"]] == [ramp[2], ramp[0], ramp[5]]
    assert hexagons["getFillColor"] == "@@=colour"
    # 0.01 degrees of longitude at the view's latitude, in metres.
    view = spec["initialViewState"]
    metres = 0.01 * KM_PER_DEGREE * 1000 * math.cos(math.radians(view["latitude"]))
    assert hexagons["radius"] == pytest.approx(metres, abs=0.1)
    assert "{incidents} incidents in this hexagon" in json.dumps(deck._tooltip)
    assert not spec.get("mapStyle")
    assert [layer["@@type"] for layer in spec["layers"][2:]] == ["ScatterplotLayer", "TextLayer"]
    assert -1.29 < view["latitude"] < -0.30 and 36.07 < view["longitude"] < 36.82
    assert 6 < view["zoom"] < 11  # two neighbouring counties, not the whole country


def test_density_shades_hold_equal_shares_of_the_hexagons() -> None:
    counts = pd.Series(range(1, 61))  # 60 hexagons, 1 to 60 incidents
    classes = maps.quantile_classes(counts, 6)
    assert [classes.count(k) for k in range(6)] == [10] * 6
    assert classes == sorted(classes)  # more incidents, never a lighter shade
    assert maps.quantile_classes(pd.Series([], dtype="int64"), 6) == []
    # Most hexagons hold one incident (a small county, a short period): those get the
    # lightest shade, not the second-darkest as a threshold-goes-above scale gave them.
    tied = pd.Series([1] * 70 + [2] * 15 + [3] * 8 + [5] * 4 + [40] * 3)
    shades = dict(zip(tied, maps.quantile_classes(tied, 6), strict=True))
    assert shades[1] == 0 and shades[40] == 5
    assert [shades[n] for n in (1, 2, 3, 5, 40)] == sorted(shades[n] for n in (1, 2, 3, 5, 40))


def test_density_deck_fits_kenya_and_handles_no_points() -> None:
    deck = maps.incident_density_deck(
        pd.DataFrame({"latitude": [], "longitude": [], "incidents": [], "radius_degrees": []})
    )
    view = deck_json(deck)["initialViewState"]
    south, north, west, east = KENYA_BOUNDS
    assert south < view["latitude"] < north and west < view["longitude"] < east
    assert 4.5 <= view["zoom"] < 6.5
    assert [layer["id"] for layer in deck_json(deck)["layers"]] == [
        "kenya-outline",
        "incident-density",
    ]


def test_density_deck_ignores_a_stray_point_when_fitting_and_labels_big_counties() -> None:
    points = pd.DataFrame(
        {
            "latitude": [-0.3] * 200 + [4.9],
            "longitude": [36.07] * 200 + [41.9],
            "incidents": 1,
            "radius_degrees": 0.01,
        }
    )
    one = COUNTIES.iloc[:1]
    view = deck_json(maps.incident_density_deck(points, one))["initialViewState"]
    assert view["zoom"] > 7  # the one stray point in the far north-east does not zoom out
    # Names never overlap: of ten counties drawn on the same two spots, one name each (the
    # most populous); of the 47 real counties, at most MAX_LABELS, none overlapping.
    many = pd.concat([COUNTIES] * 10, ignore_index=True)
    many["population"] = range(len(many))
    labels = deck_json(maps.incident_density_deck(points, many))["layers"][3]
    assert len(labels["data"]) == 2
    real = counties_frame().rename(columns={"code": "county_code", "name": "county_name"})
    spec = deck_json(maps.incident_density_deck(points, real))
    named = spec["layers"][3]["data"]
    height = 15 * maps.degrees_per_pixel(spec["initialViewState"]["zoom"])
    boxes = [
        maps.label_box(n["county_name"], n["label_longitude"], n["label_latitude"], height)
        for n in named
    ]
    assert 6 <= len(named) <= maps.MAX_LABELS
    assert not any(maps.boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert "Nairobi" in {n["county_name"] for n in named}


def test_hexagon_radius_follows_the_area_shown() -> None:
    assert hexagon_radius_m(*KENYA_BOUNDS) == 15_000
    assert hexagon_radius_m(-1.4, -1.2, 36.7, 36.9) == 400
    assert 400 < hexagon_radius_m(-1.0, 0.5, 35.5, 36.6) < 15_000


def test_a_phone_gets_the_response_panels_stacked_and_the_density_map_fitted() -> None:
    response = pd.DataFrame(
        {
            "county_name": ["Nakuru", "Nairobi"],
            "median_hours_to_acknowledge": [2.5, 3.0],
            "median_hours_to_resolve": [60.0, 70.0],
            "acknowledged_count": [10, 12],
            "resolved_count": [8, 9],
        }
    )
    side = charts.response_hours_figure(response, "s")
    stacked = charts.response_hours_figure(response, "s", stacked=True)
    assert tuple(side.layout.xaxis.domain) != (0.0, 1.0)  # two panels side by side
    assert tuple(stacked.layout.xaxis.domain) == tuple(stacked.layout.xaxis2.domain) == (0, 1)
    # The phone's drawing fits Kenya's width (8 degrees) in 350 px: a lower zoom.
    points = pd.DataFrame(
        {"latitude": [-1.29], "longitude": [36.8], "incidents": [1], "radius_degrees": [0.1]}
    )
    real = counties_frame().rename(columns={"code": "county_code", "name": "county_name"})
    wide = deck_json(maps.incident_density_deck(points, real))["initialViewState"]
    phone = deck_json(
        maps.incident_density_deck(
            points, real, width_px=maps.PHONE_WIDTH_PX, height_px=maps.PHONE_HEIGHT_PX
        )
    )["initialViewState"]
    assert phone["zoom"] < wide["zoom"]
    assert 8.0 * maps.TILE_PX * 2 ** phone["zoom"] / 360 <= maps.PHONE_WIDTH_PX


def test_density_hexagons_follow_the_area_shown() -> None:
    national = density_hexagon_degrees(None)
    one = density_hexagon_degrees(COUNTIES.iloc[1:])  # Nairobi alone: a small area
    assert national == pytest.approx(15_000 / (KM_PER_DEGREE * 1000), abs=1e-5)
    assert 0 < one < national


def test_a_phone_restyle_changes_a_copy_of_the_figure_json_only() -> None:
    """A phone's drawing that only lays the figure out differently is the wide figure's JSON
    with the layout changes merged in, key by key; the shared figure is left as it was."""
    import plotly.graph_objects as go

    from dashboard.components import _styled

    fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    fig.update_layout(height=480, legend=dict(orientation="h", font_size=18), xaxis_title="Week")
    changes = {
        "legend": {"entrywidth": 160, "font": {"size": 14}},
        "xaxis": {"tickformat": "%d %b"},
    }
    layout = _styled(fig, 900, changes).to_dict()["layout"]
    assert layout["height"] == 900
    assert layout["legend"] == {"orientation": "h", "font": {"size": 14}, "entrywidth": 160}
    assert layout["xaxis"]["tickformat"] == "%d %b" and layout["xaxis"]["title"]["text"] == "Week"
    assert fig.layout.height == 480 and fig.layout.legend.font.size == 18
    assert fig.layout.xaxis.tickformat is None


def test_week_labels_sit_on_the_mondays_the_weeks_start() -> None:
    """Plotly's own weekly ticks fall on Sundays: "30 May" stood under the week of 31 May."""
    from dashboard.charts.overview import stream_trend_figure

    mondays = pd.date_range("2027-01-04", periods=30, freq="7D")  # 30 weeks, each from a Monday
    weekly = pd.DataFrame(
        {"week_start": mondays, "category": "theft", "count": 3, "is_partial": False}
    )
    streams = pd.DataFrame(
        {
            "week_start": mondays,
            "stream": "incidents",
            "value": 3.0,
            "value_suppressed": False,
            "is_partial": False,
        }
    )
    for fig in (
        charts.weekly_by_category_figure(weekly, "s"),
        stream_trend_figure(streams, "incidents", "a period"),
    ):
        ticks = pd.to_datetime(pd.Series(fig.layout.xaxis.tickvals))
        assert fig.layout.xaxis.tickmode == "array"
        assert set(ticks) <= set(mondays) and ticks.iloc[0] == mondays[0]
        assert 4 <= len(ticks) <= 6  # every fifth week: room for each label on a phone


def test_most_open_incidents_over_a_month_old_are_flagged_as_possibly_stale() -> None:
    def ages(counts: list[int]) -> pd.DataFrame:
        bands = ["0-2 days", "3-7 days", "8-30 days", "over 30 days"]
        return pd.DataFrame({"age_band": bands, "status": "reported", "count": counts})

    note = charts.stale_open_note(ages([5, 5, 10, 80]))
    assert note is not None and note.startswith("80 of the 100 open incidents (80%)")
    assert charts.stale_open_note(ages([30, 30, 20, 20])) is None  # 20%: a backlog, plainly
    assert charts.stale_open_note(ages([0, 0, 0, 0])) is None
