"""The Rehabilitation page's queries on hand-made rows, on SQLite and PostgreSQL, with answers
worked out by hand: breakdowns, months, the funnel, medians, centres, current admissions and
the headline; cells of 0, 1, 4 and 5; totals that would reveal a single hidden cell; and the
joint suppression (`protect_cells`) on hand-made systems of cells."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from sqlalchemy import Engine

from queries import rehab
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import rehab_headline
from queries.privacy import Relation, fixed_cells, protect_cells
from tests.rows import THREE_COUNTIES, insert_rows

D = dt.date
JULY = Filters(start=D(2025, 7, 1), end=D(2025, 7, 31), preset="custom")
HIDDEN = None  # an expected value hidden by the privacy rule


def _referrals(first_id: int, county: str, columns: dict[str, list], **fixed) -> list[dict]:
    """One referral per position of the equal-length lists in `columns`, referred 1-10 July.
    The k-th one with an admitted-type status is admitted `days[i]` days later (default k)."""
    n = len(next(iter(columns.values())))
    assert all(len(v) == n for v in columns.values())
    rows = []
    admissions = 0
    for i in range(n):
        row = {key: values[i] for key, values in columns.items()}
        referred = fixed.get("referred_on", D(2025, 7, 1) + dt.timedelta(days=i % 10))
        admitted = row.get("status") in ("admitted", "completed", "dropped_out")
        admissions += admitted
        days = row.pop("days", admissions)
        rows.append(
            dict(
                id=first_id + i,
                county_code=county,
                referred_on=referred,
                assessed_on=referred if row.get("status", "referred") != "referred" else None,
                admitted_on=referred + dt.timedelta(days=days) if admitted else None,
                **row,
                **{k: v for k, v in fixed.items() if k != "referred_on"},
            )
        )
    return rows


# Mombasa (001), July 2025: every cell 0 or at least 5, with unknown values bucketed as 'other'.
MOMBASA = dict(
    source=["family"] * 15 + ["police"] * 10 + ["school"] * 5 + ["self"] * 5 + ["church"] * 5,
    substance=["alcohol"] * 25 + ["cannabis"] * 10 + ["khat"] * 5,
    sex=["male"] * 30 + ["female"] * 10,
    age_band=["15_19"] * 10 + ["20_24"] * 10 + ["25_34"] * 10 + ["35_49"] * 5 + ["50_plus"] * 5,
    status=["referred"] * 5
    + ["transferred"] * 5  # not a contract status: counts as referred only
    + ["assessed"] * 5
    + ["declined"] * 5
    + ["admitted"] * 5
    + ["completed"] * 10
    + ["dropped_out"] * 5,
    ward_code=["w1"] * 20 + ["w2"] * 20,
)
# Nakuru (032), July 2025: cells of 1 and 4 beside 5; a lone hidden cell beside a total.
NAKURU = dict(
    source=["family"] * 1 + ["police"] * 4 + ["school"] * 5 + ["self"] * 10,
    substance=["alcohol"] * 16 + ["cannabis"] * 4,
    sex=["female"] * 1 + ["male"] * 19,
    age_band=["20_24"] * 20,
    status=["referred"] * 20,
)
# Nairobi (047), July 2025: two hidden 1s (their sum would give them away), a small non-youth
# group, and small completed / dropped-out counts inside a shown "admitted" stage.
NAIROBI = dict(
    source=["family", "police"] + ["self"] * 10,
    substance=["alcohol"] * 12,
    sex=["male"] * 12,
    age_band=["15_19"] * 10 + ["35_49"] * 2,
    status=["admitted"] * 7 + ["completed"] * 4 + ["dropped_out"],
    centre_id=[5] * 7 + [None] * 5,
)


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(
        writer,
        "counties",
        [*THREE_COUNTIES, dict(code="030", name="Baringo"), dict(code="022", name="Kiambu")],
    )
    insert_rows(
        writer,
        "rehab_centres",
        [
            dict(id=1, county_code="001", ward_code="w1", capacity=30, kind="public"),
            dict(
                id=2,
                county_code="001",
                ward_code="w2",
                opened_on=D(2025, 7, 15),
                capacity=10,
                kind="community_based",
            ),
            dict(id=3, county_code="001", opened_on=D(2025, 9, 1), capacity=50, kind="private"),
            dict(id=4, county_code="032", capacity=20, kind="hospital"),
            dict(id=5, county_code="047", capacity=40, kind="private"),
        ],
    )
    mombasa = _referrals(1, "001", MOMBASA)
    for row in mombasa:
        if row["status"] == "admitted":
            row["centre_id"] = 1
    rows = [
        *mombasa,
        *_referrals(100, "032", NAKURU),
        *_referrals(200, "047", NAIROBI),
        # Median days to admission: 4 admissions (suppressed) and 5 (shown).
        *_referrals(300, "030", dict(status=["completed"] * 4, days=[4, 5, 6, 7])),
        *_referrals(310, "022", dict(status=["completed"] * 5, days=[2, 2, 3, 9, 9])),
        # Outside July: the day before and the day after.
        dict(id=400, county_code="001", referred_on=D(2025, 6, 30), source="family"),
        dict(id=401, county_code="001", referred_on=D(2025, 8, 1), source="family"),
        # In treatment at the end of July though referred in March (at a Nakuru centre); one
        # admitted only in August; one admitted with no centre recorded.
        dict(
            id=402,
            county_code="032",
            referred_on=D(2025, 3, 1),
            status="admitted",
            admitted_on=D(2025, 3, 5),
            centre_id=4,
        ),
        dict(
            id=403,
            county_code="047",
            referred_on=D(2025, 3, 1),
            status="admitted",
            admitted_on=D(2025, 8, 2),
            centre_id=5,
        ),
        dict(
            id=404,
            county_code="047",
            referred_on=D(2025, 3, 1),
            status="admitted",
            admitted_on=D(2025, 7, 2),
            centre_id=None,
        ),
    ]
    insert_rows(writer, "rehab_referrals", rows)
    writer.dispose()
    return make_engine(empty_db_url)


def _in(*counties: str, **changes) -> Filters:
    return Filters(start=JULY.start, end=JULY.end, preset="custom", counties=counties, **changes)


def _values(frame: pd.DataFrame, key: str, column: str = "referrals") -> dict:
    """{category: count or HIDDEN}, checking that NaN and the flag agree."""
    result = {}
    for category, value, hidden in zip(
        frame[key], frame[column], frame[f"{column}_suppressed"], strict=True
    ):
        assert hidden == pd.isna(value), (category, value, hidden)
        result[category] = HIDDEN if hidden else value
    return result


SOURCES_ZERO = dict.fromkeys(
    [
        "faith_institution",
        "peer_outreach",
        "residents_association",
        "police",
        "ngao",
        "family",
        "self",
        "health_facility",
        "school",
        "other",
    ],
    0.0,
)


def test_breakdowns_with_no_small_cell_are_exact(engine: Engine) -> None:
    f = _in("001")
    assert _values(rehab.referrals_by_source(engine, f, 5), "source") == {
        **SOURCES_ZERO,
        "family": 15,
        "police": 10,
        "school": 5,
        "self": 5,
        "other": 5,
    }
    assert _values(rehab.referrals_by_substance(engine, f, 5), "substance") == {
        "alcohol": 25,
        "cannabis": 10,
        "khat": 5,
        "heroin": 0,
        "prescription": 0,
        "tobacco": 0,
        "multiple": 0,
        "other": 0,
    }
    assert _values(rehab.referrals_by_sex(engine, f, 5), "sex") == {
        "female": 10,
        "male": 30,
        "unknown": 0,
        "other": 0,
    }
    assert _values(rehab.referrals_by_age_band(engine, f, 5), "age_band") == {
        "under_15": 0,
        "15_19": 10,
        "20_24": 10,
        "25_34": 10,
        "35_49": 5,
        "50_plus": 5,
        "other": 0,
    }
    months = rehab.referrals_by_month(engine, f, 5)
    assert months["month_start"].tolist() == [pd.Timestamp(2025, 7, 1)]
    assert months["referrals"].tolist() == [40.0]
    assert months["is_partial"].tolist() == [False]


def test_funnel_stages_are_nested_by_status(engine: Engine) -> None:
    funnel = rehab.referrals_by_stage(engine, _in("001"), 5).set_index("stage")
    # referred 5 + transferred 5 + assessed 5 + declined 5 + admitted 5 + completed 10 +
    # dropped_out 5 = 40; assessed = 40 - 10; admitted = 5 + 10 + 5.
    expected = {
        "referred": 40,
        "assessed": 30,
        "admitted": 20,
        "completed": 10,
        "in_treatment": 5,
        "dropped_out": 5,
        "declined": 5,
    }
    assert funnel["referrals"].to_dict() == expected
    assert not funnel["referrals_suppressed"].any()
    for stage, count in expected.items():
        assert funnel.loc[stage, "of_referrals_pct"] == pytest.approx(100 * count / 40)
    assert funnel["kind"].tolist() == ["stage"] * 4 + ["outcome"] * 3


def test_cells_of_1_and_4_are_hidden_and_a_lone_one_takes_another_with_it(engine) -> None:
    f = _in("032")
    # 1 and 4 hidden; their sum (5) is all a reader gets from the total of 20.
    assert _values(rehab.referrals_by_source(engine, f, 5), "source") == {
        **SOURCES_ZERO,
        "family": HIDDEN,
        "police": HIDDEN,
        "school": 5,
        "self": 10,
    }
    # 4 alone beside the total would be 20 - 16: the 16 goes too.
    substance = _values(rehab.referrals_by_substance(engine, f, 5), "substance")
    assert substance["alcohol"] is HIDDEN and substance["cannabis"] is HIDDEN
    assert _values(rehab.referrals_by_sex(engine, f, 5), "sex") == {
        "female": HIDDEN,
        "male": HIDDEN,
        "unknown": 0,
        "other": 0,
    }
    funnel = rehab.referrals_by_stage(engine, f, 5).set_index("stage")
    assert funnel["referrals"].to_dict() == {
        "referred": 20,
        "assessed": 0,
        "admitted": 0,
        "completed": 0,
        "in_treatment": 0,
        "dropped_out": 0,
        "declined": 0,
    }


def test_two_hidden_ones_do_not_reveal_themselves_through_their_sum(engine) -> None:
    f = _in("047")
    # family 1 + police 1 = 12 - 10 would tell a reader both are 1: self (10) is hidden too.
    assert _values(rehab.referrals_by_source(engine, f, 5), "source") == {
        **SOURCES_ZERO,
        "family": HIDDEN,
        "police": HIDDEN,
        "self": HIDDEN,
    }
    # Non-youth (2) would be total - youth: the youth count and so its band go too.
    assert _values(rehab.referrals_by_age_band(engine, f, 5), "age_band") == {
        "under_15": 0,
        "15_19": HIDDEN,
        "20_24": 0,
        "25_34": 0,
        "35_49": HIDDEN,
        "50_plus": 0,
        "other": 0,
    }
    funnel = rehab.referrals_by_stage(engine, f, 5).set_index("stage")
    # Shown counts are rounded to the nearest 5: 12 reads 10, 7 reads 5.
    assert _values(funnel.reset_index(), "stage") == {
        "referred": 10,
        "assessed": 10,
        "admitted": 10,
        "completed": HIDDEN,
        "in_treatment": 5,
        "dropped_out": HIDDEN,
        "declined": 0,
    }
    assert funnel.loc["completed", "of_referrals_pct_suppressed"]
    assert pd.isna(funnel.loc["completed", "of_referrals_pct"])
    # The share is of the rounded counts (5 of 10), not of the true ones (7 of 12).
    assert funnel.loc["in_treatment", "of_referrals_pct"] == pytest.approx(50.0)


def test_months_hide_small_edges_and_the_month_their_sum_would_reveal(engine) -> None:
    f = Filters(start=D(2025, 6, 15), end=D(2025, 8, 10), preset="custom", counties=("001",))
    months = rehab.referrals_by_month(engine, f, 5)
    assert months["month_start"].tolist() == [
        pd.Timestamp(2025, 6, 1),
        pd.Timestamp(2025, 7, 1),
        pd.Timestamp(2025, 8, 1),
    ]
    # June 1 and August 1: two hidden ones beside the total of 42, so July (40) goes too.
    assert months["referrals_suppressed"].tolist() == [True, True, True]
    assert months["referrals"].isna().all()
    assert months["is_partial"].tolist() == [True, False, True]


def test_a_higher_threshold_hides_more(engine: Engine) -> None:
    assert _values(rehab.referrals_by_source(engine, _in("001"), 10), "source") == {
        **SOURCES_ZERO,
        "family": 15,
        "police": 10,
        "school": HIDDEN,
        "self": HIDDEN,
        "other": HIDDEN,
    }


def test_wards_restrict_referrals_and_centres(engine: Engine) -> None:
    f = _in("001", wards=("w1",))
    assert _values(rehab.referrals_by_source(engine, f, 5), "source") == {
        **SOURCES_ZERO,
        "family": 15,
        "police": 5,
    }
    kinds = rehab.centres_by_kind(engine, f, 5).set_index("kind")
    assert kinds["centres"].to_dict() == {
        "community_based": 0,
        "public": 1,
        "private": 0,
        "other": 0,
    }
    assert kinds.loc["public", "capacity"] == 30


def test_centres_open_by_the_period_end_by_kind(engine: Engine) -> None:
    kinds = rehab.centres_by_kind(engine, JULY, 5).set_index("kind")
    # Centre 3 opens in September; centre 4's kind 'hospital' is not a contract kind.
    assert kinds["centres"].to_dict() == {
        "community_based": 1,
        "public": 1,
        "private": 1,
        "other": 1,
    }
    assert kinds["capacity"].to_dict() == {
        "community_based": 10,
        "public": 30,
        "private": 40,
        "other": 20,
    }


def test_current_admissions_against_capacity(engine: Engine) -> None:
    frame = rehab.current_admissions_by_county(engine, JULY, 5).set_index("county_code")
    assert frame["capacity"].to_dict() == {"001": 40, "032": 20, "047": 40}
    assert frame["centres"].to_dict() == {"001": 2, "032": 1, "047": 1}
    # In treatment on 31 July: 001 has 5 (Mombasa's admitted), 032 has 1 (referred in March),
    # 047 has 7 (one admitted in August and one with no centre are left out). The 1 is hidden,
    # and so is the smallest other count (5), so no total could reveal it; but "<5" beside a
    # "suppressed" (at least 5) summing to 13 - 7 = 6 could only be 1 and 5, so 7 goes too.
    assert _values(frame.reset_index(), "county_code", "current_admissions") == {
        "001": HIDDEN,
        "032": HIDDEN,
        "047": HIDDEN,
    }
    assert frame["occupancy_pct_suppressed"].all() and frame["occupancy_pct"].isna().all()


def test_median_days_by_county(engine: Engine) -> None:
    frame = rehab.median_days_by_county(engine, JULY, 5).set_index("county_code")
    assert frame["county_name"].tolist() == ["Baringo", "Kiambu", "Mombasa", "Nairobi", "Nakuru"]
    medians = frame["median_days_to_admission"]
    assert medians["001"] == 10.5  # days 1..20 for the 20 admitted
    assert medians["047"] == 6.5  # days 1..12
    assert medians["022"] == 3.0  # 2, 2, 3, 9, 9: five admissions, shown
    assert pd.isna(medians["030"]) and frame.loc["030", "median_days_to_admission_suppressed"]
    assert pd.isna(medians["032"]) and not frame.loc["032", "median_days_to_admission_suppressed"]


def _card(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame.set_index("indicator").loc[key]


def test_headline_cards_and_their_comparison(engine: Engine) -> None:
    cards = rehab_headline(engine, _in("001"), 5)
    assert cards["indicator"].tolist() == list(rehab.REHAB_HEADLINE_KEYS)
    expected = {
        "rehab_referrals": 40.0,
        "referral_admission_pct": 50.0,
        "referral_completion_pct": 100 * 10 / 15,
        "median_days_to_admission": 10.5,
        "referral_youth_pct": 75.0,
    }
    for key, value in expected.items():
        card = _card(cards, key)
        assert not card["suppressed"]
        assert math.isclose(card["value"], value)
    # The comparison (31 May - 30 June 2025) starts before the launch: no change at all.
    referrals = _card(cards, "rehab_referrals")
    assert referrals["note"].startswith("No comparison") and pd.isna(referrals["comparison_value"])
    assert cards["change"].isna().all() and not cards["meaningful"].any()


def test_headline_hides_a_share_whose_complement_is_small(engine: Engine) -> None:
    cards = rehab_headline(engine, _in("047"), 5)
    # 10 of 12 aged 15-34: the 2 others would be 12 - 10.
    youth = _card(cards, "referral_youth_pct")
    assert youth["suppressed"] and pd.isna(youth["value"])
    # Completion rests on 4 completed: suppressed.
    assert _card(cards, "referral_completion_pct")["suppressed"]
    # 12 of 12 admitted: nothing small to reveal.
    admitted = _card(cards, "referral_admission_pct")
    assert not admitted["suppressed"] and admitted["value"] == 100.0
    referrals = _card(cards, "rehab_referrals")
    assert referrals["value"] == 10.0  # 12, rounded to the nearest 5
    # June 2025 starts before the launch: no comparison, so no change.
    assert pd.isna(referrals["comparison_value"]) and pd.isna(referrals["change"])


def test_headline_zero_and_no_data(engine: Engine) -> None:
    cards = rehab_headline(engine, _in("032"), 5)
    assert _card(cards, "rehab_referrals")["value"] == 20.0
    assert _card(cards, "referral_admission_pct")["value"] == 0.0  # 0 of 20, nothing hidden
    for key in ("referral_completion_pct", "median_days_to_admission"):
        card = _card(cards, key)
        assert pd.isna(card["value"]) and not card["suppressed"]  # no data, not suppressed


# Pure checks of the joint suppression on hand-made cells.


def test_protect_cells_one_dimension() -> None:
    values = {"total": 55, "a": 3, "b": 0, "c": 12, "d": 40}
    relations = [Relation("total", ("a", "b", "c", "d"))]
    assert protect_cells(values, relations, 5) == {"a", "c"}
    assert protect_cells({**values, "a": 5, "total": 57}, relations, 5) == set()


def test_protect_cells_table_with_all_its_margins() -> None:
    # A 2 x 2 table with row and column totals: a hidden corner takes a rectangle with it.
    values = {"N": 62, "r1": 12, "r2": 50, "c1": 22, "c2": 40, "a": 2, "b": 10, "c": 20, "d": 30}
    relations = [
        Relation("r1", ("a", "b")),
        Relation("r2", ("c", "d")),
        Relation("c1", ("a", "c")),
        Relation("c2", ("b", "d")),
        Relation("N", ("r1", "r2")),
        Relation("N", ("c1", "c2")),
    ]
    hidden = protect_cells(values, relations, 5, keep_shown={"N": 2})
    assert hidden == {"a", "b", "c", "d"}
    assert fixed_cells(relations, hidden) == set()
    assert fixed_cells(relations, {"a", "b"}) == {"a", "b"}  # b = r1 - a, a = c1 - c


def test_protect_cells_keeps_cells_published_elsewhere_when_it_can() -> None:
    # N = A + x and A = y + M; x small. Hiding A is enough; N stays (the headline).
    values = {"N": 30, "A": 27, "x": 3, "y": 7, "M": 20}
    relations = [Relation("N", ("x", "A")), Relation("A", ("y", "M"))]
    assert protect_cells(values, relations, 5, keep_shown={"N": 2, "M": 1}) == {"x", "A", "y"}
    # When A must equal N (x is 0) it inherits N's priority: M goes instead.
    values = {"N": 30, "A": 30, "x": 0, "y": 3, "M": 27}
    assert protect_cells(values, relations, 5, keep_shown={"N": 2, "M": 1}) == {"y", "M"}


def test_protect_cells_all_or_nothing() -> None:
    values = {"F": 9, "c": 6, "o": 3}
    relations = [Relation("F", ("c", "o"))]
    hidden = protect_cells(values, relations, 5, all_or_nothing=[("c", "o", "F")])
    assert hidden == {"c", "o", "F"}


def test_protect_cells_solves_the_relations_together() -> None:
    # Every relation has two hidden parts, yet a + b, b + c and a + c fix all three: one of the
    # totals must go as well.
    values = {"X": 5, "Y": 7, "Z": 6, "a": 2, "b": 3, "c": 4}
    relations = [Relation("X", ("a", "b")), Relation("Y", ("b", "c")), Relation("Z", ("a", "c"))]
    assert fixed_cells(relations, {"a", "b", "c"}) == {"a", "b", "c"}
    hidden = protect_cells(values, relations, 5)
    assert hidden == {"a", "b", "c", "X"}
    assert fixed_cells(relations, hidden) == set()
