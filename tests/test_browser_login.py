"""Login end to end: the served app, a real OpenID Connect provider (tests/oidc_support.py) and
Chromium, as a national user, a county coordinator, an unknown user and an unverified e-mail;
logging out ends the access."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from dashboard.pages import OVERVIEW
from queries.db import make_engine
from queries.reference import county_list
from tests.app_support import expected_cards, filters_of
from tests.browser_support import metric_cards, page_errors, table_column, wait_for_streamlit
from tests.oidc_support import app_with_login, log_in

# The provider (oidc-provider-mock) still uses Authlib APIs that Authlib has deprecated.
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

NATIONAL = "ps@example.go.ke"
COORDINATOR = "nakuru@example.go.ke"
STRANGER = "stranger@example.go.ke"
UNVERIFIED = "unverified@example.go.ke"
CONTACT = "dashboard-help@example.go.ke"
# The provider vouches for every address but UNVERIFIED's, which the access list does name.
PROVIDER_USERS = {
    email: {"email": email, "email_verified": email != UNVERIFIED, "name": email.split("@")[0]}
    for email in (NATIONAL, COORDINATOR, STRANGER, UNVERIFIED)
}
# The county league table's first columns (dashboard/charts/overview.py).
LEAGUE = ("County", "Code", "Incidents")
ACCESS_USERS = {
    NATIONAL: "national",
    COORDINATOR: {"role": "county", "counties": ["032"]},
    UNVERIFIED: "national",
}


@pytest.fixture(scope="module")
def login_app(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_with_login(
        demo_db_path,
        tmp_path_factory.mktemp("login-secrets"),
        PROVIDER_USERS,
        ACCESS_USERS,
        contact=CONTACT,
    ) as base_url:
        yield base_url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    yield context.new_page()
    context.close()


def _sidebar(page: Page) -> str:
    return page.inner_text('[data-testid="stSidebar"]')


def _shows_login_prompt(page: Page) -> bool:
    return (
        page.get_by_role("button", name="Log in").count() == 1
        and page.locator('[data-testid="stMetric"]').count() == 0
    )


def test_national_user_sees_every_county_until_logging_out(login_app, page, demo_db_path) -> None:
    page.goto(login_app)
    wait_for_streamlit(page)
    assert _shows_login_prompt(page)

    log_in(page, login_app, NATIONAL)
    assert page_errors(page) == []
    assert f"Viewing as {NATIONAL} · national user" in _sidebar(page)
    assert metric_cards(page) == expected_cards(demo_db_path, filters_of({}), OVERVIEW.cards)
    league = table_column(page, LEAGUE, "County")
    counties = county_list(make_engine(f"sqlite:///{demo_db_path}"))
    assert len(league) == 47 and set(league) == set(counties["county_name"])

    page.get_by_role("button", name="Log out").click()
    # The provider offers an end-session page (RP-initiated logout), then sends the browser back.
    page.wait_for_url(lambda url: "/oauth2/end_session" in url, timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(lambda url: url.startswith(login_app), timeout=30_000)
    wait_for_streamlit(page)
    assert _shows_login_prompt(page)
    page.reload()
    wait_for_streamlit(page)
    assert _shows_login_prompt(page)
    assert NATIONAL not in page.inner_text("body")


def test_county_coordinator_sees_only_their_county(login_app, page, demo_db_path) -> None:
    # A link naming another county still shows only Nakuru.
    log_in(page, login_app, COORDINATOR, path="/?county=047")
    assert page_errors(page) == []
    assert f"Viewing as {COORDINATOR} · county coordinator (032)" in _sidebar(page)
    assert table_column(page, LEAGUE, "Code") == ["032"]
    assert metric_cards(page) == expected_cards(
        demo_db_path, filters_of({"county": "032"}), OVERVIEW.cards
    )


@pytest.mark.parametrize("email", [STRANGER, UNVERIFIED], ids=["unknown", "email-unverified"])
def test_no_access_without_a_listed_and_verified_address(login_app, page, email) -> None:
    log_in(page, login_app, email)
    body = page.inner_text("body")
    assert "No access yet" in body and CONTACT in body and email in body
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert "Viewing as" not in body and page.locator(".print-table").count() == 0
