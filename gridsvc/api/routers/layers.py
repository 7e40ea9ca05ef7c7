"""GeoJSON endpoints for every stored layer, made by one factory (bbox filter + paging)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...db.layers import LAYERS
from ...geo.crs import DisplayCrs
from ..dependencies import BBoxDep, PageDep, ReadConn
from ..geojson import GeoJSONResponse, feature_collection
from ..security import ReadUser, own_records, redact

router = APIRouter(tags=["layers"])
LayerCrs = Annotated[DisplayCrs, Query(
    description="coordinates of bbox and of the features: gcj02 for a 高德 basemap (nothing moves outside China)")]
PATHS = {"streets": "/streets", "buildings": "/buildings", "compounds": "/compounds", "markets": "/markets",
         "units": "/units", "cells": "/grid/cells", "admin_units": "/admin-units", "zones": "/zones"}


def _register(name: str, path: str) -> None:
    spec = LAYERS[name]

    def endpoint(request: Request, conn: ReadConn, principal: ReadUser, bbox: BBoxDep, page: PageDep,
                 crs: LayerCrs = "wgs84") -> dict:
        url = str(request.url.remove_query_params(["limit", "offset"]))
        return redact(feature_collection(conn, spec, bbox, page, url, crs=crs), principal,
                      records=own_records(conn, principal, spec.table))

    endpoint.__doc__ = f"{spec.label}: GeoJSON FeatureCollection, filtered by bbox, paged by limit/offset."
    router.add_api_route(path, endpoint, methods=["GET"], name=f"layer_{name}", summary=spec.label,
                         response_class=GeoJSONResponse)


for _name, _path in PATHS.items():
    _register(_name, _path)
