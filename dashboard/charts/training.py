"""Figures and display tables of the Training page (frames in, Plotly out)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting, theme
from dashboard.charts.common import (
    horizontal_bar,
    horizontal_bars_layout,
    overall_line,
    plotly_figure,
    range_for_labels,
    vertical_line,
)
from dashboard.data import drawing
from queries.filters import PROGRAMME_LAUNCH
from queries.indicators import INDICATOR_BY_KEY
from queries.privacy import SUPPRESSED_PCT, suppressed_label

_LABELS = {
    "gbv_response": "GBV response",
    "ngao": "NGAO",
    "other": "Other (unknown)",
}
_DIMENSION_TITLES = {"audience": "audience", "topic": "topic"}


def label(code: str) -> str:
    """A training audience or topic as people read it."""
    return _LABELS.get(code, theme.label(code))


@drawing
def trained_by_figure(frame: pd.DataFrame, dimension: str, period_label: str) -> go.Figure:
    """Horizontal bars of people trained per audience or topic, largest at the top, each
    category in its fixed colour.

    Args:
        frame: `people_trained_by_audience` or `people_trained_by_topic` rows.
        dimension: 'audience' or 'topic'.
        period_label: the selected period, for the subtitle.
    """
    colours = theme.colours_for(dimension)
    shown = frame.sort_values("people_trained", kind="stable")
    texts = [f"{n:,}" for n in shown["people_trained"]]
    bars = horizontal_bar(
        shown["people_trained"],
        [label(code) for code in shown[dimension]],
        [colours.get(code, theme.OTHER_GREY) for code in shown[dimension]],
        texts,
        "%{y}: %{x:,} people in %{customdata:,} sessions<extra></extra>",
        customdata=shown["sessions_count"],
    )
    top = float(shown["people_trained"].max()) if len(shown) else 0.0
    layout = horizontal_bars_layout(
        f"People trained by {_DIMENSION_TITLES[dimension]}",
        f"{period_label}; summed participants",
        value_title="People trained",
        # About 200 px of plot area beside long topic names in a half-width chart, and 150 on
        # a 390 px phone, where 200 cut "2,265" at the screen's edge.
        range=range_for_labels(max(top, 1.0), texts, plot_px=150),
        separatethousands=True,
    )
    return plotly_figure([bars], layout)


def trained_by_table(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            dimension.capitalize(): frame[dimension].map(label),
            "Sessions": frame["sessions_count"],
            "People trained": frame["people_trained"],
            "Female %": frame["female_pct"].round(1),
            "Youth %": frame["youth_pct"].round(1),
            "Certified %": frame["certified_pct"].round(1),
        }
    )


def _coverage_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Counties worth a bar: some officers trained or registered."""
    registered = frame["officers_registered_count"].fillna(0)
    return frame[(frame["officers_trained_count"] > 0) | (registered > 0)]


def coverage_height(frame: pd.DataFrame) -> int:
    return max(280, 210 + 32 * len(_coverage_rows(frame)))


# Coverage can pass 100% (officers attend several sessions, or a firm registers few officers);
# one such county must not squash every other bar, so the axis stops here and longer bars are
# cut, their label still giving the true value.
COVERAGE_AXIS_CAP = 150.0


@drawing
def coverage_figure(
    frame: pd.DataFrame, end: dt.date, overall_pct: float | None, short: bool = False
) -> go.Figure:
    """Horizontal bars of private-security training coverage (%) per county, labelled with
    the officers trained and registered; counties without a partner firm are listed at the
    bottom without a bar.

    Args:
        frame: `private_security_coverage_by_county` rows.
        end: the end of the selected period.
        overall_pct: the selection's coverage (the headline value), drawn as a dashed line.
        short: labels with the percentage only, for a phone (the table has the counts).
    """
    shown = _coverage_rows(frame).sort_values(
        ["coverage_pct", "officers_trained_count"], kind="stable", na_position="first"
    )
    coverage = shown["coverage_pct"].astype("float64")
    top = float(coverage.max()) if coverage.notna().any() else 10.0
    labels = [
        ("no firm" if short else f"{trained:,} trained, no partner firm")
        if pd.isna(pct)
        else (f"{pct:.0f}%" if short else f"{pct:.1f}% ({trained:,} of {int(registered):,})")
        for pct, trained, registered in zip(
            coverage,
            shown["officers_trained_count"],
            shown["officers_registered_count"],
            strict=True,
        )
    ]
    bars = horizontal_bar(
        coverage.clip(upper=COVERAGE_AXIS_CAP).fillna(0.0),
        shown["county_name"],
        theme.CATEGORY_COLOURS["audience"]["private_security"],
        labels,
        "%{y}: %{customdata:.1f}% of officers at partner firms<extra></extra>",
        customdata=coverage,
    )
    overall_shapes, overall_text = overall_line(overall_pct, decimals=1, cap=COVERAGE_AXIS_CAP)
    # The room right of the cap holds labels only: a tick there (200%, 350%) would read as a
    # scale that a cut bar does not reach, so the ticks stop at the cap, which says it cuts.
    ticks: dict = {"ticksuffix": "%"}
    if top > COVERAGE_AXIS_CAP:
        steps = [0.0, 50.0, 100.0, COVERAGE_AXIS_CAP]
        ticks = {
            "tickvals": steps,
            "ticktext": [f"{v:.0f}%" for v in steps[:-1]] + [f"{COVERAGE_AXIS_CAP:.0f}%+"],
        }
    layout = horizontal_bars_layout(
        "Private security officers trained (% of officers at partner firms)",
        f"Trained {PROGRAMME_LAUNCH:%d %b %Y} – {end:%d %b %Y}; firms partnered by "
        f"{end:%d %b %Y}" + overall_text,
        margin=dict(t=120, r=40),
        shapes=overall_shapes,
        value_title="% of officers trained"
        if short
        else "Officers trained (% of officers at partner firms)",
        **ticks,
        range=range_for_labels(
            min(max(top, 10.0), COVERAGE_AXIS_CAP), labels, plot_px=170 if short else 320
        ),
    )
    return plotly_figure([bars], layout)


@drawing
def coverage_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "County": frame["county_name"],
            "Code": frame["county_code"],
            "Officers trained since launch": frame["officers_trained_count"],
            "Partner firms": frame["partner_firms_count"],
            "Officers at partner firms": frame["officers_registered_count"],
            "Coverage %": frame["coverage_pct"].round(1),
        }
    )


def target_periods(frame: pd.DataFrame, indicator: str) -> list[tuple[dt.date, dt.date]]:
    """The target periods of one indicator, latest first."""
    rows = frame[frame["indicator"] == indicator]
    pairs = {(s, e) for s, e in zip(rows["period_start"], rows["period_end"])}
    return sorted(pairs, reverse=True)


def period_text(start: dt.date, end: dt.date) -> str:
    """'FY 2025/26' for a Kenyan financial year, else '1 Jul 2025 – 31 Dec 2025'."""
    if start.month == 7 and start.day == 1 and end == dt.date(start.year + 1, 6, 30):
        return f"FY {start.year}/{(start.year + 1) % 100:02d}"
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


def _is_flow(indicator: str) -> bool:
    spec = INDICATOR_BY_KEY.get(indicator)
    return spec is not None and spec.kind in ("count", "sum") and indicator != "ras_active"


def target_rows(frame: pd.DataFrame, indicator: str, start: dt.date) -> pd.DataFrame:
    """One indicator's targets for the target period starting on `start`."""
    rows = frame[(frame["indicator"] == indicator) & (frame["period_start"] == start)]
    return rows.sort_values("county_name", kind="stable")


def target_caption(rows: pd.DataFrame, threshold: int) -> str:
    """What the target chart compares, in words."""
    first = rows.iloc[0]
    start, end, to = first["period_start"], first["period_end"], first["actual_to"]
    spec = INDICATOR_BY_KEY.get(first["indicator"])
    name = spec.label if spec else first["indicator"]
    text = (
        f"Each bar is the actual {name.lower()} over the target's own period, "
        f"{start:%d %b %Y} to {to:%d %b %Y}, as a percentage of the county's target for "
        f"{period_text(start, end)} ({start:%d %b %Y} – {end:%d %b %Y}). The selected period "
        "only decides which targets are shown; the actual is computed with the same "
        "definition as the headline indicator."
    )
    if to < end:
        elapsed = float(first["period_elapsed_pct"])
        text += f" The target period is not over: {elapsed:.0f}% of it had passed by {to:%d %b %Y}"
        text += (
            ", marked by the dotted line, which a county on pace for its target reaches."
            if _is_flow(first["indicator"])
            else "."
        )
    if rows["actual_suppressed"].any():
        text += (
            f" Counties whose actual is hidden by the privacy rule (1–{threshold - 1}, or a "
            "secondary suppression) have no bar."
        )
    return text


@drawing
def target_figure(rows: pd.DataFrame, short: bool = False) -> go.Figure:
    """Horizontal bars: actual as % of target per county, a solid line at 100% and, for
    flows whose period is still running, a dotted line at the share of the period elapsed.
    `short`: labels with the percentage only, for a phone (the table has actual and target)."""
    first = rows.iloc[0]
    key = first["indicator"]
    spec = INDICATOR_BY_KEY.get(key)
    stream = spec.stream if spec else "training"
    shown = rows.sort_values("achieved_pct", kind="stable", na_position="first")
    visible = shown[~shown["actual_suppressed"].astype(bool)]

    def value_text(value: float) -> str:
        if spec is None:
            return formatting.number(value, 1)
        return formatting.indicator_value(spec, value, False, 5).removesuffix(" " + spec.unit)

    texts = [
        "hidden"
        if hidden
        else (
            ("" if pd.isna(pct) else f"{pct:.0f}%")
            if short
            else f"{value_text(actual)} of {value_text(target)}"
            + ("" if pd.isna(pct) else f" ({pct:.0f}%)")
        )
        for actual, target, pct, hidden in zip(
            shown["actual"], shown["target"], shown["achieved_pct"], shown["actual_suppressed"]
        )
    ]
    bars = horizontal_bar(
        shown["achieved_pct"].where(~shown["actual_suppressed"].astype(bool)),
        shown["county_name"],
        theme.STREAM_COLOURS.get(stream, theme.BRAND_GREEN),
        texts,
        "%{y}: %{x:.1f}% of target<extra></extra>",
    )
    target_line, target_label = vertical_line(100, dict(color="#1A1A1A", width=2), label="Target")
    shapes, annotations = [target_line], [target_label]
    elapsed = float(first["period_elapsed_pct"])
    elapsed_note = ""
    if _is_flow(key) and first["actual_to"] < first["period_end"]:
        # On a phone the two lines are too close for two notes: the subtitle names this one.
        pace_line, pace_label = vertical_line(
            elapsed,
            dict(color="#444", dash="dot", width=2),
            label=None if short else f"{elapsed:.0f}% of period elapsed",
        )
        shapes.append(pace_line)
        if pace_label is not None:
            annotations.append(pace_label)
        if short:
            elapsed_note = f"; dotted line: {elapsed:.0f}% of the period elapsed"
    name = spec.label if spec else key
    top = float(visible["achieved_pct"].max()) if visible["achieved_pct"].notna().any() else 100
    layout = horizontal_bars_layout(
        f"{name}: actual as % of target, by county",
        f"Target period {period_text(first['period_start'], first['period_end'])}; "
        f"actual {first['period_start']:%d %b %Y} – {first['actual_to']:%d %b %Y}" + elapsed_note,
        margin=dict(r=60, t=130),
        shapes=shapes,
        annotations=annotations,
        value_title="Actual as % of target",
        ticksuffix="%",
        # A full-width chart: about 700 px of plot area on a laptop.
        range=range_for_labels(max(top, 100.0), texts, plot_px=170 if short else 700),
    )
    return plotly_figure([bars], layout)


def target_height(rows: pd.DataFrame) -> int:
    return max(280, 230 + 30 * len(rows))


def _plain(value: float, decimals: int) -> str:
    """A number as plain text for a mixed text column: '1921', '64.46'; '' when missing."""
    if pd.isna(value):
        return ""
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


@drawing
def targets_table(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Every target shown, with its actual; cells hidden by the privacy rule read '<5' and
    'suppressed' (in the CSV too). Those two columns are text throughout, since a column mixing
    numbers and '<5' cannot be typed."""
    actual = [
        suppressed_label(threshold) if hidden else _plain(value, 2)
        for value, hidden in zip(frame["actual"], frame["actual_suppressed"], strict=True)
    ]
    achieved = [
        SUPPRESSED_PCT if hidden else _plain(value, 1)
        for value, hidden in zip(
            frame["achieved_pct"], frame["achieved_pct_suppressed"], strict=True
        )
    ]
    return pd.DataFrame(
        {
            "County": frame["county_name"],
            "Code": frame["county_code"],
            "Indicator": frame["indicator_label"],
            "Target from": frame["period_start"],
            "Target to": frame["period_end"],
            "Actual to": frame["actual_to"],
            "Period elapsed %": frame["period_elapsed_pct"].round(1),
            "Actual": actual,
            "Target": frame["target"],
            "Achieved % of target": achieved,
        }
    )
