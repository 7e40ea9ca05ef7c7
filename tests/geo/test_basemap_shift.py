"""Overlays for GCJ-02 basemaps: the per-tile affine map and the GeoJSON conversions (pure, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridsvc.geo import chinese_crs
from gridsvc.geo.basemap_shift import IDENTITY, bbox_to_wgs84, shift_positions, tile_affine, tile_of

XINJIEKOU = (118.7836, 32.0427)
HELSINKI = (24.9384, 60.1699)


def metres(dlng: float, dlat: float, lat: float) -> float:
    return math.hypot(dlng * 111_320 * math.cos(math.radians(lat)), dlat * 110_574)


def test_shift_positions_is_the_gcj_offset_in_china_and_nothing_outside():
    xy = np.array([XINJIEKOU, HELSINKI])
    out = shift_positions(xy, "gcj02")
    glng, glat = chinese_crs.wgs84_to_gcj02(*XINJIEKOU)
    assert out[0] == pytest.approx([glng, glat], abs=1e-7)
    assert 400 < metres(out[0][0] - XINJIEKOU[0], out[0][1] - XINJIEKOU[1], XINJIEKOU[1]) < 700
    assert out[1].tolist() == list(HELSINKI)
    assert shift_positions(xy, "wgs84") is xy


def test_bbox_in_gcj_holds_the_same_ground():
    glng, glat = (float(v) for v in chinese_crs.wgs84_to_gcj02(*XINJIEKOU))
    box = bbox_to_wgs84(glng - 0.001, glat - 0.001, glng + 0.001, glat + 0.001, "gcj02")
    assert box[0] < XINJIEKOU[0] < box[2] and box[1] < XINJIEKOU[1] < box[3]
    assert not (box[0] < glng < box[2])  # the GCJ position itself is ~500 m away, outside the converted box
    assert bbox_to_wgs84(24.9, 60.1, 25.0, 60.2, "gcj02") == (24.9, 60.1, 25.0, 60.2)


@pytest.mark.parametrize("z", [10, 12, 14, 16, 18])
def test_tile_affine_is_within_a_fraction_of_a_pixel_across_the_tile(z):
    x, y = tile_of(*XINJIEKOU, z)
    shift = tile_affine(z, x, y, "gcj02")
    n = 2**z
    fx, fy = np.meshgrid(np.linspace(x, x + 1, 17), np.linspace(y, y + 1, 17))
    lng = (fx / n * 360 - 180).ravel()
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * fy / n)))).ravel()
    wlng, wlat = chinese_crs.gcj02_to_wgs84(lng, lat)   # the ground a GCJ basemap draws at each tile point
    alng, alat = shift.apply(wlng, wlat)                # where the tile SQL puts that ground
    err = max(metres(a - b, c - d, XINJIEKOU[1]) for a, b, c, d in zip(alng, lng, alat, lat, strict=True))
    pixel_m = 40_075_016 / n / 256 * math.cos(math.radians(XINJIEKOU[1]))
    assert err < 0.6 * pixel_m, (z, err, pixel_m)
    # the query box moves back by the offset (≈ 500 m)
    assert 400 < metres(shift.search_dx, shift.search_dy, XINJIEKOU[1]) < 700


def test_tile_affine_is_the_identity_outside_china_and_for_wgs84():
    assert tile_affine(16, *tile_of(*HELSINKI, 16), "gcj02") is IDENTITY
    assert tile_affine(16, *tile_of(*XINJIEKOU, 16), "wgs84") is IDENTITY
