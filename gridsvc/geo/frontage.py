"""门前三包 frontage duty zones and compound/market zones (pure geometry on GeoDataFrames).

How frontage zones are drawn (all in the local UTM zone, vectorized over every street side at once):

1. Streets become centreline pieces with linear referencing: a station s along the piece and a signed offset t
   (left > 0). Each piece has a depth rule (policy): zones start at the kerb (t = width/2) or the centreline.
2. Each building near a street side is projected onto it: the station interval [a, b] of the hull edges that face
   the street (within FACING_DEG) and its nearest offset d. Along each side, the nearest building wins each
   station (1-D lower envelope), giving runs owned by a building, by units without building, or by nobody.
3. A building's runs are shared by its units near the street at the midpoints between their projections; gaps
   between runs go half to each neighbouring unit (at most max_gap_fill_m); a unit without building claims the
   default width centred on its projection (clipped by neighbours).
4. Each claim becomes a one-sided strip along the centreline; strips are cut by what lies behind the building,
   by all buildings and kerb-rule carriageways, kept only where connected to both the street and the building,
   and limited to max_depth_m from the façade. Planner zones are cut out, overlaps go to the nearer unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError, MissingColumnsError
from ..zones.policies import CENTRELINE, EXCLUDED, KERB, Policy
from .crs import local_metric_crs
from .geos_ops import par as _par
from .geos_ops import regroup as _regroup
from .geos_ops import union_groups as _union_groups

OVERLAP_TOL_M2 = 0.01  # overlaps below this are float noise
TOUCH_M = 0.5  # a zone "touches" its building / its street within this distance
MIN_PART_M2 = 1.0  # zone parts smaller than this are slivers and dropped
MIN_POINT_DEPTH_M = 2.0  # depth of a zone for a unit without building standing on the kerb line
END_TOL_M = 2.0  # building vertices this close to an end of its projection give that end's façade depth
SLIT_M = 1e-4  # output grid: slits narrower than this are float noise that would cross itself in WGS84
SEGMENT_M = 20.0  # densify output edges to this length before leaving the metric CRS
FACING_DEG = 60.0  # a façade faces a street when its outward normal is within this angle of the street
OVER_STREET_M = 20.0  # a "building" over this much street centreline is underground or elevated: ignored
REASON_FAR = "more than {:g} m from any street"
REASON_NO_FACADE = "no street-facing façade"
REASON_FIXED = "frontage fully covered by planner zone"
REASON_TAKEN = "frontage taken by neighbouring zones"
REASON_HELD = "its building's street façades are held by the units in it"
SIDES = np.array(["left", "right"], dtype=object)
GAP, POINTS = -2, -1  # envelope owners that are not buildings: nobody, units without building
OWN, EXT, POINT = 0, 1, 2  # claims: a building's façade, a gap next to it, a unit without building


@dataclass
class FrontageResult:
    """Frontage zones per unit and street side, units left without one, and the remaining street space."""

    zones: gpd.GeoDataFrame
    unassigned: pd.DataFrame
    street_space: gpd.GeoDataFrame


def _require(gdf: gpd.GeoDataFrame, columns: tuple[str, ...], layer: str) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise MissingColumnsError(f"missing column(s) {', '.join(missing)}", source=layer)


def _polys(geoms: np.ndarray) -> np.ndarray:
    """Valid polygonal geometries (invalid ones repaired, non-polygonal parts dropped)."""
    geoms = np.asarray(geoms, dtype=object)
    bad = ~_par(shapely.is_valid, geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise intersection; empty where either side is empty (GEOS cannot type empty overlays)."""
    out = np.full(len(a), shapely.Polygon(), dtype=object)
    both = ~shapely.is_empty(a) & ~shapely.is_empty(b)
    out[both] = _par(shapely.intersection, a[both], b[both])
    return out


def _blocks(geoms: np.ndarray) -> np.ndarray:
    """Disjoint polygons covering the given ones: touching or overlapping polygons merged."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        return geoms
    parts = shapely.get_parts(shapely.disjoint_subset_union_all(geoms))
    return parts[shapely.get_type_id(parts) == 3]


def _subtract_blocks(geoms: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Each geometry minus the disjoint blocks it intersects (no union needed: they form a valid MultiPolygon)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or len(blocks) == 0:
        return geoms
    gi, bj = shapely.STRtree(blocks).query(geoms, predicate="intersects")
    if len(gi) == 0:
        return geoms
    order = np.lexsort((bj, gi))
    gi, bj = gi[order], bj[order]
    present, compact = np.unique(gi, return_inverse=True)
    out = geoms.copy()
    out[present] = _par(shapely.difference, geoms[present], _regroup(blocks[bj], compact, len(present)))
    return out


def _subtract_each(geoms: np.ndarray, gi: np.ndarray, others: np.ndarray) -> np.ndarray:
    """geoms[gi[k]] minus others[k] for every k, one round per rank within a row (few others per row)."""
    out = np.asarray(geoms, dtype=object).copy()
    if len(gi) == 0:
        return out
    order = np.argsort(gi, kind="stable")
    gi, others = gi[order], others[order]
    rank = np.arange(len(gi)) - np.searchsorted(gi, gi)
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        out[gi[sel]] = _par(shapely.difference, out[gi[sel]], others[sel])
    return out


def _subtract(geoms: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each geometry minus the union of the `others` it intersects."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or len(others) == 0:
        return geoms
    gi, oj = shapely.STRtree(others).query(geoms, predicate="intersects")
    if len(gi) == 0:
        return geoms
    present, compact = np.unique(gi, return_inverse=True)
    cut = _union_groups(others[oj], compact, len(present))
    out = geoms.copy()
    out[present] = _par(shapely.difference, geoms[present], cut)
    return out


def _filter_parts(geoms: np.ndarray, near: np.ndarray | None = None, near_m: float = TOUCH_M,
                  front: np.ndarray | None = None, front_m: np.ndarray | None = None,
                  min_area: float = MIN_PART_M2) -> np.ndarray:
    """Keep polygon parts of at least min_area within near_m of `near` and front_m of `front` (per row)."""
    parts, idx = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= min_area)
    if near is not None:
        has = ~shapely.is_empty(near[idx]) & ~shapely.is_missing(near[idx])
        keep &= ~has | (shapely.distance(parts, near[idx]) <= near_m)
    if front is not None:
        keep &= shapely.distance(parts, front[idx]) <= front_m[idx]
    return _regroup(parts[keep], idx[keep], len(geoms))


class _Pieces:
    """Street centreline parts with linear referencing: stations s along the line, signed offsets t (left > 0)."""

    def __init__(self, lines: np.ndarray, street: np.ndarray, half_width: np.ndarray, kerb: np.ndarray):
        ok = (shapely.get_type_id(lines) == 1) & (shapely.length(lines) > 0.5)
        lines = lines.copy()
        lines[ok] = shapely.remove_repeated_points(lines[ok], 0.01)
        self.line, self.street = lines[ok], street[ok]
        self.hw, self.kerb = half_width[ok], kerb[ok]
        self.t0 = np.where(self.kerb, self.hw, 0.0)  # where a zone starts: kerb or centreline
        self.length = shapely.length(self.line)
        xy, vp = shapely.get_coordinates(self.line, return_index=True)
        n = len(self.line)
        self.off = np.concatenate([[0.0], np.cumsum(self.length + 1.0)])[:-1]
        seg = np.diff(xy, axis=0)
        seglen = np.hypot(seg[:, 0], seg[:, 1])
        same = vp[1:] == vp[:-1]
        step = np.where(same, seglen, 0.0)
        self.vstart = np.searchsorted(vp, np.arange(n))
        self.vend = np.r_[self.vstart[1:], len(vp)]
        # stations of the vertices along their own piece, summed piece by piece: a vertex's station (and so the
        # segment a point falls on, below) must not depend on the other streets in the input
        self.lcum = pd.Series(np.r_[0.0, step]).groupby(vp).cumsum().to_numpy()
        self.gcum = self.lcum + self.off[vp]
        u = np.zeros_like(xy)
        u[:-1] = np.where(same[:, None], seg / np.where(seglen > 0, seglen, 1.0)[:, None], 0.0)
        self.xy, self.u, self.vp = xy, u, vp

    def __len__(self) -> int:
        return len(self.line)

    def frame(self, piece: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point on the centreline at station s and the unit tangent there."""
        s = np.clip(s, 0.0, self.length[piece])
        lo, hi = self.vstart[piece], self.vend[piece] - 2
        v = np.clip(np.searchsorted(self.gcum, self.off[piece] + s, side="right") - 1, lo, hi)
        while True:  # the offset sum can round a station onto the next vertex: settle on the piece's own stations
            up = (v < hi) & (self.lcum[np.minimum(v + 1, len(self.lcum) - 1)] <= s)
            down = (v > lo) & (self.lcum[v] > s)
            if not (up.any() or down.any()):
                break
            v = v + up - down
        return self.xy[v] + self.u[v] * (s - self.lcum[v])[:, None], self.u[v]

    def locate(self, piece: np.ndarray, points: np.ndarray, tangent: bool = False):
        """Station and signed perpendicular offset (left positive) of points on the given pieces."""
        s = _par(shapely.line_locate_point, self.line[piece], points)
        foot, u = self.frame(piece, s)
        xy = shapely.get_coordinates(points)
        t = u[:, 0] * (xy[:, 1] - foot[:, 1]) - u[:, 1] * (xy[:, 0] - foot[:, 0])
        return (s, t, u) if tangent else (s, t)

    def near(self, geoms: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(piece, geometry) pairs whose bounding boxes come within reach of a segment of the piece."""
        v = np.flatnonzero(np.r_[self.vp[1:] == self.vp[:-1], False])
        a, b = self.xy[v], self.xy[v + 1]
        r = reach[self.vp[v]]
        boxes = shapely.box(np.minimum(a[:, 0], b[:, 0]) - r, np.minimum(a[:, 1], b[:, 1]) - r,
                            np.maximum(a[:, 0], b[:, 0]) + r, np.maximum(a[:, 1], b[:, 1]) + r)
        si, gj = shapely.STRtree(geoms).query(boxes)
        key = np.unique(self.vp[v][si].astype(np.int64) * len(geoms) + gj)
        return key // len(geoms), key % len(geoms)

    def substrings(self, piece: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
        """Centreline between stations s0 < s1 of each piece, as LineStrings."""
        g0 = self.off[piece] + s0
        g1 = self.off[piece] + s1
        i0 = np.searchsorted(self.gcum, g0 + 1e-6, side="right")
        i1 = np.searchsorted(self.gcum, g1 - 1e-6, side="left")
        inner = np.maximum(i1 - i0, 0)
        count = inner + 2
        line_idx = np.repeat(np.arange(len(piece)), count)
        first = np.cumsum(count) - count
        pos = np.arange(len(line_idx)) - first[line_idx]
        a, _ = self.frame(piece, s0)
        b, _ = self.frame(piece, s1)
        vi = np.clip(i0[line_idx] + pos - 1, 0, len(self.xy) - 1)
        xy = self.xy[vi].copy()
        is_first, is_last = pos == 0, pos == count[line_idx] - 1
        xy[is_first] = a
        xy[is_last] = b[line_idx[is_last]]
        return shapely.linestrings(xy, indices=line_idx)


def to_wgs84_clean(geoms: np.ndarray, crs) -> gpd.GeoSeries:
    """Metric polygons to WGS84: slits narrower than SLIT_M collapsed (precision grid), edges densified."""
    geoms = _filter_parts(_par(shapely.set_precision, np.asarray(geoms, dtype=object), SLIT_M), min_area=0.0)
    out = gpd.GeoSeries(_par(shapely.segmentize, geoms, SEGMENT_M), crs=crs).to_crs(4326)
    bad = ~_par(shapely.is_valid, np.asarray(out.values, dtype=object))
    if bad.any():  # a slit narrower than float noise can cross itself after the transform
        out[bad] = _filter_parts(_polys(out.values[bad]), min_area=0.0)
    return out


def _drop_over_street(bgeom: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Buildings covering OVER_STREET_M of a street centreline (metro stations, underground malls) as empty."""
    if len(bgeom) == 0:
        return bgeom
    bi, sj = shapely.STRtree(centre).query(bgeom, predicate="intersects")
    if len(bi) == 0:
        return bgeom
    inside = shapely.length(shapely.intersection(centre[sj], bgeom[bi]))
    over = np.unique(bi[inside >= OVER_STREET_M])
    out = bgeom.copy()
    out[over] = shapely.Polygon()
    return out


def _candidates(pc: _Pieces, bgeom: np.ndarray, reach: np.ndarray) -> pd.DataFrame:
    """Each building's façade facing each street side: station interval [a, b], nearest and farthest offset.

    A façade is the part of the building's convex hull whose edges face the street (within FACING_DEG).
    """
    pi, bj = pc.near(bgeom, reach)
    cols = ("piece", "side", "bldg", "a", "b", "d", "dmax", "tfar", "d_lo", "d_hi")
    if len(pi) == 0:
        return pd.DataFrame({c: np.array([], dtype=float) for c in cols})
    hull = shapely.orient_polygons(_par(shapely.convex_hull, bgeom), exterior_cw=False)
    hxy, hidx = shapely.get_coordinates(hull, return_index=True)
    nb = len(bgeom)
    hstart = np.searchsorted(hidx, np.arange(nb))
    hcount = np.bincount(hidx, minlength=nb)
    cnt = hcount[bj]
    rows = np.repeat(np.arange(len(pi)), cnt)
    first = np.cumsum(cnt) - cnt
    vi = hstart[bj][rows] + np.arange(len(rows)) - first[rows]
    s, t, u = pc.locate(pi[rows], _par(shapely.points, hxy)[vi], tangent=True)
    at = np.abs(t)
    # edges of the hull ring facing the street side they are on
    e = np.flatnonzero(rows[1:] == rows[:-1])
    vec = hxy[vi[e + 1]] - hxy[vi[e]]
    elen = np.hypot(vec[:, 0], vec[:, 1])
    outward = np.column_stack([vec[:, 1], -vec[:, 0]]) / np.maximum(elen, 1e-9)[:, None]
    tang = u[e] + u[e + 1]
    tang /= np.maximum(np.hypot(tang[:, 0], tang[:, 1]), 1e-9)[:, None]
    right = (t[e] + t[e + 1]) < 0
    toward = np.where(right[:, None], np.column_stack([-tang[:, 1], tang[:, 0]]),
                      np.column_stack([tang[:, 1], -tang[:, 0]]))
    facing = (elen > 0.05) & ((outward * toward).sum(axis=1) >= np.cos(np.radians(FACING_DEG)))
    e, right = e[facing], right[facing]
    if len(e) == 0:
        return pd.DataFrame({c: np.array([], dtype=float) for c in cols})
    ends = np.concatenate([e, e + 1])
    key = np.concatenate([rows[e] * 2 + right, rows[e] * 2 + right])
    order = np.argsort(key, kind="stable")
    key, es, et = key[order], s[ends][order], at[ends][order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    grp = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    a, b = np.minimum.reduceat(es, starts), np.maximum.reduceat(es, starts)
    d, dmax = np.minimum.reduceat(et, starts), np.maximum.reduceat(et, starts)
    d_lo = np.minimum.reduceat(np.where(es <= a[grp] + END_TOL_M, et, np.inf), starts)
    d_hi = np.minimum.reduceat(np.where(es >= b[grp] - END_TOL_M, et, np.inf), starts)
    pair = key[starts] // 2
    row_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    tfar = np.zeros(len(pi))
    tfar[rows[row_starts]] = np.maximum.reduceat(at, row_starts)
    out = pd.DataFrame({"piece": pi[pair], "side": key[starts] % 2, "bldg": bj[pair], "a": a, "b": b, "d": d,
                        "dmax": dmax, "tfar": tfar[pair], "d_lo": d_lo, "d_hi": d_hi})
    keep = (out["b"] - out["a"] > 0.05) & (out["d"] <= reach[out["piece"].to_numpy()])
    return out[keep].reset_index(drop=True)


def _envelope(pc: _Pieces, cand: pd.DataFrame) -> pd.DataFrame:
    """Runs along each street side of whoever is nearest the street: a building, units without one, or nobody."""
    g = cand["piece"].to_numpy() * 2 + cand["side"].to_numpy()
    # the distinct (side, station) breakpoints, compared as pairs: a station offset by the sides before it would
    # round (and merge nearly equal breakpoints) differently with a different set of streets
    kg, kv = np.concatenate([g, g]), np.concatenate([cand["a"].to_numpy(), cand["b"].to_numpy()])
    order = np.lexsort((kv, kg))
    new = np.r_[True, (kg[order][1:] != kg[order][:-1]) | (kv[order][1:] != kv[order][:-1])]
    inv = np.empty(len(kg), dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    bg, bv = kg[order][new], kv[order][new]
    lo, hi = inv[:len(g)], inv[len(g):]
    n_e = hi - lo
    rows = np.repeat(np.arange(len(cand)), n_e)
    first = np.cumsum(n_e) - n_e
    elem = lo[rows] + np.arange(len(rows)) - first[rows]
    owner = cand["owner"].to_numpy()
    order = np.lexsort((rows, owner[rows], cand["d"].to_numpy()[rows], elem))
    elem_s, rows_s = elem[order], rows[order]
    win = np.r_[True, elem_s[1:] != elem_s[:-1]]
    ne = max(len(bv) - 1, 0)
    e_owner = np.full(ne, GAP, dtype=np.int64)
    e_cand = np.full(ne, -1, dtype=np.int64)
    e_owner[elem_s[win]] = owner[rows_s[win]]
    e_cand[elem_s[win]] = rows_s[win]
    valid = bg[:-1] == bg[1:]
    ek = np.flatnonzero(valid)
    if len(ek) == 0:
        return pd.DataFrame(columns=["g", "x0", "x1", "owner", "cand"])
    eg = bg[ek]
    new = np.r_[True, (ek[1:] != ek[:-1] + 1) | (eg[1:] != eg[:-1]) | (e_owner[ek[1:]] != e_owner[ek[:-1]])]
    starts = ek[new]
    ends = np.r_[ek[np.flatnonzero(new)[1:] - 1], ek[-1]]
    rg = eg[new]
    return pd.DataFrame({"g": rg, "x0": bv[starts], "x1": bv[ends + 1], "owner": e_owner[starts],
                         "cand": e_cand[starts]})


def _shares(df: pd.DataFrame, by: list[str], lo_end: np.ndarray, hi_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share [lo, hi] of each unit along its façade (df sorted by `by` and s): up to the midpoints to the
    neighbouring units; units at one spot (within 0.25 m) split their joint share equally, in unit order."""
    s, grp = df["s"].to_numpy(), df.groupby(by, sort=False).ngroup().to_numpy()
    new = np.r_[True, (grp[1:] != grp[:-1]) | (np.diff(s) > 0.25)]
    cluster = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    size = np.bincount(cluster)
    centre = np.bincount(cluster, weights=s) / size
    c_grp = grp[starts]
    same_prev, same_next = np.r_[False, c_grp[1:] == c_grp[:-1]], np.r_[c_grp[1:] == c_grp[:-1], False]
    mid = (centre[1:] + centre[:-1]) / 2.0
    c_lo = np.where(same_prev, np.r_[-np.inf, mid], lo_end[starts])
    c_hi = np.where(same_next, np.r_[mid, np.inf], hi_end[starts])
    c_lo = np.minimum(c_lo, c_hi)
    order = np.lexsort((df["unit"].to_numpy(), cluster))
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.arange(len(s)) - starts[cluster[order]]
    step = (c_hi - c_lo)[cluster] / size[cluster]
    lo = c_lo[cluster] + rank * step
    return lo, np.where(rank == size[cluster] - 1, c_hi[cluster], lo + step)


def _claims(pc: _Pieces, cand: pd.DataFrame, runs: pd.DataFrame, part: pd.DataFrame, pts: pd.DataFrame,
            policy: Policy) -> pd.DataFrame:
    """Station intervals claimed by each unit on each street side, with the depth of the strip there."""
    cols = ["unit", "g", "s0", "s1", "t_hi", "t_lo", "bldg", "kind", "toward", "deep"]
    out = []
    b_runs = runs[runs["owner"] >= 0].reset_index(drop=True)
    b_runs["run"] = np.arange(len(b_runs))
    if len(part) and len(b_runs):
        part = part.sort_values(["g", "bldg", "s", "unit"], kind="stable").reset_index(drop=True)
        façade = b_runs.groupby(["g", "owner"]).agg(lo=("x0", "min"), hi=("x1", "max"))
        ends = façade.reindex(pd.MultiIndex.from_arrays([part["g"], part["bldg"]]))
        part["lo"], part["hi"] = _shares(part, ["g", "bldg"], ends["lo"].to_numpy(), ends["hi"].to_numpy())
        m = part.merge(b_runs, left_on=["g", "bldg"], right_on=["g", "owner"])
        m["s0"] = np.maximum(m["lo"], m["x0"])
        m["s1"] = np.minimum(m["hi"], m["x1"])
        m = m[m["s1"] - m["s0"] > 0.01]
        tfar = cand["tfar"].to_numpy()[m["cand"].to_numpy()]
        deep = cand["dmax"].to_numpy()[m["cand"].to_numpy()] - pc.t0[m["g"].to_numpy() // 2] > policy.max_depth_m
        own = pd.DataFrame({"unit": m["unit"].to_numpy(), "g": m["g"].to_numpy(), "s0": m["s0"].to_numpy(),
                            "s1": m["s1"].to_numpy(), "t_hi": tfar + 1.0, "t_lo": 0.0, "bldg": m["bldg"].to_numpy(),
                            "kind": OWN, "toward": 0.0, "deep": deep, "run": m["run"].to_numpy()})
        out.append(own[cols])
        out.append(_extensions(pc, cand, runs, b_runs, own, policy)[cols])
    if len(pts):
        p_runs = runs[runs["owner"] == POINTS]
        pts = pts.sort_values(["g", "s", "unit"], kind="stable").reset_index(drop=True)
        half = policy.default_frontage_m / 2.0
        pts["lo"], pts["hi"] = _shares(pts, ["g"], pts["s"].to_numpy() - half, pts["s"].to_numpy() + half)
        m = pts.merge(p_runs, on="g")
        m["s0"] = np.maximum.reduce([m["lo"], m["s"] - half, m["x0"]])
        m["s1"] = np.minimum.reduce([m["hi"], m["s"] + half, m["x1"]])
        m = m[m["s1"] - m["s0"] > 0.01]
        t0 = pc.t0[m["g"].to_numpy() // 2]
        t_hi = np.maximum(m["d"].to_numpy(), t0 + MIN_POINT_DEPTH_M)
        out.append(pd.DataFrame({"unit": m["unit"].to_numpy(), "g": m["g"].to_numpy(), "s0": m["s0"].to_numpy(),
                                 "s1": m["s1"].to_numpy(), "t_hi": t_hi, "t_lo": t_hi - policy.max_depth_m,
                                 "bldg": -1, "kind": POINT, "toward": 0.0, "deep": False}))
    if not out:
        return pd.DataFrame({c: np.array([], dtype=np.int64 if c in ("unit", "g", "bldg", "kind") else
                                          bool if c == "deep" else float) for c in cols})
    claims = pd.concat(out, ignore_index=True).astype(
        {"unit": np.int64, "g": np.int64, "bldg": np.int64, "kind": np.int64, "deep": bool, "s0": float,
         "s1": float, "t_hi": float, "t_lo": float, "toward": float})
    claims["t_lo"] = np.maximum(claims["t_lo"].to_numpy(), pc.t0[claims["g"].to_numpy() // 2])
    return claims.sort_values(["unit", "g", "s0"], kind="stable").reset_index(drop=True)


def _extensions(pc: _Pieces, cand: pd.DataFrame, runs: pd.DataFrame, b_runs: pd.DataFrame, own: pd.DataFrame,
                policy: Policy) -> pd.DataFrame:
    """Strips across the gaps next to a building's run, to the gap's midpoint (at most max_gap_fill_m)."""
    runs = runs.sort_values(["g", "x0"], kind="stable").reset_index(drop=True)
    g, x0, x1, owner = (runs[c].to_numpy() for c in ("g", "x0", "x1", "owner"))
    glen = pc.length[g // 2]
    same_prev = np.r_[False, g[1:] == g[:-1]]
    same_next = np.r_[g[1:] == g[:-1], False]
    prev_gap = np.r_[False, owner[:-1] == GAP] & same_prev
    next_gap = np.r_[owner[1:] == GAP, False] & same_next
    gap_len = x1 - x0
    cap = policy.max_gap_fill_m
    left = np.where(~same_prev, np.minimum(x0, cap), np.where(prev_gap, np.minimum(np.r_[0.0, gap_len[:-1]] / 2, cap), 0))
    right = np.where(~same_next, np.minimum(glen - x1, cap),
                     np.where(next_gap, np.minimum(np.r_[gap_len[1:], 0.0] / 2, cap), 0))
    runs["left"], runs["right"] = left, right
    r = runs[runs["owner"] >= 0].merge(b_runs[["g", "x0", "owner", "run"]], on=["g", "x0", "owner"])
    if len(own) == 0 or len(r) == 0:
        return pd.DataFrame(columns=["unit", "g", "s0", "s1", "t_hi", "t_lo", "bldg", "kind", "toward", "deep"])
    first = own.loc[own.groupby("run")["s0"].idxmin(), ["run", "unit"]]
    last = own.loc[own.groupby("run")["s1"].idxmax(), ["run", "unit"]]
    c_lo = cand["d_lo"].to_numpy()
    c_hi = cand["d_hi"].to_numpy()
    lft = r[r["left"] > 0.01].merge(first, on="run")
    rgt = r[r["right"] > 0.01].merge(last, on="run")
    parts = []
    for df, s0, s1, depth, toward in (
        (lft, lft["x0"] - lft["left"], lft["x0"], c_lo[lft["cand"].to_numpy()], 1.0),
        (rgt, rgt["x1"], rgt["x1"] + rgt["right"], c_hi[rgt["cand"].to_numpy()], -1.0),
    ):
        parts.append(pd.DataFrame({"unit": df["unit"].to_numpy(), "g": df["g"].to_numpy(), "s0": s0.to_numpy(),
                                   "s1": s1.to_numpy(), "t_hi": depth, "t_lo": 0.0, "bldg": df["owner"].to_numpy(),
                                   "kind": EXT, "toward": toward,
                                   "deep": depth - pc.t0[df["g"].to_numpy() // 2] > policy.max_depth_m}))
    return pd.concat(parts, ignore_index=True)


def _strips(pc: _Pieces, claims: pd.DataFrame) -> np.ndarray:
    """One-sided strips along the centreline between each claim's stations, from t_lo to t_hi."""
    g = claims["g"].to_numpy()
    piece, sign = g // 2, np.where(g % 2 == 0, 1.0, -1.0)
    sub = pc.substrings(piece, claims["s0"].to_numpy(), claims["s1"].to_numpy())
    t_hi, t_lo = claims["t_hi"].to_numpy(), claims["t_lo"].to_numpy()
    strip = _par(shapely.buffer, sub, sign * t_hi, single_sided=True, quad_segs=2)
    inner = t_lo > pc.t0[piece] + 1e-6  # (the kerb itself is cut by the carriageway polygon)
    if inner.any():
        strip[inner] = shapely.difference(
            strip[inner], shapely.buffer(sub[inner], sign[inner] * t_lo[inner], single_sided=True, quad_segs=2))
    return strip


def _sweeps(pc: _Pieces, g: np.ndarray, s: np.ndarray, bgeom: np.ndarray, bldg: np.ndarray,
            length: float | np.ndarray) -> np.ndarray:
    """Building hull swept perpendicular to its street side: away from the street (length > 0) or towards it."""
    _, u = pc.frame(g // 2, s)
    sign = np.where(g % 2 == 0, 1.0, -1.0)
    normal = np.column_stack([-u[:, 1], u[:, 0]]) * sign[:, None]
    hull = shapely.convex_hull(bgeom[bldg])
    xy, idx = shapely.get_coordinates(hull, return_index=True)
    far = xy + normal[idx] * np.broadcast_to(np.asarray(length, dtype=float), (len(g),))[idx][:, None]
    both = np.concatenate([idx, idx])
    order = np.argsort(both, kind="stable")
    out = np.full(len(g), shapely.Polygon(), dtype=object)
    present = np.unique(idx)
    out[present] = shapely.convex_hull(shapely.multipoints(np.vstack([xy, far])[order],
                                                           indices=np.searchsorted(present, both[order])))
    return out


def _union_sorted(geoms: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Union of consecutive geometries with the same group id (sorted); one per group."""
    if len(geoms) == 0:
        return np.array([], dtype=object)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    acc = geoms[starts].copy()
    gid = np.cumsum(np.r_[True, group[1:] != group[:-1]]) - 1
    for k in range(1, int(rank.max(initial=0)) + 1):
        sel = rank == k
        acc[gid[sel]] = shapely.union(acc[gid[sel]], geoms[sel])
    return acc


def _resolve_overlaps(geoms: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Make zones disjoint: an overlap goes to the zone whose anchor (building or unit) is nearer, else the first."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        return geoms
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return geoms
    inter = _par(shapely.intersection, geoms[i], geoms[j])
    area = shapely.area(inter)
    big = area > OVERLAP_TOL_M2
    i, j, inter = i[big], j[big], inter[big]
    if len(i) == 0:
        return geoms
    probe = shapely.point_on_surface(inter)
    di, dj = shapely.distance(anchors[i], probe), shapely.distance(anchors[j], probe)
    i_wins = ~(dj < di - 1e-6)
    winner, loser = np.where(i_wins, i, j), np.where(i_wins, j, i)
    present, compact = np.unique(loser, return_inverse=True)
    cut = _union_groups(geoms[winner], compact, len(present))
    out = geoms.copy()
    out[present] = _par(shapely.difference, geoms[present], cut)
    return out


def _empty_result(units_ids) -> FrontageResult:
    zones = gpd.GeoDataFrame({"unit_id": [], "street_id": [], "side": [], "depth_rule": [], "frontage_m": [],
                              "area_m2": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    space = gpd.GeoDataFrame({"street_id": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return FrontageResult(zones, pd.DataFrame({"unit_id": list(units_ids), "reason": "no streets"}), space)


def _to_metric(geoms, crs, src=None) -> np.ndarray:
    """Geometries (in src, default WGS84) in the metric CRS."""
    series = gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=src if src is not None else 4326)
    return np.asarray(series.to_crs(crs).values, dtype=object)


@dataclass
class _City:
    """The inputs in one metric CRS, as arrays."""

    crs: object
    rules: np.ndarray  # per street: kerb / centreline / excluded
    width: np.ndarray
    centre: np.ndarray
    carriage: np.ndarray
    pc: _Pieces
    bgeom: np.ndarray  # empty where ignored (over a street)
    upts: np.ndarray
    bid: np.ndarray  # building row of each unit, -1 for none
    fgeom: np.ndarray
    blocks: np.ndarray  # the buildings, touching ones merged: disjoint
    holder: np.ndarray  # per unit: a building holding its own façade (only where no unit of it does)

    def anchors(self, unit: np.ndarray) -> np.ndarray:
        """What a unit's zone must touch: its building, else (None) nothing."""
        b = self.bid[unit]
        return np.where(b >= 0, self.bgeom[np.maximum(b, 0)] if len(self.bgeom) else None, None)


def metric_crs_of(streets: gpd.GeoDataFrame):
    """The metric CRS the core computes in: the local UTM zone of the street centrelines."""
    centre_in = streets["centerline"]
    return local_metric_crs(gpd.GeoSeries(np.asarray(centre_in.values, dtype=object),
                                          crs=getattr(centre_in, "crs", None) or 4326))


def _prepare(streets, buildings, units, fixed, policy: Policy, crs=None) -> _City:
    """Project everything to the metric CRS (given, else the local one); centreline pieces with their depth rule."""
    centre_in = streets["centerline"]
    crs = crs if crs is not None else metric_crs_of(streets)
    rules = policy.depth_rules(streets["osm_class"], streets["sidewalk"] if "sidewalk" in streets else None)
    width = pd.to_numeric(streets["width_m"], errors="coerce").to_numpy(float)
    if not np.isfinite(width).all() or (width <= 0).any():
        raise InputError("width_m must be a positive number on every street", source="streets")
    centre = _to_metric(centre_in.values, crs, getattr(centre_in, "crs", None))
    carriage = _polys(_to_metric(streets.geometry.values, crs, streets.crs))
    lines, sidx = shapely.get_parts(shapely.line_merge(centre), return_index=True)
    use = rules[sidx] != EXCLUDED
    pc = _Pieces(lines[use], sidx[use], width[sidx[use]] / 2.0, rules[sidx[use]] == KERB)
    empty = np.array([], dtype=object)
    bgeom = _drop_over_street(_polys(_to_metric(buildings.geometry.values, crs, buildings.crs)), centre) \
        if len(buildings) else empty
    upts = _to_metric(units.geometry.values, crs, units.crs) if len(units) else empty
    if len(upts):
        upts = np.where(shapely.get_type_id(upts) == 0, upts, shapely.point_on_surface(upts))
    bid = pd.Index(buildings["id"]).get_indexer(pd.array(units["building_id"], dtype=object)) if len(units) \
        else np.array([], dtype=np.int64)
    if len(bid) and len(bgeom):
        bid = np.where((bid >= 0) & ~shapely.is_empty(bgeom[np.maximum(bid, 0)]), bid, -1)
    fgeom = _polys(_to_metric(fixed.geometry.values, crs, fixed.crs)) if fixed is not None and len(fixed) else empty
    holder = units["building_holder"].fillna(False).to_numpy(bool) if "building_holder" in units else \
        np.zeros(len(units), dtype=bool)
    return _City(crs, rules, width, centre, carriage, pc, bgeom, upts, bid, fgeom, _blocks(bgeom), holder & (bid >= 0))


def _unit_claims(city: _City, policy: Policy) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Station intervals each unit claims on each street side it is near, the units near any street, and the
    building holders whose façades all went to units in their building."""
    pc, upts, bid = city.pc, city.upts, city.bid
    max_hw = float(pc.hw.max(initial=0.0))
    probe = upts.copy()  # how far a unit is from a street: its point, or a building holder's whole building
    if city.holder.any():
        probe[city.holder] = city.bgeom[bid[city.holder]]
    ui, pj = (shapely.STRtree(pc.line).query(probe, predicate="dwithin", distance=policy.max_distance_m + max_hw)
              if len(upts) and len(pc) else (np.array([], dtype=np.int64),) * 2)
    dist = shapely.distance(probe[ui], pc.line[pj]) - pc.hw[pj]
    near = dist <= policy.max_distance_m
    ui, pj, dist = ui[near], pj[near], dist[near]
    cand = _candidates(pc, city.bgeom, pc.hw + policy.max_distance_m) if len(city.bgeom) and len(pc) else \
        pd.DataFrame(columns=["piece", "side", "bldg", "a", "b", "d", "dmax", "tfar", "d_lo", "d_hi"])
    cand["owner"] = cand["bldg"].astype(np.int64)
    # units without building: the default width, centred on their projection onto the nearest street side
    lone = bid[ui] < 0
    pts = pd.DataFrame({"unit": ui[lone], "piece": pj[lone], "dist": dist[lone]})
    pts = pts.sort_values(["unit", "dist", "piece"], kind="stable").drop_duplicates("unit")
    s_p, t_p = pc.locate(pts["piece"].to_numpy(), upts[pts["unit"].to_numpy()])
    pts["s"], pts["d"], pts["g"] = s_p, np.abs(t_p), pts["piece"].to_numpy() * 2 + (t_p < 0)
    half, glen = policy.default_frontage_m / 2.0, pc.length[pts["piece"].to_numpy()]
    p_cand = pd.DataFrame({"piece": pts["piece"].to_numpy(), "side": (t_p < 0).astype(np.int64), "bldg": -1,
                           "a": np.clip(s_p - half, 0, glen), "b": np.clip(s_p + half, 0, glen), "d": pts["d"],
                           "dmax": pts["d"], "tfar": pts["d"], "d_lo": pts["d"], "d_hi": pts["d"], "owner": POINTS})
    cand = pd.concat([cand, p_cand[p_cand["b"] - p_cand["a"] > 0.05]], ignore_index=True)
    cand = cand.astype({"piece": np.int64, "side": np.int64, "bldg": np.int64, "owner": np.int64})
    runs = _envelope(pc, cand) if len(cand) else pd.DataFrame(columns=["g", "x0", "x1", "owner", "cand"])
    # units in a building: on each street side their building faces
    part = pd.DataFrame({"unit": ui[~lone], "piece": pj[~lone], "bldg": bid[ui[~lone]]})
    bc = cand[cand["owner"] >= 0]
    part = part.merge(pd.DataFrame({"piece": bc["piece"], "bldg": bc["bldg"], "g": bc["piece"] * 2 + bc["side"]}),
                      on=["piece", "bldg"])
    held = np.array([], dtype=np.int64)
    if city.holder.any():  # a building holds only the façades (street sides) that none of its units holds
        is_holder = city.holder[part["unit"].to_numpy()]
        key = part["g"].to_numpy().astype(np.int64) * (len(city.bgeom) + 1) + part["bldg"].to_numpy()
        keep = ~is_holder | ~np.isin(key, key[~is_holder])
        held = np.setdiff1d(part["unit"].to_numpy()[~keep], part["unit"].to_numpy()[keep])
        part = part[keep]
    part["s"], _ = pc.locate(part["piece"].to_numpy(), upts[part["unit"].to_numpy()])
    claims = _claims(pc, cand, runs.astype({"g": np.int64, "owner": np.int64, "cand": np.int64}), part,
                     pts[["unit", "g", "s", "d"]], policy)
    return claims, np.unique(ui), held


def _carve(city: _City, claims: pd.DataFrame, policy: Policy) -> tuple[pd.DataFrame, np.ndarray]:
    """One zone per unit and street side: its strips minus what is behind its building, buildings and
    kerb-rule carriageways, limited to max_depth_m from the façade."""
    pc, bgeom = city.pc, city.bgeom
    if len(claims) == 0:
        return pd.DataFrame({"unit": np.array([], np.int64), "g": np.array([], np.int64), "len": []}), \
            np.array([], dtype=object)
    # a gap strip reaches 1 cm into its building's strip so that their union is one polygon
    toward = claims["toward"].to_numpy()
    strips = _strips(pc, claims.assign(s0=claims["s0"] - 0.01 * (toward < 0), s1=claims["s1"] + 0.01 * (toward > 0)))
    key = claims["unit"].to_numpy() * (2 * len(pc)) + claims["g"].to_numpy()
    new = np.r_[True, key[1:] != key[:-1]]
    first, gid = np.flatnonzero(new), np.cumsum(new) - 1
    zg = _union_sorted(strips, key)
    groups = pd.DataFrame({"unit": claims["unit"].to_numpy()[first], "g": claims["g"].to_numpy()[first]})
    groups["len"] = np.add.reduceat((claims["s1"] - claims["s0"]).to_numpy(), first) if len(first) else []
    z_b, z_piece = city.bid[groups["unit"].to_numpy()], groups["g"].to_numpy() // 2
    anchor = city.anchors(groups["unit"].to_numpy())
    has_b = z_b >= 0
    if has_b.any():  # nothing behind the building as seen from the street
        s_lo = np.minimum.reduceat(claims["s0"].to_numpy(), first)[has_b]
        s_hi = np.maximum.reduceat(claims["s1"].to_numpy(), first)[has_b]
        far = shapely.bounds(bgeom[z_b[has_b]]) @ np.array([-1.0, -1.0, 1.0, 1.0]) + 2 * pc.hw[z_piece[has_b]] + 50
        zg[has_b] = _par(shapely.difference, zg[has_b],
                         _sweeps(pc, groups["g"].to_numpy()[has_b], (s_lo + s_hi) / 2, bgeom, z_b[has_b], far))
    zg = _subtract(_subtract_blocks(zg, city.blocks), city.carriage[city.rules == KERB])
    t_front = np.minimum.reduceat(claims["t_lo"].to_numpy(), first) if len(first) else np.array([])
    zg = _filter_parts(zg, near=anchor, front=pc.line[z_piece], front_m=t_front + TOUCH_M)
    # at most max_depth_m from the façade (the building swept towards the street; gaps by their own depth)
    need = np.maximum.reduceat(claims["deep"].to_numpy(bool), first) if len(first) else np.zeros(0, bool)
    if need.any():
        sel = need[gid]
        kind = claims["kind"].to_numpy()
        allowed = strips.copy()
        own, ext = (kind == OWN) & sel, (kind == EXT) & sel
        if own.any():
            c = claims[own]
            allowed[own] = _sweeps(pc, c["g"].to_numpy(), ((c["s0"] + c["s1"]) / 2).to_numpy(), bgeom,
                                   c["bldg"].to_numpy(), -policy.max_depth_m)
        if ext.any():
            c = claims[ext]
            allowed[ext] = _strips(pc, c.assign(  # 0.5 m longer: overlaps the sweep, no slit between them
                t_lo=np.maximum(c["t_lo"], c["t_hi"] - policy.max_depth_m), s0=np.maximum(c["s0"] - 0.5, 0.0),
                s1=np.minimum(c["s1"] + 0.5, pc.length[c["g"].to_numpy() // 2])))
        zg[need] = _filter_parts(_intersection(zg[need], _union_sorted(allowed[sel], key[sel])), near=anchor[need])
    return groups, zg


def _dissolve(city: _City, groups: pd.DataFrame, zg: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """One zone per unit, street and side (pieces of a street merged), made disjoint."""
    ok = ~shapely.is_empty(zg)
    if not ok.any():
        return pd.DataFrame({c: np.array([], np.int64) for c in ("unit", "street", "side")} | {"length": []}), \
            np.array([], dtype=object)
    frame = groups.assign(street=city.pc.street[groups["g"].to_numpy() // 2], side=groups["g"] % 2)[ok]
    key = frame.groupby(["unit", "street", "side"], sort=True).ngroup().to_numpy()
    geoms = _union_groups(zg[ok], key, int(key.max(initial=-1)) + 1)
    rows = frame.assign(key=key).groupby("key").agg(unit=("unit", "first"), street=("street", "first"),
                                                    side=("side", "first"), length=("len", "sum"))
    unit = rows["unit"].to_numpy()
    anchor = city.anchors(unit)
    geoms = _resolve_overlaps(geoms, np.where(city.bid[unit] >= 0, anchor, city.upts[unit]))
    geoms = _filter_parts(geoms, near=anchor)
    keep = ~shapely.is_empty(geoms)
    return rows[keep].reset_index(drop=True), geoms[keep]


def build_frontage_zones(streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
                         policy: Policy, fixed: gpd.GeoDataFrame | None = None, metric: bool = False,
                         crs=None, street_space: bool = True) -> FrontageResult:
    """门前三包 zones of street-front units (WGS84 out, or the metric CRS if metric), the unzoned, street space.

    crs: the metric CRS to compute in (default: the local UTM zone of the streets; a partition of a larger city
    passes the city's). street_space=False leaves the street space empty (build_street_space computes it later).
    """
    _require(streets, ("id", "osm_class", "width_m", "centerline"), "streets")
    _require(buildings, ("id",), "buildings")
    _require(units, ("id", "building_id"), "units")
    if len(streets) == 0:
        return _empty_result(units["id"])
    city = _prepare(streets, buildings, units, fixed, policy, crs)
    claims, near, held = _unit_claims(city, policy)
    groups, zg = _carve(city, claims, policy)
    carved = groups["unit"].to_numpy()[~shapely.is_empty(zg)]
    if len(city.fgeom):  # planner zones stay as drawn
        zg = _filter_parts(_subtract(zg, city.fgeom), near=city.anchors(groups["unit"].to_numpy()))
    clipped = groups["unit"].to_numpy()[~shapely.is_empty(zg)]
    rows, geoms = _dissolve(city, groups, zg)
    unit, street = rows["unit"].to_numpy(), rows["street"].to_numpy()
    zones = gpd.GeoDataFrame({
        "unit_id": units["id"].to_numpy()[unit],
        "street_id": streets["id"].to_numpy()[street],
        "side": SIDES[rows["side"].to_numpy()],
        "depth_rule": np.where(city.rules[street] == KERB, KERB, CENTRELINE),
        "frontage_m": np.round(rows["length"].to_numpy(float), 2),
        "area_m2": np.round(shapely.area(geoms), 2),
    }, geometry=_output(geoms, city.crs, metric))
    # units without a zone, and why (the last step that took it away)
    nu = len(units)
    reason = np.full(nu, REASON_FAR.format(policy.max_distance_m), dtype=object)
    for had, why in ((near, REASON_NO_FACADE), (held, REASON_HELD), (carved, REASON_FIXED), (clipped, REASON_TAKEN)):
        reason[had] = why
    left = np.setdiff1d(np.arange(nu), unit)
    unassigned = pd.DataFrame({"unit_id": units["id"].to_numpy()[left], "reason": reason[left]})
    space = _street_space(streets, city, geoms, policy, metric) if street_space else \
        gpd.GeoDataFrame({"street_id": []}, geometry=gpd.GeoSeries([], crs=city.crs if metric else 4326))
    return FrontageResult(zones, unassigned, space)


def build_street_space(streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                       policy: Policy, fixed: gpd.GeoDataFrame | None = None, crs=None) -> gpd.GeoDataFrame:
    """The street space of each street given the frontage zones already built (metric CRS out, as `zones`).

    The same computation as build_frontage_zones' street space; a street's result depends only on the streets,
    buildings, zones and planner zones near it, so a partition of the city can compute it for its streets.
    """
    _require(streets, ("id", "osm_class", "width_m", "centerline"), "streets")
    _require(buildings, ("id",), "buildings")
    units = gpd.GeoDataFrame({"id": [], "building_id": []}, geometry=gpd.GeoSeries([], crs=4326))
    city = _prepare(streets, buildings, units, fixed, policy, crs)
    geoms = np.asarray(zones.geometry.values, dtype=object)
    if len(zones) and zones.crs != city.crs:
        geoms = _to_metric(geoms, city.crs, zones.crs)
    return _street_space(streets, city, geoms, policy, metric=True)


def _output(geoms: np.ndarray, crs, metric: bool) -> gpd.GeoSeries:
    """Result geometries: kept in the metric CRS for a caller that goes on computing, else cleaned to WGS84."""
    return gpd.GeoSeries(geoms, crs=crs) if metric else to_wgs84_clean(geoms, crs)


def _street_space(streets: gpd.GeoDataFrame, city: _City, zones: np.ndarray, policy: Policy,
                  metric: bool = False) -> gpd.GeoDataFrame:
    """Carriageway plus frontage band of each street not in a unit or planner zone: the steward's."""
    rules, width, centre, carriage = city.rules, city.width, city.centre, city.carriage
    reach = np.where(rules == EXCLUDED, 0.0, width / 2.0 + policy.max_depth_m)
    band = _par(shapely.buffer, centre, reach, cap_style="flat", join_style="mitre", mitre_limit=3.0)
    base = _polys(np.where(reach > 0, band, carriage))  # the band covers the carriageway but for its end caps
    # wider kerb-rule streets first: a junction belongs to the main road
    order = np.lexsort((np.arange(len(base)), -width, rules != KERB))
    rank = np.empty(len(base), dtype=np.int64)
    rank[order] = np.arange(len(base))
    i, j = shapely.STRtree(base).query(base, predicate="intersects")
    earlier = rank[j] < rank[i]
    geoms = _subtract_each(base, i[earlier], base[j[earlier]])
    geoms = _subtract_blocks(_subtract_blocks(geoms, city.blocks),
                             _blocks(np.concatenate([zones, city.fgeom]).astype(object)))
    geoms = _filter_parts(geoms)
    keep = ~shapely.is_empty(geoms)
    return gpd.GeoDataFrame({"street_id": streets["id"].to_numpy()[keep]},
                            geometry=_output(geoms[keep], city.crs, metric)).reset_index(drop=True)


def build_area_zones(compounds: gpd.GeoDataFrame, markets: gpd.GeoDataFrame, policy: Policy,
                     buildings: gpd.GeoDataFrame | None = None, metric_crs=None) -> gpd.GeoDataFrame:
    """Compound interiors (manager, or 楼院长 when 无物业) and markets with a strip; WGS84, or metric_crs if given."""
    cols = ["kind", "compound_id", "market_id", "name", "party_kind", "party_name", "no_manager", "flag",
            "area_m2"]
    frames = [f for f in (compounds, markets) if f is not None and len(f)]
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    crs = metric_crs or local_metric_crs(pd.concat([f.geometry.set_crs(f.crs or 4326).to_crs(4326) for f in frames]))
    empty = np.array([], dtype=object)
    mk = markets if markets is not None else gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326)
    cp = compounds if compounds is not None else gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326)
    mgeom = _polys(_to_metric(mk.geometry.values, crs, mk.crs)) if len(mk) else empty
    cgeom = _polys(_to_metric(cp.geometry.values, crs, cp.crs)) if len(cp) else empty
    # markets: polygon plus strip, minus buildings that are not the market's, smaller markets first
    if len(mgeom):
        zone = shapely.buffer(mgeom, policy.market_strip_m, join_style="mitre", mitre_limit=3.0)
        if buildings is not None and len(buildings):
            bgeom = _polys(_to_metric(buildings.geometry.values, crs, buildings.crs))
            mi, bj = shapely.STRtree(bgeom).query(zone, predicate="intersects")
            inside = shapely.area(shapely.intersection(bgeom[bj], mgeom[mi])) >= 0.5 * shapely.area(bgeom[bj])
            mi, bj = mi[~inside], bj[~inside]
            if len(mi):
                present, compact = np.unique(mi, return_inverse=True)
                zone[present] = shapely.difference(zone[present], _union_groups(bgeom[bj], compact, len(present)))
        zone = _subtract_by_rank(zone, shapely.area(mgeom))
        others = _cross_subtract(zone, mgeom)
        mzone = _filter_parts(others)
    else:
        mzone = empty
    # compounds: interior minus markets, smaller (more specific) compounds first
    czone = _filter_parts(_subtract(_subtract_by_rank(cgeom, shapely.area(cgeom)), mzone)) if len(cgeom) else empty
    out = []
    if len(cgeom):
        pm = cp["property_manager"] if "property_manager" in cp else pd.Series(None, index=cp.index)
        pm = pm.astype(object).where(pm.notna() & (pm.astype(str).str.strip() != ""), None)
        inst = (cp["kind"] == "institution").to_numpy() if "kind" in cp else np.zeros(len(cp), dtype=bool)
        none = pm.isna().to_numpy() & ~inst  # an institution holds its own grounds
        names = cp["name"].astype(object).where(cp["name"].notna(), None) if "name" in cp else \
            pd.Series(None, index=cp.index)
        out.append(pd.DataFrame({
            "kind": "compound", "compound_id": cp["id"].to_numpy(), "market_id": None, "name": names.to_numpy(),
            "party_kind": np.where(inst, "institution", np.where(none, "building_head", "property_manager")),
            "party_name": [(n or m or "未命名 单位院落") if s else f"{n or f'小区 #{i}'} 楼院长（无物业）" if x else m
                           for i, n, m, x, s in zip(cp["id"], names, pm, none, inst, strict=True)],
            "no_manager": none, "flag": np.where(none, "无物业", None), "geometry": czone}))
    if len(mgeom):
        op = mk["operator"] if "operator" in mk else pd.Series(None, index=mk.index)
        names = mk["name"].astype(object).where(mk["name"].notna(), None) if "name" in mk else \
            pd.Series(None, index=mk.index)
        out.append(pd.DataFrame({
            "kind": "market", "compound_id": None, "market_id": mk["id"].to_numpy(), "name": names.to_numpy(),
            "party_kind": "market_operator",
            "party_name": [o if isinstance(o, str) and o.strip() else f"{n or f'市场 #{i}'} 开办方" for i, n, o in
                           zip(mk["id"], names, op, strict=True)],
            "no_manager": False, "flag": None, "geometry": mzone}))
    df = pd.concat(out, ignore_index=True)
    df = df[~shapely.is_empty(df["geometry"].to_numpy())].reset_index(drop=True)
    df["area_m2"] = np.round(shapely.area(df["geometry"].to_numpy()), 2)
    return gpd.GeoDataFrame(df[cols], geometry=_output(df["geometry"].to_numpy(), crs, metric_crs is not None))


def _subtract_by_rank(geoms: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Each geometry minus the overlapping ones ranked before it (smaller size first, then order)."""
    rank = np.empty(len(geoms), dtype=np.int64)
    rank[np.lexsort((np.arange(len(geoms)), size))] = np.arange(len(geoms))
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    before = rank[j] < rank[i]
    out = geoms.copy()
    if before.any():
        present, compact = np.unique(i[before], return_inverse=True)
        out[present] = shapely.difference(geoms[present], _union_groups(geoms[j[before]], compact, len(present)))
    return out


def _cross_subtract(zones: np.ndarray, cores: np.ndarray) -> np.ndarray:
    """Each zone minus the core polygons of the other rows (a market's strip never covers another market)."""
    i, j = shapely.STRtree(cores).query(zones, predicate="intersects")
    other = i != j
    out = zones.copy()
    if other.any():
        present, compact = np.unique(i[other], return_inverse=True)
        out[present] = shapely.difference(zones[present], _union_groups(cores[j[other]], compact, len(present)))
    return out


def building_holders(units: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Per unit: does it hold its building's façade wherever no other unit of the building does? A named
    building imported as a unit of its own (category building=*), and a unit mapped as the building itself (the
    same source feature) do."""
    category = units["category"] if "category" in units else pd.Series(None, index=units.index, dtype=object)
    out = category.astype("string").str.startswith("building=").fillna(False).to_numpy(bool)
    keys = ("source_file", "source_id")
    if len(units) and len(buildings) and all(k in units and k in buildings for k in keys):
        b = buildings.set_index("id")[list(keys)]
        own = b.reindex(pd.array(units["building_id"], dtype="Int64"))
        out |= ((own["source_file"].to_numpy() == units["source_file"].to_numpy())
                & (own["source_id"].to_numpy() == units["source_id"].to_numpy()))
    return out


def holders_through_institution(units: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> dict[int, int]:
    """unit id -> compound id: building holders (column building_holder) standing on an institution's grounds
    (compounds of kind 'institution') hold their façade through that institution; the smallest grounds win."""
    if not len(units) or not len(compounds) or "kind" not in compounds or "building_holder" not in units:
        return {}
    inst = compounds[compounds["kind"] == "institution"]
    held = units[units["building_holder"].to_numpy(bool)]
    if not len(inst) or not len(held):
        return {}
    ground = np.asarray(inst.geometry.values, dtype=object)
    ui, cj = shapely.STRtree(ground).query(np.asarray(held.geometry.values, dtype=object), predicate="within")
    pairs = pd.DataFrame({"unit": held["id"].to_numpy()[ui], "compound": inst["id"].to_numpy()[cj],
                          "area": shapely.area(ground[cj])}).sort_values(["unit", "area", "compound"])
    pairs = pairs.drop_duplicates("unit")
    return {int(u): int(c) for u, c in zip(pairs["unit"], pairs["compound"], strict=True)}


FACADE_STEP_M = 2.0  # façades are measured in pieces this long
FACADE_NEXT_M = 1.0  # a façade piece lies next to a zone within this distance


def street_facades(streets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, reach_m: float = 15.0,
                   crs=None) -> gpd.GeoDataFrame:
    """The street-facing façade of each building, in pieces of about FACADE_STEP_M (metric CRS).

    A piece of a building's outline faces a street when a carriageway lies within reach_m in front of it (its
    outward normal within FACING_DEG of the way there) and no other building stands in between.
    """
    _require(buildings, ("id",), "buildings")
    centre = streets["centerline"] if "centerline" in streets else streets.geometry
    crs = crs or local_metric_crs(gpd.GeoSeries(np.asarray(centre.values, dtype=object),
                                                crs=getattr(centre, "crs", None) or 4326))
    empty = gpd.GeoDataFrame({"building_id": [], "length_m": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if len(streets) == 0 or len(buildings) == 0:
        return empty
    carriage = _polys(_to_metric(streets.geometry.values, crs, streets.crs))
    bgeom = _drop_over_street(_polys(_to_metric(buildings.geometry.values, crs, buildings.crs)),
                              _to_metric(centre.values, crs, getattr(centre, "crs", None)))  # no façades
    rings = shapely.get_exterior_ring(shapely.get_parts(
        shapely.orient_polygons(bgeom, exterior_cw=False), return_index=True)[0])
    _, owner = shapely.get_parts(bgeom, return_index=True)
    xy, ridx = shapely.get_coordinates(shapely.segmentize(rings, FACADE_STEP_M), return_index=True)
    seg = np.flatnonzero(ridx[1:] == ridx[:-1])
    a, b, bldg = xy[seg], xy[seg + 1], owner[ridx[seg]]
    vec = b - a
    length = np.hypot(vec[:, 0], vec[:, 1])
    ok = length > 1e-6
    a, b, vec, length, bldg = a[ok], b[ok], vec[ok], length[ok], bldg[ok]
    normal = np.column_stack([vec[:, 1], -vec[:, 0]]) / length[:, None]  # outward for a counter-clockwise ring
    mid = shapely.points((a + b) / 2 + normal * 0.05)
    near, dist = shapely.STRtree(carriage).query_nearest(mid, max_distance=reach_m, return_distance=True,
                                                         all_matches=False)
    mi, cj = near
    if len(mi) == 0:
        return empty
    way = shapely.get_coordinates(shapely.shortest_line(mid[mi], carriage[cj])).reshape(-1, 2, 2)
    to = way[:, 1] - way[:, 0]
    to_len = np.hypot(to[:, 0], to[:, 1])
    facing = (to_len < 1e-6) | ((normal[mi] * to).sum(axis=1) >= np.cos(np.radians(FACING_DEG)) * to_len)
    mi, way = mi[facing], way[facing]
    lines = shapely.linestrings(way)
    li, bj = shapely.STRtree(bgeom).query(lines, predicate="intersects")
    blocked = np.zeros(len(mi), dtype=bool)
    blocked[li[bj != bldg[mi[li]]]] = True
    mi = mi[~blocked]
    return gpd.GeoDataFrame({"building_id": buildings["id"].to_numpy()[bldg[mi]], "length_m": length[mi]},
                            geometry=gpd.GeoSeries(shapely.linestrings(np.stack([a[mi], b[mi]], axis=1)), crs=crs),
                            crs=crs)


def facade_share(facades: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> tuple[float, pd.Series]:
    """Share of the façade length lying next to (within FACADE_NEXT_M of) the given zones: overall and per
    building id."""
    if len(facades) == 0:
        return 1.0, pd.Series(dtype=float)
    zg = np.asarray(zones.to_crs(facades.crs).geometry.values, dtype=object) if len(zones) else \
        np.array([], dtype=object)
    mids = shapely.line_interpolate_point(np.asarray(facades.geometry.values, dtype=object), 0.5, normalized=True)
    covered = np.zeros(len(facades), dtype=bool)
    if len(zg):
        fi, _ = shapely.STRtree(zg).query(mids, predicate="dwithin", distance=FACADE_NEXT_M)
        covered[np.unique(fi)] = True
    length = facades["length_m"].to_numpy(float)
    per = pd.Series(length * covered).groupby(facades["building_id"].to_numpy()).sum() / \
        pd.Series(length).groupby(facades["building_id"].to_numpy()).sum()
    return float((length * covered).sum() / length.sum()), per
