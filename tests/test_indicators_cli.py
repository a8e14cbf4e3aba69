"""`python -m queries.indicators`: output shape, same numbers on SQLite and PostgreSQL, scope,
privacy labels, and one-line errors for bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from queries.indicators import INDICATOR_KEYS
from queries.indicators import cli as indicators_cli
from tests.clock import TEST_AS_OF

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = indicators_cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def no_deployment_secrets(monkeypatch, tmp_path):
    monkeypatch.setattr(indicators_cli, "SECRETS_FILE", tmp_path / "absent-secrets.toml")


def _close(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2025-07-01", "--to", "2026-06-30"],
        ["--from", "2026-09-01", "--to", "2026-09-30", "--county", "032", "--county", "001"],
        ["--from", "2026-01-01", "--to", "2026-11-20", "--by-county"],
    ],
)
def test_same_numbers_on_sqlite_and_postgresql(capsys, demo_db_path, pg_demo_twin, args) -> None:
    code_lite, out_lite, _ = run_cli(capsys, "--url", f"sqlite:///{demo_db_path}", *args)
    code_pg, out_pg, _ = run_cli(capsys, "--url", pg_demo_twin, *args)
    assert code_lite == code_pg == 0
    lite, pg = json.loads(out_lite), json.loads(out_pg)
    blocks = (
        (lite["by_county"], pg["by_county"])
        if "--by-county" in args
        else ({"all": lite["indicators"]}, {"all": pg["indicators"]})
    )
    assert blocks[0].keys() == blocks[1].keys()
    for where in blocks[0]:
        assert list(blocks[0][where]) == list(INDICATOR_KEYS)
        different = {
            k: (v, blocks[1][where][k])
            for k, v in blocks[0][where].items()
            if not _close(v, blocks[1][where][k])
        }
        assert different == {}, where
    if "--by-county" in args:
        assert len(lite["by_county"]) == 47 and lite["counties"] is None


def test_json_shape_and_privacy_labels(capsys, demo_db_path) -> None:
    code, out, _ = run_cli(
        capsys,
        "--url",
        f"sqlite:///{demo_db_path}",
        "--from",
        "2026-01-01",
        "--to",
        "2026-11-20",
        "--by-county",
    )
    assert code == 0
    document = json.loads(out)
    assert document["from"] == "2026-01-01" and document["to"] == "2026-11-20"
    values = [v for county in document["by_county"].values() for v in county.values()]
    referrals = [c["rehab_referrals"] for c in document["by_county"].values()]
    assert "<5" in referrals  # the demo plants counties with 1-4 referrals
    assert not any(isinstance(v, int) and 1 <= v <= 4 for v in referrals)
    assert all(
        v is None or isinstance(v, (int, float)) or v in ("<5", "suppressed") for v in values
    )


def test_csv_format(capsys, demo_db_path) -> None:
    code, out, _ = run_cli(
        capsys,
        "--url",
        f"sqlite:///{demo_db_path}",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--county",
        "047",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and rows[0]["counties"] == "047"
    assert rows[0]["as_of"] == TEST_AS_OF.isoformat()  # the default: the latest report's date
    assert list(rows[0])[4:] == list(INDICATOR_KEYS)


def test_scope_from_the_access_list(capsys, demo_db_path, tmp_path, monkeypatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth]\nclient_id = "x"\n[access.users]\n'
        '"nakuru@example.go.ke" = { role = "county", counties = ["032"] }\n'
    )
    monkeypatch.setattr(indicators_cli, "SECRETS_FILE", secrets)
    url = f"sqlite:///{demo_db_path}"
    period = ["--from", "2026-09-01", "--to", "2026-09-30"]
    code, _, err = run_cli(capsys, "--url", url, *period)
    assert code == 2 and "--as" in err
    code, out, _ = run_cli(capsys, "--url", url, *period, "--as", "nakuru@example.go.ke")
    scoped = json.loads(out)
    assert code == 0 and scoped["counties"] == ["032"]
    code, _, err = run_cli(
        capsys, "--url", url, *period, "--as", "nakuru@example.go.ke", "--county", "047"
    )
    assert code == 2 and "outside" in err
    code, _, err = run_cli(capsys, "--url", url, *period, "--as", "someone@else.com")
    assert code == 2 and "no access" in err
    code, out, _ = run_cli(
        capsys, "--url", url, *period, "--as", "nakuru@example.go.ke", "--by-county"
    )
    assert list(json.loads(out)["by_county"]) == ["032"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from", "2025-07-31", "--to", "2025-07-01"], 2, "after"),
        (["--from", "2025-07-01", "--to", "2025-07-31", "--county", "999"], 2, "unknown county"),
        (["--from", "2025-07-01", "--to", "2025-13-01"], 2, "not a date"),
        (
            [
                "--url",
                "postgresql+psycopg://nobody@127.0.0.1:9/none",
                "--from",
                "2025-07-01",
                "--to",
                "2025-07-31",
            ],
            1,
            "cannot be reached",
        ),
        (
            ["--url", "mysql://x/y", "--from", "2025-07-01", "--to", "2025-07-31"],
            1,
            "not supported",
        ),
        (
            [
                "--url",
                "sqlite:////no/such/file.sqlite",
                "--from",
                "2025-07-01",
                "--to",
                "2025-07-31",
            ],
            1,
            "does not exist",
        ),
    ],
)
def test_bad_input_is_one_line_without_traceback(demo_db_path, args, code, message) -> None:
    if "--url" not in args:
        args = ["--url", f"sqlite:///{demo_db_path}", *args]
    result = subprocess.run(
        [sys.executable, "-m", "queries.indicators", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_tables_are_named(tmp_path) -> None:
    import sqlite3

    db = tmp_path / "partial.sqlite"
    sqlite3.connect(db).execute("create table counties (code text)").connection.commit()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "queries.indicators",
            "--url",
            f"sqlite:///{db}",
            "--from",
            "2025-07-01",
            "--to",
            "2025-07-31",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "missing table(s) wards" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("key", ["median_hours_to_resolve", "ra_on_time_rate", "people_trained"])
@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_sql_prints_runnable_sql_that_gives_the_printed_value(
    capsys, demo_db_path, pg_demo_twin, key: str, engine_name: str
) -> None:
    """`--sql KEY` shows the statement behind a figure: run as printed, it gives the value the
    command prints for the same selection."""
    url = f"sqlite:///{demo_db_path}" if engine_name == "sqlite" else pg_demo_twin
    # A quarter of days well before the as-of date, whatever the suite's day.
    first, last = TEST_AS_OF - dt.timedelta(days=150), TEST_AS_OF - dt.timedelta(days=60)
    selection = ["--url", url, "--from", f"{first}", "--to", f"{last}", "--county", "032"]
    code, sql, _ = run_cli(capsys, *selection, "--sql", key)
    assert code == 0
    assert sql.lstrip().upper().startswith("SELECT") and f"'{last}" in sql
    median_word = "percentile_cont" if engine_name == "postgresql" else "median("
    assert (median_word in sql) == (key == "median_hours_to_resolve")
    _, out, _ = run_cli(capsys, *selection)
    from queries.db import make_engine

    with make_engine(url).connect() as connection:
        (value,) = connection.execute(text(sql.strip().rstrip(";"))).one()
    assert _close(float(value), float(json.loads(out)["indicators"][key]))


def test_sql_refuses_an_unknown_key(capsys, demo_db_path) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(
            capsys,
            "--url",
            f"sqlite:///{demo_db_path}",
            "--from",
            "2026-07-01",
            "--to",
            "2026-09-30",
            "--sql",
            "crime_index",
        )
    assert stopped.value.code == 2


def test_as_of_sets_what_is_known_and_is_echoed(capsys, demo_db_path) -> None:
    # A whole month ending at least a month before the as-of date, whatever the suite's day.
    first = (TEST_AS_OF - dt.timedelta(days=60)).replace(day=1)
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    early_as_of = last + dt.timedelta(days=5)  # before the month's reports are due (the 10th)
    base = ["--url", f"sqlite:///{demo_db_path}", "--from", f"{first}", "--to", f"{last}"]
    _, later, _ = run_cli(capsys, *base)
    code, early, _ = run_cli(capsys, *base, "--as-of", f"{early_as_of}")
    assert code == 0
    assert json.loads(early)["as_of"] == f"{early_as_of}"
    # On the 5th the month's reports are not due yet: no rate, where later there is one.
    assert json.loads(early)["indicators"]["ra_reporting_rate"] is None
    assert json.loads(later)["indicators"]["ra_reporting_rate"] is not None
    code, _, err = run_cli(capsys, *base, "--as-of", f"{first + dt.timedelta(days=14)}")
    assert code == 2 and "after --as-of" in err


def test_as_given_twice_is_an_error(capsys, demo_db_path) -> None:
    code, _, err = run_cli(
        capsys,
        *("--url", f"sqlite:///{demo_db_path}", "--from", "2026-09-01", "--to", "2026-09-30"),
        *("--as", "a@example.go.ke", "--as", "b@example.go.ke"),
    )
    assert code == 2 and "--as may be given once" in err
