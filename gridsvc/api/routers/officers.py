"""Grid officers' grids (网格员责任网格): the cells each officer looks after, outlined per officer, as GeoJSON."""

from __future__ import annotations

from typing import Annotated

import shapely
from fastapi import APIRouter, Query
from shapely.geometry import mapping

from ...db.sql import sql
from ...geo.basemap_shift import bbox_to_wgs84, shift_geometries
from ...geo.crs import DisplayCrs
from ...geo.h3cells import cells_outline
from ..dependencies import BBoxDep, Conn
from ..geojson import GeoJSONResponse
from ..security import CurrentUser, redact

router = APIRouter(tags=["officers"])
OfficerCrs = Annotated[DisplayCrs, Query(
    description="coordinates of bbox and of the outlines: gcj02 for a 高德 basemap")]


@router.get("/officers/grids", response_class=GeoJSONResponse,
            summary="Grid officers' grids: one outline per officer with its grid codes")
def officer_grids(conn: Conn, principal: CurrentUser, bbox: BBoxDep, crs: OfficerCrs = "wgs84",
                  limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> dict:
    """Cells that have an officer, merged per officer (officer_id, name, phone, grid_codes, cells).

    With bbox, only the officers' cells meeting the bbox are outlined.
    """
    box = bbox_to_wgs84(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy, crs) if bbox else (None,) * 4
    rows = conn.execute(sql("officer_grids"), dict(zip(("minx", "miny", "maxx", "maxy"), box, strict=True),
                                                   limit=limit)).mappings().all()
    geoms = shift_geometries(shapely.set_precision([cells_outline(r["cells"]) for r in rows], 1e-7), crs) \
        if rows else []
    features = [{"type": "Feature", "id": r["officer_id"], "geometry": mapping(g),
                 "properties": {"officer_id": r["officer_id"], "name": r["name"], "phone": r["phone"],
                                "party_id": r["party_id"], "grid_codes": list(r["grid_codes"]),
                                "cells": len(r["cells"])}}
                for r, g in zip(rows, geoms, strict=True)]
    return redact({"type": "FeatureCollection", "numberReturned": len(features), "features": features}, principal)
