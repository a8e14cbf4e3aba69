"""The Glossary page: every indicator with its label, key, definition, unit, SQL and test."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.pages import GLOSSARY, visible_pages
from queries.indicators import (
    INDICATOR_BY_KEY,
    INDICATORS,
    significance_test,
    source_tables,
)
from tests.app_support import open_page


def test_the_glossary_lists_every_indicator(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_db_path, monkeypatch, {}, GLOSSARY.view)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Glossary"
    blocks = {e.label: " ".join(m.value for m in e.markdown) for e in at.expander}
    assert len(blocks) == len(INDICATORS)
    for indicator in INDICATORS:
        block = blocks[f"{indicator.label} · {indicator.unit}"]
        assert f"`{indicator.key}`" in block
        assert indicator.definition in block
        assert indicator.source in block
        for table in source_tables(indicator.key):
            assert f"`{table}`" in block
        if indicator.compare_instead:
            assert f"`{indicator.compare_instead}`" in block
    page = " ".join(m.value for m in at.markdown)
    assert "Privacy rule" in " ".join(s.value for s in at.subheader)
    assert "'<5'" in page and "'suppressed'" in page
    # The comparison rules a reader meets as "no comparison" notes on the pages.
    assert "When a change is shown" in [s.value for s in at.subheader]
    assert "08 Jun 2025" in page and "rise with the roll-out" in page
    assert "after 10 or more in the comparison period" in page


def test_the_glossary_is_for_every_user_and_has_no_cards() -> None:
    assert GLOSSARY in visible_pages(sees_data_quality=False)
    assert GLOSSARY.url_path == "glossary" and not GLOSSARY.cards


def test_each_indicator_has_its_test_and_tables() -> None:
    tests = {i.key: significance_test(i) for i in INDICATORS}
    assert tests["incidents_reported"] == "poisson"
    assert tests["incidents_resolved_7d_pct"] == "two_proportion"
    assert tests["median_hours_to_resolve"] is None
    assert tests["open_incidents"] is None  # as it stands now: never compared
    assert INDICATOR_BY_KEY["incidents_resolved_pct"].compare_instead in INDICATOR_BY_KEY
    assert source_tables("median_hours_to_resolve") == ("counties", "incidents")
    assert "rehab_referrals" in source_tables("rehab_referrals")
    for indicator in INDICATORS:
        assert source_tables(indicator.key), indicator.key


def test_every_card_points_to_the_glossary(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_db_path, monkeypatch, {"county": "032"})
    assert at.metric
    for metric in at.metric:
        assert metric.help.endswith("Definitions: Glossary page."), metric.label
