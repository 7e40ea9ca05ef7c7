"""Parties: find the one to hold a zone, record a new one, or correct one (versioned)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from ...db.sql import sql
from ...zones.kinds import PartyKind
from ..dependencies import Conn
from ..record_routes import add_record_routes
from ..security import CurrentUser, redact, writer_for

router = APIRouter(tags=["parties"])


class PartyIn(BaseModel):
    """A responsible party to record."""

    kind: PartyKind
    name: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")


class PartyChange(BaseModel):
    """Fields of a party to change (only those sent; null clears contact or phone)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")
    version: int | None = Field(default=None, ge=1, description="the version you edited (instead of If-Match)")


PartyCreator = Annotated[Connection, Depends(writer_for("parties.create"))]
PartyWriter = Annotated[Connection, Depends(writer_for(fields_of="parties"))]


@router.get("/parties", summary="Search responsible parties by name")
def list_parties(conn: Conn, principal: CurrentUser, q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
                 kind: PartyKind | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    """Parties whose name contains q (case-insensitive), of one kind if given, by name."""
    escaped = q.replace("%", r"\%").replace("_", r"\_") if q else None
    rows = conn.execute(sql("parties_search"), {"q": escaped, "k": kind, "n": limit}).mappings().all()
    return redact([dict(r) for r in rows], principal)


@router.post("/parties", status_code=201, summary="Record a responsible party")
def create_party(conn: PartyCreator, party: PartyIn) -> dict:
    """A new party (its ref is generated: api:<hex>)."""
    row = conn.execute(sql("party_insert"), party.model_dump() | {"ref": f"api:{uuid.uuid4().hex[:12]}",
                                                                "name": party.name.strip()}).mappings().one()
    conn.commit()
    return dict(row)


add_record_routes(router, "parties", "party", PartyChange, PartyWriter,
                  summary="Correct a party's name, contact or phone", required=("name",))
