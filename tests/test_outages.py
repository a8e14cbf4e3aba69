"""A slow or vanished database: the statement timeout (USALAMA_STATEMENT_TIMEOUT_MS) stops a query
on both engines and the page says so with a Retry button; a PostgreSQL server that stops and
comes back is picked up again by the running app, without restarting it.

These tests stop and restart a PostgreSQL server of their own, so the suite's shared server is
never disturbed. No assertion is about time: a statement that cannot finish (a lock held by
another session, a count to a billion) meets a limit it cannot beat.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import create_engine, literal_column, select, text

from queries.db import (
    DEFAULT_TIMEOUT_MS,
    TIMEOUT_ENV_VAR,
    DataSourceError,
    QueryTimeout,
    make_engine,
    read_frame,
    statement_timeout_ms,
)
from queries.demo import build_demo
from tests.app_support import clear_caches, run_app
from tests.clock import TEST_TODAY
from tests.pg_server import (
    PostgresServer,
    _as_pg_user,
    pg_ctl_start,
    start_postgres,
    stop_postgres,
)

OPEN = {"access": {"open_role": "national"}}
COUNT_TO_A_BILLION = select(literal_column("count(*)")).select_from(
    text(
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
        "SELECT x FROM c) AS numbers"
    )
)


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    subprocess.run(
        _as_pg_user([str(server.bin_dir / "pg_ctl"), "--pgdata", str(server.data_dir), *args]),
        cwd=server.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=90,
        check=True,
    )


def pause(server: PostgresServer) -> None:
    """Stop the server, keeping its data."""
    _pg_ctl(server, "--mode", "fast", "--wait", "stop")


def resume(server: PostgresServer) -> None:
    """Start the paused server again, on the same port."""
    pg_ctl_start(server)


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text('CREATE DATABASE "outage"'))
        admin.dispose()
        build_demo(server.url("outage"), seed=42, incidents=3_000, today=TEST_TODAY)
        yield server
    finally:
        stop_postgres(server)


def _cards(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def test_the_timeout_setting(monkeypatch) -> None:
    assert statement_timeout_ms({}) == DEFAULT_TIMEOUT_MS == 60_000
    assert statement_timeout_ms({TIMEOUT_ENV_VAR: "2500"}) == 2500
    assert statement_timeout_ms({TIMEOUT_ENV_VAR: "0"}) == 0  # no limit
    assert statement_timeout_ms({TIMEOUT_ENV_VAR: "soon"}) == DEFAULT_TIMEOUT_MS
    assert statement_timeout_ms({TIMEOUT_ENV_VAR: "-5"}) == DEFAULT_TIMEOUT_MS


def test_sqlite_statements_stop_at_the_timeout(tmp_path, monkeypatch) -> None:
    path = tmp_path / "any.sqlite"
    create_engine(f"sqlite:///{path}").connect().close()
    monkeypatch.setenv(TIMEOUT_ENV_VAR, "300")
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(QueryTimeout, match=r"within 0\.3 seconds.*USALAMA_STATEMENT_TIMEOUT_MS"):
        read_frame(engine, COUNT_TO_A_BILLION)
    # The same connection serves the next statement as usual.
    assert read_frame(engine, select(literal_column("1").label("one")))["one"].tolist() == [1]


def test_postgresql_statements_stop_at_the_timeout(own_server, monkeypatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV_VAR, "300")
    engine = make_engine(own_server.url("outage"))
    with pytest.raises(QueryTimeout, match=r"within 0\.3 seconds"):
        read_frame(engine, select(literal_column("pg_sleep(30)").label("slept")))
    assert read_frame(engine, select(literal_column("1").label("one")))["one"].tolist() == [1]
    engine.dispose()


def test_the_serving_copy_reads_whole_tables_past_the_page_timeout(
    own_server, tmp_path, monkeypatch
) -> None:
    """A whole-table read for the serving copy outlasts the limit a page's query has, and must
    not be cut off; the pooled connection keeps the page limit afterwards."""
    import threading
    import time

    from queries.serving import ServingCopy

    url = own_server.url("outage")
    monkeypatch.setenv(TIMEOUT_ENV_VAR, "300")
    source = make_engine(url)
    locker = create_engine(url).connect()
    locker.execute(text("LOCK TABLE targets IN ACCESS EXCLUSIVE MODE"))
    watcher = create_engine(url)
    waited: list[bool] = []

    def release_after_the_copy_has_waited() -> None:
        # Once the copy's read of targets is seen waiting for the lock, hold it 0.6 s more:
        # twice the limit a page's statement has.
        deadline = time.monotonic() + 60
        with watcher.connect() as connection:
            while time.monotonic() < deadline and not waited:
                waited.extend(
                    connection.execute(
                        text(
                            "SELECT true FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE 'COPY%targets%'"
                        )
                    ).scalars()
                )
                connection.rollback()  # pg_stat_activity is a snapshot per transaction
                time.sleep(0.05)
        time.sleep(0.6)
        locker.rollback()
        locker.close()

    release = threading.Thread(target=release_after_the_copy_has_waited)
    release.start()
    try:
        copy = ServingCopy(source, tmp_path / "copy.duckdb")
        report = {item.table: item for item in copy.refresh()}
    finally:
        release.join()
        watcher.dispose()
    assert waited and report["targets"].seconds > 0.6
    with create_engine(url).connect() as connection:
        expected = connection.execute(text("SELECT count(*) FROM targets")).scalar_one()
    assert report["targets"].rows == expected > 0
    with source.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar_one() == "300ms"
    with pytest.raises(QueryTimeout):
        read_frame(source, select(literal_column("pg_sleep(30)").label("slept")))
    copy.stop()
    source.dispose()


def test_a_locked_table_times_out_on_the_page_and_retry_recovers(own_server, monkeypatch):
    url = own_server.url("outage")
    monkeypatch.setenv("REPORTING_DB_URL", url)
    monkeypatch.setenv(TIMEOUT_ENV_VAR, "1500")
    clear_caches()
    locker = create_engine(url).connect()
    try:
        # Another session holds the incidents table: every read of it waits, past the limit.
        locker.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))
        at = run_app(secrets=OPEN)
        assert not at.exception
        message = at.error[0].value
        assert "did not answer within 1.5 seconds" in message
        assert "USALAMA_STATEMENT_TIMEOUT_MS" in message and "retry" in message
        assert "Try again later" not in message
        assert at.button(key="retry").label == "Retry"
    finally:
        locker.rollback()
        locker.close()
    at.button(key="retry").click().run()
    assert not at.exception and not at.error
    assert len(at.metric) > 0


def test_the_app_recovers_when_postgresql_comes_back(own_server, monkeypatch) -> None:
    url = own_server.url("outage")
    monkeypatch.setenv("REPORTING_DB_URL", url)
    monkeypatch.delenv(TIMEOUT_ENV_VAR, raising=False)
    clear_caches()
    at = run_app(secrets=OPEN)
    assert not at.exception and not at.error
    before = _cards(at)
    assert before
    pause(own_server)
    try:
        # Cached figures would hide the outage until they expire; expire them now. The engine
        # and its pool of (now dead) connections stay, as in a running app.
        st.cache_data.clear()
        at.run()
        assert not at.exception
        message = at.error[0].value
        assert "cannot be reached" in message and "reconnects by itself" in message
        assert "Try again later" not in message
        assert at.button(key="retry").label == "Retry"
        with pytest.raises(DataSourceError):
            read_frame(make_engine(url), select(literal_column("1").label("one")))
    finally:
        resume(own_server)
    at.button(key="retry").click().run()
    assert not at.exception and not at.error
    assert _cards(at) == before
