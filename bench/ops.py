"""The operations loop at district scale: `python -m bench.ops --tiles 70` prints JSON.

Nanjing tiled N times (×70 ≈ 20,000 units), zones built, one grid officer per community; then a synthetic year:
30,000 cases with their events (routed by the zone and grid cell at their point, deadlines from the time limits
on the China working calendar, states by age: old cases mostly closed), loaded in bulk. Measured:
- loading the year (cases and events);
- "my grid's open cases by deadline" (GET /cases?mine=true&open=true&order=deadline) for random grid officers,
  in-process and over HTTP on loopback: median and p95 (target p95 < 50 ms);
- `cases tick` over the year at its last instant, the first run (marks and escalates) and a second (idempotent)
  (target < 5 s);
- 50,000 inspections of units with their item results, loaded in bulk (load_inspections), then "a unit's
  inspections" and "my grid's inspections this week" in-process (inspection_reads).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime, timedelta
from functools import lru_cache

import httpx
from sqlalchemy import text

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import store_layers
from gridsvc.db.store import copy_rows
from gridsvc.ops.cases import core as ops_cases
from gridsvc.ops.rules.categories import load_categories
from gridsvc.ops.rules.escalation import load_escalation
from gridsvc.ops.rules.limits import STAGES
from gridsvc.people.parties import add_officer
from gridsvc.people.users import Principal, create_user, issue_api_token
from gridsvc.timekeeping import zone
from gridsvc.zones.build import build_zones

from .run import fresh_engine
from .tiling import nanjing_layers, tile
from .zones import median_ms, serve_api

CASES = 30_000
OFFICER_SAMPLES = 200
# The path of actions to each state, from 受理 accepted (the flow of geodata/ops/case_flow.toml).
PATHS = {
    "accepted": [],
    "registered": ["register"],
    "dispatched": ["register", "dispatch"],
    "rectified": ["register", "dispatch", "rectify"],
    "rework": ["register", "dispatch", "rectify", "verify_fail"],
    "verified": ["register", "dispatch", "rectify", "verify_pass"],
    "closed": ["register", "dispatch", "rectify", "verify_pass", "close"],
    "deferred": ["register", "dispatch", "defer"],
    "void": ["invalidate"],
}
STAGE_OF = {"accepted": "register", "registered": "dispatch", "dispatched": "handle", "rework": "handle",
            "rectified": "verify"}


def _state_for(age_days: float, rng: random.Random) -> str:
    """Old cases are mostly closed; the last weeks hold the open ones."""
    if age_days > 30:
        return rng.choices(["closed", "void", "deferred", "dispatched"], [90, 5, 3, 2])[0]
    return rng.choices(["accepted", "registered", "dispatched", "rework", "rectified", "verified", "closed"],
                       [5, 5, 35, 5, 15, 5, 30])[0]


@lru_cache(maxsize=200_000)
def _deadlines(category: str, urgency: str, stage: str, start: datetime) -> dict:
    return ops_cases.project_deadlines(category, urgency, stage, start)


def load_year(engine, n: int, end: datetime, seed: int = 7) -> dict:
    """n cases over the year before `end`, with their events, routed in SQL as open_case routes one case."""
    rng = random.Random(seed)
    cats = load_categories().minors
    escalation = load_escalation()
    with engine.connect() as c:
        points = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current "
            "WHERE kind = 'frontage' ORDER BY md5(zone_id::text) LIMIT :n) s"), {"n": n}).all()
    t0 = time.perf_counter()
    case_rows, event_rows = [], []
    for i in range(n):
        x, y = points[i % len(points)]
        cat = rng.choice(cats)
        reported = (end - timedelta(seconds=rng.uniform(0, 365 * 86400))).replace(microsecond=0)
        state = _state_for((end - reported).total_seconds() / 86400, rng)
        path = PATHS[state]
        at, events = reported, [("report", None, "accepted", reported)]
        s = "accepted"
        for action in path:
            at = at + timedelta(hours=rng.uniform(0.2, 30))
            to = {"register": "registered", "dispatch": "dispatched", "rectify": "rectified",
                  "verify_fail": "rework", "verify_pass": "verified", "close": "closed", "defer": "deferred",
                  "invalidate": "void"}[action]
            events.append((action, s, to, min(at, end)))
            s = to
        stage = STAGE_OF.get(state)
        stage_start = events[-1][3]
        deadlines = _deadlines(cat.code, cat.urgency, stage or "register",
                               stage_start.replace(minute=stage_start.minute // 10 * 10, second=0))
        due = datetime.fromisoformat(deadlines[stage]) if stage else None
        case_id = i + 1
        case_rows.append((
            case_id, f"B{reported:%Y%m%d}{i:06d}", state, cat.code, cat.kind, cat.urgency, "bench case",
            "grid_officer", "bench", reported, f"SRID=4326;POINT({x} {y})", cat.department, "bench",
            "{}", json.dumps(deadlines), stage, stage_start if stage else None, due,
            (events[-1][3] if state in ("closed", "void") else None),
            [at for _lv, at in escalation.due(due, cat.urgency)] if due else None))
        for seq, (action, f, to, when) in enumerate(events, 1):
            event_rows.append((case_id, seq, action, f, to, "bench", "admin", when))
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    with engine.begin() as c:
        copy_rows(c, "cases", ("id", "code", "state", "category", "kind", "urgency", "description", "source",
                               "reported_by", "reported_at", "geom", "department", "rule", "routing", "deadlines",
                               "stage", "stage_started_at", "due_at", "closed_at", "escalate_at"), case_rows)
        c.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
        copy_rows(c, "case_events", ("case_id", "seq", "action", "from_state", "to_state", "actor", "role", "at"),
                  event_rows)
        # routing at the report point, set-based: the zone (by rank), its party and unit, the grid cell
        c.execute(text(
            "UPDATE cases k SET route_zone_id = z.zone_id, zone_version = z.version, zone_kind = z.kind, "
            "unit_id = z.unit_id, party_id = z.party_id, party_name = p.name "
            "FROM cases k2 CROSS JOIN LATERAL (SELECT zc.zone_id, zc.version, zc.kind, zc.unit_id, zc.party_id "
            "FROM zones_current zc WHERE ST_Covers(zc.geom, k2.geom) ORDER BY zone_rank(zc.kind) LIMIT 1) z "
            "LEFT JOIN parties p ON p.id = z.party_id WHERE k.id = k2.id"))
        c.execute(text("UPDATE cases k SET grid_code = g.code FROM grid_cells g WHERE ST_Covers(g.geom, k.geom)"))
        c.execute(text("ANALYZE cases; ANALYZE case_events"))
    return {"cases": len(case_rows), "events": len(event_rows), "generate_s": round(built, 2),
            "load_s": round(time.perf_counter() - t1, 2)}


RATING_INSPECTIONS = 50_000


def month_ratings(engine, end: datetime, n_inspections: int = RATING_INSPECTIONS, seed: int = 13) -> dict:
    """A month's ratings for all units (target < 10 s at ×70): synthetic inspections of the units over the year
    (loaded in bulk here when the database has none), then `ratings compute` for the month of `end` (the previous
    month first, so it is rated against one), timed, and again (idempotent)."""
    from gridsvc.ops.ratings.records import compute
    from gridsvc.timekeeping import period

    rng = random.Random(seed)
    with engine.connect() as c:
        have = c.execute(text("SELECT count(*) FROM inspections")).scalar_one()
        units = c.execute(text("SELECT id FROM units ORDER BY id")).scalars().all()
    out: dict = {"units": len(units)}
    if not have:
        rows = []
        for i in range(n_inspections):
            failed = rng.choices((0, 1, 2, 3), (80, 12, 5, 3))[0]
            score = round(100 - failed * rng.uniform(5, 15) - rng.uniform(0, 8), 2)
            at = (end - timedelta(seconds=rng.uniform(0, 365 * 86400))).replace(microsecond=0)
            rows.append((i + 1, "市容", "unit", rng.choice(units), "bench", "grid_officer", rng.random() < 0.1, at,
                         score, 100, 10, failed, failed == 0, "api"))
        t = time.perf_counter()
        with engine.begin() as c:
            copy_rows(c, "inspections", ("id", "checklist", "target_kind", "unit_id", "inspector", "inspector_kind",
                                         "unannounced", "inspected_at", "score", "max_score", "items_total",
                                         "items_failed", "passed", "source"), rows)
            c.execute(text("SELECT setval(pg_get_serial_sequence('inspections', 'id'), (SELECT max(id) FROM "
                           "inspections)); ANALYZE inspections"))
        out["inspections_loaded"] = len(rows)
        out["inspections_load_s"] = round(time.perf_counter() - t, 2)
    key = f"{end:%Y-%m}"
    runs = []
    for k in (period(key).previous, key, key):
        with engine.begin() as c:
            t = time.perf_counter()
            r = compute(c, k, actor="bench", now=end)
            runs.append({"period": k, "s": round(time.perf_counter() - t, 3), "boards": r["boards"],
                         "ratings_written": r["ratings_written"], "credit_entries": r["credit_entries"]})
    out["runs"] = runs
    out["month_s"] = runs[1]["s"]
    return out


def officers(engine) -> list[tuple[str, tuple[str, ...]]]:
    """One grid officer (and user) per community; (user name, grid codes)."""
    out = []
    with engine.begin() as c:
        communities = c.execute(text("SELECT DISTINCT substr(code, 1, 12) FROM grid_cells ORDER BY 1")).scalars().all()
        for i, com in enumerate(communities):
            add_officer(c, f"网格员{i}", None, [com])
            create_user(c, f"officer{i}", "grid_officer", None, [com], None)
            out.append((f"officer{i}", (com,)))
    return out


def my_open_cases(engine, people, rng: random.Random, now: datetime) -> dict:
    """list_cases(mine, open, by deadline) for random officers, in-process."""
    samples = []
    with engine.connect() as c:
        for name, grids in rng.sample(people, min(len(people), OFFICER_SAMPLES)):
            p = Principal(name=name, role="grid_officer", grids=grids)
            t = time.perf_counter()
            ops_cases.list_cases(c, principal=p, mine=True, open_only=True, order="deadline", limit=50, now=now)
            samples.append(time.perf_counter() - t)
    return median_ms(samples)


def my_open_cases_http(engine, url: str, people, rng: random.Random) -> dict:
    """GET /cases?mine=true&open=true&order=deadline with each officer's token, over loopback."""
    with engine.begin() as c:
        tokens = [issue_api_token(c, name) for name, _ in rng.sample(people, min(len(people), 50))]
    samples, errors = [], 0
    with serve_api(url) as (base, _), httpx.Client(base_url=base, timeout=10) as client:
        for tok in tokens:  # warm-up
            client.get("/cases", params={"mine": "true", "open": "true", "order": "deadline"},
                       headers={"Authorization": f"Bearer {tok}"})
        for _ in range(4):
            for tok in tokens:
                t = time.perf_counter()
                r = client.get("/cases", params={"mine": "true", "open": "true", "order": "deadline", "limit": 50},
                               headers={"Authorization": f"Bearer {tok}"})
                samples.append(time.perf_counter() - t)
                errors += r.status_code != 200
    return median_ms(samples) | {"errors": errors}


INSPECTIONS = 50_000


def load_inspections(engine, n: int, end: datetime, seed: int = 13) -> dict:
    """n inspections of units over the year before `end` against the 三包 duty checklist (3 items each), with
    their results, loaded in bulk (COPY) and routed set-based (the unit's frontage zone and party, the grid)."""
    from gridsvc.ops.inspections import core as ops_inspections
    from gridsvc.ops.rules.checklists import policy_checklist

    rng = random.Random(seed)
    checklist = policy_checklist("三包")
    items = [i.id for i in checklist.items]
    with engine.connect() as c:
        units = c.execute(text("SELECT id, ST_X(geom), ST_Y(geom) FROM units ORDER BY id")).all()
    t0 = time.perf_counter()
    rows, results = [], []
    kinds = list(ops_inspections.INSPECTOR_KINDS)
    for i in range(n):
        unit, x, y = units[rng.randrange(len(units))]
        at = (end - timedelta(seconds=rng.uniform(0, 365 * 86400))).replace(microsecond=0)
        answers = rng.choices(["pass", "fail", "na"], [85, 10, 5], k=len(items))
        failed = answers.count("fail")
        rows.append((i + 1, checklist.id, "unit", str(unit), unit, "bench", rng.choice(kinds), rng.random() < 0.1,
                     at, f"SRID=4326;POINT({x} {y})", len(items), failed, failed == 0, "api"))
        results += [(i + 1, seq, item, a) for seq, (item, a) in enumerate(zip(items, answers, strict=True), 1)]
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    with engine.begin() as c:
        copy_rows(c, "inspections", ("id", "checklist", "target_kind", "target_ref", "unit_id", "inspector",
                                     "inspector_kind", "unannounced", "inspected_at", "geom", "items_total",
                                     "items_failed", "passed", "source"), rows)
        c.execute(text("SELECT setval(pg_get_serial_sequence('inspections', 'id'), (SELECT max(id) FROM inspections))"))
        copy_rows(c, "inspection_results", ("inspection_id", "seq", "item_id", "result"), results)
        c.execute(text(
            "UPDATE inspections i SET target_zone_id = z.zone_id, party_id = z.party_id FROM zones_current z "
            "WHERE z.unit_id = i.unit_id AND z.kind = 'frontage'"))
        c.execute(text("UPDATE inspections i SET grid_code = g.code FROM grid_cells g WHERE ST_Covers(g.geom, i.geom)"))
        c.execute(text("ANALYZE inspections; ANALYZE inspection_results"))
    return {"inspections": len(rows), "results": len(results), "generate_s": round(built, 2),
            "load_s": round(time.perf_counter() - t1, 2), "unit_ids": [u[0] for u in units]}


def inspection_reads(engine, people, unit_ids: list[int], rng: random.Random, end: datetime) -> dict:
    """A unit's inspections (newest 50) and "my grid's inspections this week" (a grid officer, last 7 days),
    in-process through list_inspections."""
    from gridsvc.ops.inspections import core as ops_inspections

    week = (end - timedelta(days=7)).isoformat()
    admin = Principal(name="bench", role="admin")
    unit_samples, grid_samples = [], []
    with engine.connect() as c:
        for unit in rng.sample(unit_ids, min(len(unit_ids), OFFICER_SAMPLES)):
            t = time.perf_counter()
            ops_inspections.list_inspections(c, principal=admin, unit=unit, limit=50)
            unit_samples.append(time.perf_counter() - t)
        for name, grids in rng.sample(people, min(len(people), OFFICER_SAMPLES)):
            p = Principal(name=name, role="grid_officer", grids=grids)
            t = time.perf_counter()
            ops_inspections.list_inspections(c, principal=p, since=week, until=end.isoformat(), limit=50)
            grid_samples.append(time.perf_counter() - t)
    return {"unit_inspections": median_ms(unit_samples), "my_grid_this_week": median_ms(grid_samples)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70)
    ap.add_argument("--cases", type=int, default=CASES)
    ap.add_argument("--inspections", type=int, default=INSPECTIONS)
    args = ap.parse_args()
    out: dict = {"tiles": args.tiles, "stages": list(STAGES)}
    cluster, name, engine = fresh_engine()
    rng = random.Random(11)
    try:
        t = time.perf_counter()
        store_layers(engine, tile(nanjing_layers(), args.tiles), f"bench-ops-{args.tiles}x")
        build_grid(engine, 10, "320102", max_cells=5_000_000)
        report = build_zones(engine, "三包")
        out["city_s"] = round(time.perf_counter() - t, 1)
        out["zones"] = report.counts
        people = officers(engine)
        out["officers"] = len(people)
        end = datetime(2026, 11, 30, 18, 0, tzinfo=zone())
        out["year"] = load_year(engine, args.cases, end)
        out["my_open_cases_in_process"] = my_open_cases(engine, people, rng, end)
        out["my_open_cases_http"] = my_open_cases_http(engine, cluster.url(name), people, rng)
        ticks = []
        for _ in range(2):
            with engine.begin() as c:
                t = time.perf_counter()
                r = ops_cases.tick(c, end)
                ticks.append({"s": round(time.perf_counter() - t, 3), **{k: v for k, v in r.items() if k != "now"}})
        out["tick_year"] = ticks
        loaded = load_inspections(engine, args.inspections, end)
        unit_ids = loaded.pop("unit_ids")
        out["inspections_year"] = loaded
        out["inspection_reads"] = inspection_reads(engine, people, unit_ids, rng, end)
        out["month_ratings"] = month_ratings(engine, end)
        out["targets"] = {
            "month_ratings_s<10": out["month_ratings"]["month_s"] < 10,
            "my_open_cases_p95_ms<50": out["my_open_cases_http"]["p95_ms"] < 50,
            "tick_year_s<5": ticks[0]["s"] < 5,
        }
    finally:
        engine.dispose()
        cluster.drop_database(name)
    print(json.dumps(out, ensure_ascii=False, default=str))  # one line: bench.run reads the last line


if __name__ == "__main__":
    main()
