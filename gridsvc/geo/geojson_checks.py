"""GeoJSON objects checked against RFC 7946 before anything else reads them (pure: no database, no shapely).

What is checked here is the *structure*: object types, the nesting of `coordinates` for each geometry type,
positions of two or three numbers (JSON booleans are not numbers), LineStrings of two or more positions, linear
rings closed and of four or more positions, and the `bbox` member (2·n finite numbers, in range, south ≤ north,
holding the geometry; west > east means it crosses the antimeridian, RFC 7946 §5.2). Foreign members are
ignored (§6.1); a `crs` member (GeoJSON 2008, removed by RFC 7946) naming anything but WGS84 is refused, since
it means the coordinates are not what this API expects.

The right-hand rule (§3.1.6: exterior rings counterclockwise, holes clockwise) is *not* enforced: the RFC says
parsers SHOULD NOT reject polygons that do not follow it. A ring wound the other way gives a note instead.

The numeric checks of the positions (NaN/Infinity, out of range, a swapped [lat, lng] order), the vertex
limit and validity (self-intersections with their location) stay in `gridsvc.geo.zone_geometry`, which calls
`geometry_positions` first: each check lives in one place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real

from ..errors import InputError

# Nesting depth of `coordinates` per geometry type: Point holds a position, MultiPolygon arrays of arrays of rings.
DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
GEOMETRY_TYPES = (*DEPTH, "GeometryCollection")
WGS84_CRS_NAMES = ("urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326",
                   "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84")


@dataclass
class Positions:
    """The positions of a geometry, flattened in order, with notes on what was accepted but is unusual."""

    xy: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def _position(p, where: str) -> tuple[float, float]:
    if not isinstance(p, list | tuple):
        raise InputError(f"a position must be an array [lng, lat], got {_short(p)}", where=where)
    if not 2 <= len(p) <= 3:
        raise InputError(f"a position has 2 numbers [lng, lat] (or 3 with a height), got {len(p)}", where=where)
    if not all(_is_number(v) for v in p):
        raise InputError(f"a position must hold numbers, got {_short(p)}", where=where)
    return float(p[0]), float(p[1])


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _array(v, where: str, what: str) -> list | tuple:
    if not isinstance(v, list | tuple):
        raise InputError(f"{what} must be an array, got {_short(v)}", where=where)
    return v


def _signed_area2(ring: list[tuple[float, float]]) -> float:
    """Twice the signed (shoelace) area of a closed ring: > 0 counterclockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))


class _Walker:
    """Walks `coordinates` once, checking structure and collecting positions (stops past max_positions)."""

    def __init__(self, max_positions: int | None):
        self.out = Positions()
        self.max_positions = max_positions

    def add(self, p, where: str) -> tuple[float, float]:
        xy = _position(p, where)
        self.out.xy.append(xy)
        if self.max_positions is not None and len(self.out.xy) > self.max_positions:
            raise InputError(f"more than {self.max_positions} vertices; at most {self.max_positions} per geometry",
                             where=where.split(".coordinates")[0] or "geometry")
        return xy

    def line(self, coords, where: str, *, ring: bool) -> list[tuple[float, float]]:
        coords = _array(coords, where, "a ring" if ring else "a line")
        pts = [self.add(p, f"{where}[{i}]") for i, p in enumerate(coords)]
        if ring:
            if len(pts) < 4:
                raise InputError(f"a linear ring needs at least 4 positions (the last repeating the first), "
                                 f"got {len(pts)}", where=where)
            if pts[0] != pts[-1]:
                raise InputError(f"the ring is not closed: its last position {list(pts[-1])} must repeat the first "
                                 f"{list(pts[0])} (RFC 7946 §3.1.6)", where=where)
        elif len(pts) < 2:
            raise InputError(f"a LineString needs at least 2 positions, got {len(pts)}", where=where)
        return pts

    def polygon(self, coords, where: str) -> None:
        rings = _array(coords, where, "a polygon's coordinates")
        if not rings:
            raise InputError("a polygon needs at least its exterior ring", where=where)
        for i, ring in enumerate(rings):
            pts = self.line(ring, f"{where}[{i}]", ring=True)
            area2 = _signed_area2(pts)
            if (i == 0 and area2 < 0) or (i > 0 and area2 > 0):
                self.out.notes.append(
                    f"{where}[{i}]: the {'exterior' if i == 0 else 'interior'} ring is wound "
                    f"{'clockwise' if area2 < 0 else 'counterclockwise'}, against RFC 7946's right-hand rule; "
                    "accepted (the rule is not enforced)")

    def geometry(self, gtype: str, coords, where: str) -> None:
        if gtype == "Point":
            self.add(coords, where)
        elif gtype == "MultiPoint":
            for i, p in enumerate(_array(coords, where, "MultiPoint coordinates")):
                self.add(p, f"{where}[{i}]")
        elif gtype == "LineString":
            self.line(coords, where, ring=False)
        elif gtype == "MultiLineString":
            for i, line in enumerate(_array(coords, where, "MultiLineString coordinates")):
                self.line(line, f"{where}[{i}]", ring=False)
        elif gtype == "Polygon":
            self.polygon(coords, where)
        else:  # MultiPolygon
            for i, poly in enumerate(_array(coords, where, "MultiPolygon coordinates")):
                self.polygon(poly, f"{where}[{i}]")


def check_crs_member(obj: Mapping, where: str) -> None:
    """A GeoJSON-2008 `crs` member is accepted only when it names WGS84 (RFC 7946 dropped it)."""
    crs = obj.get("crs")
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) and isinstance(
        crs.get("properties"), Mapping) else None
    if name not in WGS84_CRS_NAMES:
        raise InputError(f"a 'crs' member naming {_short(name if name is not None else crs)} is not supported: "
                         "GeoJSON (RFC 7946) is WGS84 longitude/latitude; send GCJ-02 or BD-09 coordinates with "
                         "the crs= query parameter instead", where=f"{where}.crs")


def check_bbox(bbox, xy: list[tuple[float, float]], where: str) -> None:
    """An RFC 7946 §5 bbox: 4 (or 6) finite numbers, in range, south ≤ north, holding every position."""
    if bbox is None:
        return
    if not isinstance(bbox, list | tuple) or len(bbox) not in (4, 6) or not all(_is_number(v) for v in bbox):
        raise InputError(f"bbox must be [west, south, east, north] (or 6 numbers with heights), got {_short(bbox)}",
                         where=where)
    nums = [float(v) for v in bbox]
    if not all(math.isfinite(v) for v in nums):
        raise InputError(f"bbox holds a non-finite number: {_short(bbox)}", where=where)
    w, s, e, n = nums if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if len(nums) == 6 and nums[2] > nums[5]:
        raise InputError(f"bbox's lowest height {nums[2]} is above its highest {nums[5]}", where=where)
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise InputError(f"bbox {nums} is out of range (longitudes -180..180, latitudes -90..90; order "
                         "[west, south, east, north])", where=where)
    if s > n:
        raise InputError(f"bbox's south {s} is north of its north {n} (order: [west, south, east, north])",
                         where=where)
    eps = 1e-9
    for i, (x, y) in enumerate(xy):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue  # reported as such by zone_geometry.check_positions
        in_x = (w - eps <= x <= e + eps) if w <= e else (x >= w - eps or x <= e + eps)
        if not (in_x and s - eps <= y <= n + eps):
            raise InputError(f"position {i} [{x}, {y}] lies outside the bbox {nums}: the bbox must hold the "
                             "geometry", where=where)


def geometry_positions(obj, *, kinds: tuple[str, ...] | None = None, where: str = "geometry",
                       max_positions: int | None = None) -> Positions:
    """The positions of a GeoJSON geometry object after its RFC 7946 structure was checked.

    InputError (naming the member, e.g. `geometry.coordinates[0][3]`) for a wrong type, a wrong nesting, a
    position that is not 2–3 numbers, an unclosed or short ring, a short LineString, a bad bbox or more than
    `max_positions` positions. Geometry types other than `kinds` are refused; GeometryCollection is walked
    member by member when allowed.
    """
    if not isinstance(obj, Mapping):
        raise InputError(f"a GeoJSON geometry object is required, got {_short(obj)}", where=where)
    gtype = obj.get("type")
    allowed = kinds or GEOMETRY_TYPES
    if gtype not in allowed:
        raise InputError(f"geometry type must be {' or '.join(allowed)}, got {_short(gtype)}", where=f"{where}.type")
    check_crs_member(obj, where)
    walker = _Walker(max_positions)
    if gtype == "GeometryCollection":
        members = _array(obj.get("geometries"), f"{where}.geometries", "geometries")
        for i, g in enumerate(members):
            sub = geometry_positions(g, kinds=tuple(DEPTH), where=f"{where}.geometries[{i}]",
                                     max_positions=None if max_positions is None
                                     else max_positions - len(walker.out.xy))
            walker.out.xy.extend(sub.xy)
            walker.out.notes.extend(sub.notes)
    else:
        if "coordinates" not in obj:
            raise InputError(f"a {gtype} needs a 'coordinates' member", where=where)
        walker.geometry(gtype, obj["coordinates"], f"{where}.coordinates")
    if not walker.out.xy:
        raise InputError("the geometry has no coordinates", where=f"{where}.coordinates")
    check_bbox(obj.get("bbox"), walker.out.xy, f"{where}.bbox")
    return walker.out


def check_feature(feature, *, kinds: tuple[str, ...] | None = None, where: str = "body",
                  geometry_required: bool = True, max_positions: int | None = None) -> Positions | None:
    """A GeoJSON Feature (RFC 7946 §3.2): type, geometry (checked as above; null when not required),
    properties an object or null, id a string or number, bbox. Foreign members are ignored.

    Returns the geometry's positions (None for a null geometry).
    """
    if not isinstance(feature, Mapping):
        raise InputError("the body must be a GeoJSON Feature object", where=where)
    if feature.get("type") != "Feature":
        raise InputError(f"the body must be a GeoJSON Feature (type \"Feature\"), got type "
                         f"{_short(feature.get('type'))}", where=f"{where}.type")
    if "id" in feature and feature["id"] is not None and not (isinstance(feature["id"], str)
                                                             or _is_number(feature["id"])):
        raise InputError(f"a Feature's id is a string or a number, got {_short(feature['id'])}", where="id")
    props = feature.get("properties")
    if props is not None and not isinstance(props, Mapping):
        raise InputError(f"properties must be an object or null, got {_short(props)}", where="properties")
    check_crs_member(feature, where)
    geometry = feature.get("geometry")
    if geometry is None:
        if geometry_required:
            raise InputError("the Feature needs a geometry", where="geometry")
        if feature.get("bbox") is not None:
            raise InputError("a Feature without geometry cannot have a bbox", where="bbox")
        return None
    out = geometry_positions(geometry, kinds=kinds, where="geometry", max_positions=max_positions)
    check_bbox(feature.get("bbox"), out.xy, "bbox")
    return out
