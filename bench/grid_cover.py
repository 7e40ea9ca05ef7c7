"""The grid build's H3 cover in one process against several: `python -m bench.grid_cover [--tiles 70]` prints JSON.

Nanjing ×N is stored once; then the whole grid build (`build_grid`) and the cover alone (`h3cells.cover_features`
over every indexed layer's geometries) run with workers=1 and workers=W, interleaved, and the stored cells of
both builds are compared. The tables a build rewrites are vacuumed between builds, so that no build pays for
the dead rows of the one before it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time

import geopandas as gpd
import shapely
from sqlalchemy import text

from gridsvc.city.grid import INDEXED_LAYERS, build_grid, cover_workers
from gridsvc.city.ingest import store_layers
from gridsvc.geo import h3cells

from .run import fresh_engine
from .tiling import nanjing_layers, tile


def cells_digest(engine) -> tuple[int, str]:
    """How many feature_cells pairs are stored, and a digest of them with the grid's cells."""
    h = hashlib.sha256()
    with engine.connect() as c:
        pairs = c.execute(text("SELECT layer, feature_id, h3 FROM feature_cells ORDER BY 1, 2, 3")).all()
        cells = c.execute(text("SELECT h3, code FROM grid_cells ORDER BY h3")).all()
    h.update(repr(pairs).encode())
    h.update(repr(cells).encode())
    return len(pairs), h.hexdigest()[:16]


def vacuum(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE grid_cells, feature_cells, admin_units"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    workers = cover_workers()
    out: dict = {"tiles": args.tiles, "workers": workers, "load_avg_before": list(os.getloadavg())}
    layers = tile(nanjing_layers(), args.tiles)
    geoms = gpd.GeoSeries(gpd.pd.concat([layers[k].geometry for k in INDEXED_LAYERS], ignore_index=True), crs=4326)
    out["indexed_features"] = len(geoms)
    out["lines_and_polygons"] = int((shapely.get_type_id(geoms.values) != 0).sum())
    cluster, name, engine = fresh_engine()
    try:
        store_layers(engine, layers, f"bench-{args.tiles}x")
        runs: dict[str, list[float]] = {"build_1": [], f"build_{workers}": [], "cover_1": [], f"cover_{workers}": []}
        digests = {}
        for _ in range(args.rounds):
            for w in (1, workers):
                t = time.perf_counter()
                build_grid(engine, 10, "320102", max_cells=5_000_000, workers=w)
                runs[f"build_{w}"].append(time.perf_counter() - t)
                digests[w] = cells_digest(engine)
                vacuum(engine)  # each build deletes the last one's rows: without this, later builds pay the bloat
                t = time.perf_counter()
                h3cells.cover_features(geoms, 10, workers=w)
                runs[f"cover_{w}"].append(time.perf_counter() - t)
        med = {k: round(statistics.median(v), 3) for k, v in runs.items()}
        out["median_s"] = med
        out["runs_s"] = {k: [round(x, 3) for x in v] for k, v in runs.items()}
        out["speedup"] = {"build_grid": round(med["build_1"] / med[f"build_{workers}"], 2),
                          "cover": round(med["cover_1"] / med[f"cover_{workers}"], 2)}
        out["cover_share_of_build_1"] = round(med["cover_1"] / med["build_1"], 2)
        out["feature_cells"] = digests[1][0]
        out["same_cells"] = digests[1] == digests[workers]
        out["load_avg_after"] = list(os.getloadavg())
    finally:
        engine.dispose()
        cluster.drop_database(name)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
