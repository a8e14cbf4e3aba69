"""Pieces the pages' figures share: a title with its subtitle, horizontal bars labelled past
their ends, their layout, and the dashed line of the selection's overall value."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme

SUBTITLE_FONT = dict(size=15, color="#555")
OVERALL_LINE = dict(color="#444", dash="dash", width=2)
# A bar label's room: the plot area of a half-width chart on a 1366 px laptop is ~320 px wide,
# and a character of the 16 px bar text is at most ~9.5 px wide.
LABEL_PLOT_PX = 320
LABEL_CHAR_PX = 9.5


def range_for_labels(top: float, labels: Any, plot_px: float = LABEL_PLOT_PX) -> list[float]:
    """A value axis [0, end] with room after the longest bar for the longest label, so that
    no label is cut at the chart's edge (the room is a share of the axis, at most 60%)."""
    longest = max((len(str(text)) for text in labels), default=0)
    share = min(longest * LABEL_CHAR_PX / plot_px, 0.6)
    return [0, max(float(top), 1e-9) / (1 - share)]


# Set (to 1) by the test suite: Plotly then checks every figure `plotly_figure` makes.
VALIDATE_FIGURES_ENV = "USALAMA_VALIDATE_FIGURES"


def plotly_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from its spec: the traces and layout as plotly.js reads them, in the house
    template.

    Not validated in the app. Plotly's graph objects check and copy every property as it is
    set, and parse the names of every `update_*` call: the Incidents page's figures cost 0.39 s
    of each new selection built that way at 10M, 0.08 s as specs. Under the tests
    (`VALIDATE_FIGURES_ENV`) every figure is checked, so a misspelt property or a wrong value
    still fails, in CI rather than in a browser that silently ignores it."""
    layout.setdefault("template", theme.template_json())
    if os.environ.get(VALIDATE_FIGURES_ENV) == "1":
        go.Figure({"data": data, "layout": layout})  # raises ValueError naming the property
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def values(column: Any) -> Any:
    """A frame's column or index as the array a spec holds (what Plotly's validation would have
    made of it); lists, scalars and arrays are kept as they are."""
    if isinstance(column, (pd.Series, pd.Index)):
        return column.to_numpy()
    return column


def axis_title(text: str | None) -> dict:
    """An axis's title in the spec's spelling; None: none (the house template sets none)."""
    return {} if text is None else dict(title=dict(text=text))


def no_data(layout: dict, message: str) -> dict:
    """A figure with nothing to draw says so in its middle, its axes hidden (every axis the
    layout names, subplots' included)."""
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


def horizontal_bars(
    x: Any, y: Any, colour: Any, text: Any, hovertemplate: str, **bar: Any
) -> go.Figure:
    """A figure of one `horizontal_bar` trace."""
    return plotly_figure([horizontal_bar(x, y, colour, text, hovertemplate, **bar)], {})


def horizontal_bars_layout(
    fig: go.Figure,
    title: str,
    subtitle: str,
    *,
    margin: dict | None = None,
    **value_axis: Any,
) -> go.Figure:
    """Lay out a horizontal bar chart: the title and subtitle, no legend, the value (x) axis
    with these settings (`title_text`, `range`, ...), and the category (y) axis plain: no title,
    no grid. `margin`, if given, replaces the template's margins it names."""
    layout: dict[str, Any] = dict(title=figure_title(title, subtitle), showlegend=False)
    if margin is not None:
        layout["margin"] = margin
    fig.update_layout(**layout)
    fig.update_xaxes(**value_axis)
    fig.update_yaxes(title_text=None, showgrid=False)
    return fig


def overall_line(
    fig: go.Figure, overall: float | None, decimals: int = 0, cap: float | None = None
) -> str:
    """Draw the selection's overall percentage as a dashed vertical line (at `cap` at most)
    and return the subtitle's note on it; nothing and '' when there is no overall value."""
    if overall is None or pd.isna(overall):
        return ""
    # Under the bars and their labels, so that it never strikes a label through.
    fig.add_vline(x=overall if cap is None else min(overall, cap), line=OVERALL_LINE, layer="below")
    return f"; dashed line: all selected, {overall:.{decimals}f}%"


# Enough week labels to find one's way on a phone's 350 px without crowding.
MOST_WEEK_TICKS = 6


def week_ticks(week_starts: Iterable[Any]) -> dict:
    """x-axis settings putting the ticks on the weeks' own first days (Mondays), every week or
    every few. Plotly's automatic weekly ticks fall on Sundays: "30 May" sat under the week
    starting 31 May, on an axis titled "Week starting"."""
    weeks = sorted(set(pd.to_datetime(pd.Series(list(week_starts))).dt.normalize()))
    step = max(1, math.ceil(len(weeks) / MOST_WEEK_TICKS))
    return dict(tickmode="array", tickvals=weeks[::step])
