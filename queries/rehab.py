"""The Rehabilitation page's queries: referral breakdowns, funnel, time to admission and centre
use, with the privacy rule applied to every referral count the page publishes, jointly.

Why jointly: the page shows the same referrals many ways (the headline total and percentages,
breakdowns by source, substance, sex, age band and month, the funnel's nested stages). A cell
hidden in one view must not be recoverable from the others, e.g. the funnel's "assessed" stage
subtracted from "referred", or the non-youth count from the youth percentage and the total. So
a selection's referral counts are the cells of one system of linear relations ("total = sum of
parts"), and `protect_cells` hides cells until no hidden one can be worked out from the shown
ones. Every public function takes `threshold` and returns frames whose hidden numbers are
already NaN, with `<column>_suppressed` flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import Filters
from queries.indicators import area_where, county_where, headline, rehab_measures
from queries.privacy import flag_column, gives_away, is_small, small_column, suppress_counts
from queries.schema import (
    AGE_BANDS,
    CENTRE_KINDS,
    REFERRAL_SOURCES,
    REFERRAL_STATUSES,
    SEXES,
    SUBSTANCES,
    YOUTH_AGE_BANDS,
    counties,
    rehab_centres,
    rehab_referrals,
)

OTHER = "other"
COUNT = "referrals"

# The enumerated columns broken down on the page, with their buckets (unknown values -> other).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "source": REFERRAL_SOURCES,
    "substance": SUBSTANCES,
    "sex": SEXES,
    "age_band": AGE_BANDS,
    "status": REFERRAL_STATUSES,
}

REHAB_HEADLINE_KEYS = (
    "rehab_referrals",
    "referral_admission_pct",
    "referral_completion_pct",
    "median_days_to_admission",
    "referral_youth_pct",
)

# The funnel: nested stages, then where people left it or where they are now.
STAGES = ("referred", "assessed", "admitted", "completed")
OUTCOMES = ("in_treatment", "dropped_out", "declined")
_STAGE_CELL = {
    "referred": "referrals",
    "assessed": "stage:assessed",
    "admitted": "stage:admitted",
    "completed": "status:completed",
    "in_treatment": "status:admitted",
    "dropped_out": "status:dropped_out",
    "declined": "status:declined",
}


def buckets(values: tuple[str, ...]) -> tuple[str, ...]:
    """The allowed values plus the 'other' bucket for anything else."""
    return values if OTHER in values else (*values, OTHER)


def _bucket(column: ColumnElement, allowed: tuple[str, ...]) -> ColumnElement:
    return case((column.in_(allowed), column), else_=literal(OTHER))


def _referred_in(filters: Filters) -> list[ColumnElement]:
    r = rehab_referrals
    return [
        r.c.referred_on >= filters.start,
        r.c.referred_on <= filters.end,
        *area_where(r, filters),
    ]


def referral_counts_select(dialect: str, filters: Filters) -> Select:
    """Referrals in the period by each enumerated column, before suppression.

    Grain: one row per dimension per bucket that has referrals. Columns: dimension (source,
    substance, sex, age_band, status), value (an allowed value or 'other'), referrals.
    """
    sqld.check_supported(dialect)
    r = rehab_referrals
    parts = []
    for dimension, allowed in DIMENSIONS.items():
        # Bucket in a subquery so the outer GROUP BY names a plain column: PostgreSQL would see
        # the CASE's bound parameters in SELECT and GROUP BY as different expressions.
        inner = (
            select(_bucket(r.c[dimension], allowed).label("value"))
            .where(*_referred_in(filters))
            .subquery(f"by_{dimension}")
        )
        parts.append(
            select(
                literal(dimension).label("dimension"),
                inner.c.value,
                func.count().label(COUNT),
            ).group_by(inner.c.value)
        )
    union = union_all(*parts).subquery("counts")
    return select(union.c.dimension, union.c.value, union.c[COUNT])


def referrals_by_month_select(dialect: str, filters: Filters) -> Select:
    """Referrals in the period by calendar month, before suppression.

    Grain: one row per month with referrals. Columns: month_start (date), referrals.
    """
    r = rehab_referrals
    inner = (
        select(sqld.month_start(dialect, r.c.referred_on).label("month_start"))
        .where(*_referred_in(filters))
        .subquery("months")
    )
    return select(inner.c.month_start, func.count().label(COUNT)).group_by(inner.c.month_start)


def centres_by_kind_select(dialect: str, filters: Filters) -> Select:
    """Rehabilitation centres open by the end of the period in the selection, by kind.

    Grain: one row per kind (unknown kinds as 'other') with centres. Columns: kind, centres,
    capacity (summed beds or places).
    """
    sqld.check_supported(dialect)
    c = rehab_centres
    inner = (
        select(_bucket(c.c.kind, CENTRE_KINDS).label("kind"), c.c.capacity)
        .where(c.c.opened_on <= filters.end, *area_where(c, filters))
        .subquery("centres")
    )
    return select(
        inner.c.kind,
        func.count().label("centres"),
        func.coalesce(func.sum(inner.c.capacity), 0).label("capacity"),
    ).group_by(inner.c.kind)


def current_admissions_by_county_select(dialect: str, filters: Filters) -> Select:
    """Capacity and current admissions by the county where the centres are, unsuppressed.

    Current admissions are referrals whose status is 'admitted' (as stored now) with admitted_on
    on or before the end of the period, whenever they were referred, counted at their centre's
    county so they compare with that county's capacity (referrals with no known centre are left
    out). Capacity counts centres opened on or before the end of the period. Counties and wards
    filter the centres' location.

    Grain: one row per county with capacity or admissions. Columns: county_code, county_name,
    centres, capacity, current_admissions, occupancy_pct (admissions / capacity x 100).
    """
    sqld.check_supported(dialect)
    c, r = rehab_centres, rehab_referrals
    place = [*area_where(c, filters)]
    capacity = (
        select(
            c.c.county_code,
            func.count().label("centres"),
            func.sum(c.c.capacity).label("capacity"),
        )
        .where(c.c.opened_on <= filters.end, *place)
        .group_by(c.c.county_code)
        .subquery("capacity")
    )
    admitted = (
        select(c.c.county_code, func.count().label("current_admissions"))
        .select_from(r.join(c, c.c.id == r.c.centre_id))
        .where(r.c.status == "admitted", r.c.admitted_on <= filters.end, *place)
        .group_by(c.c.county_code)
        .subquery("admitted")
    )
    cap = func.coalesce(capacity.c.capacity, 0)
    now = func.coalesce(admitted.c.current_admissions, 0)
    return (
        select(
            counties.c.code.label("county_code"),
            counties.c.name.label("county_name"),
            func.coalesce(capacity.c.centres, 0).label("centres"),
            cap.label("capacity"),
            now.label("current_admissions"),
            sqld.pct(now, cap).label("occupancy_pct"),
        )
        .select_from(
            counties.outerjoin(capacity, capacity.c.county_code == counties.c.code).outerjoin(
                admitted, admitted.c.county_code == counties.c.code
            )
        )
        .where(*county_where(counties.c.code, filters), or_(cap > 0, now > 0))
        .order_by(counties.c.name)
    )


@dataclass(frozen=True)
class Relation:
    """`total` equals the sum of `parts`: a reader who sees all but one of them knows the last."""

    total: str
    parts: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return (self.total, *self.parts)


def protect_cells(
    values: Mapping[str, float],
    relations: Sequence[Relation],
    threshold: int,
    keep_shown: Mapping[str, int] | None = None,
    all_or_nothing: Sequence[Sequence[str]] = (),
) -> frozenset[str]:
    """The cells to hide so that no hidden count can be worked back out from the shown ones.

    Primary suppression hides every count from 1 to threshold-1. Then, until nothing changes,
    one more cell is hidden when:

    1. a group of `all_or_nothing` has a hidden member and a shown non-zero one (used where
       another page publishes a ratio of the group's counts, so one count reveals the rest);
    2. a relation has exactly one hidden member (it would equal the others' difference);
    3. a relation's total is shown and its hidden parts' labels ('<5' is 1 to threshold-1,
       'suppressed' at least the threshold) leave one of them a single possible value
       (`queries.privacy.gives_away`);
    4. the relations, solved as linear equations in the hidden cells given every shown cell,
       fix a hidden cell's value (a cell is fixed when every vector of the null space of the
       hidden cells' coefficient matrix is 0 there).

    The cell hidden is a shown non-zero member of the relation concerned: the lowest
    `keep_shown` priority first (cells other pages also publish, and cells that must equal one
    of them, are hidden only when nothing else will do); then, for rule 2, the one that mends
    the most relations at once; then not a relation's total; then the smallest. So headline
    figures stay visible wherever smaller cells can be hidden instead.

    Args:
        values: every cell's true count, by cell name.
        relations: the sums a reader can form from what is published.
        threshold: counts from 1 to threshold-1 are hidden.
        keep_shown: priorities (default 0) of cells to hide only when nothing else will do;
            of two such cells, the higher priority is hidden later.
        all_or_nothing: groups of cells that are hidden together or not at all.

    Returns:
        The names of the cells to hide.
    """
    hidden = {name for name, value in values.items() if is_small(float(value), threshold)}
    priority = _priorities(values, relations, keep_shown or {})
    totals = {r.total for r in relations}
    rank = {name: (priority[name], name in totals, i) for i, name in enumerate(values)}
    while True:
        cell = _next_to_hide(values, relations, all_or_nothing, hidden, rank, threshold)
        if cell is None:
            return frozenset(hidden)
        hidden.add(cell)


def _priorities(
    values: Mapping[str, float], relations: Sequence[Relation], keep_shown: Mapping[str, int]
) -> dict[str, int]:
    """Each cell's keep priority: its own, or that of a cell it must equal (a relation whose
    parts are all zero but one makes that part equal to its total, so hiding the one would
    force the other out too)."""
    priority = {name: keep_shown.get(name, 0) for name in values}
    changed = True
    while changed:
        changed = False
        for relation in relations:
            non_zero = [p for p in relation.parts if values[p] != 0]
            if len(non_zero) != 1:
                continue
            pair = (relation.total, non_zero[0])
            top = max(priority[m] for m in pair)
            for member in pair:
                if priority[member] < top:
                    priority[member] = top
                    changed = True
    return priority


def _choose(
    values: Mapping[str, float],
    members: Iterable[str],
    hidden: set[str],
    rank: Mapping[str, tuple[int, bool, int]],
) -> str | None:
    shown = [m for m in dict.fromkeys(members) if m not in hidden and values[m] > 0]
    if not shown:
        return None
    return min(shown, key=lambda m: (rank[m][0], rank[m][1], values[m], rank[m][2]))


def _next_to_hide(
    values: Mapping[str, float],
    relations: Sequence[Relation],
    all_or_nothing: Sequence[Sequence[str]],
    hidden: set[str],
    rank: Mapping[str, tuple[int, bool, int]],
    threshold: int,
) -> str | None:
    for group in all_or_nothing:
        if hidden.intersection(group):
            cell = _choose(values, group, hidden, rank)
            if cell is not None:
                return cell
    # Of the cells that would mend a relation with one hidden member, take one that mends the
    # most such relations at once, so one well-placed cell does the work of several.
    single = [r for r in relations if sum(m in hidden for m in r.members) == 1]
    mends: dict[str, int] = {}
    for relation in single:
        for member in relation.members:
            if member not in hidden and values[member] > 0:
                mends[member] = mends.get(member, 0) + 1
    if mends:
        return min(mends, key=lambda m: (rank[m][0], -mends[m], rank[m][1], values[m], rank[m][2]))
    for relation in relations:
        hidden_parts = [p for p in relation.parts if p in hidden]
        if relation.total not in hidden and gives_away(
            [values[p] for p in hidden_parts], threshold
        ):
            cell = _choose(values, relation.members, hidden, rank)
            if cell is not None:
                return cell
    for cell in sorted(fixed_cells(relations, hidden), key=lambda name: rank[name][2]):
        near = [m for r in relations if cell in r.members for m in r.members]
        anywhere = [m for r in relations if hidden.intersection(r.members) for m in r.members]
        choice = _choose(values, near, hidden, rank) or _choose(values, anywhere, hidden, rank)
        if choice is not None:
            return choice
    return None


def fixed_cells(relations: Sequence[Relation], hidden: Iterable[str]) -> set[str]:
    """Hidden cells whose value the relations fix, given the value of every shown cell."""
    names = sorted(set(hidden))
    column = {name: j for j, name in enumerate(names)}
    rows = []
    for relation in relations:
        row = np.zeros(len(names))
        for member, sign in ((relation.total, 1.0), *((p, -1.0) for p in relation.parts)):
            if member in column:
                row[column[member]] += sign
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    _, singular, vt = np.linalg.svd(np.array(rows))
    null_space = vt[int((singular > 1e-9).sum()) :]
    if not len(null_space):
        return set(names)
    fixed = np.all(np.abs(null_space) < 1e-9, axis=0)
    return {name for name, j in column.items() if fixed[j]}


@dataclass(frozen=True)
class _Raw:
    """A selection's referral counts before suppression."""

    by_dimension: dict[str, pd.DataFrame]
    by_month: pd.DataFrame


def _read_raw(engine: Engine, filters: Filters) -> _Raw:
    dialect = engine.dialect.name
    counts = read_frame(engine, referral_counts_select(dialect, filters))
    by_dimension = {}
    for dimension, allowed in DIMENSIONS.items():
        part = counts.loc[counts["dimension"] == dimension].set_index("value")[COUNT]
        full = part.reindex(list(buckets(allowed)), fill_value=0).astype("int64")
        by_dimension[dimension] = full.rename_axis(dimension).reset_index()

    months = read_frame(engine, referrals_by_month_select(dialect, filters))
    months["month_start"] = pd.to_datetime(months["month_start"])
    grid = pd.date_range(
        pd.Timestamp(filters.start.replace(day=1)), pd.Timestamp(filters.end), freq="MS"
    )
    by_month = (
        months.set_index("month_start")[COUNT]
        .reindex(grid, fill_value=0)
        .astype("int64")
        .rename_axis("month_start")
        .reset_index()
    )
    return _Raw(by_dimension, by_month)


# Cells other pages publish for the same selection, with their keep priority: the headline
# total, and the counts that the admission, youth and completion percentages reveal. They are
# hidden here only as a last resort, since hiding a cell that another page shows protects
# nothing.
PUBLISHED_ELSEWHERE = {
    COUNT: 2,
    "stage:admitted": 1,
    "not_admitted": 1,
    "youth": 1,
    "not_youth": 1,
    "status:completed": 1,
    "status:dropped_out": 1,
    "finished_treatment": 1,
}
COMPLETION_CELLS = ("status:completed", "status:dropped_out", "finished_treatment")


def _cells(raw: _Raw) -> tuple[dict[str, float], list[Relation]]:
    """Every referral count the page publishes, or lets a reader form, as named cells, and the
    sums that link them."""
    values: dict[str, float] = {}
    relations: list[Relation] = []

    def cell(name: str, value: float) -> str:
        values[name] = float(value)
        return name

    def group(name: str, parts: Sequence[str]) -> str:
        relations.append(Relation(name, tuple(parts)))
        return cell(name, sum(values[p] for p in parts))

    status = raw.by_dimension["status"]
    total = cell(COUNT, int(status[COUNT].sum()))
    for dimension, frame in raw.by_dimension.items():
        parts = [cell(f"{dimension}:{v}", n) for v, n in zip(frame[dimension], frame[COUNT])]
        relations.append(Relation(total, tuple(parts)))

    # Age: the youth share (a headline card) publishes the youth and non-youth counts.
    bands = raw.by_dimension["age_band"]["age_band"]
    youth = group("youth", [f"age_band:{b}" for b in bands if b in YOUTH_AGE_BANDS])
    not_youth = group("not_youth", [f"age_band:{b}" for b in bands if b not in YOUTH_AGE_BANDS])
    relations.append(Relation(total, (youth, not_youth)))

    # The funnel's nested stages, and the groups between them that a reader gets by subtraction.
    finished = group("finished_treatment", ["status:completed", "status:dropped_out"])
    not_assessed = group("not_assessed", ["status:referred", f"status:{OTHER}"])
    assessed_only = group("assessed_not_admitted", ["status:assessed", "status:declined"])
    admitted = group("stage:admitted", ["status:admitted", finished])
    assessed = group("stage:assessed", [assessed_only, admitted])
    not_admitted = group("not_admitted", [not_assessed, assessed_only])
    relations += [
        Relation(admitted, ("status:admitted", "status:completed", "status:dropped_out")),
        Relation(total, (not_assessed, assessed)),
        Relation(total, (admitted, not_admitted)),
    ]

    months = [f"month:{m:%Y-%m}" for m in raw.by_month["month_start"]]
    for name, n in zip(months, raw.by_month[COUNT]):
        cell(name, n)
    relations.append(Relation(total, tuple(months)))
    return values, relations


@dataclass(frozen=True)
class ProtectedReferrals:
    """A selection's referral cells after the privacy rule: true values and the hidden set.

    Only this module reads `values`; the public functions return frames in which hidden cells
    are already NaN.
    """

    raw: _Raw
    values: dict[str, float]
    relations: tuple[Relation, ...]
    hidden: frozenset[str]
    threshold: int

    def shown(self, name: str) -> float:
        return float("nan") if name in self.hidden else self.values[name]


def protected_referrals(engine: Engine, filters: Filters, threshold: int) -> ProtectedReferrals:
    """Read a selection's referral counts and decide, jointly, which cells the rule hides.

    The completion percentage, where another page shows it, is a ratio of completed to
    finished treatment: with it, any one of completed, dropped out and finished reveals the
    other two, so those three are hidden together.
    """
    sqld.check_supported(engine.dialect.name)
    raw = _read_raw(engine, filters)
    values, relations = _cells(raw)
    completed, finished = values["status:completed"], values["finished_treatment"]
    ratio_published = finished > 0 and not (
        is_small(completed, threshold) or is_small(finished, threshold)
    )
    hidden = protect_cells(
        values,
        relations,
        threshold,
        keep_shown=PUBLISHED_ELSEWHERE,
        all_or_nothing=[COMPLETION_CELLS] if ratio_published else [],
    )
    return ProtectedReferrals(raw, values, tuple(relations), hidden, threshold)


def _count_frame(
    protected: ProtectedReferrals, frame: pd.DataFrame, key: str, names: Sequence[str]
) -> pd.DataFrame:
    result = frame[[key]].copy()
    result[COUNT] = pd.Series([protected.shown(n) for n in names], dtype="float64").to_numpy()
    result[flag_column(COUNT)] = [n in protected.hidden for n in names]
    result[small_column(COUNT)] = [
        n in protected.hidden and is_small(protected.values[n], protected.threshold) for n in names
    ]
    return result


def _by_dimension(engine: Engine, filters: Filters, threshold: int, dimension: str) -> pd.DataFrame:
    protected = protected_referrals(engine, filters, threshold)
    frame = protected.raw.by_dimension[dimension]
    names = [f"{dimension}:{v}" for v in frame[dimension]]
    return _count_frame(protected, frame, dimension, names)


def referrals_by_source(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Referrals in the period by who referred them, privacy rule applied.

    Grain: one row per source (contract order, then 'other' for unknown values), zeros
    included. Columns: source, referrals (float, NaN where hidden), referrals_suppressed.
    """
    return _by_dimension(engine, filters, threshold, "source")


def referrals_by_substance(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Referrals in the period by main substance, privacy rule applied.

    Grain: one row per substance (contract order; unknown values counted as 'other'), zeros
    included. Columns: substance, referrals (NaN where hidden), referrals_suppressed.
    """
    return _by_dimension(engine, filters, threshold, "substance")


def referrals_by_sex(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Referrals in the period by sex, privacy rule applied.

    Grain: one row per sex (female, male, unknown, then 'other' for invalid values), zeros
    included. Columns: sex, referrals (NaN where hidden), referrals_suppressed.
    """
    return _by_dimension(engine, filters, threshold, "sex")


def referrals_by_age_band(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Referrals in the period by age band, privacy rule applied.

    Grain: one row per age band (youngest first, then 'other' for invalid values), zeros
    included. Columns: age_band, referrals (NaN where hidden), referrals_suppressed.
    """
    return _by_dimension(engine, filters, threshold, "age_band")


def referrals_by_month(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Referrals by calendar month of referral, privacy rule applied.

    Grain: one row per month overlapping the period, zeros included. Columns: month_start
    (datetime64), referrals (NaN where hidden), referrals_suppressed, is_partial (the month
    extends beyond the period, so it is not comparable with whole months).
    """
    protected = protected_referrals(engine, filters, threshold)
    frame = protected.raw.by_month
    names = [f"month:{m:%Y-%m}" for m in frame["month_start"]]
    result = _count_frame(protected, frame, "month_start", names)
    month_end = result["month_start"] + pd.offsets.MonthEnd(0)
    result["is_partial"] = (result["month_start"] < pd.Timestamp(filters.start)) | (
        month_end > pd.Timestamp(filters.end)
    )
    return result


def referrals_by_stage(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """The referral funnel of the period, privacy rule applied.

    Stages are nested and defined by status as stored now, not by which dates are filled in,
    so each stage contains the next whatever the quality of the dates: referred = every
    referral in the period; assessed = status assessed, declined, admitted, completed or
    dropped_out; admitted = status admitted, completed or dropped_out (the contract's admission
    definition); completed = status completed. Outcomes: in_treatment = status admitted (still
    in treatment); dropped_out; declined (at assessment). Unknown statuses count only as
    referred.

    Grain: one row per stage or outcome, in funnel order. Columns: stage, kind ('stage' or
    'outcome'), referrals (NaN where hidden), referrals_suppressed, of_referrals_pct (share of
    all referrals; NaN where it or the total is hidden), of_referrals_pct_suppressed.
    """
    protected = protected_referrals(engine, filters, threshold)
    rows = [*STAGES, *OUTCOMES]
    frame = pd.DataFrame(
        {"stage": rows, "kind": ["stage"] * len(STAGES) + ["outcome"] * len(OUTCOMES)}
    )
    names = [_STAGE_CELL[s] for s in rows]
    result = _count_frame(protected, frame, "stage", names)
    result.insert(1, "kind", frame["kind"])
    total = protected.values[COUNT]
    hide = [n in protected.hidden or COUNT in protected.hidden for n in names]
    pct = [100.0 * protected.values[n] / total if total else np.nan for n in names]
    result["of_referrals_pct"] = pd.Series(pct, dtype="float64").mask(pd.Series(hide))
    result[flag_column("of_referrals_pct")] = hide
    return result


def median_days_by_county(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Median days from referral to admission, per county, privacy rule applied.

    The contract's `median_days_to_admission` per county (referrals in the period with
    admitted_on set), taken from `queries.indicators.rehab_measures` so it is the very figure
    other pages show; it is suppressed where it rests on 1 to threshold-1 admissions, and null
    where no referral was admitted.

    Grain: one row per county in the selection. Columns: county_code, county_name,
    median_days_to_admission, median_days_to_admission_suppressed.
    """
    frame = rehab_measures(engine, filters, threshold, grain="county")
    columns = [
        "county_code",
        "county_name",
        "median_days_to_admission",
        flag_column("median_days_to_admission"),
    ]
    return frame[columns].sort_values("county_name", kind="stable").reset_index(drop=True)


def rehab_headline(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """The five rehabilitation headline indicators, consistent with the page's breakdowns.

    `queries.indicators.headline` applies this page's protection itself (through
    `headline_hidden`), in the period and the comparison period, so the cards here and on every
    other page hide the same figures.

    Grain: one row per rehab indicator, in REHAB_HEADLINE_KEYS order. Columns: as `headline`.
    """
    frame = headline(engine, filters, threshold, streams=("rehab",)).set_index("indicator")
    return frame.loc[list(REHAB_HEADLINE_KEYS)].reset_index()


def headline_hidden(protected: ProtectedReferrals) -> dict[str, bool]:
    """Which rehab headline figures the Rehabilitation page's breakdowns require hidden, so
    every page and export that shows them hides the same ones."""
    hidden = protected.hidden

    def any_hidden(*names: str) -> bool:
        return any(name in hidden for name in names)

    return {
        "rehab_referrals": any_hidden(COUNT),
        "referral_admission_pct": any_hidden(COUNT, "stage:admitted", "not_admitted"),
        "referral_completion_pct": any_hidden(
            "status:completed", "status:dropped_out", "finished_treatment"
        ),
        "median_days_to_admission": False,  # a median reveals no count; the primary rule holds
        "referral_youth_pct": any_hidden(COUNT, "youth", "not_youth"),
    }


def centres_by_kind(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Rehabilitation centres open by the end of the period, by kind.

    Centres and beds describe no person, so no count here is suppressed; `threshold` is taken
    for the same call signature as every rehab query.

    Grain: one row per kind (contract order, then 'other'), zeros included. Columns: kind,
    centres, capacity.
    """
    del threshold
    found = read_frame(engine, centres_by_kind_select(engine.dialect.name, filters))
    return (
        found.set_index("kind")
        .reindex(list(buckets(CENTRE_KINDS)), fill_value=0)
        .astype({"centres": "int64", "capacity": "int64"})
        .rename_axis("kind")
        .reset_index()
    )


def current_admissions_by_county(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """People in treatment at the end of the period against the capacity where they are.

    See `current_admissions_by_county_select` for the definitions. Current admissions are
    referral counts: 1 to threshold-1 are hidden, and where exactly one of several counties
    would be hidden another is hidden too, so that a total over the selection, should one be
    published, could not reveal it. A table of one county (the single-row rule) keeps its lone
    "<5": there is no other cell to hide and its total is the cell itself. Occupancy is hidden wherever its admissions count is (capacity is
    shown, so the percentage would reveal it).

    Grain: one row per county with capacity or admissions. Columns: county_code, county_name,
    centres, capacity, current_admissions (NaN where hidden), current_admissions_suppressed,
    occupancy_pct, occupancy_pct_suppressed.
    """
    frame = read_frame(engine, current_admissions_by_county_select(engine.dialect.name, filters))
    frame["occupancy_pct"] = pd.to_numeric(frame["occupancy_pct"]).astype("float64")
    frame = suppress_counts(frame, "current_admissions", threshold)
    hidden = frame[flag_column("current_admissions")].astype(bool)
    frame["occupancy_pct"] = frame["occupancy_pct"].mask(hidden)
    frame[flag_column("occupancy_pct")] = hidden.to_numpy()
    return frame


# Every query function the Rehabilitation page loads (for the privacy scan and the page).
PAGE_QUERIES = (
    rehab_headline,
    referrals_by_source,
    referrals_by_substance,
    referrals_by_sex,
    referrals_by_age_band,
    referrals_by_month,
    referrals_by_stage,
    median_days_by_county,
    centres_by_kind,
    current_admissions_by_county,
)
