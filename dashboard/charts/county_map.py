"""The county map: a circle per county (or a choropleth when boundaries are supplied), in pydeck."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pydeck as pdk

from dashboard.charts.overview import change_verdicts
from dashboard.data import drawing
from dashboard.maps import (
    KENYA_BOUNDS,
    CompactDeck,
    choose_labels,
    county_names_layer,
    degrees_per_pixel,
    fitted_view,
    kenya_outline_layer,
)

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent.parent / "assets"
GEOJSON_ENV_VAR = "USALAMA_COUNTY_GEOJSON"
DEFAULT_GEOJSON = ASSETS_DIR / "counties.geojson"
NO_DATA_RGB = [200, 200, 200]
LABELLED_COUNTIES = 12
METRES_PER_DEGREE = 111_320


@dataclass(frozen=True)
class MapSize:
    """One drawing of the county map: the viewport Kenya is fitted into and the height of the
    county names in degrees (names are sized in metres, so they shrink and grow with the map)."""

    width_px: int
    height_px: int
    label_height_deg: float


# A laptop or projector (the map is ~1,200 px wide and 600 high: Kenya fits the height), and a
# phone (a 390 px screen leaves ~350 px for the map: Kenya fits the width, with fewer, larger
# names). About 15 px and 13 px text.
WIDE = MapSize(width_px=820, height_px=600, label_height_deg=0.26)
NARROW = MapSize(width_px=350, height_px=460, label_height_deg=0.34)

# Sequential, colour-blind-safe ramp (viridis, light to dark reversed so more reads darker).
RAMP = [[253, 231, 37], [122, 209, 81], [34, 168, 132], [42, 120, 142], [65, 68, 135], [68, 1, 84]]


def county_geojson_path(environ: dict[str, str] | None = None) -> Path | None:
    """Where the administrator's county boundaries are: env USALAMA_COUNTY_GEOJSON, else
    assets/counties.geojson; None when neither exists."""
    environ = os.environ if environ is None else environ
    candidate = Path(environ[GEOJSON_ENV_VAR]) if environ.get(GEOJSON_ENV_VAR) else DEFAULT_GEOJSON
    return candidate if candidate.is_file() else None


def _feature_code(feature: dict) -> str | None:
    properties = feature.get("properties") or {}
    for key in ("county_code", "code", "COUNTY_CODE", "CODE"):
        if properties.get(key) not in (None, ""):
            raw = str(properties[key]).strip()
            return raw.zfill(3) if raw.isdigit() else raw
    return None


def load_county_geojson(path: Path) -> dict | None:
    """Read a county boundary GeoJSON whose features carry the 3-digit county code.

    Returns None (and logs why) when the file is unreadable or no feature has a code, so a bad
    file degrades to the circle map instead of breaking the page.
    """
    try:
        document = json.loads(Path(path).read_text())
        features = [f for f in document.get("features", []) if _feature_code(f)]
    except (OSError, ValueError, AttributeError) as exc:
        log.error("county GeoJSON %s cannot be used: %s", path, exc)
        return None
    if not features:
        log.error("county GeoJSON %s has no feature with a county_code property", path)
        return None
    return {"type": "FeatureCollection", "features": features}


def rate_colours(rates: pd.Series) -> list[list[int]]:
    """An RGB colour per rate, by its position between the smallest and largest rate."""
    finite = rates.dropna()
    low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 0.0)
    colours = []
    for rate in rates:
        if rate is None or pd.isna(rate):
            colours.append(NO_DATA_RGB)
            continue
        share = 0.0 if high == low else (rate - low) / (high - low)
        colours.append(RAMP[min(int(share * len(RAMP)), len(RAMP) - 1)])
    return colours


def legend_bins(rates: pd.Series) -> list[tuple[list[int], float, float]]:
    """The colour legend of `rate_colours`: (colour, from, to) for each class of the ramp that
    the rates span (one class when every rate is the same; none without rates)."""
    finite = rates.dropna().astype("float64")
    if not len(finite):
        return []
    low, high = float(finite.min()), float(finite.max())
    if high == low:
        return [(RAMP[0], low, high)]
    step = (high - low) / len(RAMP)
    return [(colour, low + i * step, low + (i + 1) * step) for i, colour in enumerate(RAMP)]


def county_names(data: pd.DataFrame, size: MapSize, selected: tuple[str, ...] = ()) -> pd.DataFrame:
    """The counties to name on the map, no two names overlapping: the selected ones, then the
    largest values (at most LABELLED_COUNTIES). Each name sits just above its circle (its
    `radius_m`, if the frame has one), so that it is not written over the circle's colour."""
    places = data[data["value"] > 0].sort_values("value", ascending=False, kind="stable")
    radius_deg = places["radius_m"] / METRES_PER_DEGREE if "radius_m" in places else 0.0
    places = places.assign(
        label_longitude=places["longitude"],
        label_latitude=places["latitude"] + radius_deg + 0.6 * size.label_height_deg,
    )
    view = kenya_view(size)
    half_width = size.width_px / 2 * degrees_per_pixel(view.zoom)
    return choose_labels(
        places,
        size.label_height_deg,
        limit=LABELLED_COUNTIES,
        selected=selected,
        within=(view.longitude - half_width, view.longitude + half_width),
    )


def kenya_view(size: MapSize) -> pdk.ViewState:
    """Kenya fitted into the drawing's viewport."""
    return fitted_view(
        *KENYA_BOUNDS, width_px=size.width_px, height_px=size.height_px, min_zoom=3.0
    )


def county_map_deck(
    frame: pd.DataFrame,
    geojson: dict | None = None,
    size: MapSize = WIDE,
    selected: tuple[str, ...] = (),
) -> pdk.Deck:
    """A deck of the county measure over Kenya's outline (assets/kenya-outline.geojson).

    Args:
        frame: one row per county with county_code, county_name, latitude, longitude, value
            (sizes the circle), rate (colours it) and tooltip text columns value_text,
            rate_text, change_text.
        geojson: county boundaries (from `load_county_geojson`); when given, counties are
            filled by rate (a choropleth) and circles are not drawn.
        size: the viewport Kenya is fitted to and the size of the names (WIDE or NARROW).
        selected: county codes always named (unless a name would overlap another).
    """
    data = frame.copy()
    data["fill"] = rate_colours(data["rate"].astype("float64"))
    largest = float(data["value"].max()) if len(data) and data["value"].max() > 0 else 1.0
    # Area, not radius, proportional to the value; the largest county gets a 45 km circle.
    data["radius_m"] = [
        45_000.0 * math.sqrt(max(float(v), 0.0) / largest) if pd.notna(v) else 0.0
        for v in data["value"]
    ]
    tooltip = {
        "html": "<b>{county_name}</b><br/>{value_text}<br/>{rate_text}<br/>{change_text}",
        "style": {"fontSize": "16px"},
    }
    layers: list[pdk.Layer] = [kenya_outline_layer()]
    if geojson is not None:
        by_code = data.set_index("county_code")
        features = []
        for feature in geojson["features"]:
            code = _feature_code(feature)
            row = by_code.loc[code] if code in by_code.index else None
            properties = dict(feature.get("properties") or {})
            properties.update(
                county_name=row["county_name"] if row is not None else code,
                value_text=row["value_text"] if row is not None else "Not selected",
                rate_text=row["rate_text"] if row is not None else "",
                change_text=row["change_text"] if row is not None else "",
                fill=list(row["fill"]) if row is not None else NO_DATA_RGB,
            )
            features.append({**feature, "properties": properties})
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                {"type": "FeatureCollection", "features": features},
                id="county-choropleth",
                pickable=True,
                stroked=True,
                filled=True,
                get_fill_color="properties.fill",
                get_line_color=[255, 255, 255],
                line_width_min_pixels=1,
                opacity=0.85,
            )
        )
    else:
        # Largest first, so that a smaller neighbour's circle is drawn over a larger one and
        # not hidden under it (Kiambu's under Nairobi's).
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data.sort_values("radius_m", ascending=False, kind="stable"),
                id="county-circles",
                pickable=True,
                get_position=["longitude", "latitude"],
                get_radius="radius_m",
                get_fill_color="fill",
                get_line_color=[60, 60, 60],
                stroked=True,
                line_width_min_pixels=1,
                opacity=0.8,
            )
        )
    # Without a basemap nothing says which circle is which: name the counties that matter most,
    # as many as fit without two names overlapping.
    named = county_names(data, size, selected)
    layers.append(county_names_layer(named, size.label_height_deg, colour=[30, 30, 30, 255]))
    return CompactDeck(
        layers=layers,
        initial_view_state=kenya_view(size),
        map_style=None,
        map_provider=None,
        tooltip=tooltip,
    )


MAP_MEASURES: dict[str, tuple[str, str, str]] = {
    # measure key: (label, value column, rate column)
    "incidents": ("Incidents reported", "incidents_reported", "incident_rate_per_100k"),
    "forums": ("Forums held", "forums_held", "forums_per_100k"),
    "trained": ("People trained", "people_trained", "trained_per_100k"),
}


@drawing
def county_map_from_file(
    frame: pd.DataFrame,
    boundaries: tuple[str, float] | None,
    size: MapSize = WIDE,
    selected: tuple[str, ...] = (),
) -> pdk.Deck:
    """`county_map_deck` with the county boundaries named by their file and its modification
    time (`boundaries_file`) rather than passed whole, so the drawing is kept by a short key."""
    from dashboard.data import county_geojson

    geojson = None if boundaries is None else county_geojson(boundaries[0])
    return county_map_deck(frame, geojson, size, selected)


def boundaries_file(path: Path | None) -> tuple[str, float] | None:
    """The boundaries file as `county_map_from_file` takes it: path and modification time
    (None: no file, or it cannot be read, and the map draws circles)."""
    if path is None:
        return None
    try:
        return (str(path), path.stat().st_mtime)
    except OSError:
        return None


@drawing
def map_frame(league: pd.DataFrame, counties: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One row per county of the league with its centroid, the measure, its rate per 100,000
    and tooltip texts. Grain: one row per county."""
    label, value_column, rate_column = MAP_MEASURES[measure]
    frame = league.merge(counties[["county_code", "latitude", "longitude"]], on="county_code")
    frame = frame.assign(
        value=frame[value_column].astype("float64"), rate=frame[rate_column].astype("float64")
    )
    frame["value_text"] = [f"{label}: {v:,.0f}" for v in frame["value"]]
    frame["rate_text"] = [
        f"{r:,.1f} per 100,000 residents" if pd.notna(r) else "" for r in frame["rate"]
    ]
    frame["change_pct"] = (
        frame["incidents_change_pct"].astype("float64") if measure == "incidents" else float("nan")
    )
    if measure == "incidents":
        # As the league's "Change test" says it: a change is meaningful only if the test says so.
        frame["change_text"] = [
            f"Change: {c:+.1f}% vs comparison ({verdict})"
            if pd.notna(c)
            else ("Change: not compared, reporting stopped?" if gap else "Change: n/a")
            for c, verdict, gap in zip(
                frame["incidents_change_pct"],
                change_verdicts(frame),
                frame["reporting_gap"].astype(bool),
                strict=True,
            )
        ]
    else:
        frame["change_text"] = ""
    return frame[
        [
            "county_code",
            "county_name",
            "latitude",
            "longitude",
            "value",
            "rate",
            "change_pct",
            "value_text",
            "rate_text",
            "change_text",
        ]
    ]


@drawing
def map_table(frame: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's figures as a table (the same numbers, for anyone who cannot read the map), and
    its unrounded form for downloads. Grain: one row per county, largest value first."""
    label, value_column, rate_column = MAP_MEASURES[measure]
    ordered = frame.sort_values("value", ascending=False, kind="stable")
    raw = pd.DataFrame(
        {
            "county_code": ordered["county_code"],
            "county_name": ordered["county_name"],
            value_column: ordered["value"],
            rate_column: ordered["rate"],
        }
    )
    shown = pd.DataFrame(
        {
            "County": ordered["county_name"],
            label: ordered["value"],
            "Per 100,000": ordered["rate"].round(1),
        }
    )
    if measure == "incidents":
        raw["incidents_change_pct"] = ordered["change_pct"]
        shown["Change %"] = ordered["change_pct"].round(1)
    return shown, raw
