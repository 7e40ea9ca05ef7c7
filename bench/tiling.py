"""Scale real data up by tiling it: the Nanjing extract repeated on a grid with coordinate offsets."""

from __future__ import annotations

import math
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridsvc.city.catalogue import load_catalogue
from gridsvc.city.ingest import prepare_layers, read_source
from gridsvc.settings import REPO_ROOT

NANJING = Path(os.environ.get("GRIDSVC_SHARED_GEODATA", REPO_ROOT.parent / "shared" / "geodata")) / \
    "nanjing_xinjiekou_2021-06-12.osm.pbf"


def nanjing_layers() -> dict[str, gpd.GeoDataFrame]:
    """The real Nanjing extract, read and prepared (streets with widths and polygons)."""
    layers, _, _ = read_source(NANJING)
    prepared, _ = prepare_layers(layers, NANJING.name, load_catalogue())
    return prepared


def tile(layers: dict[str, gpd.GeoDataFrame], n: int) -> dict[str, gpd.GeoDataFrame]:
    """n copies of every layer laid out on a near-square grid of tiles, source ids suffixed '#k'."""
    if n == 1:
        return layers
    x0, y0, x1, y1 = layers["streets"].total_bounds
    dx, dy = (x1 - x0) * 1.02, (y1 - y0) * 1.02
    cols = math.ceil(math.sqrt(n))
    out = {}
    for name, gdf in layers.items():
        parts = []
        for k in range(n):
            ox, oy = (k % cols) * dx, (k // cols) * dy
            part = gdf.copy()
            part["source_id"] = part["source_id"].astype(str) + f"#{k}"
            part.geometry = shapely.transform(part.geometry.values, lambda c, ox=ox, oy=oy: c + (ox, oy))
            if "centerline" in part:
                part["centerline"] = gpd.GeoSeries(
                    shapely.transform(part["centerline"].values, lambda c, ox=ox, oy=oy: c + (ox, oy)), crs=4326)
            parts.append(part)
        out[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)
    return out


def build_city(engine, tiles: int, label: str = "load") -> dict:
    """Nanjing tiled `tiles` times: layers stored, grid and zones built; row counts and build time."""
    import time

    from sqlalchemy import text

    from gridsvc.city.grid import build_grid
    from gridsvc.city.ingest import store_layers
    from gridsvc.zones.build import build_zones

    t = time.perf_counter()
    layers = tile(nanjing_layers(), tiles)
    store_layers(engine, layers, f"{label}-{tiles}x")
    build_grid(engine, 10, "320102", max_cells=5_000_000)
    report = build_zones(engine, "三包")
    rows = {k: len(v) for k, v in layers.items()}
    with engine.connect() as c:
        rows["grid_cells"] = c.execute(text("SELECT count(*) FROM grid_cells")).scalar_one()
        rows["zones"] = c.execute(text("SELECT count(*) FROM zones WHERE valid_to IS NULL")).scalar_one()
    return {"rows": rows, "zone_counts": report.counts, "build_s": round(time.perf_counter() - t, 1)}
