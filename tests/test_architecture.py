"""The codebase's own rules: layers, one home for dialect SQL, documented settings and contract."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from queries.indicators import INDICATOR_BY_KEY, INDICATOR_KEYS, STREAM_SELECTS
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


@pytest.mark.parametrize("path", _sources("dashboard"), ids=lambda p: str(p.relative_to(ROOT)))
def test_figures_skip_plotly_checks_only_where_the_tests_check_them(path: Path) -> None:
    """`charts.common.plotly_figure` builds figures unvalidated and, under the tests, checks
    them; a figure built unvalidated anywhere else would go unchecked."""
    if path.relative_to(ROOT).as_posix() == "dashboard/charts/common.py":
        return
    assert "_validate" not in path.read_text()


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


STREAM_MODULES = ("incidents", "associations", "training", "rehab")
# Lower layers, which the stream modules may use; nothing here may import a stream or the registry.
BASE_MODULES = (
    "schema",
    "filters",
    "dialect",
    "where",
    "grain",
    "db",
    "privacy",
    "geography",
    "reference",
    "significance",
)


def _imports(path: Path) -> set[str]:
    """The queries.* modules a file imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("queries"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("queries"))
    return found


@pytest.mark.parametrize("name", STREAM_MODULES)
def test_streams_never_import_the_registry_or_another_page_module(name: str) -> None:
    imported = _imports(ROOT / "queries" / f"{name}.py")
    upward = {m for m in imported if m.startswith("queries.indicators") or m == "queries.targets"}
    assert upward == set()


@pytest.mark.parametrize("name", BASE_MODULES)
def test_base_modules_import_no_stream(name: str) -> None:
    imported = _imports(ROOT / "queries" / f"{name}.py")
    above = {f"queries.{m}" for m in (*STREAM_MODULES, "indicators", "targets", "trends")}
    assert not imported & above


def test_the_registry_never_imports_its_command() -> None:
    registry = _imports(ROOT / "queries" / "indicators" / "__init__.py")
    assert not any(m.startswith("queries.indicators.cli") for m in registry)


def test_every_indicator_names_where_its_sql_lives() -> None:
    for indicator in INDICATOR_BY_KEY.values():
        module, _, builder = indicator.source.rpartition(".")
        assert module in {f"queries.{m}" for m in STREAM_MODULES}
        assert builder == STREAM_SELECTS[indicator.stream].__name__


# A contract measure's building blocks may be written only inside the named expression that
# defines the measure in its stream module, so a page breakdown can only reuse it, never
# re-derive it under another name. Keys: the dialect construct; values: the functions allowed.
MEASURE_BUILDING_BLOCKS = {
    "median": {
        "median_hours_to_acknowledge",
        "median_hours_to_resolve",
        "median_days_to_admission",
    },
    "hours_between": {"hours_to_acknowledge", "hours_to_resolve"},
    "add_months_and_days": {"report_deadline"},
    # Open-incident age bands are a page breakdown with no contract measure to drift from.
    "days_between": {"days_to_admission", "days_to_completion", "open_incidents_by_age_select"},
}


def _calls_by_function(path: Path) -> list[tuple[str, str]]:
    """(enclosing top-level function, called dialect construct) for every sqld.X(...) call."""
    found = []
    for function in ast.parse(path.read_text()).body:
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "sqld"
            ):
                found.append((function.name, node.func.attr))
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in _sources("queries") if "demo" not in p.parts and p.name != "dialect.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_measures_are_computed_only_by_their_named_expressions(path: Path) -> None:
    for function, construct in _calls_by_function(path):
        allowed = MEASURE_BUILDING_BLOCKS.get(construct)
        if allowed is not None:
            assert function in allowed, (
                f"{path.name}:{function} computes a measure with sqld.{construct}: reuse the "
                "stream's named measure expression instead"
            )


def test_the_measure_guard_sees_the_measures() -> None:
    """The scan above must find the named expressions, or it checks nothing."""
    seen = {f for p in _sources("queries") for f, _ in _calls_by_function(p)}
    for allowed in MEASURE_BUILDING_BLOCKS.values():
        assert allowed <= seen


def test_only_where_builds_period_and_area_conditions() -> None:
    """Filters -> SQL has one home: no other module compares a column with filters.start/end
    or with the filters' county codes."""
    pattern = re.compile(r"(>=|<=|<|>)\s*filters\.(start|end)\b|in_\(filters\.(county|ward)_codes")
    for path in _sources("queries"):
        if path.name == "where.py" or "demo" in path.parts:
            continue
        assert not pattern.search(path.read_text()), path.name
