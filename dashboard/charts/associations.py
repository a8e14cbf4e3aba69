"""Figures and display tables of the Residents' Associations page (frames in, Plotly out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.charts.common import (
    axis_title,
    figure_title,
    horizontal_bar,
    horizontal_bars_layout,
    month_label,
    months_on_a_phone,
    overall_line,
    plotly_figure,
    range_for_labels,
    subplots_layout,
    values,
)
from dashboard.data import drawing
from queries.associations import NO_RA

_LABELS = {"ra_meeting": "RA meeting", "no_ra": "No RA linked", "other": "Other (unknown)"}

# Vermillion (low) through yellow to blue (high): readable with colour-vision deficiency, and
# no end is white, so a blank cell (nothing expected) cannot be mistaken for a low rate.
RATE_SCALE = [[0.0, "#D55E00"], [0.5, "#F0E442"], [1.0, "#0072B2"]]
RATE_MEASURES = {
    "reporting_rate_pct": "Reporting rate",
    "on_time_rate_pct": "On-time reporting rate",
}


def label(code: str) -> str:
    """A code as people read it (forum and settlement types)."""
    return _LABELS.get(code, theme.label(code))


def _heatmap_months(shown: pd.DataFrame) -> tuple[list[pd.Timestamp], list[bool]]:
    """The heatmap's months, and which are not due yet (starred)."""
    months = [pd.Timestamp(m) for m in sorted(shown["month"].unique())]
    due = shown.groupby("month")["is_due"].all()
    return months, [not bool(due[m]) for m in months]


def heatmap_months_on_a_phone(cells: pd.DataFrame) -> dict:
    """`reporting_heatmap`'s month axis on a phone (`months_on_a_phone`)."""
    # Beside the county names and the colour bar the months share ~135 px: "Jul" in the
    # axis's 16 px type was still turned sideways, and so were five names 22 months after launch.
    phone = months_on_a_phone(*_heatmap_months(drawn_cells(cells)), with_years=False, most=4)
    phone["xaxis"]["tickfont"] = {"size": 13}
    return phone


def _forum_months(monthly: pd.DataFrame) -> tuple[list[pd.Timestamp], list[bool]]:
    """The forum chart's months, and which are partial (starred)."""
    months = monthly.drop_duplicates("month")
    return [pd.Timestamp(m) for m in months["month"]], [bool(p) for p in months["is_partial"]]


def forum_months_on_a_phone(monthly: pd.DataFrame) -> dict:
    """`forums_by_month_figure`'s month axis on a phone (`months_on_a_phone`)."""
    return months_on_a_phone(*_forum_months(monthly))


def drawn_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The heatmap cells worth drawing: counties, and months, with at least one expected
    report (the current month, whose reports are not yet due, would be an empty column)."""
    county_expected = cells.groupby("county_code")["expected_count"].transform("sum")
    month_expected = cells.groupby("month")["expected_count"].transform("sum")
    return cells[(county_expected > 0) & (month_expected > 0)]


def undrawn_note(cells: pd.DataFrame) -> str:
    """Which counties and months the heatmap leaves out, in words ('' when none)."""
    drawn = drawn_cells(cells)
    counties = cells["county_code"].nunique() - drawn["county_code"].nunique()
    months = sorted(set(cells["month"]) - set(drawn["month"]))
    parts = []
    if counties:
        parts.append(f"{counties} selected counties with no report expected are not drawn.")
    if months:
        names = ", ".join(f"{pd.Timestamp(m):%b %Y}" for m in months)
        parts.append(f"No report was expected yet for {names}, so it is not drawn.")
    not_due = sorted(set(drawn.loc[~drawn["is_due"].astype(bool), "month"]))
    if not_due:
        names = ", ".join(f"{pd.Timestamp(m):%b %Y}" for m in not_due)
        parts.append(
            f"Reports for {names} are not due yet (the 10th of the following month): they are "
            "not counted as missing and have no rate yet."
        )
    return " ".join(parts)


@drawing
def reporting_heatmap(cells: pd.DataFrame, measure: str, period_label: str) -> go.Figure:
    """County x month heatmap of a reporting rate; blank where no report was expected.

    Args:
        cells: `queries.associations.reporting_by_county_month` rows.
        measure: 'reporting_rate_pct' or 'on_time_rate_pct'.
        period_label: the selected period, for the subtitle.
    """
    shown = drawn_cells(cells)
    months, not_due = _heatmap_months(shown)
    names = sorted(shown["county_name"].unique(), reverse=True)  # A at the top
    grid = shown.pivot(index="county_name", columns="month", values=measure).reindex(
        index=names, columns=months
    )
    counts = {
        column: shown.pivot(index="county_name", columns="month", values=column)
        .reindex(index=names, columns=months)
        .to_numpy()
        for column in ("submitted_count", "on_time_count", "expected_count")
    }
    customdata = np.dstack(
        [counts["submitted_count"], counts["on_time_count"], counts["expected_count"]]
    )
    # A month not yet due is not missing: its column says so instead of showing a low rate.
    x = [month_label(m, star) for m, star in zip(months, not_due, strict=True)]
    few = len(months) * len(names) <= 400
    heatmap = dict(
        type="heatmap",
        z=grid.to_numpy(),
        x=x,
        y=names,
        customdata=customdata,
        zmin=0,
        zmax=100,
        colorscale=RATE_SCALE,
        xgap=2,
        ygap=2,
        hoverongaps=False,
        textfont=dict(size=14),
        colorbar=dict(title=dict(text="%", side="top"), ticksuffix="%", thickness=18),
        hovertemplate=(
            "%{y}, %{x}<br>"
            + RATE_MEASURES[measure]
            + ": %{z:.1f}%<br>Submitted %{customdata[0]:,} (on time %{customdata[1]:,})"
            " of %{customdata[2]:,} expected<extra></extra>"
        ),
    )
    if few:
        heatmap["texttemplate"] = "%{z:.0f}"
    layout = dict(
        title=figure_title(
            f"RA {RATE_MEASURES[measure].lower()} by county and month (%)",
            f"Months starting in {period_label}; blank = no report expected"
            + ("; * not due yet" if any(not_due) else ""),
        ),
        plot_bgcolor="white",
        margin=dict(t=130),
        xaxis=dict(axis_title("Month reported on"), side="bottom", showline=False, ticks=""),
        yaxis=dict(showgrid=False),
    )
    return plotly_figure([heatmap], layout)


def heatmap_height(cells: pd.DataFrame) -> int:
    """Tall enough for a readable row per county."""
    rows = drawn_cells(cells)["county_code"].nunique()
    return max(380, 230 + 30 * rows)


@drawing
def reporting_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The heatmap's cells as shown in its table and CSV (only counties with expected reports)."""
    shown = drawn_cells(cells)
    return pd.DataFrame(
        {
            "County": shown["county_name"],
            "Code": shown["county_code"],
            "Month": shown["month"].dt.strftime("%Y-%m"),
            "Expected": shown["expected_count"],
            "Submitted": shown["submitted_count"],
            "On time": shown["on_time_count"],
            "Late": shown["late_count"],
            "Due": shown["is_due"].map({True: "due", False: "not yet due"}),
            "Missing": shown["missing_count"],
            "Reporting rate %": shown["reporting_rate_pct"].round(1),
            "On-time rate %": shown["on_time_rate_pct"].round(1),
        }
    )


@drawing
def forums_by_month_figure(monthly: pd.DataFrame, period_label: str) -> go.Figure:
    """Stacked bars of forums held per month by forum type; partial months are labelled."""
    colours = theme.colours_for("forum_type")
    months, partial = _forum_months(monthly)
    x_of = {m: month_label(m, p) for m, p in zip(months, partial, strict=True)}
    traces = [
        dict(
            type="bar",
            x=[x_of[m] for m in part["month"]],
            y=values(part["forums_held"]),
            name=label(forum_type),
            marker=dict(color=colours.get(forum_type, theme.OTHER_GREY)),
            customdata=values(part["forum_attendance"]),
            hovertemplate=(
                f"{label(forum_type)}, %{{x}}: %{{y:,}} forums, "
                "%{customdata:,} attending<extra></extra>"
            ),
        )
        for forum_type, part in monthly.groupby("forum_type", sort=False)
    ]
    has_partial = any(partial)
    layout = dict(
        barmode="stack",
        title=figure_title(
            "Forums held per month, by type",
            period_label
            + ("; * partial month: only part of it is in the period" if has_partial else ""),
        ),
        legend=dict(y=1.02, traceorder="normal"),
        margin=dict(t=190),
        yaxis=dict(axis_title("Forums held"), rangemode="tozero"),
        xaxis=dict(type="category"),
    )
    return plotly_figure(traces, layout)


def forums_by_month_table(monthly: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Month": monthly["month"].dt.strftime("%Y-%m"),
            "Partial month": monthly["is_partial"],
            "Forum type": monthly["forum_type"].map(label),
            "Forums held": monthly["forums_held"],
            "Attendance": monthly["forum_attendance"],
        }
    )


def _with_forums(by_county: pd.DataFrame) -> pd.DataFrame:
    return by_county[by_county["forums_held"] > 0]


def county_bars_height(by_county: pd.DataFrame) -> int:
    return max(280, 200 + 28 * len(_with_forums(by_county)))


@drawing
def joint_forums_figure(by_county: pd.DataFrame, period_label: str) -> go.Figure:
    """Horizontal bars: the share of each county's forums that were joint, with the overall
    share of the selection as a dashed line."""
    shown = _with_forums(by_county).sort_values("joint_forum_pct", kind="stable")
    total = by_county["forums_held"].sum()
    overall = 100.0 * by_county["joint_forums_count"].sum() / total if total else None
    labels = [f"{p:.0f}% of {n:,}" for p, n in zip(shown["joint_forum_pct"], shown["forums_held"])]
    bars = horizontal_bar(
        shown["joint_forum_pct"],
        shown["county_name"],
        theme.STREAM_COLOURS["ras"],
        labels,
        "%{y}: %{x:.1f}% joint<extra></extra>",
    )
    overall_shapes, overall_text = overall_line(overall)
    top = float(shown["joint_forum_pct"].max()) if len(shown) else 100.0
    layout = horizontal_bars_layout(
        "Joint forums by county (% of forums held)",
        period_label + overall_text,
        margin=dict(r=40),
        shapes=overall_shapes,
        value_title="Joint forums (% of forums held)",
        range=range_for_labels(max(top, overall or 0.0), labels),
        ticksuffix="%",
    )
    return plotly_figure([bars], layout)


@drawing
def attendance_figure(by_county: pd.DataFrame, period_label: str) -> go.Figure:
    """Horizontal bars of summed forum attendance per county, with people per forum."""
    shown = _with_forums(by_county).sort_values("forum_attendance", kind="stable")
    # Short labels ("24,316 (63)"): "per forum" is said once, in the subtitle.
    labels = [
        f"{a:,} ({m:.0f})" for a, m in zip(shown["forum_attendance"], shown["attendance_per_forum"])
    ]
    bars = horizontal_bar(
        shown["forum_attendance"],
        shown["county_name"],
        theme.STREAM_COLOURS["ras"],
        labels,
        "%{y}: %{x:,} people attended, %{customdata:.0f} per forum<extra></extra>",
        customdata=shown["attendance_per_forum"],
    )
    top = float(shown["forum_attendance"].max()) if len(shown) else 1.0
    layout = horizontal_bars_layout(
        "Forum attendance by county (people)",
        f"{period_label}; summed attendance of forums held; (in brackets): people per forum",
        margin=dict(r=40),
        value_title="People attending",
        range=range_for_labels(top, labels),
        separatethousands=True,
    )
    return plotly_figure([bars], layout)


@drawing
def forums_by_county_table(by_county: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "County": by_county["county_name"],
            "Code": by_county["county_code"],
            "Forums held": by_county["forums_held"],
            "Attendance": by_county["forum_attendance"],
            "People per forum": by_county["attendance_per_forum"].round(1),
            "Police present": by_county["police_present_count"],
            "Joint forums": by_county["joint_forums_count"],
            "Joint forums %": by_county["joint_forum_pct"].round(1),
        }
    )


_SETTLEMENT_PANELS = (
    ("ras_registered", "Registered RAs"),
    ("ras_active", "Active RAs"),
    ("member_households", "Member households"),
    ("forums_held", "Forums held"),
)


@drawing
def settlement_figure(by_type: pd.DataFrame, period_label: str, columns: int = 2) -> go.Figure:
    """Four small panels (registered, active, member households, forums) by settlement type;
    each has its own scale, since households outnumber RAs a hundredfold. `columns=1` stacks
    the panels for a phone, where two side by side would crowd their labels."""
    colours = theme.colours_for("settlement_type")
    rows = len(_SETTLEMENT_PANELS) // columns
    layout = subplots_layout(
        rows=rows,
        cols=columns,
        titles=tuple(title for _, title in _SETTLEMENT_PANELS),
        # The right panels share the left ones' settlement names: written once, on the left,
        # they cannot collide with the left panels' bar labels.
        shared_yaxes=True,
        horizontal_spacing=0.06,
        vertical_spacing=0.16 if columns == 2 else 0.07,
    )
    names = [label(code) for code in by_type["settlement_type"]]
    bar_colours = [colours.get(code, theme.OTHER_GREY) for code in by_type["settlement_type"]]
    traces = []
    # Panels are numbered row by row, as `subplots_layout` numbers their axes.
    for panel, (column, title) in enumerate(_SETTLEMENT_PANELS, start=1):
        counts = by_type[column]
        # Forums with no RA have no RA to count: "n/a" in the RA panels, not a zero that
        # reads like a finding.
        not_applicable = (by_type["settlement_type"] == NO_RA) & (column != "forums_held")
        texts = ["n/a" if na else f"{v:,}" for v, na in zip(counts, not_applicable, strict=True)]
        suffix = "" if panel == 1 else str(panel)
        traces.append(
            horizontal_bar(
                counts,
                names,
                bar_colours,
                texts,
                f"%{{y}}: %{{x:,}} ({title.lower()})<extra></extra>",
                showlegend=False,
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        top = float(counts.max()) if len(counts) else 1.0
        layout[f"xaxis{suffix}"].update(
            # A panel's plot area is about 220 px wide on a laptop, 160 on a phone.
            range=range_for_labels(max(top, 1), texts, plot_px=220 if columns == 2 else 160),
            separatethousands=True,
            # On a phone five ticks such as "20,000" in 160 px turn sideways and overlap; the
            # bars carry their values, so three ticks are enough for the scale.
            **({} if columns == 2 else dict(nticks=3)),
        )
        layout[f"yaxis{suffix}"].update(autorange="reversed", showgrid=False)
    layout.update(
        title=figure_title(
            "Residents' associations by settlement type",
            f"Registered (not suspended) by the end of the period; active RAs and "
            f"forums: {period_label}",
        ),
        margin=dict(t=140),
    )
    return plotly_figure(traces, layout)


def settlement_table(by_type: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Settlement type": by_type["settlement_type"].map(label),
            "Registered RAs": by_type["ras_registered"],
            "Active RAs": by_type["ras_active"],
            "Active %": by_type["active_pct"].round(1),
            "Member households": by_type["member_households"],
            "Forums held": by_type["forums_held"],
        }
    )
