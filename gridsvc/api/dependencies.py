"""Shared request dependencies: the database connections (primary or read replica), bbox and paging parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import DatabaseUnavailableError
from ..geo.bbox import BBox, parse_bbox
from . import reads


def get_engine(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


def _connect(engine: Engine) -> Connection:
    """engine.connect(); an unreachable database or a full pool becomes DatabaseUnavailableError."""
    try:
        return engine.connect()
    except (OperationalError, DBAPIError) as e:
        raise DatabaseUnavailableError("the database is not reachable; try again shortly") from e
    except PoolTimeoutError as e:
        raise DatabaseUnavailableError("the server is busy: every database connection is in use; try again "
                                       "shortly") from e


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A connection to the primary for one request; an unreachable database becomes DatabaseUnavailableError."""
    with _connect(engine) as conn:
        yield conn


async def primary_conn(request: Request, conn: Annotated[Connection, Depends(get_conn)]) -> AsyncIterator[Connection]:
    """The primary connection (Conn); with read replicas, a commit made on it is reported to the client as its WAL
    position (X-Gridsvc-LSN and a cookie), so that the client's next reads see it (api/reads.py)."""
    reads.forget_commit(conn)
    yield conn
    if reads.committed(conn) and getattr(request.app.state, "reads", None) is not None:
        await run_in_threadpool(reads.stamp_write, request, conn)


def open_read(request: Request, engine: Engine) -> Connection:
    """A connection for reads that may come from a hot standby: the next healthy one of GRIDSVC_READ_URLS that has
    replayed the client's own last write, else the primary (api/reads.py); request.state.read_from names it."""
    found = reads.standby_conn(request)
    conn, request.state.read_from = found if found else (_connect(engine), "primary")
    return conn


def get_read_conn(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """ReadConn: open_read for one request."""
    with open_read(request, engine) as conn:
        yield conn


class LazyConn:
    """A request's read connection (a standby's or the primary's, as ReadConn), opened on first use: lookups
    answered from memory need none."""

    def __init__(self, opener: Callable[[], Connection]) -> None:
        self._open = opener
        self._conn: Connection | None = None

    def get(self) -> Connection:
        """The connection (opened now if not yet)."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        """Give the connection back, if one was taken."""
        if self._conn is not None:
            self._conn.close()


async def get_lazy_conn(request: Request) -> AsyncIterator[LazyConn]:
    """A LazyConn for one request, closed after it (async: a request that needs no connection never waits for a
    thread of the pool)."""
    lazy = LazyConn(lambda: open_read(request, request.app.state.engine))
    try:
        yield lazy
    finally:
        if lazy._conn is not None:
            await run_in_threadpool(lazy.close)


def bbox_param(bbox: Annotated[str | None, Query(description="minLng,minLat,maxLng,maxLat (WGS84)",
                                                 max_length=200)] = None) -> BBox | None:
    """The bbox query parameter."""
    return parse_bbox(bbox)


@dataclass(frozen=True)
class Page:
    """Paging parameters."""

    limit: int
    offset: int


def page_param(limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page:
    """limit/offset query parameters."""
    return Page(limit, offset)


Conn = Annotated[Connection, Depends(primary_conn, scope="function")]  # writes, and reads that must be current
ReadConn = Annotated[Connection, Depends(get_read_conn)]  # reads a standby may serve: lookups, tiles, layers, OGC
LazyConnDep = Annotated[LazyConn, Depends(get_lazy_conn)]
BBoxDep = Annotated[BBox | None, Depends(bbox_param)]
PageDep = Annotated[Page, Depends(page_param)]
# A file named by its SHA-256 in a request body (an upload of POST /uploads).
Sha256 = Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
