"""The briefing's headline sentences, written from the figures and never stronger than they are.

A change is "meaningful" only where the indicator's significance test said so; otherwise the
sentence says it is within normal variation or that no test applies. A hidden figure is never
described (neither its value nor its change), and a selection without a valid comparison gets
the value and the reason, never a direction.
"""

from __future__ import annotations

import math

from queries.briefing.model import Figure


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number_text(value: float, kind: str, unit: str = "") -> str:
    """A value as a sentence writes it: '1,234', '55.2%', '2.8 per 100,000', '68.2 hours'."""
    if kind in ("count", "sum"):
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{value:,.1f}%"
    if kind == "rate":
        return f"{value:,.1f} {unit}".strip()
    return f"{value:,.1f} {unit}".strip()


def change_text(kind: str, change: float | None, change_pct: float | None) -> str | None:
    """'+1,234 (+5.6%)' for counts, '+2.1 pts' for percentages; None when there is no change."""
    if _missing(change):
        return None
    if kind == "pct":
        return f"{change:+,.1f} pts"
    decimals = 0 if kind in ("count", "sum") else 1
    text = f"{change:+,.{decimals}f}"
    if not _missing(change_pct):
        text += f" ({change_pct:+.1f}%)"
    return text


def direction(change: float | None) -> str | None:
    """'up', 'down' or 'flat' for a change that is shown; None for none."""
    if _missing(change):
        return None
    if change > 0:
        return "up"
    if change < 0:
        return "down"
    return "flat"


def comparison_label(comparison: str, days: int) -> str:
    """'the previous 28 days' or 'the same period last year'."""
    if comparison == "last_year":
        return "the same period last year"
    return "the previous day" if days == 1 else f"the previous {days:,} days"


TEST_WORDS = {
    "poisson": "Poisson test, |z| ≥ 3",
    "two_proportion": "two-proportion test, |z| ≥ 3",
}


def figure_sentence(figure: Figure, place: str, against: str) -> str:
    """One sentence about one figure in one place, e.g. 'Incidents reported in Nakuru fell 12.0%
    (-84) against the previous 28 days; within normal variation.'

    Args:
        figure: the figure as the model holds it (hidden, change and test already decided).
        place: where ("all counties", "Nakuru").
        against: the comparison in words ("the previous 28 days").
    """
    subject = f"{figure.label} in {place}"
    if figure.hidden:
        return f"{subject}: not shown, under the privacy rule for rehabilitation figures."
    if _missing(figure.value):
        reason = f" {figure.note}" if figure.note else ""
        return f"{subject}: no value for this period.{reason}"
    value = number_text(figure.value, figure.kind, figure.unit)
    if _missing(figure.change):
        reason = f" {figure.note}" if figure.note else ""
        return f"{subject}: {value}.{reason}".rstrip()
    change = figure.change
    if change == 0:
        movement = f"stayed at {value} against {against}"
    else:
        verb = "rose" if change > 0 else "fell"
        if figure.kind == "pct":
            size = f"{abs(change):,.1f} points to {value}"
        elif not _missing(figure.change_pct):
            amount = change_text(figure.kind, change, None)
            # The card beside the sentence shows one decimal: a sentence rounding 9.45% to
            # "9%" under a card's "+9.5%" reads as an error on a projected slide.
            size = f"{abs(figure.change_pct):.1f}% ({amount}) to {value}"
        else:
            size = f"by {number_text(abs(change), figure.kind, figure.unit)} to {value}"
        movement = f"{verb} {size} against {against}"
    if figure.test is None:
        verdict = "no significance test applies to this figure"
    elif figure.meaningful:
        verdict = f"a meaningful change ({TEST_WORDS[figure.test]})"
    else:
        verdict = "within normal variation"
    return f"{subject} {movement}; {verdict}."


def county_change_sentence(
    name: str, current: float, previous: float, change_pct: float | None, against: str
) -> str:
    """A county with a meaningful change in incidents: 'Nakuru: incidents rose 41.0% (+120) to
    413 against the previous 28 days; a meaningful change (Poisson test, |z| ≥ 3).'"""
    change = current - previous
    verb = "rose" if change > 0 else "fell"
    size = (
        f"{abs(change_pct):.1f}% ({change:+,.0f})"
        if not _missing(change_pct)
        else f"by {abs(change):,.0f}"
    )
    return (
        f"{name}: incidents {verb} {size} to {current:,.0f} against {against}; "
        f"a meaningful change ({TEST_WORDS['poisson']})."
    )


def reporting_gap_sentence(name: str, previous: float, against: str) -> str:
    """A county that reported no incident at all in the period after many in the comparison:
    'Lamu: no incidents reported, against 28 in the previous 28 days; its reporting has most
    likely stopped, so the fall is not a change in crime and is not compared.'"""
    return (
        f"{name}: no incidents reported, against {previous:,.0f} in {against}; its reporting "
        "has most likely stopped, so the fall is not a change in crime and is not compared."
    )
