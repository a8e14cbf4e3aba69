"""Four logged-in sessions at once on one server (tests/load_support.py): different users,
scopes, pages and filters, each page checked against the query layer for its own session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.pages import OVERVIEW, TRAINING
from tests.load_support import access_users, expected, provider_users, run_load, sessions
from tests.oidc_support import app_with_login

# The provider (oidc-provider-mock) still uses Authlib APIs that Authlib has deprecated.
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

# Two sessions open the Overview while the other two open Training, then they swap: the same
# page drawn at the same moment for different users and filters is where mixed-up results would
# show.
LOAD = sessions(4, pages_each=2, pages=(OVERVIEW, TRAINING))


@pytest.fixture(scope="module")
def load_app(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_with_login(
        demo_db_path,
        tmp_path_factory.mktemp("load-secrets"),
        provider_users(LOAD),
        access_users(LOAD),
    ) as base_url:
        yield base_url


def test_concurrent_sessions_each_see_their_own_figures(load_app, demo_db_path) -> None:
    # The four sessions differ (national, county 032, national with Nairobi, county 001), so a
    # page showing another session's figures could not pass as its own.
    assert {s.role for s in LOAD} == {"national", "county"}
    want = expected(demo_db_path, LOAD)
    overview_cards = [want.cards[(s.email, OVERVIEW.url_path)] for s in LOAD]
    assert len({tuple(sorted(c.items())) for c in overview_cards}) == len(LOAD)

    visits = run_load(load_app, LOAD, want)
    assert len(visits) == len(LOAD) * 2
    assert {(v.session.email, v.page.url_path): v.problems for v in visits} == {
        (s.email, page.url_path): [] for s in LOAD for page in s.pages
    }
