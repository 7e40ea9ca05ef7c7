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


def _incoming_rows(spec: LayerSpec, gdf: gpd.GeoDataFrame, cols: list[str], geom_cols: list[str]) -> Iterator[list]:
    """COPY rows of a layer's frame: source_id, the attribute columns, then each geometry as hex EWKB."""
    hexes = {"geom": ewkb_hex(to_multi(np.asarray(gdf.geometry.values), spec.geom_type))}
    for g, gtype in spec.extra_geoms:
        hexes[g] = ewkb_hex(to_multi(np.asarray(gpd.GeoSeries(gdf[g]).values), gtype))
    attr = [gdf[c].to_numpy(dtype=object) for c in ["source_id", *cols]]
    return ([_clean(a[i]) for a in attr] + [hexes[g][i] for g in geom_cols] for i in range(len(gdf)))


def upsert_layer(conn: Connection, spec: LayerSpec, gdf: gpd.GeoDataFrame, source_file: str) -> UpsertCounts:
    """Insert or update a file's rows of one layer, and remove that file's rows that are gone."""
    stage = StagedLayer(conn, spec, list(gdf.columns))
    stage.add(gdf)
    return stage.merge(source_file)


class StagedLayer:
    """A file's incoming rows of one layer, COPYed chunk by chunk into a temporary table of this transaction
    (`add`), then upserted in one statement (`merge`): a streamed ingest never holds a whole layer in memory."""

    def __init__(self, conn: Connection, spec: LayerSpec, columns: Sequence[str]) -> None:
        self.conn, self.spec = conn, spec
        self.cols = [c for c in spec.columns if c in columns]
        self.geom_cols = ["geom"] + [g for g, _ in spec.extra_geoms]
        self.all_cols = ["source_id", *self.cols, *self.geom_cols]
        self.name = f"_incoming_{spec.name}"
        self.rows = 0
        conn.execute(text(f"CREATE TEMP TABLE {ident(self.name)} ON COMMIT DROP AS SELECT "
                          f"{', '.join(ident(c) for c in self.all_cols)} FROM {ident(spec.table)} WITH NO DATA"))

    def add(self, gdf: gpd.GeoDataFrame) -> None:
        """COPY one chunk of the layer (its columns as at the start)."""
        copy_rows(self.conn, self.name, self.all_cols, _incoming_rows(self.spec, gdf, self.cols, self.geom_cols))
        self.rows += len(gdf)

    def drop_duplicates(self) -> tuple[int, str | None]:
        """Keep the last row staged of each source id (as prepare_layers does); (rows dropped, an example id)."""
        self._index()
        dropped = self.conn.execute(text(f"""
            DELETE FROM {ident(self.name)} a USING {ident(self.name)} b
            WHERE a.source_id = b.source_id AND a.ctid < b.ctid RETURNING a.source_id
        """)).scalars().all()
        self.rows -= len(dropped)
        return len(dropped), (dropped[0] if dropped else None)

    def _index(self) -> None:
        if not getattr(self, "_indexed", False):
            # The planner knows nothing of a fresh table: an index and statistics keep the joins on it linear.
            self.conn.execute(text(f"CREATE INDEX ON {ident(self.name)} (source_id)"))
            self.conn.execute(text(f"ANALYZE {ident(self.name)}"))
            self._indexed = True

    def merge(self, source_file: str, *, with_ids: bool = True) -> UpsertCounts:
        """Upsert the staged rows into the layer's table and remove the file's rows that are gone; drops the stage.

        with_ids=False counts in the database and leaves written_ids/removed_ids empty (a province's ids need not
        cross into Python when nothing uses them).
        """
        self._index()
        spec, conn, stage, all_cols = self.spec, self.conn, ident(self.name), self.all_cols
        data_cols = [*self.cols, *self.geom_cols]
        changed = " OR ".join(f"{spec.table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in data_cols)
        # The table's statistics predate this import, so the planner may expect no rows of this file and pick a
        # nested loop for the anti-join below: the index on source_id keeps even that plan linear (a 70x first
        # import took 584 s without).
        upsert = f"""
            INSERT INTO {spec.table} (source_file, {', '.join(all_cols)})
            SELECT :sf, {', '.join(all_cols)} FROM {stage}
            ON CONFLICT (source_file, source_id) DO UPDATE
              SET {', '.join(f'{c} = EXCLUDED.{c}' for c in data_cols)}, updated_at = now()
              WHERE {changed}
            RETURNING id, (xmax = 0) AS inserted"""
        remove = f"""
            DELETE FROM {spec.table} t WHERE t.source_file = :sf
              AND NOT EXISTS (SELECT 1 FROM {stage} i WHERE i.source_id = t.source_id)
            RETURNING t.id"""
        if with_ids:
            rows = conn.execute(text(upsert), {"sf": source_file}).all()
            removed = conn.execute(text(remove), {"sf": source_file}).scalars().all()
            inserted = sum(1 for r in rows if r.inserted)
            out = UpsertCounts(inserted, len(rows) - inserted, self.rows - len(rows), len(removed),
                               written_ids=[r.id for r in rows], removed_ids=list(removed))
        else:
            inserted, written = conn.execute(text(
                f"WITH w AS ({upsert}) SELECT count(*) FILTER (WHERE inserted), count(*) FROM w"),
                {"sf": source_file}).one()
            removed = conn.execute(text(f"WITH d AS ({remove}) SELECT count(*) FROM d"), {"sf": source_file}).scalar()
            out = UpsertCounts(inserted, written - inserted, self.rows - written, removed)
        conn.execute(text(f"DROP TABLE {stage}"))
        return out


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
