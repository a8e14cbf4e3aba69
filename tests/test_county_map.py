"""The county map: Kenya's outline from assets/ under circles (or a choropleth from an
administrator's GeoJSON; a broken GeoJSON falls back to circles instead of breaking the page),
names that never overlap, a legend, a phone-width drawing, and the same figures as a table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pydeck as pdk
import pytest

from dashboard.charts.county_map import (
    NARROW,
    RAMP,
    WIDE,
    county_geojson_path,
    county_map_deck,
    county_names,
    legend_bins,
    load_county_geojson,
    map_frame,
    map_table,
    rate_colours,
)
from dashboard.maps import (
    KENYA_OUTLINE_PATH,
    TILE_PX,
    boxes_overlap,
    choose_labels,
    incident_density_deck,
    label_box,
)
from queries.geography import counties_frame
from tests.app_support import open_page

# Kenya's extent on the Natural Earth outline (west, east), in degrees of longitude.
KENYA_WEST, KENYA_EAST = 33.9, 41.9


def _square(code: object, lon: float, lat: float, key: str = "county_code") -> dict:
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {
        "type": "Feature",
        "properties": {key: code, "NAME": "x"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture
def geojson_file(tmp_path: Path) -> Path:
    path = tmp_path / "counties.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    _square("001", 39.5, -4.1),
                    _square(32, 36.0, -0.5, key="code"),
                    _square("047", 36.7, -1.4),
                    {"type": "Feature", "properties": {}, "geometry": None},
                ],
            }
        )
    )
    return path


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": ["001", "032", "047"],
            "county_name": ["Mombasa", "Nakuru", "Nairobi"],
            "latitude": [-4.0, -0.3, -1.3],
            "longitude": [39.6, 36.1, 36.8],
            "value": [10.0, 0.0, 40.0],
            "rate": [5.0, None, 20.0],
            "value_text": ["a", "b", "c"],
            "rate_text": ["", "", ""],
            "change_text": ["", "", ""],
        }
    )


def test_codes_are_read_from_either_property_and_padded(geojson_file: Path) -> None:
    loaded = load_county_geojson(geojson_file)
    codes = [
        f["properties"].get("county_code") or f["properties"].get("code")
        for f in loaded["features"]
    ]
    assert codes == ["001", 32, "047"]  # the feature without a code is dropped
    assert len(loaded["features"]) == 3


def test_choropleth_fills_counties_by_rate(geojson_file: Path) -> None:
    deck = json.loads(county_map_deck(_frame(), load_county_geojson(geojson_file)).to_json())
    outline, layer, names = deck["layers"]
    assert outline["id"] == "kenya-outline"
    assert layer["@@type"] == "GeoJsonLayer" and names["@@type"] == "TextLayer"
    fills = {
        f["properties"]["county_name"]: f["properties"]["fill"] for f in layer["data"]["features"]
    }
    assert fills == {"Mombasa": RAMP[0], "Nakuru": [200, 200, 200], "Nairobi": RAMP[-1]}


def test_circles_without_boundaries() -> None:
    deck = json.loads(county_map_deck(_frame()).to_json())
    outline, layer, names = deck["layers"]
    assert outline["id"] == "kenya-outline"
    assert layer["@@type"] == "ScatterplotLayer"
    # No basemap, so the counties with something to show are named on the map.
    assert names["@@type"] == "TextLayer"
    assert sorted(row["county_name"] for row in names["data"]) == ["Mombasa", "Nairobi"]
    assert not deck.get("mapStyle")  # no basemap: offline, the layers draw on a plain background
    radii = {row["county_code"]: row["radius_m"] for row in layer["data"]}
    assert radii["047"] == pytest.approx(45_000) and radii["032"] == 0
    assert radii["001"] == pytest.approx(45_000 * 0.5)  # area proportional: sqrt(10/40)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps(
            {"features": [{"type": "Feature", "properties": {"name": "no code"}, "geometry": None}]}
        ),
    ],
)
def test_an_unusable_file_falls_back(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    assert load_county_geojson(path) is None


def test_the_setting_points_at_the_file(geojson_file: Path, tmp_path: Path) -> None:
    assert county_geojson_path({"USALAMA_COUNTY_GEOJSON": str(geojson_file)}) == geojson_file
    assert county_geojson_path({"USALAMA_COUNTY_GEOJSON": str(tmp_path / "none.json")}) is None


def test_rate_colours_span_the_ramp() -> None:
    assert rate_colours(pd.Series([1.0, 2.0, 3.0, None])) == [
        RAMP[0],
        RAMP[3],
        RAMP[-1],
        [200, 200, 200],
    ]


def test_map_frame_has_one_row_per_county_with_tooltips() -> None:
    league = pd.DataFrame(
        {
            "county_code": ["001", "032", "005"],
            "county_name": ["Mombasa", "Nakuru", "Lamu"],
            "incidents_reported": [10, 20, 0],
            "incident_rate_per_100k": [1.5, 2.5, 0.0],
            "incidents_change_pct": [50.0, None, None],
            # Mombasa 10 against 6.67: z = √2 (√10 − √6.67) = 0.82, normal variation; Nakuru
            # joined after the comparison began; Lamu stopped reporting.
            "incidents_z": [math.sqrt(2) * (math.sqrt(10) - math.sqrt(20 / 3)), None, None],
            "incidents_meaningful": [False, False, False],
            "comparison_note": [None, "No comparison: ...", "No comparison: Lamu reported ..."],
            "reporting_gap": [False, False, True],
            "forums_held": [1, 2, 0],
            "forums_per_100k": [0.1, 0.2, 0.0],
            "people_trained": [5, 6, 0],
            "trained_per_100k": [0.5, 0.6, 0.0],
        }
    )
    counties = pd.DataFrame(
        {
            "county_code": ["001", "032", "005"],
            "latitude": [-4.0, -0.3, -2.3],
            "longitude": [39.6, 36.1, 40.9],
        }
    )
    frame = map_frame(league, counties, "incidents")
    assert frame["value_text"].tolist()[:2] == [
        "Incidents reported: 10",
        "Incidents reported: 20",
    ]
    assert frame["change_text"].tolist() == [
        "Change: +50.0% vs comparison (normal variation)",
        "Change: n/a",
        "Change: not compared, reporting stopped?",
    ]


def test_the_overview_draws_the_choropleth(demo_db_path, geojson_file, monkeypatch) -> None:
    monkeypatch.setenv("USALAMA_COUNTY_GEOJSON", str(geojson_file))
    at = open_page(demo_db_path, monkeypatch, {})
    assert not at.exception and not at.error
    legend = [m.value for m in at.markdown if "map-legend" in m.value]
    assert len(legend) == 1
    assert "rate per 100,000 residents" in legend[0] and "Circle area" not in legend[0]


def _outline() -> dict:
    return json.loads(KENYA_OUTLINE_PATH.read_text())


def test_the_outline_is_kenya_from_assets() -> None:
    (feature,) = _outline()["features"]
    assert feature["properties"]["name"] == "Kenya"
    points = [p for polygon in feature["geometry"]["coordinates"] for ring in polygon for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    assert min(lons) == pytest.approx(KENYA_WEST, abs=0.1)
    assert max(lons) == pytest.approx(KENYA_EAST, abs=0.1)
    assert min(lats) == pytest.approx(-4.7, abs=0.1) and max(lats) == pytest.approx(5.5, abs=0.1)
    assert KENYA_OUTLINE_PATH.stat().st_size < 10_000  # a few KB: it is sent with every map


def _pydeck_specs(at) -> list[dict]:
    """The decks the page sent to the browser, as deck.gl JSON (AppTest cannot draw them)."""
    return [json.loads(element.proto.json) for element in at.get("deck_gl_json_chart")]


def test_the_overview_map_is_drawn_over_the_outline_from_assets(demo_db_path, monkeypatch):
    monkeypatch.delenv("USALAMA_COUNTY_GEOJSON", raising=False)
    at = open_page(demo_db_path, monkeypatch, {})
    assert not at.exception and not at.error
    decks = _pydeck_specs(at)
    assert len(decks) == 2  # fitted to a wide screen and to a phone; CSS shows one
    for deck in decks:
        ids = [layer["id"] for layer in deck["layers"]]
        assert ids == ["kenya-outline", "county-circles", "county-names"]  # outline underneath
        assert deck["layers"][0]["data"] == _outline()
        # Smaller circles are drawn after (over) larger ones: Kiambu's is not hidden under
        # Nairobi's.
        radii = [row["radius_m"] for row in deck["layers"][1]["data"]]
        assert len(radii) == 47 and radii == sorted(radii, reverse=True)
    # Tap-friendly wording, a legend, and the same figures as a table.
    captions = " ".join(c.value for c in at.caption)
    assert "Tap or hover" in captions and "Hover a county" not in captions
    assert any("Circle area" in m.value for m in at.markdown if "map-legend" in m.value)
    assert any("the map's figures" in e.label for e in at.expander)


def _real_counties() -> pd.DataFrame:
    frame = counties_frame().rename(columns={"code": "county_code", "name": "county_name"})
    return frame.assign(value=frame["population"].astype("float64"), radius_m=0.0)


def _named_boxes(named: pd.DataFrame, height: float) -> dict[str, tuple]:
    return {
        row.county_name: label_box(row.county_name, row.label_longitude, row.label_latitude, height)
        for row in named.itertuples()
    }


def _overlapping_pairs(boxes: dict[str, tuple]) -> list[tuple[str, str]]:
    names = list(boxes)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if boxes_overlap(boxes[a], boxes[b])
    ]


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["wide", "narrow"])
def test_names_never_overlap_on_the_real_centroids(size) -> None:
    counties = _real_counties()
    everyone = counties.assign(
        label_longitude=counties["longitude"],
        label_latitude=counties["latitude"] + 0.6 * size.label_height_deg,
    )
    all_boxes = _named_boxes(everyone, size.label_height_deg)
    # The crowded places the issue names do collide if every county is named...
    crowded = _overlapping_pairs(all_boxes)
    assert ("Kiambu", "Nairobi") in crowded or ("Nairobi", "Kiambu") in crowded
    assert {("Kakamega", "Uasin Gishu"), ("Uasin Gishu", "Kakamega")} & set(crowded) or {
        ("Kakamega", "Vihiga"),
        ("Vihiga", "Kakamega"),
    } & set(crowded)
    # ...and the chooser names no overlapping pair: the largest of a cluster wins.
    named = county_names(counties, size)
    assert _overlapping_pairs(_named_boxes(named, size.label_height_deg)) == []
    names = set(named["county_name"])
    assert {"Nairobi", "Nakuru", "Kakamega", "Mombasa"} <= names
    assert "Kiambu" not in names  # next to Nairobi, which has more people
    assert 8 <= len(names) <= 12


def test_selected_counties_are_named_first() -> None:
    counties = _real_counties()
    named = county_names(counties, WIDE, selected=("022", "044"))  # Kiambu, Migori
    names = list(named["county_name"])
    assert names[:2] == ["Kiambu", "Migori"]
    assert "Nairobi" not in names  # it would overlap the chosen Kiambu
    assert _overlapping_pairs(_named_boxes(named, WIDE.label_height_deg)) == []


def test_the_phone_drawing_fits_kenya_in_a_phone_width() -> None:
    narrow = json.loads(county_map_deck(_frame(), size=NARROW).to_json())["initialViewState"]
    wide = json.loads(county_map_deck(_frame(), size=WIDE).to_json())["initialViewState"]
    # deck.gl's world is 512 px wide at zoom 0: Kenya's width in pixels at the view's zoom.
    width_px = (KENYA_EAST - KENYA_WEST) * TILE_PX * 2 ** narrow["zoom"] / 360
    assert width_px <= 350  # a 390 px phone leaves about 350 px for the map
    # Centred on Kenya, so neither side is cut.
    assert narrow["longitude"] == pytest.approx((KENYA_WEST + KENYA_EAST) / 2, abs=0.2)
    assert wide["zoom"] > narrow["zoom"]


def test_legend_bins_match_the_colours() -> None:
    rates = pd.Series([1.0, 4.0, 7.0, None])
    bins = legend_bins(rates)
    assert [colour for colour, _, _ in bins] == RAMP
    assert bins[0][1] == 1.0 and bins[-1][2] == pytest.approx(7.0)
    # Each rate's colour is the colour of the class that holds it.
    for rate, colour in zip(rates[:3], rate_colours(rates[:3]), strict=True):
        holders = [c for c, low, high in bins if low <= rate <= high]
        assert colour in holders
    assert legend_bins(pd.Series([3.0, 3.0])) == [(RAMP[0], 3.0, 3.0)]
    assert legend_bins(pd.Series([None], dtype="float64")) == []


def test_the_map_table_holds_the_same_figures() -> None:
    frame = _frame().assign(change_pct=[5.0, None, -2.5])
    shown, raw = map_table(frame, "incidents")
    assert shown["County"].tolist() == ["Nairobi", "Mombasa", "Nakuru"]
    assert shown["Incidents reported"].tolist() == [40.0, 10.0, 0.0]
    assert raw["county_code"].tolist() == ["047", "001", "032"]
    assert raw["incidents_change_pct"].tolist()[0] == -2.5


def test_a_name_that_would_run_past_the_map_edge_is_left_out() -> None:
    places = pd.DataFrame(
        {
            "county_code": ["041", "047"],
            "county_name": ["Homa Bay", "Nairobi"],
            "label_longitude": [34.45, 36.82],
            "label_latitude": [-0.5, -1.2],
        }
    )
    everyone = choose_labels(places, 0.3)
    assert list(everyone["county_name"]) == ["Homa Bay", "Nairobi"]
    inside = choose_labels(places, 0.3, within=(34.2, 41.0))  # Homa Bay's name starts at 33.9
    assert list(inside["county_name"]) == ["Nairobi"]


def test_the_maps_send_pydecks_json_without_its_indentation() -> None:
    cells = pd.DataFrame(
        {
            "longitude": [36.8, 36.07, 39.66],
            "latitude": [-1.28, -0.3, -4.05],
            "incidents": [9, 4, 1],
            "radius_degrees": 0.1,
        }
    )
    for deck in (county_map_deck(_frame()), incident_density_deck(cells)):
        sent = deck.to_json()
        assert "\n" not in sent
        assert json.loads(sent) == json.loads(pdk.Deck.to_json(deck))  # pydeck's own encoding
