"""The serving copy: a local DuckDB file that mirrors the reporting database, for fast reads.

At millions of incidents a PostgreSQL row store needs seconds for the dashboard's scans and
medians; a columnar copy answers the same SQL in milliseconds. Evidence and other BI tools read
from such extracts for the same reason. The copy holds the contract tables exactly as the source
serves them (no aggregation, so medians and every other indicator are computed from the same
rows by the same query-layer SQL: `queries.dialect` renders PostgreSQL's SQL for DuckDB).

- **Full load**: every contract table, read from the source and written in one DuckDB
  transaction; readers keep seeing the previous copy until it commits, so a page never waits.
- **Incremental refresh**: tables whose source has `updated_at` are read from the last watermark
  (`updated_at >= watermark`, rows upserted by primary key); tables without it are reloaded.
  Deletions and rows whose `updated_at` is NULL reach the copy at the next full load, which runs
  when the copy is older than the full-resync interval (the contract: deletions happen only in
  full reloads).
- **Restarts**: the copy is a file; a restarted app reads it at once and refreshes behind.
- **Scope and privacy** are untouched: the same query layer, with the same Filters and
  suppression, runs on the copy.

Only one process can open a DuckDB file (FIELD-NOTES): each app server keeps its own copy.
The reporting database is only read; the copy is the app's own file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Table,
    and_,
    create_engine,
    delete,
    event,
    exists,
    insert,
    inspect,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import make_url

from queries import dialect as sqld
from queries.db import missing_columns, missing_tables
from queries.filters import EAT_OFFSET
from queries.quality import SHARED_KEYS, shared_keys_select
from queries.schema import metadata, primary_key_names

log = logging.getLogger(__name__)

PATH_ENV_VAR = "USALAMA_SERVING_COPY"
REFRESH_SECONDS_ENV_VAR = "USALAMA_SERVING_REFRESH_SECONDS"
FULL_HOURS_ENV_VAR = "USALAMA_SERVING_FULL_HOURS"
MEMORY_ENV_VAR = "USALAMA_SERVING_MEMORY"
DEFAULT_REFRESH_SECONDS = 300
DEFAULT_FULL_HOURS = 24
DEFAULT_MEMORY = "1GB"

META_TABLE = "usalama_serving_meta"
UPDATED_AT = "updated_at"
NULL_TEXT = "\\N"
WATERMARK_OVERLAP = dt.timedelta(minutes=10)
_CHUNK_ROWS = 50_000

# The order a full load stores rows in, where it lets DuckDB skip most of a table (it keeps the
# minimum and maximum of every column per group of 122,880 rows). Open cases are counted over
# all history: stored by status, only the open statuses' groups are read, not ten million
# statuses; within each status the rows run in time, so a period still skips the others.
# Rows an increment brings are appended, a day's worth at most until the next full load.
# At 10M, per incident statement (national, per county, one county, its wards; last 28 days):
# 73-87 / 81-87 / 28-35 / 38-46 ms stored as loaded (in time) -> 38-45 / 40-41 / 14 / 19-22 ms.
STORED_ORDER = {"incidents": ("status", "reported_at")}


class SourceNotConforming(RuntimeError):
    """The source lacks a contract table or column: the copy is not refreshed from it."""


@dataclass(frozen=True)
class TableRefresh:
    """What one refresh did to one table."""

    table: str
    mode: str  # "full" or "incremental"
    rows: int  # rows read from the source
    seconds: float
    changed: int = 0  # rows new or different in the copy (every row read, in a full refresh)


@dataclass(frozen=True)
class CopyState:
    """How fresh the copy is: `refreshed_at` is when the last refresh began reading the source
    (the copy holds everything the source held then), `full_at` when the last full load began;
    both UTC. `changes` counts refreshes that changed rows, so caches can key on it."""

    source: str
    refreshed_at: dt.datetime
    full_at: dt.datetime
    changes: int


def configured_path(environ: dict[str, str] | None = None) -> Path | None:
    """The copy's file from USALAMA_SERVING_COPY, or None when the app reads the source directly."""
    environ = os.environ if environ is None else environ
    value = environ.get(PATH_ENV_VAR, "").strip()
    return Path(value) if value and value.lower() not in {"off", "0", "no"} else None


def _env_number(name: str, default: float, environ: dict[str, str] | None = None) -> float:
    environ = os.environ if environ is None else environ
    try:
        return float(environ.get(name, "") or default)
    except ValueError:
        log.warning("ignoring %s=%r: not a number", name, environ.get(name))
        return default


def refresh_seconds() -> float:
    return _env_number(REFRESH_SECONDS_ENV_VAR, DEFAULT_REFRESH_SECONDS)


def full_resync_after() -> dt.timedelta:
    return dt.timedelta(hours=_env_number(FULL_HOURS_ENV_VAR, DEFAULT_FULL_HOURS))


def duckdb_type(column) -> str:
    """The DuckDB type that holds a contract column's values exactly."""
    sql_type = column.type
    if isinstance(sql_type, DateTime):
        return "TIMESTAMP"
    if isinstance(sql_type, Date):
        return "DATE"
    if isinstance(sql_type, Boolean):
        return "BOOLEAN"
    if isinstance(sql_type, BigInteger):
        return "BIGINT"
    if isinstance(sql_type, Integer):
        return "INTEGER"
    if isinstance(sql_type, Float):
        return "DOUBLE"
    return "VARCHAR"


def _columns(table: Table) -> list:
    """The contract columns of a table, with `updated_at` last (every copy table carries it)."""
    columns = [column for column in table.columns if column.name != UPDATED_AT]
    return [*columns, table.c[UPDATED_AT]] if UPDATED_AT in table.c else columns


def _copy_columns(table: Table) -> list[tuple[str, str]]:
    columns = [(column.name, duckdb_type(column)) for column in _columns(table)]
    if UPDATED_AT not in table.c:
        columns.append((UPDATED_AT, "TIMESTAMP"))
    return columns


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


REFRESH_THREAD_NAME = "usalama-serving-refresh"
# How many times a refresh tries to write its load when another writer's transaction on the
# same file conflicts with it.
LOAD_ATTEMPTS = 3


class ServingCopy:
    """A DuckDB copy of one reporting database, refreshed in place (see the module docstring)."""

    def __init__(self, source: Engine, path: Path, memory_limit: str | None = None) -> None:
        self.source = source
        self.path = Path(path)
        self.source_label = make_url(str(source.url)).render_as_string(hide_password=True)
        self.memory_limit = memory_limit or os.environ.get(MEMORY_ENV_VAR) or DEFAULT_MEMORY
        self._engine: Engine | None = None
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._current: CopyState | None = None
        self._current_read = False
        self.last_error: str | None = None
        self._after_refresh: list[Callable[[CopyState], None]] = []
        self._between_refreshes: list[Callable[[], None]] = []
        self._woken = threading.Event()
        # The thread whose statements give way to pages (`yielding`), and the cursor of the
        # one it is running.
        self._yielding_thread: int | None = None
        self._yielding_cursor: Any = None
        self._preempted = False
        self._yielding_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine the query layer reads the copy through (dialect name 'duckdb')."""
        if self._engine is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_engine(
                f"{sqld.DUCKDB_CACHING_DRIVER}:///{self.path}",
                connect_args={
                    "config": {"threads": os.cpu_count() or 2, "memory_limit": self.memory_limit}
                },
            )
            event.listen(self._engine, "before_cursor_execute", self._statement_starts)
            event.listen(self._engine, "after_cursor_execute", self._statement_ends)
            event.listen(self._engine, "handle_error", self._statement_ends)
        return self._engine

    # -- work that gives way to pages ---------------------------------------------------------

    @contextlib.contextmanager
    def yielding(self) -> Iterator[None]:
        """Within it, the statements this thread runs on the copy give way to pages: after
        `preempt()`, the one running is interrupted (DuckDB's interrupt) and none starts
        (`Preempted`), so the caller gets an error that `was_preempted` recognises and may
        run its work again later. For speculative work (the app's guesses of what users will
        ask next): on two cores, a page must not wait for statements nobody has asked for."""
        with self._yielding_lock:
            self._yielding_thread = threading.get_ident()
            self._preempted = False
        try:
            yield
        finally:
            with self._yielding_lock:
                self._yielding_thread = self._yielding_cursor = None
                self._preempted = False

    def preempt(self) -> bool:
        """Make the work within `yielding` give way; True if some was under way."""
        with self._yielding_lock:
            if self._yielding_thread is None:
                return False
            self._preempted = True
            if self._yielding_cursor is not None:
                # Under the lock, the cursor is between its statement's start and end hooks;
                # an interrupt reaching it just after the statement ended does not touch the
                # next statement on that connection.
                self._yielding_cursor.interrupt()
                self._yielding_cursor = None
            return True

    def _statement_starts(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == self._yielding_thread:
            with self._yielding_lock:
                if threading.get_ident() == self._yielding_thread:
                    if self._preempted:
                        raise Preempted("a page asked for figures")
                    self._yielding_cursor = cursor

    def _statement_ends(self, *args: Any) -> None:
        if threading.get_ident() == self._yielding_thread:
            with self._yielding_lock:
                self._yielding_cursor = None

    def state(self) -> CopyState | None:
        """How fresh the copy is, or None while it holds no complete load of this source."""
        if not self.path.exists() and self._engine is None:
            return None
        with self.engine.connect() as connection:
            present = inspect(connection).get_table_names()
            if META_TABLE not in present:
                return None
            rows = connection.exec_driver_sql(
                f"SELECT source, min(refreshed_at), min(full_at), max(changes), count(*) "
                f"FROM {META_TABLE} GROUP BY source"
            ).fetchall()
        complete = [
            row for row in rows if row[0] == self.source_label and row[4] == len(metadata.tables)
        ]
        if not complete:
            return None
        source, refreshed_at, full_at, changes, _ = complete[0]
        return CopyState(source, refreshed_at, full_at, int(changes or 0))

    @property
    def current(self) -> CopyState | None:
        """The copy's state as of its last refresh in this process (read from the file once):
        cheap enough to ask on every query."""
        if not self._current_read:
            try:
                self._current = self.state()
            except Exception as exc:  # a corrupt or locked file: the app reads the source
                self.last_error = f"{type(exc).__name__}: {_first_line(exc)}"
                log.warning("serving copy %s unusable: %s", self.path, self.last_error)
                self._current = None
            self._current_read = True
        return self._current

    @property
    def ready(self) -> bool:
        return self.current is not None

    def freshness_note(self) -> str:
        """One line for every page: which data it shows and how fresh they are."""
        current = self.current
        if current is None:
            return (
                "Reading the reporting database directly while the dashboard's fast copy is built."
            )
        refreshed = f"{current.refreshed_at + EAT_OFFSET:%d %b %H:%M}"
        note = f"Served from the dashboard's copy, refreshed {refreshed} EAT."
        if self.last_error:
            note += " The last refresh failed (the reporting database did not answer); retrying."
        return note

    # -- refreshing --------------------------------------------------------------------------

    def refresh(self, full: bool | None = None) -> list[TableRefresh]:
        """Bring the copy up to date with the source; `full=None` decides by the copy's age.

        Runs one refresh at a time; the copy stays readable throughout (one DuckDB transaction).
        """
        with self._refresh_lock:
            started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            # Read even for a full load: the change counter carries on from it (restarting at 1
            # would give a new load the cache keys of results computed on an old one).
            state = self.state()
            if full is None:
                full = state is None or started - state.full_at >= full_resync_after()
            source_columns = self._source_columns()
            for attempt in range(1, LOAD_ATTEMPTS + 1):
                full = full or state is None
                try:
                    report = self._extract_and_load(source_columns, started, full, state)
                    break
                except Exception as exc:
                    # Another writer on the file committed first: nothing was written (one
                    # transaction), so the refresh is made again on its result, from that
                    # result's watermarks; in full if the copy then holds no complete load.
                    if attempt == LOAD_ATTEMPTS or not sqld.is_write_conflict(exc):
                        raise
                    log.warning("serving copy load conflicted (%s); retrying", exc)
                    time.sleep(0.5 * attempt)
                    state = self.state()
            self._current, self._current_read = self.state(), True
        current = self._current
        if current is not None:
            self._notify(current)
        log.info(
            "serving copy %s refreshed (%s): %s",
            self.path,
            "full" if full else "incremental",
            ", ".join(
                f"{r.table} {r.mode} {r.rows} rows read, {r.changed} changed, {r.seconds:.2f}s"
                for r in report
            ),
        )
        return report

    def _source_columns(self) -> dict[str, set[str]]:
        """The source's columns per contract table; raises `SourceNotConforming` when a table or
        a required column is missing (a copy with NULLs in its place would be silently wrong)."""
        absent_tables = missing_tables(self.source)
        absent_columns = missing_columns(self.source)
        if absent_tables or absent_columns:
            raise SourceNotConforming(
                "the reporting database does not follow the data contract: "
                + "; ".join(
                    [f"missing table {name}" for name in absent_tables]
                    + [f"table {table} has no column {column}" for table, column in absent_columns]
                )
            )
        inspector = inspect(self.source)
        return {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in metadata.tables
        }

    def _watermarks(self) -> dict[str, dt.datetime]:
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                f"SELECT table_name, watermark FROM {META_TABLE} WHERE source = $1 "
                "AND watermark IS NOT NULL",
                (self.source_label,),
            ).fetchall()
        return dict(rows)

    def _extract(
        self, table: Table, present: set[str], since: dt.datetime | None, path: Path
    ) -> int:
        """Write the table's rows (those updated since `since`, or all) to a CSV file."""
        columns = [column for column in _columns(table) if column.name in present]
        if self.source.dialect.name == "postgresql":
            return _extract_postgres(self.source, table, columns, since, path)
        return _extract_rows(self.source, table, columns, since, path)

    def _extract_and_load(
        self,
        source_columns: dict[str, set[str]],
        started: dt.datetime,
        full: bool,
        state: CopyState | None,
    ) -> list[TableRefresh]:
        """Read the source's rows (all of them when `full`, else those at or after each
        table's watermark, less a margin) and load them into the copy in one transaction."""
        watermarks = {} if full else self._watermarks()
        with tempfile.TemporaryDirectory(prefix="usalama-serving-") as folder:
            extracts: list[tuple[Table, Path, str, float, int]] = []
            for table in metadata.tables.values():
                began = time.perf_counter()
                has_updated_at = UPDATED_AT in source_columns[table.name]
                watermark = watermarks.get(table.name) if has_updated_at else None
                # Re-read a margin before the watermark: a writer's transaction that commits
                # late may carry an updated_at older than rows already copied.
                since = None if watermark is None else watermark - WATERMARK_OVERLAP
                mode = "incremental" if since is not None else "full"
                path = Path(folder) / f"{table.name}.csv"
                rows = self._extract(table, source_columns[table.name], since, path)
                extracts.append((table, path, mode, time.perf_counter() - began, rows))
            return self._load(extracts, started, full, state)

    def _load(
        self,
        extracts: list[tuple[Table, Path, str, float, int]],
        started: dt.datetime,
        full: bool,
        state: CopyState | None,
    ) -> list[TableRefresh]:
        raw = self.engine.raw_connection()
        try:
            duck = raw.driver_connection
            duck.execute("BEGIN TRANSACTION")
            try:
                self._create_tables(duck)
                changed = full
                report = []
                present = {row[0] for row in duck.execute("SHOW TABLES").fetchall()}
                for table, path, mode, extract_seconds, rows in extracts:
                    began = time.perf_counter()
                    changes = self._load_table(duck, table, path, mode, rows, compare=not full)
                    changed = changes > 0 or changed
                    # The Data quality page's duplicate keys, kept with the rows they count.
                    stored = SHARED_KEYS[table.name].name
                    if stored not in present or full or (changes and mode == "full"):
                        statement = shared_keys_select(table)
                        self._execute(duck, statement, f"CREATE OR REPLACE TABLE {stored} AS")
                    elif changes:
                        self._recount_increment_keys(duck, table)
                    duck.execute("DROP TABLE IF EXISTS increment")
                    watermark = duck.execute(
                        f"SELECT max({UPDATED_AT}) FROM {table.name}"
                    ).fetchone()[0]
                    duck.execute(f"DELETE FROM {META_TABLE} WHERE table_name = ?", [table.name])
                    duck.execute(
                        f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, 0, ?)",
                        [
                            table.name,
                            self.source_label,
                            watermark,
                            started,
                            started if full else state.full_at,
                            rows,
                        ],
                    )
                    seconds = extract_seconds + time.perf_counter() - began
                    report.append(TableRefresh(table.name, mode, rows, seconds, changes))
                # One counter for the whole copy, raised by every refresh that changed rows.
                # Never lower than what this process has served: a copy whose state could not
                # be read must not hand an old counter (old cache keys) to new data.
                served = self._current.changes if self._current else 0
                previous = max(state.changes if state else 0, served)
                duck.execute(f"UPDATE {META_TABLE} SET changes = ?", [previous + int(changed)])
                duck.execute("COMMIT")
            except BaseException:
                duck.execute("ROLLBACK")
                raise
        finally:
            raw.close()
        return report

    def _create_tables(self, duck) -> None:
        duck.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (table_name VARCHAR, source VARCHAR, "
            "watermark TIMESTAMP, refreshed_at TIMESTAMP, full_at TIMESTAMP, changes BIGINT, "
            "rows_read BIGINT)"
        )
        for table in metadata.tables.values():
            columns = ", ".join(f"{name} {kind}" for name, kind in _copy_columns(table))
            duck.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({columns})")

    def _load_table(
        self, duck, table: Table, path: Path, mode: str, rows: int, compare: bool
    ) -> int:
        """Apply one extract; returns how many rows it really changed (`compare`; without it,
        in a full refresh, every row read counts).

        Counted, not assumed: an increment re-reads WATERMARK_OVERLAP of rows the copy already
        holds, and a table without updated_at is read whole every time; counting those as
        changes raised the copy's change counter (a key of every cached figure) on every
        refresh of an idle database, so every page went cold every few minutes."""
        copy_columns = _copy_columns(table)
        with path.open() as file:
            header = next(csv.reader(file), [])
        types = dict(copy_columns)
        reader = (
            f"read_csv({_quote(str(path))}, header=true, nullstr={_quote(NULL_TEXT)}, "
            "allow_quoted_nulls=false, auto_detect=false, quote='\"', escape='\"', columns={"
            + ", ".join(f"{_quote(name)}: {_quote(types[name])}" for name in header)
            + "})"
        )
        names = ", ".join(header)
        order = STORED_ORDER.get(table.name)
        ordered = f" ORDER BY {', '.join(order)}" if order else ""
        if mode == "full" and not compare:
            duck.execute(f"DELETE FROM {table.name}")
            if rows:
                duck.execute(
                    f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {reader}{ordered}"
                )
            return rows
        if mode == "full":
            source = reader if rows else f"{table.name} LIMIT 0"
            duck.execute(f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {names} FROM {source}")
            # Rows only in the new extract plus rows only in the copy (EXCEPT ALL keeps
            # duplicates; NULLs compare equal, as a change test needs).
            changed = duck.execute(
                f"SELECT count(*) FROM ((SELECT {names} FROM incoming EXCEPT ALL "
                f"SELECT {names} FROM {table.name}) UNION ALL (SELECT {names} FROM {table.name} "
                f"EXCEPT ALL SELECT {names} FROM incoming))"
            ).fetchone()[0]
            if changed:
                duck.execute(f"DELETE FROM {table.name}")
                duck.execute(
                    f"INSERT INTO {table.name} ({names}) SELECT {names} FROM incoming{ordered}"
                )
            duck.execute("DROP TABLE incoming")
            return int(changed)
        if not rows:
            return 0
        keys = primary_key_names(table)
        duck.execute(f"CREATE OR REPLACE TEMP TABLE increment AS SELECT {names} FROM {reader}")
        # IS NOT DISTINCT FROM: a row whose key is NULL (a source breaking the contract) is
        # replaced like any other, not added again and counted as a change on every refresh.
        matches = " AND ".join(
            f"{table.name}.{key} IS NOT DISTINCT FROM increment.{key}" for key in keys
        )
        # Rows that differ between the increment and the copy's rows for the same keys, both
        # ways (EXCEPT ALL: a key held twice with different rows is a change too).
        current = f"SELECT {names} FROM {table.name} WHERE EXISTS (SELECT 1 FROM increment WHERE {matches})"
        changed = duck.execute(
            f"SELECT count(*) FROM ((SELECT {names} FROM increment EXCEPT ALL {current}) "
            f"UNION ALL ({current} EXCEPT ALL SELECT {names} FROM increment))"
        ).fetchone()[0]
        if not changed:
            return 0
        duck.execute(f"DELETE FROM {table.name} USING increment WHERE {matches}")
        duck.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM increment")
        return int(changed)  # the caller recounts the increment's keys, then drops it

    def _execute(self, duck, statement, prefix: str = "") -> None:
        """Run a query-layer statement on the copy's own connection, values inlined, after
        `prefix` (say, CREATE TABLE ... AS)."""
        compiled = statement.compile(
            dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        duck.execute(f"{prefix} {compiled}".strip())

    def _recount_increment_keys(self, duck, table: Table) -> None:
        """Bring `SHARED_KEYS` up to date for the keys an increment brought: only theirs can
        have changed (tens of milliseconds, where recounting every key takes a second)."""
        stored = SHARED_KEYS[table.name]
        keys = primary_key_names(table)
        increment = sql_table("increment", *(sql_column(key) for key in keys))
        brought = and_(*(stored.c[key].is_not_distinct_from(increment.c[key]) for key in keys))
        self._execute(duck, delete(stored).where(exists().where(brought)))
        recount = shared_keys_select(table, among=increment)
        self._execute(duck, insert(stored).from_select([c.name for c in stored.columns], recount))

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called: work done for the copy in its thread should end."""
        return self._stop.is_set()

    def after_refresh(self, listener: Callable[[CopyState], None]) -> None:
        """Call `listener(state)` after every refresh, changed or not, in the refreshing thread
        (the app recomputes what its users were looking at and prepares what they may ask
        next: dashboard/data.py)."""
        self._after_refresh.append(listener)

    def between_refreshes(self, listener: Callable[[], None]) -> None:
        """Call `listener()` in the refreshing thread, between two refreshes, each time `wake()`
        was called since it last ran (the app prepares what its users may ask next as soon as
        they have looked at something new, not at the next refresh). The next refresh waits
        for it, as for the work after a refresh."""
        self._between_refreshes.append(listener)

    def wake(self) -> None:
        """Ask the refreshing thread to run the `between_refreshes` listeners; returns at once.
        Calls made while they run are answered by one more run after it."""
        self._woken.set()

    def _notify(self, current: CopyState) -> None:
        for listener in self._after_refresh:
            try:
                listener(current)
            except Exception:  # a listener's failure must not fail the refresh
                log.exception("serving copy listener %r failed", listener)

    def _wait_for_refresh(self, seconds: float) -> bool:
        """Wait `seconds` for the next refresh, running the `between_refreshes` listeners each
        time the copy is woken meanwhile. True when the copy is stopping."""
        due = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = due - time.monotonic()
            if remaining <= 0:
                return False
            if not self._woken.wait(remaining) or self._stop.is_set():
                continue
            self._woken.clear()
            for listener in self._between_refreshes:
                try:
                    listener()
                except Exception:  # a listener's failure must not stop the refreshes
                    log.exception("serving copy listener %r failed", listener)
        return True

    # -- background refresh ------------------------------------------------------------------

    def start(self, every_seconds: float | None = None) -> None:
        """Refresh now and then every `every_seconds` (0: once) in a daemon thread; returns at
        once. A failed refresh (source down) keeps the last copy serving and is in `last_error`."""
        if self._thread is not None:
            return
        interval = refresh_seconds() if every_seconds is None else every_seconds

        def loop() -> None:
            # A restarted app whose copy is still fresh waits until its refresh is due.
            current = self.current
            if interval > 0 and current is not None:
                age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - current.refreshed_at
                if self._wait_for_refresh(max(0.0, interval - age.total_seconds())):
                    return
            while not self._stop.is_set():
                try:
                    self.refresh()
                    self.last_error = None
                except Exception as exc:  # the source may be down: keep serving the last copy
                    self.last_error = f"{type(exc).__name__}: {_first_line(exc)}"
                    log.warning("serving copy refresh failed: %s", self.last_error)
                    log.debug("serving copy refresh failure", exc_info=True)
                if interval <= 0 or self._wait_for_refresh(interval):
                    return

        self._thread = threading.Thread(target=loop, name=REFRESH_THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._engine is not None:
            self._engine.dispose()


class Preempted(Exception):
    """A statement within `ServingCopy.yielding` was not started: a page asked meanwhile."""


def was_preempted(exc: BaseException) -> bool:
    """Whether `exc` comes from a statement that `ServingCopy.preempt` interrupted (through
    SQLAlchemy's wrapping and the query layer's own errors)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        if isinstance(error, Preempted) or sqld.is_interrupted(error):
            return True
        seen.add(id(error))
        pending += [error.__cause__, error.__context__, getattr(error, "orig", None)]
    return False


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _csv_value(value: Any) -> Any:
    if value is None:
        return NULL_TEXT
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _extract_rows(engine: Engine, table: Table, columns: list, since, path: Path) -> int:
    """Any SQLAlchemy source: rows through the driver, values in the engine's canonical form
    (on SQLite the contract types read every ISO spelling of a timestamp as one)."""
    statement = select(*columns)
    if since is not None:
        statement = statement.where(table.c[UPDATED_AT] >= since)
    count = 0
    with (
        path.open("w", newline="") as file,
        engine.connect() as connection,
        sqld.without_statement_timeout(connection),
    ):
        writer = csv.writer(file)
        writer.writerow([column.name for column in columns])
        result = connection.execution_options(stream_results=True, yield_per=_CHUNK_ROWS).execute(
            statement
        )
        for partition in result.partitions():
            writer.writerows([_csv_value(value) for value in row] for row in partition)
            count += len(partition)
    return count


def _extract_postgres(engine: Engine, table: Table, columns: list, since, path: Path) -> int:
    """PostgreSQL: COPY ... TO STDOUT, an order of magnitude faster than fetching rows.

    Timestamps and dates are cast so that a `timestamptz` or text view reads as UTC wall time
    (the session is in UTC: `queries.db`)."""
    from psycopg import sql

    def rendered(column) -> sql.Composable:
        name = sql.Identifier(column.name)
        if isinstance(column.type, DateTime):
            return sql.SQL("CAST({} AS timestamp) AS {}").format(name, name)
        if isinstance(column.type, Date):
            return sql.SQL("CAST({} AS date) AS {}").format(name, name)
        return name

    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(rendered(column) for column in columns), sql.Identifier(table.name)
    )
    if since is not None:
        query = sql.SQL("{} WHERE {} >= {}").format(
            query, sql.Identifier(UPDATED_AT), sql.Literal(since)
        )
    copy = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true, NULL {})").format(
        query, sql.Literal(NULL_TEXT)
    )
    # The COPY runs on the driver's own connection, inside the transaction in which the
    # statement timeout is lifted; closing rolls it back, so the pooled connection keeps it.
    with (
        engine.connect() as connection,
        sqld.without_statement_timeout(connection),
        path.open("wb") as file,
        connection.connection.driver_connection.cursor() as cursor,
    ):
        with cursor.copy(copy) as stream:
            for block in stream:
                file.write(block)
        rows = cursor.rowcount
    return max(rows, 0)


def main(argv: list[str] | None = None) -> int:
    """`python -m queries.serving --url URL --copy PATH [--full]`: build or refresh a copy ahead
    of the app (it must not be running on the same file: DuckDB lets one process open it)."""
    import argparse

    from queries.db import DataSourceError, make_engine

    parser = argparse.ArgumentParser(prog="python -m queries.serving", description=main.__doc__)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the reporting database")
    parser.add_argument("--copy", required=True, type=Path, help="the DuckDB file to write")
    parser.add_argument("--full", action="store_true", help="reload every table in full")
    args = parser.parse_args(argv)
    try:
        copy = ServingCopy(make_engine(args.url), args.copy)
        began = time.perf_counter()
        report = copy.refresh(full=True if args.full else None)
    except (DataSourceError, SourceNotConforming) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a locked or corrupt copy file, a dropped connection
        print(f"error: the copy could not be refreshed: {_first_line(exc)}", file=sys.stderr)
        return 1
    for item in report:
        print(f"{item.table:<24}{item.mode:<13}{item.rows:>12,} rows{item.seconds:>9.2f} s")
    print(
        f"{'total':<37}{sum(r.rows for r in report):>12,} rows{time.perf_counter() - began:>9.2f} s"
    )
    copy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
