"""Inspections (巡查, 暗访) over HTTP: the checklists, recording an inspection (a failed item may open a case in the
same transaction), opening a case later from a failed item, reading and listing inspections.

Permission before content: the role (roles.toml: inspections.record, inspections.read, cases.report), then the
scope (a grid officer records and reads only inside their grids; dependencies below, read before FastAPI validates
the body), then the content (one 422 naming what and where), then conflicts (409).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...geo.crs import ClientCrs
from ...ops.inspections import core
from ...ops.rules.checklists import TARGET_KINDS, all_checklists, get_checklist
from ...people.users import Principal
from ...timekeeping import DATE_HELP, MAX_TEXT
from ..dependencies import Conn, Sha256
from ..scope import Body
from ..security import CurrentUser, redact, require, writer_for

router = APIRouter(tags=["inspections"])
RecordWriter = Annotated[Connection, Depends(writer_for("inspections.record"))]
CaseWriter = Annotated[Connection, Depends(writer_for("cases.report"))]
Reader = Annotated[Principal, Depends(require("inspections.read"))]


def record_scope(conn: Conn, principal: CurrentUser, body: Body) -> None:
    """POST /inspections: a grid officer records only inside their grids (the target's grid)."""
    core.check_record_scope(conn, body, principal)


def inspection_scope(request: Request, conn: Conn, principal: CurrentUser) -> None:
    """/inspections/{inspection_id}…: the inspection's grid (grid officer)."""
    raw = str(request.path_params.get("inspection_id", ""))
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        core.check_inspection_scope(conn, int(raw), principal)


RecordScope = Annotated[None, Depends(record_scope)]
InspectionScope = Annotated[None, Depends(inspection_scope)]


class ItemResult(BaseModel):
    """The result of one checklist item."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=60, description="the item's id in the checklist (GET /checklists/{id})")
    result: Literal["pass", "fail", "na"] = Field(description="pass 合格, fail 不合格, na 不适用")
    note: str | None = Field(default=None, max_length=2000)
    photos: list[Sha256] = Field(default_factory=list, max_length=20, description="sha256 of POST /uploads photos")
    open_case: bool = Field(default=False, description="a failed item: open a case (source inspection) at once, in "
                                                       "the same transaction")
    category: str | None = Field(default=None, max_length=20, description="the case's category (default: the "
                                                                          "item's, or its duty's)")
    description: str | None = Field(default=None, max_length=2000, description="the case's description (default: "
                                                                               "the item's text and note)")


class NewInspection(BaseModel):
    """An inspection of a target against a checklist: every item answered exactly once."""

    model_config = ConfigDict(extra="forbid")
    target_kind: Literal[TARGET_KINDS] = Field(  # type: ignore[valid-type]
        description="unit, zone, market, compound, street (by target_id) or point (the position)")
    target_id: int | None = Field(default=None, ge=1, lt=2**31, description="the unit, zone, market, compound or "
                                                                            "street id")
    checklist: str = Field(min_length=1, max_length=80, description="a checklist id of GET /checklists, e.g. "
                                                                    "policy:三包 or shirong-shiluan")
    results: list[ItemResult] = Field(min_length=1, max_length=200)
    inspector_kind: str = Field(max_length=30, description="grid_officer, steward, chengguan, volunteer, "
                                                           "compound_head, leader or third_party")
    inspector_name: str | None = Field(default=None, max_length=100, description="who walked, when not the account")
    unannounced: bool = Field(default=False, description="暗访")
    inspected_at: str | None = Field(default=None, max_length=MAX_TEXT, description=f"default now; {DATE_HELP}")
    lng: float | None = Field(default=None, description="where the inspector stood (required for a point)")
    lat: float | None = None
    crs: ClientCrs = Field(default="wgs84", description="wgs84 (GPS), gcj02 (高德/腾讯) or bd09 (百度)")
    note: str | None = Field(default=None, max_length=2000)
    source: Literal["api", "field"] = Field(default="api", description="field: sent from the field page (/field)")


class CaseFromItem(BaseModel):
    """A case opened later from a failed item of an inspection."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=60)
    category: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=2000)


@router.get("/checklists", summary="The inspection checklists: ids, names, targets")
def checklists(target: Annotated[Literal[TARGET_KINDS] | None,  # type: ignore[valid-type]
                                 Query(description="only those applying to this target kind")] = None) -> dict:
    """Every checklist an inspection may name: one generated per duty policy (policy:三包 …) and the data lists."""
    return {"checklists": [{"id": c.id, "zh": c.zh, "en": c.en, "targets": list(c.targets), "policy": c.policy,
                            "generated": c.generated, "items": len(c.items),
                            "scored": any(i.score is not None for i in c.items)}
                           for c in all_checklists() if target is None or target in c.targets]}


@router.get("/checklists/{checklist_id}", summary="One checklist with its sections and items")
def checklist(checklist_id: Annotated[str, Path(max_length=80)]) -> dict:
    """Sections and items (id, texts, score, case category, frequency)."""
    found = get_checklist(checklist_id).as_dict()
    found.pop("source", None)
    return found


@router.post("/inspections", status_code=201, summary="Record an inspection (failed items may open cases)")
def record(conn: RecordWriter, scoped: RecordScope, principal: CurrentUser, body: NewInspection,
           response: Response) -> dict:
    """The inspection with its derived score (score, max_score, percent, items_failed, passed), its routing (unit,
    zone, party, grid at the inspection time) and the cases opened from failed items marked open_case."""
    made = core.record_inspection(
        conn, target_kind=body.target_kind, target_id=body.target_id, checklist=body.checklist,
        results=[r.model_dump() for r in body.results], inspector=principal.name, role=principal.role,
        inspector_kind=body.inspector_kind, inspector_name=body.inspector_name, unannounced=body.unannounced,
        inspected_at=body.inspected_at, lng=body.lng, lat=body.lat, crs=body.crs, note=body.note, source=body.source)
    conn.commit()
    response.headers["Location"] = f"/inspections/{made['id']}"
    return redact(core.get_inspection(conn, made["id"], principal), principal)


@router.post("/inspections/{inspection_id:int}/cases", status_code=201,
             summary="Open a case from a failed item of an inspection")
def case_from_item(conn: CaseWriter, scoped: InspectionScope, principal: CurrentUser, inspection_id: int,
                   body: CaseFromItem) -> dict:
    """409 for an item that passed or is n.a., or that opened a case already."""
    case_id = core.open_case_for_item(conn, inspection_id, body.item, principal=principal, category=body.category,
                                      description=body.description)
    conn.commit()
    return {"case_id": case_id, "inspection": redact(core.get_inspection(conn, inspection_id, principal), principal)}


@router.get("/inspections/{inspection_id:int}", summary="One inspection with its results and cases")
def get_inspection(conn: Conn, principal: Reader, scoped: InspectionScope, inspection_id: int) -> dict:
    """Inspector names are masked for roles without personal.read."""
    return redact(core.get_inspection(conn, inspection_id, principal), principal)


@router.get("/inspections", summary="Inspections by unit, grid, inspector, date, passed and 暗访")
def list_inspections(
        conn: Conn, principal: Reader,
        unit: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
        grid: Annotated[str | None, Query(max_length=20, pattern=r"^\d{12}(\d{3})?$",
                                          description="a grid (15 digits) or community (12 digits) code")] = None,
        inspector: Annotated[str | None, Query(max_length=80, description="the recording account")] = None,
        party: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
        since: Annotated[str | None, Query(max_length=MAX_TEXT, description=f"from: {DATE_HELP}")] = None,
        until: Annotated[str | None, Query(max_length=MAX_TEXT, description="until (a date includes that day)")] = None,
        passed: Annotated[bool | None, Query()] = None,
        unannounced: Annotated[bool | None, Query(description="暗访 only (true) or announced only (false)")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict:
    """Newest first, paged. A grid officer sees their grids' inspections only."""
    return redact(core.list_inspections(conn, principal=principal, unit=unit, grid=grid, inspector=inspector,
                                        party=party, since=since, until=until, passed=passed,
                                        unannounced=unannounced, limit=limit, offset=offset), principal)
