"""The contract's headline indicators, computed in SQL for a selection, overall or by county/ward.

Each stream (incidents, residents' associations, training, rehabilitation) has a pure builder
that returns a Core `Select` and a runner that returns a tidy DataFrame. `indicators_frame`
joins the four streams; `headline` adds the comparison period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    Float,
    Select,
    and_,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.sql import Subquery

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import PROGRAMME_LAUNCH, Filters
from queries.privacy import flag_column, small_column, suppress_counts, suppress_ratio
from queries.schema import (
    ADMITTED_REFERRAL_STATUSES,
    OPEN_INCIDENT_STATUSES,
    YOUTH_AGE_BANDS,
    counties,
    forums,
    incidents,
    ra_monthly_reports,
    rehab_referrals,
    residents_associations,
    security_firms,
    trainings,
    wards,
)

Grain = Literal["county", "ward"] | None


@dataclass(frozen=True)
class Indicator:
    """One contract indicator: its key, how it reads, and what kind of number it is."""

    key: str
    label: str
    stream: str
    kind: Literal["count", "sum", "pct", "rate", "median"]
    unit: str
    definition: str
    higher_is_better: bool | None = None
    poisson_count: str | None = None  # the count whose change decides significance


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "incidents_reported",
        "Incidents reported",
        "incidents",
        "count",
        "incidents",
        "Incidents whose reported_at, as an EAT date, lies in the period.",
        None,
        "incidents_reported",
    ),
    Indicator(
        "incident_rate_per_100k",
        "Incidents per 100,000 people",
        "incidents",
        "rate",
        "per 100,000 residents",
        "Incidents reported / 2019 census population x 100,000.",
        None,
        "incidents_reported",
    ),
    Indicator(
        "incidents_resolved_pct",
        "Incidents resolved",
        "incidents",
        "pct",
        "%",
        "Share of incidents reported in the period whose status is resolved.",
        True,
    ),
    Indicator(
        "median_hours_to_acknowledge",
        "Median time to acknowledge",
        "incidents",
        "median",
        "hours",
        "Median hours from report to acknowledgement.",
        False,
    ),
    Indicator(
        "median_hours_to_resolve",
        "Median time to resolve",
        "incidents",
        "median",
        "hours",
        "Median hours from report to resolution.",
        False,
    ),
    Indicator(
        "open_incidents",
        "Open incidents",
        "incidents",
        "count",
        "incidents",
        "Incidents reported by the end of the period still reported, acknowledged or actioned.",
        False,
        "open_incidents",
    ),
    Indicator(
        "ras_registered",
        "Registered RAs",
        "ras",
        "count",
        "associations",
        "RAs registered by the end of the period and not suspended.",
        True,
    ),
    Indicator(
        "ras_active",
        "Active RAs",
        "ras",
        "count",
        "associations",
        "Registered RAs with a forum held or a monthly report submitted in the period.",
        True,
        "ras_active",
    ),
    Indicator(
        "ra_reporting_rate",
        "RA reporting rate",
        "ras",
        "pct",
        "%",
        "Monthly reports submitted / expected, for months starting in the period.",
        True,
    ),
    Indicator(
        "ra_on_time_rate",
        "RA on-time reporting rate",
        "ras",
        "pct",
        "%",
        "Monthly reports submitted by the 10th of the next month / expected.",
        True,
    ),
    Indicator(
        "forums_held",
        "Forums held",
        "ras",
        "count",
        "forums",
        "Structured forums and meetings held in the period.",
        True,
        "forums_held",
    ),
    Indicator(
        "forum_attendance",
        "Forum attendance",
        "ras",
        "sum",
        "people",
        "Summed attendance of the forums held.",
        True,
    ),
    Indicator(
        "joint_forum_pct",
        "Joint forums",
        "ras",
        "pct",
        "%",
        "Share of forums with police and NGAO or private security present.",
        True,
    ),
    Indicator(
        "people_trained",
        "People trained",
        "training",
        "sum",
        "people",
        "Summed participants of training sessions held in the period.",
        True,
    ),
    Indicator(
        "trained_female_pct",
        "Trained: female",
        "training",
        "pct",
        "%",
        "Female participants / participants.",
        None,
    ),
    Indicator(
        "trained_youth_pct",
        "Trained: youth (18-35)",
        "training",
        "pct",
        "%",
        "Youth participants / participants.",
        None,
    ),
    Indicator(
        "trained_certified_pct",
        "Trained: certified",
        "training",
        "pct",
        "%",
        "Certified / participants.",
        True,
    ),
    Indicator(
        "private_security_coverage_pct",
        "Private security officers trained",
        "training",
        "pct",
        "% of officers at partner firms",
        "Private-security participants since launch / officers at partner firms.",
        True,
    ),
    Indicator(
        "rehab_referrals",
        "Rehab referrals",
        "rehab",
        "count",
        "referrals",
        "Referrals with referred_on in the period.",
        None,
        "rehab_referrals",
    ),
    Indicator(
        "referral_admission_pct",
        "Referrals admitted",
        "rehab",
        "pct",
        "%",
        "Share of referrals admitted, completed or dropped out.",
        True,
    ),
    Indicator(
        "referral_completion_pct",
        "Treatment completion",
        "rehab",
        "pct",
        "%",
        "Completed / (completed + dropped out).",
        True,
    ),
    Indicator(
        "median_days_to_admission",
        "Median days to admission",
        "rehab",
        "median",
        "days",
        "Median days from referral to admission.",
        False,
    ),
    Indicator(
        "referral_youth_pct",
        "Referrals aged 15-34",
        "rehab",
        "pct",
        "%",
        "Share of referrals aged 15-34.",
        None,
    ),
)
INDICATOR_BY_KEY: dict[str, Indicator] = {indicator.key: indicator for indicator in INDICATORS}
INDICATOR_KEYS: tuple[str, ...] = tuple(INDICATOR_BY_KEY)

REHAB_COUNT_KEYS = ("rehab_referrals",)
REHAB_RATIO_KEYS = (
    "referral_admission_pct",
    "referral_completion_pct",
    "median_days_to_admission",
    "referral_youth_pct",
)

# |z| at or above this marks a change in a count as meaningful (variance-stabilised Poisson).
MEANINGFUL_Z = 3.0


def county_where(column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """The bound-parameter county restriction for a county_code column (none for all)."""
    codes = filters.county_codes
    return [column.in_(codes)] if codes is not None else []


def area_where(table, filters: Filters) -> list[ColumnElement]:
    """County and ward restrictions for a table that has county_code and ward_code."""
    clauses = county_where(table.c.county_code, filters)
    if filters.ward_codes is not None:
        clauses.append(table.c.ward_code.in_(filters.ward_codes))
    return clauses


def group_keys(table, grain: Grain) -> list[ColumnElement]:
    """The grouping columns of a stream's aggregate at a grain."""
    if grain == "county":
        return [table.c.county_code.label("county_code")]
    if grain == "ward":
        return [table.c.ward_code.label("ward_code")]
    return []


def dimension_select(filters: Filters, grain: Grain) -> Select:
    """One row per county or ward of the selection (or one row overall), with population.

    Population is the 2019 census figure of the selected counties; wards have none.
    """
    if grain == "ward":
        ward_filter = [wards.c.code.in_(filters.ward_codes)] if filters.ward_codes else []
        return select(
            wards.c.code.label("ward_code"),
            wards.c.name.label("ward_name"),
            wards.c.county_code.label("county_code"),
            cast(null(), Float).label("population"),
        ).where(*county_where(wards.c.county_code, filters), *ward_filter)
    if grain == "county":
        return select(
            counties.c.code.label("county_code"),
            counties.c.name.label("county_name"),
            counties.c.population.label("population"),
        ).where(*county_where(counties.c.code, filters))
    population = func.sum(counties.c.population)
    if filters.ward_codes is not None:
        population = cast(null(), Float)
    return select(population.label("population")).where(*county_where(counties.c.code, filters))


def _join_parts(filters: Filters, grain: Grain, parts: Sequence[Select]) -> tuple:
    """Left-join each aggregate onto the dimension rows, so empty groups still appear."""
    dimension = dimension_select(filters, grain).subquery("dimension")
    key = {"county": "county_code", "ward": "ward_code"}.get(grain or "")
    subqueries: list[Subquery] = [part.subquery(f"part_{i}") for i, part in enumerate(parts)]
    joined = dimension
    for sub in subqueries:
        on = dimension.c[key] == sub.c[key] if key else true()
        joined = joined.outerjoin(sub, on)
    dimension_columns = [c for c in dimension.c if c.name != "population"]
    return joined, dimension, subqueries, dimension_columns


def _zero(column: ColumnElement) -> ColumnElement:
    return func.coalesce(column, 0)


def incident_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Incident indicators; grain: one row overall, per county or per ward.

    Columns: [county_code, county_name | ward_code, ward_name, county_code], incidents_reported,
    incident_rate_per_100k, incidents_resolved_pct, median_hours_to_acknowledge,
    median_hours_to_resolve, open_incidents.
    """
    lower, upper = sqld.utc_bounds_of_eat_dates(filters.start, filters.end)
    keys = group_keys(incidents, grain)
    in_period = (
        select(
            *keys,
            func.count().label("reported"),
            sqld.count_where(incidents.c.status == "resolved").label("resolved"),
            sqld.median(
                dialect,
                sqld.hours_between(dialect, incidents.c.reported_at, incidents.c.acknowledged_at),
            ).label("median_ack"),
            sqld.median(
                dialect,
                sqld.hours_between(dialect, incidents.c.reported_at, incidents.c.resolved_at),
            ).label("median_resolve"),
        )
        .where(
            incidents.c.reported_at >= lower,
            incidents.c.reported_at < upper,
            *area_where(incidents, filters),
        )
        .group_by(*keys)
    )
    still_open = (
        select(*keys, func.count().label("open"))
        .where(
            incidents.c.reported_at < upper,
            incidents.c.status.in_(OPEN_INCIDENT_STATUSES),
            *area_where(incidents, filters),
        )
        .group_by(*keys)
    )
    joined, dimension, (period, open_), dims = _join_parts(filters, grain, [in_period, still_open])
    reported = _zero(period.c.reported)
    # Null population (a ward selection: wards have no census figure) gives a null rate.
    rate = type_coerce(100000.0 * reported / func.nullif(dimension.c.population, 0), Float())
    return select(
        *dims,
        reported.label("incidents_reported"),
        rate.label("incident_rate_per_100k"),
        sqld.pct(_zero(period.c.resolved), reported).label("incidents_resolved_pct"),
        period.c.median_ack.label("median_hours_to_acknowledge"),
        period.c.median_resolve.label("median_hours_to_resolve"),
        _zero(open_.c.open).label("open_incidents"),
    ).select_from(joined)


def ra_active_in_period(filters: Filters) -> ColumnElement:
    """True for an RA (correlated to `residents_associations`) with a forum held or a monthly
    report submitted in the period: the contract's test of an active RA."""
    ras = residents_associations
    forum_in_period = exists().where(
        forums.c.ra_id == ras.c.id,
        forums.c.held_on >= filters.start,
        forums.c.held_on <= filters.end,
    )
    report_in_period = exists().where(
        ra_monthly_reports.c.ra_id == ras.c.id,
        ra_monthly_reports.c.submitted_on >= filters.start,
        ra_monthly_reports.c.submitted_on <= filters.end,
    )
    return or_(forum_in_period, report_in_period)


def ra_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Residents' association indicators; grain: one row overall, per county or per ward.

    Columns: [dimension columns], ras_registered, ras_active, ra_reporting_rate,
    ra_on_time_rate, forums_held, forum_attendance, joint_forum_pct.
    """
    ras = residents_associations
    ra_keys = group_keys(ras, grain)
    registered = (
        select(
            *ra_keys,
            func.count().label("registered"),
            sqld.count_where(ra_active_in_period(filters)).label("active"),
        )
        .where(
            ras.c.registered_on <= filters.end,
            ras.c.status != "suspended",
            *area_where(ras, filters),
        )
        .group_by(*ra_keys)
    )

    reports = ra_monthly_reports
    deadline = sqld.add_months_and_days(dialect, reports.c.month, 1, 9)
    reporting = (
        select(
            *ra_keys,
            func.count().label("expected"),
            func.count(reports.c.submitted_on).label("submitted"),
            sqld.count_where(reports.c.submitted_on <= deadline).label("on_time"),
        )
        .select_from(reports.join(ras, ras.c.id == reports.c.ra_id))
        .where(
            reports.c.month >= filters.start,
            reports.c.month <= filters.end,
            *area_where(ras, filters),
        )
        .group_by(*ra_keys)
    )

    forum_keys = group_keys(forums, grain)
    joint = and_(
        forums.c.police_present, or_(forums.c.ngao_present, forums.c.private_security_present)
    )
    held = (
        select(
            *forum_keys,
            func.count().label("held"),
            func.sum(forums.c.attendance).label("attendance"),
            sqld.count_where(joint).label("joint"),
        )
        .where(
            forums.c.held_on >= filters.start,
            forums.c.held_on <= filters.end,
            *area_where(forums, filters),
        )
        .group_by(*forum_keys)
    )

    joined, _, (reg, rep, frm), dims = _join_parts(filters, grain, [registered, reporting, held])
    return select(
        *dims,
        _zero(reg.c.registered).label("ras_registered"),
        _zero(reg.c.active).label("ras_active"),
        sqld.pct(rep.c.submitted, rep.c.expected).label("ra_reporting_rate"),
        sqld.pct(rep.c.on_time, rep.c.expected).label("ra_on_time_rate"),
        _zero(frm.c.held).label("forums_held"),
        _zero(frm.c.attendance).label("forum_attendance"),
        sqld.pct(frm.c.joint, frm.c.held).label("joint_forum_pct"),
    ).select_from(joined)


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
        )
        .where(
            trainings.c.held_on >= filters.start,
            trainings.c.held_on <= filters.end,
            *area_where(trainings, filters),
        )
        .group_by(*keys)
    )
    guards = (
        select(*keys, func.sum(trainings.c.participants).label("guards_trained"))
        .where(
            trainings.c.audience == "private_security",
            trainings.c.held_on >= PROGRAMME_LAUNCH,
            trainings.c.held_on <= filters.end,
            *area_where(trainings, filters),
        )
        .group_by(*keys)
    )
    parts = [sessions, guards]
    if grain != "ward" and filters.ward_codes is None:
        firm_keys = group_keys(security_firms, grain)
        parts.append(
            select(*firm_keys, func.sum(security_firms.c.officers_registered).label("officers"))
            .where(
                security_firms.c.partnered_on <= filters.end,
                *county_where(security_firms.c.county_code, filters),
            )
            .group_by(*firm_keys)
        )
    joined, _, subs, dims = _join_parts(filters, grain, parts)
    sess, grd = subs[0], subs[1]
    coverage = (
        sqld.pct(_zero(grd.c.guards_trained), subs[2].c.officers)
        if len(subs) == 3
        else cast(null(), Float)
    )
    return select(
        *dims,
        _zero(sess.c.participants).label("people_trained"),
        sqld.pct(sess.c.female, sess.c.participants).label("trained_female_pct"),
        sqld.pct(sess.c.youth, sess.c.participants).label("trained_youth_pct"),
        sqld.pct(sess.c.certified, sess.c.participants).label("trained_certified_pct"),
        coverage.label("private_security_coverage_pct"),
    ).select_from(joined)


def rehab_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Rehabilitation indicators before suppression, with the counts each one rests on.

    Columns: [dimension columns], rehab_referrals, referral_admission_pct,
    referral_completion_pct, median_days_to_admission, referral_youth_pct, and the support
    counts n_admitted, n_completed, n_completion_base, n_with_admission, n_youth and their
    complements n_not_admitted, n_dropped_out, n_not_youth (dropped by
    `rehab_measures` after suppression; never shown).
    """
    r = rehab_referrals
    keys = group_keys(r, grain)
    admitted = r.c.status.in_(ADMITTED_REFERRAL_STATUSES)
    referred = (
        select(
            *keys,
            func.count().label("referrals"),
            sqld.count_where(admitted).label("admitted"),
            sqld.count_where(r.c.status == "completed").label("completed"),
            sqld.count_where(r.c.status.in_(("completed", "dropped_out"))).label("completion_base"),
            func.count(r.c.admitted_on).label("with_admission"),
            sqld.median(
                dialect, sqld.days_between(dialect, r.c.referred_on, r.c.admitted_on)
            ).label("median_days"),
            sqld.count_where(r.c.age_band.in_(YOUTH_AGE_BANDS)).label("youth"),
        )
        .where(
            r.c.referred_on >= filters.start,
            r.c.referred_on <= filters.end,
            *area_where(r, filters),
        )
        .group_by(*keys)
    )
    joined, _, (ref,), dims = _join_parts(filters, grain, [referred])
    n = _zero(ref.c.referrals)
    return select(
        *dims,
        n.label("rehab_referrals"),
        sqld.pct(ref.c.admitted, n).label("referral_admission_pct"),
        sqld.pct(ref.c.completed, ref.c.completion_base).label("referral_completion_pct"),
        ref.c.median_days.label("median_days_to_admission"),
        sqld.pct(ref.c.youth, n).label("referral_youth_pct"),
        _zero(ref.c.admitted).label("n_admitted"),
        _zero(ref.c.completed).label("n_completed"),
        _zero(ref.c.completion_base).label("n_completion_base"),
        _zero(ref.c.with_admission).label("n_with_admission"),
        _zero(ref.c.youth).label("n_youth"),
        (n - _zero(ref.c.admitted)).label("n_not_admitted"),
        (_zero(ref.c.completion_base) - _zero(ref.c.completed)).label("n_dropped_out"),
        (n - _zero(ref.c.youth)).label("n_not_youth"),
    ).select_from(joined)


# The counts each rehab ratio rests on, complements included: a percentage of a shown total
# reveals both the count it measures and the count it leaves out.
_REHAB_SUPPORT = {
    "referral_admission_pct": ("n_admitted", "n_not_admitted", "rehab_referrals"),
    "referral_completion_pct": ("n_completed", "n_dropped_out", "n_completion_base"),
    "median_days_to_admission": ("n_with_admission",),
    "referral_youth_pct": ("n_youth", "n_not_youth", "rehab_referrals"),
}


def _dialect(engine: Engine) -> str:
    sqld.check_supported(engine.dialect.name)
    return engine.dialect.name


def _as_float(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def incident_measures(engine: Engine, filters: Filters, grain: Grain = None) -> pd.DataFrame:
    """Incident indicators (see `incident_measures_select`): one row overall, per county or
    per ward."""
    frame = read_frame(engine, incident_measures_select(_dialect(engine), filters, grain))
    return _as_float(
        frame,
        [
            "incident_rate_per_100k",
            "incidents_resolved_pct",
            "median_hours_to_acknowledge",
            "median_hours_to_resolve",
        ],
    )


def ra_measures(engine: Engine, filters: Filters, grain: Grain = None) -> pd.DataFrame:
    """Residents' association indicators (see `ra_measures_select`)."""
    frame = read_frame(engine, ra_measures_select(_dialect(engine), filters, grain))
    return _as_float(frame, ["ra_reporting_rate", "ra_on_time_rate", "joint_forum_pct"])


def training_measures(engine: Engine, filters: Filters, grain: Grain = None) -> pd.DataFrame:
    """Training indicators (see `training_measures_select`)."""
    frame = read_frame(engine, training_measures_select(_dialect(engine), filters, grain))
    return _as_float(
        frame,
        [
            "trained_female_pct",
            "trained_youth_pct",
            "trained_certified_pct",
            "private_security_coverage_pct",
        ],
    )


def rehab_measures(
    engine: Engine, filters: Filters, threshold: int, grain: Grain = None
) -> pd.DataFrame:
    """Rehabilitation indicators with the privacy rule applied.

    Grain: one row overall, per county or per ward. Columns: [dimension columns],
    rehab_referrals (NaN where suppressed), the four rehab ratios (NaN where suppressed), and a
    `<column>_suppressed` flag for each. With a county or ward grain the rows are published with
    their total, so secondary suppression runs across them.
    """
    frame = read_frame(engine, rehab_measures_select(_dialect(engine), filters, grain))
    frame = _as_float(frame, list(REHAB_RATIO_KEYS))
    for key, support in _REHAB_SUPPORT.items():
        frame = suppress_ratio(frame, key, support, threshold)
    protection = _rehab_page_protection(engine, filters, threshold, grain, frame)
    for key in REHAB_RATIO_KEYS:
        frame[key] = frame[key].mask(protection[key])
        frame[flag_column(key)] = frame[flag_column(key)].astype(bool) | protection[key]
    frame = suppress_counts(
        frame, "rehab_referrals", threshold, also_hidden=protection["rehab_referrals"]
    )
    # A share of referrals, printed unrounded, gives its denominator away: where the count is
    # hidden to protect another cell, the shares of it go too.
    count_hidden = frame[flag_column("rehab_referrals")].astype(bool)
    for key in ("referral_admission_pct", "referral_youth_pct"):
        frame[key] = frame[key].mask(count_hidden)
        frame[flag_column(key)] = frame[flag_column(key)].astype(bool) | count_hidden
    return frame.drop(columns=[c for c in frame.columns if c.startswith("n_")])


def _rehab_page_protection(
    engine: Engine, filters: Filters, threshold: int, grain: Grain, frame: pd.DataFrame
) -> dict[str, pd.Series]:
    """What the Rehabilitation page's breakdowns hide for the same selection, per row and rehab
    key, so that no page or export shows a figure another page protects (the funnel and the
    admission share, say, would together give a small count of people still in treatment away).

    Per county, each county is protected as the page would protect it with that county chosen.
    Per ward, the shares are not published at all (a ward is too small a place).
    """
    from queries.rehab import headline_hidden, protected_referrals  # rehab builds on this module

    keys = ("rehab_referrals", *REHAB_RATIO_KEYS)
    protection = {key: pd.Series(False, index=frame.index) for key in keys}
    if grain == "ward":
        for key in REHAB_RATIO_KEYS:
            protection[key][:] = True
        return protection
    if grain is None:
        selections = {frame.index[0]: filters}
    else:
        counts = frame["rehab_referrals"].astype("float64")
        selections = {
            row: replace(filters, counties=(code,), wards=())
            for row, code in frame["county_code"].items()
            if counts[row] >= threshold
        }
    for row, selection in selections.items():
        hidden = headline_hidden(protected_referrals(engine, selection, threshold))
        for key, is_hidden in hidden.items():
            protection[key][row] = is_hidden
    return protection


STREAMS = ("incidents", "ras", "training", "rehab")


def indicators_frame(
    engine: Engine,
    filters: Filters,
    threshold: int,
    grain: Grain = None,
    streams: tuple[str, ...] = STREAMS,
) -> pd.DataFrame:
    """The contract's indicators for the selection: one row overall, per county or per ward.

    Args:
        streams: which indicator streams to compute (all by default); a page that shows one
            stream's cards need not query the other three.

    Columns: the grain's dimension columns, then the keys of `INDICATOR_KEYS` of those
    streams, then `_suppressed` / `_small` flags of the rehab ones.
    """
    measures = {
        "incidents": lambda: incident_measures(engine, filters, grain),
        "ras": lambda: ra_measures(engine, filters, grain),
        "training": lambda: training_measures(engine, filters, grain),
        "rehab": lambda: rehab_measures(engine, filters, threshold, grain),
    }
    parts = [measures[stream]() for stream in STREAMS if stream in streams]
    dims = [c for c in ("county_code", "county_name", "ward_code", "ward_name") if c in parts[0]]
    merged = parts[0]
    for part in parts[1:]:
        merged = (
            merged.merge(part, on=dims, how="left")
            if dims
            else pd.concat(
                [merged, part.drop(columns=[c for c in part.columns if c in merged.columns])],
                axis=1,
            )
        )
    return merged


def county_league(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Every county in the selection with its indicators and its change in incidents.

    Grain: one row per county. Columns: county_code, county_name, population, every indicator
    key (rehab ones suppressed, with `_suppressed` flags), incidents_previous (incidents in the
    comparison period), incidents_change_pct (null when the comparison is 0), incidents_z
    (Poisson z of the change), forums_per_100k, trained_per_100k.
    """
    frame = indicators_frame(engine, filters, threshold, "county")
    before = incident_measures(engine, filters.comparison_filters(), "county")
    frame = frame.merge(
        before[["county_code", "incidents_reported"]].rename(
            columns={"incidents_reported": "incidents_previous"}
        ),
        on="county_code",
        how="left",
    )
    population = read_frame(
        engine,
        select(counties.c.code.label("county_code"), counties.c.population).where(
            *county_where(counties.c.code, filters)
        ),
    )
    frame = frame.merge(population, on="county_code", how="left")
    previous = frame["incidents_previous"].astype("float64")
    current = frame["incidents_reported"].astype("float64")
    frame["incidents_change_pct"] = (100.0 * (current - previous) / previous).where(previous > 0)
    frame["incidents_z"] = [poisson_z(c, p) for c, p in zip(current, previous, strict=True)]
    per_100k = 100_000.0 / frame["population"].astype("float64").where(frame["population"] > 0)
    frame["forums_per_100k"] = frame["forums_held"] * per_100k
    frame["trained_per_100k"] = frame["people_trained"] * per_100k
    return frame


def county_scorecard(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """One county's indicators beside the national figure and its rank among the counties.

    The county is the single county of `filters.county_codes` (wards are ignored: ranks compare
    whole counties). The national figure and ranks are computed over all counties without the
    user's scope; only the aggregate and this county's rank leave the function, never another
    county's value.

    Grain: one row per indicator. Columns: indicator, label, unit, kind, county_value,
    county_suppressed, national_value, national_suppressed, rank (1 = best where the indicator
    has a direction, else 1 = highest; null when the county's value is missing or hidden),
    ranked_counties (how many counties have a value).

    Raises:
        ValueError: the filters do not name exactly one county.
    """
    codes = filters.county_codes
    if codes is None or len(codes) != 1:
        raise ValueError("the scorecard needs exactly one county")
    code = codes[0]
    everywhere = Filters(
        start=filters.start, end=filters.end, preset=filters.preset, comparison=filters.comparison
    )
    by_county = indicators_frame(engine, everywhere, threshold, "county").set_index("county_code")
    national = indicators_frame(engine, everywhere, threshold).iloc[0]
    # The county alone: beside only the national total, none of its cells needs secondary
    # suppression, which the all-county frame applies on behalf of other counties.
    alone = indicators_frame(engine, replace(everywhere, counties=(code,)), threshold).iloc[0]
    rows = []
    for indicator in INDICATORS:
        flag = flag_column(indicator.key)
        hidden = by_county[flag] if flag in by_county else pd.Series(False, index=by_county.index)
        values = by_county[indicator.key].astype("float64").mask(hidden.astype(bool))
        ascending = indicator.higher_is_better is False
        ranks = values.rank(ascending=ascending, method="min")
        county_hidden = bool(alone.get(flag, False))
        rows.append(
            {
                "indicator": indicator.key,
                "label": indicator.label,
                "unit": indicator.unit,
                "kind": indicator.kind,
                "county_value": _cell(alone, indicator.key),
                "county_suppressed": county_hidden,
                "national_value": _cell(national, indicator.key),
                "national_suppressed": bool(national.get(flag, False)),
                "rank": None if pd.isna(ranks.get(code)) else int(ranks[code]),
                "ranked_counties": int(values.notna().sum()),
            }
        )
    return pd.DataFrame(rows)


def poisson_z(current: float, previous: float) -> float:
    """Variance-stabilised difference of two Poisson counts: 2 * (sqrt(current) - sqrt(previous)).

    Under no real change it is roughly standard normal, so |z| >= 3 is rarely chance.
    """
    return 2.0 * (math.sqrt(max(current, 0.0)) - math.sqrt(max(previous, 0.0)))


def headline(
    engine: Engine, filters: Filters, threshold: int, streams: tuple[str, ...] = STREAMS
) -> pd.DataFrame:
    """Every indicator for the selection and its comparison period.

    Grain: one row per indicator of the chosen streams. Columns: indicator, label, unit, kind,
    value,
    comparison_value, change (value - comparison), change_pct (100 * change / comparison; null
    when the comparison is 0 or missing), z (Poisson z of the underlying count, counts and rates
    only), meaningful (|z| >= 3), suppressed (value hidden by the privacy rule), small (hidden
    because it is a small count itself), comparison_suppressed. Where either side is suppressed, the change is hidden too, so it
    cannot be used to work a hidden value back out.
    """
    current = indicators_frame(engine, filters, threshold, streams=streams).iloc[0]
    previous = indicators_frame(
        engine, filters.comparison_filters(), threshold, streams=streams
    ).iloc[0]
    rows = []
    for indicator in (i for i in INDICATORS if i.stream in streams):
        value, before = _cell(current, indicator.key), _cell(previous, indicator.key)
        hidden = bool(current.get(flag_column(indicator.key), False))
        small = bool(current.get(small_column(indicator.key), hidden))
        hidden_before = bool(previous.get(flag_column(indicator.key), False))
        change = change_pct = z = None
        if not (hidden or hidden_before) and value is not None and before is not None:
            change = value - before
            change_pct = 100.0 * change / before if before else None
            if indicator.poisson_count:
                z = poisson_z(
                    _cell(current, indicator.poisson_count) or 0.0,
                    _cell(previous, indicator.poisson_count) or 0.0,
                )
        rows.append(
            {
                "indicator": indicator.key,
                "label": indicator.label,
                "unit": indicator.unit,
                "kind": indicator.kind,
                "value": value,
                "comparison_value": before,
                "change": change,
                "change_pct": change_pct,
                "z": z,
                "meaningful": z is not None and abs(z) >= MEANINGFUL_Z,
                "suppressed": hidden,
                "small": small,
                "comparison_suppressed": hidden_before,
            }
        )
    return pd.DataFrame(rows)


def _cell(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    if value is None or pd.isna(value):
        return None
    return float(value)


if __name__ == "__main__":
    import sys

    from queries.indicators_cli import main

    sys.exit(main())
