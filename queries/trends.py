"""Weekly series of the programme's four activity streams, for trend charts."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, Select, func, literal, select, union_all

from queries import dialect as sqld
from queries.associations import forums_in_period
from queries.db import read_frame
from queries.filters import Filters
from queries.grain import week_starts
from queries.incidents import reported_in_period
from queries.privacy import suppress_counts
from queries.rehab import referred_in_period
from queries.schema import forums, incidents, rehab_referrals, trainings
from queries.training import trainings_in_period

STREAM_LABELS = {
    "incidents": "Incidents reported",
    "forums": "Forums held",
    "people_trained": "People trained",
    "rehab_referrals": "Rehab referrals",
}


def streams_by_week_select(dialect: str, filters: Filters) -> Select:
    """Weekly totals of the four streams, before suppression.

    Grain: one row per stream per week (Monday start, EAT) that has any activity.
    Columns: stream, week_start, value.
    """
    incident_week = sqld.week_start(dialect, sqld.eat_date(dialect, incidents.c.reported_at))
    forum_week = sqld.week_start(dialect, forums.c.held_on)
    training_week = sqld.week_start(dialect, trainings.c.held_on)
    referral_week = sqld.week_start(dialect, rehab_referrals.c.referred_on)
    parts = [
        select(
            literal("incidents").label("stream"),
            incident_week.label("week_start"),
            func.count().label("value"),
        )
        .where(*reported_in_period(filters))
        .group_by(incident_week),
        select(
            literal("forums").label("stream"),
            forum_week.label("week_start"),
            func.count().label("value"),
        )
        .where(*forums_in_period(filters))
        .group_by(forum_week),
        select(
            literal("people_trained").label("stream"),
            training_week.label("week_start"),
            func.sum(trainings.c.participants).label("value"),
        )
        .where(*trainings_in_period(filters))
        .group_by(training_week),
        select(
            literal("rehab_referrals").label("stream"),
            referral_week.label("week_start"),
            func.count().label("value"),
        )
        .where(*referred_in_period(filters))
        .group_by(referral_week),
    ]
    union = union_all(*parts).subquery("weekly")
    return select(union.c.stream, union.c.week_start, union.c.value).order_by(
        union.c.stream, union.c.week_start
    )


def streams_by_week(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Weekly activity of the four streams, complete with zero weeks, rehab counts suppressed.

    Grain: one row per stream per week (Monday start) overlapping the period.
    Columns: stream, stream_label, week_start (datetime64), value (float; NaN where hidden),
    value_suppressed, value_small (hidden for being a small count, not to protect another),
    is_partial (the week extends beyond the period, so it is not comparable).
    """
    raw = read_frame(engine, streams_by_week_select(engine.dialect.name, filters))
    raw["week_start"] = pd.to_datetime(raw["week_start"])
    weeks = week_starts(filters.start, filters.end)
    grid = pd.MultiIndex.from_product([list(STREAM_LABELS), weeks], names=["stream", "week_start"])
    frame = (
        raw.set_index(["stream", "week_start"])["value"]
        .astype("float64")
        .reindex(grid, fill_value=0.0)
        .reset_index()
    )
    frame["value_suppressed"] = False
    frame["value_small"] = False
    rehab = frame["stream"] == "rehab_referrals"
    hidden = suppress_counts(frame[rehab], "value", threshold)
    frame.loc[rehab, "value"] = hidden["value"]
    frame.loc[rehab, "value_suppressed"] = hidden["value_suppressed"]
    frame.loc[rehab, "value_small"] = hidden["value_small"]
    frame["stream_label"] = frame["stream"].map(STREAM_LABELS)
    week_end = frame["week_start"] + pd.Timedelta(days=6)
    frame["is_partial"] = (frame["week_start"] < pd.Timestamp(filters.start)) | (
        week_end > pd.Timestamp(filters.end)
    )
    return frame[
        [
            "stream",
            "stream_label",
            "week_start",
            "value",
            "value_suppressed",
            "value_small",
            "is_partial",
        ]
    ]


def comparison_offset_weeks(filters: Filters) -> int:
    """How many whole weeks later the comparison period's weeks are drawn, to sit under the
    weeks of this period they are compared with: the gap between the two periods' starts,
    rounded to whole weeks (4 for the previous 28 days, 52 for the same period last year), so
    that a Monday week lands on a Monday week.

    Rounding matters only where the gap is not whole weeks (a month, a quarter, last year):
    then a week is compared with the Monday week nearest to the same distance back.
    """
    compared = filters.comparison_filters()
    return round((filters.start - compared.start).days / 7)


def comparison_streams_by_week(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """The comparison period's weekly activity (`streams_by_week` of the comparison filters,
    rehab counts suppressed the same way), each week moved onto the week of this period it is
    compared with (`comparison_offset_weeks`).

    Grain: one row per stream per week (Monday start) overlapping the comparison period.
    Columns: stream, stream_label, week_start (moved onto this period's weeks),
    comparison_week_start (the week's own Monday), value, value_suppressed, value_small,
    is_partial (the week extends beyond the comparison period).
    """
    compared = streams_by_week(engine, filters.comparison_filters(), threshold)
    offset = pd.Timedelta(weeks=comparison_offset_weeks(filters))
    compared = compared.rename(columns={"week_start": "comparison_week_start"})
    compared["week_start"] = compared["comparison_week_start"] + offset
    return compared[
        [
            "stream",
            "stream_label",
            "week_start",
            "comparison_week_start",
            "value",
            "value_suppressed",
            "value_small",
            "is_partial",
        ]
    ]
