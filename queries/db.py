"""Connections to the reporting database: URL resolution, read-only engines, and running selects.

The dashboard never writes to the reporting database: engines made here are read-only where the
driver allows (SQLite opened with mode=ro, PostgreSQL sessions set to read only).
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy import types as sa_types
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql import Select

from queries import dialect
from queries.schema import metadata

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
URL_ENV_VAR = "REPORTING_DB_URL"
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
DEMO_DB_PATH = PROJECT_ROOT / "data" / "demo.sqlite"
DEMO_PATH_ENV_VAR = "USALAMA_DEMO_DB"


class DataSourceError(RuntimeError):
    """The reporting database cannot be used; the message is fit to show to a user."""


class QueryTimeout(DataSourceError):
    """The database did not answer within the statement timeout (USALAMA_STATEMENT_TIMEOUT_MS)."""


TIMEOUT_ENV_VAR = "USALAMA_STATEMENT_TIMEOUT_MS"
DEFAULT_TIMEOUT_MS = 60_000


def statement_timeout_ms(environ: Mapping[str, str] | None = None) -> int:
    """The longest a dashboard query may run, in milliseconds: env USALAMA_STATEMENT_TIMEOUT_MS,
    default 60,000 (one minute); 0 means no limit. A value that is not a whole number of
    milliseconds is logged and the default applies."""
    raw = (os.environ if environ is None else environ).get(TIMEOUT_ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_MS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        log.error(
            "%s=%r is not a whole number of milliseconds; using %d",
            TIMEOUT_ENV_VAR,
            raw,
            DEFAULT_TIMEOUT_MS,
        )
        return DEFAULT_TIMEOUT_MS
    return value


@dataclass(frozen=True)
class DatabaseSource:
    """Where the data come from: a URL, and whether it is the synthetic demo database."""

    url: str
    is_demo: bool
    origin: str  # "environment", "secrets" or "demo"

    @property
    def display_url(self) -> str:
        """The URL with any password masked, safe to show and log."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<unparseable URL>"


def resolve_source(
    environ: dict[str, str] | None = None,
    secrets_file: Path = SECRETS_FILE,
    demo_path: Path | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> DatabaseSource:
    """Resolve the database URL: env REPORTING_DB_URL, then the secrets, then the demo database
    (at env USALAMA_DEMO_DB, default data/demo.sqlite).

    In the secrets the URL is `url` under `[reporting_db]`, or a top-level `REPORTING_DB_URL`.
    `secrets` are the app's (Streamlit's, wherever `secrets.files` puts them); without them,
    `secrets_file` is read (the commands).
    """
    environ = os.environ if environ is None else environ
    if environ.get(URL_ENV_VAR, "").strip():
        return DatabaseSource(environ[URL_ENV_VAR].strip(), False, "environment")
    if secrets is None and secrets_file.exists():
        try:
            secrets = tomllib.loads(secrets_file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DataSourceError(f"{secrets_file.name} cannot be read: {exc}") from exc
    if secrets:
        url = (secrets.get("reporting_db") or {}).get("url") or secrets.get(URL_ENV_VAR)
        if url:
            return DatabaseSource(str(url).strip(), False, "secrets")
    if demo_path is None:
        demo_path = Path(environ.get(DEMO_PATH_ENV_VAR) or DEMO_DB_PATH)
    return DatabaseSource(f"sqlite:///{demo_path}", True, "demo")


def _register_sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_aggregate("median", 1, dialect.SqliteMedian)


def _set_postgres_session(dbapi_connection: Any, _record: Any, read_only: bool) -> None:
    # UTC: the contract stores UTC, and a `timestamptz` view on a server set to Nairobi time
    # would otherwise be read 3 hours off. Autocommit is off, so SET SESSION applies to every
    # transaction this connection opens.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        if read_only:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    dbapi_connection.commit()


def make_engine(url: str, read_only: bool = True) -> Engine:
    """An engine for a SQLAlchemy URL, read-only unless the demo builder asks otherwise.

    Raises:
        DataSourceError: the URL is malformed, its driver is missing, or the engine is not one
            we have SQL for.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DataSourceError(f"the database URL is not valid: {exc}") from exc
    try:
        dialect.check_supported(parsed.get_backend_name())
    except dialect.UnsupportedDialect as exc:
        raise DataSourceError(str(exc)) from exc

    kwargs: dict[str, Any] = {}
    # The dashboard's reads are limited in time; the demo builder's writes are not.
    timeout_ms = statement_timeout_ms() if read_only else 0
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if read_only and database and database != ":memory:":
            if not Path(database).exists():
                raise DataSourceError(f"SQLite database file {database} does not exist")
            parsed = parsed.set(database=f"file:{Path(database).resolve()}?mode=ro")
            parsed = parsed.update_query_dict({"uri": "true"})
        kwargs["connect_args"] = {"check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql":
        # A database that is down should fail a page in seconds, not hang it.
        kwargs["connect_args"] = {
            "connect_timeout": 10,
            **dialect.timeout_connect_args("postgresql", timeout_ms),
        }
    elif parsed.get_backend_name() == "duckdb" and read_only:
        kwargs["connect_args"] = {"read_only": True}
    try:
        engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DataSourceError(f"no database driver for this URL: {exc}") from exc

    dialect.install_statement_timer(engine, timeout_ms)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _register_sqlite_functions)
    elif engine.dialect.name == "postgresql":
        event.listen(
            engine,
            "connect",
            lambda connection, record: _set_postgres_session(connection, record, read_only),
        )
    return engine


def missing_tables(engine: Engine) -> list[str]:
    """Contract tables that the database lacks (tables or views), in contract order.

    Raises:
        DataSourceError: the database cannot be reached.
    """
    try:
        inspector = inspect(engine)
        present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    except SQLAlchemyError as exc:
        raise _unreachable(exc) from exc
    return [name for name in metadata.tables if name not in present]


# Every table may carry it (the contract's incremental-refresh column); no query needs it.
OPTIONAL_COLUMNS = frozenset({"updated_at"})


def missing_columns(engine: Engine) -> list[tuple[str, str]]:
    """(table, column) pairs of the contract that the database's tables or views lack, in
    contract order; tables that are missing altogether are `missing_tables`' to report.

    Raises:
        DataSourceError: the database cannot be reached.
    """
    absent = set(missing_tables(engine))
    try:
        inspector = inspect(engine)
        present = {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in metadata.tables
            if name not in absent
        }
    except SQLAlchemyError as exc:
        raise _unreachable(exc) from exc
    return [
        (name, column.name)
        for name, table in metadata.tables.items()
        if name in present
        for column in table.columns
        if column.name not in present[name] and column.name not in OPTIONAL_COLUMNS
    ]


def type_kind(column_type: Any) -> str | None:
    """The contract's kind of a SQLAlchemy type (text, integer, number, date, timestamp,
    boolean), or None when the database does not say (a SQLite view's computed column)."""
    kinds = (
        (sa_types.Boolean, "boolean"),
        (sa_types.Integer, "integer"),
        (sa_types.Numeric, "number"),  # Float is a Numeric
        (sa_types.DateTime, "timestamp"),
        (sa_types.Date, "date"),
        (sa_types.String, "text"),
    )
    return next((kind for cls, kind in kinds if isinstance(column_type, cls)), None)


# A stored kind the contract's kind accepts besides itself: whole numbers are numbers, and
# SQLite, which has no boolean type, may declare a flag INTEGER.
_ALSO_ACCEPTED = {"number": {"integer"}, "boolean": {"integer"}}


def wrong_types(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(table, column, expected kind, stored type) for contract columns whose declared type is
    not the contract's; columns whose type the database does not declare are not judged.

    Raises:
        DataSourceError: the database cannot be reached.
    """
    absent = set(missing_tables(engine))
    try:
        inspector = inspect(engine)
        declared = {
            name: {column["name"]: column["type"] for column in inspector.get_columns(name)}
            for name in metadata.tables
            if name not in absent
        }
    except SQLAlchemyError as exc:
        raise _unreachable(exc) from exc
    found = []
    for name, table in metadata.tables.items():
        for column in table.columns:
            stored = declared.get(name, {}).get(column.name)
            if stored is None:
                continue
            expected, kind = type_kind(column.type), type_kind(stored)
            if kind is None or kind == expected or kind in _ALSO_ACCEPTED.get(expected, ()):
                continue
            found.append((name, column.name, expected or "?", str(stored)))
    return found


def check_contract(engine: Engine) -> None:
    """Raise `DataSourceError` unless the database is reachable and has every contract table."""
    absent = missing_tables(engine)
    if absent:
        raise DataSourceError(
            "the database does not follow the reporting contract: missing table(s) "
            + ", ".join(absent)
        )


def read_frame(engine: Engine, statement: Select) -> pd.DataFrame:
    """Run a select and return its rows as a DataFrame with the select's column names.

    Raises:
        DataSourceError: the query failed (database down, table or column missing...).
    """
    try:
        with engine.connect() as connection:
            result = connection.execute(statement)
            columns = list(result.keys())
            rows = result.fetchall()
    except SQLAlchemyError as exc:
        if dialect.is_timeout(exc):
            log.error("query stopped after the %d ms statement timeout", statement_timeout_ms())
            raise _timeout_error() from exc
        if dialect.is_interrupted(exc):  # on purpose: not a failure of the database
            log.debug("query interrupted: %s", _first_line(exc))
        else:
            log.error("query failed: %s", _first_line(exc))
            log.debug("query failure detail", exc_info=True)
        raise DataSourceError(f"the database query failed: {_first_line(exc)}") from exc
    return pd.DataFrame.from_records(rows, columns=columns)


T = TypeVar("T")

# Independent reads of one figure may run side by side on these threads (`together`), so that a
# database computes while Python shapes the rows of another. Off by default: on the 2-core
# machine the issue sets, pages were no faster with 1 or 2 workers and the peak memory of five
# sessions rose by 47-59 MB (README, "Reads side by side"); a server with more cores may differ.
# One pool for the process bounds the extra connections whatever the number of sessions.
QUERY_WORKERS_ENV_VAR = "USALAMA_QUERY_WORKERS"


def _query_workers_wanted() -> int:
    raw = os.environ.get(QUERY_WORKERS_ENV_VAR, "0")
    try:
        return max(0, int(raw))
    except ValueError:
        log.warning(
            "%s=%r is not a whole number: reading one figure at a time", QUERY_WORKERS_ENV_VAR, raw
        )
        return 0


QUERY_WORKERS = _query_workers_wanted()
_query_workers = ThreadPoolExecutor(
    max_workers=max(QUERY_WORKERS, 1), thread_name_prefix="usalama-query"
)
_on_query_worker = threading.local()


def together(*reads: Callable[[], T]) -> list[T]:
    """Run independent reads, at once when QUERY_WORKERS allows, and return their results in
    order; the first exception raised (in that order) is raised here.

    The calling thread runs the first read and then any other that no worker has started
    (a busy pool never makes a page wait in line), so this is never slower than running them
    one after another, and a read that itself calls `together` on a worker runs its parts in
    turn there (a worker never waits for the pool it belongs to)."""
    if len(reads) < 2 or QUERY_WORKERS == 0 or getattr(_on_query_worker, "active", False):
        return [read() for read in reads]
    futures = [_query_workers.submit(_as_query_worker, read) for read in reads[1:]]
    try:
        results = [reads[0]()]
        for read, future in zip(reads[1:], futures, strict=True):
            results.append(read() if future.cancel() else future.result())
        return results
    finally:
        for future in futures:
            future.cancel()


def _as_query_worker(read: Callable[[], T]) -> T:
    _on_query_worker.active = True
    try:
        return read()
    finally:
        _on_query_worker.active = False


def _timeout_error() -> QueryTimeout:
    return QueryTimeout(
        f"the database did not answer within {statement_timeout_ms() / 1000:g} seconds, the "
        f"limit set for this dashboard ({TIMEOUT_ENV_VAR})"
    )


def _unreachable(exc: BaseException) -> DataSourceError:
    if dialect.is_timeout(exc):
        return _timeout_error()
    return DataSourceError(f"the database cannot be reached: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
