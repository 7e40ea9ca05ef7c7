"""SQL templates in sql/*.sql whose table and column names come from the layer registry, never from requests."""

from __future__ import annotations

import re
from functools import cache
from string import Template

from sqlalchemy import Connection, TextClause, text

from .layers import LAYERS, LayerSpec
from .sql import sql

_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
# Layers with a validity period: `datetime` selects the features valid at that instant or during that interval.
TEMPORAL = {"zones": ("valid_from", "valid_to")}


def ident(name: str) -> str:
    """A lower-case SQL identifier, double-quoted; anything else is a programming error."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def layer_columns(spec: LayerSpec, without: frozenset[str] = frozenset()) -> list[str]:
    """A layer's fields: its key (unless that is an attribute too), then its attribute columns (minus `without`)."""
    return ([spec.key] if spec.key not in spec.columns else []) + [c for c in spec.columns if c not in without]


def attribute_exprs(spec: LayerSpec, alias: str = "t", without: frozenset[str] = frozenset(), *,
                    hex_h3: bool = True, source: bool = False) -> list[str]:
    """The select list of a layer, identifiers quoted: its key and attribute columns (minus `without`), and with
    `source` the source_file and source_id of a sourced layer. alias "" for none; hex_h3: h3 BIGINTs as hex text."""
    cols = layer_columns(spec, without) + (["source_file", "source_id"] if source and spec.sourced else [])
    prefix = f"{alias}." if alias else ""
    return [f"to_hex({prefix}{ident(c)}) AS {ident(c)}" if c == "h3" and hex_h3 else f"{prefix}{ident(c)}"
            for c in cols]


@cache
def layer_sql(name: str, layer: str, **parts: str) -> TextClause:
    """sql/<name>.sql with $table, $key, $attributes (and any `parts`) filled in for a registry layer."""
    spec = LAYERS[layer]
    values = {"table": ident(spec.table), "key": ident(spec.key),
              "attributes": ", ".join(attribute_exprs(spec)), **parts}
    return text(Template(sql(name).text).substitute(values))


def layer_bounds(conn: Connection, spec: LayerSpec) -> tuple[float, float, float, float] | None:
    """WGS84 (minx, miny, maxx, maxy) of a layer from ST_Extent, or None when it is empty."""
    row = conn.execute(layer_sql("layer_extent", spec.name)).one()
    return None if row.minx is None else (row.minx, row.miny, row.maxx, row.maxy)


def _conditions(where: str, params: dict | None, bounds: tuple[float, float, float, float] | None) -> tuple[str, dict]:
    """WHERE clause of `where` (fixed SQL on bound parameters) and a WGS84 bbox, with their parameters."""
    clauses, args = [], dict(params or {})
    if where:
        clauses.append(where)
    if bounds is not None:
        clauses.append("geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        args.update(zip(("minx", "miny", "maxx", "maxy"), bounds, strict=True))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), args


def feature_count(conn: Connection, spec: LayerSpec, where: str = "", params: dict | None = None,
                  bounds: tuple[float, float, float, float] | None = None) -> int:
    """How many rows of a layer match `where` and lie in the WGS84 bounds."""
    cond, args = _conditions(where, params, bounds)
    return conn.execute(text(f"SELECT count(*) FROM {ident(spec.table)} {cond}"), args).scalar_one()


def feature_page(conn: Connection, spec: LayerSpec, *, limit: int, offset: int, decimals: int, where: str = "",
                 params: dict | None = None, bounds: tuple[float, float, float, float] | None = None) -> list:
    """One page of a layer's rows (by key) matching `where` in the WGS84 bounds: the select list of
    attribute_exprs (h3 as stored) and _geom, the geometry as GeoJSON text with `decimals` decimals."""
    cond, args = _conditions(where, params, bounds)
    columns = ", ".join(attribute_exprs(spec, "", hex_h3=False, source=True))
    return conn.execute(text(
        f"SELECT {columns}, ST_AsGeoJSON(geom, {int(decimals)}) AS _geom FROM {ident(spec.table)} {cond} "
        f"ORDER BY {ident(spec.key)} LIMIT :limit OFFSET :offset"), {**args, "limit": limit, "offset": offset},
    ).mappings().all()


def bbox_period_filter(spec: LayerSpec, bbox: tuple[float, float, float, float] | None,
                       period: tuple | None) -> tuple[str, dict]:
    """WHERE condition (fixed SQL, registry column names) and bound parameters of an OGC API bbox (minx > maxx:
    across the antimeridian) and datetime period (lo, hi; either may be None) on a layer."""
    clauses, params = [], {}
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        params.update(bminy=miny, bmaxy=maxy)
        if minx <= maxx:
            clauses.append("ST_Intersects(geom, ST_MakeEnvelope(:bminx, :bminy, :bmaxx, :bmaxy, 4326))")
            params.update(bminx=minx, bmaxx=maxx)
        else:  # crosses the antimeridian: two boxes
            clauses.append("(ST_Intersects(geom, ST_MakeEnvelope(:bminx, :bminy, 180, :bmaxy, 4326)) OR "
                           "ST_Intersects(geom, ST_MakeEnvelope(-180, :bminy, :bmaxx, :bmaxy, 4326)))")
            params.update(bminx=minx, bmaxx=maxx)
    if period is not None and spec.name in TEMPORAL:
        start_col, end_col = TEMPORAL[spec.name]
        lo, hi = period
        if hi is not None:
            clauses.append(f"{start_col} <= :dt_hi")
            params["dt_hi"] = hi
        if lo is not None:
            clauses.append(f"({end_col} IS NULL OR {end_col} > :dt_lo)")
            params["dt_lo"] = lo
    return " AND ".join(clauses), params
