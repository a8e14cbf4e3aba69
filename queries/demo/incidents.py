"""Incidents: random ones streamed in blocks, then the planted edge cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from queries import schema
from queries.demo.edge_cases import (
    MIDNIGHT_INCIDENT_TIMES,
    OUT_OF_KENYA_COORDINATES,
    PLANTED_INVALID_VALUES,
)
from queries.demo.world import (
    DAY_SECONDS,
    EAT_SECONDS,
    PILOT_COUNTIES,
    Columns,
    World,
    as_labels,
    as_timestamps,
    epoch_seconds,
    pick,
    pick_by_group,
    random_stream,
    snapshot_utc,
)

CHUNK_ROWS = 200_000


# Rows: incident categories; columns: low, medium, high.
_SEVERITY = np.array(
    [
        [0.45, 0.45, 0.10],
        [0.25, 0.55, 0.20],
        [0.05, 0.40, 0.55],
        [0.15, 0.50, 0.35],
        [0.05, 0.35, 0.60],
        [0.40, 0.45, 0.15],
        [0.55, 0.38, 0.07],
        [0.35, 0.50, 0.15],
        [0.70, 0.25, 0.05],
        [0.45, 0.45, 0.10],
        [0.60, 0.32, 0.08],
    ]
)
# Rows: incident categories; columns: police, ngao, private_security, ra, nacada, other.
_RESPONDER = np.array(
    [
        [0.45, 0.15, 0.20, 0.15, 0.00, 0.05],
        [0.45, 0.10, 0.30, 0.12, 0.00, 0.03],
        [0.75, 0.10, 0.10, 0.03, 0.00, 0.02],
        [0.70, 0.15, 0.05, 0.07, 0.00, 0.03],
        [0.65, 0.20, 0.00, 0.08, 0.00, 0.07],
        [0.30, 0.25, 0.00, 0.10, 0.30, 0.05],
        [0.35, 0.20, 0.15, 0.25, 0.00, 0.05],
        [0.70, 0.10, 0.05, 0.05, 0.00, 0.10],
        [0.40, 0.15, 0.25, 0.18, 0.00, 0.02],
        [0.50, 0.30, 0.05, 0.12, 0.00, 0.03],
        [0.35, 0.25, 0.10, 0.15, 0.02, 0.13],
    ]
)
_CATEGORY = np.array([0.23, 0.17, 0.07, 0.09, 0.06, 0.10, 0.05, 0.05, 0.09, 0.05, 0.04])
# Once the app is there, people report more of what they used to keep to themselves.
_CATEGORY_UPLIFT = np.array([1.0, 1.0, 1.0, 1.0, 1.3, 1.25, 1.0, 1.0, 1.3, 1.0, 1.0])
# Channels: hatua_app, ra_forum, police_station, chief_office, private_security, hotline.
_CHANNEL_BEFORE = np.array([0.0, 0.0, 0.55, 0.28, 0.07, 0.10])
_COORDS_NULL_BY_CHANNEL = np.array([0.04, 0.30, 0.55, 0.60, 0.20, 0.70])
_WEEKDAY = np.array([0.92, 0.90, 0.92, 0.95, 1.12, 1.22, 1.00])
_MONTH = np.array([1.0, 0.95, 0.97, 1.0, 0.96, 0.98, 1.0, 1.05, 0.97, 1.0, 1.05, 1.25])
# Relative reporting volume by EAT hour, 00:00 to 23:00.
_HOUR = np.array([0.9, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 1.6, 2.0, 2.2, 2.3, 2.3])
_HOUR = np.concatenate([_HOUR, [2.4, 2.4, 2.4, 2.5, 2.7, 3.0, 3.4, 3.6, 3.4, 3.0, 2.2, 1.5]])
_OVERDISPERSION = 0.012
_BASELINE_LEVEL = 0.22
_RAMP_DAYS = 56.0
_GROWTH_PER_YEAR = 0.3


def _hour_weights() -> np.ndarray:
    """Per weekday (Monday = 0), the relative volume of reports by EAT hour."""
    table = np.tile(_HOUR, (7, 1))
    table[[4, 5], 19:] *= 1.4  # Friday and Saturday evenings
    table[[5, 6], :4] *= 1.8  # the small hours after them
    return table


def _incident_cdf(world: World, total: int) -> np.ndarray:
    """Cumulative weights of (day, county) cells, day-major, for drawing `total` incidents.

    Draws are stratified (each cell gets its expected count, +-1), so the day-to-day noise is
    put into the weights: a gamma factor with the variance a Poisson count of the cell's size
    would have, plus some overdispersion, as real counts show.
    """
    rng = random_stream(world.seed, "incident_weights")
    days = np.arange(world.start_day, world.today_day)
    base = world.population * (0.25 + world.urban)
    level = _programme_level(days[:, None] - world.prog_start[None, :])
    weekday = _WEEKDAY[(days + 3) % 7]
    month = _MONTH[(days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)) % 12]
    weights = base[None, :] * level * (weekday * month)[:, None]
    expected = total * weights / weights.sum()
    shape = 1.0 / (1.0 / np.maximum(expected, 1e-9) + _OVERDISPERSION)
    weights *= rng.gamma(shape, 1.0 / shape)
    silent = world.silenced(np.arange(world.n_counties)[None, :], days[:, None])
    weights[silent] = 0.0
    cdf = np.cumsum(weights.ravel())
    return cdf / cdf[-1]


def _programme_level(days_since_start: np.ndarray) -> np.ndarray:
    """Relative reporting volume by days since the county's start (negative = before it)."""
    since = np.maximum(days_since_start, 0)
    ramp = np.minimum(1.0, since / _RAMP_DAYS) * (1.0 + _GROWTH_PER_YEAR * since / 365.0)
    return np.where(
        days_since_start < 0, _BASELINE_LEVEL, _BASELINE_LEVEL + (1 - _BASELINE_LEVEL) * ramp
    )


def incident_chunks(world: World, total: int) -> Iterator[Columns]:
    """All incidents: random ones in blocks of CHUNK_ROWS, then the planted edge cases."""
    planted = _planted_specs(world)
    random_rows = total - len(planted)
    cdf = _incident_cdf(world, random_rows)
    hours = _hour_weights()
    for chunk in range((random_rows + CHUNK_ROWS - 1) // CHUNK_ROWS):
        yield _incident_chunk(world, cdf, hours, chunk, random_rows)
    yield _planted_incidents(world, planted, first_id=random_rows + 1)


def _incident_chunk(
    world: World, cdf: np.ndarray, hours: np.ndarray, chunk: int, total: int
) -> Columns:
    """Random incidents with ids lo+1..hi, lo = chunk x CHUNK_ROWS, from the chunk's own stream."""
    lo, hi = chunk * CHUNK_ROWS, min((chunk + 1) * CHUNK_ROWS, total)
    rng = random_stream(world.seed, "incidents", chunk)
    # Stratified draws in id order give ids that follow the calendar, as a live system's would.
    u = (np.arange(lo, hi) + rng.random(hi - lo)) / total
    cell = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    day = world.start_day + cell // world.n_counties
    county = cell % world.n_counties
    hour = pick_by_group(rng, hours, (day + 3) % 7)
    seconds = hour * 3600 + rng.integers(0, 3600, len(day))
    reported = day * DAY_SECONDS + seconds - EAT_SECONDS
    order = np.argsort(reported, kind="stable")
    columns = _incident_attributes(world, rng, county[order], reported[order])
    columns["id"] = np.arange(lo + 1, hi + 1)
    return columns


def _incident_attributes(
    world: World, rng: np.random.Generator, county: np.ndarray, reported: np.ndarray
) -> Columns:
    n = len(county)
    day = (reported + EAT_SECONDS) // DAY_SECONDS
    since = day - world.prog_start[county]
    on = since >= 0
    channel = _incident_channels(rng, since)
    category = pick_by_group(rng, np.stack([_CATEGORY, _CATEGORY * _CATEGORY_UPLIFT]), on * 1)
    severity = pick_by_group(rng, _SEVERITY, category)
    ra, ward = _incident_places(world, rng, county, day, channel, on)
    lat, lon = _jittered_points(world, rng, ward, _COORDS_NULL_BY_CHANNEL[channel])
    columns = _incident_funnel(world, rng, reported, category, on)
    lag_hours = rng.lognormal(np.log(np.where(channel == 0, 1.0, 6.0)), 1.3)
    occurred = reported - np.round(np.minimum(lag_hours, 14 * 24) * 3600).astype(np.int64)
    columns.update(
        {
            "reported_at": as_timestamps(reported),
            "occurred_at": as_timestamps(occurred, null=rng.random(n) < 0.1),
            "county_code": world.county_codes[county],
            "ward_code": world.ward_labels(ward),
            "ra_id": np.where(ra >= 0, ra + 1.0, np.nan),
            "latitude": lat,
            "longitude": lon,
            "category": as_labels(schema.INCIDENT_CATEGORIES, category),
            "channel": as_labels(schema.INCIDENT_CHANNELS, channel),
            "severity": as_labels(schema.SEVERITIES, severity),
        }
    )
    return columns


def _incident_channels(rng: np.random.Generator, since: np.ndarray) -> np.ndarray:
    """Before a county's start: police, chiefs, hotline. After it the app's share grows."""
    app = 0.15 + 0.45 * np.clip(since / 180.0, 0.0, 1.0)
    rest = 1.0 - app - 0.23
    flat = np.ones_like(app)
    after = np.stack([app, 0.10 * flat, 0.65 * rest, 0.35 * rest, 0.08 * flat, 0.05 * flat], axis=1)
    return pick(rng, np.where((since >= 0)[:, None], after, _CHANNEL_BEFORE[None, :]))


def _incident_places(
    world: World,
    rng: np.random.Generator,
    county: np.ndarray,
    day: np.ndarray,
    channel: np.ndarray,
    on: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(RA index or -1, ward index or -1): RA-linked incidents take the RA's ward."""
    n = len(county)
    ward = world.sample_wards(rng, county)
    ra = np.full(n, -1)
    wants = rng.random(n) < np.where(channel == 1, 1.0, np.where(on, 0.18, 0.03))
    ra_county = world.ra_county
    for c in np.unique(county[wants]):
        pool = np.flatnonzero((ra_county == c) & (world.ra_status < 2))
        rows = np.flatnonzero(wants & (county == c))
        if len(pool):
            ra[rows] = pool[rng.integers(0, len(pool), len(rows))]
    # An RA can only relay incidents once it is registered.
    ra[(ra >= 0) & (world.ra_registered[np.maximum(ra, 0)] > day)] = -1
    ra_ward = world.ra_ward[np.maximum(ra, 0)]
    ward = np.where((ra >= 0) & (ra_ward >= 0), ra_ward, ward)
    ward[(ra < 0) & (rng.random(n) < 0.02)] = -1
    return ra, ward


def _jittered_points(
    world: World, rng: np.random.Generator, ward: np.ndarray, p_null: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(ward)
    lat = np.round(world.ward_lat[np.maximum(ward, 0)] + rng.normal(0, 0.008, n), 6)
    lon = np.round(world.ward_lon[np.maximum(ward, 0)] + rng.normal(0, 0.008, n), 6)
    null = (ward < 0) | (rng.random(n) < p_null)
    lat[null] = np.nan
    lon[null] = np.nan
    return lat, lon


_INCIDENT_OUTCOMES = np.array([0.72, 0.08, 0.10, 0.10])  # resolved, dismissed, stuck: actioned/ack


def _incident_funnel(
    world: World,
    rng: np.random.Generator,
    reported: np.ndarray,
    category: np.ndarray,
    on: np.ndarray,
) -> Columns:
    """Status, acknowledged_at, resolved_at, responder and updated_at, consistent with age."""
    n = len(reported)
    ack_hours = rng.lognormal(np.log(np.where(on, 2.5, 18.0)), 1.0)
    ack = reported + np.maximum(60, np.round(ack_hours * 3600)).astype(np.int64)
    work = np.maximum(600, np.round(rng.lognormal(np.log(3.0), 0.9, n) * DAY_SECONDS)).astype(
        np.int64
    )
    resolve, actioned = ack + work, ack + work // 2
    never_acked = rng.random(n) < np.where(on, 0.07, 0.15)
    outcome = pick(rng, _INCIDENT_OUTCOMES, n)
    acked = ~never_acked & (ack < world.as_of)
    status = np.full(n, 0)  # reported
    status[never_acked & (rng.random(n) < 0.35)] = 4  # dismissed without acknowledgement
    status[acked] = np.select(
        [outcome == 0, outcome == 1, outcome == 2],
        [
            np.where(resolve < world.as_of, 3, np.where(actioned < world.as_of, 2, 1)),
            np.full(n, 4),
            np.full(n, 2),
        ],
        1,
    )[acked]
    responder = pick_by_group(rng, _RESPONDER, category)
    no_responder = ~acked
    updated = np.select(
        [status == 3, acked & (status == 2) & (outcome == 0), acked],
        [resolve, actioned, ack],
        reported,
    )
    return {
        "status": as_labels(schema.INCIDENT_STATUSES, status),
        "acknowledged_at": as_timestamps(ack, null=~acked),
        "resolved_at": as_timestamps(resolve, null=status != 3),
        "responder": as_labels(schema.RESPONDERS, responder, null=no_responder),
        "updated_at": as_timestamps(updated),
    }


@dataclass(frozen=True)
class _PlantedIncident:
    county: str
    reported: dt.datetime
    overrides: tuple[tuple[str, Any], ...] = ()


def _planted_specs(world: World) -> list[_PlantedIncident]:
    """The edge-case incidents that exist at this snapshot, in a fixed order."""
    snapshot = snapshot_utc(world.today)
    specs = [
        _PlantedIncident(PILOT_COUNTIES[i % len(PILOT_COUNTIES)], moment)
        for i, moment in enumerate(MIDNIGHT_INCIDENT_TIMES)
        if moment < snapshot
    ]
    odd: list[tuple[str, Any]] = [
        (column, value)
        for (table, column), counts in PLANTED_INVALID_VALUES.items()
        if table == "incidents"
        for value, count in counts.items()
        for _ in range(count)
    ]
    odd += [("coordinates", point) for point in OUT_OF_KENYA_COORDINATES]
    for i, override in enumerate(odd):
        # Spread over recent weeks at mid-morning EAT, well after the pilots started.
        moment = snapshot - dt.timedelta(days=3 + 5 * i, hours=14, minutes=7 * i)
        specs.append(_PlantedIncident(PILOT_COUNTIES[i % 2], moment, (override,)))
    return specs


def _planted_incidents(world: World, specs: list[_PlantedIncident], first_id: int) -> Columns:
    rng = random_stream(world.seed, "planted_incidents")
    county = np.array([world.county_index(s.county) for s in specs], dtype=np.int64)
    reported = np.array([epoch_seconds(s.reported) for s in specs], dtype=np.int64)
    columns = _incident_attributes(world, rng, county, reported)
    for row, spec in enumerate(specs):
        for column, value in spec.overrides:
            if column == "coordinates":
                columns["latitude"][row], columns["longitude"][row] = value
            else:
                columns[column][row] = value
    columns["id"] = np.arange(first_id, first_id + len(specs))
    return columns
