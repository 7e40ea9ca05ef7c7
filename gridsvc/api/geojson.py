"""GeoJSON FeatureCollections of stored layers, straight from PostGIS."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import shapely
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from ..db.layer_sql import feature_count, feature_page
from ..db.layers import LayerSpec
from ..geo.basemap_shift import bbox_to_wgs84, shift_geometries
from ..geo.bbox import BBox
from ..geo.crs import DisplayCrs
from ..geo.zone_geometry import OUTPUT_DECIMALS
from .dependencies import Page


class GeoJSONResponse(JSONResponse):
    """application/geo+json responses."""

    media_type = "application/geo+json"


def _jsonable(v):
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def _shifted_geometries(geojson: list[str], crs: DisplayCrs) -> list[dict]:
    """GeoJSON geometry strings (WGS84) as dicts in the display CRS, converted all at once."""
    geoms = shift_geometries(shapely.from_geojson(np.array(geojson, dtype=object)), crs)
    return [json.loads(g) for g in shapely.to_geojson(geoms)]


def feature_collection(conn: Connection, spec: LayerSpec, bbox: BBox | None, page: Page,
                       base_url: str, where: str = "", params: dict | None = None, crs: DisplayCrs = "wgs84") -> dict:
    """One page of a layer as a FeatureCollection with numberMatched and a next link.

    crs="gcj02": bbox is in GCJ-02 and the coordinates come back in GCJ-02 (for a 高德 basemap; positions
    outside China are unchanged).
    """
    bounds = None if bbox is None else bbox_to_wgs84(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy, crs)
    matched = feature_count(conn, spec, where, params, bounds)
    rows = feature_page(conn, spec, limit=page.limit, offset=page.offset, decimals=OUTPUT_DECIMALS, where=where,
                        params=params, bounds=bounds)
    geometries = ([json.loads(r["_geom"]) for r in rows] if crs == "wgs84"
                  else _shifted_geometries([r["_geom"] for r in rows], crs) if rows else [])
    features = []
    for r, geometry in zip(rows, geometries, strict=True):
        props = {k: _jsonable(v) for k, v in r.items() if k != "_geom"}
        if spec.key == "h3":
            props["h3"] = format(props["h3"], "x")
        features.append({"type": "Feature", "id": props.get(spec.key), "properties": props, "geometry": geometry})
    links = []
    if page.offset + len(rows) < matched:
        sep = "&" if "?" in base_url else "?"
        links.append({"rel": "next", "type": "application/geo+json",
                      "href": f"{base_url}{sep}limit={page.limit}&offset={page.offset + page.limit}"})
    return {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features),
            "features": features, "links": links}
