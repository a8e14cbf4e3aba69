"""The app's only cache: engines, reference data, every query result keyed by its arguments,
and the figures drawn from those results keyed by their content.

Every cached function takes all it depends on as arguments (URL, Filters with the user's scope,
threshold), so one user's result can never be served to another with a different scope.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import importlib
import json
import logging
import os
import pickle
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from queries import db, reference, serving
from queries.filters import (
    DEFAULT_COMPARISON,
    Filters,
    other_counties,
    other_periods,
    preset_period,
    today_eat,
)
from queries.reference import as_of_date

log = logging.getLogger(__name__)

# One TTL for every cached result read from the reporting database itself, which changes during
# the day; results read from the serving copy are keyed by its change counter instead.
CACHE_TTL_SECONDS = int(os.environ.get("USALAMA_CACHE_TTL_SECONDS", "600"))
# Query results kept at most (the least recently used go first): bounds memory when the copy's
# changes leave results of older generations behind.
CACHE_MAX_RESULTS = 2000
# The warm-up computes at most this many results, so that its guesses can never push the
# figures users are looking at out of the cache (which keeps CACHE_MAX_RESULTS).
WARM_RESULTS_MAX = CACHE_MAX_RESULTS // 2
# After the serving copy changes, recompute what users were looking at for at most this long.
WARM_SECONDS_ENV_VAR = "USALAMA_WARM_SECONDS"
DEFAULT_WARM_SECONDS = 60.0
RECENT_CALLS = 64
# Figures kept at most (the least recently used go first). Each is a few hundred KB at most:
# aggregated frames, never rows of incidents.
DRAWINGS_MAX = 256
# The warm-up's guesses (other counties and periods) wait until no page is being drawn and none
# has asked for a figure for this long: on two cores, speculative work must not slow the pages
# people are opening. Short, since a page being drawn holds the guesses off by itself: a user
# who changes the period 2 s after a page appeared then finds most of it ready (with 1 s, and
# counted from a page's last question rather than its end, little was).
QUIET_SECONDS = 0.25
# "0" makes the copy prepare the next periods and counties of what users view only after each
# refresh, not as soon as the server is quiet after a new view.
PREPARE_AHEAD_ENV_VAR = "USALAMA_PREPARE_AHEAD"


@st.cache_resource(show_spinner=False)
def source_engine(url: str) -> Engine:
    """One read-only engine (and its connection pool) per reporting-database URL."""
    return db.make_engine(url)


# Released (cleared, or replaced) copies stop refreshing: their thread would otherwise go on
# refreshing and warming a cache nobody reads.
@st.cache_resource(show_spinner=False, on_release=lambda copy: copy.stop())
def _serving_copy(url: str, path: str) -> serving.ServingCopy:
    copy = serving.ServingCopy(source_engine(url), Path(path))
    copy.after_refresh(lambda state: _while_serving(copy, url, warm))
    copy.between_refreshes(lambda: _while_serving(copy, url, prepare_ahead))
    restored = _restore_views(url, views_path(copy.path))
    copy.start()
    if restored and prepares_ahead():
        copy.wake()  # a copy still fresh at start is not refreshed at once, so not warmed
    return copy


def _while_serving(copy: serving.ServingCopy, url: str, work: Callable[[str], Any]) -> None:
    """Run the copy thread's work for `url` (its warm-up) only while the app is still configured
    to serve this copy's file: the work looks the copy up again by URL and configuration, and
    a thread that outlived a change of USALAMA_SERVING_COPY (seen in tests, where each test
    names its own file) would otherwise open and load a copy of its source in the new file."""
    configured = serving.configured_path()
    if configured is None or configured.resolve() != copy.path.resolve():
        log.info(
            "serving copy %s is no longer the configured one (%s): its warm-up is skipped",
            copy.path,
            configured,
        )
        return
    work(url)


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


def _result_key(filters: Filters) -> tuple:
    """What of a selection a query-layer result depends on: everything but the preset's name.
    Presets can name the same days (on 2 July, "this month", "this quarter" and "this financial
    year" are all 1-2 July); one computation serves them all, and the warm-up does not compute
    the same view three times."""
    return tuple(
        getattr(filters, field.name)
        for field in dataclasses.fields(filters)
        if field.name != "preset"
    )


@st.cache_data(
    max_entries=CACHE_MAX_RESULTS,
    show_spinner="Loading figures…",
    hash_funcs={Filters: _result_key},
)
def _load(
    qualified_name: str,
    url: str,
    filters: Filters,
    kwargs: tuple[tuple[str, Any], ...],
    generation: int | str,
):
    function = query_function(qualified_name)
    reader = source_engine(url) if _reads_source(function.__module__, url) else engine(url)
    return function(reader, filters, **dict(kwargs))


def query_function(qualified_name: str) -> Callable[..., Any]:
    """The query-layer function named by its import path (`queries.incidents.headline`), as
    cache keys and the views file name it. Raises LookupError for a name that is not one: a
    views file from another version, or edited by hand, may name anything."""
    module_name, _, function_name = qualified_name.rpartition(".")
    if not module_name.startswith("queries."):
        raise LookupError(f"{qualified_name!r} is not a query-layer function")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise LookupError(f"{qualified_name!r} is not a query-layer function") from error
    if not callable(function):
        raise LookupError(f"{qualified_name!r} is not a query-layer function")
    return function


def load(function: Callable[..., Any], url: str, filters: Filters, **kwargs: Any) -> Any:
    """Run a query-layer function `function(engine, filters, **kwargs)` through the cache.

    The function is named, not passed, so the cache key is its import path plus the arguments.
    """
    if not function.__module__.startswith("queries."):
        raise ValueError("only query-layer functions are cached")
    call = _keyed(
        (
            f"{function.__module__}.{function.__qualname__}",
            url,
            filters,
            tuple(sorted(kwargs.items())),
        )
    )
    copy_generation = None if _reads_source(function.__module__, url) else generation(url)
    if copy_generation is None:
        return _load(*call, _source_window())
    _pages_asked.at = time.monotonic()
    copy = serving_copy(url)
    if _preparing.call != call:
        copy.preempt()  # a guess being computed gives way (unless it is this very call)
    _restored.discard(call)
    if _recent_calls.put(call) and prepares_ahead():
        copy.wake()  # a new view: prepare its next steps once the server is quiet
    return _load(*call, copy_generation)


def prepares_ahead() -> bool:
    return os.environ.get(PREPARE_AHEAD_ENV_VAR, "1").strip() != "0"


class _PagesAsked:
    """When a page last asked for a figure from the copy or finished (time.monotonic), and
    how many pages are being drawn."""

    at = float("-inf")
    drawing = 0
    lock = threading.Lock()


_pages_asked = _PagesAsked()


@contextlib.contextmanager
def page_drawn() -> Any:
    """Around a page's script (app.py): the warm-up's guesses wait while any page is drawn, and
    for QUIET_SECONDS after (a page renders its figures after its last question)."""
    with _pages_asked.lock:
        _pages_asked.drawing += 1
    try:
        yield
    finally:
        with _pages_asked.lock:
            _pages_asked.drawing -= 1
            _pages_asked.at = time.monotonic()


def _pages_quiet() -> bool:
    return _pages_asked.drawing == 0 and time.monotonic() - _pages_asked.at >= QUIET_SECONDS


class _Preparing:
    """The call the warm-up is computing, if any: a page asking for it waits for that
    computation instead of interrupting it."""

    call: Any = None


_preparing = _Preparing()


def _wait_until_quiet(
    deadline: float, copy: serving.ServingCopy | None, url: str, warmed_for: int | None
) -> bool:
    """Wait until no page is drawn and none has asked for a figure for QUIET_SECONDS (see
    `page_drawn`); False when the deadline (time.perf_counter) passes, the copy stops or its
    data change first."""
    while not _pages_quiet():
        if _warm_must_end(deadline, copy, url, warmed_for):
            return False
        time.sleep(0.05)
    return not _warm_must_end(deadline, copy, url, warmed_for)


def _warm_must_end(
    deadline: float, copy: serving.ServingCopy | None, url: str, warmed_for: int | None
) -> bool:
    """The budget is spent, the copy stops, or its data changed (the warm-up after that
    change takes over: results for the old data would never be asked for)."""
    return (
        time.perf_counter() >= deadline
        or copy is None
        or copy.stopping
        or generation(url) != warmed_for
    )


def _source_window() -> str:
    """The cache key's data version for results read from the reporting database itself: the
    current CACHE_TTL_SECONDS window, so they are recomputed at most that long after. Results
    from the copy are keyed by its change counter instead and stay valid until it changes: a
    database loaded in nightly batches keeps every page warm all day, where a TTL made them
    all cold every ten minutes."""
    return f"source@{int(time.time() // max(CACHE_TTL_SECONDS, 1))}"


class _Recent:
    """A mapping that keeps its `size` most recently used entries, the least recently used
    going first (shared by every session's thread, so locked)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value kept for `key` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if key in self._entries:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any = None) -> bool:
        """Keep `value` for `key`; True when `key` was not kept before."""
        with self._lock:
            new = key not in self._entries
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return new

    def newest_first(self) -> list[Any]:
        """The keys, the most recently used first."""
        with self._lock:
            return list(reversed(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The last RECENT_CALLS distinct cached calls (shared by every session: the cache is too, and
# each call carries its user's scope in its Filters).
_recent_calls = _Recent(RECENT_CALLS)


def warm_seconds() -> float:
    """How long a warm-up may run after each change of the copy (0 turns it off)."""
    try:
        return max(0.0, float(os.environ.get(WARM_SECONDS_ENV_VAR, DEFAULT_WARM_SECONDS)))
    except ValueError:
        log.warning(
            "%s=%r is not a number of seconds",
            WARM_SECONDS_ENV_VAR,
            os.environ.get(WARM_SECONDS_ENV_VAR),
        )
        return DEFAULT_WARM_SECONDS


def counties_most_looked_at(counties: pd.DataFrame) -> list[str]:
    """County codes in the order the warm-up prepares them: the programme's counties first
    (in the order they joined it: Nairobi, Nakuru and Mombasa launched it), the most populous
    first among those that joined together, then the rest by population."""
    joined = pd.to_datetime(counties["programme_start"], errors="coerce")
    ordered = counties.assign(_joined=joined, _out=joined.isna()).sort_values(
        ["_out", "_joined", "population", "county_code"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    return ordered["county_code"].tolist()


def _rank_by_rank(alternatives: list[list[Any]]) -> list[list[Any]]:
    """Every list's first item, then every list's second, and so on, in groups: for the
    alternatives of each call of a page, the page's calls for its most likely alternative,
    then for the next, so that a whole page is ready for the next period or county a user
    may choose before the one after."""
    return [
        [calls[rank] for calls in alternatives if rank < len(calls)]
        for rank in range(max(map(len, alternatives), default=0))
    ]


# The calls the warm-up computed or found cached, with the copy's change counter they were
# prepared for: a warm-up after a new view skips them instead of reading each one back.
_prepared = _Recent(WARM_RESULTS_MAX)
# One warm-up at a time: the copy's refreshing thread runs them in turn, but a warm-up called
# from elsewhere (the benchmark) must not compete with one in progress.
_warming = threading.Lock()


def _on_as_of(call: tuple, as_of: dt.date | None) -> tuple:
    """The call with its preset period counted back from the data's as-of date `as_of`, as the
    filter bar makes it on that date (a custom period, or no known date, leaves it as it is):
    a view a user had open yesterday is asked for today with today's period."""
    name, url, filters, kwargs = call
    if as_of is None or filters.as_of in (None, as_of):
        return call
    try:
        start, end = preset_period(filters.preset, as_of)
    except KeyError:  # a custom period
        return call
    if start > end:
        return call
    return (name, url, dataclasses.replace(filters, as_of=as_of, start=start, end=end), kwargs)


def _keyed(call: tuple) -> tuple:
    """The call as cached: for a function whose result depends on the period's end alone (it
    says so with a `period_end_only` attribute, e.g. `queries.incidents.compstat_by_county`),
    the period starts on its end and the comparison is the default, so every period ending on
    the same day (most presets end on the as-of date) shares one result, on the page and in the
    warm-up. The preset is kept: the warm-up counts it back from a new as-of date."""
    name, url, filters, kwargs = call
    if not _declares(name, "period_end_only"):
        return call
    return (
        name,
        url,
        dataclasses.replace(filters, start=filters.end, comparison=DEFAULT_COMPARISON),
        kwargs,
    )


def _is_nationwide(qualified_name: str) -> bool:
    """Whether a query-layer function gives the same result for every county and ward (it
    says so with a `nationwide` attribute, e.g. `queries.indicators.national_standing`): the
    warm-up's guesses of other counties would compute that result again under new keys."""
    return _declares(qualified_name, "nationwide")


def _declares(qualified_name: str, attribute: str) -> bool:
    """Whether a query-layer function sets this flag about its result (False for a name that
    is no longer one: a views file may outlive a rename)."""
    try:
        return bool(getattr(query_function(qualified_name), attribute, False))
    except LookupError:
        return False


def warm(url: str, budget_seconds: float | None = None) -> int:
    """After each refresh of the copy: recompute the most recent cached calls for `url`
    against the copy's new data, newest first, so that users keep finding their figures ready
    after the copy changes (every cached result is keyed by the copy's change counter, so a
    change makes them all cold). Then, with the budget left, its guesses of what users ask
    next: the same calls over every other preset period (`other_periods`, the most asked
    first) and with one other county chosen (`other_counties`, in `counties_most_looked_at`
    order), alternately: the first county, the most asked period, the second county, the
    second period, and so on, each for every call, so that a whole page is ready for the next
    county or period before the one after. A user changes the period or the county next, and
    with exact medians over months of rows that costs seconds where a cached page costs a
    fifth of one. Calls prepared before for the same data are
    skipped, so a warm-up after a refresh that changed nothing, or after a new view
    (`prepare_ahead`), computes only the guesses for calls made since. Guesses wait while
    pages are drawn or asking for figures (`page_drawn`, `QUIET_SECONDS`), so they use only
    the time the server would spend idle.

    Runs in the copy's refreshing thread, so the next refresh waits for it; stops when the
    budget is spent (checked between calls: one slow call may overrun it), the copy stops or
    its data change. A call computed here fills the same cache entry a page would; a page
    asking for it meanwhile waits for this computation rather than repeating it (Streamlit
    locks each cache key). Returns how many results it computed or found ready."""
    budget = warm_seconds() if budget_seconds is None else budget_seconds
    with _warming:
        began = time.perf_counter()
        copy = serving_copy(url)
        warmed_for = generation(url)
        recent = [call for call in _recent_calls.newest_first() if call[1] == url]
        if copy is not None:
            _save_views(url, views_path(copy.path))
        codes: list[str] = []
        joined: dict[str, tuple[str, dt.date | None]] | None = None
        anchor = None
        if recent:
            try:  # what every page reads first, before any figure
                for read in (
                    contract_problems,
                    missing_columns,
                    data_as_of,
                    county_list,
                    ward_list,
                ):
                    read(url)
                codes = counties_most_looked_at(county_list(url))
                anchor = as_of_date(data_as_of(url), fallback=today_eat())
                # Last: without it the warm-up still guesses, judging comparisons by the launch.
                joined = reference.programme_starts_from(county_list(url))
            except Exception:
                log.warning("warm-up of the reference data failed", exc_info=True)
        # Once the data reach a new day, pages ask for their periods counted back from it.
        moved = {call: _on_as_of(call, anchor) for call in recent}
        recent = list(dict.fromkeys(moved.values()))
        guesses_only = {after for before, after in moved.items() if before in _restored}
        by_period = _rank_by_rank(
            [
                [(name, url, other, kwargs) for other in other_periods(filters, joined)]
                for name, _, filters, kwargs in recent
            ]
        )
        by_county = _rank_by_rank(
            [
                [(name, url, other, kwargs) for other in other_counties(filters, codes)]
                for name, _, filters, kwargs in recent
                if not _is_nationwide(name)
            ]
        )
        # A user changes the period or the county next: the most looked-at county, then the
        # most asked period, then the second of each, and so on. The county first since it
        # costs less (one county's rows, where the most asked period is months of everyone's):
        # the shorter first makes both ready soonest on average.
        steps = [step for pair in _rank_by_rank([by_county, by_period]) for step in pair]
        guesses_only = {_keyed(call) for call in guesses_only}
        plan = list(dict.fromkeys(_keyed(c) for c in recent + [c for step in steps for c in step]))
        plan = plan[:WARM_RESULTS_MAX]
        done = computed = 0
        deadline = began + budget
        for index, call in enumerate(plan):
            if _prepared.get((call, warmed_for)):
                done += 1
                continue
            guess = index >= len(recent) or call in guesses_only
            outcome = _prepare(call, warmed_for, guess, copy, url, deadline)
            if outcome is None:
                break
            if outcome:
                _prepared.put((call, warmed_for), True)
                done += 1
                computed += 1
        if computed:
            log.info(
                "warmed %d of %d cached results (%d recent calls, the rest for other periods "
                "and counties; %d were ready) in %.1f s",
                done,
                len(plan),
                len(recent),
                done - computed,
                time.perf_counter() - began,
            )
        return done


def _prepare(
    call: tuple,
    warmed_for: int | None,
    guess: bool,
    copy: serving.ServingCopy | None,
    url: str,
    deadline: float,
) -> bool | None:
    """Compute one call of the warm-up: True when done, False when it failed, None when the
    warm-up must end. A guess waits until no page is asking, and its statements give way to
    a page that asks meanwhile (`ServingCopy.yielding`): it is then run again once the server
    is quiet."""
    while True:
        if _warm_must_end(deadline, copy, url, warmed_for):
            return None
        if guess and not _wait_until_quiet(deadline, copy, url, warmed_for):
            return None
        _preparing.call = call
        try:
            with copy.yielding() if guess else contextlib.nullcontext():
                _load(*call, warmed_for)
            return True
        except Exception as exc:
            if guess and serving.was_preempted(exc):
                continue
            # The page that needs it will show the failure; here, only log.
            log.warning("warm-up of %s failed", call[0], exc_info=True)
            return False
        finally:
            _preparing.call = None


# -- the views users looked at, kept across restarts --------------------------------------------
#
# A restarted server would otherwise start with no idea what users look at: every page cold
# until someone opens it again. The recent calls (without the database URL, which may hold a
# password) are written beside the copy at each warm-up, and a new process warms them again.

VIEWS_FILE_VERSION = 1


def views_path(copy_path: Path) -> Path:
    """The file beside the serving copy that lists the views users looked at."""
    return copy_path.with_name(copy_path.name + ".views.json")


# Restored calls no page has asked for since the restart: the warm-up computes them as guesses
# (waiting for a quiet server, giving way to pages), not as figures users are waiting for.
_restored: set[tuple] = set()
_views_saved: dict[Path, list] = {}


def _encoded(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):
        return {"tuple": [_encoded(part) for part in value]}
    raise TypeError(f"a {type(value).__qualname__} is not kept across restarts")


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and value.keys() == {"date"}:
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, dict) and value.keys() == {"tuple"} and isinstance(value["tuple"], list):
        return tuple(_decoded(part) for part in value["tuple"])
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"unexpected value {value!r}")


def _save_views(url: str, path: Path) -> None:
    """Write the recent calls for `url`, oldest first, unless they are what was written last.
    A call whose arguments JSON cannot hold is left out; a failed write is logged only."""
    views = []
    for name, call_url, filters, kwargs in reversed(_recent_calls.newest_first()):
        if call_url != url:
            continue
        try:
            views.append(
                {
                    "function": name,
                    "filters": {
                        field.name: _encoded(getattr(filters, field.name))
                        for field in dataclasses.fields(filters)
                    },
                    "kwargs": [[key, _encoded(value)] for key, value in kwargs],
                }
            )
        except TypeError as error:
            log.debug("view of %s not kept across restarts: %s", name, error)
    if _views_saved.get(path) == views:
        return
    written = path.with_name(path.name + ".tmp")
    try:
        written.write_text(json.dumps({"version": VIEWS_FILE_VERSION, "views": views}))
        written.replace(path)  # atomic: a process starting meanwhile reads the old or the new
        _views_saved[path] = views
    except OSError:
        log.warning("could not keep the views users looked at in %s", path, exc_info=True)


def _restore_views(url: str, path: Path) -> int:
    """Put the views a previous process saved in `path` back among the recent calls for
    `url`, as guesses; returns how many. A missing file restores nothing; an unreadable one,
    or a view that names no query-layer function or holds unexpected values, is skipped with
    a warning, never raised."""
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        log.warning("the views users looked at could not be read from %s", path, exc_info=True)
        return 0
    if not isinstance(saved, dict) or saved.get("version") != VIEWS_FILE_VERSION:
        log.warning("%s is not a views file this version can read; ignored", path)
        return 0
    restored = 0
    for view in saved.get("views") or []:
        try:
            name = view["function"]
            query_function(name)
            filters = Filters(**{key: _decoded(value) for key, value in view["filters"].items()})
            kwargs = tuple((str(key), _decoded(value)) for key, value in view["kwargs"])
            call = (name, url, filters, kwargs)
            hash(call)
        except Exception as error:  # a file from another version, or edited by hand
            log.warning("a view in %s was skipped: %r", path, str(error)[:200])
            continue
        if _recent_calls.put(call):
            _restored.add(call)
            restored += 1
    if restored:
        log.info("%d views users looked at before the restart will be prepared again", restored)
    return restored


def prepare_ahead(url: str) -> None:
    """After a page asked for something new (`load` wakes the copy's refreshing thread): once
    the server is quiet, the warm-up prepares the other periods and counties of it at once,
    rather than after the next refresh (up to USALAMA_SERVING_REFRESH_SECONDS later), so that
    a user who looks at a page for a few seconds finds the next period ready. Off with
    USALAMA_PREPARE_AHEAD=0 (`load` then wakes nothing)."""
    copy = serving_copy(url)
    if copy is None or not copy.ready:
        return
    began = time.perf_counter()
    if _wait_until_quiet(began + warm_seconds(), copy, url, generation(url)):
        warm(url, budget_seconds=max(0.0, warm_seconds() - (time.perf_counter() - began)))


class _OutsideScripts(logging.Filter):
    """Drops Streamlit's 'missing ScriptRunContext' warning from the copy's refreshing thread:
    the warm-up calls cached functions there, whose spinner has no page to show on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.threadName == serving.REFRESH_THREAD_NAME
            and "missing ScriptRunContext" in record.getMessage()
        )


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    _OutsideScripts()
)


def clear() -> None:
    """Forget every cached result (tests, and the 'refresh data' button)."""
    st.cache_data.clear()
    _recent_calls.clear()
    _restored.clear()
    _views_saved.clear()
    _prepared.clear()
    _drawings.clear()


class Unfingerprintable(TypeError):
    """An argument whose content `fingerprint` cannot stand for."""


# Content digests of frames, by the digest of their pickle (`_content_digest`).
_content_digests = _Recent(4 * DRAWINGS_MAX)


def _content_digest(value: pd.DataFrame | pd.Series) -> str:
    """A digest of a frame's content: its values, index, column names and dtypes.

    Hashing a frame's cells (`pd.util.hash_pandas_object`) costs 0.5-3 ms even for a small
    table, 20-30 ms a page; pickling it costs a tenth of that. But a pickle also records how
    the values are held (a query's Arrow chunks, a cache's compacted copy), so equal content
    can pickle differently. So the pickle's digest only finds a content digest already worked
    out: a rerun's frames, unpickled from the same cached bytes, pickle the same every time."""
    try:
        pickled = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        layout = hashlib.blake2b(pickled, digest_size=20).hexdigest()
    except Exception as error:  # a cell holding something that cannot be pickled
        raise Unfingerprintable(str(error)) from error
    known = _content_digests.get(layout)
    if known is not None:
        return known
    try:
        cells = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
    except TypeError as error:  # cells holding lists or dicts
        raise Unfingerprintable(str(error)) from error
    described = repr(
        (value.columns.tolist(), [str(t) for t in value.dtypes])
        if isinstance(value, pd.DataFrame)
        else (value.name, str(value.dtype))
    ).encode()
    digest = hashlib.blake2b(described + cells, digest_size=20).hexdigest()
    _content_digests.put(layout, digest)
    return digest


def fingerprint(value: Any) -> Any:
    """A hashable stand-in for an argument's content: equal for equal content, whatever object
    holds it (a cached frame is a new copy on every rerun). Frames and series by their values,
    index, column names and dtypes (`_content_digest`); containers and frozen dataclasses by
    their parts. Raises Unfingerprintable for anything else, whose content it cannot vouch
    for."""
    if value is None or isinstance(value, (str, bytes, bool, int, float, dt.date, dt.time)):
        return (type(value).__name__, value)
    if isinstance(value, enum.Enum):
        return (type(value).__qualname__, value.name)
    if isinstance(value, np.generic):
        return fingerprint(value.item())
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return (type(value).__name__, _content_digest(value))
    if isinstance(value, (tuple, list, frozenset)):
        parts = sorted(map(repr, value)) if isinstance(value, frozenset) else value
        return (type(value).__name__, tuple(fingerprint(part) for part in parts))
    if isinstance(value, dict):
        return ("dict", tuple((fingerprint(k), fingerprint(v)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__qualname__,
            tuple(fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    raise Unfingerprintable(f"cannot fingerprint a {type(value).__qualname__}")


# Figures drawn from query results, by builder and the content of its arguments (`drawing`).
_drawings = _Recent(DRAWINGS_MAX)
Builder = TypeVar("Builder", bound=Callable[..., Any])
Derived = TypeVar("Derived")


_derivations: dict[int, dict[tuple, Any]] = {}
_derivations_lock = threading.Lock()


def derived(figure: Any, key: tuple, make: Callable[[], Derived]) -> Derived:
    """What `make` derives from a drawn figure (e.g. its styled JSON), kept while the figure
    lives (it goes with the figure when the drawings let it go). By the figure's identity:
    Plotly figures cannot be dictionary keys, and pydeck serialises any attribute set on a
    deck. `key` names what is derived and from which arguments."""
    with _derivations_lock:
        kept = _derivations.get(id(figure))
        if kept is None:
            kept = _derivations[id(figure)] = {}
            weakref.finalize(figure, _derivations.pop, id(figure), None)
    if key not in kept:
        kept[key] = make()
    return kept[key]


def _handed_out(drawn: Any) -> Any:
    """Frames handed out as shallow copies: with pandas' copy-on-write, a caller that changes
    its copy changes nothing in the kept one. Figures are handed out as they are."""
    if isinstance(drawn, (pd.DataFrame, pd.Series)):
        return drawn.copy(deep=False)
    if isinstance(drawn, tuple):
        return tuple(_handed_out(part) for part in drawn)
    return drawn


def drawing(builder: Builder) -> Builder:
    """Keep what a figure or table builder (query frames -> Plotly figure, pydeck deck, or a
    table as shown) returns, by the content of its arguments: a warm page rerun then sends
    the figures it sent last time instead of building them again (Plotly validates every
    property it is given: 10-50 ms a figure, most of a warm page's time). A builder is a pure
    function of its arguments, so the same content gives the same figure, for whichever
    session asks.

    A figure returned is shared between reruns and sessions: callers must not change it
    (`components.figure` styles a copy of its JSON, never the figure); a frame is a
    copy-on-write copy. Arguments that `fingerprint` cannot stand for make an uncached call.
    `builder.uncached` is the builder itself.
    """

    @functools.wraps(builder)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (builder, fingerprint(args), fingerprint(dict(sorted(kwargs.items()))))
        except Unfingerprintable as error:
            log.debug("drawing %s without its cache: %s", builder.__qualname__, error)
            return builder(*args, **kwargs)
        figure = _drawings.get(key)
        if figure is None:
            figure = builder(*args, **kwargs)
            _drawings.put(key, figure)
        return _handed_out(figure)

    drawn.uncached = builder  # type: ignore[attr-defined]
    return drawn  # type: ignore[return-value]


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
