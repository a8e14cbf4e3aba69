"""What every generator shares: the rollout calendar, the geography, random streams and helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from queries import geography
from queries.demo.edge_cases import NO_ACTIVITY_COUNTY

Columns = dict[str, np.ndarray]  # one table's rows as column arrays (NaN/NaT/None = NULL)

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

EAT = dt.timezone(dt.timedelta(hours=3), "EAT")
EAT_SECONDS = 3 * 3600
DAY_SECONDS = 86_400
_EPOCH = dt.date(1970, 1, 1)

# Each number is part of its table's seed: renumbering a stream would change that table's rows.
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
    return dt.datetime.combine(today, dt.time()) - dt.timedelta(seconds=EAT_SECONDS)


def epoch_day(day: dt.date) -> int:
    """Days since 1970-01-01: the generators' day unit."""
    return (day - _EPOCH).days


def epoch_seconds(moment: dt.datetime) -> int:
    """Seconds since 1970-01-01 00:00 of a naive UTC datetime: the generators' time unit."""
    return epoch_day(moment.date()) * DAY_SECONDS + int(
        (moment - dt.datetime.combine(moment.date(), dt.time())).total_seconds()
    )


def month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of epoch days."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def first_day(months: np.ndarray) -> np.ndarray:
    """The epoch day of the first day of months counted since 1970-01."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def as_dates(days: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """A DATE column from epoch days, NULL (NaT) where `null` is set."""
    out = days.astype("datetime64[D]")
    if null is not None:
        out[null] = np.datetime64("NaT")
    return out


def as_timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """A TIMESTAMP column from epoch seconds, NULL (NaT) where `null` is set."""
    out = seconds.astype("datetime64[s]")
    if null is not None:
        out[null] = np.datetime64("NaT")
    return out


def random_stream(seed: int, stream: str, chunk: int = 0) -> np.random.Generator:
    """The random generator of one table (and one block of it), independent of all the others."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAMS[stream], chunk)))


def pick(rng: np.random.Generator, probs: np.ndarray, size: int | None = None) -> np.ndarray:
    """Category indices: from one probability vector (`size` draws) or one row per draw (2-D)."""
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        cum = np.cumsum(probs / probs.sum())
        return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    draws = (rng.random(len(probs))[:, None] >= cum).sum(axis=1)
    return np.minimum(draws, probs.shape[1] - 1)


def pick_by_group(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Category indices, each drawn from the probability row `table[group]` of its row."""
    k = table.shape[1]
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    # Row g's cumulative probabilities shifted by g make one sorted axis to search at once.
    flat = (cum + np.arange(len(table))[:, None]).ravel()
    found = np.searchsorted(flat, group + rng.random(len(group)), side="right")
    return np.minimum(found - group * k, k - 1)


def as_labels(
    values: tuple[str, ...], index: np.ndarray, null: np.ndarray | None = None
) -> np.ndarray:
    """A text column: `values[index]` per row, NULL (None) where `null` is set."""
    out = np.array(values, dtype=object)[index]
    if null is not None:
        out[null] = None
    return out


def largest_remainder(weights: np.ndarray, total: int, minimum: np.ndarray) -> np.ndarray:
    """Integer counts summing to about `total`, proportional to weights, at least `minimum`."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return np.maximum(counts, minimum)


@dataclass
class World:
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


def make_world(seed: int, today: dt.date) -> World:
    """The calendar and geography; the RA and centre generators fill in the rest as they run."""
    rng = random_stream(seed, "world")
    counties = geography.counties_frame()
    wards = geography.wards_frame()
    codes = counties["code"].to_numpy(dtype=object)
    starts = programme_starts(today)
    prog_start = np.array([epoch_day(starts[c]) if c in starts else 10**7 for c in codes])
    latest_complete = dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
    county_pos = {code: i for i, code in enumerate(codes)}
    ward_county = wards["county_code"].map(county_pos).to_numpy(dtype=np.int64)
    order = np.argsort(ward_county, kind="stable")
    weights = rng.gamma(1.5, 1.0, len(wards))
    cum = np.cumsum(weights[order])
    county_weight = np.bincount(ward_county, weights=weights, minlength=len(codes))
    return World(
        seed=seed,
        today=today,
        today_day=epoch_day(today),
        as_of=epoch_seconds(snapshot_utc(today)),
        start_day=epoch_day(data_start(today)),
        silence_day=epoch_day(latest_complete.replace(day=1)),
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


def gen_counties(world: World) -> Columns:
    """The counties table: census figures and each county's programme start."""
    frame = geography.counties_frame()
    start = as_dates(world.prog_start, null=~world.onboarded)
    return {
        "code": world.county_codes,
        "name": world.county_names,
        "population": world.population,
        "area_km2": frame["area_km2"].to_numpy(dtype=float),
        "latitude": frame["latitude"].to_numpy(dtype=float),
        "longitude": frame["longitude"].to_numpy(dtype=float),
        "programme_start": start,
        "updated_at": loaded_at(world, len(start)),
    }


def gen_wards(world: World) -> Columns:
    """The wards table, as the geography package gives them."""
    frame = geography.wards_frame()
    return {
        "code": world.ward_codes,
        "name": world.ward_names,
        "county_code": world.county_codes[world.ward_county],
        "constituency": frame["constituency"].to_numpy(dtype=object),
        "latitude": world.ward_lat,
        "longitude": world.ward_lon,
        "updated_at": loaded_at(world, len(frame)),
    }


def loaded_at(world: World, rows: int) -> np.ndarray:
    """updated_at of a full reload: every row was written at the snapshot."""
    return as_timestamps(np.full(rows, world.as_of, dtype=np.int64))


def month_slots(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, month) for every month first..last of every owner."""
    count = np.maximum(last - first + 1, 0)
    owner = np.repeat(np.arange(len(first)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return owner, first[owner] + offset


def active_share(world: World, month: np.ndarray, earliest: np.ndarray) -> np.ndarray:
    """The share of each month that lies between `earliest` and the snapshot (0-1)."""
    lo = np.maximum(first_day(month), earliest)
    hi = np.minimum(first_day(month + 1), world.today_day)
    return np.clip((hi - lo) / (first_day(month + 1) - first_day(month)), 0.0, 1.0)


def day_in_month(
    world: World, rng: np.random.Generator, month: np.ndarray, earliest: np.ndarray
) -> np.ndarray:
    """A uniform day of the month, no earlier than `earliest` and before the snapshot."""
    lo = np.maximum(first_day(month), earliest)
    hi = np.minimum(first_day(month + 1), world.today_day)
    return lo + (rng.random(len(month)) * np.maximum(hi - lo, 1)).astype(np.int64)
