"""Shared test fixtures: a real PostgreSQL server (tests/pg_server.py), empty contract databases,
a read-only role.

Also enforces the "no skipped suite" rule: with USALAMA_REQUIRE_ALL_SUITES=1 (set by `./dev test`
and so by CI) a session in which any test was skipped or xfailed fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from dashboard.charts.common import VALIDATE_FIGURES_ENV
from queries.schema import metadata
from tests.clock import TEST_TODAY
from tests.isolation import drop_app_settings, read_only_suite_secrets
from tests.pg_server import PostgresServer, start_postgres, stop_postgres

# Before anything reads them: the developer's own settings and secrets never reach the app under
# test (tests/isolation.py).
_DROPPED_SETTINGS = drop_app_settings()
read_only_suite_secrets()

# The app builds its figures as unvalidated Plotly specs (dashboard/charts/common.py); under the
# tests, in this process and the servers it starts, Plotly checks every figure they draw. So
# pages drawn under the tests take longer than in production: time them with bench/, not here.
os.environ[VALIDATE_FIGURES_ENV] = "1"

# Tests must not depend on the machine's timezone: pin it for this process, its children (the
# Streamlit server of browser tests) and PostgreSQL sessions. USALAMA_TEST_TZ lets a developer
# rerun the suite in another zone to catch code that reads local time.
os.environ["TZ"] = os.environ.get("USALAMA_TEST_TZ", "UTC")
os.environ["PGTZ"] = "UTC"
time.tzset()

REQUIRE_ALL_ENV = "USALAMA_REQUIRE_ALL_SUITES"
READER_ROLE = "dashboard_reader"
READER_PASSWORD = "reader"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


_STARTED_SERVERS: list[PostgresServer] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session; the fixture fails (never skips) if the
    server cannot start."""
    try:
        server = start_postgres()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"PostgreSQL test server did not start: {exc}", pytrace=False)
    _STARTED_SERVERS.append(server)
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def pg_admin_url(postgres_server: PostgresServer) -> str:
    """Superuser URL of the test server's `postgres` database."""
    return postgres_server.url()


@pytest.fixture(scope="session")
def pg_admin_engine(pg_admin_url: str) -> Iterator[Engine]:
    """Superuser engine in autocommit mode (CREATE/DROP DATABASE cannot run in a transaction)."""
    engine = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    engine.dispose()


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
    return name


@pytest.fixture
def make_pg_database(
    postgres_server: PostgresServer, pg_admin_engine: Engine
) -> Iterator[Callable[..., str]]:
    """`make_pg_database(name=None) -> url`: a fresh, empty database (dropped first if it exists),
    owned by the superuser; every database made in the test is dropped afterwards."""
    made: list[str] = []

    def make(name: str | None = None) -> str:
        name = _check_identifier(name or f"test_{uuid.uuid4().hex[:12]}")
        with pg_admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return postgres_server.url(name)

    yield make
    with pg_admin_engine.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty, writable database with every contract table, on each engine in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contract.sqlite'}"
    else:
        # Looked up lazily, so SQLite-only runs never start PostgreSQL.
        url = request.getfixturevalue("make_pg_database")()
    engine = create_engine(url, poolclass=NullPool)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    return url


def readonly_role_sql(database: str) -> tuple[list[str], list[str]]:
    """The SQL that gives the dashboard a read-only login, as (cluster part, database part).

    A superuser runs the cluster part connected to any database, then the database part connected
    to the reporting database (here called `reporting`)::

        -- cluster part
        CREATE ROLE dashboard_reader LOGIN PASSWORD 'reader';
        GRANT CONNECT ON DATABASE reporting TO dashboard_reader;

        -- database part, connected to `reporting`
        GRANT USAGE ON SCHEMA public TO dashboard_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO dashboard_reader;
        -- tables created later by the same owner are readable too
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dashboard_reader;
        -- PostgreSQL 15+ already denies CREATE on public to other roles; older versions do not
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;

    Use a real password in production. The role can read every contract table and nothing else:
    INSERT, UPDATE, DELETE and CREATE TABLE fail with "permission denied".

    Args:
        database: the reporting database's name.

    Returns:
        The two lists of statements, exactly as the tests run them.
    """
    database = _check_identifier(database)
    cluster = [
        f"CREATE ROLE {READER_ROLE} LOGIN PASSWORD '{READER_PASSWORD}'",
        f'GRANT CONNECT ON DATABASE "{database}" TO {READER_ROLE}',
    ]
    in_database = [
        f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READER_ROLE}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    return cluster, in_database


@pytest.fixture
def readonly_role(
    postgres_server: PostgresServer,
    pg_admin_engine: Engine,
    make_pg_database: Callable[..., str],  # so this is torn down before the databases go
) -> Iterator[Callable[[str], str]]:
    """`readonly_role(database) -> url`: the `dashboard_reader` role (see `readonly_role_sql`)
    with read access to that database, and its URL; the role is dropped after the test."""
    granted: list[str] = []

    def grant(database: str) -> str:
        cluster, in_database = readonly_role_sql(database)
        with pg_admin_engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": READER_ROLE}
            ).first()
            for statement in cluster:
                if exists and statement.startswith("CREATE ROLE"):
                    statement = statement.replace("CREATE ROLE", "ALTER ROLE", 1)
                conn.execute(text(statement))
        db_engine = create_engine(
            postgres_server.url(database), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            with db_engine.connect() as conn:
                for statement in in_database:
                    conn.execute(text(statement))
        finally:
            db_engine.dispose()
        granted.append(database)
        return postgres_server.url(database, user=READER_ROLE, password=READER_PASSWORD)

    yield grant
    if not granted:
        return
    with pg_admin_engine.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
            {"role": READER_ROLE},
        )
        existing = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    # DROP OWNED revokes the role's privileges (and default privileges) in one database at a time.
    for database in dict.fromkeys(granted):
        if database not in existing:
            continue
        db_engine = create_engine(
            postgres_server.url(database), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            with db_engine.connect() as conn:
                conn.execute(text(f"DROP OWNED BY {READER_ROLE}"))
        finally:
            db_engine.dispose()
    with pg_admin_engine.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {READER_ROLE}"))


_NOT_RUN: list[str] = []


def _require_all_suites() -> bool:
    return os.environ.get(REQUIRE_ALL_ENV, "") == "1"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr).strip().splitlines()[-1] if longrepr else ""


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # A module-level pytest.skip / importorskip drops a whole file without any test report.
    if report.skipped:
        _NOT_RUN.append(f"SKIPPED (whole module) {report.nodeid}: {_reason(report)}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if hasattr(report, "wasxfail"):
        if report.skipped:
            _NOT_RUN.append(f"XFAIL {report.nodeid}: {report.wasxfail}")
        elif report.passed and report.when == "call":
            _NOT_RUN.append(f"XPASS {report.nodeid}: {report.wasxfail}")
    elif report.skipped:
        _NOT_RUN.append(f"SKIPPED {report.nodeid}: {_reason(report)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pytest returns session.exitstatus after this hook, so raising it here fails the run.
    # "No tests collected" already exits 5, which stays non-zero.
    if _require_all_suites() and _NOT_RUN and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _STARTED_SERVERS:
        terminalreporter.write_line(
            f"PostgreSQL {server.version} test server on 127.0.0.1:{server.port}: "
            f"initdb {server.initdb_seconds:.2f} s, start {server.start_seconds:.2f} s"
        )
    if _DROPPED_SETTINGS:
        terminalreporter.write_line(
            "settings of this shell left out of the app under test: " + ", ".join(_DROPPED_SETTINGS)
        )
    if _require_all_suites() and _NOT_RUN:
        terminalreporter.section("tests that did not run (USALAMA_REQUIRE_ALL_SUITES=1)", red=True)
        for line in _NOT_RUN:
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"FAILED: {len(_NOT_RUN)} test(s) skipped or xfailed while every suite is required.",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database (20,000 incidents, snapshot at 00:00 EAT on TEST_TODAY) shared by the app tests."""
    from queries.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_demo(f"sqlite:///{path}", seed=42, incidents=20_000, today=TEST_TODAY)
    return path


@pytest.fixture(scope="session")
def pg_demo_twin(postgres_server) -> Iterator[str]:
    """The same demo as `demo_db_path` (seed, size and day), built once in PostgreSQL for the
    session: the URL of a database that tests only read."""
    from queries.demo import build_demo

    admin = create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "demo_twin" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "demo_twin"'))
    build_demo(postgres_server.url("demo_twin"), seed=42, incidents=20_000, today=TEST_TODAY)
    yield postgres_server.url("demo_twin")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "demo_twin" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def raise_page_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest should see a page's exception itself; users see a message instead (a test that
    checks that message deletes this variable)."""
    monkeypatch.setenv("USALAMA_RAISE_PAGE_ERRORS", "1")


@pytest.fixture(scope="module")
def server(demo_db_path: Path) -> Iterator[str]:
    """The app served on the shared demo database, for a browser test module."""
    from tests.browser_support import demo_app

    with demo_app(demo_db_path) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for a browser test module (tests/browser_support.py)."""
    from tests.browser_support import chromium_browser

    with chromium_browser() as chromium:
        yield chromium
