"""Ratings earned from records over HTTP: a period's 红/黄/黑 boards, overriding one with a reason, a unit's credit
ledger and stars, its 责任牌 and 责任书, board coverage per street and grid.

Permission before content: the role (roles.toml: ratings.read, ratings.override, credit.write, boards.write), then a
grid officer's scope (the unit's place, read from the path before FastAPI validates the body), then the content.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...ops.ratings import records as core
from ...people import records as record_edits
from ..dependencies import Conn
from ..security import CurrentUser, require, writer_for
from ..versions import IfMatch, expected_version

router = APIRouter(tags=["ratings"])
Reader = Annotated[object, Depends(require("ratings.read"))]
OverrideWriter = Annotated[Connection, Depends(writer_for("ratings.override"))]
CreditWriter = Annotated[Connection, Depends(writer_for("credit.write"))]
BoardWriter = Annotated[Connection, Depends(writer_for("boards.write"))]
PERIOD = r"^\d{4}-(\d{2}|[Ww]\d{2})$"
Board = Literal["red", "yellow", "black", "none"]
Sha = Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]


def unit_scope(request: Request, conn: Conn, principal: CurrentUser) -> None:
    """Writes on /ratings/{unit_id}/… and /units/{unit_id}/…: a grid officer only inside their grids."""
    raw = str(request.path_params.get("unit_id", ""))
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        record_edits.check_unit_scope(conn, int(raw), principal=principal)


UnitScope = Annotated[None, Depends(unit_scope)]


class Override(BaseModel):
    """A hand override of one period's board."""

    model_config = ConfigDict(extra="forbid")
    period: str = Field(max_length=10, pattern=PERIOD, description="2026-11 (month) or 2026-W47 (ISO week)")
    board: Board | None = Field(description="red, yellow, black, none (on no board); null clears the override")
    reason: str | None = Field(default=None, max_length=core.MAX_REASON, description="needed to set an override")
    version: int | None = Field(default=None, ge=1, description="the rating's version you saw (or If-Match)")


class CreditEntry(BaseModel):
    """A manual credit entry."""

    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=-1000, le=1000, description="points, + or −, not 0")
    reason: str = Field(min_length=1, max_length=core.MAX_REASON)
    at: str | None = Field(default=None, max_length=40, description="when (default now)")


class BoardStatus(BaseModel):
    """A 责任牌 status seen on a walk."""

    model_config = ConfigDict(extra="forbid")
    status: Literal[core.BOARD_STATES] = Field(description="hung, missing, damaged, replaced")  # type: ignore[valid-type]
    at: str | None = Field(default=None, max_length=40, description="when it was seen (default now)")
    note: str | None = Field(default=None, max_length=500)
    photo: Sha | None = Field(default=None, description="sha256 of a POST /uploads photo")


class Pledge(BaseModel):
    """A signed 责任书."""

    model_config = ConfigDict(extra="forbid")
    signed_on: str = Field(max_length=10, description="the date it was signed, 2026-11-02")
    signatory: str = Field(min_length=1, max_length=100)
    scan: Sha | None = Field(default=None, description="sha256 of the scan (POST /uploads)")


@router.get("/ratings", summary="A period's 红/黄/黑 boards per unit, with the metrics and conditions behind them")
def list_ratings(conn: Conn, who: Reader,
                 period: Annotated[str, Query(max_length=10, pattern=PERIOD, description="2026-11 or 2026-W47")],
                 grid: Annotated[str | None, Query(max_length=15, pattern=r"^\d{12}(\d{3})?$",
                                                   description="a grid (15 digits) or community (12)")] = None,
                 board: Annotated[Board | None, Query(description="the effective board")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict:
    """Computed by `gridsvc ratings compute --period …`; each rating names its board, the conditions that put it
    there (ratings.toml), the metrics, and any hand override (board, reason, who, when)."""
    return core.list_ratings(conn, period, grid=grid, board=board, limit=limit, offset=offset)


@router.post("/ratings/{unit_id:int}/override", summary="Override a unit's board for a period (needs a reason)")
def override_rating(conn: OverrideWriter, scoped: UnitScope, principal: CurrentUser, unit_id: int, body: Override,
                    if_match: IfMatch = None) -> dict:
    """Audited; kept when the period is computed again. If-Match (or version) is checked when sent (412 if the
    rating changed meanwhile). board null clears the override."""
    expected = expected_version(if_match, unit_id, "rating") if if_match is not None else body.version
    out = core.override(conn, unit_id, body.period, body.board, body.reason, actor=principal.name,
                        expected_version=expected)
    conn.commit()
    return out


@router.get("/units/{unit_id:int}/credit", summary="A unit's credit ledger, balance and stars (星级)")
def unit_credit(conn: Conn, who: Reader, unit_id: int) -> dict:
    """Every entry (amount, reason, the inspection or case it came from, actor, date); the balance is their sum."""
    return core.credit(conn, unit_id)


@router.post("/units/{unit_id:int}/credit", status_code=201, summary="A manual credit entry (needs a reason)")
def add_credit(conn: CreditWriter, scoped: UnitScope, principal: CurrentUser, unit_id: int,
               body: CreditEntry) -> dict:
    """Audited. Answers the ledger."""
    out = core.add_credit(conn, unit_id, body.amount, body.reason, actor=principal.name, at=body.at)
    conn.commit()
    return out


@router.get("/units/{unit_id:int}/board", summary="A unit's 责任牌 status and history, and its 责任书")
def unit_board(conn: Conn, who: Reader, unit_id: int) -> dict:
    return core.boards(conn, unit_id)


@router.post("/units/{unit_id:int}/board", status_code=201, summary="Record a 责任牌 status")
def record_board(conn: BoardWriter, scoped: UnitScope, principal: CurrentUser, unit_id: int,
                 body: BoardStatus) -> dict:
    """hung, missing, damaged or replaced, with the time seen; missing or damaged costs credit points."""
    out = core.record_board(conn, unit_id, body.status, actor=principal.name, at=body.at, note=body.note,
                            photo=body.photo)
    conn.commit()
    return out


@router.post("/units/{unit_id:int}/pledge", status_code=201, summary="Record a signed 责任书")
def record_pledge(conn: BoardWriter, scoped: UnitScope, principal: CurrentUser, unit_id: int, body: Pledge) -> dict:
    out = core.record_pledge(conn, unit_id, signed_on=body.signed_on, signatory=body.signatory, scan=body.scan,
                             actor=principal.name)
    conn.commit()
    return out


@router.get("/boards/coverage", summary="责任牌 coverage: boards hung per shops, per street or grid")
def board_coverage(conn: Conn, who: Reader,
                   by: Annotated[Literal[core.COVERAGE_BY], Query()] = "street") -> dict:  # type: ignore[valid-type]
    return core.coverage(conn, by)
