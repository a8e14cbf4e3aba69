"""The app's only cache: engines, reference data, and every query result, keyed by arguments.

Every cached function takes all it depends on as arguments (URL, Filters with the user's scope,
threshold), so one user's result can never be served to another with a different scope.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from queries import db, reference
from queries.filters import Filters

log = logging.getLogger(__name__)

# One TTL for every cached result: the reporting database is refreshed during the day.
CACHE_TTL_SECONDS = int(os.environ.get("USALAMA_CACHE_TTL_SECONDS", "600"))


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """One read-only engine (and its connection pool) per database URL."""
    return db.make_engine(url)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def contract_problems(url: str) -> list[str]:
    """Missing contract tables; raises DataSourceError when the database cannot be reached."""
    return db.missing_tables(engine(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def missing_columns(url: str) -> list[tuple[str, str]]:
    """Contract columns the database's tables lack; raises DataSourceError when the database
    cannot be reached."""
    return db.missing_columns(engine(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def county_list(url: str) -> pd.DataFrame:
    return reference.county_list(engine(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def ward_list(url: str) -> pd.DataFrame:
    return reference.ward_list(engine(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def data_as_of(url: str):
    return reference.data_as_of(engine(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner="Loading figures…")
def _load(qualified_name: str, url: str, filters: Filters, kwargs: tuple[tuple[str, Any], ...]):
    module_name, _, function_name = qualified_name.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(engine(url), filters, **dict(kwargs))


def load(function: Callable[..., Any], url: str, filters: Filters, **kwargs: Any) -> Any:
    """Run a query-layer function `function(engine, filters, **kwargs)` through the cache.

    The function is named, not passed, so the cache key is its import path plus the arguments.
    """
    if not function.__module__.startswith("queries."):
        raise ValueError("only query-layer functions are cached")
    return _load(
        f"{function.__module__}.{function.__qualname__}",
        url,
        filters,
        tuple(sorted(kwargs.items())),
    )


def clear() -> None:
    """Forget every cached result (tests, and the 'refresh data' button)."""
    st.cache_data.clear()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def county_geojson(path: str) -> dict | None:
    """The administrator's county boundaries, or None when the file cannot be used."""
    from pathlib import Path

    from dashboard.charts.county_map import load_county_geojson

    return load_county_geojson(Path(path))


@st.cache_resource(show_spinner=False)
def snapshot_store(path: str):
    """The app's own snapshot file (queries.briefing.snapshots), opened once per path."""
    from pathlib import Path

    from queries.briefing.snapshots import SnapshotStore

    return SnapshotStore(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner="Preparing the file…")
def briefing_file(kind: str, model_json: str) -> bytes:
    """The bytes of a briefing export ('pptx', 'xlsx' or 'pdf'), keyed by the model itself."""
    from dashboard.briefing import deck, pdf, workbook
    from queries.briefing import Briefing

    writers = {"pptx": deck.pptx_bytes, "xlsx": workbook.xlsx_bytes, "pdf": pdf.pdf_bytes}
    return writers[kind](Briefing.from_json(model_json))
