"""GeoJSON bodies checked against RFC 7946 (gridsvc/geo/geojson_checks.py) and then for numbers and validity
(gridsvc/geo/zone_geometry.py): each problem refused once, with its place."""

from __future__ import annotations

import math

import pytest

from gridsvc.errors import InputError, InvalidGeometryError, SwappedCoordinatesError
from gridsvc.geo.geojson_checks import check_feature, geometry_positions
from gridsvc.geo.zone_geometry import MAX_VERTICES, parse_geometry, polygonal

X, Y = 118.7836, 32.0427
D = 1e-4
RING = [[X, Y], [X + D, Y], [X + D, Y + D], [X, Y + D], [X, Y]]  # counterclockwise
SQUARE = {"type": "Polygon", "coordinates": [RING]}


def _poly(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [list(r) for r in rings]}


def _refused(geojson, where: str, *words: str, exc=InputError) -> InputError:
    with pytest.raises(exc) as info:
        parse_geometry(geojson)
    err = info.value
    assert err.where == where, (err.where, err.message)
    for w in words:
        assert w in err.message, err.message
    return err


def test_a_plain_polygon_and_multipolygon_pass_without_notes():
    assert parse_geometry(SQUARE).area > 0
    assert geometry_positions(SQUARE).notes == []
    multi = {"type": "MultiPolygon", "coordinates": [[RING], [[[p[0] + 2 * D, p[1]] for p in RING]]]}
    assert parse_geometry(multi).geom_type == "MultiPolygon"
    assert len(geometry_positions(multi).xy) == 10


@pytest.mark.parametrize(("geojson", "where", "words"), [
    ([], "geometry", ["geometry object"]),
    ({"type": "Polygon"}, "geometry", ["'coordinates'"]),
    ({"type": "Polygonal", "coordinates": [RING]}, "geometry.type", ["Polygon or MultiPolygon"]),
    ({"type": "Polygon", "coordinates": RING}, "geometry.coordinates[0][0]", ["position must be an array"]),
    ({"type": "Polygon", "coordinates": [[X, Y]]}, "geometry.coordinates[0][0]", ["position must be an array"]),
    ({"type": "Polygon", "coordinates": [X, Y]}, "geometry.coordinates[0]", ["a ring must be an array"]),
    ({"type": "Polygon", "coordinates": []}, "geometry.coordinates", ["exterior ring"]),
    ({"type": "Polygon", "coordinates": "118,32"}, "geometry.coordinates", ["must be an array"]),
    ({"type": "MultiPolygon", "coordinates": [RING]}, "geometry.coordinates[0][0][0]", ["must be an array"]),
    (_poly(RING[:-1]), "geometry.coordinates[0]", ["not closed", "§3.1.6"]),
    (_poly([RING[0], RING[1], RING[0]]), "geometry.coordinates[0]", ["at least 4 positions"]),
    (_poly([[X, Y], [X + D, Y], [X + D, Y + D, 0, 1], [X, Y]]), "geometry.coordinates[0][2]", ["2 numbers"]),
    (_poly([[X, Y], [X + D], [X + D, Y + D], [X, Y]]), "geometry.coordinates[0][1]", ["2 numbers"]),
    (_poly([[X, Y], [X + D, "32.04"], [X + D, Y + D], [X, Y]]), "geometry.coordinates[0][1]", ["numbers"]),
    (_poly([[X, Y], [X + D, True], [X + D, Y + D], [X, Y]]), "geometry.coordinates[0][1]", ["numbers"]),
    (_poly([[X, Y], [X + D, None], [X + D, Y + D], [X, Y]]), "geometry.coordinates[0][1]", ["numbers"]),
    ({**SQUARE, "bbox": [X, Y, X + D]}, "geometry.bbox", ["[west, south, east, north]"]),
    ({**SQUARE, "bbox": [X, Y + D, X + D, Y]}, "geometry.bbox", ["south"]),
    ({**SQUARE, "bbox": [X, Y, X + D, 95]}, "geometry.bbox", ["out of range"]),
    ({**SQUARE, "bbox": [X, Y, X + D / 2, Y + D]}, "geometry.bbox", ["outside the bbox"]),
    ({**SQUARE, "bbox": [X, Y, math.inf, Y + D]}, "geometry.bbox", ["non-finite"]),
    ({**SQUARE, "crs": {"type": "name", "properties": {"name": "EPSG:4547"}}}, "geometry.crs", ["crs= query"]),
])
def test_rfc7946_structure_is_refused_with_its_place(geojson, where, words):
    _refused(geojson, where, *words)


def test_numbers_are_checked_once_after_the_structure():
    nan = _poly([[X, Y], [X + D, math.nan], [X + D, Y + D], [X, Y]])
    _refused(nan, "geometry.coordinates", "NaN or Infinity")
    inf = _poly([[X, Y], [math.inf, Y], [X + D, Y + D], [X, Y]])
    _refused(inf, "geometry.coordinates", "not a finite number")
    _refused(_poly([[X, Y], [X + 200, Y], [X + D, Y + D], [X, Y]]), "geometry.coordinates", "out of range")
    swapped = _poly([[p[1], p[0]] for p in RING])
    _refused(swapped, "geometry.coordinates", "[lat, lng]", exc=SwappedCoordinatesError)
    # Ürümqi swapped stays in range both ways ([43.8, 87.6]): still named as a swap
    west = _poly([[43.8 + p[1] - Y, 87.6 + p[0] - X] for p in RING])
    _refused(west, "geometry.coordinates", "[lat, lng]", exc=SwappedCoordinatesError)
    # a bbox that is fine is fine, one that holds NaN positions does not hide the NaN message
    assert parse_geometry({**SQUARE, "bbox": [X, Y, X + D, Y + D]}).area > 0
    _refused({**nan, "bbox": [X, Y, X + D, Y + D]}, "geometry.coordinates", "NaN")


def test_vertex_limit_stops_the_walk_early():
    many = [[X + D * math.cos(t), Y + D * math.sin(t)] for t in
            (2 * math.pi * i / (MAX_VERTICES + 5) for i in range(MAX_VERTICES + 5))]
    err = _refused(_poly([*many, many[0]]), "geometry", f"at most {MAX_VERTICES}")
    assert str(MAX_VERTICES) in err.message


def test_right_hand_rule_is_noted_not_enforced():
    clockwise = _poly(RING[::-1])
    assert parse_geometry(clockwise).area > 0
    notes = geometry_positions(clockwise).notes
    assert len(notes) == 1 and "clockwise" in notes[0] and "not enforced" in notes[0]
    hole = [[X + D / 4, Y + D / 4], [X + D / 2, Y + D / 4], [X + D / 2, Y + D / 2], [X + D / 4, Y + D / 4]]
    assert "interior ring is wound counterclockwise" in geometry_positions(_poly(RING, hole)).notes[0]
    assert geometry_positions(_poly(RING, hole[::-1])).notes == []


def test_foreign_members_are_ignored_and_heights_accepted():
    g = {**SQUARE, "title": "门前", "style": {"x": 1}, "crs": {"type": "name",
                                                               "properties": {"name": "EPSG:4326"}}}
    assert parse_geometry(g).area > 0
    three_d = _poly([[*p, 12.5] for p in RING])
    assert not parse_geometry(three_d).has_z and parse_geometry(three_d).area > 0  # heights dropped


def test_self_intersection_is_located_by_zone_geometry():
    bowtie = _poly([[X, Y], [X + D, Y + D], [X + D, Y], [X, Y + D], [X, Y]])
    geom = parse_geometry(bowtie)  # structure and numbers are fine
    with pytest.raises(InvalidGeometryError) as info:
        polygonal(geom)
    assert "Self-intersection[" in info.value.message and "repair=true" in info.value.message
    assert polygonal(geom, repair=True).area > 0


def test_line_strings_for_split():
    line = {"type": "LineString", "coordinates": [[X, Y], [X + D, Y + D]]}
    assert parse_geometry(line, kinds=("LineString",)).length > 0
    with pytest.raises(InputError, match="at least 2 positions"):
        parse_geometry({"type": "LineString", "coordinates": [[X, Y]]}, kinds=("LineString",))


def test_features():
    f = {"type": "Feature", "id": "z1", "geometry": SQUARE, "properties": {"party_id": 1}, "bbox": [X, Y, X + D, Y + D],
         "foreign": {"kept": "ignored"}}
    assert len(check_feature(f).xy) == 5
    assert check_feature({"type": "Feature", "geometry": None, "properties": None}, geometry_required=False) is None
    for bad, where in [({"type": "FeatureCollection", "features": []}, "body.type"),
                       ({**f, "id": [1]}, "id"), ({**f, "properties": [1, 2]}, "properties"),
                       ({**f, "bbox": [X, Y, X + D / 3, Y + D]}, "bbox"),
                       ({**f, "geometry": None}, "geometry"), ("Feature", "body")]:
        with pytest.raises(InputError) as info:
            check_feature(bad)
        assert info.value.where == where, (bad, info.value.message)
