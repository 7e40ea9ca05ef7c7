"""GET /audit: the append-only log of every write, by record, by user and by time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ...people import audit
from ...people.users import Principal
from ...timekeeping import DATE_HELP, MAX_TEXT
from ..dependencies import Conn
from ..security import require

router = APIRouter(tags=["audit"])


@router.get("/audit", summary="Who changed which record when, before and after (admins and inspectors)")
def audit_log(conn: Conn, _: Annotated[Principal, Depends(require("audit.read"))],
              table: Annotated[str | None, Query(max_length=40, description="zones, parties, units, users, …")] = None,
              record: Annotated[str | None, Query(max_length=80, description="record id (with table)")] = None,
              actor: Annotated[str | None, Query(max_length=80, description="user name or cli:<login>")] = None,
              since: Annotated[str | None, Query(max_length=MAX_TEXT,
                                                 description=f"from this time: {DATE_HELP} (from its start)")] = None,
              until: Annotated[str | None, Query(max_length=MAX_TEXT,
                                                 description=f"before this time: {DATE_HELP} (that day included)")] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict:
    """Audit rows, newest first."""
    rows = audit.query(conn, table=table, record=record, actor=actor, since=since, until=until, limit=limit)
    return {"count": len(rows), "entries": rows}
