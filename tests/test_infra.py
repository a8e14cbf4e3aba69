"""Tests of the test infrastructure: the PostgreSQL server, the contract databases, the read-only
role, the pinned timezone and the "no skipped suite" rule."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from queries.db import make_engine, missing_tables
from queries.schema import CONTRACT_TABLES, counties, metadata

PROJECT_ROOT = Path(__file__).resolve().parent.parent

NAIROBI = {
    "code": "047",
    "name": "Nairobi City",
    "population": 4397073,
    "area_km2": 703.9,
    "latitude": -1.2864,
    "longitude": 36.8172,
}


def test_postgres_server_answers(pg_admin_url: str) -> None:
    engine = create_engine(pg_admin_url, poolclass=NullPool)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version()")).scalar_one()
        timezone = conn.execute(text("SHOW timezone")).scalar_one()
        fsync = conn.execute(text("SHOW fsync")).scalar_one()
    engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert timezone == "UTC"
    assert fsync == "off"
    assert make_url(pg_admin_url).host == "127.0.0.1"


def test_postgres_write_then_read_through_read_only_engine(
    make_pg_database: Callable[..., str],
) -> None:
    url = make_pg_database("infra_roundtrip")
    writer = create_engine(url, poolclass=NullPool)
    metadata.create_all(writer)
    with writer.begin() as conn:
        conn.execute(insert(counties).values(**NAIROBI))
    writer.dispose()

    reader = make_engine(url)  # read-only on PostgreSQL
    try:
        with reader.connect() as conn:
            row = conn.execute(select(counties.c.code, counties.c.population)).one()
            assert tuple(row) == ("047", 4397073)
            with pytest.raises(DBAPIError) as caught:
                conn.execute(insert(counties).values(**{**NAIROBI, "code": "001"}))
        assert isinstance(caught.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    finally:
        reader.dispose()


def test_make_pg_database_starts_empty_even_if_the_name_exists(
    make_pg_database: Callable[..., str],
) -> None:
    url = make_pg_database("infra_recreated")
    engine = create_engine(url, poolclass=NullPool)
    metadata.create_all(engine)
    engine.dispose()

    url_again = make_pg_database("infra_recreated")
    engine = create_engine(url_again, poolclass=NullPool)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_empty_db_url_has_every_contract_table_and_no_rows(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert missing_tables(engine) == []
        assert set(inspect(engine).get_table_names()) == set(CONTRACT_TABLES)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    finally:
        engine.dispose()


def test_empty_db_url_takes_hand_made_rows(empty_db_url: str) -> None:
    writer = create_engine(empty_db_url, poolclass=NullPool)
    with writer.begin() as conn:
        conn.execute(insert(counties).values(**NAIROBI))
    writer.dispose()
    reader = make_engine(empty_db_url)
    try:
        with reader.connect() as conn:
            assert conn.execute(select(counties.c.name)).scalar_one() == "Nairobi City"
    finally:
        reader.dispose()


@pytest.fixture
def reader_url(make_pg_database: Callable[..., str], readonly_role: Callable[[str], str]) -> str:
    """The read-only role's URL for a contract database holding one county."""
    url = make_pg_database("infra_reporting")
    owner = create_engine(url, poolclass=NullPool)
    metadata.create_all(owner)
    with owner.begin() as conn:
        conn.execute(insert(counties).values(**NAIROBI))
    owner.dispose()
    return readonly_role("infra_reporting")


def test_readonly_role_can_select_every_contract_table(reader_url: str) -> None:
    # A plain engine, not make_engine: the role's privileges alone must stop writes.
    engine = create_engine(reader_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == "dashboard_reader"
            assert conn.execute(select(counties.c.code)).scalar_one() == "047"
            for table in metadata.sorted_tables:
                conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO counties (code, name, population, area_km2, latitude, longitude) "
        "VALUES ('001', 'Mombasa', 1208333, 219.9, -4.04, 39.67)",
        "UPDATE counties SET population = 0",
        "DELETE FROM counties",
        "CREATE TABLE sneaky (id integer)",
    ],
    ids=["insert", "update", "delete", "create"],
)
def test_readonly_role_cannot_write(reader_url: str, statement: str) -> None:
    engine = create_engine(reader_url, poolclass=NullPool)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
            conn.execute(text(statement))
        assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege)
    finally:
        engine.dispose()


def test_timezone_is_pinned() -> None:
    assert os.environ["TZ"] == os.environ.get("USALAMA_TEST_TZ", "UTC")
    if "USALAMA_TEST_TZ" not in os.environ:
        assert time.localtime(0).tm_gmtoff == 0


def _run_inner_pytest(tmp_path: Path, files: dict[str, str], require_all: bool) -> tuple[int, str]:
    """Run pytest on throwaway test files with this project's conftest loaded as a plugin."""
    for name, source in files.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("USALAMA_REQUIRE_ALL_SUITES", None)
    if require_all:
        env["USALAMA_REQUIRE_ALL_SUITES"] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


PASSING = "def test_ok():\n    assert True\n"
SKIP_MARK = """
    import pytest

    def test_ok():
        assert True

    @pytest.mark.skip(reason="later")
    def test_skipped():
        pass
"""
SKIP_CALL = """
    import pytest

    def test_ok():
        assert True

    def test_skipped():
        pytest.skip("no database")
"""
XFAIL = """
    import pytest

    def test_ok():
        assert True

    @pytest.mark.xfail(reason="known bug")
    def test_xfailed():
        assert False
"""
MODULE_SKIP = """
    import pytest

    pytest.importorskip("no_such_module_xyz")

    def test_never_collected():
        pass
"""


@pytest.mark.parametrize(
    ("files", "what"),
    [
        ({"test_a.py": SKIP_MARK}, "SKIPPED"),
        ({"test_a.py": SKIP_CALL}, "SKIPPED"),
        ({"test_a.py": XFAIL}, "XFAIL"),
        ({"test_a.py": PASSING, "test_b.py": MODULE_SKIP}, "SKIPPED (whole module)"),
    ],
    ids=["skip-mark", "skip-call", "xfail", "module-skip"],
)
def test_no_skip_rule_fails_a_session_that_skipped(
    tmp_path: Path, files: dict[str, str], what: str
) -> None:
    code, output = _run_inner_pytest(tmp_path, files, require_all=True)
    assert code == 1, output
    assert what in output
    assert "skipped or xfailed while every suite is required" in output

    code, output = _run_inner_pytest(tmp_path, files, require_all=False)
    assert code == 0, output


def test_no_skip_rule_passes_a_clean_session(tmp_path: Path) -> None:
    code, output = _run_inner_pytest(tmp_path, {"test_a.py": PASSING}, require_all=True)
    assert code == 0, output
    assert "1 passed" in output


def test_a_session_without_tests_fails(tmp_path: Path) -> None:
    code, output = _run_inner_pytest(tmp_path, {"test_a.py": "X = 1\n"}, require_all=True)
    assert code == pytest.ExitCode.NO_TESTS_COLLECTED, output
