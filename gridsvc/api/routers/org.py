"""The organisation over HTTP: street steward teams (街长/路长 teams) and the named 楼院长 of compounds.

Permission first (roles.toml: org.edit for teams, compounds.head for 楼院长), then the content. Members' and
楼院长's names and phones are personal data: masked for roles without personal.read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...people import org as core
from ..dependencies import Conn
from ..security import CurrentUser, redact, writer_for

router = APIRouter(tags=["organisation"])
TeamWriter = Annotated[Connection, Depends(writer_for("org.edit"))]
HeadWriter = Annotated[Connection, Depends(writer_for("compounds.head"))]
Phone = Annotated[str | None, Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")]


class TeamMember(BaseModel):
    """A member of a steward team: name, phone, department (code or Chinese name, 街道办 = subdistrict)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    phone: Phone = None
    department: str = Field(min_length=1, max_length=40, description="a departments.toml code or its Chinese name")
    role: Literal["leader", "member"] = "member"


class NewTeam(BaseModel):
    """A steward team (街长/路长 team) for a street or a segment of it, with exactly one leader."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="e.g. 中山路街长队")
    street: str = Field(min_length=1, max_length=200, description="the street's exact name or id")
    segment: str | None = Field(default=None, max_length=200, description="e.g. 汉中路—新街口")
    note: str | None = Field(default=None, max_length=1000)
    members: list[TeamMember] = Field(min_length=1, max_length=50)


class CompoundHead(BaseModel):
    """The 楼院长 of a compound without a property manager."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    phone: Phone = None
    since: str | None = Field(default=None, max_length=10, description="the date they started (default today)")


@router.get("/org/teams", summary="Street steward teams (街长/路长) with their members")
def teams(conn: Conn, principal: CurrentUser,
          street: Annotated[str | None, Query(max_length=200, description="a street's name or id")] = None,
          limit: Annotated[int, Query(ge=1, le=500)] = 200,
          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict:
    """Each team with its street (and segment) and members, leader first, each with their department; names and
    phones masked for roles without personal.read."""
    found = core.list_teams(conn, street, limit, offset)
    return {"count": len(found), "teams": redact(found, principal)}


@router.post("/org/teams", status_code=201, summary="Create a steward team (admins)")
def create_team(conn: TeamWriter, principal: CurrentUser, body: NewTeam) -> dict:
    """A team for a street (exact name or id; 404 when there is none), exactly one leader (422 otherwise), each
    member from a department (422 naming the departments when unknown); 409 when the name is taken."""
    team = core.add_team(conn, body.name, body.street,
                         [core.Member(m.name, m.phone, m.department, m.role) for m in body.members],
                         segment=body.segment, note=body.note, by=principal.name)
    conn.commit()
    return redact(core.list_teams(conn, team_id=team)[0], principal)


@router.get("/compounds/{compound_id:int}/head", summary="The 楼院长 of a compound, every appointment")
def compound_head(conn: Conn, principal: CurrentUser, compound_id: int) -> dict:
    """Appointments newest first (the current one has until null); names and phones masked for roles without
    personal.read."""
    return {"compound_id": compound_id, "heads": redact(core.compound_heads(conn, compound_id), principal)}


@router.put("/compounds/{compound_id:int}/head", summary="Name the 楼院长 of a compound without a property manager")
def set_compound_head(conn: HeadWriter, principal: CurrentUser, compound_id: int, body: CompoundHead) -> dict:
    """The person becomes the responsible party of the compound's zones from now (new zone versions; the earlier
    holder stays in the earlier ones, so earlier cases and lookups name it). 404 without the compound, 409 when it
    has a property manager."""
    head = core.set_compound_head(conn, compound_id, body.name, body.phone, body.since, by=principal.name)
    conn.commit()
    return redact(head, principal)
