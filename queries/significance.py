"""When a change is "meaningful": the tests behind the marker, each stated for an official.

A process that did not change is marked meaningful by chance in about 0.27% of comparisons
(|z| >= 3 of a standard normal, two-sided). Medians and figures that are not like-for-like get
no marker at all.
"""

from __future__ import annotations

import math

import numpy as np

MEANINGFUL_Z = 3.0
# A two-proportion test needs this many cases in and out of the share on each side.
MIN_CASES_FOR_SHARE_TEST = 5
# A county with no incidents at all in a period, after at least this many in the comparison
# period, has most likely stopped reporting: no incident by chance has a probability of e^-10
# (under 1 in 20,000). Its fall to zero is not a change in crime and is not compared.
REPORTING_GAP_MIN_PREVIOUS = 10
# A card's few words for such a fall.
REPORTING_GAP_SHORT = "reporting stopped?"

# What a screen says of a tested change the test does not call meaningful.
NORMAL_VARIATION = "normal variation"
POISSON_TEST = (
    "Meaningful: a change of this size in a count happens by chance less than 3 times in 1,000 "
    "(variance-stabilised Poisson test, z = √2 (√a − √b), |z| ≥ 3)."
)
SHARE_TEST = (
    "Meaningful: a change of this size in a share of this many cases happens by chance less "
    "than 3 times in 1,000 (two-proportion test, |z| ≥ 3)."
)


def poisson_z(current, previous):
    """Variance-stabilised difference of two Poisson counts: sqrt(2) * (sqrt(a) - sqrt(b)), of
    numbers or, element by element, of aligned Series or arrays.

    2 * sqrt(X) has variance close to 1 for a Poisson count X, so the difference of two such
    terms has variance 2: dividing by sqrt(2) makes it roughly standard normal under no real
    change, and |z| >= 3 then happens by chance about 3 times in 1,000. (Without the division,
    as until v1.1, about 3.5 in 100 unchanged counts were marked.)
    """
    return math.sqrt(2.0) * (np.sqrt(np.maximum(current, 0.0)) - np.sqrt(np.maximum(previous, 0.0)))


def is_reporting_gap(current, previous):
    """Whether a place's fall to no incident at all is a stop in reporting (no incident now
    after at least REPORTING_GAP_MIN_PREVIOUS before). Takes numbers or aligned Series."""
    return (current == 0) & (previous >= REPORTING_GAP_MIN_PREVIOUS)


def is_meaningful_count_change(current, previous):
    """Whether counts changed more than chance explains: |poisson_z| >= MEANINGFUL_Z, of
    numbers or element by element."""
    return abs(poisson_z(current, previous)) >= MEANINGFUL_Z


def reporting_gap_note(place: str, previous: float) -> str:
    """Why a place's fall to no incidents at all is not compared (REPORTING_GAP_MIN_PREVIOUS)."""
    return (
        f"No comparison: {place} reported no incidents in this period, after {previous:,.0f} "
        "in the comparison period; its reporting has most likely stopped."
    )


def two_proportion_z(
    hits: float, cases: float, hits_before: float, cases_before: float
) -> float | None:
    """The pooled two-proportion z of hits/cases against hits_before/cases_before, or None when
    either side has fewer than MIN_CASES_FOR_SHARE_TEST cases in or out of the share (the
    normal approximation does not hold there, and we do not claim what we cannot test)."""
    for h, n in ((hits, cases), (hits_before, cases_before)):
        if min(h, n - h) < MIN_CASES_FOR_SHARE_TEST:
            return None
    pooled = (hits + hits_before) / (cases + cases_before)
    spread = math.sqrt(pooled * (1.0 - pooled) * (1.0 / cases + 1.0 / cases_before))
    if spread == 0:
        return None
    return (hits / cases - hits_before / cases_before) / spread
