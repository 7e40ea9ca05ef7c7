"""A shop named `<img src=x onerror=alert(1)>` is shown as text everywhere its name appears in HTML/JS.

Already covered elsewhere, so not repeated here: the workspace's record panel in Chromium
(tests/ui/test_workspace.py::test_clicking_shows_the_record_escaped, a unit with this very name), the public
unit page with a hostile unit, address, street and officer (tests/api/test_public_page.py::
test_everything_is_escaped), the folium layer map's popups in Chromium with synthetic data
(tests/maps/test_layer_map.py) and a hostile *address* in the offline map (tests/exporters/test_offline_map.py).

The gaps filled here, on the real Nanjing data: the shop's *name* (and its party's, the name zones show) in the
offline map served by /exports/map.html (data and popups in Chromium), in the folium demo map built from the
database (gridsvc/maps/city_map.py: units and zone popups), and in the public page of that shop; and a guard
that the workspace and offline-map scripts never build markup from strings.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import require_chromium

from gridsvc.api.app import create_app
from gridsvc.maps.city_map import city_layers, zone_layers
from gridsvc.maps.layer_map import render_layers_map

HOSTILE = "<img src=x onerror=alert(1)>"
STATIC = Path(__file__).resolve().parents[2] / "gridsvc" / "static"
MARKUP_SINKS = re.compile(r"\.(?:innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write|\.html\(")


@pytest.fixture(scope="module")
def hostile_shop(nanjing_zones):
    """The busiest grid's first shop holding a frontage zone, renamed (unit and party) to HOSTILE."""
    with nanjing_zones.engine.begin() as c:
        shop = c.execute(text(
            "SELECT u.id, u.public_code, ST_X(u.geom) AS lng, ST_Y(u.geom) AS lat, z.party_id "
            "FROM units u JOIN zones_current z ON z.unit_id = u.id AND z.kind = 'frontage' "
            "WHERE u.id = ANY(:ids) ORDER BY u.id LIMIT 1"), {"ids": [u["id"] for u in nanjing_zones.units]}
        ).mappings().one()
        c.execute(text("UPDATE units SET name = :n WHERE id = :i"), {"n": HOSTILE, "i": shop["id"]})
        c.execute(text("UPDATE parties SET name = :n WHERE id = :p"), {"n": HOSTILE, "p": shop["party_id"]})
    return dict(shop)


def _popup_at(page, lng: float, lat: float) -> str:
    """Zoom the page's Leaflet map onto a spot, click it and return the popup's text."""
    name = page.evaluate("Object.keys(window).find(k => window[k] instanceof L.Map)")
    page.evaluate(f"window['{name}'].setView([{lat}, {lng}], 19, {{animate: false}})")
    page.wait_for_timeout(300)
    x, y = page.evaluate(f"(() => {{ const p = window['{name}'].latLngToContainerPoint([{lat}, {lng}]); "
                         "return [p.x, p.y]; })()")
    box = page.locator(".leaflet-container").first.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    return popup.inner_text()


def _shown_as_text(path: Path, shop: dict) -> None:
    """In Chromium: the shop's popup holds the name as text, no <img> was made, no dialog opened."""
    from gridsvc.maps.browser import open_page

    seen = {}

    def actions(page):
        seen["popup"] = _popup_at(page, shop["lng"], shop["lat"])
        page.wait_for_timeout(300)  # time for a (wrongly) injected onerror to fire
        seen["imgs"] = page.locator(".leaflet-popup-content img, img[src=x]").count()

    report = open_page(path, actions=actions)
    assert HOSTILE in seen["popup"] and seen["imgs"] == 0, seen
    assert report.dialogs == [] and report.page_errors == []


def test_a_hostile_shop_name_is_text_in_maps_and_the_public_page(nanjing_zones, hostile_shop, admin_headers,
                                                                 decode_map, tmp_path):
    shop, escaped = hostile_shop, html.escape(HOSTILE)
    client = TestClient(create_app(nanjing_zones.engine), headers=admin_headers)

    # the public page of the shop (一户一码)
    page = client.get(f"/u/{shop['public_code']}")
    assert page.status_code == 200 and HOSTILE not in page.text and escaped in page.text

    # the offline map of its grid, as served: the name is data (in the layer strings), never markup
    r = client.get("/exports/map.html", params={"grid": nanjing_zones.grid})
    assert r.status_code == 200, r.text
    assert HOSTILE not in r.text and "<img src=x" not in r.text
    layers = decode_map(r.text)
    units = next(lay for lay in layers if "编号 code" in lay["fields"])
    assert HOSTILE in {row[0] for row in units["rows"]}
    zones = [lay for lay in layers if "责任方 party" in lay["fields"]]
    assert HOSTILE in {row[0] for z in zones for row in z["rows"]}, "the zone popups name the party"
    offline = tmp_path / "offline.html"
    offline.write_text(r.text, encoding="utf-8")

    # the folium demo map's popups, built from the database like `make demo`'s demo-map.html
    with nanjing_zones.engine.connect() as conn:
        layers = city_layers(conn, ("units",)) + zone_layers(conn)
    for layer in layers:  # only the shop's features: the whole city is the district export's business
        keep = layer.gdf.apply(lambda row: HOSTILE in [str(v) for v in row.values], axis=1)
        layer.gdf = layer.gdf[keep]
    layers = [layer for layer in layers if len(layer.gdf)]
    assert len(layers) >= 2, "the unit and its zone"
    demo = render_layers_map(layers, tmp_path / "demo-map.html", title=f"演示 {HOSTILE}")
    text_ = demo.read_text(encoding="utf-8")
    assert HOSTILE not in text_ and escaped in text_  # the title
    in_json = escaped.replace("&", "\\u0026")  # popup values: escaped text inside folium's GeoJSON
    assert text_.count(in_json) >= 2, "the unit's popup and its zone's (party)"

    require_chromium()  # what a reader sees is the point: no Chromium is a failure, not a pass
    _shown_as_text(offline, shop)
    _shown_as_text(demo, shop)


def test_workspace_and_offline_scripts_never_build_markup_from_strings():
    scripts = sorted((STATIC / "workspace").glob("*.js")) + sorted((STATIC / "js").glob("*.js"))
    assert len(scripts) >= 5
    for path in scripts:
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not MARKUP_SINKS.search(code), f"{path.name} writes markup: {MARKUP_SINKS.search(code).group(0)}"
