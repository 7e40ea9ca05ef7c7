"""Units: one frontage unit, and correcting it (contacts, 红黄黑牌 rating, credit points), versioned.

The units as a GeoJSON FeatureCollection (GET /units?bbox=) come from the layer factory in layers.py.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from ... import record_edits
from ..dependencies import Conn
from ..security import CurrentUser, RatingWriter, redact
from ..versions import IfMatch, etag, expected_version

router = APIRouter(tags=["units"])


class UnitChange(BaseModel):
    """Fields of a unit to change (only those sent; null clears a field)."""

    name: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    contact: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")
    rating: Literal["red", "yellow", "black"] | None = Field(default=None, description="红牌 / 黄牌 / 黑牌")
    credit_points: int | None = Field(default=None, ge=-1000, le=1000)
    version: int | None = Field(default=None, ge=1, description="the version you edited (instead of If-Match)")


@router.get("/units/{unit_id:int}", summary="One unit (ETag names its version)")
def get_unit(conn: Conn, principal: CurrentUser, unit_id: int, response: Response) -> dict:
    """The unit with its QR code, rating and version."""
    row = record_edits.get_record(conn, "units", unit_id)
    response.headers["ETag"] = etag(unit_id, row["version"])
    return redact(row, principal)


@router.patch("/units/{unit_id:int}", summary="Correct a unit or rate it (红黄黑牌, credit points)")
def update_unit(conn: RatingWriter, unit_id: int, change: UnitChange, response: Response,
                if_match: IfMatch = None) -> dict:
    """Needs If-Match (or version): 428 without, 412 with the current version if it changed meanwhile.

    Grid officers may change units inside their grids only. Fields from a ledger are set again by its next import.
    """
    fields = change.model_dump(exclude_unset=True)
    version = fields.pop("version", None)
    expected = expected_version(if_match, unit_id, "unit")
    row = record_edits.update_record(conn, "units", unit_id, fields, expected if expected is not None else version)
    conn.commit()
    response.headers["ETag"] = etag(unit_id, row["version"])
    return row
