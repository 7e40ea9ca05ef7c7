"""The 12345 hotline over HTTP: permission first, an uploaded GBK CSV imported (all or nothing, re-import updates),
the held order listed and placed, the callers masked for roles without personal.read, the replies downloaded."""

from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.zones.build import build_zones

CSV = ("工单编号,来电时间,诉求内容,诉求类型,地址,来电人,来电号码\n"
       "H-1,2026-03-01 09:30,门口占道经营,占道经营,中山南路79号,张三,13812345678\n"
       "H-2,2026-03-01 10:00,夜里施工吵,施工扰民,火星路1号,李四,13912345678\n")


@pytest.fixture(scope="module")
def api(nanjing, tmp_path_factory):
    build_zones(nanjing, "三包")
    app = create_app(nanjing)
    app.state.upload_dir = tmp_path_factory.mktemp("store") / "uploads"
    heads = {r: bearer(nanjing, f"hl-{r}", r) for r in ("admin", "dispatcher", "planner", "inspector")}
    return nanjing, TestClient(app), heads


def _upload(client, heads, data: bytes, name: str = "12345.csv") -> str:
    r = client.post("/uploads", headers=heads, files={"file": (name, data, "text/csv")}, data={"kind": "ledger"})
    assert r.status_code in (200, 201), r.text
    return r.json()["sha256"]


def test_import_list_place_and_replies(api):
    engine, client, heads = api
    d = heads["dispatcher"]
    sha = _upload(client, d, CSV.encode("gbk"))
    assert client.post("/hotline/imports", headers=heads["planner"], json={"sha256": sha}).status_code == 403
    r = client.post("/hotline/imports", headers=d, json={"sha256": sha})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["file"] == "12345.csv" and len(body["opened"]) == 1
    assert body["unplaced"] == [{"row": 3, "number": "H-2",
                                 "reason": "no street, unit, compound or market of the city named in '火星路1号'"}]
    again = client.post("/hotline/imports", headers=d, json={"sha256": sha}).json()
    assert again["opened"] == [] and again["unchanged"] == 2
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM cases WHERE external_ids ? '12345'")).scalar_one() == 1
    held = client.get("/hotline/orders?unplaced=true", headers=d).json()
    assert [o["number"] for o in held["orders"]] == ["H-2"] and held["orders"][0]["reporter"]["phone"] == "13912345678"
    assert client.get("/hotline/orders", headers=heads["inspector"]).status_code == 403
    placed = {o["number"]: o for o in client.get("/hotline/orders", headers=d).json()["orders"]}
    assert placed["H-1"]["placement"]["method"] == "unit_address"
    with engine.connect() as c:
        px, py = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE name = '中央商场'")).one()
    r = client.post("/hotline/orders/H-2/place", headers=d, json={"lng": px, "lat": py})
    assert r.status_code == 201, r.text
    assert r.json()["placement"]["method"] == "staff" and r.json()["case_id"]
    assert client.post("/hotline/orders/H-2/place", headers=d, json={"lng": px, "lat": py}).status_code == 409
    assert client.post("/hotline/orders/nope/place", headers=d, json={"lng": px, "lat": py}).status_code == 404
    r = client.get("/hotline/replies.xlsx", headers=d)
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    got = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert got == {"H-1": "办理中", "H-2": "办理中"}


def test_a_bad_file_is_one_422_and_changes_nothing(api):
    engine, client, heads = api
    d = heads["dispatcher"]
    bad = CSV + "H-3,明天,内容,占道经营,珠江路,,\n"
    sha = _upload(client, d, bad.encode("utf-8"), "bad.csv")
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM hotline_orders")).scalar_one()
    r = client.post("/hotline/imports", headers=d, json={"sha256": sha})
    assert r.status_code == 422
    assert "row 4, column '来电时间': '明天' is not a time" in r.text
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM hotline_orders")).scalar_one() == before
