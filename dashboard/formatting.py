"""How numbers read on screen: thousands separators, units, and the privacy rule's labels."""

from __future__ import annotations

import math

import pandas as pd

from queries.indicators import Indicator
from queries.privacy import flag_column, small_column, suppressed_label

# Characters that Streamlit's markdown (CommonMark, colour and icon directives, LaTeX) gives a
# meaning to: a link, an image, emphasis, ':red[...]', '$...$', raw HTML.
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~:$&")


def escape_markdown(text: str) -> str:
    """Text from outside (a link, a user) made inert for st.markdown, st.info and friends: every
    character markdown could act on is backslash-escaped, and line breaks become spaces."""
    flat = " ".join(text.splitlines())
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in flat)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def number(value: float | None, decimals: int = 0) -> str:
    """12345.6 -> '12,346'; missing -> '–'."""
    if _missing(value):
        return "–"
    return f"{value:,.{decimals}f}"


def indicator_value(
    indicator: Indicator,
    value: float | None,
    suppressed: bool,
    threshold: int,
    small: bool = True,
) -> str:
    """An indicator's value with its unit; under the privacy rule '<5' for a small count and
    'Suppressed' for anything else hidden; 'No data' where nothing was reported."""
    if suppressed:
        return suppressed_label(threshold) if indicator.kind == "count" and small else "Suppressed"
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


def indicator_value_text(
    value: float | None, suppressed: bool, threshold: int, small: bool = True
) -> str:
    """A count cell of a table: '1,234'; '<5' where the privacy rule hides a small count,
    'Suppressed' where it hides a larger one to protect another; '–' if missing."""
    if suppressed:
        return suppressed_label(threshold) if small else "Suppressed"
    return number(value)


def count_cells(frame: pd.DataFrame, column: str, threshold: int) -> list[str]:
    """A suppressed count column as table text, using its `_suppressed` and `_small` flags."""
    hidden = frame[flag_column(column)].astype(bool)
    small_flag = small_column(column)
    small = frame[small_flag].astype(bool) if small_flag in frame else pd.Series(True, frame.index)
    return [
        indicator_value_text(v, h, threshold, s)
        for v, h, s in zip(frame[column], hidden, small, strict=True)
    ]
