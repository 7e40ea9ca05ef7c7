"""The zone sketch (pure): local projection, window, scale bar, escaping; and the public page's phone mask."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from gridsvc.maps.zone_sketch import Street, nice_length, sketch_svg, sketch_window, to_local, zone_sketch
from gridsvc.people.masking import mask_phone
from gridsvc.zones.public_units import normalise_code, rating_info

SVG = "{http://www.w3.org/2000/svg}"
LNG, LAT = 118.7836, 32.0427  # 新街口


def test_local_projection_keeps_metres_and_north_up():
    geod = Geod(ellps="WGS84")
    east_lng, east_lat, _ = geod.fwd(LNG, LAT, 90, 100.0)
    north_lng, north_lat, _ = geod.fwd(LNG, LAT, 0, 100.0)
    origin, east, north = to_local([Point(LNG, LAT), Point(east_lng, east_lat), Point(north_lng, north_lat)], LNG, LAT)
    assert origin.distance(Point(0, 0)) < 1.0  # centred on the unit (origin rounded to ~1 m)
    assert east.distance(origin) == pytest.approx(100.0, abs=0.01)
    assert north.distance(origin) == pytest.approx(100.0, abs=0.01)
    assert abs(north.x - origin.x) < 0.01 and north.y > origin.y  # north is straight up
    assert to_local([None], LNG, LAT) == [None]


@pytest.mark.parametrize(("m", "nice"), [(0.3, 1.0), (7.0, 5.0), (19.9, 10.0), (45.0, 20.0), (60.0, 50.0),
                                         (150.0, 100.0), (float("nan"), 1.0)])
def test_nice_length(m, nice):
    assert nice_length(m) == nice


def test_window_has_the_picture_aspect_a_minimum_size_and_a_margin():
    x0, y0, x1, y1 = sketch_window([box(0, 0, 10, 4)], 400, 300)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(4 / 3)
    assert x1 - x0 >= 50 and x0 < 0 and x1 > 10
    wide = sketch_window([box(0, 0, 200, 10)], 400, 300)
    assert wide[0] <= -8 and wide[2] >= 208  # margin of at least MIN_PAD_M
    with pytest.raises(ValueError):
        sketch_window([None, Point()], 400, 300)


def test_svg_is_well_formed_draws_each_layer_and_escapes_labels():
    zone = box(0, -12, 30, 0)
    building = box(0, 0, 30, 20)
    streets = [Street(LineString([(-100, -18), (130, -18)]), "<b>湖南路</b>&", 14.0),
               Street(LineString([(-20, -100), (-20, 100)]), None, 6.0)]
    svg = sketch_svg([zone], building, streets, point=Point(15, 10), others=[box(40, 0, 60, 20)])
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 400 300"
    classes = [p.get("class") for p in root.iter(f"{SVG}path")]
    assert classes.count("zone") == 1 and classes.count("building") == 1
    assert root.find(f"{SVG}circle").get("class") == "unit"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>湖南路</b>&" in labels  # parsed back from &lt;b&gt;…
    assert "<b>" not in svg and "北 N" in labels and any(t and t.endswith("米 m") for t in labels)
    # the zone sits below the building on screen (north up: y grows downwards)
    zone_d = next(p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "zone")
    building_d = next(p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "building")
    ys = lambda d: [float(v.split()[1]) for v in d.strip("MZ").replace("Z", "").split("L")]  # noqa: E731
    assert min(ys(zone_d)) >= max(ys(building_d)) - 0.2


def test_scale_bar_matches_the_drawing():
    svg = sketch_svg([box(0, 0, 100, 10)], None, [])
    root = ET.fromstring(svg)
    bar = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "5"]
    metres = float(next(t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith("米 m")).split()[0])
    x0, y0, x1, y1 = sketch_window([box(0, 0, 100, 10)])
    px_per_m = 400 / (x1 - x0)
    assert sum(float(r.get("width")) for r in bar) == pytest.approx(metres * px_per_m, abs=0.2)


def test_zone_sketch_from_wgs84():
    lng, lat = LNG, LAT
    d = 0.0001  # ~10 m
    zone = box(lng, lat - d, lng + 3 * d, lat)
    svg = zone_sketch([zone], box(lng, lat, lng + 3 * d, lat + 2 * d),
                      [Street(LineString([(lng - 5 * d, lat - 1.5 * d), (lng + 8 * d, lat - 1.5 * d)]), "中山路", 10)],
                      Point(lng + d, lat + d))
    root = ET.fromstring(svg)
    assert [p for p in root.iter(f"{SVG}path") if p.get("class") == "zone"]
    assert 300 < to_local([zone], lng, lat)[0].area < 330  # 0.0003° x 0.0001° at 32°N: 28.3 m x 11.1 m


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812341234", "138****1234"), ("138-1234-1234", "138****1234"), ("+86 138 1234 1234", "138****1234"),
    ("025-84000000", "025****0000"), ("12345", "***45"), ("", None), (None, None), ("n/a", None)])
def test_phone_mask(phone, masked):
    assert mask_phone(phone) == masked


def test_codes_and_ratings():
    assert normalise_code(" C56070845E3D ") == "c56070845e3d"
    assert normalise_code("../etc") is None and normalise_code("<x>") is None and normalise_code("") is None
    assert rating_info("red")["label"] == "红牌" and rating_info(None)["label"] == "未评级"
    assert rating_info("purple")["value"] is None
