"""Permission before content: each write's scope, checked before FastAPI validates the request's body or query.

FastAPI solves a route's dependencies before it validates the route's own query, header and body parameters, so
a write that declares its scope dependency (next to its role dependency) answers 403 to an out-of-scope caller
whatever else is wrong with the request (If-Match, body, party, geometry, overlaps). Each dependency reads just
enough of the request to know the scope (the record id in the path, the shape or the ids in the raw JSON body;
what cannot be read has no scope yet and is refused later by validation) and calls the check that the write
itself runs first (zone_edits.check_zone_scope, record_edits.check_unit_scope). A new write endpoint declares one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from ..geo.crs import CLIENT_CRS
from ..people import records as record_edits
from ..zones import edits as zone_edits
from .dependencies import Conn
from .security import CurrentUser


async def json_body(request: Request) -> Any:
    """The request's body as JSON (None when it is not): FastAPI has read it already, so this costs no I/O."""
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


Body = Annotated[Any, Depends(json_body)]


def _shape(request: Request, body: Any):
    crs = request.query_params.get("crs", "wgs84")
    return zone_edits.scope_shape(body, crs) if crs in CLIENT_CRS else None


def new_zone_scope(request: Request, conn: Conn, principal: CurrentUser, body: Body) -> None:
    """POST /zones, POST /ogc/collections/zones/items: the shape sent."""
    if request.path_params.get("collectionId", "zones") != "zones":
        return
    zone_edits.check_zone_scope(conn, [], _shape(request, body), principal=principal)


def zone_scope(request: Request, conn: Conn, principal: CurrentUser, body: Body) -> None:
    """PUT, DELETE, split, revert of /zones/{zone_id}: the stored zone, and the shape sent (PUT)."""
    zone_edits.check_zone_scope(conn, [request.path_params["zone_id"]], _shape(request, body), principal=principal)


def merge_scope(conn: Conn, principal: CurrentUser, body: Body) -> None:
    """POST /zones/merge: every zone named in ids."""
    ids = body.get("ids") if isinstance(body, dict) else None
    if isinstance(ids, list):
        zone_edits.check_zone_scope(conn, ids[:100], principal=principal)


def ogc_item_scope(request: Request, conn: Conn, principal: CurrentUser, body: Body) -> None:
    """PUT, DELETE of /ogc/collections/zones/items/{featureId}: the stored zone, and the shape sent (PUT)."""
    fid = str(request.path_params.get("featureId", ""))
    if request.path_params.get("collectionId") != "zones" or not (fid.isascii() and fid.isdigit() and len(fid) <= 10):
        return
    zone_edits.check_zone_scope(conn, [int(fid)], zone_edits.scope_shape(body), principal=principal)


def unit_scope(request: Request, conn: Conn, principal: CurrentUser) -> None:
    """PATCH /units/{record_id}: the unit's place."""
    record_edits.check_unit_scope(conn, request.path_params["record_id"], principal=principal)


NewZoneScope = Annotated[None, Depends(new_zone_scope)]
ZoneScope = Annotated[None, Depends(zone_scope)]
MergeScope = Annotated[None, Depends(merge_scope)]
OGCItemScope = Annotated[None, Depends(ogc_item_scope)]
UnitScope = Annotated[None, Depends(unit_scope)]
