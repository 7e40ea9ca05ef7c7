"""Units: one frontage unit, and correcting it (name, category, address, contacts), versioned.

A unit's 红黄黑牌 rating and credit points are earned from records (routers/ratings.py): a PATCH that sends them is
refused (422) naming the override and the manual credit entry that take a reason.

The units as a GeoJSON FeatureCollection (GET /units?bbox=) come from the layer factory in layers.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection

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
    version: int | None = Field(default=None, ge=1, description="the version you edited (instead of If-Match)")


    @model_validator(mode="before")
    @classmethod
    def _earned_not_typed(cls, data):
        if isinstance(data, dict) and {"rating", "credit_points"} & set(data):
            raise ValueError("rating and credit_points are earned from records: change a board with POST "
                             "/ratings/{unit_id}/override (period, board, reason), credit with POST "
                             "/units/{id}/credit (amount, reason)")
        return data


# Which role may change which field: the role table (gridsvc/people/roles.toml, [fields.units]); grid officers only
# inside their grids (scope, checked first). Fields from a ledger are set again by its next import.
UnitWriter = Annotated[Connection, Depends(writer_for(fields_of="units"))]
add_record_routes(router, "units", "unit", UnitChange, UnitWriter,
                  summary="Correct a unit (name, category, address, contact, phone)", scope=UnitScope)
