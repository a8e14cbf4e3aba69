"""The edge cases the demo plants on purpose, and the helper that plants invalid values."""

from __future__ import annotations

import datetime as dt

import numpy as np

# What each constant means is told in the package docstring (queries/demo/__init__.py).
NO_ACTIVITY_COUNTY = "005"
SMALL_REFERRAL_CELLS: dict[tuple[str, int], int] = {
    ("014", 1): 3,
    ("031", 1): 1,
    ("002", 2): 4,
    ("038", 1): 2,
    ("006", 3): 1,
}
MIDNIGHT_INCIDENT_TIMES: tuple[dt.datetime, ...] = (
    dt.datetime(2025, 6, 30, 20, 59, 59),
    dt.datetime(2025, 6, 30, 21, 0, 0),
    dt.datetime(2025, 6, 30, 20, 58, 30),
    dt.datetime(2025, 6, 30, 21, 1, 30),
    dt.datetime(2025, 6, 30, 20, 45, 0),
    dt.datetime(2025, 6, 30, 21, 14, 59),
    dt.datetime(2025, 12, 31, 20, 59, 59),
    dt.datetime(2025, 12, 31, 21, 0, 0),
    dt.datetime(2026, 6, 30, 20, 59, 59),
    dt.datetime(2026, 6, 30, 21, 0, 0),
)
PLANTED_INVALID_VALUES: dict[tuple[str, str], dict[str, int]] = {
    ("incidents", "category"): {"cattle_rustling": 3, "Theft": 2},
    ("incidents", "channel"): {"sms": 3},
    ("incidents", "severity"): {"critical": 1},
    ("forums", "forum_type"): {"chiefs_baraza": 1},
    ("rehab_referrals", "substance"): {"unknown_drug": 2},
}
OUT_OF_KENYA_COORDINATES: tuple[tuple[float, float], ...] = (
    (51.5, -0.12),
    (0.0, 0.0),
    (-1.286389, 136.817222),
)


def plant(values: np.ndarray, column: tuple[str, str], candidates: np.ndarray) -> None:
    """Overwrite the first candidate rows with the invalid values planted in this column."""
    planted = [v for v, count in PLANTED_INVALID_VALUES[column].items() for _ in range(count)]
    if len(candidates) < len(planted):
        raise RuntimeError(f"too few rows to plant invalid {column}")
    values[candidates[: len(planted)]] = planted
