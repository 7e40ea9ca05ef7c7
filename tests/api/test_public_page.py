"""GET /u/{code}: the public unit page (一户一码) on the real Nanjing extract with 门前三包 zones built."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

import h3.api.basic_int as h3
import pytest
from fastapi.testclient import TestClient
from live import serve
from markupsafe import escape
from sqlalchemy import text
from support import ARTIFACTS, needs_chromium, require_chromium

from gridsvc.api.app import create_app
from gridsvc.maps.browser import open_page
from gridsvc.people.parties import add_officer
from gridsvc.zones.build import build_zones
from gridsvc.zones.policies import load_policy

XSS = "<img src=x onerror=alert(1)>"
XSS_ADDRESS = '"><script>alert(2)</script>'
XSS_STREET = "<svg onload=alert(3)>路"
OFFICER_PHONE = "13812341234"
SVG = "{http://www.w3.org/2000/svg}"


def _grid_code(conn, lng: float, lat: float) -> str:
    return conn.execute(text("SELECT code FROM grid_cells WHERE h3 = :h"),
                        {"h": h3.latlng_to_cell(lat, lng, 10)}).scalar_one()


@pytest.fixture(scope="module")
def city(nanjing):
    """Zones under 三包; a named shop with a frontage zone on a named street, with a grid officer."""
    build_zones(nanjing, "三包")
    with nanjing.begin() as c:
        shop = c.execute(text(
            "SELECT u.id, u.name, u.public_code, ST_X(u.geom) AS lng, ST_Y(u.geom) AS lat, "
            "(SELECT count(*) FROM zones_current f WHERE f.unit_id = u.id AND f.kind = 'frontage') AS zones "
            "FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage' "
            "JOIN streets s ON s.id = z.street_id AND s.name IS NOT NULL "
            "WHERE u.name IS NOT NULL AND u.building_id IS NOT NULL AND z.provenance = 'auto' "
            "GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1")).mappings().one()
        grid = _grid_code(c, shop["lng"], shop["lat"])
        add_officer(c, "王网格", OFFICER_PHONE, [grid])
    return {"engine": nanjing, "app": create_app(nanjing), "shop": dict(shop), "grid": grid}


@pytest.fixture(scope="module")
def client(city):
    with TestClient(city["app"]) as c:
        yield c


def _rate(engine, unit_id: int, rating: str | None, points: int | None) -> None:
    """The unit's current board as the ratings code stores it, and a ledger whose sum is `points`."""
    with engine.begin() as c:
        c.execute(text("UPDATE units SET rating = :r, rated_at = CASE WHEN CAST(:r AS text) IS NULL THEN NULL "
                       "ELSE now() END WHERE id = :i"), {"r": rating, "i": unit_id})
        c.execute(text("DELETE FROM credit_entries WHERE unit_id = :i"), {"i": unit_id})
        if points is not None:
            c.execute(text("INSERT INTO credit_entries (unit_id, amount, reason, source_key, actor, at) VALUES "
                           "(:i, :p, 'initial', 'unit:' || :i, 'test', now())"), {"i": unit_id, "p": points})


def _svg(page: str) -> ET.Element:
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])  # well-formed XML, or this raises


def test_shop_page_shows_name_duties_rating_masked_phone_and_sketch(city, client):
    shop = city["shop"]
    _rate(city["engine"], shop["id"], "yellow", 75)
    r = client.get(f"/u/{shop['public_code']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert html.escape(shop["name"]) in page
    for duty in load_policy("三包").duties:
        assert duty.zh in page and duty.en in page and html.escape(duty.description) in page
        assert f'<p class="zh">{html.escape(duty.description_zh)}</p>' in page  # Chinese first, English beside
    assert "黄牌" in page and "Yellow board" in page and '<div class="points">75 <small>' in page
    assert "138****1234" in page and OFFICER_PHONE not in page
    assert city["grid"] in page and "王网格" in page
    assert "问题反映" in page and "Report a problem" in page
    svg = _svg(page)
    zone_paths = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "zone"]
    assert len(zone_paths) == 1 and zone_paths[0].get("d").startswith("M") and "Z" in zone_paths[0].get("d")
    assert [p for p in svg.iter(f"{SVG}path") if p.get("class") == "building"]
    texts = "".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "北" in texts and " m" in texts  # north arrow and scale bar
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_rating_changes_show_on_the_board(city, client):
    shop = city["shop"]
    for rating, label in (("red", "红牌"), ("black", "黑牌"), (None, "未评级")):
        _rate(city["engine"], shop["id"], rating, None if rating is None else 60)
        page = client.get(f"/u/{shop['public_code']}").text
        assert f'<b class="rating">{label}</b>' in page
    _rate(city["engine"], shop["id"], "yellow", 75)


def test_json_variant_carries_the_same_data(city, client):
    shop = city["shop"]
    _rate(city["engine"], shop["id"], "red", 92)
    body = client.get(f"/u/{shop['public_code'].upper()}", params={"format": "json"}).json()
    assert body["code"] == shop["public_code"] and body["unit"]["name"] == shop["name"]
    assert body["rating"]["value"] == "red" and body["rating"]["label"] == "红牌"
    assert body["rating"]["credit_points"] == 92 and body["rating"]["rated_at"] and body["rating"]["stars"] == 2
    assert [d["code"] for d in body["duties"]] == [d.code for d in load_policy("三包").duties]
    assert body["policy"]["name"] == "三包"
    assert len(body["zones"]) == shop["zones"]
    assert all(z["geometry"]["type"] in ("Polygon", "MultiPolygon") and z["area_m2"] > 0 for z in body["zones"])
    assert body["grid"] == {"code": city["grid"], "h3": body["grid"]["h3"],
                            "officer": {"name": "王网格", "phone": "138****1234"}}
    assert OFFICER_PHONE not in client.get(f"/u/{shop['public_code']}?format=json").text
    _rate(city["engine"], shop["id"], "yellow", 75)


def test_everything_is_escaped(city, client):
    engine, shop = city["engine"], city["shop"]
    with engine.begin() as c:
        street = c.execute(text(
            "SELECT s.id, s.name, s.name_zh FROM zones_current z JOIN streets s ON s.id = z.street_id "
            "WHERE z.unit_id = :u AND z.kind = 'frontage' ORDER BY z.zone_id LIMIT 1"), {"u": shop["id"]}).one()
        code = c.execute(text(
            "INSERT INTO units (name, address, category, geom, source_file, source_id) "
            "SELECT :n, :a, :n, ST_Translate(geom, 0.00001, 0), 'xss-test', 'xss:1' FROM units WHERE id = :u "
            "RETURNING public_code"), {"n": XSS, "a": XSS_ADDRESS, "u": shop["id"]}).scalar_one()
        c.execute(text("UPDATE streets SET name = :n, name_zh = :n WHERE id = :s"), {"n": XSS_STREET, "s": street.id})
        c.execute(text("UPDATE officers SET name = :n"), {"n": XSS})
    try:
        r = client.get(f"/u/{code}")
        shop_page = client.get(f"/u/{shop['public_code']}").text
        assert r.status_code == 200
        for page in (r.text, shop_page):
            assert "<img" not in page and "<script" not in page and "<svg onload" not in page
            assert "onerror=alert(1)>" not in page and "alert(2)</" not in page
        assert str(escape(XSS)) in r.text and str(escape(XSS_ADDRESS)) in r.text
        assert shop_page.count(str(escape(XSS_STREET))) >= 2  # the street name in the zone list and the sketch
        _svg(shop_page)
        body = client.get(f"/u/{code}?format=json").json()
        assert body["unit"]["name"] == XSS and body["grid"]["officer"]["name"] == XSS
        require_chromium()  # the pages as a browser runs them: no Chromium is a failure, not a pass
        with serve(city["app"]) as url:
            for c in (code, shop["public_code"]):
                report = open_page(f"{url}/u/{c}", wait_for="svg", width=390, height=844)
                assert report.dialogs == [] and report.page_errors == [] and report.console_errors == []
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM units WHERE source_file = 'xss-test'"))
            c.execute(text("UPDATE streets SET name = :n, name_zh = :z WHERE id = :s"),
                      {"n": street.name, "z": street.name_zh, "s": street.id})
            c.execute(text("UPDATE officers SET name = '王网格'"))


def test_unit_without_zone_or_officer_still_has_a_page(city, client):
    with city["engine"].begin() as c:
        code = c.execute(text(
            "SELECT u.public_code FROM units u WHERE NOT EXISTS (SELECT 1 FROM zones_current z WHERE z.unit_id = u.id) "
            "ORDER BY u.id LIMIT 1")).scalar_one()
    r = client.get(f"/u/{code}")
    assert r.status_code == 200
    assert "尚未划定门前责任区" in r.text and "环境卫生" in r.text  # duties of the latest build's policy
    assert not [p for p in _svg(r.text).iter(f"{SVG}path") if p.get("class") == "zone"]


@pytest.mark.parametrize("code", ["0123456789ab", "nosuchcode", "ab", "x" * 65, "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                                  "abc!def", "..%2F..%2Fetc"])
def test_unknown_or_malformed_code_is_a_404_page(client, code):
    r = client.get(f"/u/{code}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "未找到该责任单位" in r.text and "No unit has this code" in r.text
    assert "<script>alert" not in r.text
    j = client.get(f"/u/{code}", params={"format": "json"})
    assert j.status_code == 404 and j.json()["error"] == "NotFoundError" and "no unit has this code" in j.json()["detail"]


@pytest.mark.browser
@needs_chromium
def test_phone_screenshot(city):
    shot, full = ARTIFACTS / "public-page.png", ARTIFACTS / "public-page-full.png"
    _rate(city["engine"], city["shop"]["id"], "red", 92)

    def actions(page):
        page.screenshot(path=str(full), full_page=True)
        box = page.locator("svg.zone-sketch").bounding_box()
        return {"scroll_width": page.evaluate("document.documentElement.scrollWidth"), "svg": box,
                "h1": page.locator("h1").inner_text(), "board": page.locator(".board .rating").inner_text(),
                "font": page.evaluate("getComputedStyle(document.body).fontSize")}

    with serve(city["app"]) as url:
        report = open_page(f"{url}/u/{city['shop']['public_code']}", screenshot=shot, width=390, height=844,
                           wait_for="svg.zone-sketch", actions=actions)
    assert report.console_errors == [] and report.page_errors == [] and report.blocked_requests == []
    seen = report.action_result
    assert seen["scroll_width"] <= 390  # nothing sticks out sideways on a phone
    assert seen["svg"]["width"] >= 320 and seen["svg"]["height"] >= 240
    assert seen["h1"] == city["shop"]["name"] and seen["board"] == "红牌" and seen["font"] == "16px"
    assert shot.is_file() and shot.stat().st_size > 20_000 and full.stat().st_size > shot.stat().st_size


def test_unnamed_unit_is_shown_by_its_kind_in_chinese(city, client):
    engine, shop = city["engine"], city["shop"]
    with engine.begin() as c:
        code = c.execute(text(
            "INSERT INTO units (name, category, geom, source_file, source_id) "
            "SELECT NULL, 'shop=convenience', ST_Translate(geom, 0.00002, 0), 'unnamed-test', 'unnamed:1' FROM units "
            "WHERE id = :u RETURNING public_code"), {"u": shop["id"]}).scalar_one()
    try:
        page = client.get(f"/u/{code}").text
        assert '<h1 class="name">未命名 便利店</h1>' in page and "<title>未命名 便利店 · " in page
        assert "shop=convenience" not in page
        assert client.get(f"/u/{code}?format=json").json()["unit"]["label"] == "未命名 便利店"
    finally:
        with engine.begin() as c:
            c.execute(text("DELETE FROM units WHERE source_file = 'unnamed-test'"))
