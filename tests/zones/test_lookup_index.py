"""The lookup fast path: the in-memory index answers exactly as the SQL lookup, and never from a stale state."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer, zone_point

from gridsvc.api.app import create_app
from gridsvc.errors import NotFoundError
from gridsvc.geo.chinese_crs import wgs84_to_bd09, wgs84_to_gcj02
from gridsvc.settings import get_settings
from gridsvc.zones import lookup_index
from gridsvc.zones.lookup import lookup, lookup_batch


def _answer(fn):
    try:
        out = fn()
    except NotFoundError as e:
        return ("404", str(e))
    out.pop("at")  # the instant of the question: "now" differs between two calls
    return out


@pytest.fixture(scope="module")
def index(city):
    engine, _ = city
    idx = lookup_index.LookupIndex(engine).start()
    assert idx.wait_loaded(60)
    yield idx
    idx.stop()


def _points(conn, n: int, seed: int = 5) -> list[tuple[float, float]]:
    """Random points over the grid's extent (inside and outside zones and cells), on zones and on boundaries."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grid_cells) s")).one()
    dx, dy = (x1 - x0) * 0.1, (y1 - y0) * 0.1
    uniform = np.c_[rng.uniform(x0 - dx, x1 + dx, n // 2), rng.uniform(y0 - dy, y1 + dy, n // 2)]
    wkbs = conn.execute(text("SELECT ST_AsBinary(geom) FROM zones WHERE valid_to IS NULL ORDER BY md5(id::text) "
                             "LIMIT :n"), {"n": n // 2}).scalars().all()
    geoms = shapely.from_wkb([bytes(w) for w in wkbs])
    inside = shapely.get_coordinates(shapely.point_on_surface(geoms))
    coords = [shapely.get_coordinates(g) for g in geoms]
    vertices = np.array([c[rng.integers(len(c))] for c in coords]).reshape(-1, 2)
    return [(float(a), float(b)) for a, b in np.r_[uniform, inside, vertices]]


def test_index_answers_exactly_as_sql(city, index):
    """A few thousand points over Nanjing (random, on zones, on zone vertices): JSON-equal answers, 404s alike."""
    engine, _ = city
    with engine.connect() as c:
        pts = _points(c, 3000)
        outside = 0
        for k, (x, y) in enumerate(pts):
            subject = "component" if k % 7 == 0 else "event"
            want = _answer(lambda x=x, y=y, s=subject: lookup(c, x, y, subject=s))
            got = _answer(lambda x=x, y=y, s=subject: index.lookup(x, y, subject=s))
            assert got == want, (x, y)
            outside += want[0] == "404" if isinstance(want, tuple) else 0
        assert 100 < outside < 1500
        for fn in (wgs84_to_gcj02, wgs84_to_bd09):  # the phones' offsets, converted before the query
            crs = "gcj02" if fn is wgs84_to_gcj02 else "bd09"
            for x, y in pts[1500:1700]:
                fx, fy = fn(np.array([x]), np.array([y]))
                a, b = float(fx[0]), float(fy[0])
                assert _answer(lambda a=a, b=b, crs=crs: index.lookup(a, b, crs=crs)) == \
                    _answer(lambda a=a, b=b, crs=crs: lookup(c, a, b, crs=crs))
        assert lookup_batch(c, pts[:3000]) == index.lookup_batch(pts[:3000])
    assert index.stats["index"] > 3000


def test_index_follows_edits_and_falls_back_to_sql_when_behind(city, index):
    engine, _ = city
    with engine.connect() as c:
        zid, _, x, y = zone_point(c, "kind = 'frontage'")
    gen = index.current().gen
    with engine.begin() as c:  # a change the index has not applied yet: the next lookup must not use it
        c.execute(text("UPDATE parties SET phone = '13900000009' WHERE id = (SELECT party_id FROM zones "
                       "WHERE zone_id = :z AND valid_to IS NULL)"), {"z": zid})
    assert index._seen > gen or index.current() is None  # the commit token told it, NOTIFY or not
    deadline = time.monotonic() + 10
    while index.current() is None or index.current().gen == gen:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert index.lookup(x, y)["primary"]["phone"] == "13900000009"
    assert index.stats["full_reloads"] == 1, "an edit reloads what changed, not everything"

    index._seen += 1  # as if a NOTIFY announced a generation not applied yet: the index does not answer
    assert index.lookup(x, y) is None
    index._seen -= 1
    assert index.lookup(x, y)["primary"]["phone"] == "13900000009"


def test_a_database_that_went_back_is_reloaded_whole(city, index):
    """A restore puts an older generation back (and older data): the index must not keep the newer snapshot, nor
    reload only 'what changed' against it."""
    engine, _ = city
    with engine.connect() as c:
        zid, _, x, y = zone_point(c, "kind = 'frontage'")
    snap = index.current()
    assert snap is not None
    fulls = index.stats["full_reloads"]
    with engine.begin() as c:  # as a restore would: the party's phone as it was, the generation from before
        c.execute(text("UPDATE parties SET phone = '13900000077' WHERE id = (SELECT party_id FROM zones "
                       "WHERE zone_id = :z AND valid_to IS NULL)"), {"z": zid})
    deadline = time.monotonic() + 10
    while index.current() is None or index.current().gen == snap.gen:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with engine.begin() as c:
        c.execute(text("UPDATE lookup_generation SET gen = :g"), {"g": snap.gen - 5})
        c.execute(text("DELETE FROM lookup_changes WHERE gen > :g"), {"g": snap.gen - 5})
    index._saw(snap.gen - 5)  # what the next check of the database reads
    assert index.lookup(x, y) is None  # not at the generation it has seen: SQL answers meanwhile
    while index.current() is None or index.current().gen != snap.gen - 5:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert index.stats["full_reloads"] == fulls + 1, "a database that went back is reloaded whole"
    assert index.lookup(x, y)["primary"]["phone"] == "13900000077"


def test_api_uses_the_index_and_sql_for_history_and_when_switched_off(city, monkeypatch):
    engine, _ = city
    with engine.connect() as c:
        zid, _, x, y = zone_point(c, "kind = 'frontage'")
    with TestClient(create_app(engine)) as client:
        idx = lookup_index.index_for(engine)
        r = client.get("/lookup", params={"lng": x, "lat": y})
        assert r.status_code == 200 and r.json()["zone"]["id"] == zid
        assert idx.wait_loaded(60)
        r = client.get("/lookup", params={"lng": x, "lat": y})
        assert r.headers["X-Gridsvc-Lookup"] == "index" and r.json()["zone"]["id"] == zid
        assert client.post("/lookup", json={"points": [[x, y]]}).headers["X-Gridsvc-Lookup"] == "index"
        r = client.get("/lookup", params={"lng": x, "lat": y, "at": "2020-01-01"})
        assert r.headers["X-Gridsvc-Lookup"] == "sql"
        assert r.status_code == 200 and r.json()["zone"] is None  # no zone in 2020: history answers from SQL
        assert client.get("/lookup", params={"lng": 116.3974, "lat": 39.9093}).status_code == 404
        monkeypatch.setenv("GRIDSVC_LOOKUP_INDEX", "0")
        get_settings.cache_clear()
        try:
            r = client.get("/lookup", params={"lng": x, "lat": y})
            assert r.headers["X-Gridsvc-Lookup"] == "sql" and r.json()["zone"]["id"] == zid
        finally:
            monkeypatch.delenv("GRIDSVC_LOOKUP_INDEX")
            get_settings.cache_clear()
        idx.stop()  # no listener: the index can no longer know it is current, so SQL answers
        r = client.get("/lookup", params={"lng": x, "lat": y})
        assert r.headers["X-Gridsvc-Lookup"] == "sql" and r.json()["zone"]["id"] == zid


def test_next_lookup_after_an_edit_names_the_new_party_in_every_worker(city, database_url):
    """uvicorn with 2 workers: after PUT /zones/{id} gives the zone to another party, every lookup answered after
    the edit's response names the new party, whichever worker answers."""
    engine, _ = city
    headers = bearer(engine, "index-planner", "planner")
    with engine.connect() as c:
        zid, _, x, y = zone_point(c, "kind = 'frontage' AND origin = 'auto'")
        version, party = c.execute(text("SELECT version, party_id FROM zones WHERE zone_id = :z AND valid_to IS NULL"),
                                   {"z": zid}).one()
        others = c.execute(text("SELECT id, name FROM parties WHERE kind = 'unit' AND id <> :p ORDER BY id LIMIT 3"),
                           {"p": party}).all()
    from bench.zones import free_port, wait_healthy

    port = free_port()
    env = dict(os.environ, GRIDSVC_DATABASE_URL=database_url, GRIDSVC_PUBLIC_RATE_PER_S="100000",
               GRIDSVC_PUBLIC_BURST="100000", GRIDSVC_PUBLIC_TOTAL_RATE_PER_S="100000")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "gridsvc.api.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"],
                            env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        with httpx.Client(base_url=base, timeout=10) as client:
            def ask():
                r = client.get("/lookup", params={"lng": x, "lat": y}, headers={"Connection": "close"})
                assert r.status_code == 200
                return r.headers["X-Gridsvc-Lookup"], r.json()["primary"]["name"], r.headers.get("X-Gridsvc-Worker")

            deadline = time.monotonic() + 90  # both workers loaded: answers come from memory
            while sum(ask()[0] == "index" for _ in range(20)) < 20:
                assert time.monotonic() < deadline, "the workers never answered from the index"
                time.sleep(0.2)
            workers = set()
            for other_id, other_name in others:
                r = client.put(f"/zones/{zid}", headers=headers | {"If-Match": f'"{zid}-{version}"'},
                               json={"type": "Feature", "geometry": None, "properties": {"party_id": other_id}})
                assert r.status_code == 200, r.text
                version = r.json()["properties"]["version"]
                answers = [ask() for _ in range(40)]
                assert {name for _, name, _ in answers} == {other_name}, answers
                workers |= {w for _, _, w in answers}
            assert len(workers) == 2, "both workers answered after the edits"
            time.sleep(0.5)
            sources = [ask()[0] for _ in range(40)]
            assert sources.count("index") >= 30, sources  # and back on the fast path once reloaded
    finally:
        proc.terminate()
        proc.wait(30)
