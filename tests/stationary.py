"""A contract database whose processes do not change over time, seen at an as-of moment.

A helper module, not a test file: pytest collects nothing here. `stationary_rows(seed, as_of)`
returns every table's rows (table -> list of row dicts, ready for `tests.rows.insert_rows`);
`insert_stationary` writes them; `raw_frames` gives the same rows as pandas frames for the
tests' own computations.

Every rate, share and delay distribution below is constant over the whole history, so any change
a like-for-like comparison shows between two periods is chance. The one thing that is not
constant is how long each case has had to reach its outcome: the data are right-censored at the
as-of moment, 00:00 EAT on `as_of + 1 day` (21:00 UTC on `as_of`). An event whose time falls
after that moment has not happened yet: its timestamp is NULL and the status stays at the
earlier stage. Timestamps are naive UTC, in whole seconds; dates are EAT dates.

The processes (per county unless said otherwise):
- incidents: Poisson(INCIDENTS_PER_DAY) reports a day, reported_at uniform over the EAT day;
  acknowledged after a lognormal delay (median 6 h, sigma 1); 70% resolved a lognormal delay
  after acknowledgement (median 3 days, sigma 1.2: a heavy tail), the other 30% dismissed
  a lognormal delay after it (median 14 days), so the backlog of open incidents is stationary
  too. Until it closes an acknowledged incident is 'acknowledged' or 'actioned' (even odds).
- rehab_referrals: Poisson(REFERRALS_PER_DAY) a day; the eventual path is never assessed 10%,
  declined 15%, assessed only 15%, admitted 60% (of which 65% complete, 35% drop out); delays in
  whole days: assessment lognormal median 3, admission lognormal median 10 (sigma 0.7),
  completion median 60, dropping out median 30 (tails long enough that some of every period's
  admitted are still in treatment, so no funnel cell is small). A stage whose date is after
  as_of has not happened.
- residents_associations: RAS_PER_COUNTY, registered in 2023-2024 (long before the history),
  all active; ra_monthly_reports: one row per RA and month from the month after registration
  to the as-of month, submitted with probability 0.85 on a day uniform over the 1st-20th of the
  next month (so 42.5% on time, by the 10th), NULL while that day is after as_of.
- forums: Poisson(FORUMS_PER_DAY) a day at a random RA of the county; police, NGAO and private
  security present independently with fixed probabilities.
- trainings: Poisson(TRAININGS_PER_DAY) sessions a day, 5 + Poisson(25) participants, female,
  youth and certified each binomial per participant with fixed shares.
- security_firms: FIRMS_PER_COUNTY, partnered in 2024.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from tests.rows import insert_rows

SEED = 1  # checked by tests/test_stationarity.py: no like-for-like change reaches |z| 2
AS_OF = dt.date(2026, 11, 27)
HISTORY_DAYS = 420  # the history ends on as_of
PROGRAMME_START = dt.date(2025, 6, 8)

# code, name, 2019 census population, area km2, centroid latitude, longitude
COUNTIES: tuple[tuple[str, str, int, float, float, float], ...] = (
    ("001", "Mombasa", 1_208_333, 212.5, -3.990448, 39.701130),
    ("032", "Nakuru", 2_162_202, 7_509.5, -0.458448, 36.100384),
    ("047", "Nairobi", 4_397_073, 694.9, -1.300489, 36.827926),
)
INCIDENTS_PER_DAY = {"001": 15.0, "032": 18.0, "047": 25.0}
REFERRALS_PER_DAY = 1.2
FORUMS_PER_DAY = 2.0
TRAININGS_PER_DAY = 0.5
RAS_PER_COUNTY = 10
FIRMS_PER_COUNTY = 3

HOUR = 3600
DAY = 86_400
EAT_OFFSET_SECONDS = 3 * HOUR

# Incidents: delays in seconds (lognormal: median, sigma of the log).
ACK_MEDIAN, ACK_SIGMA = 6 * HOUR, 1.0
RESOLVED_SHARE = 0.70
RESOLVE_MEDIAN, RESOLVE_SIGMA = 3 * DAY, 1.2
DISMISS_MEDIAN, DISMISS_SIGMA = 14 * DAY, 0.8

# Rehab referrals: eventual paths and delays in days.
PATHS = ("never_assessed", "declined", "assessed_only", "completes", "drops_out")
PATH_SHARES = (0.10, 0.15, 0.15, 0.60 * 0.65, 0.60 * 0.35)
ASSESS_MEDIAN, ASSESS_SIGMA = 3.0, 0.6
ADMIT_MEDIAN, ADMIT_SIGMA = 10.0, 0.7
COMPLETE_MEDIAN, COMPLETE_SIGMA = 60.0, 0.6
DROP_MEDIAN, DROP_SIGMA = 30.0, 0.8
SOURCES = ("family", "residents_association", "police", "faith_institution")
SOURCE_SHARES = (0.35, 0.25, 0.25, 0.15)
SUBSTANCES = ("alcohol", "cannabis", "khat", "multiple")
SUBSTANCE_SHARES = (0.40, 0.30, 0.15, 0.15)
SEX_SHARES = {"male": 0.70, "female": 0.30}
AGE_BANDS = ("15_19", "20_24", "25_34", "35_49")
AGE_SHARES = (0.25, 0.30, 0.20, 0.25)

# RA monthly reports.
REPORT_SUBMITTED_SHARE = 0.85
REPORT_LAST_DAY = 20  # submitted on a day uniform over the 1st..20th of the next month

# Forums and trainings.
POLICE_SHARE, NGAO_SHARE, PRIVATE_SECURITY_SHARE = 0.6, 0.5, 0.3
FEMALE_SHARE, YOUTH_SHARE, CERTIFIED_SHARE = 0.45, 0.55, 0.70
PRIVATE_SECURITY_AUDIENCE_SHARE = 0.10

_EPOCH = dt.date(1970, 1, 1)

Rows = dict[str, list[dict[str, Any]]]


def as_of_moment(as_of: dt.date) -> dt.datetime:
    """The censoring moment: 00:00 EAT on the day after as_of, as naive UTC."""
    return dt.datetime.combine(as_of, dt.time(21, 0))


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _date(day_number: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day_number))


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def _days(rng: np.random.Generator, first: int, last: int, per_day: float) -> np.ndarray:
    """The day number of each event of a Poisson process with a constant daily rate."""
    counts = rng.poisson(per_day, last - first + 1)
    return np.repeat(np.arange(first, last + 1), counts)


def stationary_rows(seed: int = SEED, as_of: dt.date = AS_OF) -> Rows:
    """Every table's rows of the stationary world, censored at the end of as_of (EAT)."""
    rng = np.random.default_rng(seed)
    last = _day_number(as_of)
    first = last - HISTORY_DAYS + 1
    rows: Rows = {
        "counties": [
            dict(
                code=code,
                name=name,
                population=population,
                area_km2=area,
                latitude=lat,
                longitude=lon,
                programme_start=PROGRAMME_START,
            )
            for code, name, population, area, lat, lon in COUNTIES
        ],
    }
    codes = [county[0] for county in COUNTIES]
    ras = _residents_associations(rng, codes)
    rows["residents_associations"] = ras
    rows["ra_monthly_reports"] = _monthly_reports(rng, ras, as_of)
    rows["forums"] = _forums(rng, codes, ras, first, last)
    rows["incidents"] = _incidents(rng, codes, first, last)
    rows["trainings"] = _trainings(rng, codes, first, last)
    rows["security_firms"] = [
        dict(
            id=index + 1,
            name=f"Firm {index + 1}",
            county_code=code,
            officers_registered=int(rng.integers(400, 1500)),
            partnered_on=dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300))),
        )
        for index, code in enumerate(c for c in codes for _ in range(FIRMS_PER_COUNTY))
    ]
    rows["rehab_referrals"] = _referrals(rng, codes, first, last)
    return rows


def _residents_associations(rng: np.random.Generator, codes: list[str]) -> list[dict[str, Any]]:
    out = []
    for index, code in enumerate(c for c in codes for _ in range(RAS_PER_COUNTY)):
        registered = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 730)))
        out.append(
            dict(
                id=index + 1,
                name=f"RA {index + 1}",
                county_code=code,
                registered_on=registered,
                status="active",
                members=int(rng.integers(50, 400)),
            )
        )
    return out


def _month_after(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _monthly_reports(
    rng: np.random.Generator, ras: list[dict[str, Any]], as_of: dt.date
) -> list[dict[str, Any]]:
    last_month = as_of.replace(day=1)
    out = []
    for ra in ras:
        month = _month_after(ra["registered_on"].replace(day=1))
        while month <= last_month:
            submitted = None
            due_month = _month_after(month)
            day = int(rng.integers(1, REPORT_LAST_DAY + 1))
            if rng.random() < REPORT_SUBMITTED_SHARE and due_month.replace(day=day) <= as_of:
                submitted = due_month.replace(day=day)
            out.append(dict(ra_id=ra["id"], month=month, submitted_on=submitted))
            month = due_month
    return out


def _forums(
    rng: np.random.Generator, codes: list[str], ras: list[dict[str, Any]], first: int, last: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code in codes:
        local = [ra["id"] for ra in ras if ra["county_code"] == code]
        days = _days(rng, first, last, FORUMS_PER_DAY)
        n = len(days)
        ra_ids = rng.choice(local, n)
        attendance = 10 + rng.poisson(30, n)
        police = rng.random(n) < POLICE_SHARE
        ngao = rng.random(n) < NGAO_SHARE
        private = rng.random(n) < PRIVATE_SECURITY_SHARE
        for i in range(n):
            out.append(
                dict(
                    id=len(out) + 1,
                    ra_id=int(ra_ids[i]),
                    county_code=code,
                    held_on=_date(days[i]),
                    forum_type="ra_meeting",
                    attendance=int(attendance[i]),
                    police_present=bool(police[i]),
                    ngao_present=bool(ngao[i]),
                    private_security_present=bool(private[i]),
                    actions_agreed=0,
                )
            )
    return out


def _incidents(
    rng: np.random.Generator, codes: list[str], first: int, last: int
) -> list[dict[str, Any]]:
    censor = (last + 1) * DAY - EAT_OFFSET_SECONDS  # 00:00 EAT after as_of, in UTC seconds
    out: list[dict[str, Any]] = []
    for code in codes:
        days = _days(rng, first, last, INCIDENTS_PER_DAY[code])
        n = len(days)
        reported = days * DAY - EAT_OFFSET_SECONDS + rng.integers(0, DAY, n)
        acknowledged = reported + np.ceil(_lognormal(rng, ACK_MEDIAN, ACK_SIGMA, n)).astype(int)
        resolves = rng.random(n) < RESOLVED_SHARE
        closed = acknowledged + np.ceil(
            np.where(
                resolves,
                _lognormal(rng, RESOLVE_MEDIAN, RESOLVE_SIGMA, n),
                _lognormal(rng, DISMISS_MEDIAN, DISMISS_SIGMA, n),
            )
        ).astype(int)
        actioned = rng.random(n) < 0.5
        for i in range(n):
            known_ack = acknowledged[i] < censor
            known_close = closed[i] < censor
            if known_close:
                status = "resolved" if resolves[i] else "dismissed"
            elif known_ack:
                status = "actioned" if actioned[i] else "acknowledged"
            else:
                status = "reported"
            out.append(
                dict(
                    id=len(out) + 1,
                    county_code=code,
                    reported_at=_utc(reported[i]),
                    status=status,
                    acknowledged_at=_utc(acknowledged[i]) if known_ack else None,
                    resolved_at=_utc(closed[i]) if status == "resolved" else None,
                )
            )
    return out


def _trainings(
    rng: np.random.Generator, codes: list[str], first: int, last: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code in codes:
        days = _days(rng, first, last, TRAININGS_PER_DAY)
        n = len(days)
        participants = 5 + rng.poisson(25, n)
        female = rng.binomial(participants, FEMALE_SHARE)
        youth = rng.binomial(participants, YOUTH_SHARE)
        certified = rng.binomial(participants, CERTIFIED_SHARE)
        private = rng.random(n) < PRIVATE_SECURITY_AUDIENCE_SHARE
        for i in range(n):
            out.append(
                dict(
                    id=len(out) + 1,
                    county_code=code,
                    held_on=_date(days[i]),
                    audience="private_security" if private[i] else "residents",
                    participants=int(participants[i]),
                    participants_female=int(female[i]),
                    participants_youth=int(youth[i]),
                    certified=int(certified[i]),
                )
            )
    return out


def _whole_days(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.round(_lognormal(rng, median, sigma, n)).astype(int)


def _referrals(
    rng: np.random.Generator, codes: list[str], first: int, last: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code in codes:
        referred = _days(rng, first, last, REFERRALS_PER_DAY)
        n = len(referred)
        path = rng.choice(len(PATHS), n, p=PATH_SHARES)
        admitted = referred + _whole_days(rng, ADMIT_MEDIAN, ADMIT_SIGMA, n)
        assessed = np.minimum(referred + _whole_days(rng, ASSESS_MEDIAN, ASSESS_SIGMA, n), admitted)
        completed = admitted + _whole_days(rng, COMPLETE_MEDIAN, COMPLETE_SIGMA, n)
        dropped = admitted + _whole_days(rng, DROP_MEDIAN, DROP_SIGMA, n)
        source = rng.choice(SOURCES, n, p=SOURCE_SHARES)
        substance = rng.choice(SUBSTANCES, n, p=SUBSTANCE_SHARES)
        sex = rng.choice(list(SEX_SHARES), n, p=list(SEX_SHARES.values()))
        age = rng.choice(AGE_BANDS, n, p=AGE_SHARES)
        for i in range(n):
            eventual = PATHS[path[i]]
            was_assessed = eventual != "never_assessed" and assessed[i] <= last
            was_admitted = eventual in ("completes", "drops_out") and admitted[i] <= last
            status = "assessed" if was_assessed else "referred"
            if was_assessed and eventual == "declined":
                status = "declined"
            if was_admitted:
                status = "admitted"
                if eventual == "completes" and completed[i] <= last:
                    status = "completed"
                if eventual == "drops_out" and dropped[i] <= last:
                    status = "dropped_out"
            out.append(
                dict(
                    id=len(out) + 1,
                    referred_on=_date(referred[i]),
                    county_code=code,
                    source=str(source[i]),
                    substance=str(substance[i]),
                    sex=str(sex[i]),
                    age_band=str(age[i]),
                    status=status,
                    assessed_on=_date(assessed[i]) if was_assessed else None,
                    admitted_on=_date(admitted[i]) if was_admitted else None,
                    completed_on=_date(completed[i]) if status == "completed" else None,
                )
            )
    return out


# Parents before children, for the foreign keys.
TABLE_ORDER = (
    "counties",
    "residents_associations",
    "ra_monthly_reports",
    "forums",
    "incidents",
    "trainings",
    "security_firms",
    "rehab_referrals",
)


def insert_stationary(engine: Engine, rows: Rows) -> None:
    """Write the stationary world's rows into an empty contract database."""
    for table in TABLE_ORDER:
        insert_rows(engine, table, rows[table])


def raw_frames(rows: Rows) -> dict[str, pd.DataFrame]:
    """The rows as pandas frames, with date and timestamp columns as datetime64."""
    frames = {}
    for table, table_rows in rows.items():
        frame = pd.DataFrame(table_rows)
        for column in frame.columns:
            if column.endswith(("_at", "_on", "_start")) or column == "month":
                frame[column] = pd.to_datetime(frame[column])
        frames[table] = frame
    return frames
