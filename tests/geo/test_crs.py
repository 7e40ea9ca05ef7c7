"""Tests for CRS parsing and conversion to/from WGS84."""

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from gridsvc.errors import UnknownCRSError
from gridsvc.geo import chinese_crs as cc
from gridsvc.geo.crs import CrsSpec, local_metric_crs, parse_crs, points_from_wgs84, points_to_wgs84, to_wgs84

GEOD = pyproj.Geod(ellps="WGS84")
TAIYUAN = (np.array([112.55, 112.5712, 112.5301]), np.array([37.85, 37.8706, 37.8123]))


@pytest.mark.parametrize(
    ("value", "kind", "epsg", "chinese", "geographic"),
    [
        (None, "epsg", 4326, False, True),
        ("wgs84", "epsg", 4326, False, True),
        ("WGS-84", "epsg", 4326, False, True),
        ("4326", "epsg", 4326, False, True),
        ("EPSG:4326", "epsg", 4326, False, True),
        ("epsg:4490", "epsg", 4490, True, True),
        ("cgcs2000", "epsg", 4490, True, True),
        (4547, "epsg", 4547, True, False),
        (" EPSG:3857 ", "epsg", 3857, False, False),
        ("gcj02", "gcj02", None, True, True),
        ("GCJ-02", "gcj02", None, True, True),
        ("bd09", "bd09", None, True, True),
        ("BD-09", "bd09", None, True, True),
    ],
)
def test_parse_crs_accepts_documented_spellings(value, kind, epsg, chinese, geographic):
    spec = parse_crs(value)
    assert (spec.kind, spec.epsg, spec.is_chinese, spec.is_geographic) == (kind, epsg, chinese, geographic)
    assert spec.label
    assert parse_crs(spec) is spec


@pytest.mark.parametrize(
    "code", [4490, 4491, 4513, 4547, 4554, 4214, 2401, 2442, 4610, 2327, 2390, 4555, 4568, 4589, 21413]
)
def test_chinese_datums_are_detected(code):
    assert parse_crs(code).is_chinese


@pytest.mark.parametrize("code", [4326, 3857, 32650, 2154])
def test_other_crs_are_not_chinese(code):
    assert not parse_crs(code).is_chinese


@pytest.mark.parametrize("value", ["mercator", "EPSG:99999", 123456, "gcj-03", 5773, 1.5])
def test_unknown_crs_lists_what_is_accepted(value):
    with pytest.raises(UnknownCRSError) as err:
        parse_crs(value)
    message = str(err.value)
    assert "gcj02" in message and "bd09" in message and "EPSG" in message
    assert str(value).strip() in message


def _mixed_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["pt", "line", "poly", "multi", "none"]},
        geometry=[
            shapely.Point(116.404, 39.915),
            shapely.LineString([(116.40, 39.90, 5.0), (116.41, 39.91, 6.0)]),
            shapely.box(118.78, 32.04, 118.79, 32.05),
            shapely.MultiPolygon(
                [shapely.box(121.47, 31.23, 121.48, 31.24), shapely.box(121.5, 31.2, 121.51, 31.21)]
            ),
            None,
        ],
        index=[10, 11, 12, 13, 14],
    )


@pytest.mark.parametrize(("kind", "inverse"), [("gcj02", cc.gcj02_to_wgs84), ("bd09", cc.bd09_to_wgs84)])
def test_to_wgs84_converts_every_geometry_type(kind, inverse):
    gdf = _mixed_gdf()
    before = gdf.geometry.copy()
    out = to_wgs84(gdf, parse_crs(kind))
    assert out.crs.to_epsg() == 4326
    assert list(out.index) == list(gdf.index) and list(out["name"]) == list(gdf["name"])
    assert gdf.geometry.equals(before)  # input untouched
    assert out.geometry.iloc[4] is None
    for src, got in zip(gdf.geometry.iloc[:4], out.geometry.iloc[:4], strict=True):
        xy = shapely.get_coordinates(src)
        want = np.column_stack(inverse(xy[:, 0], xy[:, 1]))
        np.testing.assert_allclose(shapely.get_coordinates(got), want, atol=1e-12)
        assert got.geom_type == src.geom_type
    assert out.geometry.iloc[1].has_z
    np.testing.assert_allclose(
        shapely.get_coordinates(out.geometry.iloc[1], include_z=True)[:, 2], [5.0, 6.0]
    )


def test_to_wgs84_gauss_kruger_4547_within_a_metre():
    lng, lat = TAIYUAN
    fwd = pyproj.Transformer.from_crs(4326, 4547, always_xy=True)
    x, y = fwd.transform(lng, lat)
    assert 300_000 < x.min() and x.max() < 700_000  # no zone prefix in EPSG:4547
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=None)
    out = to_wgs84(gdf, parse_crs("EPSG:4547"))
    assert out.crs.to_epsg() == 4326
    dist = GEOD.inv(out.geometry.x.to_numpy(), out.geometry.y.to_numpy(), lng, lat)[2]
    assert np.max(dist) < 1.0


def test_to_wgs84_overrides_a_wrong_declared_crs():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(116.404, 39.915)], crs=3857)
    out = to_wgs84(gdf, parse_crs("gcj02"))
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x == pytest.approx(cc.gcj02_to_wgs84(116.404, 39.915)[0], abs=1e-12)


@pytest.mark.parametrize("value", ["gcj02", "bd09", 4547, "wgs84", 4490])
def test_points_round_trip(value):
    spec = parse_crs(value)
    lng, lat = TAIYUAN
    x, y = points_from_wgs84(lng, lat, spec)
    back = points_to_wgs84(x, y, spec)
    assert np.max(GEOD.inv(back[0], back[1], lng, lat)[2]) < 0.01
    if spec.epsg not in (4326, 4490):  # CGCS2000 equals WGS84 to within centimetres
        assert not np.allclose(x, lng)  # really converted


def test_points_to_wgs84_gcj_matches_phone_coordinates():
    lng, lat = points_to_wgs84(
        np.array([116.41024449916938]), np.array([39.91640428150164]), parse_crs("GCJ-02")
    )
    assert lng[0] == pytest.approx(116.404, abs=1e-9) and lat[0] == pytest.approx(39.915, abs=1e-9)


def test_local_metric_crs_picks_utm_zone():
    assert local_metric_crs((112.4, 37.7, 112.7, 38.0)).to_epsg() == 32649
    assert local_metric_crs((121.4, 31.1, 121.6, 31.3)).to_epsg() == 32651
    assert local_metric_crs((-70.0, -34.0, -69.0, -33.0)).to_epsg() == 32719
    gk = gpd.GeoSeries(
        gpd.points_from_xy(*pyproj.Transformer.from_crs(4326, 4547, always_xy=True).transform(*TAIYUAN)),
        crs=4547,
    )
    assert local_metric_crs(gk).to_epsg() == 32649
    assert local_metric_crs(gpd.GeoDataFrame(geometry=gk)).is_projected


def test_crs_spec_is_frozen():
    spec = parse_crs("gcj02")
    assert isinstance(spec, CrsSpec)
    with pytest.raises(AttributeError):
        spec.kind = "bd09"
