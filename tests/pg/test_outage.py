"""PostGIS stopped under traffic: every request answers fast (503 + Retry-After while down), the app recovers."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from live import serve
from sqlalchemy import text
from support import bearer, load_nanjing

from gridsvc.api.app import create_app
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine
from gridsvc.errors import MissingDependencyError
from gridsvc.pg.cluster import LocalCluster
from gridsvc.settings import REPO_ROOT

# Root's tmp folders are not traversable by `postgres` (see test_cluster.py), so the cluster lives in the repo.
CLUSTERS = REPO_ROOT / ".gridsvc" / "test-clusters"
MAX_RESPONSE_S = 6.0  # no request may take longer, up, down or in between
HEALTH_S = 2.0  # /health answers within this while the database is down
CLIENTS = 2
PAUSE_S = 0.15  # between a client's requests: ~15 requests/s in all, under the anonymous rate limit
BATCH = 10_000  # points per POST /lookup of the batch client: a query long enough to be cut by the stop


@dataclass(frozen=True)
class Hit:
    """One request: when it started, how long it took, the answer or the client error."""

    start: float
    seconds: float
    status: int | None
    retry_after: str | None
    error: str | None = None


class Traffic(threading.Thread):
    """A client sending GET /lookup for unit locations (or POST /lookup batches) until stopped."""

    def __init__(self, base: str, points: list[tuple[float, float]], offset: int, batch: bool = False,
                 headers: dict | None = None):
        super().__init__(daemon=True, name=f"traffic-{offset}")
        self.base, self.points, self.offset, self.batch = base, points, offset, batch
        self.headers = headers or {}  # a 10,000-point batch needs credentials (anonymous batches are capped)
        self.hits: list[Hit] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30, headers=self.headers) as client:
            i = self.offset
            while not self.halt.is_set():
                lng, lat = self.points[i % len(self.points)]
                i += 1
                start = time.monotonic()
                try:
                    if self.batch:
                        r = client.post("/lookup", json={"points": (self.points * BATCH)[:BATCH]})
                    else:
                        r = client.get("/lookup", params={"lng": lng, "lat": lat})
                    self.hits.append(Hit(start, time.monotonic() - start, r.status_code, r.headers.get("retry-after")))
                except httpx.HTTPError as err:
                    self.hits.append(Hit(start, time.monotonic() - start, None, None, repr(err)))
                self.halt.wait(PAUSE_S)


@pytest.fixture(scope="module")
def own_cluster():
    """A PostGIS cluster of this test's own (the shared one keeps serving the other tests)."""
    folder = CLUSTERS / f"outage-{uuid.uuid4().hex[:8]}"
    cluster = LocalCluster(folder)
    try:
        cluster.up()
    except MissingDependencyError as err:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(str(err))
    try:
        cluster.ensure_database("gridsvc")
        yield cluster
    finally:
        try:
            cluster.down()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def served(own_cluster):
    """A real uvicorn on Nanjing in the own cluster; yields its URL, unit locations and the engine. Lookups go to
    PostGIS here (GRIDSVC_LOOKUP_INDEX=0): the in-memory index would answer them through an outage, and these
    tests are about the database going away under queries."""
    from gridsvc.settings import get_settings

    env = pytest.MonkeyPatch()
    env.setenv("GRIDSVC_LOOKUP_INDEX", "0")
    get_settings.cache_clear()
    engine = make_engine(own_cluster.url("gridsvc"))
    migrate.upgrade(engine)
    load_nanjing(engine, zones="三包")
    with engine.connect() as c:
        points = [tuple(p) for p in c.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM units ORDER BY id LIMIT 40")).all()]
    headers = bearer(engine, "outage-planner", "planner")
    try:
        with serve(create_app(engine)) as base:
            yield base, points, headers
    finally:
        engine.dispose()
        env.undo()
        get_settings.cache_clear()


def _wait_for_batch_query(cluster: LocalCluster, timeout: float = 15) -> None:
    """Return once a batch lookup query runs in the database (so the stop cuts it mid-query)."""
    url = cluster.url("gridsvc").replace("postgresql+psycopg", "postgresql")
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                               "AND query LIKE '%WITH pts AS%'").fetchone():
            assert time.monotonic() < deadline, "no batch lookup seen running"
            time.sleep(0.005)


def _health(base: str) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    r = httpx.get(f"{base}/health", timeout=30)
    return r, time.monotonic() - start


def test_postgis_stop_answers_503_fast_and_service_resumes(own_cluster, served):
    base, points, headers = served
    assert _health(base)[0].status_code == 200
    clients = ([Traffic(base, points, i * 7) for i in range(CLIENTS)]
               + [Traffic(base, points, 0, batch=True, headers=headers)])
    for c in clients:
        c.start()
    try:
        time.sleep(2)
        _wait_for_batch_query(own_cluster)
        stopping = time.monotonic()
        own_cluster.down()  # pg_ctl stop -m fast: sessions are cut, new connections refused
        stopped = time.monotonic()
        time.sleep(1)
        for _ in range(3):
            r, seconds = _health(base)
            assert r.status_code == 503 and r.headers.get("retry-after"), r.text
            assert seconds < HEALTH_S, f"/health took {seconds:.2f}s while PostGIS was down"
            assert r.json()["error"] == "DatabaseUnavailableError"
            time.sleep(0.5)
        time.sleep(2)
        starting = time.monotonic()
        own_cluster.up()  # same folder, same port: the app is not restarted
        started = time.monotonic()
        deadline = started + 20
        recovered = None
        while recovered is None and time.monotonic() < deadline:
            ok = [h for c in clients for h in c.hits if h.start >= started and h.status == 200]
            recovered = min((h.start + h.seconds for h in ok), default=None)
            time.sleep(0.1)
        assert recovered is not None, "lookups did not succeed within 20 s of PostGIS coming back"
        time.sleep(2)
    finally:
        for c in clients:
            c.halt.set()
        for c in clients:
            c.join(40)
    hits = sorted((h for c in clients for h in c.hits), key=lambda h: h.start)
    assert not [h for h in hits if h.error], [h.error for h in hits if h.error][:5]
    slowest = max(h.seconds for h in hits)
    assert slowest < MAX_RESPONSE_S, f"a request took {slowest:.2f}s"
    before = [h for h in hits if h.start + h.seconds < stopping]
    down = [h for h in hits if h.start > stopped and h.start + h.seconds < starting]
    after = [h for h in hits if h.start > recovered]
    cut = [h for h in clients[-1].hits if h.start < stopping < h.start + h.seconds]
    # the batch running at the stop: never a hang; one still running once the server is gone answers 503 (one that
    # finished while pg_ctl was shutting the server down may legitimately have got its 200)
    assert cut and all(h.status in (200, 503) for h in cut), cut
    assert all(h.status == 503 for h in cut if h.start + h.seconds > stopped), cut
    assert before and all(h.status == 200 for h in before)
    assert len(down) >= 10 and all(h.status == 503 and h.retry_after for h in down), {h.status for h in down}
    assert {h.status for h in hits} <= {200, 503}
    assert after and all(h.status == 200 for h in after), [h.status for h in after]
    r, _ = _health(base)
    assert r.status_code == 200 and r.json()["cells"] > 0
    batches = [h.seconds for h in clients[-1].hits if h.start + h.seconds < stopping]
    print(f"\nbatch of {BATCH} points: {max(batches):.3f}s at most; cut at the stop: 503 after {cut[0].seconds:.3f}s")
    print(f"{len(hits)} lookups; down: {len(down)} answered 503 in at most {max(h.seconds for h in down):.3f}s; "
          f"pg_ctl stop took {stopped - stopping:.2f}s, start {started - starting:.2f}s; first lookup served "
          f"{recovered - started:.2f}s after the start; slowest request {slowest:.3f}s")
