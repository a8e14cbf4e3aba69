"""A privacy scan of everything the Rehabilitation page publishes, on the demo database (which
has hundreds of county x month cells of 1 to 4 referrals) for several selections and for the
default and a configured threshold.

The truth is recomputed here with pandas from the raw rows. The scan checks that: no referral
count from 1 to threshold-1 is shown, in any query frame or in any table the page shows and
downloads; every count shown is the true one rounded to the nearest 5 and every small one is
hidden; each published
breakdown beside its published total has either no hidden cell or at least two (whose sum does
not give them away as all ones); and, solving every published number as linear equations in
the true counts (funnel stages, the headline percentages, the comparison's changes; taken as
exact, which is stricter than rounded figures need), no hidden count and no small group can be
worked out. Differences between selections are tests/test_rehab_differencing.py's job. Finally, a `threshold` URL parameter changes
nothing on the page, and a threshold of 10 set by the deployment is honoured on screen.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import rehab as charts
from dashboard.pages import REHABILITATION
from queries import rehab
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import rehab_headline
from queries.privacy import THRESHOLD_ENV_VAR, labelled_for_display, suppression_threshold
from queries.schema import (
    AGE_BANDS,
    REFERRAL_SOURCES,
    REFERRAL_STATUSES,
    SEXES,
    SUBSTANCES,
    YOUTH_AGE_BANDS,
)
from tests.app_support import open_page

PAGE = REHABILITATION.view
ALLOWED = {
    "source": REFERRAL_SOURCES,
    "substance": SUBSTANCES,
    "sex": SEXES,
    "age_band": AGE_BANDS,
    "status": REFERRAL_STATUSES,
}
BREAKDOWNS = {
    "source": rehab.referrals_by_source,
    "substance": rehab.referrals_by_substance,
    "sex": rehab.referrals_by_sex,
    "age_band": rehab.referrals_by_age_band,
}
LEAVES = ["referred", "other", "assessed", "declined", "admitted", "completed", "dropped_out"]
STAGE_FORMS = {
    "referred": [1, 1, 1, 1, 1, 1, 1],
    "assessed": [0, 0, 1, 1, 1, 1, 1],
    "admitted": [0, 0, 0, 0, 1, 1, 1],
    "completed": [0, 0, 0, 0, 0, 1, 0],
    "in_treatment": [0, 0, 0, 0, 1, 0, 0],
    "dropped_out": [0, 0, 0, 0, 0, 0, 1],
    "declined": [0, 0, 0, 1, 0, 0, 0],
}
# Groups of statuses a reader could form by subtracting stages: each must stay hidden if small.
STATUS_GROUPS = {
    **{leaf: np.eye(len(LEAVES))[i].tolist() for i, leaf in enumerate(LEAVES)},
    "not_assessed": [1, 1, 0, 0, 0, 0, 0],
    "assessed_not_admitted": [0, 0, 1, 1, 0, 0, 0],
    "not_admitted": [1, 1, 1, 1, 0, 0, 0],
    "finished_treatment": [0, 0, 0, 0, 0, 1, 1],
    **STAGE_FORMS,
}


class Raw:
    """The demo's rehab rows, read with sqlite3 and pandas only."""

    def __init__(self, db: Path) -> None:
        with sqlite3.connect(db) as connection:
            self.referrals = pd.read_sql("SELECT * FROM rehab_referrals", connection)
            self.centres = pd.read_sql("SELECT * FROM rehab_centres", connection)
            self.counties = pd.read_sql("SELECT code FROM counties", connection)["code"]
        for column in ("referred_on", "admitted_on"):
            self.referrals[column] = pd.to_datetime(self.referrals[column]).dt.date
        self.centres["opened_on"] = pd.to_datetime(self.centres["opened_on"]).dt.date
        for column, allowed in ALLOWED.items():
            values = self.referrals[column]
            self.referrals[column] = values.where(values.isin(allowed), "other")

    def selected(self, f: Filters) -> pd.DataFrame:
        r = self.referrals
        keep = (r["referred_on"] >= f.start) & (r["referred_on"] <= f.end)
        if f.counties:
            keep &= r["county_code"].isin(f.counties)
        if f.wards:
            keep &= r["ward_code"].isin(f.wards)
        return r[keep]

    def counts(self, f: Filters, column: str) -> pd.Series:
        values = list(ALLOWED[column]) + ([] if "other" in ALLOWED[column] else ["other"])
        return self.selected(f)[column].value_counts().reindex(values, fill_value=0)

    def months(self, f: Filters) -> pd.Series:
        month = pd.to_datetime(self.selected(f)["referred_on"]).dt.to_period("M")
        grid = pd.period_range(f.start, f.end, freq="M")
        return month.value_counts().reindex(grid, fill_value=0)

    def statuses(self, f: Filters) -> np.ndarray:
        counts = self.counts(f, "status")
        return np.array([counts[leaf] for leaf in LEAVES], dtype=float)

    def in_treatment(self, f: Filters) -> pd.Series:
        r = self.referrals
        now = r[(r["status"] == "admitted") & r["admitted_on"].notna()]
        now = now[now["admitted_on"] <= f.end].merge(
            self.centres, left_on="centre_id", right_on="id", suffixes=("", "_centre")
        )
        if f.counties:
            now = now[now["county_code_centre"].isin(f.counties)]
        if f.wards:
            now = now[now["ward_code_centre"].isin(f.wards)]
        return now.groupby("county_code_centre").size()


@pytest.fixture(scope="module")
def raw(demo_db_path: Path) -> Raw:
    return Raw(demo_db_path)


def _latest(raw: Raw) -> dt.date:
    return max(raw.referrals["referred_on"])


def selections(raw: Raw) -> dict[str, Filters]:
    end = _latest(raw)
    last_28 = end - dt.timedelta(days=27)
    month_end = end.replace(day=1) - dt.timedelta(days=1)
    month = (month_end.replace(day=1), month_end)
    window = raw.referrals[
        (raw.referrals["county_code"] == "047") & (raw.referrals["referred_on"] >= last_28)
    ]
    wards = tuple(window["ward_code"].dropna().value_counts().index[:3])

    def custom(start: dt.date, stop: dt.date, **kw) -> Filters:
        return Filters(start=start, end=stop, preset="custom", **kw)

    return {
        "all-28-days": custom(last_28, end),
        "one-county": custom(last_28, end, counties=("032",)),
        "one-county-wards": custom(last_28, end, counties=("047",), wards=wards),
        "three-counties-week": custom(
            end - dt.timedelta(days=6), end, counties=("001", "032", "047")
        ),
        "a-month": custom(*month),
        "a-month-small-county": custom(*month, counties=("014",)),
        "a-year": custom(dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
    }


def test_the_demo_has_many_small_cells(raw: Raw) -> None:
    by_cell = raw.referrals.groupby(
        [
            raw.referrals["county_code"],
            pd.to_datetime(raw.referrals["referred_on"]).dt.to_period("M"),
        ]
    ).size()
    assert int(by_cell.between(1, 4).sum()) >= 100


def _to5(count: float) -> float:
    """The documented rounding of a shown rehab count: to the nearest 5 (0-2 down, 3-4 up)."""
    return float(5 * ((int(count) + 2) // 5))


def _small(value: object, threshold: int) -> bool:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return pd.notna(number) and 1 <= number < threshold


def _no_small_shown(frame: pd.DataFrame, columns: list[str], threshold: int, where: str) -> None:
    for column in columns:
        bad = [v for v in frame[column] if _small(v, threshold)]
        assert bad == [], (where, column, bad)


def _determined(published: list[list[float]], form: list[float]) -> bool:
    """Whether the published linear forms fix the value of `form`."""
    if not published:
        return False
    matrix = np.array(published, dtype=float)
    return np.linalg.matrix_rank(np.vstack([matrix, form]), tol=1e-7) == np.linalg.matrix_rank(
        matrix, tol=1e-7
    )


def _check_breakdown(
    name: str,
    true: pd.Series,
    shown: pd.Series,
    hidden: pd.Series,
    total_shown: bool,
    threshold: int,
    extra_groups: dict[str, list[str]] | None = None,
) -> int:
    """Shown cells are the true ones rounded to the nearest 5; small ones are hidden; a published total has 0 or >= 2 hidden
    cells whose sum is not their number; no hidden cell is fixed by the published sums."""
    for key in true.index:
        if hidden[key]:
            assert pd.isna(shown[key]), (name, key)
        else:
            assert shown[key] == _to5(true[key]), (name, key, shown[key], true[key])
            assert not (1 <= true[key] < threshold), (name, key, true[key])
    groups = {"total": list(true.index)} if total_shown else {}
    groups.update(extra_groups or {})
    for group, members in groups.items():
        hidden_members = [m for m in members if hidden[m]]
        assert len(hidden_members) != 1, (name, group, hidden_members)
        if hidden_members:
            assert true[hidden_members].sum() != len(hidden_members), (name, group)
    keys = list(true.index)
    published = [[1.0 if k == key else 0.0 for k in keys] for key in keys if not hidden[key]]
    if total_shown:
        published.append([1.0] * len(keys))
    for members in (extra_groups or {}).values():
        published.append([1.0 if k in members else 0.0 for k in keys])
    for key in keys:
        if hidden[key]:
            unit = [1.0 if k == key else 0.0 for k in keys]
            assert not _determined(published, unit), (name, key)
    return int(hidden.sum())


def _cards(engine, f: Filters, threshold: int) -> pd.DataFrame:
    return rehab_headline(engine, f, threshold).set_index("indicator")


def _check_funnel(raw: Raw, engine, f: Filters, threshold: int, cards: pd.DataFrame) -> None:
    funnel = rehab.referrals_by_stage(engine, f, threshold).set_index("stage")
    leaves = raw.statuses(f)
    published = []
    for stage, form in STAGE_FORMS.items():
        true = float(np.dot(form, leaves))
        if funnel.loc[stage, "referrals_suppressed"]:
            continue
        assert funnel.loc[stage, "referrals"] == _to5(true), (stage, true)
        published.append([float(v) for v in form])
    if not cards.loc["referral_admission_pct", "suppressed"] and pd.notna(
        cards.loc["referral_admission_pct", "value"]
    ):
        published.append([float(v) for v in STAGE_FORMS["admitted"]])
        if not cards.loc["rehab_referrals", "suppressed"]:
            published.append([float(v) for v in STAGE_FORMS["referred"]])
    ratio = cards.loc["referral_completion_pct", "value"]
    if not cards.loc["referral_completion_pct", "suppressed"] and pd.notna(ratio):
        r = ratio / 100.0
        published.append([0, 0, 0, 0, 0, 1 - r, -r])  # c (1 - r) - o r = 0
    for group, form in STATUS_GROUPS.items():
        true = float(np.dot(form, leaves))
        if not _determined(published, form):
            continue
        assert not (1 <= true < threshold), (f, group, true)
        if group in funnel.index:
            assert not funnel.loc[group, "referrals_suppressed"], (f, group, "derivable")


def _check_changes(raw: Raw, f: Filters, threshold: int, cards: pd.DataFrame) -> None:
    """A shown change gives away the comparison value: the counts behind it must be safe."""
    before = f.comparison_filters()
    leaves = raw.statuses(before)
    n_before = leaves.sum()
    ages = raw.counts(before, "age_band")
    youth = float(ages[list(YOUTH_AGE_BANDS)].sum())
    counts_revealed = {
        "rehab_referrals": [n_before],
        "referral_admission_pct": [
            np.dot(STAGE_FORMS["admitted"], leaves),
            np.dot(STATUS_GROUPS["not_admitted"], leaves),
        ],
        "referral_youth_pct": [youth, n_before - youth],
        "referral_completion_pct": [leaves[5], leaves[6], leaves[5] + leaves[6]],
    }
    for key, counts in counts_revealed.items():
        if pd.notna(cards.loc[key, "change"]):
            assert not any(1 <= c < threshold for c in counts), (f, key, counts)


def _scan(raw: Raw, engine, f: Filters, threshold: int) -> int:
    """Every check on one selection; returns how many cells were hidden."""
    hidden_cells = 0
    cards = _cards(engine, f, threshold)
    n = len(raw.selected(f))
    total = cards.loc["rehab_referrals"]
    total_shown = not total["suppressed"]
    assert not _small(total["value"], threshold)
    assert not _small(total["comparison_value"], threshold)
    if total_shown:
        assert total["value"] == _to5(n)
    elif total["small"]:
        assert 1 <= n < threshold  # shown as "<threshold": the label must be true
    else:
        # Hidden only to protect other cells (e.g. 8 referrals in two cells of 4 each: the total
        # would pin both), so labelled "suppressed", which claims nothing about its size.
        assert n >= threshold

    for dimension, function in BREAKDOWNS.items():
        frame = function(engine, f, threshold).set_index(dimension)
        extra = {}
        if dimension == "age_band" and not cards.loc["referral_youth_pct", "suppressed"] and n:
            extra = {
                "youth": list(YOUTH_AGE_BANDS),
                "not youth": [b for b in frame.index if b not in YOUTH_AGE_BANDS],
            }
        hidden_cells += _check_breakdown(
            dimension,
            raw.counts(f, dimension),
            frame["referrals"],
            frame["referrals_suppressed"],
            total_shown,
            threshold,
            extra,
        )
    months = rehab.referrals_by_month(engine, f, threshold)
    months.index = months["month_start"].dt.to_period("M")
    hidden_cells += _check_breakdown(
        "month",
        raw.months(f),
        months["referrals"],
        months["referrals_suppressed"],
        total_shown,
        threshold,
    )
    _check_funnel(raw, engine, f, threshold, cards)
    _check_changes(raw, f, threshold, cards)

    now = rehab.current_admissions_by_county(engine, f, threshold).set_index("county_code")
    true_now = raw.in_treatment(f)
    assert set(true_now[true_now > 0].index) <= set(now.index)
    true_now = true_now.reindex(now.index, fill_value=0)
    hidden_cells += _check_breakdown(
        "in treatment",
        true_now,
        now["current_admissions"],
        now["current_admissions_suppressed"],
        False,
        threshold,
    )
    # The single-row rule: a lone hidden county among others would be given away by any total of
    # the column, so a second one is hidden; a table of one county has no other cell and no
    # total to subtract from, so its own "<5" stands alone.
    if len(now) > 1:
        assert int(now["current_admissions_suppressed"].sum()) != 1
    assert now.loc[now["current_admissions_suppressed"], "occupancy_pct"].isna().all()

    # Every frame, as labelled for display and download, and every table the page shows.
    for function in rehab.PAGE_QUERIES:
        frame = labelled_for_display(function(engine, f, threshold), threshold)
        counts = [c for c in frame.columns if c in ("referrals", "current_admissions")]
        _no_small_shown(frame, counts, threshold, function.__name__)
    shown_cards = labelled_for_display(
        cards.reset_index().rename(columns={"suppressed": "value_suppressed"}), threshold
    )
    _no_small_shown(
        shown_cards[shown_cards["indicator"] == "rehab_referrals"],
        ["value", "comparison_value"],
        threshold,
        "cards",
    )
    for table in _page_tables(engine, f, threshold):
        for column in ("Referrals", "In treatment now"):
            if column in table.columns:
                _no_small_shown(table, [column], threshold, f"table {column}")
                assert table[column].map(lambda v: isinstance(v, str) and "." in v).sum() == 0
    return hidden_cells


def _page_tables(engine, f: Filters, threshold: int) -> list[pd.DataFrame]:
    """The tables the page shows and offers as CSV, built as the page builds them."""
    tables = [
        charts.category_table(function(engine, f, threshold), dimension, threshold)
        for dimension, function in BREAKDOWNS.items()
    ]
    tables.append(charts.month_table(rehab.referrals_by_month(engine, f, threshold), threshold))
    tables.append(charts.funnel_table(rehab.referrals_by_stage(engine, f, threshold), threshold))
    tables.append(
        charts.median_days_table(rehab.median_days_by_county(engine, f, threshold), threshold)
    )
    tables.append(
        charts.capacity_table(rehab.current_admissions_by_county(engine, f, threshold), threshold)
    )
    return tables


@pytest.mark.parametrize("threshold", [5, 10])
def test_every_rehab_output_keeps_the_privacy_rule(raw: Raw, demo_db_path: Path, threshold) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    hidden = {name: _scan(raw, engine, f, threshold) for name, f in selections(raw).items()}
    assert sum(hidden.values()) > 20, hidden  # the scan did meet suppression


def test_a_deployment_threshold_of_10_is_honoured(
    raw: Raw, demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(THRESHOLD_ENV_VAR, "10")
    threshold = suppression_threshold()
    assert threshold == 10
    engine = make_engine(f"sqlite:///{demo_db_path}")
    between = 0
    for f in selections(raw).values():
        _scan(raw, engine, f, threshold)
        # Counts from 5 to 9, shown at the default threshold, are hidden at 10.
        for dimension, function in BREAKDOWNS.items():
            true = raw.counts(f, dimension)
            cells = true[(true >= 5) & (true < 10)].index
            frame = function(engine, f, threshold).set_index(dimension)
            assert frame.loc[cells, "referrals_suppressed"].all(), (f, dimension)
            between += len(cells)
    assert between > 0


def _everything_shown(at: AppTest) -> dict[str, list]:
    return {
        "metrics": [(m.label, m.value, m.delta) for m in at.metric],
        "tables": [f.value.astype(str).to_dict("list") for f in at.dataframe],
        "captions": [c.value for c in at.caption],
        "markdown": [m.value for m in at.markdown],
        "info": [i.value for i in at.info],
    }


def test_a_url_cannot_lower_the_threshold(demo_db_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(THRESHOLD_ENV_VAR, raising=False)
    params = {"county": "032"}
    plain = open_page(demo_db_path, monkeypatch, params, PAGE)
    assert not plain.exception
    for trick in ({"threshold": "1"}, {"threshold": "0", "suppression_threshold": "1"}):
        tried = open_page(demo_db_path, monkeypatch, {**params, **trick}, PAGE)
        assert not tried.exception
        assert _everything_shown(tried) == _everything_shown(plain)
    assert any("<5" in str(v) for f in plain.dataframe for v in f.value.to_numpy().ravel())


def _numbers_in(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"(?<![\d.])\d[\d,]*(?![\d.])", text)]


def test_the_page_honours_a_threshold_of_10(demo_db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(THRESHOLD_ENV_VAR, "10")
    at = open_page(demo_db_path, monkeypatch, {"county": "032"}, PAGE)
    assert not at.exception
    assert any("from 1 to 9" in c.value and "'<10'" in c.value for c in at.caption)
    referrals = next(m for m in at.metric if m.label == "Rehab referrals")
    assert not any(1 <= n < 10 for n in _numbers_in(referrals.value))
    seen_hidden = False
    for table in at.dataframe:
        frame = table.value
        for column in ("Referrals", "In treatment now"):
            if column in frame.columns:
                values = [str(v) for v in frame[column]]
                seen_hidden |= "<10" in values
                assert not any(re.fullmatch(r"[1-9](\.0)?", v) for v in values), column
    assert seen_hidden
