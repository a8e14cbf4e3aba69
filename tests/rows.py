"""Hand-made contract rows for tests: every column present, with plain defaults to override."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert

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


def insert_rows(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows into a contract table, filling unspecified columns with defaults."""
    if not rows:
        return
    full = [{**_DEFAULTS[table], **row} for row in rows]
    if table == "targets":
        full = [row for row in full]
    with engine.begin() as connection:
        connection.execute(insert(schema.metadata.tables[table]), full)
