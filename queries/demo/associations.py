"""Residents associations: the RAs themselves, their forums and their monthly reports."""

from __future__ import annotations

import numpy as np

from queries import schema
from queries.demo.edge_cases import plant
from queries.demo.world import (
    Columns,
    World,
    active_share,
    as_dates,
    as_labels,
    day_in_month,
    first_day,
    largest_remainder,
    loaded_at,
    month_of,
    month_slots,
    pick,
    random_stream,
)

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


def gen_residents_associations(world: World) -> Columns:
    """About RA_TOTAL RAs, mostly in urban onboarded counties; records them in `world`."""
    rng = random_stream(world.seed, "residents_associations")
    weights = world.population * world.urban * np.where(world.onboarded, 1.0, 0.08)
    minimum = np.where(world.onboarded, 3, 0)
    per_county = largest_remainder(weights, RA_TOTAL, minimum)
    county = np.repeat(np.arange(world.n_counties), per_county)
    n = len(county)
    ward = world.sample_wards(rng, county)
    ward[rng.random(n) < 0.02] = -1
    registered = _ra_registration_days(world, rng, county)
    status = pick(rng, [0.82, 0.13, 0.05], n)
    urban = world.urban[county][:, None]
    settlement = pick(rng, urban * _SETTLEMENT_URBAN + (1 - urban) * _SETTLEMENT_RURAL)
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
        "settlement_type": as_labels(schema.SETTLEMENT_TYPES, settlement),
        "registered_on": as_dates(registered),
        "status": as_labels(schema.RA_STATUSES, status),
        "members": members,
        "updated_at": loaded_at(world, n),
    }


def _ra_registration_days(world: World, rng: np.random.Generator, county: np.ndarray) -> np.ndarray:
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
    world: World, rng: np.random.Generator, county: np.ndarray, ward: np.ndarray
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


def gen_forums(world: World) -> Columns:
    """RA meetings and county barazas, from each one's start, ordered by date."""
    rng = random_stream(world.seed, "forums")
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
    kind = np.where(is_ra, pick(rng, _RA_FORUM_TYPES, n), pick(rng, _BARAZA_FORUM_TYPES, n)).astype(
        np.int64
    )
    ward = np.where(is_ra, world.ra_ward[np.maximum(ra, 0)], world.sample_wards(rng, county))
    maturity = np.minimum(1.0, (held - world.prog_start[county]) / 180.0)
    police = rng.random(n) < _FORUM_POLICE[kind] * (0.6 + 0.4 * maturity)
    ngao = rng.random(n) < _FORUM_NGAO[kind]
    private = rng.random(n) < np.where(kind == 2, 0.6, 0.25) * (0.5 + 0.5 * maturity)
    attendance = _forum_attendance(world, rng, kind, ra)
    actions = np.minimum(rng.poisson(1.2 + 1.3 * np.isin(kind, (1, 2)), n), 12)
    forum_type = as_labels(schema.FORUM_TYPES, kind)
    plant(
        forum_type,
        ("forums", "forum_type"),
        np.flatnonzero(~is_ra & (world.county_codes[county] == "047")),
    )
    return {
        "id": np.arange(1, n + 1),
        "ra_id": np.where(is_ra, ra + 1.0, np.nan),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "held_on": as_dates(held),
        "forum_type": forum_type,
        "attendance": attendance,
        "police_present": police,
        "ngao_present": ngao,
        "private_security_present": private,
        "actions_agreed": actions,
        "updated_at": loaded_at(world, n),
    }


def _ra_forum_slots(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    start = np.maximum(world.prog_start[world.ra_county], world.ra_registered)
    first, last = month_of(start), np.full(len(start), month_of(np.array([world.today_day]))[0])
    owner, month = month_slots(first, last)
    rate = _RA_FORUMS_PER_MONTH[world.ra_status[owner]] * active_share(world, month, start[owner])
    times = rng.poisson(rate)
    owner, month = np.repeat(owner, times), np.repeat(month, times)
    held = day_in_month(world, rng, month, start[owner])
    # RA meetings favour Saturdays: move about half of them to that week's Saturday if possible.
    saturday = held + (5 - (held + 3) % 7) % 7
    move = (rng.random(len(held)) < 0.5) & (
        saturday < np.minimum(first_day(month + 1), world.today_day)
    )
    return owner, np.where(move, saturday, held)


def _baraza_slots(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """County-level forums without an RA (chiefs' barazas...), after the county's start."""
    onboarded = np.flatnonzero(world.onboarded)
    this_month = month_of(np.array([world.today_day]))[0]
    owner, month = month_slots(
        month_of(world.prog_start[onboarded]), np.full(len(onboarded), this_month)
    )
    county = onboarded[owner]
    rate = 1.0 + 5.0 * world.population[county] / world.population.max()
    times = rng.poisson(rate * active_share(world, month, world.prog_start[county]))
    county, month = np.repeat(county, times), np.repeat(month, times)
    return county, day_in_month(world, rng, month, world.prog_start[county])


def _forum_attendance(
    world: World, rng: np.random.Generator, kind: np.ndarray, ra: np.ndarray
) -> np.ndarray:
    median = _FORUM_ATTENDANCE[kind]
    members = world.ra_members[np.maximum(ra, 0)]
    median = np.where((ra >= 0) & (kind == 0), np.maximum(8.0, 0.3 * members), median)
    return np.clip(np.round(rng.lognormal(np.log(median), 0.45)), 5, 1500).astype(np.int64)


def gen_ra_monthly_reports(world: World) -> Columns:
    """One row per expected report (active and dormant RAs), some late, some never submitted."""
    rng = random_stream(world.seed, "ra_monthly_reports")
    expected = np.flatnonzero(world.ra_status < 2)  # active or dormant
    first = month_of(world.ra_registered[expected]) + 1
    last = np.full(len(first), month_of(np.array([world.today_day]))[0] - 1)
    owner, month = month_slots(first, last)
    ra = expected[owner]
    county = world.ra_county[ra]
    after_start = first_day(month) >= world.prog_start[county]
    p_submit = np.where(world.ra_status[ra] == 0, np.where(after_start, 0.88, 0.4), 0.12)
    submitted = rng.random(len(ra)) < p_submit
    late = rng.random(len(ra)) < 0.14
    delay = np.where(
        late, 10 + np.round(rng.exponential(12, len(ra))), rng.integers(0, 10, len(ra))
    )
    day = first_day(month + 1) + delay.astype(np.int64)
    missing = ~submitted | (day >= world.today_day) | world.silenced(county, day)
    return {
        "ra_id": ra + 1,
        "month": as_dates(first_day(month)),
        "submitted_on": as_dates(day, null=missing),
        "updated_at": loaded_at(world, len(ra)),
    }
