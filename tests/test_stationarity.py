"""The stationarity test (issue 7): in a world whose processes never change, the headline must
not report changes.

`tests.stationary` generates such a world, right-censored at the as-of date. Comparing each of
the last 7, 28 and 90 days and the last full month with the period before it, the headline of
contract v1.1 must (a) mark no more changes meaningful than chance allows, (b) show no
systematic fall in a share it compares, and cover the like-for-like keys (so it cannot pass by
showing no changes at all). (c) proves the data are censored enough that a raw comparison would
fail. The pandas reference (`like_for_like`) recomputes the v1.1 figures from the raw rows: it
shows that the generated world, with this seed, really has no change a correct headline could
report.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from queries.db import make_engine
from queries.filters import Filters, report_deadline
from queries.indicators import MEANINGFUL_Z, headline, poisson_z
from tests.stationary import AS_OF, SEED, as_of_moment, insert_stationary, raw_frames
from tests.stationary import stationary_rows as generate

THRESHOLD = 5

DAY = dt.timedelta(days=1)
_LAST_MONTH_END = AS_OF.replace(day=1) - DAY
PERIODS: dict[str, tuple[dt.date, dt.date]] = {
    "last_7_days": (AS_OF - 6 * DAY, AS_OF),
    "last_28_days": (AS_OF - 27 * DAY, AS_OF),
    "last_90_days": (AS_OF - 89 * DAY, AS_OF),
    "last_month": (_LAST_MONTH_END.replace(day=1), _LAST_MONTH_END),
}

# The keys whose comparison is like for like under contract v1.1: each must show a (non-null)
# change on all counties, so the test cannot pass by showing no changes at all.
LIKE_FOR_LIKE_KEYS = (
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_7d_pct",
    "ras_active",
    "ra_reporting_rate",
    "ra_on_time_rate",
    "forums_held",
    "forum_attendance",
    "joint_forum_pct",
    "people_trained",
    "trained_female_pct",
    "trained_youth_pct",
    "trained_certified_pct",
    "rehab_referrals",
    "referral_admission_30d_pct",
    "referral_youth_pct",
)
# Three of them have no value at all in the last 28 days under the contract, whatever the
# data: no report month starting in the period is due yet (its deadline, the 10th of the next
# month, lies after D), and no referral of the period is on or before D - 30 days. The other
# periods (90 days, last month) have every key.
NOT_MEASURABLE_IN_28_DAYS = ("ra_reporting_rate", "ra_on_time_rate", "referral_admission_30d_pct")
REQUIRED_CHANGES: dict[str, tuple[str, ...]] = {
    "last_28_days": tuple(k for k in LIKE_FOR_LIKE_KEYS if k not in NOT_MEASURABLE_IN_28_DAYS),
    "last_90_days": LIKE_FOR_LIKE_KEYS,
    "last_month": LIKE_FOR_LIKE_KEYS,
}

# Cumulative since the launch: it grows in any world where training goes on at a constant
# rate, so a rise is a real change, not a false alarm (it cannot fall: the firms partnered
# long before the history).
CUMULATIVE_KEYS = ("private_security_coverage_pct",)

# (a) At most this many changes marked meaningful over all rows and periods. |z| >= 3 has
# chance 0.27% for a standard normal z; a v1.1 headline tests about 14 figures a period (5 counts,
# 9 shares), 4 periods, so about 0.15 chance flags are expected and two or more have odds of about
# 1%. (incidents_reported and incident_rate_per_100k share one z: a chance flag of theirs counts
# twice; the pandas reference below shows this seed draws none.) open_incidents counts too: in
# this world every incident is eventually resolved or dismissed, so the real backlog does not
# change, and a change in it is the artefact of counting "as stored now".
MAX_MEANINGFUL = 1
# A share may not fall by this many standard errors of the difference of two proportions
# (one-sided 0.13% per test).
MAX_FALL_SE = 3.0
# The raw v1 resolved share must fall by at least this much from the previous 28 days to the
# last 28 (part c): otherwise the world would not be censored enough to catch a raw comparison.
MIN_RAW_RESOLVED_FALL = 5.0


def _filters(period: str) -> Filters:
    start, end = PERIODS[period]
    return Filters(start, end, preset="custom", comparison="previous", as_of=AS_OF)


@cache
def _rows() -> dict:
    return generate(SEED, AS_OF)


@cache
def _frames() -> dict[str, pd.DataFrame]:
    return raw_frames(_rows())


# --- The contract's figures, recomputed from the raw rows (all counties) ---------------------


def _in(dates: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


def _eat_date(moments: pd.Series) -> pd.Series:
    return (moments + pd.Timedelta(hours=3)).dt.normalize()


def _share(successes: pd.Series, base: pd.Series) -> tuple[float, int]:
    """(percentage, denominator) of the true values of `successes` within `base`."""
    n = int(base.sum())
    return (100.0 * (successes & base).sum() / n if n else math.nan), n


def like_for_like(start: dt.date, end: dt.date, as_of: dt.date) -> dict[str, tuple[float, int]]:
    """Each like-for-like key's v1.1 value for a period on all counties, with its share's
    denominator (for counts and sums: the value itself)."""
    raw = _frames()
    out: dict[str, tuple[float, int]] = {}

    inc = raw["incidents"]
    reported_on = _eat_date(inc["reported_at"])
    period = _in(reported_on, start, end)
    n = int(period.sum())
    out["incidents_reported"] = (n, n)
    population = raw["counties"]["population"].sum()
    out["incident_rate_per_100k"] = (100_000.0 * n / population, n)
    eligible = period & (reported_on <= pd.Timestamp(as_of - 7 * DAY))
    within = (inc["resolved_at"] - inc["reported_at"]) <= pd.Timedelta(days=7)
    out["incidents_resolved_7d_pct"] = _share(within.fillna(False), eligible)

    forums = raw["forums"][_in(raw["forums"]["held_on"], start, end)]
    reports = raw["ra_monthly_reports"]
    submitted_in = reports[_in(reports["submitted_on"], start, end)]
    ras = raw["residents_associations"]
    registered = ras[(ras["registered_on"] <= pd.Timestamp(end)) & (ras["status"] != "suspended")]
    active = registered["id"].isin(set(forums["ra_id"]) | set(submitted_in["ra_id"]))
    out["ras_active"] = (int(active.sum()), int(active.sum()))
    deadline = reports["month"].map(lambda month: pd.Timestamp(report_deadline(month.date())))
    due = _in(reports["month"], start, end) & (deadline <= pd.Timestamp(as_of))
    out["ra_reporting_rate"] = _share(reports["submitted_on"].notna(), due)
    out["ra_on_time_rate"] = _share(reports["submitted_on"] <= deadline, due)
    out["forums_held"] = (len(forums), len(forums))
    out["forum_attendance"] = (int(forums["attendance"].sum()), len(forums))
    joint = forums["police_present"] & (forums["ngao_present"] | forums["private_security_present"])
    out["joint_forum_pct"] = _share(joint, pd.Series(True, index=forums.index))

    sessions = raw["trainings"][_in(raw["trainings"]["held_on"], start, end)]
    people = int(sessions["participants"].sum())
    out["people_trained"] = (people, people)
    for key, column in (
        ("trained_female_pct", "participants_female"),
        ("trained_youth_pct", "participants_youth"),
        ("trained_certified_pct", "certified"),
    ):
        out[key] = (100.0 * sessions[column].sum() / people if people else math.nan, people)

    ref = raw["rehab_referrals"]
    referred = _in(ref["referred_on"], start, end)
    out["rehab_referrals"] = (int(referred.sum()), int(referred.sum()))
    eligible = referred & (ref["referred_on"] <= pd.Timestamp(as_of - 30 * DAY))
    admitted_30d = (ref["admitted_on"] - ref["referred_on"]) <= pd.Timedelta(days=30)
    out["referral_admission_30d_pct"] = _share(admitted_30d.fillna(False), eligible)
    youth = ref["age_band"].isin(["15_19", "20_24", "25_34"])
    out["referral_youth_pct"] = _share(youth, referred)
    return out


def share_sizes(start: dt.date, end: dt.date, as_of: dt.date) -> dict[str, int]:
    """The denominator of every share the headline may compare, v1 keys included (so that (b)
    can judge today's raw comparisons too)."""
    sizes = {key: n for key, (_, n) in like_for_like(start, end, as_of).items()}
    raw = _frames()
    sizes["incidents_resolved_pct"] = sizes["incidents_reported"]
    ref = raw["rehab_referrals"]
    referred = ref[_in(ref["referred_on"], start, end)]
    sizes["referral_admission_pct"] = len(referred)
    sizes["referral_completion_pct"] = int(
        referred["status"].isin(["completed", "dropped_out"]).sum()
    )
    return sizes


def two_proportion_z(p1: float, n1: int, p2: float, n2: int) -> float:
    """z of the difference of two percentages (pooled); NaN where a side has no cases."""
    if not (n1 and n2):
        return math.nan
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2) / 100.0
    se = 100.0 * math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return (p1 - p2) / se if se else 0.0


SHARE_KEYS = (
    *(key for key in LIKE_FOR_LIKE_KEYS if key.endswith("_pct")),
    "ra_reporting_rate",
    "ra_on_time_rate",
)
# Sums of people: clustered by forum or session, so not Poisson (the headline gives them no z).
SUM_KEYS = ("forum_attendance", "people_trained")


def _z(key: str, now: tuple[float, int], before: tuple[float, int]) -> float:
    """The z a like-for-like comparison has: two-proportion for shares, Poisson for counts."""
    if key in SHARE_KEYS:
        return two_proportion_z(now[0], now[1], before[0], before[1])
    if key in SUM_KEYS:
        return math.nan
    return count_z(now[1], before[1])


def count_z(current: float, previous: float) -> float:
    """sqrt(2) * (sqrt(current) - sqrt(previous)): roughly standard normal for two Poisson
    counts of the same mean, since the square root of a Poisson count has variance 1/4."""
    return math.sqrt(2.0) * (math.sqrt(current) - math.sqrt(previous))


# --- Tests on the generated rows alone (no database) ----------------------------------------


def test_the_poisson_z_is_standard_normal_under_no_change() -> None:
    """(a) relies on |z| >= MEANINGFUL_Z being rare by chance (0.27% for a standard normal z).
    Two Poisson counts of one mean, drawn many times, must give z with standard deviation ~1
    and |z| >= MEANINGFUL_Z at most 0.5% of the time."""
    rng = np.random.default_rng(7)
    for mean in (30, 400, 5_000):
        pairs = rng.poisson(mean, (20_000, 2))
        z = np.array([poisson_z(float(a), float(b)) for a, b in pairs])
        sd, tail = float(z.std()), float((np.abs(z) >= MEANINGFUL_Z).mean())
        assert 0.95 < sd < 1.05 and tail <= 0.005, (
            f"Poisson mean {mean}: sd of z {sd:.3f} (expected 1), "
            f"|z| >= {MEANINGFUL_Z} in {100 * tail:.2f}% of no-change draws (expected 0.27%)"
        )


def test_the_generated_world_has_no_change_a_correct_headline_could_show() -> None:
    """The v1.1 figures recomputed from the raw rows: every like-for-like key has a value where
    the test requires a change, and no change reaches |z| >= 3. This checks the generator and
    the seed (a seed with a chance |z| >= 3 would make the headline test fail for nothing)."""
    problems = []
    for period, (start, end) in PERIODS.items():
        previous = _filters(period).comparison_filters()
        now = like_for_like(start, end, AS_OF)
        before = like_for_like(previous.start, previous.end, AS_OF)
        for key in REQUIRED_CHANGES.get(period, ()):
            if math.isnan(now[key][0]) or math.isnan(before[key][0]):
                problems.append(f"{period} {key}: no value ({now[key]} vs {before[key]})")
        for key in LIKE_FOR_LIKE_KEYS:
            z = _z(key, now[key], before[key])
            if not math.isnan(z) and abs(z) >= MEANINGFUL_Z:
                problems.append(f"{period} {key}: {now[key]} vs {before[key]}, z = {z:.2f}")
    for key in NOT_MEASURABLE_IN_28_DAYS:
        start, end = PERIODS["last_28_days"]
        assert math.isnan(like_for_like(start, end, AS_OF)[key][0]), key
    assert not problems, "\n".join(problems)


def test_the_generated_world_is_censored_at_the_as_of_moment() -> None:
    """Nothing happens after the as-of moment, statuses agree with the timestamps, and (c) the
    raw v1 resolved share of the last 28 days is well below that of the 28 days before: a
    headline comparing raw shares would report a fall."""
    raw = _frames()
    moment = pd.Timestamp(as_of_moment(AS_OF))
    inc = raw["incidents"]
    for column in ("reported_at", "acknowledged_at", "resolved_at"):
        assert (inc[column].dropna() < moment).all(), column
    assert ((inc["status"] == "resolved") == inc["resolved_at"].notna()).all()
    assert (inc["acknowledged_at"].isna() == (inc["status"] == "reported")).all()
    ref = raw["rehab_referrals"]
    for column in ("referred_on", "assessed_on", "admitted_on", "completed_on"):
        assert (ref[column].dropna() <= pd.Timestamp(AS_OF)).all(), column
    admitted = ref["status"].isin(["admitted", "completed", "dropped_out"])
    assert (admitted == ref["admitted_on"].notna()).all()
    assert ((ref["status"] == "completed") == ref["completed_on"].notna()).all()
    reports = raw["ra_monthly_reports"]
    assert (reports["submitted_on"].dropna() <= pd.Timestamp(AS_OF)).all()

    reported_on = _eat_date(inc["reported_at"])
    resolved = inc["status"] == "resolved"

    def raw_resolved_pct(start: dt.date, end: dt.date) -> float:
        return _share(resolved, _in(reported_on, start, end))[0]

    last = raw_resolved_pct(AS_OF - 27 * DAY, AS_OF)
    before = raw_resolved_pct(AS_OF - 55 * DAY, AS_OF - 28 * DAY)
    print(f"raw incidents_resolved_pct: last 28 days {last:.1f}%, the 28 before {before:.1f}%")
    assert before - last >= MIN_RAW_RESOLVED_FALL


# --- The headline on the generated database, on both engines --------------------------------


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_stationary(writer, _rows())
    writer.dispose()
    return make_engine(empty_db_url)


def test_the_headline_shows_no_change_in_a_stationary_world(engine: Engine) -> None:
    """(a) at most MAX_MEANINGFUL changes marked meaningful, (b) no share compared falls by more
    than MAX_FALL_SE standard errors, and every like-for-like key shows a change."""
    problems: list[str] = []
    meaningful: list[str] = []
    for period in PERIODS:
        filters = _filters(period)
        previous = filters.comparison_filters()
        frame = headline(engine, filters, threshold=THRESHOLD)
        rows = frame.set_index("indicator")
        changed = rows["change"].notna()

        for key in REQUIRED_CHANGES.get(period, ()):
            if key not in rows.index or not changed[key]:
                problems.append(f"(coverage) {period} {key}: no change shown (like for like)")

        flagged = rows.index[rows["meaningful"].eq(True)]
        meaningful += [
            f"{period} {key}: {rows.at[key, 'comparison_value']} -> {rows.at[key, 'value']}"
            for key in flagged
            if key not in CUMULATIVE_KEYS
        ]

        now = share_sizes(filters.start, filters.end, AS_OF)
        before = share_sizes(previous.start, previous.end, AS_OF)
        for key in rows.index[(rows["kind"] == "pct") & changed]:
            if key in CUMULATIVE_KEYS:
                continue
            value, compared = rows.at[key, "value"], rows.at[key, "comparison_value"]
            if key not in now:
                problems.append(f"(b) {period} {key}: a share with no known denominator")
                continue
            z = two_proportion_z(value, now[key], compared, before[key])
            if math.isnan(z) or z < -MAX_FALL_SE:
                problems.append(
                    f"(b) {period} {key}: {compared:.1f}% -> {value:.1f}% "
                    f"(change {rows.at[key, 'change']:+.1f} points, n {before[key]} -> "
                    f"{now[key]}, z {z:.1f})"
                )

    print(f"changes marked meaningful: {len(meaningful)}")
    if len(meaningful) > MAX_MEANINGFUL:
        problems.insert(0, f"(a) {len(meaningful)} changes marked meaningful: {meaningful}")
    assert not problems, "\n".join(problems)
