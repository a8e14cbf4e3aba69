"""Data-quality findings: rows that break the contract, counted so the data team can fix them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Engine,
    FromClause,
    MetaData,
    Select,
    Table,
    and_,
    exists,
    func,
    inspect,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy import types as sa_types

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
    primary_key_names,
    ra_monthly_reports,
    rehab_centres,
    rehab_referrals,
    residents_associations,
    security_firms,
    trainings,
    wards,
)
from queries.where import (
    after_day_where,
    area_where,
    before_day_where,
    county_where,
    period_where,
)

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


def _period_where(table_name: str, filters: Filters, whole_tables: bool = False) -> list:
    column = _PERIOD_COLUMNS.get(table_name)
    return period_where(column, filters) if column is not None and not whole_tables else []


def _place(table: Table, filters: Filters) -> list:
    """The area restriction of a table: county and ward where it has them."""
    if "ward_code" in table.c:
        return area_where(table, filters)
    return county_where(table.c.county_code, filters) if "county_code" in table.c else []


def unknown_values_select(filters: Filters, whole_tables: bool = False) -> Select:
    """Values outside the contract's allowed lists, per table and column, over the period (or,
    with `whole_tables`, every row).

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
                *_period_where(table_name, filters, whole_tables),
                *area_where(table, filters),
            )
            .group_by(column)
        )
    union = union_all(*parts).subquery("unknown")
    # Ties in count are ordered by name, so every engine lists the findings alike.
    return select(union).order_by(
        union.c.row_count.desc(), union.c.table_name, union.c.column_name, union.c.value
    )


def _protect_referral_counts(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Counts of referral rows are counts of young people in treatment: the privacy rule holds
    for administrators too. Each is a cell of its own (no total is shown beside it)."""
    referral_rows = frame["table_name"] == "rehab_referrals"
    protected = suppress_counts(frame, "row_count", threshold, margins=())
    protected.loc[~referral_rows, [flag_column("row_count"), small_column("row_count")]] = False
    protected.loc[~referral_rows, "row_count"] = frame.loc[~referral_rows, "row_count"]
    return protected


def unknown_values(
    engine: Engine, filters: Filters, threshold: int, whole_tables: bool = False
) -> pd.DataFrame:
    """See `unknown_values_select`; referral counts of 1 to threshold-1 are hidden."""
    frame = read_frame(engine, unknown_values_select(filters, whole_tables))
    return _protect_referral_counts(frame, threshold)


# How each table's rows are named in a finding.
NOUNS = {
    "incidents": "Incident",
    "forums": "Forum",
    "trainings": "Training",
    "rehab_referrals": "Referral",
    "rehab_centres": "Rehab centre",
    "residents_associations": "Residents' association",
    "security_firms": "Security firm",
    "wards": "Ward",
    "targets": "Target",
}


def _rule_checks() -> list[tuple[str, Table, ColumnElement]]:
    """(finding, table, condition a row breaks) for every row-level rule of the contract."""
    i, r = incidents, rehab_referrals
    outside_kenya = or_(
        not_(i.c.latitude.between(*KENYA_LATITUDE)),
        not_(i.c.longitude.between(*KENYA_LONGITUDE)),
    )

    def before(later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
        return sqld.normalised(later) < sqld.normalised(earlier)

    checks: list[tuple[str, Table, ColumnElement]] = [
        (
            "Incident coordinates outside Kenya",
            i,
            and_(i.c.latitude.is_not(None), i.c.longitude.is_not(None), outside_kenya),
        ),
        (
            "Incident without coordinates",
            i,
            or_(i.c.latitude.is_(None), i.c.longitude.is_(None)),
        ),
        (
            "Incident resolved_at does not match status",
            i,
            or_(
                and_(i.c.status == "resolved", i.c.resolved_at.is_(None)),
                and_(i.c.status != "resolved", i.c.resolved_at.is_not(None)),
            ),
        ),
        (
            "Incident acknowledged before it was reported",
            i,
            before(i.c.acknowledged_at, i.c.reported_at),
        ),
        ("Incident resolved before it was reported", i, before(i.c.resolved_at, i.c.reported_at)),
        ("Referral assessed before it was referred", r, before(r.c.assessed_on, r.c.referred_on)),
        ("Referral admitted before it was referred", r, before(r.c.admitted_on, r.c.referred_on)),
        ("Referral admitted before it was assessed", r, before(r.c.admitted_on, r.c.assessed_on)),
        ("Referral completed before it was admitted", r, before(r.c.completed_on, r.c.admitted_on)),
        (
            "Training with more certified or female than participants",
            trainings,
            or_(
                trainings.c.certified > trainings.c.participants,
                trainings.c.participants_female > trainings.c.participants,
            ),
        ),
        (
            "Security firm with no officers registered",
            security_firms,
            security_firms.c.officers_registered <= 0,
        ),
    ]
    for table in metadata.sorted_tables:
        noun = NOUNS.get(table.name)
        if noun and "county_code" in table.c:
            known = select(counties.c.code).where(counties.c.code == table.c.county_code)
            checks.append((f"{noun} in an unknown county", table, ~known.exists()))
        if noun and "ward_code" in table.c:
            in_county = select(wards.c.code).where(
                wards.c.code == table.c.ward_code, wards.c.county_code == table.c.county_code
            )
            checks.append(
                (
                    f"{noun} ward not in its county",
                    table,
                    and_(table.c.ward_code.is_not(None), ~in_county.exists()),
                )
            )
    return checks


def quality_checks_select(filters: Filters, whole_tables: bool = False) -> Select:
    """Counts of rows that break a rule of the contract, over the selection (event tables over
    the period; with `whole_tables`, every row in the area).

    Grain: one row per check. Columns: check, table_name, row_count.
    """
    by_table: dict[str, list[tuple[str, ColumnElement]]] = {}
    tables: dict[str, Table] = {}
    for name, table, condition in _rule_checks():
        by_table.setdefault(table.name, []).append((name, condition))
        tables[table.name] = table
    parts = []
    for table_name, checks in by_table.items():
        table = tables[table_name]
        where = [*_period_where(table_name, filters, whole_tables), *_place(table, filters)]
        parts += _one_scan(table, checks, where)
    ras = residents_associations
    months = [] if whole_tables else period_where(ra_monthly_reports.c.month, filters)
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
        .where(*months, *area_where(ras, filters))
    )
    return select(union_all(*parts).subquery("checks"))


def quality_checks(
    engine: Engine, filters: Filters, threshold: int, whole_tables: bool = False
) -> pd.DataFrame:
    """See `quality_checks_select`; referral counts of 1 to threshold-1 are hidden."""
    frame = read_frame(engine, quality_checks_select(filters, whole_tables))
    return _protect_referral_counts(frame, threshold)


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


# Columns that record events: none may lie after today or before 2020 (registers such as
# rehab_centres.opened_on, targets and programme_start may; they are plans or history).
EVENT_DATE_COLUMNS = {
    "incidents": ("reported_at", "occurred_at", "acknowledged_at", "resolved_at"),
    "forums": ("held_on",),
    "trainings": ("held_on",),
    "rehab_referrals": ("referred_on", "assessed_on", "admitted_on", "completed_on"),
    "ra_monthly_reports": ("month", "submitted_on"),
}
EARLIEST_EVENT = dt.date(2020, 1, 1)


# Keys held by more than one row, kept per table by the serving copy (`queries.serving`): over
# ten million incidents, grouping every key takes about a second and most of DuckDB's memory on
# each opening of the Data quality page, while the finding changes only when rows arrive.
SHARED_KEYS_PREFIX = "usalama_shared_keys_"
_shared_keys_metadata = MetaData()


def _shared_keys_table(table: Table) -> Table:
    keys = primary_key_names(table)
    place = ["county_code"] if "county_code" in table.c and "county_code" not in keys else []
    return Table(
        SHARED_KEYS_PREFIX + table.name,
        _shared_keys_metadata,
        *(Column(name, table.c[name].type) for name in [*keys, *place]),
        Column("row_count", BigInteger),
    )


SHARED_KEYS = {table.name: _shared_keys_table(table) for table in metadata.sorted_tables}


def shared_keys_select(table: Table, among: FromClause | None = None) -> Select:
    """The rows of `table` whose key another row shares, counted per key and county (the
    county's rows of that key; a key may be shared across counties), for `SHARED_KEYS`.

    `among`: only the keys found in this table or subquery (its columns named as the keys): a
    refresh recounts only the keys it brought. A NULL key counts as a key like any other, as
    in GROUP BY.

    Grain: one row per shared key and county. Columns: the key columns, county_code (where the
    table has it and it is not a key), row_count.
    """
    keys = primary_key_names(table)
    grouping = [column.name for column in SHARED_KEYS[table.name].columns][:-1]

    def same_key(left: FromClause, right: FromClause) -> ColumnElement:
        return and_(*(left.c[key].is_not_distinct_from(right.c[key]) for key in keys))

    rows = table
    if among is not None:
        rows = (
            select(*(table.c[name] for name in grouping))
            .where(exists().where(same_key(table, among)))
            .subquery("among")
        )
    shared = (
        select(*(rows.c[key] for key in keys))
        .group_by(*(rows.c[key] for key in keys))
        .having(func.count() > 1)
        .subquery("shared")
    )
    return (
        select(*(rows.c[name] for name in grouping), func.count().label("row_count"))
        .where(exists().where(same_key(rows, shared)))
        .group_by(*(rows.c[name] for name in grouping))
    )


def holds_shared_keys(engine: Engine) -> bool:
    """Whether `engine` is a serving copy that keeps `SHARED_KEYS` (a copy made before it kept
    them has none until its next refresh; any other database is read whole)."""
    if sqld.dialect_of(engine) != "duckdb":
        return False
    present = set(inspect(engine).get_table_names())
    return all(stored.name in present for stored in SHARED_KEYS.values())


def _rows_sharing_a_key(table: Table, filters: Filters, stored: bool) -> Select:
    """Per key held more than once within the place, its rows (n): from the table itself, or
    from the copy's stored finding. The two agree: a key shared within some counties is shared
    in the whole table, and the stored rows of those counties add up to its rows there."""
    keys = primary_key_names(table)
    source = SHARED_KEYS[table.name] if stored else table
    rows = func.sum(source.c.row_count) if stored else func.count()
    place = county_where(source.c.county_code, filters) if "county_code" in source.c else []
    return (
        select(rows.label("n"))
        .select_from(source)
        .where(*place)
        .group_by(*(source.c[key] for key in keys))
        .having(rows > 1)
    )


def table_checks_select(filters: Filters, today: dt.date, stored: bool = False) -> Select:
    """Checks over whole tables (a row dated outside every period, or a second row with the same
    key, would hide from a period filter): duplicate keys, and event dates after `today` (an EAT
    date) or before 2020. Tables without a county are checked for national users only.

    `stored`: count duplicate keys from the serving copy's `SHARED_KEYS` (the same counts).

    Grain: one row per check and table. Columns: check, table_name, row_count (for duplicates,
    the rows whose key another row shares).
    """
    parts = []
    for table in metadata.sorted_tables:
        if "county_code" not in table.c and filters.county_codes is not None:
            continue
        place = county_where(table.c.county_code, filters) if "county_code" in table.c else []
        keys = list(table.primary_key.columns)
        shared = _rows_sharing_a_key(table, filters, stored).subquery(f"dup_{table.name}")
        parts.append(
            select(
                literal(f"Duplicate {', '.join(k.name for k in keys)}").label("check"),
                literal(table.name).label("table_name"),
                func.coalesce(func.sum(shared.c.n), 0).label("row_count"),
            )
        )
        dates = []
        for name in EVENT_DATE_COLUMNS.get(table.name, ()):
            column = table.c[name]
            dates.append((f"{name} in the future", and_(*after_day_where(column, today))))
            dates.append((f"{name} before 2020", and_(*before_day_where(column, EARLIEST_EVENT))))
        if dates:
            parts += _one_scan(table, dates, place, suffix="dates")
    return select(union_all(*parts).subquery("table_checks"))


def _one_scan(
    table: Table,
    checks: list[tuple[str, ColumnElement]],
    where: list,
    suffix: str = "rules",
) -> list[Select]:
    """One row (check, table_name, row_count) per check, counted in a single scan of the table
    (a CTE with every check's count, read once per check), so a large table is read once."""
    counts = (
        select(*(sqld.count_where(c).label(f"n{i}") for i, (_, c) in enumerate(checks)))
        .select_from(table)
        .where(*where)
        .cte(f"{suffix}_{table.name}")
    )
    return [
        select(
            literal(name).label("check"),
            literal(table.name).label("table_name"),
            counts.c[f"n{i}"].label("row_count"),
        )
        for i, (name, _) in enumerate(checks)
    ]


def table_checks(engine: Engine, filters: Filters, threshold: int, today: dt.date) -> pd.DataFrame:
    """See `table_checks_select`; referral counts of 1 to threshold-1 are hidden."""
    frame = read_frame(engine, table_checks_select(filters, today, holds_shared_keys(engine)))
    frame["row_count"] = frame["row_count"].astype("int64")
    return _protect_referral_counts(frame, threshold)


def timestamp_spellings_select(dialect: str, filters: Filters) -> Select | None:
    """How the TIMESTAMP and DATE columns are spelled in storage, per table and column (SQLite
    only: None on PostgreSQL, whose columns are typed). NULLs are not counted.

    Grain: one row per table, column and spelling. Columns: table_name, column_name, spelling,
    row_count.
    """
    parts = []
    for table in metadata.sorted_tables:
        if "county_code" not in table.c and filters.county_codes is not None:
            continue
        place = county_where(table.c.county_code, filters) if "county_code" in table.c else []
        for column in table.columns:
            if not isinstance(column.type, (sa_types.Date, sa_types.DateTime)):
                continue
            spelling = sqld.stored_spelling(dialect, column)
            if spelling is None:
                return None
            inner = (
                select(spelling.label("spelling"))
                .where(column.is_not(None), *place)
                .subquery(f"spell_{table.name}_{column.name}")
            )
            parts.append(
                select(
                    literal(table.name).label("table_name"),
                    literal(column.name).label("column_name"),
                    inner.c.spelling,
                    func.count().label("row_count"),
                ).group_by(inner.c.spelling)
            )
    return select(union_all(*parts).subquery("spellings"))


def mixed_spellings(engine: Engine, filters: Filters) -> pd.DataFrame:
    """See `timestamp_spellings_select`, keeping only columns spelled more than one way or with
    values SQLite cannot read (exact counts; empty on PostgreSQL).

    Grain: one row per table, column and spelling. Columns: table_name, column_name, spelling,
    row_count.
    """
    columns = ["table_name", "column_name", "spelling", "row_count"]
    built = timestamp_spellings_select(sqld.dialect_of(engine), filters)
    if built is None:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "row_count" else "str") for c in columns}
        )
    frame = read_frame(engine, built)
    frame["row_count"] = frame["row_count"].astype("int64")
    per_column = frame.groupby(["table_name", "column_name"])["spelling"].transform("nunique")
    unreadable = frame["spelling"].str.startswith(("unreadable", "not text"))
    return frame[(per_column > 1) | unreadable].sort_values(columns[:3]).reset_index(drop=True)


def timestamp_spellings(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """See `mixed_spellings`; referral counts of 1 to threshold-1 are hidden."""
    return _protect_referral_counts(mixed_spellings(engine, filters), threshold)
