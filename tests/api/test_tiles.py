"""Vector tiles (MVT) from PostGIS on the real Nanjing extract: content, empty tiles, bad addresses, latency."""

from __future__ import annotations

import json
import statistics
import time

import h3
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from support import ARTIFACTS, tile_of, tile_pixel

from gridsvc.api.app import create_app
from gridsvc.db.layers import LAYERS
from gridsvc.db.tiles import EXTENT, MAX_ZOOM, MIN_ZOOM

XINJIEKOU = (118.7836, 32.0427)
GOOD_LAYERS = ("streets", "buildings", "units", "cells", "admin_units", "zones")



@pytest.fixture(scope="module")
def client(nanjing, admin_headers):
    app = create_app(nanjing)
    with TestClient(app, headers=admin_headers) as c:
        yield c


def get_tile(client, layer: str, z: int, x: int, y: int) -> dict:
    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
    assert r.status_code == 200, (layer, z, x, y, r.status_code, r.text[:200])
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    assert list(layers) == [layer]
    assert layers[layer]["extent"] == EXTENT
    return layers[layer]


@pytest.mark.parametrize("z", [15, 16])
def test_xinjiekou_tile_has_features_with_chinese_names(client, z):
    x, y = tile_of(*XINJIEKOU, z)
    names = {}
    for layer in GOOD_LAYERS:
        features = get_tile(client, layer, z, x, y)["features"]
        assert features, f"{layer} tile {z}/{x}/{y} is empty"
        spec = LAYERS[layer]
        allowed = {spec.key, *spec.columns}
        for f in features:
            assert set(f["properties"]) <= allowed, (layer, set(f["properties"]) - allowed)
            assert isinstance(f["id"], int)
        names[layer] = {f["properties"].get("name") for f in features}
    assert {"中山路", "汉中路", "中山东路", "洪武北路"} <= names["streets"]
    assert {"德基广场", "南京新百", "新华书店"} <= names["buildings"]
    assert {"工人影城", "东亚银行", "喜茶"} <= names["units"]
    assert "临时区 320102" in names["admin_units"]


def test_cells_carry_h3_as_hex_and_the_feature_id_is_the_index(client):
    x, y = tile_of(*XINJIEKOU, 16)
    features = get_tile(client, "cells", 16, x, y)["features"]
    for f in features:
        hexid = f["properties"]["h3"]
        assert isinstance(hexid, str) and h3.is_valid_cell(hexid) and h3.get_resolution(hexid) == 10
        assert int(hexid, 16) == f["id"]
        assert f["properties"]["code"].startswith("320102") and f["geometry"]["type"] == "Polygon"


def test_geometry_lands_where_it_should_in_tile_units(client, nanjing):
    from sqlalchemy import text

    with nanjing.connect() as c:
        uid, lng, lat = c.execute(text("SELECT id, ST_X(geom), ST_Y(geom) FROM units WHERE name = '工人影城'")).one()
    for z in (15, 16):
        x, y = tile_of(lng, lat, z)
        (f,) = [f for f in get_tile(client, "units", z, x, y)["features"] if f["id"] == uid]
        px, py = f["geometry"]["coordinates"]
        ex, ey = tile_pixel(lng, lat, z, x, y)
        assert abs(px - ex) <= 1 and abs(py - ey) <= 1, ((px, py), (ex, ey))


def test_zone_tile_carries_the_party(client):
    x, y = tile_of(*XINJIEKOU, 16)
    (zone,) = get_tile(client, "zones", 16, x, y)["features"]
    p = zone["properties"]
    assert p["party_name"] == "工人影城" and p["kind"] == "frontage" and p["depth_rule"] == "到路缘石"
    assert zone["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_cache_headers_and_etag(client, nanjing):
    x, y = tile_of(*XINJIEKOU, 15)
    r = client.get(f"/tiles/units/15/{x}/{y}.pbf")  # staff: with phones, so private
    assert r.headers["cache-control"] == "private, max-age=3600" and r.headers["etag"]
    assert client.get(f"/tiles/zones/16/{x * 2}/{y * 2}.pbf").headers["cache-control"] == "private, max-age=60"
    with TestClient(create_app(nanjing)) as anonymous:
        public = anonymous.get(f"/tiles/units/15/{x}/{y}.pbf")
        assert public.headers["cache-control"] == "public, max-age=3600" and "Authorization" in vary(public)
        fields = {k for f in mapbox_vector_tile.decode(public.content)["units"]["features"] for k in f["properties"]}
        assert "name" in fields and not fields & {"phone", "contact"}, "anonymous tiles leave out personal fields"
    again = client.get(f"/tiles/units/15/{x}/{y}.pbf", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content


@pytest.mark.parametrize("path", [
    "/tiles/units/15/0/0.pbf",                  # the Pacific off Alaska: nothing there
    "/tiles/buildings/10/{x10}/{y10}.pbf",      # over Nanjing, but below the buildings' min zoom
    "/tiles/markets/16/{x16}/{y16}.pbf",        # 新街口 itself has no market
])
def test_empty_tiles_are_204(client, path):
    x10, y10 = tile_of(*XINJIEKOU, 10)
    x16, y16 = tile_of(*XINJIEKOU, 16)
    r = client.get(path.format(x10=x10, y10=y10, x16=x16, y16=y16))
    assert r.status_code == 204 and r.content == b"" and r.headers["cache-control"].startswith("private")


@pytest.mark.parametrize("path, word", [
    ("/tiles/units/23/0/0.pbf", "zoom"),
    ("/tiles/units/-1/0/0.pbf", "zoom"),
    ("/tiles/units/3/8/0.pbf", "x=8"),
    ("/tiles/units/3/0/8.pbf", "y=8"),
    ("/tiles/units/0/0/-1.pbf", "y=-1"),
    ("/tiles/units/14/a/0.pbf", None),
])
def test_bad_tile_address_is_422(client, path, word):
    r = client.get(path)
    assert r.status_code == 422
    if word:
        assert word in r.json()["detail"] and "out of range" in r.json()["detail"]


def test_unknown_layer_is_404_listing_the_layers(client):
    r = client.get("/tiles/roads/15/0/0.pbf")
    assert r.status_code == 404 and "streets" in r.json()["detail"]


def test_district_zoom_tiles_stay_small(client):
    for z in (8, 10, 12, 13):
        x, y = tile_of(*XINJIEKOU, z)
        for layer in LAYERS:
            r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
            assert r.status_code in (200, 204)
            assert len(r.content) < 64_000, (layer, z, len(r.content))
            if z < MIN_ZOOM[layer]:
                assert r.status_code == 204


def test_tilejson_lists_every_layer(client):
    body = client.get("/tiles").json()
    sets = {t["name"]: t for t in body["tilesets"]}
    assert set(sets) == set(LAYERS)
    for name, t in sets.items():
        assert t["tiles"] == [f"http://testserver/tiles/{name}/{{z}}/{{x}}/{{y}}.pbf"]
        assert t["minzoom"] == MIN_ZOOM[name] and t["maxzoom"] == MAX_ZOOM
        minx, miny, maxx, maxy = t["bounds"]
        assert 118.7 < minx < maxx < 118.9 and 31.9 < miny < maxy < 32.1, (name, t["bounds"])
        assert t["vector_layers"][0]["id"] == name
    assert sets["cells"]["vector_layers"][0]["fields"]["h3"] == "String"
    assert sets["streets"]["vector_layers"][0]["fields"]["width_m"] == "Number"
    one = client.get("/tiles/cells.json").json()
    assert one["tiles"] == sets["cells"]["tiles"] and client.get("/tiles/nope.json").status_code == 404


def test_tile_latency_z14_to_16(client, nanjing):
    """Every tile of every layer over the extract at z14-16, fetched one after another; medians go to the report."""
    streets = client.get("/tiles/streets.json").json()["bounds"]
    report = {}
    for z in (14, 15, 16):
        x0, y0 = tile_of(streets[0], streets[3], z)
        x1, y1 = tile_of(streets[2], streets[1], z)
        times, sizes, full = [], [], []
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                for layer in LAYERS:
                    t = time.perf_counter()
                    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")
                    times.append(time.perf_counter() - t)
                    sizes.append(len(r.content))
                    if r.status_code == 200:
                        full.append(times[-1])
                    assert r.status_code in (200, 204)
        times.sort()
        report[z] = {"tiles": (x1 - x0 + 1) * (y1 - y0 + 1), "requests": len(times),
                     "median_ms": round(statistics.median(times) * 1000, 2),
                     "median_non_empty_ms": round(statistics.median(full) * 1000, 2), "non_empty": len(full),
                     "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 2),
                     "max_ms": round(times[-1] * 1000, 2), "max_bytes": max(sizes)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "tile_latency.json").write_text(json.dumps(report, indent=2))
    print("tile latency", report)
    for z, r in report.items():
        assert r["median_ms"] < 100, (z, r)


def vary(response) -> set[str]:
    """The Vary header's names (the app's own and gzip's Accept-Encoding)."""
    return {v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()}
