"""Training by audience and topic, private-security coverage by county, and actuals vs targets.

Every function follows the contract's definitions, so the breakdowns add up to
`queries.indicators.headline`; target actuals reuse `queries.indicators`' own measures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, Select, case, cast, func, literal, null, select

from queries import dialect as sqld
from queries import indicators
from queries.db import read_frame
from queries.filters import PROGRAMME_LAUNCH, Filters
from queries.indicators import INDICATOR_BY_KEY, area_where, county_where
from queries.schema import (
    TRAINING_AUDIENCES,
    TRAINING_TOPICS,
    counties,
    security_firms,
    targets,
    trainings,
)

OTHER = "other"
_ALLOWED = {"audience": TRAINING_AUDIENCES, "topic": TRAINING_TOPICS}


def _trained_by_select(filters: Filters, dimension: str) -> Select:
    """Sessions and participants of trainings held in the period, per audience or topic."""
    allowed = _ALLOWED[dimension]
    column = trainings.c[dimension]
    rows = (
        select(
            case((column.in_(allowed), column), else_=literal(OTHER)).label(dimension),
            trainings.c.participants,
            trainings.c.participants_female,
            trainings.c.participants_youth,
            trainings.c.certified,
        )
        .where(
            trainings.c.held_on >= filters.start,
            trainings.c.held_on <= filters.end,
            *area_where(trainings, filters),
        )
        .subquery("training_rows")
    )
    return select(
        rows.c[dimension],
        func.count().label("sessions_count"),
        func.coalesce(func.sum(rows.c.participants), 0).label("people_trained"),
        func.coalesce(func.sum(rows.c.participants_female), 0).label("female_count"),
        func.coalesce(func.sum(rows.c.participants_youth), 0).label("youth_count"),
        func.coalesce(func.sum(rows.c.certified), 0).label("certified_count"),
    ).group_by(rows.c[dimension])


def _trained_by(engine: Engine, filters: Filters, dimension: str) -> pd.DataFrame:
    raw = read_frame(engine, _trained_by_select(filters, dimension))
    values = list(_ALLOWED[dimension]) + ([OTHER] if OTHER in set(raw[dimension]) else [])
    counts = ["sessions_count", "people_trained", "female_count", "youth_count", "certified_count"]
    frame = pd.DataFrame({dimension: values}).merge(raw, on=dimension, how="left")
    frame[counts] = frame[counts].fillna(0).astype("int64")
    people = frame["people_trained"].astype("float64").replace(0, np.nan)
    frame["female_pct"] = 100.0 * frame["female_count"] / people
    frame["youth_pct"] = 100.0 * frame["youth_count"] / people
    frame["certified_pct"] = 100.0 * frame["certified_count"] / people
    return frame


def people_trained_by_audience_select(dialect: str, filters: Filters) -> Select:
    """See `people_trained_by_audience` (before zero-filling)."""
    return _trained_by_select(filters, "audience")


def people_trained_by_audience(engine: Engine, filters: Filters) -> pd.DataFrame:
    """People trained in the period per audience.

    Grain: one row per audience (every contract audience, zero-filled, then 'other' when
    sessions carry an unknown audience). Columns: audience, sessions_count, people_trained
    (summed participants), female_count, youth_count, certified_count, female_pct, youth_pct,
    certified_pct (null where nobody was trained).
    """
    return _trained_by(engine, filters, "audience")


def people_trained_by_topic_select(dialect: str, filters: Filters) -> Select:
    """See `people_trained_by_topic` (before zero-filling)."""
    return _trained_by_select(filters, "topic")


def people_trained_by_topic(engine: Engine, filters: Filters) -> pd.DataFrame:
    """People trained in the period per topic.

    Grain: one row per topic (every contract topic, zero-filled, then 'other' when sessions
    carry an unknown topic). Columns: topic, then as `people_trained_by_audience`.
    """
    return _trained_by(engine, filters, "topic")


def private_security_coverage_by_county_select(dialect: str, filters: Filters) -> Select:
    """Private security officers trained against officers at partner firms, per county.

    Trained: summed participants of trainings with audience private_security held from the
    programme launch (2025-06-08) to the end of the period. Registered: summed
    officers_registered of firms with partnered_on on or before the end of the period. Firms
    are registered per county, so with wards selected the registered officers (and coverage)
    are null, as in the headline indicator.

    Grain: one row per county of the selection. Columns: county_code, county_name,
    officers_trained_count, partner_firms_count, officers_registered_count, coverage_pct.
    """
    trained = (
        select(
            trainings.c.county_code.label("county_code"),
            func.sum(trainings.c.participants).label("trained"),
        )
        .where(
            trainings.c.audience == "private_security",
            trainings.c.held_on >= PROGRAMME_LAUNCH,
            trainings.c.held_on <= filters.end,
            *area_where(trainings, filters),
        )
        .group_by(trainings.c.county_code)
        .subquery("trained")
    )
    firms = (
        select(
            security_firms.c.county_code.label("county_code"),
            func.count().label("firms"),
            func.sum(security_firms.c.officers_registered).label("officers"),
        )
        .where(
            security_firms.c.partnered_on <= filters.end,
            *county_where(security_firms.c.county_code, filters),
        )
        .group_by(security_firms.c.county_code)
        .subquery("firms")
    )
    dims = (
        select(counties.c.code.label("county_code"), counties.c.name.label("county_name"))
        .where(*county_where(counties.c.code, filters))
        .subquery("dims")
    )
    officers_trained = func.coalesce(trained.c.trained, 0)
    if filters.ward_codes is None:
        firm_count = func.coalesce(firms.c.firms, 0)
        officers = func.coalesce(firms.c.officers, 0)
        coverage = sqld.pct(officers_trained, officers)
    else:
        firm_count = officers = coverage = cast(null(), Float)
    return (
        select(
            dims.c.county_code,
            dims.c.county_name,
            officers_trained.label("officers_trained_count"),
            firm_count.label("partner_firms_count"),
            officers.label("officers_registered_count"),
            coverage.label("coverage_pct"),
        )
        .select_from(
            dims.outerjoin(trained, trained.c.county_code == dims.c.county_code).outerjoin(
                firms, firms.c.county_code == dims.c.county_code
            )
        )
        .order_by(dims.c.county_name)
    )


def private_security_coverage_by_county(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Private-security training coverage per county (see the select for the definitions).

    Grain: one row per county of the selection. Columns: county_code, county_name,
    officers_trained_count, partner_firms_count, officers_registered_count (both null with
    wards selected), coverage_pct (null with no registered officers or with wards selected).
    """
    frame = read_frame(
        engine, private_security_coverage_by_county_select(engine.dialect.name, filters)
    )
    frame["officers_trained_count"] = frame["officers_trained_count"].astype("int64")
    for column in ("partner_firms_count", "officers_registered_count"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    frame["coverage_pct"] = pd.to_numeric(frame["coverage_pct"], errors="coerce").astype("float64")
    return frame


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
            targets.c.period_start <= filters.end,
            targets.c.period_end >= filters.start,
            *county_where(targets.c.county_code, filters),
        )
        .order_by(targets.c.indicator, targets.c.period_start, counties.c.name)
    )


def _stream_measures(
    engine: Engine, threshold: int
) -> dict[str, Callable[[Filters], pd.DataFrame]]:
    """Per stream, the headline measures per county for a Filters (rehab with suppression)."""
    return {
        "incidents": lambda f: indicators.incident_measures(engine, f, "county"),
        "ras": lambda f: indicators.ra_measures(engine, f, "county"),
        "training": lambda f: indicators.training_measures(engine, f, "county"),
        "rehab": lambda f: indicators.rehab_measures(engine, f, threshold, "county"),
    }


def _elapsed_pct(start: dt.date, end: dt.date, to: dt.date) -> float:
    """The share of the days start..end that lie in start..to, in percent (null if malformed)."""
    days = (end - start).days + 1
    return 100.0 * max((to - start).days + 1, 0) / days if days > 0 else np.nan


def target_achievement_by_county(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
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
    """
    wanted = read_frame(engine, targets_overlapping_select(filters))
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
