"""Export scopes: a grid, a community, a street or a bbox as a WGS84 polygon, and the layers read inside one."""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from ..city.grid import stored_res
from ..db.layers import layer_spec
from ..db.sql import sql
from ..db.store import read_layer
from ..errors import InputError, NotFoundError
from ..geo import h3cells
from ..geo.bbox import parse_bbox
from ..geo.crs import local_metric_crs
from .generalize import OVERVIEW_ZOOM, zoom_to_fit

SCOPE_OPTIONS = ("grid", "community", "street", "bbox")
STREET_MARGIN_M = 30.0  # a street's scope reaches as far as units get frontage zones (policy max distance)
WINDOW_MARGIN_M = 80.0  # context shown around a small scope on its map
MAP_LAYERS = ("cells", "buildings", "streets", "compounds", "markets", "zones", "units")

CELL_FACTS = ("grid_code", "officer_name", "officer_phone")


@dataclass(frozen=True)
class Scope:
    """What an export covers: a WGS84 polygon with a label and the zoom its map opens at."""

    kind: str  # grid | community | street | bbox | all
    key: str  # the grid/community code, street name or bbox text ('' for all)
    label: str  # bilingual, for titles: 网格 Grid 320102002006032 · 临时社区 002-006
    polygon: BaseGeometry
    zoom: int
    cells: tuple[int, ...] = ()  # the H3 cells of a grid or community scope
    community: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the polygon."""
        return tuple(float(v) for v in self.polygon.bounds)

    @property
    def overview(self) -> bool:
        """True for scopes too large to show every feature in full (district-wide)."""
        return self.zoom <= OVERVIEW_ZOOM

    @property
    def slug(self) -> str:
        """A file-name-safe name: grid-320102002006032, street-中山路, bbox-118.75_32.03_..., all."""
        if self.kind == "all":
            return "all"
        key = re.sub(r"[^\w.-]+", "_", self.key.replace(",", "_")).strip("_") or "scope"
        return f"{self.kind}-{key}"

    def window(self) -> tuple[float, float, float, float]:
        """Bounds of the map: the scope with some context around a small one."""
        if self.overview:
            return self.bounds
        metric = local_metric_crs(self.bounds)
        outline = gpd.GeoSeries([box(*self.bounds)], crs=4326).to_crs(metric)
        minx, miny, maxx, maxy = outline.total_bounds
        pad = max(WINDOW_MARGIN_M, 0.5 * max(maxx - minx, maxy - miny))
        return tuple(float(v) for v in outline.buffer(pad, join_style="mitre").to_crs(4326).total_bounds)

    def buffered(self, metres: float) -> BaseGeometry:
        """The polygon grown by metres."""
        return grow(self.polygon, metres)


def grow(polygon: BaseGeometry, metres: float) -> BaseGeometry:
    """A WGS84 geometry grown by metres (buffered in the local UTM zone)."""
    if metres <= 0:
        return polygon
    metric = local_metric_crs(polygon.bounds)
    return gpd.GeoSeries([polygon], crs=4326).to_crs(metric).buffer(metres).to_crs(4326).iloc[0]


def scope_option(grid: str | None = None, community: str | None = None, street: str | None = None,
                 bbox: str | None = None) -> tuple[str, str] | None:
    """The one scope option given as (kind, value), None when none is; InputError when several are."""
    given = [(k, v) for k, v in zip(SCOPE_OPTIONS, (grid, community, street, bbox), strict=True)
             if v is not None and str(v).strip() != ""]
    if len(given) > 1:
        raise InputError(f"give one scope, not {' and '.join(k for k, _ in given)}", source="scope")
    return (given[0][0], str(given[0][1]).strip()) if given else None


def _with_zoom(kind: str, key: str, label: str, polygon: BaseGeometry, **kw) -> Scope:
    return Scope(kind, key, label, polygon, zoom_to_fit(polygon.bounds), **kw)


def _grid(conn: Connection, code: str) -> Scope:
    row = conn.execute(sql("grid_scope"), {"c": code}).first()
    if row is None:
        raise NotFoundError(f"no grid with code {code!r}; grid codes have 15 digits (gridsvc export layer cells "
                            "lists them), and the grid must be built first (gridsvc build grid)", source="scope")
    community = row.community or ""
    label = f"网格 Grid {code}" + (f" · {community}" if community else "")
    return _with_zoom("grid", code, label, shapely.from_wkb(row.geom), cells=(int(row.h3),), community=community)


def _community(conn: Connection, code: str) -> Scope:
    row = conn.execute(sql("community_by_code"), {"c": code}).first()
    if row is None:
        raise NotFoundError(f"no community with code {code!r}; community codes have 12 digits "
                            "(the first 12 of its grid codes)", source="scope")
    cells = conn.execute(sql("community_cells"), {"i": row.id}).scalars().all()
    return _with_zoom("community", code, f"社区 Community {row.name} ({code})", shapely.from_wkb(row.geom),
                      cells=tuple(int(c) for c in cells), community=row.name)


def _street(conn: Connection, name: str) -> Scope:
    geom = conn.execute(sql("street_outline"), {"n": name}).scalar()
    if geom is not None:
        return _with_zoom("street", name, f"街道 Street {name}", grow(shapely.from_wkb(geom), STREET_MARGIN_M))
    sub = conn.execute(sql("subdistrict_outline"), {"n": name}).scalar()
    if sub is not None:
        return _with_zoom("street", name, f"街道办 Subdistrict {name}", shapely.from_wkb(sub))
    like = conn.execute(sql("street_names_like"), {"p": f"%{name[:2]}%"}).scalars().all()
    hint = f"; similar names: {', '.join(like)}" if like else ""
    raise NotFoundError(f"no street or subdistrict named {name!r}{hint}", source="scope")


def _bbox(value: str) -> Scope:
    b = parse_bbox(value)
    if b.minx == b.maxx or b.miny == b.maxy:
        raise InputError(f"bbox {value!r} has no area", source="scope")
    label = f"范围 Area {b.minx:.5f},{b.miny:.5f},{b.maxx:.5f},{b.maxy:.5f}"
    return _with_zoom("bbox", value, label, box(b.minx, b.miny, b.maxx, b.maxy))


def _everything(conn: Connection) -> Scope:
    extent = conn.execute(sql("grid_extent")).scalar()
    extent = extent or conn.execute(sql("data_extent")).scalar()
    if extent is None:
        raise NotFoundError("the database holds no data to export; run gridsvc ingest first", source="scope")
    polygon = shapely.from_wkb(extent)
    return _with_zoom("all", "", "全域 All data", box(*polygon.bounds))


def resolve_scope(conn: Connection, grid: str | None = None, community: str | None = None,
                  street: str | None = None, bbox: str | None = None) -> Scope:
    """The scope of one of grid/community/street/bbox (none given: everything); NotFoundError if unknown."""
    option = scope_option(grid, community, street, bbox)
    if option is None:
        return _everything(conn)
    kind, value = option
    if kind == "bbox":
        return _bbox(value)
    return {"grid": _grid, "community": _community, "street": _street}[kind](conn, value)


def _filter(scope: Scope, name: str, *, margin_m: float = 0.0, window: bool = False,
            alias: str = "") -> tuple[str, dict]:
    """SQL condition (and parameters) selecting a layer's rows inside the scope (or its map window)."""
    geom, key = f"{alias}geom", f"{alias}{layer_spec(name).key}"
    if scope.kind == "all":
        return "", {}
    if window:
        return f"{geom} && ST_MakeEnvelope(:wx0, :wy0, :wx1, :wy1, 4326)", dict(
            zip(("wx0", "wy0", "wx1", "wy1"), scope.window(), strict=True))
    if scope.cells and margin_m <= 0 and name == "cells":
        return f"{key} = ANY(:cells)", {"cells": list(scope.cells)}
    if scope.cells and margin_m <= 0 and name == "units":
        return (f"{key} IN (SELECT feature_id FROM feature_cells WHERE layer = 'units' AND h3 = ANY(:cells))",
                {"cells": list(scope.cells)})
    params = {"scope": scope.buffered(margin_m).wkt}
    if layer_spec(name).geom_type == "POINT":
        return f"ST_Intersects({geom}, ST_GeomFromText(:scope, 4326))", params
    # polygons and lines: interiors must meet, so a zone only touching a grid's edge is not the grid's
    return (f"ST_Intersects({geom}, ST_GeomFromText(:scope, 4326)) "
            f"AND NOT ST_Touches({geom}, ST_GeomFromText(:scope, 4326))", params)


def _frame(conn: Connection, query: str, where: str, params: dict) -> gpd.GeoDataFrame:
    """Rows of a named query in db/sql (with a geom WKB column and a $where) as a WGS84 GeoDataFrame."""
    result = conn.execute(sql(query, where=f"WHERE {where}" if where else ""), params)
    cols = list(result.keys())
    rows = result.all()
    data = {c: pd.Series([r[i] for r in rows], dtype=object) for i, c in enumerate(cols)}
    wkb = data.pop("geom")
    geoms = shapely.from_wkb(wkb.to_numpy()) if rows else np.array([], dtype=object)
    for c, values in data.items():  # integer columns with NULLs stay integers
        kind = pd.api.types.infer_dtype(values, skipna=True)
        data[c] = values.astype("Int64") if kind == "integer" else values.infer_objects()
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def read_scoped(conn: Connection, name: str, scope: Scope, *, margin_m: float = 0.0,
                window: bool = False) -> gpd.GeoDataFrame:
    """One registry layer's rows inside the scope (grown by margin_m, or its map window), as read_layer gives."""
    where, params = _filter(scope, name, margin_m=margin_m, window=window)
    return read_layer(conn, layer_spec(name), where, params)


def layer_for_export(conn: Connection, name: str, grid: str | None = None, community: str | None = None,
                     street: str | None = None, bbox: str | None = None) -> gpd.GeoDataFrame:
    """A registry layer, whole or inside one scope, with H3 indexes as hex text (as files want them)."""
    if scope_option(grid, community, street, bbox) is None:
        gdf = read_layer(conn, layer_spec(name))
    else:
        gdf = read_scoped(conn, name, resolve_scope(conn, grid, community, street, bbox))
    if "h3" in gdf.columns:
        gdf["h3"] = gdf["h3"].map(lambda v: None if pd.isna(v) else format(int(v), "x"))  # None/NaN: no cell
    return gdf


def read_units(conn: Connection, scope: Scope, *, window: bool = False) -> gpd.GeoDataFrame:
    """Units inside the scope with their public code, rating, grid code and grid officer."""
    where, params = _filter(scope, "units", window=window, alias="u.")
    return _frame(conn, "scope_units", where, params)


def units_by_id(conn: Connection, ids: list[int]) -> gpd.GeoDataFrame:
    """Units by id, as read_units gives them, in the order given; NotFoundError naming any unknown id."""
    units = _frame(conn, "scope_units", "u.id = ANY(:ids)", {"ids": [int(i) for i in ids]})
    missing = sorted(set(int(i) for i in ids) - set(units["id"].astype(int)))
    if missing:
        raise NotFoundError(f"no unit with id {', '.join(map(str, missing))}", source="units")
    return units.set_index("id", drop=False).loc[[int(i) for i in ids]].reset_index(drop=True)


def read_zones(conn: Connection, scope: Scope, *, window: bool = False) -> gpd.GeoDataFrame:
    """Current zones inside the scope with party, grid code and the officer of the grid they lie in."""
    where, params = _filter(scope, "zones", window=window, alias="z.")
    zones = _frame(conn, "scope_zones", where, params)
    res = stored_res(conn)
    if zones.empty or res is None:
        return zones.assign(**{c: pd.Series([None] * len(zones), index=zones.index, dtype=object)
                               for c in CELL_FACTS})
    inside = gpd.GeoSeries(shapely.point_on_surface(np.asarray(zones.geometry.values)), crs=4326)
    _, cells = h3cells.cover_features(inside, int(res))
    found = cell_facts(conn, cells)
    return zones.assign(**{c: found[c].to_numpy(dtype=object) for c in CELL_FACTS})


def cell_facts(conn: Connection, cells) -> pd.DataFrame:
    """Grid code and first officer (name, phone) of each H3 cell, in the order given (NaN for unknown cells)."""
    cells = np.asarray(cells, dtype=np.int64)
    rows = conn.execute(sql("cell_facts"), {"cells": np.unique(cells).tolist()}).mappings().all()
    return pd.DataFrame(rows, columns=["h3", *CELL_FACTS]).set_index("h3").reindex(cells)


def read_scope_layers(conn: Connection, scope: Scope, layers: tuple[str, ...] = MAP_LAYERS, *,
                      window: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """The named layers inside the scope (zones and units with their extra facts)."""
    readers = {"zones": read_zones, "units": read_units}
    return {name: readers[name](conn, scope, window=window) if name in readers
            else read_scoped(conn, name, scope, window=window) for name in layers}
