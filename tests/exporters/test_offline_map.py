"""Offline HTML maps of a scope: generalisation, the compact layer data, size, escaping, and Chromium offline."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from support import ARTIFACTS, needs_chromium

from gridsvc.exporters import generalize
from gridsvc.exporters.map_data import LayerData, encode_layers, script_json
from gridsvc.exporters.offline_map import CLUSTER_LABEL, UNITS_LABEL, offline_map_html, write_offline_map
from gridsvc.exporters.scope import read_zones, resolve_scope
from gridsvc.maps import assets
from gridsvc.maps.city_map import ZONE_STYLE, write_city_map

UTM50 = 32650  # Nanjing
LIVE_URL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""", re.I)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)


def _markup(html: str) -> str:
    """The page without its script texts (Leaflet's source mentions leafletjs.com in a string it never loads)."""
    return SCRIPT.sub("", html)


def _metric(*geoms) -> gpd.GeoSeries:
    """Geometries given in UTM 50N metres near Nanjing, as WGS84."""
    return gpd.GeoSeries([shapely.affinity.translate(g, 668_000, 3_547_000) for g in geoms], crs=UTM50).to_crs(4326)


def _decode_xy(layer: dict) -> np.ndarray:
    """The layer's vertices decoded like offline_layers.js does (running sums of the deltas)."""
    return np.cumsum(np.asarray(layer["xy"], dtype=np.int64).reshape(-1, 2), axis=0) / layer["scale"]


def test_zoom_fits_the_scope():
    assert generalize.metres_per_pixel(0, 0) == pytest.approx(156_543.03, rel=1e-6)
    cell = _metric(box(0, 0, 130, 120)).total_bounds
    assert generalize.zoom_to_fit(cell) == 19
    assert generalize.zoom_to_fit((118.755, 32.028, 118.801, 32.060)) == 14  # all of the Nanjing extract
    assert generalize.zoom_to_fit((118.756, 32.029, 119.154, 32.270)) == 11  # tiled 70x
    assert generalize.zoom_to_fit((118.78, 32.04, 118.78, 32.04)) == generalize.MAX_ZOOM  # a point
    assert [generalize.decimals_for_zoom(z) for z in (11, 15, 16, 17, 19)] == [5, 5, 5, 6, 6]


def test_coverage_simplification_keeps_shared_edges():
    wiggle = [(100 + 0.6 * (i % 2), y) for i, y in enumerate(range(0, 201, 2))]  # a fine zig-zag border
    left = Polygon([(0, 0), *wiggle, (0, 200)])
    right = Polygon([(200, 0), (200, 200), *wiggle[::-1]])
    gdf = gpd.GeoDataFrame({"k": [1, 2]}, geometry=_metric(left, right))
    zoom = 15  # ~2 m per pixel: the 0.6 m zig-zag goes
    out = generalize.simplify(gdf, zoom, coverage=True).to_crs(UTM50)
    a, b = out.geometry
    assert shapely.get_num_coordinates(a) < 30 and shapely.get_num_coordinates(b) < 30  # of 104
    assert a.intersection(b).area < 0.05, "no overlap"
    assert a.boundary.intersection(b.boundary).length > 199, "the whole shared edge stays shared: no gap"
    assert shapely.is_valid(out.geometry).all()
    decimals = generalize.decimals_for_zoom(zoom)
    xy = shapely.get_coordinates(generalize.simplify(gdf, zoom, coverage=True).geometry.values)
    assert np.allclose(xy, np.round(xy, decimals))


def test_lines_and_points_simplify_and_clip():
    gdf = gpd.GeoDataFrame({"n": ["a", "b"]}, geometry=_metric(
        LineString([(x, 0.2 * (x % 2)) for x in range(0, 500)]), Point(10, 10)))
    out = generalize.simplify(gdf, 14)
    assert shapely.get_num_coordinates(out.geometry.iloc[0]) == 2 and out.geometry.iloc[1].geom_type == "Point"
    minx, miny, maxx, maxy = out.total_bounds
    cut = generalize.clip_to_bounds(out, ((minx + maxx) / 2, miny - 1, maxx + 1, maxy + 1))
    assert list(cut["n"]) == ["a"] and cut.total_bounds[0] == pytest.approx((minx + maxx) / 2)


def test_points_cluster_on_a_pixel_grid():
    near = [Point(5 + i % 10, 5 + i // 10) for i in range(100)]  # 100 units within 10 m
    far = [Point(2000 + i, 2000) for i in range(5)]
    gdf = gpd.GeoDataFrame({"name": [f"店{i}" for i in range(105)]}, geometry=_metric(*near, *far))
    clusters = generalize.cluster_points(gdf, 12, sample=3)
    assert list(clusters["count"]) == [100, 5]
    assert clusters["labels"].iloc[1] == "店100、店101、店102"
    assert generalize.cluster_points(gdf.iloc[:0], 12).empty


def test_layer_data_round_trips_and_shares_texts():
    polys = gpd.GeoDataFrame({"party": ["甲", "乙", "甲"], "kind": ["x", "x", "x"]},
                             geometry=_metric(box(0, 0, 10, 10), box(10, 0, 20, 10).union(box(30, 0, 40, 5)),
                                              box(0, 20, 5, 25)))
    polys["geometry"] = generalize.round_coords(np.asarray(polys.geometry.values), 6)
    pts = gpd.GeoDataFrame({"n": ["</script><b>", "甲"]}, geometry=_metric(Point(1, 1), Point(2, 2)))
    pts["geometry"] = generalize.round_coords(np.asarray(pts.geometry.values), 6)
    doc = encode_layers([LayerData(polys, {"color": "#e74c3c"}), LayerData(pts, {"radius": 4})])
    assert doc["strings"].count("甲") == 1 and doc["strings"][:2] == ["甲", "x"]  # most used first
    poly, point = doc["layers"]
    assert poly["family"] == "polygon" and poly["parts"][2] == [1, 2, 1]  # polygons per feature
    assert np.allclose(_decode_xy(poly), shapely.get_coordinates(polys.geometry.values))
    assert np.allclose(_decode_xy(point), shapely.get_coordinates(pts.geometry.values))
    assert [[doc["strings"][i] for i in row] for row in point["rows"]] == [["</script><b>"], ["甲"]]
    text = script_json(doc)
    assert "<" not in text and "\\u003c/script>" in text


def test_grid_map_is_small_self_contained_and_holds_the_zones(nanjing_zones, decode_map, tmp_path):
    with nanjing_zones.engine.connect() as conn:
        scope = resolve_scope(conn, grid=nanjing_zones.grid)
        path = write_offline_map(conn, scope, tmp_path / "grid.html")
        in_window = read_zones(conn, scope, window=True)
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 1_000_000
    assert assets.external_refs(html) == [] and not LIVE_URL.search(_markup(html))
    assert "<img src=x" not in html  # the hostile address is data, never markup
    assert f"<title>门前责任区地图 Duty zones map · 网格 Grid {nanjing_zones.grid}" in html
    layers = decode_map(html)
    zone_labels = {label for label, _ in ZONE_STYLE.values()}
    zones = [lay for lay in layers if "责任方 party" in lay["fields"]]
    assert sum(len(z["rows"]) for z in zones) == len(in_window)
    parties = {row[0] for z in zones for row in z["rows"]}
    assert set(nanjing_zones.names) & parties, "the grid's shops hold frontage zones on the map"
    assert all(row[1] in zone_labels for z in zones for row in z["rows"])
    duties = {row[z["fields"].index("职责 duties")] for z in zones for row in z["rows"]}
    assert any("环境卫生 Sanitation" in d for d in duties)
    units = next(lay for lay in layers if "编号 code" in lay["fields"])
    assert {r[0] for r in units["rows"]} >= set(nanjing_zones.names)
    assert any(r[units["fields"].index("地址 address")] == "<img src=x onerror=\"alert(1)\">中山路&1号"
               for r in units["rows"])
    assert {"红牌", "黄牌", "黑牌"} <= {r[units["fields"].index("评级 rating")] for r in units["rows"]}
    assert "王网格 13800000000" in {r[units["fields"].index("网格员 grid officer")] for r in units["rows"]}


def test_district_map_is_an_overview_far_smaller_than_a_naive_dump(nanjing_zones, decode_map, tmp_path):
    with nanjing_zones.engine.connect() as conn:
        scope = resolve_scope(conn)
        ours = write_offline_map(conn, scope, tmp_path / "district.html")
        naive = write_city_map(conn, tmp_path / "naive.html", "Nanjing")
        all_zones = read_zones(conn, scope)
    assert scope.overview and scope.kind == "all"
    assert ours.stat().st_size * 4 < naive.stat().st_size, (ours.stat().st_size, naive.stat().st_size)
    html = ours.read_text(encoding="utf-8")
    assert '"preferCanvas": true' in html
    layers = decode_map(html)
    zones = [lay for lay in layers if "责任方 party" in lay["fields"]]
    assert sum(len(z["rows"]) for z in zones) == len(all_zones), "every zone is kept, only simplified"
    assert sum(z["vertices"] for z in zones) < 0.8 * shapely.get_num_coordinates(all_zones.geometry.values).sum()
    clusters = next(lay for lay in layers if lay["style"].get("cluster"))
    with nanjing_zones.engine.connect() as conn:
        n_units = conn.exec_driver_sql("SELECT count(*) FROM units").scalar()
    assert len(clusters["rows"]) < n_units / 3 and sum(int(r[0]) for r in clusters["rows"]) == n_units
    assert not any("网格编码 grid code" in lay["fields"] for lay in layers), "no cells in an overview"


@pytest.mark.parametrize("option", [{"community": None}, {"street": "中山东路"},
                                    {"bbox": "118.775,32.035,118.785,32.045"}])
def test_other_scopes_make_maps(nanjing_zones, decode_map, option):
    option = {k: v or nanjing_zones.community for k, v in option.items()}
    with nanjing_zones.engine.connect() as conn:
        scope = resolve_scope(conn, **option)
        html = offline_map_html(conn, scope)
    assert assets.external_refs(html) == [] and len(html.encode()) < 1_500_000
    layers = decode_map(html)
    assert any("责任方 party" in lay["fields"] and lay["rows"] for lay in layers)
    assert scope.label.split(" ")[-1].rstrip(")") in html


def _map_name(page) -> str:
    return page.evaluate("Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)")


def _click(page, lng: float, lat: float) -> str:
    """Click the map at lng/lat; the text of the popup that opens."""
    name = _map_name(page)
    x, y = page.evaluate(f"(() => {{ const p = window['{name}'].latLngToContainerPoint([{lat}, {lng}]); "
                         "return [p.x, p.y]; })()")
    box_ = page.locator(".leaflet-container").bounding_box()
    page.mouse.click(box_["x"] + x, box_["y"] + y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    text = popup.inner_text()
    page.keyboard.press("Escape")
    page.evaluate(f"window['{name}'].closePopup()")
    return text


@pytest.mark.browser
@needs_chromium
def test_maps_render_offline_in_chromium(nanjing_zones, tmp_path):
    from gridsvc.maps.browser import open_page

    with nanjing_zones.engine.connect() as conn:
        scope = resolve_scope(conn, grid=nanjing_zones.grid)
        grid_map = write_offline_map(conn, scope, tmp_path / "grid.html")
        zones = read_zones(conn, scope)
        district = write_offline_map(conn, resolve_scope(conn), tmp_path / "district.html")
        units = conn.exec_driver_sql("SELECT id, ST_X(geom), ST_Y(geom), address FROM units WHERE id = ANY(%(i)s)",
                                     {"i": [u["id"] for u in nanjing_zones.units]}).all()
    shop = zones[zones["party_name"].isin(nanjing_zones.names) & (zones["kind"] == "frontage")].iloc[0]
    inside = shop.geometry.point_on_surface()
    evil = next(u for u in units if u[3] and u[3].startswith("<img"))
    seen: dict = {}

    def actions(page):
        seen["legend"] = page.inner_text(".gridsvc-legend")
        seen["layers"] = page.text_content(".leaflet-control-layers-overlays")  # collapsed: hidden until hovered
        seen["zone"] = _click(page, inside.x, inside.y)
        seen["unit"] = _click(page, evil[1], evil[2])
        seen["imgs"] = page.locator(".leaflet-popup-pane img").count()
        page.wait_for_timeout(200)

    report = open_page(grid_map, screenshot=ARTIFACTS / "export-map-grid.png", actions=actions)
    assert report.console_errors == [] and report.page_errors == [] and report.dialogs == []
    assert report.blocked_requests == []
    assert report.overlay_path_count > len(zones), "zones (and context) drawn as SVG paths"
    assert shop["party_name"] in seen["zone"] and "环境卫生" in seen["zone"] and "王网格" in seen["zone"]
    assert evil[3] in seen["unit"] and seen["imgs"] == 0
    for label in ("门前责任区 · 商户 Shop frontage zones", UNITS_LABEL, "红牌 red rating", "范围 Scope"):
        assert label in seen["legend"]
    assert "沿街单位" in seen["layers"]

    def overview(page):
        return {"canvas": page.locator(".leaflet-overlay-pane canvas").count(),
                "clusters": page.locator(".gridsvc-cluster").count(), "legend": page.inner_text(".gridsvc-legend")}

    report = open_page(district, screenshot=ARTIFACTS / "export-map-district.png", actions=overview)
    assert report.console_errors == [] and report.page_errors == [] and report.blocked_requests == []
    assert report.action_result["canvas"] >= 1 and report.action_result["clusters"] > 5
    assert CLUSTER_LABEL in report.action_result["legend"]
    assert Path(ARTIFACTS / "export-map-grid.png").stat().st_size > 20_000
