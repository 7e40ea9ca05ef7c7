"""One self-contained HTML map of a scope: zones by responsible party, units, context; opens from file://."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import jinja2
import pandas as pd
from branca.element import MacroElement
from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..db.layers import layer_spec
from ..maps import assets
from ..maps.city_map import STYLE, ZONE_FIELDS, ZONE_STYLE
from ..maps.layer_map import MapLayer, build_layers_map, render_html
from ..ops.rules.ratings import load_ratings
from ..zones.policies import load_policy
from .generalize import clip_to_bounds, cluster_points, decimals_for_zoom, simplify
from .map_data import LayerData, encode_layers, script_json
from .scope import MAP_LAYERS, Scope, read_scope_layers

Progress = Callable[[str, int, int], None]
JS = Path(__file__).resolve().parent.parent / "static" / "js" / "offline_layers.js"
UNIT_FIELDS = {"name": "名称 name", "category": "类别 category", "address": "地址 address", "phone": "电话 phone",
               "rating": "评级 rating", "grid_code": "网格 grid", "officer": "网格员 grid officer",
               "public_code": "编号 code"}
CONTEXT_FIELDS = {
    "cells": {"code": "网格编码 grid code"},
    "buildings": {"name": "名称 name", "building_type": "类型 type", "levels": "层数 levels"},
    "streets": {"name": "名称 name", "osm_class": "等级 class", "width_m": "宽度 width m"},
    "compounds": {"name": "名称 name", "property_manager": "物业 property manager"},
    "markets": {"name": "名称 name", "market_type": "类型 type", "operator": "开办方 operator"},
}
OVERVIEW_ZONE_FIELDS = ["责任方 party", "类型 kind", "职责 duties", "联系人 contact", "电话 phone",
                        "网格员 grid officer", "政策 policy"]
UNIT_COLOUR = "#1f4e79"  # unrated units: blue, so red stays the colour of a red card
OVERVIEW_SKIPS = ("cells", "buildings")  # tens of thousands of features too small to see in an overview
UNITS_LABEL, CLUSTER_LABEL, SCOPE_LABEL = "沿街单位 Frontage units", "沿街单位（聚合）Units, clustered", "范围 Scope"
_CSS = """
.gridsvc-title { left: 54px; transform: none; text-align: left; }
.gridsvc-cluster { display: flex; align-items: center; justify-content: center; border-radius: 50%;
  background: rgba(31,78,121,.82); color: #fff; font: 600 12px/1 sans-serif; border: 2px solid #fff;
  box-shadow: 0 1px 4px rgba(0,0,0,.45); }
"""


class _OfflineLayers(MacroElement):
    """The decoder script in the page head, and the call filling the feature groups with the data."""

    _template = jinja2.Template("""
        {% macro header(this, kwargs) %}{{ this.head }}{% endmacro %}
        {% macro script(this, kwargs) %}
        gridsvcAddLayers([{{ this.groups }}], {{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, groups: list[str], payload: str):
        super().__init__()
        self._name = "OfflineLayers"
        self.head = assets.script_block(JS.read_text(encoding="utf-8")) + assets.style_block(_CSS)
        self.groups = ", ".join(groups)
        self.payload = payload


def _text(values: pd.Series, default: str = "") -> pd.Series:
    """Values as text with '' (or default) for missing ones."""
    return values.astype(object).where(values.notna(), default).astype(str)


def _person(name: pd.Series, phone: pd.Series, default: str = "") -> pd.Series:
    """'name phone' per row, default where there is no name."""
    both = (_text(name) + " " + _text(phone)).str.strip()
    return both.where(both != "", default)


def zone_frames(zones: gpd.GeoDataFrame | None, overview: bool) -> dict[str, gpd.GeoDataFrame]:
    """Zones as popup frames (city map fields) per kind of responsible party, in ZONE_STYLE order."""
    if zones is None or zones.empty:
        return {}
    officer = _person(zones["officer_name"], zones["officer_phone"], "未指定 not assigned")
    kind = zones["party_kind"].fillna("grid_officer")
    policies = {p: "；".join(f"{d.zh} {d.en}" for d in load_policy(p).duties) for p in zones["policy"].unique()}
    area = pd.to_numeric(zones["area_m2"], errors="coerce").round(0).astype("Int64")
    frame = gpd.GeoDataFrame({
        "责任方 party": _text(zones["party_name"]).where(zones["party_name"].notna(), officer),
        "类型 kind": kind.map({k: label for k, (label, _) in ZONE_STYLE.items()}),
        "职责 duties": zones["policy"].map(policies).where(zones["kind"] == "frontage", ""),
        "联系人 contact": _text(zones["party_contact"]), "电话 phone": _text(zones["party_phone"]),
        "网格员 grid officer": officer,
        "责任区 zone": zones["zone_key"].astype(str) + " (#" + zones["zone_id"].astype(str) + ")",
        "来源 provenance": _text(zones["provenance"]), "政策 policy": _text(zones["policy"]),
        "面积 area m²": _text(area)}, geometry=zones.geometry.values, crs=4326)
    fields = OVERVIEW_ZONE_FIELDS if overview else ZONE_FIELDS
    return {k: frame.loc[(kind == k).to_numpy(), [*fields, "geometry"]] for k in ZONE_STYLE if (kind == k).any()}


def unit_frame(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units with bilingual popup fields; rating as 红牌/黄牌/黑牌/未评."""
    frame = pd.DataFrame({c: _text(units[c]) for c in ("name", "category", "address", "phone", "grid_code",
                                                         "public_code")})
    frame["name"] = load_catalogue().unit_labels(units["name"], units["category"])  # 未命名 便利店, not a tag
    frame["category"] = [load_catalogue().kind_label(c) for c in units["category"]]
    ratings = load_ratings()
    frame["rating"] = units["rating"].map(ratings.spellings()).fillna(ratings.unrated.label)
    frame["officer"] = _person(units["officer_name"], units["officer_phone"])
    return gpd.GeoDataFrame(frame[list(UNIT_FIELDS)].rename(columns=UNIT_FIELDS), geometry=units.geometry.values,
                            crs=4326)


def context_frame(name: str, gdf: gpd.GeoDataFrame, overview: bool) -> gpd.GeoDataFrame:
    """A context layer (cells, buildings, streets, ...) with bilingual popup fields; streets as lines in overviews."""
    fields = CONTEXT_FIELDS[name]
    if overview and name == "streets":
        fields = {"name": fields["name"]}
        gdf = gdf.set_geometry(gpd.GeoSeries(gdf["centerline"].values, crs=4326))
    frame = pd.DataFrame({c: _text(gdf[c]) for c in fields})
    if name == "compounds":
        frame["property_manager"] = frame["property_manager"].replace("", "无物业")
    if name == "streets" and "width_m" in frame:
        frame["width_m"] = _text(pd.to_numeric(gdf["width_m"], errors="coerce").round(1))
    return gpd.GeoDataFrame(frame.rename(columns=fields), geometry=gdf.geometry.values, crs=4326)


def _style(color: str, fill_opacity: float, weight: float, **extra) -> dict:
    return {"color": color, "fillOpacity": fill_opacity, "weight": weight, **extra}


def map_layers(data: dict[str, gpd.GeoDataFrame], scope: Scope) -> list[tuple[MapLayer, LayerData]]:
    """Every layer of the scope's map, in drawing order: (its control/legend entry, its generalised data)."""
    z, overview, window = scope.zoom, scope.overview, scope.window()
    decimals = decimals_for_zoom(z)
    out: list[tuple[MapLayer, LayerData]] = []

    def add(name: str, frame: gpd.GeoDataFrame, style: dict, *, coverage: bool = False, show: bool = True,
            generalise: bool = True) -> None:
        frame = simplify(clip_to_bounds(frame, window), z, coverage=coverage) if generalise else frame
        empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326))
        out.append((MapLayer(name, empty, style["color"], show=show), LayerData(frame, style, decimals)))

    for name in ("cells", "buildings", "streets", "compounds", "markets"):
        if name not in data or (overview and name in OVERVIEW_SKIPS):
            continue
        color, opacity, _, _ = STYLE[name]
        opacity = {"compounds": 0.12, "markets": 0.2, "streets": 0.18}.get(name, opacity)
        line = overview and name == "streets"
        add(layer_spec(name).label, context_frame(name, data[name], overview),
            _style(color, opacity, 1.5 if line else 0.8, opacity=0.7 if line else 0.9),
            coverage=name in ("cells", "buildings"), show=name != "cells")
    zones = data.get("zones")
    if zones is not None and len(zones):  # one coverage: edges shared by zones of different kinds stay shared
        zones = simplify(clip_to_bounds(zones, window), z, coverage=True)
    for kind, frame in zone_frames(zones, overview).items():
        label, color = ZONE_STYLE[kind]
        add(label, frame, _style(color, 0.55, 0.8), generalise=False)
    units = data.get("units")
    # Overview units are clustered here, on a grid of CLUSTER_PX screen pixels, not by Leaflet.markercluster:
    # a file opened offline cannot fetch detail when zoomed, and markercluster would still carry every unit
    # and its popup (15k at 70x Nanjing) plus one more vendored library. A pixel grid bounds the file by the
    # screen, not by the data, and needs only the vendored Leaflet; the grid/community maps show each unit.
    if units is not None and overview:
        clusters = cluster_points(units, z).rename(columns={"count": "户数 units", "labels": "单位 units (示例 sample)"})
        add(CLUSTER_LABEL, clusters, _style("#1f4e79", 0.85, 1, cluster=True), generalise=False)
    elif units is not None:
        frame = unit_frame(units)
        add(UNITS_LABEL, frame, _style(UNIT_COLOUR, 0.95, 1, radius=6, palette=rating_colours(),
                                      palette_field=list(frame.columns).index(UNIT_FIELDS["rating"])))
    if scope.kind != "all":  # everything has no outline of its own
        outline = gpd.GeoDataFrame(geometry=gpd.GeoSeries([scope.polygon], crs=4326))
        add(SCOPE_LABEL, outline, _style("#111111", 0, 2.5, fill=False, dashArray="8 5", interactive=False),
            generalise=scope.kind != "bbox")
    return out


def rating_colours() -> dict[str, str]:
    """The marker colour of each rated unit's label (红牌 -> red), from ratings.toml; unrated units keep UNIT_COLOUR."""
    return {s.label: s.map for s in load_ratings().rated_signs().values() if s.map}


def legend(layers: list[tuple[MapLayer, LayerData]]) -> list[tuple[str, str]]:
    """Legend rows: every layer, then the unit ratings when units are shown one by one."""
    rows = [(layer.name, layer.color) for layer, _ in layers]
    if any(layer.name == UNITS_LABEL for layer, _ in layers):
        rows += [(f"{sign.label} {code} rating", sign.map) for code, sign in load_ratings().rated_signs().items()]
    return rows


def map_title(scope: Scope) -> str:
    """The page and map title."""
    return f"门前责任区地图 Duty zones map · {scope.label}"


def offline_map_page(data: dict[str, gpd.GeoDataFrame], scope: Scope, title: str | None = None) -> str:
    """The self-contained HTML page of the scope's layers (as read_scope_layers gives them)."""
    layers = map_layers(data, scope)
    m = build_layers_map([layer for layer, _ in layers], title=title or map_title(scope), legend=legend(layers))
    groups = [c.get_name() for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    if len(groups) != len(layers):
        raise RuntimeError(f"expected {len(layers)} feature groups on the map, found {len(groups)}")
    for control in (c for c in m._children.values() if isinstance(c, folium.LayerControl)):
        control.options["collapsed"] = True  # an open layer list would cover popups; the legend shows the colours
    if scope.overview:
        m.options["prefer_canvas"] = True  # thousands of paths: one canvas draws them faster than SVG
    minx, miny, maxx, maxy = scope.bounds
    m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    m.options["zoom"] = scope.zoom
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(24, 24), max_zoom=19)
    payload = script_json(encode_layers([d for _, d in layers]))
    m.add_child(_OfflineLayers(groups, payload), name="gridsvc_offline_layers")
    return render_html(m)


def offline_map_html(conn: Connection, scope: Scope, title: str | None = None,
                     progress: Progress | None = None) -> str:
    """The scope's map page, read from the database."""
    tick = progress or (lambda *_: None)
    tick("reading", 0, 2)
    names = tuple(n for n in MAP_LAYERS if not (scope.overview and n in OVERVIEW_SKIPS))
    data = read_scope_layers(conn, scope, names, window=True)
    tick("simplifying and encoding", 1, 2)
    page = offline_map_page(data, scope, title)
    tick("done", 2, 2)
    return page


def write_offline_map(conn: Connection, scope: Scope, out: Path, title: str | None = None,
                      progress: Progress | None = None) -> Path:
    """Write the scope's self-contained map to out (UTF-8 HTML); returns out."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(offline_map_html(conn, scope, title, progress), encoding="utf-8")
    return out
