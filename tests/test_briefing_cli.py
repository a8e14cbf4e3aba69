"""`python -m dashboard.briefing`: writes each format, applies --as and --compare, and fails with
one line and exit 1 or 2; it never imports Streamlit."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from dashboard.briefing import cli
from queries.indicators import cli as indicators_cli
from tests.clock import TEST_AS_OF

ROOT = Path(__file__).resolve().parent.parent
PERIOD = ["--from", "2026-10-01", "--to", "2026-10-28"]


@pytest.fixture(autouse=True)
def no_deployment_secrets(monkeypatch, tmp_path):
    monkeypatch.setattr(indicators_cli, "SECRETS_FILE", tmp_path / "absent-secrets.toml")


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_writes_a_deck_and_a_workbook_for_a_county(capsys, demo_db_path, tmp_path) -> None:
    url = f"sqlite:///{demo_db_path}"
    deck, book = tmp_path / "b.pptx", tmp_path / "b.xlsx"
    for out in (deck, book):
        code, printed, err = _run(
            capsys, "--url", url, *PERIOD, "--county", "032", "--out", str(out)
        )
        assert (code, err) == (0, "") and printed.strip() == str(out)
    assert len(Presentation(io.BytesIO(deck.read_bytes())).slides) == 6  # 5 + definitions
    about = dict(load_workbook(book)["About"].iter_rows(values_only=True))
    assert about["counties"] == "032"
    assert about["period"] == "01 Oct 2026 – 28 Oct 2026"


def test_as_applies_the_users_scope(capsys, demo_db_path, tmp_path, monkeypatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth]\nclient_id = "x"\n[access.users]\n'
        '"coast@interior.go.ke" = { role = "county", counties = ["001", "002"] }\n'
    )
    monkeypatch.setattr(indicators_cli, "SECRETS_FILE", secrets)
    out = tmp_path / "coast.xlsx"
    url = f"sqlite:///{demo_db_path}"
    code, _, err = _run(capsys, "--url", url, *PERIOD, "--out", str(out))
    assert code == 2 and "--as" in err
    code, _, _ = _run(
        capsys, "--url", url, *PERIOD, "--as", "coast@interior.go.ke", "--out", str(out)
    )
    assert code == 0
    sheets = load_workbook(out).sheetnames
    assert "Indicators" in sheets
    deck = tmp_path / "coast.pptx"
    _run(capsys, "--url", url, *PERIOD, "--as", "coast@interior.go.ke", "--out", str(deck))
    titles = [
        next(s.text_frame.text for s in slide.shapes if s.name == "Title")
        for slide in Presentation(deck).slides
    ]
    assert titles[5:7] == ["Mombasa (001)", "Kwale (002)"]  # the coordinator's own counties
    code, _, err = _run(
        capsys, "--url", url, *PERIOD, "--as", "coast@interior.go.ke", "--county", "032",
        "--out", str(out),
    )  # fmt: skip
    assert code == 2 and "outside" in err


def test_compare_last_year(capsys, demo_db_path, tmp_path) -> None:
    out = tmp_path / "b.xlsx"
    code, _, _ = _run(
        capsys, "--url", f"sqlite:///{demo_db_path}", *PERIOD, "--compare", "last_year",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    about = dict(load_workbook(out)["About"].iter_rows(values_only=True))
    assert about["comparison"].startswith("the same period last year (2025-10-01")


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ([*PERIOD, "--out", "OUT/b.docx"], 2, "--out must end in"),
        ([*PERIOD, "--county", "999", "--out", "OUT/b.pptx"], 2, "unknown county"),
        (["--from", "2026-10-28", "--to", "2026-10-01", "--out", "OUT/b.pptx"], 2, "after"),
        ([*PERIOD, "--out", "OUT/missing/b.pptx"], 2, "does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, demo_db_path, tmp_path, args, code, words):
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    got, _, err = _run(capsys, "--url", f"sqlite:///{demo_db_path}", *args)
    assert got == code and words in err and err.count("\n") == 1


def test_an_unknown_comparison_is_refused_by_argparse(capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*PERIOD, "--compare", "yesterday", "--out", str(tmp_path / "b.pptx")])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_an_unusable_database_exits_1(capsys, tmp_path) -> None:
    code, _, err = _run(
        capsys, "--url", f"sqlite:///{tmp_path}/nothing.sqlite", *PERIOD, "--out",
        str(tmp_path / "b.pptx"),
    )  # fmt: skip
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_the_command_runs_without_streamlit(demo_db_path, tmp_path) -> None:
    out = tmp_path / "b.pdf"
    probe = (
        "import sys, runpy; sys.argv = ['x'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('dashboard.briefing', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
        "    raise\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--url", f"sqlite:///{demo_db_path}",
         "--from", (TEST_AS_OF.replace(day=1)).isoformat(), "--to", TEST_AS_OF.isoformat(),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")
