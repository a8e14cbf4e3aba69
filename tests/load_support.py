"""Many sessions at once against one served app: each a logged-in user (its own browser context,
role and county scope) opening pages with its own filters; every page is checked against the
query layer for that session's selection, so a result served to the wrong session shows up.

Used by `bench/bench_load.py` (20 sessions, prints page-ready times) and by
`tests/test_load_sessions.py` (4 sessions in CI). Pages are Chromium pages of one browser, driven
concurrently through Playwright's asyncio API.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from dashboard.pages import (
    ASSOCIATIONS,
    COUNTY_PROFILE,
    INCIDENTS,
    OVERVIEW,
    REHABILITATION,
    TRAINING,
    Page,
)
from queries.db import make_engine
from queries.filters import filters_from_choices, today_eat
from queries.reference import as_of_date, county_list, data_as_of
from tests.app_support import expected_cards
from tests.browser_support import APP_IDLE_JS, CHROMIUM, CHROMIUM_ARGS

PAGES: tuple[Page, ...] = (OVERVIEW, INCIDENTS, ASSOCIATIONS, TRAINING, REHABILITATION)
# Messages the app shows instead of a page when something went wrong (tests/test_browser_pages).
FAILURE_TEXTS = (
    "could not be drawn",
    "cannot be reached",
    "did not answer within",
    "does not follow the reporting data contract",
    "No access yet",
)

# (role entry in [access.users], URL parameters): national, county and admin users with their
# own periods, comparisons and counties. Sessions take these in turn.
PROFILES: tuple[tuple[Any, dict[str, str]], ...] = (
    ("national", {}),
    ({"role": "county", "counties": ["032"]}, {"period": "this_fy"}),
    ("national", {"county": "047", "period": "last_90_days"}),
    ({"role": "county", "counties": ["001"]}, {}),
    ("admin", {"period": "last_month", "compare": "last_year"}),
    ({"role": "county", "counties": ["001", "002", "003"]}, {"county": "002,003"}),
    ("national", {"county": "022,032", "period": "this_quarter"}),
    ({"role": "county", "counties": ["047"]}, {"period": "last_7_days"}),
)

_SNAPSHOT_JS = """() => ({
    cards: [...document.querySelectorAll('[data-testid="stMetric"]')].map((m) => [
        (m.querySelector('[data-testid="stMetricLabel"]')?.textContent ?? '').trim(),
        (m.querySelector('[data-testid="stMetricValue"]')?.textContent ?? '').trim(),
    ]),
    tables: [...document.querySelectorAll('.print-table table')].map((table) => ({
        headers: [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim()),
        rows: [...table.querySelectorAll('tbody tr')].map(
            (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())),
    })),
    sidebar: document.querySelector('[data-testid="stSidebar"]')?.innerText ?? '',
    body: document.body.innerText,
    errors: [...document.querySelectorAll('[data-testid="stException"], .stException')]
        .map((e) => e.innerText),
})"""


@dataclass(frozen=True)
class Session:
    """One user's session: who, with what access, and which pages with which filters."""

    email: str
    access: Any  # the [access.users] entry: a role name or {role, counties}
    params: Mapping[str, str]
    pages: tuple[Page, ...]

    @property
    def scope(self) -> tuple[str, ...] | None:
        return tuple(self.access["counties"]) if isinstance(self.access, Mapping) else None

    @property
    def role(self) -> str:
        return self.access if isinstance(self.access, str) else self.access["role"]

    def counties(self) -> tuple[str, ...]:
        """The counties this session's figures cover (empty: every county)."""
        chosen = [c for c in self.params.get("county", "").split(",") if c]
        if self.scope is None:
            return tuple(chosen)
        return tuple(c for c in chosen if c in self.scope) or self.scope

    def path(self, page: Page) -> str:
        params = dict(self.params)
        if page is COUNTY_PROFILE:
            params["county"] = self.counties()[0]
        return page.public_path + ("?" + urlencode(params) if params else "")


@dataclass
class Visit:
    """One page opened by one session: how long until it was ready (NaN: never opened, the
    session failed before), and what was wrong."""

    session: Session
    page: Page
    seconds: float
    problems: list[str] = field(default_factory=list)


def sessions(count: int, pages_each: int = 3, pages: Sequence[Page] = PAGES) -> list[Session]:
    """`count` sessions over PROFILES in turn, each visiting `pages_each` pages (rotated, so that
    different sessions are on different pages at the same moment)."""
    made = []
    for i in range(count):
        access, params = PROFILES[i % len(PROFILES)]
        visits = tuple(pages[(i + k) % len(pages)] for k in range(pages_each))
        made.append(Session(f"user{i:02d}@example.go.ke", access, params, visits))
    return made


def access_users(load: Sequence[Session]) -> dict[str, Any]:
    """The [access.users] table for these sessions."""
    return {session.email: session.access for session in load}


def provider_users(load: Sequence[Session]) -> dict[str, dict[str, Any]]:
    """The identity provider's users for these sessions (verified e-mails)."""
    return {s.email: {"email": s.email, "email_verified": True} for s in load}


@dataclass(frozen=True)
class Expected:
    """What each (session, page) must show, from the query layer."""

    cards: dict[tuple[str, str], dict[str, str]]
    county_names: dict[str, str]


def expected(db_path: Path, load: Sequence[Session]) -> Expected:
    """The cards each session's pages should show, computed by the query layer directly."""
    engine = make_engine(f"sqlite:///{db_path}")
    anchor = as_of_date(data_as_of(engine), fallback=today_eat())
    names = dict(county_list(engine)[["county_code", "county_name"]].itertuples(index=False))
    cards: dict[tuple[str, str], dict[str, str]] = {}
    for session in load:
        filters = filters_from_choices(
            session.params.get("period", "last_28_days"),
            None,
            session.params.get("compare", "previous"),
            session.counties(),
            [],
            anchor,
        )
        for page in session.pages:
            cards[(session.email, page.url_path)] = expected_cards(db_path, filters, page.cards)
    return Expected(cards=cards, county_names=names)


def problems(session: Session, page: Page, snapshot: dict[str, Any], want: Expected) -> list[str]:
    """Everything wrong with one page as drawn for one session."""
    found = [f"error element: {e[:200]}" for e in snapshot["errors"]]
    found += [f"shows {text!r}" for text in FAILURE_TEXTS if text in snapshot["body"]]
    if f"Viewing as {session.email}" not in snapshot["sidebar"]:
        found.append("the sidebar does not name this session's user")
    cards = dict(snapshot["cards"])
    if cards != want.cards[(session.email, page.url_path)]:
        found.append(f"cards {cards} != {want.cards[(session.email, page.url_path)]}")
    allowed = session.counties()
    if allowed:
        allowed_names = {want.county_names[code] for code in allowed}
        for table in snapshot["tables"]:
            for column, permitted in (("County", allowed_names), ("Code", set(allowed))):
                if column not in table["headers"]:
                    continue
                index = table["headers"].index(column)
                # A table's last row may be the total of the counties shown.
                stray = {row[index] for row in table["rows"]} - permitted - {"", "–", "Total"}
                if stray:
                    found.append(f"table shows other counties: {sorted(stray)}")
    return found


_READY_JS = (
    "(cards) => (" + APP_IDLE_JS + ")()"
    " && document.querySelectorAll('[data-testid=\"stMetric\"]').length >= cards"
    " && (document.querySelector('[data-testid=\"stSidebar\"]')?.innerText ?? '')"
    ".includes('Viewing as')"
)


async def _ready(page: Any, timeout_ms: float, cards: int = 0) -> float:
    """Wait until the app is idle with the sidebar and `cards` headline cards drawn, and still
    so a moment later; return the time it got there.

    The script state alone is not enough: between the page load and the first run the app
    already reports itself idle.
    """
    await page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    while True:
        await page.wait_for_function(_READY_JS, arg=cards, timeout=timeout_ms, polling=100)
        ready_at = time.perf_counter()
        await page.wait_for_timeout(300)
        if await page.evaluate(_READY_JS, cards):
            return ready_at


async def _log_in(page: Any, base_url: str, email: str, timeout_ms: float) -> None:
    await page.goto(base_url)
    await page.get_by_role("button", name="Log in").click(timeout=timeout_ms)
    await page.wait_for_url(lambda url: "/oauth2/authorize" in url, timeout=timeout_ms)
    await page.fill('input[name="sub"]', email)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(lambda url: url.startswith(base_url), timeout=timeout_ms)
    await _ready(page, timeout_ms)


async def _run_session(
    browser: Any, base_url: str, session: Session, want: Expected, timeout_ms: float
) -> list[Visit]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    # Twenty tabs fetching the app's scripts at once can take longer than Playwright's 30 s.
    context.set_default_timeout(timeout_ms)
    page = await context.new_page()
    visits: list[Visit] = []
    try:
        await _log_in(page, base_url, session.email, timeout_ms)
        for shown in session.pages:
            started = time.perf_counter()
            # Timed from the request to a drawn page: `commit` hands over as soon as the
            # navigation starts, `_ready` waits for the rest.
            await page.goto(base_url + session.path(shown), wait_until="commit")
            try:
                ready = await _ready(page, timeout_ms, cards=len(shown.cards))
                late = []
            except PlaywrightTimeout:
                ready, late = time.perf_counter(), [f"not ready within {timeout_ms / 1000:.0f} s"]
            snapshot = await page.evaluate(_SNAPSHOT_JS)
            found = late + problems(session, shown, snapshot, want)
            visits.append(Visit(session, shown, ready - started, found))
    except PlaywrightError as exc:  # a session that breaks is a finding, not a crash
        failure = f"session failed: {str(exc).splitlines()[0]}"
        visits += [Visit(session, p, math.nan, [failure]) for p in session.pages[len(visits) :]]
    finally:
        await context.close()
    return visits


async def _run(
    base_url: str, load: Sequence[Session], want: Expected, timeout_ms: float
) -> list[Visit]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            runs = await asyncio.gather(
                *(_run_session(browser, base_url, s, want, timeout_ms) for s in load)
            )
        finally:
            await browser.close()
    return [visit for visits in runs for visit in visits]


def run_load(
    base_url: str, load: Sequence[Session], want: Expected, timeout_ms: float = 300_000
) -> list[Visit]:
    """Log every session in and open its pages, all sessions at once; one Visit per page."""
    return asyncio.run(_run(base_url, load, want, timeout_ms))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0-1) of the numbers among `values` (NaN left out)."""
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]
