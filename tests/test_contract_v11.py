"""Contract v1.1 on hand-made rows, both engines: the as-of date, the fixed follow-up shares at
their 7- and 30-day edges, the 10th-of-month deadline, valid comparisons and the share test.

Every expected number is worked out by hand in the comments beside the rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest
from sqlalchemy import Engine

from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import county_scorecard, headline, indicators_frame
from queries.significance import two_proportion_z
from tests.query_support import same
from tests.rows import incident_row, insert_rows

D = dt.date
T = dt.datetime
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
AS_OF = D(2026, 10, 31)  # D - 7 = 24 Oct, D - 30 = 1 Oct
OCTOBER = Filters(start=D(2026, 10, 1), end=D(2026, 10, 31), preset="custom", as_of=AS_OF)


def _utc(eat: dt.datetime) -> dt.datetime:
    return eat - 3 * H


def _incidents() -> list[dict]:
    last_followed = _utc(T(2026, 10, 24, 23, 59, 59))  # EAT 24 Oct: 7 full days by 31 Oct
    first_unfollowed = _utc(T(2026, 10, 25, 0, 0, 0))  # EAT 25 Oct: not yet
    return [
        # followed up: resolved exactly at 168 h counts, at 168 h + 1 s does not
        incident_row(1, "001", last_followed, "resolved", 1, 168),
        incident_row(2, "001", _utc(T(2026, 10, 10, 9)), "resolved", 1, 168 + 1 / 3600),
        incident_row(3, "001", _utc(T(2026, 10, 11, 9)), "resolved", 1, 2),
        incident_row(4, "001", _utc(T(2026, 10, 12, 9)), "acknowledged", 1, None),
        # not followed up yet: left out of the 7-day share whatever their outcome
        incident_row(5, "001", first_unfollowed, "resolved", 1, 2),
        incident_row(6, "001", _utc(T(2026, 10, 30, 9)), "reported", None, None),
        # the day before the period, for the previous period's comparison
        incident_row(7, "001", _utc(T(2026, 9, 30, 23, 0)), "resolved", 1, 10),
    ]


def _referrals() -> list[dict]:
    def referral(row_id: int, referred: dt.date, days_to_admit: int | None) -> dict:
        admitted = None if days_to_admit is None else referred + dt.timedelta(days=days_to_admit)
        status = "referred" if admitted is None else "admitted"
        return dict(
            id=row_id, county_code="001", referred_on=referred, admitted_on=admitted, status=status
        )

    followed = D(2026, 10, 1)  # D - 30: followed up for exactly 30 days
    rows = [referral(i, followed, 30) for i in range(1, 6)]  # 5 admitted on day 30: count
    rows += [referral(i, followed, 31) for i in range(6, 11)]  # 5 on day 31: do not
    rows += [referral(i, followed, None) for i in range(11, 16)]  # 5 never admitted
    rows += [referral(i, D(2026, 10, 2), 1) for i in range(16, 21)]  # D - 29: not yet followed
    rows += [referral(i, D(2026, 10, 3), 2) for i in range(21, 27)]  # 6 admitted on day 2
    rows += [referral(i, D(2026, 10, 3), None) for i in range(27, 29)]  # 2 never admitted
    return rows


def _reports() -> list[dict]:
    # September is due on 10 Oct (before D); October only on 10 Nov (after D): not yet due.
    return [
        dict(ra_id=1, month=D(2026, 9, 1), submitted_on=D(2026, 10, 10)),  # on the deadline
        dict(ra_id=2, month=D(2026, 9, 1), submitted_on=D(2026, 10, 11)),  # late
        dict(ra_id=3, month=D(2026, 9, 1), submitted_on=None),  # missing
        dict(ra_id=4, month=D(2026, 9, 1), submitted_on=D(2026, 10, 1)),  # early
        dict(ra_id=1, month=D(2026, 10, 1), submitted_on=None),  # not due: not missing
        dict(ra_id=2, month=D(2026, 10, 1), submitted_on=D(2026, 10, 30)),
    ]


# Mombasa joined at the launch, Kwale on 1 Aug 2026; Turkana has not joined.
COUNTIES = [
    dict(code="001", name="Mombasa", programme_start=D(2025, 6, 8)),
    dict(code="002", name="Kwale", programme_start=D(2026, 8, 1)),
    dict(code="023", name="Turkana", programme_start=None),
]


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(
        writer,
        "counties",
        COUNTIES,
    )
    insert_rows(writer, "incidents", _incidents())
    insert_rows(writer, "rehab_referrals", _referrals())
    insert_rows(
        writer,
        "residents_associations",
        [dict(id=i, county_code="001", registered_on=D(2025, 1, 1)) for i in range(1, 5)],
    )
    insert_rows(writer, "ra_monthly_reports", _reports())
    writer.dispose()
    return make_engine(empty_db_url)


def _row(engine: Engine, filters: Filters) -> pd.Series:
    return indicators_frame(engine, filters, threshold=5).iloc[0]


def test_resolved_within_7_days_counts_only_incidents_followed_up_for_7_days(engine) -> None:
    row = _row(engine, OCTOBER)
    # Followed: 1, 2, 3, 4 (reported by 24 Oct EAT); resolved within 168 h: 1 (exactly), 3.
    assert same(row["incidents_resolved_7d_pct"], 50.0)
    # The v1 share, as it stands now, counts all six reported in October: 1, 2, 3, 5 resolved.
    assert same(row["incidents_resolved_pct"], 100 * 4 / 6)


def test_admitted_within_30_days_counts_only_referrals_followed_up_for_30_days(engine) -> None:
    row = _row(engine, OCTOBER)
    # Followed: the 15 referred on 1 Oct; admitted by day 30: 5. Not admitted in 30 days: 10.
    assert same(row["referral_admission_30d_pct"], 100 * 5 / 15)
    assert not row["referral_admission_30d_pct_suppressed"]
    # v1, as it stands now: 21 of the 28 referred in October are admitted; shown from counts
    # rounded to the nearest 5 (privacy rule 6): 20 of 30.
    assert same(row["referral_admission_pct"], 100 * 20 / 30)


def test_admission_share_hidden_when_few_were_not_admitted(engine) -> None:
    # As of 1 Nov, D - 30 = 2 Oct: followed are the 15 of 1 Oct and the 5 of 2 Oct; admitted
    # within 30 days: 5 (1 Oct, day 30) + 5 (2 Oct, day 1) = 10 of 20.
    row = _row(engine, Filters(OCTOBER.start, OCTOBER.end, preset="custom", as_of=D(2026, 11, 1)))
    assert same(row["referral_admission_30d_pct"], 50.0)
    # 3 Oct alone, as of 2 Nov: 6 of 8 admitted within 30 days; the 2 not admitted would show.
    third = Filters(D(2026, 10, 3), D(2026, 10, 3), preset="custom", as_of=D(2026, 11, 2))
    row = _row(engine, third)
    assert row["rehab_referrals"] == 10  # 8, rounded to the nearest 5
    assert (
        pd.isna(row["referral_admission_30d_pct"]) and row["referral_admission_30d_pct_suppressed"]
    )


def test_a_period_with_no_case_old_enough_has_no_share(engine) -> None:
    late = Filters(D(2026, 10, 25), D(2026, 10, 31), preset="custom", as_of=AS_OF)
    row = _row(engine, late)
    assert pd.isna(row["incidents_resolved_7d_pct"]) and pd.isna(row["referral_admission_30d_pct"])
    # The cards read the 7 days ending D - 7 and D - 30 instead. Incidents of 18-24 Oct EAT:
    # only 1 (24 Oct 23:59:59), resolved in exactly 168 h. Referrals of 25 Sep - 1 Oct: the
    # 15 of 1 Oct, 5 admitted by day 30.
    table = headline(engine, late, 5).set_index("indicator")
    resolved, admitted = (
        table.loc["incidents_resolved_7d_pct"],
        table.loc["referral_admission_30d_pct"],
    )
    assert same(resolved["value"], 100.0) and resolved["note_short"] == "reported 18 Oct – 24 Oct"
    assert "7 days old" in resolved["note"]
    assert same(admitted["value"], 100 * 5 / 15)
    assert admitted["note_short"] == "referred 25 Sep – 01 Oct"


@pytest.mark.parametrize(
    ("as_of", "expected_rate", "expected_on_time"),
    [
        (D(2026, 10, 9), None, None),  # September not due until the 10th
        # Due on the 10th: 2 of 4 known submitted (1 and 10 Oct), both on time; the report
        # sent on 11 Oct is not known yet.
        (D(2026, 10, 10), 50.0, 50.0),
        (D(2026, 10, 31), 75.0, 50.0),  # 3 of 4 submitted, 2 by the 10th
    ],
)
def test_monthly_reports_count_only_once_due(engine, as_of, expected_rate, expected_on_time):
    september = Filters(D(2026, 9, 1), D(2026, 9, 30), preset="custom", as_of=as_of)
    row = _row(engine, september)
    if expected_rate is None:
        assert pd.isna(row["ra_reporting_rate"]) and row["n_reports_due"] == 0
    else:
        assert same(row["ra_reporting_rate"], expected_rate)
        assert same(row["ra_on_time_rate"], expected_on_time)


def test_a_period_of_months_not_yet_due_shows_the_latest_due_month(engine) -> None:
    table = headline(engine, OCTOBER, 5).set_index("indicator")
    # October is not due on 31 Oct: the card shows September, the latest month due.
    assert same(table.loc["ra_reporting_rate", "value"], 75.0)
    assert same(table.loc["ra_on_time_rate", "value"], 50.0)
    assert table.loc["ra_reporting_rate", "note"].startswith("September 2026, the latest month due")
    assert pd.isna(table.loc["ra_reporting_rate", "change"])


def test_figures_as_they_stand_now_carry_no_change(engine) -> None:
    table = headline(engine, OCTOBER, 5).set_index("indicator")
    for key in ("incidents_resolved_pct", "median_hours_to_resolve", "referral_admission_pct"):
        assert pd.isna(table.loc[key, "change"]) and not table.loc[key, "like_for_like"]
        assert table.loc[key, "note"].startswith("As it stands now")
    assert table.loc["incidents_resolved_pct", "compare_instead"] == "incidents_resolved_7d_pct"
    # October against September (1-30 Sep): incident 7 only, resolved in 10 h: 1 of 1.
    resolved = table.loc["incidents_resolved_7d_pct"]
    assert same(resolved["comparison_value"], 100.0) and same(resolved["change"], -50.0)
    assert pd.isna(resolved["z"])  # 1 case: too few to test
    # Open incidents are not the period's: every one still open, whenever it was reported
    # (4 acknowledged and 6 reported, both in October; 7, from September, is resolved).
    still_open = table.loc["open_incidents"]
    assert still_open["value"] == 2 and pd.isna(still_open["change"])
    assert still_open["note_short"] == "open now, any date"
    assert "reported up to 31 Oct 2026 that is still open now" in still_open["note"]


@pytest.mark.parametrize(
    ("start", "counties", "comparison", "reason"),
    [
        # May 2025 starts before the launch on 8 June 2025.
        (D(2026, 5, 1), (), "last_year", "starts before the programme began on 08 Jun 2025"),
        # 1 Aug - 31 Oct 2026 against 2 May - 31 Jul: before Kwale joined on 1 Aug 2026.
        (D(2026, 8, 1), ("002",), "previous", "before Kwale joined the programme on 01 Aug 2026"),
        (D(2026, 10, 1), ("023",), "previous", "Turkana has not joined the programme"),
    ],
)
def test_invalid_comparisons_show_no_change_and_say_why(
    engine, start, counties, comparison, reason
):
    end = D(2026, 5, 31) if start.month == 5 else OCTOBER.end
    filters = Filters(
        start, end, preset="custom", comparison=comparison, counties=counties, as_of=AS_OF
    )
    table = headline(engine, filters, 5).set_index("indicator")
    assert table["change"].isna().all() and table["comparison_value"].isna().all()
    assert reason in table.loc["incidents_reported", "note"]


def test_a_long_period_against_last_year_overlaps_itself(engine) -> None:
    since = Filters(
        D(2025, 6, 8), AS_OF, preset="since_launch", comparison="last_year", as_of=AS_OF
    )
    note = headline(engine, since, 5).set_index("indicator").loc["incidents_reported", "note"]
    assert "overlaps this period" in note


def test_the_two_proportion_test_by_hand() -> None:
    # 60 of 100 against 45 of 100: pooled 0.525; se = sqrt(.525 * .475 * .02) = 0.070622...
    z = two_proportion_z(60, 100, 45, 100)
    assert math.isclose(z, 0.15 / math.sqrt(0.525 * 0.475 * 0.02))
    assert two_proportion_z(3, 100, 1, 100) is None  # fewer than 5 in the share on each side
    assert two_proportion_z(98, 100, 90, 100) is None  # fewer than 5 outside it


@pytest.fixture
def two_county_engine(empty_db_url: str) -> Engine:
    """Mombasa's four RAs of `_reports`, and Kwale's two: one September report sent early,
    one missing. Turkana has no RA."""
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(
        writer,
        "counties",
        COUNTIES,
    )
    insert_rows(
        writer,
        "residents_associations",
        [dict(id=i, county_code="001", registered_on=D(2025, 1, 1)) for i in range(1, 5)]
        + [dict(id=i, county_code="002", registered_on=D(2026, 8, 1)) for i in (5, 6)],
    )
    insert_rows(
        writer,
        "ra_monthly_reports",
        [
            *_reports(),
            dict(ra_id=5, month=D(2026, 9, 1), submitted_on=D(2026, 10, 2)),
            dict(ra_id=6, month=D(2026, 9, 1), submitted_on=None),
        ],
    )
    writer.dispose()
    return make_engine(empty_db_url)


# As of 31 Oct, September is the latest month due. Mombasa: 3 of 4 sent (75%), 2 by the 10th
# (50%); Kwale: 1 of 2 (50%), 1 on time (50%); Kenya: 4 of 6, 3 on time.
SEPTEMBER_RATES = {"001": (75.0, 50.0), "002": (50.0, 50.0)}
KENYA_RATES = (100 * 4 / 6, 50.0)


def test_county_tables_show_the_latest_due_month_where_the_cards_do(two_county_engine) -> None:
    """October holds no month due on 31 Oct: the league and the scorecard, like the cards, show
    September's reporting per county, and say so; September itself needs no stand-in."""
    from dashboard.charts.overview import league_table
    from dashboard.charts.profile import scorecard_table
    from queries.indicators import INDICATOR_BY_KEY, county_league, county_scorecard

    league = county_league(two_county_engine, OCTOBER, 5).set_index("county_code")
    for code, (rate, on_time) in SEPTEMBER_RATES.items():
        assert same(league.loc[code, "ra_reporting_rate"], rate), code
        assert same(league.loc[code, "ra_on_time_rate"], on_time), code
        assert league.loc[code, "ra_reporting_month"] == D(2026, 9, 1)
    assert pd.isna(league.loc["023", "ra_reporting_rate"])  # no RA: no rate, not 0
    shown = league_table.uncached(league.reset_index(), 5).set_index("Code")
    assert list(shown["Reporting rate %, Sep 2026"].loc[["001", "002"]]) == [75.0, 50.0]

    card = headline(two_county_engine, OCTOBER, 5).set_index("indicator")
    assert same(card.loc["ra_reporting_rate", "value"], KENYA_RATES[0])

    kwale = dataclasses.replace(OCTOBER, counties=("002",))
    scorecard = county_scorecard(two_county_engine, kwale, 5).set_index("indicator")
    for key, county, kenya in zip(
        ("ra_reporting_rate", "ra_on_time_rate"), SEPTEMBER_RATES["002"], KENYA_RATES, strict=True
    ):
        assert same(scorecard.loc[key, "county_value"], county), key
        assert same(scorecard.loc[key, "national_value"], kenya), key
        assert scorecard.loc[key, "period_note"] == "Sep 2026: latest month due"
    # Higher is better: Kwale's 50% is second of the two counties with a rate.
    assert scorecard.loc["ra_reporting_rate", "rank"] == 2
    assert scorecard.loc["ra_reporting_rate", "ranked_counties"] == 2
    assert pd.isna(scorecard.loc["incidents_reported", "period_note"])
    labels = set(scorecard_table(scorecard.reset_index(), "Kwale", 5)["Indicator"])
    assert f"{INDICATOR_BY_KEY['ra_reporting_rate'].label} (Sep 2026: latest month due)" in labels

    september = Filters(D(2026, 9, 1), D(2026, 9, 30), preset="custom", as_of=AS_OF)
    league = county_league(two_county_engine, september, 5).set_index("county_code")
    assert league["ra_reporting_month"].isna().all()
    assert same(league.loc["001", "ra_reporting_rate"], 75.0)
    assert "Reporting rate %" in league_table.uncached(league.reset_index(), 5).columns


def _treatment_referrals() -> list[dict]:
    """Referrals for the 90-day completion share, as of 31 Oct 2026 (D - 90 = 2 Aug)."""

    def referral(row_id: int, referred: dt.date, status: str, days_to_complete: int | None):
        completed = (
            None if days_to_complete is None else referred + dt.timedelta(days=days_to_complete)
        )
        return dict(
            id=row_id,
            county_code="001",
            referred_on=referred,
            status=status,
            admitted_on=referred + dt.timedelta(days=3),
            completed_on=completed,
        )

    rows = [referral(i, D(2026, 8, 2), "completed", 90) for i in range(1, 6)]  # day 90: counts
    rows += [referral(i, D(2026, 8, 1), "completed", 91) for i in range(6, 11)]  # day 91: not
    rows += [referral(i, D(2026, 8, 1), "dropped_out", None) for i in range(11, 16)]
    rows += [referral(i, D(2026, 8, 1), "admitted", None) for i in range(16, 21)]  # in treatment
    rows += [referral(i, D(2026, 8, 3), "completed", 30) for i in range(21, 26)]  # D - 89
    rows += [referral(i, D(2026, 8, 3), "admitted", None) for i in range(26, 28)]
    # July, the previous period: 5 of 10 completed within 90 days (on day 60).
    rows += [referral(i, D(2026, 7, 15), "completed", 60) for i in range(28, 33)]
    rows += [referral(i, D(2026, 7, 15), "dropped_out", None) for i in range(33, 38)]
    return rows


@pytest.fixture
def treatment_engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", COUNTIES)
    insert_rows(writer, "rehab_referrals", _treatment_referrals())
    writer.dispose()
    return make_engine(empty_db_url)


AUGUST = Filters(start=D(2026, 8, 1), end=D(2026, 8, 31), preset="custom", as_of=AS_OF)


def test_completed_within_90_days_counts_only_referrals_followed_up_for_90_days(
    treatment_engine,
) -> None:
    row = _row(treatment_engine, AUGUST)
    # Followed (referred by 2 Aug): the 5 + 5 + 5 + 5 of 1-2 Aug; completed by day 90: the 5 of
    # 2 Aug. The 3 Aug referrals, completed on day 30, are not 90 days old yet.
    assert same(row["referral_completion_90d_pct"], 100 * 5 / 20)
    assert not row["referral_completion_90d_pct_suppressed"]
    # v1, as it stands now: completed 5 + 5 + 5 = 15, dropped out 5: 15 of 20.
    assert same(row["referral_completion_pct"], 100 * 15 / 20)


def test_completion_share_of_none_completed_is_shown_and_few_left_out_is_hidden(
    treatment_engine,
) -> None:
    # As of 30 Oct, D - 90 = 1 Aug: the 15 of 1 Aug are followed, none completed by day 90.
    as_of_30 = dataclasses.replace(AUGUST, as_of=D(2026, 10, 30))
    assert same(_row(treatment_engine, as_of_30)["referral_completion_90d_pct"], 0.0)
    # 3 Aug alone, as of 1 Nov: 5 of 7 completed; the 2 still in treatment would show.
    third = Filters(D(2026, 8, 3), D(2026, 8, 3), preset="custom", as_of=D(2026, 11, 1))
    row = _row(treatment_engine, third)
    assert row["rehab_referrals"] == 5  # 7, rounded to the nearest 5
    assert pd.isna(row["referral_completion_90d_pct"])
    assert row["referral_completion_90d_pct_suppressed"]


def test_completion_changes_only_on_the_like_for_like_share(treatment_engine) -> None:
    mombasa = dataclasses.replace(AUGUST, counties=("001",))  # Kwale joined on 1 Aug
    table = headline(treatment_engine, mombasa, 5).set_index("indicator")
    completion = table.loc["referral_completion_pct"]
    assert pd.isna(completion["change"]) and not completion["like_for_like"]
    assert completion["compare_instead"] == "referral_completion_90d_pct"
    # August 5 of 20 (25%) against July 5 of 10 (50%).
    within = table.loc["referral_completion_90d_pct"]
    assert same(within["comparison_value"], 50.0) and same(within["change"], -25.0)


def test_a_period_with_no_case_old_enough_reads_the_latest_window_that_has(
    treatment_engine,
) -> None:
    # October holds no referral made by D - 90 = 2 Aug: the share is read for the 31 days
    # ending 2 Aug (3 Jul - 2 Aug): 10 of 15 July, 15 of 1 Aug, 5 of 2 Aug followed; completed
    # within 90 days: the 5 of July (day 60) and the 5 of 2 Aug (day 90): 10 of 30.
    october = headline(treatment_engine, OCTOBER, 5).set_index("indicator")
    within = october.loc["referral_completion_90d_pct"]
    assert same(within["value"], 100 * 10 / 30)
    assert within["note_short"] == "referred 03 Jul – 02 Aug"
    assert "cases referred 03 Jul – 02 Aug 2026" in within["note"]
    assert pd.isna(within["change"]) and pd.isna(within["comparison_value"])  # not compared
    # The county's scorecard shows the same figure, and says which referrals it covers.
    card = county_scorecard(treatment_engine, dataclasses.replace(OCTOBER, counties=("001",)), 5)
    row = card.set_index("indicator").loc["referral_completion_90d_pct"]
    assert same(row["county_value"], 100 * 10 / 30) and same(row["national_value"], 100 * 10 / 30)
    assert row["period_note"] == "referred 03 Jul – 02 Aug"
    assert pd.isna(row["rank"])  # a rehab share of another window is not ranked
