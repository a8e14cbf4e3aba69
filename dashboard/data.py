"""The app's only cache: engines, reference data, and every query result, keyed by arguments.

Every cached function takes all it depends on as arguments (URL, Filters with the user's scope,
threshold), so one user's result can never be served to another with a different scope.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from queries import db, reference, serving
from queries.filters import Filters

log = logging.getLogger(__name__)

# One TTL for every cached result: the reporting database is refreshed during the day.
CACHE_TTL_SECONDS = int(os.environ.get("USALAMA_CACHE_TTL_SECONDS", "600"))


@st.cache_resource(show_spinner=False)
def source_engine(url: str) -> Engine:
    """One read-only engine (and its connection pool) per reporting-database URL."""
    return db.make_engine(url)


@st.cache_resource(show_spinner=False)
def _serving_copy(url: str, path: str) -> serving.ServingCopy:
    copy = serving.ServingCopy(source_engine(url), Path(path))
    copy.start()
    return copy


def serving_copy(url: str) -> serving.ServingCopy | None:
    """The serving copy of this database when USALAMA_SERVING_COPY names one (one per process,
    refreshing itself in a background thread), else None."""
    path = serving.configured_path()
    return None if path is None else _serving_copy(url, str(path))


def freshness_note(url: str) -> str | None:
    """The serving copy's freshness line, or None when pages read the source directly."""
    copy = serving_copy(url)
    return None if copy is None else copy.freshness_note()


def engine(url: str) -> Engine:
    """The engine pages read: the serving copy once it holds a complete load, else the source
    itself (so a first start or an unusable copy never blocks a page)."""
    copy = serving_copy(url)
    return copy.engine if copy is not None and copy.ready else source_engine(url)


def generation(url: str) -> int | None:
    """Which data the engine serves: None for the source, else the copy's change counter. Part
    of every cache key, so figures change as soon as the copy does and never lag its note."""
    copy = serving_copy(url)
    return copy.current.changes if copy is not None and copy.ready else None


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _contract_problems(url: str, generation: int | None) -> list[str]:
    # A copy is only ever loaded from a source that has every contract table and column.
    return [] if generation is not None else db.missing_tables(source_engine(url))


def contract_problems(url: str) -> list[str]:
    """Missing contract tables; raises DataSourceError when the database cannot be reached."""
    return _contract_problems(url, generation(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _missing_columns(url: str, generation: int | None) -> list[tuple[str, str]]:
    return [] if generation is not None else db.missing_columns(source_engine(url))


def missing_columns(url: str) -> list[tuple[str, str]]:
    """Contract columns the database's tables lack; raises DataSourceError when the database
    cannot be reached."""
    return _missing_columns(url, generation(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _county_list(url: str, generation: int | None) -> pd.DataFrame:
    return reference.county_list(engine(url))


def county_list(url: str) -> pd.DataFrame:
    return _county_list(url, generation(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _ward_list(url: str, generation: int | None) -> pd.DataFrame:
    return reference.ward_list(engine(url))


def ward_list(url: str) -> pd.DataFrame:
    return _ward_list(url, generation(url))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _data_as_of(url: str, generation: int | None):
    return reference.data_as_of(engine(url))


def data_as_of(url: str):
    return _data_as_of(url, generation(url))


# Data-quality checks on a SQLite source look at how it stores its values (text timestamps in
# several spellings), which a typed copy no longer shows: there they read the source. A typed
# source (PostgreSQL) gives the same findings from its copy (tests/test_serving_copy.py).
_SOURCE_ONLY_MODULES = ("queries.quality",)


def _reads_source(module_name: str, url: str) -> bool:
    return module_name in _SOURCE_ONLY_MODULES and source_engine(url).dialect.name == "sqlite"


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner="Loading figures…")
def _load(
    qualified_name: str,
    url: str,
    filters: Filters,
    kwargs: tuple[tuple[str, Any], ...],
    generation: int | None,
):
    module_name, _, function_name = qualified_name.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    reader = source_engine(url) if _reads_source(module_name, url) else engine(url)
    return function(reader, filters, **dict(kwargs))


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
        None if _reads_source(function.__module__, url) else generation(url),
    )


def clear() -> None:
    """Forget every cached result (tests, and the 'refresh data' button)."""
    st.cache_data.clear()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def county_geojson(path: str) -> dict | None:
    """The administrator's county boundaries, or None when the file cannot be used."""
    from dashboard.charts.county_map import load_county_geojson

    return load_county_geojson(Path(path))


@st.cache_resource(show_spinner=False)
def snapshot_store(path: str):
    """The app's own snapshot file (queries.briefing.snapshots), opened once per path."""
    from pathlib import Path

    from queries.briefing.snapshots import SnapshotStore

    return SnapshotStore(Path(path))
