"""In-memory point-in-zone index (pure): which zone covers a point, with the lookup's precedence and covers
semantics (a point on a boundary counts), for one point or many at once.

Two structures over the same zones: H3 cell -> candidate zones (the zones whose envelope meets the cell's, so a
single lookup, which computes the point's cell anyway for its grid code, tests two or three prepared polygons), and
shapely's STRtree (a batch queries it with predicate covered_by in one call; a point whose cell is not in the map
goes to it too). Zones carry a precedence key (lower answers first: planner-drawn, then zone_rank, then row id)
and a validity interval in integer microseconds, so a zone closed or opened at a given instant is filtered exactly
as the SQL's valid_from <= at < valid_to does. Units are indexed as points for the nearest one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import h3.api.basic_int as h3
import numpy as np
import shapely

from .h3cells import cell_polygons

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOREVER = np.iinfo(np.int64).max
CELL_MARGIN_DEG = 1e-6  # cells' envelopes are widened by ~0.1 m: H3 edges are geodesic, stored cells planar


def micros(t: datetime | None) -> int:
    """An aware instant as integer microseconds since 1970 (None: open-ended, FOREVER)."""
    return FOREVER if t is None else (t - EPOCH) // timedelta(microseconds=1)


def cell_boxes(cells: np.ndarray) -> np.ndarray:
    """The cells' envelopes widened by CELL_MARGIN_DEG, as box polygons."""
    return shapely.box(*(shapely.bounds(cell_polygons(np.asarray(cells, dtype=np.int64)))
                         + [-CELL_MARGIN_DEG, -CELL_MARGIN_DEG, CELL_MARGIN_DEG, CELL_MARGIN_DEG]).T)


@dataclass(frozen=True)
class ZoneIndex:
    """Zones as parallel arrays (position i: geometry, precedence key, valid interval), their STRtree and the
    H3 cell -> candidate positions map."""

    geoms: np.ndarray
    keys: np.ndarray  # int64, lower answers first
    valid_from: np.ndarray  # int64 µs
    valid_to: np.ndarray  # int64 µs, FOREVER when open
    res: int
    tree: shapely.STRtree = field(repr=False)
    cells: dict[int, np.ndarray] = field(repr=False)

    @classmethod
    def build(cls, geoms: np.ndarray, keys: np.ndarray, valid_from: np.ndarray, valid_to: np.ndarray,
              cells: np.ndarray, res: int, boxes: np.ndarray | None = None) -> ZoneIndex:
        """Index zones and map each of the grid's cells to the zones whose envelope meets its own (boxes: the
        cells' widened envelopes, cell_boxes(cells), if already known)."""
        geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(geoms)
        tree = shapely.STRtree(geoms)
        cells = np.asarray(cells, dtype=np.int64)
        cell_map: dict[int, np.ndarray] = {}
        if len(cells) and len(geoms):
            boxes = cell_boxes(cells) if boxes is None else boxes
            cell_pos, zone_pos = tree.query(boxes)
            order = np.lexsort((keys[zone_pos], cell_pos))
            cell_pos, zone_pos = cell_pos[order], zone_pos[order]
            starts = np.flatnonzero(np.r_[True, cell_pos[1:] != cell_pos[:-1]]) if len(cell_pos) else []
            for s, e in zip(starts, np.r_[starts[1:], len(cell_pos)] if len(cell_pos) else [], strict=True):
                cell_map[int(cells[cell_pos[s]])] = zone_pos[s:e]
            for c in cells:  # cells no zone meets: known to be empty (not "ask the tree")
                cell_map.setdefault(int(c), np.empty(0, dtype=np.intp))
        return cls(geoms, np.asarray(keys, dtype=np.int64), np.asarray(valid_from, dtype=np.int64),
                   np.asarray(valid_to, dtype=np.int64), res, tree, cell_map)

    def __len__(self) -> int:
        return len(self.geoms)

    def _best(self, candidates: np.ndarray, t: int) -> int:
        """The first by precedence of candidate positions valid at t; -1 if none."""
        if len(candidates) == 1:  # the usual case: one zone covers the point
            k = int(candidates[0])
            return k if self.valid_from[k] <= t < self.valid_to[k] else -1
        ok = candidates[(self.valid_from[candidates] <= t) & (t < self.valid_to[candidates])]
        if not len(ok):
            return -1
        return int(ok[np.argmin(self.keys[ok])])

    def covering(self, x: float, y: float, cell: int, t: int) -> int:
        """Position of the zone answering at (x, y) at instant t (µs), -1 if none covers it."""
        candidates = self.cells.get(cell)
        if candidates is None:
            candidates = self.tree.query(shapely.Point(x, y), predicate="covered_by")
        elif len(candidates):  # a polygon covers a point exactly when they intersect (boundary included)
            candidates = candidates[shapely.intersects_xy(self.geoms[candidates], x, y)]
        return self._best(candidates, t) if len(candidates) else -1

    def covering_many(self, xs: np.ndarray, ys: np.ndarray, t: int) -> np.ndarray:
        """Position of the answering zone for each point (-1 where none covers it), in one tree query."""
        out = np.full(len(xs), -1, dtype=np.intp)
        pt, zone = self.tree.query(shapely.points(xs, ys))  # envelopes; then the prepared zones test the points
        live = (self.valid_from[zone] <= t) & (t < self.valid_to[zone])
        pt, zone = pt[live], zone[live]
        hit = shapely.intersects_xy(self.geoms[zone], xs[pt], ys[pt])  # covers, for a point
        pt, zone = pt[hit], zone[hit]
        if len(pt):
            order = np.lexsort((self.keys[zone], pt))
            pt, zone = pt[order], zone[order]
            first = np.r_[True, pt[1:] != pt[:-1]]
            out[pt[first]] = zone[first]
        return out

    def cell_of(self, x: float, y: float) -> int:
        """The point's H3 cell at the grid's resolution."""
        return h3.latlng_to_cell(y, x, self.res)


@dataclass(frozen=True)
class PointIndex:
    """Points (units) for the nearest one, ties broken by the lowest id (planar distance in degrees, as PostGIS's
    KNN operator <-> orders them)."""

    ids: np.ndarray
    tree: shapely.STRtree = field(repr=False)
    xs: np.ndarray = field(repr=False)
    ys: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, ids: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> PointIndex:
        """Index points by position."""
        return cls(np.asarray(ids, dtype=np.int64), shapely.STRtree(shapely.points(xs, ys)),
                   np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))

    def nearest(self, x: float, y: float) -> int:
        """Position of the nearest point, -1 when there are none."""
        if not len(self.ids):
            return -1
        hits = self.tree.query_nearest(shapely.Point(x, y), all_matches=True)
        return int(hits[np.argmin(self.ids[hits])]) if len(hits) > 1 else int(hits[0])
