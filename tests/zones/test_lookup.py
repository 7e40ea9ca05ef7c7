"""Who is responsible here: lookup on the real Nanjing extract (every CRS, boundaries, outside, history, the API)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import zone_point

from gridsvc.api.app import create_app
from gridsvc.errors import NotFoundError
from gridsvc.geo.chinese_crs import wgs84_to_bd09, wgs84_to_gcj02
from gridsvc.people.parties import reassign_zone, zone_history
from gridsvc.zones.lookup import lookup


def test_named_shops_resolve_to_themselves(city):
    engine, _ = city
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT DISTINCT ON (u.id) u.id, u.name, ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)) "
            "FROM zones z JOIN units u ON u.id = z.unit_id WHERE z.valid_to IS NULL AND u.name IS NOT NULL "
            "ORDER BY u.id LIMIT 8")).all()
        assert len(rows) == 8
        for uid, name, x, y in rows:
            r = lookup(c, x, y)
            assert r["zone"]["unit_id"] == uid and r["primary"]["name"] == name and r["primary"]["kind"] == "unit"
            assert [d["zh"] for d in r["primary"]["duties"]] == ["环境卫生", "秩序", "绿化"]
            assert r["rule"]["rule"].startswith("事件先属地后属主")
            assert len(r["cell"]["grid_code"]) == 15


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_lookup_in_every_coordinate_system(city, crs):
    engine, _ = city
    with engine.connect() as c:
        zid, uid, x, y = zone_point(c, "kind = 'frontage'")
        fx, fy = {"wgs84": lambda a, b: (a, b), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}[crs](
            np.array([x]), np.array([y]))
        r = lookup(c, float(fx[0]), float(fy[0]), crs=crs)
    assert r["zone"]["id"] == zid and r["zone"]["unit_id"] == uid


def test_point_on_a_zone_boundary_is_covered(city):
    engine, _ = city
    with engine.connect() as c:
        zid, x, y = c.execute(text(
            "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1) AS p "
            "FROM zones WHERE valid_to IS NULL AND kind = 'frontage' ORDER BY id LIMIT 1) s")).one()
        r = lookup(c, x, y)
    assert r["zone"] is not None
    with engine.connect() as c:
        covering = c.execute(text("SELECT array_agg(id) FROM zones WHERE valid_to IS NULL AND "
                                  "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), {"x": x, "y": y}).scalar()
    assert zid in covering and r["zone"]["id"] in covering


def test_outside_the_managed_area_is_404_not_500(city):
    engine, _ = city
    with engine.connect() as c, pytest.raises(NotFoundError, match="outside the managed area"):
        lookup(c, 116.3974, 39.9093)  # Tiananmen, far from Nanjing
    with TestClient(create_app(engine)) as client:
        r = client.get("/lookup", params={"lng": 116.3974, "lat": 39.9093})
        assert r.status_code == 404 and "outside the managed area" in r.json()["detail"]
        assert client.get("/lookup", params={"lng": 32.04, "lat": 118.78}).status_code == 422  # swapped


def test_history_answers_who_was_responsible_that_day(city):
    engine, _ = city
    with engine.begin() as c:
        zid, uid, x, y = zone_point(c, "kind = 'frontage'")
        before = c.execute(text("SELECT party_id FROM zones WHERE zone_id = :i AND valid_to IS NULL"),
                           {"i": zid}).scalar()
        other = c.execute(text("SELECT id FROM parties WHERE kind = 'unit' AND id <> :p ORDER BY id LIMIT 1"),
                          {"p": before}).scalar()
    time.sleep(0.05)
    t_old = datetime.now(UTC)
    time.sleep(0.05)
    with engine.begin() as c:
        key = c.execute(text("SELECT zone_key FROM zones WHERE zone_id = :i LIMIT 1"), {"i": zid}).scalar()
        reassign_zone(c, zid, other)
    with engine.connect() as c:
        then, now = lookup(c, x, y, at=t_old), lookup(c, x, y)
        names = dict(c.execute(text("SELECT id, name FROM parties WHERE id IN (:a, :b)"), {"a": before, "b": other}).all())
        versions = zone_history(c, key)
    assert then["primary"]["name"] == names[before] and now["primary"]["name"] == names[other]
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["valid_to"] is not None
    with engine.begin() as c:  # give it back so other tests see the original
        reassign_zone(c, now["zone"]["id"], before)


def test_api_lookup_radius_batch_and_validate(city, planner_headers):
    engine, _ = city
    with TestClient(create_app(engine), headers=planner_headers) as client, engine.connect() as c:
        zid, uid, x, y = zone_point(c, "kind = 'frontage'")
        gx, gy = wgs84_to_gcj02(np.array([x]), np.array([y]))
        r = client.get("/lookup", params={"lng": float(gx[0]), "lat": float(gy[0]), "crs": "gcj02", "radius": 30})
        assert r.status_code == 200 and r.json()["zone"]["id"] == zid, r.text
        near = r.json()["nearby"]
        assert near[0]["id"] == zid and near[0]["distance_m"] == 0 and all(n["distance_m"] <= 30 for n in near)
        xs = np.linspace(118.76, 118.80, 100)
        ys = np.linspace(32.03, 32.058, 100)
        pts = [[float(a), float(b)] for a in xs for b in ys] + [[116.39, 39.9]]
        batch = client.post("/lookup", json={"points": pts[:10_000]}).json()
        assert batch["count"] == 10_000 and [b["index"] for b in batch["results"]] == list(range(10_000))
        assert sum(b["inside"] for b in batch["results"]) > 9000
        assert client.post("/lookup", json={"points": pts}).status_code == 422
        report = client.get("/zones/validate").json()
        assert report["summary"]["overlaps"] == 0 and report["summary"]["units_with_zone_pct"] > 60
        assert report["coverage_by_street"] and report["coverage_by_cell"]
        fc = client.get("/zones", params={"limit": 3}).json()
        assert fc["numberMatched"] > 100 and {"party_name", "kind", "policy", "provenance"} <= set(
            fc["features"][0]["properties"])
