"""Small-cell suppression: primary and secondary, on hand-made cells."""

from __future__ import annotations

import pandas as pd
import pytest

from queries.privacy import (
    labelled_for_display,
    suppress_counts,
    suppress_ratio,
    suppression_threshold,
)


def test_primary_and_secondary_suppression_in_one_dimension() -> None:
    cells = pd.DataFrame({"county": ["a", "b", "c", "d"], "n": [3, 0, 12, 40]})
    result = suppress_counts(cells, "n", threshold=5)
    # 3 is hidden; the total (55) is published, so the smallest other non-zero (12) goes too.
    assert result["n_suppressed"].tolist() == [True, False, True, False]
    assert result["n"].isna().tolist() == [True, False, True, False]


def test_no_secondary_needed_when_two_cells_are_already_hidden() -> None:
    cells = pd.DataFrame({"n": [1, 2, 50]})
    assert suppress_counts(cells, "n", 5)["n_suppressed"].tolist() == [True, True, False]


def test_two_dimensional_margins_converge() -> None:
    cells = pd.DataFrame(
        {
            "county": ["a", "a", "b", "b"],
            "month": ["jan", "feb", "jan", "feb"],
            "n": [2, 10, 20, 30],
        }
    )
    result = suppress_counts(cells, "n", 5, margins=[("county",), ("month",)])
    hidden = dict(zip(zip(result["county"], result["month"]), result["n_suppressed"]))
    # a/jan primary; county a needs a/feb; month jan needs b/jan; then county b needs b/feb.
    assert all(hidden.values())
    for margin in ("county", "month"):
        assert (result.groupby(margin)["n_suppressed"].sum() != 1).all()


def test_ratio_suppressed_when_any_support_count_is_small() -> None:
    frame = pd.DataFrame({"pct": [50.0, 40.0, 10.0], "num": [5, 4, 0], "den": [10, 10, 3]})
    result = suppress_ratio(frame, "pct", ["num", "den"], 5)
    assert result["pct_suppressed"].tolist() == [False, True, True]


def test_display_labels() -> None:
    frame = pd.DataFrame(
        {
            "rehab_referrals": [float("nan"), 9.0],
            "rehab_referrals_suppressed": [True, False],
            "referral_admission_pct": [float("nan"), 50.0],
            "referral_admission_pct_suppressed": [True, False],
        }
    )
    shown = labelled_for_display(frame, 5)
    assert shown["rehab_referrals"].tolist() == ["<5", "9"]
    assert shown["referral_admission_pct"].tolist() == ["suppressed", "50"]
    assert list(shown.columns) == ["rehab_referrals", "referral_admission_pct"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 5),
        ({"USALAMA_SUPPRESSION_THRESHOLD": "10"}, 10),
        ({"USALAMA_SUPPRESSION_THRESHOLD": "1"}, 5),
        ({"USALAMA_SUPPRESSION_THRESHOLD": "x"}, 5),
    ],
)
def test_threshold_configuration(env, expected, tmp_path) -> None:
    assert suppression_threshold(env, tmp_path / "absent.toml") == expected


def test_threshold_from_secrets(tmp_path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[privacy]\nthreshold = 11\n")
    assert suppression_threshold({}, secrets) == 11


def test_hidden_cells_that_can_only_be_ones_are_protected() -> None:
    # Total 12 is published: 10 shown, so the two hidden cells sum to 2 and must both be 1.
    cells = pd.DataFrame({"n": [1, 1, 10]})
    result = suppress_counts(cells, "n", threshold=5)
    assert result["n_suppressed"].tolist() == [True, True, True]
    # Two hidden cells of 1 and 3 sum to 4, which 1+3 or 2+2 could make: nothing more to hide.
    cells = pd.DataFrame({"n": [1, 3, 10]})
    assert suppress_counts(cells, "n", 5)["n_suppressed"].tolist() == [True, True, False]


def test_only_small_counts_read_less_than_five() -> None:
    cells = pd.DataFrame({"county": ["a", "b", "c"], "n": [3, 12, 40]})
    shown = labelled_for_display(suppress_counts(cells, "n", 5), 5)
    # 3 is small; 12 is hidden only so that 55 - 40 cannot give 3 away: it is not "<5".
    assert shown["n"].tolist() == ["<5", "suppressed", "40"]
    assert list(shown.columns) == ["county", "n"]


@pytest.mark.parametrize(
    ("cells", "hidden"),
    [
        # 1 hides; the smallest other cell (5) joins it, but "<5" + "suppressed" = 6 pins 1 and 5,
        # so 40 must go too.
        ([1, 5, 40], [True, True, True]),
        # 1 + 12 = 13: the "<5" cell can be 1 to 4 (the other 12 down to 9): safe.
        ([1, 12, 40], [True, True, False]),
        # Two "<5" cells summing to 8 can only be 4 and 4.
        ([4, 4, 40], [True, True, True]),
        ([0, 0, 7], [False, False, False]),
    ],
)
def test_bounds_of_the_labels_never_pin_a_small_cell(cells, hidden) -> None:
    result = suppress_counts(pd.DataFrame({"n": cells}), "n", 5)
    assert result["n_suppressed"].tolist() == hidden
