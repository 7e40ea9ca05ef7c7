"""Tests for the WGS84 / GCJ-02 / BD-09 conversions."""

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.geo import chinese_crs as cc

GEOD = pyproj.Geod(ellps="WGS84")

# Published reference values (coordtransform test vectors, input 116.404, 39.915).
WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
BD09_TO_GCJ02_ONE_STEP = (116.39762729119315, 39.90865673957631)
GCJ02_TO_WGS84_ONE_STEP = (116.39775550083061, 39.91359571849836)

china_points = st.lists(
    st.tuples(
        st.floats(73.5, 135.0, allow_nan=False, allow_infinity=False),
        st.floats(18.2, 53.5, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=50,
)


def metres(lng1, lat1, lng2, lat2) -> np.ndarray:
    """Geodesic distances in metres."""
    return np.asarray(GEOD.inv(lng1, lat1, lng2, lat2)[2])


def test_wgs84_to_gcj02_matches_published_value():
    lng, lat = cc.wgs84_to_gcj02(116.404, 39.915)
    assert lng == pytest.approx(WGS84_TO_GCJ02[0], abs=1e-12)
    assert lat == pytest.approx(WGS84_TO_GCJ02[1], abs=1e-12)


def test_gcj02_to_bd09_matches_published_values():
    lng, lat = cc.gcj02_to_bd09(116.404, 39.915)
    assert (lng, lat) == pytest.approx(GCJ02_TO_BD09, abs=1e-12)
    # Beijing railway station as published for Baidu: GCJ-02 (116.42703, 39.90245) -> BD-09 (116.43351, 39.90851)
    lng, lat = cc.gcj02_to_bd09(116.42703, 39.90245)
    assert (lng, lat) == pytest.approx((116.43351, 39.90851), abs=1e-5)


def test_inverses_are_closer_than_the_published_one_step_approximation():
    wgs = cc.gcj02_to_wgs84(116.404, 39.915)
    assert wgs == pytest.approx(GCJ02_TO_WGS84_ONE_STEP, abs=1e-5)  # same neighbourhood ...
    exact_err = metres(*cc.wgs84_to_gcj02(*wgs), 116.404, 39.915)
    one_step_err = metres(*cc.wgs84_to_gcj02(*GCJ02_TO_WGS84_ONE_STEP), 116.404, 39.915)
    assert exact_err < 1e-4 < one_step_err  # ... but the iterated inverse really inverts
    gcj = cc.bd09_to_gcj02(116.404, 39.915)
    assert gcj == pytest.approx(BD09_TO_GCJ02_ONE_STEP, abs=1e-5)
    assert metres(*cc.gcj02_to_bd09(*gcj), 116.404, 39.915) < 1e-4


def test_gcj_offset_in_nanjing_is_a_few_hundred_metres():
    lng, lat = cc.wgs84_to_gcj02(118.78, 32.04)
    assert 0.0047 <= lng - 118.78 <= 0.006
    assert 0.001 <= abs(lat - 32.04) <= 0.0025
    assert 300 < metres(118.78, 32.04, lng, lat) < 700


def test_bd09_is_gcj02_plus_about_0065_006():
    gcj = cc.wgs84_to_gcj02(np.array([116.39, 121.47, 113.26]), np.array([39.91, 31.23, 23.13]))
    bd = cc.gcj02_to_bd09(*gcj)
    np.testing.assert_allclose(bd[0] - gcj[0], 0.0065, atol=0.001)
    np.testing.assert_allclose(bd[1] - gcj[1], 0.006, atol=0.001)
    np.testing.assert_allclose(
        np.asarray(cc.wgs84_to_bd09(*cc.gcj02_to_wgs84(*gcj))), np.asarray(bd), atol=1e-9
    )


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_wgs_gcj_round_trip_is_sub_centimetre(points):
    lng, lat = np.array(points).T
    back = cc.gcj02_to_wgs84(*cc.wgs84_to_gcj02(lng, lat))
    assert metres(lng, lat, *back).max() < 0.01


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_wgs_bd_round_trip_is_sub_centimetre(points):
    lng, lat = np.array(points).T
    back = cc.bd09_to_wgs84(*cc.wgs84_to_bd09(lng, lat))
    assert metres(lng, lat, *back).max() < 0.01


def test_arrays_keep_shape_and_nan_does_not_spoil_neighbours():
    lng = np.array([[116.4, np.nan], [121.47, 113.26]])
    lat = np.array([[39.9, 30.0], [31.23, 23.13]])
    out_lng, out_lat = cc.gcj02_to_wgs84(lng, lat)
    assert out_lng.shape == (2, 2) and out_lat.shape == (2, 2)
    assert np.isnan(out_lng[0, 1]) and np.isnan(out_lat[0, 1])
    back = cc.wgs84_to_gcj02(out_lng, out_lat)
    ok = ~np.isnan(lng)
    np.testing.assert_allclose(back[0][ok], lng[ok], atol=1e-9)
    np.testing.assert_allclose(back[1][ok], lat[ok], atol=1e-9)


def test_offset_is_applied_outside_china_too():
    lng, lat = cc.wgs84_to_gcj02(2.35, 48.86)  # Paris: converted anyway, the caller checks in_china
    assert (lng, lat) != (2.35, 48.86)
    assert metres(*cc.gcj02_to_wgs84(lng, lat), 2.35, 48.86) < 0.01


CHINESE_PLACES = {
    "Beijing": (116.40, 39.90),
    "Shanghai": (121.47, 31.23),
    "Guangzhou": (113.26, 23.13),
    "Taiyuan": (112.55, 37.85),
    "Urumqi": (87.62, 43.83),
    "Kashgar": (75.99, 39.47),
    "Lhasa": (91.11, 29.65),
    "Zhangmu": (85.98, 27.99),
    "Jinghong": (100.80, 22.01),
    "Dongxing": (107.97, 21.54),
    "Sanya": (109.51, 18.25),
    "Harbin": (126.63, 45.75),
    "Heihe": (127.50, 50.24),
    "Mohe": (122.54, 52.97),
    "Fuyuan": (134.29, 48.36),
    "Hunchun": (130.37, 42.87),
    "Dandong": (124.38, 40.13),
    "Erenhot": (111.98, 43.65),
    "Altay": (88.13, 47.85),
    "Horgos": (80.42, 44.21),
    "Hong Kong": (114.17, 22.30),
}
FOREIGN_PLACES = {
    "Seoul": (126.98, 37.57),
    "Pyongyang": (125.75, 39.03),
    "Vladivostok": (131.89, 43.12),
    "Ulaanbaatar": (106.91, 47.89),
    "Almaty": (76.89, 43.24),
    "Bishkek": (74.59, 42.87),
    "New Delhi": (77.21, 28.61),
    "Kathmandu": (85.32, 27.72),
    "Dhaka": (90.41, 23.81),
    "Hanoi": (105.85, 21.03),
    "Haiphong": (106.68, 20.86),
    "Tokyo": (139.69, 35.69),
    "Paris": (2.35, 48.86),
    "Sydney": (151.21, -33.87),
}


def test_in_china_accepts_border_cities_and_rejects_neighbours():
    inside = np.array(list(CHINESE_PLACES.values()))
    outside = np.array(list(FOREIGN_PLACES.values()))
    got_in = cc.in_china(inside[:, 0], inside[:, 1])
    got_out = cc.in_china(outside[:, 0], outside[:, 1])
    assert [n for n, ok in zip(CHINESE_PLACES, got_in, strict=True) if not ok] == []
    assert [n for n, ok in zip(FOREIGN_PLACES, got_out, strict=True) if ok] == []
    assert cc.in_china(np.nan, 30.0).item() is False
