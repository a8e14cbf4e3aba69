"""Overview and County profile through AppTest: their tables show the query layer's numbers, for
several filter combinations."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import formatting
from dashboard.charts.profile import RANK_COLUMN
from dashboard.pages import COUNTY_PROFILE, OVERVIEW, Page
from queries import indicators
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import INDICATOR_BY_KEY, county_league, county_scorecard, indicators_frame
from tests.app_support import (
    cards_shown,
    expected_cards,
    filters_asked,
    filters_of,
    open_page,
    path_of,
)

COMBINATIONS = [
    {},
    {"county": "032"},
    {"county": "001,032,047", "compare": "last_year"},
    {"period": "custom", "from": "2026-03-01", "to": "2026-05-31"},
    {"period": "this_quarter", "county": "047"},
]
IDS = ["all", "nakuru", "three-last-year", "custom", "nairobi-quarter"]


@pytest.fixture
def run_page(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    def run(page: Page, params: dict[str, str]) -> AppTest:
        at = open_page(demo_db_path, monkeypatch, params, path_of(page))
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        return at

    return run


def _table(at: AppTest, first_column: str, also: str | None = None) -> pd.DataFrame:
    return next(
        t.value
        for t in at.dataframe
        if t.value.columns[0] == first_column and (also is None or also in t.value.columns)
    )


def _assert_scorecard_shown(at: AppTest, scorecard: pd.DataFrame) -> None:
    """The page's scorecard table shows these values (as formatted) and ranks."""
    shown = _table(at, "Indicator").set_index("Indicator")
    for key, row in scorecard.set_index("indicator").iterrows():
        indicator = INDICATOR_BY_KEY[key]
        # A rate read for another month than the period's says which, beside its name.
        label = (
            indicator.label
            if pd.isna(row["period_note"])
            else f"{indicator.label} ({row['period_note']})"
        )
        assert shown.iloc[:, 0][label] == formatting.indicator_value(
            indicator, row["county_value"], bool(row["county_suppressed"]), 5
        )
        rank = shown[RANK_COLUMN][label].replace("\u00a0", " ")  # no-break spaces
        assert rank == "–" if pd.isna(row["rank"]) else rank.startswith(f"{int(row['rank'])} of ")
        assert rank == "–" or ("(1 = highest)" in rank) == (indicator.higher_is_better is None)


@pytest.mark.parametrize("params", COMBINATIONS, ids=IDS)
def test_overview_league_table(run_page, demo_db_path, params) -> None:
    at = run_page(OVERVIEW, params)
    filters = filters_of(params)
    league = county_league(make_engine(f"sqlite:///{demo_db_path}"), filters, 5)
    shown = _table(at, "County", also="Code").set_index("Code")  # not the map's table
    assert sorted(shown.index) == sorted(league["county_code"])
    expected = league.set_index("county_code")
    for code, row in shown.iterrows():
        assert int(row["Incidents"]) == expected.loc[code, "incidents_reported"]
        assert int(row["Forums"]) == expected.loc[code, "forums_held"]
        assert int(row["People trained"]) == expected.loc[code, "people_trained"]
        referrals = expected.loc[code, "rehab_referrals"]
        hidden = expected.loc[code, "rehab_referrals_suppressed"]
        small = expected.loc[code, "rehab_referrals_small"]
        label = ("<5" if small else "Suppressed") if hidden else formatting.number(referrals)
        assert row["Rehab referrals"] == label


@pytest.mark.parametrize(
    "params",
    [p for p in COMBINATIONS if p.get("county", "x")[:3] in ("032", "047", "x")],
    ids=["all", "nakuru", "custom", "nairobi-quarter"],
)
def test_county_profile(run_page, demo_db_path, params) -> None:
    at = run_page(COUNTY_PROFILE, params)
    filters = filters_of(params)
    if filters.county_codes is None:  # no county chosen: the page asks for one
        assert at.selectbox(key="profile_county").value is None
        at.selectbox(key="profile_county").set_value("032").run()
        filters = Filters(
            start=filters.start,
            end=filters.end,
            preset=filters.preset,
            comparison=filters.comparison,
            counties=("032",),
        )
        assert not at.exception
    engine = make_engine(f"sqlite:///{demo_db_path}")
    code = filters.county_codes[0]

    assert cards_shown(at) == expected_cards(demo_db_path, filters, COUNTY_PROFILE.cards)

    _assert_scorecard_shown(at, county_scorecard(engine, filters, 5))
    # On a phone the row's name stays in view: the first column of every table is pinned.
    for first in ("Indicator", "Ward"):
        frame = next(t for t in at.dataframe if t.value.columns[0] == first)
        assert json.loads(frame.proto.columns)[first]["pinned"] is True
        # ...and wide enough for its longest name (the grid cut the RA rates' labels).
        longest = max(len(str(v)) for v in frame.value[first])
        assert json.loads(frame.proto.columns)[first]["width"] >= 7 * min(longest, 60)

    wards = indicators_frame(engine, filters, 5, grain="ward")
    # A name two wards share is shown with each one's code.
    counts = wards["ward_name"].value_counts()
    expected_names = [
        name if counts[name] == 1 else f"{name} ({code})"
        for name, code in zip(wards["ward_name"], wards["ward_code"], strict=True)
    ]
    wards = wards.set_index("ward_name")
    shown_wards = _table(at, "Ward").set_index("Ward")
    assert sorted(shown_wards.index) == sorted(expected_names)
    assert shown_wards.index.is_unique
    assert shown_wards["Incidents"].astype(int).sum() == wards["incidents_reported"].sum()
    assert code in str(at.query_params.get("county"))  # the choice is written to the URL


def test_a_change_of_county_reads_the_national_standing_again_only_for_a_new_period(
    run_page, demo_db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scorecard's national figures and ranks do not depend on the county: the County
    profile reads them once per period, and a change of county shows the new county's own
    values and rank."""
    asked = filters_asked(monkeypatch, indicators, "national_standing")
    at = run_page(COUNTY_PROFILE, {"county": "032"})
    assert len(asked) == 1
    at.multiselect(key="f_counties").set_value(["047"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(asked) == 1  # found in the cache: the same for every county
    assert asked[0].county_codes is None and asked[0].scope is None

    engine = make_engine(f"sqlite:///{demo_db_path}")
    assert "Nairobi" in _table(at, "Indicator").columns[1]
    _assert_scorecard_shown(at, county_scorecard(engine, filters_of({"county": "047"}), 5))

    asked.clear()  # county_scorecard, above, asked too
    at.selectbox(key="f_preset").set_value("this_fy").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [f.preset for f in asked] == ["this_fy"]  # another period: read again
