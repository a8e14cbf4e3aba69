"""The one home of Filters -> SQL conditions: period, end of period, counties, wards.

Every query builds its WHERE clause from these functions, so the contract's rules (inclusive EAT
dates, UTC storage, an empty county choice meaning every county in scope) are written once.
Values reach SQL only as bound parameters.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, DateTime, Table

from queries.dialect import compare, utc_bounds_of_eat_dates
from queries.filters import Filters, latest_due_month


def _is_timestamp(column: ColumnElement) -> bool:
    return isinstance(column.type, DateTime)


def between_where(column: ColumnElement, start: dt.date, end: dt.date) -> list[ColumnElement]:
    """`column` lies in the EAT dates start..end inclusive.

    A TIMESTAMP column (stored in UTC) is compared with the UTC bounds of those EAT days, which
    keeps the condition index-friendly; a DATE column is compared with the dates themselves.
    On SQLite the column is read in its canonical text form (`queries.dialect.compare`: writers
    differ in how they spell a timestamp); on PostgreSQL it is compared as it is.
    """
    if _is_timestamp(column):
        lower, upper = utc_bounds_of_eat_dates(start, end)
        return [compare(column, ">=", lower), compare(column, "<", upper)]
    return [compare(column, ">=", start), compare(column, "<=", end)]


def before_day_where(column: ColumnElement, day: dt.date) -> list[ColumnElement]:
    """`column` lies before the EAT date `day` (a TIMESTAMP before 00:00 EAT that day)."""
    if _is_timestamp(column):
        lower, _ = utc_bounds_of_eat_dates(day, day)
        return [compare(column, "<", lower)]
    return [compare(column, "<", day)]


def after_day_where(column: ColumnElement, day: dt.date) -> list[ColumnElement]:
    """`column` lies after the EAT date `day` (a TIMESTAMP from 00:00 EAT the day after)."""
    if _is_timestamp(column):
        _, upper = utc_bounds_of_eat_dates(day, day)
        return [compare(column, ">=", upper)]
    return [compare(column, ">", day)]


def period_where(column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """`column` lies in the selected period (inclusive EAT dates)."""
    return between_where(column, filters.start, filters.end)


def until_where(column: ColumnElement, end: dt.date) -> list[ColumnElement]:
    """`column` lies on or before the EAT date `end` (its end of day for a timestamp)."""
    if _is_timestamp(column):
        _, upper = utc_bounds_of_eat_dates(end, end)
        return [compare(column, "<", upper)]
    return [compare(column, "<=", end)]


def until_end_where(column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """`column` lies on or before the end of the selected period."""
    return until_where(column, filters.end)


def as_of(filters: Filters) -> dt.date:
    """The selection's as-of date D.

    Raises:
        ValueError: the filters carry none (`queries.indicators` resolves the default first).
    """
    if filters.as_of is None:
        raise ValueError("the as-of date is not resolved for this selection")
    return filters.as_of


def followed_up_where(column: ColumnElement, filters: Filters, days: int) -> list[ColumnElement]:
    """`column` (the event's start) lies on or before D - `days`: the event has had at least
    `days` full days to reach its outcome by the as-of date."""
    return until_where(column, as_of(filters) - dt.timedelta(days=days))


def report_due_where(month_column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """A monthly report's month is due: its deadline, the 10th of the next month, is on or
    before D (a report not yet due is not missing)."""
    return [compare(month_column, "<=", latest_due_month(as_of(filters)))]


def county_where(column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """The county restriction for a county-code column: the choice within the user's scope,
    none at all for a national user who chose no county."""
    codes = filters.county_codes
    return [column.in_(codes)] if codes is not None else []


def ward_where(column: ColumnElement, filters: Filters) -> list[ColumnElement]:
    """The ward restriction for a ward-code column (none when no ward is chosen)."""
    return [column.in_(filters.ward_codes)] if filters.ward_codes is not None else []


def area_where(table: Table, filters: Filters) -> list[ColumnElement]:
    """County and ward restrictions for a table with county_code and ward_code columns."""
    return [*county_where(table.c.county_code, filters), *ward_where(table.c.ward_code, filters)]


def overlaps_where(
    start_column: ColumnElement, end_column: ColumnElement, filters: Filters
) -> list[ColumnElement]:
    """A row's own DATE period (start_column..end_column) overlaps the selected period."""
    return [compare(start_column, "<=", filters.end), compare(end_column, ">=", filters.start)]
