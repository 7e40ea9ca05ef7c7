"""The server side of the planner's workspace: the page and its assets, config, locate, officers' grids,
multi-layer tiles, and overlays shifted for GCJ-02 basemaps (tiles and GeoJSON) on the real Nanjing extract."""

from __future__ import annotations

import math
import re

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import tile_of, tile_pixel

from gridsvc.api.app import create_app
from gridsvc.api.docs import STATIC_DIR
from gridsvc.geo import chinese_crs
from gridsvc.people.parties import add_officer

HELSINKI = (24.9384, 60.1699)



def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320 * math.cos(lat), (a[1] - b[1]) * 110_574)


@pytest.fixture(scope="module")
def client(nanjing, planner_headers):
    with nanjing.begin() as c:
        code = c.execute(text("SELECT substr(code, 1, 12) FROM grid_cells ORDER BY code LIMIT 1")).scalar_one()
        add_officer(c, "王网格", "13800000001", [code])
        # one shop in Helsinki: outside China nothing may move
        c.execute(text("INSERT INTO units (name, category, geom, source_file, source_id) "
                       "VALUES ('Stockmann', 'shop', ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'test', 'helsinki')"),
                  {"x": HELSINKI[0], "y": HELSINKI[1]})
    with TestClient(create_app(nanjing), headers=planner_headers) as c:
        yield c


def unit_xy(nanjing, name: str) -> tuple[int, float, float]:
    with nanjing.connect() as c:
        return tuple(c.execute(text("SELECT id, ST_X(geom), ST_Y(geom) FROM units WHERE name = :n ORDER BY id LIMIT 1"),
                               {"n": name}).one())


def tile_point(client, uid: int, lng: float, lat: float, z: int, crs: str) -> tuple[tuple[int, int], tuple]:
    """The unit's MVT position in the tile (of the given basemap CRS) that should hold (lng, lat)."""
    x, y = tile_of(lng, lat, z)
    r = client.get(f"/tiles/units/{z}/{x}/{y}.pbf", params={"crs": crs})
    assert r.status_code == 200, r.text
    feats = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})["units"]["features"]
    (f,) = [f for f in feats if f["id"] == uid]
    return (x, y), tuple(f["geometry"]["coordinates"])


def test_the_page_and_every_asset_it_names_are_served_locally(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and not [u for u in refs if re.match(r"^(https?:)?//", u)], refs
    for ref in refs:
        if ref.startswith("data:"):
            continue
        a = client.get("/" + ref)
        assert a.status_code == 200 and a.content, ref
    assert "static/vendor/leaflet.vectorgrid-1.3.0/Leaflet.VectorGrid.bundled.min.js" in html
    # the workspace's own code never writes data as HTML
    for js in (STATIC_DIR / "workspace").glob("*.js"):
        source = js.read_text(encoding="utf-8")
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", source), js.name


def test_vendored_vectorgrid_is_complete_and_listed():
    folder = STATIC_DIR / "vendor" / "leaflet.vectorgrid-1.3.0"
    assert {p.name for p in folder.iterdir()} == {"Leaflet.VectorGrid.bundled.min.js", "LICENSE", "README.md",
                                                   "THIRD-PARTY-LICENSES.txt"}
    assert "BEER-WARE" in (folder / "LICENSE").read_text()
    assert "| leaflet.vectorgrid | 1.3.0 |" in (STATIC_DIR / "vendor" / "VERSIONS.md").read_text()


def test_config_has_the_palette_zooms_and_the_managed_area(client):
    from gridsvc.maps.city_map import ZONE_STYLE

    cfg = client.get("/workspace/config").json()
    assert cfg["zone_colors"] == {k: c for k, (_, c) in ZONE_STYLE.items()}
    assert cfg["detail_zoom"] == 16 and cfg["min_zoom"]["zones"] == 14
    minx, miny, maxx, maxy = cfg["bounds"]
    assert 118.7 < minx < maxx < 118.9 and 31.9 < miny < maxy < 32.1


def test_locate_finds_features_by_id_and_cells_by_code(client, nanjing):
    uid, lng, lat = unit_xy(nanjing, "工人影城")
    f = client.get("/workspace/locate", params={"layer": "units", "id": uid}).json()
    assert f["properties"]["name"] == "工人影城" and f["geometry"]["coordinates"] == pytest.approx([lng, lat])
    g = client.get("/workspace/locate", params={"layer": "units", "id": uid, "crs": "gcj02"}).json()
    assert 400 < metres(tuple(g["geometry"]["coordinates"]), (lng, lat)) < 700
    with nanjing.connect() as c:
        code, h3 = c.execute(text("SELECT code, to_hex(h3) FROM grid_cells ORDER BY code LIMIT 1")).one()
    cell = client.get("/workspace/locate", params={"layer": "cells", "code": code}).json()
    assert cell["properties"]["code"] == code and cell["id"] == h3
    assert client.get("/workspace/locate", params={"layer": "cells", "h3": h3}).json()["properties"]["code"] == code
    zone = client.get("/workspace/locate", params={"layer": "zones", "id": 1}).json()
    assert zone["properties"]["party_name"] == "工人影城"
    assert client.get("/workspace/locate", params={"layer": "units", "id": 10**8}).status_code == 404
    assert client.get("/workspace/locate", params={"layer": "units"}).status_code == 422
    assert client.get("/workspace/locate", params={"layer": "units", "code": "x"}).status_code == 422
    assert client.get("/workspace/locate", params={"layer": "roads", "id": 1}).status_code == 404


def test_officers_grids_are_outlined_per_officer(client, nanjing):
    fc = client.get("/officers/grids").json()
    (f,) = fc["features"]
    p = f["properties"]
    assert p["name"] == "王网格" and p["phone"] == "13800000001" and p["cells"] == len(p["grid_codes"]) > 1
    assert f["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    import shapely
    from shapely.geometry import shape

    with nanjing.connect() as c:
        area = c.execute(text("SELECT sum(ST_Area(geom)) FROM grid_cells WHERE code = ANY(:codes)"),
                         {"codes": p["grid_codes"]}).scalar_one()
    assert shapely.area(shape(f["geometry"])) == pytest.approx(area, rel=1e-3)  # the union of its cells
    minx, miny, maxx, maxy = shape(f["geometry"]).bounds
    far = client.get("/officers/grids", params={"bbox": "0,0,1,1"}).json()
    assert far["features"] == []
    (gx0, gx1), (gy0, gy1) = chinese_crs.wgs84_to_gcj02([minx, maxx], [miny, maxy])  # the same box on a 高德 map
    near = client.get("/officers/grids", params={"bbox": f"{gx0},{gy0},{gx1},{gy1}", "crs": "gcj02"}).json()
    (g,) = near["features"]
    assert g["properties"]["grid_codes"] == p["grid_codes"]
    assert 400 < metres(shape(g["geometry"]).centroid.coords[0], shape(f["geometry"]).centroid.coords[0]) < 700


def test_several_layers_in_one_tile(client):
    x, y = tile_of(118.7836, 32.0427, 16)
    r = client.get(f"/tiles/streets,zones,units/16/{x}/{y}.pbf")
    assert r.status_code == 200
    layers = mapbox_vector_tile.decode(r.content)
    assert list(layers) == ["streets", "zones", "units"]
    for name in layers:
        one = mapbox_vector_tile.decode(client.get(f"/tiles/{name}/16/{x}/{y}.pbf").content)[name]
        assert len(one["features"]) == len(layers[name]["features"])
    assert r.headers["cache-control"] == "private, max-age=60"  # staff tiles carry phones  # the shortest of the layers (zones)
    assert client.get(f"/tiles/units,units/16/{x}/{y}.pbf").status_code == 422
    assert client.get(f"/tiles/units,roads/16/{x}/{y}.pbf").status_code == 404


def test_streets_are_centrelines_at_district_zoom_and_carriageways_closer(client):
    for z, kinds in ((12, {"LineString", "MultiLineString"}), (13, {"LineString", "MultiLineString"}),
                     (14, {"Polygon", "MultiPolygon"})):
        x, y = tile_of(118.7836, 32.0427, z)
        feats = mapbox_vector_tile.decode(client.get(f"/tiles/streets/{z}/{x}/{y}.pbf").content)["streets"]["features"]
        assert feats and {f["geometry"]["type"] for f in feats} <= kinds, z
        assert "中山路" in {f["properties"].get("name") for f in feats}


@pytest.mark.parametrize("z", [14, 16, 18])
def test_gcj_tiles_move_a_known_point_by_the_gcj_offset(client, nanjing, z):
    uid, lng, lat = unit_xy(nanjing, "工人影城")
    glng, glat = (float(v) for v in chinese_crs.wgs84_to_gcj02(lng, lat))
    assert 400 < metres((glng, glat), (lng, lat)) < 700  # ≈ 500 m in Nanjing
    # on a WGS84 basemap the unit is where it is ...
    (x, y), (px, py) = tile_point(client, uid, lng, lat, z, "wgs84")
    ex, ey = tile_pixel(lng, lat, z, x, y)
    assert abs(px - ex) <= 1 and abs(py - ey) <= 1
    # ... on a GCJ-02 basemap it is drawn at its GCJ-02 position, in the tile holding that position
    (gx, gy), (qx, qy) = tile_point(client, uid, glng, glat, z, "gcj02")
    ex, ey = tile_pixel(glng, glat, z, gx, gy)
    assert abs(qx - ex) <= 1.5 and abs(qy - ey) <= 1.5, ((qx, qy), (ex, ey))
    if z >= 16:  # ~500 m is several tiles at these zooms
        assert (gx, gy) != (x, y)


def test_gcj_tiles_outside_china_are_unchanged(client):
    for z in (14, 16):
        x, y = tile_of(*HELSINKI, z)
        plain = client.get(f"/tiles/units/{z}/{x}/{y}.pbf")
        gcj = client.get(f"/tiles/units/{z}/{x}/{y}.pbf", params={"crs": "gcj02"})
        assert plain.status_code == 200 and gcj.content == plain.content


def test_gcj_geojson_moves_coordinates_and_reads_the_bbox_in_gcj(client, nanjing):
    uid, lng, lat = unit_xy(nanjing, "工人影城")
    glng, glat = (float(v) for v in chinese_crs.wgs84_to_gcj02(lng, lat))
    d = 0.0005
    plain = client.get("/units", params={"bbox": f"{lng - d},{lat - d},{lng + d},{lat + d}"}).json()
    (f,) = [f for f in plain["features"] if f["id"] == uid]
    assert f["geometry"]["coordinates"] == pytest.approx([lng, lat], abs=1e-7)
    # the same ground asked for in GCJ-02 coordinates comes back in GCJ-02 coordinates
    gcj = client.get("/units", params={"bbox": f"{glng - d},{glat - d},{glng + d},{glat + d}", "crs": "gcj02"}).json()
    (g,) = [g for g in gcj["features"] if g["id"] == uid]
    assert g["geometry"]["coordinates"] == pytest.approx([glng, glat], abs=2e-7)
    assert g["properties"] == f["properties"]
    # polygons too (zones, every vertex)
    zones = client.get("/zones", params={"crs": "gcj02"}).json()["features"]
    wz = {z["id"]: z for z in client.get("/zones").json()["features"]}
    for z in zones:
        ring = z["geometry"]["coordinates"][0][0]
        wring = wz[z["id"]]["geometry"]["coordinates"][0][0]
        for (a, b), (c, e) in zip(ring, wring, strict=True):
            assert [a, b] == pytest.approx([float(v) for v in chinese_crs.wgs84_to_gcj02(c, e)], abs=2e-7)


def test_gcj_geojson_outside_china_is_unchanged(client):
    box = f"{HELSINKI[0] - 0.01},{HELSINKI[1] - 0.01},{HELSINKI[0] + 0.01},{HELSINKI[1] + 0.01}"
    plain = client.get("/units", params={"bbox": box}).json()
    gcj = client.get("/units", params={"bbox": box, "crs": "gcj02"}).json()
    assert plain["features"] and gcj["features"] == plain["features"]
    assert gcj["features"][0]["geometry"]["coordinates"] == pytest.approx(list(HELSINKI))


def test_bad_crs_is_422(client):
    assert client.get("/units", params={"crs": "bd09"}).status_code == 422
    assert client.get("/tiles/units/16/0/0.pbf", params={"crs": "mars"}).status_code == 422
