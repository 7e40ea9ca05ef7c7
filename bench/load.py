"""Load test (`make load`): locust, headless, against uvicorn with workers, on Nanjing tiled N times.

    python -m bench.load [--tiles 70] [--seconds 60] [--users 8] [--workers 2] [--keep-db]
    make load LOAD_ARGS="--tiles 1 --seconds 10"            # a smoke run

Builds a fresh database (store, H3 grid, 三包 zones), serves it with `uvicorn --workers W` on 127.0.0.1, runs
bench/locustfile.py for S seconds (requests: 80 % lookups, 15 % tiles and GeoJSON, 5 % zone edits), stops the
server and checks the database: one current version per zone, contiguous and chained versions, every accepted
edit exactly one new version and two audit rows of the load user, no overlap at all (and none new)
(gridsvc.zones.validation). Writes bench/results/load.json and exits non-zero on any request error or failed check.
Everything stays on the loopback interface. Needs the `load` extra (locust, and psutil with it).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import text

try:
    import psutil  # comes with locust
except ImportError:  # pragma: no cover
    raise SystemExit("bench.load needs the load extra: pip install -e '.[load]' (make load does)") from None

from gridsvc.geo.basemap_shift import tile_of
from gridsvc.people.users import create_user, issue_api_token
from gridsvc.zones.validation import validate

from .run import RESULTS, fresh_engine, release_db
from .tiling import NANJING, build_city
from .zones import sample_points, serve_api

build = build_city

HERE = Path(__file__).resolve().parent
PLANNER, READER = "load-planner", "load-inspector"
POOL_SIZE, SHARED_ZONES = 25, 3
CATEGORIES = {"lookup": "lookups", "tile": "reads", "geojson": "reads", "edit": "edits"}


def make_plan(engine, users: int) -> dict:
    """Tokens, lookup points, tile paths, bboxes and zone pools for the locust users."""
    with engine.begin() as c:
        create_user(c, PLANNER, "planner", None)
        create_user(c, READER, "inspector", None)
        tokens = {"planner_token": issue_api_token(c, PLANNER, "load"), "reader_token": issue_api_token(c, READER, "load")}
    points = sample_points(engine, 2000)
    tiles = []
    for i, (x, y) in enumerate(points[:600]):
        z, layer = [(13, "streets"), (14, "streets,buildings,zones"), (15, "zones"), (15, "units")][i % 4]
        tx, ty = tile_of(x, y, z)
        tiles.append([f"tile z{z} {layer}", f"/tiles/{layer}/{z}/{tx}/{ty}.pbf"])
    half = 0.0015  # ~300 m × 330 m around a point
    bboxes = [f"{x - half:.6f},{y - half:.6f},{x + half:.6f},{y + half:.6f}" for x, y in points[:300]]
    with engine.connect() as c:  # zones big enough to shrink a little many times, in a stable random order
        rows = c.execute(text(
            "SELECT zone_id, kind FROM zones WHERE valid_to IS NULL AND (props->>'area_m2')::float > 200 "
            "ORDER BY md5(zone_id::text) LIMIT :n"), {"n": POOL_SIZE * users + SHARED_ZONES}).all()
    zones = [z for z, _ in rows]
    shrinkable = [z for z, kind in rows if kind != "frontage"]  # a shrunk frontage zone would open frontage gaps
    if len(zones) < SHARED_ZONES + users:
        raise SystemExit(f"only {len(zones)} editable zones for {users} users")
    shared, rest = zones[:SHARED_ZONES], zones[SHARED_ZONES:]
    size = min(POOL_SIZE, len(rest) // users)
    pools = [rest[i * size:(i + 1) * size] for i in range(users)]
    return {**tokens, "points": points, "tiles": tiles, "bboxes": bboxes, "pools": pools, "shared": shared,
            "shrinkable": shrinkable}


VALIDATION_KEYS = ("overlaps", "overlap_area_m2", "detached_zones", "frontage_gaps", "units_without_zone")


def validation(conn) -> dict:
    """gridsvc.zones.validation on the current zones: the summary numbers that edits could change, overlap pairs, time."""
    t = time.perf_counter()
    report = validate(conn, limit=100_000)
    summary = report.get("summary", {})
    return {"ok": report.get("ok"), **{k: summary.get(k) for k in VALIDATION_KEYS},
            "overlap_pairs": sorted([int(o["zone_a"]), int(o["zone_b"])] for o in report.get("overlaps", [])),
            "seconds": round(time.perf_counter() - t, 1)}


def db_snapshot(engine, zone_ids: list[int]) -> dict:
    """What the consistency checks compare against: last ids, the edited zones' versions, the validation."""
    with engine.connect() as c:
        return {
            "validation": validation(c),
            "max_zone_row": c.execute(text("SELECT coalesce(max(id), 0) FROM zones")).scalar_one(),
            "max_audit_id": c.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one(),
            "current_zones": c.execute(text("SELECT count(*) FROM zones WHERE valid_to IS NULL")).scalar_one(),
            "versions": dict(c.execute(text("SELECT zone_id, version FROM zones WHERE valid_to IS NULL AND "
                                            "zone_id = ANY(:z)"), {"z": zone_ids}).all()),
        }


def warm_up(url: str, plan: dict) -> None:
    """A few requests of each kind so that both workers have connections and caches before the clock starts."""
    headers = {"Authorization": f"Bearer {plan['reader_token']}"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        for i in range(40):
            x, y = plan["points"][-1 - i]
            client.get("/lookup", params={"lng": x, "lat": y})
            client.get(plan["tiles"][-1 - i][1])
            if i % 4 == 0:
                client.get("/zones", params={"bbox": plan["bboxes"][-1 - i], "limit": 200})
                client.get("/units", params={"bbox": plan["bboxes"][-1 - i], "limit": 200})


def tree_cpu_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) of a process and its children so far."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def percentiles(ms: list[float]) -> dict:
    """p50, p95, p99 and max of response times in ms."""
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1), "p99_ms": round(float(p99), 1),
            "max_ms": round(float(max(ms)), 1)}


def summarise(counts: dict) -> dict:
    """Overall and per-request-name numbers from every response time the locust users recorded."""
    window = counts["window_s"] or 1.0
    per = {}
    for name, ms in sorted(counts["latencies_ms"].items()):
        errors = sum(counts["failures"].get(name, {}).values())
        per[name] = {"count": len(ms), "rps": round(len(ms) / window, 1), **percentiles(ms), "errors": errors}
    every = [v for ms in counts["latencies_ms"].values() for v in ms]
    total = len(every)
    overall = {"count": total, "rps": round(total / window, 1), **percentiles(every),
               "errors": sum(e["errors"] for e in per.values())}
    mix: dict[str, int] = {}
    for name, e in per.items():
        cat = CATEGORIES[name.split()[0].rstrip(":")]
        mix[cat] = mix.get(cat, 0) + e["count"]
    failures = [{"name": name, "error": err, "occurrences": n}
                for name, errs in counts["failures"].items() for err, n in errs.items()]
    return {"overall": overall, "per_type": per, "failures": failures, "window_s": round(window, 1),
            "request_mix_pct": {k: round(100 * v / (total or 1), 1) for k, v in sorted(mix.items())}}


def consistency(engine, before: dict, counts: dict, zone_ids: list[int]) -> dict:
    """The database after the run, checked against what the load users saw."""
    accepted = {int(k): v for k, v in counts["accepted"].items()}
    n_ok = sum(accepted.values())
    with engine.connect() as c:
        q = lambda sql, **p: c.execute(text(sql), p).scalar_one()  # noqa: E731
        dup = q("SELECT count(*) FROM (SELECT zone_id FROM zones WHERE valid_to IS NULL GROUP BY zone_id "
                "HAVING count(*) > 1) d")
        gaps = q("SELECT count(*) FROM (SELECT zone_id FROM zones GROUP BY zone_id HAVING min(version) <> 1 OR "
                 "max(version) <> count(*) OR count(DISTINCT version) <> count(*)) g")
        chain = q("SELECT count(*) FROM zones a JOIN zones b ON b.zone_id = a.zone_id AND b.version = a.version + 1 "
                  "WHERE a.valid_to IS DISTINCT FROM b.valid_from")
        new_rows = q("SELECT count(*) FROM zones WHERE id > :m", m=before["max_zone_row"])
        current = q("SELECT count(*) FROM zones WHERE valid_to IS NULL")
        now = dict(c.execute(text("SELECT zone_id, version FROM zones WHERE valid_to IS NULL AND zone_id = ANY(:z)"),
                             {"z": zone_ids}).all())
        audit = {(a, t, act): n for a, t, act, n in c.execute(text(
            "SELECT actor, table_name, action, count(*) FROM audit_log WHERE id > :m GROUP BY 1, 2, 3"),
            {"m": before["max_audit_id"]}).all()}
        after = validation(c)
    missing = [z for z in zone_ids if z not in now]
    bumps = {z: now.get(z, 0) - before["versions"][z] for z in zone_ids}
    per_zone_mismatch = {str(z): [bumps[z], accepted.get(z, 0)] for z in zone_ids if bumps[z] != accepted.get(z, 0)}
    audit_mine = {f"{t}.{act}": n for (a, t, act), n in audit.items() if a == PLANNER}
    audit_other = {f"{a}:{t}.{act}": n for (a, t, act), n in audit.items() if a != PLANNER}
    audit_total = sum(audit_mine.values())
    base = before["validation"]
    new_pairs = [p for p in after["overlap_pairs"] if p not in base["overlap_pairs"]]
    touched = [p for p in after["overlap_pairs"] if set(p) & set(accepted)]
    checks = {
        "one_current_version_per_zone": dup == 0,
        "versions_contiguous": gaps == 0,
        "validity_chained": chain == 0,  # each version's valid_from is its predecessor's valid_to
        "edited_zones_all_current": not missing,
        "current_zone_count_unchanged": current == before["current_zones"],
        "accepted_edits_eq_new_versions": n_ok == new_rows,
        "per_zone_versions_match_accepted": not per_zone_mismatch,
        "audit_rows_eq_write_statements": audit_mine == ({"zones.update": n_ok, "zones.insert": n_ok} if n_ok else {}),
        "no_other_audit_rows": not audit_other,
        "no_new_overlaps": not new_pairs and after["overlaps"] <= base["overlaps"],
        "no_overlaps_at_all": after["overlaps"] == 0,
        "validation_otherwise_unchanged": all(after[k] == base[k] for k in ("detached_zones", "frontage_gaps",
                                                                            "units_without_zone")),
    }
    return {
        "consistent": all(checks.values()), "checks": checks,
        "accepted_edits": n_ok, "new_zone_versions": new_rows, "zones_edited": len(accepted),
        "current_zones": {"before": before["current_zones"], "after": current},
        "duplicate_current_versions": dup, "zones_with_version_gaps": gaps, "validity_chain_breaks": chain,
        "per_zone_mismatches": per_zone_mismatch, "edited_zones_missing": missing,
        "audit_rows_load_user": {"total": audit_total, "expected": 2 * n_ok, **audit_mine},
        "audit_rows_other_actors": audit_other,
        "validation": {"before": base, "after": after, "new_overlap_pairs": new_pairs,
                       "overlap_pairs_with_edited_zones": touched,
                       "note": "gridsvc.zones.validation.validate on all current zones, before and after the run"},
    }


def run_load(url: str, plan_path: str, work: str, args) -> tuple[dict, dict, dict]:
    """locust headless for args.seconds against url; (stats, counts, cpu usage)."""
    counts_path = os.path.join(work, "counts.json")
    env = dict(os.environ, GRIDSVC_LOAD_PLAN=plan_path, GRIDSVC_LOAD_COUNTS=counts_path)
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "--only-summary",
           "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s", "--host", url,
           "--stop-timeout", "10", "--loglevel", "WARNING"]
    cpu0 = psutil.cpu_times()
    t = time.perf_counter()
    with open(os.path.join(work, "locust.log"), "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=HERE.parent)
        me = psutil.Process(proc.pid)
        locust_cpu = 0.0
        while proc.poll() is None:  # the last reading before it exits
            try:
                locust_cpu = tree_cpu_s(me)
            except psutil.Error:
                pass
            time.sleep(0.5)
        proc.wait(args.seconds + 120)
    wall = time.perf_counter() - t
    cpu1 = psutil.cpu_times()
    busy = sum(cpu1) - sum(cpu0) - (cpu1.idle - cpu0.idle) - (getattr(cpu1, "iowait", 0) - getattr(cpu0, "iowait", 0))
    if not os.path.exists(counts_path):
        log = Path(work, "locust.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"locust wrote no counts (exit {proc.returncode}): {log}")
    with open(counts_path, encoding="utf-8") as f:
        counts = json.load(f)
    stats = summarise(counts)
    stats["locust_total"] = counts["locust_total"]  # locust's own count, for comparison
    return stats, counts, {
        "locust_cpu_s": round(locust_cpu, 1), "wall_s": round(wall, 1),
        "machine_busy_pct": round(100 * busy / (sum(cpu1) - sum(cpu0)), 1)}


def main() -> None:
    """Build, serve, load, check; write bench/results/load.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=70, help="Nanjing copies (70 ≈ 15k units, 29k zones)")
    ap.add_argument("--seconds", type=int, default=60, help="length of the locust run")
    ap.add_argument("--users", type=int, default=8, help="concurrent locust users (closed loop, no think time)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--out", type=Path, default=RESULTS / "load.json")
    ap.add_argument("--keep-db", action="store_true", help="leave the load database for inspection")
    args = ap.parse_args()
    if not NANJING.exists():
        raise SystemExit(f"the load test needs {NANJING} (../shared/geodata)")
    out: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "tiles": args.tiles,
                 "seconds": args.seconds, "users": args.users, "workers": args.workers,
                 "machine": {"nproc": os.cpu_count(), "loadavg_before": [round(v, 2) for v in os.getloadavg()]}}
    cluster, name, engine = fresh_engine()
    work = tempfile.mkdtemp(prefix="gridsvc-load-")
    server_log = os.path.join(work, "uvicorn.log")
    ok = False
    try:
        out.update(build(engine, args.tiles))
        print(f"built {args.tiles}x in {out['build_s']} s: {json.dumps(out['rows'])}", flush=True)
        plan = make_plan(engine, args.users)
        plan_path = os.path.join(work, "plan.json")
        Path(plan_path).write_text(json.dumps(plan))
        zone_ids = sorted({z for pool in plan["pools"] for z in pool} | set(plan["shared"]))
        before = db_snapshot(engine, zone_ids)
        db_url = engine.url.render_as_string(hide_password=False)
        # every request carries a token, so the anonymous rate limit (GRIDSVC_PUBLIC_*) is left at its default
        with open(server_log, "w") as log, \
                serve_api(db_url, workers=args.workers, log=log, rate_limited=True) as (url, pid):
            warm_up(url, plan)
            print(f"locust: {args.users} users, {args.seconds} s against {url} ({args.workers} workers)", flush=True)
            stats, counts, cpu = run_load(url, plan_path, work, args)
            server_cpu = tree_cpu_s(psutil.Process(pid))
        o = stats["overall"]
        outcomes = counts["outcomes"]
        out.update({
            "requests": o.get("count", 0), "rps": o.get("rps"),
            "p50_ms": o.get("p50_ms"), "p95_ms": o.get("p95_ms"), "p99_ms": o.get("p99_ms"),
            "max_ms": o.get("max_ms"), "errors": o.get("errors", 0),
            "conflicts": {"412_stale": outcomes.get("conflict_412", 0), "409_overlap": outcomes.get("conflict_409", 0)},
            "edits": {"accepted": outcomes.get("note_ok", 0) + outcomes.get("shrink_ok", 0),
                      "note_only": outcomes.get("note_ok", 0), "geometry_shrunk": outcomes.get("shrink_ok", 0),
                      "outcomes": outcomes},
            "window_s": stats["window_s"], "locust_total": stats["locust_total"],
            "request_mix_pct": stats["request_mix_pct"],
            "request_mix_target_pct": {"edits": 5, "lookups": 80, "reads": 15,
                                       "note": "an edit is 2 requests: GET /zones/{id} (ETag), PUT with If-Match"},
            "per_type": stats["per_type"], "failures": stats["failures"],
        })
        out["machine"].update(cpu, server_cpu_s=round(server_cpu, 1),
                              note="locust, uvicorn and PostgreSQL share these cores; server_cpu_s includes the "
                                   "warm-up, PostgreSQL's CPU is the rest of machine_busy_pct")
        out["db_after"] = consistency(engine, before, counts, zone_ids)
        ok = out["errors"] == 0 and out["locust_total"]["failures"] == 0 and out["db_after"]["consistent"]
        if not ok:
            out["server_log_tail"] = Path(server_log).read_text(errors="replace")[-6000:]
    finally:
        release_db(engine, cluster, name, args.keep_db)
    out["ok"] = ok
    if ok and not args.keep_db:
        shutil.rmtree(work, ignore_errors=True)
    else:
        out["logs"] = work  # plan, locust and uvicorn logs, counts
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    summary = {k: out.get(k) for k in ("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "errors", "conflicts")}
    print(f"wrote {args.out}: {json.dumps(summary)}; consistent={out['db_after']['consistent']}", flush=True)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
