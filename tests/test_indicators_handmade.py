"""Every contract indicator on hand-made rows with answers worked out by hand, on both engines."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import Engine

from queries.db import make_engine
from queries.filters import Filters
from queries.incidents import COMPARED_COLUMNS
from queries.indicators import INDICATOR_KEYS, INDICATORS, headline, indicators_frame
from queries.schema import metadata
from tests.query_support import same
from tests.rows import incident_row, insert_rows

D = dt.date
T = dt.datetime
# As of 31 August every July incident has had 7 days, every referral 30, and July is due.
PERIOD = Filters(start=D(2025, 7, 1), end=D(2025, 7, 31), preset="custom", as_of=D(2025, 8, 31))


def _incidents() -> list[dict]:
    rows = [
        # (id, county, reported_at UTC, status, hours to acknowledge, hours to resolve)
        (1, "001", T(2025, 6, 30, 20, 59, 59), "resolved", 2, 24),  # EAT 30 June: outside
        (2, "001", T(2025, 6, 30, 21, 0, 0), "reported", None, None),  # EAT 1 July: inside
        (3, "001", T(2025, 7, 10, 8), "resolved", 1, 10),
        (4, "001", T(2025, 7, 11, 8), "acknowledged", 3, None),
        (5, "032", T(2025, 7, 31, 20, 59, 59), "actioned", 5, None),  # EAT 31 July 23:59:59
        (6, "032", T(2025, 7, 31, 21, 0, 0), "reported", None, None),  # EAT 1 August: outside
        (7, "032", T(2025, 7, 15, 9), "resolved", 2, 4),
        (8, "032", T(2025, 7, 16, 9), "dismissed", None, None),
    ]
    return [incident_row(*row) for row in rows]


def _referrals() -> list[dict]:
    rows = []
    a_statuses = (
        ["admitted"] * 2
        + ["completed"] * 5
        + ["dropped_out"]
        + ["referred"] * 2
        + ["declined", "assessed"]
    )
    a_ages = (
        ["15_19", "15_19", "20_24", "20_24", "25_34", "25_34"]
        + ["35_49"] * 3
        + ["under_15", "50_plus", "50_plus"]
    )
    days = iter(range(1, 9))
    for i, (status, age) in enumerate(zip(a_statuses, a_ages, strict=True)):
        admitted = status in ("admitted", "completed", "dropped_out")
        rows.append(
            dict(
                id=100 + i,
                county_code="001",
                referred_on=D(2025, 7, 2),
                status=status,
                age_band=age,
                admitted_on=D(2025, 7, 2) + dt.timedelta(days=next(days)) if admitted else None,
            )
        )
    for i, (status, age) in enumerate(
        [("completed", "20_24"), ("referred", "50_plus"), ("referred", "under_15")]
    ):
        rows.append(
            dict(
                id=200 + i,
                county_code="032",
                referred_on=D(2025, 7, 20),
                status=status,
                age_band=age,
                admitted_on=D(2025, 7, 30) if status == "completed" else None,
            )
        )
    rows.append(dict(id=300, county_code="001", referred_on=D(2025, 6, 30), status="referred"))
    return rows


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(
        writer,
        "counties",
        [
            dict(code="001", name="Mombasa", population=1_000_000),
            dict(code="032", name="Nakuru", population=2_000_000),
            dict(code="047", name="Nairobi", population=4_000_000),
        ],
    )
    insert_rows(writer, "incidents", _incidents())
    insert_rows(
        writer,
        "residents_associations",
        [
            dict(id=1, county_code="001", registered_on=D(2025, 1, 1), status="active"),
            dict(id=2, county_code="001", registered_on=D(2025, 6, 1), status="dormant"),
            dict(id=3, county_code="001", registered_on=D(2025, 8, 1), status="active"),
            dict(id=4, county_code="032", registered_on=D(2024, 1, 1), status="suspended"),
            dict(id=5, county_code="032", registered_on=D(2024, 5, 1), status="active"),
        ],
    )
    insert_rows(
        writer,
        "ra_monthly_reports",
        [
            dict(ra_id=1, month=D(2025, 7, 1), submitted_on=D(2025, 8, 10)),
            dict(ra_id=2, month=D(2025, 7, 1), submitted_on=D(2025, 8, 11)),
            dict(ra_id=5, month=D(2025, 7, 1), submitted_on=None),
            dict(ra_id=4, month=D(2025, 7, 1), submitted_on=D(2025, 8, 1)),
            dict(ra_id=2, month=D(2025, 6, 1), submitted_on=D(2025, 7, 9)),
            dict(ra_id=1, month=D(2025, 8, 1), submitted_on=D(2025, 9, 1)),
        ],
    )
    insert_rows(
        writer,
        "forums",
        [
            dict(
                id=1,
                ra_id=1,
                county_code="001",
                held_on=D(2025, 7, 5),
                attendance=30,
                police_present=True,
                ngao_present=True,
            ),
            dict(
                id=2, county_code="001", held_on=D(2025, 7, 20), attendance=50, police_present=True
            ),
            dict(
                id=3,
                ra_id=5,
                county_code="032",
                held_on=D(2025, 6, 30),
                attendance=99,
                police_present=True,
                ngao_present=True,
            ),
            dict(
                id=4,
                county_code="032",
                held_on=D(2025, 7, 31),
                attendance=20,
                ngao_present=True,
                private_security_present=True,
            ),
            dict(
                id=5,
                county_code="032",
                held_on=D(2025, 7, 12),
                attendance=10,
                police_present=True,
                private_security_present=True,
            ),
        ],
    )
    insert_rows(
        writer,
        "trainings",
        [
            dict(
                id=1,
                county_code="001",
                held_on=D(2025, 7, 3),
                audience="residents",
                participants=40,
                participants_female=20,
                participants_youth=10,
                certified=30,
            ),
            dict(
                id=2,
                county_code="001",
                held_on=D(2025, 7, 20),
                audience="private_security",
                participants=60,
                participants_female=6,
                participants_youth=30,
                certified=60,
            ),
            dict(
                id=3,
                county_code="032",
                held_on=D(2025, 6, 10),
                audience="private_security",
                participants=100,
            ),
            dict(
                id=4,
                county_code="032",
                held_on=D(2025, 6, 1),
                audience="private_security",
                participants=500,
            ),
            dict(
                id=5,
                county_code="032",
                held_on=D(2025, 8, 1),
                audience="private_security",
                participants=70,
            ),
        ],
    )
    insert_rows(
        writer,
        "security_firms",
        [
            dict(id=1, county_code="001", officers_registered=1000, partnered_on=D(2025, 6, 15)),
            dict(id=2, county_code="001", officers_registered=500, partnered_on=D(2025, 9, 1)),
            dict(id=3, county_code="032", officers_registered=400, partnered_on=D(2025, 7, 1)),
            dict(id=4, county_code="032", officers_registered=300, partnered_on=None),
        ],
    )
    insert_rows(writer, "rehab_referrals", _referrals())
    writer.dispose()
    return make_engine(empty_db_url)


NAN = float("nan")
EXPECTED_TOTAL = {
    "incidents_reported": 6,
    "incident_rate_per_100k": 6 / 7_000_000 * 100_000,
    "incidents_resolved_pct": 100 * 2 / 6,
    "incidents_resolved_7d_pct": 100 * 2 / 6,  # 3 and 7, in 10 and 4 hours
    "median_hours_to_acknowledge": 2.5,  # 1, 2, 3, 5
    "median_hours_to_resolve": 7.0,  # 4, 10
    "open_incidents": 3,
    "ras_registered": 3,
    "ras_active": 2,
    "ra_reporting_rate": 75.0,
    "ra_on_time_rate": 50.0,
    "forums_held": 4,
    "forum_attendance": 110,
    "joint_forum_pct": 50.0,
    "people_trained": 100,
    "trained_female_pct": 26.0,
    "trained_youth_pct": 40.0,
    "trained_certified_pct": 90.0,
    "private_security_coverage_pct": 100 * 160 / 1400,
    # Rehab counts are shown rounded to the nearest 5, and shares are of rounded counts.
    "rehab_referrals": 15,
    "referral_admission_pct": 100 * 10 / 15,  # 9 of 15, shown as 10 of 15
    "referral_admission_30d_pct": 100 * 10 / 15,  # 9 of 15, each within 10 days: 10 of 15
    "referral_completion_pct": NAN,  # 6 of 7: the single drop-out would show (complement rule)
    "referral_completion_90d_pct": NAN,  # no July referral is 90 days old by 31 August
    "median_days_to_admission": 5.0,  # 1..8 and 10
    "referral_youth_pct": 100 * 5 / 15,  # 7 of 15, shown as 5 of 15
}

EXPECTED_BY_COUNTY = {
    "001": {
        "incidents_reported": 3,
        "incident_rate_per_100k": 0.3,
        "incidents_resolved_pct": 100 / 3,
        "incidents_resolved_7d_pct": 100 / 3,
        "median_hours_to_acknowledge": 2.0,
        "median_hours_to_resolve": 10.0,
        "open_incidents": 2,
        "ras_registered": 2,
        "ras_active": 2,
        "ra_reporting_rate": 100.0,
        "ra_on_time_rate": 50.0,
        "forums_held": 2,
        "forum_attendance": 80,
        "joint_forum_pct": 50.0,
        "people_trained": 100,
        "trained_female_pct": 26.0,
        "trained_youth_pct": 40.0,
        "trained_certified_pct": 90.0,
        "private_security_coverage_pct": 6.0,
        "rehab_referrals": NAN,  # 12, hidden by secondary suppression (Nakuru's 3 is primary)
        "referral_admission_pct": NAN,  # 8 of 12 leaves 4 not admitted: hidden
        "referral_admission_30d_pct": NAN,  # the same 8 of 12
        "referral_completion_pct": NAN,  # 5 of 6 leaves 1 drop-out: hidden
        "referral_completion_90d_pct": NAN,  # none 90 days old
        "median_days_to_admission": 4.5,
        "referral_youth_pct": NAN,  # 6 of 12: would give the hidden 12 away
    },
    "032": {
        "incidents_reported": 3,
        "incident_rate_per_100k": 0.15,
        "incidents_resolved_pct": 100 / 3,
        "incidents_resolved_7d_pct": 100 / 3,
        "median_hours_to_acknowledge": 3.5,
        "median_hours_to_resolve": 4.0,
        "open_incidents": 1,
        "ras_registered": 1,
        "ras_active": 0,
        "ra_reporting_rate": 50.0,
        "ra_on_time_rate": 50.0,
        "forums_held": 2,
        "forum_attendance": 30,
        "joint_forum_pct": 50.0,
        "people_trained": 0,
        "trained_female_pct": NAN,
        "trained_youth_pct": NAN,
        "trained_certified_pct": NAN,
        "private_security_coverage_pct": 25.0,
        "rehab_referrals": NAN,
        "referral_admission_pct": NAN,
        "referral_admission_30d_pct": NAN,
        "referral_completion_pct": NAN,
        "referral_completion_90d_pct": NAN,
        "median_days_to_admission": NAN,
        "referral_youth_pct": NAN,
    },
    "047": {
        "incidents_reported": 0,
        "incident_rate_per_100k": 0.0,
        "incidents_resolved_pct": NAN,
        "incidents_resolved_7d_pct": NAN,
        "median_hours_to_acknowledge": NAN,
        "median_hours_to_resolve": NAN,
        "open_incidents": 0,
        "ras_registered": 0,
        "ras_active": 0,
        "ra_reporting_rate": NAN,
        "ra_on_time_rate": NAN,
        "forums_held": 0,
        "forum_attendance": 0,
        "joint_forum_pct": NAN,
        "people_trained": 0,
        "trained_female_pct": NAN,
        "trained_youth_pct": NAN,
        "trained_certified_pct": NAN,
        "private_security_coverage_pct": NAN,
        "rehab_referrals": 0,
        "referral_admission_pct": NAN,
        "referral_admission_30d_pct": NAN,
        "referral_completion_pct": NAN,
        "referral_completion_90d_pct": NAN,
        "median_days_to_admission": NAN,
        "referral_youth_pct": NAN,
    },
}


def test_every_indicator_overall(engine: Engine) -> None:
    row = indicators_frame(engine, PERIOD, threshold=5).iloc[0]
    assert set(EXPECTED_TOTAL) == set(INDICATOR_KEYS)
    wrong = {k: (row[k], v) for k, v in EXPECTED_TOTAL.items() if not same(row[k], v, tol=1e-12)}
    assert wrong == {}


def test_every_indicator_by_county_with_suppression(engine: Engine) -> None:
    frame = indicators_frame(engine, PERIOD, threshold=5, grain="county").set_index("county_code")
    assert list(frame.index) == ["001", "032", "047"]
    wrong = {
        (code, k): (frame.loc[code, k], v)
        for code, expected in EXPECTED_BY_COUNTY.items()
        for k, v in expected.items()
        if not same(frame.loc[code, k], v, tol=1e-12)
    }
    assert wrong == {}
    assert frame["rehab_referrals_suppressed"].tolist() == [True, True, False]
    assert frame.loc["032", "referral_admission_pct_suppressed"]
    assert frame.loc["001", "referral_admission_pct_suppressed"]
    assert frame.loc["001", "referral_youth_pct_suppressed"]  # its count is hidden


def test_county_selection_restricts_every_stream(engine: Engine) -> None:
    mombasa = replace(PERIOD, counties=("001",))
    row = indicators_frame(engine, mombasa, threshold=5).iloc[0]
    # Alone, Mombasa's 12 needs no protection, and neither does its youth share; 12 is shown
    # as 10 and its 6 youths as 5 (rounded to the nearest 5), so the share is 5 of 10.
    expected = dict(EXPECTED_BY_COUNTY["001"], rehab_referrals=10.0, referral_youth_pct=50.0)
    wrong = {k: (row[k], v) for k, v in expected.items() if not same(row[k], v, tol=1e-12)}
    assert wrong == {}


def test_scope_overrides_a_choice_outside_it(engine: Engine) -> None:
    sneaky = replace(PERIOD, counties=("001",), scope=("032",))
    row = indicators_frame(engine, sneaky, threshold=5).iloc[0]
    assert row["incidents_reported"] == 3 and row["forum_attendance"] == 30


def test_threshold_is_respected(engine: Engine) -> None:
    frame = indicators_frame(engine, PERIOD, threshold=2, grain="county").set_index("county_code")
    # With threshold 2 neither 3 nor 12 is a small count...
    assert not frame["rehab_referrals_small"].any()
    # ...but Nakuru's 3 referrals are three age bands of 1 each: with its breakdowns published
    # (the Rehabilitation page), its total would give them away, so it is hidden everywhere;
    # then Mombasa's 12 must go too, or 15 - 12 would reveal it.
    assert frame["rehab_referrals_suppressed"].tolist() == [True, True, False]
    assert frame.loc["047", "rehab_referrals"] == 0
    # Nakuru's single completion still hides its completion share.
    assert frame.loc["032", "referral_completion_pct_suppressed"]
    with_five = indicators_frame(engine, PERIOD, threshold=5, grain="county")
    assert with_five.set_index("county_code").loc["032", "rehab_referrals_small"]


def test_headline_compares_with_the_previous_period(engine: Engine) -> None:
    # 16-31 July against 30 June - 15 July (16 days each, after the launch).
    second_half = replace(PERIOD, start=D(2025, 7, 16))
    table = headline(engine, second_half, threshold=5).set_index("indicator")
    incidents = table.loc["incidents_reported"]
    assert (incidents["value"], incidents["comparison_value"]) == (2, 5)  # 5, 8 against 1-4, 7
    assert incidents["change"] == -3 and incidents["change_pct"] == -60.0
    assert math.isclose(incidents["z"], math.sqrt(2) * (math.sqrt(2) - math.sqrt(5)))
    assert incidents["test"] == "poisson" and not incidents["meaningful"]
    referrals = table.loc["rehab_referrals"]
    assert pd.isna(referrals["value"]) and referrals["small"]  # 3 in Nakuru on 20 July: "<5"
    assert pd.isna(referrals["change"])


@pytest.mark.parametrize("grain", [None, "county"])
def test_a_comparison_period_reads_only_the_compared_incident_indicators(
    engine: Engine, grain
) -> None:
    """A comparison is read only for like-for-like indicators: the incident frame leaves out
    the medians and open cases (the statement's costly parts), and what it keeps is exact."""
    frame = indicators_frame(engine, PERIOD, threshold=5, grain=grain, for_comparison=True)
    left_out = {
        "incidents_resolved_pct",
        "median_hours_to_acknowledge",
        "median_hours_to_resolve",
        "open_incidents",
    }
    assert not left_out & set(frame.columns)
    expected = {None: [EXPECTED_TOTAL], "county": list(EXPECTED_BY_COUNTY.values())}[grain]
    # Hand counts: reported on or before D - 7 (24 August: all of July), and of those the
    # ones resolved within 7 days (3 and 7, in 10 and 4 hours).
    followed = {None: [6], "county": [3, 3, 0]}[grain]
    resolved = {None: [2], "county": [1, 1, 0]}[grain]
    assert frame["n_followed_7d"].tolist() == followed
    assert frame["n_resolved_7d"].tolist() == resolved
    keys = ["incidents_reported", "incident_rate_per_100k", "incidents_resolved_7d_pct"]
    keys += [k for k in INDICATOR_KEYS if not k.startswith(("incident", "median_hours", "open"))]
    wrong = {
        (i, k): (frame.iloc[i][k], row[k])
        for i, row in enumerate(expected)
        for k in keys
        if not same(frame.iloc[i][k], row[k], tol=1e-12)
    }
    assert wrong == {}


def test_every_compared_incident_indicator_is_read_for_a_comparison() -> None:
    compared = {
        column
        for indicator in INDICATORS
        if indicator.stream == "incidents" and indicator.like_for_like
        for column in (indicator.key, indicator.poisson_count, *(indicator.share_counts or ()))
        if column
    }
    assert compared <= set(COMPARED_COLUMNS)
    never = {i.key for i in INDICATORS if i.stream == "incidents" and not i.like_for_like}
    assert never and not never & set(COMPARED_COLUMNS)


def test_no_comparison_before_the_launch(engine: Engine) -> None:
    """July 2025 against June: June starts before the launch on 8 June 2025."""
    table = headline(engine, PERIOD, threshold=5).set_index("indicator")
    assert table["change"].isna().all() and table["comparison_value"].isna().all()
    note = table.loc["incidents_reported", "note"]
    assert "before the programme began on 08 Jun 2025" in note


def test_the_dashboard_engine_cannot_write(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"readonly|read-only|read only"), engine.begin() as c:
        c.execute(metadata.tables["counties"].delete())


def test_ward_grain_and_ward_selection(empty_db_url: str) -> None:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", [dict(code="001", name="Mombasa", population=1_000_000)])
    insert_rows(
        writer,
        "wards",
        [
            dict(code="W1", name="Port Reitz", county_code="001"),
            dict(code="W2", name="Kipevu", county_code="001"),
        ],
    )
    at = T(2025, 7, 10, 8)
    insert_rows(
        writer,
        "incidents",
        [
            dict(
                id=1,
                county_code="001",
                ward_code="W1",
                reported_at=at,
                status="resolved",
                resolved_at=at + dt.timedelta(hours=6),
            ),
            dict(id=2, county_code="001", ward_code="W1", reported_at=at),
            dict(id=3, county_code="001", ward_code="W2", reported_at=at),
            dict(id=4, county_code="001", ward_code=None, reported_at=at),
        ],
    )
    insert_rows(
        writer,
        "rehab_referrals",
        [dict(id=i, county_code="001", ward_code="W1", referred_on=D(2025, 7, 3)) for i in range(7)]
        + [
            dict(id=10 + i, county_code="001", ward_code="W2", referred_on=D(2025, 7, 3))
            for i in range(2)
        ],
    )
    engine = make_engine(empty_db_url)
    mombasa = replace(PERIOD, counties=("001",))
    wards = indicators_frame(engine, mombasa, 5, grain="ward").set_index("ward_code")
    assert wards.loc["W1", "incidents_reported"] == 2 and wards.loc["W2", "incidents_reported"] == 1
    assert wards.loc["W1", "incidents_resolved_pct"] == 50.0
    assert wards["incident_rate_per_100k"].isna().all()  # wards have no census population
    # W2's 2 referrals are hidden; W1's 7 must go too, or 9 - 7 would reveal W2.
    assert wards["rehab_referrals_suppressed"].tolist() == [True, True]
    one_ward = replace(PERIOD, counties=("001",), wards=("W1",))
    row = indicators_frame(engine, one_ward, 5).iloc[0]
    assert row["incidents_reported"] == 2 and pd.isna(row["incident_rate_per_100k"])
    assert row["rehab_referrals"] == 5  # 7, rounded to the nearest 5
    assert headline(engine, one_ward, 5).set_index("indicator").loc["open_incidents", "value"] == 1


def test_timestamptz_views_on_a_nairobi_server_count_by_eat_day(
    make_pg_database, postgres_server, monkeypatch
) -> None:
    """A data team may expose `timestamptz` views on a server whose time zone is Nairobi; the
    dashboard's session works in UTC, so the EAT day boundaries stay exact."""
    from sqlalchemy import create_engine, text

    monkeypatch.delenv("PGTZ", raising=False)  # the test settings pin UTC; a real client may not
    url = make_pg_database()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        db = conn.execute(text("SELECT current_database()")).scalar()
        conn.execute(text(f"ALTER DATABASE \"{db}\" SET timezone TO 'Africa/Nairobi'"))
    admin.dispose()
    writer = make_engine(url, read_only=False)
    metadata.create_all(writer)
    insert_rows(writer, "counties", [dict(code="001", name="Mombasa")])
    insert_rows(
        writer,
        "incidents",
        [
            dict(id=1, county_code="001", reported_at=T(2025, 6, 30, 20, 59, 59)),
            dict(id=2, county_code="001", reported_at=T(2025, 6, 30, 21, 0, 0)),
        ],
    )
    with writer.begin() as conn:  # the same rows behind a timestamptz view
        conn.execute(text("ALTER TABLE incidents RENAME TO incidents_raw"))
        conn.execute(
            text(
                "CREATE VIEW incidents AS SELECT id, (reported_at AT TIME ZONE 'UTC') AS reported_at,"
                " occurred_at, county_code, ward_code, ra_id, latitude, longitude, category, channel,"
                " severity, status, acknowledged_at, resolved_at, responder, updated_at"
                " FROM incidents_raw"
            )
        )
    july = Filters(start=D(2025, 7, 1), end=D(2025, 7, 31), preset="custom")
    assert indicators_frame(make_engine(url), july, 5).iloc[0]["incidents_reported"] == 1
