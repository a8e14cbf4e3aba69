"""Gather a briefing's figures from the query layer, privacy rule applied, and write its sentences.

It reads only the query layer's public functions (`headline`, `county_league`,
`streams_by_week`, `referrals_by_month`, `target_achievement_by_county`), so
every number on a slide is the number the dashboard's pages show for the same selection.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
from sqlalchemy import Engine

from queries.briefing.model import (
    Briefing,
    Cell,
    Chart,
    Figure,
    IndicatorRow,
    Series,
    Slide,
    Table,
)
from queries.briefing.sentences import (
    change_text,
    comparison_label,
    county_change_sentence,
    direction,
    figure_sentence,
    number_text,
    reporting_gap_sentence,
)
from queries.filters import Filters, comparison_period, comparison_problem
from queries.indicators import (
    INDICATOR_BY_KEY,
    PROGRAMME_HEADLINE_KEYS,
    county_league,
    headline,
    indicators_frame,
    source_tables,
)
from queries.privacy import SUPPRESSED_PCT, flag_column, suppressed_label
from queries.reference import county_list, data_as_of, with_as_of
from queries.rehab import referrals_by_month
from queries.significance import POISSON_TEST, SHARE_TEST
from queries.targets import target_achievement_by_county, target_period_shown
from queries.trends import streams_by_week

INCIDENT_KEYS = (
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_7d_pct",
    "open_incidents",
)
RA_KEYS = (
    "ras_registered",
    "ras_active",
    "ra_reporting_rate",
    "ra_on_time_rate",
    "forums_held",
    "joint_forum_pct",
)
TRAINING_KEYS = (
    "people_trained",
    "trained_female_pct",
    "trained_youth_pct",
    "trained_certified_pct",
    "private_security_coverage_pct",
)
# Six figures fill a slide's row of cards. Treatment completion "as it stands now" is left to
# the Rehabilitation page: on a recent period it reads near 0% (only early drop-outs have
# finished yet), a figure a room would take for a finding; its like-for-like share is here.
REHAB_KEYS = (
    "rehab_referrals",
    "referral_admission_30d_pct",
    "referral_admission_pct",
    "median_days_to_admission",
    "referral_completion_90d_pct",
    "referral_youth_pct",
)
COUNTY_KEYS = (
    "incidents_reported",
    "incidents_resolved_7d_pct",
    "ras_active",
    "forums_held",
    "people_trained",
    "rehab_referrals",
)
# Targets of these indicators are shown on the training slide.
TRAINING_TARGET_KEYS = ("people_trained", "private_security_coverage_pct")
# More county slides than this would not be a briefing: the rest are in the workbook's tables.
MAX_COUNTY_SLIDES = 12
# Counties named on the incidents slide for their meaningful change.
TOP_CHANGES = 5
# Counties shown in the targets chart (the table has every one).
TARGET_CHART_COUNTIES = 12
CONTRACT = "Usalama Mitaani reporting database (data contract v1.1)"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _number(value: object) -> float | None:
    return None if _missing(value) else float(value)  # type: ignore[arg-type]


def value_text(kind: str, unit: str, value: float | None, label: str | None) -> str:
    """A figure's value as a slide shows it: its privacy label, 'No data', or the number."""
    if label is not None:
        return "Suppressed" if label == SUPPRESSED_PCT else label
    if value is None:
        return "No data"
    if kind == "rate":
        return f"{value:,.1f}"
    return number_text(value, kind, unit)


def hidden_label(kind: str, small: bool, threshold: int) -> str:
    """'<5' for a count hidden for being small, 'suppressed' for anything else hidden."""
    return suppressed_label(threshold) if kind == "count" and small else SUPPRESSED_PCT


def figure_from_row(
    row: pd.Series, threshold: int, hidden: bool | None = None, hide_change: bool = False
) -> Figure:
    """A figure from one row of `headline`.

    Args:
        hidden: hide it whatever the row says (a county slide hides what the county-by-county
            protection hides); None: the row's own `suppressed` flag.
        hide_change: show the value but no change (the county's comparison-period value is
            hidden by the county-by-county protection, and value minus change would give it).
    """
    indicator = INDICATOR_BY_KEY[str(row["indicator"])]
    is_hidden = bool(row["suppressed"]) if hidden is None else hidden or bool(row["suppressed"])
    label = hidden_label(indicator.kind, bool(row["small"]), threshold) if is_hidden else None
    value = None if is_hidden else _number(row["value"])
    change = None if is_hidden or hide_change else _number(row["change"])
    change_pct = None if change is None else _number(row["change_pct"])
    comparison = None if change is None else _number(row["comparison_value"])
    note = None if _missing(row["note"]) else str(row["note"])
    note_short = None if _missing(row.get("note_short")) else str(row["note_short"])
    test = None if _missing(row["test"]) or change is None else str(row["test"])
    return Figure(
        key=indicator.key,
        label=indicator.label,
        unit=indicator.unit,
        kind=indicator.kind,
        value=value,
        text=value_text(indicator.kind, indicator.unit, value, label),
        hidden=is_hidden,
        hidden_label=label,
        comparison=comparison,
        change=change,
        change_pct=change_pct,
        change_text=change_text(indicator.kind, change, change_pct),
        direction=direction(change),
        meaningful=bool(row["meaningful"]) and change is not None and test is not None,
        test=test,
        note=note,
        note_short=note_short,
    )


def _by_key(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {str(row["indicator"]): row for _, row in frame.iterrows()}


def place_text(codes: Sequence[str] | None, names: dict[str, str]) -> str:
    """'all counties', 'Nakuru', 'Nakuru and Mombasa', 'Kilifi, Kwale and Mombasa', '5 counties'."""
    if not codes:
        return "all counties"
    shown = [names.get(code, code) for code in codes]
    if len(shown) == 1:
        return shown[0]
    if len(shown) <= 3:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"{len(shown)} counties"


def _source(keys: Sequence[str], as_of: dt.date) -> str:
    tables = sorted({t for key in keys for t in source_tables(key)})
    return f"Source: {CONTRACT}; tables {', '.join(tables)}. Data as of {as_of:%d %b %Y}."


def _week_chart(
    weekly: pd.DataFrame, stream: str, title: str, unit: str
) -> tuple[Chart, list[list[Cell]]]:
    """A weekly line of one stream: whole weeks only when there are any (a partial week is not
    comparable with the others), with the rows of the table behind it."""
    part = weekly[weekly["stream"] == stream]
    whole = part[~part["is_partial"]]
    note = "Weeks start on Monday; partial weeks at either end are left out."
    if whole.empty:
        whole, note = part, "Weeks start on Monday; every week here is partial."
    categories = [f"{day:%d %b}" for day in whole["week_start"]]
    values = [_number(v) for v in whole["value"]]
    rows: list[list[Cell]] = [
        [f"{day:%Y-%m-%d}", value, bool(partial)]
        for day, value, partial in zip(
            whole["week_start"], values, whole["is_partial"], strict=True
        )
    ]
    return Chart(title, "line", categories, [Series(title, values)], unit, note), rows


def _figure_sentences(
    figures: dict[str, Figure],
    keys: Sequence[str],
    place: str,
    against: str,
    said: str | None = None,
) -> list[str]:
    """A sentence a figure; a note already said under the slide (`said`: why the selection
    has no comparison) is not repeated in each."""
    return [
        figure_sentence(
            replace(figures[key], note=None) if figures[key].note == said else figures[key],
            place,
            against,
        )
        for key in keys
        if key in figures
    ]


def _incident_changes(league: pd.DataFrame, against: str) -> tuple[list[str], Chart | None, Table]:
    """The counties with the largest meaningful changes in incidents, and every county's."""
    league = league.copy()
    league["abs_z"] = pd.to_numeric(league["incidents_z"], errors="coerce").abs()
    meaningful = league[league["incidents_meaningful"].astype(bool)]
    top = meaningful.sort_values("abs_z", ascending=False).head(TOP_CHANGES)
    # A county that went silent first: its fall to no incidents is a stop in reporting, and
    # the one thing on this slide an official must act on.
    silent = league[league["reporting_gap"].astype(bool)].sort_values("county_name")
    sentences = [
        reporting_gap_sentence(str(row["county_name"]), float(row["incidents_previous"]), against)
        for _, row in silent.iterrows()
    ]
    sentences += [
        county_change_sentence(
            str(row["county_name"]),
            float(row["incidents_reported"]),
            float(row["incidents_previous"]),
            _number(row["incidents_change_pct"]),
            against,
        )
        for _, row in top.iterrows()
    ]
    chart = None
    if len(top):
        chart = Chart(
            "Largest meaningful changes, by county",
            "bar",
            [str(n) for n in top["county_name"]],
            [
                Series("This period", [float(v) for v in top["incidents_reported"]]),
                Series("Comparison period", [float(v) for v in top["incidents_previous"]]),
            ],
            "incidents",
        )
    rows: list[list[Cell]] = [
        [
            str(row["county_code"]),
            str(row["county_name"]),
            int(row["incidents_reported"]),
            None
            if row["comparison_note"] is not None and not _missing(row["comparison_note"])
            else _number(row["incidents_previous"]),
            _number(row["incidents_change_pct"]),
            _number(row["incidents_z"]),
            bool(row["incidents_meaningful"]),
            None if _missing(row["comparison_note"]) else str(row["comparison_note"]),
        ]
        for _, row in league.sort_values("county_name").iterrows()
    ]
    table = Table(
        "Incidents by county",
        [
            "county_code",
            "county_name",
            "incidents_reported",
            "incidents_previous",
            "incidents_change_pct",
            "incidents_z",
            "meaningful",
            "comparison_note",
        ],
        rows,
    )
    return sentences, chart, table


def _training_targets(
    targets: pd.DataFrame, filters: Filters, place: str, threshold: int
) -> tuple[list[str], Chart | None, Table]:
    """People trained against the counties' targets, and the table of every training target."""
    frame = targets[targets["indicator"].isin(TRAINING_TARGET_KEYS)].copy()
    columns = [
        "county_code",
        "county_name",
        "indicator",
        "period_start",
        "period_end",
        "actual_to",
        "period_elapsed_pct",
        "actual",
        "target",
        "achieved_pct",
    ]
    rows: list[list[Cell]] = []
    for _, row in frame.iterrows():
        hidden = bool(row["actual_suppressed"])
        label = suppressed_label(threshold) if hidden else None
        rows.append(
            [
                str(row["county_code"]),
                str(row["county_name"]),
                str(row["indicator"]),
                f"{row['period_start']:%Y-%m-%d}",
                f"{row['period_end']:%Y-%m-%d}",
                f"{row['actual_to']:%Y-%m-%d}",
                _number(row["period_elapsed_pct"]),
                label or _number(row["actual"]),
                _number(row["target"]),
                SUPPRESSED_PCT if hidden else _number(row["achieved_pct"]),
            ]
        )
    table = Table("Training targets", columns, rows)
    people = frame[(frame["indicator"] == "people_trained") & frame["actual"].notna()]
    if people.empty:
        return ["No training targets cover this period for " + place + "."], None, table
    period = target_period_shown(people, filters)
    same = people[(people["period_start"] == period[0]) & (people["period_end"] == period[1])]
    actual, target = float(same["actual"].sum()), float(same["target"].sum())
    elapsed = float(same["period_elapsed_pct"].iloc[0])
    achieved = 100.0 * actual / target if target > 0 else None
    to = same["actual_to"].iloc[0]
    sentence = (
        f"People trained in {place} from {period[0]:%d %b %Y} to {to:%d %b %Y}: {actual:,.0f} "
        f"against a target of {target:,.0f} for {period[0]:%d %b %Y} – {period[1]:%d %b %Y}"
        + (f" ({achieved:.0f}% achieved" if achieved is not None else " (")
        + f" with {elapsed:.0f}% of the target period elapsed)."
    )
    shown = same.sort_values("target", ascending=False).head(TARGET_CHART_COUNTIES)
    chart = Chart(
        f"People trained against target, {period[0]:%b %Y} – {period[1]:%b %Y}",
        "bar",
        [str(n) for n in shown["county_name"]],
        [
            Series("Trained so far", [float(v) for v in shown["actual"]]),
            Series("Target", [float(v) for v in shown["target"]]),
        ],
        "people",
        None
        if len(same) <= TARGET_CHART_COUNTIES
        else f"The {TARGET_CHART_COUNTIES} counties with the largest targets; the table has all.",
    )
    return [sentence], chart, table


def _rehab_by_month(monthly: pd.DataFrame, threshold: int) -> tuple[Chart, Table]:
    values = [
        None if bool(h) else _number(v)
        for v, h in zip(monthly["referrals"], monthly["referrals_suppressed"], strict=True)
    ]
    small = monthly.get("referrals_small", monthly["referrals_suppressed"])
    chart = Chart(
        "Rehabilitation referrals by month",
        "column",
        [f"{m:%b %Y}" for m in monthly["month_start"]],
        [Series("Referrals", values)],
        "referrals",
        "Months cut by the period are partial. A hidden month is left blank."
        if any(v is not None for v in values)
        else "Every month here is hidden under the privacy rule.",
    )
    rows: list[list[Cell]] = [
        [
            f"{m:%Y-%m}",
            (suppressed_label(threshold) if bool(s) else SUPPRESSED_PCT) if v is None else v,
            bool(p),
        ]
        for m, v, s, p in zip(
            monthly["month_start"], values, small, monthly["is_partial"], strict=True
        )
    ]
    return chart, Table("Rehab referrals by month", ["month", "referrals", "is_partial"], rows)


def _indicator_rows(head: pd.DataFrame, threshold: int) -> list[IndicatorRow]:
    """The workbook's first sheet: every contract indicator, unrounded, hidden ones labelled."""
    rows = []
    for _, row in head.iterrows():
        figure = figure_from_row(row, threshold)
        compared = bool(row["like_for_like"]) and _missing(row["comparison_note"])
        comparison: float | str | None = _number(row["comparison_value"])
        if bool(row["comparison_suppressed"]) and compared:
            comparison = SUPPRESSED_PCT
        rows.append(
            IndicatorRow(
                key=figure.key,
                label=figure.label,
                value=figure.hidden_label if figure.hidden else figure.value,
                comparison=comparison,
                change=figure.change,
                unit=figure.unit,
            )
        )
    return rows


def _county_protection(engine: Engine, filters: Filters, threshold: int) -> dict[str, set[str]]:
    """County code -> the rehab keys of COUNTY_KEYS the county-by-county protection hides."""
    frame = indicators_frame(engine, filters, threshold, "county", streams=("rehab",))
    keys = [k for k in COUNTY_KEYS if flag_column(k) in frame.columns]
    return {
        str(row["county_code"]): {k for k in keys if bool(row[flag_column(k)])}
        for _, row in frame.iterrows()
    }


def _county_slide(
    engine: Engine,
    filters: Filters,
    threshold: int,
    code: str,
    name: str,
    hidden_here: set[str],
    hidden_before: set[str],
    against: str,
) -> Slide:
    county_filters = replace(filters, counties=(code,), wards=())
    head = _by_key(headline(engine, county_filters, threshold))
    figures = {
        key: figure_from_row(
            head[key], threshold, hidden=key in hidden_here, hide_change=key in hidden_before
        )
        for key in COUNTY_KEYS
    }
    weekly = streams_by_week(engine, county_filters, threshold)
    chart, _ = _week_chart(weekly, "incidents", f"Incidents reported per week, {name}", "incidents")
    note = head["incidents_reported"]["comparison_note"]
    return Slide(
        key=f"county-{code}",
        title=f"{name} ({code})",
        sentences=_figure_sentences(
            figures, ("incidents_reported", "ras_active", "people_trained"), name, against
        ),
        figures=list(figures.values()),
        charts=[chart],
        source=_source(COUNTY_KEYS, filters.as_of),
        notes=[] if _missing(note) else [str(note)],
    )


def build_briefing(
    engine: Engine,
    filters: Filters,
    threshold: int,
    *,
    is_demo: bool = False,
    now: dt.datetime | None = None,
) -> Briefing:
    """The briefing for a selection: every slide's figures, charts, tables and sentences.

    Args:
        engine: the reporting database.
        filters: the selection (period, comparison, counties, scope, as-of); wards are ignored
            (a briefing speaks of counties).
        threshold: the privacy rule's threshold.
        is_demo: the database is the synthetic demo (the slides say so).
        now: when it is built (UTC); the wall clock by default.
    """
    filters = with_as_of(engine, replace(filters, wards=()))
    counties = county_list(engine)
    names = dict(zip(counties["county_code"], counties["county_name"], strict=True))
    codes = filters.county_codes
    place = place_text(codes, names)
    against = comparison_label(filters.comparison, filters.days)
    compare_start, compare_end = comparison_period(filters.start, filters.end, filters.comparison)

    # Every stream's cards, the Rehabilitation page's included: `headline` applies that page's
    # protection itself, so its rehab rows are `rehab_headline`'s (a test holds them equal).
    head = headline(engine, filters, threshold)
    rows = _by_key(head)
    figures = {key: figure_from_row(row, threshold) for key, row in rows.items()}
    invalid = head["comparison_note"].iloc[0]
    invalid = None if _missing(invalid) else str(invalid)
    as_of = filters.as_of
    assert as_of is not None

    slides: list[Slide] = []
    latest = data_as_of(engine)
    demo_note = ["Synthetic demo data: not real programme figures."] if is_demo else []
    slides.append(
        Slide(
            key="headline",
            title=f"Headline: {place}, {filters.start:%d %b} – {filters.end:%d %b %Y}",
            sentences=_figure_sentences(
                figures,
                ("incidents_reported", "ras_active", "people_trained", "rehab_referrals"),
                place,
                against,
                invalid,
            ),
            figures=[figures[key] for key in PROGRAMME_HEADLINE_KEYS],
            source=_source(PROGRAMME_HEADLINE_KEYS, as_of),
            notes=demo_note + ([invalid] if invalid else []),
        )
    )

    weekly = streams_by_week(engine, filters, threshold)
    trend, trend_rows = _week_chart(weekly, "incidents", "Incidents reported per week", "incidents")
    league = county_league(engine, filters, threshold)
    county_sentences, change_chart, change_table = _incident_changes(league, against)
    if codes is not None and len(codes) == 1:
        # One county: the headline sentence is its own; a sentence or chart "by county" would
        # repeat it (or, saying no county changed, read as a national statement).
        county_sentences, change_chart = [], None
    elif not invalid and not change_chart:
        other = " other" if county_sentences else ""
        which = "selected county's" if codes else "county's"
        none = f"No{other} {which} change in incidents was meaningful (Poisson test, |z| ≥ 3)."
        county_sentences = [*county_sentences[:1], none]
    slides.append(
        Slide(
            key="incidents",
            title="Incidents",
            sentences=_figure_sentences(figures, ("incidents_reported",), place, against, invalid)
            + county_sentences[:2],
            figures=[figures[key] for key in INCIDENT_KEYS],
            charts=[trend] + ([change_chart] if change_chart else []),
            tables=[
                Table("Incidents per week", ["week_start", "incidents", "is_partial"], trend_rows),
                change_table,
            ],
            source=_source(INCIDENT_KEYS, as_of),
            notes=[invalid] if invalid else [],
        )
    )

    forums, forum_rows = _week_chart(weekly, "forums", "Forums held per week", "forums")
    slides.append(
        Slide(
            key="associations",
            title="Residents' Associations: participation, reporting",
            sentences=_figure_sentences(
                figures, ("ras_active", "ra_reporting_rate", "forums_held"), place, against, invalid
            ),
            figures=[figures[key] for key in RA_KEYS],
            charts=[forums],
            tables=[
                Table("Forums per week", ["week_start", "forums_held", "is_partial"], forum_rows)
            ],
            source=_source(RA_KEYS, as_of),
            notes=[invalid] if invalid else [],
        )
    )

    targets = target_achievement_by_county(engine, filters, threshold, TRAINING_TARGET_KEYS)
    target_sentences, target_chart, target_table = _training_targets(
        targets, filters, place, threshold
    )
    slides.append(
        Slide(
            key="training",
            title="Training against targets",
            sentences=_figure_sentences(figures, ("people_trained",), place, against, invalid)
            + target_sentences,
            figures=[figures[key] for key in TRAINING_KEYS],
            charts=[target_chart] if target_chart else [],
            tables=[target_table],
            source=_source(TRAINING_KEYS, as_of) + " Targets: targets table.",
            notes=[invalid] if invalid else [],
        )
    )

    monthly = referrals_by_month(engine, filters, threshold)
    rehab_chart, rehab_table = _rehab_by_month(monthly, threshold)
    # A chart whose every month is hidden would leave half a projected slide blank: the slide
    # says so in a line instead, and its figures take the width.
    rehab_shown = any(v is not None for series in rehab_chart.series for v in series.values)
    rehab_keys = list(REHAB_KEYS)
    slides.append(
        Slide(
            key="rehabilitation",
            title="Rehabilitation referrals (privacy rule applied)",
            sentences=_figure_sentences(
                figures, ("rehab_referrals", "referral_admission_30d_pct"), place, against, invalid
            ),
            figures=[figures[key] for key in rehab_keys],
            charts=[rehab_chart] if rehab_shown else [],
            tables=[rehab_table],
            source=_source(rehab_keys, as_of),
            notes=[
                f"Counts from 1 to {threshold - 1} read '{suppressed_label(threshold)}'; shares "
                "and medians resting on them, and any figure that would give one away, read "
                "'Suppressed'.",
                *([] if rehab_shown else [f"Referrals by month: {rehab_chart.note}"]),
                *([invalid] if invalid else []),
            ],
        )
    )

    # One county's slide would repeat the headline and incidents slides, which already speak
    # of it alone; county slides set several selected counties side by side.
    county_codes = list(codes or []) if len(codes or []) > 1 else []
    if county_codes:
        # Counties side by side with their total: each county's rehab figures are hidden where
        # the county-by-county protection hides them, in the period and in the comparison
        # period (a shown change gives the comparison value away), so that no two slides give
        # a cell away by subtraction.
        now_hidden = _county_protection(engine, filters, threshold)
        # A county slide compares whenever its own county can be: the selection may have no
        # comparison only because another of its counties joined in between (rollout_problem).
        before_hidden = (
            {}
            if comparison_problem(filters.start, filters.end, filters.comparison)
            else _county_protection(engine, filters.comparison_filters(), threshold)
        )
        for code in county_codes[:MAX_COUNTY_SLIDES]:
            slides.append(
                _county_slide(
                    engine,
                    filters,
                    threshold,
                    code,
                    names.get(code, code),
                    now_hidden.get(code, set()),
                    before_hidden.get(code, set()),
                    against,
                )
            )

    shown = {f.key for slide in slides for f in slide.figures}
    definitions = [
        [INDICATOR_BY_KEY[key].label, INDICATOR_BY_KEY[key].definition]
        for key in INDICATOR_BY_KEY
        if key in shown
    ]
    slides.append(
        Slide(
            key="definitions",
            title="Definitions and sources",
            sentences=[
                f"Figures for {place}, {filters.start:%d %b %Y} – {filters.end:%d %b %Y}, "
                f"compared with {against} ({compare_start:%d %b %Y} – {compare_end:%d %b %Y}); "
                f"data as of {as_of:%d %b %Y}."
            ],
            definitions=definitions,
            source=f"Source: {CONTRACT}. Periods are inclusive dates in East Africa Time.",
            notes=[
                POISSON_TEST,
                SHARE_TEST,
                "A change is shown only when the comparison period is valid and the figure is "
                "like for like; figures 'as they stand now' are not compared.",
                f"Privacy rule: rehabilitation counts from 1 to {threshold - 1} read "
                f"'{suppressed_label(threshold)}'; figures that would reveal them read "
                "'Suppressed'.",
                *demo_note,
            ],
        )
    )

    return Briefing(
        title=f"Usalama Mitaani briefing: {place}",
        place=place,
        start=filters.start,
        end=filters.end,
        comparison=filters.comparison,
        comparison_start=compare_start,
        comparison_end=compare_end,
        comparison_label=against,
        comparison_note=invalid,
        counties=list(filters.counties),
        scope=list(filters.scope) if filters.scope is not None else None,
        as_of=as_of,
        data_as_of=None if latest is None else f"{latest:%Y-%m-%d %H:%M} EAT",
        generated_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        threshold=threshold,
        slides=slides,
        indicators=_indicator_rows(head, threshold),
        is_demo=is_demo,
    )
