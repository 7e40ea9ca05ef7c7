"""Shared request dependencies: the database connection, bbox and paging parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
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


def get_engine(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except (OperationalError, DBAPIError) as e:
        raise DatabaseUnavailableError("the database is not reachable; try again shortly") from e
    except PoolTimeoutError as e:
        raise DatabaseUnavailableError("the server is busy: every database connection is in use; try again "
                                       "shortly") from e


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A connection for one request; an unreachable database becomes DatabaseUnavailableError."""
    with _connect(engine) as conn:
        yield conn


class LazyConn:
    """A request's connection, taken from the pool on first use (lookups answered from memory need none)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def get(self) -> Connection:
        """The connection (opened now if not yet)."""
        if self._conn is None:
            self._conn = _connect(self.engine)
        return self._conn

    def close(self) -> None:
        """Give the connection back, if one was taken."""
        if self._conn is not None:
            self._conn.close()


async def get_lazy_conn(request: Request) -> AsyncIterator[LazyConn]:
    """A LazyConn for one request, closed after it (async: a request that needs no connection never waits for a
    thread of the pool)."""
    lazy = LazyConn(request.app.state.engine)
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


Conn = Annotated[Connection, Depends(get_conn)]
LazyConnDep = Annotated[LazyConn, Depends(get_lazy_conn)]
BBoxDep = Annotated[BBox | None, Depends(bbox_param)]
PageDep = Annotated[Page, Depends(page_param)]
# A file named by its SHA-256 in a request body (an upload of POST /uploads).
Sha256 = Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
