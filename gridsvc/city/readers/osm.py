"""Read an OSM PBF extract into gridsvc layers with pyrosm."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ...errors import UnreadableFileError
from ...geo.osm_tags import TAG_KEYS
from ..catalogue import Catalogue
from .tagged import layers_from_tagged


def _custom_filter(cat: Catalogue) -> dict:
    return {
        "highway": list(cat.street_widths),
        "building": True,
        "shop": True,
        "office": True,
        "amenity": sorted(cat.unit_amenities | {"marketplace"} | {v for k, v in cat.institution_tags if k == "amenity"}),
        "landuse": sorted(cat.compound_landuse | {"retail"} | {v for k, v in cat.institution_tags if k == "landuse"}),
        "place": sorted(cat.compound_place),
    }


def read_osm(path: Path, cat: Catalogue) -> dict[str, gpd.GeoDataFrame]:
    """All gridsvc layers of a .osm.pbf file, in WGS84, with 'way/123'-style source ids."""
    import pyrosm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            gdf = osm.get_data_by_custom_criteria(
                custom_filter=_custom_filter(cat), filter_type="keep",
                keep_nodes=True, keep_ways=True, keep_relations=True,
                extra_attributes=[k for k in TAG_KEYS if ":" in k or k in ("lanes", "width", "sidewalk")],
            )
    except Exception as e:  # pyrosm raises bare Exceptions/OSErrors on corrupt files
        raise UnreadableFileError(f"not a readable OSM PBF file ({type(e).__name__}: {e})", source=path.name) from e
    if gdf is None or len(gdf) == 0:
        return {}
    gdf = gdf.set_crs(4326, allow_override=True).reset_index(drop=True)
    gdf = gdf[gdf.geometry.notna()]
    ids = gdf["osm_type"].astype(str) + "/" + gdf["id"].astype("int64").astype(str)
    return layers_from_tagged(gdf, pd.Series(ids, index=gdf.index), cat)
