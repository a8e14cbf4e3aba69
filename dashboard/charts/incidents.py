"""Figures and display tables of the Incidents page: pure functions from query frames to Plotly."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.common import (
    WEEKS_ON_A_PHONE,
    axis_title,
    figure_title,
    horizontal_bar,
    no_data,
    plotly_figure,
    range_for_labels,
    subplots_layout,
    values,
    week_ticks,
)
from dashboard.data import drawing
from dashboard.theme import CATEGORY_COLOURS, OTHER_GREY, PALETTE, label
from queries.incidents import AGE_BAND_LABELS, COMPSTAT_WINDOWS
from queries.schema import OPEN_INCIDENT_STATUSES
from queries.significance import is_meaningful_count_change

PARTIAL_OPACITY = 0.35
# Untouched reports are the most urgent, so they take the strongest colour.
STATUS_COLOURS = {"reported": "#D55E00", "acknowledged": "#E69F00", "actioned": "#0072B2"}
BAR_ROW_PX = 34
WEEKLY_HEIGHT = 600
# On a phone the eleven categories' legend alone takes about 300 px: the bars get the rest.
PHONE_WEEKLY_HEIGHT = 900
# Bars that are not a finding: a ward's rise the Poisson test does not call meaningful, a county
# median over fewer than FEW_FOR_A_MEDIAN incidents.
TENTATIVE_GREY = "#B4B4B4"
FEW_FOR_A_MEDIAN = 10
NO_INCIDENTS = "No incidents in this selection"
# `weekly_by_category_figure` on a phone: taller, so that the bars keep a readable height under
# a legend wrapped to a dozen rows; legend entries two to a row; dates upright, without the year. Layout
# changes to the same figure (components.figure), not a second drawing: that cost ~0.1 s a view.
WEEKLY_BY_CATEGORY_ON_A_PHONE = {
    "height": PHONE_WEEKLY_HEIGHT,
    "legend": {"entrywidth": 160, "font": {"size": 14}, "y": 1 - 108 / PHONE_WEEKLY_HEIGHT},
    "xaxis": WEEKS_ON_A_PHONE["xaxis"],
    # Room for the last week's date, which Plotly hides where it would pass the right edge.
    "margin": {"r": 40},
}


def _bar_height(rows: int, base: int = 220, minimum: int = 380) -> int:
    # Long lists (every county) get thinner bars so the chart stays about one screen tall.
    per_row = BAR_ROW_PX if rows <= 20 else 24
    return max(minimum, base + per_row * rows)


def _count_axis(title_text: str) -> dict:
    """A value axis of whole counts (or hours) from zero, with light grid lines."""
    return dict(
        axis_title(title_text),
        tickformat=",d",
        rangemode="tozero",
        showgrid=True,
        gridcolor="#E5E5E5",
    )


@drawing
def weekly_by_category_figure(weekly: pd.DataFrame, subtitle: str) -> go.Figure:
    """Stacked weekly bars, one colour per category (largest category at the bottom); weeks only
    partly inside the period are faded so nobody reads a short week as a fall."""
    totals = weekly.groupby("category")["count"].sum().sort_values(ascending=False, kind="stable")
    order = [c for c in totals.index if c != "other"] + (["other"] if "other" in totals else [])
    colours = CATEGORY_COLOURS["category"]
    traces = []
    for category in order:
        part = weekly[weekly["category"] == category].sort_values("week_start")
        opacity = [PARTIAL_OPACITY if partial else 1.0 for partial in part["is_partial"]]
        note = ["partial week" if partial else "full week" for partial in part["is_partial"]]
        traces.append(
            dict(
                type="bar",
                x=values(part["week_start"]),
                y=values(part["count"]),
                name=label(category),
                marker=dict(color=colours.get(category, OTHER_GREY), opacity=opacity),
                customdata=note,
                hovertemplate=(
                    f"<b>{label(category)}</b><br>Week of %{{x|%d %b %Y}} "
                    "(%{customdata})<br>%{y:,.0f} incidents<extra></extra>"
                ),
            )
        )
    has_partial = bool(weekly["is_partial"].any())
    layout = dict(
        barmode="stack",
        bargap=0.15,
        title=figure_title(
            "Incidents reported per week, by category",
            subtitle
            + "<br>Weeks start Monday (EAT)"
            + ("; faded bars = partial weeks" if has_partial else ""),
        ),
        height=WEEKLY_HEIGHT,
        # Eleven categories wrap to many rows on a phone: a legend placed just under the
        # subtitle (container coordinates) pushes the plot down instead of covering the title.
        legend=dict(
            traceorder="normal",
            entrywidth=150,
            font=dict(size=15),
            yref="container",
            y=1 - 108 / WEEKLY_HEIGHT,
            yanchor="top",
        ),
        margin=dict(t=130),
        yaxis=dict(axis_title("Incidents per week"), rangemode="tozero", tickformat=",d"),
        xaxis=dict(
            axis_title("Week starting"), tickformat="%d %b %Y", **week_ticks(weekly["week_start"])
        ),
    )
    if int(weekly["count"].sum()) == 0:
        no_data(layout, NO_INCIDENTS)
    return plotly_figure(traces, layout)


@drawing
def mix_figure(mix: pd.DataFrame, dimension: str, title: str, subtitle: str) -> go.Figure:
    """Horizontal bars of a category or channel mix, largest at the top, count and share shown.
    'Other' (values outside the contract) is drawn only when it holds incidents: a projected
    "Other 0 (0%)" says nothing (the table beside the chart still lists it)."""
    empty_other = (mix[dimension] == "other") & (mix["count"] == 0)
    shown = mix[~empty_other].iloc[::-1]
    colours = CATEGORY_COLOURS[dimension]
    text = [
        f"{count:,}" + ("" if pd.isna(share) else f" ({share:.0f}%)")
        for count, share in zip(shown["count"], shown["share_pct"])
    ]
    bars = horizontal_bar(
        shown["count"],
        [label(v) for v in shown[dimension]],
        [colours.get(v, OTHER_GREY) for v in shown[dimension]],
        text,
        "<b>%{y}</b><br>%{x:,.0f} incidents<extra></extra>",
    )
    layout = dict(
        title=figure_title(title, subtitle),
        showlegend=False,
        height=_bar_height(len(shown), base=200),
        margin=dict(r=110, t=120),
        xaxis=_count_axis("Incidents reported"),
        yaxis=dict(showgrid=False),
    )
    if int(mix["count"].sum()) == 0:
        no_data(layout, NO_INCIDENTS)
    return plotly_figure([bars], layout)


@drawing
def response_hours_figure(
    response: pd.DataFrame, subtitle: str, stacked: bool = False
) -> go.Figure:
    """Median hours to acknowledge and to resolve per county, side by side on their own scales
    (resolution takes days, acknowledgement hours), slowest to resolve at the top; `stacked`
    puts one panel over the other, for a phone."""
    shown = response.dropna(
        subset=["median_hours_to_acknowledge", "median_hours_to_resolve"], how="all"
    ).sort_values(
        ["median_hours_to_resolve", "county_name"],
        ascending=[True, False],
        na_position="first",
        kind="stable",
    )
    layout = subplots_layout(
        rows=2 if stacked else 1,
        cols=1 if stacked else 2,
        titles=("To acknowledge", "To resolve"),
        shared_yaxes=not stacked,
        horizontal_spacing=0.06,
        vertical_spacing=0.08,
    )
    traces = []
    for panel, (column, count_column, colour, missing) in enumerate(
        [
            ("median_hours_to_acknowledge", "acknowledged_count", PALETTE[1], "none acknowledged"),
            ("median_hours_to_resolve", "resolved_count", PALETTE[0], "none resolved"),
        ],
        start=1,
    ):
        medians = shown[column]
        texts = [None if pd.isna(v) else f"{v:,.1f} h" for v in medians]
        suffix = "" if panel == 1 else str(panel)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        # A median over a handful of incidents headed the list (Marsabit, 1 incident): it is
        # drawn grey, so that it is not read as a finding.
        few = shown[count_column].fillna(0).astype("int64") < FEW_FOR_A_MEDIAN
        traces.append(
            horizontal_bar(
                medians,
                shown["county_name"],
                [TENTATIVE_GREY if small else colour for small in few],
                texts,
                "<b>%{y}</b><br>Median %{x:,.1f} hours over %{customdata:,} incidents<extra></extra>",
                customdata=shown[count_column],
                **axes,
            )
        )
        # A county without a median has no bar; its row says why rather than stand blank.
        absent = shown["county_name"][medians.isna()]
        if not absent.empty:
            traces.append(
                dict(
                    type="scatter",
                    x=[0] * len(absent),
                    y=values(absent),
                    mode="text",
                    text=[missing] * len(absent),
                    textposition="middle right",
                    textfont=dict(size=16, color="#555"),
                    showlegend=False,
                    hoverinfo="skip",
                    **axes,
                )
            )
        top = float(medians.max()) if medians.notna().any() else 1.0
        # Room after the longest bar for its label (a panel is ~300 px wide on a laptop and
        # ~250 on a phone, where the panels are stacked).
        layout[f"xaxis{suffix}"].update(
            _count_axis("Median hours"),
            range=range_for_labels(top, [t for t in texts if t], plot_px=250),
        )
    layout.update(
        title=figure_title(
            "Median hours to acknowledge and to resolve, by county",
            subtitle
            + "<br>Incidents reported in the period whose time is recorded; grey: a median "
            + f"over fewer than {FEW_FOR_A_MEDIAN} incidents",
        ),
        showlegend=False,
        height=_bar_height(len(shown), base=260) * (2 if stacked else 1),
        margin=dict(r=40 if stacked else 90, t=170, b=110),
    )
    if shown.empty:
        no_data(layout, "No acknowledged or resolved incidents in this selection")
    return plotly_figure(traces, layout)


# Above this share of open incidents over 30 days old, the page says their statuses may be stale.
STALE_OPEN_SHARE = 0.5


def stale_open_note(open_age: pd.DataFrame) -> str | None:
    """A line under the open-incidents chart when most open incidents are over 30 days old:
    an incident still reported, acknowledged or actioned after a month is as likely a status nobody
    updated as a case still being worked, and an official should not read it as a backlog
    without asking. None otherwise."""
    total = int(open_age["count"].sum())
    old = int(open_age.loc[open_age["age_band"] == AGE_BAND_LABELS[-1], "count"].sum())
    if not total or old / total <= STALE_OPEN_SHARE:
        return None
    return (
        f"{old:,} of the {total:,} open incidents ({100 * old / total:.0f}%) were reported over "
        "30 days before the period's end. An open status that old may be one nobody updated "
        "after the case was closed: ask the county before reading it as a backlog."
    )


@drawing
def open_by_age_figure(open_age: pd.DataFrame, subtitle: str, across: bool = False) -> go.Figure:
    """Open incidents by days since reported, stacked by status, with the band total beside
    each bar. `across` lays the bars along the value axis, youngest at the top, for a phone:
    four upright bars in 300 px turn their band names sideways and run their totals together."""
    bands = list(AGE_BAND_LABELS)
    totals = open_age.groupby("age_band")["count"].sum().reindex(bands, fill_value=0)
    texts = [f"{v:,}" for v in totals]
    traces = []
    for status in OPEN_INCIDENT_STATUSES:
        part = values(
            open_age[open_age["status"] == status]
            .set_index("age_band")["count"]
            .reindex(bands, fill_value=0)
        )
        traces.append(
            dict(
                type="bar",
                **(dict(x=part, y=bands, orientation="h") if across else dict(x=bands, y=part)),
                name=label(status),
                marker=dict(color=STATUS_COLOURS[status]),
                hovertemplate=f"<b>{label(status)}</b><br>"
                + ("%{y}: %{x:,.0f}" if across else "%{x}: %{y:,.0f}")
                + " open<extra></extra>",
            )
        )
    total_values = values(totals)
    traces.append(
        dict(
            type="scatter",
            **(dict(x=total_values, y=bands) if across else dict(x=bands, y=total_values)),
            mode="text",
            text=texts,
            textposition="middle right" if across else "top center",
            textfont=dict(size=18),
            showlegend=False,
            hoverinfo="skip",
        )
    )
    top = max(1, int(totals.max()))
    # Headroom for the totals written beyond the bars.
    value_axis = dict(
        axis_title("Open incidents"),
        tickformat=",d",
        # The totals are set larger (18 px) than the labels `range_for_labels` measures.
        range=range_for_labels(top, texts, plot_px=150) if across else [0, top * 1.15],
        **(dict(nticks=3) if across else {}),
    )
    band_axis = dict(axis_title(None if across else "Days since reported"))
    layout = dict(
        barmode="stack",
        title=figure_title("Open incidents by days since reported", subtitle),
        legend=dict(traceorder="normal"),
        margin=dict(t=140),
        yaxis=dict(band_axis, autorange="reversed", showgrid=False) if across else value_axis,
        xaxis=value_axis if across else band_axis,
    )
    if int(totals.sum()) == 0:
        no_data(layout, "No open incidents in this selection")
    return plotly_figure(traces, layout)


def _ward_labels(wards: pd.DataFrame) -> list[str]:
    """'Ward' over '(County)', in two short lines: one long line is cut at a phone's edge."""
    return [f"{w}<br>({c})" for w, c in zip(wards["ward_name"], wards["county_name"])]


def _ward_figure(
    bars: dict,
    shown: pd.DataFrame,
    title: str,
    subtitle: str,
    right_margin: int,
    axis_title_text: str,
    empty_message: str,
) -> go.Figure:
    """The bars of a ranked ward list (`shown`, drawn bottom to top), laid out."""
    layout = dict(
        title=figure_title(title, subtitle),
        showlegend=False,
        height=_bar_height(len(shown), base=260) + 12 * len(shown),  # two-line names
        margin=dict(r=right_margin, t=130),
        xaxis=_count_axis(axis_title_text),
    )
    if shown.empty:
        no_data(layout, empty_message)
    return plotly_figure([bars], layout)


@drawing
def top_wards_figure(wards: pd.DataFrame, subtitle: str) -> go.Figure:
    """The wards with most incidents, most at the top."""
    shown = wards.iloc[::-1]
    bars = horizontal_bar(
        shown["count"],
        _ward_labels(shown),
        PALETTE[0],
        [f"{v:,}" for v in shown["count"]],
        "<b>%{y}</b><br>%{x:,.0f} incidents<extra></extra>",
    )
    return _ward_figure(
        bars,
        shown,
        f"Top {len(wards)} wards by incidents reported",
        subtitle,
        80,
        "Incidents reported",
        "No incidents with a ward in this selection",
    )


@drawing
def ward_increase_figure(
    wards: pd.DataFrame,
    subtitle: str,
    empty_message: str = "No ward had more incidents than in the comparison period",
) -> go.Figure:
    """The wards whose incidents rose most against the comparison period, largest at the top;
    `empty_message` where none is shown."""
    shown = wards.iloc[::-1]
    # The counts, not a percentage: "+600%" on a ward that had 1 incident read as an alarm.
    # Only a rise the Poisson test calls meaningful is coloured; the others are grey.
    text = [
        f"+{count - before:,} ({before:,} → {count:,})"
        for count, before in zip(shown["count"], shown["comparison_count"], strict=True)
    ]
    meaningful = is_meaningful_count_change(shown["count"], shown["comparison_count"])
    bars = horizontal_bar(
        shown["change"],
        _ward_labels(shown),
        [PALETTE[5] if rise else TENTATIVE_GREY for rise in meaningful],
        text,
        "<b>%{y}</b><br>%{customdata[0]:,} incidents, up from %{customdata[1]:,}<extra></extra>",
        customdata=shown[["count", "comparison_count"]].to_numpy(),
    )
    return _ward_figure(
        bars,
        shown,
        f"Top {len(wards)} wards by rise in incidents",
        f"{subtitle}; coloured: a meaningful rise (Poisson test, |z| ≥ 3), grey: within "
        "normal variation",
        150,
        "Rise in incidents",
        empty_message,
    )


@drawing
def compstat_table(compstat: pd.DataFrame) -> pd.DataFrame:
    """The CompStat frame as shown: readable headers, changes rounded to one decimal."""
    shown = pd.DataFrame({"County": compstat["county_name"]})
    for key, name in COMPSTAT_WINDOWS.items():
        shown[name] = compstat[f"{key}_count"]
        shown[f"{name}, a year earlier"] = compstat[f"{key}_last_year_count"]
        shown[f"{name}, change %"] = compstat[f"{key}_change_pct"].round(1)
    return shown


def compstat_places(compstat: pd.DataFrame, wards_chosen: int) -> pd.DataFrame:
    """CompStat's rows as named on screen: with wards chosen a county's counts are theirs
    alone, and its row says so ('Mombasa (2 wards)'). The download keeps the county's name."""
    if not wards_chosen:
        return compstat
    chosen = f" ({wards_chosen} ward{'s' if wards_chosen > 1 else ''})"
    named = compstat["county_name"].where(
        compstat["county_code"].isna(), compstat["county_name"] + chosen
    )
    return compstat.assign(county_name=named)


def compstat_gap_notes(compstat: pd.DataFrame) -> list[str]:
    """Why a place with no incidents in a window, after many a year earlier, shows no change
    there (`compstat_by_county`'s w_reporting_gap): one line a place, windows named."""
    notes = []
    places = compstat[compstat["county_code"].notna()]
    # The total is named only when no county is: with one county chosen it is that county.
    any_county = places[[f"{key}_reporting_gap" for key in COMPSTAT_WINDOWS]].any(axis=None)
    for _, row in (places if any_county else compstat).iterrows():
        windows = [
            (name.lower(), int(row[f"{key}_last_year_count"]))
            for key, name in COMPSTAT_WINDOWS.items()
            if bool(row[f"{key}_reporting_gap"])
        ]
        if windows:
            names = " and ".join(name for name, _ in windows)
            before = " and ".join(f"{n:,}" for _, n in windows)
            notes.append(
                f"{row['county_name']}: no incidents reported in the {names}, against {before} "
                "a year earlier. Its reporting has most likely stopped, so no change is shown."
            )
    return notes


# How many meaningful changes the line under CompStat names before "and N more".
COMPSTAT_MEANINGFUL_NAMED = 8


def compstat_test_note(compstat: pd.DataFrame) -> str | None:
    """Which of CompStat's changes the Poisson test calls meaningful (`w_meaningful`), so that
    a "+200%" on 1 -> 3 is not read as a rise: the total first, then counties by name; None
    when no change is shown at all."""
    places = compstat[compstat["county_code"].notna()]
    # With one county chosen the total is that county: it is named once.
    rows = places if len(places) == 1 else compstat
    named = [
        f"{row['county_name']}, {name.lower()} {_counts_change(row, key)}"
        for _, row in rows.iterrows()
        for key, name in COMPSTAT_WINDOWS.items()
        if bool(row[f"{key}_meaningful"])
    ]
    shown = rows[[f"{key}_change_pct" for key in COMPSTAT_WINDOWS]].notna().any(axis=None)
    if not named and not shown:
        return None
    if not named:
        return (
            "No change % in this table is meaningful: each is within what chance gives at "
            "its counts (Poisson test, |z| ≥ 3)."
        )
    more = len(named) - COMPSTAT_MEANINGFUL_NAMED
    listed = "; ".join(named[:COMPSTAT_MEANINGFUL_NAMED]) + (
        f"; and {more} more" if more > 0 else ""
    )
    return (
        f"Meaningful changes (Poisson test, |z| ≥ 3): {listed}. Every other change % is within "
        "what chance gives at its counts (3 incidents against 1 reads +200%)."
    )


def _counts_change(row: pd.Series, key: str) -> str:
    """'12 → 30 (+150.0%)' for a CompStat window; the % left out where it has none (from 0)."""
    before, now = int(row[f"{key}_last_year_count"]), int(row[f"{key}_count"])
    change = row[f"{key}_change_pct"]
    return f"{before:,} → {now:,}" + ("" if pd.isna(change) else f" ({change:+.1f}%)")


def coordinate_table(status: pd.DataFrame) -> pd.DataFrame:
    """Where each incident of the period went on the map, as a small table (every incident with
    coordinates inside Kenya is drawn: the map counts them in SQL, it does not sample)."""
    counts = dict(zip(status["coordinate_status"], status["count"]))
    rows = [
        ("Drawn on the map", int(counts.get("in_kenya", 0))),
        ("Coordinates outside Kenya (not drawn)", int(counts.get("outside_kenya", 0))),
        ("No coordinates (not drawn)", int(counts.get("missing", 0))),
    ]
    return pd.DataFrame(rows, columns=["Incidents", "count"])


def ward_rise_left_out(wards: pd.DataFrame) -> tuple[str, str | None]:
    """What the ward-rise chart says when it has no ward, and a line under it naming the
    counties whose wards are not ranked: those whose comparison period is not valid for them
    (`incident_counts_by_ward`'s comparable: before the launch or before the county joined)."""
    left_out = wards.loc[~wards["comparable"], "county_name"].drop_duplicates().sort_values()
    if wards.empty or left_out.empty:
        return "No ward had more incidents than in the comparison period", None
    if not wards["comparable"].any():
        return "No ward can be compared with this comparison period", (
            "No ward is ranked by rise: the comparison period is not valid for any county "
            "here (the note under the cards says why)."
        )
    names = ", ".join(left_out.head(5)) + (
        f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
    )
    return "No ward of the other counties had more incidents than in the comparison period", (
        "Wards are ranked by rise only in counties that were in the programme for the whole "
        "comparison period: a county that joined since would rise with the roll-out, and one "
        f"not yet in is not compared. Left out: {names}."
    )
