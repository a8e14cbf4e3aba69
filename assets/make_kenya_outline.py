"""Regenerate assets/kenya-outline.geojson: Kenya's border from Natural Earth (public domain),
as redistributed by the npm package world-atlas 2.0.2 (TopoJSON of Natural Earth 4.1.0 admin-0).

Usage:
    python assets/make_kenya_outline.py              # fetches the package with `npm pack`
    python assets/make_kenya_outline.py PACKAGE_DIR  # an unpacked world-atlas package

Only the standard library: the TopoJSON arcs are decoded, Kenya's rings are stitched, simplified
(Douglas-Peucker, 0.005 degree, about 500 m) and rounded to 3 decimals (about 100 m), which keeps
the file to a few kilobytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "world-atlas@2.0.2"
SOURCE_FILE = "countries-50m.json"
KENYA_ISO_NUMERIC = "404"
TOLERANCE_DEG = 0.005
DECIMALS = 3
OUTPUT = Path(__file__).resolve().parent / "kenya-outline.geojson"


def _package_dir(argument: str | None, scratch: Path) -> Path:
    if argument:
        return Path(argument)
    subprocess.run(["npm", "pack", PACKAGE], cwd=scratch, check=True, capture_output=True)
    (tarball,) = scratch.glob("world-atlas-*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(scratch, filter="data")
    return scratch / "package"


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Quantized, delta-encoded arcs -> absolute lon/lat points."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stitch a ring from arc indexes (~i means arc i reversed), dropping shared end points."""
    ring: list[tuple[float, float]] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points if not ring else points[1:])
    return ring


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative; the first and last points are kept."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5
        far, distance = None, tolerance
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                d = abs(dy * px - dx * py + x2 * y1 - y2 * x1) / length
            else:
                d = ((px - x1) ** 2 + (py - y1) ** 2) ** 0.5
            if d > distance:
                far, distance = i, d
        if far is not None:
            keep[far] = True
            stack += [(first, far), (far, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def kenya_outline(topology: dict) -> dict:
    """Kenya's border as a GeoJSON FeatureCollection of one MultiPolygon feature."""
    arcs = _decode_arcs(topology)
    (kenya,) = [
        g
        for g in topology["objects"]["countries"]["geometries"]
        if g.get("id") == KENYA_ISO_NUMERIC
    ]
    polygons = kenya["arcs"] if kenya["type"] == "MultiPolygon" else [kenya["arcs"]]
    multipolygon = []
    for polygon in polygons:
        rings = []
        for indexes in polygon:
            ring = _simplify(_ring(indexes, arcs), TOLERANCE_DEG)
            ring = [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring]
            if len(ring) >= 4:
                rings.append(ring)
        if rings:
            multipolygon.append(rings)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Kenya",
                    "iso_numeric": KENYA_ISO_NUMERIC,
                    "source": f"Natural Earth 1:50m admin-0, via npm {PACKAGE} ({SOURCE_FILE})",
                },
                "geometry": {"type": "MultiPolygon", "coordinates": multipolygon},
            }
        ],
    }


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        package = _package_dir(argv[1] if len(argv) > 1 else None, Path(scratch))
        topology = json.loads((package / SOURCE_FILE).read_text())
        outline = kenya_outline(topology)
    OUTPUT.write_text(json.dumps(outline, separators=(",", ":")) + "\n")
    points = sum(len(r) for p in outline["features"][0]["geometry"]["coordinates"] for r in p)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes, {points} points)")


if __name__ == "__main__":
    main(sys.argv)
