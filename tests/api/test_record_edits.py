"""Parties and units carry versions: updates need If-Match (or a version), stale ones get 412, nothing is lost."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app


@pytest.fixture(scope="module")
def client(nanjing, planner_headers):
    return TestClient(create_app(nanjing), headers=planner_headers)


@pytest.fixture(scope="module")
def shop(nanjing) -> dict:
    from gridsvc.zones.build import build_zones

    build_zones(nanjing, "三包")  # also records each unit's party
    with nanjing.connect() as c:
        return dict(c.execute(text("SELECT u.id, p.id AS party_id FROM units u JOIN parties p ON p.kind = 'unit' "
                                   "AND p.ref = 'unit:' || u.id WHERE u.phone IS NOT NULL ORDER BY u.id LIMIT 1"))
                    .mappings().one())


def test_a_party_update_needs_its_version_and_stale_ones_are_refused(client):
    p = client.post("/parties", json={"kind": "property_manager", "name": "金陵物业"}).json()
    r = client.get(f"/parties/{p['id']}")
    assert r.status_code == 200 and r.headers["ETag"] == f'"{p["id"]}-1"' and r.json()["version"] == 1
    missing = client.patch(f"/parties/{p['id']}", json={"phone": "025-8888 0000"})
    assert missing.status_code == 428 and missing.headers["ETag"] == f'"{p["id"]}-1"'
    assert "If-Match" in missing.json()["detail"]
    first = client.patch(f"/parties/{p['id']}", json={"phone": "025-8888 0000"}, headers={"If-Match": f'"{p["id"]}-1"'})
    assert first.status_code == 200 and first.json()["version"] == 2 and first.headers["ETag"] == f'"{p["id"]}-2"'
    # a second planner who read version 1 loses the race and is told the current version
    late = client.patch(f"/parties/{p['id']}", json={"contact": "王经理", "version": 1})
    assert late.status_code == 412 and late.json()["context"]["current_version"] == 2
    assert client.get(f"/parties/{p['id']}").json()["phone"] == "025-8888 0000", "the accepted write stands"
    same = client.patch(f"/parties/{p['id']}", json={"phone": "025-8888 0000", "version": 2})
    assert same.status_code == 200 and same.json()["version"] == 2, "an update that changes nothing keeps the version"
    wrong = client.patch(f"/parties/{p['id']}", json={"phone": "1"}, headers={"If-Match": '"999999-2"'})
    assert wrong.status_code == 422 and "ETag of party" in wrong.json()["detail"]
    assert client.patch("/parties/99999999", json={"phone": "1"}, headers={"If-Match": "*"}).status_code == 404


def test_a_units_party_is_edited_through_its_unit(client, shop):
    r = client.patch(f"/parties/{shop['party_id']}", json={"name": "改名"}, headers={"If-Match": "*"})
    assert r.status_code == 422 and f"/units/{shop['id']}" in r.json()["detail"]


def test_editing_a_unit_bumps_its_version_and_its_party_follows_contacts(client, nanjing, shop):
    u = client.get(f"/units/{shop['id']}")
    v = u.json()["version"]
    assert u.headers["ETag"] == f'"{shop["id"]}-{v}"'
    r = client.patch(f"/units/{shop['id']}", json={"address": "湖南路9号", "phone": "13912345678"},
                     headers={"If-Match": u.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == v + 1 and r.json()["address"] == "湖南路9号"
    assert client.get(f"/parties/{shop['party_id']}").json()["phone"] == "13912345678"
    stale = client.patch(f"/units/{shop['id']}", json={"address": "x"}, headers={"If-Match": u.headers["ETag"]})
    assert stale.status_code == 412 and stale.headers["ETag"] == f'"{shop["id"]}-{v + 1}"'
    # ratings are earned from records: a PATCH carrying one is refused, naming where a hand change goes
    r = client.patch(f"/units/{shop['id']}", json={"rating": "red", "version": v + 1})
    assert r.status_code == 422 and "override" in r.text and "reason" in r.text
    assert client.patch(f"/units/{shop['id']}", json={"credit_points": 5, "version": v + 1}).status_code == 422
    assert client.patch(f"/units/{shop['id']}", json={"version": v + 1}).status_code == 422, "nothing to change"
    with nanjing.connect() as c:
        log = c.execute(text("SELECT actor, source, before ->> 'address', after ->> 'address' FROM audit_log "
                             "WHERE table_name = 'units' AND record_id = :id ORDER BY id DESC LIMIT 1"),
                        {"id": str(shop["id"])}).one()
    assert log[1] == "api" and log[3] == "湖南路9号"


def test_roles_on_units_and_parties(nanjing, shop):
    app = create_app(nanjing)
    with TestClient(app) as anon:
        assert anon.patch(f"/units/{shop['id']}", json={"rating": "red"}, headers={"If-Match": "*"}).status_code == 401
        masked = anon.get(f"/units/{shop['id']}").json()["phone"]
        assert "****" in masked, "the public sees a masked phone"
    inspector = bearer(nanjing, "rec-inspector", "inspector")
    party = bearer(nanjing, "rec-party", "party", party_id=shop["party_id"])
    with TestClient(app) as c:
        r = c.patch(f"/units/{shop['id']}", json={"name": "x"}, headers={**inspector, "If-Match": "*"})
        assert r.status_code == 403, "inspectors change no unit field (boards go through the override)"
        assert c.patch(f"/units/{shop['id']}", json={"name": "x"},
                       headers={**party, "If-Match": "*"}).status_code == 403
        assert c.patch("/parties/1", json={"phone": "1"}, headers={**inspector, "If-Match": "*"}).status_code == 403


def test_a_grid_officer_edits_units_only_in_their_grids(nanjing):
    with nanjing.connect() as c:
        grid = c.execute(text("SELECT g.code FROM grid_cells g JOIN units u ON ST_Intersects(g.geom, u.geom) "
                              "ORDER BY g.code LIMIT 1")).scalar_one()
        inside = c.execute(text("SELECT u.id FROM units u JOIN grid_cells g ON ST_Intersects(g.geom, u.geom) "
                                "WHERE g.code = :g LIMIT 1"), {"g": grid}).scalar_one()
        outside = c.execute(text("SELECT u.id FROM units u WHERE NOT EXISTS (SELECT 1 FROM grid_cells g WHERE "
                                 "g.code = :g AND ST_Intersects(g.geom, u.geom)) ORDER BY u.id LIMIT 1"),
                            {"g": grid}).scalar_one()
        before = c.execute(text("SELECT version FROM units WHERE id = :i"), {"i": outside}).scalar_one()
    h = bearer(nanjing, "rec-officer", "grid_officer", (grid,))
    with TestClient(create_app(nanjing), headers=h) as c:
        assert c.patch(f"/units/{inside}", json={"address": "网格内1号"}, headers={"If-Match": "*"}).status_code == 200
        r = c.patch(f"/units/{outside}", json={"address": "网格外1号"}, headers={"If-Match": "*"})
        assert r.status_code == 403 and "outside your grids" in r.json()["detail"]
    with nanjing.connect() as c:
        assert c.execute(text("SELECT version FROM units WHERE id = :i"), {"i": outside}).scalar_one() == before


def test_a_reimport_bumps_only_what_it_changed(nanjing, shop):
    from support import NANJING, shared_file

    from gridsvc.city.ingest import ingest

    ingest(nanjing, shared_file(NANJING))  # sets the ledger's phone of the shop edited above back
    with nanjing.connect() as c:
        before = dict(c.execute(text("SELECT id, version FROM units")).all())
    ingest(nanjing, shared_file(NANJING))
    with nanjing.connect() as c:
        after = dict(c.execute(text("SELECT id, version FROM units")).all())
    assert after == before, "an unchanged re-import leaves every version (and every client's ETag) as it was"


def test_clearing_a_units_name_names_its_party_by_its_kind(client, nanjing, shop):  # shop: parties are built
    with nanjing.connect() as c:
        uid, pid = c.execute(text(
            "SELECT u.id, p.id FROM units u JOIN parties p ON p.kind = 'unit' AND p.ref = 'unit:' || u.id "
            "WHERE u.category = 'shop=convenience' AND u.name IS NOT NULL ORDER BY u.id LIMIT 1")).one()
    r = client.patch(f"/units/{uid}", json={"name": ""}, headers={"If-Match": "*"})
    assert r.status_code == 200, r.text
    assert client.get(f"/parties/{pid}").json()["name"] == "未命名 便利店"
