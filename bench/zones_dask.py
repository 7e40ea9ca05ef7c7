"""The zone build on dask against the single-process build, and against the simplest geopandas approach.

    python -m bench.zones_dask --tiles 700,2000 --workers 2            # writes bench/results/zones_dask.json
    python -m bench.zones_dask --tiles 70 --workers 2 --peers          # also the peer; merged into peers.json

Each (size, way) runs in its own process, one after another, so its peak memory is its own: `single` (the pure
core in this process, gridsvc.zones.build.LocalCompute), `dask` (a LocalCluster of N one-thread workers,
gridsvc.zones.distributed.DaskCompute: time, the client's peak and each worker's peak resident memory, sampled with
psutil) and `peer` (per-unit buffer of the policy's depth, clipped by buildings and by the units before it, in
geopandas). Both builds write their zone table to a scratch file; the parent compares them zone for zone
(gridsvc.geo.zone_validation.zone_differences). Times are the computation from the city's layers to the zone
table as stored; loading it into PostGIS (one transaction) is the same step in both ways and is not included.
Every run is watched (`child`): it is stopped, and the report says at what memory, after how long and in which
step, if its processes together pass WATCH_LIMIT_MB or the machine's available memory falls under WATCH_RESERVE_MB
(the machine is shared), so a build too big for the machine is measured as far as it gets rather than skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np

from .run import RESULTS
from .tiling import nanjing_layers, tile
from .zones import link_buildings

WATCH_LIMIT_MB = 20 * 1024  # a run is stopped past this resident memory (its processes together) ...
WATCH_RESERVE_MB = 2 * 1024  # ... or when the machine's available memory falls under this


def city(n: int):
    """Nanjing ×n as the zone build reads it: ids, units linked to their buildings, no planner zones."""
    layers = {k: v.reset_index(drop=True).assign(id=lambda d: d.index + 1) for k, v in tile(nanjing_layers(), n).items()}
    layers["units"]["building_id"] = link_buildings(layers["units"], layers["buildings"])
    planner = gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return layers, planner


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Sampler(threading.Thread):
    """Peak resident memory of some processes, sampled every `every` seconds."""

    def __init__(self, pids: dict[str, int], every: float = 0.2):
        super().__init__(daemon=True)
        import psutil

        self.procs = {k: psutil.Process(p) for k, p in pids.items()}
        self.peak = dict.fromkeys(pids, 0)
        self.every, self.stop = every, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for k, p in self.procs.items():
                try:
                    self.peak[k] = max(self.peak[k], p.memory_info().rss)
                except Exception:  # noqa: BLE001 - a worker restarted or gone: keep what was seen
                    pass
            self.stop.wait(self.every)


class Steps:
    """The step a run is in, announced on stderr for the watchdog (`child`), and this process's resident memory
    at each progress tick of each step (the dask client's memory by step)."""

    def __init__(self):
        import psutil

        self.me, self.label, self.rss_mb = psutil.Process(), None, {}

    def __call__(self, label: str, done: int = 0, total: int = 0) -> None:
        if label != self.label:
            self.label = label
            print(f"step: {label}", file=sys.stderr, flush=True)
        self.rss_mb[label] = max(self.rss_mb.get(label, 0), round(self.me.memory_info().rss / 2**20, 1))


def run_one(n: int, way: str, workers: int, out: str | None) -> dict:
    """One build of Nanjing ×n, the given way; the zone table to `out` (GeoParquet) for the comparison."""
    from gridsvc.zones.build import LocalCompute, zone_table
    from gridsvc.zones.policies import load_policy

    class SteppedLocal(LocalCompute):
        def frontage_and_areas(self, *a):
            steps("frontage, street space and area zones")
            return super().frontage_and_areas(*a)

        def resolve(self, *a):
            steps("priority and edge matching")
            return super().resolve(*a)

    steps = Steps()
    steps("city")
    layers, planner = city(n)
    policy = load_policy("三包")
    result: dict = {"tiles": n, "way": way, "units": len(layers["units"])}
    args = (layers["streets"], layers["buildings"], layers["units"], layers["compounds"], layers["markets"], planner,
            policy, {})
    result["client_rss_before_mb"] = peak_mb()
    if way == "peer":
        t = time.perf_counter()
        zones = buffer_and_clip(layers["units"], layers["buildings"], policy.max_depth_m)
        result["build_s"] = round(time.perf_counter() - t, 2)
        result["zones"] = int((~zones.is_empty).sum())
    elif way == "single":
        t = time.perf_counter()
        zones, _ = zone_table(SteppedLocal(), *args)
        result["build_s"] = round(time.perf_counter() - t, 2)
    else:
        from gridsvc.zones.distributed import DaskCompute, dask_client

        t0 = time.perf_counter()
        with dask_client(workers=workers) as client:
            result["cluster_start_s"] = round(time.perf_counter() - t0, 2)
            pids = client.run(os.getpid)
            sampler = Sampler({f"worker{i}": p for i, p in enumerate(pids.values())} | {"client": os.getpid()})
            sampler.start()
            compute = DaskCompute(client, steps)
            t = time.perf_counter()
            zones, _ = zone_table(compute, *args)
            result["build_s"] = round(time.perf_counter() - t, 2)
            sampler.stop.set()
            sampler.join()
        result["caps"], result["partitions"] = compute.caps, compute.partitions
        result["largest_partition"], result["resolutions"] = compute.largest, compute.resolutions
        result["worker_peak_rss_mb"] = {k: round(v / 2**20, 1) for k, v in sampler.peak.items() if k != "client"}
        result["client_rss_by_step_mb"] = steps.rss_mb
    result["peak_rss_mb"] = peak_mb()
    if way != "peer":
        result["zones"] = len(zones)
        if out:
            zones.assign(props=zones["props"].map(lambda p: json.dumps(p, ensure_ascii=False)))[
                ["zone_key", "party_id", "props", "geometry"]].to_parquet(out)
    return result


def buffer_and_clip(units: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, depth: float) -> gpd.GeoSeries:
    """The simplest geopandas zone build: each unit's point buffered by the frontage depth, minus the buildings,
    minus the zones of the units before it (first come, first served): no streets, façades or neighbours' shares."""
    from gridsvc.geo.crs import local_metric_crs

    metric = local_metric_crs(units)
    pts = units.geometry.to_crs(metric)
    zones = gpd.GeoDataFrame({"unit": np.arange(len(units))}, geometry=pts.representative_point().buffer(depth),
                             crs=metric)
    zones = zones.overlay(buildings[["geometry"]].to_crs(metric), how="difference")
    pairs = zones.sjoin(zones, predicate="intersects")
    pairs = pairs[pairs["unit_right"] < pairs["unit_left"]]
    earlier = gpd.GeoSeries(zones.geometry.values[pairs["index_right"].to_numpy()], index=pairs.index, crs=metric)
    cut = earlier.groupby(level=0).agg(lambda g: g.union_all())
    zones.loc[cut.index, "geometry"] = zones.geometry.loc[cut.index].difference(gpd.GeoSeries(cut, crs=metric))
    return zones.geometry


def child(n: int, way: str, workers: int, out: str | None, timeout_s: float = 4 * 3600) -> dict:
    """run_one in a fresh process (its own peak memory), watched: stopped (with its workers) if its processes
    together pass min(WATCH_LIMIT_MB, available at the start - WATCH_RESERVE_MB) or the machine's available memory
    falls under WATCH_RESERVE_MB; then the report says at what memory, after how long and in which step."""
    import psutil

    argv = [sys.executable, "-m", "bench.zones_dask", "--one", way, "--tiles", str(n), "--workers", str(workers)]
    if out:
        argv += ["--out", out]
    limit = min(WATCH_LIMIT_MB, free_mb() - WATCH_RESERVE_MB)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    err: list[str] = []
    step = ["starting"]

    def read_err() -> None:
        for line in proc.stderr:
            if line.startswith("step: "):
                step[0] = line[6:].strip()
            err.append(line)
            del err[:-40]

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    me, peak, stopped = psutil.Process(proc.pid), 0.0, None
    while proc.poll() is None:
        rss = 0.0
        try:
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss += p.memory_info().rss / 2**20
                except psutil.Error:  # a process just gone
                    pass
        except psutil.Error:
            pass
        peak = max(peak, rss)
        elapsed = time.perf_counter() - t0
        why = ("its processes passed the limit" if rss > limit else
               "the machine's available memory fell under the reserve" if free_mb() < WATCH_RESERVE_MB else
               "time limit" if elapsed > timeout_s else None)
        if why:
            stopped = {"stopped": f"stopped at {rss / 1024:.1f} GB after {elapsed:.0f} s in step {step[0]!r}: {why}",
                       "rss_at_stop_mb": round(rss, 1), "after_s": round(elapsed, 1), "step": step[0]}
            os.killpg(proc.pid, 9)  # the run's own session: its dask workers too
            break
        time.sleep(0.5)
    proc.wait()
    out_text = proc.stdout.read()
    reader.join(5)
    watch = {"watch_limit_mb": round(limit), "watch_reserve_mb": WATCH_RESERVE_MB, "watched_peak_mb": round(peak, 1)}
    if stopped:
        return {"tiles": n, "way": way, **stopped, **watch}
    if proc.returncode != 0:
        return {"tiles": n, "way": way, "error": "".join(err)[-2000:], **watch}
    return json.loads(out_text.strip().splitlines()[-1]) | watch


def free_mb() -> float:
    import psutil

    return psutil.virtual_memory().available / 2**20


def compare(a: str, b: str) -> dict:
    from gridsvc.geo.zone_validation import zone_differences

    za, zb = gpd.read_parquet(a), gpd.read_parquet(b)
    return zone_differences(za, zb)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", default="700,2000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--one", choices=("single", "dask", "peer"))
    ap.add_argument("--out")
    ap.add_argument("--peers", action="store_true", help="also time the geopandas peer; merged into peers.json")
    ap.add_argument("--no-single", default="", help="sizes (comma-separated) to build distributed only")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.tiles), args.one, args.workers, args.out), ensure_ascii=False))
        return
    import psutil

    sizes = [int(s) for s in args.tiles.split(",")]
    skip = {int(s) for s in args.no_single.split(",") if s}
    report: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "workers": args.workers,
                    "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "available_gb_at_start": round(free_mb() / 1024, 1), "sizes": {}}
    peers: dict = {}
    name = "zones_dask.json" if sizes != [70] else "zones_dask_70x.json"
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            row: dict = {}
            d_out, s_out = str(Path(tmp) / f"dask{n}.parquet"), str(Path(tmp) / f"single{n}.parquet")
            row["dask"] = child(n, "dask", args.workers, d_out)
            print(f"{n}x dask: {json.dumps(row['dask'])}", file=sys.stderr, flush=True)
            if n in skip:
                row["single"] = {"skipped": "--no-single"}
            else:
                row["single"] = child(n, "single", args.workers, s_out)
                print(f"{n}x single: {json.dumps(row['single'])}", file=sys.stderr, flush=True)
                if "build_s" in row["single"] and "build_s" in row["dask"]:
                    row["same_zones"] = compare(s_out, d_out)
                    d, s = row["dask"], row["single"]
                    row["ratios"] = {"time_dask_vs_single": round(d["build_s"] / s["build_s"], 2),
                                     "worker_peak_vs_single_peak": round(
                                         max(d["worker_peak_rss_mb"].values()) / s["peak_rss_mb"], 3),
                                     "client_peak_vs_single_peak": round(d["peak_rss_mb"] / s["peak_rss_mb"], 3)}
            if args.peers:
                row["peer"] = child(n, "peer", args.workers, None)
                peers[f"{n}x"] = {"gridsvc_single_s": row["single"].get("build_s"),
                                  **({"gridsvc_single_stopped": row["single"]["stopped"]}
                                     if "stopped" in row["single"] else {}),
                                  "gridsvc_dask_s": row["dask"].get("build_s"),
                                  "geopandas_buffer_clip_s": row["peer"].get("build_s"),
                                  "units": row["dask"].get("units"),
                                  "note": "peer: unit point buffered by max_depth_m, minus buildings, minus the "
                                          "units before it; no streets, façades, kerbs or neighbours' shares"}
            report["sizes"][f"{n}x"] = row
            print(f"{n}x: {json.dumps(row, ensure_ascii=False)[:600]}", file=sys.stderr, flush=True)
            write(name, report | {"finished": False})  # each size as it is done: a run cut short keeps them
    write(name, report | {"finished": datetime.now(UTC).isoformat(timespec="seconds")})
    if peers:
        merge_peers({"zone_build": peers})
    print(json.dumps(report, ensure_ascii=False))


def write(name: str, report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(report, indent=2, ensure_ascii=False))


def merge_peers(keys: dict) -> None:
    """Read-modify-write bench/results/peers.json: other benchmarks write their own keys into it."""
    path = RESULTS / "peers.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    for k, v in keys.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
