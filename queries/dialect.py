"""Every SQL construct that differs between SQLite and PostgreSQL, each as one named function.

DuckDB (the serving copy, `queries.serving`) speaks PostgreSQL's SQL here, with one difference
of meaning: its FLOAT is single precision (below). It also has a faster spelling of durations
(`hours_between`, `median_hours_between`), and its engine keeps compiled statements
(`DUCKDB_CACHING_DRIVER`).

No other module writes `strftime`, `date_trunc`, `julianday`, `date_diff` or `percentile_cont`.
Each function takes the SQLAlchemy dialect name ("sqlite", "postgresql" or "duckdb") and returns
a Core expression whose result is the same on every engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import statistics
import time
from collections.abc import Iterator

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    event,
    func,
    literal,
    literal_column,
    null,
    type_coerce,
)
from sqlalchemy.dialects import registry
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, ColumnClause, ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from queries.filters import EAT_OFFSET

SUPPORTED_DIALECTS = ("sqlite", "postgresql", "duckdb")


class UnsupportedDialect(ValueError):
    """Raised for a database engine the dashboard has no SQL for."""


def check_supported(dialect: str) -> None:
    """Raise `UnsupportedDialect` unless the engine is one we have SQL for."""
    if dialect not in SUPPORTED_DIALECTS:
        raise UnsupportedDialect(
            f"database engine '{dialect}' is not supported; use PostgreSQL or SQLite"
        )


# duckdb_engine's dialect declares SQLAlchemy's compiled-statement cache unsupported (a dialect
# must opt in), so every statement was compiled again on every call: 30-40 ms of a headline's
# 170-210 ms on the 10M copy. Its compiler is PostgreSQL's, which caches (the PostgreSQL engine
# does); the exactness test runs every page's statements, over five selections, on one caching
# copy engine against the source. The copy's engine is made with this driver name.
DUCKDB_CACHING_DRIVER = "duckdb+cached"
registry.register("duckdb.cached", __name__, "CachingDuckDBDialect")


def __getattr__(name: str):
    # The dialect class is made on first use: importing duckdb_engine costs 0.3 s, which a
    # dashboard without a serving copy need not pay.
    if name == "CachingDuckDBDialect":
        return _caching_duckdb_dialect()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _caching_duckdb_dialect() -> type:
    import duckdb_engine

    return type(
        "CachingDuckDBDialect", (duckdb_engine.Dialect,), {"supports_statement_cache": True}
    )


def dialect_of(engine: Engine) -> str:
    """The engine's dialect name, once checked to be one we have SQL for."""
    check_supported(engine.dialect.name)
    return engine.dialect.name


class _Normalised(FunctionElement):
    """A contract TIMESTAMP or DATE column, read in one canonical form.

    PostgreSQL stores real timestamps and dates: the column is rendered as itself, so conditions
    on it stay index-friendly and the SQL is exactly what it was. SQLite stores text, and writers
    differ ('2026-11-30T20:05:33', '...Z', '...33.250', a DATE written '2026-11-30T00:00:00');
    there the column is rendered through `datetime()` (TIMESTAMP) or `date()` (DATE), which turn
    every ISO form into 'YYYY-MM-DD HH:MM:SS' resp. 'YYYY-MM-DD' (fractions cut, offsets to
    UTC), the form bound parameters are written in.
    """

    name = "normalised"
    inherit_cache = True

    def __init__(self, column: ColumnElement) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_Normalised)
def _compile_normalised(element: _Normalised, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Normalised, "sqlite")
def _compile_normalised_sqlite(element: _Normalised, compiler, **kw) -> str:
    function = "datetime" if isinstance(element.type, DateTime) else "date"
    return f"{function}({compiler.process(element.clauses, **kw)})"


@compiles(Float, "duckdb")
def _compile_float_duckdb(element: Float, compiler, **kw) -> str:
    # PostgreSQL's FLOAT is double precision; DuckDB's is single precision, which would round
    # every share and median of the serving copy (queries.serving) to 7 digits.
    return "DOUBLE"


def normalised(column: ColumnElement) -> ColumnElement:
    """A TIMESTAMP or DATE column in its canonical form on every engine (see `_Normalised`).

    Dialect-free when built and dialect-specific when compiled, so `queries.where` can use it
    without knowing the engine. Every comparison or conversion of a contract TIMESTAMP or DATE
    column goes through it (or through the functions below, which apply it themselves).
    """
    # Only stored columns need it: bound values and the expressions built here are canonical.
    if not isinstance(column, ColumnClause) or not isinstance(column.type, (DateTime, Date)):
        return column
    return _Normalised(column)


def timestamp(dialect: str, column: ColumnElement) -> ColumnElement:
    """`normalised(column)`, for callers that hold a dialect name (the SQL is the same)."""
    check_supported(dialect)
    return normalised(column)


# SQLite prefilters on the stored text that keep an index on the column usable: every ISO spelling
# of a value starts with its 'YYYY-MM-DD', so comparing that prefix with a day bound is exact for
# dates and, one day wider (a '+03:00' offset may move the written day), a superset for
# timestamps. The exact test on the normalised value follows.
_SQLITE_PREFILTERS = {
    (True, operators.ge): ("{c} >= date({b}, '-1 day')"),
    (True, operators.gt): ("{c} >= date({b}, '-1 day')"),
    (True, operators.lt): ("{c} < date({b}, '+2 days')"),
    (True, operators.le): ("{c} < date({b}, '+2 days')"),
    (False, operators.ge): ("{c} >= {b}"),
    (False, operators.gt): ("{c} >= {b}"),
    (False, operators.lt): ("{c} < date({b}, '+1 day')"),
    (False, operators.le): ("{c} < date({b}, '+1 day')"),
}


class _Compared(FunctionElement):
    """`column <op> bound` for a contract TIMESTAMP or DATE column: as written on PostgreSQL;
    on SQLite an index-friendly prefilter on the stored text, then the comparison of the
    normalised value (see `compare`)."""

    name = "compared"
    inherit_cache = True
    type = NullType()

    def __init__(self, comparison: BinaryExpression) -> None:
        super().__init__(comparison)


@compiles(_Compared)
def _compile_compared(element: _Compared, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Compared, "sqlite")
def _compile_compared_sqlite(element: _Compared, compiler, **kw) -> str:
    (comparison,) = element.clauses.clauses
    column, bound = comparison.left, comparison.right
    prefilter = _SQLITE_PREFILTERS[(isinstance(column.type, DateTime), comparison.operator)]
    exact = comparison.operator(normalised(column), bound)
    return f"({prefilter.format(c=compiler.process(column, **kw), b=compiler.process(bound, **kw))} AND {compiler.process(exact, **kw)})"


def compare(column: ColumnElement, operator: str, bound: dt.date | dt.datetime) -> ColumnElement:
    """`column <operator> bound` (operator one of >=, >, <, <=) for a stored TIMESTAMP or DATE
    column and a date or datetime value, right on every engine and whatever spelling SQLite
    holds. PostgreSQL gets exactly `column >= :bound`; SQLite keeps its index on the column."""
    comparison = {">=": column.__ge__, ">": column.__gt__, "<": column.__lt__, "<=": column.__le__}
    return _Compared(comparison[operator](bound))


def utc_bounds_of_eat_dates(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The half-open UTC interval [lower, upper) covering EAT dates start..end inclusive.

    Filtering a UTC timestamp column by these bounds keeps the filter sargable (index-friendly)
    on every engine, instead of converting every row to EAT.
    """
    lower = dt.datetime.combine(start, dt.time()) - EAT_OFFSET
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - EAT_OFFSET
    return lower, upper


def eat_date(dialect: str, utc_timestamp: ColumnElement) -> ColumnElement:
    """The Africa/Nairobi calendar date of a UTC timestamp column."""
    utc_timestamp = normalised(utc_timestamp)
    if dialect == "sqlite":
        expr = func.date(utc_timestamp, "+3 hours")
    else:
        expr = cast(utc_timestamp + literal_column("interval '3 hours'"), Date)
    return type_coerce(expr, Date())


def week_start(dialect: str, day: ColumnElement) -> ColumnElement:
    """The Monday on or before a DATE expression."""
    day = normalised(day)
    if dialect == "sqlite":
        # 'weekday 0' moves forward to Sunday (or stays); six days back is that week's Monday.
        expr = func.date(day, "weekday 0", "-6 days")
    else:
        expr = cast(func.date_trunc("week", day), Date)
    return type_coerce(expr, Date())


def month_start(dialect: str, day: ColumnElement) -> ColumnElement:
    """The first day of the month of a DATE expression."""
    day = normalised(day)
    if dialect == "sqlite":
        expr = func.date(day, "start of month")
    else:
        expr = cast(func.date_trunc("month", day), Date)
    return type_coerce(expr, Date())


def add_months_and_days(dialect: str, day: ColumnElement, months: int, days: int) -> ColumnElement:
    """A DATE expression moved forward by whole months, then by days (e.g. the 10th of the
    following month is `add_months_and_days(d, month_start, 1, 9)`)."""
    day = normalised(day)
    if dialect == "sqlite":
        expr = func.date(day, f"+{months} months", f"+{days} days")
    else:
        expr = cast(day + literal_column(f"interval '{months} months {days} days'"), Date)
    return type_coerce(expr, Date())


def _epoch_seconds(value: ColumnElement) -> ColumnElement:
    return cast(func.strftime("%s", value), Integer)


MICROSECONDS_PER_HOUR = 3_600_000_000


def _microseconds_between(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """DuckDB: whole microseconds from start to end, an exact integer. Ordering and dividing
    integers is cheaper than extracting the epoch of an interval: over a period's 3 million
    incidents the two medians of a statement took 100 ms where they took 140."""
    return func.date_diff(literal_column("'microsecond'"), start, end)


def hours_between(dialect: str, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """(end - start) in hours, as a float; null when either side is null."""
    start, end = normalised(start), normalised(end)
    if dialect == "sqlite":
        # Whole epoch seconds keep the result exact; julianday() differences carry float noise.
        expr = (_epoch_seconds(end) - _epoch_seconds(start)) / 3600.0
    elif dialect == "duckdb":
        expr = cast(_microseconds_between(start, end), Float) / MICROSECONDS_PER_HOUR
    else:
        expr = func.extract("epoch", end - start) / 3600.0
    return type_coerce(expr, Float())


def median_hours_between(dialect: str, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """The median over the group of `hours_between(start, end)`, ignoring nulls.

    DuckDB takes the median of the whole microseconds, then turns it into hours: the same
    number to within float rounding (the order is the same; the middle two are averaged
    before the division, not after), at a quarter less of the statement's cost."""
    if dialect == "duckdb":
        middle = func.percentile_cont(0.5).within_group(_microseconds_between(start, end))
        return type_coerce(cast(middle, Float) / MICROSECONDS_PER_HOUR, Float())
    return median(dialect, hours_between(dialect, start, end))


def days_between(dialect: str, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """(end - start) in whole days for two DATE expressions; null when either side is null."""
    start, end = normalised(start), normalised(end)
    if dialect == "sqlite":
        expr = (_epoch_seconds(end) - _epoch_seconds(start)) / 86400.0
    else:
        expr = end - start
    return type_coerce(expr, Float())


def median(dialect: str, value: ColumnElement) -> ColumnElement:
    """The median of a numeric expression over the group, ignoring nulls, as percentile_cont(0.5).

    SQLite has no median: `queries.db` registers a `median` aggregate on every SQLite connection.
    """
    if dialect == "sqlite":
        expr = func.median(value)
    else:
        expr = func.percentile_cont(0.5).within_group(cast(value, Float))
    return type_coerce(expr, Float())


def floor_non_negative(dialect: str, value: ColumnElement) -> ColumnElement:
    """floor() of an expression known to be >= 0, as an integer. SQLite's floor() exists only
    when it is built with its math functions; for a non-negative value truncation is the same.
    (PostgreSQL's and DuckDB's CAST to integer rounds instead, so they use floor.)"""
    if dialect == "sqlite":
        return cast(value, Integer)
    return cast(func.floor(value), Integer)


def pct(numerator: ColumnElement, denominator: ColumnElement) -> ColumnElement:
    """100 * numerator / denominator as a float, null when the denominator is zero or null."""
    return type_coerce(
        case(
            (denominator > 0, 100.0 * cast(numerator, Float) / cast(denominator, Float)),
            else_=null(),
        ),
        Float(),
    )


def count_where(condition: ColumnElement) -> ColumnElement:
    """How many rows of the group satisfy a condition (0 for none, never null)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqliteMedian:
    """The `median` aggregate for SQLite connections, with percentile_cont(0.5)'s semantics."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def stored_spelling(dialect: str, column: ColumnElement) -> ColumnElement | None:
    """How a TIMESTAMP or DATE value is spelled in storage, as a pattern ('YYYY-MM-DD hh:mm:ss',
    'YYYY-MM-DDThh:mm:ssZ', 'YYYY-MM-DD', ..., or 'unreadable' when SQLite cannot read it as a
    date at all); None on PostgreSQL, whose columns are real timestamps and dates.

    SQLite keeps these columns as text: writers that spell them differently usually differ in
    more than spelling (one writes local time, say), so the contract checker reports it.
    """
    check_supported(dialect)
    if dialect != "sqlite":
        return None
    raw = type_coerce(column, String)

    def glob(pattern: str) -> ColumnElement:
        return raw.op("GLOB")(pattern)

    def joined(*parts: ColumnElement) -> ColumnElement:
        result = parts[0]
        for part in parts[1:]:
            result = result.op("||")(part)
        return result

    time_part = case(
        (func.length(raw) > 10, joined(func.substr(raw, 11, 1), literal("hh:mm:ss"))),
        else_=literal(""),
    )
    fraction = case((glob("*:[0-9][0-9].[0-9]*"), literal(".fff")), else_=literal(""))
    zone = case(
        (glob("*Z"), literal("Z")),
        (and_(func.length(raw) > 19, glob("*[+-][0-9][0-9]:[0-9][0-9]")), literal("+hh:mm")),
        else_=literal(""),
    )
    return case(
        (func.typeof(raw) != "text", joined(literal("not text: "), func.typeof(raw))),
        (func.datetime(raw).is_(None), literal("unreadable")),
        else_=joined(literal("YYYY-MM-DD"), time_part, fraction, zone),
    )


def timeout_connect_args(dialect: str, timeout_ms: int) -> dict[str, str]:
    """Connection arguments that make the server cancel any statement running longer than
    `timeout_ms` (0: no limit). PostgreSQL: `statement_timeout` set at connect, so it holds for
    the whole session; SQLite has no such setting (see `install_statement_timer`)."""
    check_supported(dialect)
    if dialect == "postgresql" and timeout_ms > 0:
        return {"options": f"-c statement_timeout={int(timeout_ms)}"}
    return {}


class _StatementTimer:
    """SQLite's stand-in for a statement timeout: SQLite calls `expired` every few thousand
    virtual-machine steps, and a true answer interrupts the running statement
    ('interrupted'). The deadline is set as each statement starts, and covers its fetching."""

    STEPS = 10_000

    def __init__(self, timeout_ms: int) -> None:
        self.seconds = timeout_ms / 1000.0
        self.deadline: float | None = None

    def start(self, *_args: object) -> None:
        self.deadline = time.monotonic() + self.seconds

    def expired(self) -> int:
        return int(self.deadline is not None and time.monotonic() > self.deadline)


def install_statement_timer(engine: Engine, timeout_ms: int) -> None:
    """On SQLite, interrupt any statement that runs longer than `timeout_ms` (0: no limit),
    through SQLite's progress handler; nothing to do on PostgreSQL (`timeout_connect_args`)."""
    if engine.dialect.name != "sqlite" or timeout_ms <= 0:
        return

    def on_connect(dbapi_connection, record) -> None:
        timer = _StatementTimer(timeout_ms)
        dbapi_connection.set_progress_handler(timer.expired, _StatementTimer.STEPS)
        record.info["statement_timer"] = timer

    def before_execute(connection, *_args) -> None:
        # Connection.info is the pooled DBAPI connection's record.info, set above.
        timer = connection.info.get("statement_timer")
        if timer is not None:
            timer.start()

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", before_execute)


@contextlib.contextmanager
def without_statement_timeout(connection: Connection) -> Iterator[None]:
    """Lift the dashboard's statement timeout for the statements of this block on `connection`:
    the serving copy's bulk reads of whole tables take longer than any page's query, and cutting
    them off would leave the copy unbuilt (a 10M-row SQLite source was 'interrupted' at 60 s).

    PostgreSQL: SET LOCAL, which ends with the block's transaction (the pool rolls it back), so
    a pooled connection never keeps the lifted limit. SQLite: the connection's statement timer
    (`install_statement_timer`) gets no deadline until the block ends."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        yield
        return
    timer = connection.info.get("statement_timer")
    if timer is None:
        yield
        return
    limit = timer.seconds
    timer.seconds = float("inf")
    try:
        yield
    finally:
        timer.seconds = limit


def is_timeout(exc: BaseException) -> bool:
    """Whether a database error is a statement cancelled for running too long: PostgreSQL's
    query_canceled (SQLSTATE 57014) or SQLite's 'interrupted' from `install_statement_timer`."""
    original = getattr(exc, "orig", exc)
    if getattr(original, "sqlstate", None) == "57014":
        return True
    return type(original).__name__ == "OperationalError" and "interrupted" in str(original)


def is_write_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB error is a transaction conflicting with another writer's (its writes
    were rolled back; the same work may be tried again)."""
    return type(getattr(exc, "orig", exc)).__name__ == "TransactionException"


def is_interrupted(exc: BaseException) -> bool:
    """Whether a database error is a DuckDB statement interrupted on purpose (the serving
    copy's speculative work giving way to a page: `ServingCopy.preempt`)."""
    return type(getattr(exc, "orig", exc)).__name__ == "InterruptException"
