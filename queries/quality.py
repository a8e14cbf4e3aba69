"""Data-quality findings: rows that break the contract, counted so the data team can fix them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, Select, and_, func, literal, not_, or_, select, union_all

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import Filters
from queries.geography import KENYA_LATITUDE, KENYA_LONGITUDE
from queries.privacy import flag_column, small_column, suppress_counts
from queries.schema import (
    ALLOWED_VALUES,
    counties,
    forums,
    incidents,
    metadata,
    ra_monthly_reports,
    rehab_centres,
    rehab_referrals,
    residents_associations,
    security_firms,
    trainings,
    wards,
)
from queries.where import area_where, county_where, period_where

# Event tables are checked over the selected period; the rest (registers) as they stand.
_PERIOD_COLUMNS = {
    "incidents": incidents.c.reported_at,
    "forums": forums.c.held_on,
    "trainings": trainings.c.held_on,
    "rehab_referrals": rehab_referrals.c.referred_on,
}
_TABLES = {
    "residents_associations": residents_associations,
    "forums": forums,
    "incidents": incidents,
    "trainings": trainings,
    "rehab_centres": rehab_centres,
    "rehab_referrals": rehab_referrals,
}


def _period_where(table_name: str, filters: Filters) -> list:
    column = _PERIOD_COLUMNS.get(table_name)
    return period_where(column, filters) if column is not None else []


def unknown_values_select(filters: Filters) -> Select:
    """Values outside the contract's allowed lists, per table and column.

    Grain: one row per table, column and unknown value. Columns: table_name, column_name,
    value, row_count. NULL is not counted (nullable columns may be empty).
    """
    parts = []
    for (table_name, column_name), allowed in ALLOWED_VALUES.items():
        table = _TABLES[table_name]
        column = table.c[column_name]
        parts.append(
            select(
                literal(table_name).label("table_name"),
                literal(column_name).label("column_name"),
                column.label("value"),
                func.count().label("row_count"),
            )
            .where(
                column.is_not(None),
                column.not_in(allowed),
                *_period_where(table_name, filters),
                *area_where(table, filters),
            )
            .group_by(column)
        )
    union = union_all(*parts).subquery("unknown")
    return select(union).order_by(union.c.row_count.desc(), union.c.table_name)


def _protect_referral_counts(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Counts of referral rows are counts of young people in treatment: the privacy rule holds
    for administrators too. Each is a cell of its own (no total is shown beside it)."""
    referral_rows = frame["table_name"] == "rehab_referrals"
    protected = suppress_counts(frame, "row_count", threshold, margins=())
    protected.loc[~referral_rows, [flag_column("row_count"), small_column("row_count")]] = False
    protected.loc[~referral_rows, "row_count"] = frame.loc[~referral_rows, "row_count"]
    return protected


def unknown_values(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """See `unknown_values_select`; referral counts of 1 to threshold-1 are hidden."""
    return _protect_referral_counts(read_frame(engine, unknown_values_select(filters)), threshold)


def quality_checks_select(filters: Filters) -> Select:
    """Counts of rows that break a rule of the contract, over the selection.

    Grain: one row per check. Columns: check, table_name, row_count.
    """
    in_period = [*_period_where("incidents", filters), *area_where(incidents, filters)]
    outside_kenya = or_(
        not_(incidents.c.latitude.between(*KENYA_LATITUDE)),
        not_(incidents.c.longitude.between(*KENYA_LONGITUDE)),
    )
    ward_mismatch = (
        ~select(wards.c.code)
        .where(
            wards.c.code == incidents.c.ward_code, wards.c.county_code == incidents.c.county_code
        )
        .exists()
    )
    unknown_county = (
        ~select(counties.c.code).where(counties.c.code == incidents.c.county_code).exists()
    )
    resolved_mismatch = or_(
        and_(incidents.c.status == "resolved", incidents.c.resolved_at.is_(None)),
        and_(incidents.c.status != "resolved", incidents.c.resolved_at.is_not(None)),
    )
    checks = [
        (
            "Incident coordinates outside Kenya",
            "incidents",
            and_(
                incidents.c.latitude.is_not(None), incidents.c.longitude.is_not(None), outside_kenya
            ),
        ),
        (
            "Incident without coordinates",
            "incidents",
            or_(incidents.c.latitude.is_(None), incidents.c.longitude.is_(None)),
        ),
        ("Incident in an unknown county", "incidents", unknown_county),
        (
            "Incident ward not in its county",
            "incidents",
            and_(incidents.c.ward_code.is_not(None), ward_mismatch),
        ),
        ("Incident resolved_at does not match status", "incidents", resolved_mismatch),
        (
            "Incident acknowledged before it was reported",
            "incidents",
            sqld.normalised(incidents.c.acknowledged_at) < sqld.normalised(incidents.c.reported_at),
        ),
    ]
    parts = [
        select(
            literal(name).label("check"),
            literal(table).label("table_name"),
            sqld.count_where(condition).label("row_count"),
        ).where(*in_period)
        for name, table, condition in checks
    ]
    ras = residents_associations
    parts.append(
        select(
            literal("Monthly report submitted before its month").label("check"),
            literal("ra_monthly_reports").label("table_name"),
            sqld.count_where(
                sqld.normalised(ra_monthly_reports.c.submitted_on)
                < sqld.normalised(ra_monthly_reports.c.month)
            ).label("row_count"),
        )
        .select_from(ra_monthly_reports.join(ras, ras.c.id == ra_monthly_reports.c.ra_id))
        .where(
            *period_where(ra_monthly_reports.c.month, filters),
            *area_where(ras, filters),
        )
    )
    parts.append(
        select(
            literal("Referral admitted before it was referred").label("check"),
            literal("rehab_referrals").label("table_name"),
            sqld.count_where(
                sqld.normalised(rehab_referrals.c.admitted_on)
                < sqld.normalised(rehab_referrals.c.referred_on)
            ).label("row_count"),
        ).where(*_period_where("rehab_referrals", filters), *area_where(rehab_referrals, filters))
    )
    parts.append(
        select(
            literal("Training with more certified or female than participants").label("check"),
            literal("trainings").label("table_name"),
            sqld.count_where(
                or_(
                    trainings.c.certified > trainings.c.participants,
                    trainings.c.participants_female > trainings.c.participants,
                )
            ).label("row_count"),
        ).where(*_period_where("trainings", filters), *area_where(trainings, filters))
    )
    parts.append(
        select(
            literal("Security firm with no officers registered").label("check"),
            literal("security_firms").label("table_name"),
            sqld.count_where(security_firms.c.officers_registered <= 0).label("row_count"),
        ).where(*county_where(security_firms.c.county_code, filters))
    )
    return select(union_all(*parts).subquery("checks"))


def quality_checks(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """See `quality_checks_select`; referral counts of 1 to threshold-1 are hidden."""
    return _protect_referral_counts(read_frame(engine, quality_checks_select(filters)), threshold)


def required_nulls_select(filters: Filters) -> Select:
    """NULLs in the contract's required (NOT NULL) columns, per table and column.

    Counted over whole tables, not the selected period: a row whose date is NULL belongs to no
    period, and would hide from a period filter. A user limited to some counties sees the rows of
    those counties only (tables without a county are shown to national users only).

    Grain: one row per table and required column, zero counts included. Columns: table_name,
    column_name, row_count.
    """
    parts = []
    for table in metadata.sorted_tables:
        if "county_code" in table.c:
            place = county_where(table.c.county_code, filters)
        elif filters.county_codes is not None:
            continue
        else:
            place = []
        required = [column for column in table.columns if not column.nullable]
        # One scan per table: a CTE with every column's count, read once per column below.
        counts = (
            select(*(sqld.count_where(column.is_(None)).label(column.name) for column in required))
            .where(*place)
            .cte(f"nulls_{table.name}")
        )
        parts.extend(
            select(
                literal(table.name).label("table_name"),
                literal(column.name).label("column_name"),
                counts.c[column.name].label("row_count"),
            )
            for column in required
        )
    return select(union_all(*parts).subquery("required_nulls"))


def required_nulls(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """See `required_nulls_select`; referral counts of 1 to threshold-1 are hidden."""
    frame = read_frame(engine, required_nulls_select(filters))
    frame["row_count"] = frame["row_count"].astype("int64")
    return _protect_referral_counts(frame, threshold)
