"""The planner's zone edits over HTTP on real Nanjing zones: versions, overlaps, managed area, split/merge/revert."""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping, shape
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.geo.zone_geometry import to_client
from gridsvc.zones.build import build_zones


@pytest.fixture(scope="module")
def zoned(nanjing):
    """Nanjing with 三包 zones built (plus the fixture's hand-drawn cinema zone)."""
    build_zones(nanjing, "三包")
    return nanjing


@pytest.fixture(scope="module")
def client(zoned, planner_headers):
    return TestClient(create_app(zoned), headers=planner_headers)


@pytest.fixture(scope="module")
def party(client) -> dict:
    r = client.post("/parties", json={"kind": "street_steward", "name": "测试街巷管家", "phone": "13800000000"})
    assert r.status_code == 201, r.text
    return r.json()


def _square(x: float, y: float, half_m: float) -> shapely.Polygon:
    dx, dy = half_m / 94_400, half_m / 111_000  # degrees at 32°N
    return shapely.box(x - dx, y - dy, x + dx, y + dy)


def _feature(geom, **props) -> dict:
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def _free_street_spot(engine, taken: list) -> tuple[float, float]:
    """A point in auto street space at least 15 m from any other zone and from spots used before."""
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current "
            "WHERE kind = 'street_space' AND provenance = 'auto' ORDER BY area_m2 DESC LIMIT 200) s "
            "WHERE NOT EXISTS (SELECT 1 FROM zones_current z WHERE NOT (z.kind = 'street_space' "
            "AND z.provenance = 'auto') AND ST_DWithin(z.geom::geography, s.p::geography, 15))")).all()
    for x, y in rows:
        if all(abs(x - a) > 3e-4 or abs(y - b) > 3e-4 for a, b in taken):
            taken.append((x, y))
            return x, y
    raise AssertionError("no free street spot left")


@pytest.fixture(scope="module")
def spots():
    return []


def _frontage(engine) -> dict:
    with engine.connect() as c:
        return dict(c.execute(text(
            "SELECT zone_id, version, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y, "
            "party_name FROM zones_current WHERE kind = 'frontage' AND provenance = 'auto' AND area_m2 > 60 "
            "ORDER BY zone_id LIMIT 1")).mappings().one())


def _max_overlap_m2(engine) -> float:
    with engine.connect() as c:
        return c.execute(text(
            "SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) FROM zones_current a "
            "JOIN zones_current b ON a.zone_id < b.zone_id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom) "
            "AND NOT ST_Touches(a.geom, b.geom)")).scalar_one()


def test_draw_in_street_space_saves_a_planner_zone_and_takes_the_residual(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    r = client.post("/zones", json=_feature(_square(x, y, 3), party_id=party["id"], note="摊点管理"))
    assert r.status_code == 201, r.text
    f = r.json()
    zid = f["id"]
    assert r.headers["Location"] == f"/zones/{zid}" and r.headers["ETag"] == f'"{zid}-1"'
    assert f["properties"]["provenance"] == "planner" and f["properties"]["kind"] == "street_space"
    assert f["properties"]["party_name"] == "测试街巷管家" and f["properties"]["note"] == "摊点管理"
    assert 30 < f["properties"]["area_m2"] < 42
    assert f["edit"]["street_space_taken"], "the residual street space must yield"
    # returned by the API, and the lookup answers with it
    assert client.get(f"/zones/{zid}").json()["properties"]["version"] == 1
    listed = client.get("/zones", params={"bbox": f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"}).json()
    assert zid in [g["id"] for g in listed["features"]]
    hit = client.get("/lookup", params={"lng": x, "lat": y}).json()
    assert hit["zone"]["kind"] == "street_space" and hit["primary"]["name"] == "测试街巷管家"
    assert _max_overlap_m2(zoned) < 0.01


def test_overlap_with_a_shop_zone_is_refused_naming_it(client, zoned, party):
    fz = _frontage(zoned)
    before = client.get(f"/zones/{fz['zone_id']}").json()
    r = client.post("/zones", json=_feature(_square(fz["x"], fz["y"], 2), party_id=party["id"]))
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "ZoneOverlapError"
    assert f"zone {fz['zone_id']}" in body["detail"] and "m²" in body["detail"]
    hit = body["context"]["overlaps"][0]
    assert hit["zone_id"] == fz["zone_id"] and hit["area_m2"] > 1
    assert client.get(f"/zones/{fz['zone_id']}").json() == before, "nothing may change on a refused edit"


def test_clip_makes_the_new_zone_yield(client, zoned, party):
    fz = _frontage(zoned)
    sq = _square(fz["x"], fz["y"], 6)
    r = client.post("/zones", params={"overlap": "clip"}, json=_feature(sq, party_id=party["id"]))
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["edit"]["clipped_by"][0]["zone_id"] == fz["zone_id"]
    assert shape(f["geometry"]).area < sq.area
    assert client.get(f"/zones/{fz['zone_id']}").json()["properties"]["version"] == fz["version"]
    assert _max_overlap_m2(zoned) < 0.01
    assert client.delete(f"/zones/{f['id']}", headers={"If-Match": "*"}).status_code == 204


def test_take_makes_the_others_yield_as_new_versions(client, zoned, party):
    fz = _frontage(zoned)
    old_area = client.get(f"/zones/{fz['zone_id']}").json()["properties"]["area_m2"]
    r = client.post("/zones", params={"overlap": "take"}, json=_feature(_square(fz["x"], fz["y"], 1.5),
                                                                          party_id=party["id"]))
    assert r.status_code == 201, r.text
    assert fz["zone_id"] in [t["zone_id"] for t in r.json()["edit"]["taken_from"]]
    shop = client.get(f"/zones/{fz['zone_id']}").json()["properties"]
    assert shop["version"] == fz["version"] + 1 and shop["area_m2"] < old_area
    assert shop["provenance"] == "auto", "a zone that yields keeps its provenance"
    history = client.get(f"/zones/{fz['zone_id']}/history").json()["versions"]
    assert [v["version"] for v in history][-2:] == [fz["version"], fz["version"] + 1]
    assert history[-2]["valid_to"] == history[-1]["valid_from"], "versions meet without a gap"
    assert _max_overlap_m2(zoned) < 0.01


def test_outside_the_managed_area_is_refused(client, party):
    r = client.post("/zones", json=_feature(_square(118.9, 32.2, 20), party_id=party["id"]))
    assert r.status_code == 422 and r.json()["error"] == "OutsideManagedAreaError"
    assert "outside the managed area" in r.json()["detail"]


@pytest.mark.parametrize(("body", "where"), [
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.78, 32.04]},
      "properties": {"party_id": 1}}, "geometry.type"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[32.04, 118.78], [32.05, 118.78],
                                                                          [32.05, 118.79], [32.04, 118.78]]]},
      "properties": {"party_id": 1}}, "geometry.coordinates"),
    ({"type": "Feature", "geometry": None, "properties": {"party_id": 1}}, "geometry"),
])
def test_bad_geometries_get_422_naming_the_problem(client, body, where):
    r = client.post("/zones", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["context"]["where"] == where
    if where == "geometry.coordinates":
        assert "[lat, lng]" in r.json()["detail"]


def test_self_intersecting_polygon_is_located_or_repaired_on_request(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    d = 3e-5
    bowtie = {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y + d], [x + d, y - d], [x - d, y + d],
                                                  [x - d, y - d]]]}
    body = {"type": "Feature", "geometry": bowtie, "properties": {"party_id": party["id"]}}
    r = client.post("/zones", json=body)
    assert r.status_code == 422 and "Self-intersection" in r.json()["detail"], r.text
    assert "repair=true" in r.json()["detail"]
    r = client.post("/zones", params={"repair": "true"}, json=body)
    assert r.status_code == 201, r.text
    client.delete(f"/zones/{r.json()['id']}", headers={"If-Match": "*"})


def test_edit_history_if_match_delete_and_revert(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    zid = client.post("/zones", json=_feature(_square(x, y, 2), party_id=party["id"])).json()["id"]
    bigger = _feature(_square(x, y, 3))
    missing = client.put(f"/zones/{zid}", json=bigger)
    assert missing.status_code == 428 and missing.headers["ETag"] == f'"{zid}-1"', missing.text
    assert f'If-Match: "{zid}-1"' in missing.json()["detail"]
    r = client.put(f"/zones/{zid}", json=bigger, headers={"If-Match": f'"{zid}-1"'})
    assert r.status_code == 200 and r.headers["ETag"] == f'"{zid}-2"', r.text
    stale = client.put(f"/zones/{zid}", json=_feature(_square(x, y, 2.5)), headers={"If-Match": f'"{zid}-1"'})
    assert stale.status_code == 412 and stale.json()["context"]["current_version"] == 2
    assert stale.headers["ETag"] == f'"{zid}-2"'
    other = client.post("/parties", json={"kind": "grid_officer", "name": "网格员 李四"}).json()
    old = {"type": "Feature", "geometry": None, "properties": {"party_id": other["id"], "version": 1}}
    assert client.put(f"/zones/{zid}", json=old).status_code == 412, "a stale version field is refused too"
    r = client.put(f"/zones/{zid}", json={"type": "Feature", "geometry": None,
                                          "properties": {"party_id": other["id"], "version": 2}})
    assert r.status_code == 200 and r.json()["properties"]["party_name"] == "网格员 李四"
    assert shape(r.json()["geometry"]).equals_exact(shape(client.get(f"/zones/{zid}", params={"version": 2})
                                                          .json()["geometry"]), 1e-9)
    assert client.delete(f"/zones/{zid}").status_code == 428
    assert client.delete(f"/zones/{zid}", headers={"If-Match": f'"{zid}-2"'}).status_code == 412
    assert client.delete(f"/zones/{zid}", headers={"If-Match": f'"{zid}-3"'}).status_code == 204
    assert client.get(f"/zones/{zid}").status_code == 404
    versions = client.get(f"/zones/{zid}/history").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3] and versions[-1]["valid_to"] is not None
    assert [v["party_name"] for v in versions] == ["测试街巷管家", "测试街巷管家", "网格员 李四"]
    assert {v["created_by"] for v in versions} == {"test-planner"}, "each version names the user who saved it"
    assert client.post(f"/zones/{zid}/revert", params={"version": 1}).status_code == 428
    r = client.post(f"/zones/{zid}/revert", params={"version": 1}, headers={"If-Match": f'"{zid}-3"'})
    assert r.status_code == 200, r.text
    back = r.json()["properties"]
    assert back["version"] == 4 and back["party_name"] == "测试街巷管家" and "version 1" in back["note"]
    assert abs(back["area_m2"] - versions[0]["area_m2"]) < 0.05
    assert _max_overlap_m2(zoned) < 0.01


def test_split_then_merge(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    zid = client.post("/zones", json=_feature(_square(x, y, 3), party_id=party["id"])).json()["id"]
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x, y - 1e-4], [x, y + 1e-4]]}}
    assert client.post(f"/zones/{zid}/split", json=line).status_code == 428
    r = client.post(f"/zones/{zid}/split", json=line, headers={"If-Match": f'"{zid}-1"'})
    assert r.status_code == 200, r.text
    parts = r.json()["features"]
    assert len(parts) == 2 and parts[0]["id"] == zid
    assert all(p["properties"]["party_id"] == party["id"] for p in parts)
    assert abs(parts[0]["properties"]["area_m2"] - parts[1]["properties"]["area_m2"]) < 1
    miss = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x + 1, y], [x + 1, y + 1e-4]]}}
    assert client.post(f"/zones/{zid}/split", json=miss, headers={"If-Match": f'"{zid}-2"'}).status_code == 422
    ids = [zid, parts[1]["id"]]
    assert client.post("/zones/merge", json={"ids": ids}).status_code == 428
    assert client.post("/zones/merge", json={"ids": ids, "versions": [2, 2]}).status_code == 412
    r = client.post("/zones/merge", json={"ids": ids, "versions": [2, 1]})
    assert r.status_code == 200, r.text
    assert 30 < r.json()["properties"]["area_m2"] < 42
    assert client.get(f"/zones/{parts[1]['id']}").status_code == 404
    far = _free_street_spot(zoned, spots)
    lone = client.post("/zones", json=_feature(_square(*far, 2), party_id=party["id"])).json()["id"]
    r = client.post("/zones/merge", json={"ids": [zid, lone], "versions": [3, 1]})
    assert r.status_code == 422 and "touching" in r.json()["detail"]


def test_gcj02_bodies_and_answers(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    wgs = _square(x, y, 2)
    r = client.post("/zones", params={"crs": "gcj02"}, json=_feature(to_client(wgs, "gcj02"), party_id=party["id"]))
    assert r.status_code == 201, r.text
    zid = r.json()["id"]
    stored = shape(client.get(f"/zones/{zid}").json()["geometry"])
    assert stored.hausdorff_distance(wgs) < 3e-7, "stored in WGS84 to 3 cm, not 500 m off"
    shifted = shape(client.get(f"/zones/{zid}", params={"crs": "gcj02"}).json()["geometry"])
    assert 300 < shifted.centroid.distance(stored.centroid) * 100_000 < 800


def test_planner_zones_from_the_api_survive_a_rebuild(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    zid = client.post("/zones", json=_feature(_square(x, y, 2), party_id=party["id"])).json()["id"]
    before = client.get(f"/zones/{zid}").json()
    build_zones(zoned, "三包")
    assert client.get(f"/zones/{zid}").json() == before
    assert _max_overlap_m2(zoned) < 0.01


def test_parties_search_and_validation(client, party):
    found = client.get("/parties", params={"q": "街巷管家"}).json()
    assert party["id"] in [p["id"] for p in found]
    assert client.get("/parties", params={"q": "%"}).status_code == 200
    r = client.post("/parties", json={"kind": "emperor", "name": "x"})
    assert r.status_code == 422
    r = client.post("/zones", json=_feature(_square(118.78, 32.04, 2), party_id=987654))
    assert r.status_code == 404 and "party 987654" in r.json()["detail"]
    assert json.dumps(found, ensure_ascii=False)


def test_a_feature_whose_bbox_does_not_hold_its_geometry_is_refused(client, zoned, party, spots):
    x, y = _free_street_spot(zoned, spots)
    body = _feature(_square(x, y, 2), party_id=party["id"]) | {"bbox": [0, 0, 1, 1]}
    r = client.post("/zones", json=body)
    assert r.status_code == 422 and "bbox" in r.json()["detail"], r.text
