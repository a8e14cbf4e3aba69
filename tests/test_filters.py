"""The filter object: presets, comparisons, and URL parsing that never fails."""

from __future__ import annotations

import datetime as dt

import pytest

from queries.filters import (
    PRESETS,
    PRESETS_MOST_ASKED,
    Filters,
    comparison_period,
    filters_from_choices,
    filters_from_query_params,
    financial_year_label,
    other_counties,
    other_periods,
    preset_period,
)

D = dt.date
TODAY = D(2026, 11, 28)  # a Saturday in FY 2026/27, Q4
KNOWN = ["001", "032", "047"]
WARDS = {"032": ["KEW-0900", "KEW-0901"], "001": ["KEW-0001"]}


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("last_7_days", (D(2026, 11, 22), TODAY)),
        ("last_28_days", (D(2026, 11, 1), TODAY)),
        ("last_90_days", (D(2026, 8, 31), TODAY)),
        ("this_month", (D(2026, 11, 1), TODAY)),
        ("last_month", (D(2026, 10, 1), D(2026, 10, 31))),
        ("this_quarter", (D(2026, 10, 1), TODAY)),
        ("this_fy", (D(2026, 7, 1), TODAY)),
        ("last_fy", (D(2025, 7, 1), D(2026, 6, 30))),
        ("since_launch", (D(2025, 6, 8), TODAY)),
    ],
)
def test_presets(preset: str, expected: tuple[dt.date, dt.date]) -> None:
    assert preset_period(preset, TODAY) == expected


def test_last_month_in_january_and_fy_in_june() -> None:
    assert preset_period("last_month", D(2026, 1, 15)) == (D(2025, 12, 1), D(2025, 12, 31))
    assert preset_period("this_fy", D(2026, 6, 30)) == (D(2025, 7, 1), D(2026, 6, 30))
    assert financial_year_label(D(2026, 6, 30)) == "FY 2025/26"
    assert financial_year_label(D(2026, 7, 1)) == "FY 2026/27"


@pytest.mark.parametrize(
    ("start", "end", "mode", "expected"),
    [
        (D(2025, 7, 1), D(2025, 7, 31), "previous", (D(2025, 5, 31), D(2025, 6, 30))),
        (D(2025, 7, 7), D(2025, 7, 13), "previous", (D(2025, 6, 30), D(2025, 7, 6))),
        (D(2025, 7, 1), D(2025, 7, 31), "last_year", (D(2024, 7, 1), D(2024, 7, 31))),
        (D(2028, 2, 29), D(2028, 3, 1), "last_year", (D(2027, 2, 28), D(2027, 3, 1))),
    ],
)
def test_comparison_periods(start, end, mode, expected) -> None:
    assert comparison_period(start, end, mode) == expected


def test_filters_are_hashable_and_normalised() -> None:
    a = Filters(start=D(2025, 7, 1), end=D(2025, 7, 2), counties=("047", "001", "047"))
    b = Filters(start=D(2025, 7, 1), end=D(2025, 7, 2), counties=("001", "047"))
    assert a == b and hash(a) == hash(b) and a.counties == ("001", "047")
    assert a != Filters(
        start=D(2025, 7, 1), end=D(2025, 7, 2), counties=("001", "047"), scope=("001",)
    )


@pytest.mark.parametrize(
    ("params", "expected_counties", "expected_period", "notes"),
    [
        ({}, (), (D(2026, 11, 1), TODAY), 0),
        ({"county": "032,001"}, ("001", "032"), (D(2026, 11, 1), TODAY), 0),
        ({"county": "032,999"}, ("032",), (D(2026, 11, 1), TODAY), 1),
        ({"period": "fortnight"}, (), (D(2026, 11, 1), TODAY), 1),
        (
            {"period": "custom", "from": "2025-07-01", "to": "2025-07-31"},
            (),
            (D(2025, 7, 1), D(2025, 7, 31)),
            0,
        ),
        (
            {"period": "custom", "from": "2025-07-31", "to": "2025-07-01"},
            (),
            (D(2026, 11, 1), TODAY),
            1,
        ),
        ({"period": "custom", "from": "yesterday"}, (), (D(2026, 11, 1), TODAY), 1),
        ({"period": "last_fy", "compare": "decade"}, (), (D(2025, 7, 1), D(2026, 6, 30)), 1),
        ({"county": ["001", "032"]}, ("032",), (D(2026, 11, 1), TODAY), 0),
    ],
)
def test_url_parsing_falls_back_with_notes(params, expected_counties, expected_period, notes):
    filters, messages = filters_from_query_params(params, TODAY, KNOWN, WARDS)
    assert filters.counties == expected_counties
    assert (filters.start, filters.end) == expected_period
    assert len(messages) == notes


def test_wards_need_exactly_one_county_and_must_belong_to_it() -> None:
    filters, notes = filters_from_query_params(
        {"county": "032", "ward": "KEW-0900,KEW-0001"}, TODAY, KNOWN, WARDS
    )
    assert filters.wards == ("KEW-0900",) and len(notes) == 1
    filters, notes = filters_from_query_params(
        {"county": "032,001", "ward": "KEW-0900"}, TODAY, KNOWN, WARDS
    )
    assert filters.wards == () and len(notes) == 1


@pytest.mark.parametrize("county_param", ["047", "001", "all", "047,001,032", "", "032"])
def test_a_county_user_never_leaves_their_scope(county_param: str) -> None:
    filters, _ = filters_from_query_params(
        {"county": county_param}, TODAY, KNOWN, WARDS, scope=("032",)
    )
    assert filters.county_codes == ("032",)


def test_a_one_county_user_has_their_county_chosen_so_wards_can_follow() -> None:
    # With no county in the link (or a county outside the scope), wards of the user's county
    # are valid at once; a national user still needs to choose one county.
    for params in ({"ward": "KEW-0900"}, {"county": "047", "ward": "KEW-0900"}):
        filters, _ = filters_from_query_params(params, TODAY, KNOWN, WARDS, scope=("032",))
        assert filters.counties == ("032",) and filters.wards == ("KEW-0900",)
    national, notes = filters_from_query_params({"ward": "KEW-0900"}, TODAY, KNOWN, WARDS)
    assert national.counties == () and national.wards == () and len(notes) == 1
    # A scope of several counties chooses none of them for the user.
    several = filters_from_choices("last_month", None, "previous", [], [], TODAY, ("001", "032"))
    assert several.counties == () and several.county_codes == ("001", "032")


def test_url_round_trip() -> None:
    original = Filters(
        start=D(2025, 7, 1),
        end=D(2025, 7, 31),
        preset="custom",
        comparison="last_year",
        counties=("032",),
        wards=("KEW-0901",),
        as_of=TODAY,  # from the data, not the link: the same database gives the same one
    )
    parsed, notes = filters_from_query_params(original.to_query_params(), TODAY, KNOWN, WARDS)
    assert parsed == original and notes == []


def test_choices_take_a_preset_period_from_the_as_of_date_and_a_custom_one_as_given() -> None:
    july = (D(2025, 7, 1), D(2025, 7, 31))
    preset = filters_from_choices("last_month", july, "previous", ["047", "001"], [], TODAY)
    assert (preset.start, preset.end) == preset_period("last_month", TODAY)  # range ignored
    assert preset.counties == ("001", "047")
    assert preset.as_of == TODAY
    custom = filters_from_choices("custom", july, "last_year", ["032"], ["KEW-0901"], TODAY)
    assert (custom.start, custom.end, custom.preset) == (*july, "custom")
    with pytest.raises(ValueError):
        filters_from_choices("custom", None, "previous", [], [], TODAY)


@pytest.mark.parametrize("preset", ["last_7_days", "this_quarter", "last_fy", "since_launch"])
def test_the_link_and_the_widgets_give_the_same_filters(preset: str) -> None:
    chosen = filters_from_choices(preset, None, "last_year", ["032"], ["KEW-0900"], TODAY, ("032",))
    parsed, notes = filters_from_query_params(
        chosen.to_query_params(), TODAY, KNOWN, WARDS, scope=("032",)
    )
    assert parsed == chosen and notes == []


def test_other_periods_are_the_filters_the_period_widget_would_make() -> None:
    """What the warm-up prepares must be exactly the page's next cache key: the filter bar's
    Filters for each other preset, with the user's scope, places and comparison."""
    chosen = filters_from_choices(
        "last_28_days", None, "last_year", ["032"], ["KEW-0900"], TODAY, scope=("032", "047")
    )
    others = other_periods(chosen)
    assert {(f.preset, f.start, f.end) for f in others} == {
        ("last_7_days", D(2026, 11, 22), TODAY),
        ("last_90_days", D(2026, 8, 31), TODAY),
        # This month, 1-28 November, is the chosen last 28 days: not a guess of its own.
        ("last_month", D(2026, 10, 1), D(2026, 10, 31)),
        ("this_quarter", D(2026, 10, 1), TODAY),
        ("this_fy", D(2026, 7, 1), TODAY),
        ("last_fy", D(2025, 7, 1), D(2026, 6, 30)),
        ("since_launch", D(2025, 6, 8), TODAY),
    }
    for other in others:
        assert other == filters_from_choices(
            other.preset, None, "last_year", ["032"], ["KEW-0900"], TODAY, scope=("032", "047")
        )
        assert (other.scope, other.counties, other.wards) == (
            ("032", "047"),
            ("032",),
            ("KEW-0900",),
        )


def test_other_periods_name_each_span_of_days_once() -> None:
    """On 2 July this month, this quarter and this financial year are all 1-2 July: one guess
    (the first in the warm-up's order) stands for the three."""
    july_2 = D(2027, 7, 2)
    chosen = filters_from_choices("last_28_days", None, "previous", [], [], july_2)
    spans = [(f.preset, f.start, f.end) for f in other_periods(chosen)]
    assert len({(start, end) for _, start, end in spans}) == len(spans) == 6
    first_of_july = [preset for preset, start, _ in spans if start == D(2027, 7, 1)]
    assert first_of_july == [
        next(p for p in PRESETS_MOST_ASKED if p in {"this_fy", "this_quarter", "this_month"})
    ]
    # Chosen on one of them, the others are not guesses either.
    on_this_month = filters_from_choices("this_month", None, "previous", [], [], july_2)
    assert D(2027, 7, 1) not in {f.start for f in other_periods(on_this_month)}


def test_the_warm_up_order_of_periods_names_every_preset_once() -> None:
    """A preset missing from the order would never be prepared; a typo would crash the
    warm-up."""
    assert sorted(PRESETS_MOST_ASKED) == sorted(p for p in PRESETS if p != "custom")


def test_other_periods_of_a_comparison_are_the_other_valid_comparisons() -> None:
    chosen = filters_from_choices("last_28_days", None, "previous", [], [], TODAY)
    compared = chosen.comparison_filters()  # 4-31 Oct 2026, also this month's comparison
    # Last FY's and since launch's previous periods start before the launch: never asked for.
    assert {(f.start, f.end) for f in other_periods(compared)} == {
        (D(2026, 11, 15), D(2026, 11, 21)),  # last 7 days
        (D(2026, 6, 2), D(2026, 8, 30)),  # last 90 days
        (D(2026, 8, 31), D(2026, 9, 30)),  # last month
        (D(2026, 8, 3), D(2026, 9, 30)),  # this quarter
        (D(2026, 1, 31), D(2026, 6, 30)),  # this financial year
    }
    assert {f.preset for f in other_periods(compared)} == {"custom"}


LAUNCH = D(2025, 6, 8)


def test_other_periods_of_a_comparison_leave_out_those_the_roll_out_makes_invalid() -> None:
    """With the counties' joining days, the warm-up prepares the comparisons pages ask for:
    several counties are compared only when none joined between the comparison's start and
    the period's end; one county only from the day it joined."""
    last_7_days = (D(2026, 11, 15), D(2026, 11, 21))
    last_month = (D(2026, 8, 31), D(2026, 9, 30))
    this_quarter = (D(2026, 8, 3), D(2026, 9, 30))
    joined = {
        "047": ("Nairobi", LAUNCH),
        "001": ("Mombasa", LAUNCH),
        "030": ("Baringo", D(2026, 8, 1)),  # after the 90 days' and the FY's comparisons began
        "010": ("Marsabit", None),
    }
    everyone = filters_from_choices("last_28_days", None, "previous", [], [], TODAY)
    compared = everyone.comparison_filters()  # 4-31 Oct 2026
    spans = {(f.start, f.end) for f in other_periods(compared, joined)}
    assert spans == {last_7_days, last_month, this_quarter}

    # One county: its own joining day, whatever the others did.
    late = {**joined, "030": ("Baringo", D(2026, 9, 1))}
    baringo = filters_from_choices("last_28_days", None, "previous", ["030"], [], TODAY)
    spans = {(f.start, f.end) for f in other_periods(baringo.comparison_filters(), late)}
    assert spans == {last_7_days}
    nairobi = filters_from_choices("last_28_days", None, "previous", ["047"], [], TODAY)
    spans = {(f.start, f.end) for f in other_periods(nairobi.comparison_filters(), late)}
    assert spans == {(f.start, f.end) for f in other_periods(nairobi.comparison_filters())}
    assert len(spans) == 5

    # A scope of two counties that joined at the launch: nobody joined in between for them.
    scoped = filters_from_choices(
        "last_28_days", None, "previous", [], [], TODAY, scope=("001", "047")
    )
    assert len(other_periods(scoped.comparison_filters(), late)) == 5


def test_other_counties_are_the_filters_the_county_widget_would_make() -> None:
    """One other county chosen (wards cleared: they belong to the county left), and every
    county again; period, comparison, scope and as-of kept."""
    chosen = filters_from_choices("this_fy", None, "last_year", ["032"], ["KEW-0900"], TODAY)
    others = other_counties(chosen, ["047", "032", "001", "047"])
    assert others == [
        filters_from_choices("this_fy", None, "last_year", [], [], TODAY),
        filters_from_choices("this_fy", None, "last_year", ["047"], [], TODAY),
        # Nakuru again, without the ward: what the county widget gives after a ward is cleared.
        filters_from_choices("this_fy", None, "last_year", ["032"], [], TODAY),
        filters_from_choices("this_fy", None, "last_year", ["001"], [], TODAY),
    ]
    national = filters_from_choices("last_28_days", None, "previous", [], [], TODAY)
    assert other_counties(national, ["047", "032"]) == [
        filters_from_choices("last_28_days", None, "previous", ["047"], [], TODAY),
        filters_from_choices("last_28_days", None, "previous", ["032"], [], TODAY),
    ]


def test_other_counties_stay_within_the_users_scope() -> None:
    two = ("032", "047")
    chosen = filters_from_choices("this_fy", None, "previous", ["032"], [], TODAY, scope=two)
    assert other_counties(chosen, ["001", "047", "032", "030"]) == [
        filters_from_choices("this_fy", None, "previous", [], [], TODAY, scope=two),
        filters_from_choices("this_fy", None, "previous", ["047"], [], TODAY, scope=two),
    ]
    one = filters_from_choices("this_fy", None, "previous", [], [], TODAY, scope=("032",))
    assert one.counties == ("032",)
    assert other_counties(one, ["001", "047", "032"]) == []


def test_a_period_that_no_preset_explains_has_no_other_periods() -> None:
    custom = filters_from_choices(
        "custom", (D(2026, 3, 3), D(2026, 4, 9)), "previous", [], [], TODAY
    )
    assert other_periods(custom) == []
    without_as_of = Filters(start=D(2026, 11, 1), end=TODAY)
    assert other_periods(without_as_of) == []
