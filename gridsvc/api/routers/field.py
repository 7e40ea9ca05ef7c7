"""The field page at /field: a grid officer's phone (gridsvc/static/field), and the small answers it reads.

The page is plain HTML and one small script, served by gridsvc (no CDN, no map tiles). It reads GET /lookup,
GET /units/near, GET /cases (mine, open, by deadline), GET /cases/categories and the case and inspection
endpoints, with the JWT of POST /auth/token kept in sessionStorage.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from ...city.catalogue import load_catalogue
from ...db.sql import sql
from ...geo.crs import ClientCrs
from ...zones.lookup import to_wgs84_point
from ..dependencies import Conn
from ..security import CurrentUser

router = APIRouter(tags=["field"])
PAGE = Path(__file__).resolve().parent.parent.parent / "static" / "field" / "index.html"
# Scripts and styles only from gridsvc; photos shown from blob: previews; no tiles, no other host.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
METRES_PER_DEGREE = 111_320.0


@router.get("/field", include_in_schema=False)
def field_page() -> FileResponse:
    """The field page (its script and style come from /static/field)."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@router.get("/units/near", summary="The units around a point, nearest first (small answer for phones)")
def units_near(conn: Conn, principal: CurrentUser,
               lng: Annotated[float, Query(description="longitude in the chosen crs")],
               lat: Annotated[float, Query(description="latitude in the chosen crs")],
               crs: ClientCrs = "wgs84",
               radius: Annotated[float, Query(gt=0, le=500, description="metres")] = 80,
               limit: Annotated[int, Query(ge=1, le=50)] = 12) -> dict:
    """Id, name (an unnamed unit by its kind, 未命名 便利店), category (its kind in Chinese), address, 红黄黑牌 rating, public code,
    distance in metres, WGS84 position and duty policy (of its zone, else the latest build's: the page picks the
    checklist policy:<policy>) of each unit within `radius`; no contacts."""
    x, y = to_wgs84_point(lng, lat, crs)
    deg = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(y)), 0.01)) * 1.01
    rows = conn.execute(sql("units_near"), {"lng": x, "lat": y, "r": radius, "deg": deg, "limit": limit}).mappings()
    cat = load_catalogue()
    units = [{**dict(r), "name": cat.unit_label(r["name"], r["category"]), "category": cat.kind_label(r["category"]),
              "distance_m": float(r["distance_m"]), "lng": float(r["lng"]), "lat": float(r["lat"])} for r in rows]
    return {"lng": round(x, 6), "lat": round(y, 6), "radius": radius, "units": units}
