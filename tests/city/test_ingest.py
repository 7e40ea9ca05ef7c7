"""Ingest real extracts and messy files into the real PostGIS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import text
from support import NANJING, TAIYUAN, shared_file, table_counts

from gridsvc import errors
from gridsvc.city.ingest import ingest
from gridsvc.geo.chinese_crs import wgs84_to_bd09, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")
# Known WGS84 points around 新街口, Nanjing.
KNOWN = [("新百商店", 118.7836, 32.0427), ("金鹰国际", 118.7801, 32.0395), ("科巷菜市场", 118.7905, 32.0448),
         ("大众书局", 118.7788, 32.0412)]


def _units(engine) -> dict[str, tuple[float, float, str | None]]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, ST_X(geom), ST_Y(geom), phone FROM units")).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _write_ledger(path, coords, headers=("名称", "地址", "负责人", "电话", "经度", "纬度", "类别")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(headers))
    for i, (name, x, y) in enumerate(coords):
        ws.append([name, f"中山路{i + 1}号", "张三", "025-8888000" + str(i), x, y, "餐饮"])
    wb.save(path)
    return path


def test_nanjing_pbf_counts_names_and_idempotent_reimport(clean_db):
    pbf = shared_file(NANJING)
    report = ingest(clean_db, pbf)
    rows = {k: v["rows"] for k, v in report.counts.items()}
    assert 200 <= rows["streets"] <= 320
    assert 1200 <= rows["buildings"] <= 1300
    assert 250 <= rows["units"] <= 380
    assert 2 <= rows["markets"] <= 5
    assert 5 <= rows["compounds"] <= 30
    with clean_db.connect() as c:
        kinds = dict(c.execute(text("SELECT category LIKE 'building=%', count(*) FROM units GROUP BY 1")).all())
        assert 150 <= kinds[False] <= 260  # shops, offices, amenities
        assert 80 <= kinds[True] <= 130  # named office towers, schools, stations holding their own façade
        assert c.execute(text("SELECT count(*) FROM units WHERE category IN ('amenity=atm', 'amenity=vending_machine')")
                         ).scalar() == 0
        markets = set(c.execute(text("SELECT name FROM markets")).scalars())
        widths = dict(c.execute(text("SELECT width_source, count(*) FROM streets GROUP BY 1")).all())
        linked = c.execute(text("SELECT count(*) FROM units WHERE building_id IS NOT NULL")).scalar()
        valid = c.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM streets")).scalar()
    assert {"香铺营集贸市场", "科巷菜市场"} <= markets
    assert widths.get("lanes x lane width", 0) >= 20 and widths.get("class default", 0) >= 100
    assert linked > 50 and valid
    before = table_counts(clean_db)
    again = ingest(clean_db, pbf)
    assert table_counts(clean_db)["units"] == before["units"]
    assert all(c["inserted"] == 0 and c["updated"] == 0 and c["removed"] == 0 for c in again.counts.values())
    assert table_counts(clean_db)["imports"] == 2


def test_taiyuan_gpkg_compounds_and_markets_by_tags(clean_db):
    gpkg = shared_file(TAIYUAN)
    report = ingest(clean_db, gpkg)
    rows = {k: v["rows"] for k, v in report.counts.items()}
    assert rows["streets"] > 2000 and rows["buildings"] > 600
    assert rows["markets"] >= 4
    with clean_db.connect() as c:
        kinds = dict(c.execute(text("SELECT kind, count(*) FROM compounds GROUP BY 1")).all())
        assert 60 <= kinds["residential"] <= 90 and kinds["institution"] >= 40, kinds
        grounds = set(c.execute(text("SELECT name FROM compounds WHERE kind = 'institution'")).scalars())
        names = set(c.execute(text("SELECT name FROM compounds WHERE kind = 'residential'")).scalars())
        lanes = c.execute(text("SELECT count(*) FROM streets WHERE width_source = 'lanes x lane width'")).scalar()
    assert "太嘉小区" in names and not names & grounds
    assert lanes > 300


@pytest.mark.parametrize("crs,forward", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_xlsx_ledger_in_chinese_web_coordinates_lands_within_1m(clean_db, tmp_path, crs, forward):
    lng, lat = np.array([k[1] for k in KNOWN]), np.array([k[2] for k in KNOWN])
    x, y = forward(lng, lat)
    path = _write_ledger(tmp_path / f"商户台账_{crs}.xlsx", [(k[0], a, b) for k, a, b in zip(KNOWN, x, y, strict=False)])
    report = ingest(clean_db, path, crs=crs)
    assert report.counts["units"]["inserted"] == len(KNOWN)
    got = _units(clean_db)
    for name, lng0, lat0 in KNOWN:
        _, _, dist = GEOD.inv(lng0, lat0, got[name][0], got[name][1])
        assert dist < 1.0, (name, dist)
    assert got["新百商店"][2] == "025-88880000"


def test_gauss_kruger_4547_layer_lands_within_1m(clean_db, tmp_path):
    pts = gpd.GeoDataFrame({"名称": ["太嘉小区东门", "千禧锦绣苑"]},
                           geometry=[Point(112.5512, 37.8501), Point(112.5633, 37.8122)], crs=4326)
    path = tmp_path / "units_gk.gpkg"
    pts.to_crs(4547).to_file(path, layer="units")
    ingest(clean_db, path, kind="unit")
    got = _units(clean_db)
    for name, p in zip(pts["名称"], pts.geometry, strict=False):
        assert GEOD.inv(p.x, p.y, got[name][0], got[name][1])[2] < 1.0


def test_repairable_geometry_is_repaired_and_reported(clean_db, tmp_path):
    bowtie = Polygon([(118.780, 32.040), (118.782, 32.042), (118.782, 32.040), (118.780, 32.042)])
    gdf = gpd.GeoDataFrame({"name": ["蝴蝶小区"]}, geometry=[bowtie], crs=4326)
    path = tmp_path / "compounds.geojson"
    gdf.to_file(path)
    report = ingest(clean_db, path, kind="compound")
    assert report.counts["compounds"]["inserted"] == 1
    assert any("make_valid" in n for n in report.notes)
    with clean_db.connect() as c:
        assert c.execute(text("SELECT ST_IsValid(geom) FROM compounds")).scalar()


def _bad_cases(tmp_path):
    """(name, path, kwargs, expected error class, words the message must contain)."""
    lng, lat = wgs84_to_gcj02(np.array([118.7836]), np.array([32.0427]))
    swapped = _write_ledger(tmp_path / "swapped.xlsx", [("新百商店", float(lat[0]), float(lng[0]))])
    helsinki = _write_ledger(tmp_path / "helsinki.xlsx", [("Stockmann", 24.9414, 60.1685)])
    no_lng = tmp_path / "no_lng.csv"
    no_lng.write_text("名称,地址,纬度\n新百,中山路1号,32.04\n", encoding="utf-8")
    garbage = tmp_path / "broken.gpkg"
    garbage.write_bytes(b"this is not a geopackage")
    ok = _write_ledger(tmp_path / "ok.xlsx", [("新百商店", 118.7836, 32.0427)])
    streets = tmp_path / "points_as_streets.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(118.78, 32.04)], crs=4326).to_file(streets)
    return [
        ("swapped", swapped, {"crs": "gcj02"}, errors.SwappedCoordinatesError, ["swapped", "row 2"]),
        ("outside", helsinki, {"crs": "gcj02"}, errors.OutsideChinaError, ["China", "helsinki.xlsx"]),
        ("columns", no_lng, {}, errors.MissingColumnsError, ["lng", "纬度"]),
        ("unreadable", garbage, {}, errors.UnreadableFileError, ["broken.gpkg"]),
        ("crs", ok, {"crs": "EPSG:99999"}, errors.UnknownCRSError, ["99999"]),
        ("missing", tmp_path / "nope.pbf", {}, errors.UnreadableFileError, ["not found"]),
        ("kind", streets, {"kind": "street"}, errors.InputError, ["LineString", "Point"]),
    ]


def test_every_bad_input_has_its_own_clear_error_and_changes_nothing(clean_db, tmp_path):
    ingest(clean_db, _write_ledger(tmp_path / "base.xlsx", KNOWN))
    before = table_counts(clean_db)
    for name, path, kwargs, cls, words in _bad_cases(tmp_path):
        with pytest.raises(cls) as info:
            ingest(clean_db, path, **kwargs)
        assert type(info.value) is cls or cls is errors.InputError, name
        for w in words:
            assert w in str(info.value), (name, str(info.value))
        assert table_counts(clean_db) == before, name


def test_failure_half_way_leaves_database_exactly_as_before(clean_db, tmp_path, monkeypatch):
    pbf = shared_file(NANJING)
    ingest(clean_db, _write_ledger(tmp_path / "base.xlsx", KNOWN))
    before = table_counts(clean_db)
    from gridsvc.db import store

    real = store.upsert_layer
    calls = []

    def failing(conn, spec, gdf, source_file):
        calls.append(spec.name)
        if len(calls) == 3:
            raise RuntimeError("disk full (simulated)")
        return real(conn, spec, gdf, source_file)

    monkeypatch.setattr(store, "upsert_layer", failing)
    with pytest.raises(RuntimeError):
        ingest(clean_db, pbf)
    assert len(calls) == 3 and table_counts(clean_db) == before


def test_unlabelled_street_file_uses_width_column(clean_db, tmp_path):
    gdf = gpd.GeoDataFrame({"道路名称": ["小巷"], "宽度": [4.5]},
                           geometry=[LineString([(118.78, 32.04), (118.781, 32.04)])], crs=4326)
    path = tmp_path / "streets.gpkg"
    gdf.to_file(path, layer="roads")
    ingest(clean_db, path, kind="street")
    with clean_db.connect() as c:
        name, width, src = c.execute(text("SELECT name, width_m, width_source FROM streets")).one()
    assert (name, width, src) == ("小巷", 4.5, "input column")
