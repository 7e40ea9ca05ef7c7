"""The dashboard's endpoints (gridsvc/api/routers/dashboard.py): cases found per H3 cell and ISO week against a hand
count, week boundaries in Beijing time, a cell's cases, and permission first (a grid officer's own grids)."""

from __future__ import annotations

from datetime import datetime

import h3
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import text
from support import APP_TABLES, bearer

from gridsvc.api.app import create_app
from gridsvc.ops.bulletins import dashboard
from gridsvc.ops.bulletins.figures import heat_resolution
from gridsvc.ops.rules.bulletins import load_bulletins

RES = 9
A = h3.latlng_to_cell(32.0400, 118.7800, RES)
B = h3.latlng_to_cell(32.0500, 118.7900, RES)
GRID_A, GRID_B = "320102001001001", "320102002001001"
OFFICER = "dash-officer"


def _at(cell: str, k: int) -> tuple[float, float]:
    """A point inside the cell, a little off its centre (k-th case)."""
    lat, lng = h3.cell_to_latlng(cell)
    return lng + 0.00005 * (k % 5), lat + 0.00004 * (k % 3)


# (name, cell, grid, reported at (Beijing time), state, duplicate of)
CASES = [
    ("c9", A, GRID_A, "2026-11-15T23:30+08:00", "accepted", None),  # Sunday night: W46 (15:30 UTC)
    ("c1", A, GRID_A, "2026-11-16T00:10+08:00", "accepted", None),  # Monday 00:10 Beijing: W47 (UTC: still W46)
    ("c2", A, GRID_A, "2026-11-18T10:00+08:00", "dispatched", None),
    ("c3", B, GRID_B, "2026-11-20T10:00+08:00", "closed", None),
    ("c4", A, GRID_A, "2026-11-22T23:50+08:00", "registered", None),  # the last minutes of W47
    ("c5", A, GRID_A, "2026-11-23T07:30+08:00", "accepted", None),  # W48 (UTC: 22 November 23:30, still W47)
    ("c6", B, GRID_B, "2026-11-24T10:00+08:00", "dispatched", None),
    ("c7", B, GRID_B, "2026-11-25T10:00+08:00", "dispatched", "c6"),  # a duplicate: counts nowhere
    ("c8", B, GRID_B, "2026-11-26T10:00+08:00", "void", None),  # void: counts nowhere
]
# By hand: W46 A 1; W47 A 3 (c1 c2 c4), B 1 (c3); W48 A 1 (c5), B 1 (c6)
HAND = {"2026-W46": {A: 1}, "2026-W47": {A: 3, B: 1}, "2026-W48": {A: 1, B: 1}}


@pytest.fixture(scope="module")
def data(engine):
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
        c.execute(text("INSERT INTO admin_units (id, level, code, name, parent_id, provisional, geom) VALUES "
                       "(1, 'district', '320102', '测试区', NULL, false, ST_Multi(ST_GeomFromText(:g, 4326)))"),
                  {"g": box(118.775, 32.034, 118.800, 32.056).wkt})
        ids: dict[str, int] = {}
        for k, (name, cell, grid, at, state, dup) in enumerate(CASES):
            x, y = _at(cell, k)
            ids[name] = c.execute(text(
                "INSERT INTO cases (code, state, category, kind, urgency, description, source, reported_by, "
                "reported_at, geom, grid_code, department, rule, routing, deadlines, stage, due_at, duplicate_of) VALUES "
                "(:code, :st, 'SJ0102', 'event', 'normal', :d, 'grid_officer', 'tester', :r, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), :g, 'sanitation', 'r', '{}', '{}', "
                "CASE WHEN CAST(:due AS timestamptz) IS NULL THEN NULL ELSE 'handle' END, :due, :dup) RETURNING id"),
                {"code": f"D{k:03d}", "st": state, "d": f"门前堆物 {name}", "r": datetime.fromisoformat(at), "x": x,
                 "y": y, "g": grid, "due": None if state in ("closed", "void") else datetime.fromisoformat(at),
                 "dup": ids.get(dup)}).scalar_one()
    return ids


@pytest.fixture(scope="module")
def client(engine, data):
    return TestClient(create_app(engine), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def heads(engine, data):
    with engine.begin() as c:
        party = c.execute(text("INSERT INTO parties (kind, ref, name) VALUES ('unit', 'dash:1', '看板商户') "
                               "ON CONFLICT (kind, ref) DO UPDATE SET name = EXCLUDED.name RETURNING id")).scalar_one()
    return {"admin": bearer(engine, "test-admin", "admin"),
            "officer": bearer(engine, OFFICER, "grid_officer", (GRID_A,)),
            "party": bearer(engine, "dash-party", "party", (), party)}


def test_cell_counts_equal_the_hand_count_per_week(client, heads):
    for week, want in HAND.items():
        r = client.get("/dashboard/heat", params={"week": week, "res": RES}, headers=heads["admin"])
        assert r.status_code == 200, r.text
        fc = r.json()
        assert fc["type"] == "FeatureCollection" and fc["week"] == week and fc["res"] == RES
        assert {f["properties"]["h3"]: f["properties"]["count"] for f in fc["features"]} == want
        assert fc["cases"] == sum(want.values())
        for f in fc["features"]:  # each hexagon is its cell's boundary, closed
            ring = f["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) == 7
            lat, lng = h3.cell_to_latlng(f["properties"]["h3"])
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            assert min(xs) < lng < max(xs) and min(ys) < lat < max(ys)


def test_week_bounds_are_beijing_time(client, heads):
    fc = client.get("/dashboard/heat", params={"week": "2026-W47", "res": RES}, headers=heads["admin"]).json()
    assert fc["start"] == "2026-11-16T00:00:00+08:00" and fc["end"] == "2026-11-23T00:00:00+08:00"
    assert fc["zh"] == "2026年第47周（11月16日—11月22日）"


def test_the_weeks_of_the_slider_and_a_shared_colour_scale(client, heads):
    r = client.get("/dashboard/weeks", params={"n": 3, "until": "2026-W48", "res": RES}, headers=heads["admin"])
    assert r.status_code == 200, r.text
    w = r.json()
    assert [x["week"] for x in w["weeks"]] == ["2026-W46", "2026-W47", "2026-W48"]
    assert [x["cases"] for x in w["weeks"]] == [1, 4, 2] and [x["max"] for x in w["weeks"]] == [1, 3, 1]
    assert w["top"] == 3 and w["res"] == RES and len(w["colors"]) == 5
    fc = client.get("/dashboard/heat", params={"week": "2026-W48", "res": RES, "top": 3}, headers=heads["admin"]).json()
    assert {f["properties"]["class"] for f in fc["features"]} == {0}  # 1 of 3: the lightest
    fc = client.get("/dashboard/heat", params={"week": "2026-W47", "res": RES, "top": 3}, headers=heads["admin"]).json()
    assert {f["properties"]["h3"]: f["properties"]["class"] for f in fc["features"]} == {A: 3, B: 0}


def test_the_default_resolution_is_the_bulletin_heat_maps(client, heads):
    want = heat_resolution((118.775, 32.034, 118.800, 32.056), load_bulletins())
    fc = client.get("/dashboard/heat", params={"week": "2026-W47"}, headers=heads["admin"]).json()
    assert fc["res"] == want
    assert sum(f["properties"]["count"] for f in fc["features"]) == 4


def test_a_cells_cases_are_those_it_counted(client, heads, data):
    r = client.get(f"/dashboard/cells/{A}/cases", params={"week": "2026-W47"}, headers=heads["admin"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert [c["id"] for c in got["cases"]] == [data["c4"], data["c2"], data["c1"]]  # newest first
    assert got["total"] == 3 and got["outside_scope"] == 0 and got["week"] == "2026-W47"
    first = got["cases"][0]
    assert first["state_zh"] == "立案" and first["category"] == "SJ0102" and first["category_zh"]
    assert first["description"] == "门前堆物 c4" and first["grid_code"] == GRID_A
    assert first["reported_at"] == "2026-11-22T23:50:00+08:00"
    assert set(first) >= {"code", "due_at", "overdue", "point"} and "reporter" not in first
    got = client.get(f"/dashboard/cells/{B}/cases", params={"week": "2026-W48"}, headers=heads["admin"]).json()
    assert [c["id"] for c in got["cases"]] == [data["c6"]]  # not the duplicate c7, not the void c8
    for week, want in HAND.items():
        for cell, n in want.items():
            got = client.get(f"/dashboard/cells/{cell}/cases", params={"week": week}, headers=heads["admin"]).json()
            assert got["total"] == n, (week, cell)


def test_a_grid_officer_sees_the_cases_of_their_grids_only(client, heads, data):
    got = client.get(f"/dashboard/cells/{A}/cases", params={"week": "2026-W47"}, headers=heads["officer"]).json()
    assert got["total"] == 3 and got["outside_scope"] == 0
    got = client.get(f"/dashboard/cells/{B}/cases", params={"week": "2026-W47"}, headers=heads["officer"]).json()
    assert got["cases"] == [] and got["total"] == 0 and got["outside_scope"] == 1


def test_permission_first_then_the_parameters(client, heads):
    for url in ("/dashboard/heat?week=bad", f"/dashboard/cells/{A}/cases?week=bad", "/dashboard/cells/zz/cases",
                "/dashboard/weeks?n=999"):
        assert client.get(url).status_code == 401, url
        assert client.get(url, headers=heads["party"]).status_code == 403, url
        assert client.get(url, headers=heads["admin"]).status_code == 422, url
    for params in ({"week": "2026-11"}, {"week": "2026-W47", "res": 3}):
        assert client.get("/dashboard/heat", params=params, headers=heads["admin"]).status_code == 422, params
    r = client.get("/dashboard/cells/fffffffffffffff/cases", headers=heads["admin"])  # hex, but no cell
    assert r.status_code == 422 and "H3" in r.json()["detail"]
    r = client.get(f"/dashboard/cells/{h3.latlng_to_cell(32.04, 118.78, 3)}/cases", headers=heads["admin"])
    assert r.status_code == 422 and "resolution" in r.json()["detail"]  # not a cell of the heat map


def test_this_week_by_default_in_beijing_time():
    assert dashboard.week_key(datetime.fromisoformat("2026-11-22T16:30+00:00")) == "2026-W48"  # Mon 00:30 Beijing
    assert dashboard.week_key(datetime.fromisoformat("2026-11-22T15:30+00:00")) == "2026-W47"
    weeks = dashboard.last_weeks(3, now=datetime.fromisoformat("2027-01-04T01:00+08:00"))
    assert [w.key for w in weeks] == ["2026-W52", "2026-W53", "2027-W01"]
