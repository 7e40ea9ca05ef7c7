"""A made-up street of three shops whose zone report has exactly one frontage gap (and one detached zone once a
planner moves a zone off its building), so the report's checks are seen finding something.

Laid out in metres in UTM 50N next to Nanjing 新街口 and written as an OSM-tagged GeoPackage, which goes through the
real ingest, grid and zone build. 试验路 (residential: zones reach from the façade to the centreline) runs west to
east along y = 0; on its north side 甲's and 乙's buildings stand 60 m apart, so their frontage zones (each reaching
at most the policy's max_gap_fill_m past its façade) leave a gap between them; 丙's building stands alone on the
south side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, Point, box

from gridsvc.zones.policies import load_policy

UTM50 = 32650
ORIGIN = gpd.GeoSeries([Point(118.78, 32.04)], crs=4326).to_crs(UTM50).iloc[0]
STREET = "试验路"
STREET_START_X = -20.0  # the centreline runs from x = -20 to x = 320 at y = 0
SHOPS = {  # name: (building footprint in metres, shop tag)
    "甲便利店": ((20, 8, 60, 28), "convenience"),
    "乙面包房": ((120, 8, 160, 28), "bakery"),
    "丙药店": ((200, -28, 240, -8), "chemist"),
}
# 丙's zone as a planner wrongly redraws it: in front of its building, but 2 m off the façade (y = -8)
DETACHED_BY_M = 2.0
MOVED_ZONE = box(200, -8 + DETACHED_BY_M, 240, -2)


@dataclass(frozen=True)
class ExpectedGap:
    """The one gap on 试验路's north side, in metres along the centreline from its start."""

    from_m: float
    to_m: float

    @property
    def gap_m(self) -> float:
        return self.to_m - self.from_m


def expected_gap(policy: str = "三包") -> ExpectedGap:
    """Where 甲's zone ends and 乙's begins: each reaches max_gap_fill_m past its façade into the 60 m between."""
    fill = load_policy(policy).max_gap_fill_m
    a_east, b_west = SHOPS["甲便利店"][0][2], SHOPS["乙面包房"][0][0]
    assert b_west - a_east > 2 * fill, "the buildings stand far enough apart for a gap to remain"
    return ExpectedGap(a_east + fill - STREET_START_X, b_west - fill - STREET_START_X)


def to_wgs84(geom):
    """A geometry in metres around ORIGIN, in WGS84."""
    moved = shapely.affinity.translate(geom, ORIGIN.x, ORIGIN.y)
    return gpd.GeoSeries([moved], crs=UTM50).to_crs(4326).iloc[0]


def write_city(folder: Path) -> Path:
    """The street, buildings and shops as an OSM-tagged GeoPackage (three layers); returns its path."""
    path = folder / "small_city.gpkg"
    roads = gpd.GeoDataFrame({"osm_id": ["way/1"], "highway": ["residential"], "name": [STREET]},
                             geometry=[to_wgs84(LineString([(STREET_START_X, 0), (320, 0)]))], crs=4326)
    buildings = gpd.GeoDataFrame({"osm_id": [f"way/{10 + i}" for i in range(len(SHOPS))], "building": "retail"},
                                 geometry=[to_wgs84(box(*b)) for b, _ in SHOPS.values()], crs=4326)
    shops = gpd.GeoDataFrame({"osm_id": [f"node/{20 + i}" for i in range(len(SHOPS))], "name": list(SHOPS),
                              "shop": [tag for _, tag in SHOPS.values()]},
                             geometry=[to_wgs84(box(*b).centroid) for b, _ in SHOPS.values()], crs=4326)
    for name, gdf in (("roads", roads), ("buildings", buildings), ("shops", shops)):
        gdf.to_file(path, layer=name, engine="pyogrio")
    return path
