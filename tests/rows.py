"""Hand-made contract rows for tests: every column present, with plain defaults to override."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, create_engine, insert
from sqlalchemy.pool import NullPool

from queries import schema

_DEFAULTS: dict[str, dict[str, Any]] = {
    "counties": dict(
        name="County",
        population=1_000_000,
        area_km2=1000.0,
        latitude=-1.0,
        longitude=37.0,
        programme_start=None,
        updated_at=None,
    ),
    "wards": dict(
        name="Ward", constituency="Constituency", latitude=None, longitude=None, updated_at=None
    ),
    "residents_associations": dict(
        name="RA",
        ward_code=None,
        settlement_type="estate",
        registered_on=dt.date(2025, 1, 1),
        status="active",
        members=100,
        updated_at=None,
    ),
    "forums": dict(
        ra_id=None,
        ward_code=None,
        forum_type="ra_meeting",
        attendance=10,
        police_present=False,
        ngao_present=False,
        private_security_present=False,
        actions_agreed=0,
        updated_at=None,
    ),
    "ra_monthly_reports": dict(submitted_on=None, updated_at=None),
    "incidents": dict(
        occurred_at=None,
        ward_code=None,
        ra_id=None,
        latitude=None,
        longitude=None,
        category="theft",
        channel="hatua_app",
        severity="low",
        status="reported",
        acknowledged_at=None,
        resolved_at=None,
        responder=None,
        updated_at=None,
    ),
    "trainings": dict(
        ward_code=None,
        topic="community_policing",
        audience="residents",
        partner="ministry_interior",
        participants=10,
        participants_female=0,
        participants_youth=0,
        certified=0,
        updated_at=None,
    ),
    "security_firms": dict(
        name="Firm", officers_registered=100, partnered_on=None, updated_at=None
    ),
    "rehab_centres": dict(
        name="Centre",
        ward_code=None,
        opened_on=dt.date(2020, 1, 1),
        capacity=20,
        kind="community_based",
        updated_at=None,
    ),
    "rehab_referrals": dict(
        ward_code=None,
        centre_id=None,
        source="family",
        substance="alcohol",
        sex="male",
        age_band="20_24",
        status="referred",
        assessed_on=None,
        admitted_on=None,
        completed_on=None,
        updated_at=None,
    ),
    "targets": dict(),
}


# The three counties most hand-made fixtures insert (with the default population and area).
THREE_COUNTIES: list[dict[str, Any]] = [
    dict(code="001", name="Mombasa"),
    dict(code="032", name="Nakuru"),
    dict(code="047", name="Nairobi"),
]


def incident_row(
    row_id: int,
    county_code: str,
    reported_at: dt.datetime,
    status: str,
    hours_to_acknowledge: float | None = None,
    hours_to_resolve: float | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """An incidents row acknowledged and resolved these many hours after it was reported (None:
    never), with any other `columns` given."""

    def later(hours: float | None) -> dt.datetime | None:
        return None if hours is None else reported_at + dt.timedelta(hours=hours)

    return dict(
        id=row_id,
        county_code=county_code,
        reported_at=reported_at,
        status=status,
        acknowledged_at=later(hours_to_acknowledge),
        resolved_at=later(hours_to_resolve),
        **columns,
    )


def insert_rows(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows into a contract table, filling unspecified columns with defaults."""
    if not rows:
        return
    full = [{**_DEFAULTS[table], **row} for row in rows]
    if table == "targets":
        full = [row for row in full]
    with engine.begin() as connection:
        connection.execute(insert(schema.metadata.tables[table]), full)


def create_loose_tables(url: str) -> None:
    """The contract's tables with every column nullable and no keys: a view can hand the
    dashboard duplicates and NULLs the contract forbids."""
    loose = MetaData()
    for table in schema.metadata.sorted_tables:
        Table(table.name, loose, *(Column(c.name, c.type, nullable=True) for c in table.columns))
    engine = create_engine(url, poolclass=NullPool)
    loose.create_all(engine)
    engine.dispose()
