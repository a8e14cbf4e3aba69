"""Rehabilitation centres and the referrals to them."""

from __future__ import annotations

import datetime as dt

import numpy as np

from queries import schema
from queries.demo.edge_cases import SMALL_REFERRAL_CELLS, plant
from queries.demo.world import (
    PILOT_START,
    Columns,
    World,
    active_share,
    as_dates,
    as_labels,
    day_in_month,
    epoch_day,
    first_day,
    largest_remainder,
    loaded_at,
    month_of,
    pick,
    pick_by_group,
    random_stream,
)

CENTRE_TOTAL = 100
_CENTRE_KIND = np.array([0.45, 0.20, 0.35])  # community_based, public, private
_CENTRE_LABEL = ("Community Recovery Centre", "Rehabilitation Centre", "Wellness & Recovery Home")
_CENTRE_CAPACITY = np.array([[10, 40], [20, 120], [15, 80]])
_HEROIN_COUNTIES = ("001", "002", "003", "005", "047")
_KHAT_COUNTIES = ("007", "008", "009", "010", "011", "012", "013", "014", "047")


def gen_rehab_centres(world: World) -> Columns:
    """About CENTRE_TOTAL centres by population, more where heroin is common; kept in `world`."""
    rng = random_stream(world.seed, "rehab_centres")
    heroin = np.isin(world.county_codes, _HEROIN_COUNTIES)
    weights = world.population * (0.5 + world.urban) * np.where(heroin, 1.5, 1.0)
    county = np.repeat(np.arange(world.n_counties), largest_remainder(weights, CENTRE_TOTAL, 0))
    n = len(county)
    kind = pick(rng, _CENTRE_KIND, n)
    ward = world.sample_wards(rng, county)
    opened_early = epoch_day(dt.date(2008, 1, 1)) + rng.integers(0, 6000, n)
    opened_late = epoch_day(PILOT_START) + rng.integers(
        0, max(1, world.today_day - epoch_day(PILOT_START)), n
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
        "opened_on": as_dates(opened),
        "capacity": capacity,
        "kind": as_labels(schema.CENTRE_KINDS, kind),
        "updated_at": loaded_at(world, n),
    }


# Substances: alcohol, cannabis, khat, heroin, prescription, tobacco, multiple, other.
_SUBSTANCE = np.array([0.40, 0.28, 0.01, 0.01, 0.05, 0.05, 0.08, 0.02])
_SOURCE = np.array([0.12, 0.18, 0.15, 0.10, 0.08, 0.18, 0.07, 0.08, 0.04])
_SEX = np.array([0.20, 0.78, 0.02])
_AGE_BAND = np.array([0.04, 0.22, 0.30, 0.26, 0.13, 0.05])
_REFERRALS_PER_MONTH = 70.0  # for the largest county once onboarded


def gen_rehab_referrals(world: World) -> Columns:
    """Referrals by date, each with its funnel dates censored at the snapshot."""
    rng = random_stream(world.seed, "rehab_referrals")
    county, referred = _referral_days(world, rng)
    n = len(county)
    funnel, stage = _referral_funnel(world, rng, referred)
    substance = as_labels(schema.SUBSTANCES, pick_by_group(rng, _substance_probs(world), county))
    plant(
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
        "referred_on": as_dates(referred),
        "county_code": world.county_codes[county],
        "ward_code": world.ward_labels(ward),
        "centre_id": np.where(centre >= 0, centre + 1.0, np.nan),
        "source": as_labels(schema.REFERRAL_SOURCES, pick(rng, _SOURCE, n)),
        "substance": substance,
        "sex": as_labels(schema.SEXES, pick(rng, _SEX, n)),
        "age_band": as_labels(schema.AGE_BANDS, pick(rng, _AGE_BAND, n)),
        **funnel,
        "updated_at": loaded_at(world, n),
    }


def _referral_days(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(county, referred_on) sorted by date, with SMALL_REFERRAL_CELLS given exact counts."""
    this_month = month_of(np.array([world.today_day]))[0]
    first = month_of(np.array([world.start_day]))[0]
    months = np.arange(first, this_month + 1)
    scale = world.population * (0.3 + world.urban)
    base = 0.4 + _REFERRALS_PER_MONTH * scale / scale.max()
    since = first_day(months)[:, None] - world.prog_start[None, :]
    level = np.where(since < 0, 0.08, np.minimum(1.0, (since + 30) / 90.0))
    share = active_share(world, months, np.full(len(months), world.start_day))
    counts = rng.poisson(base[None, :] * level * share[:, None])
    for (code, back), count in SMALL_REFERRAL_CELLS.items():
        counts[this_month - back - first, world.county_index(code)] = count
    month_idx, county = np.nonzero(counts)
    times = counts[month_idx, county]
    county, month = np.repeat(county, times), np.repeat(months[month_idx], times)
    referred = day_in_month(world, rng, month, np.full(len(month), world.start_day))
    keep = ~world.silenced(county, referred)
    order = np.lexsort((county[keep], referred[keep]))
    return county[keep][order], referred[keep][order]


def _substance_probs(world: World) -> np.ndarray:
    probs = np.tile(_SUBSTANCE, (world.n_counties, 1))
    probs[np.isin(world.county_codes, _KHAT_COUNTIES), 2] = 0.15
    probs[np.isin(world.county_codes, _HEROIN_COUNTIES), 3] = 0.10
    return probs


def _referral_centres(world: World, rng: np.random.Generator, county: np.ndarray) -> np.ndarray:
    """A centre in the county when it has one, else any centre, by capacity."""
    centre = np.full(len(county), -1)
    national = world.centre_capacity / world.centre_capacity.sum()
    for c in np.unique(county):
        rows = np.flatnonzero(county == c)
        local = np.flatnonzero(world.centre_county == c)
        if len(local):
            centre[rows] = local[rng.integers(0, len(local), len(rows))]
        else:
            centre[rows] = pick(rng, national, len(rows))
    return centre


def _referral_funnel(
    world: World, rng: np.random.Generator, referred: np.ndarray
) -> tuple[Columns, np.ndarray]:
    """status, assessed_on, admitted_on, completed_on (ordered dates, censored at the snapshot),
    and the status index of each row."""
    n = len(referred)
    assessed = referred + np.round(rng.exponential(5, n)).astype(np.int64)
    admitted = assessed + 1 + np.round(rng.exponential(7, n)).astype(np.int64)
    completed = admitted + rng.integers(30, 91, n)
    dropped = admitted + rng.integers(5, 50, n)
    # Eventual path: 0 never assessed, 1 declined, 2 assessed only, 3 completes, 4 drops out.
    path = pick(rng, [0.08, 0.12, 0.08, 0.50, 0.22], n)
    today = world.today_day
    stage = np.where(path == 0, 0, np.where(assessed < today, 1, 0))  # 0 referred, 1 assessed
    stage = np.where((stage == 1) & (path >= 3) & (admitted < today), 2, stage)  # admitted
    stage = np.where((stage == 2) & (path == 3) & (completed < today), 3, stage)
    stage = np.where((stage == 2) & (path == 4) & (dropped < today), 4, stage)
    stage = np.where((stage == 1) & (path == 1), 5, stage)
    columns = {
        "status": as_labels(schema.REFERRAL_STATUSES, stage),
        "assessed_on": as_dates(assessed, null=stage == 0),
        "admitted_on": as_dates(admitted, null=~np.isin(stage, (2, 3, 4))),
        "completed_on": as_dates(completed, null=stage != 3),
    }
    return columns, stage
