"""The first start's progress text: what the demo build is doing and about how long it has left."""

from __future__ import annotations

import time
from collections.abc import Callable

# Measured on the project's 2-core reference machine (README, Benchmarks): 200,000 incidents in
# about 1.4 s and 1,000,000 in about 5.5 s, i.e. ~5.5 s a million plus about a second of set-up.
SECONDS_PER_MILLION_INCIDENTS = 5.5
SETUP_SECONDS = 1.0
# Before this share of the build is done, the measured pace says little; the estimate from the
# size is used instead.
MEASURED_FROM_SHARE = 0.1


def expected_seconds(incidents: int) -> float:
    """About how long building a demo of this many incidents takes on the reference machine."""
    return SETUP_SECONDS + SECONDS_PER_MILLION_INCIDENTS * incidents / 1_000_000


def _seconds(value: float) -> str:
    whole = max(1, round(value))
    return f"{whole} second{'s' if whole != 1 else ''}"


class BuildProgress:
    """Turns the build's (share done, step) reports into the progress bar's text, with an
    estimate of the time left: from the size at first, then from the pace so far.

    Args:
        incidents: the demo's size.
        clock: seconds, monotonic (injected by tests).
    """

    def __init__(self, incidents: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.expected = expected_seconds(incidents)
        self._clock = clock
        self._started = clock()

    def text(self, share: float, step: str) -> str:
        """The bar's text at this share (0-1) of the build."""
        elapsed = self._clock() - self._started
        if share >= 1.0:
            return f"Demo database built in {_seconds(elapsed)}."
        if share >= MEASURED_FROM_SHARE:
            left = elapsed * (1.0 - share) / share
        else:
            left = max(self.expected - elapsed, 1.0)
        # Steps name tables ('rehab_referrals: 4,707 rows'): written as words.
        words = step.replace("_", " ")
        return (
            "First start: building the synthetic demo database (once; about "
            f"{_seconds(self.expected)} in all). {words[:1].upper()}{words[1:]}. "
            f"About {_seconds(left)} left."
        )
