"""The H3 cover of the grid build in several processes gives exactly the cells of the single-process cover."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text
from support import NANJING, shared_file

from gridsvc.city.catalogue import load_catalogue
from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest, prepare_layers, read_source
from gridsvc.geo import h3cells


def test_parallel_cover_gives_the_same_pairs(monkeypatch):
    layers, _, _ = read_source(shared_file(NANJING))
    layers, _ = prepare_layers(layers, NANJING.name, load_catalogue())
    geoms = gpd.GeoSeries(pd.concat([layers[k].geometry for k in ("streets", "buildings", "compounds", "units")],
                                    ignore_index=True), crs=4326)
    assert (geoms.geom_type == "Point").sum() > 100 and (geoms.geom_type != "Point").sum() > 1000
    serial = h3cells.cover_features(geoms, 10)
    monkeypatch.setattr(h3cells, "PARALLEL_MIN", 10)
    parallel = h3cells.cover_features(geoms, 10, workers=2)
    assert np.array_equal(serial[0], parallel[0]) and np.array_equal(serial[1], parallel[1])
    assert len(serial[0]) > len(geoms)


def test_build_grid_with_workers_stores_the_same_cells(clean_db, monkeypatch):
    ingest(clean_db, shared_file(NANJING))

    def snapshot():
        with clean_db.connect() as c:
            return (c.execute(text("SELECT h3, code FROM grid_cells ORDER BY h3")).all(),
                    c.execute(text("SELECT layer, feature_id, h3 FROM feature_cells ORDER BY 1, 2, 3")).all())

    build_grid(clean_db, 10, "320102", workers=1)
    one = snapshot()
    monkeypatch.setattr(h3cells, "PARALLEL_MIN", 10)
    build_grid(clean_db, 10, "320102", workers=2)
    two = snapshot()
    assert len(one[1]) > 1000 and one == two
