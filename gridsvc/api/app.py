"""The FastAPI application: routers, and the one place errors become HTTP responses."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .. import __version__
from ..errors import ConflictError, DatabaseUnavailableError, GridsvcError, InputError, http_status
from ..settings import get_settings
from . import limits, reads, scope
from .docs import mount_docs
from .routers import (
    audit,
    auth,
    bulletins,
    case_page,
    cases,
    dashboard,
    exports,
    field,
    health,
    hotline,
    inspections,
    layers,
    lookup,
    notices,
    officers,
    ogc,
    open311,
    org,
    parties,
    ratings,
    reports,
    tiles,
    units,
    workspace,
    zones,
)
from .routers import public as public_pages
from .routers import uploads as upload_files

log = logging.getLogger("gridsvc.api")
GZIP_MIN_BYTES = 2048  # below this an answer is sent uncompressed
TOPOLOGY_ERROR = re.compile(r"TopologyException: ([^\n]*?) at ([-0-9.]+ [-0-9.]+)")


def _error_response(err: GridsvcError) -> JSONResponse:
    status = http_status(err)
    headers = {"Retry-After": "5"} if status == 503 else None
    if status == 405:
        headers = {"Allow": err.details.get("allow", "GET")}
    if status == 429:
        headers = {"Retry-After": str(err.details.get("retry_after", 1))}
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    if status in (412, 428) and "etag" in err.details:
        headers = {"ETag": err.details["etag"]}
    return JSONResponse(limits.error_body(err), status_code=status, headers=headers)


def create_app(engine: Engine | None = None, read_urls: list[str] | None = None) -> FastAPI:
    """Build the app on an engine (default: the configured database), its reads on the standbys at read_urls
    (default GRIDSVC_READ_URLS; docs/scaling.md)."""
    if engine is None:
        from ..db.engine import get_engine

        engine = get_engine()
    app = FastAPI(title="gridsvc", version=__version__,
                  description="H3 unit grids and 门前三包 frontage duty zones for city management.",
                  docs_url=None, redoc_url=None)
    app.state.engine = engine
    reads.install(app, engine, get_settings().read_url_list if read_urls is None else read_urls)
    limits.install(app)  # body-size limits (413), strict JSON, readable validation errors
    app.add_middleware(open311.Open311Errors)  # under /open311/ only: errors in the GeoReport v2 form
    # Permission before content: a write's role is checked before any other middleware reads its body
    app.add_middleware(scope.RolesFirst, routes=app.router.routes, engine=engine, respond=_error_response,
                       skip=("/open311/",))
    # Layers, exports and pages compressed for clients that ask (phones on a mobile network); small answers (a
    # lookup, an error) are sent as they are: below minimum_size compressing costs more than it saves.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=5)

    @app.exception_handler(GridsvcError)
    async def gridsvc_error(request: Request, err: GridsvcError) -> JSONResponse:
        return _error_response(err)

    @app.exception_handler(OperationalError)
    async def db_down(request: Request, err: OperationalError) -> JSONResponse:
        state = getattr(err.orig, "sqlstate", None) or ""
        log.warning("%s %s: database error %s: %s", request.method, request.url.path, state or "-",
                    str(err.orig).splitlines()[0] if err.orig else err)
        if state.startswith("40") and str(getattr(request.state, "read_from", "")).startswith("replica"):
            # a standby cancels a read that holds up its replay (conflict with recovery): nothing was written
            return _error_response(DatabaseUnavailableError("the read replica cancelled this read to apply the "
                                                            "primary's changes; send it again", sqlstate=state))
        if state.startswith("40"):  # deadlock or serialization failure: the transaction was rolled back
            return _error_response(ConflictError("the save collided with a concurrent one and nothing was changed; "
                                                 "send it again", sqlstate=state))
        return _error_response(DatabaseUnavailableError("the database is not reachable; try again shortly"))

    @app.exception_handler(DBAPIError)
    async def db_error(request: Request, err: DBAPIError) -> JSONResponse:
        if err.connection_invalidated:
            return _error_response(DatabaseUnavailableError("the database connection was lost; try again shortly"))
        topology = TOPOLOGY_ERROR.search(str(err.orig))
        if topology:  # GEOS in PostGIS could not compute with a shape that shapely found valid
            log.warning("%s %s: %s", request.method, request.url.path, topology.group(0))
            return _error_response(InputError(
                f"the geometry engine could not process this shape ({topology.group(1)} near {topology.group(2)}): "
                "it has nearly coincident edges or vertices; simplify it, or send it with repair=true",
                where="geometry"))
        raise err

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(audit.router)
    app.include_router(bulletins.router)
    app.include_router(dashboard.router)
    app.include_router(zones.router)
    app.include_router(parties.router)
    app.include_router(units.router)
    app.include_router(layers.router)
    app.include_router(lookup.router)
    app.include_router(tiles.router)
    app.include_router(ogc.router)
    app.include_router(officers.router)
    app.include_router(workspace.router)
    app.include_router(public_pages.router)
    app.include_router(exports.router)
    app.include_router(upload_files.router)
    app.include_router(cases.router)
    app.include_router(ratings.router)
    app.include_router(notices.router)
    app.include_router(case_page.router)
    app.include_router(org.router)
    app.include_router(field.router)
    app.include_router(inspections.router)
    app.include_router(hotline.router)
    app.include_router(reports.router)
    app.include_router(open311.router)
    mount_docs(app)
    return app
