"""Pure pydeck deck builders for the dashboard's maps (no Streamlit, no SQL)."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from dashboard.data import derived, drawing
from dashboard.theme import FONT_FAMILY
from queries.geography import KENYA_BOUNDS, KM_PER_DEGREE, counties_extent

KENYA_CENTRE = (0.1, 37.9)
# The viewport the initial view is fitted to: st.pydeck_chart's height and a typical width.
VIEW_WIDTH_PX = 800
VIEW_HEIGHT_PX = 620
# The same on a phone: a 390 px screen leaves about 350 px for a map.
PHONE_WIDTH_PX = 350
PHONE_HEIGHT_PX = 460
# deck.gl's world is 512 pixels wide at zoom 0.
TILE_PX = 512
# Sequential, light to dark (ColorBrewer YlOrRd): denser reads darker on a white background.
DENSITY_RAMP = [
    [255, 237, 160],
    [254, 217, 118],
    [254, 178, 76],
    [253, 141, 60],
    [240, 59, 32],
    [189, 0, 38],
]
LABEL_RGBA = [40, 40, 40, 230]
MAX_LABELS = 12
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
# Kenya's border (Natural Earth, public domain; assets/README.md says how it was made).
KENYA_OUTLINE_PATH = ASSETS_DIR / "kenya-outline.geojson"
OUTLINE_FILL_RGBA = [246, 244, 238, 255]
OUTLINE_LINE_RGBA = [90, 90, 90, 255]
# A label's box in degrees for a text height in degrees: a character of the bold sans-serif is
# at most ~0.62 of the text height wide; the box is padded so that neighbours keep a gap.
CHAR_WIDTH_EM = 0.62
LABEL_PADDING = 1.15


@lru_cache(maxsize=1)
def kenya_outline() -> dict:
    """Kenya's border as a GeoJSON FeatureCollection, read from assets/kenya-outline.geojson."""
    return json.loads(KENYA_OUTLINE_PATH.read_text())


def kenya_outline_layer() -> pdk.Layer:
    """Kenya's border, filled in a pale neutral, to draw under everything else: offline there is
    no basemap, and without it marks float on white."""
    return pdk.Layer(
        "GeoJsonLayer",
        kenya_outline(),
        id="kenya-outline",
        stroked=True,
        filled=True,
        get_fill_color=OUTLINE_FILL_RGBA,
        get_line_color=OUTLINE_LINE_RGBA,
        line_width_min_pixels=1.5,
        pickable=False,
    )


def label_box(
    name: str, longitude: float, latitude: float, height_deg: float
) -> tuple[float, float, float, float]:
    """The box (west, south, east, north) a name centred on this point covers, in degrees."""
    half_width = len(name) * CHAR_WIDTH_EM * height_deg * LABEL_PADDING / 2
    half_height = height_deg * LABEL_PADDING / 2
    return (
        longitude - half_width,
        latitude - half_height,
        longitude + half_width,
        latitude + half_height,
    )


def boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two (west, south, east, north) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def choose_labels(
    places: pd.DataFrame,
    height_deg: float,
    *,
    limit: int = MAX_LABELS,
    selected: tuple[str, ...] = (),
    within: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """The places to name, so that no two names overlap: greedy, in order of importance.

    Names are sized in metres on the map (a TextLayer with size_units='meters'), so their boxes
    are fixed in longitude/latitude and a choice free of overlaps stays free of them at every
    zoom and screen width.

    Args:
        places: one row per candidate with county_code, county_name, label_longitude and
            label_latitude (the centre of its name), in order of importance (most first).
        height_deg: the text height in degrees of latitude.
        limit: at most this many names.
        selected: county codes named first, whatever their rank (still without overlaps).
        within: the west and east longitudes the map shows at first; a name that would run
            past either edge is left out rather than cut.

    Returns:
        The chosen rows, in the order they were chosen.
    """
    first = (
        places["county_code"].isin(selected)
        if "county_code" in places
        else pd.Series(False, index=places.index)
    )
    ordered = pd.concat([places[first], places[~first]])
    chosen: list = []
    boxes: list[tuple[float, float, float, float]] = []
    for index, row in ordered.iterrows():
        if len(chosen) >= limit:
            break
        box = label_box(
            str(row["county_name"]), row["label_longitude"], row["label_latitude"], height_deg
        )
        if any(boxes_overlap(box, other) for other in boxes):
            continue
        if within is not None and (box[0] < within[0] or box[2] > within[1]):
            continue
        chosen.append(index)
        boxes.append(box)
    return ordered.loc[chosen]


def _bounds(counties: pd.DataFrame | None, points: pd.DataFrame) -> tuple[float, ...]:
    """South, north, west, east of the area to show: the counties' extent (each county a square
    of its area around its centroid) widened to hold the points (their 1st to 99th
    percentiles, so one misplaced point cannot zoom the map out), else Kenya."""
    boxes = [box] if (box := counties_extent(counties)) else []
    if len(points):
        lat, lon = points["latitude"], points["longitude"]
        boxes.append(
            (
                float(lat.quantile(0.01)),
                float(lat.quantile(0.99)),
                float(lon.quantile(0.01)),
                float(lon.quantile(0.99)),
            )
        )
    if not boxes:
        return KENYA_BOUNDS
    return (
        min(b[0] for b in boxes),
        max(b[1] for b in boxes),
        min(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def fitted_view(
    south: float,
    north: float,
    west: float,
    east: float,
    width_px: int = VIEW_WIDTH_PX,
    height_px: int = VIEW_HEIGHT_PX,
    min_zoom: float = 4.5,
) -> pdk.ViewState:
    """A flat view centred on the box, zoomed so the box fits a viewport of this size.

    Near the equator Web Mercator is close to linear in latitude, so degrees suffice.
    """
    lat_span = max(north - south, 0.05) * 1.1
    lon_span = max(east - west, 0.05) * 1.1
    zoom = min(
        math.log2(width_px * 360 / (TILE_PX * lon_span)),
        math.log2(height_px * 360 / (TILE_PX * lat_span)),
    )
    return pdk.ViewState(
        latitude=(south + north) / 2,
        longitude=(west + east) / 2,
        zoom=round(min(max(zoom, min_zoom), 13.0), 2),
        pitch=0,
        bearing=0,
    )


def county_names_layer(
    named: pd.DataFrame, height_deg: float, colour: list[int] = LABEL_RGBA
) -> pdk.Layer:
    """A text layer that names counties, for maps drawn without a basemap (offline nothing else
    says which mark is which).

    Names are sized in metres, so a choice of names free of overlaps (`choose_labels`) stays
    free of them at every zoom and screen width; they never shrink below 10 px.

    Args:
        named: one row per county to name, with county_name, label_longitude, label_latitude.
        height_deg: the text height in degrees of latitude.
        colour: the text colour, RGBA.

    Returns:
        A pydeck TextLayer with the id 'county-names'.
    """
    return pdk.Layer(
        "TextLayer",
        id="county-names",
        data=named[["county_name", "label_longitude", "label_latitude"]],
        get_position=["label_longitude", "label_latitude"],
        get_text="county_name",
        get_size=round(height_deg * KM_PER_DEGREE * 1000),
        size_units=pdk.types.String("meters"),
        size_min_pixels=10,
        get_color=colour,
        # pydeck reads a plain string as a data accessor; literal string props go through String().
        font_family=pdk.types.String(FONT_FAMILY),
        font_weight=600,
        # A white halo keeps names legible over the hexagons, circles and fills.
        outline_width=3,
        outline_color=[255, 255, 255, 255],
        font_settings={"sdf": True},
    )


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON (what `st.pydeck_chart` sends on every rerun) has no
    indentation: pydeck indents it, which forces Python's pure-Python JSON encoder. The same
    JSON value, 3.5-4.7x faster to make and half the bytes (5,000 density cells: 41 -> 12 ms,
    578 -> 324 KB), which matters most on a phone."""

    def to_json(self) -> str:
        # Made once per deck: a drawn deck is shared and never changed (data.drawing).
        return derived(
            self, ("json",), lambda: json.dumps(self, sort_keys=True, default=default_serialize)
        )


def quantile_classes(values: pd.Series, classes: int) -> list[int]:
    """Each value's class, 0 to classes - 1, split at the values' quantiles at 1/classes,
    2/classes, ... (linear interpolation), as deck.gl's "quantile" colour scale splits them, so
    that with varied counts each class holds about an equal share of the hexagons and one dense
    city does not wash every other hexagon out. A value on a threshold stays below it (d3 puts
    it above): where most hexagons hold one incident, they all sit on the lower thresholds and
    d3 gave them the second-darkest shade; here they get the lightest, and the darker shades
    go to more incidents. With many equal counts some classes then stay empty."""
    if not len(values):
        return []
    numbers = values.to_numpy(dtype="float64")
    thresholds = np.quantile(numbers, [k / classes for k in range(1, classes)])
    return np.searchsorted(thresholds, numbers, side="left").tolist()


def degrees_per_pixel(zoom: float) -> float:
    """How many degrees of longitude one screen pixel spans at this zoom."""
    return 360 / (TILE_PX * 2**zoom)


@drawing
def incident_density_deck(
    points: pd.DataFrame,
    counties: pd.DataFrame | None = None,
    width_px: int = VIEW_WIDTH_PX,
    height_px: int = VIEW_HEIGHT_PX,
) -> pdk.Deck:
    """A density map of incidents: hexagons coloured by how many incidents fall in them.

    Args:
        points: incidents counted per hexagon (`queries.incidents.incident_density`): one row
            per hexagon with incidents, with latitude and longitude (its centre), incidents and
            radius_degrees. The hexagons are drawn as counted (deck.gl's ColumnLayer, six
            corners, the first due east as the query's flat-topped hexagons have it), not
            binned again in the browser, so a hexagon's shade and tooltip are its own count.
        counties: the selected counties (county_name, latitude, longitude centroid, area_km2);
            the initial view is fitted to them and their centroids are marked (and named: the
            most populous first, as many as fit without overlapping, at most 12), since offline
            there is no basemap. None: fit to the points (or Kenya).
        width_px, height_px: the viewport the initial view is fitted to (a phone's is narrow).

    Returns:
        A deck without a basemap (layers draw on a plain background); render it with
        `st.pydeck_chart(deck, width="stretch")`.
    """
    box = _bounds(counties, points)
    view = fitted_view(*box, width_px=width_px, height_px=height_px, min_zoom=3.0)
    radius_degrees = float(points["radius_degrees"].iloc[0]) if len(points) else 0.01
    # A degree of longitude is cos(latitude) of one at the equator; deck.gl sizes in metres.
    radius_m = radius_degrees * KM_PER_DEGREE * 1000 * math.cos(math.radians(view.latitude))
    classes = quantile_classes(points["incidents"], len(DENSITY_RAMP))
    hexagons = [
        {"longitude": round(lon, 5), "latitude": round(lat, 5), "incidents": n, "colour": c}
        for lon, lat, n, c in zip(
            points["longitude"].tolist(),
            points["latitude"].tolist(),
            points["incidents"].tolist(),
            (DENSITY_RAMP[k] for k in classes),
            strict=True,
        )
    ]
    layers = [
        kenya_outline_layer(),
        pdk.Layer(
            "ColumnLayer",
            id="incident-density",
            data=hexagons,
            get_position=["longitude", "latitude"],
            get_fill_color="colour",
            disk_resolution=6,
            radius=round(radius_m, 1),
            extruded=False,
            coverage=0.92,
            opacity=0.85,
            pickable=True,
            auto_highlight=True,
        ),
    ]
    if counties is not None and len(counties):
        dots = counties[["county_name", "latitude", "longitude"]].copy()
        # Names of every county pile up in the crowded west: the most populous first, as many
        # as fit without overlapping, each just above its dot. 15 px at the fitted zoom.
        height_deg = 15 * degrees_per_pixel(view.zoom)
        ranked = counties
        if "population" in counties:
            ranked = counties.sort_values("population", ascending=False, kind="stable")
        places = ranked.assign(
            label_longitude=ranked["longitude"],
            label_latitude=ranked["latitude"] + 0.8 * height_deg,
        )
        half_width = width_px / 2 * degrees_per_pixel(view.zoom)
        labels = choose_labels(
            places,
            height_deg,
            limit=MAX_LABELS,
            within=(view.longitude - half_width, view.longitude + half_width),
        )
        layers += [
            pdk.Layer(
                "ScatterplotLayer",
                id="county-centroids",
                data=dots,
                get_position=["longitude", "latitude"],
                get_radius=1500,
                radius_min_pixels=3,
                radius_max_pixels=5,
                get_fill_color=LABEL_RGBA,
            ),
            county_names_layer(labels, height_deg),
        ]
    return CompactDeck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=None,
        tooltip={"text": "{incidents} incidents in this hexagon"},
    )
