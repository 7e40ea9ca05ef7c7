"""The planner's workspace at scale: `python -m bench.workspace [--tiles 70]` prints JSON.

- time to interactive: headless Chromium (Debian's), a fresh browser context per run (cold cache), from
  navigation start to `window.gridsvcReady` (the first layers drawn), at the first view (district zoom) and at a
  detail view (zoom 17, GeoJSON of the viewport); targets < 2 s.
- vector tile latency: many tile requests at district zooms (12-15) over HTTP to a local uvicorn, one after the
  other: the workspace's own request (every layer in one tile) and each layer alone; target median < 50 ms.

The database is Nanjing tiled `--tiles` times (bench/tiling.py) with its grid and 三包 zones, made fresh and
dropped afterwards (`--keep-db` keeps it).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import httpx
import numpy as np

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import store_layers
from gridsvc.db.layers import LAYERS
from gridsvc.geo.basemap_shift import tile_of
from gridsvc.zones.build import build_zones

from .run import fresh_engine, release_db
from .tiling import nanjing_layers, tile
from .zones import serve_api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
# What the workspace asks for below the detail zoom: every layer of the tile stack, in drawing order
WORKSPACE_LAYERS = "admin_units,cells,compounds,markets,streets,buildings,zones,units"
DISTRICT_ZOOMS = (12, 13, 14, 15)


def stats_ms(samples: list[float]) -> dict:
    """Median, p95, max and count of durations given in seconds."""
    a = np.array(samples) * 1000
    return {"median_ms": round(float(np.median(a)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
            "max_ms": round(float(a.max()), 2), "n": len(samples)}


def build(n: int):
    """A fresh database holding Nanjing tiled n times, gridded, with 三包 zones."""
    out: dict = {}
    layers = tile(nanjing_layers(), n)
    out["rows"] = {k: len(v) for k, v in layers.items()}
    cluster, name, engine = fresh_engine()
    t = time.perf_counter()
    store_layers(engine, layers, f"bench-{n}x")
    build_grid(engine, 10, "320102", max_cells=5_000_000)
    report = build_zones(engine, "三包")
    out["zones"] = report.counts
    out["build_s"] = round(time.perf_counter() - t, 1)
    return cluster, name, engine, out


def tile_latency(base: str, extent: tuple[float, float, float, float], per_zoom: int, seed: int = 3) -> dict:
    """Sequential tile requests over keep-alive HTTP at district zooms, tiles drawn at random over the data."""
    rng = random.Random(seed)
    minx, miny, maxx, maxy = extent
    out: dict = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for z in DISTRICT_ZOOMS:
            x0, y0 = tile_of(minx, maxy, z)
            x1, y1 = tile_of(maxx, miny, z)
            addrs = [(rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(per_zoom)]
            for x, y in addrs[:10]:  # warm-up: connections, plans
                client.get(f"/tiles/{WORKSPACE_LAYERS}/{z}/{x}/{y}.pbf")
            combined, sizes, empty = [], [], 0
            for x, y in addrs:
                t = time.perf_counter()
                r = client.get(f"/tiles/{WORKSPACE_LAYERS}/{z}/{x}/{y}.pbf")
                combined.append(time.perf_counter() - t)
                r.raise_for_status()
                sizes.append(len(r.content))
                empty += r.status_code == 204
            layers = {}
            for name in LAYERS:
                samples = []
                for x, y in addrs[: max(20, per_zoom // 4)]:
                    t = time.perf_counter()
                    client.get(f"/tiles/{name}/{z}/{x}/{y}.pbf").raise_for_status()
                    samples.append(time.perf_counter() - t)
                layers[name] = stats_ms(samples)["median_ms"]
            out[f"z{z}"] = {"all_layers": stats_ms(combined), "median_bytes": int(statistics.median(sizes)),
                            "max_bytes": max(sizes), "empty": empty, "per_layer_median_ms": layers}
    every = [v["all_layers"]["median_ms"] for v in out.values()]
    out["median_of_zoom_medians_ms"] = round(statistics.median(every), 2)
    return out


def time_to_interactive(base: str, views: dict[str, str], runs: int) -> dict:
    """Navigation start to window.gridsvcReady in headless Chromium, a fresh (cold) context per run."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for label, fragment in views.items():
                samples, infos, errors = [], [], []
                for _ in range(runs):
                    ctx = browser.new_context(viewport={"width": 1400, "height": 860}, bypass_csp=True)
                    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
                    page = ctx.new_page()
                    page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                    page.goto(f"{base}/{fragment}")
                    info = page.evaluate("window.gridsvcReady")
                    ctx.close()
                    if not info.get("ok"):
                        raise SystemExit(f"the workspace did not start: {info}")
                    samples.append(info["ms"] / 1000)
                    infos.append(info)
                last = infos[-1]
                out[label] = {**stats_ms(samples), "runs_ms": [round(s * 1000) for s in samples],
                              "zoom": last["zoom"], "tiles_requested": last["stats"]["tilesRequested"],
                              "features_drawn": last["stats"]["layersDrawn"], "console_errors": errors[:5]}
        finally:
            browser.close()
    return out


def measure(engine, base: str, args, result: dict) -> None:
    """Time to interactive and tile latency against the server at base."""
    cfg = httpx.get(f"{base}/workspace/config").json()
    minx, miny, maxx, maxy = cfg["bounds"]
    # a detail view over the centre copy's 新街口 (the densest part of each copy)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    with engine.connect() as c:
        from sqlalchemy import text

        lng, lat = c.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM units WHERE name = '工人影城' "
            "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT 1"), {"x": cx, "y": cy}).one()
    views = {"first_view": "", "district_z15": f"#15/{lat:.6f}/{lng:.6f}", "detail_z17": f"#17/{lat:.6f}/{lng:.6f}"}
    result["time_to_interactive"] = tti = time_to_interactive(base, views, args.runs)
    result["tile_latency"] = lat_ = tile_latency(base, (minx, miny, maxx, maxy), args.tile_requests)
    result["targets"] = {
        "tti_under_2s": all(v["median_ms"] < 2000 for v in tti.values()),
        "tile_median_under_50ms": all(lat_[f"z{z}"]["all_layers"]["median_ms"] < 50 for z in DISTRICT_ZOOMS)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70, help="copies of the Nanjing extract")
    ap.add_argument("--runs", type=int, default=5, help="page loads per view")
    ap.add_argument("--tile-requests", type=int, default=200, help="tile requests per district zoom")
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("needs Chromium at /usr/bin/chromium (apt-get install chromium)")
    result: dict = {"tiles": args.tiles}
    cluster, name, engine, built = build(args.tiles)
    result["data"] = built
    try:
        with serve_api(engine.url.render_as_string(hide_password=False)) as (base, _):
            measure(engine, base, args, result)
    finally:
        release_db(engine, cluster, name, args.keep_db)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
