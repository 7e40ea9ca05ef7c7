"""GET /health: is the service and its database up."""

from fastapi import APIRouter

from ... import __version__
from ...db.sql import sql
from ..dependencies import Conn

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database health")
def health(conn: Conn) -> dict:
    """Answers 200 with versions when PostGIS answers; 503 otherwise."""
    postgis = conn.execute(sql("postgis_version")).scalar()
    revision = conn.execute(sql("schema_revision")).scalar()
    cells = conn.execute(sql("grid_cell_count")).scalar()
    return {"status": "ok", "version": __version__, "postgis": postgis, "schema": revision, "cells": cells}
