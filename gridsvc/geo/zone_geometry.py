"""Geometries sent by planners (GeoJSON, any client CRS): checked, repaired on request, converted to WGS84.

The checks, each in one place: RFC 7946 structure (types, nesting, closed rings of ≥ 4 positions, bbox) in
`geojson_checks`; here the numbers (NaN/Infinity, ranges, a swapped [lat, lng] order), the vertex limit (passed
to the structure walk, so a huge body stops early) and validity (`is_valid_reason`, with the place).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..errors import InputError, InvalidGeometryError, SwappedCoordinatesError
from .crs import CrsSpec, parse_crs, points_from_wgs84, points_to_wgs84
from .geojson_checks import geometry_positions

MAX_VERTICES = 20_000  # per zone; a hand-drawn zone has tens, an auto one hundreds
POLYGONAL = ("Polygon", "MultiPolygon")


def check_positions(xy: np.ndarray, where: str = "geometry.coordinates") -> None:
    """Finite numbers within lng/lat range; a swapped order is named as such."""
    if len(xy) == 0:
        raise InputError("the geometry has no coordinates", where=where)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"position {i} is not a finite number (NaN or Infinity): {xy[i].tolist()}", where=where)
    out = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        lng, lat = xy[i]
        if abs(lng) <= 90 < abs(lat) <= 180:
            raise SwappedCoordinatesError(f"position {i} {xy[i].tolist()} is out of range (looks like [lat, lng]: "
                                          "GeoJSON order is [lng, lat])", where=where)
        raise InputError(f"position {i} {xy[i].tolist()} is out of range", where=where)
    # In range both ways, but every position is a Chinese [lat, lng] (lng 15..55 and lat 70..90 is the Arctic):
    swapped = (xy[:, 0] >= 15) & (xy[:, 0] <= 55) & (xy[:, 1] >= 70)
    if swapped.all():
        raise SwappedCoordinatesError(f"position 0 {xy[0].tolist()} looks like [lat, lng] (a place in China "
                                      "swapped): GeoJSON order is [lng, lat]", where=where)


def parse_geometry(geojson, *, kinds: tuple[str, ...] = POLYGONAL, where: str = "geometry") -> BaseGeometry:
    """A GeoJSON geometry object of one of `kinds` as a shapely geometry (checked as GeoJSON, not yet for validity).

    RFC 7946 structure first (geojson_checks), then the numbers; the right-hand rule is not enforced.
    """
    positions = geometry_positions(geojson, kinds=kinds, where=where, max_positions=MAX_VERTICES)
    check_positions(np.array(positions.xy, dtype=float).reshape(-1, 2), f"{where}.coordinates")
    try:
        return shapely.force_2d(shape(geojson))  # heights are accepted and dropped: zones are 2D
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise InputError(f"not a valid GeoJSON {geojson['type']}: {e}", where=where) from None


GRID_DEG = 1e-8  # ≈ 1 mm: the precision of stored zone vertices drawn or repaired by clients


def polygonal(geom: BaseGeometry, *, repair: bool = False, where: str = "geometry") -> shapely.MultiPolygon:
    """A valid MultiPolygon; an invalid one is refused with the place of the problem, or repaired on request."""
    if geom.is_empty:
        raise InvalidGeometryError("the polygon is empty", where=where)
    if not geom.is_valid:
        if not repair:
            reason = shapely.is_valid_reason(geom)
            raise InvalidGeometryError(f"invalid polygon: {reason}; fix it or send repair=true to repair it "
                                       "with make_valid", where=where, reason=reason)
        geom = shapely.make_valid(geom)
    # Snap to a ~1 mm grid: vertices a hair apart (make_valid leaves many) are valid for shapely's GEOS but
    # make older GEOS predicates in PostGIS throw TopologyExceptions on this zone and its neighbours later.
    geom = shapely.set_precision(geom, GRID_DEG)
    parts = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        raise InvalidGeometryError("no polygon area left after repair", where=where)
    return shapely.MultiPolygon(parts)


def _convert(geom: BaseGeometry, fn) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(fn(xy[:, 0], xy[:, 1])))


def from_client(geom: BaseGeometry, crs: str | CrsSpec = "wgs84") -> BaseGeometry:
    """A client geometry (WGS84, GCJ-02 or BD-09 lng/lat) in WGS84."""
    spec = parse_crs(crs)
    if spec.epsg == 4326:
        return geom
    return _convert(geom, lambda x, y: points_to_wgs84(x, y, spec))


def to_client(geom: BaseGeometry, crs: str | CrsSpec = "wgs84") -> BaseGeometry:
    """A WGS84 geometry in the client's CRS (for display on a GCJ-02 basemap)."""
    spec = parse_crs(crs)
    if spec.epsg == 4326:
        return geom
    return _convert(geom, lambda x, y: points_from_wgs84(x, y, spec))

