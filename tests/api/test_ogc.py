"""OGC API – Features Part 1 core on the real Nanjing extract: schemas, paging, bbox, errors, and OWSLib as a client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from fastapi.testclient import TestClient
from live import serve
from ogc_schemas import CRS84, validator
from owslib.ogcapi.features import Features
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.db.layers import LAYERS

XINJIEKOU_BBOX = (118.780, 32.038, 118.788, 32.046)
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"


@pytest.fixture(scope="module")
def app(nanjing):
    app = create_app(nanjing)
    return app


@pytest.fixture(scope="module")
def client(app, admin_headers):
    with TestClient(app, headers=admin_headers) as c:
        yield c


def get_json(client, url: str, status: int = 200, media: str = "application/json", **params) -> dict:
    r = client.get(url, params=params or None)
    assert r.status_code == status, (url, params, r.status_code, r.text[:300])
    assert r.headers["content-type"].split(";")[0] == media
    return r.json()


def assert_valid(schema: str, doc: dict) -> None:
    errors = sorted(validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def rels(doc: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def local(href: str) -> str:
    return href.removeprefix("http://testserver")


def test_landing_page_links_to_conformance_data_and_the_api_definition(client):
    page = get_json(client, "/ogc")
    assert_valid("landingPage", page)
    links = rels(page)
    assert {"self", "conformance", "data", "service-desc"} <= set(links)
    assert all(link["type"] for link in page["links"])
    assert get_json(client, local(links["conformance"]["href"]))["conformsTo"]
    assert get_json(client, local(links["data"]["href"]))["collections"]
    assert links["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    api = get_json(client, local(links["service-desc"]["href"]))
    assert {"/ogc", "/ogc/collections/{collectionId}/items"} <= set(api["paths"])
    assert get_json(client, "/ogc", f="json") == page


def test_conformance_declares_core_geojson_and_part4(client):
    doc = get_json(client, "/ogc/conformance")
    assert_valid("confClasses", doc)
    assert {CORE + "core", CORE + "geojson"} <= set(doc["conformsTo"])
    assert CORE + "oas30" not in doc["conformsTo"], "the API definition is OpenAPI 3.1, not 3.0"
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in doc["conformsTo"]


def test_collections_are_the_layer_registry_with_extents(client):
    doc = get_json(client, "/ogc/collections")
    assert_valid("collections", doc)
    assert [c["id"] for c in doc["collections"]] == list(LAYERS)
    for c in doc["collections"]:
        assert c["itemType"] == "feature" and c["crs"] == [CRS84] and c["title"] == LAYERS[c["id"]].label
        (minx, miny, maxx, maxy), = c["extent"]["spatial"]["bbox"]
        assert 118.7 < minx <= maxx < 118.9 and 31.9 < miny <= maxy < 32.1, c["id"]
        assert c["extent"]["spatial"]["crs"] == CRS84
        items = rels(c)["items"]
        assert items["type"] == "application/geo+json" and items["href"].endswith(f"/ogc/collections/{c['id']}/items")
        one = get_json(client, f"/ogc/collections/{c['id']}")
        assert_valid("collection", one)
        assert one == c


def test_unknown_collection_is_404(client):
    assert "streets" in get_json(client, "/ogc/collections/roads", 404)["detail"]
    get_json(client, "/ogc/collections/roads/items", 404)
    get_json(client, "/ogc/collections/roads/items/1", 404)


@pytest.mark.parametrize("cid", list(LAYERS))
def test_items_of_every_collection_validate(client, cid):
    fc = get_json(client, f"/ogc/collections/{cid}/items", media="application/geo+json")
    assert_valid("featureCollectionGeoJSON", fc)
    assert fc["numberReturned"] == len(fc["features"]) == min(10, fc["numberMatched"]) > 0
    stamp = datetime.fromisoformat(fc["timeStamp"])
    assert stamp.tzinfo and abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    links = rels(fc)
    assert links["self"]["type"] == "application/geo+json" and "collection" in links
    assert ("next" in links) == (fc["numberMatched"] > 10) and "prev" not in links
    first = fc["features"][0]
    feature = get_json(client, f"/ogc/collections/{cid}/items/{first['id']}", media="application/geo+json")
    assert_valid("featureGeoJSON", feature)
    assert feature["id"] == first["id"] and feature["properties"] == first["properties"]
    assert {"self", "collection"} <= set(rels(feature))


def test_walk_every_page_by_next_links_and_back_by_prev(client, nanjing):
    bbox = ",".join(map(str, XINJIEKOU_BBOX))
    with nanjing.connect() as c:
        expected = c.execute(text("SELECT count(*) FROM units WHERE ST_Intersects(geom, "
                                  "ST_MakeEnvelope(118.780, 32.038, 118.788, 32.046, 4326))")).scalar_one()
    url, seen, pages = f"/ogc/collections/units/items?bbox={bbox}&limit=7", [], []
    box = shapely.box(*XINJIEKOU_BBOX)
    while url:
        fc = get_json(client, url, media="application/geo+json")
        assert fc["numberMatched"] == expected and fc["numberReturned"] <= 7
        for f in fc["features"]:
            assert box.intersects(shapely.geometry.shape(f["geometry"]))
        seen += [f["id"] for f in fc["features"]]
        pages.append(fc)
        nxt = rels(fc).get("next")
        assert parse_qs(urlsplit(nxt["href"]).query)["bbox"] == [bbox] if nxt else True
        url = local(nxt["href"]) if nxt else None
    assert expected > 20 and len(pages) == -(-expected // 7)
    assert len(seen) == len(set(seen)) == expected
    back, url = [], local(rels(pages[-1])["prev"]["href"])
    while url:
        fc = get_json(client, url, media="application/geo+json")
        back = [f["id"] for f in fc["features"]] + back
        prev = rels(fc).get("prev")
        url = local(prev["href"]) if prev else None
    assert back == seen[: len(back)] and len(back) == 7 * (len(pages) - 1)


def test_walk_a_whole_collection_with_big_pages(client, nanjing):
    with nanjing.connect() as c:
        total = c.execute(text("SELECT count(*) FROM grid_cells")).scalar_one()
    url, seen = "/ogc/collections/cells/items?limit=500", set()
    while url:
        fc = get_json(client, url, media="application/geo+json")
        assert fc["numberMatched"] == total
        seen |= {f["id"] for f in fc["features"]}
        url = local(rels(fc)["next"]["href"]) if "next" in rels(fc) else None
    assert len(seen) == total > 500


def test_limit_above_the_maximum_is_cut_not_refused(client):
    fc = get_json(client, "/ogc/collections/units/items", media="application/geo+json", limit=50_000)
    assert fc["numberReturned"] == min(fc["numberMatched"], 10_000) and "next" not in rels(fc)


def test_chinese_names_and_cell_ids(client):
    names = {f["properties"]["name"] for f in get_json(
        client, "/ogc/collections/markets/items", media="application/geo+json")["features"]}
    assert {"香铺营集贸市场", "科巷菜市场"} <= names
    cell = get_json(client, "/ogc/collections/cells/items", media="application/geo+json", limit=1)["features"][0]
    assert isinstance(cell["id"], str) and int(cell["id"], 16) and cell["properties"]["h3"] == cell["id"]


@pytest.mark.parametrize("fid", ["99999999", "abc", "-1", "1.5", "0x10"])
def test_missing_or_malformed_feature_is_404(client, fid):
    assert "no feature" in get_json(client, f"/ogc/collections/units/items/{fid}", 404)["detail"]


def test_missing_cell_is_404(client):
    get_json(client, "/ogc/collections/cells/items/8a309119036ffff0", 404)
    get_json(client, "/ogc/collections/cells/items/zz", 404)


@pytest.mark.parametrize("params, word", [
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "0,10,5,5"}, "bbox"),
    ({"bbox": "0,0,200,10"}, "bbox"),
    ({"bbox": "nan,0,1,1"}, "bbox"),
    ({"limit": "0"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"datetime": "yesterday"}, "datetime"),
    ({"datetime": "../.."}, "datetime"),
    ({"f": "html"}, "f"),
    ({"colour": "red"}, "colour"),
])
def test_bad_or_unknown_query_parameters_are_400(client, params, word):
    body = get_json(client, "/ogc/collections/units/items", 400, **params)
    assert word in body["detail"]


def test_unknown_parameter_on_other_resources_is_400(client):
    get_json(client, "/ogc/collections", 400, limit="5")
    get_json(client, "/ogc", 400, foo="1")


def test_bbox_with_heights_and_across_the_antimeridian(client):
    flat = get_json(client, "/ogc/collections/units/items", media="application/geo+json",
                    bbox=",".join(map(str, XINJIEKOU_BBOX)))
    tall = get_json(client, "/ogc/collections/units/items", media="application/geo+json",
                    bbox="118.780,32.038,-10,118.788,32.046,100")
    assert tall["numberMatched"] == flat["numberMatched"] > 0
    wrap = get_json(client, "/ogc/collections/units/items", media="application/geo+json", bbox="170,30,119,33")
    assert wrap["numberMatched"] == get_json(client, "/ogc/collections/units/items",
                                             media="application/geo+json")["numberMatched"]
    assert get_json(client, "/ogc/collections/units/items", media="application/geo+json",
                    bbox="170,30,118,33")["numberMatched"] == 0


def test_datetime_selects_zones_valid_then(client):
    now = datetime.now(UTC)
    assert get_json(client, "/ogc/collections/zones/items", media="application/geo+json",
                    datetime=now.isoformat())["numberMatched"] == 1
    assert get_json(client, "/ogc/collections/zones/items", media="application/geo+json",
                    datetime="2020-01-01T00:00:00Z")["numberMatched"] == 0
    assert get_json(client, "/ogc/collections/zones/items", media="application/geo+json",
                    datetime="2020-01-01T00:00:00Z/..")["numberMatched"] == 1
    # layers without a validity period ignore it
    units = get_json(client, "/ogc/collections/units/items", media="application/geo+json", datetime="2020-01-01")
    assert units["numberMatched"] == get_json(client, "/ogc/collections/units/items",
                                              media="application/geo+json")["numberMatched"] > 100


@pytest.fixture(scope="module")
def live_url(app):
    with serve(app) as url:
        yield url


def test_owslib_reads_the_api_over_http(live_url):
    api = Features(f"{live_url}/ogc")
    assert {CORE + "core", CORE + "geojson"} <= set(api.conformance()["conformsTo"])
    assert api.feature_collections() == list(LAYERS)
    assert api.collection("markets")["title"] == LAYERS["markets"].label
    first = api.collection_items("units", bbox=list(XINJIEKOU_BBOX), limit=9)
    seen, page = [], first
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = rels(page).get("next")
        if not nxt:
            break
        assert nxt["href"].startswith(live_url)
        q = parse_qs(urlsplit(nxt["href"]).query)
        page = api.collection_items("units", bbox=list(XINJIEKOU_BBOX), limit=int(q["limit"][0]),
                                    offset=int(q["offset"][0]))
    assert len(seen) == len(set(seen)) == first["numberMatched"] > 9
    feature = api.collection_item("units", str(seen[0]))
    assert feature["id"] == seen[0] and feature["type"] == "Feature"
    assert api.collection_items("zones")["features"][0]["properties"]["party_name"] == "工人影城"
    with pytest.raises(RuntimeError):
        api.collection_item("units", "99999999")


def _street_square(client, half: float = 1.5e-5) -> dict:
    """A small square in auto street space, away from every other zone (for Part 4 writes)."""
    eng = client.app.state.engine
    with eng.connect() as c:
        x, y = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current "
            "WHERE kind = 'street_space' AND provenance = 'auto' ORDER BY area_m2 DESC LIMIT 100) s "
            "WHERE NOT EXISTS (SELECT 1 FROM zones_current z WHERE NOT (z.kind = 'street_space' AND "
            "z.provenance = 'auto') AND ST_DWithin(z.geom::geography, s.p::geography, 20)) LIMIT 1")).one()
    return shapely.geometry.mapping(shapely.box(x - half, y - half, x + half, y + half))


@pytest.fixture(scope="module")
def zoned(nanjing):
    from gridsvc.zones.build import build_zones

    build_zones(nanjing, "三包")
    return nanjing


def test_part4_create_replace_delete_zones_under_the_same_validation(client, zoned):
    party = client.post("/parties", json={"kind": "street_steward", "name": "OGC 管家"}).json()["id"]
    geo = {"Content-Type": "application/geo+json"}
    body = {"type": "Feature", "geometry": _street_square(client), "properties": {"party_id": party}}
    r = client.post("/ogc/collections/zones/items", content=json.dumps(body), headers=geo)
    assert r.status_code == 201, r.text
    fid = r.headers["Location"].rsplit("/", 1)[1]
    feature = get_json(client, local(r.headers["Location"]), media="application/geo+json")
    assert client.get(local(r.headers["Location"])).headers["ETag"] == f'"{fid}-1"'
    assert_valid("featureGeoJSON", feature)
    assert feature["properties"]["party_name"] == "OGC 管家" and feature["properties"]["provenance"] == "planner"
    # QGIS sends back every property it read, version included: a stale one is refused
    stale = dict(feature, properties=dict(feature["properties"], version=0))
    r = client.put(f"/ogc/collections/zones/items/{fid}", content=json.dumps(stale), headers=geo)
    assert r.status_code == 412, r.text
    r = client.put(f"/ogc/collections/zones/items/{fid}", content=json.dumps(feature), headers=geo)
    assert r.status_code == 204 and r.headers["ETag"] == f'"{fid}-1"', "sent back unchanged: no new version"
    noted = dict(feature, properties=dict(feature["properties"], note="QGIS 复核"))
    r = client.put(f"/ogc/collections/zones/items/{fid}", content=json.dumps(noted), headers=geo)
    assert r.status_code == 204 and r.headers["ETag"] == f'"{fid}-2"'
    # the same overlap rule as /zones: a shop's zone is protected
    with client.app.state.engine.connect() as c:
        shop = c.execute(text("SELECT ST_AsGeoJSON(ST_Buffer(ST_PointOnSurface(geom), 0.00002)) FROM zones_current "
                              "WHERE kind = 'frontage' AND provenance = 'auto' AND area_m2 > 60 LIMIT 1")).scalar()
    r = client.post("/ogc/collections/zones/items", headers=geo, content=json.dumps(
        {"type": "Feature", "geometry": json.loads(shop), "properties": {"party_id": party}}))
    assert r.status_code == 409 and "overlaps zone" in r.json()["detail"]
    r = client.post("/ogc/collections/units/items", headers=geo, content=json.dumps(body))
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert client.delete(f"/ogc/collections/zones/items/{fid}").status_code == 428, "deletes name a version too"
    assert client.delete(f"/ogc/collections/zones/items/{fid}", headers={"If-Match": f'"{fid}-1"'}).status_code == 412
    assert client.delete(f"/ogc/collections/zones/items/{fid}", headers={"If-Match": f'"{fid}-2"'}).status_code == 204
    assert client.get(f"/ogc/collections/zones/items/{fid}").status_code == 404
    assert client.delete(f"/ogc/collections/zones/items/{fid}", headers={"If-Match": "*"}).status_code == 404


def test_owslib_edits_zones_over_http(live_url, zoned, admin_headers):
    api = Features(f"{live_url}/ogc", headers={"Content-Type": "application/geo+json", **admin_headers})
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in \
        api.conformance()["conformsTo"]
    import httpx

    party = httpx.post(f"{live_url}/parties", json={"kind": "street_steward", "name": "OWSLib 管家"},
                       headers=admin_headers).json()["id"]
    with TestClient(create_app(zoned)) as c:
        square = _street_square(c, 1.2e-5)
    api.collection_item_create("zones", json.dumps({"type": "Feature", "geometry": square,
                                                    "properties": {"party_id": party}}))
    fid = api.response_headers["Location"].rsplit("/", 1)[1]
    feature = api.collection_item("zones", fid)
    assert feature["properties"]["party_name"] == "OWSLib 管家"
    feature["properties"]["note"] = "edited in QGIS"
    api.collection_item_update("zones", fid, json.dumps(feature))
    assert api.collection_item("zones", fid)["properties"]["version"] == 2
    with pytest.raises(RuntimeError, match="If-Match"):
        api.collection_item_delete("zones", fid)  # a delete names the version it removes, too
    Features(f"{live_url}/ogc", headers={"If-Match": f'"{fid}-2"', **admin_headers}).collection_item_delete("zones", fid)
    with pytest.raises(RuntimeError):
        api.collection_item("zones", fid)
