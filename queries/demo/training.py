"""Trainings, private-security firms and the annual targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from queries import schema
from queries.demo.world import (
    Columns,
    World,
    active_share,
    as_dates,
    as_labels,
    day_in_month,
    epoch_day,
    largest_remainder,
    loaded_at,
    month_of,
    month_slots,
    pick,
    pick_by_group,
    random_stream,
)

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


def gen_trainings(world: World) -> Columns:
    """Training sessions in onboarded counties, growing over their first months, by date."""
    rng = random_stream(world.seed, "trainings")
    onboarded = np.flatnonzero(world.onboarded)
    this_month = month_of(np.array([world.today_day]))[0]
    first = month_of(world.prog_start[onboarded])
    owner, month = month_slots(first, np.full(len(onboarded), this_month))
    county = onboarded[owner]
    scale = world.population[county] * (0.3 + world.urban[county])
    rate = (2.0 + 30.0 * scale / scale.max()) * np.minimum(1.0, (month - first[owner] + 1) / 3.0)
    times = rng.poisson(rate * active_share(world, month, world.prog_start[county]))
    county, month = np.repeat(county, times), np.repeat(month, times)
    held = day_in_month(world, rng, month, world.prog_start[county])
    # Few sessions run on Sundays: redraw those once.
    again = day_in_month(world, rng, month, world.prog_start[county])
    held = np.where((held + 3) % 7 == 6, again, held)
    keep = ~world.silenced(county, held)
    order = np.lexsort((county[keep], held[keep]))
    county, held = county[keep][order], held[keep][order]
    return _training_rows(world, rng, county, held)


def _training_rows(
    world: World, rng: np.random.Generator, county: np.ndarray, held: np.ndarray
) -> Columns:
    n = len(county)
    audience = pick(rng, _AUDIENCE, n)
    topic = pick_by_group(rng, _TOPIC, audience)
    # NACADA leads drug-abuse sessions whoever the audience: its row is appended as group 7.
    partners = np.vstack([_PARTNER, _NACADA_LED])
    partner = pick_by_group(rng, partners, np.where(topic == 1, len(_PARTNER), audience))
    size = rng.lognormal(np.log(_AUDIENCE_SIZE[audience]), 0.45)
    participants = np.clip(np.round(size), 10, 120).astype(np.int64)
    ward = world.sample_wards(rng, county)
    ward[rng.random(n) < 0.15] = -1
    return {
        "id": np.arange(1, n + 1),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "held_on": as_dates(held),
        "topic": as_labels(schema.TRAINING_TOPICS, topic),
        "audience": as_labels(schema.TRAINING_AUDIENCES, audience),
        "partner": as_labels(schema.TRAINING_PARTNERS, partner),
        "participants": participants,
        "participants_female": rng.binomial(participants, _AUDIENCE_FEMALE[audience]),
        "participants_youth": rng.binomial(participants, _AUDIENCE_YOUTH[audience]),
        "certified": rng.binomial(participants, _CERTIFIED_BY_TOPIC[topic]),
        "updated_at": loaded_at(world, n),
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


def gen_security_firms(world: World) -> Columns:
    """FIRM_TOTAL firms sharing the guards; some partner the programme once their county starts."""
    rng = random_stream(world.seed, "security_firms")
    weights = world.population * world.urban**1.2
    per_county = largest_remainder(weights, FIRM_TOTAL, np.ones(world.n_counties, np.int64))
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
        "partnered_on": as_dates(partner_day, null=~partner),
        "updated_at": loaded_at(world, n),
    }


# Targets are set from FY 2025/26, the programme's first, at least through FY 2026/27.
FINANCIAL_YEARS = (
    (dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
    (dt.date(2026, 7, 1), dt.date(2027, 6, 30)),
)


def financial_years(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The financial years with targets: FINANCIAL_YEARS, then every later year up to the one
    that contains `today`, so a demo built on any day has targets for its current year."""
    years = list(FINANCIAL_YEARS)
    while years[-1][1] < today:
        start = years[-1][1] + dt.timedelta(days=1)
        years.append((start, dt.date(start.year + 1, 6, 30)))
    return years


_RATE_TARGETS = {
    "incidents_resolved_pct": 70.0,
    "ra_reporting_rate": 80.0,
    "joint_forum_pct": 35.0,
    "private_security_coverage_pct": 10.0,
}


def gen_targets(world: World, counts: Mapping[str, np.ndarray]) -> Columns:
    """Annual targets per onboarded county, pro rata for counties starting mid-year.

    Args:
        world: the shared state.
        counts: per-county yearly expectations for the count indicators.
    """
    rng = random_stream(world.seed, "targets")
    rows: list[tuple[str, str, dt.date, dt.date, float]] = []
    for c in np.flatnonzero(world.onboarded):
        for fy_start, fy_end in financial_years(world.today):
            begin = max(int(world.prog_start[c]), epoch_day(fy_start))
            share = (epoch_day(fy_end) + 1 - begin) / 365.0
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


def yearly_expectations(tables: Mapping[str, Columns], world: World) -> dict[str, np.ndarray]:
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
