"""The app driven through AppTest: the Overview cards show the query layer's numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import formatting
from queries.db import make_engine
from queries.filters import Filters, preset_period
from queries.indicators import INDICATOR_BY_KEY, headline, today_eat

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
OVERVIEW_KEYS = [
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_pct",
    "ras_active",
    "ra_reporting_rate",
    "people_trained",
    "rehab_referrals",
    "referral_admission_pct",
]


@pytest.fixture
def app(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    import streamlit as st

    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    monkeypatch.setenv("USALAMA_DEMO_DB", str(demo_db_path))
    st.cache_data.clear()
    st.cache_resource.clear()

    def make(**query_params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in query_params.items():
            at.query_params[key] = value
        return at.run()

    return make


def _expected_cards(db: Path, filters: Filters) -> dict[str, str]:
    table = headline(make_engine(f"sqlite:///{db}"), filters, 5).set_index("indicator")
    return {
        INDICATOR_BY_KEY[k].label: formatting.indicator_value(
            INDICATOR_BY_KEY[k], table.loc[k, "value"], bool(table.loc[k, "suppressed"]), 5
        )
        for k in OVERVIEW_KEYS
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"county": "032"},
        {"county": "001,032,047", "compare": "last_year"},
        {"period": "custom", "from": "2025-07-01", "to": "2025-09-30"},
        {"period": "this_fy", "county": "047"},
    ],
    ids=["all-28d", "nakuru", "three-last-year", "custom-q1", "nairobi-fy"],
)
def test_overview_cards_equal_the_query_layer(app, demo_db_path: Path, params) -> None:
    at = app(**params)
    assert not at.exception, [e.value for e in at.exception]
    today = today_eat()
    preset = params.get("period", "last_28_days")
    if preset == "custom":
        start, end = dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])
    else:
        start, end = preset_period(preset, today)
    filters = Filters(
        start=start,
        end=end,
        preset=preset,
        comparison=params.get("compare", "previous"),
        counties=tuple(c for c in params.get("county", "").split(",") if c),
    )
    shown = {m.label: m.value for m in at.metric}
    assert shown == _expected_cards(demo_db_path, filters)
    assert any("Synthetic demo data" in w.value for w in at.warning)


def test_a_broken_url_shows_notes_not_errors(app) -> None:
    at = app(period="fortnight", county="999", compare="x")
    assert not at.exception
    notes = " ".join(i.value for i in at.info)
    assert "Unknown period" in notes and "999" in notes and "comparison" in notes


def test_a_database_that_is_down_gives_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("REPORTING_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "cannot be used right now" in at.error[0].value


def test_a_database_without_the_contract_tables_gives_a_message(tmp_path, monkeypatch) -> None:
    import sqlite3

    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("create table something_else (x int)").connection.commit()
    monkeypatch.setenv("REPORTING_DB_URL", f"sqlite:///{empty}")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "missing counties" in at.error[0].value
    assert empty.stat().st_size > 0  # untouched: the app created nothing


def test_a_page_bug_shows_a_message_not_a_traceback(app, monkeypatch) -> None:
    import queries.indicators

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.delenv("USALAMA_RAISE_PAGE_ERRORS")
    monkeypatch.setattr(queries.indicators, "headline", broken)
    at = app()
    assert not at.exception
    assert "could not be drawn" in at.error[0].value
    assert "simulated bug" not in at.error[0].value
