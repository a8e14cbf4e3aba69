"""How the dashboard's tables show numbers: thousands separated, with one number of decimals per
column (a projected table whose rows read "4", "3.3" and "1313" is hard to compare)."""

from __future__ import annotations

import pandas as pd

from dashboard.components import column_number_formats


def test_each_numeric_column_gets_thousands_and_the_decimals_its_values_need() -> None:
    table = pd.DataFrame(
        {
            "County": ["Nairobi", "Nakuru", "Mombasa"],
            "Incidents": [124041, 1313, 8],
            "Rate per 100k": [4.0, 3.3, None],
            "Share %": [12.25, 3.5, 100.0],
            "Hours": [1.23456, 2.0, 0.5],
            "Counted": pd.array([3, None, 1200], dtype="Int64"),
            "Whole floats": [2.0, 160.0, 225.0],
            "Hidden": ["<5", 12, "suppressed"],
            "Joined": [True, False, True],
        }
    )
    assert column_number_formats(table) == {
        "Incidents": "%,d",
        "Rate per 100k": "%,.1f",
        "Share %": "%,.2f",
        "Hours": "%,.2f",  # at most two decimals: the tables round before they show
        "Counted": "%,d",
        "Whole floats": "%,d",
    }


def test_an_empty_numeric_column_is_shown_as_whole_numbers() -> None:
    table = pd.DataFrame({"County": ["Nairobi"], "Rate": [float("nan")]})
    assert column_number_formats(table) == {"Rate": "%,d"}
