"""Figures of the Overview page: the weekly trend of the four streams and the league table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting
from dashboard.charts.common import figure_title, plotly_figure, values, week_ticks
from dashboard.data import drawing
from dashboard.theme import STREAM_COLOURS
from queries.significance import NORMAL_VARIATION
from queries.trends import STREAM_LABELS

_STREAM_COLOUR = {
    "incidents": STREAM_COLOURS["incidents"],
    "forums": STREAM_COLOURS["ras"],
    "people_trained": STREAM_COLOURS["training"],
    "rehab_referrals": STREAM_COLOURS["rehab"],
}
_UNITS = {
    "incidents": "incidents",
    "forums": "forums",
    "people_trained": "people",
    "rehab_referrals": "referrals",
}


COMPARISON_OPACITY = 0.5


@drawing
def stream_trend_figure(
    weekly: pd.DataFrame,
    stream: str,
    period_label: str,
    comparison: pd.DataFrame | None = None,
    comparison_label: str | None = None,
) -> go.Figure:
    """One stream's weekly line; partial weeks are hollow markers so nobody reads a short week
    as a fall, and weeks hidden by the privacy rule leave a gap.

    Args:
        comparison: `comparison_streams_by_week`: the comparison period's weeks, moved onto
            this period's; its full weeks are drawn as a faint dotted line under this period's.
            None: no comparison line (e.g. the comparison is not valid).
        comparison_label: how the subtitle names the comparison period.
    """
    part = weekly[weekly["stream"] == stream]
    full = part[~part["is_partial"]]
    partial = part[part["is_partial"]]
    colour = _STREAM_COLOUR[stream]
    unit = _UNITS[stream]
    traces = []
    if comparison is not None:
        earlier = comparison[(comparison["stream"] == stream) & ~comparison["is_partial"]]
        traces.append(
            dict(
                type="scatter",
                x=values(earlier["week_start"]),
                y=values(earlier["value"]),
                customdata=values(earlier["comparison_week_start"]),
                mode="lines",
                name="Comparison period",
                line=dict(color=colour, width=3, dash="dot"),
                opacity=COMPARISON_OPACITY,
                hovertemplate="Comparison week of %{customdata|%d %b %Y}: %{y:,.0f} "
                + unit
                + "<extra></extra>",
            )
        )
    traces.append(
        dict(
            type="scatter",
            x=values(full["week_start"]),
            y=values(full["value"]),
            mode="lines+markers",
            name="Full week",
            line=dict(color=colour, width=4),
            marker=dict(size=9),
            hovertemplate="Week of %{x|%d %b %Y}: %{y:,.0f} " + unit + "<extra></extra>",
        )
    )
    if len(partial):
        traces.append(
            dict(
                type="scatter",
                x=values(partial["week_start"]),
                y=values(partial["value"]),
                mode="markers",
                name="Partial week",
                marker=dict(size=12, color="white", line=dict(color=colour, width=3)),
                hovertemplate="Partial week of %{x|%d %b %Y}: %{y:,.0f} "
                + unit
                + "<extra></extra>",
            )
        )
    note = f"{period_label}; weeks start Monday; hollow = partial week"
    if comparison is not None:
        note += f"; dotted faint line = {comparison_label or 'comparison period'}"
    if stream == "rehab_referrals" and part["value_suppressed"].any():
        note += "; gaps = weeks hidden by the privacy rule"
    layout = dict(
        title=figure_title(f"{STREAM_LABELS[stream]} per week", note),
        showlegend=False,
        # Room for the last week's date: on a phone Plotly hid a label that would pass the
        # drawing's right edge, and the partial last week stood unlabelled.
        margin=dict(r=40),
        # No axis title: the chart's title says what is counted per week, and on a phone a
        # rotated title is cut at the chart's left edge.
        yaxis=dict(rangemode="tozero"),
        xaxis=dict(tickformat="%d %b", **week_ticks(part["week_start"])),
    )
    if len(part) and part["value"].isna().all():
        # Every week hidden: empty axes would read as no referrals at all.
        layout["annotations"] = [
            dict(
                text="Every week is hidden by the privacy rule:<br>"
                "each holds a small count, or one that would give a small count away.",
                xref="paper",
                yref="paper",
                x=0.5,
                y=0.5,
                showarrow=False,
                font=dict(size=18),
            )
        ]
        layout["yaxis"]["showticklabels"] = False
    return plotly_figure(traces, layout)


@drawing
def trend_table(
    weekly: pd.DataFrame, stream: str, comparison: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One stream's weeks as a table, with the comparison week each is set against (its
    Monday, value and privacy flags) when there is a comparison. Grain: one row per week."""
    part = weekly[weekly["stream"] == stream].drop(columns=["stream_label"])
    if comparison is None:
        return part
    earlier = comparison[comparison["stream"] == stream].rename(
        columns={
            "value": "comparison_value",
            "value_suppressed": "comparison_value_suppressed",
            "value_small": "comparison_value_small",
            "is_partial": "comparison_is_partial",
        }
    )
    return part.merge(
        earlier.drop(columns=["stream_label"]), on=["stream", "week_start"], how="left"
    )


def reporting_rate_header(league: pd.DataFrame) -> str:
    """The league's reporting-rate column header: with the month it covers when that is the
    latest month due rather than the period (`queries.indicators.with_latest_due_reporting`)."""
    months = league["ra_reporting_month"].dropna()
    return "Reporting rate %" if months.empty else f"Reporting rate %, {months.iloc[0]:%b %Y}"


def change_verdicts(league: pd.DataFrame) -> pd.Series:
    """Each county's change in incidents in words: 'meaningful' only where the Poisson test says
    so (`incidents_meaningful`: a change of +160% on 13 incidents is usually not), 'not
    compared' where the county has no valid comparison (`comparison_note`), else 'normal
    variation'."""
    verdict = pd.Series(NORMAL_VARIATION, index=league.index, dtype="object")
    verdict[league["incidents_meaningful"].astype(bool)] = "meaningful"
    verdict[league["incidents_z"].isna()] = "–"
    verdict[league["comparison_note"].notna()] = "not compared"
    return verdict


def reporting_gap_notes(league: pd.DataFrame) -> list[str]:
    """Why a county that stopped reporting incidents is not compared, one line a county."""
    gaps = league[league["reporting_gap"].astype(bool)]
    return [str(note) for note in gaps.sort_values("county_name")["comparison_note"]]


@drawing
def league_table(league: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The county league table as shown: readable column names, rehab cells labelled."""
    shown = pd.DataFrame(
        {
            "County": league["county_name"],
            "Code": league["county_code"],
            "Incidents": league["incidents_reported"],
            "Per 100k": league["incident_rate_per_100k"].round(1),
            "Change %": league["incidents_change_pct"].round(1),
            "Change test": change_verdicts(league),
            "Resolved %": league["incidents_resolved_pct"].round(1),
            "Active RAs": league["ras_active"],
            reporting_rate_header(league): league["ra_reporting_rate"].round(1),
            "Forums": league["forums_held"],
            "People trained": league["people_trained"],
            "Rehab referrals": formatting.count_cells(league, "rehab_referrals", threshold),
        }
    )
    return shown.sort_values("Incidents", ascending=False, kind="stable")
