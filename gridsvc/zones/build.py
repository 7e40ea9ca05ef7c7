"""`gridsvc build zones`: frontage and area zones from the stored city, written as new versions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine

from ..db import store
from ..db.layers import layer_spec
from ..db.sql import sql
from ..errors import NotFoundError
from ..geo import priority
from ..geo.crs import local_metric_crs
from ..geo.frontage import (
    build_area_zones,
    build_frontage_zones,
    building_holders,
    holders_through_institution,
    to_wgs84_clean,
)
from ..people import audit
from ..people.parties import sync_parties
from .policies import Policy, load_policy

Progress = Callable[[str, int, int], None]
ZONE_COLUMNS = ("zone_key", "kind", "policy", "party_id", "unit_id", "street_id", "compound_id", "market_id",
                "props", "geom")


@dataclass
class ZoneBuildReport:
    """What a zone build produced and changed."""

    build_id: int
    policy: str
    counts: dict[str, int] = field(default_factory=dict)
    opened: int = 0
    closed: int = 0
    unassigned: list[dict] = field(default_factory=list)


def _read(conn: Connection, name: str) -> gpd.GeoDataFrame:
    return store.read_layer(conn, layer_spec(name))


def _planner_zones(conn: Connection) -> gpd.GeoDataFrame:
    rows = conn.execute(sql("planner_zones")).all()
    return gpd.GeoDataFrame({"id": [r[0] for r in rows]},
                            geometry=gpd.GeoSeries.from_wkb([r[1] for r in rows], crs=4326), crs=4326)


def _party_ids(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(sql("party_ids_by_ref")).all())


def _projected(crs):
    return crs if crs is not None and crs.is_projected else None


def _nullable_int(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else int(v) for v in values]


Resolver = Callable[[list[gpd.GeoDataFrame], object], list[gpd.GeoDataFrame]]


def resolve_to_wgs84(layers: list[gpd.GeoDataFrame], metric) -> list[gpd.GeoDataFrame]:
    """priority.resolve over the layers (metric CRS, priority order), each zone's area_m2, geometries to WGS84."""
    return [finish_layer(layer, metric) for layer in priority.resolve(layers)]


def finish_layer(layer: gpd.GeoDataFrame, metric) -> gpd.GeoDataFrame:
    """Resolved zones (metric): area_m2 added, geometries cleaned to WGS84 (row by row)."""
    geoms = np.asarray(layer.geometry.values, dtype=object)
    out = pd.DataFrame(layer.drop(columns=layer.geometry.name)).assign(area_m2=np.round(shapely.area(geoms), 2))
    return gpd.GeoDataFrame(out, geometry=to_wgs84_clean(geoms, metric).values, crs=4326)


def assemble(result, areas: gpd.GeoDataFrame, planner: gpd.GeoDataFrame, streets: gpd.GeoDataFrame,
             policy: Policy, parties: dict[str, int], through: dict[int, int] | None = None,
             resolve: Resolver = resolve_to_wgs84) -> gpd.GeoDataFrame:
    """One disjoint zone table: frontage > market > compound > street space, all clipped around planner zones.

    through: unit id -> compound id of the institution through which that unit (a building) holds its frontage.
    resolve: makes the layers disjoint and cleans them to WGS84 (gridsvc.zones.distributed does it by partition).
    """
    through = through or {}
    metric = _projected(result.zones.crs) or local_metric_crs(streets)

    def metric_valid(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        out = gdf.to_crs(metric)
        geoms = np.array(out.geometry.values, dtype=object)
        bad = ~shapely.is_valid(geoms)  # make_valid returns a valid geometry unchanged: only copy the others
        geoms[bad] = shapely.make_valid(geoms[bad])
        out.geometry = geoms
        return out

    front = metric_valid(result.zones)
    markets = metric_valid(areas[areas["kind"] == "market"])
    compounds = metric_valid(areas[areas["kind"] == "compound"])
    space = metric_valid(result.street_space)
    fixed = metric_valid(planner)
    _, front, markets, compounds, space = resolve([fixed, front, markets, compounds, space], metric)
    steward = dict(zip(streets["id"], streets.get("steward_party_id", pd.Series(dtype=object)), strict=False))
    frames = []
    if len(front):
        frames.append(pd.DataFrame({
            "zone_key": [f"frontage:unit:{u}:street:{s}:{side}" for u, s, side in
                         zip(front["unit_id"], front["street_id"], front["side"], strict=True)],
            "kind": "frontage", "party_id": [parties.get(f"compound:{through[u]}" if u in through else f"unit:{u}")
                                             for u in front["unit_id"]],
            "unit_id": front["unit_id"].to_numpy(), "street_id": front["street_id"].to_numpy(),
            "props": [{"side": a, "depth_rule": b, "frontage_m": round(float(c), 2)} for a, b, c in
                      zip(front["side"], front["depth_rule"], front["frontage_m"], strict=True)],
            "area_m2": front["area_m2"].to_numpy(), "geometry": front.geometry.values}))
    for kind, frame, ref_col, id_col in (("market", markets, "market", "market_id"),
                                         ("compound", compounds, "compound", "compound_id")):
        if len(frame):
            ids = frame[id_col].to_numpy()
            frames.append(pd.DataFrame({
                "zone_key": [f"{kind}:{i}" for i in ids], "kind": kind,
                "party_id": [parties.get(f"{ref_col}:{i}") for i in ids], id_col: ids,
                "props": [{"no_manager": bool(v)} if kind == "compound" else {} for v in
                          frame.get("no_manager", pd.Series(False, index=frame.index))],
                "area_m2": frame["area_m2"].to_numpy(), "geometry": frame.geometry.values}))
    if len(space):
        sid = space["street_id"].to_numpy()
        frames.append(pd.DataFrame({
            "zone_key": [f"street_space:{s}" for s in sid], "kind": "street_space",
            "party_id": [steward.get(s) for s in sid], "street_id": sid, "props": [{} for _ in sid],
            "area_m2": space["area_m2"].to_numpy(), "geometry": space.geometry.values}))
    if not frames:
        return gpd.GeoDataFrame(columns=[*ZONE_COLUMNS[:-1], "geometry"], geometry="geometry", crs=4326)
    zones = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    zones["props"] = [p | {"area_m2": float(a)} for p, a in zip(zones["props"], zones["area_m2"], strict=True)]
    zones["policy"] = policy.name
    return zones[~zones.geometry.is_empty].reset_index(drop=True)


def _write_versions(conn: Connection, zones: gpd.GeoDataFrame, build_id: int) -> tuple[int, int]:
    geoms = store.ewkb_hex(store.to_multi(np.asarray(zones.geometry.values), "MULTIPOLYGON"))
    cols = {c: (zones[c].tolist() if c in zones else [None] * len(zones)) for c in ZONE_COLUMNS[:-1]}
    for c in ("party_id", "unit_id", "street_id", "compound_id", "market_id"):
        cols[c] = _nullable_int(cols[c])
    cols["props"] = [json.dumps(p, ensure_ascii=False) for p in cols["props"]]
    rows = ([*(cols[c][i] for c in ZONE_COLUMNS[:-1]), geoms[i]] for i in range(len(zones)))
    with store.temp_table(conn, "_new_zones", "zones", ZONE_COLUMNS, rows, index="zone_key"):
        closed = conn.execute(sql("close_changed_zones")).rowcount
        opened = conn.execute(sql("open_new_zones"), {"build_id": build_id}).rowcount
    return opened, closed


def zone_table(compute, streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
               compounds: gpd.GeoDataFrame, markets: gpd.GeoDataFrame, planner: gpd.GeoDataFrame, policy: Policy,
               parties: dict[str, int]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The zones (WGS84, as stored) and the units without one, computed by `compute` (LocalCompute or
    distributed.DaskCompute) from the city's layers."""
    units = units.assign(building_holder=building_holders(units, buildings))  # named office towers, schools, stations
    result, areas = compute.frontage_and_areas(streets, buildings, units, compounds, markets, planner, policy)
    zones = assemble(result, areas, planner, streets, policy, parties, holders_through_institution(units, compounds),
                     resolve=compute.resolve)
    return zones, result.unassigned


class LocalCompute:
    """The zone build's computing steps in this process (on a dask cluster: distributed.DaskCompute)."""

    def frontage_and_areas(self, streets, buildings, units, compounds, markets, planner, policy: Policy):
        result = build_frontage_zones(streets, buildings, units, policy, fixed=planner, metric=True)
        areas = build_area_zones(compounds, markets, policy, buildings=buildings, metric_crs=_projected(result.zones.crs))
        return result, areas

    def resolve(self, layers: list[gpd.GeoDataFrame], metric) -> list[gpd.GeoDataFrame]:
        return resolve_to_wgs84(layers, metric)


@contextmanager
def _compute(workers: int | None, scheduler: str | None, tick: Progress) -> Iterator:
    if not workers and not scheduler:
        yield LocalCompute()
        return
    from .distributed import DaskCompute, dask_client

    with dask_client(workers, scheduler) as client:
        yield DaskCompute(client, tick)


def build_zones(engine: Engine, policy_name: str = "三包", progress: Progress | None = None,
                workers: int | None = None, scheduler: str | None = None) -> ZoneBuildReport:
    """Rebuild all auto zones under a policy in one transaction; planner zones are kept and clipped around.

    workers: compute on a local dask cluster of that many processes; scheduler: on the dask cluster at that
    address (gridsvc.zones.distributed). The result is the same zone for zone; the load stays one transaction.
    """
    tick = progress or (lambda *_: None)
    policy = load_policy(policy_name)
    with engine.begin() as conn, _compute(workers, scheduler, tick) as compute:
        audit.start_bulk(conn)  # versions are the record; the audit log gets one summary row
        tick("reading city", 0, 5)
        streets, buildings, units = _read(conn, "streets"), _read(conn, "buildings"), _read(conn, "units")
        if streets.empty:
            raise NotFoundError("no streets imported yet: run `gridsvc ingest FILE` before `gridsvc build zones`")
        compounds, markets, planner = _read(conn, "compounds"), _read(conn, "markets"), _planner_zones(conn)
        tick("parties", 1, 5)
        sync_parties(conn)
        tick("frontage zones", 2, 5)
        zones, left = zone_table(compute, streets, buildings, units, compounds, markets, planner, policy,
                                 _party_ids(conn))
        tick("storing versions", 3, 5)
        unassigned = [{"unit_id": int(u), "reason": r} for u, r in zip(left["unit_id"], left["reason"], strict=True)]
        counts = {k: int(v) for k, v in zones["kind"].value_counts().items()} | {"unassigned_units": len(unassigned)}
        build_id = conn.execute(sql("zone_build_insert"), {"p": policy.name, "c": json.dumps(counts), "u": json.dumps(unassigned)}).scalar()
        audit.bulk(conn, "build", "zones", build_id, {"policy": policy.name, "counts": counts})
        opened, closed = _write_versions(conn, zones, build_id)
        conn.execute(sql("zone_build_analyze"))
        tick("done", 5, 5)
    return ZoneBuildReport(build_id=build_id, policy=policy.name, counts=counts, opened=opened, closed=closed,
                           unassigned=unassigned)
