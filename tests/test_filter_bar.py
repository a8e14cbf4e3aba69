"""The filter bar in the running app: odd links never break a page, notes about a link go once
the user changes the filters, and a cleared date picker keeps the last period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from queries.filters import preset_period
from tests.clock import TEST_AS_OF

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def app(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    import streamlit as st

    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    monkeypatch.setenv("USALAMA_DEMO_DB", str(demo_db_path))

    def run(**params: str) -> AppTest:
        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    return run


@pytest.mark.parametrize(
    ("start", "end"),
    [("1900-01-01", "2026-11-01"), ("2026-01-01", "2031-01-01"), ("2026-02-30", "2026-03-01")],
)
def test_custom_dates_outside_the_range_fall_back_with_a_note(app, start, end) -> None:
    at = app(period="custom", **{"from": start, "to": end})
    assert not at.exception and not at.error
    assert at.selectbox(key="f_preset").value == "last_28_days"
    assert any("custom dates" in i.value for i in at.info)


def test_notes_go_once_the_user_changes_the_filters(app) -> None:
    at = app(county="999")
    assert any("999" in i.value for i in at.info)
    at.selectbox(key="f_preset").set_value("last_90_days").run()
    assert not at.exception
    assert not any("999" in i.value for i in at.info)


def test_a_cleared_date_picker_keeps_the_last_period(app) -> None:
    at = app(period="custom", **{"from": "2026-03-01", "to": "2026-03-31"})
    at.date_input(key="f_range").set_value(()).run()
    assert not at.exception and not at.error
    assert at.query_params["from"] == "2026-03-01" and at.query_params["to"] == "2026-03-31"


def test_a_half_chosen_range_is_one_day(app) -> None:
    at = app(period="custom", **{"from": "2026-03-01", "to": "2026-03-31"})
    at.date_input(key="f_range").set_value((dt.date(2026, 3, 5),)).run()
    assert not at.exception and not at.error
    assert at.query_params["from"] == at.query_params["to"] == "2026-03-05"


def test_presets_follow_today(app) -> None:
    at = app(period="last_7_days")
    start, end = preset_period("last_7_days", TEST_AS_OF)
    assert f"{start:%d %b %Y} – {end:%d %b %Y}" in [c.value for c in at.sidebar.caption]


def test_a_ward_that_shares_its_name_with_another_can_be_chosen(app, demo_db_path: Path) -> None:
    """Nakuru has two wards called Biashara (Naivasha and Nakuru Town East): a link to either
    must select that very ward, not the first of the name."""
    import sqlite3

    with sqlite3.connect(demo_db_path) as connection:
        twins = [
            code
            for (code,) in connection.execute(
                "SELECT code FROM wards WHERE county_code = '032' AND name = 'Biashara' "
                "ORDER BY code"
            )
        ]
    assert len(twins) == 2
    for code in twins:
        at = app(county="032", ward=code)
        assert not at.exception
        assert at.session_state["_page_context"].filters.wards == (code,)


def test_a_county_coordinator_gets_their_wards_at_once(app) -> None:
    """A coordinator of one county (the demo's 'County' role) sees the Wards filter without
    picking their county again; their county is shown, fixed."""
    at = app()
    at.radio(key="demo_role").set_value("county").run()
    county = at.selectbox(key="demo_county").value
    assert not at.exception and not at.error
    assert at.multiselect(key="f_counties").value == [county]
    assert at.multiselect(key="f_counties").disabled
    wards = at.multiselect(key="f_wards")
    assert len(wards.options) > 5  # this county's wards are on offer
    context = at.session_state["_page_context"]
    ward = context.wards[context.wards["county_code"] == county]["ward_code"].iloc[0]
    wards.set_value([ward]).run()
    assert not at.exception and not at.error
    assert at.session_state["_page_context"].filters.wards == (ward,)
    assert at.query_params["county"] == county and at.query_params["ward"] == ward
