"""Locust users of `make load` (bench/load.py starts locust on this file; run alone it needs the same plan).

The plan (JSON, path in GRIDSVC_LOAD_PLAN, written by bench/load.py) holds two API tokens, sample points,
tile paths, bboxes and the zone pools. One user class runs the mixed workload; the task weights make the
requests 80 % lookups, 15 % reads (9 % vector tiles, 6 % GeoJSON pages) and 5 % zone edits, where an edit is two
requests: GET /zones/{id} for the ETag, then PUT /zones/{id} with If-Match (so 160 : 18 + 6 + 6 : 5 tasks).
Each user edits its own pool of zones and, now and then, one of a few zones every user shares, so that
concurrent edits of one zone (412, "conflicts") happen but are rare.

Every request carries a Bearer token (reads as an inspector, edits as a planner): no request is anonymous, so
the anonymous rate limit does not apply and stays at its default on the server.

At the end every response time, the failures and what locust's stats do not hold (accepted edits per zone,
conflicts, lost updates seen in the ETags) are written to GRIDSVC_LOAD_COUNTS for bench/load.py.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
from collections import Counter, defaultdict

import shapely
from locust import FastHttpUser, constant, events, task
from shapely.geometry import mapping, shape

PLAN = json.loads(open(os.environ["GRIDSVC_LOAD_PLAN"], encoding="utf-8").read())
COUNTS_PATH = os.environ.get("GRIDSVC_LOAD_COUNTS")
SHARED_SHARE = 0.1  # edits aimed at a zone every user shares
SHRINK_SHARE = 0.5  # edits of a shrinkable zone that send a new, slightly shrunk geometry; the rest change the note
SHRINKABLE = set(PLAN["shrinkable"])  # not frontage zones: shrinking those would open frontage gaps (validation)
SHRINK_DEG = 1e-6  # ~0.1 m inwards: the new shape lies inside the old one, so it can overlap no other zone
MIN_AREA_DEG2 = 1e-8  # ~100 m²: smaller shapes get a note edit instead of another shrink
CONFLICTS = (409, 412)

accepted: Counter[int] = Counter()  # zone_id -> edits answered 200
outcomes: Counter[str] = Counter()  # note_ok, shrink_ok, conflict_409, conflict_412, etag_mismatch, ...
latencies: defaultdict[str, list[float]] = defaultdict(list)  # request name -> every response time, ms
failures: defaultdict[str, Counter[str]] = defaultdict(Counter)  # request name -> error text -> occurrences
window = [math.inf, 0.0]  # first request sent, last answer received (epoch seconds)
_user_no = itertools.count()


def _failure(r, what: str) -> None:
    body = (r.text or "")[:300] if r.status_code else ""
    r.failure(f"{what}: HTTP {r.status_code} {body}".strip())


def shrunk(geometry: dict | None) -> dict | None:
    """The geometry moved SHRINK_DEG inwards (mitred corners keep the vertex count), or None if too small."""
    if not geometry:
        return None
    g = shape(geometry).buffer(-SHRINK_DEG, join_style="mitre", mitre_limit=2.0)
    g = shapely.set_precision(g, 1e-7)
    if g.is_empty or not g.is_valid or g.area < MIN_AREA_DEG2 or g.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    return mapping(g)


class CityUser(FastHttpUser):
    """A client of the service: mostly "who is responsible here?", some map reads, a few zone edits."""

    wait_time = constant(0)  # closed loop: each user sends its next request as soon as the last one is answered
    reader = {"Authorization": f"Bearer {PLAN['reader_token']}"}
    planner = {"Authorization": f"Bearer {PLAN['planner_token']}"}

    def on_start(self) -> None:
        self.no = next(_user_no)
        self.pool = PLAN["pools"][self.no % len(PLAN["pools"])]
        self.rng = random.Random(1000 + self.no)
        self.edits = 0

    def _get(self, path: str, name: str, ok=(200,)) -> None:
        with self.client.get(path, name=name, headers=self.reader, catch_response=True) as r:
            if r.status_code in ok:
                r.success()
            else:
                _failure(r, name)

    @task(160)
    def lookup(self) -> None:
        x, y = self.rng.choice(PLAN["points"])
        self._get(f"/lookup?lng={x:.7f}&lat={y:.7f}", "lookup")

    @task(18)
    def tile(self) -> None:
        name, path = self.rng.choice(PLAN["tiles"])
        self._get(path, name, ok=(200, 204))  # 204: no features in that tile

    @task(6)
    def geojson_zones(self) -> None:
        self._get(f"/zones?bbox={self.rng.choice(PLAN['bboxes'])}&limit=200", "geojson zones")

    @task(6)
    def geojson_units(self) -> None:
        self._get(f"/units?bbox={self.rng.choice(PLAN['bboxes'])}&limit=200", "geojson units")

    @task(5)
    def edit(self) -> None:
        zid = self.rng.choice(PLAN["shared"] if self.rng.random() < SHARED_SHARE else self.pool)
        with self.client.get(f"/zones/{zid}", name="edit: GET zone", headers=self.planner, catch_response=True) as r:
            if r.status_code != 200 or not r.headers.get("ETag"):
                _failure(r, "edit: GET zone")
                return
            tag, feature = r.headers["ETag"], r.json()
            r.success()
        version = int(tag.strip('"').split("-")[1])
        self.edits += 1
        geometry = None
        if zid in SHRINKABLE and self.rng.random() < SHRINK_SHARE:
            geometry = shrunk(feature.get("geometry"))
        kind = "shrink" if geometry else "note"
        body = {"type": "Feature", "geometry": geometry,
                "properties": {"note": f"load u{self.no} e{self.edits} {kind}"}}
        with self.client.put(f"/zones/{zid}", name="edit: PUT zone", json=body, catch_response=True,
                             headers={**self.planner, "If-Match": tag}) as r:
            if r.status_code == 200:
                if r.headers.get("ETag") != f'"{zid}-{version + 1}"':  # another edit got in between: lost update
                    outcomes["etag_mismatch"] += 1
                    _failure(r, f"edit: PUT zone answered ETag {r.headers.get('ETag')} after If-Match {tag}")
                    return
                accepted[zid] += 1
                outcomes[f"{kind}_ok"] += 1
                r.success()
            elif r.status_code in CONFLICTS:
                outcomes[f"conflict_{r.status_code}"] += 1
                r.success()  # the service refusing a stale edit is correct, counted apart
            else:
                outcomes[f"put_{r.status_code}"] += 1
                _failure(r, "edit: PUT zone")


@events.request.add_listener
def _record(name, response_time, exception=None, start_time=None, **_kw) -> None:
    """Every response time exactly (locust's own percentiles are rounded into buckets)."""
    latencies[name].append(response_time)
    if exception is not None:
        failures[name][str(exception)[:300]] += 1
    if start_time is not None:
        window[0] = min(window[0], start_time)
        window[1] = max(window[1], start_time + response_time / 1000)


@events.quitting.add_listener
def _write_counts(environment, **_kw) -> None:
    """Fired once every user has stopped: the complete numbers (locust's CSV is rewritten only once a second)."""
    if not COUNTS_PATH:
        return
    total = environment.stats.total
    with open(COUNTS_PATH, "w", encoding="utf-8") as f:
        json.dump({"accepted": {str(k): v for k, v in accepted.items()}, "outcomes": dict(outcomes),
                   "latencies_ms": latencies, "failures": {k: dict(v) for k, v in failures.items()},
                   "window_s": window[1] - window[0] if latencies else 0.0,
                   "locust_total": {"requests": total.num_requests, "failures": total.num_failures}}, f)
