"""Loads column arrays into the contract's tables: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import Date, DateTime, Engine, Float, Integer, Table
from sqlalchemy.schema import CreateIndex, CreateTable

from queries import schema

_EXTRA_INDEXES = (
    "CREATE INDEX ix_demo_incidents_county_reported ON incidents (county_code, reported_at)",
    "CREATE INDEX ix_demo_referrals_county_referred ON rehab_referrals (county_code, referred_on)",
    "CREATE INDEX ix_demo_forums_county_held ON forums (county_code, held_on)",
    "CREATE INDEX ix_demo_forums_ra_held ON forums (ra_id, held_on)",
    "CREATE INDEX ix_demo_trainings_county_held ON trainings (county_code, held_on)",
    "CREATE INDEX ix_demo_reports_submitted ON ra_monthly_reports (submitted_on)",
)


def _storage(table: Table, columns: Mapping[str, np.ndarray]) -> tuple[list[str], list[list]]:
    """Column names and values as plain Python lists in the schema's SQLite storage format."""
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
    names = [c.name for c in table.columns if c.name in columns]
    return names, [_to_python(table.c[name].type, columns[name]) for name in names]


def _to_python(sql_type: Any, values: np.ndarray) -> list:
    if values.dtype.kind == "M":
        null = np.isnat(values)
        if isinstance(sql_type, DateTime):
            return _with_nulls(_timestamp_text(values), null)
        if isinstance(sql_type, Date):
            return _with_nulls(np.datetime_as_string(values, unit="D").tolist(), null)
    if values.dtype.kind == "b":
        return values.astype(np.int64).tolist()
    if values.dtype.kind == "f":
        null = np.isnan(values)
        if isinstance(sql_type, Integer):
            return _with_nulls(np.where(null, 0, values).astype(np.int64).tolist(), null)
        if isinstance(sql_type, Float):
            return _with_nulls(values.tolist(), null)
    if values.dtype.kind in "iu" and isinstance(sql_type, Integer | Float):
        return values.astype(np.int64 if isinstance(sql_type, Integer) else float).tolist()
    if values.dtype.kind in "OUT":
        return values.tolist()
    raise TypeError(f"cannot store {values.dtype} as {sql_type}")


def _timestamp_text(values: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS' strings: the ISO text with its 'T' overwritten in place."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    if text.dtype.itemsize // 4 != 19:
        text = text.astype("U19")
    text.view(np.uint32).reshape(len(text), 19)[:, 10] = ord(" ")
    return text.tolist()


def _with_nulls(values: list, null: np.ndarray) -> list:
    for i in np.flatnonzero(null).tolist():
        values[i] = None
    return values


class Writer:
    """Loads rows through the raw DBAPI connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.raw = engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            # Autocommit at the driver level: this class issues BEGIN and COMMIT itself.
            self.driver.isolation_level = None
            # A build is a one-off bulk load: durability of partial work is worthless.
            self.execute("PRAGMA journal_mode=OFF")
            self.execute("PRAGMA synchronous=OFF")
            self.execute("PRAGMA cache_size=-262144")

    def execute(self, sql: str) -> None:
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def begin(self) -> None:
        if self.sqlite:
            self.execute("BEGIN")

    def commit(self) -> None:
        if self.sqlite:
            self.execute("COMMIT")
        else:
            self.driver.commit()

    def reset_schema(self) -> None:
        """Drop the contract tables and create them again, without their indexes (made later)."""
        for table in reversed(schema.metadata.sorted_tables):
            self.execute(f"DROP TABLE IF EXISTS {table.name}")
        for table in schema.metadata.sorted_tables:
            self.execute(str(CreateTable(table).compile(dialect=self.dialect)))

    def create_indexes(self) -> None:
        for table in schema.metadata.sorted_tables:
            for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
                self.execute(str(CreateIndex(index).compile(dialect=self.dialect)))
        for statement in _EXTRA_INDEXES:
            self.execute(statement)

    def insert(self, table: Table, columns: Mapping[str, np.ndarray]) -> int:
        names, values = _storage(table, columns)
        rows = zip(*values, strict=True)
        cursor = self.driver.cursor()
        try:
            if self.sqlite:
                marks = ", ".join("?" * len(names))
                cursor.executemany(
                    f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows
                )
            else:
                with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()
        return len(values[0]) if values else 0

    def close(self) -> None:
        self.raw.close()
