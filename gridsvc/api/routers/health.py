"""GET /health: is the service and its database up."""

from fastapi import APIRouter
from sqlalchemy import text

from ... import __version__
from ..dependencies import Conn

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database health")
def health(conn: Conn) -> dict:
    """Answers 200 with versions when PostGIS answers; 503 otherwise."""
    postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar()
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    cells = conn.execute(text("SELECT count(*) FROM grid_cells")).scalar()
    return {"status": "ok", "version": __version__, "postgis": postgis, "schema": revision, "cells": cells}
