"""Request limits: body size counted while it streams, strict JSON (no NaN/Infinity), readable 4xx bodies.

`install(app)` (called by create_app) adds:

- **Body-size limits**, an ASGI middleware outside everything else: `GRIDSVC_MAX_BODY_BYTES` (default 5 MiB)
  for every request, `GRIDSVC_MAX_UPLOAD_BYTES` (default 25 MiB) for `/uploads`. A declared Content-Length over
  the limit is refused before a byte is read; the bytes are counted as they arrive too (chunked bodies, or a
  Content-Length that lies), and the request is cut off at the limit. Either way the answer is 413 with the
  usual error body (PayloadTooLargeError in gridsvc/errors.py).
- **Strict JSON**: Python's JSON parser (and so FastAPI's) accepts the non-standard literals `NaN`,
  `Infinity` and `-Infinity`; JSON bodies holding them are refused with 422 naming the literal (RFC 8259 has no
  such numbers). Only bodies where the bytes occur are parsed a second time.
- **No NUL characters**: PostgreSQL text cannot hold U+0000, so URLs, JSON and form bodies carrying one are a
  422 before any handler runs (the DataError psycopg would raise is caught as well).
- **JSON the parser cannot hold**: a body nested deeper than Python's JSON parser goes (it stops near 1,000
  levels of arrays and objects) or holding an integer longer than Python converts (4,300 digits) is a 422 that
  names the problem, not FastAPI's 400 "error parsing the body" (json_limit_error).
- **Readable validation errors**: FastAPI's request validation errors (a list of dicts in `detail`) come back
  as `{"error": "InputError", "detail": "<one line naming each field>", "context": {"errors": [...]}}`, and
  Starlette's own HTTP errors (unknown route, 405, unparsable body) as `{"error": ..., "detail": text}`,
  so every 4xx carries a text message; a number too large for its database column (an id past 2³¹) is a 422,
  not a 500.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import GridsvcError, InputError, PayloadTooLargeError, http_status

MIB = 1024 * 1024
UPLOAD_PREFIX = "/uploads"
JSON_TYPES = ("application/json", "application/geo+json")
FORM = "application/x-www-form-urlencoded"
_NON_FINITE = (b"NaN", b"Infinity")


class LimitSettings(BaseSettings):
    """The limits, from GRIDSVC_MAX_BODY_BYTES and GRIDSVC_MAX_UPLOAD_BYTES."""

    model_config = SettingsConfigDict(env_prefix="GRIDSVC_", extra="ignore")
    max_body_bytes: int = Field(default=5 * MIB, ge=1024, description="Largest request body (JSON, forms).")
    max_upload_bytes: int = Field(default=25 * MIB, ge=1024, description="Largest request body to /uploads.")


@dataclass
class BodyLimits:
    """Byte limits of request bodies; app.state.body_limits (tests may lower them)."""

    body: int
    upload: int
    report: int = 30 * MIB  # POST /reports, photos included (GRIDSVC_REPORT_MAX_BODY_BYTES)

    @classmethod
    def from_env(cls) -> BodyLimits:
        from ..settings import get_settings

        s = LimitSettings()
        return cls(s.max_body_bytes, s.max_upload_bytes, get_settings().report_max_body_bytes)

    def for_path(self, path: str) -> int:
        if path == "/reports":  # a citizen's report with its photos
            return self.report
        if path == UPLOAD_PREFIX or path.startswith(UPLOAD_PREFIX + "/"):
            return self.upload
        if path.startswith("/c/") and path.endswith("/rectify"):  # a party's photo through its case link
            return self.upload
        return self.body


def error_body(err: GridsvcError) -> dict:
    """The error body of gridsvc/api/app.py's handler."""
    return {"error": type(err).__name__, "detail": err.message, **({"context": err.details} if err.details else {})}


def _too_large(limit: int, seen: int | None = None) -> PayloadTooLargeError:
    size = f"{seen:,} bytes" if seen is not None else "more"
    return PayloadTooLargeError(f"the request body is too large: {size} where at most {limit:,} bytes "
                                f"({limit / MIB:.1f} MiB) are accepted", where="body", limit_bytes=limit)


class _NonFiniteJSON(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NonFiniteJSON(name)


def non_finite_literal(body: bytes) -> str | None:
    """The first NaN/Infinity/-Infinity literal of a JSON text (None if there is none or it is not JSON)."""
    if not any(tok in body for tok in _NON_FINITE):
        return None
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except _NonFiniteJSON as e:
        return str(e)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON at all: FastAPI answers that
    return None


def _media_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return value.split(b";", 1)[0].strip().lower().decode("latin-1")
    return ""


def _is_json(media: str) -> bool:
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _has_nul(value) -> bool:
    """Whether a parsed JSON value holds a NUL character in any string (key or value)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    return False


def nul_in_body(body: bytes, media: str) -> bool:
    """Whether a JSON or form body carries a NUL character (which no PostgreSQL text can hold)."""
    if _is_json(media):
        if b"\\u0000" not in body:
            return False
        try:
            return _has_nul(json.loads(body))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False  # not JSON at all: FastAPI answers that
    return b"%00" in body or b"\x00" in body


NUL_MESSAGE = "text must not contain NUL (U+0000) characters"


def json_limit_error(exc: BaseException) -> InputError | None:
    """The 422 for a JSON body that parsed into an error past one of Python's limits (None for any other cause)."""
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return InputError("the JSON body nests arrays or objects too deeply to read (Python's JSON parser stops "
                          "near 1,000 levels; a GeoJSON geometry needs at most 6)", where="body")
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return InputError(f"the JSON body holds an integer of more than {sys.get_int_max_str_digits():,} digits, "
                          "which is too long to read: send numbers of ordinary size", where="body")
    return None


class BodyLimitMiddleware:
    """413 for bodies over the limit (declared or counted); 422 for JSON with NaN/Infinity literals and for
    URLs, JSON or form bodies carrying NUL characters."""

    def __init__(self, app: ASGIApp, limits: BodyLimits):
        self.app = app
        self.limits = limits

    async def _send_error(self, send: Send, err: GridsvcError) -> None:
        body = json.dumps(error_body(err), ensure_ascii=False).encode()
        status = http_status(err)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 413:
            headers.append((b"connection", b"close"))  # the rest of the body is not read
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope.get("path", ""))
        declared = None
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._send_error(send, InputError(f"Content-Length must be a number, got {value[:40]!r}",
                                                            where="Content-Length header"))
                    return
        if declared is not None and declared > limit:
            await self._send_error(send, _too_large(limit, declared))
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await self._send_error(send, InputError(NUL_MESSAGE, where="URL"))
            return
        media = _media_type(scope)
        if _is_json(media) or media == FORM:
            await self._buffered(scope, receive, send, limit, media)
        else:
            await self._streamed(scope, receive, send, limit)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, limit: int, media: str) -> None:
        """Read the (bounded) JSON or form body, check it, then hand it to the app."""
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._send_error(send, _too_large(limit))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if nul_in_body(body, media):
            await self._send_error(send, InputError(NUL_MESSAGE, where="body"))
            return
        literal = non_finite_literal(body) if _is_json(media) else None
        if literal is not None:
            await self._send_error(send, InputError(
                f"the JSON body holds {literal}, which is not a JSON number (RFC 8259): send finite numbers",
                where="body"))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the bytes as the app reads them; past the limit the app's answer becomes the 413."""
        seen = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _too_large(limit)
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:  # whatever the app makes of the cut-off body (FastAPI: 400 "error parsing the body")
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._send_error(send, _too_large(limit))
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except PayloadTooLargeError:
            if not started:
                await self._send_error(send, _too_large(limit))


def _location(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        head, rest = parts[0], parts[1:]
        return f"{head} {'.'.join(rest)}" if rest else head
    return ".".join(parts)


def validation_message(errors: list[dict]) -> str:
    """One line naming each invalid field and what is wrong with it."""
    parts = []
    for e in errors[:10]:
        if e.get("type") == "json_invalid":
            loc = e.get("loc", ())
            at = f" at character {loc[1]}" if len(loc) > 1 else ""
            parts.append(f"the body is not valid JSON: {(e.get('ctx') or {}).get('error', 'decode error')}{at}")
            continue
        where = _location(e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return "; ".join(parts) + more if parts else "the request is invalid"


def _jsonable_errors(errors: list[dict]) -> list[dict]:
    out = []
    for e in errors[:20]:
        item = {"loc": [p if isinstance(p, int | str) else str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        out.append(item)
    return out


ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["error", "detail"],
    "description": "Every error: its class (gridsvc/errors.py), a readable message and, for some, the details.",
    "properties": {"error": {"type": "string", "title": "Error class", "maxLength": 100},
                   "detail": {"type": "string", "title": "What is wrong", "maxLength": 10_000},
                   "context": {"type": "object", "title": "Details (where, limits, the invalid fields)"}},
}


def _document_error_body(app: FastAPI) -> None:
    """OpenAPI: the 422 responses FastAPI documents with its validation-error list get our error body."""
    make = app.openapi

    def openapi() -> dict:
        schema = make()
        components = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in components:
            components["HTTPValidationError"] = ERROR_SCHEMA
            components.pop("ValidationError", None)
        return schema

    app.openapi = openapi


def install(app: FastAPI) -> None:
    """Add the body limits (app.state.body_limits, adjustable) and the readable 4xx handlers to an app."""
    limits = BodyLimits.from_env()
    app.state.body_limits = limits
    app.add_middleware(BodyLimitMiddleware, limits=limits)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        err = InputError(validation_message(errors))
        body = error_body(err) | {"context": {"errors": _jsonable_errors(errors)}}
        return JSONResponse(body, status_code=http_status(err))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        too_much = json_limit_error(exc) if exc.status_code == 400 else None
        if too_much is not None:
            return JSONResponse(error_body(too_much), status_code=http_status(too_much))
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=headers)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else "request refused"
        names = {400: "BadRequest", 404: "NotFoundError", 405: "MethodNotAllowedError", 413: "PayloadTooLargeError"}
        return JSONResponse({"error": names.get(exc.status_code, "HTTPError"), "detail": detail},
                            status_code=exc.status_code, headers=headers)

    _document_error_body(app)

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # A number too large for its column (SQLSTATE 22003) can only come from the request: every id and count
        # parameter is bounded in the API, this is the net under the ones that are not. Anything else is a bug.
        if "NUL (0x00)" in str(exc.orig):  # refused by psycopg before it is sent; the middleware catches most
            err = InputError(NUL_MESSAGE)
        elif getattr(exc.orig, "sqlstate", None) == "22003":
            err = InputError("a number in the request is out of range (ids and counts are at most 2147483647)")
        else:
            raise exc
        return JSONResponse(error_body(err), status_code=http_status(err))
