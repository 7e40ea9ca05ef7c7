"""Tests for gridsvc.exporters.layers.write_layer: round trips through every format."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon

from gridsvc.errors import InputError
from gridsvc.exporters.layers import shapefile_field_names, write_layer

FORMATS = (".geojson", ".gpkg", ".shp", ".kml")
TOLERANCE = 1e-6  # degrees (~0.1 m); GeoJSON keeps 7 decimals

SQUARE = [(118.7930, 32.0450), (118.7940, 32.0450), (118.7940, 32.0460), (118.7930, 32.0460)]


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["新街口", "科巷菜市场", "鼓楼"], "类别": ["商圈", "菜市场", "广场"],
         "stalls": [0, 120, 8], "area_m2": [1500.5, 820.25, None], "open": [True, False, True]},
        geometry=[Point(118.7841, 32.0416), Point(118.7935, 32.0455), Point(118.7769, 32.0603)], crs=4326,
    )


def _lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["中山路", "汉中路"], "lanes": [6, 4]},
        geometry=[LineString([(118.7841, 32.0416), (118.7835, 32.0520)]),
                  LineString([(118.7841, 32.0416), (118.7700, 32.0410), (118.7600, 32.0390)])], crs=4326,
    )


def _polygons() -> gpd.GeoDataFrame:
    second = Polygon([(x + 0.002, y) for x, y in SQUARE])
    return gpd.GeoDataFrame(
        {"name": ["科巷菜市场", "门前三包责任区"], "负责人": ["张三", "李四"]},
        geometry=[Polygon(SQUARE), MultiPolygon([second, Polygon([(x + 0.004, y) for x, y in SQUARE])])], crs=4326,
    )


SAMPLES = {"points": _points, "lines": _lines, "polygons": _polygons}


def _read(path) -> gpd.GeoDataFrame:
    """Read back with pyogrio, naming columns as they were written."""
    back = pyogrio.read_dataframe(path)
    if path.suffix == ".kml":  # LIBKML/KML return the placemark name as "Name"
        back = back.rename(columns={"Name": "name"})
    return back


def _assert_same(original: gpd.GeoDataFrame, back: gpd.GeoDataFrame, rename: dict | None = None) -> None:
    """Attributes equal (by value) and geometries within TOLERANCE (Hausdorff), in EPSG:4326."""
    assert back.crs.to_epsg() == 4326
    expected = original.to_crs(4326)
    assert len(back) == len(expected)
    for col in expected.columns.drop(expected.geometry.name):
        got = back[(rename or {}).get(col, col)]
        for want, have in zip(expected[col], got, strict=True):
            if pd.isna(want):
                assert pd.isna(have) or have == 0, col  # a dBASE numeric null may come back as 0
            elif isinstance(want, float):
                assert float(have) == pytest.approx(want), col
            else:
                assert type(want)(have) == want, col
    for want, have in zip(expected.geometry, shapely.force_2d(back.geometry.values), strict=True):
        # single parts may come back as one-part multis (GPKG, Shapefile promote mixed layers)
        assert shapely.get_dimensions(want) == shapely.get_dimensions(have)
        assert want.hausdorff_distance(have) < TOLERANCE


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("kind", SAMPLES)
def test_round_trip(tmp_path, ext, kind):
    gdf = SAMPLES[kind]()
    out = write_layer(gdf, tmp_path / f"{kind}{ext}", layer=f"{kind}_图层")
    assert out == tmp_path / f"{kind}{ext}" and out.exists()
    rename = shapefile_field_names(list(gdf.columns.drop("geometry"))) if ext == ".shp" else None
    _assert_same(gdf, _read(out), rename)


@pytest.mark.parametrize("ext", FORMATS)
def test_projected_input_comes_back_in_wgs84(tmp_path, ext):
    gdf = _points()
    utm = gdf.to_crs(32650)
    assert utm.geometry.x.min() > 100_000  # really in metres
    out = write_layer(utm, tmp_path / f"utm{ext}", layer="utm")
    back = _read(out)
    assert back.crs.to_epsg() == 4326
    _assert_same(gdf, back)


def test_creates_parent_folders(tmp_path):
    out = write_layer(_points(), tmp_path / "a" / "b" / "c.gpkg", layer="markets")
    assert out.exists()


def test_unknown_extension(tmp_path):
    with pytest.raises(InputError) as err:
        write_layer(_points(), tmp_path / "x.csv", layer="x")
    for ext in FORMATS:
        assert ext in str(err.value)


def test_missing_crs(tmp_path):
    gdf = _points().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="no CRS"):
        write_layer(gdf, tmp_path / "x.gpkg", layer="x")


def test_geojson_is_rfc7946(tmp_path):
    out = write_layer(_polygons().to_crs(32650), tmp_path / "p.geojson", layer="zones")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert "新街口" not in out.read_text(encoding="utf-8")
    assert doc["features"][0]["properties"]["负责人"] == "张三"
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert 118 < ring[0][0] < 119 and 32 < ring[0][1] < 33  # lon, lat
    assert shapely.Polygon(ring).exterior.is_ccw  # right-hand rule


def test_gpkg_keeps_layers_and_replaces_same_name(tmp_path):
    out = tmp_path / "city.gpkg"
    write_layer(_points(), out, layer="markets")
    write_layer(_lines(), out, layer="streets")
    write_layer(_points().iloc[:1], out, layer="markets")
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {"markets", "streets"}
    assert len(pyogrio.read_dataframe(out, layer="markets")) == 1
    assert len(pyogrio.read_dataframe(out, layer="streets")) == 2


@pytest.mark.parametrize("ext", [".geojson", ".shp", ".kml"])
def test_single_layer_files_are_replaced(tmp_path, ext):
    out = tmp_path / f"x{ext}"
    write_layer(_points(), out, layer="x")
    write_layer(_points().iloc[:2], out, layer="x")
    assert len(_read(out)) == 2


def test_shapefile_utf8_and_short_unique_names(tmp_path, caplog):
    gdf = gpd.GeoDataFrame(
        {"市场名称市场名称": ["科巷菜市场"], "市场名称市场类型": ["综合"], "property_manager": ["新街口物业"],
         "property_mgr_phone": ["025-1234"], "Name": ["A"], "name": ["b"]},
        geometry=[Point(118.7935, 32.0455)], crs=4326,
    )
    with caplog.at_level(logging.INFO, logger="gridsvc.exporters.layers"):
        out = write_layer(gdf, tmp_path / "markets.shp", layer="markets")
    assert (tmp_path / "markets.cpg").read_text().strip() == "UTF-8"
    names = shapefile_field_names(list(gdf.columns.drop("geometry")))
    assert all(len(n.encode()) <= 10 for n in names.values())
    assert len({n.lower() for n in names.values()}) == len(names)
    assert "shortened" in caplog.text and "市场名称市场名称" in caplog.text
    back = pyogrio.read_dataframe(out)
    assert list(back.columns.drop("geometry")) == list(names.values())
    for old, new in names.items():
        assert back[new].iloc[0] == gdf[old].iloc[0]


def test_shapefile_text_conversions(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"updated": [pd.Timestamp("2024-05-01 08:30:00", tz="Asia/Shanghai")], "tags": [["菜市场", "早市"]],
         "info": [{"负责人": "张三"}], "day": [pd.Timestamp("2024-05-01").date()]},
        geometry=[Point(118.7935, 32.0455)], crs=4326,
    )
    back = pyogrio.read_dataframe(write_layer(gdf, tmp_path / "t.shp", layer="t"))
    assert back["updated"].iloc[0] == "2024-05-01T08:30:00+08:00"
    assert json.loads(back["tags"].iloc[0]) == ["菜市场", "早市"]
    assert back["info"].iloc[0] == '{"负责人": "张三"}'
    assert back["day"].iloc[0] == "2024-05-01"


def test_gpkg_keeps_datetimes(tmp_path):
    gdf = _points().assign(updated=pd.Timestamp("2024-05-01 08:30:00"))
    back = pyogrio.read_dataframe(write_layer(gdf, tmp_path / "t.gpkg", layer="t"))
    assert back["updated"].iloc[0] == pd.Timestamp("2024-05-01 08:30:00")


def test_shapefile_rejects_mixed_geometry_types(tmp_path):
    mixed = pd.concat([_points(), _lines()], ignore_index=True)
    with pytest.raises(InputError, match="one geometry type") as err:
        write_layer(mixed, tmp_path / "mixed.shp", layer="mixed")
    assert ".gpkg" in str(err.value)
    assert not (tmp_path / "mixed.shp").exists()
    write_layer(mixed, tmp_path / "mixed.gpkg", layer="mixed")  # other formats take mixed layers


def test_shapefile_promotes_single_and_multi(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["新街口", "鼓楼"]}, crs=4326,
                           geometry=[Point(118.7841, 32.0416), MultiPoint([(118.7769, 32.0603), (118.777, 32.06)])])
    back = pyogrio.read_dataframe(write_layer(gdf, tmp_path / "p.shp", layer="p"))
    assert list(back.geom_type) == ["MultiPoint", "MultiPoint"]
    assert list(back["name"]) == ["新街口", "鼓楼"]


def test_shapefile_field_names_unit():
    names = shapefile_field_names(["abcdefghijkl", "abcdefghijXY", "abcdefghij", "名称名称名称", "ok"])
    assert names["ok"] == "ok"
    assert names["abcdefghij"] == "abcdefghij"  # fits, keeps priority
    assert names["abcdefghijkl"] == "abcdefgh_1"
    assert names["abcdefghijXY"] == "abcdefgh_2"
    assert names["名称名称名称"] == "名称名"  # 9 bytes: never splits a character
