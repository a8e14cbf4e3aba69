"""The Incidents page's queries on hand-made rows with answers worked out by hand (SQLite and
PostgreSQL), and against independent pandas computations over the raw demo rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from queries import incidents as q
from queries.db import make_engine
from queries.filters import Filters
from queries.schema import INCIDENT_CATEGORIES
from tests.rows import THREE_COUNTIES, incident_row, insert_rows

D = dt.date
T = dt.datetime
JULY = Filters(start=D(2025, 7, 1), end=D(2025, 7, 31), preset="custom")
MOMBASA, NAKURU, NAIROBI = "001", "032", "047"
IN_KENYA = {
    2: (-4.05, 39.66),
    7: (-0.30, 36.07),
    11: (-1.30, 36.80),
    12: (-1.31, 36.81),
    13: (-1.29, 36.79),
}

# (id, county, ward, reported_at UTC, category, channel, status, hours to ack, to resolve,
#  (latitude, longitude)). EAT = UTC+3, so 21:00:00 UTC is the next EAT day.
ROWS = [
    (
        1,
        MOMBASA,
        "W1",
        T(2025, 6, 30, 20, 59, 59),
        "theft",
        "hatua_app",
        "resolved",
        2,
        24,
        None,
    ),  # EAT 30 June: before the period, in the previous period
    (
        2,
        MOMBASA,
        "W1",
        T(2025, 6, 30, 21, 0, 0),
        "theft",
        "hatua_app",
        "reported",
        None,
        None,
        IN_KENYA[2],
    ),  # EAT 1 July 00:00: inside
    (3, MOMBASA, "W1", T(2025, 7, 10, 8), "Theft", "sms", "resolved", 1.5, 10, None),
    (
        4,
        MOMBASA,
        "W2",
        T(2025, 7, 11, 8),
        "burglary",
        "police_station",
        "acknowledged",
        3,
        None,
        (51.5, -0.12),
    ),  # London
    (
        5,
        NAKURU,
        "W3",
        T(2025, 7, 31, 20, 59, 59),
        "robbery",
        "ra_forum",
        "actioned",
        5,
        None,
        (0.0, 0.0),
    ),  # EAT 31 July 23:59:59: inside; 0/0 is outside Kenya
    (
        6,
        NAKURU,
        "W3",
        T(2025, 7, 31, 21, 0, 0),
        "robbery",
        "hatua_app",
        "reported",
        None,
        None,
        None,
    ),  # EAT 1 August: outside
    (
        7,
        NAKURU,
        "W3",
        T(2025, 7, 15, 9),
        "cattle_rustling",
        "hatua_app",
        "resolved",
        2,
        4,
        IN_KENYA[7],
    ),
    (
        8,
        NAKURU,
        None,
        T(2025, 7, 16, 9),
        "gbv",
        "hotline",
        "dismissed",
        None,
        None,
        (-0.28, 136.07),
    ),  # longitude typed 100 degrees too far east
    (9, NAIROBI, "W4", T(2025, 6, 10, 9), "theft", "hatua_app", "reported", None, None, None),
    (10, NAIROBI, "W4", T(2025, 5, 1, 9), "theft", "hatua_app", "acknowledged", 8, None, None),
    (
        11,
        NAIROBI,
        "W4",
        T(2025, 7, 29, 9),
        "assault",
        "hatua_app",
        "acknowledged",
        4,
        None,
        IN_KENYA[11],
    ),
    (
        12,
        NAIROBI,
        "W4",
        T(2025, 7, 28, 9),
        "assault",
        "hatua_app",
        "actioned",
        1,
        None,
        IN_KENYA[12],
    ),
    (
        13,
        NAIROBI,
        "W4",
        T(2025, 7, 24, 9),
        "drugs_alcohol",
        "hatua_app",
        "acknowledged",
        9,
        None,
        IN_KENYA[13],
    ),
    (14, NAIROBI, "W4", T(2025, 7, 23, 9), "theft", "hatua_app", "reported", None, None, None),
    (
        15,
        NAIROBI,
        "W4",
        T(2025, 7, 1, 9),
        "theft",
        "hatua_app",
        "reported",
        None,
        None,
        (-1.0, None),
    ),  # half a coordinate counts as missing
    (16, NAIROBI, "W4", T(2025, 6, 30, 9), "theft", "hatua_app", "reported", None, None, None),
    (
        17,
        MOMBASA,
        "W2",
        T(2025, 7, 29, 20, 59, 59),
        "vandalism",
        "chief_office",
        "reported",
        None,
        None,
        None,
    ),  # EAT 29 July: 2 days old on 31 July
    (
        18,
        MOMBASA,
        "W2",
        T(2025, 7, 28, 21, 0, 0),
        "vandalism",
        "chief_office",
        "reported",
        None,
        None,
        None,
    ),  # EAT 29 July 00:00: 2 days old
    (
        19,
        MOMBASA,
        "W2",
        T(2025, 7, 28, 20, 59, 59),
        "vandalism",
        "chief_office",
        "reported",
        None,
        None,
        None,
    ),  # EAT 28 July: 3 days old
    # A year earlier, for CompStat and the last-year comparison (dismissed: never open).
    (
        20,
        MOMBASA,
        "W1",
        T(2024, 7, 28, 20, 59, 59),
        "theft",
        "hatua_app",
        "dismissed",
        None,
        None,
        None,
    ),  # EAT Sun 28 July 2024 23:59:59: before last year's week to date (Mon 29 Jul - Thu 1 Aug)
    (
        21,
        MOMBASA,
        "W2",
        T(2024, 7, 28, 21, 0, 0),
        "theft",
        "hatua_app",
        "dismissed",
        None,
        None,
        None,
    ),  # EAT Mon 29 July 2024 00:00: first moment of last year's week to date
    (
        22,
        MOMBASA,
        "W2",
        T(2024, 7, 27, 20, 59, 59),
        "theft",
        "hatua_app",
        "dismissed",
        None,
        None,
        None,
    ),  # EAT 27 July 2024: 28 days and year to date only
    (23, NAIROBI, "W4", T(2024, 3, 1, 9), "theft", "hatua_app", "dismissed", None, None, None),
    (
        24,
        NAKURU,
        "W3",
        T(2024, 7, 31, 21, 0, 0),
        "theft",
        "hatua_app",
        "dismissed",
        None,
        None,
        None,
    ),  # EAT Thu 1 August 2024: last day of last year's week to date, outside 28 days and YTD
]


def _incident_rows() -> list[dict]:
    rows = []
    for i, county, ward, at, category, channel, status, ack, res, point in ROWS:
        lat, lon = point if point else (None, None)
        rows.append(
            incident_row(
                i,
                county,
                at,
                status,
                ack,
                res,
                ward_code=ward,
                category=category,
                channel=channel,
                latitude=lat,
                longitude=lon,
            )
        )
    return rows


@pytest.fixture
def engine(empty_db_url: str) -> Engine:
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", THREE_COUNTIES)  # MOMBASA, NAKURU, NAIROBI
    insert_rows(
        writer,
        "wards",
        [
            dict(code="W1", name="Tudor", county_code=MOMBASA),
            dict(code="W2", name="Likoni", county_code=MOMBASA),
            dict(code="W3", name="Biashara", county_code=NAKURU),
            dict(code="W4", name="Kibera", county_code=NAIROBI),
        ],
    )
    insert_rows(writer, "incidents", _incident_rows())
    writer.dispose()
    return make_engine(empty_db_url)


def _weekly_counts(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    nonzero = frame[frame["count"] > 0]
    return {
        (f"{w:%Y-%m-%d}", c): int(n)
        for w, c, n in zip(nonzero["week_start"], nonzero["category"], nonzero["count"])
    }


def test_weekly_counts_by_category(engine: Engine) -> None:
    frame = q.incidents_by_week_and_category(engine, JULY)
    assert list(frame.columns) == ["week_start", "category", "count", "is_partial"]
    weeks = ["2025-06-30", "2025-07-07", "2025-07-14", "2025-07-21", "2025-07-28"]
    assert len(frame) == len(weeks) * len(INCIDENT_CATEGORIES)  # zero-filled grid
    assert _weekly_counts(frame) == {
        ("2025-06-30", "theft"): 2,  # ids 2 (1 July 00:00 EAT) and 15
        ("2025-07-07", "other"): 1,  # 'Theft' is not a contract value
        ("2025-07-07", "burglary"): 1,
        ("2025-07-14", "other"): 1,  # 'cattle_rustling'
        ("2025-07-14", "gbv"): 1,
        ("2025-07-21", "drugs_alcohol"): 1,
        ("2025-07-21", "theft"): 1,
        ("2025-07-28", "robbery"): 1,  # id 5, 23:59:59 EAT on 31 July
        ("2025-07-28", "assault"): 2,
        ("2025-07-28", "vandalism"): 3,
    }
    partial = frame.groupby(frame["week_start"].dt.strftime("%Y-%m-%d"))["is_partial"].all()
    assert partial.to_dict() == {
        weeks[0]: True,
        weeks[1]: False,
        weeks[2]: False,
        weeks[3]: False,
        weeks[4]: True,
    }


def test_category_and_channel_mix(engine: Engine) -> None:
    categories = q.incidents_by_category(engine, JULY)
    assert list(categories["category"]) == [
        "theft",
        "vandalism",
        "assault",
        "other",
        "burglary",
        "drugs_alcohol",
        "gbv",
        "robbery",
        "fraud",
        "public_disorder",
        "suspicious_activity",
    ]
    assert list(categories["count"]) == [3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0]
    assert categories["share_pct"].iloc[0] == pytest.approx(100 * 3 / 14)
    channels = q.incidents_by_channel(engine, JULY).set_index("channel")["count"].to_dict()
    assert channels == {
        "hatua_app": 7,
        "chief_office": 3,
        "hotline": 1,
        "other": 1,
        "police_station": 1,
        "ra_forum": 1,
        "private_security": 0,
    }


def test_response_hours_by_county(engine: Engine) -> None:
    frame = q.response_hours_by_county(engine, JULY).set_index("county_code")
    assert list(frame.index) == [MOMBASA, NAKURU, NAIROBI]
    assert frame["incidents_reported"].to_dict() == {MOMBASA: 6, NAKURU: 3, NAIROBI: 5}
    assert frame["acknowledged_count"].to_dict() == {MOMBASA: 2, NAKURU: 2, NAIROBI: 3}
    # Mombasa (1.5, 3) -> 2.25; Nakuru (5, 2) -> 3.5; Nairobi (4, 1, 9) -> 4.
    assert frame["median_hours_to_acknowledge"].tolist() == pytest.approx([2.25, 3.5, 4.0])
    assert frame["resolved_count"].to_dict() == {MOMBASA: 1, NAKURU: 1, NAIROBI: 0}
    assert frame.loc[MOMBASA, "median_hours_to_resolve"] == pytest.approx(10.0)
    assert frame.loc[NAKURU, "median_hours_to_resolve"] == pytest.approx(4.0)
    assert math.isnan(frame.loc[NAIROBI, "median_hours_to_resolve"])  # null, never 0


def test_open_incidents_by_age(engine: Engine) -> None:
    frame = q.open_incidents_by_age(engine, JULY)
    table = frame.pivot(index="age_band", columns="status", values="count")
    assert list(frame["age_band"].unique()) == ["0-2 days", "3-7 days", "8-30 days", "over 30 days"]
    assert table.loc["0-2 days"].to_dict() == {"reported": 2, "acknowledged": 1, "actioned": 1}
    assert table.loc["3-7 days"].to_dict() == {"reported": 1, "acknowledged": 1, "actioned": 1}
    assert table.loc["8-30 days"].to_dict() == {"reported": 3, "acknowledged": 1, "actioned": 0}
    assert table.loc["over 30 days"].to_dict() == {"reported": 2, "acknowledged": 1, "actioned": 0}


def test_open_incident_ages_follow_eat_dates(engine: Engine) -> None:
    # Mombasa at the end of 29 July EAT: ids 17 and 18 (EAT 29 July) are 0 days old and 19
    # (EAT 28 July) 1 day; a day earlier only 19 exists (18 came at 00:00 EAT on 29 July).
    day = Filters(start=D(2025, 7, 29), end=D(2025, 7, 29), preset="custom", counties=(MOMBASA,))
    frame = q.open_incidents_by_age(engine, day)
    young = frame[frame["age_band"] == "0-2 days"].set_index("status")["count"].to_dict()
    assert young == {"reported": 3, "acknowledged": 0, "actioned": 0}
    before = Filters(start=D(2025, 7, 28), end=D(2025, 7, 28), preset="custom", counties=(MOMBASA,))
    young = q.open_incidents_by_age(engine, before)
    assert int(young.loc[young["age_band"] == "0-2 days", "count"].sum()) == 1  # only id 19


def test_wards_by_count_and_by_increase(engine: Engine) -> None:
    top = q.incidents_by_ward(engine, JULY)
    assert list(top["ward_code"]) == ["W4", "W2", "W1", "W3"]  # id 8 has no ward
    assert list(top["ward_name"]) == ["Kibera", "Likoni", "Tudor", "Biashara"]
    assert list(top["county_name"]) == ["Nairobi", "Mombasa", "Mombasa", "Nakuru"]
    assert list(top["count"]) == [5, 4, 2, 2]
    assert list(top["comparison_count"]) == [2, 0, 1, 0]  # 31 May - 30 June: ids 16, 9, 1
    assert top["change_pct"].tolist() == pytest.approx([150.0, np.nan, 100.0, np.nan], nan_ok=True)
    assert list(q.incidents_by_ward(engine, JULY, limit=2)["ward_code"]) == ["W4", "W2"]

    # June 2025 starts before the launch on 8 June: no ward's rise is ranked against it.
    assert q.incident_increase_by_ward(engine, JULY).empty
    # The ranking itself, as if the comparison were valid.
    counts = q.incident_counts_by_ward(engine, JULY)
    assert not counts["comparable"].any()
    rising = q.largest_increases(counts.assign(comparable=True))
    assert list(rising["ward_code"]) == ["W2", "W4", "W3", "W1"]
    assert list(rising["change"]) == [4, 3, 2, 1]

    last_year = Filters(start=JULY.start, end=JULY.end, preset="custom", comparison="last_year")
    assert q.incident_increase_by_ward(engine, last_year).empty
    counts = q.incident_counts_by_ward(engine, last_year).assign(comparable=True)
    rising = q.largest_increases(counts)
    assert list(rising["ward_code"]) == ["W4", "W2", "W3", "W1"]
    assert list(rising["comparison_count"]) == [0, 2, 0, 1]
    assert rising["change_pct"].tolist() == pytest.approx(
        [np.nan, 100.0, np.nan, 100.0], nan_ok=True
    )


def test_compstat_windows_and_counts(engine: Engine) -> None:
    frame = q.compstat_by_county(engine, JULY)
    assert list(frame["county_name"]) == ["Total", "Mombasa", "Nairobi", "Nakuru"]
    rows = frame.set_index("county_name")
    counts = rows[
        [
            "wtd_count",
            "wtd_last_year_count",
            "d28_count",
            "d28_last_year_count",
            "ytd_count",
            "ytd_last_year_count",
        ]
    ]
    # Week to date Mon 28 - Thu 31 July 2025 against Mon 29 July - Thu 1 August 2024 (the same
    # weekdays): Mombasa's 21 (29 Jul 00:00 EAT) and Nakuru's 24 (1 Aug); not Mombasa's 20
    # (Sunday 28 Jul 23:59:59), which the same dates would have counted.
    assert counts.loc["Mombasa"].tolist() == [3, 1, 5, 3, 7, 3]
    assert counts.loc["Nakuru"].tolist() == [1, 1, 3, 0, 3, 0]
    assert counts.loc["Nairobi"].tolist() == [2, 0, 4, 0, 8, 1]
    assert counts.loc["Total"].tolist() == [6, 2, 12, 3, 18, 4]
    # July 2024 is before the launch (and these counties have no programme_start): no window
    # has a valid comparison, so no change is shown (contract v1.1).
    changes = rows[["wtd_change_pct", "d28_change_pct", "ytd_change_pct"]]
    assert changes.isna().all().all()


def test_compstat_window_dates() -> None:
    windows = q.compstat_windows(D(2026, 1, 10))  # a Saturday in early January
    assert windows["wtd"] == (D(2026, 1, 5), D(2026, 1, 10))
    # Monday 6 to Saturday 11 January 2025: the same weekdays, not 5-10 January (Sun-Fri).
    assert windows["wtd_last_year"] == (D(2025, 1, 6), D(2025, 1, 11))
    assert D(2025, 1, 6).weekday() == 0
    assert windows["d28"] == (D(2025, 12, 14), D(2026, 1, 10))  # crosses the new year
    assert windows["ytd"] == (D(2026, 1, 1), D(2026, 1, 10))
    assert windows["d28_last_year"] == (D(2024, 12, 14), D(2025, 1, 10))
    leap = q.compstat_windows(D(2028, 2, 29))
    assert leap["ytd_last_year"] == (D(2027, 1, 1), D(2027, 2, 28))
    assert leap["wtd"] == (D(2028, 2, 28), D(2028, 2, 29))


def test_coordinates_and_points(engine: Engine) -> None:
    status = q.incidents_by_coordinate_status(engine, JULY).set_index("coordinate_status")
    assert status["count"].to_dict() == {"in_kenya": 5, "outside_kenya": 3, "missing": 6}
    # Every drawable incident is in a density hexagon, nothing sampled.
    assert int(q.incident_density(engine, JULY, 0.01)["incidents"].sum()) == 5


def _hexagon_centre(latitude: float, longitude: float, radius: float) -> tuple[float, float]:
    """The centre of the flat-topped hexagon of `radius` degrees holding the point, on the grid
    aligned at -90/-180, worked out the textbook way (axial coordinates rounded through cube
    coordinates), not as the query does it (nearest of two rectangular lattices)."""
    x, y = longitude + 180.0, latitude + 90.0
    q_axial = (2.0 / 3.0 * x) / radius
    r_axial = (-x / 3.0 + math.sqrt(3.0) / 3.0 * y) / radius
    cube = (q_axial, -q_axial - r_axial, r_axial)
    rounded = [round(c) for c in cube]
    errors = [abs(a - b) for a, b in zip(rounded, cube, strict=True)]
    if errors[0] > errors[1] and errors[0] > errors[2]:
        rounded[0] = -rounded[1] - rounded[2]
    elif errors[1] > errors[2]:
        rounded[1] = -rounded[0] - rounded[2]
    else:
        rounded[2] = -rounded[0] - rounded[1]
    q_hex, r_hex = rounded[0], rounded[2]
    centre_x = radius * 1.5 * q_hex
    centre_y = radius * math.sqrt(3.0) * (r_hex + q_hex / 2)
    return round(centre_y - 90.0, 6), round(centre_x - 180.0, 6)


def _shown_hexagons(frame: pd.DataFrame) -> dict[tuple[float, float], int]:
    return {
        (round(la, 6), round(lo, 6)): int(n)
        for la, lo, n in frame[["latitude", "longitude", "incidents"]].itertuples(index=False)
    }


@pytest.mark.parametrize("radius", [0.01, 0.5, 3.0])
def test_density_counts_every_drawable_incident_in_its_hexagon(engine: Engine, radius) -> None:
    # The five July incidents with coordinates inside Kenya (ids 2, 7, 11, 12, 13).
    expected: dict[tuple[float, float], int] = {}
    for i in (2, 7, 11, 12, 13):
        centre = _hexagon_centre(*IN_KENYA[i], radius)
        expected[centre] = expected.get(centre, 0) + 1
    hexagons = q.incident_density(engine, JULY, radius)
    assert list(hexagons.columns) == ["latitude", "longitude", "incidents", "radius_degrees"]
    assert _shown_hexagons(hexagons) == expected
    assert (hexagons["radius_degrees"] == radius).all()
    empty = Filters(start=D(2030, 1, 7), end=D(2030, 1, 13), preset="custom")
    assert q.incident_density(engine, empty, radius).empty
    with pytest.raises(ValueError):
        q.incident_density(engine, JULY, 0)


@pytest.mark.parametrize("radius", [0.004, 0.05, 0.4])
def test_density_hexagons_match_textbook_hex_binning(empty_db_url: str, radius) -> None:
    """600 points scattered over central Kenya (seeded): each is counted in exactly the
    hexagon the textbook method puts it in, none lost, none twice."""
    rng = np.random.default_rng(7)
    latitudes = rng.uniform(-1.5, 0.5, 600).round(6)
    longitudes = rng.uniform(36.0, 38.0, 600).round(6)
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(writer, "counties", [dict(code="047", name="Nairobi")])
    insert_rows(
        writer,
        "incidents",
        [
            incident_row(i, "047", T(2025, 7, 10), "reported", latitude=la, longitude=lo)
            for i, (la, lo) in enumerate(zip(latitudes, longitudes, strict=True), start=1)
        ],
    )
    writer.dispose()
    expected: dict[tuple[float, float], int] = {}
    for la, lo in zip(latitudes, longitudes, strict=True):
        centre = _hexagon_centre(float(la), float(lo), radius)
        expected[centre] = expected.get(centre, 0) + 1
    hexagons = q.incident_density(make_engine(empty_db_url), JULY, radius)
    assert _shown_hexagons(hexagons) == expected
    assert int(hexagons["incidents"].sum()) == 600


def test_density_hexagons_follow_the_selected_counties(empty_db_url: str) -> None:
    """Without a size given, the hexagons are the ones for a map of the selection, so a page
    and the warm-up preparing its next county ask for the same thing. Worked out by hand: a
    county is a square of its area round its centroid; the hexagon radius is a 60th of the
    wider side of the extent (at least 400 m, in 50 m steps), in degrees (111.32 km each), to
    5 places."""
    writer = make_engine(empty_db_url, read_only=False)
    insert_rows(
        writer,
        "counties",
        [
            dict(code="001", name="Small", area_km2=100, latitude=0.0, longitude=37.0),
            dict(code="002", name="Larger", area_km2=400, latitude=1.0, longitude=38.0),
        ],
    )
    points = [(0.0001, 37.0001), (0.002, 37.003), (0.95, 38.02), (1.04, 37.95)]
    insert_rows(
        writer,
        "incidents",
        [
            incident_row(
                i,
                "001" if lat < 0.5 else "002",
                T(2025, 7, 10),
                "reported",
                latitude=lat,
                longitude=lon,
            )
            for i, (lat, lon) in enumerate(points, start=1)
        ],
    )
    writer.dispose()
    engine = make_engine(empty_db_url)
    # Both: south -0.0449, north 1.0898, west 36.9551, east 38.0898 -> 126.32 km -> 2,100 m.
    # The small one alone: a 10 km square -> 167 m, so 400 m.
    for counties, radius in (((), 0.01886), (("001",), 0.00359)):
        chosen = dataclasses.replace(JULY, counties=counties)
        by_default = q.incident_density(engine, chosen)
        pd.testing.assert_frame_equal(by_default, q.incident_density(engine, chosen, radius))
        assert int(by_default["incidents"].sum()) == (4 if not counties else 2)
        assert (by_default["radius_degrees"] == radius).all()


def test_area_and_scope_restrictions(engine: Engine) -> None:
    likoni = Filters(
        start=JULY.start, end=JULY.end, preset="custom", counties=(MOMBASA,), wards=("W2",)
    )
    mix = q.incidents_by_category(engine, likoni).set_index("category")["count"]
    assert mix[mix > 0].to_dict() == {"vandalism": 3, "burglary": 1}
    response = q.response_hours_by_county(engine, likoni)
    assert response["county_code"].tolist() == [MOMBASA]
    assert response["incidents_reported"].tolist() == [4]
    assert response["median_hours_to_acknowledge"].tolist() == pytest.approx([3.0])

    nakuru_user = Filters(start=JULY.start, end=JULY.end, preset="custom", scope=(NAKURU,))
    assert list(q.compstat_by_county(engine, nakuru_user)["county_name"]) == ["Total", "Nakuru"]
    assert list(q.incidents_by_ward(engine, nakuru_user)["ward_code"]) == ["W3"]
    assert q.incidents_by_coordinate_status(engine, nakuru_user)["count"].tolist() == [1, 2, 0]
    assert int(q.open_incidents_by_age(engine, nakuru_user)["count"].sum()) == 1  # id 5


def test_a_period_without_incidents(engine: Engine) -> None:
    empty = Filters(start=D(2030, 1, 7), end=D(2030, 1, 13), preset="custom")  # Mon-Sun
    weekly = q.incidents_by_week_and_category(engine, empty)
    assert len(weekly) == len(INCIDENT_CATEGORIES) and weekly["count"].sum() == 0
    assert not weekly["is_partial"].any()
    assert q.incidents_by_category(engine, empty)["share_pct"].isna().all()
    response = q.response_hours_by_county(engine, empty)
    assert response[["median_hours_to_acknowledge", "median_hours_to_resolve"]].isna().all().all()
    assert q.incidents_by_ward(engine, empty).empty
    assert q.incident_density(engine, empty, 0.01).empty
    # Every open incident is still open in 2030, and older than 30 days.
    ages = q.open_incidents_by_age(engine, empty)
    assert ages.groupby("age_band")["count"].sum().to_dict() == {
        "0-2 days": 0,
        "3-7 days": 0,
        "8-30 days": 0,
        "over 30 days": 15,
    }


def _raw_incidents(db: Path) -> pd.DataFrame:
    with sqlite3.connect(db) as connection:
        raw = pd.read_sql_query(
            "SELECT id, reported_at, county_code, category FROM incidents", connection
        )
    raw["eat_day"] = (pd.to_datetime(raw["reported_at"]) + pd.Timedelta(hours=3)).dt.normalize()
    raw["bucket"] = raw["category"].where(raw["category"].isin(INCIDENT_CATEGORIES), "other")
    return raw


DEMO_SELECTIONS = [
    dict(days=90, counties=()),
    dict(days=400, counties=("032",)),
    dict(days=30, counties=("001", "032", "047")),
]


@pytest.mark.parametrize("selection", DEMO_SELECTIONS, ids=["all-90d", "nakuru-400d", "three-30d"])
def test_weekly_by_category_matches_pandas_on_the_demo(demo_db_path: Path, selection) -> None:
    raw = _raw_incidents(demo_db_path)
    end = D.fromisoformat(str(raw["eat_day"].max().date())) - dt.timedelta(days=3)
    filters = Filters(
        start=end - dt.timedelta(days=selection["days"] - 1),
        end=end,
        preset="custom",
        counties=selection["counties"],
    )
    chosen = raw[
        (raw["eat_day"] >= pd.Timestamp(filters.start))
        & (raw["eat_day"] <= pd.Timestamp(filters.end))
    ]
    if filters.counties:
        chosen = chosen[chosen["county_code"].isin(filters.counties)]
    monday = chosen["eat_day"] - pd.to_timedelta(chosen["eat_day"].dt.day_of_week, unit="D")
    expected = chosen.groupby([monday.dt.strftime("%Y-%m-%d"), chosen["bucket"]]).size()
    frame = q.incidents_by_week_and_category(make_engine(f"sqlite:///{demo_db_path}"), filters)
    assert _weekly_counts(frame) == {key: int(n) for key, n in expected.items()}
    assert int(frame["count"].sum()) == len(chosen) > 0


# The pilot counties joined together at the launch: their total is compared (no roll-out).
PILOTS = ("001", "032", "047")


@pytest.mark.parametrize("counties", [(), PILOTS], ids=["all", "pilots"])
@pytest.mark.parametrize("end_offset", [3, 40, 200])
def test_compstat_matches_pandas_on_the_demo(
    demo_db_path: Path, end_offset: int, counties: tuple[str, ...]
) -> None:
    raw = _raw_incidents(demo_db_path)
    end = D.fromisoformat(str(raw["eat_day"].max().date())) - dt.timedelta(days=end_offset)
    filters = Filters(start=end - dt.timedelta(days=6), end=end, preset="custom", counties=counties)
    if counties:
        raw = raw[raw["county_code"].isin(counties)]
    frame = q.compstat_by_county(make_engine(f"sqlite:///{demo_db_path}"), filters)
    rows = frame.set_index("county_code", drop=False)
    with sqlite3.connect(demo_db_path) as connection:
        joined_on = {
            code: D.fromisoformat(day)
            for code, day in connection.execute("SELECT code, programme_start FROM counties")
            if day is not None and (not counties or code in counties)
        }

    def count(first: D, last: D) -> pd.Series:
        inside = raw[
            (raw["eat_day"] >= pd.Timestamp(first)) & (raw["eat_day"] <= pd.Timestamp(last))
        ]
        return inside.groupby("county_code").size()

    def year_before(day: D) -> D:
        return (
            day.replace(year=day.year - 1)
            if (day.month, day.day) != (2, 29)
            else day.replace(year=day.year - 1, day=28)
        )

    starts = {
        "wtd": end - dt.timedelta(days=end.weekday()),
        "d28": end - dt.timedelta(days=27),
        "ytd": D(end.year, 1, 1),
    }
    for key, start in starts.items():
        # The week to date against the same weekdays 52 weeks back, the others the same dates.
        earlier = (lambda day: day - dt.timedelta(weeks=52)) if key == "wtd" else year_before
        now = count(start, end)
        before = count(earlier(start), earlier(end))
        county_rows = rows[rows["county_name"] != "Total"]
        for code, row in county_rows.iterrows():
            assert row[f"{key}_count"] == int(now.get(code, 0)), (key, code)
            assert row[f"{key}_last_year_count"] == int(before.get(code, 0)), (key, code)
        total = frame[frame["county_name"] == "Total"].iloc[0]
        assert total[f"{key}_count"] == int(now.sum())
        assert total[f"{key}_last_year_count"] == int(before.sum())
        # A change only where last year's window starts on or after the place's start; for
        # the total, when no county joined between then and the window's end (the roll-out).
        rolled_out = any(earlier(start) < day <= end for day in joined_on.values())
        if before.sum() and earlier(start) >= D(2025, 6, 8) and not rolled_out:
            assert total[f"{key}_change_pct"] == pytest.approx(
                100 * (now.sum() - before.sum()) / before.sum()
            )
        else:
            assert pd.isna(total[f"{key}_change_pct"])
        for code, row in county_rows.iterrows():
            joined = joined_on.get(code)
            valid = joined is not None and earlier(start) >= joined and before.get(code, 0)
            expected = 100 * (now.get(code, 0) - before.get(code, 0)) / before.get(code, 1)
            if valid:
                assert row[f"{key}_change_pct"] == pytest.approx(expected), (key, code)
            else:
                assert pd.isna(row[f"{key}_change_pct"]), (key, code)
    if counties == PILOTS and year_before(starts["d28"]) >= D(2025, 6, 8):
        # A year before these 28 days the pilots were all in: their total is compared.
        assert pd.notna(frame.loc[0, "d28_change_pct"])
