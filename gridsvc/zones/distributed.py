"""The zone build on a dask cluster: the city cut by H3 parent cells, each partition running the pure core.

`gridsvc build zones --workers N` (a local cluster) or `--scheduler ADDRESS` (an existing one). The client, the
`gridsvc build zones` process, reads the city, cuts it, sends each partition's inputs to the workers, gathers the
results and loads them into PostGIS in one transaction, as the single-process build does (zones/build.py). Steps:

1. frontage zones (`build_frontage_zones`): a partition's core is the units whose point lies in one partition
   cell; its inputs are every street, building (with all its units), unit and planner zone within a halo of them
   (`halo_m`). Only the core units' zones and reasons are kept.
2. street space (`build_street_space`): a street's space is its band minus every zone along it, so it waits for
   step 1. A partition's core is the streets whose midpoint lies in the cell; its inputs are the streets,
   buildings, frontage and planner zones near them.
3. compound and market zones (`build_area_zones`): one task beside step 1 (few rows; only the buildings near a
   market matter).
4. priority and edge matching (`priority.resolve`: clip by higher layers, then coverage_clean over all layers) and
   the WGS84 clean-up. A zone's result depends on its neighbours and on every higher zone overlapping it, which
   were clipped by higher zones in turn; a partition's core is the zones whose box centre lies in the cell, its
   inputs the neighbours of the core plus the higher-priority overlaps of all of those, transitively (at most one
   step per layer), so that the clip is the whole city's. coverage_clean nodes edges within 0.1 mm (priority.SNAP_M),
   the only place where a partition can differ from the whole city, and by less than that.

Partition cells (`partition_cells`) are H3 cells of mixed resolutions: each step starts from `parent_res` and splits
a cell holding more than its cap (UNITS_PER_PART units, STREETS_PER_PART streets, ZONES_PER_PART zones) into its
children, as long as they stay MIN_EDGE_HALOS halos across, which bounds a worker's memory whatever the city's size.
Partitions keep the rows in the city's order, so ties (the nearer unit, the first zone) fall as in one process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import geopandas as gpd
import h3.api.basic_int as h3
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import InputError
from ..geo import priority
from ..geo.frontage import (
    REASON_FAR,
    FrontageResult,
    build_area_zones,
    build_frontage_zones,
    build_street_space,
    metric_crs_of,
)
from ..geo.h3cells import point_cells
from .build import finish_layer
from .policies import Policy

Progress = Callable[[str, int, int], None]
M_PER_DEG = 110_000.0  # below the real 110.6–111.3 km per degree: halos in degrees err on the deep side
MIN_EDGE_HALOS = 6  # a parent cell's edge is at least this many halos deep: the halo adds well under half the work
PARTS_PER_THREAD = 4  # the coarsest parent resolution giving this many partitions per worker thread
IN_FLIGHT_PER_THREAD = 2  # partitions sent ahead: a worker holds a few partitions' inputs, not the city's
# The most units, streets and zones a partition holds where its cell can still be split (partition_cells). A
# worker's memory follows its partitions' size: at ×700, 15 res-4 partitions of ~15,000 units peaked at 1,559 MB per
# worker (2 partitions in flight each); at ×2000 the same cells held ~45,000 units and workers passed 5,921 MB; with
# these caps, 729 MB at ×700 and 814 MB at ×2000 (bench/results/zones_dask.json).
# Streets and zones are capped in the city's proportion to units (Nanjing: 0.8 streets and 1.8 zones per unit).
UNITS_PER_PART = 12_000
STREETS_PER_PART = 10_000
ZONES_PER_PART = 24_000
EDGE_EPS_M = 0.01  # zones whose boxes come this close are neighbours for edge matching (>> priority.SNAP_M)
STREET_COLS = ("id", "osm_class", "width_m", "sidewalk", "centerline")
UNIT_COLS = ("id", "building_id", "building_holder")


def halo_m(policy: Policy, streets: gpd.GeoDataFrame) -> float:
    """How deep the halo around a partition's core units must be, from the policy and the widest street.

    A unit's zone depends on the façades and units within `reach` of its street on both sides of it (the
    nearest-to-the-street envelope and the search for its street) and on neighbours `split` along the street
    (gaps shared up to the midpoint, max_gap_fill_m each way; units without building share default_frontage_m).
    Overlaps are then given to the nearer of two units, so the neighbours' own zones must be right too: twice.
    """
    width = pd.to_numeric(streets["width_m"], errors="coerce").to_numpy(float)
    reach = (float(np.nanmax(width)) / 2.0 if len(width) else 0.0) + policy.max_distance_m
    split = 2.0 * policy.max_gap_fill_m + policy.default_frontage_m
    return 2.0 * (2.0 * reach + split)


def parent_res(lng: np.ndarray, lat: np.ndarray, halo: float, threads: int, sample: int = 20_000) -> int:
    """The coarsest H3 resolution that cuts the points into PARTS_PER_THREAD partitions per thread, but none
    whose cells are under MIN_EDGE_HALOS halos across."""
    if len(lng) > sample:
        pick = np.random.default_rng(0).choice(len(lng), sample, replace=False)
        lng, lat = lng[pick], lat[pick]
    best = 0
    for res in range(0, finest_res(halo) + 1):
        best = res
        if len(np.unique(point_cells(lng, lat, res))) >= PARTS_PER_THREAD * threads:
            break
    return best


def finest_res(halo: float) -> int:
    """The finest H3 resolution whose cells are still MIN_EDGE_HALOS halos across (edge length), at least 0."""
    res = 0
    while res < 15 and h3.average_hexagon_edge_length(res + 1, "m") >= MIN_EDGE_HALOS * halo:
        res += 1
    return res


def partition_cells(lng: np.ndarray, lat: np.ndarray, halo: float, threads: int, cap: int) -> np.ndarray:
    """The partition (an H3 cell, of mixed resolutions) of each WGS84 point.

    Cells start at `parent_res`; a cell holding more than `cap` points is split into its children, again until
    none is over the cap or its children would be under MIN_EDGE_HALOS halos across (then it stays, over the cap).
    A point's cell is always an ancestor of its cell at the finest such resolution (h3.cell_to_parent), so every
    point falls in exactly one partition and a split cell's points all go to its children.
    """
    if len(lng) == 0:
        return np.array([], dtype=np.int64)
    base, fine_res = parent_res(lng, lat, halo, threads), finest_res(halo)
    fine_cells, at = np.unique(point_cells(lng, lat, fine_res), return_inverse=True)
    res = np.full(len(fine_cells), base)  # the resolution each fine cell's points are grouped at

    def ancestors() -> np.ndarray:
        return np.fromiter((h3.cell_to_parent(int(c), int(r)) for c, r in zip(fine_cells, res, strict=True)),
                           dtype=np.int64, count=len(fine_cells))

    per_fine = np.bincount(at, minlength=len(fine_cells))  # points per fine cell
    parent = ancestors()
    while True:
        _, inv = np.unique(parent, return_inverse=True)
        over = (np.bincount(inv, weights=per_fine)[inv] > cap) & (res < fine_res)  # fine cells in a cell over the cap
        if not over.any():
            return parent[at]
        res[over] += 1
        parent = ancestors()


def _grow(bounds: np.ndarray, m: float) -> np.ndarray:
    """WGS84 boxes (minx, miny, maxx, maxy) grown by m metres on every side."""
    dlat = m / M_PER_DEG
    lat = np.minimum(np.maximum(np.abs(bounds[..., 1]), np.abs(bounds[..., 3])) + dlat, 89.0)
    dlng = m / (M_PER_DEG * np.cos(np.radians(lat)))
    return np.stack([bounds[..., 0] - dlng, bounds[..., 1] - dlat, bounds[..., 2] + dlng, bounds[..., 3] + dlat], -1)


def _union_box(bounds: np.ndarray) -> np.ndarray:
    b = bounds[np.isfinite(bounds).all(axis=1)]
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def _groups(cells: np.ndarray) -> list[np.ndarray]:
    """Row positions by cell, each in row order."""
    order = np.argsort(cells, kind="stable")
    cuts = np.flatnonzero(np.diff(cells[order])) + 1
    return np.split(order, cuts) if len(order) else []


def _near(tree: shapely.STRtree, box: np.ndarray) -> np.ndarray:
    """Rows whose boxes meet the box, in row order."""
    return np.unique(tree.query(shapely.box(*box)))


def _rep_points(geoms: np.ndarray) -> np.ndarray:
    return np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator:
    """A dask client: on the scheduler at ADDRESS, else on a local cluster of `workers` one-thread processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--workers/--scheduler need dask: pip install 'gridsvc[dask]'") from None

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.WARNING) as cluster, Client(cluster) as client:
        yield client


def run_tasks(client, fn, payloads: Iterable, total: int, label: str, tick: Progress, *args) -> list:
    """fn(payload, *args) for each payload on the cluster, a bounded number in flight; results in payload order."""
    from distributed import as_completed

    limit = IN_FLIGHT_PER_THREAD * max(sum(client.nthreads().values()), 1)
    results: list = [None] * total
    pending: dict = {}
    feed = enumerate(payloads)
    done = as_completed()

    def submit_next() -> None:  # the payload is a local here: the client keeps no partition's inputs once sent
        item = next(feed, None)
        if item is not None:
            k, payload = item
            [data] = client.scatter([payload], hash=False)
            future = client.submit(fn, data, *args, pure=False)
            pending[future.key] = (k, data)
            done.add(future)

    for _ in range(limit):
        submit_next()
    finished = 0
    tick(label, 0, total)
    for future in done:
        k = pending.pop(future.key)[0]  # dropping the scattered inputs' future frees them on the worker
        results[k] = future.result()
        future.release()  # and the worker's copy of the result, now gathered
        finished += 1
        tick(label, finished, total)
        submit_next()
    return results


def _frontage_task(p: dict, policy: Policy, crs) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    core = p["core"]
    if len(p["streets"]) == 0:  # no street within the halo: further than the distance limit from any
        return None, pd.DataFrame({"unit_id": core, "reason": REASON_FAR.format(policy.max_distance_m)})
    r = build_frontage_zones(p["streets"], p["buildings"], p["units"], policy, fixed=p["planner"], metric=True,
                             crs=crs, street_space=False)
    return (r.zones[np.isin(r.zones["unit_id"].to_numpy(), core)],
            r.unassigned[np.isin(r.unassigned["unit_id"].to_numpy(), core)])


def _street_space_task(p: dict, policy: Policy, crs) -> gpd.GeoDataFrame:
    space = build_street_space(p["streets"], p["buildings"], p["zones"], policy, fixed=p["planner"], crs=crs)
    return space[np.isin(space["street_id"].to_numpy(), p["core"])]


def _areas_task(p: dict, policy: Policy, crs) -> gpd.GeoDataFrame:
    return build_area_zones(p["compounds"], p["markets"], policy, buildings=p["buildings"], metric_crs=crs)


def _resolve_task(p: dict, metric, n_layers: int) -> list[pd.DataFrame]:
    layers = [gpd.GeoDataFrame({"row": p["row"][p["layer"] == k], "core": p["core"][p["layer"] == k]},
                               geometry=p["geoms"][p["layer"] == k], crs=metric) for k in range(n_layers)]
    return [pd.DataFrame(finish_layer(d[d["core"].to_numpy(bool)], metric)[["row", "area_m2", "geometry"]])
            for d in priority.resolve(layers)]


class DaskCompute:
    """The zone build's computing steps on a dask cluster (the single-process ones: build.LocalCompute)."""

    def __init__(self, client, tick: Progress | None = None, units_per_part: int = UNITS_PER_PART,
                 streets_per_part: int = STREETS_PER_PART, zones_per_part: int = ZONES_PER_PART):
        self.client = client
        self.tick = tick or (lambda *_: None)
        self.caps = {"frontage": units_per_part, "street_space": streets_per_part, "resolve": zones_per_part}
        self.halo = 0.0
        self.partitions: dict[str, int] = {}  # per step: how many partitions,
        self.largest: dict[str, int] = {}  # the most rows (units, streets, zones) in one,
        self.resolutions: dict[str, list[int]] = {}  # and the H3 resolutions of their cells

    def _partition(self, step: str, lng: np.ndarray, lat: np.ndarray) -> list[np.ndarray]:
        """Row positions of each partition of the step's points (partition_cells under the step's cap)."""
        cells = partition_cells(lng, lat, self.halo, self.threads(), self.caps[step])
        groups = _groups(cells)
        self.partitions[step] = len(groups)
        self.largest[step] = max((len(g) for g in groups), default=0)
        self.resolutions[step] = sorted({h3.get_resolution(int(c)) for c in np.unique(cells)})
        return groups

    def threads(self) -> int:
        return max(sum(self.client.nthreads().values()), 1)

    def frontage_and_areas(self, streets, buildings, units, compounds, markets, planner, policy: Policy
                           ) -> tuple[FrontageResult, gpd.GeoDataFrame]:
        """Frontage zones and unassigned units (step 1), area zones (step 3), then street space (step 2)."""
        crs = metric_crs_of(streets)
        halo = self.halo = halo_m(policy, streets)
        upts = _rep_points(np.asarray(units.geometry.values, dtype=object))
        streets = streets[[c for c in STREET_COLS if c in streets] + [streets.geometry.name]]
        units = units[[c for c in UNIT_COLS if c in units] + [units.geometry.name]]
        buildings = buildings[["id", buildings.geometry.name]]
        sbox = np.where(np.isfinite(shapely.bounds(streets.geometry.values)), shapely.bounds(streets.geometry.values),
                        shapely.bounds(np.asarray(streets["centerline"].values, dtype=object)))
        s_tree = shapely.STRtree(shapely.box(*sbox.T))
        bbounds = shapely.bounds(np.asarray(buildings.geometry.values, dtype=object))
        b_tree = shapely.STRtree(np.asarray(buildings.geometry.values, dtype=object))
        p_tree = shapely.STRtree(np.asarray(planner.geometry.values, dtype=object))
        ubld = pd.Index(buildings["id"]).get_indexer(pd.array(units["building_id"], dtype=object)) if len(units) \
            else np.array([], dtype=np.int64)
        lone = np.flatnonzero(ubld < 0)
        lone_tree = shapely.STRtree(upts[lone])
        ubounds = shapely.bounds(upts)

        def inputs(core: np.ndarray, extra: np.ndarray | None = None) -> dict:
            own = ubld[core][ubld[core] >= 0]
            box = _grow(_union_box(np.vstack([ubounds[core], bbounds[own]])), halo)
            b_rows = _near(b_tree, box)
            chosen = np.zeros(len(buildings), dtype=bool)
            chosen[b_rows] = True
            u_rows = np.union1d(np.flatnonzero((ubld >= 0) & chosen[np.maximum(ubld, 0)]),
                                lone[_near(lone_tree, box)])
            # streets crossing a chosen building too (metro stations over a street are not façades)
            s_box = _union_box(np.vstack([box[None], bbounds[b_rows]])) if len(b_rows) else box
            return {"streets": streets.iloc[_near(s_tree, s_box)], "buildings": buildings.iloc[b_rows],
                    "units": units.iloc[u_rows], "planner": planner.iloc[_near(p_tree, box)],
                    "core": units["id"].to_numpy()[core]}

        groups = self._partition("frontage", shapely.get_x(upts), shapely.get_y(upts))
        areas = self._areas_future(compounds, markets, buildings, b_tree, policy, crs)
        parts = run_tasks(self.client, _frontage_task, (inputs(g) for g in groups), len(groups),
                          "frontage zones (partitions)", self.tick, policy, crs)
        zones = [z for z, _ in parts if z is not None and len(z)]
        unassigned = [u for _, u in parts]
        del parts
        zones = gpd.GeoDataFrame(pd.concat(zones, ignore_index=True), crs=crs) if zones else \
            gpd.GeoDataFrame({"unit_id": [], "street_id": [], "side": [], "depth_rule": [], "frontage_m": [],
                              "area_m2": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        upos, spos = pd.Index(units["id"]), pd.Index(streets["id"])
        order = np.lexsort(((zones["side"] == "right").to_numpy(), spos.get_indexer(zones["street_id"]),
                            upos.get_indexer(zones["unit_id"])))
        zones = zones.iloc[order].reset_index(drop=True)
        unassigned = pd.concat(unassigned, ignore_index=True) if unassigned else \
            pd.DataFrame({"unit_id": [], "reason": []})
        unassigned = unassigned.iloc[np.argsort(upos.get_indexer(unassigned["unit_id"]), kind="stable")]
        space = self._street_space(streets, s_tree, sbox, buildings, b_tree, zones, planner, p_tree, policy, crs)
        return FrontageResult(zones, unassigned.reset_index(drop=True), space), areas.result()

    def _areas_future(self, compounds, markets, buildings, b_tree, policy: Policy, crs):
        """Compound and market zones in one task; only buildings near a market are sent."""
        near = np.array([], dtype=np.int64)
        if len(markets):
            boxes = _grow(shapely.bounds(np.asarray(markets.geometry.values, dtype=object)), policy.market_strip_m + 1)
            near = np.unique(b_tree.query(shapely.box(*boxes.T))[1])
        [data] = self.client.scatter([{"compounds": compounds, "markets": markets, "buildings": buildings.iloc[near]}],
                                     hash=False)
        return self.client.submit(_areas_task, data, policy, crs, pure=False)

    def _street_space(self, streets, s_tree, sbox, buildings, b_tree, zones, planner, p_tree, policy: Policy, crs):
        """Step 2: street space by the cell of each street's midpoint, given the frontage zones near it."""
        width = pd.to_numeric(streets["width_m"], errors="coerce").to_numpy(float)
        margin = 2.0 * (float(np.nanmax(width)) / 2.0 + policy.max_depth_m) + 1.0  # bands of streets that meet
        zg = np.asarray(zones.geometry.values, dtype=object)
        zbox = _wgs84_boxes(zg, crs, EDGE_EPS_M + 0.5)
        z_tree = shapely.STRtree(shapely.box(*zbox.T))
        bbounds = shapely.bounds(np.asarray(buildings.geometry.values, dtype=object))
        mid = shapely.line_interpolate_point(np.asarray(streets["centerline"].values, dtype=object), 0.5,
                                             normalized=True)
        groups = self._partition("street_space", shapely.get_x(mid), shapely.get_y(mid))

        def inputs(core: np.ndarray) -> dict:
            box = _grow(_union_box(sbox[core]), margin)
            b_rows = _near(b_tree, box)
            s_box = _union_box(np.vstack([box[None], bbounds[b_rows]])) if len(b_rows) else box
            return {"streets": streets.iloc[_near(s_tree, s_box)], "buildings": buildings.iloc[b_rows],
                    "zones": zones.iloc[_near(z_tree, box)][[zones.geometry.name]],
                    "planner": planner.iloc[_near(p_tree, box)], "core": streets["id"].to_numpy()[core]}

        parts = run_tasks(self.client, _street_space_task, (inputs(g) for g in groups), len(groups),
                          "street space (partitions)", self.tick, policy, crs)
        parts = [p for p in parts if len(p)]
        if not parts:
            return gpd.GeoDataFrame({"street_id": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        space = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
        order = np.argsort(pd.Index(streets["id"]).get_indexer(space["street_id"]), kind="stable")
        return space.iloc[order].reset_index(drop=True)

    def resolve(self, layers: list[gpd.GeoDataFrame], metric) -> list[gpd.GeoDataFrame]:
        """Step 4: priority.resolve and the WGS84 clean-up by partition; the same layers as build.resolve_to_wgs84."""
        sizes = [len(layer) for layer in layers]
        geoms = np.concatenate([np.asarray(layer.geometry.values, dtype=object) for layer in layers])
        layer = np.repeat(np.arange(len(layers)), sizes)
        row = np.concatenate([np.arange(n) for n in sizes]) if len(sizes) else np.array([], dtype=np.int64)
        b = np.nan_to_num(shapely.bounds(geoms))
        boxes = shapely.box(b[:, 0] - EDGE_EPS_M, b[:, 1] - EDGE_EPS_M, b[:, 2] + EDGE_EPS_M, b[:, 3] + EDGE_EPS_M)
        i, j = shapely.STRtree(boxes).query(boxes)
        del boxes  # the neighbour lists below are all the partitions need
        order = np.argsort(i, kind="stable")
        nbr = j[order]
        ptr = np.searchsorted(i[order], np.arange(len(geoms) + 1))
        del i, j, order
        lng, lat = pyproj.Transformer.from_crs(metric, 4326, always_xy=True).transform(
            (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        groups = self._partition("resolve", np.asarray(lng), np.asarray(lat))

        def neighbours(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            count = ptr[rows + 1] - ptr[rows]
            at = np.repeat(ptr[rows] - np.cumsum(count) + count, count) + np.arange(count.sum())
            return nbr[at], np.repeat(rows, count)

        def inputs(core: np.ndarray) -> dict:
            keep = np.zeros(len(geoms), dtype=bool)
            keep[core] = True
            keep[neighbours(core)[0]] = True  # edge matching meets the neighbours
            frontier = np.flatnonzero(keep)
            while len(frontier):  # and every zone clipped by a higher one needs that one, as clipped
                to, by = neighbours(frontier)
                up = np.unique(to[layer[to] < layer[by]])
                frontier = up[~keep[up]]
                keep[frontier] = True
            rows = np.flatnonzero(keep)
            is_core = np.zeros(len(geoms), dtype=bool)
            is_core[core] = True
            return {"geoms": geoms[rows], "layer": layer[rows], "row": row[rows], "core": is_core[rows]}

        parts = run_tasks(self.client, _resolve_task, (inputs(g) for g in groups), len(groups),
                          "priority and edge matching (partitions)", self.tick, metric, len(layers))
        out = []
        for k, source in enumerate(layers):
            got = [p[k] for p in parts if len(p[k])]
            for p in parts:  # each layer's rows are gathered once: the partitions' copies go as they are merged
                p[k] = None
            got = pd.concat(got, ignore_index=True).sort_values("row") if got else \
                pd.DataFrame({"row": np.array([], dtype=np.int64), "area_m2": [], "geometry": []})
            frame = pd.DataFrame(source.drop(columns=source.geometry.name)).iloc[got["row"].to_numpy()]
            frame = frame.assign(area_m2=got["area_m2"].to_numpy())
            out.append(gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(got["geometry"].to_numpy(), crs=4326).values,
                                        crs=4326))
        return out


def _wgs84_boxes(geoms: np.ndarray, crs, grow_m: float) -> np.ndarray:
    """WGS84 boxes around metric geometries (their boxes' corners transformed), grown by grow_m."""
    if len(geoms) == 0:
        return np.zeros((0, 4))
    b = np.nan_to_num(shapely.bounds(geoms))
    t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    xs, ys = t.transform(np.stack([b[:, 0], b[:, 2], b[:, 0], b[:, 2]], 1), np.stack([b[:, 1], b[:, 1], b[:, 3], b[:, 3]], 1))
    return _grow(np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1), grow_m)
