"""SQL templates in sql/*.sql whose table and column names come from the layer registry, never from requests."""

from __future__ import annotations

import re
from functools import cache
from string import Template

from sqlalchemy import Connection, TextClause, text

from .layers import LAYERS, LayerSpec
from .sql import sql

_IDENT = re.compile(r"[a-z_][a-z0-9_]*")


def ident(name: str) -> str:
    """A lower-case SQL identifier, double-quoted; anything else is a programming error."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def attribute_exprs(spec: LayerSpec, alias: str = "t", without: frozenset[str] = frozenset()) -> list[str]:
    """Select-list items for the key and attribute columns (minus `without`); h3 BIGINTs become hex text."""
    cols = ([spec.key] if spec.key not in spec.columns else []) + [c for c in spec.columns if c not in without]
    return [f"to_hex({alias}.{ident(c)}) AS {ident(c)}" if c == "h3" else f"{alias}.{ident(c)}" for c in cols]


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
