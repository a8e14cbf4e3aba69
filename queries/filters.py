"""The one filter object (period, comparison, counties, wards, access scope) and its URL form.

`Filters` is frozen and hashable: it is the cache key of every query, and it turns into SQL only
as bound parameters (see `queries.indicators`). Parsing a URL never fails: a bad value falls back
to its default and leaves a note that the page shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

PROGRAMME_LAUNCH = dt.date(2025, 6, 8)
# No programme data can be older than this; the date picker offers nothing earlier.
EARLIEST_DATE = dt.date(2020, 1, 1)

PRESETS: dict[str, str] = {
    "last_7_days": "Last 7 days",
    "last_28_days": "Last 28 days",
    "last_90_days": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "this_fy": "This financial year",
    "last_fy": "Last financial year",
    "since_launch": "Since launch (8 Jun 2025)",
    "custom": "Custom range",
}
DEFAULT_PRESET = "last_28_days"
# The order in which the serving copy's warm-up prepares other periods (`other_periods`): first
# what officials report on (the government's financial year, the programme to date, the
# quarter-scale views), the short periods last: asked for unprepared, they cost a fraction of
# a long one.
PRESETS_MOST_ASKED = (
    "this_fy",
    "since_launch",
    "last_90_days",
    "this_quarter",
    "last_fy",
    "last_month",
    "this_month",
    "last_28_days",
    "last_7_days",
)

COMPARISONS: dict[str, str] = {
    "previous": "Previous period",
    "last_year": "Same period last year",
}
DEFAULT_COMPARISON = "previous"
# Comparisons some tables make beside the user's choices: CompStat's week to date against the
# same weekdays 52 weeks (364 days) earlier, since crime differs between weekdays and the same
# dates a year earlier fall on other ones (Monday-Thursday against Sunday-Wednesday).
SAME_WEEKDAYS_LAST_YEAR = "last_year_weekdays"
_COMPARISON_WORDS = {**COMPARISONS, SAME_WEEKDAYS_LAST_YEAR: "Same weekdays last year"}


# Kenya has kept UTC+3 without daylight saving since 1942, so a fixed offset is exact.
EAT_OFFSET = dt.timedelta(hours=3)


def now_eat() -> dt.datetime:
    """The wall clock in Africa/Nairobi (EAT, UTC+3), naive like every EAT time shown."""
    return (dt.datetime.now(dt.UTC) + EAT_OFFSET).replace(tzinfo=None)


def today_eat() -> dt.date:
    """Today's calendar date in Africa/Nairobi (EAT, UTC+3): the wall clock, used only where no
    data say otherwise (the demo's snapshot day, an empty database's as-of date)."""
    return now_eat().date()


def financial_year_start(day: dt.date) -> dt.date:
    """1 July of the Kenyan government financial year that contains `day`."""
    return dt.date(day.year if day.month >= 7 else day.year - 1, 7, 1)


def financial_year_label(day: dt.date) -> str:
    """'FY 2025/26' for any day from 1 July 2025 to 30 June 2026."""
    start = financial_year_start(day)
    return f"FY {start.year}/{(start.year + 1) % 100:02d}"


def preset_period(preset: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive EAT date range of a preset, ending on the data's as-of date at the latest.

    Raises:
        KeyError: the preset is unknown or is 'custom' (which has no rule).
    """
    if preset in ("last_7_days", "last_28_days", "last_90_days"):
        days = int(preset.split("_")[1])
        return as_of - dt.timedelta(days=days - 1), as_of
    if preset == "this_month":
        return as_of.replace(day=1), as_of
    if preset == "last_month":
        last_month_end = as_of.replace(day=1) - dt.timedelta(days=1)
        return last_month_end.replace(day=1), last_month_end
    if preset == "this_quarter":
        return dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1), as_of
    if preset == "this_fy":
        return financial_year_start(as_of), as_of
    if preset == "last_fy":
        start = financial_year_start(as_of)
        return start.replace(year=start.year - 1), start - dt.timedelta(days=1)
    if preset == "since_launch":
        return PROGRAMME_LAUNCH, as_of
    raise KeyError(preset)


# RA monthly reports are due by the 10th of the month after the month they report on.
REPORT_DUE_DAY = 10


def report_deadline(month: dt.date) -> dt.date:
    """The deadline of the monthly report on `month` (its first day): the 10th of the next
    month."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, REPORT_DUE_DAY)


def latest_due_month(as_of: dt.date) -> dt.date:
    """The first day of the latest month whose report was due on or before `as_of`."""
    first = as_of.replace(day=1)
    back = 1 if as_of.day >= REPORT_DUE_DAY else 2
    month = first.month - back
    return dt.date(first.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def one_year_earlier(day: dt.date) -> dt.date:
    """The same date a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison_period(start: dt.date, end: dt.date, comparison: str) -> tuple[dt.date, dt.date]:
    """The period a selection is compared with: the previous period of the same length, the
    same dates one year earlier, or (`SAME_WEEKDAYS_LAST_YEAR`) the same weekdays 52 weeks
    earlier."""
    if comparison == SAME_WEEKDAYS_LAST_YEAR:
        return start - dt.timedelta(weeks=52), end - dt.timedelta(weeks=52)
    if comparison == "last_year":
        return one_year_earlier(start), one_year_earlier(end)
    length = end - start
    previous_end = start - dt.timedelta(days=1)
    return previous_end - length, previous_end


def comparison_problem(
    start: dt.date,
    end: dt.date,
    comparison: str,
    programme_start: dt.date | None = PROGRAMME_LAUNCH,
    place: str = "the programme",
) -> str | None:
    """Why a period's comparison is not valid, in words for the screen, or None when it is.

    The contract's rule: the comparison period must end before the period starts and must not
    start before the programme's launch or, for one county, the day that county joined.

    Args:
        programme_start: the launch, or the one selected county's programme_start (None: that
            county has not joined the programme).
        place: what started, for the message ("the programme", "Nakuru").
    """
    compare_start, compare_end = comparison_period(start, end, comparison)
    what = _COMPARISON_WORDS[comparison].lower()
    if compare_end >= start:
        return f"No comparison: the {what} overlaps this period."
    if programme_start is None:
        return f"No comparison: {place} has not joined the programme."
    if compare_start < programme_start:
        joined = "began" if place == "the programme" else "joined the programme"
        return (
            f"No comparison: the {what} ({compare_start:%d %b %Y} – {compare_end:%d %b %Y}) "
            f"starts before {place} {joined} on {programme_start:%d %b %Y}."
        )
    return None


def rollout_problem(
    start: dt.date,
    end: dt.date,
    comparison: str,
    joined: Mapping[str, tuple[str, dt.date | None]],
) -> str | None:
    """Why several counties' comparison is not like for like although it starts after the
    launch, or None: a county of theirs joined the programme after the comparison period began
    and by the end of this period, so one side counts it in the programme and the other not.

    Counties join in waves, and a county reports far more once in it: without this rule all
    counties' incidents "rose 72%" on a year earlier because 22 counties had joined since.

    Args:
        joined: county code -> (name, the day it joined, None if it has not), for the counties
            of the selection (`queries.reference.programme_starts`).
    """
    compare_start, _ = comparison_period(start, end, comparison)
    late = sorted(
        (day, name)
        for name, day in joined.values()
        if day is not None and compare_start < day <= end
    )
    if not late:
        return None
    names = [name for _, name in late]
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    counties = "1 county" if len(late) == 1 else f"{len(late)} counties"
    return (
        f"No comparison: {counties} of this selection joined the programme after the "
        f"{_COMPARISON_WORDS[comparison].lower()} began on {compare_start:%d %b %Y} ({listed}); "
        "compare one county at a time."
    )


def selection_comparison_problem(
    start: dt.date,
    end: dt.date,
    comparison: str,
    codes: tuple[str, ...] | None,
    joined: Mapping[str, tuple[str, dt.date | None]],
) -> str | None:
    """Why a selection's comparison is not valid, or None: for exactly one county, the
    contract's rule from the day it joined; otherwise from the launch, and no county of the
    selection may have joined between the comparison's start and the period's end
    (`rollout_problem`). The one rule for the pages' headlines and the warm-up's guesses.

    Args:
        codes: the selection's counties (`Filters.county_codes`; None for every county).
        joined: county code -> (name, the day it joined, None if it has not), for at least
            the selection's counties; others are ignored.
    """
    chosen = joined if codes is None else {c: joined[c] for c in codes if c in joined}
    if codes is not None and len(codes) == 1 and codes[0] in chosen:
        name, day = chosen[codes[0]]
        return comparison_problem(start, end, comparison, day, name)
    return comparison_problem(start, end, comparison) or rollout_problem(
        start, end, comparison, chosen
    )


@dataclass(frozen=True)
class Filters:
    """What the user is looking at, and what they are allowed to see.

    Attributes:
        start, end: the period, inclusive EAT dates.
        preset: the period preset that produced start/end, or 'custom'.
        comparison: 'previous' or 'last_year'.
        counties: chosen county codes, sorted; empty means every county in scope.
        wards: chosen ward codes (only with exactly one county), sorted; empty means all.
        scope: the county codes this user may see, sorted; None for national access.
        as_of: the contract's as-of date D: the data are complete up to its end and nothing
            after it is known. None: the database's default (the EAT date of the latest
            incident report), which `queries.indicators` resolves.
    """

    start: dt.date
    end: dt.date
    preset: str = DEFAULT_PRESET
    comparison: str = DEFAULT_COMPARISON
    counties: tuple[str, ...] = ()
    wards: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = field(default=None)
    as_of: dt.date | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("start is after end")
        object.__setattr__(self, "counties", tuple(sorted(set(self.counties))))
        object.__setattr__(self, "wards", tuple(sorted(set(self.wards))))
        if self.scope is not None:
            object.__setattr__(self, "scope", tuple(sorted(set(self.scope))))

    @property
    def county_codes(self) -> tuple[str, ...] | None:
        """The counties queries restrict to: the choice within the scope; None means no limit."""
        if self.scope is None:
            return self.counties or None
        chosen = [code for code in self.counties if code in self.scope]
        return tuple(chosen) if chosen else self.scope

    @property
    def ward_codes(self) -> tuple[str, ...] | None:
        """The wards queries restrict to, or None for every ward."""
        return self.wards or None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def comparison_filters(self) -> Filters:
        """The same selection over the comparison period."""
        start, end = comparison_period(self.start, self.end, self.comparison)
        return replace(self, start=start, end=end, preset="custom")

    def with_period(self, start: dt.date, end: dt.date, preset: str = "custom") -> Filters:
        return replace(self, start=start, end=end, preset=preset)

    def to_query_params(self) -> dict[str, str]:
        """The URL form: only what differs from the defaults, so links stay short."""
        params: dict[str, str] = {}
        if self.preset != DEFAULT_PRESET:
            params["period"] = self.preset
        if self.preset == "custom":
            params["from"] = self.start.isoformat()
            params["to"] = self.end.isoformat()
        if self.comparison != DEFAULT_COMPARISON:
            params["compare"] = self.comparison
        if self.counties:
            params["county"] = ",".join(self.counties)
        if self.wards:
            params["ward"] = ",".join(self.wards)
        return params


def counties_or_own(counties: Iterable[str], scope: tuple[str, ...] | None) -> tuple[str, ...]:
    """The chosen counties, or, when none is chosen and the user may see exactly one county,
    that county: a coordinator of one county has it chosen from the start, so that its wards
    can be picked at once (wards need exactly one chosen county)."""
    chosen = tuple(counties)
    if not chosen and scope is not None and len(scope) == 1:
        return tuple(scope)
    return chosen


def filters_from_choices(
    preset: str,
    date_range: tuple[dt.date, dt.date] | None,
    comparison: str,
    counties: Iterable[str],
    wards: Iterable[str],
    as_of: dt.date,
    scope: tuple[str, ...] | None = None,
) -> Filters:
    """The Filters of a choice of period, comparison and places, as a link or the filter bar
    makes it: the one place where a preset becomes its period.

    Args:
        preset: a key of PRESETS.
        date_range: the custom period (inclusive EAT dates), used only when preset is 'custom'.
        comparison: a key of COMPARISONS.
        counties: the chosen county codes; none means every county in scope (and, for a
            scope of one county, that county: `counties_or_own`).
        wards: the chosen ward codes; none means every ward.
        as_of: the data's as-of date, which every preset's period ends on at the latest.
        scope: the user's permitted counties, or None for national access.

    Raises:
        KeyError: the preset is unknown.
        ValueError: a custom preset without a date range, or a range that ends before it starts.
    """
    if preset == "custom":
        if date_range is None:
            raise ValueError("a custom period needs a date range")
        start, end = date_range
    else:
        start, end = preset_period(preset, as_of)
    return Filters(
        start=start,
        end=end,
        preset=preset,
        comparison=comparison,
        counties=counties_or_own(counties, scope),
        wards=tuple(wards),
        scope=scope,
        as_of=as_of,
    )


def other_periods(
    filters: Filters, joined: Mapping[str, tuple[str, dt.date | None]] | None = None
) -> list[Filters]:
    """The same selection over every other preset's period (in `PRESETS_MOST_ASKED` order),
    as the filter bar makes them on the same as-of date; for the comparison of a preset's
    period (a custom period equal to one), the valid comparisons of every other preset. What
    one click on the Period widget asks for next, so the serving copy's warm-up can have it
    ready (dashboard/data.py).

    `joined` (county code -> name and the day it joined; `queries.reference.programme_starts`)
    judges comparisons as pages do (`selection_comparison_problem`: a county's own start, the
    roll-out); without it, by the launch alone, which keeps some no page asks for.

    Only the period changes: scope, places, comparison and as-of date are kept, so a result
    computed for one of these is exactly the one that user's page would ask for. Presets that
    name days already listed (or the chosen days) are left out. Empty for a
    custom period that is no preset's comparison, or without an as-of date."""
    if filters.as_of is None:
        return []
    periods = {preset: preset_period(preset, filters.as_of) for preset in PRESETS_MOST_ASKED}
    periods = {preset: (start, end) for preset, (start, end) in periods.items() if start <= end}
    chosen = (filters.start, filters.end)
    if filters.preset in periods:
        # A preset naming the same days as the chosen one or an earlier one (on 2 July, this
        # month, this quarter and this financial year) has the same figures: one guess.
        seen = {chosen}
        others = []
        for preset, (start, end) in periods.items():
            if preset != filters.preset and (start, end) not in seen:
                seen.add((start, end))
                others.append(replace(filters, start=start, end=end, preset=preset))
        return others
    if filters.preset != "custom":
        return []
    # A page asks for a comparison only when it is valid (pages compare nothing otherwise).
    # No joining days known: the rule with none gives the launch's alone.
    compared = [
        comparison_period(start, end, filters.comparison)
        for start, end in periods.values()
        if selection_comparison_problem(
            start, end, filters.comparison, filters.county_codes, joined or {}
        )
        is None
    ]
    if chosen not in compared:
        return []
    return [
        replace(filters, start=start, end=end)
        for start, end in dict.fromkeys(compared)
        if (start, end) != chosen
    ]


def other_counties(filters: Filters, county_codes: Iterable[str]) -> list[Filters]:
    """The same selection with one other county chosen, for each of `county_codes` (in that
    order) the user may see, as the filter bar makes it (wards cleared, since they belong to
    the county left); and every county in scope again when one is chosen now. What one click
    on the County widget asks for next, so the serving copy's warm-up can have it ready.

    Only the counties change: scope, period, comparison and as-of date are kept. Empty for a
    user who can see only one county."""
    allowed = [
        code
        for code in dict.fromkeys(county_codes)
        if filters.scope is None or code in filters.scope
    ]
    if len(allowed) < 2:
        return []
    chosen = [replace(filters, counties=(), wards=())] if filters.counties or filters.wards else []
    return chosen + [
        replace(filters, counties=(code,), wards=())
        for code in allowed
        if (code,) != filters.counties or filters.wards
    ]


# A value from a link is echoed back at most this long: enough to recognise, never a page.
LINK_VALUE_SHOWN_CHARS = 40


def shown_link_value(value: str) -> str:
    """A value taken from a link, as a note may quote it: control characters (a newline could
    start a forged log line) become spaces, and it is cut to LINK_VALUE_SHOWN_CHARS characters.
    The page still escapes it before rendering, as it escapes every note."""
    printable = "".join(ch if ch.isprintable() else " " for ch in value)
    if len(printable) > LINK_VALUE_SHOWN_CHARS:
        printable = printable[: LINK_VALUE_SHOWN_CHARS - 1] + "…"
    return f"'{printable}'"


def _shown_codes(codes: list[str]) -> str:
    listed = ", ".join(shown_link_value(code) for code in codes[:5])
    return listed + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")


def _param(params: Mapping[str, str | list[str]], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    return value.strip() if isinstance(value, str) else None


def _codes(raw: str | None) -> list[str]:
    return [code.strip() for code in (raw or "").split(",") if code.strip()]


def filters_from_query_params(
    params: Mapping[str, str | list[str]],
    as_of: dt.date,
    known_counties: Iterable[str],
    wards_by_county: Mapping[str, Iterable[str]] | None = None,
    scope: tuple[str, ...] | None = None,
) -> tuple[Filters, list[str]]:
    """Build Filters from URL query parameters; never raises.

    Args:
        params: the URL's query parameters (period, from, to, compare, county, ward).
        as_of: the data's as-of date: presets end on it, and a custom period may not pass it.
        known_counties: every county code in the database.
        wards_by_county: ward codes of each county, to validate `ward`.
        scope: the user's permitted counties, or None for national access.

    Returns:
        The filters, and notes (one per value that was ignored) for the page to show.
    """
    notes: list[str] = []
    known = set(known_counties)

    preset = _param(params, "period") or DEFAULT_PRESET
    if preset not in PRESETS:
        notes.append(
            f"Unknown period {shown_link_value(preset)}: showing {PRESETS[DEFAULT_PRESET].lower()}."
        )
        preset = DEFAULT_PRESET

    date_range: tuple[dt.date, dt.date] | None = None
    if preset == "custom":
        try:
            start = dt.date.fromisoformat(_param(params, "from") or "")
            end = dt.date.fromisoformat(_param(params, "to") or "")
            if start > end:
                raise ValueError("from is after to")
            if start < EARLIEST_DATE or end > as_of:
                raise ValueError("outside the dates the dashboard covers")
            date_range = (start, end)
        except ValueError:
            notes.append(
                "The custom dates in the link are missing or invalid (use YYYY-MM-DD, from on or "
                f"before to, between {EARLIEST_DATE:%d %b %Y} and {as_of:%d %b %Y}, the date the "
                "data run to): showing "
                f"{PRESETS[DEFAULT_PRESET].lower()}."
            )
            preset = DEFAULT_PRESET

    comparison = _param(params, "compare") or DEFAULT_COMPARISON
    if comparison not in COMPARISONS:
        notes.append(
            f"Unknown comparison {shown_link_value(comparison)}: comparing with the previous "
            "period."
        )
        comparison = DEFAULT_COMPARISON

    requested = _codes(_param(params, "county"))
    counties = [code for code in requested if code in known]
    unknown = [code for code in requested if code not in known]
    if unknown:
        notes.append(f"Unknown county code(s) ignored: {_shown_codes(unknown)}.")
    if scope is not None:
        outside = [code for code in counties if code not in scope]
        if outside:
            notes.append(
                "Your access covers only " + ", ".join(scope) + "; other counties in the link "
                "were ignored."
            )
        counties = [code for code in counties if code in scope]
    counties = list(counties_or_own(counties, scope))

    wards = _codes(_param(params, "ward"))
    if wards:
        if len(counties) != 1:
            notes.append("Wards can be chosen only with exactly one county; wards ignored.")
            wards = []
        else:
            valid = set((wards_by_county or {}).get(counties[0], ()))
            bad = [code for code in wards if code not in valid]
            if bad:
                notes.append(f"Ward code(s) not in the chosen county ignored: {_shown_codes(bad)}.")
            wards = [code for code in wards if code in valid]

    filters = filters_from_choices(preset, date_range, comparison, counties, wards, as_of, scope)
    return filters, notes
