"""Build advocacy/dashboard/data/world-110m.json from Natural Earth's admin-0 countries at 1:110m.

    python scripts/build-world-map.py ne_110m_admin_0_countries.geojson [advocacy/dashboard/data/world-110m.json]

Source: Natural Earth (https://www.naturalearthdata.com/), public domain, as the GeoJSON in
github.com/nvkelso/natural-earth-vector (geojson/ne_110m_admin_0_countries.geojson).

Each country becomes one SVG path string in the Equal Earth projection (Šavrič, Patterson and Jenny, 2018),
simplified (Douglas-Peucker, half a pixel at the map's width) and rounded to a tenth of a pixel, keyed by its
ISO 3166-1 alpha-2 code. Natural Earth gives ISO_A2 "-99" to a few countries (France and Norway, for their
overseas parts; areas whose status is disputed): their ISO_A2_EH is used, else the code of the country the
area is attributed to (by ADM0_A3). Antarctica is left out.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

WIDTH = 1000.0
OUT = Path(__file__).resolve().parent.parent / "advocacy" / "dashboard" / "data" / "world-110m.json"
# Natural Earth's ADM0_A3 for areas with ISO_A2 "-99" -> the ISO code signers of those areas choose
BY_ADM0 = {"FRA": "FR", "NOR": "NO", "CYN": "CY", "SOL": "SO", "KOS": "XK"}
LEAVE_OUT = {"AQ"}
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
# the projection's extent (longitude ±180°, latitude ±90°)
X_MAX, Y_MAX = 2.7066297319215575, 1.3173627591574


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(math.sqrt(3) / 2 * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = 2 * math.sqrt(3) * lam * math.cos(theta) / (3 * (9 * A4 * t6 * t2 + 7 * A3 * t6 + 3 * A2 * t2 + A1))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return x, y


def code_of(props: dict[str, object]) -> str | None:
    for key in ("ISO_A2", "ISO_A2_EH"):
        value = props.get(key)
        if isinstance(value, str) and len(value) == 2 and value.isalpha():
            return value.upper()
    return BY_ADM0.get(str(props.get("ADM0_A3")))


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            distance = (abs(dy * px - dx * py + x2 * y1 - y2 * x1) / norm) if norm else math.hypot(px - x1, py - y1)
            if distance > worst:
                worst, index = distance, i
        if worst > tolerance and index > 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def ring_path(ring: list[list[float]], scale: float, top: float) -> str:
    projected = []
    for lon, lat in ring:
        x, y = equal_earth(lon, lat)
        projected.append(((x + X_MAX) * scale, (top - y) * scale))
    points = simplify(projected, 0.5)
    if len(points) < 4:
        return ""
    out = []
    last = None
    for x, y in points:
        here = (round(x, 1), round(y, 1))
        if here != last:
            out.append(f"{here[0]:g},{here[1]:g}")
        last = here
    return "M" + "L".join(out) + "Z" if len(out) >= 3 else ""


def main(source: Path, target: Path) -> None:
    features = json.loads(source.read_text("utf-8"))["features"]
    scale = WIDTH / (2 * X_MAX)
    top = Y_MAX
    bottom = equal_earth(0, -60)[1]  # below that only Antarctica
    height = math.ceil((top - bottom) * scale)
    paths: dict[str, str] = {}
    for feature in features:
        code = code_of(feature["properties"])
        if code is None or code in LEAVE_OUT:
            continue
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        parts = [ring_path(ring, scale, top) for polygon in polygons for ring in polygon]
        path = "".join(part for part in parts if part)
        if path:
            paths[code] = paths.get(code, "") + path
    document = {
        "source": "Natural Earth 1:110m admin-0 countries (public domain), naturalearthdata.com",
        "projection": "Equal Earth", "width": int(WIDTH), "height": height,
        "countries": dict(sorted(paths.items())),
    }
    target.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n", "utf-8")
    print(f"{len(paths)} countries, {target.stat().st_size:,} bytes -> {target}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else OUT)
