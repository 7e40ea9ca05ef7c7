"""The organisation over HTTP and the CLI against PostGIS: steward teams (permission first, masking, the Chinese
team sheet), named 楼院长 of compounds (zones pass as new versions, cases before and after route to the old and
the new holder, rebuilds keep the person), the units around a point, and the 督办 chain on the real grid."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer, write_xlsx

from gridsvc.api.app import create_app
from gridsvc.ops.cases import core
from gridsvc.people.org import import_teams
from gridsvc.zones.build import build_zones

HEAD, HEAD_PHONE = "周楼长", "13912345678"
LEADER_PHONE = "13700001111"


@pytest.fixture(scope="module")
def city(nanjing):
    build_zones(nanjing, "三包")
    with nanjing.begin() as c:
        compound, x, y = c.execute(text(
            "SELECT z.compound_id, ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)) "
            "FROM zones z JOIN compounds k ON k.id = z.compound_id JOIN parties p ON p.id = z.party_id "
            "WHERE z.valid_to IS NULL AND z.kind = 'compound' AND p.kind = 'building_head' "
            "AND k.kind = 'residential' AND k.property_manager IS NULL ORDER BY ST_Area(z.geom) DESC LIMIT 1")).one()
        managed = c.execute(text("UPDATE compounds SET property_manager = '金鹰物业' WHERE id = (SELECT min(id) FROM "
                                 "compounds WHERE id <> :c AND kind = 'residential') RETURNING id"),
                            {"c": compound}).scalar_one()
        street = c.execute(text("SELECT name FROM streets WHERE name IS NOT NULL GROUP BY name "
                                "ORDER BY count(*) DESC, name LIMIT 1")).scalar_one()
        grid = c.execute(text("SELECT code FROM grid_cells WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
                              "4326))"), {"x": x, "y": y}).scalar_one()
    heads = {role: bearer(nanjing, f"org-{role}", role, (grid,) if role == "grid_officer" else ())
             for role in ("admin", "planner", "grid_officer", "inspector", "dispatcher")}
    heads["public"] = {}
    client = TestClient(create_app(nanjing), raise_server_exceptions=False)
    return nanjing, client, heads, compound, managed, (x, y), street


def _team(street, name="中山路街长队", **extra):
    return {"name": name, "street": street, "segment": "汉中路—新街口", "members": [
        {"name": "陈队长", "phone": LEADER_PHONE, "department": "街道办", "role": "leader"},
        {"name": "李环卫", "phone": "13700002222", "department": "sanitation"},
        {"name": "王执法", "department": "综合执法"}], **extra}


def test_teams_permission_first_then_content(city):
    _eng, client, heads, *_rest, street = city
    bad = {"name": "x", "street": "no such street", "members": []}  # invalid too: the role is refused first
    assert client.post("/org/teams", json=bad).status_code == 401
    for role in ("planner", "grid_officer", "inspector", "dispatcher"):
        r = client.post("/org/teams", json=bad, headers=heads[role])
        assert r.status_code == 403, (role, r.text)
    r = client.post("/org/teams", json=_team(street), headers=heads["admin"])
    assert r.status_code == 201, r.text
    team = r.json()
    assert [m["role"] for m in team["members"]] == ["leader", "member", "member"]
    assert [m["department"] for m in team["members"]] == ["subdistrict", "sanitation", "enforcement"]
    assert team["members"][0] | {"contact": "陈队长", "phone": LEADER_PHONE} == team["members"][0]
    assert team["street_ids"] and team["segment"] == "汉中路—新街口"
    assert client.post("/org/teams", json=_team(street), headers=heads["admin"]).status_code == 409
    two = _team(street, "两个队长")
    two["members"][1]["role"] = "leader"
    r = client.post("/org/teams", json=two, headers=heads["admin"])
    assert r.status_code == 422 and "exactly one leader" in r.json()["detail"]
    unknown = _team(street, "未知部门")
    unknown["members"][2]["department"] = "城管大队"
    r = client.post("/org/teams", json=unknown, headers=heads["admin"])
    assert r.status_code == 422 and "城管大队" in r.json()["detail"] and "sanitation (环卫)" in r.json()["detail"]
    r = client.post("/org/teams", json=_team("没有这条路", "无路队"), headers=heads["admin"])
    assert r.status_code == 404


def test_team_members_are_masked_for_roles_without_personal_read(city):
    _eng, client, heads, *_rest, street = city
    full = client.get("/org/teams", params={"street": street}, headers=heads["inspector"]).json()["teams"]
    leader = next(t for t in full if t["name"] == "中山路街长队")["members"][0]
    assert (leader["contact"], leader["phone"], leader["department_zh"]) == ("陈队长", LEADER_PHONE, "街道办")
    with city[0].connect() as c:
        party_id = c.execute(text("SELECT min(id) FROM parties WHERE kind = 'unit'")).scalar_one()
    party = bearer(city[0], "org-party", "party", party_id=party_id)
    for who in ({}, party):
        teams = client.get("/org/teams", headers=who).json()["teams"]
        leader = next(t for t in teams if t["name"] == "中山路街长队")["members"][0]
        assert (leader["contact"], leader["phone"]) == ("陈**", "137****1111"), who
    assert client.get("/org/teams", params={"street": "没有这条路"}).json()["teams"] == []


def test_a_team_sheet_with_chinese_headers_imports_all_or_nothing(city, tmp_path):
    eng, client, heads, *_rest, street = city
    rows = [["街长队名单"], ["队名", "街道", "路段", "角色", "姓名", "电话", "部门"],
            ["表格一队", street, "", "队员", "赵环卫", "13600000001", "环卫"],
            ["表格一队", street, "", "队长", "钱街长", "13600000002", "街道办"],
            ["表格二队", street, "东段", "路长", "孙路长", "", "市政"]]
    good = write_xlsx(tmp_path / "teams.xlsx", rows)
    bad = write_xlsx(tmp_path / "bad.xlsx", [*rows[:-1], ["表格三队", street, "", "队员", "无队长", "", "环卫"]])
    with eng.connect() as c:
        with pytest.raises(Exception, match=r"表格三队.*rows 5.*exactly one leader"):
            with c.begin():
                import_teams(c, bad)
        assert c.execute(text("SELECT count(*) FROM steward_teams WHERE name LIKE '表格%'")).scalar_one() == 0
    with eng.begin() as c:
        assert len(import_teams(c, good)) == 2
    teams = {t["name"]: t for t in client.get("/org/teams", headers=heads["admin"]).json()["teams"]}
    assert [m["contact"] for m in teams["表格一队"]["members"]] == ["钱街长", "赵环卫"]
    assert teams["表格二队"]["segment"] == "东段"


def test_naming_a_head_is_for_planners_and_compounds_without_a_manager(city):
    _eng, client, heads, compound, managed, *_ = city
    body = {"name": HEAD, "phone": HEAD_PHONE}
    assert client.put(f"/compounds/{compound}/head", json={}).status_code == 401
    for role in ("grid_officer", "inspector", "dispatcher"):
        assert client.put(f"/compounds/{compound}/head", json={}, headers=heads[role]).status_code == 403
    r = client.put(f"/compounds/{managed}/head", json=body, headers=heads["planner"])
    assert r.status_code == 409 and "金鹰物业" in r.json()["detail"]
    assert client.put("/compounds/999999999/head", json=body, headers=heads["planner"]).status_code == 404
    r = client.put(f"/compounds/{compound}/head", json=body | {"since": "2999-01-01"}, headers=heads["planner"])
    assert r.status_code == 422 and "future" in r.json()["detail"]


def _report(client, heads, point) -> dict:
    r = client.post("/cases", json={"lng": point[0], "lat": point[1], "category": "SJ0102",
                                    "description": "楼道堆物", "source": "grid_officer"}, headers=heads["admin"])
    assert r.status_code == 201, r.text
    return r.json()


def test_a_named_head_takes_the_compounds_zones_and_later_cases(city):
    eng, client, heads, compound, _managed, point, _street = city
    before = _report(client, heads, point)
    old_party = before["routing"]["party_id"]
    assert "楼院长（无物业）" in before["routing"]["party_name"]
    r = client.put(f"/compounds/{compound}/head", json={"name": HEAD, "phone": HEAD_PHONE, "since": "2026-01-05"},
                   headers=heads["planner"])
    assert r.status_code == 200, r.text
    head = r.json()
    assert head["zones"] and head["party_name"].endswith("楼院长") and head["since"] == "2026-01-05"
    after = _report(client, heads, point)
    assert after["routing"]["party_id"] == head["party_id"] != old_party
    assert after["routing"]["at_report"]["primary"]["contact"] == HEAD
    assert after["routing"]["at_report"]["primary"]["phone"] == HEAD_PHONE
    again = client.get(f"/cases/{before['id']}", headers=heads["admin"]).json()
    assert again["routing"]["party_id"] == old_party  # the earlier case stays with the earlier holder
    # lookup names the person now, masked for the public; an earlier date still finds the synthetic party
    now = client.get("/lookup", params={"lng": point[0], "lat": point[1]}, headers=heads["grid_officer"]).json()
    assert (now["primary"]["contact"], now["primary"]["phone"]) == (HEAD, HEAD_PHONE)
    public = client.get("/lookup", params={"lng": point[0], "lat": point[1]}).json()
    assert (public["primary"]["contact"], public["primary"]["phone"]) == ("周**", "139****5678")
    with eng.connect() as c:
        versions = c.execute(text("SELECT party_id FROM zones WHERE zone_id = :z ORDER BY version"),
                             {"z": head["zones"][0]}).scalars().all()
    assert versions[-2:] == [old_party, head["party_id"]]
    history = client.get(f"/compounds/{compound}/head").json()["heads"]
    assert [(h["contact"], h["until"]) for h in history] == [("周**", None)]


def test_a_second_head_ends_the_first_and_rebuilds_keep_the_person(city):
    eng, client, heads, compound, _managed, point, _street = city
    r = client.put(f"/compounds/{compound}/head", json={"name": "吴楼长", "phone": "13911112222"},
                   headers=heads["admin"])
    assert r.status_code == 200, r.text
    second = r.json()
    history = client.get(f"/compounds/{compound}/head", headers=heads["admin"]).json()["heads"]
    assert [h["contact"] for h in history] == ["吴楼长", HEAD]
    assert history[0]["until"] is None and history[1]["until"] is not None
    build_zones(eng, "三包")
    now = client.get("/lookup", params={"lng": point[0], "lat": point[1]}, headers=heads["admin"]).json()
    assert now["primary"]["contact"] == "吴楼长"
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM zones WHERE valid_to IS NULL AND compound_id = :c AND "
                              "kind = 'compound' AND party_id <> :p"), {"c": compound, "p": second["party_id"]}
                         ).scalar_one() == 0


def test_units_near_a_point_nearest_first_in_either_crs(city):
    eng, client, heads, *_ = city
    with eng.connect() as c:
        x, y = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE name = '工人影城' LIMIT 1")).one()
    r = client.get("/units/near", params={"lng": x, "lat": y, "radius": 60})
    assert r.status_code == 200
    units = r.json()["units"]
    assert units[0]["name"] == "工人影城" and units[0]["distance_m"] < 1
    assert [u["distance_m"] for u in units] == sorted(u["distance_m"] for u in units)
    assert all(u["distance_m"] <= 60 for u in units) and len(r.content) < 4000
    assert not {"contact", "phone"} & set(units[0])
    from gridsvc.geo.chinese_crs import wgs84_to_gcj02

    gx, gy = (float(v[0]) for v in wgs84_to_gcj02([x], [y]))
    shifted = client.get("/units/near", params={"lng": gx, "lat": gy, "crs": "gcj02", "radius": 60}).json()
    assert shifted["units"][0]["id"] == units[0]["id"]
    assert client.get("/units/near", params={"lng": x, "lat": y, "radius": 5000}).status_code == 422


def test_the_escalation_chain_finds_community_and_subdistrict_on_the_real_grid(city):
    """区 → 街道 → 社区 → 网格: every grid cell of the case has a community, every community a subdistrict, so the
    督办单 of levels 2 and 3 name real admin units (not the code fallback)."""
    eng, client, heads, _compound, _managed, point, _street = city
    with eng.connect() as c:
        orphans = c.execute(text("SELECT count(*) FROM grid_cells g LEFT JOIN admin_units com ON com.id = "
                                 "g.community_id LEFT JOIN admin_units sub ON sub.id = com.parent_id "
                                 "WHERE com.level IS DISTINCT FROM 'community' OR sub.level IS DISTINCT FROM "
                                 "'subdistrict'")).scalar_one()
    assert orphans == 0
    case = _report(client, heads, point)
    from datetime import datetime, timedelta

    with eng.begin() as c:
        core.tick(c, datetime.fromisoformat(case["due_at"]) + timedelta(days=30))
        notices = c.execute(text("SELECT level_code, to_whom FROM escalations WHERE case_id = :i ORDER BY level"),
                            {"i": case["id"]}).all()
    assert [n.level_code for n in notices] == ["grid", "community", "subdistrict", "department_leader"]
    assert not notices[1].to_whom.startswith("社区 ") and not notices[2].to_whom.startswith("街道 ")
