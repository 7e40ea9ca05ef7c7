"""Inspections over HTTP against PostGIS: recording (routing at the inspection time, GCJ-02 in, the derived score),
scope before validation, roles, a failed item opening a case in one step (and rolling back with it), a case opened
later from a failed item, reading and listing with filters and scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.errors import InputError
from gridsvc.geo.chinese_crs import wgs84_to_gcj02
from gridsvc.ops.inspections import core
from gridsvc.zones.build import build_zones

PHOTO = "cd" * 32
SHIRONG = [str(i) for i in range(1, 11)]  # shirong-shiluan: ten items of 10 points each
# A named unit holding a frontage zone with a party, and the grid cell of its point.
UNIT = """
SELECT u.id, ST_X(u.geom) AS x, ST_Y(u.geom) AS y, g.code AS grid, z.zone_id, z.party_id
FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage' AND z.party_id IS NOT NULL
JOIN grid_cells g ON ST_Covers(g.geom, u.geom)
ORDER BY u.id LIMIT 1
"""


@pytest.fixture(scope="module")
def city(nanjing):
    build_zones(nanjing, "三包")
    with nanjing.begin() as c:
        unit = c.execute(text(UNIT)).mappings().one()
        other_grid = c.execute(text("SELECT code FROM grid_cells WHERE substr(code, 1, 12) <> :c ORDER BY code "
                                    "LIMIT 1"), {"c": unit["grid"][:12]}).scalar_one()
        c.execute(text("INSERT INTO uploads (sha256, kind, content_type, size_bytes, filename) VALUES "
                       "(:s, 'photo', 'image/jpeg', 1, 'shop.jpg') ON CONFLICT DO NOTHING"), {"s": PHOTO})
    heads = {
        "admin": bearer(nanjing, "insp-admin", "admin"),
        "inspector": bearer(nanjing, "insp-inspector", "inspector"),
        "dispatcher": bearer(nanjing, "insp-dispatcher", "dispatcher"),
        "planner": bearer(nanjing, "insp-planner", "planner"),
        "grid_officer": bearer(nanjing, "insp-officer", "grid_officer", (unit["grid"],)),
        "other_officer": bearer(nanjing, "insp-officer-2", "grid_officer", (other_grid,)),
        "party": bearer(nanjing, "insp-party", "party", party_id=unit["party_id"]),
        "public": {},
    }
    client = TestClient(create_app(nanjing), raise_server_exceptions=True)
    return nanjing, client, heads, dict(unit)


def _body(unit, **extra) -> dict:
    results = [{"item": i, "result": "pass"} for i in SHIRONG]
    return {"target_kind": "unit", "target_id": unit["id"], "checklist": "shirong-shiluan",
            "inspector_kind": "grid_officer", "results": results} | extra


def _count(engine, table: str = "inspections") -> int:
    with engine.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_record_routes_scores_and_takes_gcj02(city):
    engine, client, heads, unit = city
    gx, gy = wgs84_to_gcj02(unit["x"], unit["y"])
    body = _body(unit, lng=float(gx), lat=float(gy), crs="gcj02", unannounced=True, inspector_name="王巡查")
    body["results"][2] = {"item": "3", "result": "fail", "note": "门口堆放纸箱", "photos": [PHOTO]}
    body["results"][9] = {"item": "10", "result": "na"}
    r = client.post("/inspections", json=body, headers=heads["grid_officer"])
    assert r.status_code == 201, r.text
    got = r.json()
    assert r.headers["Location"] == f"/inspections/{got['id']}"
    assert got["routing"]["unit_id"] == unit["id"] and got["routing"]["zone_id"] == unit["zone_id"]
    assert got["routing"]["party_id"] == unit["party_id"] and got["routing"]["grid_code"] == unit["grid"]
    # 8 passed of 9 checked, 10 points each
    assert (got["score"], got["max_score"], got["percent"]) == (80.0, 90.0, 88.89)
    assert (got["items_total"], got["items_failed"], got["passed"]) == (10, 1, False)
    assert got["failed_items"] == ["3"] and got["cases"] == []
    assert got["results"][2] | {} == {"seq": 3, "item": "3", "text_zh": got["results"][2]["text_zh"],
                                      "result": "fail", "result_zh": "不合格", "score": 0.0,
                                      "note": "门口堆放纸箱", "photos": [PHOTO]}
    assert got["results"][9]["score"] is None and got["results"][0]["score"] == 10.0
    assert got["point"]["crs_in"] == "gcj02"
    assert got["point"]["lng"] == pytest.approx(unit["x"], abs=1e-6)  # GCJ-02 in, WGS84 stored
    assert got["point"]["lat"] == pytest.approx(unit["y"], abs=1e-6)
    assert got["inspector"] == {"account": "insp-officer", "contact": "王巡查", "kind": "grid_officer",
                                "kind_zh": "网格员", "kind_en": "grid officer"}
    assert got["unannounced"] is True and got["inspected_at"].endswith("+08:00")  # default now, Beijing time
    assert client.get(f"/inspections/{got['id']}", headers=heads["inspector"]).json() == got


def test_scope_before_validation(city):
    engine, client, heads, unit = city
    bad = _body(unit, checklist="no-such-list")
    bad["results"] = bad["results"][:3]
    before = _count(engine)
    r = client.post("/inspections", json=bad, headers=heads["other_officer"])
    assert r.status_code == 403 and "outside your grids" in r.json()["detail"]
    r = client.post("/inspections", json=bad, headers=heads["grid_officer"])
    assert r.status_code == 422 and "no checklist 'no-such-list'" in r.json()["detail"]
    assert client.post("/inspections", json=_body(unit), headers=heads["party"]).status_code == 403
    assert client.post("/inspections", json=_body(unit), headers=heads["planner"]).status_code == 403
    assert client.post("/inspections", json=_body(unit)).status_code == 401
    assert client.get("/inspections", headers=heads["party"]).status_code == 403
    assert _count(engine) == before


def test_every_item_once_named_in_one_error(city):
    _engine, client, heads, unit = city
    body = _body(unit)
    body["results"] = body["results"][:8] + [{"item": "1", "result": "fail"}, {"item": "11", "result": "pass"}]
    r = client.post("/inspections", json=body, headers=heads["inspector"])
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "has no item '11'" in detail and "item '1' answered more than once" in detail
    assert "item '9', '10' not answered" in detail


def test_a_failed_item_opens_a_case_in_one_step(city):
    engine, client, heads, unit = city
    body = _body(unit, inspector_kind="chengguan")
    body["results"][1] = {"item": "2", "result": "fail", "note": "店外经营", "photos": [PHOTO], "open_case": True}
    r = client.post("/inspections", json=body, headers=heads["inspector"])
    assert r.status_code == 201, r.text
    got = r.json()
    assert [c["inspection_item"] for c in got["cases"]] == ["2"]
    case = client.get(f"/cases/{got['cases'][0]['id']}", headers=heads["admin"]).json()
    assert case["source"] == "inspection" and case["category"]["code"] == "SJ0502"  # the item's category
    assert case["routing"]["grid_code"] and case["routing"]["zone_id"]
    assert case["description"] == "巡查不合格：" + got["results"][1]["text_zh"] + "（店外经营）"
    assert case["events"][0]["photos"] == [PHOTO]
    with engine.connect() as c:
        row = c.execute(text("SELECT inspection_id, inspection_item FROM cases WHERE id = :i"),
                        {"i": case["id"]}).one()
    assert tuple(row) == (got["id"], "2")


def test_a_case_that_cannot_open_rolls_the_inspection_back(city, monkeypatch):
    engine, client, heads, unit = city

    def refuse(*args, **kwargs):
        raise InputError("the case could not be opened", where="point")

    monkeypatch.setattr(core, "open_case", refuse)
    body = _body(unit)
    body["results"][0] = {"item": "1", "result": "fail", "open_case": True}
    before = _count(engine), _count(engine, "inspection_results"), _count(engine, "cases")
    r = client.post("/inspections", json=body, headers=heads["admin"])
    assert r.status_code == 422 and "the case could not be opened" in r.json()["detail"]
    assert (_count(engine), _count(engine, "inspection_results"), _count(engine, "cases")) == before


def test_open_a_case_later_from_a_failed_item_only(city):
    _engine, client, heads, unit = city
    body = _body(unit, checklist="policy:三包",
                 results=[{"item": "sanitation", "result": "fail", "note": "门前垃圾"},
                          {"item": "order", "result": "pass"}, {"item": "greenery", "result": "na"}])
    got = client.post("/inspections", json=body, headers=heads["grid_officer"]).json()
    assert got["score"] is None and got["percent"] == 50.0  # no scores: items weigh 1 each
    url = f"/inspections/{got['id']}/cases"
    r = client.post(url, json={"item": "order"}, headers=heads["dispatcher"])
    assert r.status_code == 409 and "is pass (合格): only a failed item opens a case" in r.json()["detail"]
    assert client.post(url, json={"item": "greenery"}, headers=heads["dispatcher"]).status_code == 409
    assert client.post(url, json={"item": "nothing"}, headers=heads["dispatcher"]).status_code == 422
    assert client.post(url, json={"item": "sanitation"}, headers=heads["other_officer"]).status_code == 403
    r = client.post(url, json={"item": "sanitation"}, headers=heads["grid_officer"])
    assert r.status_code == 201, r.text
    case = client.get(f"/cases/{r.json()['case_id']}", headers=heads["admin"]).json()
    assert case["category"]["code"] == "SJ0509"  # the duty's category (categories.toml duty_categories)
    assert r.json()["inspection"]["cases"][0]["id"] == case["id"]
    again = client.post(url, json={"item": "sanitation"}, headers=heads["grid_officer"])
    assert again.status_code == 409 and "already" in again.json()["detail"]


def test_list_filters_and_scope(city):
    _engine, client, heads, unit = city
    body = _body(unit, inspected_at="2026-04-01T23:30", unannounced=True)
    made = client.post("/inspections", json=body, headers=heads["admin"]).json()

    def ids(headers, **params):
        r = client.get("/inspections", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["inspections"]]

    assert made["id"] in ids(heads["admin"], unit=unit["id"], passed=True, unannounced=True)
    assert made["id"] in ids(heads["admin"], since="2026-04-01", until="2026-04-01")  # a Beijing day
    assert made["id"] not in ids(heads["admin"], since="2026-04-02")
    assert made["id"] not in ids(heads["admin"], passed=False)
    assert made["id"] in ids(heads["grid_officer"]) and made["id"] in ids(heads["grid_officer"], grid=unit["grid"])
    assert ids(heads["other_officer"]) == []
    assert client.get("/inspections", params={"grid": unit["grid"]}, headers=heads["other_officer"]).status_code == 403
    assert client.get(f"/inspections/{made['id']}", headers=heads["other_officer"]).status_code == 403
    assert made["id"] in ids(heads["admin"], inspector="insp-admin")
    assert client.get("/inspections/999999", headers=heads["admin"]).status_code == 404


def test_checklists(city):
    _engine, client, _heads, _unit = city
    listed = client.get("/checklists", params={"target": "market"}).json()["checklists"]
    assert {c["id"] for c in listed} >= {"market", "policy:三包"} and "shirong-shiluan" not in {c["id"] for c in listed}
    one = client.get("/checklists/shirong-shiluan").json()
    assert [i["id"] for s in one["sections"] for i in s["items"]] == SHIRONG
    assert client.get("/checklists/nothing").status_code == 404
