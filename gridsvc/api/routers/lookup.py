"""GET/POST /lookup: who is responsible for this spot, in WGS84, GCJ-02 or BD-09, on any date."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ...errors import InputError
from ...geo.crs import ClientCrs
from ...settings import get_settings
from ...timekeeping import DATE_HELP, MAX_TEXT
from ...zones import lookup as core
from ..dependencies import ReadConn
from ..security import POINTS_PER_REQUEST, ReadUser, charge_anonymous, redact

router = APIRouter(tags=["lookup"])
CrsParam = ClientCrs


@router.get("/lookup", summary="Who is responsible here? (grid officer's question)")
def lookup_point(
    conn: ReadConn,
    principal: ReadUser,
    lng: Annotated[float, Query(description="longitude in the chosen crs")],
    lat: Annotated[float, Query(description="latitude in the chosen crs")],
    crs: CrsParam = "wgs84",
    at: Annotated[str | None, Query(max_length=MAX_TEXT,
                                    description=f"{DATE_HELP}; a date means the end of that day; default now")] = None,
    radius: Annotated[float | None, Query(gt=0, le=1000, description="also list zones within this many metres")] = None,
    subject: Literal["event", "component"] = "event",
) -> dict:
    """Primary and secondary party, rule, H3 cell, grid code and officer; 404 outside the managed area."""
    result = core.lookup(conn, lng, lat, crs=crs, at=at, subject=subject)
    if radius is not None:
        result["nearby"] = core.lookup_radius(conn, lng, lat, radius, crs=crs, at=at)
    return redact(result, principal)


class BatchRequest(BaseModel):
    """Up to 10,000 [lng, lat] points in one crs."""

    points: list[tuple[float, float]] = Field(min_length=1, max_length=10_000)
    crs: CrsParam = "wgs84"
    at: str | None = Field(default=None, max_length=MAX_TEXT,
                           description=f"{DATE_HELP}; a date means the end of that day; default now")


@router.post("/lookup", summary="Batch lookup of up to 10,000 points (anonymous: GRIDSVC_PUBLIC_MAX_POINTS)",
             responses={429: {"description": "anonymous: the batch's weight exceeds the rate limit; Retry-After"}})
def lookup_batch(request: Request, conn: ReadConn, principal: ReadUser, body: BatchRequest) -> dict:
    """One result per point, in order; points outside the managed area have inside=false.

    Anonymous batches are capped (1,000 points by default) and weigh on the rate limit by their points, so the
    public cannot starve staff of the database."""
    if principal is None:
        most = get_settings().public_max_points
        if len(body.points) > most:
            raise InputError(f"without credentials a batch takes at most {most:,} points, this one has "
                             f"{len(body.points):,}: split it, or log in (up to 10,000)", where="body points")
        charge_anonymous(request, len(body.points) / POINTS_PER_REQUEST)  # the request itself was charged 1
    results = core.lookup_batch(conn, body.points, crs=body.crs, at=body.at)
    return {"count": len(results), "results": redact(results, principal)}
