"""The zone build on a 2-worker dask LocalCluster gives the single-process build's zones, zone for zone, geometry
within 1 mm: on Nanjing ×70 (pure, no database; partitions of mixed H3 resolutions) and through `build_zones(..., workers=2)` on the stored city."""

from __future__ import annotations

import sys

import geopandas as gpd
import pytest
from sqlalchemy import text
from support import NANJING

from gridsvc.geo.zone_validation import zone_differences
from gridsvc.settings import REPO_ROOT
from gridsvc.zones.build import LocalCompute, build_zones, zone_table
from gridsvc.zones.policies import load_policy

distributed = pytest.importorskip("distributed")
TOL_M = 0.001


def same_zones(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> dict:
    d = zone_differences(a, b)
    assert not d["only_first"] and not d["only_second"], d
    assert d["differ"] == {"party_id": 0, "props": 0}, d
    assert d["max_hausdorff_m"] <= TOL_M, d
    return d


@pytest.mark.shared
def test_nanjing_70x_on_two_workers_is_the_single_process_build():
    if not NANJING.exists():
        pytest.skip(f"needs {NANJING}")
    sys.path.insert(0, str(REPO_ROOT))  # the benchmark's tiling (bench/ is not an installed package)
    from bench.tiling import nanjing_layers, tile
    from bench.zones import link_buildings
    from gridsvc.zones.distributed import DaskCompute, dask_client

    layers = tile(nanjing_layers(), 70)
    ids = {k: v.reset_index(drop=True).assign(id=lambda d: d.index + 1) for k, v in layers.items()}
    ids["units"]["building_id"] = link_buildings(ids["units"], ids["buildings"])
    planner = gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    args = (ids["streets"], ids["buildings"], ids["units"], ids["compounds"], ids["markets"], planner,
            load_policy("三包"), {})
    one, left_one = zone_table(LocalCompute(), *args)
    with dask_client(workers=2) as client:
        assert len(client.nthreads()) == 2
        # caps low enough that some cells are split into their children: partitions of mixed resolutions
        compute = DaskCompute(client, units_per_part=1_000, streets_per_part=1_000, zones_per_part=2_000)
        many, left_many = zone_table(compute, *args)
    assert compute.partitions["frontage"] >= 4, compute.partitions
    assert all(len(r) > 1 for r in compute.resolutions.values()), compute.resolutions
    d = same_zones(one, many)
    assert d["zones"][0] > 40_000
    assert left_one["unit_id"].tolist() == left_many["unit_id"].tolist()
    assert left_one["reason"].tolist() == left_many["reason"].tolist()


def current_zones(engine) -> gpd.GeoDataFrame:
    with engine.connect() as c:
        return gpd.read_postgis(text("SELECT zone_key, party_id, props, geom FROM zones WHERE valid_to IS NULL "
                                     "AND origin = 'auto'"), c, geom_col="geom")


def test_build_zones_with_workers_stores_the_same_zones(city):
    engine, report = city
    before = current_zones(engine)
    again = build_zones(engine, "三包", workers=2)
    assert again.counts == report.counts
    assert again.unassigned == report.unassigned
    same_zones(before, current_zones(engine))
