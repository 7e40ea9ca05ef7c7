"""priority.resolve: layered zones become one disjoint, edge-matched coverage that survives output rounding."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity
from shapely.geometry import Polygon, box

from gridsvc.geo import priority
from gridsvc.geo import zone_validation as zv
from gridsvc.geo.frontage import to_wgs84_clean

METRIC = 32650  # UTM 50N, as for Nanjing
X0, Y0 = 668000.0, 3546000.0


def _place(geoms, k: int):
    """Local shapes rotated by a k-dependent angle and moved to UTM coordinates (float noise like real data)."""
    rng = np.random.default_rng(k)
    ang, dx, dy = rng.uniform(0.1, 1.4), rng.uniform(0, 5000), rng.uniform(0, 5000)
    return [affinity.translate(affinity.rotate(g, ang, origin=(0, 0), use_radians=True), X0 + dx, Y0 + dy)
            for g in geoms]


def _scene(k: int):
    """Two compounds overlapping by a 1 cm sliver along a 400 m edge, and a ring of street space over both."""
    a = Polygon([(0, 0), (400, 0), (400, 60), (0, 60)])
    b = Polygon([(3, 59.99), (397, 59.993), (397, 120), (3, 120)])
    ring = box(-20, 50, 420, 130).difference(box(10, 52, 390, 125))
    return _place([a, b, ring], k)


def _frame(geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"n": np.arange(len(geoms))}, geometry=list(geoms), crs=METRIC)


def _overlaps_after_output(layers: list[gpd.GeoDataFrame]):
    """Overlapping pairs (validation's check) after the zones are rounded to WGS84 and read back in metres."""
    geoms = np.concatenate([np.asarray(layer.geometry.values) for layer in layers])
    back = to_wgs84_clean(geoms, METRIC).to_crs(METRIC)
    return zv.overlaps(gpd.GeoDataFrame({"id": np.arange(len(back))}, geometry=back.values, crs=METRIC))


@pytest.mark.parametrize("k", range(8))
def test_same_layer_sliver_goes_to_the_first_zone(k):
    a, b, ring = _scene(k)
    compounds, space = priority.resolve([_frame([a, b]), _frame([ring])])
    ca, cb = compounds.geometry.values
    assert ca.area == pytest.approx(a.area, abs=0.01)  # the first compound keeps the sliver
    assert shapely.intersection(ca, cb).area < 1e-6
    assert shapely.intersection(shapely.union_all([ca, cb]), space.geometry.values[0]).area < 1e-6
    assert _overlaps_after_output([compounds, space]).empty


@pytest.mark.parametrize("k", range(8))
def test_clipped_layers_share_their_edges(k):
    """A lower zone clipped by a higher one gets vertices on the higher one's edge: both sides must carry
    them, else rounding each zone to the output grid moves the two sides of the edge apart (overlaps)."""
    a, b, ring = _scene(k)
    layers = priority.resolve([_frame([a]), _frame([b]), _frame([ring])])
    geoms = np.concatenate([np.asarray(layer.geometry.values) for layer in layers])
    assert len(geoms) == 3
    assert shapely.coverage_is_valid(geoms)
    assert _overlaps_after_output(layers).empty


def test_resolve_is_deterministic():
    a, b, ring = _scene(3)
    runs = [priority.resolve([_frame([a, b]), _frame([ring])]) for _ in range(2)]
    wkb = [[shapely.to_wkb(g) for layer in run for g in layer.geometry.values] for run in runs]
    assert wkb[0] == wkb[1]


def test_layers_keep_their_rows_and_columns():
    a, b, ring = _scene(0)
    far = affinity.translate(box(0, 0, 10, 10), X0 - 10_000, Y0)
    top = _frame([a, far]).assign(name=["a", "far"])
    out = priority.resolve([top, _frame([b, ring])])
    assert list(out[0]["name"]) == ["a", "far"]
    assert out[0].geometry.values[1].equals(far)
    assert out[0].crs == top.crs
