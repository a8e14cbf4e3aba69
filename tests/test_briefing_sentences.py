"""The briefing's headline sentences on hand-made figures: rises, falls, meaningful or not, no
test, a hidden figure, an invalid comparison, no value. And the figure a headline row becomes."""

from __future__ import annotations

import pandas as pd
import pytest

from queries.briefing.build import figure_from_row, place_text
from queries.briefing.model import Figure
from queries.briefing.sentences import comparison_label, figure_sentence

AGAINST = "the previous 28 days"


def _count(**changes) -> Figure:
    base = {
        "key": "incidents_reported",
        "label": "Incidents reported",
        "unit": "incidents",
        "kind": "count",
        "value": 616.0,
        "text": "616",
    }
    return Figure(**{**base, **changes})


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        (
            _count(change=-84.0, change_pct=-12.0, test="poisson", meaningful=False),
            "Incidents reported in Nakuru fell 12.0% (-84) to 616 against the previous 28 days; "
            "within normal variation.",
        ),
        (
            _count(change=154.0, change_pct=33.3, test="poisson", meaningful=True),
            "Incidents reported in Nakuru rose 33.3% (+154) to 616 against the previous 28 days; "
            "a meaningful change (Poisson test, |z| ≥ 3).",
        ),
        (
            _count(change=0.0, change_pct=0.0, test="poisson", meaningful=False),
            "Incidents reported in Nakuru stayed at 616 against the previous 28 days; "
            "within normal variation.",
        ),
        (
            _count(
                key="people_trained",
                label="People trained",
                kind="sum",
                unit="people",
                change=128.0,
                change_pct=1.5,
            ),
            "People trained in Nakuru rose 1.5% (+128) to 616 against the previous 28 days; "
            "no significance test applies to this figure.",
        ),
        (
            _count(
                key="ra_reporting_rate",
                label="RA reporting rate",
                kind="pct",
                unit="%",
                value=64.04,
                change=-2.14,
                change_pct=-3.2,
                test="two_proportion",
                meaningful=True,
            ),
            "RA reporting rate in Nakuru fell 2.1 points to 64.0% against the previous 28 days; "
            "a meaningful change (two-proportion test, |z| ≥ 3).",
        ),
        (
            _count(
                note="No comparison: the previous period starts before Nakuru joined the "
                "programme on 08 Jun 2025."
            ),
            "Incidents reported in Nakuru: 616. No comparison: the previous period starts before "
            "Nakuru joined the programme on 08 Jun 2025.",
        ),
        (
            _count(value=None, text="No data", note="No case is 7 days old yet."),
            "Incidents reported in Nakuru: no value for this period. No case is 7 days old yet.",
        ),
    ],
    ids=["fall", "meaningful-rise", "unchanged", "untested", "pct", "invalid", "no-value"],
)
def test_sentences(figure: Figure, expected: str) -> None:
    assert figure_sentence(figure, "Nakuru", AGAINST) == expected


def test_a_hidden_figure_is_never_described() -> None:
    hidden = _count(
        key="rehab_referrals",
        label="Rehab referrals",
        value=None,
        text="<5",
        hidden=True,
        hidden_label="<5",
    )
    sentence = figure_sentence(hidden, "Lamu", AGAINST)
    assert sentence == (
        "Rehab referrals in Lamu: not shown, under the privacy rule for rehabilitation figures."
    )
    assert not any(ch.isdigit() for ch in sentence)


def _row(**changes) -> pd.Series:
    base = {
        "indicator": "rehab_referrals",
        "value": 3.0,
        "comparison_value": 9.0,
        "change": -6.0,
        "change_pct": -66.7,
        "z": -1.8,
        "test": "poisson",
        "meaningful": False,
        "note": None,
        "suppressed": False,
        "small": False,
    }
    return pd.Series({**base, **changes})


def test_a_suppressed_row_keeps_neither_value_nor_change() -> None:
    figure = figure_from_row(_row(value=None, suppressed=True, small=True), threshold=5)
    assert figure.hidden and figure.value is None and figure.text == "<5"
    assert figure.change is None and figure.change_text is None and figure.direction is None
    assert figure.comparison is None and not figure.meaningful


def test_a_county_slide_hides_what_the_county_protection_hides() -> None:
    figure = figure_from_row(_row(value=12.0), threshold=5, hidden=True)
    assert figure.hidden and figure.value is None and figure.text == "Suppressed"
    assert figure.change is None


def test_an_invalid_comparison_gives_no_arrow() -> None:
    row = _row(
        value=40.0,
        comparison_value=None,
        change=None,
        change_pct=None,
        z=None,
        test=None,
        note="No comparison: the previous period overlaps this period.",
    )
    figure = figure_from_row(row, threshold=5)
    assert figure.direction is None and figure.change_text is None and not figure.meaningful
    assert figure_sentence(figure, "Kenya", AGAINST).endswith("overlaps this period.")


def test_meaningful_needs_a_test_and_a_change() -> None:
    figure = figure_from_row(_row(value=40.0, change=None, meaningful=True), threshold=5)
    assert not figure.meaningful


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (None, "all counties"),
        (("032",), "Nakuru"),
        (("032", "001"), "Nakuru and Mombasa"),
        (("032", "001", "047"), "Nakuru, Mombasa and Nairobi"),
        (("032", "001", "047", "005"), "4 counties"),
    ],
)
def test_place_text(codes, expected) -> None:
    names = {"001": "Mombasa", "005": "Lamu", "032": "Nakuru", "047": "Nairobi"}
    assert place_text(codes, names) == expected


def test_comparison_label() -> None:
    assert comparison_label("previous", 28) == "the previous 28 days"
    assert comparison_label("last_year", 28) == "the same period last year"
