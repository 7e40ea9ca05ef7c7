"""责任牌 boards of stored units: each unit's duties, zone, building and street, handed to board_pdf."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..db.layers import layer_spec
from ..db.sql import sql
from ..db.store import read_layer
from ..errors import NotFoundError
from ..geo.crs import local_metric_crs
from ..zones.policies import load_policy
from .board_pdf import boards_pdf

DEFAULT_POLICY = "三包"


def default_policy(conn: Connection) -> str:
    """The policy of the latest zone build (三包 before any build)."""
    return conn.execute(sql("latest_build_policy")).scalar() or DEFAULT_POLICY


def unit_names(units: gpd.GeoDataFrame) -> pd.Series:
    """Each unit's name, or 未命名 便利店 (its kind, from the catalogue) for one without."""
    return pd.Series(load_catalogue().unit_labels(units["name"], units["category"]), index=units.index, dtype=object)


def read_unit_zones(conn: Connection, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The units' current zones, wherever they lie."""
    return read_layer(conn, layer_spec("zones"), "unit_id = ANY(:ids)", {"ids": [int(i) for i in units["id"]]})


def read_board_sources(conn: Connection, units: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The units' current zones (wherever they lie), their buildings and the streets of those zones."""
    zones = read_unit_zones(conn, units)
    building_ids = [int(b) for b in units["building_id"].dropna()]
    street_ids = [int(s) for s in zones["street_id"].dropna().unique()]
    return {"zones": zones,
            "buildings": read_layer(conn, layer_spec("buildings"), "id = ANY(:ids)", {"ids": building_ids}),
            "streets": read_layer(conn, layer_spec("streets"), "id = ANY(:ids)", {"ids": street_ids})}


def board_units(units: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
                streets: gpd.GeoDataFrame, policy: str) -> list[dict]:
    """board_pdf's unit dicts, in the units' order: geometries in one metric CRS, duties by each zone's policy."""
    if units.empty:
        return []
    parts = [g.geometry for g in (units, zones, buildings) if len(g)]
    crs = local_metric_crs(gpd.GeoSeries(pd.concat(parts, ignore_index=True), crs=4326))
    zone_geom = zones.geometry.to_crs(crs).groupby(zones["unit_id"].to_numpy()).agg(lambda g: g.union_all())
    first = zones.sort_values("area_m2", ascending=False, kind="stable").drop_duplicates("unit_id")
    first = first.set_index("unit_id")
    building_geom = pd.Series(buildings.geometry.to_crs(crs).values, index=buildings["id"].to_numpy())
    street_line = pd.Series(gpd.GeoSeries(streets["centerline"], crs=4326).to_crs(crs).values,
                            index=streets["id"].to_numpy())
    street_name = pd.Series(streets["name"].to_numpy(), index=streets["id"].to_numpy())
    ids = units["id"].to_numpy()
    names = unit_names(units).to_numpy()
    policy_of = first["policy"].astype(object).reindex(ids).fillna(policy).to_numpy()
    street_of = first["street_id"].reindex(ids).to_numpy()
    zone_of = zone_geom.reindex(ids).to_numpy()
    building_of = building_geom.reindex(units["building_id"].astype("float").to_numpy()).to_numpy()
    line_of = street_line.reindex(street_of).to_numpy()
    name_of = street_name.reindex(street_of).to_numpy()
    out = []
    for i, (_, u) in enumerate(units.iterrows()):  # one dict per board: as many as pages, not a hot path
        out.append({"id": int(u["id"]), "name": names[i], "code": u["public_code"], "address": _plain(u["address"]),
                    "officer": (_plain(u["officer_name"]), _plain(u["officer_phone"])),
                    "grid_code": _plain(u["grid_code"]), "duties": load_policy(policy_of[i]),
                    "street_name": _plain(name_of[i]), "zone": _geom(zone_of[i]), "building": _geom(building_of[i]),
                    "street": _geom(line_of[i])})
    return out


def _plain(value) -> str:
    """Text of a value, '' when missing."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _geom(value):
    """A geometry, or None for a missing one."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def write_boards(conn: Connection, units: gpd.GeoDataFrame, out: Path, *, base_url: str,
                 hotline: str | None = None) -> Path:
    """One 责任牌 page per unit (in the given order) with a QR code of {base_url}/u/{public_code}."""
    if units.empty:
        raise NotFoundError("no units to make boards for", source="boards")
    sources = read_board_sources(conn, units)
    boards = board_units(units, sources["zones"], sources["buildings"], sources["streets"], default_policy(conn))
    return boards_pdf(boards, out, base_url=base_url, hotline=hotline)
