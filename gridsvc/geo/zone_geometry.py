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
from .geojson_checks import Positions, geometry_positions

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


def parse_geometry(geojson, *, kinds: tuple[str, ...] = POLYGONAL, where: str = "geometry",
                   positions: Positions | None = None) -> BaseGeometry:
    """A GeoJSON geometry object of one of `kinds` as a shapely geometry (checked as GeoJSON, not yet for validity).

    RFC 7946 structure first (geojson_checks; `positions` when the caller has walked it already), then the
    numbers; the right-hand rule is not enforced.
    """
    if positions is None:
        positions = geometry_positions(geojson, kinds=kinds, where=where, max_positions=MAX_VERTICES)
    check_positions(np.array(positions.xy, dtype=float).reshape(-1, 2), f"{where}.coordinates")
    try:
        return shapely.force_2d(shape(geojson))  # heights are accepted and dropped: zones are 2D
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise InputError(f"not a valid GeoJSON {geojson['type']}: {e}", where=where) from None


GRID_DEG = 1e-8  # ≈ 1 mm: the precision of stored zone vertices drawn or repaired by clients
OUTPUT_DECIMALS = 7  # GeoJSON answers (/zones, layers, OGC) give coordinates to 7 decimals
OUTPUT_DEG = 10.0**-OUTPUT_DECIMALS  # ≈ 1 cm
SNAP_DEG = OUTPUT_DEG  # an incoming vertex this close to a stored one is taken to mean it (see snap_to_stored)


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


def snap_to_stored(geom: BaseGeometry, own: BaseGeometry | None, neighbours: list[BaseGeometry],
                   tol: float = SNAP_DEG) -> BaseGeometry:
    """geom with the rounding of our answers undone: the stored zone itself when geom is within tol of it (an
    unchanged round trip); else each vertex within tol of a stored vertex of its own zone
    moved onto the nearest one (and own vertices within tol of its edges put back, which the rounding of
    shapely.set_precision drops when nearly collinear), each other vertex within tol of a neighbour's vertex,
    else of a neighbour's edge, moved onto it.

    A client can send back only what it was given: coordinates rounded to OUTPUT_DEG. So an unchanged zone comes
    back exactly as stored and a moved vertex is the only change. The result is used only when it is still a
    valid polygon; otherwise geom is returned as it came.
    """
    if own is not None and answered_as(geom, own, tol):
        return own
    snapped = geom
    if own is not None and not own.is_empty:
        snapped = _onto_vertices(snapped, own, tol)
        snapped = shapely.snap(snapped, own, tol)  # own vertices on (or within tol of) its edges
    if neighbours:
        near = shapely.union_all(neighbours)
        snapped = _onto_vertices(snapped, near, tol, keep=own)
        snapped = _onto_edges(snapped, neighbours, tol, keep=own)
    if snapped is geom or shapely.equals_exact(snapped, geom, 0):
        return geom
    return snapped if snapped.is_valid and not snapped.is_empty else geom


def answered_as(geom: BaseGeometry, stored: BaseGeometry, tol: float = SNAP_DEG) -> bool:
    """Whether geom is the stored zone as our answers gave it: every vertex of each within tol of the other's edges
    (valid or not: rounding can make a thin part touch itself)."""
    return not stored.is_empty and shapely.hausdorff_distance(geom.boundary, stored.boundary) <= tol


def _free(xy: np.ndarray, keep: BaseGeometry | None) -> np.ndarray:
    """Which vertices are not already vertices of keep (those stay where they are)."""
    if keep is None or keep.is_empty:
        return np.ones(len(xy), dtype=bool)
    own = {tuple(c) for c in shapely.get_coordinates(keep)}
    return np.array([tuple(c) not in own for c in xy], dtype=bool)


def _onto_vertices(geom: BaseGeometry, ref: BaseGeometry, tol: float, keep: BaseGeometry | None = None):
    xy = shapely.get_coordinates(geom)
    ref_xy = np.unique(shapely.get_coordinates(ref), axis=0)
    idx = np.flatnonzero(_free(xy, keep))
    if not len(idx) or not len(ref_xy):
        return geom
    hit, near = shapely.STRtree(shapely.points(ref_xy)).query_nearest(shapely.points(xy[idx]), max_distance=tol,
                                                                     all_matches=False)
    if not len(hit):
        return geom
    out = xy.copy()
    out[idx[hit]] = ref_xy[near]
    return shapely.transform(geom, lambda _: out)


def _onto_edges(geom: BaseGeometry, neighbours: list[BaseGeometry], tol: float, keep: BaseGeometry | None = None):
    xy = shapely.get_coordinates(geom)
    edges = _segments(neighbours)
    idx = np.flatnonzero(_free(xy, keep))
    if not len(idx) or not len(edges):
        return geom
    points = shapely.points(xy[idx])
    hit, near = shapely.STRtree(edges).query_nearest(points, max_distance=tol, all_matches=False)
    if not len(hit):
        return geom
    seg = edges[near]
    on = shapely.line_interpolate_point(seg, shapely.line_locate_point(seg, points[hit]))
    out = xy.copy()
    out[idx[hit]] = shapely.get_coordinates(on)
    return shapely.transform(geom, lambda _: out)


def rounded(geom: BaseGeometry) -> BaseGeometry:
    """geom with coordinates rounded to OUTPUT_DECIMALS, vertex for vertex (as ST_AsGeoJSON(geom, 7) does for the
    layers): unlike shapely.set_precision it drops no vertex and no thin part, so snap_to_stored can undo it."""
    return shapely.transform(geom, lambda xy: np.round(xy, OUTPUT_DECIMALS))


def _segments(geoms: list[BaseGeometry]) -> np.ndarray:
    """Every edge of the polygons' rings as a two-point LineString."""
    rings = shapely.get_parts(shapely.boundary(shapely.get_parts(np.asarray(geoms, dtype=object))))
    lines = []
    for ring in shapely.get_parts(rings):
        c = shapely.get_coordinates(ring)
        if len(c) >= 2:
            lines.append(np.stack([c[:-1], c[1:]], axis=1))
    if not lines:
        return np.array([], dtype=object)
    return shapely.linestrings(np.concatenate(lines))


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

