"""Cases (问题/案卷) over HTTP: the classification, reporting a case, reading and listing cases, acting on one.

Permission before content: the role (roles.toml: cases.report, cases.act), then the scope (a grid officer's
grids, a party's own cases; dependencies below, read before FastAPI validates the body), then the content, then
conflicts (If-Match: 428/412; the flow: 409 naming the case's state and the actions allowed from it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...geo.crs import ClientCrs
from ...ops.cases import core
from ...ops.rules.categories import load_categories
from ...ops.rules.flow import load_flow
from ...ops.rules.limits import load_time_limits
from ..dependencies import Conn
from ..scope import Body
from ..security import CurrentUser, redact, writer_for
from ..versions import IfMatch, etag, expected_version

router = APIRouter(tags=["cases"])
ReportWriter = Annotated[Connection, Depends(writer_for("cases.report"))]
ActWriter = Annotated[Connection, Depends(writer_for("cases.act"))]


def report_scope(conn: Conn, principal: CurrentUser, body: Body) -> None:
    """POST /cases: a grid officer reports only inside their grids (the point sent)."""
    if isinstance(body, dict):
        core.check_report_scope(conn, body.get("lng"), body.get("lat"), body.get("crs"), principal)


def case_scope(request: Request, conn: Conn, principal: CurrentUser) -> None:
    """POST /cases/{case_id}/actions: the case's grid (grid officer) or party (party)."""
    raw = str(request.path_params.get("case_id", ""))
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        core.check_case_scope(conn, int(raw), principal)


ReportScope = Annotated[None, Depends(report_scope)]
CaseScope = Annotated[None, Depends(case_scope)]


class NewCase(BaseModel):
    """A problem reported at a point."""

    model_config = ConfigDict(extra="forbid")
    lng: float = Field(description="longitude of the problem")
    lat: float = Field(description="latitude of the problem")
    crs: ClientCrs = Field(default="wgs84", description="wgs84 (GPS), gcj02 (高德/腾讯) or bd09 (百度)")
    category: str = Field(max_length=20, description="a category code of GET /cases/categories (e.g. SJ0102)")
    description: str = Field(min_length=1, max_length=2000)
    source: Literal[core.SOURCES] = Field(description="inspection, grid_officer, steward, leader, citizen, "  # type: ignore[valid-type]
                                                      "hotline or dispatcher")
    urgency: Literal["urgent", "normal"] | None = Field(default=None, description="default: the category's")
    problem: str | None = Field(default=None, max_length=40, description="a 部件 problem kind (missing, broken…)")
    reporter_name: str | None = Field(default=None, max_length=100)
    reporter_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")
    external_ids: dict[str, Annotated[str, Field(max_length=100)]] = Field(
        default_factory=dict, max_length=10, description='ids elsewhere, e.g. {"hotline": "12345-2026-000123"}')
    reported_at: str | None = Field(default=None, max_length=40, description="when it was reported (default now; "
                                                                           "e.g. a hotline call taken earlier)")
    photos: list[Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]] = Field(default_factory=list, max_length=20,
                                                                           description="sha256 of POST /uploads photos")


class CaseAction(BaseModel):
    """An action of the case flow (GET /cases/{id} lists those the caller may take)."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(max_length=40, description="register, dispatch, rectify, verify_pass, verify_fail, close, "
                                                   "request_extension, grant_extension, refuse_extension, defer, "
                                                   "resume, invalidate, mark_duplicate")
    note: str | None = Field(default=None, max_length=2000)
    photos: list[Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]] = Field(default_factory=list, max_length=20)
    duplicate_of: int | None = Field(default=None, ge=1, description="mark_duplicate: the case this one repeats")
    new_deadline: str | None = Field(default=None, max_length=40, description="grant_extension: ISO time")
    version: int | None = Field(default=None, ge=1, description="the version you saw (instead of If-Match)")
    data: dict[str, Any] = Field(default_factory=dict, max_length=20)


def _answer(conn, case_id: int, principal, response: Response) -> dict:
    case = core.get_case(conn, case_id, principal)
    response.headers["ETag"] = etag(case_id, case["version"])
    return redact(case, principal)


@router.get("/cases/categories", summary="The case classification: 事件/部件, major and minor classes")
def categories(brief: Annotated[bool, Query(description="only codes and Chinese labels (the field page: a few KB "
                                                        "instead of ~40)")] = False) -> dict:
    """Every category with its kind (事件 event / 部件 component), department, default urgency and the time
    limits of its four stages (立案, 派遣, 处置, 核查) per urgency."""
    cats = load_categories()
    flow = load_flow()
    if brief:
        return {"categories": [{k: c.as_dict()[k] for k in ("code", "zh", "kind_zh", "major_zh")}
                               for c in cats.by_code.values()],
                "states": {k: {"zh": v.zh} for k, v in flow.states.items()},
                "actions": {k: {"zh": v.zh, "requires": list(v.requires)} for k, v in flow.actions.items()}}
    limits = load_time_limits()
    out = []
    for c in cats.by_code.values():
        d = c.as_dict()
        d["limits"] = {u: {s: str(lim.get(s)) for s in ("register", "dispatch", "handle", "verify")}
                       for u in ("urgent", "normal") if (lim := limits.table.get((c.code, u)))}
        out.append(d)
    return {"categories": out,
            "states": {k: v.model_dump() for k, v in flow.states.items()},
            "actions": {k: v.model_dump(by_alias=True) for k, v in flow.actions.items()}}


@router.post("/cases", status_code=201, summary="Report a case at a point")
def report_case(conn: ReportWriter, scoped: ReportScope, principal: CurrentUser, body: NewCase,
                response: Response) -> dict:
    """A new case in state 受理, routed by the place and time of the report (事件先属地后属主 / 部件先属主后属地):
    its zone, party, grid officer and department, the rule applied, and its deadlines."""
    case_id = core.open_case(conn, lng=body.lng, lat=body.lat, crs=body.crs, category=body.category,
                             description=body.description, source=body.source, urgency=body.urgency,
                             problem=body.problem, reporter_name=body.reporter_name,
                             reporter_phone=body.reporter_phone, external_ids=body.external_ids,
                             reported_at=body.reported_at, photos=body.photos, actor=principal.name,
                             role=principal.role)
    conn.commit()
    response.headers["Location"] = f"/cases/{case_id}"
    return _answer(conn, case_id, principal, response)


@router.get("/cases/{case_id:int}", summary="One case with its events and the actions you may take")
def get_case(conn: Conn, principal: CurrentUser, case_id: int, response: Response) -> dict:
    """The case, its events (who, when, what, notes, photos), 督办单 and allowed actions; ETag names its version.
    Reporter and contact details are masked for those who may not see them."""
    return _answer(conn, case_id, principal, response)


@router.post("/cases/{case_id:int}/actions", summary="Act on a case (立案, 派遣, 处置, 核查, 结案, 延期, 挂账, 作废)")
def act_on_case(conn: ActWriter, scoped: CaseScope, principal: CurrentUser, case_id: int, body: CaseAction,
                response: Response, if_match: IfMatch = None) -> dict:
    """One transition of the flow, in one transaction, audited. Needs If-Match (or version): 428 without, 412 when
    stale; 409 when the case's state does not allow the action (the answer names the state and the actions
    allowed from it for your role)."""
    expected = expected_version(if_match, case_id, "case") if if_match is not None else body.version
    result = core.act(conn, case_id, body.action, principal=principal, expected_version=expected, note=body.note,
                      photos=body.photos, duplicate_of=body.duplicate_of, new_deadline=body.new_deadline,
                      data=body.data)
    conn.commit()
    return _answer(conn, case_id, principal, response) | {"transition": result}


@router.get("/cases", summary="Cases by grid, state, overdue, party, category and date")
def list_cases(conn: Conn, principal: CurrentUser,
               grid: Annotated[str | None, Query(max_length=20, pattern=r"^\d{12}(\d{3})?$",
                                                 description="a grid (15 digits) or community (12 digits) code")] = None,
               state: Annotated[list[Annotated[str, Field(max_length=30)]] | None,
                                Query(max_length=20, description="repeatable")] = None,
               overdue: Annotated[bool | None, Query(description="past the running stage's deadline now")] = None,
               party: Annotated[int | None, Query(ge=1)] = None,
               category: Annotated[str | None, Query(max_length=20)] = None,
               since: Annotated[str | None, Query(max_length=40, description="reported from (a date is a Beijing "
                                                                             "day)")] = None,
               until: Annotated[str | None, Query(max_length=40, description="reported until (a date includes "
                                                                             "that day)")] = None,
               open: Annotated[bool, Query(description="only cases not closed or void")] = False,  # noqa: A002
               mine: Annotated[bool, Query(description="a grid officer's grids, a party's own cases")] = False,
               order: Annotated[Literal["reported", "deadline"], Query()] = "reported",
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict:
    """Paged; "my grid's open cases by deadline" for a grid officer is mine=true&open=true&order=deadline."""
    return redact(core.list_cases(conn, principal=principal, grid=grid, states=state, overdue=overdue, party=party,
                                  category=category, since=since, until=until, open_only=open, mine=mine,
                                  order=order, limit=limit, offset=offset), principal)
