"""The codebase's own rules: layers, one home for dialect SQL, documented settings and contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from queries.indicators import INDICATOR_KEYS
from queries.schema import ALLOWED_VALUES, metadata

ROOT = Path(__file__).resolve().parent.parent
DEMO_PACKAGE = ROOT / "queries" / "demo"
README = (ROOT / "README.md").read_text()
CONTRACT = (ROOT / "docs" / "data-contract.md").read_text()


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("queries"), ids=lambda p: p.name)
def test_queries_never_import_streamlit(path: Path) -> None:
    assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.MULTILINE)


@pytest.mark.parametrize("path", _sources("dashboard"), ids=lambda p: str(p.relative_to(ROOT)))
def test_dashboard_writes_no_sql(path: Path) -> None:
    text = path.read_text()
    assert "sqlalchemy" not in text.replace("sqlalchemy import Engine", "")
    assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+[\w*]", text)


@pytest.mark.parametrize("path", _sources("dashboard"), ids=lambda p: str(p.relative_to(ROOT)))
def test_caching_lives_in_one_module(path: Path) -> None:
    if path.name == "data.py":
        return
    assert "st.cache_data(" not in path.read_text() and "st.cache_resource(" not in path.read_text()


@pytest.mark.parametrize(
    "path", _sources("queries") + _sources("dashboard"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_dialect_functions_only_in_dialect_module(path: Path) -> None:
    if path.name == "dialect.py" or path.is_relative_to(DEMO_PACKAGE):
        return  # queries/demo/ writes rows, it does not query with dialect functions
    # SQL constructs only; pandas' own .dt.strftime formats labels and is not SQL.
    text = path.read_text().replace(".dt.strftime(", "")
    for construct in ("strftime", "date_trunc", "julianday", "percentile_cont"):
        assert construct not in text, f"{construct} outside queries/dialect.py"


def test_every_setting_is_in_the_readme() -> None:
    code = "\n".join(p.read_text() for p in _sources("queries") + _sources("dashboard"))
    env_vars = set(re.findall(r"\b(USALAMA_[A-Z_]+|REPORTING_DB_URL)\b", code))
    env_vars -= {"USALAMA_REQUIRE_ALL_SUITES"}  # a test-runner switch, not a setting
    assert env_vars, "no settings found: the scan is broken"
    missing = sorted(v for v in env_vars if v not in README)
    assert missing == []
    for secret in (
        "[reporting_db] url",
        "[privacy] threshold",
        "[auth]",
        "[access] users",
        "[access] users_file",
        "[access] contact",
        "[access] open_role",
    ):
        assert secret in README


def test_the_contract_document_names_every_table_column_value_and_indicator() -> None:
    for table in metadata.sorted_tables:
        assert f"### `{table.name}`" in CONTRACT
        for column in table.columns:
            assert f"`{column.name}`" in CONTRACT
    for values in ALLOWED_VALUES.values():
        for value in values:
            assert f"`{value}`" in CONTRACT
    for key in INDICATOR_KEYS:
        assert f"`{key}`" in CONTRACT


def test_every_indicator_is_tested_on_hand_made_rows() -> None:
    handmade = (ROOT / "tests" / "test_indicators_handmade.py").read_text()
    pandas_check = (ROOT / "tests" / "test_indicators_pandas.py").read_text()
    for key in INDICATOR_KEYS:
        assert f'"{key}"' in handmade and f'"{key}"' in pandas_check


def test_lint_and_format_are_clean() -> None:
    """ruff, as `./dev lint` runs it: the suite fails on code the linter or formatter rejects."""
    import subprocess
    import sys

    ruff = Path(sys.executable).parent / "ruff"
    for command in ([str(ruff), "check", "."], [str(ruff), "format", "--check", "."]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
