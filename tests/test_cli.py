"""The command line as a user types it: ingest, build grid, export, errors, db url."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from support import NANJING, shared_file
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.cli import app
from gridsvc.db import engine as engine_mod

runner = CliRunner()


@pytest.fixture
def cli_db(clean_db, database_url, monkeypatch):
    """Point the CLI at the test database."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database_url)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    yield clean_db
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


def test_ingest_build_and_export_every_format(cli_db, tmp_path):
    r = runner.invoke(app, ["ingest", str(shared_file(NANJING))])
    assert r.exit_code == 0, r.output
    assert "units" in r.output and "buildings" in r.output and "1277" in r.output
    r = runner.invoke(app, ["build", "grid", "--res", "10"])
    assert r.exit_code == 0 and "cells at res 10" in r.output
    for ext in ("geojson", "gpkg", "shp", "kml"):
        out = tmp_path / f"markets.{ext}"
        r = runner.invoke(app, ["export", "layer", "markets", "--out", str(out)])
        assert r.exit_code == 0, r.output
        back = gpd.read_file(out, engine="pyogrio")
        names = set(back["Name" if ext == "kml" else "name"])
        assert "科巷菜市场" in names, (ext, names)
        assert back.crs.to_epsg() == 4326
    out = tmp_path / "cells.gpkg"
    assert runner.invoke(app, ["export", "layer", "cells", "--out", str(out)]).exit_code == 0
    cells = pyogrio.read_dataframe(out)
    assert cells["code"].str.len().eq(15).all() and cells["h3"].str.startswith("8a").all()


def test_bad_input_prints_one_clear_error_and_exit_code_2(cli_db, tmp_path):
    bad = tmp_path / "台账.csv"
    bad.write_text("名称,地址\n新百,中山路1号\n", encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(bad)])
    assert r.exit_code == 2
    assert "台账.csv" in r.output and "error" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["export", "layer", "nonsense", "--out", str(tmp_path / "x.geojson")])
    assert r.exit_code == 1 and "known layers" in r.output


def test_db_url_prints_the_url_in_use(cli_db, database_url):
    r = runner.invoke(app, ["db", "url"])
    assert r.exit_code == 0 and r.output.strip() == database_url
