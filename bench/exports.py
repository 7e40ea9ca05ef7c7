"""Field-team exports at scale: `python -m bench.exports [--tiles 70]` prints JSON.

With Nanjing tiled N times and 三包 zones built: the walk-through pack of one grid (median of 3), and the size
and build time of that grid's offline map and of the district-wide one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import store_layers
from gridsvc.exporters.offline_map import write_offline_map
from gridsvc.exporters.pack import build_pack
from gridsvc.exporters.scope import resolve_scope
from gridsvc.zones.build import build_zones

from .run import REPEATS, fresh_engine, peak_rss_mb
from .tiling import nanjing_layers, tile

# The grids with the most units holding a frontage zone (the heaviest packs), with their units' names.
BUSIEST_GRIDS = """
SELECT g.code, string_agg(DISTINCT u.name, '|') AS names FROM grid_cells g
JOIN feature_cells fc ON fc.h3 = g.h3 AND fc.layer = 'units'
JOIN units u ON u.id = fc.feature_id
JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage'
GROUP BY g.code ORDER BY count(DISTINCT u.id) DESC, g.code LIMIT 200
"""


def busiest_grids(conn, n: int) -> list[str]:
    """n of the busiest grids with different unit names (tiles repeat names; new text makes new font subsets)."""
    seen, out = set(), []
    for code, names in conn.execute(text(BUSIEST_GRIDS)).all():
        if names not in seen:
            seen.add(names)
            out.append(code)
    return out[:n]


def bench_exports(engine: Engine, repeats: int = REPEATS) -> dict:
    """Pack time (three of the busiest grids, each once, PDF fonts subset anew) and the maps' sizes and times."""
    out: dict = {}
    with engine.connect() as conn, tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        grids = busiest_grids(conn, repeats)
        runs = []
        for i, grid in enumerate(grids):
            t = time.perf_counter()
            report = build_pack(conn, grid, Path(tmp) / f"pack-{i}")
            runs.append(time.perf_counter() - t)
            out.setdefault("pack_units", []).append(report.units)
        out["pack_grids"] = grids
        out["pack_s"] = {"median_s": round(statistics.median(runs), 3), "runs_s": [round(r, 3) for r in runs]}
        for name, scope in (("grid_map", resolve_scope(conn, grid=grids[0])), ("district_map", resolve_scope(conn))):
            t = time.perf_counter()
            path = write_offline_map(conn, scope, Path(tmp) / f"{name}.html")
            out[name] = {"bytes": path.stat().st_size, "build_s": round(time.perf_counter() - t, 3),
                         "zoom": scope.zoom, "overview": scope.overview}
    return out


def main() -> None:
    """Build the tiled database, measure, print JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70)
    args = ap.parse_args()
    layers = tile(nanjing_layers(), args.tiles)
    out: dict = {"tiles": args.tiles, "rows": {k: len(v) for k, v in layers.items()}}
    cluster, name, engine = fresh_engine()
    try:
        store_layers(engine, layers, f"bench-{args.tiles}x")
        build_grid(engine, 10, "320102", max_cells=5_000_000)
        out["zones"] = build_zones(engine, "三包").counts
        out.update(bench_exports(engine))
        out["peak_rss_mb"] = peak_rss_mb()
    finally:
        engine.dispose()
        cluster.drop_database(name)
    print(json.dumps(out, ensure_ascii=False), file=sys.stdout)


if __name__ == "__main__":
    main()
