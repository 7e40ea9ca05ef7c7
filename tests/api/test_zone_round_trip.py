"""What a client reads it can send back: every zone of a built city survives GET → PUT unchanged (no new version),
a vertex moved 1 m clear of the neighbours saves, a vertex moved 1 m into a neighbour is still refused.

GeoJSON answers round coordinates to 7 decimals; the edit snaps them back onto the stored vertices before the
overlap check (gridsvc/zone_edits.py), so the rounding alone opens no slivers against the neighbours.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridsvc.api.app import create_app
from gridsvc.zones.build import build_zones

M_X, M_Y = 1 / 94_400, 1 / 111_000  # degrees per metre at 32°N
DIRECTIONS = [(np.cos(a), np.sin(a)) for a in np.linspace(0, 2 * np.pi, 16, endpoint=False)]


@pytest.fixture(scope="module")
def city(nanjing, planner_headers):
    build_zones(nanjing, "三包")
    return nanjing, TestClient(create_app(nanjing), headers=planner_headers)


def _zones(engine) -> dict[int, tuple[shapely.Geometry, bool]]:
    """Current zones: geometry and whether it is protected (everything but the auto street space)."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT zone_id, ST_AsBinary(geom), NOT (kind = 'street_space' AND provenance = 'auto') "
                              "FROM zones_current")).all()
    return {r[0]: (shapely.from_wkb(r[1]), r[2]) for r in rows}


def _versions(engine) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM zones")).scalar_one()


def _moved(feature: dict, vertex, to) -> dict:
    """The feature with the given vertex (as answered, 7 decimals) moved to `to`."""
    geometry = feature["geometry"]
    coords = geometry["coordinates"]
    for polygon in coords if geometry["type"] == "MultiPolygon" else [coords]:
        for ring in polygon:
            for i, p in enumerate(ring):
                if abs(p[0] - vertex[0]) < 2e-7 and abs(p[1] - vertex[1]) < 2e-7:
                    ring[i] = [float(to[0]), float(to[1])]
    return feature


def _put(client, feature: dict, etag: str):
    return client.put(f"/zones/{feature['id']}", json={k: feature[k] for k in ("type", "geometry", "properties")},
                      headers={"If-Match": etag})


def test_every_zone_survives_an_unchanged_round_trip_without_a_new_version(city):
    engine, client = city
    zones = _zones(engine)
    assert len(zones) > 300
    before = _versions(engine)
    refused = []
    for zone_id in sorted(zones):
        got = client.get(f"/zones/{zone_id}")
        r = _put(client, got.json(), got.headers["ETag"])
        if r.status_code != 200 or r.headers["ETag"] != got.headers["ETag"]:
            refused.append(f"zone {zone_id}: {r.status_code} {r.headers.get('ETag')} {r.text[:150]}")
        else:
            assert r.json()["edit"] == {"unchanged": True}
    assert refused == [], f"{len(refused)} of {len(zones)} unchanged zones were not saved back as they are:\n" + \
        "\n".join(refused[:10])
    assert _versions(engine) == before, "an unchanged round trip makes no new version"
    assert _zones(engine) == zones


def test_an_unchanged_round_trip_through_gcj02_makes_no_new_version(city):
    engine, client = city
    before = _versions(engine)
    for zone_id in sorted(_zones(engine))[:40]:
        got = client.get(f"/zones/{zone_id}", params={"crs": "gcj02"})
        f = got.json()
        r = client.put(f"/zones/{zone_id}", params={"crs": "gcj02"}, headers={"If-Match": got.headers["ETag"]},
                       json={"type": "Feature", "geometry": f["geometry"], "properties": f["properties"]})
        assert r.status_code == 200 and r.headers["ETag"] == got.headers["ETag"], (zone_id, r.text[:300])
    assert _versions(engine) == before


def _candidates(zones, *, into_neighbour: bool):
    """(zone id, vertex, moved vertex, neighbour id) for vertices of frontage-like zones moved 1 m."""
    tree_ids = list(zones)
    tree = shapely.STRtree([zones[i][0] for i in tree_ids])
    for zone_id in sorted(zones):
        geom, protected = zones[zone_id]
        if not protected:
            continue
        for v in shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(geom)[0]))[:-1]:
            for dx, dy in DIRECTIONS:
                p = shapely.Point(v[0] + dx * M_X, v[1] + dy * M_Y)
                near = [tree_ids[j] for j in tree.query(p.buffer(2 * M_Y)) if tree_ids[j] != zone_id]
                if into_neighbour:
                    inside = [j for j in near if zones[j][1] and zones[j][0].contains(p)
                              and zones[j][0].boundary.distance(p) > 0.3 * M_Y]
                    if inside:
                        yield zone_id, v, (p.x, p.y), inside[0]
                elif geom.contains(p) and all(zones[j][0].distance(p) > 1 * M_Y * 0.84 for j in near):
                    yield zone_id, v, (p.x, p.y), None


def test_a_vertex_moved_one_metre_clear_of_the_neighbours_saves(city):
    engine, client = city
    zones = _zones(engine)
    for zone_id, v, to, _ in _candidates(zones, into_neighbour=False):
        got = client.get(f"/zones/{zone_id}")
        moved = _moved(got.json(), v, to)
        if not shapely.geometry.shape(moved["geometry"]).is_valid:
            continue
        r = _put(client, moved, got.headers["ETag"])
        assert r.status_code == 200, r.text
        version = got.json()["properties"]["version"]
        assert r.json()["properties"]["version"] == version + 1
        new = _zones(engine)[zone_id][0]
        kept = {tuple(c) for c in shapely.get_coordinates(zones[zone_id][0])} - {tuple(v)}
        assert kept <= {tuple(c) for c in shapely.get_coordinates(new)}, "the other vertices stay as stored"
        assert 0.2 < zones[zone_id][0].area / M_X / M_Y - new.area / M_X / M_Y, "the zone gave up the moved corner"
        return
    pytest.fail("no vertex of a Nanjing zone can be moved 1 m clear of its neighbours")


def test_a_vertex_moved_one_metre_into_a_neighbour_is_still_refused(city):
    engine, client = city
    zones = _zones(engine)
    for zone_id, v, to, neighbour in _candidates(zones, into_neighbour=True):
        got = client.get(f"/zones/{zone_id}")
        moved = _moved(got.json(), v, to)
        if not shapely.geometry.shape(moved["geometry"]).is_valid:
            continue
        before = _versions(engine)
        r = _put(client, moved, got.headers["ETag"])
        assert r.status_code == 409, r.text
        assert neighbour in [o["zone_id"] for o in r.json()["context"]["overlaps"]]
        assert _versions(engine) == before
        return
    pytest.fail("no vertex of a Nanjing zone lies next to a neighbour it could be moved into")
