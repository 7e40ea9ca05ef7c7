"""The 12345 hotline over HTTP (gridsvc/ops/hotline/orders.py): import an uploaded work-order export, list and place the
held orders, download the replies. Permission first (roles.toml: hotline.import, hotline.read); callers' names and
phones are masked for roles without personal.read, like every contact."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import NotFoundError
from ...files import uploads
from ...geo.crs import ClientCrs
from ...ops.hotline import orders as core
from ...people.users import Principal
from ...timekeeping import MAX_TEXT
from ..dependencies import Conn, Sha256
from ..security import CurrentUser, redact, require, writer_for
from .uploads import upload_dir

router = APIRouter(tags=["hotline"])
Importer = Annotated[Connection, Depends(writer_for("hotline.import"))]
Reader = Annotated[Principal, Depends(require("hotline.read"))]
Number = Annotated[str, Path(min_length=1, max_length=64, description="the work order's 工单编号")]


class NewImport(BaseModel):
    """A 12345 export uploaded first (POST /uploads, kind ledger), named by its SHA-256."""

    model_config = ConfigDict(extra="forbid")
    sha256: Sha256
    crs: ClientCrs | None = Field(default=None, description="when the file has no 坐标系 column "
                                                           "(default: hotline.toml's default_crs)")


class Placing(BaseModel):
    """Where staff place a held work order."""

    model_config = ConfigDict(extra="forbid")
    lng: float
    lat: float
    crs: ClientCrs = "wgs84"


@router.post("/hotline/imports", status_code=201, summary="Import an uploaded 12345 work-order export")
def import_export(request: Request, conn: Importer, principal: CurrentUser, body: NewImport) -> dict:
    """All or nothing (422 naming every bad row by row number and header); each work order becomes a case or, when
    it cannot be placed, is held and listed under `unplaced`. Importing again updates, never duplicates."""
    row = conn.execute(sql("upload_by_sha"), {"sha": body.sha256}).mappings().first()
    if row is None or row["kind"] != "ledger":
        raise NotFoundError(f"no uploaded spreadsheet with SHA-256 {body.sha256}: POST /uploads (kind ledger) first")
    stored = uploads.stored_path(upload_dir(request, conn), body.sha256)
    if not stored.is_file():
        raise NotFoundError(f"the file of upload {body.sha256} is missing from the store")
    ext = "xlsx" if row["content_type"] == uploads.XLSX else "csv"
    name = FsPath(row["filename"] or "").stem or body.sha256[:12]
    with tempfile.TemporaryDirectory() as tmp:
        path = FsPath(tmp) / f"{name}.{ext}"
        shutil.copyfile(stored, path)
        report = core.import_orders(conn, path, actor=principal.name, role=principal.role, crs=body.crs)
    conn.commit()
    return {"import_id": report.import_id, "file": report.source_file, **report.counts(),
            "opened": report.opened, "updated": report.updated, "recorded": report.recorded,
            "unplaced": report.unplaced, "notes": report.notes}


@router.get("/hotline/orders", summary="12345 work orders, newest first (or only those not placed)")
def orders(conn: Conn, principal: Reader,
           unplaced: Annotated[bool, Query(description="only the orders held without a case")] = False,
           limit: Annotated[int, Query(ge=1, le=500)] = 100,
           offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict:
    """Each order with its placement (method, confidence, what matched), the reason it is not placed, its case."""
    return redact(core.list_orders(conn, unplaced=unplaced, limit=limit, offset=offset), principal)


@router.post("/hotline/orders/{number}/place", status_code=201, summary="Place a held work order: its case opens")
def place(conn: Importer, principal: CurrentUser, number: Number, body: Placing) -> dict:
    """404 for no such order, 409 when it has a case already, 422 for a point outside the managed area."""
    case_id = core.place_order(conn, number, lng=body.lng, lat=body.lat, crs=body.crs, actor=principal.name,
                               role=principal.role)
    conn.commit()
    return redact(core.list_orders(conn, number=number)["orders"][0] | {"case_id": case_id}, principal)


@router.get("/hotline/replies.{fmt}", response_class=Response, summary="The replies for the hotline to take back",
            responses={200: {"content": {uploads.XLSX: {}, "text/csv": {}}}})
def replies(conn: Conn, principal: Reader, fmt: Literal["xlsx", "csv"],
            since: Annotated[str | None, Query(max_length=MAX_TEXT, description="orders changed since (Beijing)")]
            = None) -> Response:
    """工单编号, 办结情况, 办结时间 (Beijing time), 回复内容; formula-like text quoted."""
    rows = core.replies(conn, since)
    with tempfile.TemporaryDirectory() as tmp:
        path = core.write_replies(rows, FsPath(tmp) / f"replies.{fmt}")
        body = path.read_bytes()
    media = uploads.XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="hotline-replies.{fmt}"'})
