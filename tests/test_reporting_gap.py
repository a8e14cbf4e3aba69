"""A county that stops reporting is not a county where crime stopped, on hand-made rows, both
engines.

Mombasa reported 10 incidents in September and none in October: at that size no incident by
chance has a probability of e^-10, so the fall is a stop in reporting. Every place that compares
incidents (the league and its "Change test", the map's measure, the cards of a Mombasa
selection, the briefing) says so and shows no change. Kwale fell from 9 to 0: 9 is below the
rule's 10, so it is compared as usual (z = √2 (√0 − √9) = −4.24, meaningful).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest
from sqlalchemy import Engine

from queries.briefing import build_briefing
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import county_league, headline
from queries.significance import REPORTING_GAP_SHORT
from tests.rows import incident_row, insert_rows

D = dt.date
AS_OF = D(2026, 10, 31)
# October against the previous 31 days: 31 Aug - 30 Sep.
OCTOBER = Filters(start=D(2026, 10, 1), end=D(2026, 10, 31), preset="custom", as_of=AS_OF)
COUNTIES = [
    dict(code="001", name="Mombasa", programme_start=D(2025, 6, 8)),
    dict(code="002", name="Kwale", programme_start=D(2026, 8, 1)),
    dict(code="032", name="Nakuru", programme_start=D(2025, 6, 8)),
]


def _noon_utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9)  # 12:00 EAT


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    september = [D(2026, 9, d) for d in range(1, 31)]
    october = [D(2026, 10, d) for d in range(1, 31)]
    rows = [(code, day) for code, n in (("001", 10), ("002", 9)) for day in september[:n]]
    # Nakuru reports in both months (20, then 22), so that the country's total is not zero.
    rows += [("032", day) for day in september[:20]] + [("032", day) for day in october[:22]]
    # The last October incident is reported on the as-of day itself, the database's latest row.
    rows.append(("032", AS_OF))
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", COUNTIES)
    insert_rows(
        writer,
        "incidents",
        [
            incident_row(i, code, _noon_utc(day), "resolved", 1, 5)
            for i, (code, day) in enumerate(rows, start=1)
        ],
    )
    # Three referrals in October: the month's count is hidden under the privacy rule (1-4).
    insert_rows(
        writer,
        "rehab_referrals",
        [
            dict(id=i, county_code="032", referred_on=D(2026, 10, 5 + i), status="referred")
            for i in range(1, 4)
        ],
    )
    writer.dispose()
    return make_engine(empty_db_url)


def test_the_league_does_not_compare_a_county_that_stopped_reporting(engine) -> None:
    from dashboard.charts.overview import league_table, reporting_gap_notes

    league = county_league(engine, OCTOBER, 5).set_index("county_code")
    mombasa, kwale, nakuru = (league.loc[code] for code in ("001", "002", "032"))

    assert mombasa["incidents_reported"] == 0 and mombasa["incidents_previous"] == 10
    assert bool(mombasa["reporting_gap"])
    assert pd.isna(mombasa["incidents_change_pct"]) and pd.isna(mombasa["incidents_z"])
    assert "Mombasa reported no incidents" in mombasa["comparison_note"]
    assert "after 10 " in mombasa["comparison_note"]

    assert kwale["incidents_reported"] == 0 and kwale["incidents_previous"] == 9
    assert not bool(kwale["reporting_gap"]) and pd.isna(kwale["comparison_note"])
    assert kwale["incidents_change_pct"] == -100.0
    assert math.isclose(kwale["incidents_z"], math.sqrt(2) * (0 - 3))

    assert nakuru["incidents_reported"] == 23 and nakuru["incidents_previous"] == 20
    assert math.isclose(nakuru["incidents_change_pct"], 15.0)
    # Only Kwale's |z| = 4.24 passes; Nakuru's 0.46 does not, and Mombasa is not compared.
    assert league["incidents_meaningful"].to_dict() == {"001": False, "002": True, "032": False}

    shown = league_table.uncached(league.reset_index(), 5).set_index("Code")
    assert shown.loc["001", "Change test"] == "not compared"
    assert shown.loc["002", "Change test"] == "meaningful"
    assert shown.loc["032", "Change test"] == "normal variation"  # z = √2 (√23 − √20) = 0.46
    assert reporting_gap_notes(league.reset_index()) == [mombasa["comparison_note"]]


def test_the_cards_of_a_county_that_stopped_reporting_show_no_change(engine) -> None:
    cards = headline(engine, dataclasses.replace(OCTOBER, counties=("001",)), 5)
    incidents = cards.set_index("indicator").loc["incidents_reported"]
    assert incidents["value"] == 0 and pd.isna(incidents["change"])
    assert not incidents["meaningful"]
    assert incidents["note"].startswith("No comparison: Mombasa reported no incidents")
    assert incidents["note_short"] == REPORTING_GAP_SHORT
    # Kwale's 9 is below the rule: its fall is compared, and meaningful.
    kwale = headline(engine, dataclasses.replace(OCTOBER, counties=("002",)), 5)
    kwale_incidents = kwale.set_index("indicator").loc["incidents_reported"]
    assert kwale_incidents["change"] == -9 and bool(kwale_incidents["meaningful"])


def test_the_briefing_names_a_county_that_stopped_reporting_and_claims_no_fall(engine) -> None:
    model = build_briefing(engine, OCTOBER, 5)
    incidents = next(slide for slide in model.slides if slide.key == "incidents")
    text = " ".join(incidents.sentences)
    assert "Mombasa: no incidents reported, against 10 in the previous 31 days" in text
    assert "Mombasa: incidents fell" not in text
    assert "Kwale: incidents fell 100.0% (-9) to 0" in text  # compared, and meaningful
    chart = next(c for c in incidents.charts if c.kind == "bar")
    assert chart.categories == ["Kwale"]


def test_a_rehab_slide_whose_every_month_is_hidden_draws_no_empty_chart(engine) -> None:
    """October's 3 referrals read '<5': the chart would be half a projected slide of nothing."""
    model = build_briefing(engine, OCTOBER, 5)
    rehab = next(slide for slide in model.slides if slide.key == "rehabilitation")
    assert rehab.charts == []
    assert "Referrals by month: Every month here is hidden under the privacy rule." in rehab.notes


@pytest.fixture
def year_on_year(empty_db_url: str) -> Engine:
    """October 2025 against October 2026: Mombasa 12 then none, Kwale 9 then none, Nakuru 20
    then 22; every county in the programme since the launch, so every 28-day change is valid."""
    earlier = [
        (code, D(2025, 10, 5 + d)) for code, n in (("001", 12), ("002", 9)) for d in range(n)
    ]
    earlier += [("032", D(2025, 10, 5 + d % 20)) for d in range(20)]
    later = [("032", D(2026, 10, 5 + d)) for d in range(22)]
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", [{**c, "programme_start": D(2025, 6, 8)} for c in COUNTIES])
    insert_rows(
        writer,
        "incidents",
        [
            incident_row(i, code, _noon_utc(day), "resolved", 1, 5)
            for i, (code, day) in enumerate(earlier + later, start=1)
        ],
    )
    writer.dispose()
    return make_engine(empty_db_url)


def test_compstat_shows_no_fall_for_a_county_that_stopped_reporting(year_on_year) -> None:
    from dashboard.charts.incidents import compstat_gap_notes, compstat_test_note
    from queries.incidents import compstat_by_county

    frame = compstat_by_county(year_on_year, OCTOBER).set_index("county_name")
    # 28 days ending 31 Oct 2026 (4-31 Oct) against 4-31 Oct 2025.
    assert frame["d28_count"].to_dict() == {"Total": 22, "Mombasa": 0, "Kwale": 0, "Nakuru": 22}
    before = frame["d28_last_year_count"].to_dict()
    assert before == {"Total": 41, "Mombasa": 12, "Kwale": 9, "Nakuru": 20}
    assert frame["d28_reporting_gap"].to_dict() == {
        "Total": False,
        "Mombasa": True,
        "Kwale": False,
        "Nakuru": False,
    }
    change = frame["d28_change_pct"]
    assert pd.isna(change["Mombasa"])  # not -100%: 12 -> 0 is a stop in reporting
    assert change["Kwale"] == -100.0  # 9 is below the rule: compared as usual
    assert math.isclose(change["Nakuru"], 10.0)
    assert math.isclose(change["Total"], 100 * (22 - 41) / 41)
    # Kwale's 9 -> 0 is meaningful: √2 (√0 − √9) = −4.24; Nakuru's 20 -> 22 (0.49) and the
    # total's 41 -> 22 (√2 (√22 − √41) = −2.42) are not; Mombasa's stop is not compared.
    assert frame["d28_meaningful"].to_dict() == {
        "Total": False,
        "Mombasa": False,
        "Kwale": True,
        "Nakuru": False,
    }
    # No week-to-date change (none a year earlier) and no year to date (before the launch).
    assert not frame[["wtd_meaningful", "ytd_meaningful"]].any(axis=None)
    assert not frame["wtd_reporting_gap"].any()  # none a year earlier: nothing stopped there
    assert compstat_test_note(frame.reset_index()).startswith(
        "Meaningful changes (Poisson test, |z| ≥ 3): Kwale, 28 days 9 → 0 (-100.0%). Every other"
    )
    assert compstat_gap_notes(frame.reset_index()) == [
        "Mombasa: no incidents reported in the 28 days, against 12 a year earlier. Its "
        "reporting has most likely stopped, so no change is shown."
    ]
    # Mombasa alone: its total is Mombasa, so the line is said once, of Mombasa.
    alone = compstat_by_county(year_on_year, dataclasses.replace(OCTOBER, counties=("001",)))
    assert alone["d28_reporting_gap"].tolist() == [True, True]
    notes = compstat_gap_notes(alone)
    assert len(notes) == 1 and notes[0].startswith("Mombasa: no incidents reported")


@pytest.fixture
def stopped_this_week(empty_db_url: str) -> Engine:
    """Mombasa: 12 incidents from 4 to 31 Oct 2025, two of them in the week of 26 Oct 2025
    (the same dates as this week, 26-31 Oct 2026), and none at all in October 2026."""
    days = [D(2025, 10, 4 + d) for d in range(10)] + [D(2025, 10, 27), D(2025, 10, 28)]
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", [{**c, "programme_start": D(2025, 6, 8)} for c in COUNTIES])
    insert_rows(
        writer,
        "incidents",
        [incident_row(i, "001", _noon_utc(day), "resolved", 1, 5) for i, day in enumerate(days, 1)],
    )
    writer.dispose()
    return make_engine(empty_db_url)


def test_a_week_inside_a_stopped_28_days_is_part_of_the_stop(stopped_this_week) -> None:
    from dashboard.charts.incidents import compstat_gap_notes
    from queries.incidents import compstat_by_county

    mombasa = dataclasses.replace(OCTOBER, counties=("001",))
    row = compstat_by_county(stopped_this_week, mombasa).set_index("county_name").loc["Mombasa"]
    # Week to date, Mon 26 - Sat 31 Oct 2026: 0 against 2 (27 and 28 Oct 2025). Alone, 2 is too
    # few to call a stop, but the 28 days that hold the week (0 against 12) are one.
    assert (row["wtd_count"], row["wtd_last_year_count"]) == (0, 2)
    assert (row["d28_count"], row["d28_last_year_count"]) == (0, 12)
    assert row["d28_reporting_gap"] and row["wtd_reporting_gap"]
    assert pd.isna(row["wtd_change_pct"]) and pd.isna(row["d28_change_pct"])
    notes = compstat_gap_notes(compstat_by_county(stopped_this_week, mombasa))
    assert notes == [
        "Mombasa: no incidents reported in the week to date and 28 days, against 2 and 12 a "
        "year earlier. Its reporting has most likely stopped, so no change is shown."
    ]
