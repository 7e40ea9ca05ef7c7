"""Zones: the current zones as GeoJSON, and the validation report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ... import validation
from ..dependencies import Conn

router = APIRouter(tags=["zones"])


@router.get("/zones/validate", summary="Overlaps, gaps, detached zones, units without a zone, coverage")
def validate_zones(conn: Conn, limit: Annotated[int, Query(ge=1, le=100_000)] = 500) -> dict:
    """B's validation report on the current zones (lists cut at `limit`)."""
    return validation.validate(conn, limit=limit)
