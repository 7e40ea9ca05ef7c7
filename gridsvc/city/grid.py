"""`gridsvc build grid`: H3 cells over the managed area, their communities, and feature indexes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine

from ..db import store
from ..db.layer_sql import layer_sql
from ..db.layers import layer_spec
from ..db.sql import sql
from ..errors import NotFoundError
from ..geo import h3cells
from ..settings import get_settings

Progress = Callable[[str, int, int], None]
INDEXED_LAYERS = ("streets", "compounds", "markets", "units")


@dataclass
class GridReport:
    """What a grid build produced."""

    res: int
    cells: int
    communities: int
    subdistricts: int
    provisional: bool
    feature_cells: dict[str, int]


def stored_res(conn: Connection) -> int | None:
    """The H3 resolution of the stored grid (None before `gridsvc build grid`)."""
    return conn.execute(sql("grid_res")).scalar()


def grid_res(conn: Connection) -> int:
    """The resolution to find a point's grid cell at: the stored grid's, else GRIDSVC_H3_RES (no grid yet)."""
    res = stored_res(conn)
    return get_settings().h3_res if res is None else res


def _extent(conn: Connection):
    boundary = conn.execute(sql("boundary_extent")).scalar()
    if boundary:
        return shapely.from_wkb(boundary), True
    data = conn.execute(sql("data_extent")).scalar()
    if not data:
        raise NotFoundError("nothing imported yet: run `gridsvc ingest FILE` before `gridsvc build grid`")
    return shapely.from_wkb(data), False


def _imported_communities(conn: Connection) -> gpd.GeoDataFrame:
    return store.read_layer(conn, layer_spec("admin_units"), "level = 'community' AND NOT provisional")


def _assign(cells: np.ndarray, polys: np.ndarray, res: int, admin_code: str,
            communities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Codes for each cell: under an imported community where its centre lies, else provisional."""
    table = h3cells.provisional_hierarchy(cells, res, admin_code, sub_offset=900 if len(communities) else 0)
    table["community_id"] = pd.array([None] * len(table), dtype="Int64")
    if len(communities):
        centres = gpd.GeoDataFrame(geometry=shapely.centroid(polys), crs=4326)
        hit = gpd.sjoin(centres, communities[["id", "code", "geometry"]], predicate="within", how="left")
        hit = hit[~hit.index.duplicated()]
        inside = hit["id"].notna().to_numpy()
        table.loc[inside, "community_id"] = hit["id"][inside].astype("int64").to_numpy()
        seq = table[inside].groupby(hit["code"][inside].to_numpy()).cumcount() + 1
        table.loc[inside, "code"] = hit["code"][inside].to_numpy() + seq.map("{:03d}".format).to_numpy()
    return table


def cover_workers() -> int:
    """Processes for the H3 cover of lines and polygons: the CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def build_grid(engine: Engine, res: int, admin_code: str, progress: Progress | None = None,
               max_cells: int | None = None, workers: int | None = None) -> GridReport:
    """Rebuild the grid in one transaction; officer assignments keep their grid codes.

    workers: processes for the features' H3 cover (default: every CPU this process may use; 1 = in this process).
    """
    tick = progress or (lambda *_: None)
    with engine.begin() as conn:
        extent, from_boundary = _extent(conn)
        tick("covering extent", 0, 4)
        cells = h3cells.cells_in_extent(extent, res, max_cells or get_settings().max_grid_cells)
        polys = h3cells.cell_polygons(cells)
        table = _assign(cells, polys, res, admin_code, _imported_communities(conn))
        conn.execute(sql("grid_cells_clear"))
        conn.execute(sql("admin_units_clear_provisional"))
        tick("storing communities", 1, 4)
        prov = table[table["community_id"].isna()]
        com_ids = _store_provisional(conn, table[table["community_id"].isna().to_numpy()], admin_code)
        community_id = table["community_id"].astype(object).where(table["community_id"].notna(),
                                                                  table["community_h3"].map(com_ids))
        tick("storing cells", 2, 4)
        wkb = store.ewkb_hex(polys)
        store.copy_rows(conn, "grid_cells", ["h3", "res", "code", "community_id", "geom"],
                        zip(table["h3"].tolist(), [res] * len(table), table["code"].tolist(),
                            [None if pd.isna(v) else int(v) for v in community_id], wkb, strict=True))
        tick("indexing features", 3, 4)
        counts = _index_features(conn, res, workers or cover_workers())
        conn.execute(sql("grid_analyze"))
        tick("done", 4, 4)
    return GridReport(res=res, cells=len(table), communities=int(table["community_code"].nunique()),
                      subdistricts=int(table["subdistrict_code"].nunique()), provisional=len(prov) > 0,
                      feature_cells=counts)


def _store_provisional(conn: Connection, cells: pd.DataFrame, admin_code: str) -> dict[int, int]:
    """Insert provisional district/subdistricts/communities; returns community h3 -> admin id."""
    if cells.empty:
        return {}
    district = conn.execute(
        sql("district_insert_provisional"),
        {"code": admin_code, "name": f"临时区 {admin_code}",
         "g": shapely.to_wkb(h3cells.cells_outline(cells["h3"]))}).scalar()
    ids_by_h3: dict[int, int] = {}
    for level, key, code, name, parent in (
        ("subdistrict", "subdistrict_h3", "subdistrict_code", "subdistrict_name", None),
        ("community", "community_h3", "community_code", "community_name", "subdistrict_h3"),
    ):
        groups = cells.groupby(key, sort=True)
        first = groups.first()
        outlines = [shapely.to_wkb(h3cells.cells_outline(members)) for _, members in groups["h3"]]
        ids = conn.execute(
            sql("admin_units_insert_provisional"),
            {"level": level, "codes": first[code].tolist(), "names": first[name].tolist(),
             "parents": [district] * len(first) if parent is None else [ids_by_h3[int(v)] for v in first[parent]],
             "h3s": [int(v) for v in first.index], "geoms": outlines},
        ).scalars().all()
        ids_by_h3 = dict(zip((int(v) for v in first.index), ids, strict=True))
    return ids_by_h3


def _cover_rows(conn: Connection, names: tuple[str, ...], res: int, ids: list[int] | None = None,
                workers: int = 1) -> dict[str, int]:
    """Store the cells covering these layers' rows (all of them, or those with these ids); returns the pairs
    stored per layer. The layers are covered in one call, so one pool of processes serves them all."""
    found = []
    for name in names:
        rows = conn.execute(layer_sql("layer_geometries", name, where="" if ids is None else "WHERE id = ANY(:ids)"),
                            {"ids": ids}).all()
        found.append((name, np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]))
    feature_ids = np.concatenate([f for _, f, _ in found])
    if not len(feature_ids):
        return dict.fromkeys(names, 0)
    layer = np.repeat(np.arange(len(found)), [len(f) for _, f, _ in found])
    geoms = gpd.GeoSeries(shapely.from_wkb([w for _, _, wkb in found for w in wkb]), crs=4326)
    pos, cells = h3cells.cover_features(geoms, res, workers)
    counts = {}
    for k, (name, _, _) in enumerate(found):
        mine = layer[pos] == k
        pairs = np.unique(np.column_stack([feature_ids[pos[mine]], cells[mine]]), axis=0)
        store.copy_rows(conn, "feature_cells", ["layer", "feature_id", "h3"],
                        ((name, int(f), int(c)) for f, c in pairs))
        counts[name] = len(pairs)
    return counts


def _index_features(conn: Connection, res: int, workers: int = 1) -> dict[str, int]:
    """Recompute feature_cells for every indexed layer."""
    conn.execute(sql("feature_cells_clear"))
    return _cover_rows(conn, INDEXED_LAYERS, res, workers=workers)


def index_rows(conn: Connection, name: str, written: list[int], removed: list[int] = ()) -> int:
    """Keep the grid index current after an ingest: cover the rows written at the stored grid's resolution and
    forget the removed ones (nothing to do before the first `gridsvc build grid`, which indexes everything)."""
    res = stored_res(conn) if name in INDEXED_LAYERS else None
    if res is None or not (written or removed):
        return 0
    conn.execute(sql("feature_cells_forget"), {"layer": name, "ids": [*written, *removed]})
    return _cover_rows(conn, (name,), res, list(written), cover_workers())[name] if written else 0
