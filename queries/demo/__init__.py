"""The one deterministic seeder: creates the contract schema and fills it with synthetic data.

Usage::

    python -m queries.demo --url sqlite:///data/demo.sqlite [--seed 42] [--incidents 200000]
        [--today YYYY-MM-DD]

or, from Python, `build_demo(url, ...)` and `ensure_demo_database(path)`.

Determinism: every row depends only on (seed, today, incidents). Each table draws from its own
random stream, `SeedSequence(seed, spawn_key=(stream, chunk))`, so the same arguments give the
same rows on SQLite and PostgreSQL, and changing one table's generator leaves the others alone.
Incidents are generated in blocks of `CHUNK_ROWS` rows, block k from its own stream, so any
size (10M rows and more) streams through memory one block at a time.

The data are a snapshot taken at 00:00 EAT on `today`: every event lies before it, from
`data_start(today)` on (the earlier of 1 June 2024 and two years before today, so the pilot
counties' first programme months have a year-earlier period to compare with). Only incidents scale with `incidents`; the other tables have their real-world sizes
(about 860 RAs, ~100 rehab centres, a few hundred security firms, a few thousand referrals).

Realism: real counties (2019 census) and wards; pilot counties Nairobi, Nakuru and Mombasa start
on 2025-06-08, then waves (`WAVES`) while they lie before today; `NOT_ONBOARDED` never start.
Before a county starts, incidents arrive sparsely through police stations, chiefs' offices and
the hotline; after it, reporting ramps up over eight weeks and the Hatua App takes a growing
share. Incidents follow a weekly rhythm (Friday and Saturday nights), a December peak and the
time of day; their status funnel depends on age (recent incidents are more often open).

Deliberate edge cases (their identities are the module constants below):
- `NO_ACTIVITY_COUNTY` (Lamu, onboarded in the first wave) has no incidents, forums, trainings,
  submitted monthly reports or referrals from the first day of the latest complete month to
  the snapshot (the expected monthly report rows exist, unsubmitted).
- `SMALL_REFERRAL_CELLS`: counties given exactly 1-4 rehab referrals in a month (months counted
  back from today's month: 1 = the latest complete month), to exercise small-cell suppression.
- `MIDNIGHT_INCIDENT_TIMES`: incidents reported seconds and minutes either side of midnight EAT
  (21:00 UTC), e.g. exactly 2025-06-30 20:59:59 and 21:00:00 UTC; those before the snapshot
  are planted, in the pilot counties.
- `PLANTED_INVALID_VALUES`: exactly this many rows hold values outside the contract's
  enumerations (e.g. incident category 'cattle_rustling', channel 'sms'); every other row of
  every enumerated column holds an allowed value.
- `OUT_OF_KENYA_COORDINATES`: incidents whose coordinates lie outside Kenya (London, 0/0, a
  longitude typed 100 degrees too far east).
- Late monthly reports: about one submitted report in seven arrives after the 10th of the
  following month; some never arrive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Date, DateTime, Engine, Float, Integer, Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from queries import geography, schema
from queries.db import DataSourceError, make_engine
from queries.filters import today_eat

Progress = Callable[[float, str], None]
Columns = dict[str, np.ndarray]  # one table's rows as column arrays (NaN/NaT/None = NULL)

DEFAULT_SEED = 42
DEFAULT_INCIDENTS = 200_000
CHUNK_ROWS = 200_000
MIN_INCIDENTS = 100
MAX_INCIDENTS = 100_000_000
MIN_TODAY = dt.date(2025, 11, 1)
MAX_TODAY = dt.date(2035, 12, 31)
EARLIEST_DATA_START = dt.date(2024, 6, 1)

PILOT_START = dt.date(2025, 6, 8)
PILOT_COUNTIES = ("047", "032", "001")
WAVES: dict[dt.date, tuple[str, ...]] = {
    PILOT_START: PILOT_COUNTIES,
    dt.date(2025, 10, 1): ("042", "022", "027", "016", "034", "003", "005", "037"),
    dt.date(2026, 2, 1): (
        *("019", "012", "035", "039", "045", "002"),
        *("021", "014", "026", "029", "031", "007"),
    ),
    dt.date(2026, 7, 1): ("015", "017", "033", "043", "044", "041", "040", "038", "018", "020"),
}
NOT_ONBOARDED = ("004", "006", "008", "009", "010", "011", "013")
NOT_ONBOARDED += ("023", "024", "025", "028", "030", "036", "046")

NO_ACTIVITY_COUNTY = "005"
SMALL_REFERRAL_CELLS: dict[tuple[str, int], int] = {
    ("014", 1): 3,
    ("031", 1): 1,
    ("002", 2): 4,
    ("038", 1): 2,
    ("006", 3): 1,
}
MIDNIGHT_INCIDENT_TIMES: tuple[dt.datetime, ...] = (
    dt.datetime(2025, 6, 30, 20, 59, 59),
    dt.datetime(2025, 6, 30, 21, 0, 0),
    dt.datetime(2025, 6, 30, 20, 58, 30),
    dt.datetime(2025, 6, 30, 21, 1, 30),
    dt.datetime(2025, 6, 30, 20, 45, 0),
    dt.datetime(2025, 6, 30, 21, 14, 59),
    dt.datetime(2025, 12, 31, 20, 59, 59),
    dt.datetime(2025, 12, 31, 21, 0, 0),
    dt.datetime(2026, 6, 30, 20, 59, 59),
    dt.datetime(2026, 6, 30, 21, 0, 0),
)
PLANTED_INVALID_VALUES: dict[tuple[str, str], dict[str, int]] = {
    ("incidents", "category"): {"cattle_rustling": 3, "Theft": 2},
    ("incidents", "channel"): {"sms": 3},
    ("incidents", "severity"): {"critical": 1},
    ("forums", "forum_type"): {"chiefs_baraza": 1},
    ("rehab_referrals", "substance"): {"unknown_drug": 2},
}
OUT_OF_KENYA_COORDINATES: tuple[tuple[float, float], ...] = (
    (51.5, -0.12),
    (0.0, 0.0),
    (-1.286389, 136.817222),
)

EAT = dt.timezone(dt.timedelta(hours=3), "EAT")
_EAT_SECONDS = 3 * 3600
_DAY_SECONDS = 86_400
_EPOCH = dt.date(1970, 1, 1)

_STREAMS = {
    "world": 1,
    "residents_associations": 2,
    "forums": 3,
    "ra_monthly_reports": 4,
    "incidents": 5,
    "planted_incidents": 6,
    "trainings": 7,
    "security_firms": 8,
    "rehab_centres": 9,
    "rehab_referrals": 10,
    "targets": 11,
    "incident_weights": 12,
}

# KNBS 2019 urban population shares, rounded; other counties are mostly rural (~15%).
_URBAN_SHARE = {
    "047": 1.0,
    "001": 1.0,
    "022": 0.61,
    "042": 0.50,
    "032": 0.45,
    "011": 0.44,
    "034": 0.41,
    "027": 0.40,
    "016": 0.35,
    "007": 0.25,
    "031": 0.25,
    "019": 0.25,
    "005": 0.25,
    "003": 0.25,
    "006": 0.25,
    "014": 0.20,
    "035": 0.20,
    "026": 0.20,
    "045": 0.20,
    "010": 0.20,
}
_DEFAULT_URBAN_SHARE = 0.15

_EXTRA_INDEXES = (
    "CREATE INDEX ix_demo_incidents_county_reported ON incidents (county_code, reported_at)",
    "CREATE INDEX ix_demo_referrals_county_referred ON rehab_referrals (county_code, referred_on)",
    "CREATE INDEX ix_demo_forums_county_held ON forums (county_code, held_on)",
    "CREATE INDEX ix_demo_forums_ra_held ON forums (ra_id, held_on)",
    "CREATE INDEX ix_demo_trainings_county_held ON trainings (county_code, held_on)",
    "CREATE INDEX ix_demo_reports_submitted ON ra_monthly_reports (submitted_on)",
)


class DemoBuildError(RuntimeError):
    """The database refused part of the build (permissions, a dependent view...)."""


def data_start(today: dt.date) -> dt.date:
    """The first day with data: 1 June 2024, or the 1st of the month two years before today
    when that is earlier."""
    two_years_back = dt.date(today.year - 2, today.month, 1)
    return min(EARLIEST_DATA_START, two_years_back)


def programme_starts(today: dt.date) -> dict[str, dt.date]:
    """County code -> programme start, for the counties that started before `today`."""
    return {code: start for start, codes in WAVES.items() if start < today for code in codes}


def snapshot_utc(today: dt.date) -> dt.datetime:
    """The snapshot instant, 00:00 EAT on `today`, as a naive UTC datetime."""
    return dt.datetime.combine(today, dt.time()) - dt.timedelta(seconds=_EAT_SECONDS)


def _epoch_day(day: dt.date) -> int:
    return (day - _EPOCH).days


def _epoch_seconds(moment: dt.datetime) -> int:
    return _epoch_day(moment.date()) * _DAY_SECONDS + int(
        (moment - dt.datetime.combine(moment.date(), dt.time())).total_seconds()
    )


def _month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of epoch days."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _first_day(months: np.ndarray) -> np.ndarray:
    """The epoch day of the first day of months counted since 1970-01."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _as_dates(days: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    out = days.astype("datetime64[D]")
    if null is not None:
        out[null] = np.datetime64("NaT")
    return out


def _as_timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    out = seconds.astype("datetime64[s]")
    if null is not None:
        out[null] = np.datetime64("NaT")
    return out


def _rng(seed: int, stream: str, chunk: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAMS[stream], chunk)))


def _pick(rng: np.random.Generator, probs: np.ndarray, size: int | None = None) -> np.ndarray:
    """Category indices: from one probability vector (`size` draws) or one row per draw (2-D)."""
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        cum = np.cumsum(probs / probs.sum())
        return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    draws = (rng.random(len(probs))[:, None] >= cum).sum(axis=1)
    return np.minimum(draws, probs.shape[1] - 1)


def _pick_by_group(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Category indices, each drawn from the probability row `table[group]` of its row."""
    k = table.shape[1]
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    # Row g's cumulative probabilities shifted by g make one sorted axis to search at once.
    flat = (cum + np.arange(len(table))[:, None]).ravel()
    found = np.searchsorted(flat, group + rng.random(len(group)), side="right")
    return np.minimum(found - group * k, k - 1)


def _labels(
    values: tuple[str, ...], index: np.ndarray, null: np.ndarray | None = None
) -> np.ndarray:
    out = np.array(values, dtype=object)[index]
    if null is not None:
        out[null] = None
    return out


def _largest_remainder(weights: np.ndarray, total: int, minimum: np.ndarray) -> np.ndarray:
    """Integer counts summing to about `total`, proportional to weights, at least `minimum`."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return np.maximum(counts, minimum)


@dataclass
class _World:
    """Everything several generators share: calendar, geography, RAs and rehab centres."""

    seed: int
    today: dt.date
    today_day: int
    as_of: int  # the snapshot, epoch seconds UTC
    start_day: int  # first epoch day with data
    silence_day: int  # first day of NO_ACTIVITY_COUNTY's silence
    county_codes: np.ndarray
    county_names: np.ndarray
    population: np.ndarray
    urban: np.ndarray
    prog_start: np.ndarray  # epoch day, or a far-future sentinel when not onboarded
    onboarded: np.ndarray
    ward_codes: np.ndarray
    ward_names: np.ndarray
    ward_county: np.ndarray
    ward_lat: np.ndarray
    ward_lon: np.ndarray
    ward_cum: np.ndarray  # cumulative ward weights, wards in county order
    ward_order: np.ndarray  # ward indices in county order
    county_ward_lo: np.ndarray  # cumulative weight before each county's first ward
    county_ward_weight: np.ndarray
    ra_county: np.ndarray | None = None
    ra_ward: np.ndarray | None = None  # ward index, -1 = none
    ra_registered: np.ndarray | None = None
    ra_status: np.ndarray | None = None
    ra_members: np.ndarray | None = None
    centre_county: np.ndarray | None = None
    centre_capacity: np.ndarray | None = None

    @property
    def n_counties(self) -> int:
        return len(self.county_codes)

    def county_index(self, code: str) -> int:
        return int(np.flatnonzero(self.county_codes == code)[0])

    def silenced(self, county: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Rows that fall in NO_ACTIVITY_COUNTY's silent weeks and must not exist."""
        return (county == self.county_index(NO_ACTIVITY_COUNTY)) & (day >= self.silence_day)

    def ward_labels(self, ward: np.ndarray) -> np.ndarray:
        """Ward codes for ward indices, None where the index is -1 (no ward)."""
        out = self.ward_codes[np.maximum(ward, 0)]
        out[ward < 0] = None
        return out

    def sample_wards(self, rng: np.random.Generator, county: np.ndarray) -> np.ndarray:
        """A ward index for each row, drawn by ward weight within the row's county."""
        target = (
            self.county_ward_lo[county]
            + rng.random(len(county)) * (self.county_ward_weight[county])
        )
        pos = np.searchsorted(self.ward_cum, target, side="right")
        pos = np.minimum(pos, len(self.ward_cum) - 1)
        picked = self.ward_order[pos]
        # Rounding at a county's edge can land in the neighbour: fall back to the county's first.
        wrong = self.ward_county[picked] != county
        picked[wrong] = self.ward_order[np.searchsorted(self.ward_county[self.ward_order], county)][
            wrong
        ]
        return picked


def _make_world(seed: int, today: dt.date) -> _World:
    rng = _rng(seed, "world")
    counties = geography.counties_frame()
    wards = geography.wards_frame()
    codes = counties["code"].to_numpy(dtype=object)
    starts = programme_starts(today)
    prog_start = np.array([_epoch_day(starts[c]) if c in starts else 10**7 for c in codes])
    latest_complete = dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
    county_pos = {code: i for i, code in enumerate(codes)}
    ward_county = wards["county_code"].map(county_pos).to_numpy(dtype=np.int64)
    order = np.argsort(ward_county, kind="stable")
    weights = rng.gamma(1.5, 1.0, len(wards))
    cum = np.cumsum(weights[order])
    county_weight = np.bincount(ward_county, weights=weights, minlength=len(codes))
    return _World(
        seed=seed,
        today=today,
        today_day=_epoch_day(today),
        as_of=_epoch_seconds(snapshot_utc(today)),
        start_day=_epoch_day(data_start(today)),
        silence_day=_epoch_day(latest_complete.replace(day=1)),
        county_codes=codes,
        county_names=counties["name"].to_numpy(dtype=object),
        population=counties["population"].to_numpy(dtype=np.int64),
        urban=np.array([_URBAN_SHARE.get(c, _DEFAULT_URBAN_SHARE) for c in codes]),
        prog_start=prog_start,
        onboarded=np.array([c in starts for c in codes]),
        ward_codes=wards["code"].to_numpy(dtype=object),
        ward_names=wards["name"].to_numpy(dtype=object),
        ward_county=ward_county,
        ward_lat=wards["latitude"].to_numpy(dtype=float),
        ward_lon=wards["longitude"].to_numpy(dtype=float),
        ward_cum=cum,
        ward_order=order,
        county_ward_lo=np.cumsum(county_weight) - county_weight,
        county_ward_weight=county_weight,
    )


def _gen_counties(world: _World) -> Columns:
    frame = geography.counties_frame()
    start = _as_dates(world.prog_start, null=~world.onboarded)
    return {
        "code": world.county_codes,
        "name": world.county_names,
        "population": world.population,
        "area_km2": frame["area_km2"].to_numpy(dtype=float),
        "latitude": frame["latitude"].to_numpy(dtype=float),
        "longitude": frame["longitude"].to_numpy(dtype=float),
        "programme_start": start,
        "updated_at": _loaded_at(world, len(start)),
    }


def _gen_wards(world: _World) -> Columns:
    frame = geography.wards_frame()
    return {
        "code": world.ward_codes,
        "name": world.ward_names,
        "county_code": world.county_codes[world.ward_county],
        "constituency": frame["constituency"].to_numpy(dtype=object),
        "latitude": world.ward_lat,
        "longitude": world.ward_lon,
        "updated_at": _loaded_at(world, len(frame)),
    }


def _loaded_at(world: _World, rows: int) -> np.ndarray:
    """updated_at of a full reload: every row was written at the snapshot."""
    return _as_timestamps(np.full(rows, world.as_of, dtype=np.int64))


RA_TOTAL = 860
_RA_SUFFIXES = (
    "Residents Association",
    "Estate Residents Association",
    "Community Association",
    "Neighbourhood Association",
    "Welfare Association",
    "Residents Welfare Group",
)
_SETTLEMENT_URBAN = np.array([0.38, 0.30, 0.14, 0.02, 0.16])
_SETTLEMENT_RURAL = np.array([0.15, 0.08, 0.02, 0.50, 0.25])


def _gen_residents_associations(world: _World) -> Columns:
    rng = _rng(world.seed, "residents_associations")
    weights = world.population * world.urban * np.where(world.onboarded, 1.0, 0.08)
    minimum = np.where(world.onboarded, 3, 0)
    per_county = _largest_remainder(weights, RA_TOTAL, minimum)
    county = np.repeat(np.arange(world.n_counties), per_county)
    n = len(county)
    ward = world.sample_wards(rng, county)
    ward[rng.random(n) < 0.02] = -1
    registered = _ra_registration_days(world, rng, county)
    status = _pick(rng, [0.82, 0.13, 0.05], n)
    urban = world.urban[county][:, None]
    settlement = _pick(rng, urban * _SETTLEMENT_URBAN + (1 - urban) * _SETTLEMENT_RURAL)
    members = rng.lognormal(np.log(110), 0.8, n) * np.select(
        [settlement == 2, settlement == 1], [0.5, 1.8], 1.0
    )
    members = np.clip(np.round(members), 20, 800).astype(np.int64)
    world.ra_county, world.ra_ward, world.ra_registered = county, ward, registered
    world.ra_status, world.ra_members = status, members
    return {
        "id": np.arange(1, n + 1),
        "name": _ra_names(world, rng, county, ward),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "settlement_type": _labels(schema.SETTLEMENT_TYPES, settlement),
        "registered_on": _as_dates(registered),
        "status": _labels(schema.RA_STATUSES, status),
        "members": members,
        "updated_at": _loaded_at(world, n),
    }


def _ra_registration_days(
    world: _World, rng: np.random.Generator, county: np.ndarray
) -> np.ndarray:
    """Mostly in the months around the county's start; anywhere in the window elsewhere."""
    n = len(county)
    start = world.prog_start[county]
    near = start + rng.integers(-100, 31, n)
    later = start + 30 + np.round(rng.exponential(150, n)).astype(np.int64)
    days = np.where(rng.random(n) < 0.55, near, later)
    span = np.maximum(world.today_day - start, 1)
    days = np.where(days >= world.today_day, start + (rng.random(n) * span).astype(np.int64), days)
    anywhere = world.start_day + (rng.random(n) * (world.today_day - world.start_day)).astype(
        np.int64
    )
    return np.where(world.onboarded[county], days, anywhere)


def _ra_names(
    world: _World, rng: np.random.Generator, county: np.ndarray, ward: np.ndarray
) -> np.ndarray:
    places = np.where(ward >= 0, world.ward_names[np.maximum(ward, 0)], world.county_names[county])
    suffixes = np.array(_RA_SUFFIXES, dtype=object)[rng.integers(0, len(_RA_SUFFIXES), len(ward))]
    names: list[str] = []
    seen: dict[str, int] = {}
    for place, suffix in zip(places.tolist(), suffixes.tolist(), strict=True):
        name = f"{place} {suffix}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return np.array(names, dtype=object)


# Per forum type: police, NGAO and private-security presence rates, attendance median.
_FORUM_POLICE = np.array([0.40, 0.80, 0.95, 0.45, 0.30])
_FORUM_NGAO = np.array([0.30, 0.90, 0.55, 0.40, 0.35])
_FORUM_ATTENDANCE = np.array([35.0, 120.0, 25.0, 45.0, 60.0])
_RA_FORUM_TYPES = np.array([0.60, 0.12, 0.14, 0.09, 0.05])
_BARAZA_FORUM_TYPES = np.array([0.0, 0.70, 0.10, 0.12, 0.08])
_RA_FORUMS_PER_MONTH = np.array([1.6, 0.15, 0.3])  # by RA status: active, dormant, suspended


def _gen_forums(world: _World) -> Columns:
    rng = _rng(world.seed, "forums")
    ra_rows = _ra_forum_slots(world, rng)
    baraza_rows = _baraza_slots(world, rng)
    ra = np.concatenate([ra_rows[0], np.full(len(baraza_rows[0]), -1)])
    county = np.concatenate([world.ra_county[ra_rows[0]], baraza_rows[0]])
    held = np.concatenate([ra_rows[1], baraza_rows[1]])
    keep = ~world.silenced(county, held)
    ra, county, held = ra[keep], county[keep], held[keep]
    order = np.lexsort((ra, county, held))
    ra, county, held = ra[order], county[order], held[order]
    n = len(ra)
    is_ra = ra >= 0
    kind = np.where(
        is_ra, _pick(rng, _RA_FORUM_TYPES, n), _pick(rng, _BARAZA_FORUM_TYPES, n)
    ).astype(np.int64)
    ward = np.where(is_ra, world.ra_ward[np.maximum(ra, 0)], world.sample_wards(rng, county))
    maturity = np.minimum(1.0, (held - world.prog_start[county]) / 180.0)
    police = rng.random(n) < _FORUM_POLICE[kind] * (0.6 + 0.4 * maturity)
    ngao = rng.random(n) < _FORUM_NGAO[kind]
    private = rng.random(n) < np.where(kind == 2, 0.6, 0.25) * (0.5 + 0.5 * maturity)
    attendance = _forum_attendance(world, rng, kind, ra)
    actions = np.minimum(rng.poisson(1.2 + 1.3 * np.isin(kind, (1, 2)), n), 12)
    forum_type = _labels(schema.FORUM_TYPES, kind)
    _plant(
        forum_type,
        ("forums", "forum_type"),
        np.flatnonzero(~is_ra & (world.county_codes[county] == "047")),
    )
    return {
        "id": np.arange(1, n + 1),
        "ra_id": np.where(is_ra, ra + 1.0, np.nan),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "held_on": _as_dates(held),
        "forum_type": forum_type,
        "attendance": attendance,
        "police_present": police,
        "ngao_present": ngao,
        "private_security_present": private,
        "actions_agreed": actions,
        "updated_at": _loaded_at(world, n),
    }


def _plant(values: np.ndarray, column: tuple[str, str], candidates: np.ndarray) -> None:
    """Overwrite the first candidate rows with the invalid values planted in this column."""
    planted = [v for v, count in PLANTED_INVALID_VALUES[column].items() for _ in range(count)]
    if len(candidates) < len(planted):
        raise RuntimeError(f"too few rows to plant invalid {column}")
    values[candidates[: len(planted)]] = planted


def _month_slots(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, month) for every month first..last of every owner."""
    count = np.maximum(last - first + 1, 0)
    owner = np.repeat(np.arange(len(first)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return owner, first[owner] + offset


def _active_share(world: _World, month: np.ndarray, earliest: np.ndarray) -> np.ndarray:
    """The share of each month that lies between `earliest` and the snapshot (0-1)."""
    lo = np.maximum(_first_day(month), earliest)
    hi = np.minimum(_first_day(month + 1), world.today_day)
    return np.clip((hi - lo) / (_first_day(month + 1) - _first_day(month)), 0.0, 1.0)


def _day_in_month(
    world: _World, rng: np.random.Generator, month: np.ndarray, earliest: np.ndarray
) -> np.ndarray:
    """A uniform day of the month, no earlier than `earliest` and before the snapshot."""
    lo = np.maximum(_first_day(month), earliest)
    hi = np.minimum(_first_day(month + 1), world.today_day)
    return lo + (rng.random(len(month)) * np.maximum(hi - lo, 1)).astype(np.int64)


def _ra_forum_slots(world: _World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    start = np.maximum(world.prog_start[world.ra_county], world.ra_registered)
    first, last = _month_of(start), np.full(len(start), _month_of(np.array([world.today_day]))[0])
    owner, month = _month_slots(first, last)
    rate = _RA_FORUMS_PER_MONTH[world.ra_status[owner]] * _active_share(world, month, start[owner])
    times = rng.poisson(rate)
    owner, month = np.repeat(owner, times), np.repeat(month, times)
    held = _day_in_month(world, rng, month, start[owner])
    # RA meetings favour Saturdays: move about half of them to that week's Saturday if possible.
    saturday = held + (5 - (held + 3) % 7) % 7
    move = (rng.random(len(held)) < 0.5) & (
        saturday < np.minimum(_first_day(month + 1), world.today_day)
    )
    return owner, np.where(move, saturday, held)


def _baraza_slots(world: _World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """County-level forums without an RA (chiefs' barazas...), after the county's start."""
    onboarded = np.flatnonzero(world.onboarded)
    this_month = _month_of(np.array([world.today_day]))[0]
    owner, month = _month_slots(
        _month_of(world.prog_start[onboarded]), np.full(len(onboarded), this_month)
    )
    county = onboarded[owner]
    rate = 1.0 + 5.0 * world.population[county] / world.population.max()
    times = rng.poisson(rate * _active_share(world, month, world.prog_start[county]))
    county, month = np.repeat(county, times), np.repeat(month, times)
    return county, _day_in_month(world, rng, month, world.prog_start[county])


def _forum_attendance(
    world: _World, rng: np.random.Generator, kind: np.ndarray, ra: np.ndarray
) -> np.ndarray:
    median = _FORUM_ATTENDANCE[kind]
    members = world.ra_members[np.maximum(ra, 0)]
    median = np.where((ra >= 0) & (kind == 0), np.maximum(8.0, 0.3 * members), median)
    return np.clip(np.round(rng.lognormal(np.log(median), 0.45)), 5, 1500).astype(np.int64)


def _gen_ra_monthly_reports(world: _World) -> Columns:
    rng = _rng(world.seed, "ra_monthly_reports")
    expected = np.flatnonzero(world.ra_status < 2)  # active or dormant
    first = _month_of(world.ra_registered[expected]) + 1
    last = np.full(len(first), _month_of(np.array([world.today_day]))[0] - 1)
    owner, month = _month_slots(first, last)
    ra = expected[owner]
    county = world.ra_county[ra]
    after_start = _first_day(month) >= world.prog_start[county]
    p_submit = np.where(world.ra_status[ra] == 0, np.where(after_start, 0.88, 0.4), 0.12)
    submitted = rng.random(len(ra)) < p_submit
    late = rng.random(len(ra)) < 0.14
    delay = np.where(
        late, 10 + np.round(rng.exponential(12, len(ra))), rng.integers(0, 10, len(ra))
    )
    day = _first_day(month + 1) + delay.astype(np.int64)
    missing = ~submitted | (day >= world.today_day) | world.silenced(county, day)
    return {
        "ra_id": ra + 1,
        "month": _as_dates(_first_day(month)),
        "submitted_on": _as_dates(day, null=missing),
        "updated_at": _loaded_at(world, len(ra)),
    }


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


def _incident_cdf(world: _World, total: int) -> np.ndarray:
    """Cumulative weights of (day, county) cells, day-major, for drawing `total` incidents.

    Draws are stratified (each cell gets its expected count, +-1), so the day-to-day noise is
    put into the weights: a gamma factor with the variance a Poisson count of the cell's size
    would have, plus some overdispersion, as real counts show.
    """
    rng = _rng(world.seed, "incident_weights")
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


def _incident_chunks(world: _World, total: int) -> Iterator[Columns]:
    """All incidents: random ones in blocks of CHUNK_ROWS, then the planted edge cases."""
    planted = _planted_specs(world)
    random_rows = total - len(planted)
    cdf = _incident_cdf(world, random_rows)
    hours = _hour_weights()
    for chunk in range((random_rows + CHUNK_ROWS - 1) // CHUNK_ROWS):
        yield _incident_chunk(world, cdf, hours, chunk, random_rows)
    yield _planted_incidents(world, planted, first_id=random_rows + 1)


def _incident_chunk(
    world: _World, cdf: np.ndarray, hours: np.ndarray, chunk: int, total: int
) -> Columns:
    """Random incidents with ids lo+1..hi, lo = chunk x CHUNK_ROWS, from the chunk's own stream."""
    lo, hi = chunk * CHUNK_ROWS, min((chunk + 1) * CHUNK_ROWS, total)
    rng = _rng(world.seed, "incidents", chunk)
    # Stratified draws in id order give ids that follow the calendar, as a live system's would.
    u = (np.arange(lo, hi) + rng.random(hi - lo)) / total
    cell = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    day = world.start_day + cell // world.n_counties
    county = cell % world.n_counties
    hour = _pick_by_group(rng, hours, (day + 3) % 7)
    seconds = hour * 3600 + rng.integers(0, 3600, len(day))
    reported = day * _DAY_SECONDS + seconds - _EAT_SECONDS
    order = np.argsort(reported, kind="stable")
    columns = _incident_attributes(world, rng, county[order], reported[order])
    columns["id"] = np.arange(lo + 1, hi + 1)
    return columns


def _incident_attributes(
    world: _World, rng: np.random.Generator, county: np.ndarray, reported: np.ndarray
) -> Columns:
    n = len(county)
    day = (reported + _EAT_SECONDS) // _DAY_SECONDS
    since = day - world.prog_start[county]
    on = since >= 0
    channel = _incident_channels(rng, since)
    category = _pick_by_group(rng, np.stack([_CATEGORY, _CATEGORY * _CATEGORY_UPLIFT]), on * 1)
    severity = _pick_by_group(rng, _SEVERITY, category)
    ra, ward = _incident_places(world, rng, county, day, channel, on)
    lat, lon = _jittered_points(world, rng, ward, _COORDS_NULL_BY_CHANNEL[channel])
    columns = _incident_funnel(world, rng, reported, category, on)
    lag_hours = rng.lognormal(np.log(np.where(channel == 0, 1.0, 6.0)), 1.3)
    occurred = reported - np.round(np.minimum(lag_hours, 14 * 24) * 3600).astype(np.int64)
    columns.update(
        {
            "reported_at": _as_timestamps(reported),
            "occurred_at": _as_timestamps(occurred, null=rng.random(n) < 0.1),
            "county_code": world.county_codes[county],
            "ward_code": world.ward_labels(ward),
            "ra_id": np.where(ra >= 0, ra + 1.0, np.nan),
            "latitude": lat,
            "longitude": lon,
            "category": _labels(schema.INCIDENT_CATEGORIES, category),
            "channel": _labels(schema.INCIDENT_CHANNELS, channel),
            "severity": _labels(schema.SEVERITIES, severity),
        }
    )
    return columns


def _incident_channels(rng: np.random.Generator, since: np.ndarray) -> np.ndarray:
    """Before a county's start: police, chiefs, hotline. After it the app's share grows."""
    app = 0.15 + 0.45 * np.clip(since / 180.0, 0.0, 1.0)
    rest = 1.0 - app - 0.23
    flat = np.ones_like(app)
    after = np.stack([app, 0.10 * flat, 0.65 * rest, 0.35 * rest, 0.08 * flat, 0.05 * flat], axis=1)
    return _pick(rng, np.where((since >= 0)[:, None], after, _CHANNEL_BEFORE[None, :]))


def _incident_places(
    world: _World,
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
    world: _World, rng: np.random.Generator, ward: np.ndarray, p_null: np.ndarray
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
    world: _World,
    rng: np.random.Generator,
    reported: np.ndarray,
    category: np.ndarray,
    on: np.ndarray,
) -> Columns:
    """Status, acknowledged_at, resolved_at, responder and updated_at, consistent with age."""
    n = len(reported)
    ack_hours = rng.lognormal(np.log(np.where(on, 2.5, 18.0)), 1.0)
    ack = reported + np.maximum(60, np.round(ack_hours * 3600)).astype(np.int64)
    work = np.maximum(600, np.round(rng.lognormal(np.log(3.0), 0.9, n) * _DAY_SECONDS)).astype(
        np.int64
    )
    resolve, actioned = ack + work, ack + work // 2
    never_acked = rng.random(n) < np.where(on, 0.07, 0.15)
    outcome = _pick(rng, _INCIDENT_OUTCOMES, n)
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
    responder = _pick_by_group(rng, _RESPONDER, category)
    no_responder = ~acked
    updated = np.select(
        [status == 3, acked & (status == 2) & (outcome == 0), acked],
        [resolve, actioned, ack],
        reported,
    )
    return {
        "status": _labels(schema.INCIDENT_STATUSES, status),
        "acknowledged_at": _as_timestamps(ack, null=~acked),
        "resolved_at": _as_timestamps(resolve, null=status != 3),
        "responder": _labels(schema.RESPONDERS, responder, null=no_responder),
        "updated_at": _as_timestamps(updated),
    }


@dataclass(frozen=True)
class _PlantedIncident:
    county: str
    reported: dt.datetime
    overrides: tuple[tuple[str, Any], ...] = ()


def _planted_specs(world: _World) -> list[_PlantedIncident]:
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


def _planted_incidents(world: _World, specs: list[_PlantedIncident], first_id: int) -> Columns:
    rng = _rng(world.seed, "planted_incidents")
    county = np.array([world.county_index(s.county) for s in specs], dtype=np.int64)
    reported = np.array([_epoch_seconds(s.reported) for s in specs], dtype=np.int64)
    columns = _incident_attributes(world, rng, county, reported)
    for row, spec in enumerate(specs):
        for column, value in spec.overrides:
            if column == "coordinates":
                columns["latitude"][row], columns["longitude"][row] = value
            else:
                columns[column][row] = value
    columns["id"] = np.arange(first_id, first_id + len(specs))
    return columns


# Audiences: residents, private_security, ngao, police, youth, faith_leaders, mixed.
_AUDIENCE = np.array([0.22, 0.30, 0.10, 0.10, 0.14, 0.07, 0.07])
_AUDIENCE_FEMALE = np.array([0.52, 0.24, 0.32, 0.26, 0.46, 0.38, 0.45])
_AUDIENCE_YOUTH = np.array([0.35, 0.62, 0.30, 0.45, 0.92, 0.15, 0.40])
_AUDIENCE_SIZE = np.array([35.0, 60.0, 28.0, 30.0, 40.0, 25.0, 45.0])
# Rows: audiences; columns: training topics.
_TOPIC = np.array(
    [
        [0.25, 0.15, 0.25, 0.15, 0.10, 0.05, 0.05],
        [0.35, 0.05, 0.25, 0.10, 0.05, 0.15, 0.05],
        [0.30, 0.10, 0.15, 0.25, 0.10, 0.00, 0.10],
        [0.35, 0.05, 0.10, 0.15, 0.20, 0.05, 0.10],
        [0.15, 0.35, 0.15, 0.15, 0.10, 0.05, 0.05],
        [0.15, 0.25, 0.05, 0.25, 0.20, 0.00, 0.10],
        [0.25, 0.15, 0.20, 0.15, 0.10, 0.05, 0.10],
    ]
)
# Rows: audiences; columns: ministry_interior, nacada, psra, national_police, county_gov, ngo.
_PARTNER = np.array(
    [
        [0.35, 0.05, 0.00, 0.10, 0.25, 0.25],
        [0.20, 0.00, 0.60, 0.10, 0.00, 0.10],
        [0.70, 0.00, 0.00, 0.10, 0.15, 0.05],
        [0.30, 0.00, 0.00, 0.70, 0.00, 0.00],
        [0.30, 0.10, 0.00, 0.05, 0.25, 0.30],
        [0.40, 0.10, 0.00, 0.00, 0.10, 0.40],
        [0.35, 0.05, 0.05, 0.10, 0.25, 0.20],
    ]
)
_NACADA_LED = np.array([0.10, 0.70, 0.00, 0.05, 0.05, 0.10])
_CERTIFIED_BY_TOPIC = np.array([0.80, 0.75, 0.85, 0.75, 0.75, 0.92, 0.62])


def _gen_trainings(world: _World) -> Columns:
    rng = _rng(world.seed, "trainings")
    onboarded = np.flatnonzero(world.onboarded)
    this_month = _month_of(np.array([world.today_day]))[0]
    first = _month_of(world.prog_start[onboarded])
    owner, month = _month_slots(first, np.full(len(onboarded), this_month))
    county = onboarded[owner]
    scale = world.population[county] * (0.3 + world.urban[county])
    rate = (2.0 + 30.0 * scale / scale.max()) * np.minimum(1.0, (month - first[owner] + 1) / 3.0)
    times = rng.poisson(rate * _active_share(world, month, world.prog_start[county]))
    county, month = np.repeat(county, times), np.repeat(month, times)
    held = _day_in_month(world, rng, month, world.prog_start[county])
    # Few sessions run on Sundays: redraw those once.
    again = _day_in_month(world, rng, month, world.prog_start[county])
    held = np.where((held + 3) % 7 == 6, again, held)
    keep = ~world.silenced(county, held)
    order = np.lexsort((county[keep], held[keep]))
    county, held = county[keep][order], held[keep][order]
    return _training_rows(world, rng, county, held)


def _training_rows(
    world: _World, rng: np.random.Generator, county: np.ndarray, held: np.ndarray
) -> Columns:
    n = len(county)
    audience = _pick(rng, _AUDIENCE, n)
    topic = _pick_by_group(rng, _TOPIC, audience)
    # NACADA leads drug-abuse sessions whoever the audience: its row is appended as group 7.
    partners = np.vstack([_PARTNER, _NACADA_LED])
    partner = _pick_by_group(rng, partners, np.where(topic == 1, len(_PARTNER), audience))
    size = rng.lognormal(np.log(_AUDIENCE_SIZE[audience]), 0.45)
    participants = np.clip(np.round(size), 10, 120).astype(np.int64)
    ward = world.sample_wards(rng, county)
    ward[rng.random(n) < 0.15] = -1
    return {
        "id": np.arange(1, n + 1),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "held_on": _as_dates(held),
        "topic": _labels(schema.TRAINING_TOPICS, topic),
        "audience": _labels(schema.TRAINING_AUDIENCES, audience),
        "partner": _labels(schema.TRAINING_PARTNERS, partner),
        "participants": participants,
        "participants_female": rng.binomial(participants, _AUDIENCE_FEMALE[audience]),
        "participants_youth": rng.binomial(participants, _AUDIENCE_YOUTH[audience]),
        "certified": rng.binomial(participants, _CERTIFIED_BY_TOPIC[topic]),
        "updated_at": _loaded_at(world, n),
    }


FIRM_TOTAL = 420
NATIONAL_GUARDS = 2_100_000
_FIRM_WORDS = (
    "Simba", "Tausi", "Ngao", "Jasiri", "Imara", "Salama", "Tumaini", "Baraka", "Amani", "Nyota",
    "Kilima", "Mlinzi", "Savannah", "Rift", "Coastline", "Lakeside", "Highland", "Acacia",
    "Equator", "Summit", "Shield", "Falcon", "Eagle", "Lion", "Rhino", "Cheetah", "Ironside",
    "Sentinel", "Guardian", "Vigilant", "Bastion", "Citadel", "Harambee", "Umoja", "Uhuru",
    "Jamhuri", "Kifaru", "Chui", "Tai", "Mwamba",
)  # fmt: skip
_FIRM_SUFFIXES = (
    "Security Services", "Guards Ltd", "Security Ltd", "Protective Services", "Guarding Company",
    "Security Solutions", "Patrol Services", "Alarm & Guard Co", "Security Group",
    "Watchmen Services", "Safety Services",
)  # fmt: skip


def _gen_security_firms(world: _World) -> Columns:
    rng = _rng(world.seed, "security_firms")
    weights = world.population * world.urban**1.2
    per_county = _largest_remainder(weights, FIRM_TOTAL, np.ones(world.n_counties, np.int64))
    county = np.repeat(np.arange(world.n_counties), per_county)
    n = len(county)
    raw = rng.lognormal(0.0, 1.4, n)
    officers = np.maximum(20, np.round(raw / raw.sum() * NATIONAL_GUARDS)).astype(np.int64)
    start = world.prog_start[county]
    partner_day = start + np.round(rng.exponential(75, n)).astype(np.int64)
    partner = world.onboarded[county] & (rng.random(n) < 0.55) & (partner_day < world.today_day)
    combos = [f"{w} {s}" for w in _FIRM_WORDS for s in _FIRM_SUFFIXES]
    shuffled = rng.permutation(len(combos))
    # Past the list's end, names repeat with a branch number ("Simba Guards Ltd 2").
    names = np.array(
        [
            combos[shuffled[i % len(combos)]]
            + (f" {i // len(combos) + 1}" if i >= len(combos) else "")
            for i in range(n)
        ],
        dtype=object,
    )
    return {
        "id": np.arange(1, n + 1),
        "name": names,
        "county_code": world.county_codes[county],
        "officers_registered": officers,
        "partnered_on": _as_dates(partner_day, null=~partner),
        "updated_at": _loaded_at(world, n),
    }


CENTRE_TOTAL = 100
_CENTRE_KIND = np.array([0.45, 0.20, 0.35])  # community_based, public, private
_CENTRE_LABEL = ("Community Recovery Centre", "Rehabilitation Centre", "Wellness & Recovery Home")
_CENTRE_CAPACITY = np.array([[10, 40], [20, 120], [15, 80]])
_HEROIN_COUNTIES = ("001", "002", "003", "005", "047")
_KHAT_COUNTIES = ("007", "008", "009", "010", "011", "012", "013", "014", "047")


def _gen_rehab_centres(world: _World) -> Columns:
    rng = _rng(world.seed, "rehab_centres")
    heroin = np.isin(world.county_codes, _HEROIN_COUNTIES)
    weights = world.population * (0.5 + world.urban) * np.where(heroin, 1.5, 1.0)
    county = np.repeat(np.arange(world.n_counties), _largest_remainder(weights, CENTRE_TOTAL, 0))
    n = len(county)
    kind = _pick(rng, _CENTRE_KIND, n)
    ward = world.sample_wards(rng, county)
    opened_early = _epoch_day(dt.date(2008, 1, 1)) + rng.integers(0, 6000, n)
    opened_late = _epoch_day(PILOT_START) + rng.integers(
        0, max(1, world.today_day - _epoch_day(PILOT_START)), n
    )
    opened = np.where((kind == 0) & (rng.random(n) < 0.5), opened_late, opened_early)
    opened = np.minimum(opened, world.today_day - 1)
    capacity = rng.integers(_CENTRE_CAPACITY[kind, 0], _CENTRE_CAPACITY[kind, 1] + 1)
    world.centre_county, world.centre_capacity = county, capacity
    places = world.ward_names[ward]
    labels = np.array(_CENTRE_LABEL, dtype=object)[kind]
    return {
        "id": np.arange(1, n + 1),
        "name": np.array(
            [f"{p} {lab}" for p, lab in zip(places, labels, strict=True)], dtype=object
        ),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_codes[ward],
        "opened_on": _as_dates(opened),
        "capacity": capacity,
        "kind": _labels(schema.CENTRE_KINDS, kind),
        "updated_at": _loaded_at(world, n),
    }


# Substances: alcohol, cannabis, khat, heroin, prescription, tobacco, multiple, other.
_SUBSTANCE = np.array([0.40, 0.28, 0.01, 0.01, 0.05, 0.05, 0.08, 0.02])
_SOURCE = np.array([0.12, 0.18, 0.15, 0.10, 0.08, 0.18, 0.07, 0.08, 0.04])
_SEX = np.array([0.20, 0.78, 0.02])
_AGE_BAND = np.array([0.04, 0.22, 0.30, 0.26, 0.13, 0.05])
_REFERRALS_PER_MONTH = 70.0  # for the largest county once onboarded


def _gen_rehab_referrals(world: _World) -> Columns:
    rng = _rng(world.seed, "rehab_referrals")
    county, referred = _referral_days(world, rng)
    n = len(county)
    funnel, stage = _referral_funnel(world, rng, referred)
    substance = _labels(schema.SUBSTANCES, _pick_by_group(rng, _substance_probs(world), county))
    _plant(
        substance,
        ("rehab_referrals", "substance"),
        np.flatnonzero(world.county_codes[county] == "047"),
    )
    centre = _referral_centres(world, rng, county)
    # Half the referrals not yet assessed have no centre assigned yet.
    centre = np.where((stage == 0) & (rng.random(n) < 0.5), -1, centre)
    ward = world.sample_wards(rng, county)
    ward[rng.random(n) < 0.1] = -1
    return {
        "id": np.arange(1, n + 1),
        "referred_on": _as_dates(referred),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "centre_id": np.where(centre >= 0, centre + 1.0, np.nan),
        "source": _labels(schema.REFERRAL_SOURCES, _pick(rng, _SOURCE, n)),
        "substance": substance,
        "sex": _labels(schema.SEXES, _pick(rng, _SEX, n)),
        "age_band": _labels(schema.AGE_BANDS, _pick(rng, _AGE_BAND, n)),
        **funnel,
        "updated_at": _loaded_at(world, n),
    }


def _referral_days(world: _World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(county, referred_on) sorted by date, with SMALL_REFERRAL_CELLS given exact counts."""
    this_month = _month_of(np.array([world.today_day]))[0]
    first = _month_of(np.array([world.start_day]))[0]
    months = np.arange(first, this_month + 1)
    scale = world.population * (0.3 + world.urban)
    base = 0.4 + _REFERRALS_PER_MONTH * scale / scale.max()
    since = _first_day(months)[:, None] - world.prog_start[None, :]
    level = np.where(since < 0, 0.08, np.minimum(1.0, (since + 30) / 90.0))
    share = _active_share(world, months, np.full(len(months), world.start_day))
    counts = rng.poisson(base[None, :] * level * share[:, None])
    for (code, back), count in SMALL_REFERRAL_CELLS.items():
        counts[this_month - back - first, world.county_index(code)] = count
    month_idx, county = np.nonzero(counts)
    times = counts[month_idx, county]
    county, month = np.repeat(county, times), np.repeat(months[month_idx], times)
    referred = _day_in_month(world, rng, month, np.full(len(month), world.start_day))
    keep = ~world.silenced(county, referred)
    order = np.lexsort((county[keep], referred[keep]))
    return county[keep][order], referred[keep][order]


def _substance_probs(world: _World) -> np.ndarray:
    probs = np.tile(_SUBSTANCE, (world.n_counties, 1))
    probs[np.isin(world.county_codes, _KHAT_COUNTIES), 2] = 0.15
    probs[np.isin(world.county_codes, _HEROIN_COUNTIES), 3] = 0.10
    return probs


def _referral_centres(world: _World, rng: np.random.Generator, county: np.ndarray) -> np.ndarray:
    """A centre in the county when it has one, else any centre, by capacity."""
    centre = np.full(len(county), -1)
    national = world.centre_capacity / world.centre_capacity.sum()
    for c in np.unique(county):
        rows = np.flatnonzero(county == c)
        local = np.flatnonzero(world.centre_county == c)
        if len(local):
            centre[rows] = local[rng.integers(0, len(local), len(rows))]
        else:
            centre[rows] = _pick(rng, national, len(rows))
    return centre


def _referral_funnel(
    world: _World, rng: np.random.Generator, referred: np.ndarray
) -> tuple[Columns, np.ndarray]:
    """status, assessed_on, admitted_on, completed_on (ordered dates, censored at the snapshot),
    and the status index of each row."""
    n = len(referred)
    assessed = referred + np.round(rng.exponential(5, n)).astype(np.int64)
    admitted = assessed + 1 + np.round(rng.exponential(7, n)).astype(np.int64)
    completed = admitted + rng.integers(30, 91, n)
    dropped = admitted + rng.integers(5, 50, n)
    # Eventual path: 0 never assessed, 1 declined, 2 assessed only, 3 completes, 4 drops out.
    path = _pick(rng, [0.08, 0.12, 0.08, 0.50, 0.22], n)
    today = world.today_day
    stage = np.where(path == 0, 0, np.where(assessed < today, 1, 0))  # 0 referred, 1 assessed
    stage = np.where((stage == 1) & (path >= 3) & (admitted < today), 2, stage)  # admitted
    stage = np.where((stage == 2) & (path == 3) & (completed < today), 3, stage)
    stage = np.where((stage == 2) & (path == 4) & (dropped < today), 4, stage)
    stage = np.where((stage == 1) & (path == 1), 5, stage)
    columns = {
        "status": _labels(schema.REFERRAL_STATUSES, stage),
        "assessed_on": _as_dates(assessed, null=stage == 0),
        "admitted_on": _as_dates(admitted, null=~np.isin(stage, (2, 3, 4))),
        "completed_on": _as_dates(completed, null=stage != 3),
    }
    return columns, stage


FINANCIAL_YEARS = (
    (dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
    (dt.date(2026, 7, 1), dt.date(2027, 6, 30)),
)
_RATE_TARGETS = {
    "incidents_resolved_pct": 70.0,
    "ra_reporting_rate": 80.0,
    "joint_forum_pct": 35.0,
    "private_security_coverage_pct": 10.0,
}


def _gen_targets(world: _World, counts: Mapping[str, np.ndarray]) -> Columns:
    """Annual targets per onboarded county, pro rata for counties starting mid-year.

    Args:
        world: the shared state.
        counts: per-county yearly expectations for the count indicators.
    """
    rng = _rng(world.seed, "targets")
    rows: list[tuple[str, str, dt.date, dt.date, float]] = []
    for c in np.flatnonzero(world.onboarded):
        for fy_start, fy_end in FINANCIAL_YEARS:
            begin = max(int(world.prog_start[c]), _epoch_day(fy_start))
            share = (_epoch_day(fy_end) + 1 - begin) / 365.0
            if share <= 0:
                continue
            for indicator, yearly in counts.items():
                # A stock (RAs active) is not pro rata; flows over part of a year are.
                part = 1.0 if indicator == "ras_active" else share
                value = max(1.0, round(float(yearly[c]) * part * rng.lognormal(0.0, 0.08)))
                rows.append((world.county_codes[c], indicator, fy_start, fy_end, value))
            for indicator, value in _RATE_TARGETS.items():
                rows.append((world.county_codes[c], indicator, fy_start, fy_end, value))
    code, indicator, start, end, target = (
        np.array(col, dtype=object) for col in zip(*rows, strict=True)
    )
    return {
        "county_code": code,
        "indicator": indicator,
        "period_start": np.array(start, dtype="datetime64[D]"),
        "period_end": np.array(end, dtype="datetime64[D]"),
        "target": target.astype(float),
    }


def _yearly_expectations(tables: Mapping[str, Columns], world: _World) -> dict[str, np.ndarray]:
    """Per county, roughly a year of each count indicator at the programme's current pace."""
    at_least = 12.0  # one a month, for counties with little history yet
    out: dict[str, np.ndarray] = {}
    since = world.today_day - 182
    for indicator, table, date_col, value_col in (
        ("people_trained", "trainings", "held_on", "participants"),
        ("forums_held", "forums", "held_on", None),
        ("rehab_referrals", "rehab_referrals", "referred_on", None),
    ):
        cols = tables[table]
        recent = cols[date_col].astype(np.int64) >= since
        county = np.searchsorted(world.county_codes.astype(str), cols["county_code"].astype(str))
        values = cols[value_col] if value_col else np.ones(len(county))
        per_half = np.bincount(county[recent], weights=values[recent], minlength=world.n_counties)
        out[indicator] = np.maximum(per_half * 2.0 * 1.1, at_least)
    ras = tables["residents_associations"]
    active = ras["status"] != "suspended"
    county = np.searchsorted(world.county_codes.astype(str), ras["county_code"].astype(str))
    out["ras_active"] = np.bincount(county[active], minlength=world.n_counties) * 0.85
    return out


def _storage(table: Table, columns: Mapping[str, np.ndarray]) -> tuple[list[str], list[list]]:
    """Column names and values as plain Python lists in the schema's SQLite storage format."""
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
    names = [c.name for c in table.columns if c.name in columns]
    return names, [_to_python(table.c[name].type, columns[name]) for name in names]


def _to_python(sql_type: Any, values: np.ndarray) -> list:
    if values.dtype.kind == "M":
        null = np.isnat(values)
        if isinstance(sql_type, DateTime):
            return _with_nulls(_timestamp_text(values), null)
        if isinstance(sql_type, Date):
            return _with_nulls(np.datetime_as_string(values, unit="D").tolist(), null)
    if values.dtype.kind == "b":
        return values.astype(np.int64).tolist()
    if values.dtype.kind == "f":
        null = np.isnan(values)
        if isinstance(sql_type, Integer):
            return _with_nulls(np.where(null, 0, values).astype(np.int64).tolist(), null)
        if isinstance(sql_type, Float):
            return _with_nulls(values.tolist(), null)
    if values.dtype.kind in "iu" and isinstance(sql_type, Integer | Float):
        return values.astype(np.int64 if isinstance(sql_type, Integer) else float).tolist()
    if values.dtype.kind in "OUT":
        return values.tolist()
    raise TypeError(f"cannot store {values.dtype} as {sql_type}")


def _timestamp_text(values: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS' strings: the ISO text with its 'T' overwritten in place."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    if text.dtype.itemsize // 4 != 19:
        text = text.astype("U19")
    text.view(np.uint32).reshape(len(text), 19)[:, 10] = ord(" ")
    return text.tolist()


def _with_nulls(values: list, null: np.ndarray) -> list:
    for i in np.flatnonzero(null).tolist():
        values[i] = None
    return values


class _Writer:
    """Loads rows through the raw DBAPI connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.raw = engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            # Autocommit at the driver level: this class issues BEGIN and COMMIT itself.
            self.driver.isolation_level = None
            # A build is a one-off bulk load: durability of partial work is worthless.
            self.execute("PRAGMA journal_mode=OFF")
            self.execute("PRAGMA synchronous=OFF")
            self.execute("PRAGMA cache_size=-262144")

    def execute(self, sql: str) -> None:
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def begin(self) -> None:
        if self.sqlite:
            self.execute("BEGIN")

    def commit(self) -> None:
        if self.sqlite:
            self.execute("COMMIT")
        else:
            self.driver.commit()

    def reset_schema(self) -> None:
        """Drop the contract tables and create them again, without their indexes (made later)."""
        for table in reversed(schema.metadata.sorted_tables):
            self.execute(f"DROP TABLE IF EXISTS {table.name}")
        for table in schema.metadata.sorted_tables:
            self.execute(str(CreateTable(table).compile(dialect=self.dialect)))

    def create_indexes(self) -> None:
        for table in schema.metadata.sorted_tables:
            for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
                self.execute(str(CreateIndex(index).compile(dialect=self.dialect)))
        for statement in _EXTRA_INDEXES:
            self.execute(statement)

    def insert(self, table: Table, columns: Mapping[str, np.ndarray]) -> int:
        names, values = _storage(table, columns)
        rows = zip(*values, strict=True)
        cursor = self.driver.cursor()
        try:
            if self.sqlite:
                marks = ", ".join("?" * len(names))
                cursor.executemany(
                    f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows
                )
            else:
                with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()
        return len(values[0]) if values else 0

    def close(self) -> None:
        self.raw.close()


def build_demo(
    url: str,
    seed: int = DEFAULT_SEED,
    incidents: int = DEFAULT_INCIDENTS,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Create the contract schema at `url` (dropping its tables first) and fill it with demo data.

    Args:
        url: a SQLAlchemy URL (SQLite or PostgreSQL); the database must be writable.
        seed: the random seed; the same seed and `today` give identical rows.
        incidents: how many incidents to generate (planted edge cases included).
        today: the snapshot day (data end the day before); defaults to today in EAT.
        progress: called with (fraction done 0-1, message) as the build advances.

    Returns:
        Rows written per table, in contract order.

    Raises:
        ValueError: an argument is out of range.
        DataSourceError: the URL is unusable.
        DemoBuildError: the database refused the build.
        SQLAlchemyError: the database could not be reached.
    """
    today = today_eat() if today is None else today
    _check_arguments(seed, incidents, today)
    report = progress or (lambda _fraction, _message: None)
    report(0.0, "preparing geography")
    world = _make_world(seed, today)
    engine = make_engine(url, read_only=False)
    try:
        return _load(engine, world, incidents, report)
    finally:
        engine.dispose()


def _check_arguments(seed: int, incidents: int, today: dt.date) -> None:
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer, not {seed}")
    if not MIN_INCIDENTS <= incidents <= MAX_INCIDENTS:
        raise ValueError(f"incidents must be between {MIN_INCIDENTS:,} and {MAX_INCIDENTS:,}")
    if not MIN_TODAY <= today <= MAX_TODAY:
        raise ValueError(f"today must be between {MIN_TODAY} and {MAX_TODAY}, not {today}")


def _load(engine: Engine, world: _World, incidents: int, report: Progress) -> dict[str, int]:
    # The raw DBAPI connection raises the driver's own errors, which SQLAlchemy does not wrap.
    dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
    try:
        writer = _Writer(engine)
    except dbapi_error as exc:
        raise DemoBuildError(f"the database cannot be opened: {_first_line(exc)}") from exc
    try:
        return _fill(writer, world, incidents, report)
    except dbapi_error as exc:
        raise DemoBuildError(f"the database refused the build: {_first_line(exc)}") from exc
    finally:
        writer.close()


def _fill(writer: _Writer, world: _World, incidents: int, report: Progress) -> dict[str, int]:
    counts = {name: 0 for name in schema.CONTRACT_TABLES}
    writer.begin()
    writer.reset_schema()
    for i, (name, columns) in enumerate(_small_tables(world)):
        counts[name] = writer.insert(schema.metadata.tables[name], columns)
        report(0.08 * (i + 1) / len(counts), f"{name}: {counts[name]:,} rows")
    for columns in _incident_chunks(world, incidents):
        counts["incidents"] += writer.insert(schema.incidents, columns)
        report(
            0.08 + 0.8 * counts["incidents"] / incidents,
            f"incidents: {counts['incidents']:,} rows",
        )
    writer.commit()
    report(0.9, "creating indexes")
    writer.begin()
    writer.create_indexes()
    writer.execute("ANALYZE")
    writer.commit()
    report(1.0, "done")
    return counts


def _small_tables(world: _World) -> Iterator[tuple[str, Columns]]:
    """Every table but incidents, in an order that respects foreign keys and shared state."""
    tables: dict[str, Columns] = {}
    generators: tuple[tuple[str, Callable[[_World], Columns]], ...] = (
        ("counties", _gen_counties),
        ("wards", _gen_wards),
        ("residents_associations", _gen_residents_associations),
        ("forums", _gen_forums),
        ("ra_monthly_reports", _gen_ra_monthly_reports),
        ("trainings", _gen_trainings),
        ("security_firms", _gen_security_firms),
        ("rehab_centres", _gen_rehab_centres),
        ("rehab_referrals", _gen_rehab_referrals),
    )
    for name, generate in generators:
        tables[name] = generate(world)
        yield name, tables[name]
    yield "targets", _gen_targets(world, _yearly_expectations(tables, world))


def ensure_demo_database(
    path: Path,
    progress: Progress | None = None,
    *,
    seed: int = DEFAULT_SEED,
    incidents: int = DEFAULT_INCIDENTS,
    today: dt.date | None = None,
) -> None:
    """Build the demo SQLite database at `path` unless a file is already there.

    The build goes to a temporary file beside `path`, renamed into place only when complete, so
    a half-built file is never used, and a failed or interrupted build leaves nothing behind.

    Args:
        path: where the database file belongs; missing parent folders are created.
        progress: called with (fraction done 0-1, message) as the build advances.
        seed: as for `build_demo`.
        incidents: as for `build_demo`.
        today: as for `build_demo`.
    """
    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".building", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        build_demo(f"sqlite:///{temporary}", seed, incidents, today, progress)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m queries.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to (re)build")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    parser.add_argument(
        "--incidents",
        type=int,
        default=DEFAULT_INCIDENTS,
        help="incidents to generate (default 200000)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="snapshot day YYYY-MM-DD (default: today in EAT)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse_args(argv)
    began = time.perf_counter()

    def show(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {time.perf_counter() - began:6.1f}s {message}", flush=True)

    try:
        counts = build_demo(args.url, args.seed, args.incidents, args.today, show)
    except (ValueError, DataSourceError) as exc:
        print(f"python -m queries.demo: error: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, DemoBuildError) as exc:
        print(f"python -m queries.demo: error: {_first_line(exc)}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - began
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"{name:<{width}} {rows:>12,}")
    print(f"{'total':<{width}} {sum(counts.values()):>12,} rows in {seconds:.1f} s")
    return 0
