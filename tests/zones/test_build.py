"""Zones on the real Nanjing extract: the build, its invariants checked in SQL, stewards, rebuilds and planner zones."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from support import zone_point

from gridsvc.people.parties import set_steward
from gridsvc.zones.build import build_zones
from gridsvc.zones.lookup import lookup


def test_most_units_near_a_street_get_a_zone(city):
    engine, report = city
    with engine.connect() as c:
        near = c.execute(text(
            "SELECT count(*) FROM units u WHERE EXISTS (SELECT 1 FROM streets s WHERE "
            "ST_DWithin(s.centerline::geography, u.geom::geography, 30))")).scalar()
        zoned = c.execute(text(
            "SELECT count(DISTINCT z.unit_id) FROM zones z JOIN units u ON u.id = z.unit_id WHERE z.valid_to IS NULL "
            "AND EXISTS (SELECT 1 FROM streets s WHERE ST_DWithin(s.centerline::geography, u.geom::geography, 30))"
        )).scalar()
    assert near > 100 and zoned / near >= 0.90, (zoned, near)
    assert report.counts["frontage"] >= zoned


def test_no_two_current_zones_overlap(city):
    engine, _ = city
    with engine.connect() as c:
        worst = c.execute(text(
            "SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) FROM zones a JOIN zones b "
            "ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom) "
            "WHERE a.valid_to IS NULL AND b.valid_to IS NULL")).scalar()
        invalid = c.execute(text("SELECT count(*) FROM zones WHERE NOT ST_IsValid(geom)")).scalar()
        in_buildings = c.execute(text(
            "SELECT coalesce(max(ST_Area(ST_Intersection(z.geom, b.geom)::geography)), 0) FROM zones z JOIN buildings b "
            "ON z.geom && b.geom AND ST_Intersects(z.geom, b.geom) WHERE z.valid_to IS NULL AND z.kind = 'frontage' "
            # metro stations and underground malls mapped over the road are not façades (>= 20 m of centreline)
            "AND NOT EXISTS (SELECT 1 FROM streets s WHERE s.centerline && b.geom "
            "AND ST_Length(ST_Intersection(s.centerline, b.geom)::geography) >= 20)"
        )).scalar()
    assert worst <= 0.01 and invalid == 0
    assert in_buildings <= 0.05  # 1 cm precision snap along façades (zone-zone overlap bound stays 0.01 m²)


def test_a_street_steward_takes_the_street_space_as_new_versions(city):
    engine, _ = city
    with engine.connect() as c:
        street, before = c.execute(text(
            "SELECT street_id, array_agg(zone_id ORDER BY zone_id) FROM zones_current WHERE kind = 'street_space' "
            "AND provenance = 'auto' AND street_id IS NOT NULL GROUP BY street_id ORDER BY street_id LIMIT 1")).one()
    with engine.begin() as c:
        party, changed = set_steward(c, str(street), "李管家", "13900000000")
    assert changed == len(before)
    with engine.connect() as c:
        rows = c.execute(text("SELECT zone_id, party_id, provenance, version FROM zones_current "
                              "WHERE zone_id = ANY(:z) ORDER BY zone_id"), {"z": before}).all()
    assert [r.zone_id for r in rows] == before, "same zones, new versions"
    assert {(r.party_id, r.provenance) for r in rows} == {(party, "auto")}, "the steward holds them; still auto"
    assert all(r.version >= 2 for r in rows)
    with engine.begin() as c:
        assert set_steward(c, str(street), "李管家", "13900000000") == (party, 0), "nothing to change the second time"


def test_rebuild_is_stable_and_planner_zones_survive(city):
    engine, _ = city
    build_zones(engine, "三包")  # absorbs the edits of earlier tests (a reassigned zone is planner-made now)
    again = build_zones(engine, "三包")
    assert again.opened == 0 and again.closed == 0
    with engine.begin() as c:
        zid, _, x, y = zone_point(c, "kind = 'frontage' AND origin = 'auto'")
        party = c.execute(text("SELECT id FROM parties WHERE kind = 'unit' ORDER BY id LIMIT 1")).scalar()
        planner = c.execute(text(
            "INSERT INTO zones (zone_key, kind, origin, policy, party_id, created_by, geom) "
            "SELECT 'planner:test', 'frontage', 'planner', '三包', :p, 'test', "
            "ST_Multi(ST_Transform(ST_Buffer(ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 32650), 4), 4326)) "
            "RETURNING id"), {"p": party, "x": x, "y": y}).scalar()
    rebuilt = build_zones(engine, "三包")
    with engine.connect() as c:
        alive = c.execute(text("SELECT valid_to IS NULL FROM zones WHERE id = :i"), {"i": planner}).scalar()
        overlap = c.execute(text(
            "SELECT coalesce(max(ST_Area(ST_Intersection(z.geom, p.geom)::geography)), 0) FROM zones z, zones p "
            "WHERE p.id = :i AND z.id <> p.id AND z.valid_to IS NULL AND ST_Intersects(z.geom, p.geom)"),
            {"i": planner}).scalar()
        r = lookup(c, x, y)
    assert alive and overlap <= 0.01 and rebuilt.closed >= 1
    assert r["zone"]["id"] == planner and r["zone"]["origin"] == "planner"  # its first version: zone_id == id
    with engine.begin() as c:
        c.execute(text("DELETE FROM zones WHERE id = :i"), {"i": planner})
    build_zones(engine, "三包")


def test_five_duties_policy_and_officer_as_secondary(city):
    engine, _ = city
    build_zones(engine, "五包")
    with engine.connect() as c:
        zid, uid, x, y = zone_point(
            c, "kind = 'frontage' AND origin = 'auto' AND EXISTS (SELECT 1 FROM grid_cells g JOIN officer_grids og ON og.grid_code = g.code "
               "WHERE ST_Covers(g.geom, ST_PointOnSurface(zones.geom)))")
        r = lookup(c, x, y)
    assert r["grid_officer"]["name"] == "王网格" and r["secondary"]["name"] == "王网格"
    assert [d["zh"] for d in r["primary"]["duties"]][:3] == ["环境卫生", "秩序", "绿化"]
    assert len(r["primary"]["duties"]) == 5 and r["zone"]["policy"] == "五包"
    build_zones(engine, "三包")


def test_exported_zones_hold_the_invariants_on_their_own(city, tmp_path):
    """What an outside checker does: read the exported GeoPackage, never gridsvc's validator."""
    import geopandas as gpd
    import shapely

    from gridsvc.db.layers import layer_spec
    from gridsvc.db.store import read_layer
    from gridsvc.exporters.layers import write_layer

    engine, _ = city
    with engine.connect() as c:
        path = write_layer(read_layer(c, layer_spec("zones")), tmp_path / "zones.gpkg", "zones")
    z = gpd.read_file(path)
    assert {"unit_id", "party_name", "party_kind", "kind", "policy", "provenance", "valid_from", "valid_to"} <= set(z)
    assert z.crs.to_epsg() == 4326 and z["valid_to"].isna().all() and z.geometry.is_valid.all()
    g = np.asarray(z.to_crs(32650).geometry.values)
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    assert shapely.area(shapely.intersection(g[a[keep]], g[b[keep]])).max() <= 0.01
    front = z[z["kind"] == "frontage"]
    assert front["unit_id"].notna().all() and front["party_kind"].isin(["unit", "institution"]).all()


def test_unnamed_units_read_as_their_kind_in_parties_and_lookups(city):
    """An unnamed unit is '未命名 便利店' wherever a person reads it, never a raw OSM tag or an ATM."""
    engine, _ = city
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT u.id, u.category, p.name FROM units u JOIN parties p ON p.kind = 'unit' AND p.ref = 'unit:' || u.id "
            "WHERE u.name IS NULL ORDER BY u.id")).all()
        assert len(rows) >= 10
        for _, category, name in rows:
            assert name.startswith("未命名 ") and "=" not in name and "#" not in name, (category, name)
        assert dict((cat, name) for _, cat, name in rows).get("shop=convenience", "未命名 便利店") == "未命名 便利店"
        assert c.execute(text("SELECT count(*) FROM units WHERE category IN ('amenity=atm', 'amenity=vending_machine')"
                              )).scalar() == 0
        zid, uid, x, y = c.execute(text(
            "SELECT z.zone_id, z.unit_id, ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)) "
            "FROM zones z JOIN units u ON u.id = z.unit_id WHERE z.valid_to IS NULL AND u.name IS NULL "
            "ORDER BY z.zone_id LIMIT 1")).one()
        r = lookup(c, x, y)
        assert r["primary"]["name"].startswith("未命名 ") and "=" not in r["primary"]["name"]
        space = c.execute(text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM zones WHERE valid_to IS NULL "
            "AND kind = 'street_space' ORDER BY zone_id")).all()
        nearest = [lookup(c, sx, sy)["nearest_unit"] for sx, sy in space[:40]]
        assert all("=" not in n["name"] for n in nearest if n)
