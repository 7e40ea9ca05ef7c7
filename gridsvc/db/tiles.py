"""Mapbox Vector Tiles of the registry layers, made by PostGIS (ST_AsMVT), and what TileJSON needs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ..errors import InputError
from ..geo.basemap_shift import IDENTITY, tile_affine
from ..geo.crs import DisplayCrs
from ..people.masking import PERSONAL_COLUMNS
from .layer_sql import attribute_exprs, layer_columns, layer_sql
from .layers import LAYERS, LayerSpec, layer_spec
from .sql import sql

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
WORLD_M = 40075016.68557849  # EPSG:3857 world width in metres
WORLD_BOUNDS = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
# Below these zooms a layer's tiles are empty (204): thousands of buildings or units in a district-wide tile
# are unreadable and heavy. Everything not listed starts at MIN_ZOOM_DEFAULT.
MIN_ZOOM = {"admin_units": 8, "streets": 12, "compounds": 12, "markets": 12, "cells": 14, "zones": 14,
            "buildings": 14, "units": 14}
MIN_ZOOM_DEFAULT = 12
# Editable layers change under the planner's hand; the ingested ones only on re-import.
MAX_AGE = {"zones": 60, "cells": 60}
MAX_AGE_DEFAULT = 3600
# Douglas-Peucker at half a tile pixel before ST_AsMVTGeom's grid snapping: 5-15 % smaller polygon tiles at
# z12-14 for no extra time. ST_SimplifyPreserveTopology gave the same bytes at 2-4x the time, and ST_AsMVTGeom
# repairs validity anyway; preserveCollapsed keeps small buildings from vanishing.
_SIMPLIFIED = "ST_Simplify(ST_Transform($src, 3857), :tolerance, true)"
_PLAIN = "ST_Transform($src, 3857)"
# The stored geometry, or the same moved onto a GCJ-02 basemap (gridsvc/geo/basemap_shift.py).
_SHIFTED = "ST_Affine({col}, :aa, :ab, :ad, :ae, :axoff, :ayoff)"
# At district zooms a street's carriageway polygon is a pixel or two wide, and its centreline draws the same in
# a third of the time and two thirds of the bytes (70x Nanjing, z12: 22 -> 7 ms, 60 -> 43 KB a tile). Below
# these zooms the layer's tiles carry that line geometry instead of `geom`.
LINE_BELOW = {"streets": ("centerline", 14)}


@dataclass(frozen=True)
class TileAddress:
    """A checked z/x/y."""

    z: int
    x: int
    y: int


def tile_address(z: int, x: int, y: int) -> TileAddress:
    """z/x/y checked against 0 ≤ z ≤ MAX_ZOOM and 0 ≤ x, y < 2^z, or InputError saying which is wrong."""
    if not 0 <= z <= MAX_ZOOM:
        raise InputError(f"zoom z={z} is out of range; it must be 0..{MAX_ZOOM}", where="tile path")
    top = 2**z - 1
    for axis, v in (("x", x), ("y", y)):
        if not 0 <= v <= top:
            raise InputError(f"{axis}={v} is out of range at zoom {z}; it must be 0..{top}", where="tile path")
    return TileAddress(z, x, y)


def tile_layers(names: str) -> list[LayerSpec]:
    """The layers of a tile request: one name, or several comma-separated (each once, in that order).

    An MVT tile is a sequence of layers, so the tiles of several layers concatenated are one valid tile.
    """
    parts = names.split(",")
    if len(set(parts)) != len(parts):
        raise InputError(f"layer {names!r} names a layer twice", where="tile path")
    return [layer_spec(part.strip()) for part in parts]


def min_zoom(spec: LayerSpec) -> int:
    """The lowest zoom at which the layer has features in its tiles."""
    return MIN_ZOOM.get(spec.name, MIN_ZOOM_DEFAULT)


def max_age(spec: LayerSpec) -> int:
    """Seconds a client may cache the layer's tiles."""
    return MAX_AGE.get(spec.name, MAX_AGE_DEFAULT)


def render_tile(conn: Connection, spec: LayerSpec, t: TileAddress, crs: DisplayCrs = "wgs84",
                personal: bool = True) -> bytes:
    """The MVT bytes of one tile of one layer; b'' when nothing is in it or it is below the layer's min zoom.

    crs="gcj02": the tile of a GCJ-02 basemap (高德), the features moved by the GCJ offset (none outside China).
    personal=False leaves out contact names and phones (tiles for anonymous clients).
    """
    if t.z < min_zoom(spec):
        return b""
    point = spec.geom_type.endswith("POINT")
    shift = tile_affine(t.z, t.x, t.y, crs)
    line_col, below = LINE_BELOW.get(spec.name, ("", -1))
    col = f"t.{line_col}" if t.z < below else "t.geom"
    src = col if shift is IDENTITY else _SHIFTED.format(col=col)
    parts = {} if personal else {"attributes": ", ".join(attribute_exprs(spec, without=PERSONAL_COLUMNS))}
    stmt = layer_sql("tile", spec.name, geom=(_PLAIN if point else _SIMPLIFIED).replace("$src", src), **parts)
    # Half a tile pixel (1/EXTENT of the tile) in metres: below what ST_AsMVTGeom's grid snapping keeps anyway.
    tolerance = WORLD_M / 2**t.z / EXTENT / 2
    params = {"z": t.z, "x": t.x, "y": t.y, "margin": BUFFER / EXTENT, "extent": EXTENT, "buffer": BUFFER,
              "layer": spec.name, "sdx": shift.search_dx, "sdy": shift.search_dy}
    if shift is not IDENTITY:
        params.update(aa=shift.a, ab=shift.b, ad=shift.d, ae=shift.e, axoff=shift.xoff, ayoff=shift.yoff)
    if not point:
        params["tolerance"] = tolerance
    data = conn.execute(stmt, params).scalar()
    return bytes(data or b"")


def layer_fields(conn: Connection) -> dict[str, dict[str, str]]:
    """TileJSON field types (Number, Boolean, String) of every layer's tile attributes."""
    tables = {spec.table for spec in LAYERS.values()}
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in conn.execute(sql("layer_fields"), {"tables": sorted(tables)}):
        types.setdefault(table, {})[column] = data_type
    out = {}
    for spec in LAYERS.values():
        out[spec.name] = {c: _field_type(c, types.get(spec.table, {}).get(c, "")) for c in layer_columns(spec)}
    return out


def _field_type(column: str, data_type: str) -> str:
    if column == "h3" or data_type in ("text", "character varying"):
        return "String"
    if data_type == "boolean":
        return "Boolean"
    if data_type in ("smallint", "integer", "bigint", "real", "double precision", "numeric"):
        return "Number"
    return "String"
