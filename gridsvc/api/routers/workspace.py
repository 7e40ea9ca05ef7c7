"""The planner's web workspace at `/`: the page (gridsvc/static/workspace), its settings and feature look-ups.

Every asset is served by gridsvc from /static (mounted by gridsvc/api/docs.py): no CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from ... import __version__
from ...db import tiles
from ...db.layers import LAYERS, layer_spec
from ...db.sql import sql
from ...errors import InputError, NotFoundError
from ...geo.crs import DisplayCrs
from ...maps.city_map import STYLE, ZONE_STYLE
from ...zones import kinds
from ..dependencies import Conn, Page
from ..geojson import GeoJSONResponse, feature_collection
from ..security import CurrentUser, redact

router = APIRouter(tags=["workspace"])
PAGE = Path(__file__).resolve().parent.parent.parent / "static" / "workspace" / "index.html"
# Scripts only from gridsvc itself (the page never injects data as HTML; this is the second wall); basemap
# tiles from any https host the planner picks; Leaflet positions everything with inline styles.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
DETAIL_ZOOM = 16  # from here on the layers come as GeoJSON of the viewport (and zones can be edited)
LocateCrs = Annotated[DisplayCrs, Query(description="coordinates of the answer (gcj02 for 高德)")]


@router.get("/", include_in_schema=False)
def workspace_page() -> FileResponse:
    """The workspace page (its scripts and styles come from /static/workspace and /static/vendor)."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache",
                                                                           "Content-Security-Policy": CSP})


@router.get("/workspace/config", summary="What the workspace page needs: colours, zoom levels, first view")
def workspace_config(conn: Conn) -> dict:
    """Zone colours by kind of responsible party and layer colours (the same palette as the offline map,
    gridsvc/maps/city_map.py), each layer's lowest tile zoom, the detail zoom, the managed area's bbox, and the zone and party kinds with
    their labels (gridsvc/zones/kinds.py: the page has no list of its own)."""
    row = conn.execute(sql("workspace_extent")).one()
    bounds = None if row.minx is None else [row.minx, row.miny, row.maxx, row.maxy]
    return {
        "version": __version__,
        "zone_colors": {kind: color for kind, (_, color) in ZONE_STYLE.items()},
        "layer_colors": {name: {"color": color, "fill_opacity": opacity}
                         for name, (color, opacity, _, _) in STYLE.items()},
        "min_zoom": {name: tiles.min_zoom(spec) for name, spec in LAYERS.items()},
        "max_zoom": tiles.MAX_ZOOM,
        "detail_zoom": DETAIL_ZOOM,
        "bounds": bounds,
        **kinds.for_workspace(),
    }


@router.get("/workspace/locate", response_class=GeoJSONResponse,
            summary="One feature of a layer by id (grid cells also by code), to zoom to it")
def locate(conn: Conn, principal: CurrentUser, layer: Annotated[str, Query(description=f"one of: {', '.join(LAYERS)}", max_length=64)],
           id: Annotated[int | None, Query(description="the feature's id (zone_id for zones)", ge=0,
                                           le=2**63 - 1)] = None,
           code: Annotated[str | None, Query(max_length=40, description="a grid cell's code")] = None,
           h3: Annotated[str | None, Query(max_length=16, description="a grid cell's H3 index (hex)")] = None,
           crs: LocateCrs = "wgs84") -> dict:
    """The feature (its attributes, contacts and phones masked as in the layers, and its geometry in `crs`);
    404 when there is none."""
    spec = layer_spec(layer)
    if code is not None:
        if spec.name != "cells":
            raise InputError("code= is only for layer=cells", where="query parameter code")
        where, params = "code = :v", {"v": code}
    elif h3 is not None:
        if spec.name != "cells":
            raise InputError("h3= is only for layer=cells", where="query parameter h3")
        try:
            where, params = "h3 = :v", {"v": int(h3, 16)}
            if params["v"] >= 2**63:
                raise ValueError(h3)
        except ValueError:
            raise InputError(f"h3 must be a hexadecimal H3 index; got {h3!r}", where="query parameter h3") from None
    elif id is not None:
        if spec.key == "h3":
            raise InputError("grid cells are found by code= or h3=", where="query parameter id")
        where, params = f"{spec.key} = :v", {"v": id}
    else:
        raise InputError("give id= (or code= / h3= for grid cells)", where="query")
    fc = feature_collection(conn, spec, None, Page(1, 0), "", where=where, params=params, crs=crs)
    if not fc["features"]:
        raise NotFoundError(f"no feature {id if id is not None else code or h3!r} in layer {spec.name!r}")
    return redact(fc["features"][0], principal)
