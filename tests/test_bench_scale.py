"""The scale benchmark's harness (bench/bench_scale.py) on fabricated measurements: its table,
its JSON and its command line. It measures nothing and starts no database."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "bench_scale.py"
_spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_scale", bench)  # dataclasses look their module up by name
_spec.loader.exec_module(bench)


def _phase(seconds: float, statements: int, db: float) -> dict:
    slowest = [{"seconds": db, "origin": "queries.indicators.headline", "sql": "SELECT 1"}]
    return {"seconds": seconds, "statements": statements, "db_seconds": db, "slowest": slowest}


def _result(page: str, run: int, cold: float, error: str | None = None) -> dict:
    phases = {
        "cold": _phase(cold, 58, cold / 2),
        "warm": _phase(0.2, 0, 0.0),
        "period": _phase(3.0, 40, 2.5),
        "back": _phase(0.2, 0, 0.0),
        "county": _phase(1.0, 38, 0.5),
    }
    return {
        "engine": "postgresql",
        "incidents": 1_000_000,
        "page": page,
        "run": run,
        "serving": False,
        "peak_rss_mb": 200.0 + run,
        "phases": phases if error is None else {"cold": phases["cold"]},
        "error": error,
    }


def test_the_harness_formats_fabricated_measurements(tmp_path: Path) -> None:
    results = [
        _result("Overview", 1, 1.0),
        _result("Overview", 2, 2.0),
        _result("Incidents", 1, 4.0, error="period: TimeoutError"),
    ]
    table = bench.format_table(results).splitlines()
    assert [c.strip() for c in table[0].strip("|").split("|")] == [
        "engine",
        "size",
        "page",
        "cold s",
        "warm s",
        "period s",
        "county s",
        "changed s",
        "warm-up s",
        "then period s",
        "then county s",
        "SQL n c/p/k",
        "db s c/p/k",
        "RSS MB",
    ]
    overview = next(line for line in table if "Overview" in line)
    cells = [c.strip() for c in overview.strip("|").split("|")]
    assert cells == [
        "postgresql",
        "1m",
        "Overview",
        "1.00-2.00",
        "0.20",
        "3.00",
        "1.00",
        "-",
        "-",
        "-",
        "-",
        "58/40/38",
        "0.50-1.00/2.50/0.50",
        "201-202",
    ]
    incidents = next(line for line in table if line.startswith("| postgresql") and "Inc" in line)
    assert "Incidents (!)" in incidents and incidents.rstrip().endswith("201 |")
    assert "(!) postgresql 1m Incidents" in table[-1] and "TimeoutError" in table[-1]
    assert "queries.indicators.headline  SELECT 1" in bench.format_slowest(results)
    path = bench.write_json({"results": results}, tmp_path)
    assert json.loads(path.read_text())["results"] == results
    assert [bench.parse_size(s) for s in ("100k", "1M", "10m", "250_000")] == [
        100_000,
        1_000_000,
        10_000_000,
        250_000,
    ]
    assert [bench.size_label(n) for n in (100_000, 10_000_000, 123_456)] == [
        "100k",
        "10m",
        "123456",
    ]


def test_the_bench_command_line_answers_help() -> None:
    shown = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--sizes", "--engines", "--pages", "--runs", "--quick", "--serving"):
        assert option in shown


def test_a_pause_before_the_changes_is_zero_or_more_seconds() -> None:
    assert bench.parse_args(["--pause", "5"]).pause == 5.0
    assert bench.parse_args([]).pause == 0.0
    with pytest.raises(SystemExit):
        bench.parse_args(["--pause", "-1"])


def test_the_profile_of_a_step_sees_the_page_script_run_in_its_own_thread(tmp_path: Path) -> None:
    import pstats

    from streamlit.testing.v1 import AppTest

    profile = bench._ScriptProfile()
    try:
        AppTest.from_string("def drawn_here():\n    return 1\n\ndrawn_here()\n").run()
    finally:
        profile.disable()
    path = tmp_path / "step.prof"
    profile.dump_stats(str(path))
    names = {name for _, _, name in pstats.Stats(str(path)).stats}
    assert "drawn_here" in names
