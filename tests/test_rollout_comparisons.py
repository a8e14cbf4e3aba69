"""Counties join the programme in waves, and a county reports far more once in it: several
counties are compared only when none of them joined between the comparison's start and the
period's end, on hand-made rows, both engines.

Mombasa joined at the launch, Kwale on 1 Aug 2026; Turkana has not joined. October 2026 against
October 2025 spans Kwale's joining; against the previous 31 days (31 Aug - 30 Sep 2026) it does
not. Counts (all 12:00 EAT, wards W1 in Mombasa, W2 in Kwale):

| county  | 5-9 Oct 2025 | Sep 2026 | Oct 2026 |
|---------|--------------|----------|----------|
| Mombasa | 5            | 3        | 8        |
| Kwale   | 1            | 10       | 20       |
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine

from queries import incidents as q
from queries.db import make_engine
from queries.filters import Filters, rollout_problem
from queries.indicators import headline
from tests.rows import incident_row, insert_rows

D = dt.date
AS_OF = D(2026, 10, 31)
OCTOBER = Filters(
    start=D(2026, 10, 1), end=AS_OF, preset="custom", comparison="last_year", as_of=AS_OF
)
PREVIOUS = dataclasses.replace(OCTOBER, comparison="previous")
COUNTIES = [
    dict(code="001", name="Mombasa", programme_start=D(2025, 6, 8)),
    dict(code="002", name="Kwale", programme_start=D(2026, 8, 1)),
    dict(code="023", name="Turkana", programme_start=None),
]
WARDS = [
    dict(code="W1", county_code="001", name="Tudor"),
    dict(code="W2", county_code="002", name="Ukunda"),
]
# (county, ward, first day, how many days in a row, one incident a day)
RUNS = [
    ("001", "W1", D(2025, 10, 5), 5),
    ("002", "W2", D(2025, 10, 5), 1),
    ("001", "W1", D(2026, 9, 5), 3),
    ("002", "W2", D(2026, 9, 5), 10),
    ("001", "W1", D(2026, 10, 5), 8),
    ("002", "W2", D(2026, 10, 5), 20),
]


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    rows = []
    for county, ward, first, days in RUNS:
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            noon_utc = dt.datetime(day.year, day.month, day.day, 9)
            rows.append(
                incident_row(len(rows) + 1, county, noon_utc, "resolved", 1, 5, ward_code=ward)
            )
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", COUNTIES)
    insert_rows(writer, "wards", WARDS)
    insert_rows(writer, "incidents", rows)
    writer.dispose()
    return make_engine(empty_db_url)


def _incidents(engine: Engine, filters: Filters) -> pd.Series:
    return headline(engine, filters, 5).set_index("indicator").loc["incidents_reported"]


def test_all_counties_against_a_year_before_one_joined_show_no_change(engine) -> None:
    row = _incidents(engine, OCTOBER)
    assert row["value"] == 28
    assert pd.isna(row["change"]) and pd.isna(row["comparison_value"])
    assert row["comparison_note"] == (
        "No comparison: 1 county of this selection joined the programme after the same "
        "period last year began on 01 Oct 2025 (Kwale); compare one county at a time."
    )


def test_counties_that_did_not_change_status_are_compared(engine) -> None:
    # Against the previous 31 days Kwale was already in: 28 against 3 + 10.
    row = _incidents(engine, PREVIOUS)
    assert (row["value"], row["comparison_value"], row["change"]) == (28, 13, 15)
    # Mombasa with Turkana, which has not joined: the same counties in the programme on both
    # sides, so a year earlier is compared: 8 against 5.
    pair = dataclasses.replace(OCTOBER, counties=("001", "023"))
    row = _incidents(engine, pair)
    assert (row["value"], row["comparison_value"], row["change"]) == (8, 5, 3)
    assert pd.isna(row["comparison_note"])


def test_a_county_joining_on_the_comparisons_first_day_or_after_the_period_is_like_for_like():
    def joined(day: dt.date | None) -> dict:
        return {"001": ("Mombasa", D(2025, 6, 8)), "002": ("Kwale", day)}

    october = (D(2026, 10, 1), D(2026, 10, 31), "last_year")
    assert rollout_problem(*october, joined(D(2025, 10, 1))) is None  # in on both sides
    assert rollout_problem(*october, joined(D(2026, 11, 1))) is None  # out on both sides
    assert rollout_problem(*october, joined(None)) is None
    assert "(Kwale)" in rollout_problem(*october, joined(D(2025, 10, 2)))
    assert "(Kwale)" in rollout_problem(*october, joined(D(2026, 10, 31)))


def test_wards_rise_only_against_a_period_their_county_was_in(engine) -> None:
    wards = q.incident_counts_by_ward(engine, OCTOBER).set_index("ward_code")
    assert wards["comparable"].to_dict() == {"W1": True, "W2": False}
    # Ukunda rose by 19 (1 -> 20) only because Kwale joined since: it is not ranked.
    rising = q.incident_increase_by_ward(engine, OCTOBER)
    assert rising["ward_code"].tolist() == ["W1"] and rising["change"].tolist() == [3]
    rising = q.incident_increase_by_ward(engine, PREVIOUS)
    assert rising["ward_code"].tolist() == ["W2", "W1"] and rising["change"].tolist() == [10, 5]


def test_compstats_total_is_not_compared_across_a_county_joining(engine) -> None:
    frame = q.compstat_by_county(engine, OCTOBER).set_index("county_name")
    # 28 days ending 31 Oct 2026 (4-31 Oct) against 4-31 Oct 2025.
    assert frame["d28_count"].to_dict() == {"Total": 28, "Kwale": 20, "Mombasa": 8, "Turkana": 0}
    before = frame["d28_last_year_count"].to_dict()
    assert before == {"Total": 6, "Kwale": 1, "Mombasa": 5, "Turkana": 0}
    change = frame["d28_change_pct"]
    assert pd.isna(change["Total"]) and pd.isna(change["Kwale"])  # Kwale joined in between
    assert change["Mombasa"] == pytest.approx(100 * (8 - 5) / 5)
    # Mombasa alone: its total is Mombasa's, compared.
    alone = q.compstat_by_county(engine, dataclasses.replace(OCTOBER, counties=("001",)))
    assert alone["d28_change_pct"].tolist() == pytest.approx([60.0, 60.0])
    # Wards chosen: the rows count them alone (here all of Mombasa's incidents are W1's).
    ward = q.compstat_by_county(
        engine, dataclasses.replace(OCTOBER, counties=("001",), wards=("W1",))
    )
    assert ward["d28_count"].tolist() == [8, 8]


def test_the_briefing_says_why_once_a_slide_and_compares_each_county_alone(engine) -> None:
    """Projected, the reason filled a slide when each sentence repeated it: it is said once, in
    the slide's notes, and the sentences give the figures."""
    from queries.briefing import build_briefing

    model = build_briefing(engine, OCTOBER, 5)
    note = _incidents(engine, OCTOBER)["comparison_note"]
    for slide in (slide for slide in model.slides if slide.figures):
        text = " ".join(slide.sentences)
        assert "No comparison" not in text, slide.key
        assert slide.notes.count(note) == 1, slide.key
    headline = next(slide for slide in model.slides if slide.key == "headline")
    assert headline.sentences[0] == "Incidents reported in all counties: 28."
    # Mombasa and Kwale side by side: each county's own comparison, Kwale's not valid.
    pair = build_briefing(engine, dataclasses.replace(OCTOBER, counties=("001", "002")), 5)
    slides = {slide.key: slide for slide in pair.slides}
    mombasa = " ".join(slides["county-001"].sentences)
    assert "Incidents reported in Mombasa rose 60.0% (+3) to 8" in mombasa
    assert "Kwale joined the programme on 01 Aug 2026" in " ".join(slides["county-002"].notes)
