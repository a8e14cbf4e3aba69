"""Pieces the pages' figures share. Figures are built as specs, the plain dicts and arrays
plotly.js reads, and wrapped once by `plotly_figure`; these helpers write the parts several
figures have: a title with its subtitle, horizontal bars labelled past their ends and their
layout, the dashed line of the selection's overall value, a grid of panels, "no data"."""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from dashboard import theme

SUBTITLE_FONT = dict(size=15, color="#555")
OVERALL_LINE = dict(color="#444", dash="dash", width=2)
# A bar label's room: the plot area of a half-width chart on a 1366 px laptop is ~320 px wide,
# and a character of the 16 px bar text is at most ~9.5 px wide.
LABEL_PLOT_PX = 320
LABEL_CHAR_PX = 9.5


# On a 390 px phone the plot area beside the longest names is 160-190 px wide.
PHONE_LABEL_PLOT_PX = 160


def range_for_labels(
    top: float, labels: Any, plot_px: float = LABEL_PLOT_PX, most: float = 0.6
) -> list[float]:
    """A value axis [0, end] with room after the longest bar for the longest label, so that
    no label is cut at the chart's edge (the room is a share of the axis, at most `most`)."""
    longest = max((len(str(text)) for text in labels), default=0)
    share = min(longest * LABEL_CHAR_PX / plot_px, most)
    return [0, max(float(top), 1e-9) / (1 - share)]


# Set (to 1) by the test suite: Plotly then checks every spec the app sends (`check_spec`).
VALIDATE_FIGURES_ENV = "USALAMA_VALIDATE_FIGURES"


def plotly_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from its spec: the traces and layout as plotly.js reads them, in the house
    template (set in `layout` itself unless it names one).

    Not validated in the app. Plotly's graph objects check and copy every property as it is
    set, and parse the names of every `update_*` call: the Incidents page's figures cost 0.39 s
    of each new selection built that way at 10M, 0.08 s as specs. Under the tests every spec
    is checked (`check_spec`)."""
    layout.setdefault("template", theme.template_json())
    spec = {"data": data, "layout": layout}
    check_spec(spec)
    return go.Figure(spec, _validate=False)


def check_spec(spec: dict) -> None:
    """Under the tests (`VALIDATE_FIGURES_ENV`): a ValueError unless Plotly's validation accepts
    the spec and gives the browser the same JSON as the spec sent unvalidated.

    Accepting is not enough: validation also expands Plotly's shorthand names at any depth
    (`font_size` inside an axis) and converts values (dates with a time zone), which plotly.js,
    handed the spec as it is, would ignore or read differently. In the app it does nothing."""
    if os.environ.get(VALIDATE_FIGURES_ENV) != "1":
        return
    validated = go.Figure(spec)  # raises ValueError naming a misspelt property or bad value
    as_validated = json.loads(pio.to_json(validated, validate=False))
    as_sent = json.loads(pio.to_json(spec, validate=False))
    # Without a template in the spec, validation adds Plotly's default; the house template is
    # made by Plotly itself (theme.template_json), so it is left out of the comparison.
    for sent in (as_validated, as_sent):
        sent.get("layout", {}).pop("template", None)
    difference = _first_difference(as_validated, as_sent, "")
    if difference is not None:
        raise ValueError(f"the browser would not get what Plotly validates: {difference}")


def _decoded(value: Any) -> Any:
    """A JSON value with Plotly's typed arrays (numbers sent as {"dtype", "bdata"}, as plotly.js
    decodes them) read back into lists."""
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array.tolist()
    return value


def _first_difference(validated: Any, sent: Any, path: str) -> str | None:
    """Where two JSON values first differ, as a path with both values, or None (a typed array
    equals a list of the same numbers, a NaN in one equals a null in the other)."""
    validated, sent = _decoded(validated), _decoded(sent)
    if isinstance(validated, dict) and isinstance(sent, dict):
        for key in sorted(validated.keys() | sent.keys()):
            if key not in sent or key not in validated:
                return f"{path}.{key}: validated {validated.get(key)!r}, sent {sent.get(key)!r}"
            difference = _first_difference(validated[key], sent[key], f"{path}.{key}")
            if difference is not None:
                return difference
        return None
    if isinstance(validated, list) and isinstance(sent, list) and len(validated) == len(sent):
        for index, (one, other) in enumerate(zip(validated, sent)):
            difference = _first_difference(one, other, f"{path}[{index}]")
            if difference is not None:
                return difference
        return None
    if validated == sent or (_missing(validated) and _missing(sent)):
        return None
    return f"{path}: validated {validated!r}, sent {sent!r}"


def _missing(value: Any) -> bool:
    """A gap as plotly.js reads one: null in a list, NaN in a typed array."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def values(column: Any) -> Any:
    """A frame's column or index as the array a spec holds (what Plotly's validation would have
    made of it); lists, scalars and arrays are kept as they are."""
    if isinstance(column, (pd.Series, pd.Index)):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            # Plotly drops the zone (the wall-clock time is what is drawn); the browser, handed
            # the offset, would convert to its own zone.
            column = (
                column.tz_localize(None)
                if isinstance(column, pd.Index)
                else column.dt.tz_localize(None)
            )
        return column.to_numpy()
    return column


def axis_title(text: str | None) -> dict:
    """An axis's title in the spec's spelling; None: none (the house template sets none)."""
    return {} if text is None else dict(title=dict(text=text))


def no_data(layout: dict, message: str) -> dict:
    """A figure with nothing to draw says so in its middle, its axes hidden (every axis the
    layout names, subplots' included); `layout` itself is changed, and returned."""
    layout.setdefault("annotations", []).append(
        dict(
            text=message,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font=dict(size=20, color="#555"),
        )
    )
    for name in {"xaxis", "yaxis", *(n for n in layout if n.startswith(("xaxis", "yaxis")))}:
        layout.setdefault(name, {})["visible"] = False
    return layout


LABEL_HALO = "-2px 0 2px #fff, 2px 0 2px #fff, 0 -2px 2px #fff, 0 2px 2px #fff"


def figure_title(text: str, subtitle: str) -> dict:
    """A layout title with a smaller grey subtitle under it."""
    return dict(text=text, subtitle=dict(text=subtitle, font=SUBTITLE_FONT))


def horizontal_bar(x: Any, y: Any, colour: Any, text: Any, hovertemplate: str, **bar: Any) -> dict:
    """One trace of horizontal bars (its spec), each labelled with its `text` just past its end
    (a label may run into the margin rather than be cut); `bar` holds any other bar settings,
    spelled as the spec spells them (nested dicts, not Plotly's `marker_color` shorthand)."""
    return dict(
        type="bar",
        x=values(x),
        y=values(y),
        orientation="h",
        marker=dict(color=values(colour)),
        text=values(text),
        textposition="outside",
        # A white halo: a reference line (the overall share, the target) crossing a label
        # runs under it instead of cutting "37%" into "3|7%".
        outsidetextfont=dict(shadow=LABEL_HALO),
        cliponaxis=False,
        hovertemplate=hovertemplate,
        **{name: values(value) for name, value in bar.items()},
    )


def subplots_layout(
    rows: int,
    cols: int,
    titles: tuple[str, ...],
    shared_yaxes: bool,
    horizontal_spacing: float,
    vertical_spacing: float,
    title_size: int = 18,
) -> dict:
    """The axes and panel titles of a grid of panels, as `make_subplots` lays them out (its
    panels numbered row by row: x, x2, ...; y, y2, ...), a copy each call. Made once per grid:
    `make_subplots` builds and validates a whole figure to do it."""
    return copy.deepcopy(
        _subplots_layout(
            rows, cols, titles, shared_yaxes, horizontal_spacing, vertical_spacing, title_size
        )
    )


@functools.cache
def _subplots_layout(
    rows: int,
    cols: int,
    titles: tuple[str, ...],
    shared_yaxes: bool,
    horizontal_spacing: float,
    vertical_spacing: float,
    title_size: int,
) -> dict:
    layout = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=shared_yaxes,
        horizontal_spacing=horizontal_spacing,
        vertical_spacing=vertical_spacing,
        subplot_titles=titles,
    ).to_dict()["layout"]
    layout.pop("template", None)
    for title in layout["annotations"]:
        title["font"] = dict(size=title_size)
    return layout


def horizontal_bars_layout(
    title: str,
    subtitle: str,
    *,
    value_title: str,
    margin: dict | None = None,
    shapes: list[dict] | None = None,
    annotations: list[dict] | None = None,
    **value_axis: Any,
) -> dict:
    """The layout of a horizontal bar chart: the title and subtitle, no legend, the value (x)
    axis titled `value_title` with these settings (`range`, `ticksuffix`, ...), and the
    category (y) axis plain: no title, no grid. `margin`, if given, replaces the template's
    margins it names; `shapes` and `annotations` are drawn too (`vertical_line`)."""
    layout: dict[str, Any] = dict(
        title=figure_title(title, subtitle),
        showlegend=False,
        xaxis=dict(axis_title(value_title), **value_axis),
        yaxis=dict(showgrid=False),
    )
    if margin is not None:
        layout["margin"] = margin
    if shapes:
        layout["shapes"] = shapes
    if annotations:
        layout["annotations"] = annotations
    return layout


def vertical_line(
    x: float, line: dict, label: str | None = None, label_size: int = 15
) -> tuple[dict, dict | None]:
    """A vertical line across the plot at `x`, under the bars and their labels (so that it
    never strikes a label through), and its `label` above the plot if any: a shape and an
    annotation, as Plotly's `add_vline` writes them."""
    shape = dict(
        type="line", layer="below", line=line, x0=x, x1=x, xref="x", y0=0, y1=1, yref="y domain"
    )
    if label is None:
        return shape, None
    annotation = dict(
        text=label,
        font=dict(size=label_size),
        showarrow=False,
        x=x,
        xanchor="center",
        xref="x",
        y=1,
        yanchor="bottom",
        yref="y domain",
    )
    return shape, annotation


def overall_line(
    overall: float | None, decimals: int = 0, cap: float | None = None
) -> tuple[list[dict], str]:
    """The selection's overall percentage as a dashed vertical line (at `cap` at most), and the
    subtitle's note on it; no line and '' when there is no overall value."""
    if overall is None or pd.isna(overall):
        return [], ""
    shape, _ = vertical_line(overall if cap is None else min(overall, cap), OVERALL_LINE)
    return [shape], f"; dashed line: all selected, {overall:.{decimals}f}%"


# Enough week labels to find one's way on a phone's 350 px without crowding.
MOST_WEEK_TICKS = 6
# A weekly axis on a phone: "09 Nov" over six weeks did not fit 300 px and Plotly turned every
# date sideways; the day over the month fits upright (layout changes, components.figure).
WEEKS_ON_A_PHONE = {"xaxis": {"tickformat": "%d<br>%b", "tickangle": 0}}


def week_ticks(week_starts: Iterable[Any]) -> dict:
    """x-axis settings putting the ticks on the weeks' own first days (Mondays), every week or
    every few. Plotly's automatic weekly ticks fall on Sundays: "30 May" sat under the week
    starting 31 May, on an axis titled "Week starting"."""
    weeks = sorted(set(pd.to_datetime(pd.Series(list(week_starts))).dt.normalize()))
    step = max(1, math.ceil(len(weeks) / MOST_WEEK_TICKS))
    return dict(tickmode="array", tickvals=weeks[::step])


# At most this many months are named on a phone's month axis: ~50 px each of ~300 px (8 were
# still turned sideways 22 months after launch).
PHONE_MONTH_TICKS = 6


def month_label(month: pd.Timestamp, starred: bool = False) -> str:
    """A month on a chart's axis, in two short lines, starred if the chart says why: on a phone
    "Nov 2026 (partial)" did not fit its bar's width and Plotly turned every month sideways."""
    return f"{month:%b}<br>{month:%Y}" + ("*" if starred else "")


def months_on_a_phone(
    months: list[pd.Timestamp],
    starred: list[bool],
    with_years: bool = True,
    most: int = PHONE_MONTH_TICKS,
) -> dict:
    """The phone's layout of an axis of `month_label`s: each month named alone, with its year
    under the first and under any month whose year differs from the one named before (unless
    not `with_years`: a heatmap's columns are too narrow for "2026", and its subtitle gives
    the period), and only every few months when there are more than `most` (since launch: 19)."""
    step = -(-len(months) // most) or 1
    tickvals, ticktext, year = [], [], None
    for month, star in list(zip(months, starred, strict=True))[::step]:
        tickvals.append(month_label(month, star))
        lines = [f"{month:%b}"]
        if with_years and month.year != year:
            lines.append(f"{month:%Y}")
        if star:
            # On a line of its own: "Nov*" was wider than a heatmap's column.
            lines.append("*")
        ticktext.append("<br>".join(lines))
        year = month.year
    # Upright always: the names are spaced to fit, and a turned one is what this layout is for.
    return {
        "xaxis": {"tickmode": "array", "tickvals": tickvals, "ticktext": ticktext, "tickangle": 0}
    }
