"""Tests for coordinate sanity checks and geometry repair."""

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from gridsvc.errors import InputError, InvalidGeometryError, OutsideChinaError, SwappedCoordinatesError
from gridsvc.geo.checks import (
    MAX_NOTES,
    GeometryFix,
    check_in_china,
    check_raw_coordinates,
    format_where,
    repair_geometries,
    repair_geometries_logged,
)
from gridsvc.geo.crs import parse_crs, to_wgs84

TAIYUAN = (112.55, 37.85)


def raises_exactly(cls, fn, *args, **kwargs):
    """Run fn, assert it raises exactly cls, return the error."""
    with pytest.raises(cls) as err:
        fn(*args, **kwargs)
    assert type(err.value) is cls
    return err.value


def gk(lng, lat, code=4547):
    """WGS84 -> projected coordinates as arrays."""
    x, y = pyproj.Transformer.from_crs(4326, code, always_xy=True).transform(lng, lat)
    return np.atleast_1d(x), np.atleast_1d(y)


def test_format_where_lists_first_five_and_total():
    labels = [f"row {i}" for i in range(2, 20)]
    mask = np.zeros(18, dtype=bool)
    mask[[1, 3, 4, 6, 8, 9, 15]] = True
    assert format_where(labels, mask) == "row 3, row 5, row 6, row 8, row 10, … (7 in total)"
    assert format_where(["row 2", "row 3"]) == "row 2, row 3"


def test_good_coordinates_pass():
    for spec in ("wgs84", "gcj02", "bd09", "cgcs2000"):
        check_raw_coordinates([116.4, 121.47], [39.9, 31.23], parse_crs(spec), "a.csv", ["row 2", "row 3"])
    check_raw_coordinates(*gk(*TAIYUAN), parse_crs(4547), "a.csv", ["row 2"])
    check_raw_coordinates([500000.0], [4000000.0], parse_crs(32650), "a.csv", ["row 2"])


def test_nan_and_inf_are_input_errors_naming_rows():
    err = raises_exactly(
        InputError,
        check_raw_coordinates,
        [116.4, np.nan, 116.5],
        [39.9, 39.9, np.inf],
        parse_crs("wgs84"),
        "shops.csv",
        ["row 2", "row 3", "row 4"],
    )
    assert str(err).startswith("shops.csv: row 3, row 4: ")
    assert err.source == "shops.csv" and "not finite" in str(err)


def test_swapped_lat_lng_is_detected_with_values():
    err = raises_exactly(
        SwappedCoordinatesError,
        check_raw_coordinates,
        [116.4, 31.2],
        [39.9, 121.4],
        parse_crs("gcj02"),
        "shops.xlsx",
        ["row 2", "row 3"],
    )
    assert "looks like latitude/longitude are swapped (got lng=31.2, lat=121.4)" in str(err)
    assert err.where == "row 3" and str(err).startswith("shops.xlsx: row 3:")


def test_swap_inside_china_detected_for_chinese_spec_only():
    # Urumqi swapped: both values < 90, so only the China-specific rule can see it.
    raises_exactly(
        SwappedCoordinatesError, check_raw_coordinates, [43.83], [87.62], parse_crs("bd09"), "u.csv"
    )
    check_raw_coordinates([43.83], [87.62], parse_crs("wgs84"), "u.csv")  # plausible somewhere on Earth


def test_out_of_range_geographic_is_input_error():
    err = raises_exactly(
        InputError, check_raw_coordinates, [190.0], [10.0], parse_crs(4326), "a.csv", ["row 9"]
    )
    assert "out of range" in str(err) and "row 9" in str(err)


def test_many_bad_rows_give_first_five_and_count():
    x = np.full(12, 31.2)
    y = np.full(12, 121.4)
    err = raises_exactly(
        SwappedCoordinatesError,
        check_raw_coordinates,
        x,
        y,
        parse_crs("wgs84"),
        "a.csv",
        [f"row {i + 2}" for i in range(12)],
    )
    assert err.where == "row 2, row 3, row 4, row 5, row 6, … (12 in total)"


def test_gauss_kruger_swapped_easting_northing():
    x, y = gk(*TAIYUAN)
    err = raises_exactly(
        SwappedCoordinatesError, check_raw_coordinates, y, x, parse_crs(4547), "survey.csv", ["row 5"]
    )
    assert "easting/northing are swapped" in str(err) and "survey.csv: row 5" in str(err)


def test_gauss_kruger_missing_zone_prefix_is_explained():
    x, y = gk(*TAIYUAN)  # CM 114E easting without the "38" prefix, declared as zone 38 (EPSG:4526)
    err = raises_exactly(InputError, check_raw_coordinates, x, y, parse_crs(4526), "survey.csv", ["row 2"])
    assert "lacks its zone prefix 38" in str(err) and "EPSG:4547" in str(err)


def test_gauss_kruger_unexpected_zone_prefix_is_explained():
    x, y = gk(*TAIYUAN, code=4526)  # with prefix, declared as the CM variant
    assert x[0] > 38e6
    err = raises_exactly(InputError, check_raw_coordinates, x, y, parse_crs(4547), "survey.csv", ["row 2"])
    assert "zone prefix 38" in str(err) and "EPSG:4526" in str(err)


def test_gauss_kruger_far_outside_china():
    x, y = gk(*TAIYUAN)
    err = raises_exactly(
        OutsideChinaError, check_raw_coordinates, x, y + 3e6, parse_crs(4547), "survey.csv", ["row 2"]
    )
    assert "do not land in China" in str(err)


def test_check_in_china_names_features_outside():
    gdf = gpd.GeoDataFrame(
        geometry=[shapely.Point(116.4, 39.9), shapely.box(2.3, 48.8, 2.4, 48.9), None, shapely.Point()],
        crs=4326,
    )
    labels = ["feature 0", "feature 1 (osm way 77)", "feature 2", "feature 3"]
    err = raises_exactly(OutsideChinaError, check_in_china, gdf, parse_crs("gcj02"), "city.geojson", labels)
    assert err.where == "feature 1 (osm way 77)" and "GCJ-02" in str(err)
    check_in_china(gdf, parse_crs("wgs84"), "city.geojson", labels)  # not a Chinese CRS: no claim to check


def test_check_in_china_after_transform_accepts_chinese_data():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*gk(*TAIYUAN))], crs=None)
    check_in_china(to_wgs84(gdf, parse_crs(4547)), parse_crs(4547), "survey.csv")


BOWTIE = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
SPIKE = shapely.Polygon([(0, 0), (2, 0), (2, 1), (3, 1), (2, 1), (2, 2), (0, 2)])


def test_repair_fixes_bowtie_and_keeps_polygons_only():
    gdf = gpd.GeoDataFrame({"osm_id": [1, 2, 3]}, geometry=[BOWTIE, SPIKE, shapely.box(5, 5, 6, 6)], crs=4326)
    out, notes = repair_geometries(gdf, "city.geojson", ["feature 0 (osm way 123)", "feature 1", "feature 2"])
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.geometry.iloc[0].area == pytest.approx(0.5)
    assert out.geometry.iloc[1].geom_type == "Polygon"  # the spike (a line part) is dropped
    assert out.geometry.iloc[1].area == pytest.approx(SPIKE.area)
    assert out.geometry.iloc[2].equals(shapely.box(5, 5, 6, 6))
    assert out.crs.to_epsg() == 4326 and list(out["osm_id"]) == [1, 2, 3]
    assert notes[0] == "feature 0 (osm way 123): self-intersection at 0.5 0.5 repaired with make_valid"
    assert notes[1].startswith("feature 1: ") and "repaired with make_valid" in notes[1]
    assert len(notes) == 2
    assert gdf.geometry.iloc[0].equals(BOWTIE)  # input untouched


def test_repair_drops_empty_geometries_with_a_note():
    gdf = gpd.GeoDataFrame(
        geometry=[
            None,
            shapely.box(0, 0, 1, 1),
            shapely.Polygon(),
            shapely.LineString(),
            shapely.Point(1, 1),
        ],
        index=[10, 11, 12, 13, 14],
    )
    out, notes = repair_geometries(gdf, "city.geojson")
    assert list(out.index) == [11, 14]
    assert notes == ["3 feature(s) with empty geometry skipped: feature 0, feature 2, feature 3"]


def test_repair_keeps_lines_as_lines():
    line = shapely.LineString([(0, 0), (2, 2), (0, 2), (2, 0)])  # self-crossing lines are valid
    gdf = gpd.GeoDataFrame(geometry=[line])
    out, notes = repair_geometries(gdf, "roads.geojson")
    assert out.geometry.iloc[0].equals(line) and notes == []


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]),  # collapsed polygon -> only lines
        shapely.LineString([(3, 3), (3, 3)]),  # zero-length line -> only a point
    ],
)
def test_unrepairable_geometry_raises_naming_feature_when_strict(geom):
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), geom])
    err = raises_exactly(
        InvalidGeometryError, repair_geometries, gdf, "city.geojson", ["feature 0", "feature 1 (osm way 9)"],
        strict=True,
    )
    assert str(err).startswith("city.geojson: feature 1 (osm way 9): ")
    assert geom.geom_type in str(err)


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]),
        shapely.LineString([(3, 3), (3, 3)]),
    ],
)
def test_unrepairable_geometry_is_skipped_and_reported_by_default(geom):
    gdf = gpd.GeoDataFrame({"n": [0, 1]}, geometry=[shapely.box(0, 0, 1, 1), geom])
    out, notes = repair_geometries(gdf, "city.geojson", ["feature 0", "feature 1 (osm way 9)"])
    assert out["n"].tolist() == [0]
    assert any("skipped" in n and "feature 1 (osm way 9)" in n for n in notes)


def test_every_repaired_or_skipped_feature_is_logged_past_the_notes_limit():
    n = MAX_NOTES + 5
    bowties = [shapely.Polygon([(2 * i, 0), (2 * i + 1, 1), (2 * i + 1, 0), (2 * i, 1)]) for i in range(n)]
    collapsed = shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])
    gdf = gpd.GeoDataFrame(geometry=[*bowties, collapsed, None, shapely.box(0, 0, 1, 1)])
    labels = [f"feature way/{i}" for i in range(len(gdf))]
    out, notes, fixes = repair_geometries_logged(gdf, "city.geojson", labels)
    assert len(out) == n + 1 and out.geometry.is_valid.all()
    assert notes == repair_geometries(gdf, "city.geojson", labels)[1]  # the notes stay as they were
    assert any(note.startswith("… and 5 more") for note in notes)
    repaired = [f for f in fixes if f.action == "repaired"]
    assert [f.feature for f in repaired] == labels[:n]
    assert repaired[0] == GeometryFix("feature way/0", "repaired", "self-intersection at 0.5 0.5")
    assert [f for f in fixes if f.action == "skipped"] == [
        GeometryFix(f"feature way/{n + 1}", "skipped", "empty geometry"),
        GeometryFix(f"feature way/{n}", "skipped", "invalid geometry (self-intersection at 1 1) "
                    "cannot be repaired into a valid Polygon"),
    ]
