"""Targets against actuals: each county target overlapping the period, with its indicator computed
over the target's own period by the stream that owns it.

It sits above the streams and the registry (it reads `queries.indicators`), like a page does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Select, select

from queries import dialect as sqld
from queries.associations import ra_measures
from queries.db import read_frame
from queries.filters import Filters
from queries.incidents import incident_measures
from queries.indicators import INDICATOR_BY_KEY
from queries.rehab import rehab_measures
from queries.schema import counties, targets
from queries.training import training_measures
from queries.where import county_where, overlaps_where


def targets_overlapping_select(filters: Filters) -> Select:
    """Targets of the selected counties whose own period overlaps the selected period.

    Grain: one row per target (county, indicator, period_start). Columns: county_code,
    county_name, indicator, period_start, period_end, target.
    """
    return (
        select(
            targets.c.county_code,
            counties.c.name.label("county_name"),
            targets.c.indicator,
            targets.c.period_start,
            targets.c.period_end,
            targets.c.target,
        )
        .select_from(targets.outerjoin(counties, counties.c.code == targets.c.county_code))
        .where(
            *overlaps_where(targets.c.period_start, targets.c.period_end, filters),
            *county_where(targets.c.county_code, filters),
        )
        .order_by(targets.c.indicator, sqld.normalised(targets.c.period_start), counties.c.name)
    )


def indicators_with_targets(engine: Engine, filters: Filters) -> list[str]:
    """The indicator keys that have a target overlapping the period in the selected counties,
    so a page can offer them before computing any one's actuals (a stream's league each).

    Grain: one entry per indicator key, sorted.
    """
    frame = read_frame(engine, targets_overlapping_select(filters))
    return sorted(set(frame["indicator"]))


def _stream_measures(
    engine: Engine, threshold: int
) -> dict[str, Callable[[Filters], pd.DataFrame]]:
    """Per stream, the headline measures per county for a Filters (rehab with suppression)."""
    return {
        "incidents": lambda f: incident_measures(engine, f, "county"),
        "ras": lambda f: ra_measures(engine, f, "county"),
        "training": lambda f: training_measures(engine, f, "county"),
        "rehab": lambda f: rehab_measures(engine, f, threshold, "county"),
    }


def _elapsed_pct(start: dt.date, end: dt.date, to: dt.date) -> float:
    """The share of the days start..end that lie in start..to, in percent (null if malformed)."""
    days = (end - start).days + 1
    return 100.0 * max((to - start).days + 1, 0) / days if days > 0 else np.nan


def target_achievement_by_county(
    engine: Engine,
    filters: Filters,
    threshold: int,
    indicators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Each target overlapping the period against the actual value over the target's own period.

    A target (e.g. a county's FY 2025/26 people_trained) is compared with its indicator computed
    by `queries.indicators` for the same county from the target's period_start to
    min(period_end, end of the selected period): the year to date while the year runs, the
    whole year once it is over. The selected period only decides which targets are shown.
    Targets are set per county, so a ward selection is ignored here. Rehabilitation actuals
    follow the privacy rule (the achieved % is hidden with them).

    Grain: one row per target (county, indicator, period_start). Columns: county_code,
    county_name, indicator, indicator_label, period_start, period_end, actual_to (the last day
    the actual covers), period_elapsed_pct (share of the target period's days up to
    actual_to), actual, target, achieved_pct (100 x actual / target; null without an actual),
    actual_suppressed, achieved_pct_suppressed.

    Args:
        indicators: only the targets of these indicator keys (the briefing's training slide
            needs two; computing the others' actuals would cost a query per stream); None: all.
    """
    wanted = read_frame(engine, targets_overlapping_select(filters))
    if indicators is not None:
        wanted = wanted[wanted["indicator"].isin(indicators)].reset_index(drop=True)
    columns = [
        "county_code",
        "county_name",
        "indicator",
        "indicator_label",
        "period_start",
        "period_end",
        "actual_to",
        "period_elapsed_pct",
        "actual",
        "target",
        "achieved_pct",
        "actual_suppressed",
        "achieved_pct_suppressed",
    ]
    if wanted.empty:
        return pd.DataFrame({column: [] for column in columns})
    for column in ("period_start", "period_end"):
        wanted[column] = pd.to_datetime(wanted[column]).dt.date
    wanted["actual_to"] = wanted["period_end"].map(lambda day: min(day, filters.end))
    wanted["actual"] = np.nan
    wanted["actual_suppressed"] = False
    measures = _stream_measures(engine, threshold)
    county_only = Filters(
        start=filters.start,
        end=filters.end,
        preset="custom",
        comparison=filters.comparison,
        counties=filters.counties,
        scope=filters.scope,
        as_of=filters.as_of,
    )
    for (start, to), group in wanted.groupby(["period_start", "actual_to"]):
        if start > to:
            continue  # a target whose period ends before it starts: nothing to compare
        period = county_only.with_period(start, to)
        streams = {
            INDICATOR_BY_KEY[key].stream for key in group["indicator"] if key in INDICATOR_BY_KEY
        }
        for stream in streams:
            values = measures[stream](period).set_index("county_code")
            for index, row in group.iterrows():
                key = row["indicator"]
                if key not in INDICATOR_BY_KEY or INDICATOR_BY_KEY[key].stream != stream:
                    continue
                if row["county_code"] not in values.index:
                    continue
                value = values.at[row["county_code"], key]
                wanted.at[index, "actual"] = np.nan if pd.isna(value) else float(value)
                flag = f"{key}_suppressed"
                if flag in values.columns:
                    wanted.at[index, "actual_suppressed"] = bool(
                        values.at[row["county_code"], flag]
                    )
    wanted["indicator_label"] = wanted["indicator"].map(
        lambda key: INDICATOR_BY_KEY[key].label if key in INDICATOR_BY_KEY else key
    )
    wanted["period_elapsed_pct"] = [
        _elapsed_pct(start, end, to)
        for start, end, to in zip(
            wanted["period_start"], wanted["period_end"], wanted["actual_to"], strict=True
        )
    ]
    target = pd.to_numeric(wanted["target"]).astype("float64")
    wanted["target"] = target
    wanted["actual"] = wanted["actual"].astype("float64")
    wanted["achieved_pct"] = 100.0 * wanted["actual"] / target.where(target > 0)
    wanted["achieved_pct_suppressed"] = wanted["actual_suppressed"]
    return wanted[columns].reset_index(drop=True)


def target_period_shown(frame: pd.DataFrame, filters: Filters) -> tuple[dt.date, dt.date]:
    """The target period to show first, of the targets overlapping the period (rows of
    `target_achievement_by_county`, one indicator): the one most counties' targets share (a
    financial year: sums across counties make sense only for one); of two such, the one
    covering more of the selected period's days, then the later. The 28 days to 2 July are
    about the year that ended on 30 June, not the one two days old. The Training page and the
    briefing both show this one."""

    def rank(pair: tuple[dt.date, dt.date]) -> tuple[int, int, dt.date]:
        start, end = pair
        counties = int(((frame["period_start"] == start) & (frame["period_end"] == end)).sum())
        overlap = (min(end, filters.end) - max(start, filters.start)).days + 1
        return counties, overlap, start

    pairs = set(zip(frame["period_start"], frame["period_end"], strict=True))
    return max(pairs, key=rank)
