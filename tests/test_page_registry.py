"""The page registry (dashboard.pages) against the app: every page is registered once, and every
page shows exactly the headline cards the registry lists, with the query layer's values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.pages import PAGES, VIEWS_DIR, Page, visible_pages
from queries.indicators import INDICATOR_BY_KEY
from tests.app_support import cards_shown, expected_cards, filters_of, open_page, path_of

# One county, so that the County profile shows its cards instead of asking for a county.
PARAMS = {"county": "032"}


def test_every_view_is_registered_once() -> None:
    assert sorted(page.file for page in PAGES) == sorted(p.name for p in VIEWS_DIR.glob("*.py"))
    assert len({page.url_path for page in PAGES}) == len(PAGES)
    assert sum(page.default for page in PAGES) == 1
    for page in PAGES:
        assert page.script.is_file(), page.file
        assert set(page.cards) <= set(INDICATOR_BY_KEY), page.title


@pytest.mark.parametrize(
    "page", visible_pages(sees_data_quality=False), ids=lambda page: page.url_path
)
def test_the_cards_on_screen_are_the_registry_cards(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch, page: Page
) -> None:
    at = open_page(demo_db_path, monkeypatch, PARAMS, path_of(page))
    assert not at.exception, [e.value for e in at.exception]
    shown = cards_shown(at)
    assert list(shown) == [INDICATOR_BY_KEY[key].label for key in page.cards]
    assert shown == expected_cards(demo_db_path, filters_of(PARAMS), page.cards)
