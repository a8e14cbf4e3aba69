"""The first start's progress text: an estimate from the demo's size, then from the pace."""

from __future__ import annotations

from dashboard.demo_progress import BuildProgress, expected_seconds
from queries.demo import DEFAULT_INCIDENTS


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_estimate_follows_the_size_then_the_pace() -> None:
    clock = FakeClock()
    progress = BuildProgress(DEFAULT_INCIDENTS, clock=clock)
    assert expected_seconds(DEFAULT_INCIDENTS) == progress.expected == 2.1  # 1 + 5.5 * 0.2
    first = progress.text(0.0, "preparing geography")
    assert first.startswith("First start: building the synthetic demo database")
    assert "about 2 seconds in all" in first and "Preparing geography." in first
    assert first.endswith("About 2 seconds left.")
    # Half-way after 4 s (a slower machine): the pace says 4 s more, not the size's estimate.
    clock.now += 4.0
    assert progress.text(0.5, "incidents: 100,000 rows").endswith("About 4 seconds left.")
    clock.now += 4.0
    assert progress.text(1.0, "done") == "Demo database built in 8 seconds."
    assert "Rehab referrals: 4,707 rows." in progress.text(0.2, "rehab_referrals: 4,707 rows")


def test_a_bigger_demo_is_expected_to_take_longer() -> None:
    assert expected_seconds(1_000_000) == 6.5
    assert "about 1 second in all" in BuildProgress(100, clock=FakeClock()).text(0.0, "x")
