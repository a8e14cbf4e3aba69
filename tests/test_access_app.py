"""Who sees what, through the real app: login, no-access page, county scope, demo switcher,
and the app on PostgreSQL as a SELECT-only role."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.pages import OVERVIEW
from queries.db import make_engine
from queries.filters import Filters, preset_period
from queries.indicators import headline
from tests.app_support import (
    cards_shown,
    clear_caches,
    expected_cards,
    filters_of,
    run_app,
    use_demo_db,
)
from tests.clock import TEST_AS_OF, TEST_TODAY

ROOT = Path(__file__).resolve().parent.parent
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "dashboard",
    "client_secret": "secret",
    "server_metadata_url": "https://login.example.go.ke/.well-known/openid-configuration",
}
ACCESS = {
    "contact": "dashboard-help@example.go.ke",
    "users": {
        "ps@example.go.ke": "national",
        "nakuru@example.go.ke": {"role": "county", "counties": ["032"]},
    },
}


def _app(user: dict, params: dict[str, str] | None = None, clear: bool = True) -> AppTest:
    if clear:
        clear_caches()
    return run_app(params, secrets={"auth": AUTH, "access": ACCESS}, user=user)


@pytest.fixture
def demo_env(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_demo_db(demo_db_path, monkeypatch)


def _assert_cards(at: AppTest, db_url: str, counties: tuple[str, ...]) -> None:
    """The cards on screen show the headline values for these counties over the last 28 days."""
    shown = cards_shown(at)
    assert shown == expected_cards(
        db_url, filters_of({"county": ",".join(counties)}), OVERVIEW.cards
    )


def test_login_page_before_any_data(demo_env) -> None:
    at = _app({"is_logged_in": False})
    assert not at.exception
    assert at.title[0].value == "Usalama Mitaani dashboard"
    assert [b.label for b in at.button] == ["Log in"]
    assert len(at.metric) == 0


def test_unknown_identity_gets_a_polite_no_access_page(demo_env) -> None:
    at = _app({"is_logged_in": True, "email": "stranger@example.com"})
    assert not at.exception
    assert at.title[0].value == "No access yet"
    assert "dashboard-help@example.go.ke" in at.markdown[0].value
    assert len(at.metric) == 0


@pytest.mark.parametrize("county_param", ["047", "001", "all", "047,001", "032,047", None])
def test_county_user_sees_only_their_county(demo_env, county_param) -> None:
    params = {"county": county_param} if county_param else {}
    at = _app({"is_logged_in": True, "email": "nakuru@example.go.ke"}, params)
    assert not at.exception
    _assert_cards(at, f"sqlite:///{demo_env}", ("032",))
    assert len(at.metric) == len(OVERVIEW.cards)
    if county_param and county_param not in ("032",):
        assert any("032" in i.value or "Unknown" in i.value for i in at.info)
    # The county list offers only Nakuru, and the demo role switcher does not exist.
    assert at.multiselect(key="f_counties").options == ["Nakuru (032)"]
    assert not [r for r in at.radio if r.key == "demo_role"]


def test_cached_results_are_never_shared_across_scopes(demo_env) -> None:
    national = _app({"is_logged_in": True, "email": "ps@example.go.ke"})
    county = _app({"is_logged_in": True, "email": "nakuru@example.go.ke"}, clear=False)
    again = _app({"is_logged_in": True, "email": "ps@example.go.ke"}, clear=False)
    url = f"sqlite:///{demo_env}"
    _assert_cards(national, url, ())
    _assert_cards(county, url, ("032",))
    assert cards_shown(again) == cards_shown(national) != cards_shown(county)


def test_demo_mode_has_the_role_switcher_and_says_so(demo_env) -> None:
    clear_caches()
    at = run_app()
    assert not at.exception
    switcher = at.radio(key="demo_role")
    switcher.set_value("county").run()
    assert at.selectbox(key="demo_county").value == "032"
    _assert_cards(at, f"sqlite:///{demo_env}", ("032",))
    assert any("open to anyone" in c.value for c in at.sidebar.caption)


def test_a_real_database_without_login_shows_nothing(demo_env, monkeypatch) -> None:
    monkeypatch.setenv("REPORTING_DB_URL", f"sqlite:///{demo_env}")
    clear_caches()
    at = run_app()
    assert not at.exception
    assert "Login is not configured" in at.error[0].value
    assert len(at.metric) == 0 and not [r for r in at.radio if r.key == "demo_role"]


@pytest.fixture(scope="module")
def pg_demo(postgres_server):
    """The demo data in a PostgreSQL database, built once for this module."""
    from sqlalchemy import create_engine, text

    from queries.demo import build_demo

    admin = create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "access_demo" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "access_demo"'))
    build_demo(postgres_server.url("access_demo"), seed=42, incidents=20_000, today=TEST_TODAY)
    yield "access_demo"
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "access_demo" WITH (FORCE)'))
    admin.dispose()


def test_app_and_indicators_command_work_as_a_select_only_role(
    pg_demo, readonly_role, monkeypatch
) -> None:
    reader_url = readonly_role(pg_demo)
    monkeypatch.setenv("REPORTING_DB_URL", reader_url)
    at = _app({"is_logged_in": True, "email": "nakuru@example.go.ke"})
    assert not at.exception and not at.error
    _assert_cards(at, reader_url, ("032",))

    start, end = preset_period("last_28_days", TEST_AS_OF)
    command = [
        sys.executable,
        "-m",
        "queries.indicators",
        "--url",
        reader_url,
        "--from",
        str(start),
        "--to",
        str(end),
        "--county",
        "032",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    printed = json.loads(result.stdout)["indicators"]
    expected = headline(
        make_engine(reader_url), Filters(start=start, end=end, counties=("032",)), 5
    ).set_index("indicator")
    assert printed["incidents_reported"] == expected.loc["incidents_reported", "value"]

    from sqlalchemy import text

    writer = make_engine(reader_url, read_only=False)
    with pytest.raises(Exception, match=r"permission denied|read-only"), writer.begin() as conn:
        conn.execute(text("DELETE FROM incidents"))
