"""The pure overlap check: real overlaps reported with their area, shared edges not."""

import geopandas as gpd
import shapely

from gridsvc.geo.zone_validation import overlaps


def test_overlaps_are_measured_and_shared_edges_are_not():
    zones = gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(9, 0, 19, 10),
                                                           shapely.box(19, 0, 29, 10)], crs=32650)
    found = overlaps(zones)
    assert found.to_dict(orient="records") == [{"zone_a": 1, "zone_b": 2, "area_m2": 10.0}]
