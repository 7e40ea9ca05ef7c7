"""Vectorised GEOS helpers shared by the zone core: thread-parallel element-wise ops and grouped unions."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import shapely

PAR_MIN = 2000  # arrays shorter than this are not worth splitting across threads


@cache
def cores() -> int:
    """Cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@cache
def pool() -> ThreadPoolExecutor:
    """Threads for GEOS work (shapely releases the GIL), one per core."""
    return ThreadPoolExecutor(cores(), thread_name_prefix="geos")


def par(fn, *arrays, **kwargs) -> np.ndarray:
    """fn over the arrays (same length, or scalars), split across one thread per core when worth it."""
    n = max((len(a) for a in arrays if isinstance(a, np.ndarray) and a.ndim), default=0)
    k = cores()
    if k == 1 or n < PAR_MIN:
        return fn(*arrays, **kwargs)
    threads = pool()
    cuts = np.linspace(0, n, k + 1).astype(int)
    jobs = [threads.submit(fn, *[a[lo:hi] if isinstance(a, np.ndarray) and a.ndim else a for a in arrays], **kwargs)
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
    return np.concatenate([j.result() for j in jobs])


def regroup(parts: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """n geometries from disjoint polygon parts: Polygon for one part, MultiPolygon for several, else empty."""
    out = np.full(n, shapely.Polygon(), dtype=object)
    if len(parts) == 0:
        return out
    order = np.argsort(idx, kind="stable")
    parts, idx = parts[order], idx[order]
    counts = np.bincount(idx, minlength=n)
    single = counts[idx] == 1
    out[idx[single]] = parts[single]
    multi = ~single
    if multi.any():
        present, compact = np.unique(idx[multi], return_inverse=True)
        out[present] = shapely.multipolygons(parts[multi], indices=compact)
    return out


def union_groups(geoms: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Union of the geometries in each of n groups (group of each geometry in idx); empty for no member."""
    geoms, idx = np.asarray(geoms, dtype=object), np.asarray(idx)
    out = np.full(n, shapely.Polygon(), dtype=object)
    if len(geoms) == 0:
        return out
    order = np.argsort(idx, kind="stable")
    geoms, idx = geoms[order], idx[order]
    count = np.bincount(idx, minlength=n)
    rank = np.arange(len(idx)) - np.searchsorted(idx, idx)
    single = count[idx] == 1
    out[idx[single]] = geoms[single]
    width = 2
    while width // 2 < count.max(initial=0):  # groups of similar size in one padded matrix each
        rows = np.flatnonzero((count > width // 2) & (count <= width))
        if len(rows):
            mat = np.full((len(rows), width), None, dtype=object)
            sel = np.isin(idx, rows)
            mat[np.searchsorted(rows, idx[sel]), rank[sel]] = geoms[sel]
            out[rows] = par(shapely.union_all, mat, axis=1)
        width *= 2
    return out
