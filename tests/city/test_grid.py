"""The H3 grid over real data: cells, provisional communities, codes, feature indexes."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
from shapely.geometry import box
from sqlalchemy import text
from support import NANJING, shared_file

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.geo import h3cells


def test_codes_are_deterministic_and_national_style():
    cells = h3cells.cells_in_extent(box(118.77, 32.03, 118.79, 32.05), 10)
    a = h3cells.provisional_hierarchy(cells, 10, "320102")
    b = h3cells.provisional_hierarchy(cells[::-1].copy(), 10, "320102")
    assert a["code"].tolist() == b["code"].tolist()
    assert a["code"].is_unique and a["code"].str.fullmatch(r"320102\d{9}").all()
    assert (a["code"].str[:12] == a["community_code"]).all()
    parent = [h3.cell_to_parent(h3.int_to_str(int(c)), 8) for c in a["h3"]]
    assert [h3.int_to_str(int(c)) for c in a["community_h3"]] == parent


def test_overlap_cover_keeps_thin_alleys():
    alley = gpd.GeoSeries([box(118.7800, 32.0400, 118.7830, 32.04002)], crs=4326)  # 300 m x 2 m
    pos, cells = h3cells.cover_features(alley, 10)
    assert len(cells) >= 2 and set(pos) == {0}
    center = h3.h3shape_to_cells(h3.geo_to_h3shape(alley.iloc[0].__geo_interface__), 10)
    assert len(cells) > len(center)


def test_cell_polygons_match_h3():
    cells = h3cells.cells_in_extent(box(118.78, 32.04, 118.785, 32.045), 10)
    polys = h3cells.cell_polygons(cells)
    for c, p in zip(cells[:5], polys[:5], strict=False):
        lat, lng = h3.cell_to_latlng(h3.int_to_str(int(c)))
        assert abs(p.centroid.x - lng) < 1e-5 and abs(p.centroid.y - lat) < 1e-5


def test_build_grid_on_nanjing(clean_db):
    ingest(clean_db, shared_file(NANJING))
    report = build_grid(clean_db, 10, "320102")
    assert 900 <= report.cells <= 2500 and report.provisional
    with clean_db.connect() as c:
        uncovered = c.execute(text(
            "SELECT count(*) FROM units u WHERE NOT EXISTS (SELECT 1 FROM grid_cells g WHERE ST_Covers(g.geom, u.geom))"
        )).scalar()
        per_layer = dict(c.execute(text("SELECT layer, count(DISTINCT feature_id) FROM feature_cells GROUP BY 1")).all())
        n = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
             for t in ("streets", "units", "markets", "compounds")}
        levels = dict(c.execute(text("SELECT level, count(*) FROM admin_units GROUP BY 1")).all())
        h3_0, area = c.execute(text("SELECT h3, ST_Area(geom::geography) FROM grid_cells LIMIT 1")).one()
        orphan = c.execute(text("SELECT count(*) FROM grid_cells WHERE community_id IS NULL")).scalar()
    assert uncovered == 0
    assert n["compounds"] > 0, "Nanjing has compounds: the check below must not pass on an empty layer"
    assert per_layer == n, "every street, unit, market and compound is indexed by at least one cell"
    assert levels["district"] == 1 and levels["community"] == report.communities
    # res 10 averages 15,000 m² worldwide; here (32°N) cells are ~11,600 m², as H3 itself says
    assert abs(area - h3.cell_area(h3.int_to_str(h3_0), "m^2")) / area < 0.01 and 10_000 < area < 16_000
    assert orphan == 0
    again = build_grid(clean_db, 10, "320102")
    with clean_db.connect() as c:
        codes = c.execute(text("SELECT count(DISTINCT code) FROM grid_cells")).scalar()
    assert again.cells == report.cells == codes


def test_imported_communities_take_their_cells(clean_db, tmp_path):
    ingest(clean_db, shared_file(NANJING))
    community = gpd.GeoDataFrame(
        {"名称": ["新街口社区"], "级别": ["社区"], "代码": ["320102001001"]},
        geometry=[box(118.775, 32.035, 118.790, 32.045)], crs=4326)
    path = tmp_path / "boundary.gpkg"
    community.to_file(path, layer="communities")
    ingest(clean_db, path, kind="boundary")
    build_grid(clean_db, 10, "320102")
    with clean_db.connect() as c:
        codes = c.execute(text(
            "SELECT g.code FROM grid_cells g JOIN admin_units a ON a.id = g.community_id WHERE NOT a.provisional"
        )).scalars().all()
    assert len(codes) > 20 and all(code.startswith("320102001001") for code in codes)
    assert len(set(codes)) == len(codes)
    assert np.all([len(c) == 15 for c in codes])
    with clean_db.connect() as c:
        prov = c.execute(text("SELECT code FROM admin_units WHERE provisional AND level = 'subdistrict'")).scalars()
        assert all(code.startswith("3201029") for code in prov)


def test_far_apart_data_is_refused_with_a_clear_message(clean_db, tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["新百", "Stockmann"]},
                           geometry=[box(118.78, 32.04, 118.781, 32.041).centroid, box(24.94, 60.16, 24.941, 60.161).centroid],
                           crs=4326)
    path = tmp_path / "two_cities.geojson"
    gdf.to_file(path)
    ingest(clean_db, path, kind="unit")
    import pytest

    from gridsvc.errors import InputError
    with pytest.raises(InputError, match="two far-apart places"):
        build_grid(clean_db, 10, "320102")
    with clean_db.connect() as c:
        assert c.execute(text("SELECT count(*) FROM grid_cells")).scalar() == 0
