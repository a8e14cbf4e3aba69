"""Reference lookups the filters and pages need: counties, wards, and how fresh the data are."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from sqlalchemy import Engine, func, select

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import Filters, today_eat
from queries.schema import counties, incidents, wards
from queries.where import county_where


def county_list(engine: Engine) -> pd.DataFrame:
    """Every county. Grain: one row per county. Columns: county_code, county_name, population,
    area_km2, latitude, longitude, programme_start (date or null)."""
    frame = read_frame(
        engine,
        select(
            counties.c.code.label("county_code"),
            counties.c.name.label("county_name"),
            counties.c.population,
            counties.c.area_km2,
            counties.c.latitude,
            counties.c.longitude,
            counties.c.programme_start,
        ).order_by(counties.c.name),
    )
    return frame


def ward_list(engine: Engine) -> pd.DataFrame:
    """Every ward. Grain: one row per ward. Columns: ward_code, ward_name, county_code,
    constituency, latitude, longitude."""
    return read_frame(
        engine,
        select(
            wards.c.code.label("ward_code"),
            wards.c.name.label("ward_name"),
            wards.c.county_code,
            wards.c.constituency,
            wards.c.latitude,
            wards.c.longitude,
        ).order_by(wards.c.county_code, wards.c.name, wards.c.code),
    )


def data_as_of(engine: Engine) -> dt.datetime | None:
    """The latest incident report time, in EAT (naive), or None for an empty database.

    Incidents arrive continuously, so their latest report time is how fresh the data are.
    """
    frame = read_frame(
        engine, select(func.max(sqld.normalised(incidents.c.reported_at)).label("latest"))
    )
    latest = frame["latest"].iloc[0] if len(frame) else None
    if latest is None or pd.isna(latest):
        return None
    if isinstance(latest, str):
        latest = dt.datetime.fromisoformat(latest)
    return pd.Timestamp(latest).to_pydatetime() + sqld.EAT_OFFSET


def as_of_date(latest_report: dt.datetime | None, fallback: dt.date) -> dt.date:
    """The contract's default as-of date D: the EAT date of the latest report, or `fallback`
    (today's EAT date) for a database with no incidents yet.

    Periods end on D at the latest: nothing after it is known, so a preset counted back from the
    wall clock would end in days the database has not received.
    """
    return latest_report.date() if latest_report is not None else fallback


def with_as_of(engine: Engine, filters: Filters) -> Filters:
    """The filters with their as-of date resolved: the one given, else the contract's default
    (the EAT date of the latest report), else today in EAT for a database with no incidents."""
    if filters.as_of is not None:
        return filters
    return replace(filters, as_of=as_of_date(data_as_of(engine), fallback=today_eat()))


def programme_starts(engine: Engine, filters: Filters) -> dict[str, tuple[str, dt.date | None]]:
    """County code -> (name, the day it joined the programme, None if it has not), for the
    counties of the selection: what the valid-comparison rule needs per county."""
    return programme_starts_from(
        read_frame(
            engine,
            select(
                counties.c.code.label("county_code"),
                counties.c.name.label("county_name"),
                counties.c.programme_start,
            ).where(*county_where(counties.c.code, filters)),
        )
    )


def programme_starts_from(frame: pd.DataFrame) -> dict[str, tuple[str, dt.date | None]]:
    """`programme_starts` of the counties of a frame with county_code, county_name and
    programme_start columns (`county_list`'s, say)."""
    return {
        str(code): (str(name), None if pd.isna(day) else pd.Timestamp(day).date())
        for code, name, day in zip(
            frame["county_code"], frame["county_name"], frame["programme_start"], strict=True
        )
    }
