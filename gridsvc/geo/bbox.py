"""A WGS84 bounding box as users write it: 'minLng,minLat,maxLng,maxLat' (API queries, export scopes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError


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
