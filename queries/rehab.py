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

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    union_all,
)

from queries import dialect as sqld
from queries.db import read_frame
from queries.filters import Filters
from queries.grain import (
    OTHER,
    Grain,
    as_float,
    bucketed,
    float_values,
    group_keys,
    join_onto_dimension,
    with_other,
)
from queries.grain import zero_if_null as _zero
from queries.privacy import (
    Relation,
    flag_column,
    is_small,
    protect_cells,
    rounded,
    rounded_pct,
    small_column,
    suppress_counts,
    suppress_ratio,
)
from queries.reference import with_as_of
from queries.schema import (
    ADMITTED_REFERRAL_STATUSES,
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
from queries.where import (
    area_where,
    county_where,
    followed_up_where,
    period_where,
    until_end_where,
)

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
    "referral_admission_30d_pct",
    "referral_admission_pct",
    "median_days_to_admission",
    "referral_completion_90d_pct",
    "referral_completion_pct",
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


def referred_in_period(filters: Filters) -> list[ColumnElement]:
    r = rehab_referrals
    return [*period_where(r.c.referred_on, filters), *area_where(r, filters)]


REHAB_RATIO_KEYS = (
    "referral_admission_pct",
    "referral_admission_30d_pct",
    "referral_completion_pct",
    "referral_completion_90d_pct",
    "median_days_to_admission",
    "referral_youth_pct",
)

# The contract's rehab measures: the named conditions and expressions each one counts.


def is_admitted() -> ColumnElement:
    """`referral_admission_pct`'s numerator: admitted, completed or dropped out (as stored)."""
    return rehab_referrals.c.status.in_(ADMITTED_REFERRAL_STATUSES)


def days_to_admission(dialect: str) -> ColumnElement:
    """Days from referral to admission of one referral (null while not admitted)."""
    r = rehab_referrals
    return sqld.days_between(dialect, r.c.referred_on, r.c.admitted_on)


def median_days_to_admission(dialect: str) -> ColumnElement:
    """`median_days_to_admission`: over the group's referrals with admitted_on set."""
    return sqld.median(dialect, days_to_admission(dialect))


ADMISSION_FOLLOW_UP_DAYS = 30


def followed_up_for_admission(filters: Filters) -> ColumnElement:
    """`referral_admission_30d_pct`'s denominator test: referred on or before D - 30."""
    return and_(
        *followed_up_where(rehab_referrals.c.referred_on, filters, ADMISSION_FOLLOW_UP_DAYS)
    )


def admitted_within_follow_up(dialect: str) -> ColumnElement:
    """`referral_admission_30d_pct`'s numerator test: admitted at most 30 days after referral
    (null admitted_on is not)."""
    return days_to_admission(dialect) <= ADMISSION_FOLLOW_UP_DAYS


# Treatment takes weeks to months, so a referral made last month has rarely had time to finish:
# the like-for-like completion share looks only at referrals old enough for most treatments to
# end, and counts a completion within that time. Dropping out has no date, so a share of
# finished treatments cannot be followed up the same way.
COMPLETION_FOLLOW_UP_DAYS = 90


def followed_up_for_completion(filters: Filters) -> ColumnElement:
    """`referral_completion_90d_pct`'s denominator test: referred on or before D - 90."""
    return and_(
        *followed_up_where(rehab_referrals.c.referred_on, filters, COMPLETION_FOLLOW_UP_DAYS)
    )


def days_to_completion(dialect: str) -> ColumnElement:
    """Days from referral to completed treatment of one referral (null until completed)."""
    r = rehab_referrals
    return sqld.days_between(dialect, r.c.referred_on, r.c.completed_on)


def completed_within_follow_up(dialect: str) -> ColumnElement:
    """`referral_completion_90d_pct`'s numerator test: completed_on at most 90 days after
    referral (null completed_on is not)."""
    return days_to_completion(dialect) <= COMPLETION_FOLLOW_UP_DAYS


def is_youth() -> ColumnElement:
    """`referral_youth_pct`'s numerator: aged 15-34."""
    return rehab_referrals.c.age_band.in_(YOUTH_AGE_BANDS)


# The counts each rehab ratio rests on, complements included: a percentage of a shown total
# reveals both the count it measures and the count it leaves out.
_REHAB_SUPPORT = {
    "referral_admission_pct": ("n_admitted", "n_not_admitted", "rehab_referrals"),
    "referral_admission_30d_pct": ("n_admitted_30d", "n_not_admitted_30d", "n_followed_30d"),
    "referral_completion_pct": ("n_completed", "n_dropped_out", "n_completion_base"),
    "referral_completion_90d_pct": ("n_completed_90d", "n_not_completed_90d", "n_followed_90d"),
    "median_days_to_admission": ("n_with_admission",),
    "referral_youth_pct": ("n_youth", "n_not_youth", "rehab_referrals"),
}


# Each rehab share's numerator and denominator count.
_REHAB_SHARES = {
    "referral_admission_pct": ("n_admitted", "rehab_referrals"),
    "referral_admission_30d_pct": ("n_admitted_30d", "n_followed_30d"),
    "referral_completion_pct": ("n_completed", "n_completion_base"),
    "referral_completion_90d_pct": ("n_completed_90d", "n_followed_90d"),
    "referral_youth_pct": ("n_youth", "rehab_referrals"),
}


def rehab_measures_select(dialect: str, filters: Filters, grain: Grain = None) -> Select:
    """Rehabilitation indicators before suppression, with the counts each one rests on.

    Columns: [dimension columns], rehab_referrals, the ratios of REHAB_RATIO_KEYS, and the
    support counts each rests on (`_REHAB_SUPPORT`: n_admitted, n_completed, n_followed_30d ...
    and their complements n_not_admitted, n_dropped_out ...), which `rehab_measures` drops
    after suppression; they are never shown.
    """
    r = rehab_referrals
    keys = group_keys(r, grain)
    referred = (
        select(
            *keys,
            func.count().label("referrals"),
            sqld.count_where(is_admitted()).label("admitted"),
            sqld.count_where(r.c.status == "completed").label("completed"),
            sqld.count_where(r.c.status.in_(("completed", "dropped_out"))).label("completion_base"),
            func.count(r.c.admitted_on).label("with_admission"),
            median_days_to_admission(dialect).label("median_days"),
            sqld.count_where(is_youth()).label("youth"),
            sqld.count_where(followed_up_for_admission(filters)).label("followed_30d"),
            sqld.count_where(
                and_(followed_up_for_admission(filters), admitted_within_follow_up(dialect))
            ).label("admitted_30d"),
            sqld.count_where(followed_up_for_completion(filters)).label("followed_90d"),
            sqld.count_where(
                and_(followed_up_for_completion(filters), completed_within_follow_up(dialect))
            ).label("completed_90d"),
        )
        .where(*referred_in_period(filters))
        .group_by(*keys)
    )
    joined, _, (ref,), dims = join_onto_dimension(filters, grain, [referred])
    n = _zero(ref.c.referrals)
    return (
        select(
            *dims,
            n.label("rehab_referrals"),
            sqld.pct(ref.c.admitted, n).label("referral_admission_pct"),
            sqld.pct(ref.c.admitted_30d, ref.c.followed_30d).label("referral_admission_30d_pct"),
            sqld.pct(ref.c.completed, ref.c.completion_base).label("referral_completion_pct"),
            sqld.pct(ref.c.completed_90d, ref.c.followed_90d).label("referral_completion_90d_pct"),
            ref.c.median_days.label("median_days_to_admission"),
            sqld.pct(ref.c.youth, n).label("referral_youth_pct"),
            _zero(ref.c.admitted).label("n_admitted"),
            _zero(ref.c.completed).label("n_completed"),
            _zero(ref.c.completion_base).label("n_completion_base"),
            _zero(ref.c.with_admission).label("n_with_admission"),
            _zero(ref.c.youth).label("n_youth"),
            (n - _zero(ref.c.admitted)).label("n_not_admitted"),
            (_zero(ref.c.completion_base) - _zero(ref.c.completed)).label("n_dropped_out"),
            (n - _zero(ref.c.youth)).label("n_not_youth"),
            _zero(ref.c.followed_30d).label("n_followed_30d"),
            _zero(ref.c.admitted_30d).label("n_admitted_30d"),
            (_zero(ref.c.followed_30d) - _zero(ref.c.admitted_30d)).label("n_not_admitted_30d"),
            _zero(ref.c.followed_90d).label("n_followed_90d"),
            _zero(ref.c.completed_90d).label("n_completed_90d"),
            (_zero(ref.c.followed_90d) - _zero(ref.c.completed_90d)).label("n_not_completed_90d"),
        )
        .select_from(joined)
        .order_by(*dims)
    )


def rehab_measures(
    engine: Engine, filters: Filters, threshold: int, grain: Grain = None
) -> pd.DataFrame:
    """Rehabilitation indicators with the privacy rule applied.

    Grain: one row overall, per county or per ward. Columns: [dimension columns],
    rehab_referrals (NaN where suppressed), the rehab ratios of REHAB_RATIO_KEYS (NaN where
    suppressed), and a `<column>_suppressed` flag for each. With a county or ward grain the rows
    are published with their total, so secondary suppression runs across them.
    """
    filters = with_as_of(engine, filters)
    frame = read_frame(engine, rehab_measures_select(sqld.dialect_of(engine), filters, grain))
    frame = as_float(frame, list(REHAB_RATIO_KEYS))
    # Shares are published from rounded counts (queries.privacy.rounded_pct), so that a share
    # times its shown denominator gives back no more than the rounded numerator.
    for key, (numerator, denominator) in _REHAB_SHARES.items():
        frame[key] = rounded_pct(frame[numerator], frame[denominator])
    for key, support in _REHAB_SUPPORT.items():
        frame = suppress_ratio(frame, key, support, threshold)
    protection = _rehab_page_protection(engine, filters, threshold, grain, frame)
    for key in REHAB_RATIO_KEYS:
        hide = protection[key].to_numpy(dtype=bool)
        frame[key] = np.where(hide, np.nan, float_values(frame[key]))
        frame[flag_column(key)] = frame[flag_column(key)].to_numpy(dtype=bool) | hide
    frame = suppress_counts(
        frame, "rehab_referrals", threshold, also_hidden=protection["rehab_referrals"]
    )
    # A share of referrals, printed unrounded, gives its denominator away: where the count is
    # hidden to protect another cell, the shares of it go too.
    count_hidden = frame[flag_column("rehab_referrals")].to_numpy(dtype=bool)
    for key in ("referral_admission_pct", "referral_youth_pct"):
        frame[key] = np.where(count_hidden, np.nan, float_values(frame[key]))
        frame[flag_column(key)] = frame[flag_column(key)].to_numpy(dtype=bool) | count_hidden
    return frame.drop(columns=[c for c in frame.columns if c.startswith("n_")])


def _rehab_page_protection(
    engine: Engine, filters: Filters, threshold: int, grain: Grain, frame: pd.DataFrame
) -> dict[str, pd.Series]:
    """What the Rehabilitation page's breakdowns hide for the same selection, per row and rehab
    key, so that no page or export shows a figure another page protects (the funnel and the
    admission share, say, would together give a small count of people still in treatment away).

    Per county, each county is protected as the page would protect it with that county chosen.
    Per ward, the shares are not published at all (a ward is too small a place).
    """
    keys = ("rehab_referrals", *REHAB_RATIO_KEYS)
    protection = {key: pd.Series(False, index=frame.index) for key in keys}
    if grain == "ward":
        for key in REHAB_RATIO_KEYS:
            protection[key][:] = True
        return protection
    if grain is None:
        protected = {frame.index[0]: protected_referrals(engine, filters, threshold)}
    else:
        counts = frame["rehab_referrals"].astype("float64")
        rows = {code: row for row, code in frame["county_code"].items() if counts[row] >= threshold}
        raws = _read_raw_per_county(engine, filters, list(rows)) if rows else {}
        protected = {rows[code]: _protected(raw, threshold) for code, raw in raws.items()}
    for row, cells in protected.items():
        for key, is_hidden in headline_hidden(cells).items():
            protection[key][row] = is_hidden
    return protection


def referral_counts_select(dialect: str, filters: Filters, per_county: bool = False) -> Select:
    """Referrals in the period by each enumerated column, before suppression.

    Grain: one row per dimension per bucket that has referrals (per county too with
    `per_county`). Columns: [county_code], dimension (source, substance, sex, age_band, status),
    value (an allowed value or 'other'), referrals.
    """
    sqld.check_supported(dialect)
    r = rehab_referrals
    split = [r.c.county_code] if per_county else []
    parts = []
    for dimension, allowed in DIMENSIONS.items():
        # Bucket in a subquery so the outer GROUP BY names a plain column: PostgreSQL would see
        # the CASE's bound parameters in SELECT and GROUP BY as different expressions.
        inner = (
            select(*split, bucketed(r.c[dimension], allowed).label("value"))
            .where(*referred_in_period(filters))
            .subquery(f"by_{dimension}")
        )
        keys = [inner.c.county_code] if per_county else []
        parts.append(
            select(
                *keys,
                literal(dimension).label("dimension"),
                inner.c.value,
                func.count().label(COUNT),
            ).group_by(*keys, inner.c.value)
        )
    union = union_all(*parts).subquery("counts")
    return select(*union.c)


def referrals_by_month_select(dialect: str, filters: Filters, per_county: bool = False) -> Select:
    """Referrals in the period by calendar month, before suppression.

    Grain: one row per month with referrals (per county too with `per_county`). Columns:
    [county_code], month_start (date), referrals.
    """
    r = rehab_referrals
    split = [r.c.county_code] if per_county else []
    inner = (
        select(*split, sqld.month_start(dialect, r.c.referred_on).label("month_start"))
        .where(*referred_in_period(filters))
        .subquery("months")
    )
    keys = [inner.c.county_code] if per_county else []
    return select(*keys, inner.c.month_start, func.count().label(COUNT)).group_by(
        *keys, inner.c.month_start
    )


def centres_by_kind_select(dialect: str, filters: Filters) -> Select:
    """Rehabilitation centres open by the end of the period in the selection, by kind.

    Grain: one row per kind (unknown kinds as 'other') with centres. Columns: kind, centres,
    capacity (summed beds or places).
    """
    sqld.check_supported(dialect)
    c = rehab_centres
    inner = (
        select(bucketed(c.c.kind, CENTRE_KINDS).label("kind"), c.c.capacity)
        .where(*until_end_where(c.c.opened_on, filters), *area_where(c, filters))
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
        .where(*until_end_where(c.c.opened_on, filters), *place)
        .group_by(c.c.county_code)
        .subquery("capacity")
    )
    admitted = (
        select(c.c.county_code, func.count().label("current_admissions"))
        .select_from(r.join(c, c.c.id == r.c.centre_id))
        .where(r.c.status == "admitted", *until_end_where(r.c.admitted_on, filters), *place)
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
class _Raw:
    """A selection's referral counts before suppression.

    counts: per dimension, every bucket (its allowed values in order, then 'other') -> count.
    months: every month overlapping the period, in order -> count.
    """

    counts: dict[str, dict[str, int]]
    months: dict[pd.Timestamp, int]

    def by_dimension(self, dimension: str) -> pd.DataFrame:
        """Columns: the dimension's bucket, referrals (int64); zeros included."""
        buckets = self.counts[dimension]
        return pd.DataFrame(
            {dimension: list(buckets), COUNT: pd.array(list(buckets.values()), dtype="int64")}
        )

    @property
    def by_month(self) -> pd.DataFrame:
        """Columns: month_start (datetime64), referrals (int64); zeros included."""
        return pd.DataFrame(
            {
                "month_start": pd.DatetimeIndex(list(self.months)),
                COUNT: pd.array(list(self.months.values()), dtype="int64"),
            }
        )


def _read_raw(engine: Engine, filters: Filters) -> _Raw:
    dialect = sqld.dialect_of(engine)
    counts = read_frame(engine, referral_counts_select(dialect, filters))
    months = read_frame(engine, referrals_by_month_select(dialect, filters))
    return _raws_from(counts, months, filters, None)[None]


def _read_raw_per_county(engine: Engine, filters: Filters, codes: Sequence[str]) -> dict[str, _Raw]:
    """`_read_raw` of each county `code` on its own (wards dropped), in two statements for all."""
    dialect = sqld.dialect_of(engine)
    whole = replace(filters, counties=tuple(codes), wards=())
    counts = read_frame(engine, referral_counts_select(dialect, whole, per_county=True))
    months = read_frame(engine, referrals_by_month_select(dialect, whole, per_county=True))
    return _raws_from(counts, months, filters, codes)


def _raws_from(
    counts: pd.DataFrame, months: pd.DataFrame, filters: Filters, codes: Sequence[str] | None
) -> dict[str | None, _Raw]:
    """The statements' rows as one `_Raw` per county `code` (per_county statements), or one
    keyed None. Plain dictionaries, filled in one pass over the rows: per county and dimension
    with pandas, the league's 47 counties cost 0.6 s of Python on every page that shows it."""
    keys: list[str | None] = [None] if codes is None else list(codes)
    grid = pd.date_range(
        pd.Timestamp(filters.start.replace(day=1)), pd.Timestamp(filters.end), freq="MS"
    )
    raws = {
        key: _Raw(
            {d: dict.fromkeys(with_other(allowed), 0) for d, allowed in DIMENSIONS.items()},
            dict.fromkeys(grid, 0),
        )
        for key in keys
    }

    def owners(frame: pd.DataFrame) -> list:
        return [None] * len(frame) if codes is None else frame["county_code"].tolist()

    for key, dimension, value, n in zip(
        owners(counts), counts["dimension"], counts["value"], counts[COUNT], strict=True
    ):
        buckets = raws[key].counts[dimension] if key in raws else {}
        if value in buckets:
            buckets[value] = int(n)
    starts = pd.to_datetime(months["month_start"])
    for key, month, n in zip(owners(months), starts, months[COUNT], strict=True):
        per_month = raws[key].months if key in raws else {}
        if month in per_month:
            per_month[month] = int(n)
    return raws


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

    total = cell(COUNT, sum(raw.counts["status"].values()))
    for dimension, buckets in raw.counts.items():
        parts = [cell(f"{dimension}:{v}", n) for v, n in buckets.items()]
        relations.append(Relation(total, tuple(parts)))

    # Age: the youth share (a headline card) publishes the youth and non-youth counts.
    bands = list(raw.counts["age_band"])
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

    months = [f"month:{m:%Y-%m}" for m in raw.months]
    for name, n in zip(months, raw.months.values(), strict=True):
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
        """The cell as published: NaN where hidden, else rounded to the nearest 5."""
        return float("nan") if name in self.hidden else float(rounded(self.values[name]))


def protected_referrals(engine: Engine, filters: Filters, threshold: int) -> ProtectedReferrals:
    """Read a selection's referral counts and decide, jointly, which cells the rule hides.

    The completion percentage, where another page shows it, is a ratio of completed to
    finished treatment: with it, any one of completed, dropped out and finished reveals the
    other two, so those three are hidden together.
    """
    sqld.check_supported(sqld.dialect_of(engine))
    return _protected(_read_raw(engine, filters), threshold)


def _protected(raw: _Raw, threshold: int) -> ProtectedReferrals:
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
    frame = protected.raw.by_dimension(dimension)
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
    hide = [n in protected.hidden or COUNT in protected.hidden for n in names]
    pct = rounded_pct(
        pd.Series([protected.values[n] for n in names]),
        pd.Series([protected.values[COUNT]] * len(names)),
    )
    result["of_referrals_pct"] = pct.mask(pd.Series(hide))
    result[flag_column("of_referrals_pct")] = hide
    return result


def median_days_by_county(engine: Engine, filters: Filters, threshold: int) -> pd.DataFrame:
    """Median days from referral to admission, per county, privacy rule applied.

    The contract's `median_days_to_admission` per county (referrals in the period with
    admitted_on set), taken from `rehab_measures` so it is the very figure
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


def headline_hidden(protected: ProtectedReferrals) -> dict[str, bool]:
    """Which rehab headline figures the Rehabilitation page's breakdowns require hidden, so
    every page and export that shows them hides the same ones."""
    hidden = protected.hidden

    def any_hidden(*names: str) -> bool:
        return any(name in hidden for name in names)

    return {
        "rehab_referrals": any_hidden(COUNT),
        "referral_admission_pct": any_hidden(COUNT, "stage:admitted", "not_admitted"),
        # Its own counts are checked by the primary rule; hiding it with the total keeps a
        # share of a hidden total from narrowing that total down.
        "referral_admission_30d_pct": any_hidden(COUNT),
        "referral_completion_90d_pct": any_hidden(COUNT),
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
    found = read_frame(engine, centres_by_kind_select(sqld.dialect_of(engine), filters))
    return (
        found.set_index("kind")
        .reindex(list(with_other(CENTRE_KINDS)), fill_value=0)
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
    frame = read_frame(
        engine, current_admissions_by_county_select(sqld.dialect_of(engine), filters)
    )
    # Capacity is shown exactly, so occupancy rests on the rounded admissions.
    capacity = pd.to_numeric(frame["capacity"]).astype("float64")
    admissions = rounded(pd.to_numeric(frame["current_admissions"]))
    frame["occupancy_pct"] = 100.0 * admissions / capacity.where(capacity > 0)
    frame = suppress_counts(frame, "current_admissions", threshold)
    hidden = frame[flag_column("current_admissions")].astype(bool)
    frame["occupancy_pct"] = frame["occupancy_pct"].mask(hidden)
    frame[flag_column("occupancy_pct")] = hidden.to_numpy()
    return frame


# Every query function the Rehabilitation page loads (for the privacy scan and the page).
PAGE_QUERIES = (
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
