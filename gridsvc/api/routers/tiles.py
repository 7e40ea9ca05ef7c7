"""Mapbox Vector Tiles of every registry layer, and TileJSON describing them."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from sqlalchemy import Connection

from ...db import tiles
from ...db.layer_sql import layer_bounds
from ...db.layers import LAYERS, LayerSpec, layer_spec
from ...geo.crs import DisplayCrs
from ...people.masking import PERSONAL_COLUMNS
from ..dependencies import ReadConn
from ..security import ReadUser, sees_personal

router = APIRouter(tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
LayerPath = Annotated[str, Path(description=f"one of: {', '.join(LAYERS)}", max_length=64)]
LayersPath = Annotated[str, Path(description=f"one of: {', '.join(LAYERS)}; or several, comma-separated "
                                             "(one tile holding each layer in that order)", max_length=200)]
TileCrs = Annotated[DisplayCrs, Query(
    description="the basemap's coordinates: gcj02 moves the features by the GCJ-02 offset so they sit on a "
                "高德 basemap (nothing moves outside China)")]


def _tilejson(request: Request, conn: Connection, spec: LayerSpec, fields: dict[str, str], personal: bool) -> dict:
    """TileJSON 3.0 of one layer (its fields as the caller's tiles carry them: personal ones for staff only)."""
    if not personal:
        fields = {k: v for k, v in fields.items() if k not in PERSONAL_COLUMNS}
    url = str(request.url_for("tile", layer=spec.name, z=0, x=0, y=0)).removesuffix("/0/0/0.pbf")
    bounds = layer_bounds(conn, spec)
    lo = tiles.min_zoom(spec)
    doc = {"tilejson": "3.0.0", "name": spec.name, "description": spec.label, "scheme": "xyz",
           "tiles": [f"{url}/{{z}}/{{x}}/{{y}}.pbf"], "minzoom": lo, "maxzoom": tiles.MAX_ZOOM,
           "bounds": list(bounds or tiles.WORLD_BOUNDS),
           "vector_layers": [{"id": spec.name, "description": spec.label, "minzoom": lo, "maxzoom": tiles.MAX_ZOOM,
                              "fields": fields}]}
    if bounds:
        doc["center"] = [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, max(lo, 14)]
    return doc


@router.get("/tiles", summary="TileJSON of every layer: tile URL template, zoom range, bounds, fields")
def tilesets(request: Request, conn: ReadConn, principal: ReadUser) -> dict:
    """All layers' TileJSON documents."""
    fields = tiles.layer_fields(conn)
    personal = sees_personal(principal)
    return {"tilesets": [_tilejson(request, conn, spec, fields[name], personal) for name, spec in LAYERS.items()]}


@router.get("/tiles/{layer}.json", summary="TileJSON of one layer")
def tilejson(request: Request, conn: ReadConn, principal: ReadUser, layer: LayerPath) -> dict:
    """One layer's TileJSON (for a MapLibre vector source `url`)."""
    spec = layer_spec(layer)
    return _tilejson(request, conn, spec, tiles.layer_fields(conn)[spec.name], sees_personal(principal))


@router.get("/tiles/{layer}/{z}/{x}/{y}.pbf", name="tile", response_class=Response,
            summary="One Mapbox Vector Tile (EPSG:3857, extent 4096) of a layer (or of several: a,b,c)",
            responses={200: {"content": {MVT: {}}, "description": "the tile"},
                       204: {"description": "no features in this tile (or below the layer's min zoom)"},
                       304: {"description": "unchanged since the ETag in If-None-Match"}})
def tile(conn: ReadConn, principal: ReadUser, layer: LayersPath, z: Annotated[int, Path(description=f"zoom, 0..{tiles.MAX_ZOOM}")],
         x: Annotated[int, Path(description="column, 0..2^z-1")], y: Annotated[int, Path(description="row from the top, 0..2^z-1")],
         if_none_match: Annotated[str | None, Header(max_length=2000)] = None, crs: TileCrs = "wgs84") -> Response:
    """Features of `layer` in tile z/x/y with their attributes (h3 as hex); 204 when empty.

    `streets,buildings,zones` gives one tile with those layers (one request instead of three for a map).
    """
    specs = tiles.tile_layers(layer)
    address = tiles.tile_address(z, x, y)
    personal = sees_personal(principal)
    data = b"".join(tiles.render_tile(conn, spec, address, crs, personal) for spec in specs)
    cache = "private" if personal else "public"
    headers = {"Cache-Control": f"{cache}, max-age={min(tiles.max_age(spec) for spec in specs)}", "Vary": "Authorization"}
    if not data:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = f'"{hashlib.blake2b(data, digest_size=12).hexdigest()}"'
    if if_none_match and headers["ETag"] in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
