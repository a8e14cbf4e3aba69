"""`python -m queries.check`: a fixture with one example of each defect is reported line by line
and exits 1; a clean database exits 0; the demo reports exactly its planted faults; a missing
table, column or wrong type is named; usage and connection errors exit 2."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from queries import check, demo
from queries.db import make_engine
from queries.schema import metadata
from tests.clock import TEST_NOW, TEST_NOW_DATE
from tests.rows import THREE_COUNTIES, create_loose_tables, insert_rows

ROOT = Path(__file__).resolve().parent.parent

NOW = TEST_NOW  # UTC: a few days after the demo's snapshot (tests/clock.py)
AT = dt.datetime(2025, 7, 10, 12, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def loose_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loose.sqlite'}"
    else:
        url = request.getfixturevalue("make_pg_database")()
    create_loose_tables(url)
    writer = make_engine(url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)
    insert_rows(writer, "wards", [dict(code="W1", county_code="001")])
    writer.dispose()
    return url


def _clean_rows(url: str) -> None:
    writer = make_engine(url, read_only=False)
    insert_rows(
        writer,
        "incidents",
        [
            dict(
                id=1,
                county_code="001",
                ward_code="W1",
                reported_at=AT,
                latitude=-4.0,
                longitude=39.6,
            ),
            dict(
                id=2,
                county_code="032",
                reported_at=AT,
                latitude=-0.3,
                longitude=36.1,
                status="resolved",
                resolved_at=AT + dt.timedelta(hours=5),
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
                held_on=AT.date(),
                participants=10,
                participants_female=4,
                participants_youth=3,
                certified=8,
            )
        ],
    )
    insert_rows(
        writer,
        "rehab_referrals",
        [
            dict(
                id=1,
                county_code="001",
                referred_on=AT.date(),
                status="admitted",
                assessed_on=AT.date(),
                admitted_on=AT.date() + dt.timedelta(days=3),
            )
        ],
    )
    writer.dispose()


def _one_of_each_defect(url: str) -> None:
    writer = make_engine(url, read_only=False)
    incident = dict(county_code="001", reported_at=AT, latitude=-4.0, longitude=39.6)
    insert_rows(
        writer,
        "incidents",
        [
            dict(incident, id=10, category="cattle_rustling"),  # unknown value
            dict(incident, id=11, county_code="999"),  # unknown county
            dict(incident, id=12, reported_at=dt.datetime(2030, 1, 1)),  # in the future
            dict(
                incident,
                id=13,
                status="resolved",  # resolved before reported
                resolved_at=AT - dt.timedelta(hours=2),
            ),
            dict(incident, id=14, latitude=51.5, longitude=-0.1),  # outside Kenya
            dict(incident, id=15),
            dict(incident, id=15),  # duplicate id
        ],
    )
    insert_rows(
        writer,
        "forums",
        [
            dict(id=1, county_code="001", ward_code="W9", held_on=AT.date()),  # unknown ward
            dict(id=2, county_code="001", held_on=dt.date(2019, 6, 1)),  # before 2020
        ],
    )
    insert_rows(
        writer,
        "trainings",
        [
            dict(
                id=1,
                county_code="001",
                held_on=AT.date(),
                participants=None,  # NULL required
                participants_female=1,
                participants_youth=1,
                certified=1,
            ),
        ],
    )
    insert_rows(
        writer,
        "rehab_referrals",
        [
            dict(
                id=1,
                county_code="001",
                referred_on=AT.date(),
                status="admitted",  # backwards
                admitted_on=AT.date() - dt.timedelta(days=2),
            ),
        ],
    )
    if writer.dialect.name == "sqlite":  # a second spelling of reported_at
        with writer.begin() as connection:
            connection.execute(
                text("UPDATE incidents SET reported_at = '2025-07-10T12:00:00' WHERE id = 10")
            )
    writer.dispose()


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = check.main(list(args), now=NOW)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lines(out: str) -> set[str]:
    return {" ".join(line.split()) for line in out.splitlines()}


def test_a_clean_database_conforms(loose_url: str, capsys) -> None:
    _clean_rows(loose_url)
    code, out, _ = _run(capsys, "--url", loose_url)
    assert code == 0, out
    assert "Result: conforms to the data contract." in out
    assert "incidents Incident without coordinates" not in out


def test_one_example_of_each_defect_is_reported(loose_url: str, capsys) -> None:
    _one_of_each_defect(loose_url)
    code, out, _ = _run(capsys, "--url", loose_url)
    assert code == 1
    expected = {
        "incidents Incident coordinates outside Kenya 1 row",
        "incidents Incident resolved before it was reported 1 row",
        "incidents Incident in an unknown county 1 row",
        "forums Forum ward not in its county 1 row",
        "rehab_referrals Referral admitted before it was referred 1 row",
        "incidents Duplicate id 2 rows",
        "incidents date reported_at in the future 1 row",
        "forums date held_on before 2020 1 row",
        "incidents.category value 'cattle_rustling' 1 row",
        "trainings.participants NULL 1 row",
    }
    sqlite = loose_url.startswith("sqlite")
    if sqlite:
        expected |= {
            "incidents.reported_at written as YYYY-MM-DD hh:mm:ss 6 rows",
            "incidents.reported_at written as YYYY-MM-DDThh:mm:ss 1 row",
        }
    found = {line for line in _lines(out) if line.endswith(("row", "rows"))}
    assert found == expected, out
    assert f"does NOT conform: {len(expected)} findings" in out


def test_a_missing_table_column_or_wrong_type_is_named(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'shape.sqlite'}"
    writer = make_engine(url, read_only=False)
    metadata.create_all(writer)
    with writer.begin() as connection:
        connection.execute(text("DROP TABLE targets"))
        connection.execute(text("ALTER TABLE trainings DROP COLUMN certified"))
        connection.execute(text("ALTER TABLE security_firms DROP COLUMN officers_registered"))
        connection.execute(text("ALTER TABLE security_firms ADD COLUMN officers_registered TEXT"))
    writer.dispose()
    code, out, _ = _run(capsys, "--url", url)
    assert code == 1
    lines = _lines(out)
    assert "targets table or view missing" in lines
    assert "trainings.certified column missing" in lines
    assert "security_firms.officers_registered type should be integer, is TEXT" in lines
    assert "The row checks were not run" in out


def test_the_demo_reports_exactly_its_planted_faults(demo_db_path: Path, capsys) -> None:
    code, out, _ = _run(capsys, "--url", f"sqlite:///{demo_db_path}")
    assert code == 1  # the demo plants faults on purpose (README, "Demo data")
    found = {line for line in _lines(out) if line.endswith(("row", "rows"))}
    planted = {
        f"{table}.{column} value {value!r} {count} row{'' if count == 1 else 's'}"
        for (table, column), values in demo.PLANTED_INVALID_VALUES.items()
        for value, count in values.items()
    }
    outside = len(demo.OUT_OF_KENYA_COORDINATES)
    planted.add(f"incidents Incident coordinates outside Kenya {outside} rows")
    breaches = {line for line in found if "Incident without coordinates" not in line}
    assert breaches == planted


def test_usage_and_connection_errors_exit_2(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "queries.check"]
    bad = subprocess.run([*command, "--bogus"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr
    missing = subprocess.run(
        [*command, "--url", f"sqlite:///{tmp_path / 'absent.sqlite'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: cannot check") and "does not exist" in missing.stderr
    down = subprocess.run(
        [*command, "--url", "postgresql+psycopg://nobody:secret@127.0.0.1:9/none"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert down.returncode == 2 and "secret" not in down.stderr


def test_the_data_quality_page_shows_the_checker_s_findings(
    demo_db_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A demo copy with a timestamp written with 'T' and a forum dated in 2030: the page and the
    checker report both, from the same functions."""
    import shutil
    import sqlite3

    from dashboard.pages import DATA_QUALITY
    from tests.app_support import open_page

    db = tmp_path / "demo-copy.sqlite"
    shutil.copy(demo_db_path, db)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE incidents SET reported_at = replace(reported_at, ' ', 'T') "
            "WHERE id = (SELECT min(id) FROM incidents)"
        )
        connection.execute(
            "UPDATE forums SET held_on = '2030-01-01' WHERE id = (SELECT min(id) FROM forums)"
        )
    code, out, _ = _run(capsys, "--url", f"sqlite:///{db}")
    lines = _lines(out)
    assert code == 1
    assert "forums date held_on in the future 1 row" in lines
    assert "incidents.reported_at written as YYYY-MM-DDThh:mm:ss 1 row" in lines

    # The page's "in the future" is the wall clock's: the same day as the checker's.
    monkeypatch.setattr("queries.filters.today_eat", lambda: TEST_NOW_DATE)
    at = open_page(db, monkeypatch, {})
    at.radio(key="demo_role").set_value("admin").run()
    at.switch_page(DATA_QUALITY.view).run()
    assert not at.exception and not at.error
    tables = {tuple(t.value.columns): t.value for t in at.dataframe}
    keys = tables[("Check", "Table", "Rows")]
    keys = keys[keys["Check"] == "held_on in the future"]
    assert [(t, float(n)) for t, n in keys[["Table", "Rows"]].values] == [("forums", 1.0)]
    spellings = tables[("Table", "Column", "Written as", "Rows")]
    with sqlite3.connect(db) as connection:
        (incidents,) = connection.execute("SELECT count(*) FROM incidents").fetchone()
    assert [(*row[:3], float(row[3])) for row in spellings.values.tolist()] == [
        ("incidents", "reported_at", "YYYY-MM-DD hh:mm:ss", incidents - 1.0),
        ("incidents", "reported_at", "YYYY-MM-DDThh:mm:ss", 1.0),
    ]
