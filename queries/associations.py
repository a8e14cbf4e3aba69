"""The residents' associations (RA) stream: the contract's RA measures (each one named SQL
expression) and the page's breakdowns by county, month, forum type and settlement type.

Every breakdown reuses the measures' expressions (reporting and on-time rates, joint forums,
registered and active RAs), so the page's figures add up to `queries.indicators.headline`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, and_, case, exists, func, literal, or_, select

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import Filters, latest_due_month
from queries.grain import (
    OTHER,
    Grain,
    as_float,
    bucketed,
    group_keys,
    join_onto_dimension,
    zero_if_null,
)
from queries.reference import with_as_of
from queries.schema import (
    FORUM_TYPES,
    SETTLEMENT_TYPES,
    counties,
    forums,
    ra_monthly_reports,
    residents_associations,
)
from queries.where import (
    area_where,
    county_where,
    period_where,
    report_due_where,
    until_end_where,
    until_where,
)
from queries.where import as_of as as_of_date

# Forums whose ra_id is empty (or names no RA) have no settlement type of their own.
NO_RA = "no_ra"


# The contract's RA measures. Each is one named SQL expression; the headline, the league table
# and the page's breakdowns reuse them.


def is_registered(filters: Filters) -> list[ColumnElement]:
    """`ras_registered`: RAs registered by the end of the period and not suspended. An RA whose
    status is NULL is not known to be suspended, so it counts (`status <> 'suspended'` alone
    would drop it silently, being NULL)."""
    ras = residents_associations
    return [
        *until_end_where(ras.c.registered_on, filters),
        or_(ras.c.status.is_(None), ras.c.status != "suspended"),
    ]


def ra_active_in_period(filters: Filters) -> ColumnElement:
    """`ras_active`'s test for an RA (correlated to `residents_associations`): a forum held or a
    monthly report submitted in the period."""
    ras = residents_associations
    forum_in_period = exists().where(
        forums.c.ra_id == ras.c.id, *period_where(forums.c.held_on, filters)
    )
    report_in_period = exists().where(
        ra_monthly_reports.c.ra_id == ras.c.id,
        *period_where(ra_monthly_reports.c.submitted_on, filters),
    )
    return or_(forum_in_period, report_in_period)


def report_deadline(dialect: str) -> ColumnElement:
    """A monthly report's deadline: the 10th of the month after the month it reports on."""
    return sqld.add_months_and_days(dialect, ra_monthly_reports.c.month, 1, 9)


def reports_submitted_count(filters: Filters) -> ColumnElement:
    """Monthly-report rows of the group submitted by the as-of date (a submission dated after
    it is not known yet)."""
    return sqld.count_where(
        and_(*until_where(ra_monthly_reports.c.submitted_on, as_of_date(filters)))
    )


def reports_on_time_count(dialect: str) -> ColumnElement:
    """Monthly-report rows of the group submitted on or before their deadline."""
    return sqld.count_where(
        sqld.normalised(ra_monthly_reports.c.submitted_on) <= report_deadline(dialect)
    )


def ra_reporting_rate(filters: Filters) -> ColumnElement:
    """`ra_reporting_rate`: submitted / expected over the group's monthly-report rows."""
    return sqld.pct(reports_submitted_count(filters), func.count())


def ra_on_time_rate(dialect: str) -> ColumnElement:
    """`ra_on_time_rate`: submitted by the deadline / expected over the group's report rows."""
    return sqld.pct(reports_on_time_count(dialect), func.count())


def is_joint_forum() -> ColumnElement:
    """`joint_forum_pct`'s test: police present with NGAO or private security."""
    return and_(
        forums.c.police_present, or_(forums.c.ngao_present, forums.c.private_security_present)
    )


def joint_forum_known() -> ColumnElement:
    """`joint_forum_pct`'s denominator test: whether the presence columns settle the joint test.
    A forum with NULL presence is left out of the share's numerator and denominator unless the
    known columns decide it anyway (police absent: not joint; police and NGAO present: joint);
    SQL's three-valued logic gives exactly that, since the test is NULL when and only when it
    is undecided."""
    return is_joint_forum().is_not(None)


def reports_in_period(filters: Filters, due_only: bool = True) -> list[ColumnElement]:
    """Monthly-report rows whose month (its first day) lies in the period, for RAs in the area
    (the query must join `residents_associations`); with `due_only`, only months whose deadline
    is on or before the as-of date (a report not yet due is not missing)."""
    due = report_due_where(ra_monthly_reports.c.month, filters) if due_only else []
    return [
        *period_where(ra_monthly_reports.c.month, filters),
        *due,
        *area_where(residents_associations, filters),
    ]


def forums_in_period(filters: Filters) -> list[ColumnElement]:
    """Forums held in the period in the selected area."""
    return [*period_where(forums.c.held_on, filters), *area_where(forums, filters)]


def ra_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Residents' association indicators; grain: one row overall, per county or per ward.

    Columns: [dimension columns], ras_registered, ras_active, ra_reporting_rate,
    ra_on_time_rate, forums_held, forum_attendance, joint_forum_pct, and the counts the shares
    rest on: n_reports_due, n_reports_submitted, n_reports_on_time, n_joint_forums,
    n_joint_known (forums whose presence columns settle the joint test). Reporting
    counts only report rows already due at the as-of date.
    """
    ras = residents_associations
    ra_keys = group_keys(ras, grain)
    registered = (
        select(
            *ra_keys,
            func.count().label("registered"),
            sqld.count_where(ra_active_in_period(filters)).label("active"),
        )
        .where(*is_registered(filters), *area_where(ras, filters))
        .group_by(*ra_keys)
    )
    reports = ra_monthly_reports
    reporting = (
        select(
            *ra_keys,
            ra_reporting_rate(filters).label("reporting_rate"),
            ra_on_time_rate(dialect).label("on_time_rate"),
            func.count().label("due"),
            reports_submitted_count(filters).label("submitted"),
            reports_on_time_count(dialect).label("on_time"),
        )
        .select_from(reports.join(ras, ras.c.id == reports.c.ra_id))
        .where(*reports_in_period(filters))
        .group_by(*ra_keys)
    )
    forum_keys = group_keys(forums, grain)
    held = (
        select(
            *forum_keys,
            func.count().label("held"),
            func.sum(forums.c.attendance).label("attendance"),
            sqld.count_where(is_joint_forum()).label("joint"),
            sqld.count_where(joint_forum_known()).label("joint_known"),
        )
        .where(*forums_in_period(filters))
        .group_by(*forum_keys)
    )
    joined, _, (reg, rep, frm), dims = join_onto_dimension(
        filters, grain, [registered, reporting, held]
    )
    return (
        select(
            *dims,
            zero_if_null(reg.c.registered).label("ras_registered"),
            zero_if_null(reg.c.active).label("ras_active"),
            rep.c.reporting_rate.label("ra_reporting_rate"),
            rep.c.on_time_rate.label("ra_on_time_rate"),
            zero_if_null(frm.c.held).label("forums_held"),
            zero_if_null(frm.c.attendance).label("forum_attendance"),
            sqld.pct(frm.c.joint, frm.c.joint_known).label("joint_forum_pct"),
            zero_if_null(rep.c.due).label("n_reports_due"),
            zero_if_null(rep.c.submitted).label("n_reports_submitted"),
            zero_if_null(rep.c.on_time).label("n_reports_on_time"),
            zero_if_null(frm.c.joint).label("n_joint_forums"),
            zero_if_null(frm.c.joint_known).label("n_joint_known"),
        )
        .select_from(joined)
        .order_by(*dims)
    )


def ra_measures(engine: Engine, filters: Filters, grain: Grain = None) -> pd.DataFrame:
    """Residents' association indicators (see `ra_measures_select`)."""
    filters = with_as_of(engine, filters)
    frame = read_frame(engine, ra_measures_select(sqld.dialect_of(engine), filters, grain))
    return as_float(frame, ["ra_reporting_rate", "ra_on_time_rate", "joint_forum_pct"])


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_starting_in(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of months that lie in start..end (inclusive): the reporting months."""
    month = start if start.day == 1 else _next_month(start)
    months = []
    while month <= end:
        months.append(month)
        month = _next_month(month)
    return months


def months_overlapping(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of every month that shares at least one day with start..end."""
    return [start.replace(day=1), *months_starting_in(_next_month(start.replace(day=1)), end)]


def _ordered(values: list[str], allowed: tuple[str, ...], extra: tuple[str, ...]) -> list[str]:
    """Allowed values in contract order, then the buckets actually present."""
    return list(allowed) + [value for value in extra if value in set(values)]


def county_dimension_select(filters: Filters) -> Select:
    """One row per county of the selection: county_code, county_name."""
    return (
        select(counties.c.code.label("county_code"), counties.c.name.label("county_name"))
        .where(*county_where(counties.c.code, filters))
        .order_by(counties.c.name)
    )


def reporting_by_county_month_select(dialect: str, filters: Filters) -> Select:
    """Monthly-report counts per county per reporting month, for months starting in the period.

    Grain: one row per county per month that has at least one expected report.
    Columns: county_code, month (first day), expected_count, submitted_count, on_time_count,
    reporting_rate_pct (`ra_reporting_rate`), on_time_rate_pct (`ra_on_time_rate`).
    """
    ras, reports = residents_associations, ra_monthly_reports
    month = sqld.normalised(reports.c.month)
    return (
        select(
            ras.c.county_code.label("county_code"),
            month.label("month"),
            func.count().label("expected_count"),
            reports_submitted_count(filters).label("submitted_count"),
            reports_on_time_count(dialect).label("on_time_count"),
            ra_reporting_rate(filters).label("reporting_rate_pct"),
            ra_on_time_rate(dialect).label("on_time_rate_pct"),
        )
        .select_from(reports.join(ras, ras.c.id == reports.c.ra_id))
        .where(*reports_in_period(filters, due_only=False))
        .group_by(ras.c.county_code, month)
        .order_by(ras.c.county_code, month)
    )


def reporting_by_county_month(engine: Engine, filters: Filters) -> pd.DataFrame:
    """RA monthly reporting and on-time rates per county per month (the heatmap's cells).

    Months are those whose first day lies in the period; a report is on time when submitted on
    or before the 10th of the following month (contract definitions).

    A month whose deadline is after the as-of date is not due: its reports are not missing, so
    its rates are null and its missing_count 0 (reports already sent early still count as
    submitted).

    Grain: one row per county of the selection per reporting month (a complete grid; cells with
    nothing expected have expected_count 0 and null rates, never 0%).
    Columns: county_code, county_name, month (datetime64, first day), is_due, expected_count,
    submitted_count, on_time_count, late_count (submitted after the deadline), missing_count
    (not submitted, of due months), reporting_rate_pct, on_time_rate_pct.
    """
    filters = with_as_of(engine, filters)
    raw = read_frame(engine, reporting_by_county_month_select(sqld.dialect_of(engine), filters))
    dims = read_frame(engine, county_dimension_select(filters))
    months = pd.to_datetime(pd.Series(months_starting_in(filters.start, filters.end)))
    grid = dims.merge(pd.DataFrame({"month": months}), how="cross")
    raw["month"] = pd.to_datetime(raw["month"])
    counts = ["expected_count", "submitted_count", "on_time_count"]
    frame = grid.merge(raw, on=["county_code", "month"], how="left")
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame["late_count"] = frame["submitted_count"] - frame["on_time_count"]
    frame["missing_count"] = frame["expected_count"] - frame["submitted_count"]
    frame = as_float(frame, ["reporting_rate_pct", "on_time_rate_pct"])
    frame["is_due"] = frame["month"] <= pd.Timestamp(latest_due_month(filters.as_of))
    not_due = ~frame["is_due"]
    frame.loc[not_due, "missing_count"] = 0
    frame.loc[not_due, ["reporting_rate_pct", "on_time_rate_pct"]] = float("nan")
    columns = ["county_code", "county_name", "month", "is_due", *counts]
    frame = frame[
        [*columns, "late_count", "missing_count", "reporting_rate_pct", "on_time_rate_pct"]
    ]
    return frame.sort_values(["county_name", "month"], ignore_index=True)


def forums_by_month_and_type_select(dialect: str, filters: Filters) -> Select:
    """Forums held in the period per calendar month and forum type.

    Grain: one row per month per forum type with at least one forum; types outside the
    contract are counted as 'other'. Columns: month (first day), forum_type, forums_held,
    forum_attendance.
    """
    rows = (
        select(
            sqld.month_start(dialect, forums.c.held_on).label("month"),
            bucketed(forums.c.forum_type, FORUM_TYPES).label("forum_type"),
            forums.c.attendance.label("attendance"),
        )
        .where(*forums_in_period(filters))
        .subquery("forum_rows")
    )
    return (
        select(
            rows.c.month,
            rows.c.forum_type,
            func.count().label("forums_held"),
            func.coalesce(func.sum(rows.c.attendance), 0).label("forum_attendance"),
        )
        .group_by(rows.c.month, rows.c.forum_type)
        .order_by(rows.c.month, rows.c.forum_type)
    )


def forums_by_month_and_type(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Forums held and their attendance per month and forum type, zero-filled.

    Grain: one row per calendar month overlapping the period per forum type (every contract
    type, plus 'other' when unknown types occur). Columns: month (datetime64, first day),
    forum_type, forums_held, forum_attendance, is_partial (the month is not wholly inside the
    period, so it is not comparable with full months).
    """
    raw = read_frame(engine, forums_by_month_and_type_select(sqld.dialect_of(engine), filters))
    raw["month"] = pd.to_datetime(raw["month"])
    types = _ordered(raw["forum_type"].tolist(), FORUM_TYPES, (OTHER,))
    months = pd.to_datetime(pd.Series(months_overlapping(filters.start, filters.end)))
    grid = pd.MultiIndex.from_product([months, types], names=["month", "forum_type"])
    frame = (
        raw.set_index(["month", "forum_type"])[["forums_held", "forum_attendance"]]
        .reindex(grid, fill_value=0)
        .astype("int64")
        .reset_index()
    )
    month_end = frame["month"] + pd.offsets.MonthEnd(0)
    frame["is_partial"] = (frame["month"] < pd.Timestamp(filters.start)) | (
        month_end > pd.Timestamp(filters.end)
    )
    return frame


def forums_by_county_select(dialect: str, filters: Filters) -> Select:
    """Forums held in the period per county of the selection.

    Grain: one row per county of the selection (counties without forums included).
    Columns: county_code, county_name, forums_held, forum_attendance, joint_forums_count,
    police_present_count, joint_forum_pct.
    """
    held = (
        select(
            forums.c.county_code.label("county_code"),
            func.count().label("held"),
            func.sum(forums.c.attendance).label("attendance"),
            sqld.count_where(is_joint_forum()).label("joint"),
            sqld.count_where(joint_forum_known()).label("joint_known"),
            sqld.count_where(forums.c.police_present).label("police"),
            func.count(forums.c.attendance).label("attendance_known"),
        )
        .where(*forums_in_period(filters))
        .group_by(forums.c.county_code)
        .subquery("held")
    )
    dims = county_dimension_select(filters).subquery("dims")
    n = func.coalesce(held.c.held, 0)
    return (
        select(
            dims.c.county_code,
            dims.c.county_name,
            n.label("forums_held"),
            func.coalesce(held.c.attendance, 0).label("forum_attendance"),
            func.coalesce(held.c.joint, 0).label("joint_forums_count"),
            func.coalesce(held.c.police, 0).label("police_present_count"),
            sqld.pct(held.c.joint, held.c.joint_known).label("joint_forum_pct"),
            func.coalesce(held.c.attendance_known, 0).label("forums_with_attendance"),
        )
        .select_from(dims.outerjoin(held, held.c.county_code == dims.c.county_code))
        .order_by(dims.c.county_name)
    )


def forums_by_county(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Forums held, attendance and the share of joint forums per county (see the select).

    Grain: one row per county of the selection. Columns: county_code, county_name,
    forums_held, forum_attendance, joint_forums_count, police_present_count,
    joint_forum_pct (null with no forums), attendance_per_forum (people per forum; null with no
    forums).
    """
    frame = read_frame(engine, forums_by_county_select(sqld.dialect_of(engine), filters))
    frame["joint_forum_pct"] = pd.to_numeric(frame["joint_forum_pct"]).astype("float64")
    for column in ("forums_held", "forum_attendance", "joint_forums_count", "police_present_count"):
        frame[column] = frame[column].astype("int64")
    # Per forum whose attendance is known (NULL attendance adds nothing to the sum).
    known = frame.pop("forums_with_attendance").astype("float64").replace(0, np.nan)
    frame["attendance_per_forum"] = frame["forum_attendance"] / known
    return frame


def ras_by_settlement_type_select(dialect: str, filters: Filters) -> Select:
    """Registered RAs, active RAs and member households per settlement type.

    Registered: registered_on on or before the end of the period and status not suspended;
    active: of those, with a forum held or a monthly report submitted in the period (contract).
    Grain: one row per settlement type with RAs ('other' for types outside the contract).
    Columns: settlement_type, ras_registered, ras_active, member_households.
    """
    ras = residents_associations
    rows = (
        select(
            bucketed(ras.c.settlement_type, SETTLEMENT_TYPES).label("settlement_type"),
            case((ra_active_in_period(filters), 1), else_=0).label("active"),
            ras.c.members.label("members"),
        )
        .where(*is_registered(filters), *area_where(ras, filters))
        .subquery("ra_rows")
    )
    return select(
        rows.c.settlement_type,
        func.count().label("ras_registered"),
        func.coalesce(func.sum(rows.c.active), 0).label("ras_active"),
        func.coalesce(func.sum(rows.c.members), 0).label("member_households"),
    ).group_by(rows.c.settlement_type)


def forums_by_settlement_type_select(dialect: str, filters: Filters) -> Select:
    """Forums held in the period by the settlement type of the RA that held them.

    Grain: one row per settlement type; forums with no (known) RA are 'no_ra', unknown types
    'other'. Columns: settlement_type, forums_held.
    """
    ras = residents_associations
    rows = (
        select(
            case(
                (ras.c.id.is_(None), literal(NO_RA)),
                (ras.c.settlement_type.in_(SETTLEMENT_TYPES), ras.c.settlement_type),
                else_=literal(OTHER),
            ).label("settlement_type")
        )
        .select_from(forums.outerjoin(ras, ras.c.id == forums.c.ra_id))
        .where(*forums_in_period(filters))
        .subquery("forum_rows")
    )
    return select(rows.c.settlement_type, func.count().label("forums_held")).group_by(
        rows.c.settlement_type
    )


def ras_by_settlement_type(engine: Engine, filters: Filters) -> pd.DataFrame:
    """RAs registered and active, member households and forums held, per settlement type.

    RAs are placed by their own county/ward and forums by theirs, exactly as the headline
    indicators count them, so each column sums to its headline figure.

    Grain: one row per settlement type (every contract type, then 'other' and 'no_ra' when
    present). Columns: settlement_type, ras_registered, ras_active, member_households,
    forums_held, active_pct (active / registered; null with none registered).
    """
    dialect = sqld.dialect_of(engine)
    ras = read_frame(engine, ras_by_settlement_type_select(dialect, filters))
    held = read_frame(engine, forums_by_settlement_type_select(dialect, filters))
    types = _ordered(
        ras["settlement_type"].tolist() + held["settlement_type"].tolist(),
        SETTLEMENT_TYPES,
        (OTHER, NO_RA),
    )
    frame = (
        pd.DataFrame({"settlement_type": types})
        .merge(ras, on="settlement_type", how="left")
        .merge(held, on="settlement_type", how="left")
    )
    counts = ["ras_registered", "ras_active", "member_households", "forums_held"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    registered = frame["ras_registered"].astype("float64").replace(0, np.nan)
    frame["active_pct"] = 100.0 * frame["ras_active"] / registered
    return frame
