"""Hostile links, generated: `filters_from_query_params` never raises, keeps every choice inside
the known counties, the user's scope and the data's dates, quotes what it ignores in short
one-line notes, and reads its own links back unchanged.

Hypothesis draws a bounded, fixed set of examples (derandomised, no deadline), so the run is
the same every time and takes no longer on a busy machine.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from queries.filters import (
    COMPARISONS,
    EARLIEST_DATE,
    PRESETS,
    Filters,
    filters_from_query_params,
)

AS_OF = dt.date(2026, 11, 27)
KNOWN = ("001", "002", "032", "047")
WARDS = {"032": ("KEW-0900", "KEW-0901"), "001": ("KEW-0001",)}
KEYS = ("period", "from", "to", "compare", "county", "ward")

# Plausible tokens mixed with arbitrary text: markdown, SQL, control characters, very long.
TOKENS = st.sampled_from(
    [
        *PRESETS,
        *COMPARISONS,
        *KNOWN,
        *WARDS["032"],
        "999",
        "all",
        "2025-07-01",
        "2026-11-27",
        "2026-11-28",
        "2019-12-31",
        "2025-02-30",
        "[log in](https://evil.example/login)",
        "![t](https://evil.example/px.png)",
        "x\nINFO dashboard.audit: export by=ps@interior.go.ke",
        "'; DROP TABLE incidents; --",
        "\x00",
        "0" * 5000,
    ]
)
VALUES = st.one_of(
    TOKENS,
    st.text(max_size=60),
    st.lists(TOKENS, max_size=4).map(",".join),
)
PARAMS = st.dictionaries(
    st.one_of(st.sampled_from(KEYS), st.text(max_size=10)),
    st.one_of(VALUES, st.lists(VALUES, max_size=3)),
    max_size=7,
)
SCOPES = st.one_of(st.none(), st.sampled_from([("032",), ("001", "002"), ("047",)]))

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def _parse(params, scope) -> tuple[Filters, list[str]]:
    return filters_from_query_params(params, AS_OF, KNOWN, WARDS, scope=scope)


@FUZZ
@given(params=PARAMS, scope=SCOPES)
def test_any_link_gives_valid_filters(params, scope) -> None:
    filters, notes = _parse(params, scope)
    assert filters.preset in PRESETS and filters.comparison in COMPARISONS
    assert EARLIEST_DATE <= filters.start <= filters.end <= AS_OF
    assert set(filters.counties) <= set(KNOWN)
    if scope is not None:
        assert set(filters.counties) <= set(scope)
        assert set(filters.county_codes or ()) <= set(scope)
    if filters.wards:
        assert len(filters.counties) == 1
        assert set(filters.wards) <= set(WARDS.get(filters.counties[0], ()))
    for note in notes:
        assert "\n" not in note and "\r" not in note and "\x00" not in note
        assert len(note) <= 400, note


@FUZZ
@given(params=PARAMS, scope=SCOPES)
def test_the_link_a_selection_writes_reads_back_unchanged(params, scope) -> None:
    filters, _ = _parse(params, scope)
    again, notes = _parse(filters.to_query_params(), scope)
    assert notes == []
    assert again == filters
