"""Turn OSM-tagged features (from PBF or GIS files) into gridsvc's layer tables."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ...geo import osm_tags
from ..catalogue import Catalogue

LAYER_ORDER = ("streets", "buildings", "compounds", "markets", "units")


def _frame(mask: pd.Series, gdf: gpd.GeoDataFrame, columns: dict[str, pd.Series]) -> gpd.GeoDataFrame:
    data = {k: v[mask].to_numpy() for k, v in columns.items()}
    return gpd.GeoDataFrame(data, geometry=gdf.geometry[mask].to_numpy(), crs=gdf.crs)


def layers_from_tagged(gdf: gpd.GeoDataFrame, source_ids: pd.Series, cat: Catalogue) -> dict[str, gpd.GeoDataFrame]:
    """Split tagged features into streets, buildings, compounds, markets and units."""
    tags = osm_tags.tag_table(gdf)
    masks = osm_tags.classify(tags, gdf.geom_type, cat)
    name = tags["name:zh"].where(tags["name:zh"].notna() & tags["name"].isna(), tags["name"])
    sid = source_ids.astype(str)
    layers = {
        "streets": _frame(masks["streets"], gdf, {
            "source_id": sid, "name": name, "name_zh": tags["name:zh"], "osm_class": tags["highway"],
            "lanes": tags["lanes"], "width_tag": tags["width"], "sidewalk": tags["sidewalk"],
        }),
        "buildings": _frame(masks["buildings"], gdf, {
            "source_id": sid, "name": name, "building_type": tags["building"], "levels": tags["building:levels"],
        }),
        "compounds": _frame(masks["compounds"] | masks["institutions"], gdf, {
            "source_id": sid, "name": name, "property_manager": tags["operator"],
            "kind": pd.Series(np.where(masks["institutions"], "institution", "residential"), index=gdf.index),
        }),
        "markets": _frame(masks["markets"], gdf, {
            "source_id": sid, "name": name, "market_type": osm_tags.market_type(name, cat),
            "operator": tags["operator"],
        }),
        "units": _frame(masks["units"], gdf, {
            "source_id": sid, "name": name, "category": osm_tags.unit_category(tags),
            "address": osm_tags.unit_address(tags), "contact": pd.Series(None, index=gdf.index, dtype=object),
            "phone": tags["phone"].where(tags["phone"].notna(), tags["contact:phone"]),
        }),
    }
    # a named office tower, school or station facing a street holds the façade no unit of its own holds
    holders = _frame(masks["building_holders"], gdf, {
        "source_id": sid, "name": name, "category": "building=" + tags["building"].fillna("yes"),
        "address": osm_tags.unit_address(tags), "contact": pd.Series(None, index=gdf.index, dtype=object),
        "phone": tags["phone"].where(tags["phone"].notna(), tags["contact:phone"]),
    })
    if len(holders):
        layers["units"] = gpd.GeoDataFrame(pd.concat([layers["units"], holders], ignore_index=True),
                                           geometry="geometry", crs=gdf.crs)
    units = layers["units"]
    if len(units):
        units.geometry = units.geometry.where(units.geom_type == "Point", units.geometry.representative_point())
    return layers
