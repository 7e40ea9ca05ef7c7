"""GeoJSON endpoints for every stored layer, made by one factory (bbox filter + paging)."""

from fastapi import APIRouter, Request

from ...db.layers import LAYERS
from ..dependencies import BBoxDep, Conn, PageDep
from ..geojson import GeoJSONResponse, feature_collection

router = APIRouter(tags=["layers"])
PATHS = {"streets": "/streets", "buildings": "/buildings", "compounds": "/compounds", "markets": "/markets",
         "units": "/units", "cells": "/grid/cells", "admin_units": "/admin-units", "zones": "/zones"}


def _register(name: str, path: str) -> None:
    spec = LAYERS[name]

    def endpoint(request: Request, conn: Conn, bbox: BBoxDep, page: PageDep) -> dict:
        return feature_collection(conn, spec, bbox, page, str(request.url.remove_query_params(["limit", "offset"])))

    endpoint.__doc__ = f"{spec.label}: GeoJSON FeatureCollection, filtered by bbox, paged by limit/offset."
    router.add_api_route(path, endpoint, methods=["GET"], name=f"layer_{name}", summary=spec.label,
                         response_class=GeoJSONResponse)


for _name, _path in PATHS.items():
    _register(_name, _path)
