"""The Briefing page's pieces: the slide on the whole screen, previous/next, the downloads and
frozen snapshots. The slides themselves are `dashboard.briefing.html`, the same as the PDF's."""

from __future__ import annotations

import datetime as dt
from functools import partial

import streamlit as st

from dashboard import data
from dashboard.access import audit_log, log_export
from dashboard.briefing import export_bytes
from dashboard.briefing.html import CSS, slide_html
from dashboard.context import PageContext
from dashboard.formatting import escape_markdown
from queries.briefing import Briefing
from queries.briefing.snapshots import Snapshot, SnapshotError, snapshot_path

SLIDE_PARAM, SNAPSHOT_PARAM = "slide", "snapshot"
MIMES = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
LABELS = {"pptx": "PowerPoint (.pptx)", "xlsx": "Excel (.xlsx)", "pdf": "PDF"}

# On a phone the whole 1920 px slide, zoomed to fit, set its text at 4-5 px. There the slide
# flows instead: half size, as wide as the screen and as tall as it needs, the figures two to a
# row and the charts under them (text 13-20 px, figures 32-36 px). Only on the page: the PDF
# and the projector keep the 16:9 slide.
PHONE_SLIDE_MAX_PX = 640
PHONE_SLIDE_CSS = (
    f"@media (max-width: {PHONE_SLIDE_MAX_PX}px) {{"
    " .bslide-wrap .bslide { zoom: 0.5; width: calc(200vw - 32px); height: auto;"
    " padding: 28px 24px; }"
    " .bslide-wrap .bslide .body { flex-direction: column; gap: 28px; }"
    " .bslide-wrap .bslide .figures.wide, .bslide-wrap .bslide .figures.half"
    " { grid-template-columns: repeat(2, 1fr); }"
    " .bslide-wrap .bslide .chart img { display: none; }"
    " .bslide-wrap .bslide .chart img.phone { display: block; height: auto; }"
    " .bslide-wrap .bslide .definitions { columns: 1; }"
    " .bslide-wrap .bslide p.notes { margin-top: 24px; }"
    " .bslide-wrap .bslide .footer { flex-direction: column; gap: 6px; font-size: 28px; }"
    " .bslide-wrap .bslide .demo-mark { position: static; align-self: flex-start;"
    " margin: 0 0 16px 0; border-radius: 8px; }"
    " .bslide-wrap .bslide .footer span:last-child { white-space: normal; }"
    " }"
)
# The slide fills the screen: no sidebar, no header, no padding; at narrower widths the 1920 px
# slide is zoomed down in steps so that it still fits.
_WIDTHS = (1600, 1440, 1366, 1280, 1152, 1024, 900, 768, 640, 480, 400)
PAGE_CSS = (
    '[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], '
    '[data-testid="stSidebarCollapseButton"], header[data-testid="stHeader"], '
    '[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }'
    '[data-testid="stMainBlockContainer"] { padding: 0 0 2rem 0 !important; max-width: none; }'
    # No gap above the slide: the page's style elements sit before it in the same column.
    '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] { gap: 0; }'
    '[data-testid="stMainBlockContainer"] [data-testid="stHorizontalBlock"] { margin: 1rem 0; }'
    ".bslide-wrap { width: 100%; overflow: hidden; margin-bottom: 1rem; }"
    # Below the slide, the controls keep a margin from the screen's edges.
    '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > '
    "div:not(:has(.bslide-wrap)) { padding-left: 2rem; padding-right: 2rem; }"
    + "".join(
        f"@media (max-width: {w - 1}px) {{ .bslide-wrap .bslide {{ zoom: {(w - 40) / 1920:.4f}; }} }}"
        for w in (1920, *_WIDTHS)
    )
    + PHONE_SLIDE_CSS
    + "@media print { .bslide-wrap .bslide { zoom: 0.366; } }"
)


def opened_snapshot(context: PageContext) -> Snapshot | None:
    """The snapshot the link names (?snapshot=ID), if this user may open it; None for live
    figures. A link to a snapshot the user may not see stops the page with one message."""
    snapshot_id = st.query_params.get(SNAPSHOT_PARAM)
    if not snapshot_id:
        return None
    try:
        return store(context).open(snapshot_id, context.grant.scope)
    except SnapshotError as exc:
        st.error(f"{exc}.", icon=":material/lock:")
        st.button("Show live figures", on_click=_live)
        st.stop()


def store(context: PageContext):
    return data.snapshot_store(str(snapshot_path(context.url)))


def _live() -> None:
    st.query_params.pop(SNAPSHOT_PARAM, None)
    st.query_params[SLIDE_PARAM] = "1"


def slide_number(count: int) -> int:
    """The slide the link asks for (?slide=N, 1-based), kept within the deck."""
    try:
        number = int(st.query_params.get(SLIDE_PARAM, "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), count)


def _go(number: int) -> None:
    st.query_params[SLIDE_PARAM] = str(number)


def show_slide(model: Briefing, number: int) -> None:
    """The slide, alone on the screen."""
    st.html(
        f"<style>{PAGE_CSS}{CSS}</style>"
        f'<div class="bslide-wrap">{slide_html(model, model.slides[number - 1], number)}</div>'
    )


def navigation(count: int, number: int) -> None:
    """Previous / next (also ← / →), and which slide this is. The labels carry no arrow:
    Streamlit shows each button's shortcut key (← or →) beside its label."""
    back, where, forward = st.columns([1, 2, 1])
    back.button(
        "Previous",
        on_click=_go,
        args=(number - 1,),
        disabled=number <= 1,
        shortcut="Left",
        width="stretch",
    )
    where.markdown(f"**Slide {number} of {count}** · keys ← and → move between slides")
    forward.button(
        "Next",
        on_click=_go,
        args=(number + 1,),
        disabled=number >= count,
        shortcut="Right",
        width="stretch",
    )


def downloads(model: Briefing, context: PageContext) -> None:
    """The deck, the workbook and the PDF of exactly the figures on screen."""
    stem = f"usalama-briefing-{model.start}-to-{model.end}"
    model_json = model.to_json()
    for column, kind in zip(st.columns(3), MIMES, strict=True):
        with column:
            st.download_button(
                f"Download {LABELS[kind]}",
                # Built when clicked: the three files took 1-3 s of every cold page.
                partial(export_bytes, kind, model_json),
                file_name=f"{stem}.{kind}",
                mime=MIMES[kind],
                key=f"briefing-{kind}",
                icon=":material/download:",
                on_click=log_export,
                args=(
                    context.grant.identity,
                    f"Briefing ({kind})",
                    context.filters.to_query_params(),
                ),
            )


def _freeze(model: Briefing, context: PageContext) -> None:
    snapshot_id = store(context).save(model, context.grant.identity)
    audit_log.info("snapshot frozen by=%s id=%s title=%r", context.grant.identity, snapshot_id,
                   model.title)  # fmt: skip
    st.query_params[SNAPSHOT_PARAM] = snapshot_id


def _delete(snapshot_id: str, context: PageContext) -> None:
    try:
        store(context).delete(
            snapshot_id, context.grant.identity, is_admin=context.grant.role == "admin"
        )
    except SnapshotError as exc:
        st.session_state["_snapshot_message"] = str(exc)
        return
    audit_log.info("snapshot deleted by=%s id=%s", context.grant.identity, snapshot_id)
    if st.query_params.get(SNAPSHOT_PARAM) == snapshot_id:
        _live()


def _when(created_at: str) -> str:
    """'2026-12-01T19:15:22+00:00' -> '01 Dec 2026 19:15 UTC'."""
    try:
        return f"{dt.datetime.fromisoformat(created_at):%d %b %Y %H:%M} UTC"
    except ValueError:
        return escape_markdown(created_at)


def snapshots(model: Briefing, snapshot: Snapshot | None, context: PageContext) -> None:
    """Freeze the figures for the meeting, or say which frozen snapshot is shown; list the
    snapshots this user may open, with delete for their author or an administrator."""
    if snapshot is None:
        st.button(
            "Freeze for the meeting",
            on_click=_freeze,
            args=(model, context),
            icon=":material/ac_unit:",
            help="Store these figures so that the link shows the same numbers to everyone, even "
            "after the database changes.",
        )
        st.caption(
            f"Live figures: {escape_markdown(model.place)}, {model.period_text}; data as of "
            f"{model.as_of:%d %b %Y}. {escape_markdown(context.source_note())}"
        )
    else:
        st.info(
            f"Frozen snapshot **{escape_markdown(snapshot.id)}**, made by "
            f"{escape_markdown(snapshot.author)} at {_when(snapshot.created_at)}; "
            f"data as of {snapshot.as_of:%d %b %Y}. These figures do not change. Share this "
            "page's link to show them.",
            icon=":material/ac_unit:",
        )
        st.button("Show live figures", on_click=_live)
    message = st.session_state.pop("_snapshot_message", None)
    if message:
        st.warning(escape_markdown(message))
    listed = store(context).list(context.grant.scope)
    if not listed:
        return
    with st.expander(f"Frozen snapshots you can open ({len(listed)})"):
        for item in listed[:50]:
            left, right = st.columns([5, 1])
            left.markdown(
                f"[{escape_markdown(item.title)}](?snapshot={item.id}) · data as of "
                f"{item.as_of:%d %b %Y} · by {escape_markdown(item.author)}, {_when(item.created_at)}"
            )
            if context.grant.role == "admin" or item.author == context.grant.identity:
                right.button(
                    "Delete", key=f"delete-{item.id}", on_click=_delete, args=(item.id, context)
                )
