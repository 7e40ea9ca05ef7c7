"""Permission before content: a grid officer's write outside their grids is 403 whatever else is wrong with it
(no If-Match, a stale or weak one, an unknown party, a broken or overlapping shape, a bad split line or merge, a
reverted version that does not exist, a body FastAPI would refuse), on every zone and unit write; and inside their
grid the residual street space yields to them as to anyone.
"""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.zones.build import build_zones

M_X, M_Y = 1 / 94_400, 1 / 111_000


@pytest.fixture(scope="module")
def city(nanjing, planner_headers):
    build_zones(nanjing, "三包")
    with nanjing.connect() as c:
        # a frontage zone 2 m clear of every edge of one grid cell, touching only the residual street space
        zone_id, grid = c.execute(text(
            "SELECT z.zone_id, g.code FROM zones_current z JOIN grid_cells g "
            "ON ST_Contains(g.geom, ST_Buffer(z.geom::geography, 2)::geometry) WHERE z.kind = 'frontage' "
            "AND NOT EXISTS (SELECT 1 FROM zones_current o WHERE o.zone_id <> z.zone_id AND NOT (o.kind = "
            "'street_space' AND o.provenance = 'auto') AND ST_DWithin(o.geom::geography, z.geom::geography, 2)) "
            "AND EXISTS (SELECT 1 FROM zones_current s WHERE s.kind = 'street_space' AND s.provenance = 'auto' "
            "AND ST_DWithin(s.geom::geography, z.geom::geography, 0.5) AND NOT ST_Within(s.geom, g.geom)) "
            "ORDER BY z.zone_id LIMIT 1")).one()
        foreign = c.execute(text(
            "SELECT z.zone_id FROM zones_current z WHERE z.kind = 'frontage' AND NOT EXISTS (SELECT 1 FROM "
            "grid_cells g WHERE substr(g.code, 1, 12) = :c AND g.geom && z.geom) ORDER BY zone_id LIMIT 2"),
            {"c": grid[:12]}).scalars().all()
        unit = c.execute(text("SELECT u.id FROM units u WHERE NOT EXISTS (SELECT 1 FROM grid_cells g WHERE "
                              "substr(g.code, 1, 12) = :c AND ST_Intersects(g.geom, u.geom)) ORDER BY u.id LIMIT 1"),
                         {"c": grid[:12]}).scalar_one()
    officer = bearer(nanjing, "scope-officer", "grid_officer", (grid,))
    client = TestClient(create_app(nanjing), raise_server_exceptions=False)
    return nanjing, client, officer, planner_headers, zone_id, grid, foreign, unit


def _snapshot(engine) -> tuple:
    with engine.connect() as c:
        return (c.execute(text("SELECT count(*), max(id) FROM zones")).one(),
                c.execute(text("SELECT sum(version) FROM units")).scalar_one())


def _bad_requests(client, planner, foreign: list[int], unit: int):
    """(method, url, kwargs) for every zone and unit write, each failing on something besides the scope."""
    a, b = foreign
    geom = client.get(f"/zones/{a}").json()["geometry"]
    etag = client.get(f"/zones/{a}").headers["ETag"]
    box = shapely.geometry.shape(geom).envelope
    bowtie = {"type": "Polygon", "coordinates": [[list(box.exterior.coords[i]) for i in (0, 2, 1, 3, 0)]]}
    feature = {"type": "Feature", "geometry": geom, "properties": {"party_id": 1}}
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1e-9, 1e-9]]}}
    weak = {"If-Match": f"W/{etag}"}
    yield "POST", "/zones", {"json": feature}  # overlaps zone a (409)
    yield "POST", "/zones", {"json": feature | {"geometry": bowtie}}  # invalid (422)
    yield "POST", "/zones", {"json": feature | {"properties": {"party_id": 987654}}}  # no such party (404)
    yield "POST", "/zones", {"json": feature | {"properties": {"party_id": 1, "kind": "palace"}}}  # pydantic 422
    yield "POST", "/zones?overlap=sideways", {"json": feature}  # bad query (422)
    yield "PUT", f"/zones/{a}", {"json": feature}  # no If-Match (428)
    yield "PUT", f"/zones/{a}", {"json": feature, "headers": {"If-Match": f'"{a}-99"'}}  # stale (412)
    yield "PUT", f"/zones/{a}", {"json": feature, "headers": weak}  # weak (412)
    yield "PUT", f"/zones/{a}", {"json": feature | {"geometry": bowtie}, "headers": {"If-Match": "*"}}
    yield "PUT", f"/zones/{a}", {"json": {"type": "Feature", "geometry": None, "properties": {"party_id": 987654}},
                                 "headers": {"If-Match": "*"}}
    yield "PUT", f"/zones/{a}", {"json": {"type": "feature"}, "headers": {"If-Match": "*"}}  # pydantic 422
    yield "PUT", f"/zones/{a}", {"json": feature | {"properties": {"policy": "nonexistent_policy"}},
                                 "headers": {"If-Match": "*"}}
    yield "PUT", f"/zones/{a}", {"json": feature | {"properties": {"party_id": 1, "kind": "market"}},
                                 "headers": {"If-Match": "*"}}  # kind does not fit the party (422)
    yield "DELETE", f"/zones/{a}", {}
    yield "DELETE", f"/zones/{a}", {"headers": {"If-Match": f'"{a}-99"'}}
    yield "POST", f"/zones/{a}/split", {"json": line, "headers": {"If-Match": "*"}}  # misses (422)
    yield "POST", f"/zones/{a}/split", {"json": {"type": "Feature"}, "headers": {"If-Match": "*"}}  # pydantic
    yield "POST", f"/zones/{a}/split", {"json": line}  # 428
    yield "POST", f"/zones/{a}/revert?version=99", {"headers": {"If-Match": "*"}}  # no such version (404)
    yield "POST", f"/zones/{a}/revert?version=1", {}  # 428
    yield "POST", f"/zones/{a}/revert?version=0", {"headers": {"If-Match": "*"}}  # query 422
    yield "POST", "/zones/merge", {"json": {"ids": [a, b], "versions": [99, 99]}}  # 412
    yield "POST", "/zones/merge", {"json": {"ids": [a, b]}}  # 428 (and not touching: 422)
    yield "POST", "/zones/merge", {"json": {"ids": [a, b], "versions": [1, 1], "party_id": 987654}}
    yield "POST", "/zones/merge", {"json": {"ids": [a, b], "versions": "x"}}  # pydantic 422
    yield "POST", "/ogc/collections/zones/items", {"json": feature}
    yield "POST", "/ogc/collections/zones/items", {"json": feature | {"geometry": bowtie}}
    yield "PUT", f"/ogc/collections/zones/items/{a}", {"json": feature}
    yield "PUT", f"/ogc/collections/zones/items/{a}", {"json": {"type": 5}, "headers": weak}
    yield "DELETE", f"/ogc/collections/zones/items/{a}", {}
    yield "DELETE", f"/ogc/collections/zones/items/{a}", {"headers": weak}
    yield "PATCH", f"/units/{unit}", {"json": {"rating": "red"}, "headers": {"If-Match": "*"}}  # 422: earned, not typed
    yield "PATCH", f"/units/{unit}", {"json": {"colour": "red"}, "headers": {"If-Match": "*"}}  # not editable
    yield "PATCH", f"/units/{unit}", {"json": {"address": "5号"}}  # 428
    yield "PATCH", f"/units/{unit}", {"json": {"address": "5号"}, "headers": {"If-Match": f'W/"{unit}-1"'}}
    yield "PATCH", f"/units/{unit}", {"json": {"address": "5号"}, "headers": {"If-Match": f'"{unit}-99"'}}
    yield "POST", f"/units/{unit}/credit", {"json": {"amount": 5, "reason": ""}}  # a reason is needed
    yield "POST", f"/units/{unit}/board", {"json": {"status": "stolen"}}
    yield "POST", f"/units/{unit}/pledge", {"json": {"signed_on": "2026-11-02"}}  # no signatory


def test_every_zone_and_unit_write_is_scanned(city):
    _, client, _, planner, _, _, foreign, unit = city
    scanned = {(m, u.split("?")[0]) for m, u, _ in _bad_requests(client, planner, foreign, unit)}
    a = foreign[0]
    templates = {(m, u.replace(f"/{a}", "/{id}").replace(f"/{unit}", "/{id}")) for m, u in scanned}
    paths = client.app.openapi()["paths"]
    writes = {(m.upper(), p.replace("{zone_id}", "{id}").replace("{record_id}", "{id}").replace("{unit_id}", "{id}").replace(
        "{collectionId}", "zones").replace("{featureId}", "{id}"))
        for p, item in paths.items() for m in item if m != "get"
        and (p.startswith("/zones") or p.startswith("/units") or p.startswith("/ogc/collections"))}
    assert writes == templates, "scan every zone and unit write here: " + ", ".join(map(str, writes - templates))


def test_out_of_scope_writes_get_403_before_any_other_check(city):
    engine, client, officer, planner, _, grid, foreign, unit = city
    before = _snapshot(engine)
    wrong = []
    for method, url, kwargs in _bad_requests(client, planner, foreign, unit):
        # as a planner (in scope) each of these fails on its content: proof the body is bad
        headers = kwargs.get("headers", {})
        r = client.request(method, url, **{**kwargs, "headers": {**headers, **officer}})
        if r.status_code != 403 or "outside your grids" not in r.text or grid not in r.text:
            wrong.append(f"{method} {url} {kwargs}: {r.status_code} {r.text[:160]}")
    assert wrong == [], "\n".join(wrong)
    assert _snapshot(engine) == before, "nothing changed"


def test_the_same_requests_fail_on_their_content_for_a_planner(city):
    """The bodies above are bad: a planner (no grid scope) gets 4xx other than 403 for each."""
    engine, client, _, planner, _, _, foreign, unit = city
    before = _snapshot(engine)
    for method, url, kwargs in _bad_requests(client, planner, foreign, unit):
        r = client.request(method, url, **{**kwargs, "headers": {**kwargs.get("headers", {}), **planner}})
        assert 400 <= r.status_code < 500 and r.status_code not in (401, 403), (method, url, kwargs, r.text[:200])
    assert _snapshot(engine) == before


def _grown(geometry: dict, metres: float) -> dict:
    g = shapely.geometry.shape(geometry)
    c = g.centroid
    local = shapely.affinity.scale(g, 1 / M_X, 1 / M_Y, origin=c).buffer(metres, join_style="mitre")
    return mapping(shapely.affinity.scale(local, M_X, M_Y, origin=c))


@pytest.mark.parametrize("overlap", ["reject", "clip", "take"])
def test_an_officer_takes_street_space_inside_their_grid(city, overlap):
    engine, client, officer, _, zone_id, _, _, _ = city
    got = client.get(f"/zones/{zone_id}", headers=officer)
    f = got.json()
    r = client.put(f"/zones/{zone_id}", params={"overlap": overlap}, headers={**officer, "If-Match": got.headers["ETag"]},
                   json={"type": "Feature", "geometry": _grown(f["geometry"], 0.5), "properties": {}})
    assert r.status_code == 200, r.text
    assert r.json()["edit"]["street_space_taken"], "the residual street space yielded"
    assert r.json()["properties"]["area_m2"] > f["properties"]["area_m2"] + 1
