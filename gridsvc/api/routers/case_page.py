"""The party's case page behind a notice's QR code: `GET /c/{token}` (HTML), `GET /c/{token}.json`,
`POST /c/{token}/rectify` (multipart: note, photo, version) and the case's photos `GET /c/{token}/photos/{sha}.jpg`.

No login: the signed link is the credential, for one case until it expires (gridsvc/ops/cases/links.py). The link
is checked before anything else is read (a forged or foreign link: 404; an expired one: 410). Anonymous callers'
rate limit applies. A browser's form post (Accept: text/html) is answered with a redirect back to the page
(303), or the page with the error; other clients get JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ...errors import GridsvcError, LinkExpiredError, http_status
from ...ops.cases import party as party_cases
from ...ops.cases.links import MAX_TOKEN, verify_link
from ..case_page import HEADERS, render_case, render_gone
from ..dependencies import Conn
from ..security import charge_anonymous
from ..versions import IfMatch, etag, expected_version
from .uploads import upload_dir

router = APIRouter(tags=["case page"])
Token = Annotated[str, Path(max_length=MAX_TOKEN, description="the signed case link of a notice's QR code")]
Sha256 = Annotated[str, Path(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
                 "Content-Security-Policy": "default-src 'none'; sandbox", "Referrer-Policy": "no-referrer"}


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _gone(err: GridsvcError) -> HTMLResponse:
    status = 410 if isinstance(err, LinkExpiredError) else 404
    return HTMLResponse(render_gone(status), status_code=status, headers=HEADERS)


@router.get("/c/{token}.json", summary="The party's case through its case link (JSON)",
            responses={404: {"description": "not a valid link"}, 410: {"description": "the link has expired"}})
def case_json(request: Request, conn: Conn, token: Token, response: Response) -> dict:
    """Code, category, place, what is wrong, the deadline with the time left (or overdue), the state, the photos
    (as SHA-256; GET /c/{token}/photos/{sha}.jpg) and whether the party may report it rectified now."""
    charge_anonymous(request, 1.0)
    link = verify_link(conn, token)
    view = party_cases.party_view(conn, link)
    response.headers["ETag"] = etag(link.case_id, view["version"])
    response.headers["Cache-Control"] = "no-store"
    return view


@router.get("/c/{token}", response_class=HTMLResponse, summary="The party's case page (HTML, behind a notice's QR)",
            responses={200: {"content": {"text/html": {}}}, 404: {"description": "not a valid link (HTML page)"},
                       410: {"description": "the link has expired (HTML page)"}})
def case_page(request: Request, conn: Conn, token: Token) -> HTMLResponse:
    """The case, its photos and, while the party may act, the form to report it rectified with a note and a photo;
    after that, 已提交整改，待核查."""
    charge_anonymous(request, 1.0)
    try:
        link = verify_link(conn, token)
    except GridsvcError as e:
        return _gone(e)
    return HTMLResponse(render_case(party_cases.party_view(conn, link), token), headers=HEADERS)


@router.get("/c/{token}/photos/{sha256}.jpg", response_class=Response, summary="A photo of the link's case",
            responses={200: {"content": {"image/jpeg": {}}}})
def case_photo(request: Request, conn: Conn, token: Token, sha256: Sha256) -> Response:
    """A photo named by the case's events, re-encoded without EXIF or GPS; any other photo is 404."""
    charge_anonymous(request, 1.0)
    link = verify_link(conn, token)
    data = party_cases.photo_of_case(conn, link, sha256, upload_dir(request, conn))
    return Response(data, media_type="image/jpeg", headers=PHOTO_HEADERS)


@router.post("/c/{token}/rectify", summary="The party reports its case rectified (note and photo)",
             responses={303: {"description": "a browser's form: back to the page"},
                        404: {"description": "not a valid link"}, 410: {"description": "the link has expired"}})
def rectify(request: Request, conn: Conn, token: Token,
            note: Annotated[str | None, Form(max_length=2000, description="what was done (整改说明)")] = None,
            photo: Annotated[UploadFile | None, File(description="a photo after (JPEG, PNG or WebP); its EXIF and "
                                                                 "GPS are removed")] = None,
            version: Annotated[int | None, Form(ge=1, le=2**31, description="the case version shown (or If-Match)")]
            = None,
            if_match: IfMatch = None):
    """One transition (处置完成, 派遣/返工 → 处置) as the case's party, through ops.cases.act: audited, versioned,
    one transaction. JSON: the case as GET /c/{token}.json gives it, with the transition."""
    charge_anonymous(request, 1.0)
    html = _wants_html(request)
    try:
        link = verify_link(conn, token)
    except GridsvcError as e:
        if html:
            return _gone(e)
        raise
    try:
        expected = expected_version(if_match, link.case_id, "case") if if_match is not None else version
        data = photo.file.read(party_cases.MAX_PHOTO_BYTES + 1) if photo is not None else None
        result = party_cases.rectify_by_link(conn, link, note=note, photo=data,
                                             filename=photo.filename if photo is not None else None,
                                             expected_version=expected, upload_dir=upload_dir(request, conn))
        conn.commit()
    except GridsvcError as e:
        conn.rollback()
        if not html:
            raise
        view = party_cases.party_view(conn, link)
        return HTMLResponse(render_case(view, token, error=e.message), status_code=http_status(e), headers=HEADERS)
    if html:
        return RedirectResponse(f"/c/{token}#submitted", status_code=303, headers={"Cache-Control": "no-store"})
    view = party_cases.party_view(conn, link)
    return JSONResponse(view | {"transition": result}, headers={"ETag": etag(link.case_id, view["version"]),
                                                                "Cache-Control": "no-store"})
