"""Run the benchmarks side by side in one process and write bench/results/<name>.json."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import store_layers
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine
from gridsvc.pg.cluster import LocalCluster
from gridsvc.settings import get_settings

from .tiling import NANJING, nanjing_layers, tile

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 3


def timed(fn, repeats: int = REPEATS) -> dict:
    """Median and all runs of fn(), in seconds."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(runs), 4), "runs_s": [round(r, 4) for r in runs]}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def fresh_engine():
    """An engine on a new, migrated benchmark database."""
    s = get_settings()
    name = f"gridsvc_bench_{uuid.uuid4().hex[:6]}"
    if s.database_url:
        raise SystemExit("benchmarks run on the local cluster; unset GRIDSVC_DATABASE_URL")
    cluster = LocalCluster(s.cluster_dir)
    cluster.up()
    cluster.ensure_database(name)
    engine = make_engine(cluster.url(name), s)
    migrate.upgrade(engine)
    return cluster, name, engine


def release_db(engine, cluster, name: str, keep: bool) -> None:
    """Dispose of a benchmark's engine and drop its database (fresh_engine), or keep it and say so (--keep-db)."""
    engine.dispose()
    if keep:
        print(f"kept database {name}", file=sys.stderr)
    else:
        cluster.drop_database(name)


def bench_ingest_and_grid(engine, layers, label: str) -> dict:
    """Store the layers (first insert, then an unchanged re-import) and build the grid."""
    out = {"rows": {k: len(v) for k, v in layers.items()}}
    with engine.begin() as c:
        c.execute(text("TRUNCATE feature_cells, units, grid_cells, streets, buildings, compounds, markets, "
                       "admin_units, imports RESTART IDENTITY CASCADE"))
    t = time.perf_counter()
    store_layers(engine, layers, f"bench-{label}")
    out["store_first_s"] = round(time.perf_counter() - t, 3)
    out["store_reimport"] = timed(lambda: store_layers(engine, layers, f"bench-{label}"))
    out["build_grid"] = timed(lambda: build_grid(engine, 10, "320102"), repeats=1 if label != "1x" else REPEATS)
    with engine.connect() as c:
        out["cells"] = c.execute(text("SELECT count(*) FROM grid_cells")).scalar()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def zone_benchmarks(sizes: tuple[int, ...]) -> dict:
    """bench.zones at each size, each in its own process; growth ratios against the smallest."""
    import subprocess

    results = {}
    for n in sizes:
        proc = subprocess.run([sys.executable, "-m", "bench.zones", "--tiles", str(n)], capture_output=True,
                              text=True, timeout=3600)
        if proc.returncode != 0:
            results[f"{n}x"] = {"error": proc.stderr[-2000:]}
            continue
        results[f"{n}x"] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"zones {n}x: {proc.stdout.strip().splitlines()[-1]}", flush=True)
    base = results.get(f"{sizes[0]}x", {})
    for r in results.values():
        if "core_build_s" in r and "core_build_s" in base:
            units = r["rows"]["units"] / base["rows"]["units"]
            r["growth_vs_1x"] = {"units": round(units, 1),
                                 "core_build": round(r["core_build_s"] / base["core_build_s"], 1),
                                 "zone_build": round(r["zone_build_s"] / base["zone_build_s"], 1)}
    return results


def module_benchmark(module: str, out_name: str, *args: str) -> dict:
    """`python -m bench.<module> ARGS` in its own process; its last stdout line (JSON) goes to results/<out_name>."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", f"bench.{module}", *args], capture_output=True, text=True,
                          timeout=3600)
    result = ({"error": proc.stderr[-2000:]} if proc.returncode != 0 else
              json.loads(proc.stdout.strip().splitlines()[-1]))
    result = {"started": datetime.now(UTC).isoformat(timespec="seconds"), **result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / out_name).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"{module}: {json.dumps(result, ensure_ascii=False)[:400]}", flush=True)
    return result


def script_benchmark(module: str, *args: str) -> None:
    """`python -m bench.<module> ARGS` in its own process, which writes its own results file."""
    import subprocess

    if subprocess.run([sys.executable, "-m", f"bench.{module}", *args], timeout=7200).returncode:
        print(f"{module}: failed", flush=True)


def ingest_benchmarks() -> dict:
    """Ingest (first store, unchanged re-import) and grid build at 1× and 70×, into results/ingest_grid.json."""
    if not NANJING.exists():
        raise SystemExit(f"benchmarks need {NANJING} (../shared/geodata)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    cluster, name, engine = fresh_engine()
    base = nanjing_layers()
    result = {"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                          "cpus": __import__("os").cpu_count()},
              "started": datetime.now(UTC).isoformat(timespec="seconds"), "ingest_grid": {}}
    try:
        for n in (1, 70):
            layers = tile(base, n)
            result["ingest_grid"][f"{n}x"] = bench_ingest_and_grid(engine, layers, f"{n}x")
            print(f"ingest/grid {n}x: {json.dumps(result['ingest_grid'][f'{n}x'])}", flush=True)
    finally:
        engine.dispose()
        cluster.drop_database(name)
    out = RESULTS / "ingest_grid.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {out}")
    return result


def main() -> None:
    """Run every benchmark and write the results."""
    import os

    sizes = tuple(int(s) for s in os.environ.get("GRIDSVC_BENCH_SIZES", "1,70,700").split(","))
    zones = zone_benchmarks(sizes)
    (RESULTS / "zones.json").parent.mkdir(parents=True, exist_ok=True)
    (RESULTS / "zones.json").write_text(json.dumps(zones, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS / 'zones.json'}")
    ingest_benchmarks()
    module_benchmark("exports", "exports.json", "--tiles", "70")  # C: pack for one grid, map sizes
    module_benchmark("workspace", "workspace.json", "--tiles", "70")  # C: page interactive, tile latency
    module_benchmark("ops", "ops.json", "--tiles", "70")  # G: a year of cases, my grid's open cases, the tick
    module_benchmark("grid_cover", "grid_cover.json", "--tiles", "70")  # I4: the grid's H3 cover in processes
    script_benchmark("ingest_stream")  # I4: streaming PBF ingest, peak RSS against pyrosm (ingest_stream.json)
    script_benchmark("peers_tile", "--tiles", "70")  # I5: a tile against plain ST_AsMVT (peers.json "tile")
    module_benchmark("lookup_fast", "lookup_fast.json", "--tiles", "70")  # I1: index vs GiST/MapIt, HTTP vs /docs
    module_benchmark("zones_dask", "zones_dask.json", "--tiles", "700,2000", "--peers")  # I.3: dask build, peer


if __name__ == "__main__":
    main()
