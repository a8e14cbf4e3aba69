"""The county map: circles by default, a choropleth from an administrator's GeoJSON, and a
broken GeoJSON that falls back to circles instead of breaking the page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard.charts.county_map import (
    RAMP,
    county_geojson_path,
    county_map_deck,
    load_county_geojson,
    map_frame,
    rate_colours,
)
from tests.app_support import open_page


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
    layer, names = deck["layers"]
    assert layer["@@type"] == "GeoJsonLayer" and names["@@type"] == "TextLayer"
    fills = {
        f["properties"]["county_name"]: f["properties"]["fill"] for f in layer["data"]["features"]
    }
    assert fills == {"Mombasa": RAMP[0], "Nakuru": [200, 200, 200], "Nairobi": RAMP[-1]}


def test_circles_without_boundaries() -> None:
    deck = json.loads(county_map_deck(_frame()).to_json())
    layer, names = deck["layers"]
    assert layer["@@type"] == "ScatterplotLayer"
    # No basemap, so the counties with something to show are named on the map.
    assert names["@@type"] == "TextLayer"
    assert sorted(row["county_name"] for row in names["data"]) == ["Mombasa", "Nairobi"]
    assert not deck.get("mapStyle")  # no basemap: offline, the layers draw on a plain background
    radii = dict(zip(_frame()["county_code"], [row["radius_m"] for row in layer["data"]]))
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
            "county_code": ["001", "032"],
            "county_name": ["Mombasa", "Nakuru"],
            "incidents_reported": [10, 20],
            "incident_rate_per_100k": [1.5, 2.5],
            "incidents_change_pct": [50.0, None],
            "forums_held": [1, 2],
            "forums_per_100k": [0.1, 0.2],
            "people_trained": [5, 6],
            "trained_per_100k": [0.5, 0.6],
        }
    )
    counties = pd.DataFrame(
        {"county_code": ["001", "032"], "latitude": [-4.0, -0.3], "longitude": [39.6, 36.1]}
    )
    frame = map_frame(league, counties, "incidents")
    assert frame["value_text"].tolist() == ["Incidents reported: 10", "Incidents reported: 20"]
    assert frame["change_text"].tolist() == ["Change: +50.0% vs comparison", "Change: n/a"]


def test_the_overview_draws_the_choropleth(demo_db_path, geojson_file, monkeypatch) -> None:
    monkeypatch.setenv("USALAMA_COUNTY_GEOJSON", str(geojson_file))
    at = open_page(demo_db_path, monkeypatch, {})
    assert not at.exception and not at.error
    assert any(
        "colour: rate per 100,000 residents" in m.value and "circle" not in m.value
        for m in at.markdown
    )
