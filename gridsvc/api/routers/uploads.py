"""POST /uploads (photos of 随手拍 reports, ledgers) and GET /uploads/{sha256}: files typed by content, stored by
SHA-256 under <data_dir>/uploads/<database id> (the checks are in gridsvc/files/uploads.py).

A photo is stored as sent (the evidence) but always served re-encoded from its pixels (gridsvc/files/photos.py):
no EXIF, GPS position, camera serial or thumbnail leaves gridsvc, not even to staff."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import Connection

from ...db.instance import upload_root
from ...db.sql import sql
from ...errors import NotFoundError
from ...files import photos
from ...files import uploads as core
from ...files.retention import lock_files
from ...people.users import Principal
from ...settings import get_settings
from ..dependencies import Conn
from ..security import require, writer_for

router = APIRouter(tags=["uploads"])
Sha256 = Annotated[str, Path(description="the file's SHA-256 (64 lowercase hex characters)", min_length=64,
                             max_length=64, pattern="^[0-9a-f]{64}$")]
UploadWriter = Annotated[Connection, Depends(writer_for("uploads.write"))]


def upload_dir(request: Request, conn: Connection) -> FsPath:
    """Where this database's uploads are stored: app.state.upload_dir if set (tests), else
    <data_dir>/uploads/<database id>, apart from every other database sharing the data folder."""
    configured = getattr(request.app.state, "upload_dir", None)
    return FsPath(configured).resolve() if configured else upload_root(get_settings().upload_dir, conn)


def _answer(row) -> dict:
    out = dict(row)
    out["created_at"] = out["created_at"].isoformat()
    out["url"] = f"/uploads/{out['sha256']}"
    return out


@router.post("/uploads", status_code=201, summary="Upload a photo (JPEG/PNG/WebP/HEIC) or a ledger (XLSX/CSV)",
             responses={200: {"description": "the same file was uploaded before: its record"},
                        413: {"description": "too large"}, 415: {"description": "not an accepted type"}})
def upload(request: Request, response: Response, conn: UploadWriter,
           file: Annotated[UploadFile, File(description="the file; its type is read from its content, not its name")],
           kind: Annotated[Literal["photo", "ledger"] | None, Form(description="refuse anything else (optional)")]
           = None) -> dict:
    """The file's SHA-256 (its name from now on), type, size and URL; 201 when new, 200 when already stored."""
    f = file.file
    sha256, size = core.sha256_of(f)
    found = core.check_upload(f, size, kind)
    if found.kind == "photo":  # it must decode, or it could never be served (only its pixels are)
        f.seek(0)
        photos.clean_jpeg(f.read())
        f.seek(0)
    lock_files(conn, [sha256])  # until commit: `gridsvc uploads prune` cannot unlink the file under the new row
    core.store(upload_dir(request, conn), f, sha256)
    row = conn.execute(sql("upload_insert"),
                       {"sha": sha256, "kind": found.kind, "ct": found.content_type, "size": size,
                        "name": core.clean_filename(file.filename), "by": conn.info["principal"].name}).mappings().first()
    if row is None:
        response.status_code = 200
        row = conn.execute(sql("upload_by_sha"), {"sha": sha256}).mappings().one()
    conn.commit()
    return _answer(row)


@lru_cache(maxsize=64)
def _clean_photo(path: str) -> bytes:
    """A stored photo re-encoded without its metadata (a file's content never changes under its SHA-256)."""
    return photos.clean_jpeg(FsPath(path).read_bytes())


@router.get("/uploads/{sha256}", response_class=Response, summary="An uploaded file: a photo without its metadata",
            responses={200: {"content": {"image/jpeg": {}, core.XLSX: {}, "text/csv": {}},
                             "description": "a ledger as uploaded; a photo re-encoded as JPEG from its pixels "
                                            "(no EXIF, GPS or thumbnail)"}})
def download(request: Request, sha256: Sha256,
             principal: Annotated[Principal, Depends(require("uploads.read"))], conn: Conn) -> Response:
    """A ledger as uploaded, with the content type found at upload (never sniffed by the browser); a photo as a
    JPEG of its pixels only, upright and at most photos.MAX_SIDE pixels a side."""
    row = conn.execute(sql("upload_by_sha"), {"sha": sha256}).mappings().first()
    if row is None:
        raise NotFoundError(f"no upload with SHA-256 {sha256}")
    path = core.stored_path(upload_dir(request, conn), sha256)
    if not path.is_file():
        raise NotFoundError(f"the file of upload {sha256} is missing from the store")
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
               "ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable"}
    if row["kind"] == "photo":
        return Response(_clean_photo(str(path)), media_type="image/jpeg",
                        headers=headers | {"Content-Disposition": f'inline; filename="{sha256}.jpg"'})
    name = f"{sha256}.{core.EXTENSIONS.get(row['content_type'], 'bin')}"
    return FileResponse(path, media_type=row["content_type"],
                        headers=headers | {"Content-Disposition": f'attachment; filename="{name}"'})
