"""Exports as the field team asks for them: `gridsvc export map|pack|boards|layer` and GET /exports/…."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pyogrio
import pypdf
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.api.app import create_app
from gridsvc.cli import app
from gridsvc.db import engine as engine_mod
from gridsvc.errors import InputError, NotFoundError
from gridsvc.exporters.scope import read_scoped, resolve_scope, scope_option
from gridsvc.maps import assets

runner = CliRunner()
PUBLIC = "https://wg.example.gov.cn"


@pytest.fixture
def cli(nanjing_zones, database_url, monkeypatch):
    """The CLI and the settings pointed at the Nanjing test database, QR codes at PUBLIC."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDSVC_PUBLIC_BASE_URL", PUBLIC)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    yield nanjing_zones
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


@pytest.fixture
def client(cli, admin_headers):
    """The API on the Nanjing test database, as an admin (exports carry phones: staff only)."""
    return TestClient(create_app(cli.engine), headers=admin_headers)


def test_scopes_resolve_and_name_what_is_unknown(nanjing_zones):
    with nanjing_zones.engine.connect() as conn:
        grid = resolve_scope(conn, grid=nanjing_zones.grid)
        assert grid.kind == "grid" and len(grid.cells) == 1 and grid.zoom == 19 and not grid.overview
        assert grid.label.startswith(f"网格 Grid {nanjing_zones.grid}") and grid.community
        community = resolve_scope(conn, community=nanjing_zones.community)
        assert grid.cells[0] in community.cells and community.polygon.contains(grid.polygon.centroid)
        street = resolve_scope(conn, street="中山东路")
        assert street.kind == "street" and street.slug == "street-中山东路"
        streets = read_scoped(conn, "streets", street)
        assert "中山东路" in set(streets["name"])
        box = resolve_scope(conn, bbox="118.775,32.035,118.785,32.045")
        assert box.bounds == (118.775, 32.035, 118.785, 32.045)
        units = read_scoped(conn, "units", grid)
        assert sorted(units["id"]) == sorted(u["id"] for u in nanjing_zones.units)
        with pytest.raises(NotFoundError, match="no grid with code '320102999999999'"):
            resolve_scope(conn, grid="320102999999999")
        with pytest.raises(NotFoundError, match="no community with code '3201'"):
            resolve_scope(conn, community="3201")
        with pytest.raises(NotFoundError, match="similar names: 中山东路"):
            resolve_scope(conn, street="中山西路")
        with pytest.raises(InputError, match="bbox"):
            resolve_scope(conn, bbox="118.8,32.0")
    with pytest.raises(InputError, match="give one scope, not grid and bbox"):
        scope_option(grid="1", bbox="1,2,3,4")
    assert scope_option() is None


def test_cli_export_map_for_each_scope(cli, tmp_path):
    for args in (["--grid", cli.grid], ["--community", cli.community], ["--street", "中山东路"],
                 ["--bbox", "118.775,32.035,118.785,32.045"], []):
        out = tmp_path / "map.html"
        r = runner.invoke(app, ["export", "map", "--out", str(out), *args])
        assert r.exit_code == 0, r.output
        html = out.read_text(encoding="utf-8")
        assert assets.external_refs(html) == [] and "gridsvcAddLayers" in html
    assert "overview" in r.output  # everything: the district-wide overview
    r = runner.invoke(app, ["export", "map", "--out", str(tmp_path / "x.html"), "--street", "不存在的路"])
    assert r.exit_code == 1 and "no street or subdistrict named '不存在的路'" in r.output
    r = runner.invoke(app, ["export", "map", "--out", str(tmp_path / "x.html"), "--grid", cli.grid, "--street", "x"])
    assert r.exit_code == 2 and "give one scope" in r.output


def test_cli_export_pack_and_boards(cli, tmp_path):
    r = runner.invoke(app, ["export", "pack", "--grid", cli.grid, "--out", str(tmp_path / "pack")])
    assert r.exit_code == 0, r.output
    assert "boards.pdf" in r.output and (tmp_path / "pack" / "checklist.pdf").is_file()
    assert PUBLIC in (tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8")
    r = runner.invoke(app, ["export", "boards", "--grid", cli.grid, "--out", str(tmp_path / "grid.pdf")])
    assert r.exit_code == 0, r.output
    assert len(pypdf.PdfReader(tmp_path / "grid.pdf").pages) == len(cli.units)
    ids = [str(u["id"]) for u in cli.units[:2]]
    r = runner.invoke(app, ["export", "boards", "--unit", ids[0], "--unit", ids[1], "--out", str(tmp_path / "two.pdf")])
    assert r.exit_code == 0, r.output
    text = pypdf.PdfReader(tmp_path / "two.pdf").pages[0].extract_text()
    assert "".join(cli.units[0]["name"].split()) in "".join(text.split())
    r = runner.invoke(app, ["export", "boards", "--out", str(tmp_path / "none.pdf")])
    assert r.exit_code == 2 and "--unit ID" in r.output
    r = runner.invoke(app, ["export", "boards", "--unit", "987654", "--out", str(tmp_path / "none.pdf")])
    assert r.exit_code == 1 and "no unit with id 987654" in r.output


def test_cli_export_layer_inside_a_scope(cli, tmp_path):
    out = tmp_path / "units.gpkg"
    r = runner.invoke(app, ["export", "layer", "units", "--grid", cli.grid, "--out", str(out)])
    assert r.exit_code == 0, r.output
    units = pyogrio.read_dataframe(out)
    assert sorted(units["id"]) == sorted(u["id"] for u in cli.units) and set(cli.names) <= set(units["name"])
    out = tmp_path / "zones.kml"
    r = runner.invoke(app, ["export", "layer", "zones", "--community", cli.community, "--out", str(out)])
    assert r.exit_code == 0, r.output
    whole = tmp_path / "all.geojson"
    assert runner.invoke(app, ["export", "layer", "zones", "--out", str(whole)]).exit_code == 0
    assert 0 < len(pyogrio.read_dataframe(out)) < len(pyogrio.read_dataframe(whole))


def test_api_map_and_errors(client, cli):
    r = client.get("/exports/map.html", params={"grid": cli.grid})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert assets.external_refs(r.text) == [] and len(r.content) < 1_000_000
    assert f"map-grid-{cli.grid}.html" in r.headers["content-disposition"]
    r = client.get("/exports/map.html", params={"street": "中山东路"})
    assert r.status_code == 200 and "filename*=UTF-8''map-street-%E4%B8%AD" in r.headers["content-disposition"]
    r = client.get("/exports/map.html", params={"grid": "000"})
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError" and "'000'" in r.json()["detail"]
    r = client.get("/exports/map.html", params={"grid": cli.grid, "community": cli.community})
    assert r.status_code == 422 and "give one scope" in r.json()["detail"]


def test_api_pack_zip_and_boards(client, cli):
    r = client.get("/exports/pack.zip", params={"grid": cli.grid})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
    assert {"map.html", "checklist.pdf", "boards.pdf", "grid.gpkg", "manifest.json", "walk_order.csv"} <= names
    r = client.get("/exports/boards.pdf", params={"grid": cli.grid})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert len(pypdf.PdfReader(io.BytesIO(r.content)).pages) == len(cli.units)
    r = client.get("/exports/boards.pdf", params=[("unit", cli.units[0]["id"]), ("unit", cli.units[1]["id"])])
    assert r.status_code == 200 and len(pypdf.PdfReader(io.BytesIO(r.content)).pages) == 2
    assert client.get("/exports/boards.pdf").status_code == 422
    assert client.get("/exports/boards.pdf", params={"unit": 987654}).status_code == 404


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml"])
def test_api_layers_in_every_format(client, cli, tmp_path, fmt):
    r = client.get(f"/exports/layers/units.{fmt}", params={"grid": cli.grid})
    assert r.status_code == 200, r.text
    if fmt == "shp":
        zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
        assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".dbf", ".shx", ".prj", ".cpg"}
        path = tmp_path / "units.shp"
    else:
        path = tmp_path / f"units.{fmt}"
        path.write_bytes(r.content)
    units = gpd.read_file(path, engine="pyogrio")
    assert len(units) == len(cli.units) and units.crs.to_epsg() == 4326
    assert set(cli.names) <= set(units["Name" if fmt == "kml" else "name"])


def test_api_layer_errors(client, cli):
    assert client.get("/exports/layers/nope.gpkg").status_code == 404
    assert client.get("/exports/layers/zones.xls").status_code == 422
    r = client.get("/exports/layers/zones.geojson", params={"bbox": "118.775,32.035,118.785,32.045"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert 0 < len(r.json()["features"])


def test_api_documents_the_export_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/exports/map.html", "/exports/pack.zip", "/exports/boards.pdf", "/exports/layers/{layer}.{fmt}"):
        assert path in paths
    assert paths["/exports/pack.zip"]["get"]["responses"]["200"]["content"] == {"application/zip": {}}
