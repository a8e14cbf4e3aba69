"""Shared set-up of the AppTest tests: run the real app on the demo database, rebuild the Filters
it builds from URL parameters, and compute the card and table values a page should show.

A helper module, not a test file: pytest collects nothing here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, event
from streamlit.testing.v1 import AppTest

from dashboard import formatting
from dashboard.pages import Page
from queries.db import make_engine
from queries.filters import Filters, filters_from_choices
from queries.indicators import INDICATOR_BY_KEY, headline
from queries.privacy import THRESHOLD_ENV_VAR
from tests.clock import TEST_AS_OF

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
THRESHOLD = 5  # the default privacy threshold the app uses when the deployment sets none

# URL parameter combinations (and their test ids) that several page tests run through.
PAGE_PARAMS: list[dict[str, str]] = [
    {},
    {"county": "032"},
    {"county": "001,032,047", "compare": "last_year", "period": "last_month"},
    {"period": "custom", "from": "2025-07-01", "to": "2025-09-30"},
    {"period": "this_fy", "county": "047"},
    {"period": "since_launch", "compare": "last_year"},
]
PAGE_IDS = [
    "all-28d",
    "nakuru",
    "three-last-month-last-year",
    "custom-q1",
    "nairobi-fy",
    "since-launch",
]


def clear_caches() -> None:
    """Empty st.cache_data and st.cache_resource: both are shared by every AppTest in the
    process, so a test that wants the app to read its own database clears them first."""
    import streamlit as st

    from dashboard import data

    data.clear()  # the cached results, and the calls a serving copy's warm-up would replay
    st.cache_resource.clear()


def use_demo_db(
    db: Path, monkeypatch: pytest.MonkeyPatch, *, default_threshold: bool = False
) -> Path:
    """Point the app at the demo database file `db`: set USALAMA_DEMO_DB and unset
    REPORTING_DB_URL. With `default_threshold`, also unset the deployment's privacy threshold
    (USALAMA_SUPPRESSION_THRESHOLD) so that the app uses its default. Returns `db`."""
    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    if default_threshold:
        monkeypatch.delenv(THRESHOLD_ENV_VAR, raising=False)
    monkeypatch.setenv("USALAMA_DEMO_DB", str(db))
    return db


def run_app(
    params: Mapping[str, str] | None = None,
    path: str | None = None,
    *,
    secrets: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    timeout: float = 120,
) -> AppTest:
    """A new AppTest of the app with these URL parameters (and, if given, these secrets and this
    logged-in user), run once; then switched to the page `path` (e.g. 'views/training.py') and
    run again, unless `path` is None. The caches are left as they are."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for name, value in (secrets or {}).items():
        at.secrets[name] = value
    if user is not None:
        at.user = dict(user)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    return at if path is None else at.switch_page(path).run()


def open_page(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    params: Mapping[str, str],
    path: str | None = None,
    *,
    default_threshold: bool = False,
) -> AppTest:
    """Run the app on the demo database `db` with these URL parameters (national demo user),
    then switch to the page `path` (None stays on the landing page, the Overview).

    The caches are cleared first: they are shared by every AppTest in the process.
    `default_threshold` is passed to `use_demo_db`.
    """
    use_demo_db(db, monkeypatch, default_threshold=default_threshold)
    clear_caches()
    return run_app(params, path)


def filters_asked(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Filters]:
    """Count the calls of the query-layer function `module.name` for the rest of the test:
    the list fills with the Filters of each call that computes (the app's cache finds the
    wrapper by the original's import path, so a cached figure adds nothing)."""
    asked: list[Filters] = []
    original = getattr(module, name)

    @functools.wraps(original)
    def counted(engine: Engine, filters: Filters, *args: Any, **kwargs: Any) -> Any:
        asked.append(filters)
        return original(engine, filters, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return asked


@contextlib.contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements any engine runs inside the `with` block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def path_of(page: Page) -> str | None:
    """The `path` that opens a registry page in `open_page` or `run_app`: None for the default
    page, which the app lands on (one run fewer than switching to it), else its view."""
    return None if page.default else page.view


def page_fixture(path: str, **options: Any):
    """A pytest fixture, `page`, for a test module: `page(params)` opens the page `path` on the
    demo database with these URL parameters (`open_page`, with these keyword `options`).

    Use: `page = page_fixture(TRAINING.view)` at module level (`dashboard.pages.TRAINING`).
    """

    @pytest.fixture
    def page(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
        return lambda params: open_page(demo_db_path, monkeypatch, params, path, **options)

    return page


def filters_of(params: Mapping[str, str]) -> Filters:
    """The Filters the app builds from these URL parameters (national demo user): the period
    preset (or custom from/to), the comparison, the chosen counties and wards.

    Read here without the app's URL parser, whose fallbacks these tests' links never need."""
    preset = params.get("period", "last_28_days")
    custom = (
        (dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"]))
        if preset == "custom"
        else None
    )
    return filters_from_choices(
        preset,
        custom,
        params.get("compare", "previous"),
        [c for c in params.get("county", "").split(",") if c],
        [w for w in params.get("ward", "").split(",") if w],
        TEST_AS_OF,
    )


def cards_text(
    table: pd.DataFrame, keys: Iterable[str], threshold: int = THRESHOLD
) -> dict[str, str]:
    """Card label -> the value as a card shows it, for these indicator keys of a headline-shaped
    table (indexed by indicator, with 'value' and 'suppressed' columns)."""
    return {
        INDICATOR_BY_KEY[k].label: formatting.indicator_value(
            INDICATOR_BY_KEY[k],
            table.loc[k, "value"],
            bool(table.loc[k, "suppressed"]),
            threshold,
            # A count hidden only to protect another cell reads "Suppressed", not "<5".
            small=bool(table.loc[k, "small"]) if "small" in table else True,
        )
        for k in keys
    }


def expected_cards(
    db: Path | str,
    filters: Filters,
    keys: Iterable[str] | None = None,
    *,
    source: Callable[..., pd.DataFrame] = headline,
    threshold: int = THRESHOLD,
) -> dict[str, str]:
    """The formatted headline cards a page should show for these filters: `source` (by default
    `queries.indicators.headline`) run on `db` (a demo database file, or a database URL), for
    these indicator keys (None: every indicator `source` returns)."""
    engine = make_engine(db if isinstance(db, str) else f"sqlite:///{db}")
    table = source(engine, filters, threshold).set_index("indicator")
    return cards_text(table, table.index if keys is None else keys, threshold)


def cards_shown(at: AppTest) -> dict[str, str]:
    """The cards on screen: label -> value."""
    return {m.label: m.value for m in at.metric}


def tables_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    """Every st.dataframe on the page that has this column, in page order (at least one)."""
    found = [frame.value for frame in at.dataframe if column in frame.value.columns]
    assert found, f"no table with a '{column}' column"
    return found


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first st.dataframe on the page that has this column."""
    return tables_with(at, column)[0]


def assert_numbers(shown: pd.Series, expected: pd.Series) -> None:
    """The same numbers, nulls in the same places, to within the one decimal tables show."""
    np.testing.assert_allclose(
        pd.to_numeric(shown, errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(expected, errors="coerce").to_numpy(dtype=float),
        rtol=0,
        atol=0.051,
        equal_nan=True,  # tables show percentages to one decimal
    )
