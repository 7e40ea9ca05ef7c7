"""Walking order of a grid's units for a walk-through: street by street, up one side and back down the other."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from ..errors import InputError, InvalidGeometryError, MissingColumnsError
from ..geo.crs import local_metric_crs

COLUMNS = ["seq", "unit_id", "street_id", "street_name", "side", "station_m", "leg_m"]
LEFT, RIGHT = "left", "right"
MAX_STREET_M = 50.0  # units farther than this from every street centreline are visited last
TANGENT_M = 1.0  # half-length of the chord taken as the street's direction at a unit


def _sort_order(values: pd.Series) -> np.ndarray:
    """Indices sorting values stably: by number if all are numbers, else as text."""
    numeric = pd.to_numeric(values, errors="coerce")
    if len(values) and numeric.notna().all():
        return np.argsort(numeric.to_numpy(float), kind="stable")
    return np.argsort(values.astype(str).to_numpy(), kind="stable")


def _unit_points(units: gpd.GeoDataFrame, crs) -> np.ndarray:
    """Unit locations in crs as shapely points (a polygon's point on surface)."""
    geoms = units.geometry.set_crs(units.crs or 4326, allow_override=True)
    bad = (geoms.isna() | geoms.is_empty).to_numpy()
    if bad.any():
        raise InvalidGeometryError("unit has no location", source="units",
                                   where=f"unit {units['id'].iloc[int(np.argmax(bad))]!r}")
    return np.asarray(shapely.point_on_surface(np.asarray(geoms.to_crs(crs).values)))


def _street_lines(streets: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The streets' centrelines: the 'centerline' column if present, else the geometry."""
    if "centerline" in streets.columns:
        col = streets["centerline"]
        lines = col if isinstance(col, gpd.GeoSeries) else gpd.GeoSeries(col, index=streets.index)
    elif isinstance(streets, gpd.GeoDataFrame) and streets._geometry_column_name in streets.columns:
        lines = streets.geometry
    else:
        raise MissingColumnsError("missing column 'centerline' (or a geometry column)", source="streets")
    crs = lines.crs or getattr(streets, "crs", None) or 4326
    return lines.set_crs(crs, allow_override=True)


def _merged_streets(streets: gpd.GeoDataFrame, crs) -> tuple[list, list, np.ndarray]:
    """Street ids (sorted), their names and metric centrelines, rows sharing an id merged into one."""
    if "id" not in streets.columns:
        raise MissingColumnsError("missing column 'id'", source="streets")
    lines = _street_lines(streets).to_crs(crs)
    ids = streets["id"].reset_index(drop=True)
    kinds = lines.geom_type.to_numpy()
    for i, geom in enumerate(lines.values):
        if geom is None or geom.is_empty or kinds[i] not in ("LineString", "MultiLineString"):
            raise InvalidGeometryError(f"street centreline must be a (multi)line, got {kinds[i] or 'nothing'}",
                                       source="streets", where=f"street {ids.iloc[i]!r}")
    if ids.isna().any():
        raise InputError("street without an id", source="streets",
                         where=f"row {int(np.argmax(ids.isna().to_numpy()))}")
    names = streets["name"].reset_index(drop=True) if "name" in streets.columns else pd.Series([None] * len(ids))
    codes, uniques = pd.factorize(ids, sort=False)
    geoms = np.asarray(lines.values, dtype=object)
    out_ids, out_names, out_lines = [], [], []
    for u in _sort_order(pd.Series(uniques, dtype=object)):
        rows = np.flatnonzero(codes == u)
        parts = geoms[rows]
        line = parts[0] if len(parts) == 1 else shapely.line_merge(shapely.union_all(parts))
        if line.geom_type == "MultiLineString" and len(parts) == 1:
            line = shapely.line_merge(line)
        named = names.iloc[rows].dropna()
        out_ids.append(uniques[u])
        out_names.append(None if named.empty else named.iloc[0])
        out_lines.append(line)
    return out_ids, out_names, np.asarray(out_lines, dtype=object)


def _sides(lines: np.ndarray, pts: np.ndarray, station: np.ndarray) -> np.ndarray:
    """'left'/'right' of each point relative to its line's direction (sign of the cross product)."""
    length = shapely.length(lines)
    a = shapely.line_interpolate_point(lines, np.clip(station - TANGENT_M, 0.0, length))
    b = shapely.line_interpolate_point(lines, np.clip(station + TANGENT_M, 0.0, length))
    foot = shapely.line_interpolate_point(lines, station)
    dx, dy = shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)
    vx, vy = shapely.get_x(pts) - shapely.get_x(foot), shapely.get_y(pts) - shapely.get_y(foot)
    return np.where(dx * vy - dy * vx > 0, LEFT, RIGHT).astype(object)


def _normalise_side(value, unit_id) -> str | None:
    """A given side as 'left'/'right' (None when not given)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip().lower()
    if text in (LEFT, RIGHT):
        return text
    raise InputError(f"side must be 'left' or 'right', got {value!r}", source="units", where=f"unit {unit_id!r}")


def _assign(units: gpd.GeoDataFrame, pts: np.ndarray, street_ids: list, lines: np.ndarray,
            max_street_m: float) -> np.ndarray:
    """Street index of each unit: the given street_id, else the nearest within max_street_m (-1: none)."""
    n = len(pts)
    street = np.full(n, -1, dtype=int)
    given = units["street_id"].reset_index(drop=True) if "street_id" in units.columns else pd.Series([None] * n)
    lookup = {sid: i for i, sid in enumerate(street_ids)}
    todo = []
    for i, sid in enumerate(given):
        if sid is None or (isinstance(sid, float) and np.isnan(sid)) or sid is pd.NA:
            todo.append(i)
        elif sid in lookup:
            street[i] = lookup[sid]
        else:
            raise InputError(f"street_id {sid!r} is not among the streets", source="units",
                             where=f"unit {units['id'].iloc[i]!r}")
    if todo and len(lines):
        todo_idx = np.asarray(todo)
        tree = shapely.STRtree(lines)
        pairs = tree.query_nearest(pts[todo_idx], max_distance=max_street_m, all_matches=True)
        best = np.full(len(todo_idx), len(lines), dtype=int)
        np.minimum.at(best, pairs[0], pairs[1])  # ties go to the street first in id order
        street[todo_idx] = np.where(best < len(lines), best, -1)
    return street


def _walk_variants(stops: np.ndarray, side: np.ndarray, station: np.ndarray, rank: np.ndarray):
    """One street's stops entered from the low end and from the high end, shops kept on the right hand."""
    right = stops[side[stops] == RIGHT]
    left = stops[side[stops] == LEFT]
    right = right[np.lexsort((rank[right], station[right]))]
    left = left[np.lexsort((rank[left], station[left]))]
    from_low = np.concatenate([right, left[::-1]]) if len(right) else left
    from_high = np.concatenate([left[::-1], right]) if len(left) else right[::-1]
    return from_low, from_high


def _start_xy(start, pts: np.ndarray, crs) -> tuple[float, float]:
    """Metric start point: the given WGS84 point/(lng, lat), else the units' south-west corner."""
    if start is None:
        xmin, ymin, _, _ = shapely.total_bounds(pts)
        return float(xmin), float(ymin)
    geom = start if isinstance(start, Point) else Point(*start)
    metric = gpd.GeoSeries([geom], crs=4326).to_crs(crs).iloc[0]
    return float(metric.x), float(metric.y)


def walking_order(units: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, *, start=None,
                  max_street_m: float = MAX_STREET_M) -> pd.DataFrame:
    """Order units for a walk-through: street by street, one side up and the other back (see COLUMNS)."""
    if "id" not in units.columns:
        raise MissingColumnsError("missing column 'id'", source="units")
    if units["id"].duplicated().any():
        raise InputError(f"duplicate unit id {units['id'][units['id'].duplicated()].iloc[0]!r}", source="units")
    if len(units) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_m") else object) for c in COLUMNS})
    wgs = units.geometry.set_crs(units.crs or 4326, allow_override=True)
    crs = local_metric_crs(wgs)
    pts = _unit_points(units, crs)
    street_ids, street_names, lines = _merged_streets(streets, crs)
    street = _assign(units, pts, street_ids, lines, max_street_m)
    unit_ids = units["id"].reset_index(drop=True)
    rank = np.empty(len(units), dtype=int)
    rank[_sort_order(unit_ids)] = np.arange(len(units))

    on = np.flatnonzero(street >= 0)
    station = np.full(len(units), np.nan)
    side = np.full(len(units), None, dtype=object)
    if len(on):
        station[on] = shapely.line_locate_point(lines[street[on]], pts[on])
        side[on] = _sides(lines[street[on]], pts[on], station[on])
        if "side" in units.columns:
            for i in on:
                given = _normalise_side(units["side"].iloc[i], unit_ids.iloc[i])
                side[i] = given or side[i]

    xy = shapely.get_coordinates(pts)
    walks = {s: _walk_variants(np.flatnonzero(street == s), side, station, rank) for s in np.unique(street[on])}
    here = np.asarray(_start_xy(start, pts, crs))
    order: list[int] = []
    if walks:
        first = on[np.lexsort((rank[on], np.hypot(*(xy[on] - here).T)))[0]]
        forced = street[first]  # the walk starts on the street of the unit nearest the start point
        while walks:
            pool = {forced: walks[forced]} if forced is not None else walks
            _, s, v = min((float(np.hypot(*(xy[var[0]] - here))), k, j)
                          for k, variants in pool.items() for j, var in enumerate(variants))
            variant = walks.pop(s)[v]
            order.extend(int(i) for i in variant)
            here = xy[variant[-1]]
            forced = None
    rest = list(np.flatnonzero(street < 0))
    while rest:
        d = np.hypot(*(xy[rest] - here).T)
        nxt = rest[int(np.lexsort((rank[rest], np.round(d, 6)))[0])]
        order.append(int(nxt))
        here = xy[nxt]
        rest.remove(nxt)

    idx = np.asarray(order)
    legs = np.concatenate([[0.0], np.hypot(*np.diff(xy[idx], axis=0).T)])
    sid = street[idx]
    return pd.DataFrame({
        "seq": np.arange(1, len(idx) + 1),
        "unit_id": unit_ids.iloc[idx].to_numpy(),
        "street_id": pd.Series([street_ids[s] if s >= 0 else None for s in sid], dtype=object),
        "street_name": pd.Series([street_names[s] if s >= 0 else None for s in sid], dtype=object),
        "side": pd.Series(side[idx], dtype=object),
        "station_m": np.round(station[idx], 1),
        "leg_m": np.round(legs, 1),
    })
