"""The dask build's partitioner (distributed.partition_cells): every point in exactly one core cell, no cell over
the cap where it could still be split, none finer than MIN_EDGE_HALOS halos across."""

from __future__ import annotations

import h3.api.basic_int as h3
import numpy as np

from gridsvc.geo.h3cells import point_cells
from gridsvc.zones.distributed import (
    MIN_EDGE_HALOS,
    PARTS_PER_THREAD,
    finest_res,
    parent_res,
    partition_cells,
)

HALO_M = 260.0  # 三包 on Nanjing


def city_points() -> tuple[np.ndarray, np.ndarray]:
    """A sparse spread over ~1° plus dense towns and one block too dense to split (> cap within ~50 m)."""
    rng = np.random.default_rng(7)
    spread = rng.uniform([118.3, 31.6], [119.3, 32.6], (6_000, 2))
    towns = np.vstack([rng.normal(c, 0.03, (4_000, 2)) for c in ([118.7, 32.0], [119.0, 32.3], [118.5, 31.8])])
    block = rng.normal([118.9, 31.9], 0.0003, (900, 2))
    pts = np.vstack([spread, towns, block])
    return pts[:, 0], pts[:, 1]


def test_every_point_in_exactly_one_core_and_none_over_the_cap_where_it_could_split():
    lng, lat = city_points()
    cap, fine = 600, finest_res(HALO_M)
    cells = partition_cells(lng, lat, HALO_M, threads=2, cap=cap)
    assert cells.shape == lng.shape

    uniq, counts = np.unique(cells, return_counts=True)
    res = np.array([h3.get_resolution(int(c)) for c in uniq])
    # each point's cell is one of its own ancestors (so its core is where it lies, up to H3's own nesting) ...
    own = point_cells(lng, lat, fine)
    assert all(h3.cell_to_parent(int(o), h3.get_resolution(int(c))) == c for o, c in zip(own, cells, strict=True))
    # ... and no chosen cell is inside another: a point cannot be in two cores
    chosen = set(uniq.tolist())
    assert not any(h3.cell_to_parent(int(c), r) in chosen for c, cr in zip(uniq, res, strict=True)
                   for r in range(cr))
    # mixed resolutions, from the base resolution down to the finest allowed
    assert res.min() == parent_res(lng, lat, HALO_M, 2) < res.max() == fine
    # over the cap only where the cell may not be split further (the dense block)
    assert (counts > cap).any()
    assert (res[counts > cap] == fine).all()
    assert counts[res < fine].max() <= cap
    # no cell under MIN_EDGE_HALOS halos across
    assert h3.average_hexagon_edge_length(int(res.max()), "m") >= MIN_EDGE_HALOS * HALO_M
    assert h3.average_hexagon_edge_length(fine + 1, "m") < MIN_EDGE_HALOS * HALO_M


def test_a_cap_above_the_city_keeps_the_base_cells():
    lng, lat = city_points()
    cells = partition_cells(lng, lat, HALO_M, threads=2, cap=len(lng))
    base = parent_res(lng, lat, HALO_M, 2)
    # one partition per base cell, holding the points whose finest cell descends from it (H3 children do not
    # nest exactly, so near an edge that can be the next cell over from the point's own base cell)
    own = point_cells(lng, lat, finest_res(HALO_M))
    assert cells.tolist() == [h3.cell_to_parent(int(o), base) for o in own]
    assert len(np.unique(cells)) >= PARTS_PER_THREAD * 2
    assert len(partition_cells(lng[:0], lat[:0], HALO_M, threads=2, cap=10)) == 0
