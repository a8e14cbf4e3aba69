"""The one test that uses the wall clock: the app on a demo built for the real today.

Every other test lives on `tests.clock.TEST_TODAY`, so the suite's answers never depend on the
day it runs; this smoke test checks that the real day (whatever its month, quarter or financial
year) still draws every page, and that periods end on the data's as-of date, not the calendar's.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from dashboard.pages import COUNTY_PROFILE, Page, visible_pages
from queries.demo import build_demo
from queries.filters import today_eat
from tests.app_support import open_page, path_of


@pytest.fixture(scope="module")
def real_today_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real_today") / "demo.sqlite"
    build_demo(f"sqlite:///{path}", seed=7, incidents=5_000, today=today_eat())
    return path


@pytest.mark.parametrize(
    "page", visible_pages(sees_data_quality=False), ids=lambda page: page.url_path
)
def test_every_page_draws_on_the_real_today(
    real_today_db: Path, monkeypatch: pytest.MonkeyPatch, page: Page
) -> None:
    params = {"county": "032"} if page is COUNTY_PROFILE else {}
    at = open_page(real_today_db, monkeypatch, params, path_of(page))
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_periods_end_on_the_data_as_of_date(
    real_today_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(real_today_db) as connection:
        (latest,) = connection.execute("SELECT max(reported_at) FROM incidents").fetchone()
    as_of = (dt.datetime.fromisoformat(latest) + dt.timedelta(hours=3)).date()
    at = open_page(real_today_db, monkeypatch, {})
    captions = [c.value for c in at.sidebar.caption]
    expected = f"{as_of - dt.timedelta(days=27):%d %b %Y} – {as_of:%d %b %Y}"
    assert expected in captions, captions
