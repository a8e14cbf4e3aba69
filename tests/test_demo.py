"""Tests of the demo seeder and the geography it uses, on small SQLite builds.

Expected values are computed here independently (from the kenya_data file, from the rows read
back, or from the contract) rather than by calling the seeder's helpers again.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from queries import demo
from queries.geography import counties_frame, kenya_db_path, wards_frame
from queries.schema import ALLOWED_VALUES, CONTRACT_TABLES
from tests.clock import TEST_AS_OF, TEST_TODAY

TODAY = TEST_TODAY
SNAPSHOT_UTC = f"{TODAY - dt.timedelta(days=1):%Y-%m-%d} 21:00:00"  # 00:00 EAT on TODAY
# The latest complete month before TODAY.
LATEST_MONTH = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
INCIDENTS = 5_000
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# A generous box round Kenya (it spans about 4.7 S to 5.0 N and 33.9 E to 41.9 E).
KENYA_LAT = (-5.5, 5.5)
KENYA_LON = (33.5, 42.5)

# Ordering columns per table, so two builds can be compared row by row.
ORDER_BY = {
    "counties": "code",
    "wards": "code",
    "residents_associations": "id",
    "forums": "id",
    "ra_monthly_reports": "ra_id, month",
    "incidents": "id",
    "trainings": "id",
    "security_firms": "id",
    "rehab_centres": "id",
    "rehab_referrals": "id",
    "targets": "county_code, indicator, period_start",
}


def _build(
    path: Path, seed: int = 42, incidents: int = INCIDENTS, today: dt.date = TODAY
) -> dict[str, int]:
    return demo.build_demo(f"sqlite:///{path}", seed=seed, incidents=incidents, today=today)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    return path, _build(path)


@pytest.fixture(scope="module")
def db(built: tuple[Path, dict[str, int]]) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(built[0])
    yield connection
    connection.close()


def _all_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in ORDER_BY.items()
        }


def _frame(db: sqlite3.Connection, sql: str, params: tuple = ()) -> pd.DataFrame:
    cursor = db.execute(sql, params)
    return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])


def _scalar(db: sqlite3.Connection, sql: str, params: tuple = ()) -> Any:
    return db.execute(sql, params).fetchone()[0]


# Geography


def test_counties_are_the_47_with_2019_census_population() -> None:
    counties = counties_frame()
    assert len(counties) == 47
    assert counties["code"].tolist() == [f"{i:03d}" for i in range(1, 48)]
    assert int(counties["population"].sum()) == 47_564_296
    by_code = counties.set_index("code")
    assert by_code.loc["047", "name"] == "Nairobi"
    assert by_code.loc["047", "population"] == 4_397_073
    assert by_code.loc["032", "name"] == "Nakuru"
    assert by_code.loc["001", "name"] == "Mombasa"
    assert (counties["area_km2"] > 0).all()
    assert counties["latitude"].between(*KENYA_LAT).all()
    assert counties["longitude"].between(*KENYA_LON).all()


def test_wards_are_the_1450_real_wards_each_in_a_known_county() -> None:
    wards = wards_frame()
    assert len(wards) == 1450
    assert wards["code"].is_unique
    assert wards["code"].iloc[0] == "KEW-0001"
    assert wards["code"].iloc[-1] == "KEW-1450"
    assert set(wards["county_code"]) == set(counties_frame()["code"])
    assert wards[["name", "constituency"]].notna().all().all()


def test_ward_points_lie_within_005_degree_of_their_constituency_centroid() -> None:
    with sqlite3.connect(f"file:{kenya_db_path()}?mode=ro", uri=True) as source:
        centroids = dict(
            source.execute(
                "SELECT w.code, c.latitude || ',' || c.longitude FROM wards w "
                "JOIN coordinates c ON c.entity_type = 'constituency' "
                "AND c.entity_id = w.constituency_id"
            ).fetchall()
        )
    wards = wards_frame()
    assert len(centroids) == len(wards)
    for code, lat, lon in wards[["code", "latitude", "longitude"]].itertuples(index=False):
        c_lat, c_lon = map(float, centroids[code].split(","))
        assert math.hypot(lat - c_lat, lon - c_lon) <= 0.05, code


def test_geography_frames_are_copies() -> None:
    frame = counties_frame()
    frame.loc[0, "name"] = "changed"
    assert counties_frame().loc[0, "name"] == "Mombasa"
    wards = wards_frame()
    wards.loc[0, "county_code"] = "999"
    assert wards_frame().loc[0, "county_code"] == "001"


# Build, counts, determinism


def test_build_returns_the_row_count_of_every_table(
    built: tuple[Path, dict[str, int]], db: sqlite3.Connection
) -> None:
    counts = built[1]
    assert list(counts) == list(CONTRACT_TABLES)
    for table, rows in counts.items():
        assert _scalar(db, f"SELECT COUNT(*) FROM {table}") == rows, table
    assert counts["incidents"] == INCIDENTS
    assert counts["counties"] == 47
    assert counts["wards"] == 1450
    assert 800 <= counts["residents_associations"] <= 920
    assert counts["rehab_centres"] == 100
    assert 200 <= counts["security_firms"] <= 600
    assert 1_000 <= counts["rehab_referrals"] <= 10_000
    assert counts["forums"] > counts["residents_associations"]


def test_same_seed_and_today_give_identical_rows(
    tmp_path: Path, built: tuple[Path, dict[str, int]]
) -> None:
    again = tmp_path / "again.sqlite"
    _build(again)
    first, second = _all_rows(built[0]), _all_rows(again)
    for table in ORDER_BY:
        assert first[table] == second[table], table


def test_a_different_seed_gives_different_rows(
    tmp_path: Path, built: tuple[Path, dict[str, int]]
) -> None:
    other = tmp_path / "other.sqlite"
    _build(other, seed=7)
    first, second = _all_rows(built[0]), _all_rows(other)
    for table in ("incidents", "residents_associations", "forums", "rehab_referrals"):
        assert first[table] != second[table], table
    # Geography and programme starts do not depend on the seed.
    assert first["counties"] == second["counties"]
    assert first["wards"] == second["wards"]


def test_rebuilding_replaces_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "twice.sqlite"
    _build(path, incidents=300)
    counts = _build(path, incidents=400)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0] == 400
        assert connection.execute("SELECT COUNT(*) FROM counties").fetchone()[0] == 47
    assert counts["incidents"] == 400


def test_foreign_keys_hold_and_indexes_exist(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    for name in (
        "ix_demo_incidents_county_reported",
        "ix_demo_referrals_county_referred",
        "ix_demo_forums_county_held",
        "ix_demo_trainings_county_held",
        "ix_incidents_reported_at",
    ):
        assert name in indexes
    assert _scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == 1
    orphans = _scalar(
        db,
        "SELECT COUNT(*) FROM incidents i LEFT JOIN residents_associations r ON r.id = i.ra_id "
        "WHERE i.ra_id IS NOT NULL AND (r.id IS NULL OR r.county_code <> i.county_code)",
    )
    assert orphans == 0
    wrong_ward = _scalar(
        db,
        "SELECT COUNT(*) FROM incidents i JOIN wards w ON w.code = i.ward_code "
        "WHERE w.county_code <> i.county_code",
    )
    assert wrong_ward == 0


def test_sqlite_storage_formats_match_the_schema(db: sqlite3.Connection) -> None:
    timestamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    date = re.compile(r"^\d{4}-\d\d-\d\d$")
    for column in ("reported_at", "occurred_at", "acknowledged_at", "resolved_at", "updated_at"):
        values = [v for (v,) in db.execute(f"SELECT {column} FROM incidents") if v is not None]
        assert values and all(timestamp.match(v) for v in values), column
    for table, column in (("forums", "held_on"), ("ra_monthly_reports", "submitted_on")):
        values = [v for (v,) in db.execute(f"SELECT {column} FROM {table}") if v is not None]
        assert values and all(date.match(v) for v in values), column
    flags = db.execute("SELECT DISTINCT police_present FROM forums").fetchall()
    assert sorted(flags) == [(0,), (1,)]


# Contract values and planted invalid values


@pytest.mark.parametrize(("table", "column"), sorted(ALLOWED_VALUES))
def test_enumerated_columns_hold_allowed_values_except_the_planted_ones(
    db: sqlite3.Connection, table: str, column: str
) -> None:
    allowed = set(ALLOWED_VALUES[(table, column)])
    values = Counter(v for (v,) in db.execute(f"SELECT {column} FROM {table}") if v is not None)
    invalid = {value: count for value, count in values.items() if value not in allowed}
    assert invalid == demo.PLANTED_INVALID_VALUES.get((table, column), {})


def test_incidents_outside_kenya_are_exactly_the_planted_points(db: sqlite3.Connection) -> None:
    points = db.execute(
        "SELECT latitude, longitude FROM incidents WHERE latitude IS NOT NULL "
        "AND NOT (latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?)",
        (*KENYA_LAT, *KENYA_LON),
    ).fetchall()
    assert sorted(points) == sorted(demo.OUT_OF_KENYA_COORDINATES)
    half_null = _scalar(
        db, "SELECT COUNT(*) FROM incidents WHERE (latitude IS NULL) <> (longitude IS NULL)"
    )
    assert half_null == 0
    assert 0 < _scalar(db, "SELECT COUNT(*) FROM incidents WHERE latitude IS NULL") < INCIDENTS


# Incidents


def test_incident_status_and_its_timestamps_agree(db: sqlite3.Connection) -> None:
    frame = _frame(db, "SELECT * FROM incidents")
    resolved = frame["status"] == "resolved"
    assert (frame["resolved_at"].notna() == resolved).all()
    acknowledged_statuses = frame["status"].isin(["acknowledged", "actioned", "resolved"])
    assert frame.loc[acknowledged_statuses, "acknowledged_at"].notna().all()
    assert frame.loc[frame["status"] == "reported", "acknowledged_at"].isna().all()
    dismissed = frame[frame["status"] == "dismissed"]
    assert dismissed["acknowledged_at"].notna().any() and dismissed["acknowledged_at"].isna().any()
    assert frame.loc[frame["acknowledged_at"].isna(), "responder"].isna().all()
    # Fixed-width text compares like the instants it holds.
    ack = frame.dropna(subset=["acknowledged_at"])
    assert (ack["acknowledged_at"] > ack["reported_at"]).all()
    res = frame.dropna(subset=["resolved_at"])
    assert (res["resolved_at"] > res["acknowledged_at"]).all()
    occurred = frame.dropna(subset=["occurred_at"])
    assert (occurred["occurred_at"] <= occurred["reported_at"]).all()
    for column in ("reported_at", "acknowledged_at", "resolved_at", "updated_at"):
        assert (frame[column].dropna() < SNAPSHOT_UTC).all(), column


def test_recent_incidents_are_more_often_open(db: sqlite3.Connection) -> None:
    def open_share(where: str) -> float:
        return _scalar(
            db,
            "SELECT AVG(status IN ('reported', 'acknowledged', 'actioned')) FROM incidents "
            f"WHERE {where}",
        )

    recent = f"reported_at >= '{TODAY - dt.timedelta(days=4)}'"
    old = f"reported_at < '{TODAY - dt.timedelta(days=180)}'"
    n_recent = _scalar(db, f"SELECT COUNT(*) FROM incidents WHERE {recent}")
    p_recent, p_old = open_share(recent), open_share(old)
    # A one-sided test against the old share, so that the small recent sample of whichever day
    # the suite runs on cannot pass or fail by chance.
    z = (p_recent - p_old) / math.sqrt(p_old * (1 - p_old) / n_recent)
    assert n_recent >= 15 and z >= 3, (n_recent, p_recent, p_old)


def test_incidents_follow_programme_starts(db: sqlite3.Connection) -> None:
    starts = dict(db.execute("SELECT code, programme_start FROM counties").fetchall())
    frame = _frame(
        db, "SELECT county_code, date(reported_at, '+3 hours') AS day, channel FROM incidents"
    )
    start = frame["county_code"].map(starts)
    before = start.isna() | (frame["day"] < start.fillna("9999"))
    assert (frame.loc[before, "channel"] != "hatua_app").all()
    assert (frame.loc[~before, "channel"] == "hatua_app").mean() > 0.3
    per_county = frame["county_code"].value_counts()
    assert per_county.index[0] == "047"
    assert frame["day"].min() >= demo.EARLIEST_DATA_START.isoformat()
    assert frame["day"].max() < TODAY.isoformat()


def test_incidents_either_side_of_midnight_eat_are_planted(db: sqlite3.Connection) -> None:
    stamps = {v for (v,) in db.execute("SELECT reported_at FROM incidents")}
    assert "2025-06-30 21:00:00" in stamps
    assert "2025-06-30 20:59:59" in stamps
    # Those before the snapshot (00:00 EAT on TODAY, 21:00 UTC the day before) are planted.
    snapshot = dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(21, 0))
    for moment in demo.MIDNIGHT_INCIDENT_TIMES:
        planted = moment.strftime("%Y-%m-%d %H:%M:%S") in stamps
        assert planted == (moment.replace(tzinfo=None) < snapshot), moment
    eat_days = dict(
        db.execute(
            "SELECT reported_at, date(reported_at, '+3 hours') FROM incidents "
            "WHERE reported_at IN ('2025-06-30 21:00:00', '2025-06-30 20:59:59')"
        ).fetchall()
    )
    assert eat_days == {"2025-06-30 21:00:00": "2025-07-01", "2025-06-30 20:59:59": "2025-06-30"}


# Programme starts and the no-activity county


def test_programme_starts_follow_the_waves_before_today(db: sqlite3.Connection) -> None:
    starts = dict(db.execute("SELECT code, programme_start FROM counties").fetchall())
    for code in ("047", "032", "001"):
        assert starts[code] == "2025-06-08"
    assert all(starts[code] is None for code in demo.NOT_ONBOARDED)
    onboarded = [s for s in starts.values() if s is not None]
    # The waves that lie before today have joined; a later one has not yet.
    joined = sum(len(codes) for start, codes in demo.WAVES.items() if start < TODAY)
    assert len(onboarded) == joined
    assert max(onboarded) < TODAY.isoformat()
    if max(demo.WAVES) < TODAY:
        assert len(onboarded) == 47 - len(demo.NOT_ONBOARDED)


def test_later_waves_stay_null_before_they_start(tmp_path: Path) -> None:
    path = tmp_path / "early.sqlite"
    _build(path, incidents=300, today=dt.date(2026, 3, 15))
    with sqlite3.connect(path) as connection:
        starts = dict(connection.execute("SELECT code, programme_start FROM counties"))
        latest = connection.execute("SELECT MAX(reported_at) FROM incidents").fetchone()[0]
        late = connection.execute(
            "SELECT COUNT(*) FROM incidents WHERE reported_at >= '2026-06-30 20:00:00'"
        ).fetchone()[0]
    assert starts["043"] is None  # wave of 2026-07-01
    assert starts["002"] == "2026-02-01"
    assert latest < "2026-03-14 21:00:00"
    assert late == 0  # midnight rows after the snapshot are not planted


def test_no_activity_county_is_silent_in_the_latest_and_current_month(
    db: sqlite3.Connection,
) -> None:
    code, since = demo.NO_ACTIVITY_COUNTY, LATEST_MONTH.isoformat()
    start = _scalar(db, "SELECT programme_start FROM counties WHERE code = ?", (code,))
    assert start is not None and code not in demo.PILOT_COUNTIES and start < since
    checks = {
        "incidents": "SELECT COUNT(*) FROM incidents WHERE county_code = ? "
        "AND date(reported_at, '+3 hours') >= ?",
        "forums": "SELECT COUNT(*) FROM forums WHERE county_code = ? AND held_on >= ?",
        "trainings": "SELECT COUNT(*) FROM trainings WHERE county_code = ? AND held_on >= ?",
        "referrals": "SELECT COUNT(*) FROM rehab_referrals WHERE county_code = ? "
        "AND referred_on >= ?",
        "reports": "SELECT COUNT(*) FROM ra_monthly_reports m JOIN residents_associations r "
        "ON r.id = m.ra_id WHERE r.county_code = ? AND m.submitted_on >= ?",
    }
    for name, sql in checks.items():
        assert _scalar(db, sql, (code, since)) == 0, name
    # It is onboarded and active before: the silence is the edge case, not an empty county.
    assert (
        _scalar(
            db, "SELECT COUNT(*) FROM forums WHERE county_code = ? AND held_on < ?", (code, since)
        )
        > 0
    )
    expected_unsubmitted = _scalar(
        db,
        "SELECT COUNT(*) FROM ra_monthly_reports m JOIN residents_associations r ON r.id = m.ra_id "
        "WHERE r.county_code = ? AND m.month = ? AND m.submitted_on IS NULL",
        (code, since),
    )
    assert expected_unsubmitted > 0


# RA monthly reports, forums and trainings


def test_ra_monthly_reports_are_exactly_the_expected_rows(db: sqlite3.Connection) -> None:
    ras = _frame(db, "SELECT id, registered_on, status FROM residents_associations")
    expected: set[tuple[int, str]] = set()
    last = pd.Period(TODAY, "M") - 1
    for ra_id, registered, status in ras.itertuples(index=False):
        if status not in ("active", "dormant"):
            continue
        month = pd.Period(registered, "M") + 1
        while month <= last:
            expected.add((ra_id, month.start_time.date().isoformat()))
            month += 1
    actual = set(db.execute("SELECT ra_id, month FROM ra_monthly_reports").fetchall())
    assert actual == expected


def test_monthly_reports_are_submitted_after_the_month_and_some_late(
    db: sqlite3.Connection,
) -> None:
    frame = _frame(db, "SELECT month, submitted_on FROM ra_monthly_reports")
    submitted = frame.dropna(subset=["submitted_on"])
    month = pd.to_datetime(submitted["month"])
    following = month + pd.offsets.MonthBegin(1)
    on = pd.to_datetime(submitted["submitted_on"])
    assert (on >= following).all()
    assert (submitted["submitted_on"] < TODAY.isoformat()).all()
    late = on > following + pd.Timedelta(days=9)
    assert 0 < late.sum() < 0.3 * len(submitted)
    assert 0 < frame["submitted_on"].isna().sum() < len(frame)


def test_forums_and_trainings_happen_after_their_county_started(db: sqlite3.Connection) -> None:
    for table in ("forums", "trainings"):
        early = _scalar(
            db,
            f"SELECT COUNT(*) FROM {table} t JOIN counties c ON c.code = t.county_code "
            "WHERE c.programme_start IS NULL OR t.held_on < c.programme_start OR t.held_on >= ?",
            (TODAY.isoformat(),),
        )
        assert early == 0, table
    forum_ra = _scalar(
        db,
        "SELECT COUNT(*) FROM forums f JOIN residents_associations r ON r.id = f.ra_id "
        "WHERE r.county_code <> f.county_code OR f.held_on < r.registered_on",
    )
    assert forum_ra == 0


def test_training_breakdowns_fit_within_participants(db: sqlite3.Connection) -> None:
    bad = _scalar(
        db,
        "SELECT COUNT(*) FROM trainings WHERE participants NOT BETWEEN 10 AND 120 "
        "OR participants_female NOT BETWEEN 0 AND participants "
        "OR participants_youth NOT BETWEEN 0 AND participants "
        "OR certified NOT BETWEEN 0 AND participants",
    )
    assert bad == 0
    assert _scalar(db, "SELECT COUNT(*) FROM trainings WHERE audience = 'private_security'") > 0


def test_security_firms_total_about_the_national_workforce(db: sqlite3.Connection) -> None:
    total = _scalar(db, "SELECT SUM(officers_registered) FROM security_firms")
    assert 1_500_000 <= total <= 3_000_000
    outside = _scalar(
        db,
        "SELECT COUNT(*) FROM security_firms f JOIN counties c ON c.code = f.county_code "
        "WHERE f.partnered_on IS NOT NULL "
        "AND (c.programme_start IS NULL OR f.partnered_on < c.programme_start)",
    )
    assert outside == 0


# Rehabilitation


def test_referral_funnel_dates_are_ordered_and_match_status(db: sqlite3.Connection) -> None:
    frame = _frame(db, "SELECT * FROM rehab_referrals")
    status = frame["status"]
    assert (frame["assessed_on"].isna() == (status == "referred")).all()
    admitted = status.isin(["admitted", "completed", "dropped_out"])
    assert (frame["admitted_on"].notna() == admitted).all()
    assert (frame["completed_on"].notna() == (status == "completed")).all()
    assessed = frame.dropna(subset=["assessed_on"])
    assert (assessed["assessed_on"] >= assessed["referred_on"]).all()
    adm = frame.dropna(subset=["admitted_on"])
    assert (adm["admitted_on"] > adm["assessed_on"]).all()
    done = frame.dropna(subset=["completed_on"])
    assert (done["completed_on"] > done["admitted_on"]).all()
    for column in ("referred_on", "assessed_on", "admitted_on", "completed_on"):
        assert (frame[column].dropna() < TODAY.isoformat()).all(), column


def test_small_referral_cells_have_their_planted_counts(db: sqlite3.Connection) -> None:
    this_month = pd.Period(TODAY, "M")
    for (code, months_back), count in demo.SMALL_REFERRAL_CELLS.items():
        assert 1 <= count <= 4
        month = (this_month - months_back).start_time.date().isoformat()
        actual = _scalar(
            db,
            "SELECT COUNT(*) FROM rehab_referrals WHERE county_code = ? "
            "AND referred_on >= ? AND referred_on < date(?, '+1 month')",
            (code, month, month),
        )
        assert actual == count, (code, month)


def test_targets_cover_onboarded_counties_for_both_financial_years(db: sqlite3.Connection) -> None:
    onboarded = {
        c for (c,) in db.execute("SELECT code FROM counties WHERE programme_start IS NOT NULL")
    }
    frame = _frame(db, "SELECT * FROM targets")
    assert set(frame["county_code"]) == onboarded
    # FY 2025/26 and 2026/27, and every later year up to the one containing TODAY.
    fy = TODAY.year if TODAY.month >= 7 else TODAY.year - 1
    years = {f"{year}-07-01" for year in range(2025, max(fy, 2026) + 1)}
    assert set(frame["period_start"]) == years
    assert (frame["target"] > 0).all()
    assert {"people_trained", "forums_held", "ras_active", "rehab_referrals"} <= set(
        frame["indicator"]
    )
    # Marsabit (043) joins on 1 July 2026: no target for the year before it joined, and none
    # at all before it joins.
    late_wave = frame[(frame["county_code"] == "043")]
    joined = dt.date(2026, 7, 1) < TODAY
    assert set(late_wave["period_start"]) == (years - {"2025-07-01"} if joined else set())


# ensure_demo_database and the command line


def test_ensure_demo_database_builds_once_atomically(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "demo.sqlite"
    seen: list[float] = []
    demo.ensure_demo_database(
        path, progress=lambda f, _m: seen.append(f), incidents=300, today=TODAY
    )
    assert path.exists()
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert [p.name for p in path.parent.iterdir()] == ["demo.sqlite"]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0] == 300
    before = path.stat().st_mtime_ns
    demo.ensure_demo_database(path, incidents=400, today=TODAY)
    assert path.stat().st_mtime_ns == before


def test_ensure_demo_database_leaves_nothing_after_a_failed_build(tmp_path: Path) -> None:
    def fail(fraction: float, _message: str) -> None:
        if fraction > 0.5:
            raise KeyboardInterrupt

    path = tmp_path / "demo.sqlite"
    with pytest.raises(KeyboardInterrupt):
        demo.ensure_demo_database(path, progress=fail, incidents=300, today=TODAY)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--incidents", "5"],
        ["--incidents", "many"],
        ["--today", "2026-13-01"],
        ["--today", "2020-01-01"],
        ["--seed", "-1"],
    ],
)
def test_cli_rejects_bad_arguments_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    try:
        status = demo.main(["--url", f"sqlite:///{tmp_path}/x.sqlite", *args])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    stderr = capsys.readouterr().err
    assert status == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr and "error" in stderr
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize(
    "url", ["oracle://nowhere/db", "sqlite:////nonexistent-folder/demo.sqlite", "not a url"]
)
def test_cli_rejects_an_unusable_url_in_one_line(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    status = demo.main(["--url", url, "--incidents", "200"])
    stderr = capsys.readouterr().err
    assert status != 0
    assert len(stderr.strip().splitlines()) == 1


def test_cli_builds_and_prints_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "queries.demo", "--url", f"sqlite:///{path}"),
            *("--incidents", "250", "--today", TODAY.isoformat(), "--seed", "3"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^incidents\s+250$", result.stdout, re.MULTILINE)
    assert re.search(r"^total\s+[\d,]+ rows in [\d.]+ s$", result.stdout, re.MULTILINE)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0] == 250


def test_the_as_of_date_is_the_day_before_the_snapshot(db: sqlite3.Connection) -> None:
    """The suite's periods end on TEST_AS_OF: it must be the demo's latest report date in EAT."""
    latest = _scalar(db, "SELECT date(max(reported_at), '+3 hours') FROM incidents")
    assert latest == TEST_AS_OF.isoformat()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("rehab_referrals", ("referred_on", "assessed_on", "admitted_on", "completed_on")),
        ("ra_monthly_reports", ("submitted_on",)),
        ("forums", ("held_on",)),
        ("trainings", ("held_on",)),
    ],
)
def test_nothing_after_the_snapshot_is_known(db: sqlite3.Connection, table, columns) -> None:
    """The demo behaves like a live system: no date lies on or after the snapshot day, so every
    outcome is censored at the as-of date exactly as a real database would be."""
    for column in columns:
        latest = _scalar(db, f"SELECT MAX({column}) FROM {table}")
        assert latest is not None and latest < TODAY.isoformat(), (table, column, latest)
