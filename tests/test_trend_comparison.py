"""The weekly trend's comparison line: the comparison period's weeks, counted by the query layer
and moved onto this period's weeks by whole weeks; checked against pandas on the demo's raw rows
and drawn as a faint line under this period's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dashboard.charts.overview import COMPARISON_OPACITY, stream_trend_figure, trend_table
from queries.db import make_engine
from queries.filters import filters_from_choices
from queries.trends import comparison_offset_weeks, comparison_streams_by_week, streams_by_week
from tests.clock import TEST_AS_OF
from tests.query_support import raw_table

THRESHOLD = 5
# A fixed day for the offsets (which depend only on the gap between the periods' starts).
A_DAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("preset", "comparison", "weeks"),
    [
        ("last_7_days", "previous", 1),
        ("last_28_days", "previous", 4),
        ("last_90_days", "previous", 13),  # 90 days back is 12.9 weeks: the nearest Monday week
        ("last_28_days", "last_year", 52),  # 365 days is 52 weeks and a day
        ("last_month", "previous", 4),  # October (31 days) before November 2026: 4.4 weeks
    ],
)
def test_the_comparison_weeks_move_by_whole_weeks(preset, comparison, weeks) -> None:
    filters = filters_from_choices(preset, None, comparison, [], [], A_DAY)
    assert comparison_offset_weeks(filters) == weeks


def _incidents_by_eat_week(db: Path, start: dt.date, end: dt.date) -> pd.Series:
    """Incidents per Monday week of their EAT report date within start..end, by pandas alone."""
    raw = raw_table(db, "incidents")
    eat_day = (pd.to_datetime(raw["reported_at"]) + pd.Timedelta(hours=3)).dt.normalize()
    inside = eat_day[(eat_day >= pd.Timestamp(start)) & (eat_day <= pd.Timestamp(end))]
    monday = inside - pd.to_timedelta(inside.dt.day_of_week, unit="D")
    return monday.value_counts()


@pytest.mark.parametrize(
    ("preset", "comparison"),
    [("last_28_days", "previous"), ("last_90_days", "last_year"), ("last_month", "previous")],
)
def test_comparison_weeks_equal_pandas_on_the_demo(demo_db_path, preset, comparison) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = filters_from_choices(preset, None, comparison, [], [], TEST_AS_OF)
    compared = filters.comparison_filters()
    frame = comparison_streams_by_week(engine, filters, THRESHOLD)
    incidents = frame[frame["stream"] == "incidents"]

    expected = _incidents_by_eat_week(demo_db_path, compared.start, compared.end)
    by_week = dict(zip(incidents["comparison_week_start"], incidents["value"], strict=True))
    assert {week: by_week.get(week, 0.0) for week in expected.index} == {
        week: float(count) for week, count in expected.items()
    }
    assert sum(by_week.values()) == expected.sum() > 0
    # Every week moved by the same whole number of weeks, onto a Monday.
    moved = incidents["week_start"] - incidents["comparison_week_start"]
    assert set(moved) == {pd.Timedelta(weeks=comparison_offset_weeks(filters))}
    assert set(incidents["week_start"].dt.day_of_week) == {0}
    # The moved comparison weeks cover this period's full weeks (the line is under them all).
    current = streams_by_week(engine, filters, THRESHOLD)
    full_weeks = set(current[~current["is_partial"]]["week_start"])
    assert full_weeks - set(incidents["week_start"]) == set()
    # A week extending beyond the comparison period is partial, as in this period's series.
    starts = incidents["comparison_week_start"]
    assert list(incidents["is_partial"]) == list(
        (starts < pd.Timestamp(compared.start))
        | (starts + pd.Timedelta(days=6) > pd.Timestamp(compared.end))
    )


def test_the_figure_draws_the_comparison_faint_and_first(demo_db_path) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = filters_from_choices("last_90_days", None, "previous", [], [], TEST_AS_OF)
    weekly = streams_by_week(engine, filters, THRESHOLD)
    earlier = comparison_streams_by_week(engine, filters, THRESHOLD)
    fig = stream_trend_figure(weekly, "incidents", "a period", earlier, "the weeks before")
    first, current = fig.data[0], fig.data[1]
    assert first.name == "Comparison period" and first.opacity == COMPARISON_OPACITY
    assert first.line.dash == "dot"
    full = earlier[(earlier["stream"] == "incidents") & ~earlier["is_partial"]]
    assert list(first.y) == list(full["value"])
    assert current.name == "Full week"
    assert "dotted faint line = the weeks before" in fig.layout.title.subtitle.text
    # Without a comparison there is no such line.
    alone = stream_trend_figure(weekly, "incidents", "a period")
    assert "Comparison period" not in [trace.name for trace in alone.data]
    # The chart's table carries the comparison week next to each week.
    table = trend_table(weekly, "incidents", earlier)
    row = table.iloc[2]
    match = full[full["week_start"] == row["week_start"]]
    assert row["comparison_value"] == match["value"].iloc[0]


def test_a_rehab_line_whose_every_week_is_hidden_says_so_in_the_chart() -> None:
    """Four weeks of 1-4 referrals each: every point is hidden, and empty axes would read as
    no referrals at all. The chart says why in its middle and shows no count axis; a line with
    one week shown draws it and says nothing of the kind."""
    weeks = pd.date_range("2026-11-02", periods=4, freq="7D")

    def frame(values: list[float | None]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "stream": "rehab_referrals",
                "week_start": weeks,
                "value": pd.Series(values, dtype="float64"),
                "value_suppressed": [v is None for v in values],
                "is_partial": False,
            }
        )

    hidden = stream_trend_figure(frame([None] * 4), "rehab_referrals", "a period")
    texts = [a.text for a in hidden.layout.annotations]
    assert any(t.startswith("Every week is hidden by the privacy rule") for t in texts), texts
    assert hidden.layout.yaxis.showticklabels is False

    one_shown = stream_trend_figure(frame([None, 7.0, None, None]), "rehab_referrals", "a period")
    assert not any("Every week" in (a.text or "") for a in one_shown.layout.annotations)
    assert list(one_shown.data[0].y).count(7.0) == 1
