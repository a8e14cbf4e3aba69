"""Entry point: resolve the database, build the demo if needed, draw the filters, run the page."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts only dashboard/ on the path; the project root holds the
# `queries` and `dashboard` packages.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboard import access, data
from dashboard.context import PageContext, set_current
from dashboard.filter_bar import filter_bar
from dashboard.pages import visible_pages
from queries.db import DataSourceError, resolve_source
from queries.filters import today_eat
from queries.privacy import suppression_threshold
from queries.reference import as_of_date

log = logging.getLogger("dashboard")


def _configure_logging() -> None:
    """Send the app's own logs (causes of errors, the audit trail) to the server's stderr with
    a timestamp; Streamlit configures only its own loggers."""
    for name in ("dashboard", "queries"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)


_configure_logging()

st.set_page_config(
    page_title="Usalama Mitaani dashboard",
    page_icon=":material/shield:",
    layout="wide",
    initial_sidebar_state="auto",
)
st.html(
    """<style>
    [data-testid="stMetricValue"] { font-size: 2.4rem; line-height: 1.15; }
    [data-testid="stMetricLabel"] p { font-size: 1.05rem; font-weight: 600; line-height: 1.3; }
    [data-testid="stMetricDelta"] { font-size: 1rem; }
    /* Streamlit cuts a card's label, value, delta and its description with an ellipsis on one
       line; a card must never hide its words (a 4-card row at 1366 px is ~200 px a card), so
       every text in a card wraps instead, between words where it can. */
    [data-testid="stMetric"] .stMarkdownEllipsis,
    [data-testid="stMetric"] .stMarkdownEllipsis p {
        white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: break-word;
    }
    [data-testid="stMetric"] div:has(> [data-testid="stMetricDelta"]) {
        flex-wrap: wrap; overflow: visible; row-gap: 0.25rem; height: auto;
    }
    [data-testid="stMetricDelta"] {
        flex: 0 1 auto; min-width: 0; max-width: 100%; height: auto; border-radius: 0.75rem;
    }
    [data-testid="stMetricDeltaDescription"] { overflow: visible; min-width: 0; }
    /* Projector: captions (and a card's "vs comparison period") at least 16 px. */
    [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1rem; }
    p.chart-title { font-size: 1.45rem; font-weight: 700; margin: 0.6rem 0 0 0; line-height: 1.25; }
    p.chart-subtitle { font-size: 1rem; color: #555; margin: 0.15rem 0 0 0; }
    /* The sidebar script below draws nothing: it must not push the page down by a gap. */
    [data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) {
        display: none;
    }
    /* Streamlit leaves 6rem above the title; under its 3.75rem header, 4.5rem is enough, and
       on a phone the saved space is a sixth of a screen of text. */
    [data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }
    p.map-legend { font-size: 1rem; line-height: 1.8; margin: 0.3rem 0; }
    /* A map or chart sent twice, fitted to a wide screen and to a phone's width: one shows. */
    @media (min-width: 641px) { [class*="st-key-narrow-"] { display: none; } }
    @media (max-width: 640px) { [class*="st-key-wide-"] { display: none; } }
    </style>"""
)

# On a phone the sidebar covers most of the screen, and Streamlit leaves it open after a page is
# chosen in it: close it once the chosen page is on its way. One listener per browser tab (the
# flag), installed by every run but acting only on a click of a navigation link on a narrow
# screen, so changing a filter never closes the sidebar.
st.html(
    """<script>
    (() => {
        if (window.usalamaClosesSidebar) return;
        window.usalamaClosesSidebar = true;
        document.addEventListener("click", (event) => {
            const link = event.target.closest('[data-testid="stSidebarNav"] a');
            if (!link || !window.matchMedia("(max-width: 767px)").matches) return;
            setTimeout(() => {
                const close = document.querySelector(
                    '[data-testid="stSidebarCollapseButton"] button');
                if (close) close.click();
            }, 0);
        });
    })();
    </script>""",
    unsafe_allow_javascript=True,
)


def _stop_with(message: str, cause: BaseException | None = None) -> None:
    if cause is not None:
        log.error("%s (%s: %s)", message, type(cause).__name__, cause)
    st.error(message, icon=":material/error:")
    st.stop()


def _ensure_demo(path: Path) -> None:
    if path.exists():
        return
    from dashboard.demo_progress import BuildProgress
    from queries.demo import DEFAULT_INCIDENTS, ensure_demo_database

    estimate = BuildProgress(DEFAULT_INCIDENTS)
    bar = st.progress(0.0, text=estimate.text(0.0, "starting"))
    ensure_demo_database(
        path,
        progress=lambda share, step: bar.progress(
            min(max(share, 0.0), 1.0), text=estimate.text(share, step)
        ),
    )
    bar.empty()


try:
    source = resolve_source()
except DataSourceError as exc:
    _stop_with(f"The database settings cannot be read: {exc}", exc)

access.require_login(source)
if source.is_demo:
    _ensure_demo(Path(source.url.removeprefix("sqlite:///")))

try:
    missing = data.contract_problems(source.url)
    if missing:
        _stop_with(
            "The reporting database does not follow the data contract: missing "
            + ", ".join(missing)
            + ". Ask the ministry data team to add them; nothing was changed."
        )
    absent_columns = data.missing_columns(source.url)
    if absent_columns:
        _stop_with(
            "The reporting database does not follow the data contract: "
            + "; ".join(f"table {table} has no column {column}" for table, column in absent_columns)
            + ". Ask the ministry data team to add "
            + ("it" if len(absent_columns) == 1 else "them")
            + "; nothing was changed."
        )
    counties = data.county_list(source.url)
    wards = data.ward_list(source.url)
    as_of = data.data_as_of(source.url)
except DataSourceError as exc:
    _stop_with(f"The reporting database cannot be used right now: {exc}. Try again later.", exc)

grant = access.resolve_grant(source, counties)
anchor = as_of_date(as_of, fallback=today_eat())
filters, notes = filter_bar(anchor, counties, wards, scope=grant.scope)
context = PageContext(
    source=source,
    filters=filters,
    threshold=suppression_threshold(),
    counties=counties,
    wards=wards,
    as_of=as_of,
    as_of_date=anchor,
    grant=grant,
    notes=tuple(notes),
)
set_current(context)

with st.sidebar:
    st.divider()
    st.caption(context.source_note())
    if source.is_demo:
        st.caption("Demo mode: synthetic data, open to anyone, no login.")
    st.caption(f"Viewing as {grant.identity} · {grant.describe()}")
    if access.auth_configured():
        st.button("Log out", on_click=st.logout, icon=":material/logout:")

navigation = st.navigation(
    [
        st.Page(
            page.script,
            title=page.title,
            icon=page.icon,
            url_path=page.url_path,
            default=page.default,
        )
        for page in visible_pages(grant.sees_data_quality)
    ]
)
try:
    navigation.run()
except DataSourceError as exc:
    _stop_with(f"The reporting database cannot be used right now: {exc}. Try again later.", exc)
except Exception as exc:  # a page bug must not show a traceback to ministry users
    log.exception("page %s failed", navigation.title)
    if os.environ.get("USALAMA_RAISE_PAGE_ERRORS") == "1":
        raise  # development and tests: let the test runner see the real exception
    _stop_with(
        "This page could not be drawn. The cause has been logged for the dashboard team; "
        "other pages may still work.",
        exc,
    )
