"""The HTTP API: health, GeoJSON layers with bbox and paging, errors mapped to status codes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from support import NANJING, shared_file

from gridsvc.api.app import create_app
from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.db import migrate


@pytest.fixture(scope="module")
def nanjing_client(engine):
    from sqlalchemy import text

    with engine.begin() as c:
        c.execute(text("TRUNCATE feature_cells, units, grid_cells, streets, buildings, compounds, markets, "
                       "admin_units, imports RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    with TestClient(create_app(engine)) as client:
        yield client


def test_health_reports_postgis_schema_and_cells(nanjing_client):
    r = nanjing_client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["postgis"].startswith("3.") and body["schema"] == migrate.head_revision()
    assert body["cells"] > 900


@pytest.mark.parametrize("path", ["/streets", "/buildings", "/compounds", "/markets", "/units", "/grid/cells",
                                  "/admin-units"])
def test_every_layer_is_a_geojson_feature_collection(nanjing_client, path):
    r = nanjing_client.get(path, params={"limit": 5})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["numberReturned"] == len(fc["features"]) <= 5
    assert fc["numberMatched"] >= fc["numberReturned"] > 0
    f = fc["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] in {"Point", "MultiPolygon", "Polygon"}


def test_bbox_filters_and_paging_walks_everything(nanjing_client):
    bbox = "118.780,32.038,118.788,32.046"
    first = nanjing_client.get("/units", params={"bbox": bbox, "limit": 10}).json()
    everything = nanjing_client.get("/units", params={"limit": 10000}).json()
    assert 0 < first["numberMatched"] < everything["numberMatched"]
    for f in first["features"]:
        x, y = f["geometry"]["coordinates"]
        assert 118.780 <= x <= 118.788 and 32.038 <= y <= 32.046
    seen, url = [], "/units?bbox=" + bbox + "&limit=10"
    while url:
        page = nanjing_client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == first["numberMatched"]


def test_chinese_names_come_back_intact(nanjing_client):
    names = {f["properties"]["name"] for f in nanjing_client.get("/markets").json()["features"]}
    assert {"香铺营集贸市场", "科巷菜市场"} <= names


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "10,10,5,5", "0,0,200,10", "nan,0,1,1"])
def test_bad_bbox_is_422_with_a_readable_message(nanjing_client, bbox):
    r = nanjing_client.get("/units", params={"bbox": bbox})
    assert r.status_code == 422
    assert "bbox" in r.json()["detail"]


def test_unreachable_database_is_503_with_retry_after():
    dead = create_engine("postgresql+psycopg://nobody:x@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    with TestClient(create_app(dead)) as client:
        r = client.get("/health")
    assert r.status_code == 503 and r.headers["retry-after"]
    assert "database" in r.json()["detail"]
