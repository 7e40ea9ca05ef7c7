"""GET /u/{code}: the public page behind a unit's QR code (一户一码), as HTML or `?format=json`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse

from ...errors import NotFoundError
from ...maps.zone_sketch import zone_sketch
from ...zones.public_units import public_unit
from ..dependencies import Conn
from ..public_page import HEADERS, render_not_found, render_unit

router = APIRouter(tags=["public"])


@router.get("/u/{code:path}", summary="Public page of a unit (一户一码): duties, rating, zone sketch, grid officer",
            response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}, "application/json": {}}},
                       404: {"description": "unknown or malformed code (HTML page, or the JSON error)"}})
def unit_page(conn: Conn, code: Annotated[str, Path(description="the unit's public code (12 hex characters)")],
              format: Annotated[Literal["html", "json"], Query(description="html (default) or json")] = "html"):
    """The unit's name, address, duties under its policy, rating board, credit points, zone sketch, grid code
    and grid officer (phone masked). Unknown or malformed codes (anything under /u/): a 404 page, or with
    format=json the usual error body."""
    try:
        unit = public_unit(conn, code)
    except NotFoundError:
        if format == "json":
            raise
        return HTMLResponse(render_not_found(code), status_code=404, headers=HEADERS)
    if format == "json":
        return JSONResponse(unit.data, headers={"Cache-Control": "no-cache"})
    svg = zone_sketch(unit.zones, unit.building, unit.streets, unit.point, others=unit.others)
    return HTMLResponse(render_unit(unit.data, svg), headers=HEADERS)
