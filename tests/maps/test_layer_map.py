"""Offline layers map: self-contained HTML, escaping, and rendering in headless Chromium."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from support import needs_chromium

from gridsvc.errors import InputError, MissingColumnsError, MissingDependencyError
from gridsvc.maps import assets
from gridsvc.maps.browser import open_page
from gridsvc.maps.layer_map import MapLayer, display_value, render_layers_map
from gridsvc.settings import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"
EVIL = "<img src=x onerror=alert(1)>"
MARKET = "科巷菜市场"
X0, Y0 = 118.78, 32.04  # Nanjing, near 科巷
VISIBLE_FEATURES = 3 + 2 + 2 + 3  # cells + compounds + streets + shops


def _layers() -> list[MapLayer]:
    """Synthetic cells, compounds (given in UTM 50N), streets, shops and a hidden layer."""
    d = 0.002
    cells = gpd.GeoDataFrame(
        {
            "cell_code": ["320102-0001", "320102-0002", "320102-0003"],
            "shops": np.array([2, 1, 0], dtype=np.int64),
        },
        geometry=[box(X0 + i * d, Y0, X0 + (i + 1) * d, Y0 + d) for i in range(3)],
        crs=4326,
    )
    compounds = gpd.GeoDataFrame(
        {"name": ["逸仙小区 Yixian", "双拼小区"], "area_m2": [Decimal("12345.60"), None]},
        geometry=[
            box(X0 + 0.0003, Y0 + 0.0003, X0 + 0.0015, Y0 + 0.0012),
            MultiPolygon(
                [
                    box(X0 + 0.0025, Y0 + 0.0003, X0 + 0.0032, Y0 + 0.0009),
                    box(X0 + 0.0034, Y0 + 0.0003, X0 + 0.0038, Y0 + 0.0009),
                ]
            ),
        ],
        crs=4326,
    ).to_crs(32650)
    streets = gpd.GeoDataFrame(
        {"name": ["科巷 Kexiang", "洪武路 Hongwu Rd"], "lanes": [2, np.nan]},
        geometry=[
            LineString([(X0 - 0.0005, Y0 + 0.0016), (X0 + 0.0065, Y0 + 0.00161234567)]),
            MultiLineString(
                [
                    [(X0 + 0.0021, Y0 - 0.0004), (X0 + 0.0021, Y0 + 0.0024)],
                    [(X0 + 0.0041, Y0 - 0.0004), (X0 + 0.0041, Y0 + 0.0024)],
                ]
            ),
        ],
        crs=4326,
    )
    shops = gpd.GeoDataFrame(
        {
            "name": [EVIL, MARKET, "Fresh & Co"],
            "opened": [pd.Timestamp("2024-05-01 08:30"), pd.NaT, pd.Timestamp("2023-01-02")],
            "staff": pd.array([3, None, 12], dtype="Int64"),
            "tags": [["蔬菜", "水产"], None, {"k": 1}],
            "<i>备注</i>": ["ok", "", None],
        },
        geometry=[
            Point(X0 + 0.0007, Y0 + 0.0006),
            Point(X0 + 0.0031, Y0 + 0.0013),
            Point(X0 + 0.0052, Y0 + 0.0007),
        ],
        crs=4326,
    )
    hidden = gpd.GeoDataFrame(
        {"zone": ["门前三包 A"]}, geometry=[box(X0, Y0, X0 + 0.001, Y0 + 0.001)], crs=4326
    )
    return [
        MapLayer("网格 Cells", cells, "#4c78a8", fill_opacity=0.15),
        MapLayer("小区 Compounds", compounds, "#59a14f"),
        MapLayer("街道 Streets", streets, "#555555", weight=3, popup_fields=["name"]),
        MapLayer("商铺 Shops", shops, "#e15759", point_radius=6),
        MapLayer("门前三包 Duty zones <u>", hidden, "orange", show=False),
    ]


@pytest.fixture(scope="module")
def map_html(tmp_path_factory) -> Path:
    """The rendered synthetic map."""
    out = tmp_path_factory.mktemp("maps") / "layers.html"
    legend = [
        ("网格 Cells", "#4c78a8"),
        ("小区 Compounds", "#59a14f"),
        ("街道 Streets", "#555555"),
        ("商铺 Shops", "#e15759"),
    ]
    return render_layers_map(_layers(), out, title="秦淮区网格 Qinhuai grid <test>", legend=legend)


def test_html_has_no_external_urls(map_html: Path):
    html = map_html.read_text(encoding="utf-8")
    assert assets.external_refs(html) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.IGNORECASE)
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs", "bootstrapcdn", "unpkg"):
        assert cdn not in html
    assert "L.version" in html or "leaflet" in html.lower()


def test_html_escapes_and_rounds(map_html: Path):
    html = map_html.read_text(encoding="utf-8")
    assert EVIL not in html
    assert "秦淮区网格 Qinhuai grid &lt;test&gt;" in html  # title box is literal UTF-8 text
    assert "32.041612" in html and "32.04161234567" not in html  # 6 decimals
    assert '<html lang="zh-CN">' in html
    assert html.index("charset=UTF-8") < 1024


def test_folium_defaults_untouched(map_html: Path):
    assert [name for name, _ in folium.Map.default_js][:2] == ["leaflet", "jquery"]
    assert any("bootstrap" in name for name, _ in folium.Map.default_css)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (float("nan"), ""),
        (pd.NaT, ""),
        (pd.NA, ""),
        (np.int64(7), "7"),
        (np.float64(2.0), "2"),
        (1 / 3, "0.333333"),
        (Decimal("12345.60"), "12345.60"),
        (True, "True"),
        (pd.Timestamp("2024-05-01 08:30"), "2024-05-01 08:30:00"),
        (["蔬菜", np.int32(2), None], "[&quot;蔬菜&quot;, 2, null]"),
        (EVIL, "&lt;img src=x onerror=alert(1)&gt;"),
        ("a\"b'c&", "a&quot;b&#x27;c&amp;"),
        (Point(1, 2), "Point"),
    ],
)
def test_display_value(value, shown):
    assert display_value(value) == shown


def test_bad_inputs(tmp_path: Path):
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(X0, Y0)], crs=4326)
    out = tmp_path / "m.html"
    with pytest.raises(InputError, match="CSS colour"):
        render_layers_map([MapLayer("x", gdf, "red;background:url(http://evil)")], out, title="t")
    with pytest.raises(MissingColumnsError):
        render_layers_map([MapLayer("x", gdf, "red", popup_fields=["nope"])], out, title="t")
    with pytest.raises(InputError, match="no CRS"):
        render_layers_map([MapLayer("x", gdf.set_crs(None, allow_override=True), "red")], out, title="t")
    with pytest.raises(InputError, match="unique"):
        render_layers_map([MapLayer("x", gdf, "red"), MapLayer("x", gdf, "blue")], out, title="t")
    with pytest.raises(InputError, match="tiles"):
        render_layers_map([MapLayer("x", gdf, "red")], out, title="t", tiles="google")
    assert not out.exists()


def test_osm_tiles_option_and_empty_layer(tmp_path: Path):
    empty = gpd.GeoDataFrame({"a": []}, geometry=[], crs=4326)
    pts = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(X0, Y0)], crs=4326)
    html = render_layers_map(
        [MapLayer("空 Empty", empty, "gray"), MapLayer("点 Point", pts, "red")],
        tmp_path / "m.html",
        title="t",
        tiles="osm",
    ).read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in html  # tiles are fetched by Leaflet at runtime, no <script>/<link>
    assert assets.external_refs(html) == []


def test_assets_inline_images():
    css = assets.leaflet_css()
    assert "url(images/" not in css and css.count("data:image/png;base64,") == 3
    head = assets.leaflet_head() + assets.geoman_head()
    assert "sourceMappingURL" not in head and assets.external_refs(head) == []


def test_external_refs_detects():
    page = (
        '<link rel="stylesheet" href="//cdn.example.com/a.css"><script src="https://x.org/a.js"></script>'
        '<img srcset="a.png 1x, http://x.org/b.png 2x"><style>@import "https://f.org/c.css";'
        ".a{background:url('data:image/svg+xml,<svg xmlns=\"http://www.w3.org/2000/svg\"/>')}</style>"
        '<script>var s = \'<a href="https://leafletjs.com">\';</script><a href="#top">x</a>'
    )
    assert assets.external_refs(page) == [
        "//cdn.example.com/a.css",
        "https://x.org/a.js",
        "http://x.org/b.png",
        "https://f.org/c.css",
    ]


def test_browser_missing_chromium(tmp_path: Path):
    with pytest.raises(MissingDependencyError, match="apt-get install chromium"):
        open_page(tmp_path / "x.html", executable=tmp_path / "no-chromium")


def _map_name(page) -> str:
    """The folium map's global JS variable name."""
    return page.evaluate("Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)")


def _click_lnglat(page, lng: float, lat: float) -> str:
    """Click the map at a lng/lat and return the opened popup's text."""
    name = _map_name(page)
    pt = page.evaluate(
        f"(() => {{ const p = window['{name}'].latLngToContainerPoint([{lat}, {lng}]); "
        "return [p.x, p.y]; })()"
    )
    box_ = page.locator(".leaflet-container").bounding_box()
    page.mouse.click(box_["x"] + pt[0], box_["y"] + pt[1])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    return popup.inner_text()


@pytest.mark.browser
@needs_chromium
def test_map_renders_offline(map_html: Path):
    seen: dict = {}

    def actions(page):
        seen["legend"] = page.locator(".gridsvc-legend").inner_text()
        seen["layers"] = page.locator(".leaflet-control-layers-overlays").inner_text()
        seen["attribution"] = page.locator(".leaflet-control-attribution").inner_text()
        seen["market"] = _click_lnglat(page, X0 + 0.0031, Y0 + 0.0013)
        seen["evil"] = _click_lnglat(page, X0 + 0.0007, Y0 + 0.0006)
        seen["imgs_in_popup"] = page.locator(".leaflet-popup-content img").count()
        page.wait_for_timeout(300)  # give a (wrongly) injected onerror time to fire
        seen["live_refs"] = page.evaluate(
            "[...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))"
            ".filter(u => /^(https?:)?\\/\\//i.test(u))"
        )

    shot = ARTIFACTS / "layer_map.png"
    report = open_page(map_html, screenshot=shot, actions=actions)

    assert report.console_errors == [] and report.page_errors == []
    assert report.blocked_requests == []
    assert report.dialogs == []
    assert report.interactive_count == VISIBLE_FEATURES
    assert report.overlay_path_count == VISIBLE_FEATURES
    assert report.title == "秦淮区网格 Qinhuai grid <test>"
    assert MARKET in seen["market"]
    assert EVIL in seen["evil"] and seen["imgs_in_popup"] == 0
    assert "2024-05-01 08:30:00" in seen["evil"] and '["蔬菜", "水产"]' in seen["evil"]
    assert "商铺 Shops" in seen["legend"] and "街道 Streets" in seen["legend"]
    assert "门前三包 Duty zones <u>" in seen["layers"]  # layer names are escaped too
    assert "<i>备注</i>" in seen["evil"]  # and field names
    assert "OpenStreetMap contributors" in seen["attribution"]
    assert seen["live_refs"] == []
    assert shot.is_file() and shot.stat().st_size > 10_000


@pytest.mark.browser
@needs_chromium
def test_browser_blocks_network(tmp_path: Path):
    page = tmp_path / "net.html"
    page.write_text(
        '<html><head><script src="https://cdn.example.com/x.js"></script></head>'
        '<body><img src="http://example.org/a.png"><p>hi</p></body></html>',
        encoding="utf-8",
    )
    report = open_page(page, wait_for=None)
    assert set(report.blocked_requests) == {"https://cdn.example.com/x.js", "http://example.org/a.png"}
    assert report.console_errors  # the blocked loads surface as console errors


@pytest.mark.browser
@needs_chromium
def test_vendored_geoman_loads(tmp_path: Path):
    page = tmp_path / "geoman.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{assets.leaflet_head()}{assets.geoman_head()}'
        '</head><body style="margin:0"><div id="m" style="height:400px"></div><script>'
        f"const m = L.map('m').setView([{Y0}, {X0}], 16); m.pm.addControls({{position: 'topleft'}});"
        f"L.marker([{Y0}, {X0}]).addTo(m);</script></body></html>",
        encoding="utf-8",
    )
    report = open_page(page, actions=lambda p: p.locator(".leaflet-pm-toolbar").count())
    assert report.console_errors == [] and report.page_errors == [] and report.blocked_requests == []
    assert report.action_result > 0  # geoman toolbar drawn
    assert report.interactive_count >= 1  # default marker icon (data: URI) rendered
