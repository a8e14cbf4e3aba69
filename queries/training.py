"""The training stream: the contract's training measures (each one named SQL expression) and the
page's breakdowns by audience, topic and county (private-security coverage).

Every breakdown reuses the measures' conditions, so the breakdowns add up to
`queries.indicators.headline`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Engine, Float, Select, case, cast, func, null, select

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import PROGRAMME_LAUNCH, Filters
from queries.grain import (
    OTHER,
    Grain,
    as_float,
    bucketed,
    group_keys,
    join_onto_dimension,
    zero_if_null,
)
from queries.schema import (
    TRAINING_AUDIENCES,
    TRAINING_TOPICS,
    counties,
    security_firms,
    trainings,
)
from queries.where import area_where, between_where, county_where, period_where, until_end_where

_ALLOWED = {"audience": TRAINING_AUDIENCES, "topic": TRAINING_TOPICS}


def _trained_by_select(filters: Filters, dimension: str) -> Select:
    """Sessions and participants of trainings held in the period, per audience or topic."""
    allowed = _ALLOWED[dimension]
    column = trainings.c[dimension]
    rows = (
        select(
            bucketed(column, allowed).label(dimension),
            trainings.c.participants,
            trainings.c.participants_female,
            trainings.c.participants_youth,
            trainings.c.certified,
        )
        .where(*trainings_in_period(filters))
        .subquery("training_rows")
    )
    return select(
        rows.c[dimension],
        func.count().label("sessions_count"),
        func.coalesce(func.sum(rows.c.participants), 0).label("people_trained"),
        func.coalesce(func.sum(rows.c.participants_female), 0).label("female_count"),
        func.coalesce(func.sum(rows.c.participants_youth), 0).label("youth_count"),
        func.coalesce(func.sum(rows.c.certified), 0).label("certified_count"),
        *(
            func.coalesce(
                func.sum(case((rows.c[column].is_not(None), rows.c.participants))), 0
            ).label(f"{column}_base")
            for column in SHARE_NUMERATORS.values()
        ),
    ).group_by(rows.c[dimension])


def _trained_by(engine: Engine, filters: Filters, dimension: str) -> pd.DataFrame:
    raw = read_frame(engine, _trained_by_select(filters, dimension))
    values = list(_ALLOWED[dimension]) + ([OTHER] if OTHER in set(raw[dimension]) else [])
    counts = ["sessions_count", "people_trained", "female_count", "youth_count", "certified_count"]
    bases = [f"{column}_base" for column in SHARE_NUMERATORS.values()]
    frame = pd.DataFrame({dimension: values}).merge(raw, on=dimension, how="left")
    frame[counts + bases] = frame[counts + bases].fillna(0).astype("int64")
    for share, count, column in zip(
        ("female_pct", "youth_pct", "certified_pct"),
        ("female_count", "youth_count", "certified_count"),
        SHARE_NUMERATORS.values(),
        strict=True,
    ):
        base = frame.pop(f"{column}_base").astype("float64").replace(0, np.nan)
        frame[share] = 100.0 * frame[count] / base
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
        .where(*guards_trained_since_launch(filters))
        .group_by(trainings.c.county_code)
        .subquery("trained")
    )
    firms = (
        select(
            security_firms.c.county_code.label("county_code"),
            func.count().label("firms"),
            func.sum(security_firms.c.officers_registered).label("officers"),
        )
        .where(*partner_firms(filters))
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
        engine, private_security_coverage_by_county_select(sqld.dialect_of(engine), filters)
    )
    frame["officers_trained_count"] = frame["officers_trained_count"].astype("int64")
    for column in ("partner_firms_count", "officers_registered_count"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    frame["coverage_pct"] = pd.to_numeric(frame["coverage_pct"], errors="coerce").astype("float64")
    return frame


# The contract's training measures: which rows each one sums. The headline, the league table and
# the page's breakdowns reuse these conditions.


# Each training share and the column that is its numerator.
SHARE_NUMERATORS = {
    "trained_female_pct": "participants_female",
    "trained_youth_pct": "participants_youth",
    "trained_certified_pct": "certified",
}


def participants_where_known(column: ColumnElement) -> ColumnElement:
    """A training share's denominator: summed participants of the sessions whose `column` (the
    share's numerator) is known. A session with NULL female, youth or certified counts is left
    out of that share's numerator and denominator, and stays in `people_trained` and the other
    shares."""
    return func.sum(case((column.is_not(None), trainings.c.participants)))


def trainings_in_period(filters: Filters) -> list[ColumnElement]:
    """`people_trained` and its shares: training sessions held in the period in the area whose
    participants are known. A session with NULL participants is left out of every share's
    numerator and denominator (its female, youth or certified counts would otherwise be counted
    over a denominator that lacks them) and of `people_trained` (a sum of known participants)."""
    return [
        *period_where(trainings.c.held_on, filters),
        *area_where(trainings, filters),
        trainings.c.participants.is_not(None),
    ]


def guards_trained_since_launch(filters: Filters) -> list[ColumnElement]:
    """`private_security_coverage_pct`'s numerator rows: private-security sessions held from the
    programme launch to the end of the period, in the area."""
    return [
        trainings.c.audience == "private_security",
        *between_where(trainings.c.held_on, PROGRAMME_LAUNCH, filters.end),
        *area_where(trainings, filters),
    ]


def partner_firms(filters: Filters) -> list[ColumnElement]:
    """`private_security_coverage_pct`'s denominator rows: firms partnered by the end of the
    period, in the counties (firms have no ward)."""
    return [
        *until_end_where(security_firms.c.partnered_on, filters),
        *county_where(security_firms.c.county_code, filters),
    ]


def training_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Training indicators; grain: one row overall, per county or per ward.

    Columns: [dimension columns], people_trained, trained_female_pct, trained_youth_pct,
    trained_certified_pct, private_security_coverage_pct. Coverage has no ward grain (firms
    are registered per county) and is null there.
    """
    keys = group_keys(trainings, grain)
    sessions = (
        select(
            *keys,
            func.sum(trainings.c.participants).label("participants"),
            func.sum(trainings.c.participants_female).label("female"),
            func.sum(trainings.c.participants_youth).label("youth"),
            func.sum(trainings.c.certified).label("certified"),
            *(
                participants_where_known(trainings.c[column]).label(f"{column}_base")
                for column in SHARE_NUMERATORS.values()
            ),
        )
        .where(*trainings_in_period(filters))
        .group_by(*keys)
    )
    guards = (
        select(*keys, func.sum(trainings.c.participants).label("guards_trained"))
        .where(*guards_trained_since_launch(filters))
        .group_by(*keys)
    )
    parts = [sessions, guards]
    if grain != "ward" and filters.ward_codes is None:
        firm_keys = group_keys(security_firms, grain)
        parts.append(
            select(*firm_keys, func.sum(security_firms.c.officers_registered).label("officers"))
            .where(*partner_firms(filters))
            .group_by(*firm_keys)
        )
    joined, _, subs, dims = join_onto_dimension(filters, grain, parts)
    sess, grd = subs[0], subs[1]
    coverage = (
        sqld.pct(zero_if_null(grd.c.guards_trained), subs[2].c.officers)
        if len(subs) == 3
        else cast(null(), Float)
    )
    return (
        select(
            *dims,
            zero_if_null(sess.c.participants).label("people_trained"),
            sqld.pct(sess.c.female, sess.c.participants_female_base).label("trained_female_pct"),
            sqld.pct(sess.c.youth, sess.c.participants_youth_base).label("trained_youth_pct"),
            sqld.pct(sess.c.certified, sess.c.certified_base).label("trained_certified_pct"),
            coverage.label("private_security_coverage_pct"),
        )
        .select_from(joined)
        .order_by(*dims)
    )


def training_measures(engine: Engine, filters: Filters, grain: Grain = None) -> pd.DataFrame:
    """Training indicators (see `training_measures_select`)."""
    frame = read_frame(engine, training_measures_select(sqld.dialect_of(engine), filters, grain))
    return as_float(
        frame,
        [
            "trained_female_pct",
            "trained_youth_pct",
            "trained_certified_pct",
            "private_security_coverage_pct",
        ],
    )
