"""Parties: find the one to hold a zone, record a new one, or correct one (versioned)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, text

from ... import record_edits
from ..dependencies import Conn
from ..security import PARTY_EDITORS, CurrentUser, Writer, redact, writer_for
from ..versions import IfMatch, etag, expected_version

router = APIRouter(tags=["parties"])
PartyKind = Literal["unit", "property_manager", "building_head", "market_operator", "street_steward", "grid_officer"]


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


PartyWriter = Annotated[Connection, Depends(writer_for(*PARTY_EDITORS))]


@router.get("/parties", summary="Search responsible parties by name")
def list_parties(conn: Conn, principal: CurrentUser, q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
                 kind: PartyKind | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    """Parties whose name contains q (case-insensitive), of one kind if given, by name."""
    rows = conn.execute(text(
        "SELECT id, kind, name, contact, phone FROM parties "
        "WHERE (CAST(:q AS text) IS NULL OR name ILIKE '%' || CAST(:q AS text) || '%') "
        "AND (CAST(:k AS text) IS NULL OR kind = CAST(:k AS text)) ORDER BY name, id LIMIT :n"),
        {"q": q.replace("%", r"\%").replace("_", r"\_") if q else None, "k": kind, "n": limit}).mappings().all()
    return redact([dict(r) for r in rows], principal)


@router.post("/parties", status_code=201, summary="Record a responsible party")
def create_party(conn: Writer, party: PartyIn) -> dict:
    """A new party (its ref is generated: api:<hex>)."""
    row = conn.execute(text(
        "INSERT INTO parties (kind, ref, name, contact, phone) VALUES (:kind, :ref, :name, :contact, :phone) "
        "RETURNING id, kind, name, contact, phone"),
        party.model_dump() | {"ref": f"api:{uuid.uuid4().hex[:12]}", "name": party.name.strip()}).mappings().one()
    conn.commit()
    return dict(row)


@router.get("/parties/{party_id:int}", summary="One party (ETag names its version)")
def get_party(conn: Conn, principal: CurrentUser, party_id: int, response: Response) -> dict:
    """The party with its version."""
    row = record_edits.get_record(conn, "parties", party_id)
    response.headers["ETag"] = etag(party_id, row["version"])
    return redact(row, principal)


@router.patch("/parties/{party_id:int}", summary="Correct a party's name, contact or phone")
def update_party(conn: PartyWriter, party_id: int, change: PartyChange, response: Response,
                 if_match: IfMatch = None) -> dict:
    """Needs If-Match (or version): 428 without, 412 with the current version if it changed meanwhile."""
    fields = change.model_dump(exclude_unset=True)
    version = fields.pop("version", None)
    if fields.get("name") is None:
        fields.pop("name", None)
    expected = expected_version(if_match, party_id, "party")
    row = record_edits.update_record(conn, "parties", party_id, fields, expected if expected is not None else version)
    conn.commit()
    response.headers["ETag"] = etag(party_id, row["version"])
    return row
