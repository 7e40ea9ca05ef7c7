"""A zone's properties are checked against what exists (policies, the kind its party holds), and If-Match takes
only strong ETags (RFC 9110 13.1.1)."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.zones.build import build_zones
from gridsvc.zones.policies import list_policies


@pytest.fixture(scope="module")
def city(nanjing, planner_headers):
    build_zones(nanjing, "三包")
    client = TestClient(create_app(nanjing), headers=planner_headers)
    with nanjing.connect() as c:
        x, y = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current WHERE kind = "
            "'street_space' AND provenance = 'auto' ORDER BY area_m2 DESC LIMIT 1) s")).one()
    return nanjing, client, (x, y)


def _square(x, y, half_m=2.0) -> dict:
    return mapping(shapely.box(x - half_m / 94_400, y - half_m / 111_000, x + half_m / 94_400, y + half_m / 111_000))


def _party(client, kind: str, name: str) -> int:
    r = client.post("/parties", json={"kind": kind, "name": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_policy_that_does_not_exist_is_refused_naming_the_field_and_the_policies(city):
    engine, client, (x, y) = city
    steward = _party(client, "street_steward", "政策测试管家")
    r = client.post("/zones", json={"type": "Feature", "geometry": _square(x, y),
                                    "properties": {"party_id": steward, "policy": "nonexistent_policy"}})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["context"]["where"] == "properties.policy" and "nonexistent_policy" in body["detail"]
    assert all(name in body["detail"] for name in list_policies())
    r = client.post("/zones", json={"type": "Feature", "geometry": _square(x, y),
                                    "properties": {"party_id": steward, "policy": "五包"}})
    assert r.status_code == 201 and r.json()["properties"]["policy"] == "五包", r.text
    zid = r.json()["id"]
    r = client.put(f"/zones/{zid}", headers={"If-Match": f'"{zid}-1"'},
                   json={"type": "Feature", "geometry": None, "properties": {"policy": "nonexistent_policy"}})
    assert r.status_code == 422 and r.json()["context"]["where"] == "properties.policy", r.text
    assert client.delete(f"/zones/{zid}", headers={"If-Match": f'"{zid}-1"'}).status_code == 204


def test_a_kind_must_fit_the_party(city):
    engine, client, (x, y) = city
    manager = _party(client, "property_manager", "物业测试")
    r = client.post("/zones", json={"type": "Feature", "geometry": _square(x, y),
                                    "properties": {"party_id": manager, "kind": "market"}})
    assert r.status_code == 422, r.text
    assert r.json()["context"]["where"] == "properties.kind"
    assert "'compound'" in r.json()["detail"] and "market_operator" in r.json()["detail"]
    with engine.connect() as c:
        zid, version = c.execute(text("SELECT zone_id, version FROM zones_current WHERE kind = 'frontage' "
                                      "ORDER BY zone_id LIMIT 1")).one()
    r = client.put(f"/zones/{zid}", headers={"If-Match": f'"{zid}-{version}"'},
                   json={"type": "Feature", "geometry": None, "properties": {"kind": "market"}})
    assert r.status_code == 422 and r.json()["context"]["where"] == "properties.kind", r.text
    assert client.get(f"/zones/{zid}").json()["properties"]["version"] == version


def test_a_weak_etag_in_if_match_never_matches(city):
    engine, client, (x, y) = city
    steward = _party(client, "street_steward", "弱标签测试管家")
    zid = client.post("/zones", json={"type": "Feature", "geometry": _square(x, y, 1.5),
                                      "properties": {"party_id": steward}}).json()["id"]
    change = {"type": "Feature", "geometry": None, "properties": {"note": "弱"}}
    r = client.put(f"/zones/{zid}", json=change, headers={"If-Match": f'W/"{zid}-1"'})
    assert r.status_code == 412 and "weak" in r.json()["detail"] and r.headers["ETag"] == f'"{zid}-1"', r.text
    assert client.delete(f"/zones/{zid}", headers={"If-Match": f'W/"{zid}-1"'}).status_code == 412
    assert client.get(f"/zones/{zid}").json()["properties"]["version"] == 1
    with engine.connect() as c:
        unit = c.execute(text("SELECT id, version FROM units ORDER BY id LIMIT 1")).one()
    r = client.patch(f"/units/{unit.id}", json={"address": "七号"}, headers={"If-Match": f'W/"{unit.id}-{unit.version}"'})
    assert r.status_code == 412 and "weak" in r.json()["detail"], r.text
    r = client.patch(f"/units/{unit.id}", json={"address": "七号"}, headers={"If-Match": f'"{unit.id}-{unit.version}"'})
    assert r.status_code == 200, r.text
    assert client.delete(f"/zones/{zid}", headers={"If-Match": f'"{zid}-1"'}).status_code == 204
