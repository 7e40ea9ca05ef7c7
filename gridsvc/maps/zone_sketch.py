"""Inline SVG sketch of a unit's 门前三包 zone (pure): zone, building, nearby streets, scale bar, north arrow.

The geometries come in WGS84 and are projected to a transverse Mercator centred on the unit, so metres are
true metres around it and north is straight up (no grid convergence, unlike a UTM zone edge). Nothing here
touches the database or the network; the SVG has no scripts, no links and no external references, and every
label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import numpy as np
import pyproj
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

WIDTH, HEIGHT = 400, 300  # viewBox in px; the page scales it to the screen width
MIN_EXTENT_M = 50.0  # the window shows at least this many metres across
PAD_FRACTION, MIN_PAD_M = 0.18, 8.0  # margin around the zone and building
MIN_STREET_PX = 3.0
COLOURS = {
    "background": "#F1EFE8", "street": "#FFFFFF", "street_casing": "#A9B2BC", "centreline": "#A9B2BC",
    "other": "#DEDBD2", "other_line": "#BDB9AE", "building": "#90A4AE", "building_line": "#37474F",
    "zone": "#E53935", "zone_line": "#B3261E", "ink": "#1F2D3D", "label": "#44505C",
}


@dataclass(frozen=True)
class Street:
    """A street centreline (WGS84 or metric, as the caller says), its name and carriageway width."""

    geometry: BaseGeometry
    name: str | None = None
    width_m: float | None = None


@lru_cache(maxsize=256)
def _transformer(lng0: float, lat0: float) -> pyproj.Transformer:
    crs = pyproj.CRS.from_proj4(f"+proj=tmerc +lat_0={lat0} +lon_0={lng0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m")
    return pyproj.Transformer.from_crs(4326, crs, always_xy=True)


def local_crs_origin(lng: float, lat: float) -> tuple[float, float]:
    """The origin the local CRS is centred on: the point rounded to ~1 m (so transformers are reused)."""
    return round(float(lng), 5), round(float(lat), 5)


def to_local(geoms: Sequence[BaseGeometry | None], lng0: float, lat0: float) -> list[BaseGeometry | None]:
    """WGS84 geometries in metres of a transverse Mercator centred on (lng0, lat0); None stays None."""
    tr = _transformer(*local_crs_origin(lng0, lat0))

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return [None if g is None else shapely.transform(g, project) for g in geoms]


def nice_length(max_m: float) -> float:
    """Largest 1/2/5 x 10^k metres not above max_m (at least 1 m)."""
    if not math.isfinite(max_m) or max_m <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(max_m))
    return max(m * power for m in (1, 2, 5) if m * power <= max_m)


def sketch_window(focus: Iterable[BaseGeometry | None], width: int = WIDTH, height: int = HEIGHT,
                  min_extent_m: float = MIN_EXTENT_M) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in metres: the focus geometries with a margin, at least min_extent_m, in
    the aspect ratio of the picture."""
    present = [g for g in focus if g is not None and not g.is_empty]
    if not present:
        raise ValueError("nothing to draw: no zone, building or point")
    minx, miny, maxx, maxy = shapely.total_bounds(present)
    pad = max(MIN_PAD_M, PAD_FRACTION * max(maxx - minx, maxy - miny))
    w, h = max(maxx - minx + 2 * pad, min_extent_m), max(maxy - miny + 2 * pad, min_extent_m)
    aspect = width / height
    w, h = max(w, h * aspect), max(h, w / aspect)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


class _Canvas:
    """Metres -> SVG px (y down) for one window."""

    def __init__(self, window: tuple[float, float, float, float], width: int, height: int):
        self.window = window
        self.scale = width / (window[2] - window[0])  # px per metre
        self.width, self.height = width, height

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.window[0]) * self.scale, (self.window[3] - y) * self.scale

    def path(self, geom: BaseGeometry | None) -> str:
        """SVG path data of a (multi)polygon, (multi)line or collection of them; '' when empty."""
        if geom is None or geom.is_empty:
            return ""
        out = []
        for ring, closed in _rings(geom):
            pts = np.asarray(ring.coords)[:, :2]
            if len(pts) < 2:
                continue
            xs, ys = (pts[:, 0] - self.window[0]) * self.scale, (self.window[3] - pts[:, 1]) * self.scale
            out.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in zip(xs, ys, strict=True)) + ("Z" if closed else ""))
        return "".join(out)


def _rings(geom: BaseGeometry):
    """(ring or line, closed) of every polygon and line in a geometry; points are skipped."""
    kind = geom.geom_type
    if kind.startswith("Multi") or kind == "GeometryCollection":
        for part in geom.geoms:
            yield from _rings(part)
    elif kind == "Polygon":
        yield geom.exterior, True
        for ring in geom.interiors:
            yield ring, True
    elif kind in ("LineString", "LinearRing"):
        yield geom, False


LABEL_PX = 13  # font size of street names (the page's CSS sets the same)


def _text_width(name: str) -> float:
    """Rough width in px of a label: CJK characters are square, others about 0.6 em."""
    return sum(LABEL_PX if ord(ch) > 0x2E7F else 0.6 * LABEL_PX for ch in name)


def _label(canvas: _Canvas, line: BaseGeometry, name: str, away: BaseGeometry | None,
           blocked: list[BaseGeometry]) -> str:
    """The street name along its longest visible part, upright, off the line on the side away from `away`,
    at the first of a few positions where it stays inside the picture and clear of `blocked` (px polygons);
    the label's own footprint is added to `blocked`. '' when it fits nowhere."""
    parts = [p for p in getattr(line, "geoms", [line]) if p.geom_type == "LineString" and p.length > 0]
    if not parts:
        return ""
    part = max(parts, key=lambda g: g.length)
    width = _text_width(name) + 6
    if part.length * canvas.scale < width + 10:  # too short to carry the name
        return ""
    frame = shapely.box(2, 2, canvas.width - 2, canvas.height - 2)
    centre = None if away is None or away.is_empty else away.centroid
    for f in (0.5, 0.35, 0.65, 0.2, 0.8):
        a, b, mid = (part.interpolate(min(max(t, 0.0), 1.0), normalized=True) for t in (f - 0.06, f + 0.06, f))
        (ax, ay), (bx, by), (px, py) = canvas.xy(a.x, a.y), canvas.xy(b.x, b.y), canvas.xy(mid.x, mid.y)
        angle = math.degrees(math.atan2(by - ay, bx - ax))
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        nx, ny = -math.sin(math.radians(angle)), math.cos(math.radians(angle))  # screen "below" the text
        away_sign = 1.0
        if centre is not None:
            fx, fy = canvas.xy(centre.x, centre.y)
            away_sign = -1.0 if (fx - px) * nx + (fy - py) * ny > 0 else 1.0
        for offset in (11.0 * away_sign, -11.0 * away_sign):  # off the line, away from the zone if there is room
            qx, qy = px + nx * offset, py + ny * offset
            foot = shapely.affinity.rotate(shapely.box(qx - width / 2, qy - 9, qx + width / 2, qy + 9), angle,
                                           origin=(qx, qy))
            if frame.contains(foot) and not any(foot.intersects(g) for g in blocked):
                blocked.append(foot)
                return (f'<text class="street-name" x="0" y="0" transform="translate({qx:.1f} {qy:.1f}) '
                        f'rotate({angle:.1f})" text-anchor="middle" dominant-baseline="central">{escape(name)}</text>')
    return ""


def _north_arrow(canvas: _Canvas) -> str:
    x, y = canvas.width - 24, 12
    return (f'<g class="north" aria-label="北 North"><rect x="{x - 18}" y="{y - 6}" width="36" height="52" rx="4" '
            f'fill="#fff" fill-opacity="0.8"/><path d="M{x} {y}L{x - 8} {y + 24}L{x} {y + 18}Z" '
            f'fill="{COLOURS["ink"]}"/><path d="M{x} {y}L{x + 8} {y + 24}L{x} {y + 18}Z" fill="#fff" '
            f'stroke="{COLOURS["ink"]}" stroke-width="1"/><text x="{x}" y="{y + 38}" text-anchor="middle" '
            f'class="north-label">北 N</text></g>')


def _scale_bar(canvas: _Canvas) -> str:
    metres = nice_length(0.3 * canvas.width / canvas.scale)
    w = metres * canvas.scale
    x, y = 12.0, canvas.height - 14.0
    ink = COLOURS["ink"]
    return (f'<g class="scale-bar" aria-label="比例尺 {metres:g} m"><rect x="{x - 4}" y="{y - 19}" '
            f'width="{w + 46:.1f}" height="27" rx="3" fill="#fff" fill-opacity="0.8"/>'
            f'<rect x="{x}" y="{y}" width="{w / 2:.1f}" height="5" fill="{ink}" stroke="{ink}" stroke-width="1"/>'
            f'<rect x="{x + w / 2:.1f}" y="{y}" width="{w / 2:.1f}" height="5" fill="#fff" stroke="{ink}" '
            f'stroke-width="1"/><text x="{x}" y="{y - 5}" class="scale-label">0</text>'
            f'<text x="{x + w:.1f}" y="{y - 5}" text-anchor="middle" class="scale-label">{metres:g} 米 m</text></g>')


def sketch_svg(zones: Sequence[BaseGeometry], building: BaseGeometry | None, streets: Sequence[Street],
               *, point: BaseGeometry | None = None, others: Sequence[BaseGeometry] = (),
               width: int = WIDTH, height: int = HEIGHT, title: str = "门前责任区示意图 Zone sketch") -> str:
    """The sketch of geometries already in a metric CRS with north up (see to_local) as an SVG element.

    zones are drawn red over the street space, the unit's building dark grey, other buildings light grey,
    streets as carriageways (width_m, at least MIN_STREET_PX) with a dashed centreline and their name.
    """
    zone = shapely.union_all([z for z in zones if z is not None and not z.is_empty]) if zones else None
    zone = None if zone is None or zone.is_empty else zone
    window = sketch_window([zone, building, point], width, height)
    canvas = _Canvas(window, width, height)
    box = shapely.box(*window)
    clip_box = shapely.box(window[0] - 20, window[1] - 20, window[2] + 20, window[3] + 20)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="zone-sketch" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<rect width="{width}" height="{height}" fill="{COLOURS["background"]}"/>']
    shown = []
    for s in streets:
        g = shapely.clip_by_rect(s.geometry, *clip_box.bounds) if s.geometry is not None else None
        if g is None or g.is_empty:
            continue
        px = max(MIN_STREET_PX, (s.width_m or 0) * canvas.scale)
        shown.append((s, g, px))
    for _, g, px in shown:
        parts.append(f'<path d="{canvas.path(g)}" fill="none" stroke="{COLOURS["street_casing"]}" '
                     f'stroke-width="{px + 3:.1f}" stroke-linecap="round" stroke-linejoin="round"/>')
    for _, g, px in shown:
        parts.append(f'<path d="{canvas.path(g)}" fill="none" stroke="{COLOURS["street"]}" '
                     f'stroke-width="{px:.1f}" stroke-linecap="round" stroke-linejoin="round"/>')
    for _, g, _px in shown:
        parts.append(f'<path d="{canvas.path(g)}" fill="none" stroke="{COLOURS["centreline"]}" '
                     f'stroke-width="1" stroke-dasharray="6 4"/>')
    for o in others:
        g = None if o is None else shapely.clip_by_rect(o, *clip_box.bounds)
        if g is not None and not g.is_empty:
            parts.append(f'<path d="{canvas.path(g)}" fill="{COLOURS["other"]}" stroke="{COLOURS["other_line"]}" '
                         f'stroke-width="0.8" fill-rule="evenodd"/>')
    if zone is not None:
        parts.append(f'<path class="zone" d="{canvas.path(zone)}" fill="{COLOURS["zone"]}" fill-opacity="0.42" '
                     f'stroke="{COLOURS["zone_line"]}" stroke-width="2" stroke-linejoin="round" '
                     f'fill-rule="evenodd"/>')
    if building is not None and not building.is_empty:
        parts.append(f'<path class="building" d="{canvas.path(building)}" fill="{COLOURS["building"]}" '
                     f'stroke="{COLOURS["building_line"]}" stroke-width="1.5" fill-rule="evenodd"/>')
    if point is not None and not point.is_empty:
        px, py = canvas.xy(point.x, point.y)
        parts.append(f'<circle class="unit" cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#fff" '
                     f'stroke="{COLOURS["zone_line"]}" stroke-width="2.5"/>')
    labelled = set()
    bar = nice_length(0.3 * width / canvas.scale) * canvas.scale
    blocked = [shapely.box(width - 44, 4, width, 60), shapely.box(0, height - 36, bar + 58, height)]
    for s, g, _px in sorted(shown, key=lambda t: -shapely.length(shapely.intersection(t[1], box))):
        if s.name and s.name not in labelled:
            text = _label(canvas, shapely.intersection(g, box), s.name, zone or building, blocked)
            if text:
                parts.append(text)
                labelled.add(s.name)
    parts += [_north_arrow(canvas), _scale_bar(canvas), "</svg>"]
    return "".join(parts)


def zone_sketch(zones: Sequence[BaseGeometry], building: BaseGeometry | None, streets: Sequence[Street],
                point: BaseGeometry, *, others: Sequence[BaseGeometry] = (), width: int = WIDTH,
                height: int = HEIGHT) -> str:
    """sketch_svg of WGS84 geometries, projected around the unit's point (lng/lat)."""
    lng0, lat0 = point.x, point.y
    projected = to_local([point, building, *zones, *others, *(s.geometry for s in streets)], lng0, lat0)
    p, b = projected[0], projected[1]
    rest = projected[2:]
    z, o, sg = rest[:len(zones)], rest[len(zones):len(zones) + len(others)], rest[len(zones) + len(others):]
    local_streets = [Street(g, s.name, s.width_m) for g, s in zip(sg, streets, strict=True)]
    return sketch_svg(z, b, local_streets, point=p, others=o, width=width, height=height)
