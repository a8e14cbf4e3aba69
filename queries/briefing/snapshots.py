"""Frozen briefings: the model's JSON with its data-as-of, kept in a SQLite file the app owns.

The reporting database is only ever read; snapshots live in their own file
(`USALAMA_SNAPSHOT_DB`, default `data/snapshots.sqlite`), so a link to a snapshot shows the same
numbers to everyone, whatever the reporting database does afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Date, Engine, MetaData, String, Table, Text, create_engine, delete
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from queries.briefing.model import Briefing
from queries.db import PROJECT_ROOT

SNAPSHOT_DB_ENV_VAR = "USALAMA_SNAPSHOT_DB"
DEFAULT_SNAPSHOT_DB = PROJECT_ROOT / "data" / "snapshots.sqlite"

_metadata = MetaData()
snapshots = Table(
    "briefing_snapshots",
    _metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", String(40), nullable=False),  # UTC, ISO 8601
    Column("author", String(320), nullable=False),
    Column("counties", Text, nullable=True),  # JSON list of the codes it covers; NULL: national
    Column("title", Text, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("model", Text, nullable=False),
)


class SnapshotError(ValueError):
    """A snapshot cannot be stored, opened or deleted; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    """One frozen briefing. `counties` is None for a national one."""

    id: str
    created_at: str
    author: str
    counties: tuple[str, ...] | None
    title: str
    as_of: dt.date
    model: Briefing


def snapshot_path(reporting_url: str | None = None, environ: dict | None = None) -> Path:
    """Where snapshots live: env USALAMA_SNAPSHOT_DB, else data/snapshots.sqlite.

    Raises:
        SnapshotError: the path is the reporting database's own file (which is never written).
    """
    environ = os.environ if environ is None else environ
    path = Path(environ.get(SNAPSHOT_DB_ENV_VAR) or DEFAULT_SNAPSHOT_DB).resolve()
    if reporting_url:
        url = make_url(reporting_url)
        if url.get_backend_name() == "sqlite" and url.database:
            database = url.database.removeprefix("file:").split("?")[0]
            if Path(database).resolve() == path:
                raise SnapshotError(
                    f"{SNAPSHOT_DB_ENV_VAR} names the reporting database; snapshots need a file "
                    "of their own"
                )
    return path


def covered_counties(model: Briefing) -> tuple[str, ...] | None:
    """The counties a briefing's figures cover: the chosen ones, else the scope; None: all."""
    if model.counties:
        chosen = [c for c in model.counties if model.scope is None or c in model.scope]
        return tuple(sorted(chosen or model.scope or ()))
    return tuple(sorted(model.scope)) if model.scope is not None else None


def may_open(snapshot_counties: tuple[str, ...] | None, scope: tuple[str, ...] | None) -> bool:
    """A national user opens any snapshot; a county user only one within their counties."""
    if scope is None:
        return True
    return snapshot_counties is not None and set(snapshot_counties) <= set(scope)


class SnapshotStore:
    """The snapshot file: store, open, list, delete."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(f"sqlite:///{path}")
        _metadata.create_all(self.engine)

    def save(self, model: Briefing, author: str, now: dt.datetime | None = None) -> str:
        """Freeze a briefing; returns its id (random, unguessable, URL-safe)."""
        snapshot_id = secrets.token_urlsafe(9)
        counties = covered_counties(model)
        with self.engine.begin() as connection:
            connection.execute(
                snapshots.insert().values(
                    id=snapshot_id,
                    created_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
                    author=author,
                    counties=None if counties is None else json.dumps(list(counties)),
                    title=model.title,
                    as_of=model.as_of,
                    model=model.to_json(),
                )
            )
        return snapshot_id

    def _row(self, row) -> Snapshot:
        counties = None if row.counties is None else tuple(json.loads(row.counties))
        return Snapshot(
            id=row.id,
            created_at=row.created_at,
            author=row.author,
            counties=counties,
            title=row.title,
            as_of=row.as_of,
            model=Briefing.from_json(row.model),
        )

    def open(self, snapshot_id: str, scope: tuple[str, ...] | None) -> Snapshot:
        """The snapshot, if this scope may see it.

        Raises:
            SnapshotError: no such snapshot, or it covers counties outside the scope (the same
                message for both, so that a link reveals nothing about others' snapshots).
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                sql_select(snapshots).where(snapshots.c.id == snapshot_id)
            ).first()
        snapshot = None if row is None else self._row(row)
        if snapshot is None or not may_open(snapshot.counties, scope):
            raise SnapshotError("no snapshot with this link is available to you")
        return snapshot

    def list(self, scope: tuple[str, ...] | None) -> list[Snapshot]:
        """The snapshots this scope may open, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sql_select(snapshots).order_by(snapshots.c.created_at.desc())
            ).all()
        found = [self._row(row) for row in rows]
        return [s for s in found if may_open(s.counties, scope)]

    def delete(self, snapshot_id: str, identity: str, is_admin: bool) -> None:
        """Delete a snapshot: its author or an administrator only.

        Raises:
            SnapshotError: no such snapshot, or the user may not delete it.
        """
        with self.engine.begin() as connection:
            row = connection.execute(
                sql_select(snapshots.c.author).where(snapshots.c.id == snapshot_id)
            ).first()
            if row is None:
                raise SnapshotError("no such snapshot")
            if not is_admin and row.author != identity:
                raise SnapshotError("only its author or an administrator may delete a snapshot")
            connection.execute(delete(snapshots).where(snapshots.c.id == snapshot_id))
