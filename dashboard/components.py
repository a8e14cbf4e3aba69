"""Rendering pieces the pages compose: header, banners, headline cards, figures and tables.

Components only render what they are given; they never query.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, downloads, formatting, theme
from dashboard.access import log_export
from dashboard.charts.common import PHONE_LABEL_PLOT_PX, check_spec, range_for_labels
from dashboard.context import PageContext
from queries import filters as filter_rules
from queries.indicators import INDICATOR_BY_KEY, Indicator
from queries.privacy import ROUNDING_NOTE, labelled_for_display, suppressed_label
from queries.significance import (
    NORMAL_VARIATION,
    POISSON_TEST,
    REPORTING_GAP_SHORT,
    SHARE_TEST,
)

TEST_HELP = {"poisson": POISSON_TEST, "two_proportion": SHARE_TEST}
NOT_TESTED_HELP = "No test is applied to this change, so it is never marked meaningful."
NOT_TESTED = "no test"
GLOSSARY_POINTER = "Definitions: Glossary page."


def _no_change(
    indicator: Indicator, row: pd.Series, note: str | None
) -> tuple[str | None, str, str, str]:
    """What a card says where it shows no change, and why (for its help text): the delta text,
    arrow, colour and explanation."""
    if row["suppressed"] or row["comparison_suppressed"]:
        return "change hidden (privacy rule)", "off", "off", ""
    short = row.get("note_short")
    short = None if short is None or pd.isna(short) else str(short)
    why = note or ""
    if short is not None and short.endswith("days old yet"):
        # Advice for the page's reader only: a briefing's slide states the fact alone.
        why += " Choose a period ending earlier to see it."
    if not indicator.like_for_like:
        why = (
            "Shown as it stands now and never compared with another period: recent cases have "
            "had less time to reach this outcome, so a change would mostly show their age."
        )
        instead = INDICATOR_BY_KEY.get(indicator.compare_instead or "")
        if instead is not None:
            why += f" The like-for-like change is on '{instead.label}'."
    return short, "off", "off", why


def comparison_note(headline: pd.DataFrame) -> str | None:
    """The selection's reason for having no valid comparison period, if it has one."""
    reasons = headline["comparison_note"].dropna()
    return str(reasons.iloc[0]) if len(reasons) else None


def demo_banner(context: PageContext) -> None:
    """Say plainly, on every page, when the figures are synthetic."""
    if context.source.is_demo:
        st.warning(
            "**Synthetic demo data.** No reporting database is configured, so every figure on "
            "this page is generated and describes no real person, place or event.",
            icon=":material/science:",
        )


# Reports reach the database through the day, every day, in every county that has joined:
# two days without one means the feed has stopped, not that Kenya went quiet.
STALE_AFTER = dt.timedelta(hours=48)


def staleness_warning(context: PageContext, now: dt.datetime) -> None:
    """Say so when the latest report is more than STALE_AFTER older than the wall clock `now`
    (EAT): every period ends on the latest report's day, so 'last 28 days' then ends days ago."""
    if context.as_of is None or now - context.as_of <= STALE_AFTER:
        return
    days = (now - context.as_of) // dt.timedelta(days=1)
    what = (
        "This demo database was built that day; rebuild it (`./dev seed`) to move its dates."
        if context.source.is_demo
        else "If reports should have arrived since, the reporting feed may have stopped: "
        "ask the ministry's data team."
    )
    st.warning(
        f"**No report for {days} days.** The latest report is from "
        f"{context.as_of:%d %b %Y, %H:%M} EAT and the clock reads {now:%d %b %Y, %H:%M} EAT. "
        f"Every period ends on {context.as_of:%d %b %Y}, so recent days are not shown. {what}",
        icon=":material/schedule:",
    )


def page_header(title: str, context: PageContext) -> None:
    """The page title, what is selected, and how fresh the data are."""
    st.title(title)
    filters = context.filters
    compare_start, compare_end = (
        filters.comparison_filters().start,
        filters.comparison_filters().end,
    )
    as_of = f"{context.as_of:%d %b %Y, %H:%M} EAT" if context.as_of else "no reports yet"
    st.markdown(
        f"**{context.selection_label()}** · {context.period_label()} "
        f"· compared with {compare_start:%d %b %Y} – {compare_end:%d %b %Y}  \n"
        f"Data as of **{as_of}**"
    )
    demo_banner(context)
    staleness_warning(context, filter_rules.now_eat())
    for note in context.notes:
        # Notes quote values from the link: escaped, so a link cannot put a link or an image
        # on a ministry page.
        st.info(formatting.escape_markdown(note), icon=":material/link_off:")


def headline_cards(
    headline: pd.DataFrame, keys: Sequence[str], context: PageContext, per_row: int = 4
) -> None:
    """One card per indicator: value, change against the comparison period, significance."""
    rows = headline.set_index("indicator")
    for start in range(0, len(keys), per_row):
        columns = st.columns(per_row)
        for column, key in zip(columns, keys[start : start + per_row], strict=False):
            indicator = INDICATOR_BY_KEY[key]
            row = rows.loc[key]
            value = formatting.indicator_value(
                indicator,
                row["value"],
                bool(row["suppressed"]),
                context.threshold,
                small=bool(row.get("small", True)),
            )
            change = formatting.change_text(indicator, row["change"], row["change_pct"])
            tested = row.get("test") in TEST_HELP
            if change and bool(row["meaningful"]):
                change += " · meaningful"
            elif change:
                # Said, not left to a missing word: "+5 (+50.0%)" on a count of 10 reads as a
                # finding unless the card says chance gives changes that size, and beside such
                # cards an untagged "-39.6%" would read as one no test doubts.
                change += f" · {NORMAL_VARIATION}" if tested else f" · {NOT_TESTED}"
            arrow = "auto"
            # Red or green is a judgement: only a change a test calls meaningful gets one.
            colour = (
                "off"
                if indicator.higher_is_better is None or not bool(row["meaningful"])
                else ("normal" if indicator.higher_is_better else "inverse")
            )
            help_text = f"{indicator.definition} Unit: {indicator.unit}."
            note = row.get("note")
            note = None if note is None or pd.isna(note) else str(note)
            compared = change is not None
            if not compared:
                change, arrow, colour, why = _no_change(indicator, row, note)
                help_text += " " + why
            elif tested:
                help_text += " " + TEST_HELP[row["test"]]
            else:
                help_text += " " + NOT_TESTED_HELP
            help_text += " " + GLOSSARY_POINTER
            with column:
                st.metric(
                    indicator.label,
                    value,
                    delta=change,
                    delta_color=colour,
                    delta_arrow=arrow,
                    help=help_text,
                    border=True,
                    height="stretch",  # cards in a row as tall as the tallest
                    delta_description="vs comparison period" if compared else None,
                )
    reason = comparison_note(headline)
    if reason:
        st.caption(reason)
    stopped = headline.loc[headline["note_short"] == REPORTING_GAP_SHORT, "note"].dropna()
    if len(stopped):
        st.caption(str(stopped.iloc[0]))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plain_text(text: str) -> str:
    """Plotly title markup as safe page HTML: line breaks stay line breaks (as a space they ran
    two sentences together: "27 Nov 2026 Weeks start Monday"), other tags are dropped."""
    lines = (html.escape(re.sub(r"<[^>]+>", " ", line).strip()) for line in text.split("<br>"))
    return "<br>".join(line for line in lines if line)


def figure(
    fig: go.Figure,
    table: pd.DataFrame,
    context: PageContext,
    name: str,
    height: int = 480,
    download: pd.DataFrame | None = None,
    narrow: tuple[go.Figure, int] | Mapping[str, Any] | None = None,
) -> None:
    """A Plotly figure with the house style and source line, and its data a click away
    (`download`: the unrounded frame behind `table`, if `table` rounds or formats it).

    `narrow`: another drawing of the same figures for a phone, and its height (e.g. panels one
    under another instead of side by side); or, where the phone's drawing only lays the same
    figure out differently, the layout it changes (with its "height"), applied to a copy of the
    figure's JSON rather than drawing the figure twice. Both are sent and CSS shows the one
    that fits (app.py: containers keyed 'wide-…' and 'narrow-…').

    The figure's title and subtitle are drawn as page text above the chart rather than inside it:
    Plotly cannot wrap a title, so on a phone it would be cut off, and a wrapped legend would run
    into it.
    """
    title = fig.layout.title.text or ""
    subtitle = (fig.layout.title.subtitle.text or "") if fig.layout.title.subtitle else ""
    if title:
        st.markdown(f'<p class="chart-title">{_plain_text(title)}</p>', unsafe_allow_html=True)
    if subtitle:
        st.markdown(
            f'<p class="chart-subtitle">{_plain_text(subtitle)}</p>', unsafe_allow_html=True
        )
    # The phone's drawing: the one given, or the same figure with these layout changes.
    phone: tuple[go.Figure, int, Mapping[str, Any] | None] | None
    if narrow is None:
        changes = _labelled_bars_on_a_phone(fig, height)
        phone = None if changes is None else (fig, height, changes)
    elif isinstance(narrow, Mapping):
        phone = (fig, narrow["height"], narrow)
    else:
        phone = (*narrow, _labelled_bars_on_a_phone(*narrow))
    if phone is None:
        _plotly(fig, height)
    else:
        # Keyed: the two drawings may be identical (e.g. every label hidden), and Streamlit
        # refuses two equal charts without keys.
        with st.container(key=f"wide-{_slug(name)}"):
            _plotly(fig, height, key=f"chart-wide-{_slug(name)}")
        with st.container(key=f"narrow-{_slug(name)}"):
            phone_fig, phone_height, changes = phone
            _plotly(phone_fig, phone_height, key=f"chart-narrow-{_slug(name)}", layout=changes)
    # The source goes under the chart as page text, which wraps on a phone; inside the figure
    # Plotly would clip it.
    st.caption(context.source_note())
    with st.expander(f"Table: {name}"):
        data_table(table, context, name, download=download)


def _labelled_bars_on_a_phone(fig: go.Figure, height: int) -> dict[str, Any] | None:
    """The phone's layout of a chart of horizontal bars that each carry their value: no
    numbers on the value axis. On a phone the bars leave that axis 70-150 px, where Plotly
    turned "0 1,000 2,000" sideways into clutter that said less than the labels; the axis
    title stays. A series may go unlabelled where the labels speak for it (places behind
    "85 (9%)" in treatment). None for any other chart, or one with no bar labelled."""
    across = all(
        (trace.type == "bar" and trace.orientation == "h")
        or (trace.type == "scatter" and trace.mode == "text")  # labels drawn beside the bars
        for trace in fig.data
    )
    if not fig.data or not across or all(trace.text is None for trace in fig.data):
        return None
    bare = {"showticklabels": False, "showgrid": False, "ticks": ""}
    changes: dict[str, Any] = {axis: dict(bare) for axis in fig.layout if axis.startswith("xaxis")}
    # An unvalidated figure's arrays may be numpy arrays, holding NaN for hidden values.
    lengths = pd.concat([pd.to_numeric(pd.Series(trace.x), errors="coerce") for trace in fig.data])
    one_axis = all(trace.xaxis in (None, "x") for trace in fig.data)
    measured = lengths.notna().any() and lengths.min() >= 0
    if one_axis and fig.layout.barmode != "stack" and measured:
        # The room the wide drawing left after the longest bar for its label is too little on
        # a phone's narrower plot: "121,998 (66)" was cut at the screen's edge.
        labels = [
            text
            for trace in fig.data
            if trace.text is not None
            for text in ([trace.text] if isinstance(trace.text, str) else trace.text)
        ]
        changes["xaxis"]["range"] = range_for_labels(
            float(lengths.max()), labels, plot_px=PHONE_LABEL_PLOT_PX, most=0.7
        )
    return {"height": height, **changes}


class _SentFigure(go.Figure):
    """A figure whose JSON is made already: `st.plotly_chart` asks a Figure for `to_dict()`
    and trusts it, so this hands over the styled spec without Plotly copying and checking
    every property again on each rerun (the tests check it once, in `_styled`)."""

    def __init__(self, spec: dict) -> None:
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def _styled(fig: go.Figure, height: int, changes: Mapping[str, Any] | None = None) -> _SentFigure:
    """The figure's JSON in the house template at this height, its title taken out (the page
    shows it as text), with the layout `changes` merged in; the figure itself is left as it
    is, since drawings are shared."""
    spec = fig.to_dict()
    layout = spec.setdefault("layout", {})
    _merge(layout, changes or {})
    layout["template"] = theme.template_json()
    layout["height"] = height
    title = layout.setdefault("title", {})
    title["text"] = ""
    title.setdefault("subtitle", {})["text"] = ""
    # The title and subtitle took about 70 px of the top margin; give it back.
    margin = layout.setdefault("margin", {})
    top = margin.get("t")
    margin["t"] = 40 if top is None else max(40, top - 70)
    # The phone layouts merged in are written by hand too.
    check_spec(spec)
    return _SentFigure(spec)


def _merge(into: dict, changes: Mapping[str, Any]) -> None:
    """Merge layout `changes` into a figure's layout JSON, nested dicts key by key."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _plotly(
    fig: go.Figure, height: int, key: str | None = None, layout: Mapping[str, Any] | None = None
) -> None:
    """Draw a figure (its title already shown as text) in the house template, with the
    `layout` changes if any."""
    changes = {k: v for k, v in (layout or {}).items() if k != "height"}
    derived_key = ("styled", height, json.dumps(changes, sort_keys=True))
    # theme=None: Streamlit's chart theme would override the projector-sized template.
    st.plotly_chart(
        data.derived(fig, derived_key, lambda: _styled(fig, height, changes)),
        theme=None,
        width="stretch",
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
        key=key,
    )


# The widest a table's first column is drawn, in CSS px (the grid's 14 px type: ~7.5 px a
# character, and the grid's padding).
FIRST_COLUMN_MAX_PX = 480


@data.drawing
def _table_view(
    table: pd.DataFrame, threshold: int
) -> tuple[pd.DataFrame, str, dict[str, str], int]:
    """A table as the grid shows it (hidden cells labelled), as text (the whole table, for a
    printed page and for a phone's screen), the grid's number format of each numeric column
    (`column_number_formats`), and the width of its first column in px: wide enough for its
    longest name, which the grid would otherwise cut ("RA reporting rate (May 2027: la…" at
    1920 px). The text writes numbers as the grid does."""
    shown = labelled_for_display(table, threshold)
    decimals = column_decimals(shown)
    as_text = {name: _number_text(places) for name, places in decimals.items()}
    body = shown.to_html(index=False, na_rep="–", formatters=as_text)
    printed = f'<div class="print-table">{body}</div>'
    first = shown.columns[0]
    longest = max([len(str(first)), *(len(str(v)) for v in shown[first])])
    first_width = min(FIRST_COLUMN_MAX_PX, 24 + round(7.5 * longest))
    formats = {name: _printf(places) for name, places in decimals.items()}
    return shown, printed, formats, first_width


def _printf(decimals: int) -> str:
    return f"%,.{decimals}f" if decimals else "%,d"


def _number_text(decimals: int) -> Callable[[object], str]:
    return lambda value: "–" if pd.isna(value) else f"{float(value):,.{decimals}f}"


def column_number_formats(table: pd.DataFrame, most_decimals: int = 2) -> dict[str, str]:
    """A printf format (Streamlit's grid) for each numeric column: thousands separated, and
    every row with as many decimals as the column's most precise value needs (up to
    `most_decimals`), so that 4 and 3.3 read 4.0 and 3.3, and 124041 reads 124,041. Columns
    holding hidden-cell labels are text and keep their values as they are."""
    return {name: _printf(places) for name, places in column_decimals(table, most_decimals).items()}


def column_decimals(table: pd.DataFrame, most_decimals: int = 2) -> dict[str, int]:
    """The decimals each numeric column is shown with (`column_number_formats`)."""
    decimals = {}
    for name in table.columns:
        values = table[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        present = values.dropna().astype("float64")
        decimals[name] = next(
            (d for d in range(most_decimals + 1) if (present.round(d) == present).all()),
            most_decimals,
        )
    return decimals


def data_table(
    table: pd.DataFrame,
    context: PageContext,
    name: str,
    download: pd.DataFrame | None = None,
) -> None:
    """A table as shown, with CSV and Excel downloads: hidden cells read '<5' / 'suppressed' in
    all three.

    Args:
        download: the frame the downloads are built from, where `table` rounds numbers or
            formats them as text for reading: the query layer's frame, unrounded, with its
            snake_case column names (which carry the unit) and `_suppressed` flags. None: the
            table itself.
    """
    shown, printed, number_formats, first_width = _table_view(table, context.threshold)
    # Short tables show every row; long ones scroll inside a frame of about 16 rows.
    height = 38 + 35 * min(len(shown), 16)
    columns = {
        name: st.column_config.NumberColumn(format=number_format)
        for name, number_format in number_formats.items()
    }
    # The first column names the row (county, ward, indicator, week…): pinned, it stays in view
    # while the figures scroll sideways.
    if len(shown.columns) > 2:
        columns[shown.columns[0]] = st.column_config.Column(pinned=True, width=first_width)
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=height,
        placeholder="–",
        column_config=columns or None,
    )
    # The grid shows ~16 rows at a time; a printed page gets the whole table (styles.PRINT_CSS).
    st.html(printed)
    raw = table if download is None else download
    stem = f"usalama-{_slug(name)}-{context.filters.start}-to-{context.filters.end}"
    audit = (context.grant.identity, context.filters.to_query_params())
    threshold = context.threshold
    csv_column, excel_column = st.columns(2)
    with csv_column:
        st.download_button(
            "Download CSV",
            # Both files are built when clicked, not on every run: per table they took 0.01 s
            # (CSV) and 0.03 s (Excel), most of a warm page, and kept bytes per session.
            lambda: downloads.csv_bytes(raw, threshold),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"download-{_slug(name)}",
            icon=":material/download:",
            on_click=log_export,
            args=(audit[0], f"{name} (CSV)", audit[1]),
        )
    with excel_column:
        st.download_button(
            "Download Excel",
            lambda: downloads.excel_bytes(raw, threshold, name, about_rows(context, name)),
            file_name=f"{stem}.xlsx",
            mime=EXCEL_MIME,
            key=f"download-xlsx-{_slug(name)}",
            icon=":material/table_view:",
            on_click=log_export,
            args=(audit[0], f"{name} (Excel)", audit[1]),
        )
    st.caption(context.source_note())


EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def about_rows(context: PageContext, name: str) -> list[tuple[str, str]]:
    """The Excel download's 'About' sheet: what the table is, the filters, source and as-of."""
    filters = context.filters
    comparison = filters.comparison_filters()
    compare_kind = {"previous": "previous period", "last_year": "same period last year"}
    codes = filters.county_codes
    counties = (
        "All counties"
        if codes is None
        else "; ".join(f"{context.county_name(c)} ({c})" for c in codes)
    )
    ward_names = dict(zip(context.wards["ward_code"], context.wards["ward_name"], strict=False))
    wards = (
        "; ".join(f"{ward_names.get(w, w)} ({w})" for w in filters.ward_codes)
        if filters.ward_codes
        else "All wards"
    )
    as_of = f"{context.as_of:%Y-%m-%d %H:%M} EAT" if context.as_of else "no reports yet"
    return [
        ("Table", name),
        ("Period", f"{filters.start:%Y-%m-%d} to {filters.end:%Y-%m-%d} (EAT dates)"),
        (
            "Comparison",
            f"{compare_kind.get(filters.comparison, filters.comparison)}: "
            f"{comparison.start:%Y-%m-%d} to {comparison.end:%Y-%m-%d}",
        ),
        ("Counties", counties),
        ("Wards", wards),
        ("Source", context.source_note()),
        ("Data as of", as_of),
        (
            "Privacy rule",
            f"Rehabilitation counts from 1 to {context.threshold - 1} read "
            f"'{suppressed_label(context.threshold)}'; other hidden cells read 'suppressed'. "
            + ROUNDING_NOTE,
        ),
        ("Definitions", "Glossary page of the dashboard."),
    ]


def suppression_note(context: PageContext) -> None:
    """Explain the privacy rule wherever rehabilitation figures are shown."""
    label = suppressed_label(context.threshold)
    st.caption(
        f"Privacy rule: rehabilitation counts from 1 to {context.threshold - 1} are shown as "
        f"'{label}'. 'Suppressed' marks a larger count hidden so that a total cannot give a "
        "small one away, and a percentage or median that would reveal a small count. "
        f"{ROUNDING_NOTE} Changes are not shown where either period is hidden."
    )


def county_map(frame: pd.DataFrame, context: PageContext, measure: str) -> None:
    """The county map over Kenya's outline: circles sized by the measure and coloured by its rate
    per 100,000 (or a choropleth when the administrator has supplied county boundaries), a
    legend, and the same figures as a table.

    Two drawings are sent and CSS shows one (app.py): a wide one for laptops and projectors and
    one fitted to a phone's width, since a map's zoom is fixed when it is drawn.
    """
    from dashboard.charts.county_map import (
        MAP_MEASURES,
        NARROW,
        WIDE,
        boundaries_file,
        county_geojson_path,
        county_map_from_file,
        map_table,
    )

    label = MAP_MEASURES[measure][0]
    path = county_geojson_path()
    geojson = data.county_geojson(str(path)) if path else None
    boundaries = boundaries_file(path) if geojson is not None else None
    st.markdown(f"**{label} by county, {context.period_label()}**")
    selected = context.filters.county_codes or ()
    for size, key in ((WIDE, "wide-county-map"), (NARROW, "narrow-county-map")):
        with st.container(key=key):
            st.pydeck_chart(
                county_map_from_file(frame, boundaries, size, selected),
                height=size.height_px,
                width="stretch",
            )
    map_legend(frame, circles=geojson is None)
    st.caption(
        "Tap or hover a county for its figures; the table below holds the same figures. "
        + context.source_note()
    )
    shown, raw = map_table(frame, measure)
    with st.expander(f"Table: {label} by county (the map's figures)"):
        data_table(shown, context, f"{label} by county map", download=raw)


def map_legend(frame: pd.DataFrame, circles: bool) -> None:
    """The county map's key: what a colour means (the rate classes), and what a circle's size
    means (with the largest county's value as the scale)."""
    from dashboard.charts.county_map import NO_DATA_RGB, legend_bins

    swatch = (
        '<span style="display:inline-block;width:1.1em;height:1.1em;vertical-align:-0.15em;'
        'border:1px solid #666;margin-right:0.3em;background:rgb({},{},{})"></span>'
    )
    items = [
        swatch.format(*colour) + f"{low:,.1f}–{high:,.1f}"
        for colour, low, high in legend_bins(frame["rate"])
    ]
    if frame["rate"].isna().any():
        items.append(swatch.format(*NO_DATA_RGB) + "no rate")
    parts = [
        "<b>Colour</b>: rate per 100,000 residents (darker is higher): "
        + " ".join(f'<span style="white-space:nowrap">{item}</span>' for item in items)
    ]
    if circles and len(frame) and frame["value"].max() > 0:
        top = frame.loc[frame["value"].idxmax()]
        parts.append(
            f"<b>Circle area</b>: the count; the largest circle is {html.escape(top['county_name'])}"
            f", {top['value']:,.0f}."
        )
    st.markdown('<p class="map-legend">' + "<br>".join(parts) + "</p>", unsafe_allow_html=True)
