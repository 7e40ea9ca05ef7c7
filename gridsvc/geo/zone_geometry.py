"""Geometries sent by planners (GeoJSON, any client CRS): checked, repaired on request, converted to WGS84."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..errors import InputError, InvalidGeometryError
from .crs import CrsSpec, parse_crs, points_from_wgs84, points_to_wgs84

MAX_VERTICES = 20_000  # per zone; a hand-drawn zone has tens, an auto one hundreds
POLYGONAL = ("Polygon", "MultiPolygon")


def _coords(obj, depth: int) -> np.ndarray:
    """All positions of a GeoJSON coordinates array nested depth deep (Point 1 … MultiPolygon 4), as (n, 2)."""
    flat = [obj] if depth == 1 else obj
    for _ in range(depth - 2):
        if not isinstance(flat, list | tuple) or not all(isinstance(x, list | tuple) for x in flat):
            raise InputError("coordinates are not nested as the geometry type needs", where="geometry.coordinates")
        flat = [p for part in flat for p in part]
    try:
        arr = np.array([[float(p[0]), float(p[1])] for p in flat], dtype=float)
    except (TypeError, ValueError, IndexError):
        raise InputError("every position must be [lng, lat] numbers", where="geometry.coordinates") from None
    return arr.reshape(-1, 2)


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
        hint = " (looks like [lat, lng]: GeoJSON order is [lng, lat])" if abs(lng) <= 90 < abs(lat) <= 180 else ""
        raise InputError(f"position {i} {xy[i].tolist()} is out of range{hint}", where=where)


def parse_geometry(geojson, *, kinds: tuple[str, ...] = POLYGONAL, where: str = "geometry") -> BaseGeometry:
    """A GeoJSON geometry object of one of `kinds` as a shapely geometry (not yet validated)."""
    if not isinstance(geojson, Mapping):
        raise InputError("a GeoJSON geometry object is required", where=where)
    gtype = geojson.get("type")
    if gtype not in kinds:
        raise InputError(f"geometry type must be {' or '.join(kinds)}, got {gtype!r}", where=f"{where}.type")
    depth = {"Point": 1, "LineString": 2, "MultiPoint": 2, "Polygon": 3, "MultiLineString": 3,
             "MultiPolygon": 4}[gtype]
    xy = _coords(geojson.get("coordinates"), depth)
    check_positions(xy, f"{where}.coordinates")
    if len(xy) > MAX_VERTICES:
        raise InputError(f"{len(xy)} vertices; at most {MAX_VERTICES} per geometry", where=where)
    try:
        return shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise InputError(f"not a valid GeoJSON {gtype}: {e}", where=where) from None


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

