"""Shared request dependencies: the database connection, bbox and paging parameters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import DatabaseUnavailableError, InputError


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


@dataclass(frozen=True)
class BBox:
    """A WGS84 bounding box."""

    minx: float
    miny: float
    maxx: float
    maxy: float


def parse_bbox(value: str | None) -> BBox | None:
    """'minLng,minLat,maxLng,maxLat' -> BBox, or InputError saying what is wrong."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"bbox must be four numbers minLng,minLat,maxLng,maxLat; got {value!r}",
                         where="query parameter bbox") from None
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise InputError(f"bbox must be four finite numbers minLng,minLat,maxLng,maxLat; got {value!r}",
                         where="query parameter bbox")
    b = BBox(*nums)
    if not (-180 <= b.minx <= b.maxx <= 180 and -90 <= b.miny <= b.maxy <= 90):
        raise InputError(f"bbox {value!r} is out of range or min > max (order: minLng,minLat,maxLng,maxLat)",
                         where="query parameter bbox")
    return b


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
