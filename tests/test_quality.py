"""Data-quality findings: the demo's planted faults are found exactly, hand-made faults on both
engines, and only administrators see the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dashboard.pages import DATA_QUALITY
from queries import demo
from queries.db import make_engine
from queries.filters import Filters
from queries.quality import quality_checks, unknown_values
from tests.app_support import open_page
from tests.clock import TEST_NOW_DATE
from tests.rows import insert_rows

EVERYTHING = Filters(start=dt.date(2020, 1, 1), end=dt.date(2035, 12, 31), preset="custom")


def test_the_demo_faults_are_found_exactly(demo_db_path: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    found = {
        (r.table_name, r.column_name, r.value): r.row_count
        for r in unknown_values(engine, EVERYTHING, 5).itertuples()
    }
    planted = {
        (table, column, value): count
        for (table, column), values in demo.PLANTED_INVALID_VALUES.items()
        for value, count in values.items()
    }
    # Referral rows are people in treatment: their 2 unknown substances read as hidden.
    assert planted[("rehab_referrals", "substance", "unknown_drug")] == 2
    assert pd.isna(found.pop(("rehab_referrals", "substance", "unknown_drug")))
    del planted[("rehab_referrals", "substance", "unknown_drug")]
    assert found == planted
    checks = quality_checks(engine, EVERYTHING, 5).set_index("check")["row_count"]
    assert checks["Incident coordinates outside Kenya"] == len(demo.OUT_OF_KENYA_COORDINATES)
    assert checks["Incident resolved_at does not match status"] == 0


def test_hand_made_faults(empty_db_url: str) -> None:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", [dict(code="001"), dict(code="032")])
    insert_rows(
        writer, "wards", [dict(code="W1", county_code="001"), dict(code="W2", county_code="032")]
    )
    at = dt.datetime(2025, 7, 10, 12)
    insert_rows(
        writer,
        "incidents",
        [
            dict(id=1, county_code="001", reported_at=at, latitude=51.5, longitude=-0.1),
            dict(
                id=2,
                county_code="001",
                reported_at=at,
                ward_code="W2",
                latitude=-4.0,
                longitude=39.6,
            ),
            dict(id=3, county_code="001", reported_at=at, status="resolved"),
            dict(id=4, county_code="999", reported_at=at, category="cattle_rustling"),
            dict(
                id=5,
                county_code="001",
                reported_at=at,
                category="cattle_rustling",
                acknowledged_at=at - dt.timedelta(hours=1),
            ),
            dict(
                id=6,
                county_code="001",
                reported_at=dt.datetime(2024, 1, 1),
                category="cattle_rustling",
            ),  # outside the period: not counted
        ],
    )
    engine = make_engine(empty_db_url)
    period = Filters(start=dt.date(2025, 7, 1), end=dt.date(2025, 7, 31), preset="custom")
    checks = quality_checks(engine, period, 5).set_index("check")["row_count"].to_dict()
    assert checks["Incident coordinates outside Kenya"] == 1
    assert checks["Incident without coordinates"] == 3
    assert checks["Incident in an unknown county"] == 1
    assert checks["Incident ward not in its county"] == 1
    assert checks["Incident resolved_at does not match status"] == 1
    assert checks["Incident acknowledged before it was reported"] == 1
    unknown = unknown_values(engine, period, 5)[["table_name", "column_name", "value", "row_count"]]
    assert unknown.to_dict("records") == [
        dict(table_name="incidents", column_name="category", value="cattle_rustling", row_count=2)
    ]
    only_001 = Filters(start=period.start, end=period.end, scope=("001",))
    assert unknown_values(engine, only_001, 5)["row_count"].tolist() == [1]


@pytest.mark.parametrize(
    ("role", "sees_it"), [("admin", True), ("national", False), ("county", False)]
)
def test_only_administrators_see_the_page(demo_db_path, monkeypatch, role, sees_it) -> None:
    # "In the future" is the wall clock's: a few days after the demo's snapshot, on any day.
    monkeypatch.setattr("queries.filters.today_eat", lambda: TEST_NOW_DATE)
    at = open_page(demo_db_path, monkeypatch, {})
    at.radio(key="demo_role").set_value(role).run()
    if sees_it:
        at.switch_page(DATA_QUALITY.view).run()
        assert not at.exception and not at.error
        assert at.title[0].value == "Data quality"
        assert len(at.dataframe) == 2
    else:
        with pytest.raises(Exception):  # noqa: B017 - not a page of this user's navigation
            at.switch_page(DATA_QUALITY.view).run()
