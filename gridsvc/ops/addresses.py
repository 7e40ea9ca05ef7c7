"""Placing a written address on the map with the project's own names: units (name, address, public code),
compounds, markets and streets. There is no external geocoder: an address that names none of them, or names two
places of the same name far apart, cannot be placed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import InputError

SAME_PLACE_M = 200  # two matches of the same name closer than this are one place (a unit and its own address)
KIND_ZH = {"unit": "单位", "compound": "小区", "market": "市场", "street": "道路"}


@dataclass(frozen=True)
class Place:
    """Where an address was placed: the name matched, its kind and a WGS84 point inside it."""

    kind: str
    name: str
    lng: float
    lat: float


def _far(a, b) -> bool:
    from math import cos, hypot, radians

    dx = (a.lng - b.lng) * 111_320 * cos(radians(a.lat))
    dy = (a.lat - b.lat) * 110_540
    return hypot(dx, dy) > SAME_PLACE_M


def place_address(conn: Connection, text: str, *, where: str = "address") -> Place:
    """The place an address names: the longest name of a unit, unit address, compound, market or street found in
    the text. InputError when nothing matches or the longest name is ambiguous (two places far apart)."""
    text = " ".join((text or "").split())
    if len(text) < 2:
        raise InputError("the address is empty", where=where)
    rows = conn.execute(sql("open311_place_by_name"), {"a": text}).all()
    if not rows:
        raise InputError(f"cannot place the address {text!r}: it names no unit, compound, market or street of this "
                         "city (there is no external geocoder); send lat and long", where=where)
    best = rows[0]
    rivals = [r for r in rows[1:] if len(r.name) == len(best.name) and _far(r, best)]
    if rivals:
        names = ", ".join(dict.fromkeys(f"{KIND_ZH.get(r.kind, r.kind)} {r.name}" for r in [best, *rivals]))
        raise InputError(f"the address {text!r} is ambiguous: it names several places ({names}); add the street or "
                         "send lat and long", where=where)
    return Place(best.kind, best.name, best.lng, best.lat)


def place_unit_code(conn: Connection, code: str, *, where: str = "address_id") -> Place:
    """A unit by its public code (一户一码, the code on its 责任牌)."""
    row = conn.execute(sql("open311_unit_by_code"), {"c": code}).first()
    if row is None:
        raise InputError(f"no unit with the public code {code!r}", where=where)
    return Place("unit", row.name or code, row.lng, row.lat)
