"""Figures and display tables of the Rehabilitation page (suppressed frames in, Plotly out).

A count the privacy rule hides arrives as NaN with a `_suppressed` flag. It is never drawn at
any height: its bar is left out and a grey '<5' label sits at the axis instead, and sorting
uses only the numbers that are shown, so a bar's position reveals nothing either.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.charts.common import (
    axis_title,
    figure_title,
    horizontal_bar,
    month_label,
    months_on_a_phone,
    plotly_figure,
    range_for_labels,
    values,
)
from dashboard.data import drawing
from queries.privacy import (
    SUPPRESSED_PCT,
    flag_column,
    labelled_for_display,
    small_column,
    suppressed_label,
)

REHAB_COLOUR = theme.STREAM_COLOURS["rehab"]
HIDDEN_GREY = "#6E6E6E"
CAPACITY_GREY = "#D9D9D9"
HIDDEN_MEANING = "hidden (privacy rule)"
HIDDEN_HOVER = "Hidden by the privacy rule: a small count, or one that would reveal it"

_LABELS = {
    "other": "Other / unknown",
    "ngao": "NGAO",
    "residents_association": "Residents' association",
    "health_facility": "Health facility",
    "faith_institution": "Faith institution",
    "peer_outreach": "Peer outreach",
    "prescription": "Prescription drugs",
    "multiple": "Several substances",
    "community_based": "Community-based",
    "referred": "Referred",
    "assessed": "Assessed",
    "admitted": "Admitted",
    "completed": "Completed treatment",
    "in_treatment": "Still in treatment",
    "dropped_out": "Dropped out",
    "declined": "Declined at assessment",
}
SEX_COLOURS = {
    "female": "#E69F00",
    "male": "#0072B2",
    "unknown": theme.OTHER_GREY,
    "other": theme.OTHER_GREY,
}
DIMENSION_TITLES = {
    "source": ("Referrals by source", "Source"),
    "substance": ("Referrals by main substance", "Substance"),
    "sex": ("Referrals by sex", "Sex"),
    "age_band": ("Referrals by age band", "Age band"),
}


# On a phone the funnel's long stage names took half its width and cut "310 (100%)" at the edge.
_SHORT_STAGE_LABELS = {
    "completed": "Completed",
    "in_treatment": "In treatment",
    "declined": "Declined",
}


def label(code: str) -> str:
    """A referral source, substance, stage or centre kind as people read it."""
    return _LABELS.get(code, theme.label(code))


def _as_int(values: pd.Series) -> pd.Series:
    """Counts as whole numbers for tables (NaN, i.e. hidden, stays missing)."""
    return pd.to_numeric(values, errors="coerce").round().astype("Int64")


def _small(frame: pd.DataFrame, column: str) -> pd.Series:
    """Which hidden cells are small counts themselves ('<5'); the others were hidden only to
    protect a small one and read 'suppressed'."""
    flag = small_column(column)
    return frame[flag] if flag in frame else pd.Series(True, index=frame.index)


def hidden_text(frame: pd.DataFrame, column: str, threshold: int) -> list[str]:
    """The label of each hidden cell of a column, in row order (shown cells get '')."""
    hidden = frame[flag_column(column)].astype(bool)
    small = _small(frame, column).astype(bool)
    return [
        ("" if not h else suppressed_label(threshold) if sm else SUPPRESSED_PCT)
        for h, sm in zip(hidden, small, strict=True)
    ]


def _hidden_note(frame: pd.DataFrame, column: str, threshold: int) -> str:
    if not frame[f"{column}_suppressed"].any():
        return ""
    return (
        f"; '{suppressed_label(threshold)}' = a count of 1 to {threshold - 1}, 'suppressed' = "
        f"{HIDDEN_MEANING} so that a small count cannot be worked out from it"
    )


def _horizontal_axes(
    value_title: str,
    top: float,
    headroom: float,
    categories: list[str],
    texts: list[str] | None = None,
    plot_px: float = 320,
    **value_axis: object,
) -> dict:
    """The axes of horizontal bars (layout entries): values from 0 to `headroom` times the
    longest drawn bar (`top`, at least 1), or further where the bars' `texts` need room after
    them in a plot area `plot_px` wide, and the categories listed top down in this order."""
    end = max(top, 1.0) * headroom
    if texts:
        end = max(end, range_for_labels(max(top, 1.0), texts, plot_px=plot_px)[1])
    return dict(
        xaxis=dict(axis_title(value_title), range=[0, end], **value_axis),
        yaxis=dict(
            ticksuffix="  ",
            showgrid=False,
            autorange="reversed",
            categoryorder="array",
            categoryarray=categories,
        ),
    )


def _category_colours(dimension: str) -> dict[str, str]:
    if dimension == "sex":
        return SEX_COLOURS
    if dimension in theme.CATEGORY_COLOURS:
        return theme.CATEGORY_COLOURS[dimension]
    return {}


@drawing
def category_figure(
    frame: pd.DataFrame, dimension: str, threshold: int, period_label: str
) -> go.Figure:
    """Horizontal bars of referrals per category; hidden categories carry a '<5' label.

    Sources and substances are sorted by the shown counts (largest on top, hidden ones last);
    sex and age band keep their natural order. Empty 'other' buckets are left out.

    Args:
        frame: a `referrals_by_<dimension>` frame.
        dimension: 'source', 'substance', 'sex' or 'age_band'.
        threshold: the privacy rule's threshold, for the label.
        period_label: the selected period, for the subtitle.
    """
    rows = frame[~((frame[dimension] == "other") & (frame["referrals"] == 0))].copy()
    if dimension in ("source", "substance"):
        rows = rows.sort_values(
            ["referrals_suppressed", "referrals"], ascending=[True, False], kind="stable"
        )
    labels = [label(code) for code in rows[dimension]]
    colours = _category_colours(dimension)
    shown = ~rows["referrals_suppressed"].to_numpy()
    bars = horizontal_bar(
        rows["referrals"].where(shown),
        labels,
        [colours.get(code, REHAB_COLOUR) for code in rows[dimension]],
        [f"{v:,.0f}" if ok else "" for v, ok in zip(rows["referrals"], shown)],
        "%{y}: %{x:,} referrals<extra></extra>",
        showlegend=False,
    )
    texts = hidden_text(rows, "referrals", threshold)
    hidden_labels = _hidden_labels(
        [lab for lab, ok in zip(labels, shown) if not ok],
        [t for t, ok in zip(texts, shown) if not ok],
    )
    title, _ = DIMENSION_TITLES[dimension]
    top = float(rows["referrals"].max()) if shown.any() else 0.0
    layout = dict(
        title=figure_title(title, period_label + _hidden_note(rows, "referrals", threshold)),
        margin=dict(t=110, r=40),
        **_horizontal_axes("Referrals", top, 1.2, labels, rangemode="tozero"),
    )
    return plotly_figure([bars, *hidden_labels], layout)


def _hidden_labels(categories: list[str], text: list[str], vertical: bool = False) -> list[dict]:
    """A grey label ('<5', or 'suppressed' for a cell hidden to protect another) at the axis
    for every hidden bar, in place of the bar: one text trace, or none."""
    if not categories:
        return []
    zeros = [0] * len(categories)
    return [
        dict(
            type="scatter",
            x=categories if vertical else zeros,
            y=zeros if vertical else categories,
            mode="text",
            text=text,
            textposition="top center" if vertical else "middle right",
            textfont=dict(size=18, color=HIDDEN_GREY),
            hovertext=[HIDDEN_HOVER] * len(categories),
            hoverinfo="text",
            showlegend=False,
        )
    ]


@drawing
def category_table(frame: pd.DataFrame, dimension: str, threshold: int) -> pd.DataFrame:
    """The breakdown as shown and downloaded: readable names, whole counts, hidden ones '<5'."""
    return shown_table(
        pd.DataFrame(
            {
                DIMENSION_TITLES[dimension][1]: frame[dimension].map(label),
                "referrals": _as_int(frame["referrals"]),
                "referrals_suppressed": frame["referrals_suppressed"],
                "referrals_small": _small(frame, "referrals"),
            }
        ),
        threshold,
    )


@drawing
def month_figure(frame: pd.DataFrame, threshold: int, period_label: str) -> go.Figure:
    """Vertical bars of referrals per month; partial months are pale, hidden months carry a
    '<5' label at the axis."""
    months = [month_label(pd.Timestamp(m)) for m in frame["month_start"]]
    shown = ~frame["referrals_suppressed"].to_numpy()
    partial = frame["is_partial"].to_numpy()
    traces = []
    for name, mask, opacity in (("Whole month", ~partial, 1.0), ("Part of month", partial, 0.4)):
        if not mask.any():
            continue
        keep = mask & shown
        traces.append(
            dict(
                type="bar",
                x=[m for m, k in zip(months, mask) if k],
                y=values(frame["referrals"].where(keep)[mask]),
                name=name,
                marker=dict(color=REHAB_COLOUR, opacity=opacity),
                text=[
                    f"{v:,.0f}" if ok else "" for v, ok in zip(frame["referrals"][mask], keep[mask])
                ],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x}: %{y:,} referrals (" + name.lower() + ")<extra></extra>",
            )
        )
    texts = hidden_text(frame, "referrals", threshold)
    traces += _hidden_labels(
        [m for m, ok in zip(months, shown) if not ok],
        [t for t, ok in zip(texts, shown) if not ok],
        vertical=True,
    )
    note = period_label + "; pale = month only partly in the period"
    top = float(frame["referrals"].max()) if shown.any() else 0.0
    layout = dict(
        title=figure_title(
            "Referrals by month of referral", note + _hidden_note(frame, "referrals", threshold)
        ),
        barmode="overlay",
        showlegend=bool(partial.any()),
        margin=dict(t=130),
        yaxis=dict(axis_title("Referrals"), range=[0, max(top, 1.0) * 1.2]),
        xaxis=dict(type="category", categoryorder="array", categoryarray=months),
    )
    return plotly_figure(traces, layout)


def months_of_referral_on_a_phone(frame: pd.DataFrame) -> dict:
    """`month_figure`'s month axis on a phone (`months_on_a_phone`; partial months are pale,
    not starred)."""
    months = [pd.Timestamp(m) for m in frame["month_start"]]
    return months_on_a_phone(months, [False] * len(months))


@drawing
def month_table(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    return shown_table(
        pd.DataFrame(
            {
                "Month": [f"{m:%b %Y}" for m in frame["month_start"]],
                "referrals": _as_int(frame["referrals"]),
                "referrals_suppressed": frame["referrals_suppressed"],
                "referrals_small": _small(frame, "referrals"),
                "Whole month in period": ~frame["is_partial"],
            }
        ),
        threshold,
    )


@drawing
def funnel_figure(
    frame: pd.DataFrame, threshold: int, period_label: str, narrow: bool = False
) -> go.Figure:
    """The funnel as horizontal bars, stages (referred → completed) in the rehab colour, then
    the outcomes (still in treatment, dropped out, declined) in grey; each bar reads
    'count (share of referrals)'. `narrow`: for a phone, with shorter stage names."""
    labels = [_SHORT_STAGE_LABELS.get(s, label(s)) if narrow else label(s) for s in frame["stage"]]
    shown = ~frame["referrals_suppressed"].to_numpy()
    colours = [REHAB_COLOUR if kind == "stage" else "#8C8C8C" for kind in frame["kind"]]
    text = [
        (f"{n:,.0f} ({p:.0f}%)" if pd.notna(p) else f"{n:,.0f}") if ok else ""
        for n, p, ok in zip(frame["referrals"], frame["of_referrals_pct"], shown)
    ]
    bars = horizontal_bar(
        frame["referrals"].where(shown),
        labels,
        colours,
        text,
        "%{y}: %{x:,} referrals<extra></extra>",
        showlegend=False,
    )
    texts = hidden_text(frame, "referrals", threshold)
    hidden_labels = _hidden_labels(
        [lab for lab, ok in zip(labels, shown) if not ok],
        [t for t, ok in zip(texts, shown) if not ok],
    )
    top = float(frame["referrals"].max()) if shown.any() else 0.0
    # The plot area's width: ~700 px full width on a laptop, ~220 on a 390 px phone.
    plot_px = 220 if narrow else 700
    layout = dict(
        title=figure_title(
            "How far referrals got",
            period_label
            + "; referrals made in the period, by their status now"
            + _hidden_note(frame, "referrals", threshold),
        ),
        margin=dict(t=110, r=40),
        **_horizontal_axes(
            "Referrals", top, 1.3, labels, texts=text, plot_px=plot_px, nticks=4 if narrow else 0
        ),
    )
    return plotly_figure([bars, *hidden_labels], layout)


@drawing
def funnel_table(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    return shown_table(
        pd.DataFrame(
            {
                "Stage": frame["stage"].map(label),
                "Kind": frame["kind"].map({"stage": "Stage", "outcome": "Outcome"}),
                "referrals": _as_int(frame["referrals"]),
                "referrals_suppressed": frame["referrals_suppressed"],
                "referrals_small": _small(frame, "referrals"),
                "of_referrals_pct": frame["of_referrals_pct"].round(1),
                "of_referrals_pct_suppressed": frame["of_referrals_pct_suppressed"],
            }
        ),
        threshold,
    )


def _median_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Counties with a median that may be shown, longest wait first."""
    shown = frame[
        frame["median_days_to_admission"].notna() & ~frame["median_days_to_admission_suppressed"]
    ]
    return shown.sort_values(
        ["median_days_to_admission", "county_name"], ascending=[False, True], kind="stable"
    )


def median_days_height(frame: pd.DataFrame) -> int:
    return max(300, 200 + 32 * len(_median_rows(frame)))


def hidden_median_counties(frame: pd.DataFrame) -> list[str]:
    """Counties whose median is suppressed (too few admissions), by name."""
    return sorted(frame.loc[frame["median_days_to_admission_suppressed"], "county_name"])


@drawing
def median_days_figure(frame: pd.DataFrame, period_label: str) -> go.Figure:
    """Median days from referral to admission per county, longest wait on top. Counties whose
    median rests on too few admissions are left out (the page lists them)."""
    rows = _median_rows(frame)
    bars = horizontal_bar(
        rows["median_days_to_admission"],
        rows["county_name"],
        REHAB_COLOUR,
        [f"{v:,.1f}".removesuffix(".0") for v in rows["median_days_to_admission"]],
        "%{y}: median %{x:,.1f} days<extra></extra>",
        showlegend=False,
    )
    note = period_label + "; referrals made in the period that were admitted"
    top = float(rows["median_days_to_admission"].max()) if len(rows) else 0.0
    layout = dict(
        title=figure_title("Median days from referral to admission, by county", note),
        margin=dict(t=110, r=40),
        **_horizontal_axes("Median days to admission", top, 1.2, list(rows["county_name"])),
    )
    return plotly_figure([bars], layout)


@drawing
def median_days_table(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    return shown_table(
        pd.DataFrame(
            {
                "County": frame["county_name"],
                "Code": frame["county_code"],
                "median_days_to_admission": frame["median_days_to_admission"].round(1),
                "median_days_to_admission_suppressed": frame["median_days_to_admission_suppressed"],
            }
        ),
        threshold,
    )


@drawing
def centres_figure(frame: pd.DataFrame, end_label: str) -> go.Figure:
    """Places (beds) per kind of centre, each bar labelled with its number of centres."""
    rows = frame[frame["centres"] > 0]
    # "Community-based" on one line is wider than a third of a phone: Plotly turned all three
    # kinds sideways.
    labels = [label(kind).replace("-", "-<br>") for kind in rows["kind"]]
    bars = dict(
        type="bar",
        x=labels,
        y=values(rows["capacity"]),
        marker=dict(color=REHAB_COLOUR),
        text=[
            # Two short lines fit a narrow bar; one long line was shrunk to a speck.
            f"{c:,} places<br>{n:,} centre{'s' if n != 1 else ''}"
            for c, n in zip(rows["capacity"], rows["centres"])
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{x}: %{y:,} places<extra></extra>",
        showlegend=False,
    )
    top = float(rows["capacity"].max()) if len(rows) else 0.0
    layout = dict(
        title=figure_title(
            "Rehabilitation centres: places by kind", f"Centres open by {end_label}"
        ),
        margin=dict(t=110),
        yaxis=dict(axis_title("Places (beds)"), range=[0, max(top, 1.0) * 1.3]),
    )
    return plotly_figure([bars], layout)


def centres_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Kind": frame["kind"].map(label),
            "Centres": frame["centres"],
            "Places (beds)": frame["capacity"],
        }
    )


def _capacity_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["capacity", "county_name"], ascending=[False, True], kind="stable")


def capacity_height(frame: pd.DataFrame) -> int:
    return max(340, 210 + 32 * len(frame))


@drawing
def capacity_figure(
    frame: pd.DataFrame, threshold: int, end_label: str, short: bool = False
) -> go.Figure:
    """Per county, the places in its centres (grey) with the people in treatment there drawn
    over them; hidden admissions read '<5' and have no bar. `short`: labels '78 (8%)' for a
    phone, the subtitle saying what they count."""
    rows = _capacity_rows(frame)
    hidden = rows["current_admissions_suppressed"].to_numpy()
    places = dict(
        type="bar",
        x=values(rows["capacity"]),
        y=values(rows["county_name"]),
        orientation="h",
        name="Places (beds)",
        marker=dict(color=CAPACITY_GREY),
        hovertemplate="%{y}: %{x:,} places<extra></extra>",
    )
    in_treatment = dict(
        type="bar",
        x=values(rows["current_admissions"].where(~hidden)),
        y=values(rows["county_name"]),
        orientation="h",
        name="In treatment now",
        marker=dict(color=REHAB_COLOUR),
        width=0.5,
        hovertemplate="%{y}: %{x:,} in treatment<extra></extra>",
    )
    hidden_labels = hidden_text(rows, "current_admissions", threshold)
    labels = [
        hidden_label
        if h
        else (f"{n:,.0f}" + ("" if short else " in treatment"))
        + (f" ({p:.0f}%)" if pd.notna(p) else "")
        for n, p, h, hidden_label in zip(
            rows["current_admissions"], rows["occupancy_pct"], hidden, hidden_labels
        )
    ]
    ends = pd.concat(
        [rows["capacity"].astype("float64"), rows["current_admissions"].fillna(0.0)], axis=1
    ).max(axis=1)
    label_trace = dict(
        type="scatter",
        x=values(ends),
        y=values(rows["county_name"]),
        mode="text",
        text=labels,
        textposition="middle right",
        textfont=dict(size=15, color="#333"),
        hoverinfo="skip",
        showlegend=False,
    )
    note = (
        f"Grey: places; pink: in treatment now (status 'admitted' today, admitted by "
        f"{end_label}), at centres in each county"
    )
    note += "; labels: people in treatment (% of places)"
    if hidden.any():
        note += f"; '{suppressed_label(threshold)}' and 'suppressed' = hidden by the privacy rule"
    top = float(ends.max()) if len(ends) else 0.0
    layout = dict(
        barmode="overlay",
        title=figure_title("People in treatment vs places, by county", note),
        showlegend=False,
        margin=dict(t=110, r=40),
        **_horizontal_axes(
            "People / places",
            top,
            1.45,
            list(rows["county_name"]),
            texts=labels,
            plot_px=150 if short else 700,
        ),
    )
    return plotly_figure([places, in_treatment, label_trace], layout)


@drawing
def capacity_table(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    rows = _capacity_rows(frame)
    return shown_table(
        pd.DataFrame(
            {
                "County": rows["county_name"],
                "Code": rows["county_code"],
                "Centres": rows["centres"],
                "Places (beds)": rows["capacity"],
                "current_admissions": _as_int(rows["current_admissions"]),
                "current_admissions_suppressed": rows["current_admissions_suppressed"],
                "current_admissions_small": _small(rows, "current_admissions"),
                "occupancy_pct": rows["occupancy_pct"].round(1),
                "occupancy_pct_suppressed": rows["occupancy_pct_suppressed"],
            }
        ),
        threshold,
    )


# Display names for the snake_case columns once `labelled_for_display` has labelled them.
DISPLAY_NAMES = {
    "referrals": "Referrals",
    "of_referrals_pct": "% of referrals",
    "median_days_to_admission": "Median days to admission",
    "current_admissions": "In treatment now",
    "occupancy_pct": "% of places used",
}


@drawing
def shown_table(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """A table exactly as the page shows and downloads it: hidden cells labelled '<5' or
    'suppressed' (by `labelled_for_display`, which knows counts from ratios by their
    snake_case names), then readable column names. A column mixing labels and numbers becomes
    text throughout (Arrow cannot hold both); a missing value reads as empty."""
    shown = labelled_for_display(table, threshold)
    for column in shown.columns:
        values = shown[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, str)).any():
            shown[column] = values.map(_cell_text).astype("str")
    return shown.rename(columns=DISPLAY_NAMES)


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return str(value)
