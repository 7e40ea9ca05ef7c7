"""Units: one frontage unit, and correcting it (contacts, 红黄黑牌 rating, credit points), versioned.

The units as a GeoJSON FeatureCollection (GET /units?bbox=) come from the layer factory in layers.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from ...ops.ratings import RatingCode
from ..record_routes import add_record_routes
from ..scope import UnitScope
from ..security import writer_for

router = APIRouter(tags=["units"])


class UnitChange(BaseModel):
    """Fields of a unit to change (only those sent; null clears a field)."""

    name: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    contact: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")
    rating: RatingCode | None = Field(default=None, description="红牌 / 黄牌 / 黑牌")
    credit_points: int | None = Field(default=None, ge=-1000, le=1000)
    version: int | None = Field(default=None, ge=1, description="the version you edited (instead of If-Match)")



# Which role may change which field: the role table (gridsvc/people/roles.toml, [fields.units]); grid officers only
# inside their grids (scope, checked first). Fields from a ledger are set again by its next import.
UnitWriter = Annotated[Connection, Depends(writer_for(fields_of="units"))]
add_record_routes(router, "units", "unit", UnitChange, UnitWriter,
                  summary="Correct a unit or rate it (红黄黑牌, credit points)", scope=UnitScope)
