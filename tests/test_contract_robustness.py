"""A database that breaks the contract in the ways writers do: NULLs in required columns (rules in
docs/data-contract.md, and counted on the data-quality page) and a missing column (named on
screen, with the contract, and no "try again later")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.pool import NullPool

from queries.associations import forums_by_county
from queries.db import make_engine, missing_columns
from queries.filters import Filters
from queries.indicators import indicators_frame
from queries.quality import required_nulls
from queries.schema import metadata
from queries.training import people_trained_by_audience, training_measures
from tests.app_support import clear_caches, run_app, use_demo_db
from tests.query_support import same
from tests.rows import THREE_COUNTIES, insert_rows

D = dt.date
JULY = Filters(D(2025, 7, 1), D(2025, 7, 31), as_of=D(2025, 8, 31))


def _lenient_url(request: pytest.FixtureRequest, tmp_path: Path, engine_name: str) -> str:
    """The contract schema with every column but the keys nullable: a ministry view can hand
    the dashboard NULLs the contract forbids."""
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'lenient.sqlite'}"
    else:
        url = request.getfixturevalue("make_pg_database")()
    lenient = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(lenient)
        for column in copy.columns:
            column.nullable = not column.primary_key
    engine = create_engine(url, poolclass=NullPool)
    lenient.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def lenient_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _lenient_url(request, tmp_path, request.param)


def _training(row_id: int, participants: int | None, female: int, youth: int, certified: int):
    return dict(
        id=row_id,
        county_code="001",
        held_on=D(2025, 7, 10),
        participants=participants,
        participants_female=female,
        participants_youth=youth,
        certified=certified,
    )


def test_a_training_with_unknown_participants_is_left_out_of_every_share(lenient_url: str) -> None:
    writer = make_engine(lenient_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(
        writer,
        "trainings",
        [
            _training(1, 60, 30, 12, 48),
            _training(2, 40, 10, 8, 32),
            # Unknown participants: its 10 certified must not lift 80% to 90%.
            _training(3, None, 10, 10, 10),
        ],
    )
    insert_rows(writer, "forums", [dict(id=1, county_code="001", held_on=D(2025, 7, 5))])
    with writer.begin() as connection:
        connection.execute(text("UPDATE forums SET attendance = NULL"))
    writer.dispose()
    engine = make_engine(lenient_url)

    expected = {
        "people_trained": 100,
        "trained_female_pct": 40.0,
        "trained_youth_pct": 20.0,
        "trained_certified_pct": 80.0,
    }
    measures = training_measures(engine, JULY).iloc[0]
    frame = indicators_frame(engine, JULY, 5).iloc[0]
    for key, value in expected.items():
        assert same(measures[key], value), key
        assert same(frame[key], value), key
    by_audience = people_trained_by_audience(engine, JULY).set_index("audience").loc["residents"]
    assert by_audience["people_trained"] == 100 and same(by_audience["certified_pct"], 80.0)
    # A forum with unknown attendance is held; its attendance adds nothing.
    assert frame["forums_held"] == 1 and frame["forum_attendance"] == 0

    nulls = required_nulls(engine, JULY, 5).set_index(["table_name", "column_name"])["row_count"]
    assert nulls[("trainings", "participants")] == 1
    assert nulls[("forums", "attendance")] == 1
    assert nulls[("trainings", "certified")] == 0
    assert nulls[nulls > 0].sum() == 2
    # A user limited to Nakuru sees Nakuru's rows only.
    nakuru = Filters(JULY.start, JULY.end, scope=("032",))
    assert required_nulls(engine, nakuru, 5)["row_count"].sum() == 0


@pytest.fixture
def db_without_a_column(tmp_path: Path) -> Path:
    path = tmp_path / "no-column.sqlite"
    writer = make_engine(f"sqlite:///{path}", read_only=False)
    metadata.create_all(writer)
    insert_rows(writer, "counties", THREE_COUNTIES)
    with writer.begin() as connection:
        connection.execute(text("ALTER TABLE trainings DROP COLUMN certified"))
        connection.execute(text("ALTER TABLE forums DROP COLUMN updated_at"))  # optional
    writer.dispose()
    return path


def test_missing_columns_are_found(db_without_a_column: Path) -> None:
    engine = make_engine(f"sqlite:///{db_without_a_column}")
    assert missing_columns(engine) == [("trainings", "certified")]


def test_the_app_names_the_missing_column_and_the_contract(
    db_without_a_column: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_demo_db(db_without_a_column, monkeypatch)  # the demo route: no login needed
    clear_caches()
    at = run_app()
    errors = [element.value for element in at.error]
    assert errors == [
        "The reporting database does not follow the reporting data contract v1.1 "
        "(docs/data-contract.md): table trainings has no column certified. Ask the ministry "
        "data team to add it (`python -m queries.check` lists every difference); nothing was "
        "changed."
    ]
    assert not [b for b in at.button if b.key == "retry"]  # retrying cannot add a column
    assert "Try again later" not in " ".join(errors)


def test_each_training_share_leaves_out_sessions_whose_numerator_is_unknown(
    lenient_url: str,
) -> None:
    writer = make_engine(lenient_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(
        writer,
        "trainings",
        [
            _training(1, 60, 30, 12, 48),
            _training(2, 40, None, 8, 32),  # female unknown
            _training(3, 50, 20, None, None),  # youth and certified unknown
        ],
    )
    writer.dispose()
    engine = make_engine(lenient_url)
    # Worked by hand: each share over the sessions whose numerator is known.
    expected = {
        "people_trained": 150,  # every session with known participants
        "trained_female_pct": 100 * (30 + 20) / (60 + 50),  # sessions 1 and 3
        "trained_youth_pct": 100 * (12 + 8) / (60 + 40),  # sessions 1 and 2
        "trained_certified_pct": 100 * (48 + 32) / (60 + 40),  # sessions 1 and 2
    }
    frame = indicators_frame(engine, JULY, 5).iloc[0]
    for key, value in expected.items():
        assert same(frame[key], value), (key, frame[key], value)
    by_audience = people_trained_by_audience(engine, JULY).set_index("audience").loc["residents"]
    assert by_audience["people_trained"] == 150
    assert same(by_audience["female_pct"], expected["trained_female_pct"])
    assert same(by_audience["youth_pct"], expected["trained_youth_pct"])
    assert same(by_audience["certified_pct"], expected["trained_certified_pct"])
    nulls = required_nulls(engine, JULY, 5).set_index(["table_name", "column_name"])["row_count"]
    assert nulls[("trainings", "participants_female")] == 1
    assert nulls[("trainings", "participants_youth")] == 1
    assert nulls[("trainings", "certified")] == 1
    assert nulls[("trainings", "participants")] == 0


def _forum(row_id: int, police, ngao, private, attendance=20) -> dict:
    return dict(
        id=row_id,
        county_code="001",
        held_on=D(2025, 7, 5),
        police_present=police,
        ngao_present=ngao,
        private_security_present=private,
        attendance=attendance,
    )


def test_joint_forum_share_leaves_out_forums_whose_presence_is_undecided(
    lenient_url: str,
) -> None:
    writer = make_engine(lenient_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(
        writer,
        "forums",
        [
            _forum(1, True, True, None, attendance=10),  # joint whatever private security was
            _forum(2, False, None, None, attendance=None),  # no police: not joint
            _forum(3, True, False, None),  # undecided: left out
            _forum(4, None, True, True),  # undecided: left out
            _forum(5, True, False, False),  # not joint
        ],
    )
    writer.dispose()
    engine = make_engine(lenient_url)
    row = indicators_frame(engine, JULY, 5).iloc[0]
    assert row["forums_held"] == 5
    assert row["forum_attendance"] == 10 + 20 + 20 + 20
    assert same(row["joint_forum_pct"], 100 * 1 / 3)  # forum 1 of forums 1, 2 and 5
    county = forums_by_county(engine, JULY).set_index("county_code").loc["001"]
    assert same(county["joint_forum_pct"], 100 * 1 / 3)
    assert same(county["attendance_per_forum"], 70 / 4)  # over the 4 known attendances
    nulls = required_nulls(engine, JULY, 5).set_index(["table_name", "column_name"])["row_count"]
    assert nulls[("forums", "police_present")] == 1
    assert nulls[("forums", "ngao_present")] == 1
    assert nulls[("forums", "private_security_present")] == 3
    assert nulls[("forums", "attendance")] == 1


def test_an_association_with_unknown_status_is_registered(lenient_url: str) -> None:
    writer = make_engine(lenient_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(
        writer,
        "residents_associations",
        [
            dict(id=1, county_code="001", status="active"),
            dict(id=2, county_code="001", status=None),  # not known to be suspended
            dict(id=3, county_code="001", status="suspended"),
        ],
    )
    writer.dispose()
    engine = make_engine(lenient_url)
    assert indicators_frame(engine, JULY, 5).iloc[0]["ras_registered"] == 2
    nulls = required_nulls(engine, JULY, 5).set_index(["table_name", "column_name"])["row_count"]
    assert nulls[("residents_associations", "status")] == 1
