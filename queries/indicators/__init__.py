"""The registry of the contract's indicators and the assembler that puts the streams together.

Each indicator's SQL lives once, in its stream's module (`queries.incidents`,
`queries.associations`, `queries.training`, `queries.rehab`: `<stream>_measures_select`, built
from named expressions every page breakdown reuses). This module says what each key means
(`INDICATORS`), where its SQL lives (`Indicator.source`), and assembles the streams for a
selection: `indicators_frame` (overall, per county or per ward), `headline` (with the
comparison period), `county_league` and `county_scorecard`.

`python -m queries.indicators` is the command line (`queries/indicators/cli.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Select, select
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.sql.util import find_tables

from queries import associations, incidents, rehab, training
from queries.associations import months_starting_in, ra_measures
from queries.db import read_frame, together
from queries.filters import (
    Filters,
    comparison_problem,
    latest_due_month,
    selection_comparison_problem,
)
from queries.grain import Grain, float_values
from queries.incidents import incident_measures
from queries.privacy import flag_column, small_column
from queries.reference import programme_starts, with_as_of
from queries.rehab import REHAB_HEADLINE_KEYS, rehab_measures
from queries.schema import counties, metadata
from queries.significance import (
    MEANINGFUL_Z,
    REPORTING_GAP_SHORT,
    is_reporting_gap,
    poisson_z,
    reporting_gap_note,
    two_proportion_z,
)
from queries.training import training_measures
from queries.where import county_where

# Each stream's module and the builder of its measures' Select (one row overall or per group).
STREAM_SELECTS = {
    "incidents": incidents.incident_measures_select,
    "ras": associations.ra_measures_select,
    "training": training.training_measures_select,
    "rehab": rehab.rehab_measures_select,
}


@dataclass(frozen=True)
class Indicator:
    """One contract indicator: its key, how it reads, and what kind of number it is."""

    key: str
    label: str
    stream: str
    kind: Literal["count", "sum", "pct", "rate", "median"]
    unit: str
    definition: str
    higher_is_better: bool | None = None
    poisson_count: str | None = None  # the count whose change decides significance
    # (numerator, denominator) counts of a share of independent cases: a two-proportion test
    # decides whether its change is meaningful.
    share_counts: tuple[str, str] | None = None
    # False for a figure "as it stands now" whose outcomes arrive after the event: a recent
    # period's cases have had less time, so it is never compared with another period.
    like_for_like: bool = True
    compare_instead: str | None = None  # the like-for-like key that carries the change

    @property
    def source(self) -> str:
        """Where the indicator's SQL lives: its stream's measures builder, by import path."""
        builder = STREAM_SELECTS[self.stream]
        return f"{builder.__module__}.{builder.__name__}"


# The programme at a glance, one figure per stream: the Overview's cards and the briefing's
# headline slide show these, in this order.
PROGRAMME_HEADLINE_KEYS: tuple[str, ...] = (
    "incidents_reported",
    "incident_rate_per_100k",
    "incidents_resolved_7d_pct",
    "ras_active",
    "ra_reporting_rate",
    "people_trained",
    "rehab_referrals",
    "referral_admission_30d_pct",
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "incidents_reported",
        "Incidents reported",
        "incidents",
        "count",
        "incidents",
        "Incidents whose reported_at, as an EAT date, lies in the period.",
        None,
        "incidents_reported",
    ),
    Indicator(
        "incident_rate_per_100k",
        "Incidents per 100,000 people",
        "incidents",
        "rate",
        "per 100,000 residents",
        "Incidents reported / 2019 census population x 100,000.",
        None,
        "incidents_reported",
    ),
    Indicator(
        "incidents_resolved_pct",
        "Incidents resolved",
        "incidents",
        "pct",
        "%",
        "Share of incidents reported in the period whose status is resolved.",
        True,
        like_for_like=False,
        compare_instead="incidents_resolved_7d_pct",
    ),
    Indicator(
        "incidents_resolved_7d_pct",
        "Resolved within 7 days",
        "incidents",
        "pct",
        "%",
        "Of incidents reported in the period at least 7 days before the as-of date, the share "
        "resolved within 7 x 24 hours of the report.",
        True,
        share_counts=("n_resolved_7d", "n_followed_7d"),
    ),
    Indicator(
        "median_hours_to_acknowledge",
        "Median time to acknowledge",
        "incidents",
        "median",
        "hours",
        "Median hours from report to acknowledgement.",
        False,
        like_for_like=False,
    ),
    Indicator(
        "median_hours_to_resolve",
        "Median time to resolve",
        "incidents",
        "median",
        "hours",
        "Median hours from report to resolution.",
        False,
        like_for_like=False,
    ),
    Indicator(
        "open_incidents",
        "Open incidents",
        "incidents",
        "count",
        "incidents",
        "Incidents reported by the end of the period still reported, acknowledged or actioned.",
        False,
        "open_incidents",
        like_for_like=False,
    ),
    Indicator(
        "ras_registered",
        "Registered RAs",
        "ras",
        "count",
        "associations",
        "RAs registered by the end of the period and not suspended.",
        True,
    ),
    Indicator(
        "ras_active",
        "Active RAs",
        "ras",
        "count",
        "associations",
        "Registered RAs with a forum held or a monthly report submitted in the period.",
        True,
        "ras_active",
    ),
    Indicator(
        "ra_reporting_rate",
        "RA reporting rate",
        "ras",
        "pct",
        "%",
        "Monthly reports submitted / expected, for months starting in the period whose "
        "deadline (the 10th of the next month) is on or before the as-of date.",
        True,
        share_counts=("n_reports_submitted", "n_reports_due"),
    ),
    Indicator(
        "ra_on_time_rate",
        "RA on-time reporting rate",
        "ras",
        "pct",
        "%",
        "Monthly reports submitted by the 10th of the next month / expected, for the same "
        "due months.",
        True,
        share_counts=("n_reports_on_time", "n_reports_due"),
    ),
    Indicator(
        "forums_held",
        "Forums held",
        "ras",
        "count",
        "forums",
        "Structured forums and meetings held in the period.",
        True,
        "forums_held",
    ),
    Indicator(
        "forum_attendance",
        "Forum attendance",
        "ras",
        "sum",
        "people",
        "Summed attendance of the forums held.",
        True,
    ),
    Indicator(
        "joint_forum_pct",
        "Joint forums",
        "ras",
        "pct",
        "%",
        "Share of forums with police and NGAO or private security present.",
        True,
        share_counts=("n_joint_forums", "n_joint_known"),
    ),
    Indicator(
        "people_trained",
        "People trained",
        "training",
        "sum",
        "people",
        "Summed participants of training sessions held in the period.",
        True,
    ),
    Indicator(
        "trained_female_pct",
        "Trained: female",
        "training",
        "pct",
        "%",
        "Female participants / participants.",
        None,
    ),
    Indicator(
        "trained_youth_pct",
        "Trained: youth (18-35)",
        "training",
        "pct",
        "%",
        "Youth participants / participants.",
        None,
    ),
    Indicator(
        "trained_certified_pct",
        "Trained: certified",
        "training",
        "pct",
        "%",
        "Certified / participants.",
        True,
    ),
    Indicator(
        "private_security_coverage_pct",
        "Private security officers trained",
        "training",
        "pct",
        "% of officers at partner firms",
        "Private-security participants since launch / officers at partner firms.",
        True,
    ),
    Indicator(
        "rehab_referrals",
        "Rehab referrals",
        "rehab",
        "count",
        "referrals",
        "Referrals with referred_on in the period.",
        None,
        "rehab_referrals",
    ),
    Indicator(
        "referral_admission_pct",
        "Referrals admitted",
        "rehab",
        "pct",
        "%",
        "Share of referrals admitted, completed or dropped out.",
        True,
        like_for_like=False,
        compare_instead="referral_admission_30d_pct",
    ),
    Indicator(
        "referral_admission_30d_pct",
        "Admitted within 30 days",
        "rehab",
        "pct",
        "%",
        "Of referrals in the period made at least 30 days before the as-of date, the share "
        "admitted within 30 days of referral.",
        True,
    ),
    Indicator(
        "referral_completion_pct",
        "Treatment completion",
        "rehab",
        "pct",
        "%",
        "Completed / (completed + dropped out).",
        True,
        like_for_like=False,
        compare_instead="referral_completion_90d_pct",
    ),
    Indicator(
        "referral_completion_90d_pct",
        "Completed within 90 days",
        "rehab",
        "pct",
        "%",
        "Of referrals in the period made at least 90 days before the as-of date, the share "
        "that completed treatment within 90 days of referral.",
        True,
    ),
    Indicator(
        "median_days_to_admission",
        "Median days to admission",
        "rehab",
        "median",
        "days",
        "Median days from referral to admission.",
        False,
        like_for_like=False,
    ),
    Indicator(
        "referral_youth_pct",
        "Referrals aged 15-34",
        "rehab",
        "pct",
        "%",
        "Share of referrals aged 15-34.",
        None,
    ),
)
INDICATOR_BY_KEY: dict[str, Indicator] = {indicator.key: indicator for indicator in INDICATORS}
INDICATOR_KEYS: tuple[str, ...] = tuple(INDICATOR_BY_KEY)


STREAMS = tuple(STREAM_SELECTS)
# The streams the privacy rule covers: their values are published per place only as that place
# alone, never read off another selection's frame.
PROTECTED_STREAMS: tuple[str, ...] = ("rehab",)


def indicator_select(key: str, dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """The SQL of one indicator for a selection, as its stream computes it (the privacy rule of
    rehab figures is applied afterwards, in Python, and is not part of this statement).

    Raises:
        KeyError: the key is not a contract indicator.
    """
    indicator = INDICATOR_BY_KEY[key]
    statement = STREAM_SELECTS[indicator.stream](dialect, filters, grain)
    dims = [c for c in statement.selected_columns if c.name in _DIMENSION_COLUMNS]
    return statement.with_only_columns(*dims, statement.selected_columns[key])


_DIMENSION_COLUMNS = ("county_code", "county_name", "ward_code", "ward_name")


@functools.cache
def source_tables(key: str) -> tuple[str, ...]:
    """The contract tables the indicator's SQL reads, sorted: taken from its statement (its
    stream's measures select), so the list cannot drift from the SQL.

    Raises:
        KeyError: the key is not a contract indicator.
    """
    day = dt.date(2026, 1, 1)  # any selection: the tables do not depend on it
    statement = indicator_select(key, "sqlite", Filters(start=day, end=day, as_of=day))
    found = find_tables(statement, check_columns=True, include_aliases=True)
    return tuple(sorted({t.name for t in found if getattr(t, "name", None) in metadata.tables}))


def significance_test(indicator: Indicator) -> str | None:
    """Which test decides whether the indicator's change is meaningful: 'poisson' (on the count
    `poisson_count`), 'two_proportion' (on `share_counts`), or None (no test: a median, a figure
    that is not like-for-like, or a share with no case counts)."""
    if not indicator.like_for_like:
        return None
    if indicator.poisson_count:
        return "poisson"
    if indicator.share_counts:
        return "two_proportion"
    return None


def indicator_sql(key: str, dialect: SQLDialect, filters: Filters, grain: Grain = None) -> str:
    """The compiled SQL of one indicator for an engine's dialect, with the selection's values
    written in, for people to read (the app and the command send bound parameters instead)."""
    statement = indicator_select(key, dialect.name, filters, grain)
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


def indicators_frame(
    engine: Engine,
    filters: Filters,
    threshold: int,
    grain: Grain = None,
    streams: tuple[str, ...] = STREAMS,
    for_comparison: bool = False,
) -> pd.DataFrame:
    """The contract's indicators for the selection: one row overall, per county or per ward.

    Args:
        streams: which indicator streams to compute (all by default); a page that shows one
            stream's cards need not query the other three.
        for_comparison: the selection is a comparison period, read only for the indicators
            that are compared: the incident ones that are not like-for-like are left out
            (`incidents.COMPARED_COLUMNS`: its medians and open cases cost most of the page).

    Columns: the grain's dimension columns, then the keys of `INDICATOR_KEYS` of those
    streams, then `_suppressed` / `_small` flags of the rehab ones.
    """
    measures = {
        "incidents": lambda: incident_measures(engine, filters, grain, for_comparison),
        "ras": lambda: ra_measures(engine, filters, grain),
        "training": lambda: training_measures(engine, filters, grain),
        "rehab": lambda: rehab_measures(engine, filters, threshold, grain),
    }
    parts = together(*(measures[stream] for stream in STREAMS if stream in streams))
    dims = [c for c in _DIMENSION_COLUMNS if c in parts[0]]
    merged = parts[0]
    for part in parts[1:]:
        merged = (
            merged.merge(part, on=dims, how="left")
            if dims
            else pd.concat(
                [merged, part.drop(columns=[c for c in part.columns if c in merged.columns])],
                axis=1,
            )
        )
    return merged


def county_league(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Every county in the selection with its indicators and its change in incidents.

    Grain: one row per county. Columns: county_code, county_name, population, every indicator
    key (rehab ones suppressed, with `_suppressed` flags), incidents_previous (incidents in the
    comparison period), incidents_change_pct (null when the comparison is 0), incidents_z
    (Poisson z of the change), comparison_note (why a county has no valid comparison: it
    starts before that county joined the programme, or the county reported no incidents after
    at least REPORTING_GAP_MIN_PREVIOUS in the comparison, a stop in reporting rather than in
    crime (reporting_gap is then true); its change and z are then null), incidents_meaningful
    (the change passes the Poisson test, |z| >= MEANINGFUL_Z; false where not compared),
    forums_per_100k, trained_per_100k, ra_reporting_month (the month the RA reporting columns
    cover when the period holds no month already due, as the headline's cards read them; else
    null: `with_latest_due_reporting`).
    """
    filters = with_as_of(engine, filters)
    frame, before = together(
        lambda: with_latest_due_reporting(
            engine, filters, indicators_frame(engine, filters, threshold, "county"), "county"
        ),
        lambda: incident_measures(
            engine, filters.comparison_filters(), "county", for_comparison=True
        ),
    )
    frame = frame.merge(
        before[["county_code", "incidents_reported"]].rename(
            columns={"incidents_reported": "incidents_previous"}
        ),
        on="county_code",
        how="left",
    )
    population = read_frame(
        engine,
        select(counties.c.code.label("county_code"), counties.c.population).where(
            *county_where(counties.c.code, filters)
        ),
    )
    frame = frame.merge(population, on="county_code", how="left")
    starts = programme_starts(engine, filters)
    frame["comparison_note"] = [
        comparison_problem(filters.start, filters.end, filters.comparison, joined, name)
        for name, joined in (starts[code] for code in frame["county_code"])
    ]
    current = frame["incidents_reported"].astype("float64")
    gap = frame["comparison_note"].isna() & is_reporting_gap(
        current, frame["incidents_previous"].astype("float64")
    )
    frame.loc[gap, "comparison_note"] = [
        reporting_gap_note(name, previous)
        for name, previous in zip(
            frame.loc[gap, "county_name"], frame.loc[gap, "incidents_previous"], strict=True
        )
    ]
    frame["reporting_gap"] = gap
    valid = frame["comparison_note"].isna()
    previous = frame["incidents_previous"].astype("float64").where(valid)
    frame["incidents_change_pct"] = (100.0 * (current - previous) / previous).where(previous > 0)
    frame["incidents_z"] = [
        poisson_z(c, p) if ok else None for c, p, ok in zip(current, previous, valid, strict=True)
    ]
    frame["incidents_meaningful"] = (
        pd.to_numeric(frame["incidents_z"], errors="coerce").abs() >= MEANINGFUL_Z
    ) & valid
    per_100k = 100_000.0 / frame["population"].astype("float64").where(frame["population"] > 0)
    frame["forums_per_100k"] = frame["forums_held"] * per_100k
    frame["trained_per_100k"] = frame["people_trained"] * per_100k
    return frame


def nationwide(filters: Filters) -> Filters:
    """The selection's period, comparison and as-of date over the whole country: no county,
    ward or scope. A scorecard's national figures and ranks are computed over these, so that
    one computation serves the scorecard of every county for that period."""
    return Filters(
        start=filters.start,
        end=filters.end,
        preset=filters.preset,
        comparison=filters.comparison,
        as_of=filters.as_of,
    )


_STANDING_COLUMNS = (
    "indicator",
    "county_code",
    "county_value",
    "rank",
    "ranked_counties",
    "national_value",
    "national_suppressed",
    "period_note",
)


def national_standing(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Every indicator's national figure and each county's rank on it, over the whole country
    whatever places `filters` name (`nationwide`): what a county's scorecard sets its own
    values against (`scorecard_of`).

    Besides ranks, each county's value is kept for the streams the privacy rule does not
    cover (incidents, RAs, training: the figures the county league shows); a rehab value
    never leaves this function, only its rank. A county coordinator's page holds this frame
    to read its own county's row and shows no other. A county whose value is missing or hidden
    by the privacy rule (as the all-county frame hides it, secondary suppression included) has
    no rank.

    Grain: one row per indicator per county. Columns: indicator, county_code, county_value
    (null for rehab indicators), rank (1 = best where the indicator has a direction, else
    1 = highest; null when unranked), ranked_counties (how many counties have a value),
    national_value, national_suppressed, period_note (for the RA reporting rates read for the
    latest month due, when the period holds none: which month, in a few words; else null).
    """
    everywhere = with_as_of(engine, nationwide(filters))
    # Per county, a rehab value never leaves this function, only its rank: ranking the rehab
    # shares read for another window would cost a county-by-county protection pass of its own
    # for every page, so those go unranked ("–") while their national value is shown.
    unprotected = tuple(s for s in STREAMS if s not in PROTECTED_STREAMS)
    per_county = followed_up_reads(engine, everywhere, threshold, "county", unprotected)
    overall = followed_up_reads(engine, everywhere, threshold)
    frames = together(
        lambda: with_latest_due_reporting(
            engine,
            everywhere,
            indicators_frame(engine, everywhere, threshold, "county"),
            "county",
        ),
        lambda: with_latest_due_reporting(
            engine, everywhere, indicators_frame(engine, everywhere, threshold)
        ),
        *per_county.reads,
        *overall.reads,
    )
    shifted = frames[2:]
    by_county = per_county.applied(frames[0], shifted[: len(per_county.reads)])
    national = overall.applied(frames[1], shifted[len(per_county.reads) :])
    by_county, national = by_county.set_index("county_code"), national.iloc[0]
    month = national["ra_reporting_month"]
    counties = by_county.index.to_numpy()
    n = len(counties)
    # Built as arrays and framed once: a frame per indicator cost most of this function's time.
    columns: dict[str, list[Any]] = {name: [] for name in _STANDING_COLUMNS}
    for indicator in INDICATORS:
        flag = flag_column(indicator.key)
        hidden = by_county[flag].to_numpy(dtype=bool) if flag in by_county else np.zeros(n, bool)
        values = np.where(hidden, np.nan, float_values(by_county[indicator.key]))
        ranks = pd.Series(values).rank(ascending=indicator.higher_is_better is False, method="min")
        note = None
        if indicator.key in RA_REPORTING_KEYS and not pd.isna(month):
            note = latest_due_month_note(month)
        elif indicator.key in FOLLOW_UP_DAYS and (
            shifted := followed_up_window_note(indicator.key, everywhere)
        ):
            note = shifted[1]
        columns["indicator"].append(np.full(n, indicator.key, dtype=object))
        columns["county_code"].append(counties)
        columns["county_value"].append(
            np.full(n, np.nan) if indicator.stream in PROTECTED_STREAMS else values
        )
        columns["rank"].append(ranks.to_numpy())
        columns["ranked_counties"].append(np.full(n, int(np.count_nonzero(~np.isnan(values)))))
        columns["national_value"].append(np.full(n, _cell(national, indicator.key), dtype=float))
        columns["national_suppressed"].append(np.full(n, bool(national.get(flag, False))))
        columns["period_note"].append(np.full(n, note, dtype=object))
    stacked = {name: np.concatenate(parts) for name, parts in columns.items()}
    return pd.DataFrame(
        {
            "indicator": pd.array(stacked["indicator"], dtype="str"),
            "county_code": pd.array(stacked["county_code"], dtype="str"),
            "county_value": stacked["county_value"].astype("float64"),
            "rank": pd.array(stacked["rank"], dtype="Int64"),
            "ranked_counties": stacked["ranked_counties"].astype("int64"),
            "national_value": stacked["national_value"].astype("float64"),
            "national_suppressed": stacked["national_suppressed"].astype(bool),
            "period_note": pd.Series(stacked["period_note"], dtype=object),
        }
    )


# Its result is the same for every county and ward (it reads `nationwide(filters)`): the serving
# copy's warm-up guesses its other periods, never its other counties (dashboard.data).
national_standing.nationwide = True  # type: ignore[attr-defined]


def county_alone(filters: Filters) -> Filters:
    """The selection's one county, whole (no wards) and without the user's scope, for the
    county's own rehab values on its scorecard: `indicators_frame` over these is that county
    alone, so none of its rehab cells needs the secondary suppression the all-county frame
    applies on behalf of other counties.

    Raises:
        ValueError: the filters do not name exactly one county.
    """
    codes = filters.county_codes
    if codes is None or len(codes) != 1:
        raise ValueError("the scorecard needs exactly one county")
    return replace(nationwide(filters), counties=(codes[0],))


def scorecard_of(standing: pd.DataFrame, county: pd.DataFrame, code: str) -> pd.DataFrame:
    """One county's scorecard: its values and ranks from `standing` (`national_standing`),
    its rehab values from `county` (`indicators_frame` of the rehab stream over
    `county_alone`, one row), beside the national figures.

    Grain: one row per indicator. Columns: indicator, label, unit, kind, county_value,
    county_suppressed, national_value, national_suppressed, rank (null when the county's value
    is missing or hidden), ranked_counties, period_note (see `national_standing`).
    """
    alone = county.iloc[0]
    own = standing[standing["county_code"] == code].set_index("indicator")
    national = standing.drop_duplicates("indicator").set_index("indicator")
    rows = []
    for indicator in INDICATORS:
        key = indicator.key
        placed = own.loc[key] if key in own.index else None
        rank = None if placed is None or pd.isna(placed["rank"]) else int(placed["rank"])
        protected = indicator.stream in PROTECTED_STREAMS
        value = _cell(alone, key) if protected or placed is None else _cell(placed, "county_value")
        rows.append(
            {
                "indicator": key,
                "label": indicator.label,
                "unit": indicator.unit,
                "kind": indicator.kind,
                "county_value": value,
                "county_suppressed": bool(alone.get(flag_column(key), False)),
                "national_value": _cell(national.loc[key], "national_value"),
                "national_suppressed": bool(national.loc[key, "national_suppressed"]),
                "rank": rank,
                "ranked_counties": int(national.loc[key, "ranked_counties"]),
                "period_note": national.loc[key, "period_note"],
            }
        )
    return pd.DataFrame(rows)


def county_own_values(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """The rehab figures of one county's scorecard (`scorecard_of`'s `county`): the rehab
    stream over `filters` (`county_alone` of the selection), its follow-up shares read for the
    window the cards read (`followed_up_reads`).

    Grain: one row. Columns: as `indicators_frame` of the protected streams."""
    filters = with_as_of(engine, filters)
    shifted = followed_up_reads(engine, filters, threshold, streams=PROTECTED_STREAMS)
    frames = together(
        functools.partial(indicators_frame, engine, filters, threshold, streams=PROTECTED_STREAMS),
        *shifted.reads,
    )
    return shifted.applied(frames[0], frames[1:])


def county_values_of(cards: pd.DataFrame) -> pd.DataFrame:
    """What `county_own_values` reads, taken from the `headline` of the same selection instead
    of reading it again: when the selection is `county_alone` of itself (one whole county,
    national access), its headline reads the very same rehab frames (the period and the
    follow-up windows), which cost the County profile nine more statements.

    Grain: one row. Columns: each protected indicator's key and its `flag_column`, all that
    `scorecard_of` takes from its `county`."""
    rows = cards.set_index("indicator")
    keys = [i.key for i in INDICATORS if i.stream in PROTECTED_STREAMS]
    return pd.DataFrame(
        [
            {
                **{key: rows.loc[key, "value"] for key in keys},
                **{flag_column(key): bool(rows.loc[key, "suppressed"]) for key in keys},
            }
        ]
    )


def county_scorecard(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """One county's indicators beside the national figure and its rank among the counties
    (`scorecard_of` of `national_standing` and the county alone).

    The county is the single county of `filters.county_codes` (wards are ignored: ranks compare
    whole counties). The national figure and ranks are computed over all counties without the
    user's scope; only the aggregate and this county's rank leave the function, never another
    county's value.

    Grain and columns: those of `scorecard_of`.

    Raises:
        ValueError: the filters do not name exactly one county.
    """
    alone = county_alone(filters)
    # The same as-of date for both parts (else every measure below looks it up again).
    alone = with_as_of(engine, alone)
    standing, county = together(
        lambda: national_standing(engine, alone, threshold),
        lambda: county_own_values(engine, alone, threshold),
    )
    return scorecard_of(standing, county, alone.counties[0])


def comparison_note(engine: Engine, filters: Filters) -> str | None:
    """Why the selection has no valid comparison period (for the screen), or None.

    For exactly one county the comparison may not start before that county joined the
    programme; otherwise not before the launch, and no county of the selection may have joined
    between the comparison's start and the period's end (`rollout_problem`).
    """
    return selection_comparison_problem(
        filters.start,
        filters.end,
        filters.comparison,
        filters.county_codes,
        programme_starts(engine, filters),
    )


def headline(
    engine: Engine, filters: Filters, threshold: int, streams: tuple[str, ...] = STREAMS
) -> pd.DataFrame:
    """Every indicator for the selection and, where the comparison is like for like and valid,
    its change against the comparison period.

    A change is shown only when the comparison period is valid (`comparison_note`), the
    indicator is like-for-like (figures "as they stand now" are not: see
    `Indicator.like_for_like`), and neither side is hidden by the privacy rule (a change could
    otherwise give a hidden value away). Counts and rates are tested with the Poisson test,
    shares of independent cases with the two-proportion test (`queries.significance`).

    Grain: one row per indicator of the chosen streams. Columns: indicator, label, unit, kind,
    value, comparison_value, change (value - comparison), change_pct (100 * change /
    comparison; null when the comparison is 0 or missing), z, test ('poisson', 'two_proportion'
    or null), meaningful (|z| >= 3), like_for_like, compare_instead, note (why the value or its
    change reads as it does, or null), note_short (the same in a few words, for a card),
    comparison_note (why the selection has no valid comparison period, or null), suppressed (value hidden by the privacy rule), small
    (hidden because it is a small count itself), comparison_suppressed, as_of.
    """
    filters = with_as_of(engine, filters)
    invalid = comparison_note(engine, filters)
    reads = [functools.partial(indicators_frame, engine, filters, threshold, streams=streams)]
    if not invalid:
        reads.append(
            functools.partial(
                indicators_frame,
                engine,
                filters.comparison_filters(),
                threshold,
                streams=streams,
                for_comparison=True,
            )
        )
    shifted = followed_up_reads(engine, filters, threshold, streams=streams)
    frames = together(*reads, *shifted.reads)
    own = frames[: len(reads)]
    current = shifted.applied(
        with_latest_due_reporting(engine, filters, own[0]), frames[len(reads) :]
    ).iloc[0]
    previous = own[1].iloc[0] if len(own) > 1 else pd.Series(dtype=object)
    due_month = current["ra_reporting_month"]
    reporting_gap = (
        _reporting_gap(engine, filters, current, previous) if "incidents" in streams else None
    )
    rows = []
    for indicator in (i for i in INDICATORS if i.stream in streams):
        key = indicator.key
        value, before = _cell(current, key), _cell(previous, key)
        hidden = bool(current.get(flag_column(key), False))
        small = bool(current.get(small_column(key), hidden))
        hidden_before = bool(previous.get(flag_column(key), False))
        note, short = invalid, "no valid comparison" if invalid else None
        if key == "open_incidents":
            # Not the period's incidents: every one still open, however long ago it came in.
            note = (
                f"Every incident reported up to {filters.end:%d %b %Y} that is still open now, "
                "however long ago it was reported; not compared."
            )
            short = "open now, any date"
        elif not indicator.like_for_like:
            note = "As it stands now: recent cases have had less time, so it is not compared."
            short = "as it stands now"
        change = change_pct = z = test = None
        if key in RA_REPORTING_KEYS and pd.notna(due_month):
            # No month of the period is due yet: the latest month due, never compared.
            note = f"{due_month:%B %Y}, the latest month due (reports are due by the 10th)."
            short, before = latest_due_month_note(due_month), None
        elif key in FOLLOW_UP_DAYS and (shifted := followed_up_window_note(key, filters)):
            # Another window than the period's: its comparison would not be the period's.
            (note, short), before = shifted, None
        if reporting_gap and indicator.stream == "incidents":
            note, short = reporting_gap, REPORTING_GAP_SHORT
        comparable = (
            indicator.like_for_like
            and not invalid
            and not (reporting_gap and indicator.stream == "incidents")
        )
        if comparable and not (hidden or hidden_before) and None not in (value, before):
            change = value - before
            change_pct = 100.0 * change / before if before else None
            z, test = _significance(indicator, current, previous)
        rows.append(
            {
                "indicator": key,
                "label": indicator.label,
                "unit": indicator.unit,
                "kind": indicator.kind,
                "value": value,
                "comparison_value": before if comparable else None,
                "change": change,
                "change_pct": change_pct,
                "z": z,
                "test": test,
                "meaningful": z is not None and abs(z) >= MEANINGFUL_Z,
                "like_for_like": indicator.like_for_like,
                "compare_instead": indicator.compare_instead,
                "note": note,
                "note_short": short,
                "comparison_note": invalid,
                "suppressed": hidden,
                "small": small,
                "comparison_suppressed": hidden_before,
                "as_of": filters.as_of,
            }
        )
    return pd.DataFrame(rows)


def _reporting_gap(
    engine: Engine, filters: Filters, current: pd.Series, previous: pd.Series
) -> str | None:
    """Why the selection's incident figures are not compared when it reported no incident at all
    after at least REPORTING_GAP_MIN_PREVIOUS in the comparison period (a stop in reporting, not
    in crime), else None."""
    before = _cell(previous, "incidents_reported")
    if before is None or not is_reporting_gap(_cell(current, "incidents_reported"), before):
        return None
    codes = filters.county_codes
    starts = programme_starts(engine, filters) if codes is not None and len(codes) == 1 else {}
    place = starts[codes[0]][0] if starts and codes and codes[0] in starts else "this selection"
    return reporting_gap_note(place, before)


def _significance(
    indicator: Indicator, current: pd.Series, previous: pd.Series
) -> tuple[float | None, str | None]:
    """The z of a change and the test that gave it, or (None, None) when none applies."""
    if indicator.poisson_count:
        count = indicator.poisson_count
        return poisson_z(_cell(current, count) or 0.0, _cell(previous, count) or 0.0), "poisson"
    if indicator.share_counts:
        hits, cases = indicator.share_counts
        z = two_proportion_z(
            _cell(current, hits) or 0.0,
            _cell(current, cases) or 0.0,
            _cell(previous, hits) or 0.0,
            _cell(previous, cases) or 0.0,
        )
        return (z, "two_proportion") if z is not None else (None, None)
    return None, None


RA_REPORTING_KEYS = ("ra_reporting_rate", "ra_on_time_rate")
# The like-for-like shares and their fixed follow-up, in days.
FOLLOW_UP_DAYS = {
    "incidents_resolved_7d_pct": incidents.RESOLUTION_FOLLOW_UP_DAYS,
    "referral_admission_30d_pct": rehab.ADMISSION_FOLLOW_UP_DAYS,
    "referral_completion_90d_pct": rehab.COMPLETION_FOLLOW_UP_DAYS,
}
# What the cases of each follow-up share are, for the line that names their window.
_FOLLOWED_CASES = {"incidents": "reported", "rehab": "referred"}


def followed_up_window(filters: Filters, days: int) -> Filters | None:
    """The latest window as long as the period whose cases have all had `days` days by the
    as-of date D (it ends on D - `days`), over the same places, when the period holds no case
    that old: the last 28 days hold no referral 30 days old, so 'Admitted within 30 days' is
    read for the 28 days ending 30 days ago instead of showing nothing. None when the period
    holds such a case. `filters.as_of` must be set (`with_as_of`)."""
    last = filters.as_of - dt.timedelta(days=days)
    if filters.start <= last:
        return None
    return filters.with_period(last - (filters.end - filters.start), last)


def followed_up_window_note(key: str, filters: Filters) -> tuple[str, str] | None:
    """What a follow-up share read for `followed_up_window` says of itself: a sentence and a
    few words ('referred 07 Oct – 03 Nov'); None when it is read for the period itself."""
    days = FOLLOW_UP_DAYS[key]
    window = followed_up_window(filters, days)
    if window is None:
        return None
    cases = _FOLLOWED_CASES[INDICATOR_BY_KEY[key].stream]
    span = f"{window.start:%d %b} – {window.end:%d %b %Y}"
    return (
        f"No case of this period is {days} days old yet at the as-of date "
        f"({filters.as_of:%d %b %Y}), so this is for cases {cases} {span}, the latest "
        f"{(window.end - window.start).days + 1} days that are; not compared.",
        f"{cases} {window.start:%d %b} – {window.end:%d %b}",
    )


@dataclass(frozen=True)
class FollowedUpReads:
    """The reads of the follow-up shares a selection takes from `followed_up_window`, to run
    beside the selection's own (`together`) and then put in its frame (`applied`)."""

    grain: Grain
    keys_by_read: tuple[tuple[str, ...], ...]
    reads: tuple[Callable[[], pd.DataFrame], ...]

    def applied(self, frame: pd.DataFrame, results: Sequence[pd.DataFrame]) -> pd.DataFrame:
        """`frame` with each shifted share (and its privacy flags) from its own read."""
        if not self.reads:
            return frame
        dims = {None: [], "county": ["county_code"], "ward": ["ward_code"]}[self.grain]
        frame = frame.copy()
        for read, keys in zip(results, self.keys_by_read, strict=True):
            columns = [
                c for key in keys for c in (key, flag_column(key), small_column(key)) if c in read
            ]
            if dims:
                aligned = frame[dims].merge(read[[*dims, *columns]], on=dims, how="left")
                for column in columns:
                    frame[column] = aligned[column].to_numpy()
            else:
                for column in columns:
                    frame[column] = read[column].iloc[0]
        return frame


def followed_up_reads(
    engine: Engine,
    filters: Filters,
    threshold: int,
    grain: Grain = None,
    streams: tuple[str, ...] = STREAMS,
) -> FollowedUpReads:
    """The reads of the follow-up shares (`FOLLOW_UP_DAYS`) of these streams that the period
    holds no case old enough for: one per stream and `followed_up_window`. Applied to the
    period's frame, they make every page read such a share as the cards do, so that a table
    beside the cards never shows no value where the cards show one; each share keeps the
    privacy flags of its own window's reading."""
    by_window: dict[tuple[str, Filters], list[str]] = {}
    for key, days in FOLLOW_UP_DAYS.items():
        stream = INDICATOR_BY_KEY[key].stream
        window = followed_up_window(filters, days) if stream in streams else None
        if window is not None:
            by_window.setdefault((stream, window), []).append(key)
    return FollowedUpReads(
        grain,
        tuple(tuple(keys) for keys in by_window.values()),
        tuple(
            functools.partial(indicators_frame, engine, window, threshold, grain, (stream,))
            for stream, window in by_window
        ),
    )


# The reporting columns an RA frame holds for the latest month due, when its period holds none.
RA_REPORTING_COLUMNS = (
    *RA_REPORTING_KEYS,
    "n_reports_due",
    "n_reports_submitted",
    "n_reports_on_time",
)


def latest_due_month_instead(filters: Filters) -> Filters | None:
    """The latest month whose RA reports are due at the as-of date, over the same places, when
    the period holds no month already due (a report not yet due is not missing, so the period
    alone has no reporting rate: the last 28 days, say, before the 10th of the next month);
    None when the period holds one. `filters.as_of` must be set (`with_as_of`)."""
    month = latest_due_month(filters.as_of)
    months = months_starting_in(filters.start, filters.end)
    if months and month >= months[0]:
        return None
    month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return filters.with_period(month, month_end)


def latest_due_month_note(month: dt.date) -> str:
    """What a reporting rate read for the latest month due says of itself, in a few words."""
    return f"{month:%b %Y}: latest month due"


def with_latest_due_reporting(
    engine: Engine, filters: Filters, frame: pd.DataFrame, grain: Grain = None
) -> pd.DataFrame:
    """An indicators frame over `filters` whose RA reporting columns (`RA_REPORTING_COLUMNS`)
    are read for the latest month due instead when its period holds no due month, as the
    headline's cards read them, so that a table beside the cards never shows no rate where
    the cards show one. Adds `ra_reporting_month`: the first day of the month those columns
    cover, or null when they cover the period itself.

    Grain: that of `frame` (one row overall, per county or per ward)."""
    instead = None if "ra_reporting_rate" not in frame else latest_due_month_instead(filters)
    if instead is None:
        return frame.assign(ra_reporting_month=None)
    due = ra_measures(engine, instead, grain)
    keys = {None: [], "county": ["county_code"], "ward": ["ward_code"]}[grain]
    if keys:
        frame = frame.drop(columns=list(RA_REPORTING_COLUMNS)).merge(
            due[[*keys, *RA_REPORTING_COLUMNS]], on=keys, how="left"
        )
    else:
        frame = frame.assign(**{c: due[c].iloc[0] for c in RA_REPORTING_COLUMNS})
    return frame.assign(ra_reporting_month=instead.start)


def _cell(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    if value is None or pd.isna(value):
        return None
    return float(value)


def rehab_headline(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """The rehabilitation headline indicators, consistent with the page's breakdowns.

    `headline` applies this page's protection itself (through `queries.rehab.headline_hidden`),
    in the period and the comparison period, so the cards here and on every other page hide the
    same figures.

    Grain: one row per rehab indicator, in REHAB_HEADLINE_KEYS order. Columns: as `headline`.
    """
    frame = headline(engine, filters, threshold, streams=("rehab",)).set_index("indicator")
    return frame.loc[list(REHAB_HEADLINE_KEYS)].reset_index()
