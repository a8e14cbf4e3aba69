"""Disclosure control of rehabilitation figures (the contract's privacy rule).

Counts between 1 and threshold-1 are removed from frames before they leave the query layer: the
number becomes NaN and a companion `<column>_suppressed` flag is set, so no page, download or
briefing can show it by accident. Secondary suppression then hides a further cell wherever a
published total would let a reader subtract their way back to a suppressed one. Every count
that is shown is then rounded to the nearest multiple of 5, and every rehab share is computed
from rounded counts, so that two selections (one county with and without a small one, periods a
day apart) differ by a multiple of 5 and no difference names a small count: "suppress, then round
to the nearest 5", as OpenSAFELY and NHS England publish (see docs/data-contract.md).
"""

from __future__ import annotations

import logging
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from queries.grain import float_values

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 5
# Every shown rehab count is a multiple of this; fixed, unlike the threshold, because the
# differencing guarantee rests on it being at least the default threshold.
ROUNDING_BASE = 5
THRESHOLD_ENV_VAR = "USALAMA_SUPPRESSION_THRESHOLD"
SUPPRESSED_PCT = "suppressed"


def suppression_threshold(
    environ: dict[str, str] | None = None,
    secrets_file: Path | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> int:
    """The deployment's threshold: env USALAMA_SUPPRESSION_THRESHOLD, then `[privacy] threshold`
    in secrets.toml, else 5. Values below 2 would disable the rule, so they are refused (logged)
    and the default applies. Nothing a user or URL sends reaches this function."""
    from queries.db import SECRETS_FILE

    environ = os.environ if environ is None else environ
    raw: object = environ.get(THRESHOLD_ENV_VAR)
    secrets_file = SECRETS_FILE if secrets_file is None else secrets_file
    if raw is None and secrets is not None:
        raw = (secrets.get("privacy") or {}).get("threshold")
    elif raw is None and secrets_file.exists():
        try:
            raw = tomllib.loads(secrets_file.read_text()).get("privacy", {}).get("threshold")
        except (OSError, tomllib.TOMLDecodeError):
            log.exception("cannot read the privacy threshold from %s", secrets_file)
    if raw is None:
        return DEFAULT_THRESHOLD
    try:
        value = int(str(raw))
    except ValueError:
        log.error("suppression threshold %r is not an integer; using %d", raw, DEFAULT_THRESHOLD)
        return DEFAULT_THRESHOLD
    if value < 2:
        log.error("suppression threshold %d would disable suppression; using %d", value, 5)
        return DEFAULT_THRESHOLD
    return value


def suppressed_label(threshold: int) -> str:
    """How a suppressed count is shown: '<5' for the default threshold."""
    return f"<{threshold}"


ROUNDING_NOTE = (
    f"Every other rehabilitation count is rounded to the nearest {ROUNDING_BASE}, and its "
    "percentages are of the rounded counts, so that two selections cannot be subtracted to "
    "reveal a small count. So a breakdown's parts need not add up to its total exactly."
)


def is_small(count: float | None, threshold: int) -> bool:
    """True for a count the rule hides: 1 to threshold-1."""
    return count is not None and not math.isnan(count) and 1 <= count < threshold


def flag_column(column: str) -> str:
    """The flag set where a column's value is hidden (for any reason)."""
    return f"{column}_suppressed"


def small_column(column: str) -> str:
    """The flag set where a count is hidden because it is itself small (1 to threshold-1), as
    opposed to hidden only to protect another cell: only the former may read '<5'."""
    return f"{column}_small"


def gives_away(hidden_values: Sequence[float], threshold: int) -> bool:
    """Whether a group's hidden cells, beside a published total, pin one of them to one value.

    A reader knows the hidden cells' sum (the total minus the shown cells) and each cell's range
    from its label: '<5' is 1 to threshold-1, 'suppressed' (hidden only to protect another) is at
    least the threshold. A cell is given away when those ranges leave it one possible value: one
    hidden cell alone, two '<5' cells summing to 2, a '<5' beside a 'suppressed' summing to 6
    (so 1 and 5), and so on. A larger cell pinned this way counts too, because in another
    margin it would work like a shown cell and give a small one away.
    """
    if not hidden_values:
        return False
    total = sum(hidden_values)
    small = [1 <= v < threshold for v in hidden_values]
    lows = [1 if is_small_cell else threshold for is_small_cell in small]
    highs = [threshold - 1 if is_small_cell else math.inf for is_small_cell in small]
    for i in range(len(hidden_values)):
        others_high = sum(h for j, h in enumerate(highs) if j != i)
        others_low = sum(low for j, low in enumerate(lows) if j != i)
        lowest = max(lows[i], total - others_high)
        highest = min(highs[i], total - others_low)
        # A label that already names one value ('<2' is 1) is the deployment's choice of
        # threshold, not something the other cells give away.
        if highest <= lowest and lows[i] < highs[i]:
            return True
    return False


def rounded(
    values: pd.Series | np.ndarray | float, base: int = ROUNDING_BASE
) -> pd.Series | np.ndarray | float:
    """Counts rounded to the nearest multiple of `base` (NaN stays NaN). Counts are whole
    numbers and the base is odd, so there is never a tie (with base 5: 0-2 down, 3-4 up)."""
    if isinstance(values, pd.Series | np.ndarray):
        numbers = values.astype("float64")
    else:
        numbers = float(values)
    return np.floor(numbers / base + 0.5) * base


def rounded_pct(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """100 x rounded numerator / rounded denominator, NaN where the rounded denominator is 0.

    A share of true counts, printed unrounded, names its fraction (13/29 = 44.83%); a share of
    rounded counts times the shown, rounded denominator gives back only the rounded numerator.
    """
    top = rounded(float_values(numerator))
    bottom = rounded(float_values(denominator))
    shares = 100.0 * top / np.where(bottom > 0, bottom, np.nan)
    return pd.Series(shares, index=numerator.index, dtype="float64")


def suppress_counts(
    frame: pd.DataFrame,
    count_column: str,
    threshold: int,
    margins: Sequence[Sequence[str]] = ((),),
    also_hidden: pd.Series | None = None,
) -> pd.DataFrame:
    """Primary and secondary suppression of one count column.

    Args:
        frame: one row per cell; `count_column` holds the cell's count.
        count_column: the column to suppress.
        threshold: counts from 1 to threshold-1 are hidden.
        margins: the groupings whose totals are published next to the cells. `()` is the grand
            total over all rows; `("county_code",)` means a total per county is shown, etc.
            Wherever a margin group's hidden cells would give a small one away (see
            `gives_away`), the smallest other non-zero cell of that group is hidden too, until
            no group does.
        also_hidden: cells already hidden for another reason (another output protects them),
            which the margins must protect like any other.

    Returns:
        A copy with the hidden counts set to NaN, every shown count rounded to the nearest 5
        (`rounded`), `<count_column>_suppressed` flags, and `<count_column>_small` flags for the
        counts hidden because they are small themselves.
    """
    result = frame.copy()
    counts = pd.to_numeric(result[count_column], errors="coerce").astype("float64")
    hidden = counts.between(1, threshold - 1)
    if also_hidden is not None:
        hidden |= also_hidden.reindex(result.index, fill_value=False).astype(bool)
    changed = True
    while changed:
        changed = False
        for margin in margins:
            groups = (
                result.groupby(list(margin), dropna=False).indices.values()
                if margin
                else [range(len(result))]
            )
            for positions in groups:
                index = result.index[list(positions)]
                group_hidden = hidden.loc[index]
                if not gives_away(counts.loc[index][group_hidden].tolist(), threshold):
                    continue
                candidates = counts.loc[index][~group_hidden & (counts.loc[index] > 0)]
                if candidates.empty:
                    continue
                hidden.loc[candidates.sort_values(kind="stable").index[0]] = True
                changed = True
    result[count_column] = rounded(counts).mask(hidden)
    result[flag_column(count_column)] = hidden.to_numpy()
    result[small_column(count_column)] = counts.between(1, threshold - 1).to_numpy()
    return result


def suppress_ratio(
    frame: pd.DataFrame,
    value_column: str,
    count_columns: Sequence[str],
    threshold: int,
) -> pd.DataFrame:
    """Hide a percentage or median wherever any count it rests on is 1 to threshold-1.

    The frame is changed in place and returned; `<value_column>_suppressed` is set.
    """
    small = np.zeros(len(frame), dtype=bool)
    for column in count_columns:
        counts = float_values(frame[column])
        small |= (counts >= 1) & (counts <= threshold - 1)
    frame[value_column] = np.where(small, np.nan, float_values(frame[value_column]))
    frame[flag_column(value_column)] = small
    return frame


def labelled_for_display(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """A copy for tables and downloads: a hidden small count reads '<5', any other hidden cell
    'suppressed' (a count hidden only to protect another, or a percentage or median), and the
    `_suppressed` / `_small` flag columns are dropped."""
    result = frame.copy()
    flags = [c for c in result.columns if c.endswith("_suppressed")]
    smalls = [c for c in result.columns if c.endswith("_small")]
    for flag in flags:
        column = flag.removesuffix("_suppressed")
        if column not in result.columns:
            continue
        is_ratio = column.endswith(("_pct", "_rate")) or column.startswith("median_")
        hidden = result[flag].astype(bool).to_numpy()
        small_flag = small_column(column)
        # Without a `_small` flag every hidden count was hidden for being small.
        small = (
            result[small_flag].astype(bool).to_numpy()
            if small_flag in result.columns
            else [True] * len(result)
        )
        # One text column, so tables and CSV files get a single type: numbers as plain, unrounded
        # text (whole numbers without a decimal point), hidden cells as their label, missing as ''.
        result[column] = [
            (SUPPRESSED_PCT if is_ratio or not is_small_cell else suppressed_label(threshold))
            if is_hidden
            else _plain(value)
            for value, is_hidden, is_small_cell in zip(result[column], hidden, small, strict=True)
        ]
    return result.drop(columns=flags + smalls)


def _plain(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)
    # Unrounded: the shortest text that reads back as the same number.
    return str(int(number)) if number.is_integer() else repr(number)


# Joint protection of linked cells: a table published with its totals, or the same people
# counted in several breakdowns, is a system of sums; hide cells until none can be solved for.


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
