"""How results are shaped: the grain of a measure (overall, county, ward), the dimension rows
every group joins onto, the 'other' bucket, the week grid, and the dtypes of returned frames.

Every stream module builds its measures at a grain with these pieces, so a county with nothing
to count still appears (as 0 or null, never missing) and unknown values land in one bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Float, Select, Table, case, cast, func, literal, null, select
from sqlalchemy import true as sql_true
from sqlalchemy.sql import Subquery

from queries.filters import Filters
from queries.schema import counties, wards
from queries.where import county_where, ward_where

Grain = Literal["county", "ward"] | None
OTHER = "other"


def group_keys(table: Table, grain: Grain) -> list[ColumnElement]:
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
        return select(
            wards.c.code.label("ward_code"),
            wards.c.name.label("ward_name"),
            wards.c.county_code.label("county_code"),
            cast(null(), Float).label("population"),
        ).where(*county_where(wards.c.county_code, filters), *ward_where(wards.c.code, filters))
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


def join_onto_dimension(filters: Filters, grain: Grain, parts: Sequence[Select]) -> tuple:
    """Left-join each aggregate onto the dimension rows, so empty groups still appear.

    Returns:
        (the joined FROM clause, the dimension subquery, the parts as subqueries, the dimension's
        output columns without population). Measures selects order by those columns: without an
        ORDER BY a parallel engine (PostgreSQL, DuckDB) returns groups in any order, and the
        order decides which cell secondary suppression hides when counts tie.
    """
    dimension = dimension_select(filters, grain).subquery("dimension")
    key = {"county": "county_code", "ward": "ward_code"}.get(grain or "")
    subqueries: list[Subquery] = [part.subquery(f"part_{i}") for i, part in enumerate(parts)]
    joined = dimension
    for sub in subqueries:
        on = dimension.c[key] == sub.c[key] if key else sql_true()
        joined = joined.outerjoin(sub, on)
    dimension_columns = [c for c in dimension.c if c.name != "population"]
    return joined, dimension, subqueries, dimension_columns


def zero_if_null(column: ColumnElement) -> ColumnElement:
    """A count or sum of a group that had no rows is 0, not null."""
    return func.coalesce(column, 0)


def bucketed(column: ColumnElement, allowed: tuple[str, ...]) -> ColumnElement:
    """The column's value where the contract allows it, else 'other'."""
    return case((column.in_(allowed), column), else_=literal(OTHER))


def with_other(values: tuple[str, ...]) -> tuple[str, ...]:
    """The allowed values plus the 'other' bucket for anything else."""
    return values if OTHER in values else (*values, OTHER)


def week_starts(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """The Monday of every week that overlaps start..end (weeks start on Monday)."""
    first = start - dt.timedelta(days=start.weekday())
    return pd.date_range(first, end, freq="7D")


def as_float(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Cast measure columns to float64 in place (drivers return Decimal, int or None)."""
    for column in columns:
        if frame[column].dtype != "float64":
            frame[column] = float_values(frame[column])
    return frame


def float_values(values: pd.Series) -> np.ndarray:
    """A column's numbers as a float64 array, NaN for null or unreadable values.

    The privacy rules run on frames of a few dozen rows, many times a page: on arrays they
    cost a fraction of what the same steps cost as pandas operations."""
    if values.dtype == "float64":
        return values.to_numpy()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def as_int(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Cast count columns to int64 in place, null counts being 0."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    return frame
