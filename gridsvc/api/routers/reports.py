"""随手拍 over HTTP: the public report page (/report), POST /reports, the duplicates suggested while reporting, the
reporter's status (GET /reports/{code} as JSON, /r/{code} as a page) and its photos; staff set the reward and the
public-screen flag (PATCH /reports/{code}). The rules are in gridsvc/ops/citizens/reports.py.

Anonymous callers may report: their requests take from the anonymous buckets like every public read, and reports
are counted per client address in the database (GRIDSVC_REPORT_PER_HOUR). The body is bounded by
GRIDSVC_REPORT_MAX_BODY_BYTES (gridsvc/api/limits.py), the photos by count and pixels (settings).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...errors import InputError, NotFoundError
from ...files.uploads import MAX_BYTES
from ...geo.crs import ClientCrs
from ...ops.citizens import reports as core
from ...versions import ANY_VERSION
from ..dependencies import Conn
from ..report_page import HEADERS, render_not_found, render_status
from ..security import CurrentUser, writer_for
from ..versions import IfMatch
from .case_page import PHOTO_HEADERS
from .field import CSP as FIELD_CSP
from .uploads import upload_dir

router = APIRouter(tags=["reports"])
PAGE = FsPath(__file__).resolve().parent.parent.parent / "static" / "report" / "index.html"
Code = Annotated[str, Path(min_length=1, max_length=20, description="the tracking code (10 characters)")]
Sha256 = Annotated[str, Path(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
ManageWriter = Annotated[Connection, Depends(writer_for("reports.manage"))]
PHONE = r"^[0-9+\-() ]*$"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@router.get("/report", include_in_schema=False)
def report_page() -> FileResponse:
    """The public report page (its script and style come from /static/report)."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "Content-Security-Policy": FIELD_CSP,
                                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@router.post("/reports", status_code=201, summary="Report a problem with photos (随手拍; anonymous allowed)",
             responses={409: {"description": "the same photo was reported already (names the report and case), or "
                                             "the case to follow is closed"},
                        413: {"description": "too large: body, photos or pixels"},
                        415: {"description": "not a photo"}, 429: {"description": "too many reports"}})
def file_report(request: Request, conn: Conn, principal: CurrentUser, response: Response,
                photo: Annotated[list[UploadFile] | None, File(max_length=20, description="one or more photos (JPEG, PNG, WebP); "
                                                                           "EXIF/GPS read, then removed")] = None,
                lng: Annotated[float | None, Form(ge=-180, le=180, description="longitude; absent: a photo's "
                                                                               "GPS")] = None,
                lat: Annotated[float | None, Form(ge=-90, le=90, description="latitude")] = None,
                crs: Annotated[ClientCrs, Form(description="wgs84 (GPS), gcj02 (高德/腾讯/微信) or bd09 (百度)")]
                = "wgs84",
                category: Annotated[str | None, Form(max_length=20, description="a category code of GET "
                                                                                "/cases/categories")] = None,
                description: Annotated[str | None, Form(max_length=2000)] = None,
                phone: Annotated[str | None, Form(max_length=40, pattern=PHONE, description="optional; never "
                                                                                          "shown publicly")] = None,
                nickname: Annotated[str | None, Form(max_length=40, description="optional")] = None,
                follow: Annotated[str | None, Form(max_length=20, description="a case code to follow instead of "
                                                                              "filing a new case")] = None) -> dict:
    """A new case in 受理 (source citizen, routed by the place) or, with `follow`, a follower of an open case; 201
    with the tracking code and the status URLs."""
    photos = [p.file.read(MAX_BYTES["photo"] + 1) for p in (photo or [])]
    out = core.file_report(conn, photos=photos, filenames=[p.filename for p in (photo or [])], lng=lng, lat=lat,
                           crs=crs, category=category, description=description, phone=phone or None,
                           nickname=(nickname or "").strip() or None, follow=follow or None,
                           client=request.client.host if request.client else None, principal=principal,
                           upload_dir=upload_dir(request, conn))
    conn.commit()
    response.headers["Location"] = out["status_url"]
    response.headers["Cache-Control"] = "no-store"
    return out


@router.get("/reports/suggestions", summary="Open cases of the category nearby: possible duplicates of a report")
def suggestions(conn: Conn, principal: CurrentUser, response: Response,
                lng: Annotated[float, Query(ge=-180, le=180)], lat: Annotated[float, Query(ge=-90, le=90)],
                category: Annotated[str, Query(max_length=20)], crs: ClientCrs = "wgs84") -> dict:
    """Within GRIDSVC_REPORT_RADIUS_PUBLIC_M (50 m; staff GRIDSVC_REPORT_RADIUS_STAFF_M, 250 m), reported in the last
    GRIDSVC_REPORT_SUGGEST_DAYS (30), nearest then newest, at most GRIDSVC_REPORT_SUGGEST_MAX (5). The public gets
    no descriptions, names or phones."""
    response.headers["Cache-Control"] = "no-store"
    return core.suggestions(conn, lng=lng, lat=lat, category=category, crs=crs, principal=principal)


@router.get("/reports/{code}", summary="A report's status: state, progress with dates, category; nothing personal")
def report_status(conn: Conn, principal: CurrentUser, code: Code, response: Response) -> dict:
    """The status page's data (GET /r/{code} is the page)."""
    response.headers.update(NO_STORE)
    return core.status(conn, code)


@router.get("/reports/{code}/photos/{sha256}.jpg", response_class=Response, summary="A photo of the status page",
            responses={200: {"content": {"image/jpeg": {}}}})
def report_photo(request: Request, conn: Conn, principal: CurrentUser, code: Code, sha256: Sha256) -> Response:
    """The report's own photos, and the rectified one when it may be shown publicly; re-encoded, no EXIF/GPS."""
    return Response(core.photo(conn, code, sha256, upload_dir(request, conn)), media_type="image/jpeg",
                    headers=PHOTO_HEADERS)


@router.get("/r/{code}", response_class=HTMLResponse, summary="The reporter's status page (HTML)",
            responses={200: {"content": {"text/html": {}}}, 404: {"description": "no such code (HTML page)"}})
def status_page(conn: Conn, principal: CurrentUser, code: Code) -> HTMLResponse:
    """Mobile first, Chinese, no scripts, nothing from elsewhere."""
    try:
        view = core.status(conn, code)
    except NotFoundError:
        return HTMLResponse(render_not_found(), status_code=404, headers=HEADERS)
    return HTMLResponse(render_status(view), headers=HEADERS)


class ReportFlags(BaseModel):
    """What staff set on a report: the reward (奖励) and whether it may be shown on public screens."""

    model_config = ConfigDict(extra="forbid")
    reward_amount: float | None = Field(default=None, ge=0, le=100_000, description="yuan (to the fen); null "
                                                                                   "clears it")
    reward_paid: bool | None = None
    public_screen: bool | None = None
    version: int | None = Field(default=None, ge=1, description="the version you saw (or If-Match)")


def _expected(if_match: str | None, code: str, version: int | None):
    if if_match is None:
        return version
    if if_match.strip() == "*":
        return ANY_VERSION
    m = re.fullmatch(r'\s*(W/)?"([A-Z2-7]{10})-(\d+)"\s*', if_match)
    if not m or m.group(2) != core.normal_code(code):
        raise InputError(f'If-Match must be the ETag of report {code}, like "{code}-1"', where="If-Match")
    return if_match.strip() if m.group(1) else int(m.group(3))


@router.patch("/reports/{code}", summary="Set a report's reward and public-screen flag (staff)")
def set_flags(conn: ManageWriter, principal: CurrentUser, code: Code, body: ReportFlags, response: Response,
              if_match: IfMatch = None) -> dict:
    """Versioned (428 without If-Match or version, 412 when stale); a reward only for an accepted report (its case
    立案 or later, not void: 409)."""
    fields = body.model_fields_set
    result = core.update_flags(
        conn, code, principal=principal, expected_version=_expected(if_match, code, body.version),
        reward_amount=(None if body.reward_amount is None else Decimal(f"{body.reward_amount:.2f}"))
        if "reward_amount" in fields else ...,
        reward_paid=body.reward_paid, public_screen=body.public_screen)
    conn.commit()
    response.headers["ETag"] = f'"{result["code"]}-{result["version"]}"'
    return result
