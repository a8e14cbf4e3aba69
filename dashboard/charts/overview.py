"""Figures of the Overview page: the weekly trend of the four streams and the league table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting
from dashboard.charts.common import figure_title
from dashboard.theme import STREAM_COLOURS
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


def stream_trend_figure(weekly: pd.DataFrame, stream: str, period_label: str) -> go.Figure:
    """One stream's weekly line; partial weeks are hollow markers so nobody reads a short week
    as a fall, and weeks hidden by the privacy rule leave a gap."""
    part = weekly[weekly["stream"] == stream]
    full = part[~part["is_partial"]]
    partial = part[part["is_partial"]]
    colour = _STREAM_COLOUR[stream]
    unit = _UNITS[stream]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=full["week_start"],
            y=full["value"],
            mode="lines+markers",
            name="Full week",
            line=dict(color=colour, width=4),
            marker=dict(size=9),
            hovertemplate="Week of %{x|%d %b %Y}: %{y:,.0f} " + unit + "<extra></extra>",
        )
    )
    if len(partial):
        fig.add_trace(
            go.Scatter(
                x=partial["week_start"],
                y=partial["value"],
                mode="markers",
                name="Partial week",
                marker=dict(size=12, color="white", line=dict(color=colour, width=3)),
                hovertemplate="Partial week of %{x|%d %b %Y}: %{y:,.0f} "
                + unit
                + "<extra></extra>",
            )
        )
    note = f"{period_label}; weeks start Monday; hollow = partial week"
    if stream == "rehab_referrals" and part["value_suppressed"].any():
        note += "; gaps = weeks hidden by the privacy rule"
    fig.update_layout(
        title=figure_title(f"{STREAM_LABELS[stream]} per week", note),
        showlegend=False,
    )
    fig.update_yaxes(title_text=f"{unit} per week", rangemode="tozero")
    fig.update_xaxes(tickformat="%d %b")
    return fig


def league_table(league: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The county league table as shown: readable column names, rehab cells labelled."""
    shown = pd.DataFrame(
        {
            "County": league["county_name"],
            "Code": league["county_code"],
            "Incidents": league["incidents_reported"],
            "Per 100k": league["incident_rate_per_100k"].round(1),
            "Change %": league["incidents_change_pct"].round(1),
            "Resolved %": league["incidents_resolved_pct"].round(1),
            "Active RAs": league["ras_active"],
            "Reporting rate %": league["ra_reporting_rate"].round(1),
            "Forums": league["forums_held"],
            "People trained": league["people_trained"],
            "Rehab referrals": formatting.count_cells(league, "rehab_referrals", threshold),
        }
    )
    return shown.sort_values("Incidents", ascending=False, kind="stable")
