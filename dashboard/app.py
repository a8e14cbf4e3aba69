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

from dashboard import access, data, heap, styles
from dashboard.context import PageContext, set_current
from dashboard.filter_bar import filter_bar
from dashboard.pages import visible_pages
from queries.db import DataSourceError, QueryTimeout, resolve_source
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
heap.freeze_long_lived_objects()  # the first run only

st.set_page_config(
    page_title="Usalama Mitaani dashboard",
    page_icon=":material/shield:",
    layout="wide",
    initial_sidebar_state="auto",
)
styles.inject()

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


CONTRACT = "reporting data contract v1.1 (docs/data-contract.md)"
CHECKER = "`python -m queries.check` lists every difference"


def _stop_with(message: str, cause: BaseException | None = None, retry: bool = False) -> None:
    if cause is not None:
        log.error("%s (%s: %s)", message, type(cause).__name__, cause)
    st.error(message, icon=":material/error:")
    if retry:
        # Failed queries are never cached, so running the page again asks the database afresh.
        st.button("Retry", key="retry", icon=":material/refresh:")
    st.stop()


def _stop_for_outage(exc: DataSourceError) -> None:
    """A database that is slow or down: say which, offer a retry, and promise nothing more."""
    if isinstance(exc, QueryTimeout):
        message = (
            f"The figures could not be drawn: {exc}. The database may be busy; retry, or choose "
            "a shorter period or fewer counties."
        )
    else:
        message = (
            f"The reporting database cannot be reached: {exc}. The dashboard reconnects by "
            "itself once the database answers again; nothing needs restarting."
        )
    _stop_with(message, exc, retry=True)


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


def _draw() -> None:
    """The page: its database and login checks, filters and sidebar, then the chosen page."""
    try:
        source = resolve_source(secrets=access.app_secrets())
    except DataSourceError as exc:
        _stop_with(f"The database settings cannot be read: {exc}", exc)

    access.require_login(source)
    if source.is_demo:
        _ensure_demo(Path(source.url.removeprefix("sqlite:///")))

    try:
        missing = data.contract_problems(source.url)
        if missing:
            _stop_with(
                f"The reporting database does not follow the {CONTRACT}: missing "
                + ", ".join(missing)
                + f". Ask the ministry data team to add them ({CHECKER}); nothing was changed."
            )
        absent_columns = data.missing_columns(source.url)
        if absent_columns:
            _stop_with(
                f"The reporting database does not follow the {CONTRACT}: "
                + "; ".join(
                    f"table {table} has no column {column}" for table, column in absent_columns
                )
                + ". Ask the ministry data team to add "
                + ("it" if len(absent_columns) == 1 else "them")
                + f" ({CHECKER}); nothing was changed."
            )
        counties = data.county_list(source.url)
        wards = data.ward_list(source.url)
        as_of = data.data_as_of(source.url)
    except DataSourceError as exc:
        _stop_for_outage(exc)

    grant = access.resolve_grant(source, counties)
    anchor = as_of_date(as_of, fallback=today_eat())
    filters, notes = filter_bar(anchor, counties, wards, scope=grant.scope)
    context = PageContext(
        source=source,
        filters=filters,
        threshold=suppression_threshold(secrets=access.app_secrets()),
        counties=counties,
        wards=wards,
        as_of=as_of,
        as_of_date=anchor,
        grant=grant,
        notes=tuple(notes),
        freshness=data.freshness_note(source.url),
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
        _stop_for_outage(exc)
    except Exception as exc:  # a page bug must not show a traceback to ministry users
        log.exception("page %s failed", navigation.title)
        if os.environ.get("USALAMA_RAISE_PAGE_ERRORS") == "1":
            raise  # development and tests: let the test runner see the real exception
        _stop_with(
            "This page could not be drawn. The cause has been logged for the dashboard team; "
            "other pages may still work.",
            exc,
        )


# Guesses of the serving copy wait while any page is drawn, all of it (data.page_drawn).
with data.page_drawn():
    _draw()
