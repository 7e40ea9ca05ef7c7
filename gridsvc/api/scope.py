"""Permission before content: every write checks the caller's role, then its scope, before anything in the request
is validated (body, query, If-Match, geometry, overlaps).

1. **Role** (`RolesFirst`, an ASGI middleware outside every other): a write (POST, PUT, PATCH, DELETE) to a route
   whose dependencies name the roles it needs (security.require_roles) is answered 401 without credentials and
   403 for another role from the request's line and headers alone, before a byte of its body is read: a
   malformed, oversized or NaN-bearing body earns the caller no more than its permission does.
2. **Scope**: FastAPI solves a route's dependencies before it validates the route's own query, header and body
   parameters, so a write that declares its scope dependency (next to its role dependency) answers 403 to an
   out-of-scope caller whatever else is wrong with the request. Each dependency reads just enough of the request
   to know the scope (the record id in the path, the shape or the ids in the raw JSON body; what cannot be read
   has no scope yet and is refused later by validation) and calls the check that the write itself runs first
   (zone_edits.check_zone_scope, record_edits.check_unit_scope). A new write endpoint declares one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.routing import Match

from ..errors import AuthError, DatabaseUnavailableError, GridsvcError
from ..geo.crs import CLIENT_CRS
from ..people import records as record_edits
from ..people.users import Principal, principal_for_bearer
from ..zones import edits as zone_edits
from .dependencies import Conn
from .security import CurrentUser, check_role

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def required_roles(dependant) -> tuple[str, ...] | None:
    """The roles a route's dependencies require (security.require_roles), None when they name none."""
    stack, found = [dependant], None
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            found = tuple(roles) if found is None else tuple(r for r in found if r in roles)
        stack.extend(dep.dependencies)
    return found


def _route_contexts(routes) -> list:
    """Every route as the app serves it, routers' included routes with their routers' own dependencies."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(contexts(routes)) if contexts else list(routes)


class RolesFirst:
    """Step 1 above. `respond(err)` turns a GridsvcError into the app's error response (app._error_response);
    paths under `skip` keep their own credentials and error form (Open311's api_key)."""

    def __init__(self, app, *, routes, engine: Engine, respond, skip: tuple[str, ...] = ()):
        self.app, self.routes, self.engine, self.respond, self.skip = app, routes, engine, respond, skip
        self._writes: list | None = None

    def _route_roles(self, scope) -> tuple[str, ...] | None:
        if self._writes is None:  # at the first write: every router is included by then
            self._writes = [(ctx, required_roles(ctx.dependant)) for ctx in _route_contexts(self.routes)
                            if isinstance(ctx.original_route if hasattr(ctx, "original_route") else ctx, APIRoute)
                            and ctx.methods & WRITES]
        for ctx, roles in self._writes:
            if ctx.matches(scope)[0] == Match.FULL:
                return roles
        return None

    def _check(self, headers: dict[bytes, bytes], roles: tuple[str, ...]) -> Principal:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("this needs credentials: Authorization: Bearer <token> (POST /auth/token)")
        try:
            with self.engine.connect() as conn:
                principal = principal_for_bearer(conn, token.strip())
        except OperationalError:
            raise DatabaseUnavailableError("the database is not reachable; try again shortly") from None
        check_role(principal, roles)
        return principal

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in WRITES and not scope["path"].startswith(self.skip):
            roles = self._route_roles(scope)
            if roles is not None:
                try:
                    principal = await run_in_threadpool(self._check, dict(scope["headers"]), roles)
                except GridsvcError as err:
                    await self.respond(err)(scope, receive, send)
                    return
                scope.setdefault("state", {})["principal"] = principal  # the route's dependency reuses it
        await self.app(scope, receive, send)


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
