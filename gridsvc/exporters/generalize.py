"""Map generalisation for offline maps (pure): zoom to fit, pixel-sized simplification, grid clustering of points."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..geo.crs import local_metric_crs
from ..geo.geos_ops import pool

EARTH_MPP_Z0 = 156_543.033_92  # Web Mercator metres per pixel at zoom 0 on the equator (256 px tiles)
VIEWPORT = (1280, 800)  # the screen a map is fitted to, in CSS pixels
PADDING_PX = 40
MIN_ZOOM, MAX_ZOOM = 3, 19
OVERVIEW_ZOOM = 15  # at this zoom and below a map is an overview: harder simplification, units clustered
COVERAGE_CHUNK = 1000  # polygons simplified together as one coverage
CLUSTER_PX = 56  # side of the clustering grid cell, in screen pixels at the map's zoom


def metres_per_pixel(zoom: float, lat: float) -> float:
    """Ground size of one screen pixel at a Web Mercator zoom and latitude."""
    return EARTH_MPP_Z0 * math.cos(math.radians(lat)) / 2 ** zoom


def _mercator_y(lat: float) -> float:
    """Web Mercator y of a latitude as a fraction of the world (0 at the top)."""
    lat = max(min(lat, 85.0511), -85.0511)
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def zoom_to_fit(bounds, viewport: tuple[int, int] = VIEWPORT, padding: int = PADDING_PX) -> int:
    """The largest whole zoom at which WGS84 bounds (minx, miny, maxx, maxy) fit the viewport."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    dx = max((maxx - minx) / 360.0, 1e-12)
    dy = max(_mercator_y(miny) - _mercator_y(maxy), 1e-12)
    w, h = viewport[0] - 2 * padding, viewport[1] - 2 * padding
    zoom = math.floor(math.log2(min(w / (256 * dx), h / (256 * dy))))
    return int(min(max(zoom, MIN_ZOOM), MAX_ZOOM))


def tolerance_m(zoom: int, lat: float) -> float:
    """Simplification tolerance at a zoom: half a screen pixel, in metres."""
    return 0.5 * metres_per_pixel(zoom, lat)


def decimals_for_zoom(zoom: int) -> int:
    """Decimal places of degrees that resolve half a pixel at zoom (5 or 6)."""
    half_px_deg = 360.0 / (256 * 2 ** zoom) / 2
    return int(min(max(math.ceil(-math.log10(half_px_deg)), 5), 6))


def round_coords(geoms: np.ndarray, decimals: int) -> np.ndarray:
    """Geometries with their coordinates rounded to decimals."""
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def simplify(gdf: gpd.GeoDataFrame, zoom: int, *, coverage: bool = False) -> gpd.GeoDataFrame:
    """gdf in WGS84 simplified to half a pixel at zoom in a metric CRS, topology kept, coordinates rounded.

    coverage=True simplifies the layer's polygons as one coverage, so edges shared by neighbours (zones, cells)
    stay shared; otherwise each geometry is simplified on its own without becoming invalid.
    """
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        return gdf.to_crs(4326) if gdf.crs is not None else gdf
    wgs = gdf.geometry.to_crs(4326)
    crs = local_metric_crs(wgs)
    lat = (wgs.total_bounds[1] + wgs.total_bounds[3]) / 2
    tol = tolerance_m(zoom, lat)
    metric = np.asarray(wgs.to_crs(crs).values)
    polygonal = np.isin(shapely.get_type_id(metric), (3, 6))
    out = metric.copy()
    if coverage and polygonal.any():
        out[polygonal] = _coverage_simplify(metric[polygonal], tol)
        rest = ~polygonal
    else:
        rest = np.ones(len(metric), dtype=bool)
    if rest.any():
        out[rest] = shapely.simplify(metric[rest], tol, preserve_topology=True)
    back = gpd.GeoSeries(out, index=gdf.index, crs=crs).to_crs(4326)
    rounded = round_coords(np.asarray(back.values), decimals_for_zoom(zoom))
    keep = ~shapely.is_empty(rounded)
    return gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=4326))[keep]


def _coverage_simplify(polygons: np.ndarray, tol: float) -> np.ndarray:
    """coverage_simplify of metric polygons; large layers in compact chunks (Hilbert order) on all cores.

    Simplifying a coverage grows faster than its size (29k zones: 3.9 s whole, 0.8 s in 64 chunks on 2 cores).
    Edges shared across a chunk seam may then differ by up to the tolerance, half a pixel at the map's zoom.
    """
    if len(polygons) <= COVERAGE_CHUNK:
        return shapely.coverage_simplify(polygons, tol, simplify_boundary=True)
    order = np.argsort(gpd.GeoSeries(polygons).hilbert_distance().to_numpy(), kind="stable")
    chunks = np.array_split(order, math.ceil(len(polygons) / COVERAGE_CHUNK))
    out = np.empty(len(polygons), dtype=object)
    parts = pool().map(lambda idx: shapely.coverage_simplify(polygons[idx], tol, simplify_boundary=True), chunks)
    for idx, part in zip(chunks, parts, strict=True):
        out[idx] = part
    return out


def clip_to_bounds(gdf: gpd.GeoDataFrame, bounds) -> gpd.GeoDataFrame:
    """Rows of a WGS84 gdf cut to bounds (minx, miny, maxx, maxy); rows left empty are dropped."""
    cut = shapely.clip_by_rect(np.asarray(gdf.geometry.values), *bounds)
    keep = ~shapely.is_empty(cut)
    return gdf.set_geometry(gpd.GeoSeries(cut, index=gdf.index, crs=gdf.crs))[keep]


def cluster_points(points: gpd.GeoDataFrame, zoom: int, *, label: str = "name", cell_px: int = CLUSTER_PX,
                   sample: int = 8) -> gpd.GeoDataFrame:
    """Points grouped on a square grid of cell_px screen pixels at zoom: count, sample labels, mean location."""
    cols = ["count", "labels", "geometry"]
    if points.empty:
        return gpd.GeoDataFrame({"count": [], "labels": []}, geometry=gpd.GeoSeries([], crs=4326))[cols]
    wgs = points.geometry.to_crs(4326)
    crs = local_metric_crs(wgs)
    lat = (wgs.total_bounds[1] + wgs.total_bounds[3]) / 2
    size = cell_px * metres_per_pixel(zoom, lat)
    xy = shapely.get_coordinates(np.asarray(wgs.to_crs(crs).values))
    cell = np.floor(xy / size).astype(np.int64)
    frame = pd.DataFrame({"cx": cell[:, 0], "cy": cell[:, 1], "x": xy[:, 0], "y": xy[:, 1],
                          "label": points[label].fillna("").astype(str).to_numpy()})
    frame = frame.sort_values(["cx", "cy", "label"], kind="stable")
    groups = frame.groupby(["cx", "cy"], sort=True)
    stats = groups.agg(count=("x", "size"), x=("x", "mean"), y=("y", "mean")).reset_index()
    firsts = frame[groups.cumcount() < sample].groupby(["cx", "cy"], sort=True)["label"].agg(
        lambda s: "、".join(v for v in s if v))
    stats["labels"] = firsts.to_numpy()
    geoms = gpd.GeoSeries(shapely.points(stats[["x", "y"]].to_numpy()), crs=crs).to_crs(4326)
    out = gpd.GeoDataFrame(stats[["count", "labels"]], geometry=geoms.values, crs=4326)
    out["geometry"] = round_coords(np.asarray(out.geometry.values), decimals_for_zoom(zoom))
    return out.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)[cols]
