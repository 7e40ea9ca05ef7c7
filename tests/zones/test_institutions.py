"""Offices, institutions and their grounds hold frontage: Taiyuan (compounds, offices, campuses; no shops) in PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import TAIYUAN, shared_file

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.db import migrate
from gridsvc.zones.build import build_zones
from gridsvc.zones.lookup import lookup


@pytest.fixture(scope="module")
def taiyuan(engine):
    with engine.begin() as c:
        c.execute(text("TRUNCATE zones, zone_builds, feature_cells, officer_grids, officers, parties, units, "
                       "grid_cells, streets, buildings, compounds, markets, admin_units, imports RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(TAIYUAN))
    build_grid(engine, 10, "140100")
    return engine, build_zones(engine, "三包")


def test_institution_grounds_are_area_zones_of_the_institution(taiyuan):
    engine, report = taiyuan
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT co.name, p.kind, p.name FROM zones_current z JOIN compounds co ON co.id = z.compound_id "
            "JOIN parties p ON p.id = z.party_id WHERE co.kind = 'institution'")).all()
        assert len(rows) >= 40
        assert all(kind == "institution" and party == (name or party) for name, kind, party in rows)
        assert "山西大学" in {party for _, _, party in rows}
        x, y = c.execute(text(
            "SELECT ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)) FROM zones_current z "
            "JOIN compounds co ON co.id = z.compound_id WHERE co.name = '山西大学' ORDER BY z.area_m2 DESC LIMIT 1"
        )).one()
        r = lookup(c, x, y)
        assert r["primary"] == {**r["primary"], "kind": "institution", "name": "山西大学"}
        assert r["zone"]["kind_label"].startswith("小区或单位院落")


def test_offices_and_buildings_hold_their_frontage_themselves_or_through_their_institution(taiyuan):
    engine, report = taiyuan
    with engine.connect() as c:
        held = dict(c.execute(text(
            "SELECT p.kind, count(*) FROM zones_current z JOIN parties p ON p.id = z.party_id "
            "WHERE z.kind = 'frontage' GROUP BY 1")).all())
        assert held.get("unit", 0) >= 200 and held.get("institution", 0) >= 5, held
        towers = c.execute(text(
            "SELECT count(DISTINCT z.unit_id) FROM zones_current z JOIN units u ON u.id = z.unit_id "
            "WHERE z.kind = 'frontage' AND u.category LIKE 'building=%'")).scalar()
        assert towers >= 80
        through = c.execute(text(
            "SELECT count(*) FROM zones_current z JOIN parties p ON p.id = z.party_id JOIN units u ON u.id = z.unit_id "
            "JOIN compounds co ON p.ref = 'compound:' || co.id AND co.kind = 'institution' "
            "WHERE z.kind = 'frontage' AND NOT ST_Within(u.geom, co.geom)")).scalar()
        assert through == 0  # through an institution only from its own grounds
        unnamed = c.execute(text(
            "SELECT p.name FROM units u JOIN parties p ON p.ref = 'unit:' || u.id WHERE u.name IS NULL")).scalars().all()
        assert unnamed and all(n.startswith("未命名 ") and "=" not in n for n in unnamed)


def test_identical_rebuild_changes_nothing(taiyuan):
    engine, _ = taiyuan
    again = build_zones(engine, "三包")
    assert (again.opened, again.closed) == (0, 0)
    with engine.connect() as c:
        overlaps = c.execute(text(
            "SELECT count(*) FROM zones_current a JOIN zones_current b ON a.zone_id < b.zone_id "
            "AND ST_Intersects(a.geom, b.geom) WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.05"
        )).scalar()
    assert overlaps == 0


def test_the_schema_steps_back_below_institutions_and_up_again(taiyuan):
    """`db reset` downgrades through 0008 with institution grounds and zones stored (it used to hit the zones' FK)."""
    engine, _ = taiyuan
    with engine.connect() as c:
        held = c.execute(text("SELECT count(*) FROM zones z JOIN parties p ON p.id = z.party_id "
                              "WHERE p.kind = 'institution'")).scalar()
    assert held > 0
    migrate.downgrade(engine, "0007")
    try:
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM parties WHERE kind = 'institution'")).scalar() == 0
            assert c.execute(text("SELECT count(*) FROM zones WHERE party_id IS NULL AND compound_id IS NULL "
                                  "AND kind = 'compound'")).scalar() == 0
    finally:
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
