"""Write layers to PostGIS (COPY + upsert keyed on source file/id) and read them back."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Connection, text

from .layer_sql import attribute_exprs, ident
from .layers import LayerSpec


@dataclass
class UpsertCounts:
    """What one layer's upsert did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    written_ids: list[int] = field(default_factory=list, repr=False)  # rows inserted or updated
    removed_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, int]:
        """Plain dict for reports and JSON."""
        return dict(inserted=self.inserted, updated=self.updated, unchanged=self.unchanged, removed=self.removed)


def _clean(value):
    """Python value COPY can take: NaN/NA -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    try:
        if value is gpd.pd.NA or value is gpd.pd.NaT:
            return None
    except (TypeError, ValueError):
        pass
    return value


def to_multi(geoms: np.ndarray, geom_type: str) -> np.ndarray:
    """Promote single geometries to Multi* when the column is Multi*."""
    if not geom_type.startswith("MULTI"):
        return geoms
    parts = shapely.get_parts(geoms, return_index=True)
    single_types = {"MULTIPOLYGON": shapely.multipolygons, "MULTILINESTRING": shapely.multilinestrings}
    return single_types[geom_type](parts[0], indices=parts[1])


def ewkb_hex(geoms: np.ndarray) -> np.ndarray:
    """Hex EWKB with SRID 4326, which PostGIS reads straight from COPY."""
    return shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows (values in the order of `columns`, geometries as hex EWKB) into a table of this transaction."""
    raw = conn.connection.driver_connection
    target = f"{ident(table)} ({', '.join(ident(c) for c in columns)})"
    with raw.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def temp_table(conn: Connection, name: str, like: str, columns: Sequence[str], rows: Iterable[Sequence],
               index: str) -> Iterator[str]:
    """A temporary table `name` with these columns of table `like`, filled by COPY, indexed on `index` and
    analysed; dropped when the block ends (and at commit in any case). Yields its name."""
    cols = ", ".join(ident(c) for c in columns)
    conn.execute(text(f"CREATE TEMP TABLE {ident(name)} ON COMMIT DROP AS SELECT {cols} FROM {ident(like)} "
                      "WITH NO DATA"))
    copy_rows(conn, name, columns, rows)
    # The planner knows nothing of a fresh table: an index and statistics keep the joins on it linear.
    conn.execute(text(f"CREATE INDEX ON {ident(name)} ({ident(index)})"))
    conn.execute(text(f"ANALYZE {ident(name)}"))
    yield name
    conn.execute(text(f"DROP TABLE {ident(name)}"))


def upsert_layer(conn: Connection, spec: LayerSpec, gdf: gpd.GeoDataFrame, source_file: str) -> UpsertCounts:
    """Insert or update a file's rows of one layer, and remove that file's rows that are gone."""
    cols = [c for c in spec.columns if c in gdf.columns]
    geom_cols = ["geom"] + [g for g, _ in spec.extra_geoms]
    all_cols = ["source_id", *cols, *geom_cols]
    hexes = {"geom": ewkb_hex(to_multi(np.asarray(gdf.geometry.values), spec.geom_type))}
    for g, gtype in spec.extra_geoms:
        hexes[g] = ewkb_hex(to_multi(np.asarray(gpd.GeoSeries(gdf[g]).values), gtype))
    attr = [gdf[c].to_numpy(dtype=object) for c in ["source_id", *cols]]
    incoming = ([_clean(a[i]) for a in attr] + [hexes[g][i] for g in geom_cols] for i in range(len(gdf)))
    # The table's statistics predate this import, so the planner may expect no rows of this file and pick a nested
    # loop for the anti-join below: the index on source_id keeps even that plan linear (a 70x first import took
    # 584 s without).
    with temp_table(conn, "_incoming", spec.table, all_cols, incoming, index="source_id"):
        data_cols = [*cols, *geom_cols]
        changed = " OR ".join(f"{spec.table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in data_cols)
        rows = conn.execute(text(f"""
            INSERT INTO {spec.table} (source_file, {', '.join(all_cols)})
            SELECT :sf, {', '.join(all_cols)} FROM _incoming
            ON CONFLICT (source_file, source_id) DO UPDATE
              SET {', '.join(f'{c} = EXCLUDED.{c}' for c in data_cols)}, updated_at = now()
              WHERE {changed}
            RETURNING id, (xmax = 0) AS inserted
        """), {"sf": source_file}).all()
        removed = conn.execute(text(f"""
            DELETE FROM {spec.table} t WHERE t.source_file = :sf
              AND NOT EXISTS (SELECT 1 FROM _incoming i WHERE i.source_id = t.source_id)
            RETURNING t.id
        """), {"sf": source_file}).scalars().all()
    inserted = sum(1 for r in rows if r.inserted)
    updated = len(rows) - inserted
    return UpsertCounts(inserted, updated, len(gdf) - len(rows), len(removed),
                        written_ids=[r.id for r in rows], removed_ids=list(removed))


def read_layer(conn: Connection, spec: LayerSpec, where: str = "", params: dict | None = None) -> gpd.GeoDataFrame:
    """A stored layer as a GeoDataFrame in WGS84 (optionally filtered by a SQL WHERE clause)."""
    extra = "".join(f", ST_AsBinary({ident(g)}) AS {ident(g)}" for g, _ in spec.extra_geoms)
    columns = ", ".join(attribute_exprs(spec, "", hex_h3=False, source=True))
    sql = f"SELECT {columns}{extra}, ST_AsBinary(geom) AS geom FROM {ident(spec.table)}"
    if where:
        sql += f" WHERE {where}"
    sql += f" ORDER BY {spec.key}"
    result = conn.execute(text(sql), params or {})
    cols = list(result.keys())
    rows = result.all()
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    wkb = data.pop("geom")  # always: an empty layer must not keep a "geom" column next to its geometry
    geoms = shapely.from_wkb(np.array(wkb, dtype=object)) if rows else np.array([], dtype=object)
    for g, _ in spec.extra_geoms:
        data[g] = gpd.GeoSeries(shapely.from_wkb(np.array(data[g], dtype=object)) if rows else [], crs=4326)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
