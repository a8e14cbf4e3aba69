"""The privacy rule on every output outside the Rehabilitation page: headline cards, the county
league table, ward tables, weekly series, the county scorecard, the indicators command, and the
screen of every page. No referral count from 1 to 4 appears, and no hidden cell can be worked
back out from a total shown beside it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard.pages import visible_pages
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import cli as indicators_cli
from queries.indicators import county_league, county_scorecard, headline, indicators_frame
from queries.privacy import labelled_for_display
from queries.trends import streams_by_week
from tests.app_support import clear_caches, run_app, use_demo_db

THRESHOLD = 5


def _latest(db: Path) -> dt.date:
    import sqlite3

    with sqlite3.connect(db) as connection:
        (latest,) = connection.execute("SELECT max(referred_on) FROM rehab_referrals").fetchone()
    return dt.date.fromisoformat(latest)


def _selections(db: Path) -> list[Filters]:
    end = _latest(db)
    return [
        Filters(start=end - dt.timedelta(days=27), end=end, preset="custom"),
        Filters(start=end - dt.timedelta(days=6), end=end, preset="custom"),
        Filters(start=end - dt.timedelta(days=27), end=end, preset="custom", counties=("032",)),
        Filters(
            start=end - dt.timedelta(days=90),
            end=end,
            preset="custom",
            counties=("001", "032", "047"),
        ),
        Filters(start=dt.date(2025, 7, 1), end=dt.date(2026, 6, 30), preset="custom"),
    ]


def _small_numbers(values: pd.Series) -> list:
    numbers = pd.to_numeric(values, errors="coerce")
    return [v for v in numbers if pd.notna(v) and 1 <= v < THRESHOLD]


def _no_single_hidden_cell(hidden: pd.Series) -> bool:
    """With a total published beside the cells, one hidden cell alone could be derived."""
    return int(hidden.sum()) != 1


def test_query_outputs_hide_small_counts_and_cannot_be_subtracted(demo_db_path: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    small_cells_seen = 0
    for filters in _selections(demo_db_path):
        total = headline(engine, filters, THRESHOLD).set_index("indicator").loc["rehab_referrals"]
        assert not (pd.notna(total["value"]) and 1 <= total["value"] < THRESHOLD)

        league = county_league(engine, filters, THRESHOLD)
        assert _small_numbers(league["rehab_referrals"]) == []
        assert _no_single_hidden_cell(league["rehab_referrals_suppressed"])
        small_cells_seen += int(league["rehab_referrals_suppressed"].sum())

        weekly = streams_by_week(engine, filters, THRESHOLD)
        rehab_weeks = weekly[weekly["stream"] == "rehab_referrals"]
        assert _small_numbers(rehab_weeks["value"]) == []
        assert _no_single_hidden_cell(rehab_weeks["value_suppressed"])

        for frame in (league, rehab_weeks):
            shown = labelled_for_display(frame, THRESHOLD)
            for column in shown.columns:
                if "referral" in column or column == "value":
                    assert not any(re.fullmatch(r"[1-4](\.0)?", str(v)) for v in shown[column])

        if filters.county_codes and len(filters.county_codes) == 1:
            wards = indicators_frame(engine, filters, THRESHOLD, grain="ward")
            assert _small_numbers(wards["rehab_referrals"]) == []
            assert _no_single_hidden_cell(wards["rehab_referrals_suppressed"])
            small_cells_seen += int(wards["rehab_referrals_suppressed"].sum())
            card = county_scorecard(engine, filters, THRESHOLD).set_index("indicator")
            for column in ("county_value", "national_value"):
                value = card.loc["rehab_referrals", column]
                assert not (pd.notna(value) and 1 <= value < THRESHOLD)
    assert small_cells_seen > 0, "the demo should exercise suppression"


def test_the_indicators_command_hides_small_counts(
    demo_db_path, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(indicators_cli, "SECRETS_FILE", tmp_path / "none.toml")
    end = _latest(demo_db_path)
    for start in (end - dt.timedelta(days=6), end - dt.timedelta(days=27)):
        assert (
            indicators_cli.main(
                [
                    "--url",
                    f"sqlite:///{demo_db_path}",
                    "--from",
                    str(start),
                    "--to",
                    str(end),
                    "--by-county",
                ]
            )
            == 0
        )
        document = json.loads(capsys.readouterr().out)
        counts = [c["rehab_referrals"] for c in document["by_county"].values()]
        assert not any(isinstance(v, int) and 1 <= v < THRESHOLD for v in counts)
        assert sum(v in ("<5", "suppressed") for v in counts) != 1


@pytest.mark.parametrize(
    "params",
    [
        {"period": "last_7_days"},
        {"county": "032"},
        {"period": "last_28_days", "county": "001,032,047"},
    ],
    ids=["week", "nakuru", "three"],
)
def test_no_page_shows_a_small_referral_count(demo_db_path, monkeypatch, params) -> None:
    use_demo_db(demo_db_path, monkeypatch)
    clear_caches()  # once: the pages share the cache, as they do for a user
    for page in (p.view for p in visible_pages(sees_data_quality=False)):
        at = run_app(params, page)
        assert not at.exception, page
        for metric in at.metric:
            if "referral" in metric.label.lower():
                assert not re.fullmatch(r"[1-4]", metric.value.strip()), (page, metric.label)
        for table in at.dataframe:
            frame = table.value
            for column in frame.columns:
                name = str(column).lower()
                if "referral" in name and not any(
                    t in name for t in ("%", "pct", "days", "median", "rate")
                ):
                    assert not any(
                        re.fullmatch(r"[1-4](\.0)?", str(v).strip()) for v in frame[column]
                    ), (page, column)
