"""docs/indexes.sql, the DBA's index script, runs as written on PostgreSQL and creates what it says."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine, text

from queries.demo import build_demo
from tests.clock import TEST_TODAY

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "indexes.sql"


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def test_the_index_script_runs_on_a_contract_database_twice(make_pg_database) -> None:
    url = make_pg_database()
    build_demo(url, seed=3, incidents=500, today=TEST_TODAY)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")  # CONCURRENTLY needs autocommit
    statements = _statements(SCRIPT.read_text())
    for _ in range(2):  # IF NOT EXISTS: a second run changes nothing and fails nothing
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    named = set(re.findall(r"INDEX CONCURRENTLY IF NOT EXISTS (\w+)", SCRIPT.read_text()))
    with engine.connect() as connection:
        present = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        statistics = set(connection.execute(text("SELECT stxname FROM pg_statistic_ext")).scalars())
    assert named and named <= present
    assert "st_incidents_week_category" in statistics
    engine.dispose()
