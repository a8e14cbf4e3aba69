"""The app driven through AppTest: the Overview cards show the query layer's numbers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.pages import OVERVIEW
from queries.db import make_engine
from queries.indicators import headline
from tests.app_support import (
    THRESHOLD,
    cards_shown,
    clear_caches,
    expected_cards,
    filters_of,
    open_page,
    run_app,
)


@pytest.fixture
def app(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(**query_params: str) -> AppTest:
        return open_page(demo_db_path, monkeypatch, query_params)

    return make


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
    filters = filters_of(params)
    shown = cards_shown(at)
    assert shown == expected_cards(demo_db_path, filters, OVERVIEW.cards)
    assert any("Synthetic demo data" in w.value for w in at.warning)


def test_a_broken_url_shows_notes_not_errors(app) -> None:
    at = app(period="fortnight", county="999", compare="x")
    assert not at.exception
    notes = " ".join(i.value for i in at.info)
    assert "Unknown period" in notes and "999" in notes and "comparison" in notes


# A trusted intranet deployment without login: the app reaches the database.
OPEN_INTRANET = {"access": {"open_role": "national"}}


def test_a_database_that_is_down_gives_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_caches()
    monkeypatch.setenv("REPORTING_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    at = run_app(timeout=60, secrets=OPEN_INTRANET)
    assert not at.exception
    assert "cannot be reached" in at.error[0].value and "reconnects by itself" in at.error[0].value


def test_a_database_without_the_contract_tables_gives_a_message(tmp_path, monkeypatch) -> None:
    import sqlite3

    clear_caches()
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("create table something_else (x int)").connection.commit()
    monkeypatch.setenv("REPORTING_DB_URL", f"sqlite:///{empty}")
    at = run_app(timeout=60, secrets=OPEN_INTRANET)
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


def test_only_a_meaningful_change_is_coloured(app) -> None:
    """Red or green tells an official a change matters: a change no test calls meaningful
    (or no test applies to) stays grey."""
    at = app()
    grey = 2  # Metric.MetricColor.GRAY
    changes = [m.proto for m in at.metric if m.proto.delta]
    untested = [p for p in changes if "· meaningful" not in p.delta]
    assert untested, "the default view should show changes that are not meaningful"
    assert all(p.color == grey for p in untested), [(p.label, p.delta) for p in untested]


@pytest.mark.parametrize(
    "params", [{}, {"county": "032"}, {"county": "001,032,047", "compare": "last_year"}]
)
def test_a_tested_change_says_whether_it_is_meaningful_or_normal_variation(
    app, demo_db_path: Path, params: dict
) -> None:
    """A change the test does not call meaningful says so ("+5 (+50.0%)" on a small count
    would otherwise read as a finding); a change no test applies to says that instead.
    The headline's test columns say which is which; the verdict is the card's to show."""
    at = app(**params)
    table = headline(
        make_engine(f"sqlite:///{demo_db_path}"), filters_of(params), THRESHOLD
    ).set_index("label")
    shown = {m.label: m.proto.delta for m in at.metric if m.proto.delta}
    checked = 0
    for label, delta in shown.items():
        row = table.loc[label]
        if pd.isna(row["change"]):
            continue  # "no valid comparison", "change hidden (privacy rule)", ...
        checked += 1
        if pd.isna(row["test"]):
            assert delta.endswith("· no test"), (label, delta)
        elif bool(row["meaningful"]):
            assert delta.endswith("· meaningful"), (label, delta)
        else:
            assert delta.endswith("· normal variation"), (label, delta)
    assert checked >= 4, shown


def _clock_at(monkeypatch: pytest.MonkeyPatch, now: dt.datetime) -> None:
    monkeypatch.setattr("queries.filters.now_eat", lambda: now)


def _staleness(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "No report for" in w.value]


def _latest_report_eat(db: Path) -> dt.datetime:
    """The demo's latest report time in EAT, read from its rows (stored as UTC text)."""
    with sqlite3.connect(db) as connection:
        stored = pd.read_sql("SELECT reported_at FROM incidents", connection)["reported_at"]
    # Parsed before taking the latest: text in several spellings does not sort by time.
    latest = pd.to_datetime(stored, format="mixed", utc=True).max()
    return latest.tz_localize(None).to_pydatetime() + dt.timedelta(hours=3)


def test_a_feed_that_stopped_is_said_on_the_page(app, demo_db_path, monkeypatch) -> None:
    latest = _latest_report_eat(demo_db_path)
    _clock_at(monkeypatch, latest + dt.timedelta(hours=47))  # under 48 h behind: say nothing
    assert _staleness(app()) == []
    now = latest + dt.timedelta(days=5, hours=10)
    _clock_at(monkeypatch, now)
    at = app()
    assert not at.exception
    (warning,) = _staleness(at)
    assert warning.startswith("**No report for 5 days.**")
    assert f"the clock reads {now:%d %b %Y, %H:%M} EAT" in warning
    assert f"The latest report is from {latest:%d %b %Y, %H:%M} EAT" in warning
    assert "rebuild it" in warning  # the demo's own advice


def test_a_stopped_reporting_database_points_to_the_data_team(demo_db_path, monkeypatch) -> None:
    clear_caches()
    monkeypatch.setenv("REPORTING_DB_URL", f"sqlite:///{demo_db_path}")
    _clock_at(monkeypatch, _latest_report_eat(demo_db_path) + dt.timedelta(days=3, hours=1))
    (warning,) = _staleness(run_app(timeout=60, secrets=OPEN_INTRANET))
    assert "No report for 3 days" in warning and "data team" in warning
