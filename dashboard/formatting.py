"""How numbers read on screen: thousands separators, units, and the privacy rule's labels."""

from __future__ import annotations

import math

import pandas as pd

from queries.indicators import Indicator
from queries.privacy import suppressed_label


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def number(value: float | None, decimals: int = 0) -> str:
    """12345.6 -> '12,346'; missing -> '–'."""
    if _missing(value):
        return "–"
    return f"{value:,.{decimals}f}"


def indicator_value(
    indicator: Indicator, value: float | None, suppressed: bool, threshold: int
) -> str:
    """An indicator's value with its unit, '<5' or 'Suppressed' under the privacy rule, or
    'No data' where nothing was reported."""
    if suppressed:
        return suppressed_label(threshold) if indicator.kind == "count" else "Suppressed"
    if _missing(value):
        return "No data"
    if indicator.kind in ("count", "sum"):
        return number(value)
    if indicator.kind == "pct":
        return f"{value:,.1f}%"
    if indicator.kind == "rate":
        return number(value, 1)
    return f"{value:,.1f} {indicator.unit}"


def change_text(indicator: Indicator, change: float | None, change_pct: float | None) -> str | None:
    """'+1,234 (+5.6%)' for counts, '+2.1 pts' for percentages; None when there is no change."""
    if _missing(change):
        return None
    if indicator.kind == "pct":
        return f"{change:+,.1f} pts"
    decimals = 0 if indicator.kind in ("count", "sum") else 1
    text = f"{change:+,.{decimals}f}"
    if not _missing(change_pct):
        text += f" ({change_pct:+.1f}%)"
    return text


def indicator_value_text(value: float | None, suppressed: bool, threshold: int) -> str:
    """A count cell of a table: '1,234', '<5' where the privacy rule hides it, '–' if missing."""
    return suppressed_label(threshold) if suppressed else number(value)
