"""Zone build, lookup and batch lookup at one scale: `python -m bench.zones --tiles N` prints JSON.

Run once per size in its own process so peak memory belongs to that size alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
from sqlalchemy import text

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import store_layers
from gridsvc.zones.build import build_zones
from gridsvc.zones.lookup import lookup, lookup_batch
from gridsvc.zones.policies import load_policy

from .run import fresh_engine, release_db
from .tiling import nanjing_layers, tile

LOOKUPS = 2000


def rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def median_ms(samples: list[float]) -> dict:
    """Median, p95 and count of latencies given in seconds."""
    a = np.array(samples) * 1000
    return {"median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "n": len(samples)}


def link_buildings(units, buildings):
    """Each unit's building: the one containing it, else the nearest within 10 m (as ingest does in SQL)."""
    import geopandas as gpd
    import pandas as pd

    from gridsvc.geo.crs import local_metric_crs

    metric = local_metric_crs(units)
    hit = gpd.sjoin_nearest(units[["geometry"]].to_crs(metric), buildings[["id", "geometry"]].to_crs(metric),
                            how="left", max_distance=10.0)
    hit = hit[~hit.index.duplicated()]
    return pd.array(hit["id"].reindex(units.index), dtype="Int64")


def sample_points(engine, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """n random points inside current zones (and so inside the managed area)."""
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones WHERE valid_to IS NULL "
            "ORDER BY md5(id::text || :s) LIMIT :n) s"), {"n": n, "s": str(seed)}).all()
    return [(float(x), float(y)) for x, y in rows]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Wait for GET /health to answer 200 (or the server to die)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"uvicorn exited with {proc.returncode}")
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise SystemExit("uvicorn did not become healthy")


@contextmanager
def serve_api(db_url: str, *, workers: int = 1, log=None, rate_limited: bool = False) -> Iterator[tuple[str, int]]:
    """uvicorn serving gridsvc on db_url at 127.0.0.1 (a free port) until the block ends: (base URL, server pid).

    The anonymous rate limit and batch cap protect a public server; a benchmark of one client measures the service
    itself, so they are lifted unless rate_limited (clients with tokens are not limited anyway).
    """
    port = free_port()
    env = dict(os.environ, GRIDSVC_DATABASE_URL=db_url)
    if not rate_limited:
        env |= {"GRIDSVC_PUBLIC_RATE_PER_S": "100000", "GRIDSVC_PUBLIC_BURST": "100000",
                "GRIDSVC_PUBLIC_TOTAL_RATE_PER_S": "100000", "GRIDSVC_PUBLIC_MAX_POINTS": "10000"}
    argv = [sys.executable, "-m", "uvicorn", "gridsvc.api.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning"]
    if workers > 1:
        argv += ["--workers", str(workers), "--no-access-log"]
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def http_lookups(url: str, points: list[tuple[float, float]]) -> dict:
    """Sequential GET /lookup over loopback against a uvicorn server (bounded count)."""
    with serve_api(url) as (base, _):
        with httpx.Client(base_url=base, timeout=10) as client:
            for x, y in points[:50]:  # warm up
                client.get("/lookup", params={"lng": x, "lat": y})
            samples, errors = [], 0
            for x, y in points:
                t = time.perf_counter()
                r = client.get("/lookup", params={"lng": x, "lat": y})
                samples.append(time.perf_counter() - t)
                errors += r.status_code != 200
            batch = [[x, y] for x, y in (points * (10_000 // len(points) + 1))[:10_000]]
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                r = client.post("/lookup", json={"points": batch})
                runs.append(time.perf_counter() - t)
                errors += r.status_code != 200
        return {"single": median_ms(samples), "batch_10k_s": round(statistics.median(runs), 3), "errors": errors}


def main() -> None:
    """Measure one size and print its JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=1)
    ap.add_argument("--policy", default="三包")
    ap.add_argument("--keep-db", action="store_true", help="leave the benchmark database for profiling")
    args = ap.parse_args()
    out: dict = {"tiles": args.tiles}
    layers = tile(nanjing_layers(), args.tiles)
    out["rows"] = {k: len(v) for k, v in layers.items()}

    from gridsvc.geo.frontage import build_frontage_zones
    streets = layers["streets"].reset_index(drop=True).assign(id=lambda d: d.index + 1)
    buildings = layers["buildings"].reset_index(drop=True).assign(id=lambda d: d.index + 1)
    units = layers["units"].reset_index(drop=True).assign(id=lambda d: d.index + 1)
    units["building_id"] = link_buildings(units, buildings)
    policy = load_policy(args.policy)
    t = time.perf_counter()
    core = build_frontage_zones(streets, buildings, units, policy)
    out["core_build_s"] = round(time.perf_counter() - t, 3)
    out["core_zones"] = len(core.zones)
    out["core_peak_rss_mb"] = rss_mb()
    del core

    cluster, name, engine = fresh_engine()
    try:
        t = time.perf_counter()
        store_layers(engine, layers, f"bench-{args.tiles}x")
        out["store_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        build_grid(engine, 10, "320102", max_cells=5_000_000)
        out["grid_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        report = build_zones(engine, args.policy)
        out["zone_build_s"] = round(time.perf_counter() - t, 3)
        out["zones"] = report.counts
        t = time.perf_counter()
        again = build_zones(engine, args.policy)
        out["zone_rebuild_unchanged_s"] = round(time.perf_counter() - t, 3)
        out["rebuild_opened_closed"] = [again.opened, again.closed]
        points = sample_points(engine, LOOKUPS)
        with engine.connect() as c:
            for x, y in points[:50]:
                lookup(c, x, y)
            samples = []
            for x, y in points:
                t = time.perf_counter()
                lookup(c, x, y)
                samples.append(time.perf_counter() - t)
            out["lookup_in_process"] = median_ms(samples)
            batch = (points * (10_000 // len(points) + 1))[:10_000]
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                lookup_batch(c, batch)
                runs.append(time.perf_counter() - t)
            out["batch_10k_in_process_s"] = round(statistics.median(runs), 3)
        out["http"] = http_lookups(engine.url.render_as_string(hide_password=False), points[:1000])
        out["peak_rss_mb"] = rss_mb()
    finally:
        release_db(engine, cluster, name, args.keep_db)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
