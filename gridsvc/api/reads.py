"""Read replicas in the API: which server a read goes to, and how a client reads its own writes.

Routes that take ReadConn (api/dependencies.py) read from the standbys of GRIDSVC_READ_URLS (db/replicas.py);
every other route, and every write, uses the primary (Conn). A commit on the primary answers with its WAL
position, in the `X-Gridsvc-LSN` header and the `gridsvc_lsn` cookie; a read carrying that position (the cookie,
or the header sent back) goes to a standby only if it has replayed that far, so the client sees its own write.
Every read answers `X-Gridsvc-Read: replica-N | primary`. docs/scaling.md describes the rule.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.replicas import ReadPool, parse_lsn, wal_position

log = logging.getLogger(__name__)
LSN_HEADER = "X-Gridsvc-LSN"
LSN_COOKIE = "gridsvc_lsn"
READ_HEADER = "X-Gridsvc-Read"
LSN_COOKIE_S = 300  # how long a browser keeps asking for its last write (a standby behind longer is alarm-worthy)
_COMMITTED = "gridsvc.committed"


def install(app: FastAPI, engine: Engine, urls: list[str]) -> None:
    """Route this app's reads to the standbys at urls (nothing to do without any)."""
    app.state.reads = ReadPool(urls) if urls else None
    if not urls:
        return
    if not event.contains(engine, "commit", _mark_commit):
        event.listen(engine, "commit", _mark_commit)
    app.add_middleware(ReadHeaders)


def _mark_commit(conn: Connection) -> None:
    conn.info[_COMMITTED] = True


def forget_commit(conn: Connection) -> None:
    """Start a request with no commit seen (the flag lives with the pooled DBAPI connection)."""
    conn.info.pop(_COMMITTED, None)


def committed(conn: Connection) -> bool:
    """Whether a transaction was committed on conn during this request."""
    return bool(conn.info.get(_COMMITTED))


def stamp_write(request: Request, conn: Connection) -> None:
    """Note the primary's WAL position after this request's commit, for ReadHeaders to send to the client."""
    try:
        request.state.wrote_lsn = wal_position(conn)
    except DBAPIError as err:  # the write stands; the client's next read may just not see it from a standby
        log.warning("could not read the WAL position after a write: %s", err)


def client_lsn(request: Request) -> str | None:
    """The WAL position of the client's own last write: the X-Gridsvc-LSN header, else the cookie."""
    return parse_lsn(request.headers.get(LSN_HEADER)) or parse_lsn(request.cookies.get(LSN_COOKIE))


def standby_conn(request: Request) -> tuple[Connection, str] | None:
    """A standby's connection and name for this read, or None (read from the primary)."""
    pool: ReadPool | None = getattr(request.app.state, "reads", None)
    return pool.connect(client_lsn(request)) if pool is not None else None


class ReadHeaders:
    """Adds X-Gridsvc-Read to reads, and X-Gridsvc-LSN with its cookie to responses of requests that committed."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                headers = MutableHeaders(scope=message)
                if source := state.get("read_from"):
                    headers.append(READ_HEADER, source)
                if lsn := state.get("wrote_lsn"):
                    headers.append(LSN_HEADER, lsn)
                    headers.append("set-cookie", f"{LSN_COOKIE}={lsn}; Max-Age={LSN_COOKIE_S}; Path=/; "
                                                 "SameSite=Lax; HttpOnly")
            await send(message)

        await self.app(scope, receive, send_with_headers)
