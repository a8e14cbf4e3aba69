"""The build: checks the arguments, then runs the generators in order into the writer."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from queries import schema
from queries.db import make_engine
from queries.demo.associations import (
    gen_forums,
    gen_ra_monthly_reports,
    gen_residents_associations,
)
from queries.demo.incidents import incident_chunks
from queries.demo.rehab import gen_rehab_centres, gen_rehab_referrals
from queries.demo.training import (
    gen_security_firms,
    gen_targets,
    gen_trainings,
    yearly_expectations,
)
from queries.demo.world import Columns, World, gen_counties, gen_wards, make_world
from queries.demo.writer import Writer
from queries.filters import today_eat

Progress = Callable[[float, str], None]

DEFAULT_SEED = 42
DEFAULT_INCIDENTS = 200_000
MIN_INCIDENTS = 100
MAX_INCIDENTS = 100_000_000
MIN_TODAY = dt.date(2025, 11, 1)
MAX_TODAY = dt.date(2035, 12, 31)


class DemoBuildError(RuntimeError):
    """The database refused part of the build (permissions, a dependent view...)."""


def build_demo(
    url: str,
    seed: int = DEFAULT_SEED,
    incidents: int = DEFAULT_INCIDENTS,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Create the contract schema at `url` (dropping its tables first) and fill it with demo data.

    Args:
        url: a SQLAlchemy URL (SQLite or PostgreSQL); the database must be writable.
        seed: the random seed; the same seed and `today` give identical rows.
        incidents: how many incidents to generate (planted edge cases included).
        today: the snapshot day (data end the day before); defaults to today in EAT.
        progress: called with (fraction done 0-1, message) as the build advances.

    Returns:
        Rows written per table, in contract order.

    Raises:
        ValueError: an argument is out of range.
        DataSourceError: the URL is unusable.
        DemoBuildError: the database refused the build.
        SQLAlchemyError: the database could not be reached.
    """
    today = today_eat() if today is None else today
    _check_arguments(seed, incidents, today)
    report = progress or (lambda _fraction, _message: None)
    report(0.0, "preparing geography")
    world = make_world(seed, today)
    engine = make_engine(url, read_only=False)
    try:
        return _load(engine, world, incidents, report)
    finally:
        engine.dispose()


def _check_arguments(seed: int, incidents: int, today: dt.date) -> None:
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer, not {seed}")
    if not MIN_INCIDENTS <= incidents <= MAX_INCIDENTS:
        raise ValueError(f"incidents must be between {MIN_INCIDENTS:,} and {MAX_INCIDENTS:,}")
    if not MIN_TODAY <= today <= MAX_TODAY:
        raise ValueError(f"today must be between {MIN_TODAY} and {MAX_TODAY}, not {today}")


def _load(engine: Engine, world: World, incidents: int, report: Progress) -> dict[str, int]:
    # The raw DBAPI connection raises the driver's own errors, which SQLAlchemy does not wrap.
    dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
    try:
        writer = Writer(engine)
    except dbapi_error as exc:
        raise DemoBuildError(f"the database cannot be opened: {first_line(exc)}") from exc
    try:
        return _fill(writer, world, incidents, report)
    except dbapi_error as exc:
        raise DemoBuildError(f"the database refused the build: {first_line(exc)}") from exc
    finally:
        writer.close()


def _fill(writer: Writer, world: World, incidents: int, report: Progress) -> dict[str, int]:
    counts = {name: 0 for name in schema.CONTRACT_TABLES}
    writer.begin()
    writer.reset_schema()
    for i, (name, columns) in enumerate(_small_tables(world)):
        counts[name] = writer.insert(schema.metadata.tables[name], columns)
        report(0.08 * (i + 1) / len(counts), f"{name}: {counts[name]:,} rows")
    for columns in incident_chunks(world, incidents):
        counts["incidents"] += writer.insert(schema.incidents, columns)
        report(
            0.08 + 0.8 * counts["incidents"] / incidents,
            f"incidents: {counts['incidents']:,} rows",
        )
    writer.commit()
    report(0.9, "creating indexes")
    writer.begin()
    writer.create_indexes()
    writer.execute("ANALYZE")
    writer.commit()
    report(1.0, "done")
    return counts


def _small_tables(world: World) -> Iterator[tuple[str, Columns]]:
    """Every table but incidents, in an order that respects foreign keys and shared state."""
    tables: dict[str, Columns] = {}
    generators: tuple[tuple[str, Callable[[World], Columns]], ...] = (
        ("counties", gen_counties),
        ("wards", gen_wards),
        ("residents_associations", gen_residents_associations),
        ("forums", gen_forums),
        ("ra_monthly_reports", gen_ra_monthly_reports),
        ("trainings", gen_trainings),
        ("security_firms", gen_security_firms),
        ("rehab_centres", gen_rehab_centres),
        ("rehab_referrals", gen_rehab_referrals),
    )
    for name, generate in generators:
        tables[name] = generate(world)
        yield name, tables[name]
    yield "targets", gen_targets(world, yearly_expectations(tables, world))


def ensure_demo_database(
    path: Path,
    progress: Progress | None = None,
    *,
    seed: int = DEFAULT_SEED,
    incidents: int = DEFAULT_INCIDENTS,
    today: dt.date | None = None,
) -> None:
    """Build the demo SQLite database at `path` unless a file is already there.

    The build goes to a temporary file beside `path`, renamed into place only when complete, so
    a half-built file is never used, and a failed or interrupted build leaves nothing behind.

    Args:
        path: where the database file belongs; missing parent folders are created.
        progress: called with (fraction done 0-1, message) as the build advances.
        seed: as for `build_demo`.
        incidents: as for `build_demo`.
        today: as for `build_demo`.
    """
    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".building", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        build_demo(f"sqlite:///{temporary}", seed, incidents, today, progress)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def first_line(exc: BaseException) -> str:
    """The first line of an error's message: drivers' messages can run on for many lines."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
