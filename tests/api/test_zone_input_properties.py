"""Hypothesis: whatever polygon comes in (bow-ties, slivers, spikes, duplicate points, holes), the store stays valid.

Every answer is 201, 409 or 422 (never a 5xx), and after all of them the current zones are valid polygons,
none overlapping another.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.zones.build import build_zones

DEG_PER_M = 1 / 100_000


@pytest.fixture(scope="module")
def setup(nanjing, planner_headers):
    build_zones(nanjing, "三包")
    with nanjing.connect() as c:
        spots = [tuple(r) for r in c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current "
            "ORDER BY zone_id LIMIT 40) s")).all()]
    client = TestClient(create_app(nanjing), headers=planner_headers)
    party = client.post("/parties", json={"kind": "street_steward", "name": "性质测试管家"}).json()["id"]
    return client, spots, party


offsets = st.tuples(st.floats(-12, 12, allow_nan=False), st.floats(-12, 12, allow_nan=False))
rings = st.lists(offsets, min_size=3, max_size=12)


@settings(max_examples=int(os.environ.get("GRIDSVC_PROPERTY_EXAMPLES", 60)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spot=st.integers(0, 39), ring=rings, hole=st.one_of(st.none(), rings), close=st.booleans(),
       overlap=st.sampled_from(["reject", "clip", "take"]), repair=st.booleans())
def test_any_polygon_leaves_the_store_valid_and_without_overlaps(setup, spot, ring, hole, close, overlap, repair):
    client, spots, party = setup
    x, y = spots[spot % len(spots)]

    def coords(r):
        pts = [[x + dx * DEG_PER_M, y + dy * DEG_PER_M] for dx, dy in r]
        return pts + [pts[0]] if close else pts

    geometry = {"type": "Polygon", "coordinates": [coords(ring)] + ([coords(hole)] if hole else [])}
    r = client.post("/zones", params={"overlap": overlap, "repair": str(repair).lower()},
                    json={"type": "Feature", "geometry": geometry, "properties": {"party_id": party}})
    assert r.status_code in (201, 409, 422), r.text
    assert r.status_code == 201 or r.json()["detail"]


def test_the_store_after_the_properties(setup, nanjing):
    """Runs after the property test in this module: nothing it stored broke the invariants."""
    with nanjing.connect() as c:
        bad = c.execute(text("SELECT count(*) FROM zones_current WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom) "
                             "OR GeometryType(geom) <> 'MULTIPOLYGON'")).scalar_one()
        overlaps = c.execute(text(
            "SELECT a.zone_id, a.kind, a.provenance, a.version, b.zone_id, b.kind, b.provenance, b.version, "
            "ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2, ST_AsGeoJSON(a.geom), ST_AsGeoJSON(b.geom) "
            "FROM zones_current a JOIN zones_current b "
            "ON a.zone_id < b.zone_id AND a.geom && b.geom "
            "WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01")).all()
        planner = c.execute(text("SELECT count(*) FROM zones_current z JOIN parties p ON p.id = z.party_id "
                                 "WHERE p.name = '性质测试管家'")).scalar_one()
    assert bad == 0 and overlaps == [], overlaps
    assert planner > 0, "some of the generated polygons were stored"
