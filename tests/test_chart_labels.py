"""Bar labels that are never cut and never collide: the value axis leaves room for the longest
label, the settlement panels write their names once, and a phone gets the panels stacked."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts.associations import attendance_figure, joint_forums_figure, settlement_figure
from dashboard.charts.common import LABEL_CHAR_PX, LABEL_PLOT_PX, range_for_labels


@pytest.mark.parametrize("labels", [["9"], ["69,969 (67)"], ["100% of 1,234"]])
def test_the_axis_leaves_room_for_the_longest_label(labels) -> None:
    start, end = range_for_labels(500.0, labels)
    assert start == 0 and end > 500.0
    room_px = (end - 500.0) / end * LABEL_PLOT_PX
    assert room_px >= max(len(text) for text in labels) * LABEL_CHAR_PX - 1e-9


def _counties() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_name": ["Nairobi", "Kiambu", "Lamu"],
            "forums_held": [1100, 120, 9],
            "forum_attendance": [69_969, 7_799, 120],
            "attendance_per_forum": [63.6, 65.0, 13.3],
            "joint_forums_count": [737, 60, 1],
            "joint_forum_pct": [67.0, 50.0, 11.1],
        }
    )


def test_county_bars_fit_their_labels() -> None:
    for fig in (attendance_figure(_counties(), "p"), joint_forums_figure(_counties(), "p")):
        (bars,) = [trace for trace in fig.data if trace.type == "bar"]
        end = fig.layout.xaxis.range[1]
        assert end >= range_for_labels(max(bars.x), bars.text)[1] - 1e-9
    # The attendance label is short; 'per forum' is said once, in the subtitle.
    attendance = attendance_figure(_counties(), "p")
    assert "69,969 (64)" in attendance.data[0].text
    assert "people per forum" in attendance.layout.title.subtitle.text


def _by_type() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "settlement_type": ["estate", "informal_settlement", "no_ra"],
            "ras_registered": [210, 211, 0],
            "ras_active": [182, 187, 0],
            "member_households": [30_661, 48_749, 0],
            "forums_held": [326, 307, 58],
        }
    )


def test_settlement_panels_name_the_types_once_and_stack_on_a_phone() -> None:
    wide = settlement_figure(_by_type(), "p")
    # Side by side, the right panels share the left panels' y axes: no second set of names
    # next to the left panels' bar labels.
    assert wide.layout.yaxis2.matches == "y" and wide.layout.yaxis4.matches == "y3"
    narrow = settlement_figure(_by_type(), "p", columns=1)
    domains = [narrow.layout[f"xaxis{n}"].domain for n in ("", "2", "3", "4")]
    assert all(tuple(domain) == (0.0, 1.0) for domain in domains)  # one column, four rows
    # A phone panel is about 160 px wide: at most three value ticks, so that "40,000" stays
    # level and clear of its neighbours; on a laptop Plotly chooses.
    axes = ("xaxis", "xaxis2", "xaxis3", "xaxis4")
    assert all(narrow.layout[axis].nticks and narrow.layout[axis].nticks <= 3 for axis in axes)
    assert all(wide.layout[axis].nticks is None for axis in axes)


def test_a_phone_gets_short_coverage_labels_that_fit() -> None:
    import datetime as dt

    from dashboard.charts.training import coverage_figure

    frame = pd.DataFrame(
        {
            "county_name": ["Murang'a", "Nyeri", "Kirinyaga"],
            "officers_trained_count": [701, 1096, 406],
            "officers_registered_count": [120.0, 1045.0, None],
            "coverage_pct": [584.2, 104.9, None],
        }
    )
    wide = coverage_figure(frame, dt.date(2026, 11, 27), 3.8)
    short = coverage_figure(frame, dt.date(2026, 11, 27), 3.8, short=True)
    assert "584.2% (701 of 120)" in wide.data[0].text
    assert list(short.data[0].text) == ["no firm", "105%", "584%"]
    # The phone's axis leaves room for its labels in ~170 px of plot area.
    assert short.layout.xaxis.range[1] >= range_for_labels(150.0, short.data[0].text, 170)[1]
