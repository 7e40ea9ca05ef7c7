"""The lookup fast path against its peers, side by side in one run: `python -m bench.lookup_fast --tiles 70`.

On Nanjing tiled N times (a fresh database): the in-memory index's single lookup with the full answer, against the
raw GiST probe (the zone at a point, nothing else), a MapIt-style probe (ST_Covers over the zones cut by
ST_Subdivide into a side table of this database only) and the SQL lookup with the full answer, interleaved point by
point; the 10,000-point batch from the index and from SQL; the index's load time, memory (resident set growth) and
an incremental reload after one edit; GET /lookup over HTTP against the same server's /docs (uvicorn with 2 workers,
4 client threads on loopback, alternating rounds; and the same with wrk, a C client, when installed). Prints JSON (bench/run.py writes lookup_fast.json) and writes the
peers' figures under "lookup" in bench/results/peers.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

import httpx
from sqlalchemy import text

from gridsvc.people.parties import reassign_zone
from gridsvc.zones.lookup import lookup, lookup_batch
from gridsvc.zones.lookup_index import LookupIndex

from .run import RESULTS, fresh_engine, release_db
from .tiling import build_city
from .zones import median_ms, sample_points, serve_api

GIST = text("SELECT zone_id FROM zones WHERE valid_to IS NULL AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
            "4326)) ORDER BY zone_rank(kind) LIMIT 1")
MAPIT = text("SELECT zone_id FROM bench_zones_subdivided WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
             "4326)) ORDER BY zone_rank(kind) LIMIT 1")
SUBDIVIDE = ("CREATE TABLE bench_zones_subdivided AS SELECT zone_id, kind, ST_Subdivide(geom, 64) AS geom FROM zones "
             "WHERE valid_to IS NULL; CREATE INDEX ON bench_zones_subdivided USING gist (geom); "
             "ANALYZE bench_zones_subdivided")
CLIENT_THREADS = 4


def rss_now_mb() -> float:
    """Current resident memory of this process, MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def singles(engine, idx: LookupIndex, points) -> dict:
    """Each way of answering, the same points, interleaved (the order rotates per point)."""
    ways = {"gist_probe": None, "mapit_subdivided": None, "sql_full": None, "index_full": None}
    samples = {k: [] for k in ways}
    with engine.connect() as c:
        def run(way, x, y):
            if way == "gist_probe":
                c.execute(GIST, {"x": x, "y": y}).scalar()
            elif way == "mapit_subdivided":
                c.execute(MAPIT, {"x": x, "y": y}).scalar()
            elif way == "sql_full":
                lookup(c, x, y)
            else:
                assert idx.lookup(x, y) is not None

        names = list(ways)
        for x, y in points[:100]:  # warm up
            for way in names:
                run(way, x, y)
        for k, (x, y) in enumerate(points):
            for way in names[k % 4:] + names[:k % 4]:
                t = time.perf_counter()
                run(way, x, y)
                samples[way].append(time.perf_counter() - t)
    out = {k: median_ms(v) for k, v in samples.items()}
    med = {k: v["median_ms"] for k, v in out.items()}
    out["ratios"] = {"index_full_vs_gist_probe": round(med["index_full"] / med["gist_probe"], 3),
                     "index_full_vs_mapit": round(med["index_full"] / med["mapit_subdivided"], 3),
                     "sql_full_vs_gist_probe": round(med["sql_full"] / med["gist_probe"], 3),
                     "target_index_vs_gist_max": 0.5}
    return out


def batches(engine, idx: LookupIndex, points) -> dict:
    """10,000 points from the index and from SQL, alternating."""
    batch = (points * (10_000 // len(points) + 1))[:10_000]
    runs = {"index_s": [], "sql_s": []}
    with engine.connect() as c:
        for _ in range(5):
            t = time.perf_counter()
            assert idx.lookup_batch(batch) is not None
            runs["index_s"].append(time.perf_counter() - t)
            t = time.perf_counter()
            lookup_batch(c, batch)
            runs["sql_s"].append(time.perf_counter() - t)
    med = {k: round(statistics.median(v), 4) for k, v in runs.items()}
    return {"batch_10k_index_s": med["index_s"], "batch_10k_sql_s": med["sql_s"], "target_index_s_max": 0.2,
            "runs": {k: [round(r, 4) for r in v] for k, v in runs.items()}}


def after_an_edit(engine, idx: LookupIndex) -> dict:
    """Give a frontage zone to another party; time until the index answers with it (incremental reload)."""
    with engine.connect() as c:
        x, y = c.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM zones WHERE "
                              "valid_to IS NULL AND kind = 'frontage' ORDER BY id LIMIT 1) s")).one()
    before = idx.lookup(x, y)
    with engine.begin() as c:
        other = c.execute(text("SELECT id FROM parties WHERE kind = 'unit' AND name <> :n ORDER BY id LIMIT 1"),
                          {"n": before["primary"]["name"]}).scalar()
        t = time.perf_counter()
        reassign_zone(c, before["zone"]["id"], other)
    fallback = idx.lookup(x, y) is None  # the very next lookup: the index knows it is behind
    while idx.current() is None or idx.lookup(x, y)["primary"]["name"] == before["primary"]["name"]:
        time.sleep(0.001)
    return {"edit_to_index_current_s": round(time.perf_counter() - t, 4), "reload_s": idx.stats["last_reload_s"],
            "next_lookup_fell_back_to_sql": fallback}


def rate(base: str, path: str, params_of, seconds: float) -> float:
    """Requests per second over `seconds` with CLIENT_THREADS closed-loop clients (keep-alive), 200s only."""
    done, errors, stop = [0] * CLIENT_THREADS, [0], threading.Event()

    def client(k):
        with httpx.Client(base_url=base, timeout=10) as cl:
            n = k
            while not stop.is_set():
                r = cl.get(path, params=params_of(n))
                n += CLIENT_THREADS
                if r.status_code == 200:
                    done[k] += 1
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENT_THREADS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join()
    if errors[0]:
        raise SystemExit(f"{errors[0]} failed requests on {path}")
    return sum(done) / (time.perf_counter() - t)


WRK_LUA = """
local pts = {%s}
local n = 0
request = function()
  n = n + 1
  local p = pts[(n %% #pts) + 1]
  if p == nil then return wrk.format("GET", "/docs") end
  return wrk.format("GET", string.format("/lookup?lng=%%.7f&lat=%%.7f", p[1], p[2]))
end
"""


def wrk_rate(base: str, path: str, points, seconds: float) -> float:
    """Requests per second from wrk (one C thread, CLIENT_THREADS connections): a client that costs the 2 cores far
    less than Python threads do, so the server's own limit shows. Any non-2xx answer stops the benchmark."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        pts = ",".join(f"{{{x:.7f},{y:.7f}}}" for x, y in points) if path == "/lookup" else ""
        lua.write(WRK_LUA % pts)
        lua.flush()
        out = subprocess.run(["wrk", "-t1", f"-c{CLIENT_THREADS}", f"-d{seconds:g}s", "-s", lua.name, base + path],
                             capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failed requests on {path}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def http(db_url: str, points, seconds: float, rounds: int) -> dict:
    """GET /lookup against GET /docs on one uvicorn with 2 workers, alternating rounds."""
    with serve_api(db_url, workers=2) as (base, _):
        deadline = time.monotonic() + 300
        with httpx.Client(base_url=base, timeout=10) as cl:  # both workers loaded (a new connection per request)
            while True:
                heads = [cl.get("/lookup", params={"lng": x, "lat": y}, headers={"Connection": "close"}).headers
                         for x, y in points[:40]]
                if {h["X-Gridsvc-Lookup"] for h in heads} == {"index"} and len({h["X-Gridsvc-Worker"]
                                                                             for h in heads}) == 2:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("the workers' lookup indexes did not load")
                time.sleep(0.5)
        def look(n):
            x, y = points[n % len(points)]
            return {"lng": x, "lat": y}

        rps = {"/docs": [], "/lookup": []}
        wrk = {"/docs": [], "/lookup": []} if shutil.which("wrk") else None
        for r in range(rounds):
            order = ["/docs", "/lookup"] if r % 2 == 0 else ["/lookup", "/docs"]
            for path in order:
                rps[path].append(rate(base, path, (lambda n: None) if path == "/docs" else look, seconds))
            for path in order if wrk is not None else ():
                wrk[path].append(wrk_rate(base, path, points, seconds))
    out = summary(rps) | {"setup": f"uvicorn --workers 2, {CLIENT_THREADS} closed-loop client threads (httpx, "
                                   f"keep-alive), loopback, {seconds:g} s per round, alternating"}
    if wrk is not None:
        out["wrk"] = summary(wrk) | {"setup": f"the same server; wrk -t1 -c{CLIENT_THREADS}, {seconds:g} s per round, "
                                              "after each httpx pair"}
    else:
        out["wrk"] = {"skipped": "wrk is not installed (make bench installs it)"}
    return out


def summary(rps: dict[str, list[float]]) -> dict:
    med = {k: round(statistics.median(v), 1) for k, v in rps.items()}
    return {"docs_rps": med["/docs"], "lookup_rps": med["/lookup"],
            "lookup_vs_docs": round(med["/lookup"] / med["/docs"], 3), "target_min": 0.5,
            "rounds": {k: [round(x, 1) for x in v] for k, v in rps.items()}}


def main() -> None:
    """Measure at one size; print JSON and update peers.json."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    cluster, name, engine = fresh_engine()
    out: dict = {"tiles": args.tiles}
    try:
        out["city"] = build_city(engine, args.tiles, "bench")
        with engine.begin() as c:
            for stmt in SUBDIVIDE.split("; "):
                c.execute(text(stmt))
            out["mapit_rows"] = c.execute(text("SELECT count(*) FROM bench_zones_subdivided")).scalar()
        points = sample_points(engine, args.points)
        rss0, t = rss_now_mb(), time.perf_counter()
        idx = LookupIndex(engine).start()
        assert idx.wait_loaded(600)
        out["index"] = {"load_s": round(time.perf_counter() - t, 3), "memory_mb": round(rss_now_mb() - rss0, 1),
                        "zones": len(idx.current().zones), "units": len(idx.current().unit_rows),
                        "cells": len(idx.current().grid)}
        out["single"] = singles(engine, idx, points)
        out["batch"] = batches(engine, idx, points)
        out["index"] |= after_an_edit(engine, idx)
        idx.stop()
        out["http"] = http(engine.url.render_as_string(hide_password=False), points, args.seconds, args.rounds)
    finally:
        release_db(engine, cluster, name, args.keep_db)
    peers_path = RESULTS / "peers.json"
    peers = json.loads(peers_path.read_text()) if peers_path.exists() else {}
    s = out["single"]
    peers["lookup"] = {"tiles": args.tiles, "points": args.points, "gridsvc_index_full_ms": s["index_full"],
                       "gridsvc_sql_full_ms": s["sql_full"], "raw_gist_probe_ms": s["gist_probe"],
                       "mapit_subdivided_covers_ms": s["mapit_subdivided"], "ratios": s["ratios"],
                       "batch_10k": out["batch"], "http": out["http"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    peers_path.write_text(json.dumps(peers, indent=2, ensure_ascii=False))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
