"""Benchmark of every page at 100k, 1M and 10M incidents on PostgreSQL and SQLite (issue 9).

Builds and caches demo databases under `.bench/` (a PostgreSQL cluster the bench owns in
`.bench/pg`, started for the run and stopped after; SQLite files `.bench/demo-<size>.sqlite`),
then drives each page through AppTest in a fresh Python process per page and run: cold (empty
caches), warm (a rerun), a period change (the Period widget, last 28 days -> this financial year)
and a county change (the Counties widget, national -> Nakuru; the County profile goes from Nakuru
to Nairobi); with a serving copy, also the page after the copy changes (`changed`: the change
counter raised as by a refresh, after the app's warm-up has run; its time is reported apart),
the period change made after it (`changed_period`: Nakuru, last 28 days -> this financial
year, a period not yet asked for there, which the warm-up prepares), and then a county change
(`changed_county`: to Mombasa, a county not yet asked for, which the warm-up prepares when its
budget reaches it: the programme's counties come first). `--pause S` makes the simulated user
look at the page S seconds (untimed) before the period change and before the county change,
time the app may use to prepare them; by default they follow at once. With
USALAMA_BENCH_PROFILE=<folder>, each step's Python profile is written there (cProfile,
`<page>-<phase>.prof`), to see where a page's time goes beyond its SQL.
For each step it counts the SQL statements and sums the database's own time for them (execute
and fetch: `StatementLog`), and reads the process's peak RSS. Prints a table, writes JSON to
`.bench/results-<UTC time>.json`. Measures only; asserts nothing.

    python bench/bench_scale.py --quick            # 100k, both engines, one run (the default)
    python bench/bench_scale.py --sizes 1m --engines postgresql,sqlite
    python bench/bench_scale.py --sizes 10m --engines postgresql --pages overview,incidents
    python bench/bench_scale.py --sizes 10m --engines postgresql --serving on --pause 5
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / ".bench"
APP = ROOT / "dashboard" / "app.py"
TODAY = dt.date(2026, 11, 28)  # a fixed snapshot day keeps runs comparable from day to day
SEED = 42
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
ENGINES = ("postgresql", "sqlite")
SERVING_ENV_VAR = "USALAMA_SERVING_COPY"
SERVING_REFRESH_ENV_VAR = "USALAMA_SERVING_REFRESH_SECONDS"
# How long the simulated user looks at a page before changing its period or county (--pause).
PAUSE_ENV_VAR = "USALAMA_BENCH_PAUSE_SECONDS"
PAUSED_PHASES = ("period", "county")
# A folder: each step's Python profile is written there as <page>-<phase>.prof (cProfile).
PROFILE_ENV_VAR = "USALAMA_BENCH_PROFILE"
PHASES = (
    "cold",
    "warm",
    "period",
    "back",
    "county",
    "changed",
    "changed_period",
    "changed_county",
)
TABLE_PHASES = ("cold", "warm", "period", "county", "changed", "changed_period", "changed_county")
PERIOD_FROM, PERIOD_TO = "last_28_days", "this_fy"
COUNTY_TO, PROFILE_COUNTY, PROFILE_COUNTY_TO = "032", "032", "047"
CHANGED_COUNTY_TO = "001"
SLOWEST = 3
SQL_CHARS = 120


# ---------------------------------------------------------------------------------------------
# Sizes, pages and what to run


def parse_size(text: str) -> int:
    """'100k', '1m', '10M', '250000' or '1_000_000' -> a number of incidents."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    if text in SIZES:
        return SIZES[text]
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def size_label(incidents: int) -> str:
    """1_000_000 -> '1m', 100_000 -> '100k', 123_456 -> '123456'."""
    for factor, suffix in ((1_000_000, "m"), (1_000, "k")):
        if incidents % factor == 0:
            return f"{incidents // factor}{suffix}"
    return str(incidents)


@dataclass(frozen=True)
class PageCase:
    """A page as the bench opens it: the registry page, its first URL parameters, the role."""

    title: str
    url_path: str
    default: bool
    admin_only: bool
    params: tuple[tuple[str, str], ...] = ()

    @property
    def is_profile(self) -> bool:
        return self.url_path == "county"


def page_cases(names: Sequence[str] | None = None) -> list[PageCase]:
    """Every page in the app's navigation (dashboard.pages.PAGES), or those named by title,
    URL path or file stem (case-insensitive)."""
    from dashboard.pages import PAGES

    cases = [
        PageCase(
            title=page.title,
            url_path=page.url_path,
            default=page.default,
            admin_only=page.admin_only,
            params=(("county", PROFILE_COUNTY),) if page.url_path == "county" else (),
        )
        for page in PAGES
    ]
    if not names:
        return cases
    wanted = {name.strip().lower() for name in names if name.strip()}
    chosen = [
        case
        for case, page in zip(cases, PAGES, strict=True)
        if {page.title.lower(), page.url_path.lower(), Path(page.file).stem.lower()} & wanted
    ]
    known = {p.url_path for p in PAGES} | {Path(p.file).stem for p in PAGES}
    known |= {p.title.lower() for p in PAGES}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown page(s) {sorted(unknown)}; pages: {sorted(known)}")
    return chosen


# ---------------------------------------------------------------------------------------------
# The databases: a persistent PostgreSQL cluster and SQLite files, rebuilt when their marker
# (the build parameters) does not match


def demo_code_hash() -> str:
    """A fingerprint of the demo generator's code, recorded beside each build (not a rebuild
    trigger: a rebuild at 10M takes minutes; --rebuild forces one)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "queries" / "demo").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_marker(incidents: int) -> dict[str, Any]:
    """The parameters a cached database must have been built with to be reused."""
    return {"seed": SEED, "incidents": incidents, "today": TODAY.isoformat()}


def sqlite_path(incidents: int) -> Path:
    return BENCH_DIR / f"demo-{size_label(incidents)}.sqlite"


def pg_database(incidents: int) -> str:
    return f"demo_{size_label(incidents)}"


def _child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REPORTING_DB_URL", SERVING_ENV_VAR)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TZ"] = "UTC"
    env.update(extra or {})
    return env


def run_child(args: list[str], env: Mapping[str, str] | None = None, log: Path | None = None):
    """Run this script in a fresh interpreter; its last stdout line is a JSON result."""
    log = log or BENCH_DIR / "child.log"
    with log.open("a") as stderr:
        stderr.write(f"\n=== {dt.datetime.now(dt.UTC):%H:%M:%S} {' '.join(args)}\n")
        stderr.flush()
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args],
            env=_child_env(env),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            check=False,
        )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"child {args} failed (exit {completed.returncode}); see {log}")
    return json.loads(lines[-1])


def child_build(url: str, incidents: int) -> dict[str, Any]:
    """Build one demo database (in the child) and report the time and peak memory."""
    from queries.demo import build_demo

    began = time.perf_counter()
    counts = build_demo(url, seed=SEED, incidents=incidents, today=TODAY)
    return {
        "seconds": time.perf_counter() - began,
        "rows": sum(counts.values()),
        "incidents": counts["incidents"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ensure_sqlite(incidents: int, rebuild: bool) -> dict[str, Any]:
    """The cached SQLite demo of this size, built first when its marker does not match."""
    path = sqlite_path(incidents)
    marker_path = path.with_name(path.name + ".json")
    wanted = build_marker(incidents)
    if not rebuild and path.exists() and marker_path.exists():
        marker = json.loads(marker_path.read_text())
        if {k: marker.get(k) for k in wanted} == wanted:
            return {"url": f"sqlite:///{path}", "built": False, **marker}
    marker_path.unlink(missing_ok=True)
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    print(f"building SQLite demo, {incidents:,} incidents -> {path.name} …", flush=True)
    built = run_child(["--child-build", f"sqlite:///{building}", str(incidents)])
    os.replace(building, path)
    marker = {**wanted, "demo_code": demo_code_hash(), **built}
    marker_path.write_text(json.dumps(marker, indent=1))
    print(f"  built in {built['seconds']:.1f} s, peak RSS {built['peak_rss_mb']:.0f} MB")
    return {"url": f"sqlite:///{path}", "built": True, **marker}


def _running_cluster(root: Path) -> Any | None:
    """The bench cluster when another bench run already started it (its postmaster.pid names
    the port), else None."""
    from tests.pg_server import PostgresServer, find_pg_bin_dir

    server = PostgresServer(bin_dir=find_pg_bin_dir(), root=root)
    try:
        lines = (server.data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, IndexError, ValueError):
        return None
    server.port = port
    return server


@contextlib.contextmanager
def bench_cluster() -> Iterator[Any]:
    """The bench's own PostgreSQL cluster in .bench/pg, initdb'd once, started for this run and
    stopped (cleanly, with a checkpoint) after it; a cluster another bench run started is used
    and left running."""
    from tests.pg_server import start_postgres, stop_postgres

    root = (BENCH_DIR / "pg").resolve()
    running = _running_cluster(root)
    if running is not None:
        print(f"PostgreSQL {running.version}: using the running bench cluster, port {running.port}")
        yield running
        return
    server = start_postgres(root)
    print(
        f"PostgreSQL {server.version} (bench cluster {server.root.relative_to(ROOT)}) on port "
        f"{server.port}: initdb {server.initdb_seconds:.1f} s, start {server.start_seconds:.1f} s",
        flush=True,
    )
    try:
        yield server
    finally:
        stop_postgres(server, remove=False)


def ensure_postgres(server: Any, incidents: int, rebuild: bool) -> dict[str, Any]:
    """The cached PostgreSQL demo database of this size; its marker is the database's comment,
    written only after a complete build."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    name = pg_database(incidents)
    wanted = build_marker(incidents)
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            comment = conn.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"
                ),
                {"name": name},
            ).scalar()
        marker = json.loads(comment) if comment else {}
        if not rebuild and {k: marker.get(k) for k in wanted} == wanted:
            return {"url": server.url(name), "built": False, **marker}
        print(f"building PostgreSQL demo, {incidents:,} incidents -> {name} …", flush=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        built = run_child(["--child-build", server.url(name), str(incidents)])
        marker = {**wanted, "demo_code": demo_code_hash(), **built}
        with admin.connect() as conn:
            # COMMENT takes no bound parameters; the marker is our own JSON, quotes doubled.
            literal = json.dumps(marker).replace("'", "''")
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{literal}'"))
        print(f"  built in {built['seconds']:.1f} s, peak RSS {built['peak_rss_mb']:.0f} MB")
        return {"url": server.url(name), "built": True, **marker}
    finally:
        admin.dispose()


# ---------------------------------------------------------------------------------------------
# One page in one fresh process (the child)


class StatementLog:
    """SQL statements seen through SQLAlchemy's cursor events on every Engine, with the
    database's own time for each: from before cursor.execute until its rows are fetched.

    The fetch counts: SQLite computes a statement while its rows are stepped through, so the
    execute call alone can return long before the work is done (the UNION ALL of the data-quality
    checks returned in 0.3 s of 7 s). A statement ends at the next statement on its connection,
    or when the connection goes back to the pool (queries.db.read_frame returns it right after
    fetchall); the few milliseconds of Python between are counted too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[tuple[float, str, str, str]] = []
        self._open: dict[int, tuple[float, str, str, str]] = {}

    def install(self) -> None:
        from sqlalchemy import Engine, event
        from sqlalchemy.pool import Pool

        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Pool, "checkin", self._checkin)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._close(id(conn.connection.dbapi_connection))
        conn.info["_bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        started = conn.info.pop("_bench_started", time.perf_counter())
        with self._lock:
            self._open[id(conn.connection.dbapi_connection)] = (
                started,
                " ".join(statement.split()),
                _origin(),
                conn.dialect.name,
            )

    def _checkin(self, dbapi_connection, connection_record) -> None:
        self._close(id(dbapi_connection))

    def _close(self, key: int) -> None:
        with self._lock:
            pending = self._open.pop(key, None)
            if pending is not None:
                started, sql, origin, engine = pending
                self.records.append((time.perf_counter() - started, sql, origin, engine))

    def take(self) -> list[tuple[float, str, str, str]]:
        with self._lock:
            # A statement whose connection is still out (a cursor left open) ends now.
            for key in list(self._open):
                started, sql, origin, engine = self._open.pop(key)
                self.records.append((time.perf_counter() - started, sql, origin, engine))
            taken, self.records = self.records, []
        return taken


def _origin() -> str:
    """Which query-layer function ran the statement: the one the page called (the outermost
    `queries.` frame), then, when another, the one that built the statement (the innermost
    outside queries/db.py, which only runs them)."""
    frame = sys._getframe(2)
    names = []
    queries_dir = str(ROOT / "queries")
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(queries_dir):
            module = Path(filename).relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
            names.append(f"{module.removesuffix('.__init__')}.{frame.f_code.co_name}")
        frame = frame.f_back
    if not names:
        return ""
    outer = names[-1]
    inner = next((n for n in names if not n.startswith("queries.db.")), outer)
    return outer if inner == outer else f"{outer} > {inner}"


def rss_mb() -> float:
    """The process's current resident memory (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_imports() -> float:
    """Import what a running server has already imported, so that `cold` measures empty caches,
    not Python's imports; returns the seconds it took."""
    began = time.perf_counter()
    import importlib
    import logging

    # AppTest's runtime exists only during a run: the app's cache decorators, run at import,
    # warn that they found none (harmless: the caches are made on first call, inside a run).
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    import pandas  # noqa: F401
    import plotly.express
    import plotly.graph_objects  # noqa: F401
    import pydeck  # noqa: F401
    import streamlit
    import streamlit.testing.v1  # noqa: F401

    for folder in ("queries", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "views" in parts or "demo" in parts or parts[-1] in ("app", "__main__", "cli"):
                continue  # page scripts and entry points run code when imported
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
    # The database drivers too (0.4-0.5 s): a server imports them for its first session only.
    for driver in ("duckdb", "duckdb_engine", "psycopg", "sqlite3"):
        with contextlib.suppress(ImportError):
            importlib.import_module(driver)
    return time.perf_counter() - began


_components: Any = None
_components_seconds: float | None = None


def _scan_components() -> Any:
    """Streamlit's registry of v2 components, from one scan of the installed distributions.

    A server scans once at start-up; AppTest scans again for every new instance (0.1-0.8 s
    here), which a fresh page's `cold` step would otherwise pay. The bench scans once per
    process (in the zygote, before it forks the pages) and hands the result to each AppTest."""
    global _components, _components_seconds
    if _components is None:
        from streamlit.components.v2.component_manager import BidiComponentManager

        began = time.perf_counter()
        manager = BidiComponentManager()
        manager.discover_and_register_components(start_file_watching=False)
        _components, _components_seconds = manager, time.perf_counter() - began
    return _components


def _with_components(at: Any) -> Any:
    """This AppTest, given the process's scanned components instead of scanning on run()."""
    if hasattr(at, "_bidi_component_manager"):  # Streamlit versions with v2 components
        at._bidi_component_manager = _scan_components()
    return at


def _first_app_test_run() -> None:
    """The first AppTest run of a process sets up what every later run reuses."""
    from streamlit.testing.v1 import AppTest

    _with_components(AppTest.from_string("import streamlit as st\nst.write('ready')")).run()


def _app_test(case: PageCase, params: Mapping[str, str] | None = None):
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    at = AppTest.from_file(str(APP), default_timeout=3600)
    at.secrets["access"] = {"open_role": "admin" if case.admin_only else "national"}
    for key, value in {**dict(case.params), **dict(params or {})}.items():
        at.query_params[key] = value
    if not case.default:
        # A deep link, as a browser opening /incidents: st.Page keys a page by its URL path's
        # hash, so the first run draws this page and never the landing page.
        at._page_hash = calc_hash(case.url_path)
    return _with_components(at)


def _problems(at: Any) -> str | None:
    shown = [e.value for e in at.exception] + [e.value for e in at.error]
    return "; ".join(str(s).splitlines()[0][:300] for s in shown) or None


def child_measure(url: str, case: PageCase, import_seconds: float | None = None) -> dict[str, Any]:
    """Open one page in this (fresh) process and time cold, warm, period and county steps.

    `import_seconds` is given when the process was forked from one that had imported the app
    (`child_zygote`); otherwise this process imports it first."""
    os.environ["REPORTING_DB_URL"] = url
    os.environ["USALAMA_RAISE_PAGE_ERRORS"] = "1"
    import logging

    if import_seconds is None:
        import_seconds = _warm_imports()
    _first_app_test_run()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.util import calc_hash

    idle_mb = rss_mb()
    statements = StatementLog()
    statements.install()
    collections = GcClock()
    collections.install()
    at = _app_test(case)
    county_to = PROFILE_COUNTY_TO if case.is_profile else COUNTY_TO
    steps = {
        "cold": lambda: at.run(),
        "warm": lambda: at.run(),
        "period": lambda: at.selectbox(key="f_preset").set_value(PERIOD_TO).run(),
        "back": lambda: at.selectbox(key="f_preset").set_value(PERIOD_FROM).run(),
        "county": lambda: at.multiselect(key="f_counties").set_value([county_to]).run(),
    }
    if os.environ.get(SERVING_ENV_VAR):
        steps["changed"] = lambda: at.run()
        steps["changed_period"] = lambda: at.selectbox(key="f_preset").set_value(PERIOD_TO).run()
        steps["changed_county"] = lambda: (
            at.multiselect(key="f_counties").set_value([CHANGED_COUNTY_TO]).run()
        )
    phases: dict[str, Any] = {}
    error = None
    pause = float(os.environ.get(PAUSE_ENV_VAR) or 0)
    profile_dir = os.environ.get(PROFILE_ENV_VAR)
    for phase, step in steps.items():
        warmup = _simulate_copy_change(url) if phase == "changed" else None
        if phase in PAUSED_PHASES:
            time.sleep(pause)  # a user looking at the page: the app may prepare meanwhile
        statements.take()
        collections.take()
        profiler = _ScriptProfile() if profile_dir else None
        began = time.perf_counter()
        try:
            step()
            problem = _problems(at)
        except Exception as exc:  # a bench reports a failure and goes on to the next page
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        seconds = time.perf_counter() - began
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(
                str(Path(profile_dir) / f"{case.url_path or 'overview'}-{phase}.prof")
            )
        records = statements.take()
        collected = collections.take()
        slowest = sorted(records, key=lambda r: r[0], reverse=True)[:SLOWEST]
        phases[phase] = {
            "seconds": seconds,
            "statements": len(records),
            "db_seconds": sum(r[0] for r in records),
            "slowest": [
                {"seconds": s, "origin": origin, "sql": sql[:SQL_CHARS], "engine": engine}
                for s, sql, origin, engine in slowest
            ],
            # Which engine answered: with a serving copy, "duckdb" once the copy is ready.
            "engines": {e: sum(r[3] == e for r in records) for e in {r[3] for r in records}},
            # Python's garbage collections during the step (any thread): their seconds, and
            # how many were full (generation 2), which scan every object not frozen.
            "gc_seconds": sum(seconds for _, seconds in collected),
            "gc_full": sum(generation == 2 for generation, _ in collected),
            "error": problem,
        }
        if warmup is not None:
            phases[phase]["warmup_seconds"] = warmup
        deep_link_missed = at._finished_page_script_hash != calc_hash(case.url_path)
        if phase == "cold" and not case.default and deep_link_missed:
            problem = problem or "the deep link did not open the page"
            phases[phase]["error"] = problem
        if problem:
            error = f"{phase}: {problem}"
            break
    return {
        "serving_copy": os.environ.get(SERVING_ENV_VAR),
        "pause_seconds": pause,
        "import_seconds": import_seconds,
        "components_scan_seconds": _components_seconds,
        "idle_rss_mb": idle_mb,
        "peak_rss_mb": peak_rss_mb(),
        "phases": phases,
        "error": error,
    }


class GcClock:
    """Times Python's garbage collections (gc.callbacks): (generation, seconds) of each since
    the last `take`."""

    def __init__(self) -> None:
        self._began: float | None = None
        self._done: list[tuple[int, float]] = []

    def install(self) -> None:
        import gc

        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began is not None:
            self._done.append((info["generation"], time.perf_counter() - self._began))
            self._began = None

    def take(self) -> list[tuple[int, float]]:
        done, self._done = self._done, []
        return done


class _ScriptProfile:
    """cProfile of the page's script: AppTest runs it in a thread of its own, and cProfile
    sees only the thread that enabled it, so the script runner enables it in that thread."""

    def __init__(self) -> None:
        import cProfile

        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

        self.profiler = cProfile.Profile()
        self._runner, self._original = ScriptRunner, ScriptRunner._run_script
        profiler, original = self.profiler, self._original

        def profiled(runner: Any, rerun_data: Any) -> None:
            profiler.enable()
            try:
                original(runner, rerun_data)
            finally:
                profiler.disable()

        ScriptRunner._run_script = profiled

    def disable(self) -> None:
        self._runner._run_script = self._original

    def dump_stats(self, path: str) -> None:
        self.profiler.dump_stats(path)


def _simulate_copy_change(url: str) -> float | None:
    """Raise the serving copy's change counter, as a refresh that changed rows does (every
    cached figure goes cold), and run what follows such a refresh in the app (its warm-up,
    dashboard/data.py) to the end. Returns the warm-up's seconds; the `changed` step then
    times the page, as a user opening it after the refresh would see it."""
    from dashboard import data

    copy = data.serving_copy(url)
    if copy is None or not copy.ready:
        return None
    with copy.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE usalama_serving_meta SET changes = changes + 1")
    copy._current_read = False
    began = time.perf_counter()
    copy._notify(copy.current)
    return time.perf_counter() - began


RESULT_PREFIX = "BENCH-RESULT "


def child_zygote(url: str) -> None:
    """Import the app once, then for each page named on stdin (a JSON line) fork a new process
    that measures it (`child_measure`) and exits; print each result on one prefixed line.

    Every page still runs in its own process with empty caches, as with one interpreter per
    page, without paying Python's start and the imports (2-4 s) each time."""
    os.environ["REPORTING_DB_URL"] = url
    os.environ["USALAMA_RAISE_PAGE_ERRORS"] = "1"
    import_seconds = _warm_imports()
    _scan_components()  # once, as a server at start-up; every forked page inherits it
    for line in sys.stdin:
        case = _case_from_json(line)
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the measuring process
            os.close(read_fd)
            try:
                payload = json.dumps(child_measure(url, case, import_seconds))
            except BaseException as exc:  # report, never fall back into the zygote's loop
                payload = json.dumps({"phases": {}, "error": f"{type(exc).__name__}: {exc}"})
            with os.fdopen(write_fd, "w") as out:
                out.write(payload)
            os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd) as result:
            payload = result.read()
        os.waitpid(pid, 0)
        print(RESULT_PREFIX + (payload or json.dumps({"phases": {}, "error": "no result"})))
        sys.stdout.flush()


def _case_from_json(text: str) -> PageCase:
    fields = json.loads(text)
    fields["params"] = tuple(tuple(p) for p in fields["params"])
    return PageCase(**fields)


MEMORY_SESSIONS: tuple[dict[str, str], ...] = (
    {},
    {"period": "this_fy"},
    {"county": "032"},
    {"county": "047", "period": "last_month"},
    {"county": "001,032,047", "compare": "last_year"},
)


def child_memory(url: str) -> dict[str, Any]:
    """Five sessions in one process: each opens the Overview, then the Incidents page, with its
    own filters, and stays alive. AppTest runs them one after another in this process, sharing
    one cache, as one server process would (but not concurrently)."""
    os.environ["REPORTING_DB_URL"] = url
    os.environ["USALAMA_RAISE_PAGE_ERRORS"] = "1"
    import logging

    _warm_imports()
    _first_app_test_run()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from dashboard.pages import INCIDENTS

    idle = rss_mb()
    sessions = []
    errors = []
    began = time.perf_counter()
    for params in MEMORY_SESSIONS:
        case = PageCase("Overview", "overview", True, False)
        at = _app_test(case, params)
        at.run()
        at.switch_page(INCIDENTS.view).run()
        if _problems(at):
            errors.append(_problems(at))
        sessions.append(at)
    return {
        "sessions": len(sessions),
        "seconds": time.perf_counter() - began,
        "idle_rss_mb": idle,
        "rss_after_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
        "error": "; ".join(errors) or None,
    }


# ---------------------------------------------------------------------------------------------
# Formatting (pure: tested on fabricated measurements)


def _spread(values: Sequence[float], digits: int = 2) -> str:
    """One value as is; several as 'min-max'; none as '-'."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    low, high = min(values), max(values)
    if len(values) == 1 or f"{low:.{digits}f}" == f"{high:.{digits}f}":
        return f"{statistics.median(values):.{digits}f}"
    return f"{low:.{digits}f}-{high:.{digits}f}"


def summarise(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per engine x size x page (in first-seen order) over its runs."""
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for result in results:
        key = (result["engine"], result["incidents"], result["page"], result.get("serving", False))
        groups.setdefault(key, []).append(result)
    rows = []
    for (engine, incidents, page, serving), runs in groups.items():
        row: dict[str, Any] = {
            "engine": engine + (" +serving" if serving else ""),
            "size": size_label(incidents),
            "page": page,
            "runs": len(runs),
            "errors": sorted({r["error"] for r in runs if r.get("error")}),
            "peak_rss_mb": _spread([r.get("peak_rss_mb") for r in runs], 0),
        }
        for phase in TABLE_PHASES:
            done = [r["phases"][phase] for r in runs if phase in r.get("phases", {})]
            row[f"{phase}_s"] = _spread([p["seconds"] for p in done])
            row[f"{phase}_n"] = _spread([p["statements"] for p in done], 0)
            row[f"{phase}_db"] = _spread([p["db_seconds"] for p in done])
        row["warmup_s"] = _spread(
            [
                r["phases"]["changed"].get("warmup_seconds")
                for r in runs
                if "changed" in r.get("phases", {})
            ]
        )
        rows.append(row)
    return rows


TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("engine", "engine"),
    ("size", "size"),
    ("page", "page"),
    ("cold_s", "cold s"),
    ("warm_s", "warm s"),
    ("period_s", "period s"),
    ("county_s", "county s"),
    ("changed_s", "changed s"),
    ("warmup_s", "warm-up s"),
    ("changed_period_s", "then period s"),
    ("changed_county_s", "then county s"),
    ("sql_n", "SQL n c/p/k"),
    ("db_s", "db s c/p/k"),
    ("peak_rss_mb", "RSS MB"),
)


def format_table(results: Sequence[Mapping[str, Any]]) -> str:
    """The results as a Markdown table: one row per engine x size x page; several runs show
    their range. 'c/p/k' are the cold, period and county steps; an error is listed below."""
    rows = summarise(results)
    cells = []
    notes = []
    for row in rows:
        row = dict(row)
        row["sql_n"] = "/".join(row[f"{p}_n"] for p in ("cold", "period", "county"))
        row["db_s"] = "/".join(row[f"{p}_db"] for p in ("cold", "period", "county"))
        if row["errors"]:
            row["page"] += " (!)"
            notes.extend(
                f"(!) {row['engine']} {row['size']} {row['page']}: {e}" for e in row["errors"]
            )
        cells.append([str(row[key]) for key, _ in TABLE_COLUMNS])
    headers = [title for _, title in TABLE_COLUMNS]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.ljust(w) if i < 3 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(c) for c in cells)
    return "\n".join(out + notes)


def format_slowest(results: Sequence[Mapping[str, Any]], phase: str = "cold") -> str:
    """The slowest statements of one step for each measured page (first run only)."""
    out = []
    seen = set()
    for r in results:
        key = (r["engine"], r["incidents"], r["page"], r.get("serving", False))
        if key in seen or phase not in r.get("phases", {}):
            continue
        seen.add(key)
        out.append(f"{r['engine']} {size_label(r['incidents'])} {r['page']} ({phase}):")
        for s in r["phases"][phase]["slowest"]:
            engine = s.get("engine")
            tag = f" [{engine}]" if engine and engine != r["engine"] else ""
            out.append(f"  {s['seconds']:7.3f} s{tag}  {s['origin'] or '?'}  {s['sql']}")
    return "\n".join(out)


def format_builds(builds: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for b in builds:
        how = "built now" if b.get("built") else "cached"
        seconds = b.get("seconds")
        took = f"{seconds:.1f} s" if isinstance(seconds, int | float) else "?"
        rss = b.get("peak_rss_mb")
        peak = f", peak RSS {rss:.0f} MB" if isinstance(rss, int | float) else ""
        out.append(f"{b['engine']:<10} {b['incidents']:>12,} incidents: build {took}{peak} ({how})")
    return "\n".join(out)


def format_memory(memory: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for m in memory:
        line = (
            f"{m['engine']:<10} {size_label(m['incidents']):>4}: idle {m['idle_rss_mb']:.0f} MB, "
            f"after {m['sessions']} sessions {m['rss_after_mb']:.0f} MB "
            f"(+{m['rss_after_mb'] - m['idle_rss_mb']:.0f}), peak {m['peak_rss_mb']:.0f} MB "
            f"(+{m['peak_rss_mb'] - m['idle_rss_mb']:.0f}) in {m['seconds']:.1f} s"
        )
        if m.get("error"):
            line += f"  errors: {m['error']}"
        out.append(line)
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy the machine was."""
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }


def write_json(report: Mapping[str, Any], folder: Path = BENCH_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"results-{stamp}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    return path


# ---------------------------------------------------------------------------------------------
# The run (the parent)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/bench_scale.py",
        description="Time every page at scale on PostgreSQL and SQLite (issue 9); prints a "
        "table and writes .bench/results-<time>.json. Asserts nothing.",
    )
    parser.add_argument("--sizes", help="comma-separated: 100k,1m,10m (default 100k)")
    parser.add_argument("--engines", help="comma-separated: postgresql,sqlite (default both)")
    parser.add_argument(
        "--pages",
        help="comma-separated page titles, URL paths or file names, e.g. overview,incidents,"
        "county (default: every page in the navigation)",
    )
    parser.add_argument("--runs", type=int, default=1, help="fresh processes per page (default 1)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100k only, both engines, one run (what `./dev bench` runs)",
    )
    parser.add_argument(
        "--serving",
        choices=("on", "off"),
        default="off",
        help=f"on: give the app {SERVING_ENV_VAR}=.bench/serving-<engine>-<size>.duckdb",
    )
    parser.add_argument(
        "--memory",
        choices=("on", "off"),
        help="also measure one process's memory with 5 sessions (default on, off with --quick)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds the user looks at the page before the period change and before the "
        "county change (default 0: at once); the app's work meanwhile is not timed",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build (or check) the databases and stop"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when cached")
    parser.add_argument("--child-build", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--child-measure", nargs=2, metavar=("URL", "CASE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-memory", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--child-zygote", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--spawn",
        action="store_true",
        help="start a new Python interpreter for every page, imports included, instead of "
        "forking each page's process from one that imported the app",
    )
    args = parser.parse_args(argv)
    if args.pause < 0:
        parser.error("--pause must be 0 or more seconds")
    if args.quick:
        args.sizes, args.engines, args.runs = "100k", None, 1
    if args.memory is None:
        args.memory = "off" if args.quick or not (args.sizes or args.engines) else "on"
    return args


class Zygote:
    """A child that imported the app once and forks a fresh process for each page."""

    def __init__(self, url: str, env: Mapping[str, str]) -> None:
        self.log = (BENCH_DIR / "child.log").open("a")
        self.log.write(f"\n=== {dt.datetime.now(dt.UTC):%H:%M:%S} zygote {url}\n")
        self.log.flush()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child-zygote", url],
            env=_child_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def measure(self, case: PageCase) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(case.__dict__) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(RESULT_PREFIX):
                return json.loads(line.removeprefix(RESULT_PREFIX))
        raise RuntimeError(f"the zygote stopped (exit {self.process.wait()}); see child.log")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


def prepare_serving_copy(url: str, copy: Path) -> dict[str, Any]:
    """Build or refresh the serving copy before the pages are opened (`python -m
    queries.serving`), as a deployment does ahead of the app, and time it; without that module
    (a branch before the serving copy) the variable is only passed on."""
    import importlib.util

    if importlib.util.find_spec("queries.serving") is None:
        print(f"  (no queries.serving here: {SERVING_ENV_VAR} is only passed to the app)")
        return {"copy": str(copy), "seconds": None, "note": "no queries.serving module"}
    existed = copy.exists()
    began = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "queries.serving", "--url", url, "--copy", str(copy)],
        env=_child_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    how = "refreshed" if existed else "built"
    print(
        f"  serving copy {copy.name} {how} in {seconds:.1f} s"
        + ("" if completed.returncode == 0 else f" FAILED: {completed.stderr.strip()[-300:]}"),
        flush=True,
    )
    return {
        "copy": str(copy),
        "how": how,
        "seconds": seconds,
        "size_mb": copy.stat().st_size / 2**20 if copy.exists() else None,
        "error": completed.stderr.strip()[-300:] if completed.returncode else None,
    }


def _measure_all(
    args: argparse.Namespace, engine: str, incidents: int, url: str, cases: list[PageCase]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    env: dict[str, str] = {PAUSE_ENV_VAR: str(args.pause)}
    serving = args.serving == "on"
    prepared = None
    if serving:
        copy = BENCH_DIR / f"serving-{engine}-{size_label(incidents)}.duckdb"
        env[SERVING_ENV_VAR] = str(copy)
        # Pages are timed on the copy prepared here: a refresh of its own, and the warm-up
        # after it, would run beside the timed steps (the `changed` step makes one on purpose).
        env[SERVING_REFRESH_ENV_VAR] = str(24 * 3600)
        prepared = prepare_serving_copy(url, copy)
    results = []
    for run in range(1, args.runs + 1):
        zygote = None if args.spawn else Zygote(url, env)
        for case in cases:
            if serving:
                # Each page's process starts as a fresh server with nothing kept from the ones
                # before (the views an app keeps beside its copy: bench_restart.py measures a
                # restart that has them).
                copy.with_name(copy.name + ".views.json").unlink(missing_ok=True)
            began = time.perf_counter()
            try:
                if zygote is None:
                    argv = ["--child-measure", url, json.dumps(case.__dict__)]
                    measured = run_child(argv, env=env)
                else:
                    measured = zygote.measure(case)
            except RuntimeError as exc:
                measured = {"phases": {}, "error": str(exc)}
            result = {
                "engine": engine,
                "incidents": incidents,
                "page": case.title,
                "serving_prepared": prepared,
                "run": run,
                "serving": serving,
                **measured,
            }
            results.append(result)
            cold = measured.get("phases", {}).get("cold", {}).get("seconds")
            steps = measured.get("phases", {}).values()
            print(
                f"  {engine} {size_label(incidents)} {case.title}: "
                + (f"cold {cold:.2f} s" if cold is not None else "no cold figure")
                + f", process {time.perf_counter() - began:.1f} s"
                + f", garbage collection in the steps {sum(p.get('gc_seconds', 0) for p in steps):.2f} s"
                + f" ({sum(p.get('gc_full', 0) for p in steps)} full)"
                + (f"  ERROR {measured['error']}" if measured.get("error") else ""),
                flush=True,
            )
        if zygote is not None:
            zygote.close()
    memory = []
    if args.memory == "on":
        try:
            measured = run_child(["--child-memory", url], env=env)
        except RuntimeError as exc:
            measured = {"error": str(exc)}
        if "idle_rss_mb" in measured:
            memory.append({"engine": engine, "incidents": incidents, **measured})
    return results, memory


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_build:
        print(json.dumps(child_build(args.child_build[0], int(args.child_build[1]))))
        return 0
    if args.child_measure:
        case = _case_from_json(args.child_measure[1])
        print(json.dumps(child_measure(args.child_measure[0], case)))
        return 0
    if args.child_zygote:
        child_zygote(args.child_zygote)
        return 0
    if args.child_memory:
        print(json.dumps(child_memory(args.child_memory)))
        return 0

    sizes = [parse_size(s) for s in (args.sizes or "100k").split(",")]
    engines = [e.strip() for e in (args.engines or ",".join(ENGINES)).split(",") if e.strip()]
    for engine in engines:
        if engine not in ENGINES:
            raise SystemExit(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    cases = page_cases(args.pages.split(",") if args.pages else None)
    BENCH_DIR.mkdir(exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "arguments": {k: v for k, v in vars(args).items() if not k.startswith("child")},
        "today": TODAY.isoformat(),
        "machine_before": machine(),
        "builds": [],
        "results": [],
        "memory": [],
    }
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(bench_cluster()) if "postgresql" in engines else None
        if server is not None:
            report["postgresql"] = server.version
        for incidents in sizes:
            for engine in engines:
                if engine == "postgresql":
                    db = ensure_postgres(server, incidents, args.rebuild)
                else:
                    db = ensure_sqlite(incidents, args.rebuild)
                report["builds"].append({"engine": engine, **db})
                if args.build_only:
                    continue
                results, memory = _measure_all(args, engine, incidents, db["url"], cases)
                report["results"].extend(results)
                report["memory"].extend(memory)
    report["machine_after"] = machine()
    report["seconds"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    path = write_json(report)
    print()
    print("Demo databases (seed 42, today 2026-11-28):")
    print(format_builds(report["builds"]))
    if report["results"]:
        print()
        print(
            f"Pages through AppTest, a fresh process each (serving copy {args.serving}"
            + (f"; period and county changed {args.pause:g} s after the page" if args.pause else "")
            + "); seconds; SQL n = statements, db s = the database's own time for them, for the "
            "cold / period / county steps:"
        )
        print(format_table(report["results"]))
        print()
        print("Slowest statements of each cold page:")
        print(format_slowest(report["results"]))
    if report["memory"]:
        print()
        print("One process, 5 AppTest sessions (Overview then Incidents each), VmRSS:")
        print(format_memory(report["memory"]))
    load = report["machine_before"]["load_average"][0], report["machine_after"]["load_average"][0]
    print()
    print(
        f"load average (1 min) before/after: {load[0]:.2f}/{load[1]:.2f}; total {report['seconds']:.0f} s"
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
