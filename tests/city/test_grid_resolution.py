"""A city built at H3 resolution 9 (GRIDSVC_H3_RES stays at its default, 10): every reader takes the stored grid's
resolution. Lookup, batch, tiles, the public page and the city map find the grid code and the grid officer;
units ingested after `build grid` are in the grid index at once (grid-scoped packs and checklists see them).
"""

from __future__ import annotations

import h3.api.basic_int as h3
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import APP_TABLES, NANJING, shared_file, tile_of, write_csv

from gridsvc.api.app import create_app
from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.exporters.scope import read_units, resolve_scope
from gridsvc.maps.city_map import zone_layers
from gridsvc.people.parties import add_officer
from gridsvc.settings import get_settings
from gridsvc.zones.build import build_zones
from gridsvc.zones.lookup import lookup, lookup_batch

RES = 9
OFFICER = "李九"


def _cell(conn, lng: float, lat: float) -> dict:
    return dict(conn.execute(text("SELECT h3, res, code FROM grid_cells WHERE h3 = :h"),
                             {"h": h3.latlng_to_cell(lat, lng, RES)}).mappings().one())


@pytest.fixture(scope="module")
def city(engine):
    """Nanjing at res 9 with 三包 zones; a named shop's grid and an empty grid (no zone at its centre) have an officer."""
    assert get_settings().h3_res != RES  # the settings say 10: the stored grid must win
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, RES, "320102")
    build_zones(engine, "三包")
    with engine.begin() as c:
        shop = c.execute(text(
            "SELECT u.id, u.name, u.public_code, ST_X(ST_PointOnSurface(z.geom)) AS x, ST_Y(ST_PointOnSurface(z.geom)) AS y "
            "FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage' "
            "WHERE u.name IS NOT NULL ORDER BY u.id LIMIT 1")).mappings().one()
        # a grid cell whose centre no zone covers: there the grid officer is the primary party
        empty = c.execute(text(
            "SELECT ST_X(ST_Centroid(g.geom)) AS x, ST_Y(ST_Centroid(g.geom)) AS y FROM grid_cells g "
            "WHERE NOT EXISTS (SELECT 1 FROM zones_current z WHERE ST_Covers(z.geom, ST_Centroid(g.geom))) "
            "ORDER BY g.code LIMIT 1")).mappings().one()
        shop_cell, empty_cell = _cell(c, shop["x"], shop["y"]), _cell(c, empty["x"], empty["y"])
        add_officer(c, OFFICER, "13900000009", [shop_cell["code"], empty_cell["code"]])
    return {"engine": engine, "shop": dict(shop), "empty": dict(empty), "shop_cell": shop_cell,
            "empty_cell": empty_cell}


@pytest.fixture(scope="module")
def client(city, admin_headers):
    with TestClient(create_app(city["engine"]), headers=admin_headers) as c:
        yield c


def test_the_grid_is_stored_at_res_9(city):
    assert city["shop_cell"]["res"] == RES and city["empty_cell"]["res"] == RES
    with city["engine"].connect() as c:
        assert c.execute(text("SELECT array_agg(DISTINCT res) FROM grid_cells")).scalar() == [RES]


def test_lookup_finds_the_res_9_grid_and_its_officer(city, client):
    shop, cell = city["shop"], city["shop_cell"]
    with city["engine"].connect() as c:
        r = lookup(c, shop["x"], shop["y"])
    assert r["cell"]["grid_code"] == cell["code"] and int(r["cell"]["h3"], 16) == cell["h3"]
    assert r["grid_officer"]["name"] == OFFICER and r["secondary"]["name"] == OFFICER and r["note"] is None
    assert r["primary"]["name"] == shop["name"]
    body = client.get("/lookup", params={"lng": shop["x"], "lat": shop["y"]}).json()
    assert body["cell"]["grid_code"] == cell["code"] and body["grid_officer"]["name"] == OFFICER


def test_a_point_outside_every_zone_answers_with_the_grid_officer(city, client):
    empty, cell = city["empty"], city["empty_cell"]
    r = client.get("/lookup", params={"lng": empty["x"], "lat": empty["y"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["zone"] is None and body["kind"] == "grid" and body["cell"]["grid_code"] == cell["code"]
    assert body["primary"]["kind"] == "grid_officer" and body["primary"]["name"] == OFFICER


def test_batch_finds_the_res_9_grid(city, client):
    shop, empty = city["shop"], city["empty"]
    pts = [[shop["x"], shop["y"]], [empty["x"], empty["y"]], [116.3974, 39.9093]]
    with city["engine"].connect() as c:
        direct = lookup_batch(c, [tuple(p) for p in pts])
    body = client.post("/lookup", json={"points": pts}).json()
    for results in (direct, body["results"]):
        assert [r["grid_code"] for r in results] == [city["shop_cell"]["code"], city["empty_cell"]["code"], None]
        assert [r["inside"] for r in results] == [True, True, False]
        assert [(r["grid_officer"] or {}).get("name") for r in results] == [OFFICER, OFFICER, None]
        assert results[1]["primary"]["kind"] == "grid_officer"


def test_tiles_carry_the_res_9_cells(city, client):
    shop = city["shop"]
    x, y = tile_of(shop["x"], shop["y"], 15)
    r = client.get(f"/tiles/cells/15/{x}/{y}.pbf")
    assert r.status_code == 200
    features = mapbox_vector_tile.decode(r.content)["cells"]["features"]
    assert {h3.get_resolution(int(f["properties"]["h3"], 16)) for f in features} == {RES}
    assert city["shop_cell"]["code"] in {f["properties"]["code"] for f in features}


def test_public_page_shows_the_res_9_grid_and_officer(city, client):
    code = city["shop"]["public_code"]
    body = client.get(f"/u/{code}", params={"format": "json"}).json()
    assert body["grid"]["code"] == city["shop_cell"]["code"] and h3.get_resolution(int(body["grid"]["h3"], 16)) == RES
    assert body["grid"]["officer"] == {"name": OFFICER, "phone": "139****0009"}
    page = client.get(f"/u/{code}").text
    assert city["shop_cell"]["code"] in page and OFFICER in page


def test_city_map_popups_name_the_officer(city):
    with city["engine"].connect() as c:
        layers = zone_layers(c)
    officers = {o for layer in layers for o in layer.gdf["网格员 grid officer"]}
    assert any(o.startswith(OFFICER) for o in officers)


# --- item 18: units ingested after `build grid` ----------------------------------------------------------------

def _ledger(path, rows):
    return write_csv(path, [["编号", "名称", "地址", "经度", "纬度"], *rows])


def _indexed(conn, source: str) -> dict[str, set[int]]:
    rows = conn.execute(text(
        "SELECT u.source_id, array_agg(fc.h3) FILTER (WHERE fc.h3 IS NOT NULL) FROM units u "
        "LEFT JOIN feature_cells fc ON fc.layer = 'units' AND fc.feature_id = u.id "
        "WHERE u.source_file = :f GROUP BY u.source_id"), {"f": source}).all()
    return {sid: set(cells or []) for sid, cells in rows}


def test_units_ingested_after_the_grid_are_indexed_at_once(city, tmp_path):
    engine, cell = city["engine"], city["shop_cell"]
    lat, lng = h3.cell_to_latlng(cell["h3"])
    near = [(lng + dx, lat + dy) for dx, dy in ((0, 0), (0.0003, 0), (0, 0.0003), (-0.0003, -0.0002))]
    assert all(h3.latlng_to_cell(y, x, RES) == cell["h3"] for x, y in near)
    path = _ledger(tmp_path / "新商户台账.csv", [[f"N{i}", f"新店{i}", f"测试路{i}号", x, y] for i, (x, y) in enumerate(near)])
    ingest(engine, path)
    with engine.connect() as c:
        assert _indexed(c, path.name) == {f"N{i}": {cell["h3"]} for i in range(4)}
        in_grid = read_units(c, resolve_scope(c, grid=cell["code"]))
    assert {f"新店{i}" for i in range(4)} <= set(in_grid["name"])
    assert set(in_grid.loc[in_grid["name"].str.startswith("新店", na=False), "officer_name"]) == {OFFICER}

    # the same ledger again, one shop moved to the empty grid and one gone: the index follows
    ex, ey = city["empty"]["x"], city["empty"]["y"]
    _ledger(path, [["N0", "新店0", "测试路0号", *near[0]], ["N1", "新店1", "测试路1号", ex, ey],
                   ["N2", "新店2", "测试路2号", *near[2]]])
    ingest(engine, path)
    with engine.connect() as c:
        assert _indexed(c, path.name) == {"N0": {cell["h3"]}, "N1": {city["empty_cell"]["h3"]}, "N2": {cell["h3"]}}
        stale = c.execute(text("SELECT count(*) FROM feature_cells fc WHERE fc.layer = 'units' AND NOT EXISTS "
                               "(SELECT 1 FROM units u WHERE u.id = fc.feature_id)")).scalar()
        in_grid = read_units(c, resolve_scope(c, grid=cell["code"]))
    assert stale == 0
    assert {"新店0", "新店2"} <= set(in_grid["name"]) and not {"新店1", "新店3"} & set(in_grid["name"])
