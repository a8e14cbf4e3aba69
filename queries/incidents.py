"""The incident stream: the contract's incident measures (each one named SQL expression) and the
Incidents page's breakdowns built on them: weekly trend, mix, response, open-case age, wards,
CompStat windows and map points, each a pure Select builder plus a runner returning a frame."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Date,
    Engine,
    Float,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    type_coerce,
)

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import (
    PROGRAMME_LAUNCH,
    SAME_WEEKDAYS_LAST_YEAR,
    Filters,
    comparison_period,
    comparison_problem,
    rollout_problem,
)
from queries.geography import KENYA_LATITUDE, KENYA_LONGITUDE, density_hexagon_degrees
from queries.grain import (
    OTHER,
    Grain,
    as_float,
    as_int,
    bucketed,
    group_keys,
    join_onto_dimension,
    week_starts,
    zero_if_null,
)
from queries.reference import county_list, programme_starts, with_as_of
from queries.schema import (
    INCIDENT_CATEGORIES,
    INCIDENT_CHANNELS,
    OPEN_INCIDENT_STATUSES,
    counties,
    incidents,
    wards,
)
from queries.significance import is_meaningful_count_change, is_reporting_gap
from queries.where import (
    area_where,
    between_where,
    county_where,
    followed_up_where,
    period_where,
    until_end_where,
)

CHANNEL_BUCKETS: tuple[str, ...] = (*INCIDENT_CHANNELS, OTHER)
CATEGORY_BUCKETS: tuple[str, ...] = INCIDENT_CATEGORIES  # already ends with 'other'

# Open incidents by days since reported (EAT dates), measured at the end of the period.
AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("0-2 days", 2),
    ("3-7 days", 7),
    ("8-30 days", 30),
    ("over 30 days", None),
)
AGE_BAND_LABELS: tuple[str, ...] = tuple(label for label, _ in AGE_BANDS)

# Kenya's bounding box (queries.geography): points outside it are data-entry errors, not drawn.
COORDINATE_STATUSES = ("in_kenya", "outside_kenya", "missing")


def reported_in_period(filters: Filters) -> list[ColumnElement]:
    """Incidents reported in the period (EAT dates) within the user's counties and wards."""
    return [*period_where(incidents.c.reported_at, filters), *area_where(incidents, filters)]


def _reported_between(start: dt.date, end: dt.date) -> ColumnElement:
    return and_(*between_where(incidents.c.reported_at, start, end))


# The contract's incident measures. Each is one named SQL expression over the `incidents` rows
# of a group; the headline, the league table and every page breakdown reuse them.


def hours_to_acknowledge(dialect: str) -> ColumnElement:
    """Hours from report to acknowledgement of one incident (null while unacknowledged)."""
    return sqld.hours_between(dialect, incidents.c.reported_at, incidents.c.acknowledged_at)


def hours_to_resolve(dialect: str) -> ColumnElement:
    """Hours from report to resolution of one incident (null while unresolved)."""
    return sqld.hours_between(dialect, incidents.c.reported_at, incidents.c.resolved_at)


def resolved_count() -> ColumnElement:
    """`incidents_resolved_pct`'s numerator: incidents whose status is resolved."""
    return sqld.count_where(incidents.c.status == "resolved")


def median_hours_to_acknowledge(dialect: str) -> ColumnElement:
    """`median_hours_to_acknowledge`: over the group's incidents with acknowledged_at set."""
    return sqld.median_hours_between(dialect, incidents.c.reported_at, incidents.c.acknowledged_at)


def median_hours_to_resolve(dialect: str) -> ColumnElement:
    """`median_hours_to_resolve`: over the group's incidents with resolved_at set."""
    return sqld.median_hours_between(dialect, incidents.c.reported_at, incidents.c.resolved_at)


RESOLUTION_FOLLOW_UP_DAYS = 7


def followed_up_for_resolution(filters: Filters) -> ColumnElement:
    """`incidents_resolved_7d_pct`'s denominator test: reported (EAT date) on or before D - 7."""
    return and_(*followed_up_where(incidents.c.reported_at, filters, RESOLUTION_FOLLOW_UP_DAYS))


def resolved_within_follow_up(dialect: str) -> ColumnElement:
    """`incidents_resolved_7d_pct`'s numerator test: resolved at most 7 x 24 hours after the
    report (null resolved_at is not)."""
    return hours_to_resolve(dialect) <= 24.0 * RESOLUTION_FOLLOW_UP_DAYS


def is_open() -> ColumnElement:
    """`open_incidents`' condition: the status, as stored now, is not final."""
    return incidents.c.status.in_(OPEN_INCIDENT_STATUSES)


# The incident indicators a comparison period is read for: the like-for-like ones and the
# counts their tests rest on. The others (the status share, the medians, open cases) are never
# compared (`queries.indicators.Indicator.like_for_like`), and the medians and open cases are
# what the statement costs: a sort of every incident of the period, a scan of all history.
COMPARED_COLUMNS = (
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_7d_pct",
    "n_followed_7d",
    "n_resolved_7d",
)


def incident_measures_select(
    dialect: str, filters: Filters, grain: Grain = None, for_comparison: bool = False
) -> Select:
    """Incident indicators; grain: one row overall, per county or per ward.

    Columns: [county_code, county_name | ward_code, ward_name, county_code], incidents_reported,
    incident_rate_per_100k, incidents_resolved_pct, incidents_resolved_7d_pct,
    median_hours_to_acknowledge, median_hours_to_resolve, open_incidents, and the counts the
    7-day share rests on: n_followed_7d (reported on or before D - 7), n_resolved_7d.
    With `for_comparison`, only the dimension columns and `COMPARED_COLUMNS`.
    """
    keys = group_keys(incidents, grain)
    in_period = select(
        *keys,
        func.count().label("reported"),
        resolved_count().label("resolved"),
        sqld.count_where(followed_up_for_resolution(filters)).label("followed_7d"),
        sqld.count_where(
            and_(followed_up_for_resolution(filters), resolved_within_follow_up(dialect))
        ).label("resolved_7d"),
    )
    if not for_comparison:
        in_period = in_period.add_columns(
            median_hours_to_acknowledge(dialect).label("median_ack"),
            median_hours_to_resolve(dialect).label("median_resolve"),
        )
    parts = [in_period.where(*reported_in_period(filters)).group_by(*keys)]
    if not for_comparison:
        parts.append(
            select(*keys, func.count().label("open"))
            .where(
                *until_end_where(incidents.c.reported_at, filters),
                is_open(),
                *area_where(incidents, filters),
            )
            .group_by(*keys)
        )
    joined, dimension, (period, *still_open), dims = join_onto_dimension(filters, grain, parts)
    reported = zero_if_null(period.c.reported)
    # Null population (a ward selection: wards have no census figure) gives a null rate.
    rate = type_coerce(100000.0 * reported / func.nullif(dimension.c.population, 0), Float())
    columns = {
        "incidents_reported": reported,
        "incident_rate_per_100k": rate,
        "incidents_resolved_pct": sqld.pct(zero_if_null(period.c.resolved), reported),
        "incidents_resolved_7d_pct": sqld.pct(period.c.resolved_7d, period.c.followed_7d),
    }
    if not for_comparison:
        columns["median_hours_to_acknowledge"] = period.c.median_ack
        columns["median_hours_to_resolve"] = period.c.median_resolve
        columns["open_incidents"] = zero_if_null(still_open[0].c.open)
    columns["n_followed_7d"] = zero_if_null(period.c.followed_7d)
    columns["n_resolved_7d"] = zero_if_null(period.c.resolved_7d)
    if for_comparison:
        columns = {name: columns[name] for name in COMPARED_COLUMNS}
    return (
        select(*dims, *(column.label(name) for name, column in columns.items()))
        .select_from(joined)
        .order_by(*dims)
    )


def incident_measures(
    engine: Engine, filters: Filters, grain: Grain = None, for_comparison: bool = False
) -> pd.DataFrame:
    """Incident indicators (see `incident_measures_select`): one row overall, per county or
    per ward; with `for_comparison`, only those a comparison period is read for."""
    filters = with_as_of(engine, filters)
    statement = incident_measures_select(sqld.dialect_of(engine), filters, grain, for_comparison)
    frame = read_frame(engine, statement)
    floats = [
        "incident_rate_per_100k",
        "incidents_resolved_pct",
        "incidents_resolved_7d_pct",
        "median_hours_to_acknowledge",
        "median_hours_to_resolve",
    ]
    return as_float(frame, [column for column in floats if column in frame.columns])


def _change_pct(current: pd.Series, before: pd.Series) -> pd.Series:
    """100 * (current - before) / before, null where before is 0."""
    before = before.astype("float64")
    return (100.0 * (current - before) / before.where(before > 0)).astype("float64")


def incidents_by_week_and_category_select(dialect: str, filters: Filters) -> Select:
    """Weekly incident counts by category; only weeks and categories that have incidents.

    Grain: one row per week (Monday start, EAT) per category bucket. Columns: week_start,
    category (unknown values as 'other'), count.
    """
    day = sqld.eat_date(dialect, incidents.c.reported_at)
    rows = (
        select(
            sqld.week_start(dialect, day).label("week_start"),
            bucketed(incidents.c.category, INCIDENT_CATEGORIES).label("category"),
        )
        .where(*reported_in_period(filters))
        .subquery("rows")
    )
    # Grouping on the subquery's columns, not on the expressions, keeps PostgreSQL from seeing
    # two copies of an expression with different bound parameters.
    return (
        select(rows.c.week_start, rows.c.category, func.count().label("count"))
        .group_by(rows.c.week_start, rows.c.category)
        .order_by(rows.c.week_start, rows.c.category)
    )


def incidents_by_week_and_category(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Incidents reported per week and category, complete with zero weeks.

    Grain: one row per week (Monday start, EAT) overlapping the period per category bucket
    (the contract's categories; unknown values count as 'other').
    Columns: week_start (datetime64), category, count, is_partial (the week extends beyond the
    period, so its count covers fewer than 7 days of it).
    """
    raw = read_frame(
        engine, incidents_by_week_and_category_select(sqld.dialect_of(engine), filters)
    )
    raw["week_start"] = pd.to_datetime(raw["week_start"])
    grid = pd.MultiIndex.from_product(
        [week_starts(filters.start, filters.end), list(CATEGORY_BUCKETS)],
        names=["week_start", "category"],
    )
    frame = (
        raw.set_index(["week_start", "category"])["count"]
        .astype("int64")
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    week_end = frame["week_start"] + pd.Timedelta(days=6)
    frame["is_partial"] = (frame["week_start"] < pd.Timestamp(filters.start)) | (
        week_end > pd.Timestamp(filters.end)
    )
    return frame[["week_start", "category", "count", "is_partial"]]


def _mix_select(
    column: ColumnElement, allowed: tuple[str, ...], name: str, filters: Filters
) -> Select:
    rows = (
        select(bucketed(column, allowed).label(name)).where(*reported_in_period(filters)).subquery()
    )
    return select(rows.c[name], func.count().label("count")).group_by(rows.c[name])


def _mix(engine: Engine, statement: Select, name: str, buckets: tuple[str, ...]) -> pd.DataFrame:
    raw = read_frame(engine, statement)
    frame = (
        raw.set_index(name)["count"]
        .reindex(list(buckets), fill_value=0)
        .astype("int64")
        .rename_axis(name)
        .reset_index()
    )
    total = int(frame["count"].sum())
    frame["share_pct"] = 100.0 * frame["count"] / total if total else math.nan
    frame["share_pct"] = frame["share_pct"].astype("float64")
    order = frame.assign(_is_other=frame[name] == OTHER).sort_values(
        ["count", "_is_other", name], ascending=[False, True, True], kind="stable"
    )
    return order.drop(columns="_is_other").reset_index(drop=True)


def incidents_by_category_select(dialect: str, filters: Filters) -> Select:
    """Incident counts per category bucket in the period (only buckets with incidents).

    Grain: one row per category. Columns: category, count.
    """
    return _mix_select(incidents.c.category, INCIDENT_CATEGORIES, "category", filters)


def incidents_by_category(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Incidents reported in the period by category; unknown values count as 'other'.

    Grain: one row per category of the contract (zero where none), largest first.
    Columns: category, count, share_pct (of all incidents reported; null when there are none).
    """
    statement = incidents_by_category_select(sqld.dialect_of(engine), filters)
    return _mix(engine, statement, "category", CATEGORY_BUCKETS)


def incidents_by_channel_select(dialect: str, filters: Filters) -> Select:
    """Incident counts per channel bucket in the period (only buckets with incidents).

    Grain: one row per channel. Columns: channel, count.
    """
    return _mix_select(incidents.c.channel, INCIDENT_CHANNELS, "channel", filters)


def incidents_by_channel(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Incidents reported in the period by reporting channel; unknown values count as 'other'.

    Grain: one row per channel of the contract plus 'other' (zero where none), largest first.
    Columns: channel, count, share_pct (of all incidents reported; null when there are none).
    """
    statement = incidents_by_channel_select(sqld.dialect_of(engine), filters)
    return _mix(engine, statement, "channel", CHANNEL_BUCKETS)


def response_hours_by_county_select(dialect: str, filters: Filters) -> Select:
    """Median hours to acknowledge and to resolve per county, over incidents reported in the
    period whose end time is set (the contract's definitions).

    Grain: one row per county of the selection (counties without incidents have null medians).
    Columns: county_code, county_name, incidents_reported, acknowledged_count,
    median_hours_to_acknowledge, resolved_count, median_hours_to_resolve.
    """
    per_county = (
        select(
            incidents.c.county_code,
            func.count().label("reported"),
            func.count(hours_to_acknowledge(dialect)).label("acknowledged"),
            median_hours_to_acknowledge(dialect).label("median_ack"),
            func.count(hours_to_resolve(dialect)).label("resolved"),
            median_hours_to_resolve(dialect).label("median_resolve"),
        )
        .where(*reported_in_period(filters))
        .group_by(incidents.c.county_code)
        .subquery("per_county")
    )
    return (
        select(
            counties.c.code.label("county_code"),
            counties.c.name.label("county_name"),
            func.coalesce(per_county.c.reported, 0).label("incidents_reported"),
            func.coalesce(per_county.c.acknowledged, 0).label("acknowledged_count"),
            per_county.c.median_ack.label("median_hours_to_acknowledge"),
            func.coalesce(per_county.c.resolved, 0).label("resolved_count"),
            per_county.c.median_resolve.label("median_hours_to_resolve"),
        )
        .select_from(counties.outerjoin(per_county, per_county.c.county_code == counties.c.code))
        .where(*county_where(counties.c.code, filters))
        .order_by(counties.c.code)
    )


def response_hours_by_county(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Median response times per county for incidents reported in the period.

    Grain: one row per county of the selection. Columns: county_code, county_name,
    incidents_reported, acknowledged_count (incidents with acknowledged_at set),
    median_hours_to_acknowledge, resolved_count (with resolved_at set), median_hours_to_resolve
    (medians null over no rows).
    """
    frame = read_frame(engine, response_hours_by_county_select(sqld.dialect_of(engine), filters))
    frame = as_int(frame, ["incidents_reported", "acknowledged_count", "resolved_count"])
    return as_float(frame, ["median_hours_to_acknowledge", "median_hours_to_resolve"])


def open_incidents_by_age_select(dialect: str, filters: Filters) -> Select:
    """Open incidents by age band and status, at the end of the period.

    Open: reported on or before the end of the period (EAT date) with status reported,
    acknowledged or actioned as stored now. Age: whole days from the EAT date reported to the
    period's end date. Grain: one row per age band per status that has incidents.
    Columns: age_band, status, count.
    """
    age = sqld.days_between(
        dialect, sqld.eat_date(dialect, incidents.c.reported_at), literal(filters.end, Date())
    )
    rows = (
        select(incidents.c.status, type_coerce(age, Integer()).label("age_days"))
        .where(
            *until_end_where(incidents.c.reported_at, filters),
            is_open(),
            *area_where(incidents, filters),
        )
        .subquery("rows")
    )
    whens = [(rows.c.age_days <= limit, literal(label)) for label, limit in AGE_BANDS if limit]
    banded = select(
        case(*whens, else_=literal(AGE_BANDS[-1][0])).label("age_band"), rows.c.status
    ).subquery("banded")
    return select(banded.c.age_band, banded.c.status, func.count().label("count")).group_by(
        banded.c.age_band, banded.c.status
    )


def open_incidents_by_age(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Open incidents at the end of the period by days since reported (0-2, 3-7, 8-30, over 30).

    Grain: one row per age band per open status (zero where none), youngest band first.
    Columns: age_band, status, count.
    """
    raw = read_frame(engine, open_incidents_by_age_select(sqld.dialect_of(engine), filters))
    grid = pd.MultiIndex.from_product(
        [list(AGE_BAND_LABELS), list(OPEN_INCIDENT_STATUSES)], names=["age_band", "status"]
    )
    return (
        raw.set_index(["age_band", "status"])["count"]
        .reindex(grid, fill_value=0)
        .astype("int64")
        .reset_index()
    )


def ward_counts_select(dialect: str, filters: Filters) -> Select:
    """Incidents per ward in the period and in the comparison period.

    Incidents without a ward are left out. Grain: one row per ward (and the county its
    incidents name) with incidents in either period, in no particular order.
    Columns: ward_code, ward_name, county_code, county_name, count, comparison_count, change,
    change_pct (null when the comparison count is 0).
    """
    comparison = filters.comparison_filters()
    current = _reported_between(filters.start, filters.end)
    before = _reported_between(comparison.start, comparison.end)
    rows = (
        select(
            incidents.c.ward_code,
            incidents.c.county_code,
            case((current, 1), else_=0).label("in_current"),
            case((before, 1), else_=0).label("in_comparison"),
        )
        .where(
            incidents.c.ward_code.is_not(None),
            or_(current, before),
            *area_where(incidents, filters),
        )
        .subquery("rows")
    )
    per_ward = (
        select(
            rows.c.ward_code,
            rows.c.county_code,
            func.sum(rows.c.in_current).label("count"),
            func.sum(rows.c.in_comparison).label("comparison_count"),
        )
        .group_by(rows.c.ward_code, rows.c.county_code)
        .subquery("per_ward")
    )
    change = (per_ward.c["count"] - per_ward.c.comparison_count).label("change")
    return select(
        per_ward.c.ward_code,
        func.coalesce(wards.c.name, per_ward.c.ward_code).label("ward_name"),
        per_ward.c.county_code,
        func.coalesce(counties.c.name, per_ward.c.county_code).label("county_name"),
        per_ward.c["count"],
        per_ward.c.comparison_count,
        change,
        sqld.pct(change, per_ward.c.comparison_count).label("change_pct"),
    ).select_from(
        per_ward.outerjoin(wards, wards.c.code == per_ward.c.ward_code).outerjoin(
            counties, counties.c.code == per_ward.c.county_code
        )
    )


def incident_counts_by_ward(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Incidents per ward in the period and in the comparison period (incidents without a ward
    left out): what both ward rankings are taken from (`most_incidents`, `largest_increases`),
    so that a page showing both reads the wards once.

    Grain: one row per ward with incidents in either period, ordered by ward code.
    Columns: ward_code, ward_name, county_code, county_name, count, comparison_count (in
    `filters.comparison_filters()`), change, change_pct (null when the comparison count is 0),
    comparable (the comparison period is valid for the ward's county: after the launch and
    after the county joined, `comparison_problem`).
    """
    frame = read_frame(engine, ward_counts_select(sqld.dialect_of(engine), filters))
    frame = as_int(frame, ["count", "comparison_count", "change"])
    frame = as_float(frame, ["change_pct"])
    valid = {
        code: comparison_problem(filters.start, filters.end, filters.comparison, day) is None
        for code, (_, day) in programme_starts(engine, filters).items()
    }
    frame["comparable"] = frame["county_code"].map(valid).fillna(False).astype(bool)
    return frame.sort_values(["ward_code", "county_code"], kind="stable").reset_index(drop=True)


def most_incidents(wards: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The wards of `incident_counts_by_ward` with most incidents in the period: at most `limit`,
    most first, ties by ward code (wards with none left out)."""
    return (
        wards[wards["count"] > 0]
        .sort_values(["count", "ward_code"], ascending=[False, True], kind="stable")
        .head(limit)
        .reset_index(drop=True)
    )


def largest_increases(wards: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The wards of `incident_counts_by_ward` whose count rose most against a valid comparison
    period (`comparable`; a ward of a county that joined since would rise with the roll-out):
    at most `limit`, largest rise first, then most incidents, then ward code."""
    return (
        wards[wards["comparable"] & (wards["count"] > wards["comparison_count"])]
        .sort_values(
            ["change", "count", "ward_code"], ascending=[False, False, True], kind="stable"
        )
        .head(limit)
        .reset_index(drop=True)
    )


def incidents_by_ward(engine: Engine, filters: Filters, limit: int = 10) -> pd.DataFrame:
    """The wards with most incidents reported in the period (incidents without a ward left out).

    Grain: one row per ward, at most `limit`, most incidents first (ties by ward code).
    Columns: those of `incident_counts_by_ward`.
    """
    return most_incidents(incident_counts_by_ward(engine, filters), limit)


def incident_increase_by_ward(engine: Engine, filters: Filters, limit: int = 10) -> pd.DataFrame:
    """The wards whose incident count rose most against the comparison period.

    Grain: one row per ward whose count rose, at most `limit`, largest rise first (then most
    incidents, then ward code). Columns: those of `incident_counts_by_ward`.
    """
    return largest_increases(incident_counts_by_ward(engine, filters), limit)


COMPSTAT_WINDOWS = {
    "wtd": "Week to date",
    "d28": "28 days",
    "ytd": "Year to date",
}


# Each CompStat window's columns, after the window's key.
COMPSTAT_COLUMNS = (
    "_count",
    "_last_year_count",
    "_change_pct",
    "_reporting_gap",
    "_meaningful",
)


# What each CompStat window is compared with (`queries.filters.comparison_period`): a week to
# date against the same weekdays a year earlier; 28 days (four of every weekday, whatever the
# dates) and the year to date against the same dates.
COMPSTAT_COMPARISONS = {"wtd": SAME_WEEKDAYS_LAST_YEAR, "d28": "last_year", "ytd": "last_year"}


def compstat_windows(end: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The CompStat windows ending on `end` (inclusive EAT dates), and each one's comparison a
    year earlier (`COMPSTAT_COMPARISONS`): keys wtd, d28, ytd and wtd_last_year,
    d28_last_year, ytd_last_year.

    Week to date runs from that week's Monday, 28 days from end - 27, year to date from 1
    January of end's year.
    """
    windows = {
        "wtd": (end - dt.timedelta(days=end.weekday()), end),
        "d28": (end - dt.timedelta(days=27), end),
        "ytd": (dt.date(end.year, 1, 1), end),
    }
    for key in list(windows):
        start, stop = windows[key]
        windows[f"{key}_last_year"] = comparison_period(start, stop, COMPSTAT_COMPARISONS[key])
    return windows


def compstat_by_county_select(dialect: str, filters: Filters) -> Select:
    """Incident counts in the CompStat windows ending at the period's end, and a year earlier.

    Grain: one row per county of the selection (zeros where none).
    Columns: county_code, county_name, and for each window w in (wtd, d28, ytd): w_count,
    w_last_year_count.
    """
    windows = compstat_windows(filters.end)
    in_window = {key: _reported_between(*span) for key, span in windows.items()}
    rows = (
        select(
            incidents.c.county_code,
            *[case((cond, 1), else_=0).label(key) for key, cond in in_window.items()],
        )
        .where(or_(*in_window.values()), *area_where(incidents, filters))
        .subquery("rows")
    )
    per_county = (
        select(rows.c.county_code, *[func.sum(rows.c[key]).label(key) for key in windows])
        .group_by(rows.c.county_code)
        .subquery("per_county")
    )
    columns = []
    for key in COMPSTAT_WINDOWS:
        columns.append(func.coalesce(per_county.c[key], 0).label(f"{key}_count"))
        columns.append(
            func.coalesce(per_county.c[f"{key}_last_year"], 0).label(f"{key}_last_year_count")
        )
    return (
        select(counties.c.code.label("county_code"), counties.c.name.label("county_name"), *columns)
        .select_from(counties.outerjoin(per_county, per_county.c.county_code == counties.c.code))
        .where(*county_where(counties.c.code, filters))
        .order_by(counties.c.name)
    )


def compstat_by_county(engine: Engine, filters: Filters) -> pd.DataFrame:
    """CompStat table: week-to-date, 28-day and year-to-date incident counts ending at the
    period's end date, each against the same dates one year earlier (`compstat_windows`).

    A year-earlier window that starts before the programme's launch (for a county: before it
    joined) is no valid comparison: its change is null, as the contract requires. So is the
    total's when one of its counties joined between the window a year earlier and the end of
    this one (`rollout_problem`): the total would grow with the roll-out.

    Grain: one total row first (county_code null, county_name 'Total'), then one row per
    county of the selection, by name (with wards chosen, its counts are theirs). Columns:
    county_code, county_name, and for each window w in
    (wtd, d28, ytd): w_count, w_last_year_count, w_change_pct (null when last year's count is 0,
    the comparison is not valid, or the place reported no incidents in the window after at
    least REPORTING_GAP_MIN_PREVIOUS a year earlier: a stop in reporting, not in crime; a
    shorter window with none inside such a stop is part of it),
    w_reporting_gap (true for such a stop), w_meaningful (the window is compared and the
    Poisson test calls its change meaningful, `queries.significance`; from 0 a year earlier
    it has no change %).
    """
    frame = read_frame(engine, compstat_by_county_select(sqld.dialect_of(engine), filters))
    starts_by_code = programme_starts(engine, filters)
    joined = {code: day for code, (_, day) in starts_by_code.items()}
    counts = [c for c in frame.columns if c.endswith("_count")]
    frame = as_int(frame, counts)
    total = {
        "county_code": None,
        "county_name": "Total",
        **{c: int(frame[c].sum()) for c in counts},
    }
    frame = pd.concat([pd.DataFrame([total]), frame], ignore_index=True)
    frame = as_int(frame, counts)
    ordered = ["county_code", "county_name"]
    starts = [_programme_start(joined, code, filters) for code in frame["county_code"]]
    windows = compstat_windows(filters.end)
    # Longest window first: a shorter one with no incident inside a stopped place's longer one
    # is the same stop (0 this week against 2 a year earlier is no "-100%" when the 28 days
    # that hold this week are a stop), even with too few a year earlier to call it one alone.
    stopped = pd.Series(False, index=frame.index)
    for key in reversed(COMPSTAT_WINDOWS):
        start, stop = windows[key]
        valid = pd.Series(
            [
                comparison_problem(start, stop, COMPSTAT_COMPARISONS[key], day) is None
                for day in starts
            ],
            index=frame.index,
        )
        # The total: none of its counties may have joined between a year earlier and now.
        valid.iloc[0] = valid.iloc[0] and (
            rollout_problem(start, stop, COMPSTAT_COMPARISONS[key], starts_by_code) is None
        )
        now, before = frame[f"{key}_count"], frame[f"{key}_last_year_count"]
        gap = valid & (is_reporting_gap(now, before) | (stopped & (now == 0) & (before > 0)))
        stopped = stopped | gap
        compared = valid & ~gap
        frame[f"{key}_change_pct"] = _change_pct(now, before).where(compared)
        frame[f"{key}_reporting_gap"] = gap.astype(bool)
        frame[f"{key}_meaningful"] = (compared & is_meaningful_count_change(now, before)).astype(
            bool
        )
    for key in COMPSTAT_WINDOWS:
        ordered += [key + column for column in COMPSTAT_COLUMNS]
    return frame[ordered]


# Its result depends on the period's end alone (with the places, scope and as-of date): every
# preset ending on the as-of date has the same CompStat, so the app computes it once for them.
compstat_by_county.period_end_only = True  # type: ignore[attr-defined]


def _programme_start(
    joined: dict[str, dt.date | None], code: str | None, filters: Filters
) -> dt.date | None:
    """The day a CompStat row's place joined: its county's programme_start, or for the total
    the launch (the one county's day when exactly one is selected)."""
    if code is None:
        codes = filters.county_codes
        if codes is None or len(codes) != 1:
            return PROGRAMME_LAUNCH
        code = codes[0]
    return joined.get(code)


def _in_kenya() -> ColumnElement:
    return and_(
        incidents.c.latitude.between(*KENYA_LATITUDE),
        incidents.c.longitude.between(*KENYA_LONGITUDE),
    )


def incidents_by_coordinate_status_select(dialect: str, filters: Filters) -> Select:
    """How many incidents reported in the period can be drawn on the map.

    Grain: one row overall. Columns: in_kenya, outside_kenya (coordinates set but outside
    Kenya's bounding box), missing (latitude or longitude null).
    """
    missing = or_(incidents.c.latitude.is_(None), incidents.c.longitude.is_(None))
    return select(
        sqld.count_where(_in_kenya()).label("in_kenya"),
        sqld.count_where(and_(not_(missing), not_(_in_kenya()))).label("outside_kenya"),
        sqld.count_where(missing).label("missing"),
    ).where(*reported_in_period(filters))


def incidents_by_coordinate_status(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Incidents reported in the period by whether their GPS point can be drawn.

    Grain: one row per status: in_kenya (inside lat -4.9..5.1, lon 33.8..42.0), outside_kenya,
    missing (no coordinates). Columns: coordinate_status, count.
    """
    raw = read_frame(
        engine, incidents_by_coordinate_status_select(sqld.dialect_of(engine), filters)
    )
    values = raw.iloc[0] if len(raw) else pd.Series(dtype="float64")
    return pd.DataFrame(
        {
            "coordinate_status": list(COORDINATE_STATUSES),
            "count": [int(values.get(s, 0) or 0) for s in COORDINATE_STATUSES],
        }
    )


def incident_density_select(dialect: str, filters: Filters, radius_degrees: float) -> Select:
    """Incidents reported in the period inside Kenya, counted in flat-topped hexagons of
    `radius_degrees` (centre to corner; longitude and latitude taken as plane coordinates,
    which near the equator is Web Mercator to within half a percent).

    The hexagons' centres form two rectangular lattices, 3r apart across and r√3 apart up,
    the second shifted by (1.5r, r√3/2), aligned on -180/-90 so that any two selections share
    hexagons. An incident belongs to the nearer of its nearest centre in each lattice (a
    hexagonal grid is the set of points nearest each centre), found by rounding: exact, every
    incident counted once, in its own hexagon.

    Grain: one row per hexagon with incidents, ordered by (lattice, i, j). Columns: lattice
    (0 or 1), i, j (the centre's column and row in that lattice), incidents.
    """
    r = float(radius_degrees)
    across, up = literal(3.0 * r, Float), literal(math.sqrt(3.0) * r, Float)
    shift_x, shift_y = literal(1.5 * r, Float), literal(math.sqrt(3.0) * r / 2, Float)
    # Shifted to be non-negative: floor() is then a plain truncation on every engine.
    x, y = incidents.c.longitude + 180.0, incidents.c.latitude + 90.0

    def nearest(value: ColumnElement, spacing: ColumnElement) -> ColumnElement:
        return sqld.floor_non_negative(dialect, value / spacing + 0.5)

    points = (
        select(
            x.label("x"),
            y.label("y"),
            nearest(x, across).label("ia"),
            nearest(y, up).label("ja"),
            nearest(x - shift_x, across).label("ib"),
            nearest(y - shift_y, up).label("jb"),
        )
        .where(*reported_in_period(filters), _in_kenya())
        .subquery("points")
    )
    p = points.c
    dx_a, dy_a = p.x - p.ia * across, p.y - p.ja * up
    dx_b, dy_b = p.x - (p.ib * across + shift_x), p.y - (p.jb * up + shift_y)
    in_a = dx_a * dx_a + dy_a * dy_a <= dx_b * dx_b + dy_b * dy_b
    # Chosen in a subquery so that the GROUP BY names plain columns (PostgreSQL would see the
    # CASE's bound parameters in SELECT and GROUP BY as different expressions).
    chosen = select(
        case((in_a, 0), else_=1).label("lattice"),
        case((in_a, p.ia), else_=p.ib).label("i"),
        case((in_a, p.ja), else_=p.jb).label("j"),
    ).subquery("hexagons")
    h = chosen.c
    return (
        select(h.lattice, h.i, h.j, func.count().label("incidents"))
        .group_by(h.lattice, h.i, h.j)
        .order_by(h.lattice, h.i, h.j)
    )


def incident_density(
    engine: Engine, filters: Filters, radius_degrees: float | None = None
) -> pd.DataFrame:
    """Every incident reported in the period inside Kenya, counted per hexagon for the
    density map (`incident_density_select`): a few hundred to a few thousand rows whatever the
    number of incidents, so the page never ships millions of points to the browser, nothing
    is sampled, and each hexagon's count is exactly its incidents.

    The hexagons are `radius_degrees` from centre to corner, by default the size for a map of
    the selection's counties (`geography.density_hexagon_degrees`; all of Kenya when none is
    chosen).

    Grain: one row per hexagon with incidents. Columns: latitude, longitude (the hexagon's
    centre, float), incidents (int), radius_degrees (the hexagons' radius, the same on every
    row).
    """
    if radius_degrees is None:
        counties = county_list(engine)
        codes = filters.county_codes
        if codes is not None:
            counties = counties[counties["county_code"].isin(codes)]
        radius_degrees = density_hexagon_degrees(counties)
    if not radius_degrees > 0:
        raise ValueError(f"radius_degrees must be positive, not {radius_degrees!r}")
    frame = read_frame(
        engine, incident_density_select(sqld.dialect_of(engine), filters, radius_degrees)
    )
    lattice = frame["lattice"].astype("float64")
    r = float(radius_degrees)
    return pd.DataFrame(
        {
            "latitude": (frame["j"].astype("float64") + lattice / 2) * math.sqrt(3.0) * r - 90.0,
            "longitude": (frame["i"].astype("float64") + lattice / 2) * 3.0 * r - 180.0,
            "incidents": frame["incidents"].astype("int64"),
            "radius_degrees": pd.Series(r, index=frame.index, dtype="float64"),
        }
    )
