"""Shared request dependencies: the database connection, bbox and paging parameters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import DatabaseUnavailableError
from ..geo.bbox import BBox, parse_bbox


def get_engine(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """A connection for one request; an unreachable database becomes DatabaseUnavailableError."""
    try:
        conn = engine.connect()
    except (OperationalError, DBAPIError) as e:
        raise DatabaseUnavailableError("the database is not reachable; try again shortly") from e
    except PoolTimeoutError as e:
        raise DatabaseUnavailableError("the server is busy: every database connection is in use; try again "
                                       "shortly") from e
    with conn:
        yield conn


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
BBoxDep = Annotated[BBox | None, Depends(bbox_param)]
PageDep = Annotated[Page, Depends(page_param)]
# A file named by its SHA-256 in a request body (an upload of POST /uploads).
Sha256 = Annotated[str, Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
