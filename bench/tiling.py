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
