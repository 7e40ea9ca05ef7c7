"""Open311 GeoReport v2 at /open311/v2/ (gridsvc/ops/citizens/open311.py): discovery, services, service definitions,
POST and GET requests, tokens; every resource as .xml and .json, errors in the spec's form.

Errors are raised as everywhere in gridsvc; Open311Errors (added by create_app, outside everything else) turns
each error answer under /open311/ (gridsvc's handlers, validation, the body limits, the rate limit, unknown
routes) into the spec's `<errors><error><code/><description/></error></errors>` or `[{"code", "description"}]`,
with the statuses of ops.citizens.open311.SPEC_STATUS: the one place this happens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...errors import AuthError
from ...ops.citizens import open311 as core
from ...people.users import principal_for_bearer
from ...settings import get_settings
from ..dependencies import Conn
from ..security import CurrentUser, bind_actor, charge_anonymous

PREFIX = "/open311/"
router = APIRouter(prefix="/open311/v2", tags=["open311"])
Format = Annotated[str, Path(pattern="^(json|xml)$", max_length=4, description="json or xml")]
Jurisdiction = Annotated[str | None, Query(max_length=200, description="optional; checked against "
                                                                       "GRIDSVC_OPEN311_JURISDICTION_ID when set")]
# The element of each item of a list, by the list's name (the spec's XML; JSON uses arrays: the Spark convention).
ITEMS = {"services": "service", "attributes": "attribute", "values": "value", "service_requests": "request",
         "errors": "error", "endpoints": "endpoint", "formats": "format"}


# ---- rendering ----

# Characters XML 1.0 cannot carry (C0 controls but tab, newline, return; surrogates; U+FFFE/FFFF): an error that
# echoes a hostile parameter must still be well-formed XML. They are replaced by U+FFFD.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    el = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        for v in value:
            _fill(el, ITEMS.get(name, "item"), v)
    else:
        el.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """The spec's XML: a root element, lists as repeated child elements, null as an empty element."""
    top = ET.Element(root)
    if isinstance(value, list):
        for v in value:
            _fill(top, ITEMS[root], v)
    else:
        for k, v in value.items():
            _fill(top, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def answer(fmt: str, root: str, value: Any, status: int = 200, headers: dict | None = None) -> Response:
    """The resource in the requested format (UTF-8, the spec's content types)."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False).encode()
        return Response(body, status, headers, media_type="application/json; charset=utf-8")
    return Response(to_xml(root, value), status, headers, media_type="text/xml; charset=utf-8")


def error_answer(fmt: str, status: int, description: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> Response:
    """An error in the spec's form; the code in the body is the HTTP status."""
    kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers
            if k.lower() in (b"retry-after", b"allow", b"etag", b"connection")}
    return answer(fmt, "errors", [{"code": status, "description": description}], status, kept)


class Open311Errors:
    """ASGI middleware: under /open311/, gridsvc's JSON error answers in the spec's form (JSON for a .json
    resource, XML otherwise, XML being the spec's required format)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        fmt = "json" if scope["path"].endswith(".json") else "xml"
        held: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers", ())).get(b"content-type", b"")
                if message["status"] >= 400 and ctype.startswith(b"application/json"):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                await self._rewrite(send, held, b"".join(chunks), fmt)
                return
            await send(message)

        await self.app(scope, receive, capture)

    @staticmethod
    async def _rewrite(send: Send, start: Message, body: bytes, fmt: str) -> None:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if not (isinstance(parsed, dict) and isinstance(parsed.get("detail"), str)):
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        status = core.SPEC_STATUS.get(start["status"], start["status"])
        response = error_answer(fmt, status, parsed["detail"], start.get("headers", ()))
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - a Response does not read
    return {"type": "http.disconnect"}


# ---- the resources ----

def _jurisdiction(jurisdiction_id: Jurisdiction = None) -> None:
    core.check_jurisdiction(jurisdiction_id)


Checked = Annotated[None, Depends(_jurisdiction)]


@router.get("/discovery.{format}", summary="Open311 Service Discovery")
def discovery(principal: CurrentUser, format: Format) -> Response:  # noqa: A002
    """The endpoint, its formats and where to get an api_key."""
    return answer(format, "discovery", core.discovery(get_settings().public_base_url))


@router.get("/services.{format}", summary="Open311 services: the case categories")
def services(principal: CurrentUser, checked: Checked, format: Format) -> Response:  # noqa: A002
    """Every minor class of the classification as a service (realtime; metadata = it has attributes)."""
    return answer(format, "services", core.services())


@router.get("/services/{service_code}.{format}", summary="Open311 service definition: the attributes")
def service_definition(principal: CurrentUser, checked: Checked, format: Format,  # noqa: A002
                       service_code: Annotated[str, Path(max_length=20)]) -> Response:
    """The attributes of a service (open311_attributes.toml); 404 for an unknown service code."""
    return answer(format, "service_definition", core.service_definition(service_code))


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The POST's form, every field with all its values (attribute[code][] repeats)."""
    form = await request.form()
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        out.setdefault(k, []).append(v if isinstance(v, str) else "")
    return out


FORM_FIELDS = {name: {"type": "string", "maxLength": n} for name, n in core.MAX_FIELD.items()}
FORM_DOC = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": FORM_FIELDS, "required": ["service_code"],
    "description": "plus attribute[code]=value (attribute[code][]=value for each value of a multivaluelist)"}}}}}


@router.post("/requests.{format}", summary="Open311: create a service request (a case)", openapi_extra=FORM_DOC)
def create_request(request: Request, conn: Conn, format: Format,  # noqa: A002
                   fields: Annotated[dict[str, list[str]], Depends(form_fields)]) -> Response:
    """Form-encoded; `api_key` is an API token (gridsvc user token; or Authorization: Bearer). Answers the case
    code as service_request_id at once (realtime). 403 without a valid api_key or for a role that may not report."""
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth[:7].lower() == "bearer " else (fields.get("api_key") or [""])[0].strip()
    try:
        if not key or len(key) > core.MAX_FIELD["api_key"]:
            raise AuthError("api_key was not provided: an API token of gridsvc (gridsvc user token <login>)")
        principal = principal_for_bearer(conn, key)
    except AuthError as e:
        charge_anonymous(request, 1.0)
        raise AuthError(f"invalid api_key: {e.message}") if key else e from None
    core.check_poster(principal)
    bind_actor(conn, principal, "api")
    result = core.post_request(conn, fields, principal)
    conn.commit()
    return answer(format, "service_requests", result, 201)


@router.get("/tokens/{token}.{format}", summary="Open311: the service_request_id of a token")
def token(conn: Conn, principal: CurrentUser, checked: Checked, format: Format,  # noqa: A002
          token: Annotated[str, Path(max_length=40)]) -> Response:
    """Services are realtime, so no token is issued: a case code answers itself, anything else is 404."""
    return answer(format, "service_requests", core.token(conn, token))


@router.get("/requests.{format}", summary="Open311: service requests (cases)")
def list_requests(conn: Conn, principal: CurrentUser, checked: Checked, format: Format,  # noqa: A002
                  service_request_id: Annotated[str | None, Query(max_length=9000, description="comma list; "
                                                                  "overrides every other filter")] = None,
                  service_code: Annotated[str | None, Query(max_length=4000, description="comma list")] = None,
                  start_date: Annotated[str | None, Query(max_length=40, description="W3C datetime")] = None,
                  end_date: Annotated[str | None, Query(max_length=40, description="W3C datetime")] = None,
                  status: Annotated[str | None, Query(max_length=20, description="open, closed or both")] = None
                  ) -> Response:
    """Newest first, at most 1000, within 90 days (the last 90 by default). No personal data."""
    return answer(format, "service_requests", core.list_requests(
        conn, service_request_id=service_request_id, service_code=service_code, start_date=start_date,
        end_date=end_date, status=status))


@router.get("/requests/{service_request_id}.{format}", summary="Open311: one service request")
def get_request(conn: Conn, principal: CurrentUser, checked: Checked, format: Format,  # noqa: A002
                service_request_id: Annotated[str, Path(max_length=40)]) -> Response:
    """The case with that code as a service request (a list of one); 404 when there is none."""
    return answer(format, "service_requests", core.get_request(conn, service_request_id))
