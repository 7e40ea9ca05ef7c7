"""H3 unit grid: covering cells, cell polygons, and national-style grid codes (pure)."""

from __future__ import annotations

import geopandas as gpd
import h3.api.basic_int as h3
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from ..errors import InputError

# H3 res 10 cells average ~15,000 m², the H3 counterpart of the 万米单元网格 (10,000 m² unit grid): the default of
# GRIDSVC_H3_RES. A built grid records its resolution (grid_cells.res); readers take it from there (grid.grid_res).


def _shape(geom) -> h3.H3Shape:
    return h3.geo_to_h3shape(geom.__geo_interface__)


def cover_polygon(geom, res: int) -> list[int]:
    """Cells overlapping a (multi)polygon, so thin alleys are never dropped."""
    if geom is None or geom.is_empty:
        return []
    return h3.h3shape_to_cells_experimental(_shape(geom), res, contain="overlap")


def cover_features(geoms: gpd.GeoSeries, res: int, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(feature position, cell) pairs covering each WGS84 geometry; points take their one cell.

    workers > 1 covers the lines and polygons in that many processes (`cover_parallel`), with the same result.
    """
    values = np.asarray(geoms.values)
    is_point = shapely.get_type_id(values) == 0
    pos_pts = np.flatnonzero(is_point)
    pt_cells = point_cells(shapely.get_x(values[pos_pts]), shapely.get_y(values[pos_pts]), res)
    others = np.flatnonzero(~is_point)
    if workers > 1 and len(others) >= PARALLEL_MIN:
        feat, cells = cover_parallel(values[others], res, workers)
        return (np.concatenate([pos_pts, others[feat]]).astype(np.int64),
                np.concatenate([pt_cells, cells]).astype(np.int64))
    feat, cells = _cover_each(values[others], res)
    return np.concatenate([pos_pts, others[feat]]).astype(np.int64), np.concatenate([pt_cells, cells]).astype(np.int64)


# Below this many lines and polygons, starting processes costs more than it saves (an ingest's few new rows).
PARALLEL_MIN = 2000


def _cover_each(geoms: np.ndarray, res: int) -> tuple[np.ndarray, np.ndarray]:
    """(position in geoms, cell) pairs of cover_polygon over each geometry, in order."""
    feat, cells = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for i, geom in enumerate(geoms):
        c = cover_polygon(geom, res)
        feat.append(np.full(len(c), i, dtype=np.int64))
        cells.append(np.asarray(c, dtype=np.int64))
    return np.concatenate(feat), np.concatenate(cells)


def _cover_wkb(wkb: list[bytes], res: int) -> tuple[np.ndarray, np.ndarray]:
    """_cover_each of WKB geometries: the task of one worker process."""
    return _cover_each(shapely.from_wkb(np.asarray(wkb, dtype=object)), res)


def cover_parallel(geoms: np.ndarray, res: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """_cover_each in `workers` processes over chunks of the geometries (sent as WKB), results in input order.

    Processes, because the H3 cover holds the GIL for much of its time (threads gain 1.5x on 2 cores); forkserver,
    so a worker never inherits the caller's threads or database connections.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Several chunks a worker even out the geometries' sizes; each chunk is large enough to amortise its pickling.
    bounds = np.linspace(0, len(geoms), min(len(geoms), workers * 4) + 1).astype(int)
    wkb = shapely.to_wkb(geoms)
    chunks = [list(wkb[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        parts = list(pool.map(_cover_wkb, chunks, [res] * len(chunks)))
    feat = np.concatenate([p[0] + a for p, a in zip(parts, bounds[:-1], strict=True)])
    return feat.astype(np.int64), np.concatenate([p[1] for p in parts]).astype(np.int64)


def point_cells(lng: np.ndarray, lat: np.ndarray, res: int) -> np.ndarray:
    """The cell of each WGS84 point."""
    return np.fromiter((h3.latlng_to_cell(y, x, res) for x, y in zip(lng, lat, strict=True)), dtype=np.int64,
                       count=len(lng))


def cell_polygons(cells: np.ndarray) -> np.ndarray:
    """Shapely polygons (lng/lat) of H3 cells, built in one vectorized call."""
    rings = [h3.cell_to_boundary(int(c)) for c in cells]
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    coords = np.array([p for r in rings for p in r], dtype=float).reshape(-1, 2)[:, ::-1]
    ring_idx = np.repeat(np.arange(len(rings)), lengths)
    linear = shapely.linearrings(coords, indices=ring_idx)
    return shapely.polygons(linear)


def cells_outline(cells) -> shapely.MultiPolygon:
    """The exact union of a set of cells, traced by H3 (much faster than a polygon union)."""
    shape = h3.cells_to_h3shape([int(c) for c in cells])
    geom = shapely.geometry.shape(shape.__geo_interface__)
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def provisional_hierarchy(cells: np.ndarray, res: int, admin_code: str, sub_offset: int = 0) -> pd.DataFrame:
    """Group cells under res-2 parents (communities) and res-3 parents (subdistricts), with codes.

    Grid code = 6-digit admin code + 3-digit subdistrict + 3-digit community + 3-digit sequence,
    after the national unit-grid coding. Community and grid sequences are the H3 child positions
    (stable whatever the extent); subdistricts are numbered in H3 order from sub_offset + 1
    (900 keeps provisional codes apart from an imported hierarchy's).
    """
    cells = np.unique(np.asarray(cells, dtype=np.int64))
    com_res, sub_res = res - 2, res - 3
    com = np.fromiter((h3.cell_to_parent(int(c), com_res) for c in cells), dtype=np.int64, count=len(cells))
    sub = np.fromiter((h3.cell_to_parent(int(c), sub_res) for c in com), dtype=np.int64, count=len(cells))
    sub_ids = np.unique(sub)
    sub_seq = np.searchsorted(sub_ids, sub) + 1 + sub_offset
    com_seq = np.fromiter((h3.cell_to_child_pos(int(c), sub_res) for c in com), dtype=np.int64, count=len(cells)) + 1
    grid_seq = np.fromiter((h3.cell_to_child_pos(int(c), com_res) for c in cells), dtype=np.int64,
                           count=len(cells)) + 1
    sub_code = pd.Series(sub_seq).map("{:03d}".format).radd(admin_code)
    com_code = sub_code + pd.Series(com_seq).map("{:03d}".format)
    grid_code = com_code + pd.Series(grid_seq).map("{:03d}".format)
    return pd.DataFrame({
        "h3": cells, "community_h3": com, "subdistrict_h3": sub,
        "subdistrict_code": sub_code.to_numpy(), "community_code": com_code.to_numpy(), "code": grid_code.to_numpy(),
        "subdistrict_name": [f"临时街道 {s:03d}" for s in sub_seq],
        "community_name": [f"临时社区 {s:03d}-{c:03d}" for s, c in zip(sub_seq, com_seq, strict=True)],
    })


def estimate_cells(extent, res: int) -> int:
    """Roughly how many cells cover a WGS84 polygon (geodesic area / mean cell area)."""
    from pyproj import Geod

    area = abs(Geod(ellps="WGS84").geometry_area_perimeter(extent)[0])
    return int(area / h3.average_hexagon_area(res, "m^2")) + 1


def cells_in_extent(extent, res: int, max_cells: int | None = None) -> np.ndarray:
    """All cells overlapping an extent polygon, sorted; refuses extents over max_cells."""
    if max_cells is not None:
        n = estimate_cells(extent, res)
        if n > max_cells:
            x0, y0, x1, y1 = extent.bounds
            raise InputError(
                f"the managed area ({x0:.4f},{y0:.4f} to {x1:.4f},{y1:.4f}) would need about {n:,} res-{res} "
                f"cells, over the limit of {max_cells:,}. Data from two far-apart places in one database? "
                "Import a district boundary (--kind boundary), or use one database per city "
                "(GRIDSVC_DB_NAME), or raise GRIDSVC_MAX_GRID_CELLS."
            )
    return np.sort(np.asarray(cover_polygon(extent, res), dtype=np.int64))


def h3_str(cell: int) -> str:
    """The usual hex form of an H3 index."""
    return h3.int_to_str(int(cell))
