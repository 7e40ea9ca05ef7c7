"""Fixtures of the zone tests: Nanjing built under 三包 (one database per module, the tests of a module share it)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import NANJING, shared_file

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.people.parties import add_officer
from gridsvc.zones.build import build_zones


@pytest.fixture(scope="module")
def city(engine):
    """Nanjing ingested, gridded and zoned under 三包, with one officer for the first community."""
    with engine.begin() as c:
        c.execute(text("TRUNCATE zones, zone_builds, feature_cells, officer_grids, officers, parties, units, "
                       "grid_cells, streets, buildings, compounds, markets, admin_units, imports RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    report = build_zones(engine, "三包")
    with engine.begin() as c:
        community = c.execute(text(
            "SELECT substr(g.code, 1, 12) FROM grid_cells g JOIN zones z ON ST_Intersects(g.geom, z.geom) "
            "WHERE z.kind = 'frontage' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
        add_officer(c, "王网格", "13800000001", [community])
    return engine, report
