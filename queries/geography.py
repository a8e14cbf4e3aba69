"""Kenya's 47 counties and 1,450 wards, read from the `kenya_data` package's bundled SQLite file.

Counties carry their KNBS 2019 census population, area and centroid. Wards have no coordinates
in the source, so each ward is placed around its constituency's centroid by a fixed rule (no
randomness): wards of one constituency spread on a small ring (radius under 0.05 degree).
"""

from __future__ import annotations

import math
import sqlite3
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

CENSUS_YEAR = 2019
# Kenya's bounding box with a small margin: a point outside it is not in Kenya, and maps leave it
# out (and say how many they left out).
KENYA_LATITUDE = (-4.9, 5.1)
KENYA_LONGITUDE = (33.8, 42.0)
KENYA_BOUNDS = (*KENYA_LATITUDE, *KENYA_LONGITUDE)  # south, north, west, east
KM_PER_DEGREE = 111.32
COUNTY_COLUMNS = ("code", "name", "population", "area_km2", "latitude", "longitude")
WARD_COLUMNS = ("code", "name", "county_code", "constituency", "latitude", "longitude")

# Golden-angle steps spread any number of wards evenly round a ring without clustering.
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
_MIN_RADIUS_DEG = 0.012
_MAX_RADIUS_DEG = 0.045

_COUNTIES_SQL = """
SELECT substr(c.code, 3) AS code, c.name, p.population, a.area_sq_km AS area_km2,
       xy.latitude, xy.longitude
FROM counties c
JOIN population_statistics p
  ON p.entity_type = 'county' AND p.entity_id = c.id AND p.reference_year = ?
JOIN area_statistics a ON a.entity_type = 'county' AND a.entity_id = c.id
JOIN coordinates xy ON xy.entity_type = 'county' AND xy.entity_id = c.id
ORDER BY c.code
"""

_WARDS_SQL = """
SELECT w.code, w.name, substr(c.code, 3) AS county_code, k.id AS constituency_id,
       k.name AS constituency, xy.latitude AS c_lat, xy.longitude AS c_lon
FROM wards w
JOIN constituencies k ON k.id = w.constituency_id
JOIN counties c ON c.id = k.county_id
JOIN coordinates xy ON xy.entity_type = 'constituency' AND xy.entity_id = k.id
ORDER BY w.code
"""


def kenya_db_path() -> Path:
    """The path of the SQLite file bundled with the `kenya_data` package."""
    return Path(str(resources.files("kenya_data").joinpath("kenya.db")))


def _read(sql: str, params: tuple = ()) -> pd.DataFrame:
    # Read-only URI: the file lives in site-packages and must never be modified.
    uri = f"file:{kenya_db_path()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        cursor = connection.execute(sql, params)
        columns = [description[0] for description in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


@lru_cache(maxsize=1)
def _counties() -> pd.DataFrame:
    frame = _read(_COUNTIES_SQL, (CENSUS_YEAR,))
    frame["population"] = frame["population"].astype("int64")
    return frame.loc[:, list(COUNTY_COLUMNS)]


@lru_cache(maxsize=1)
def _wards() -> pd.DataFrame:
    frame = _read(_WARDS_SQL)
    rank = frame.groupby("constituency_id").cumcount().to_numpy()
    size = frame.groupby("constituency_id")["code"].transform("size").to_numpy()
    angle = frame["constituency_id"].to_numpy(dtype=float) + rank * _GOLDEN_ANGLE
    # A radius growing with the rank keeps a constituency's wards from sitting on one circle.
    radius = _MIN_RADIUS_DEG + (_MAX_RADIUS_DEG - _MIN_RADIUS_DEG) * ((rank + 0.5) / size)
    frame["latitude"] = np.round(frame["c_lat"].to_numpy() + radius * np.sin(angle), 6)
    frame["longitude"] = np.round(frame["c_lon"].to_numpy() + radius * np.cos(angle), 6)
    return frame.loc[:, list(WARD_COLUMNS)]


def counties_frame() -> pd.DataFrame:
    """The 47 counties, one row per county, ordered by code.

    Returns:
        Columns code ('001'..'047'), name, population (2019 census), area_km2, latitude,
        longitude (centroid). A fresh copy, safe to modify.
    """
    return _counties().copy()


def wards_frame() -> pd.DataFrame:
    """The 1,450 wards, one row per ward, ordered by code ('KEW-0001'...).

    Returns:
        Columns code, name, county_code, constituency, latitude, longitude (a point near the
        constituency centroid, see the module docstring). A fresh copy, safe to modify.
    """
    return _wards().copy()


# The maps' geometry (dashboard.maps draws with it), here because the density map's grid is
# chosen in the query layer (`queries.incidents.incident_density`): hexagons that follow from
# the selection alone is the same call for the page and for the warm-up that prepares the next
# county (dashboard.data.warm).


def counties_extent(counties: pd.DataFrame | None) -> tuple[float, float, float, float] | None:
    """South, north, west, east of the counties (each a square of its area around its
    centroid; columns area_km2, latitude, longitude), or None for no counties (or none with a
    centroid)."""
    if counties is not None:
        counties = counties.dropna(subset=["latitude", "longitude"])
    if counties is None or not len(counties):
        return None
    half = counties["area_km2"].fillna(0).clip(lower=1).pow(0.5) / 2 / KM_PER_DEGREE
    return (
        float((counties["latitude"] - half).min()),
        float((counties["latitude"] + half).max()),
        float((counties["longitude"] - half).min()),
        float((counties["longitude"] + half).max()),
    )


def hexagon_radius_m(south: float, north: float, west: float, east: float) -> int:
    """A hexagon size that gives some 60 hexagons across the area shown (400 m to 15 km)."""
    span_km = max(north - south, east - west) * KM_PER_DEGREE
    return int(min(max(span_km * 1000 / 60, 400), 15_000) // 50 * 50)


def density_hexagon_degrees(counties: pd.DataFrame | None) -> float:
    """The radius (centre to corner) of the density map's hexagons for a map of these counties
    (all of Kenya for none), in degrees: `hexagon_radius_m` over 111.32 km a degree, rounded to
    5 places, so that the same view asks for the same hexagons."""
    radius_m = hexagon_radius_m(*(counties_extent(counties) or KENYA_BOUNDS))
    return round(radius_m / (KM_PER_DEGREE * 1000), 5)
