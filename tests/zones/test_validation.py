"""The zone report finds what it is there to find: on a small made-up city (tests/small_city.py), through ingest,
grid, zone build and a planner's edit, exactly one frontage gap and exactly one detached zone."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient
from small_city import DETACHED_BY_M, MOVED_ZONE, SHOPS, STREET, expected_gap, to_wgs84, write_city
from sqlalchemy import text
from support import APP_TABLES

from gridsvc.api.app import create_app
from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.zones.build import build_zones
from gridsvc.zones.validation import validate


@pytest.fixture(scope="module")
def small_city(engine, tmp_path_factory):
    """The small city ingested, gridded and zoned under 三包; its unit, building and street ids by shop name."""
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ingest(engine, write_city(tmp_path_factory.mktemp("small-city")))
    build_grid(engine, 10, "320102")
    build_zones(engine, "三包")
    with engine.connect() as c:
        units = {r.name: r for r in c.execute(text(
            "SELECT u.name, u.id, u.building_id, z.zone_id, z.street_id, z.side "
            "FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage'"))}
        street = c.execute(text("SELECT id FROM streets WHERE name = :n"), {"n": STREET}).scalar_one()
    assert set(units) == set(SHOPS), "each shop got its one frontage zone"
    assert all(u.building_id is not None for u in units.values()), "each shop stands in its building"
    return engine, units, street


def test_the_report_finds_exactly_the_gap_and_then_the_detached_zone(small_city, planner_headers):
    engine, units, street = small_city
    a, b, c_ = units["甲便利店"], units["乙面包房"], units["丙药店"]
    assert a.side == b.side != c_.side, "甲 and 乙 on one side of the street, 丙 on the other"
    gap = expected_gap("三包")

    with engine.connect() as conn:
        report = validate(conn)
    assert report["summary"]["overlaps"] == 0 and report["summary"]["units_without_zone"] == 0
    assert report["summary"]["frontage_gaps"] == 1 and report["summary"]["detached_zones"] == 0
    [found] = report["frontage_gaps"]
    assert (found["street_id"], found["side"], found["unit_a"], found["unit_b"]) == (street, a.side, a.id, b.id)
    assert found["from_m"] == pytest.approx(gap.from_m, abs=0.5) and found["to_m"] == pytest.approx(gap.to_m, abs=0.5)
    assert found["gap_m"] == pytest.approx(gap.gap_m, abs=1.0)
    assert report["ok"], "a gap is a finding to look at, not an error"

    # a planner redraws 丙's zone 2 m off its building: the zone is now detached from the shop it belongs to
    client = TestClient(create_app(engine), headers=planner_headers)
    moved = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(to_wgs84(MOVED_ZONE))}
    r = client.put(f"/zones/{c_.zone_id}", json=moved, headers={"If-Match": f'"{c_.zone_id}-1"'})
    assert r.status_code == 200, r.text

    report = client.get("/zones/validate").json()
    assert report["summary"]["frontage_gaps"] == 1 and report["frontage_gaps"] == [found], "the gap is unchanged"
    assert report["summary"]["detached_zones"] == 1 and not report["ok"]
    [detached] = report["detached_zones"]
    assert (detached["zone_id"], detached["unit_id"], detached["building_id"]) == (c_.zone_id, c_.id, c_.building_id)
    assert all(type(detached[k]) is int for k in ("zone_id", "unit_id", "building_id")), detached  # ids, not 3.0
    assert detached["distance_m"] == pytest.approx(DETACHED_BY_M, abs=0.05)
    assert report["summary"]["overlaps"] == 0
