"""Self-contained Leaflet map of GeoDataFrame layers (folium, inlined Leaflet, no network)."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import numbers
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from shapely.geometry import mapping

from gridsvc.errors import GridsvcError, InputError, MissingColumnsError
from gridsvc.maps import assets

COORD_DECIMALS = 6
BACKGROUND = "#eceeed"
FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
_COLOR = re.compile(
    r"^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,30}|(rgb|hsl)a?\([0-9.,%\s/]+\))$"
)
_FAMILIES = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Point": "point",
    "MultiPoint": "point",
}
_CSS = f"""
.leaflet-container {{ background: {BACKGROUND}; font-family: {FONT_STACK}; }}
.gridsvc-title {{ position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
  max-width: max(40%, calc(100% - 520px)); padding: 6px 14px; background: rgba(255,255,255,.92);
  border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,.4); font: 600 16px/1.35 {FONT_STACK};
  text-align: center; color: #222; pointer-events: none; }}
.gridsvc-legend {{ background: rgba(255,255,255,.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font: 14px/1.5 {FONT_STACK}; color: #222; }}
.gridsvc-legend .swatch {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid rgba(0,0,0,.35); border-radius: 2px; }}
.leaflet-control-layers {{ font-family: {FONT_STACK}; }}
.leaflet-control-layers .swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  border: 1px solid rgba(0,0,0,.35); }}
.gridsvc-popup table {{ border-collapse: collapse; font: 13px/1.4 {FONT_STACK}; }}
.gridsvc-popup th {{ text-align: left; padding: 1px 10px 1px 0; color: #555; font-weight: 600;
  vertical-align: top; white-space: nowrap; }}
.gridsvc-popup td {{ padding: 1px 0; word-break: break-word; }}
"""


@dataclass
class MapLayer:
    """One vector layer of a layers map; `name` is shown in the layer control (e.g. "街道 Streets")."""

    name: str
    gdf: gpd.GeoDataFrame
    color: str
    fill_opacity: float = 0.35
    weight: float = 1.5
    popup_fields: list[str] | None = None
    show: bool = True
    point_radius: float = 4


class _RawHtml(Element):
    """Literal HTML placed as-is (never parsed as a Jinja template)."""

    def __init__(self, markup: str):
        super().__init__()
        self._markup = markup

    def render(self, **kwargs) -> str:
        """The literal markup."""
        return self._markup


class _MapExtras(MacroElement):
    """Attribution (plain-text prefix) and legend control, added by script to the parent map."""

    _template = jinja2.Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        {%- if this.attribution %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution|tojson }});
        {%- endif %}
        {%- if this.legend_html %}
        (function () {
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "gridsvc-legend");
                div.innerHTML = {{ this.legend_html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, attribution: str, legend_html: str):
        super().__init__()
        self._name = "MapExtras"
        self.attribution = attribution
        self.legend_html = legend_html


def display_value(value: Any) -> str:
    """A property value as HTML-escaped display text ('' for None/NaN/NaT)."""
    return html.escape(_plain_text(value), quote=True)


def _plain_text(value: Any) -> str:
    """A property value as plain (unescaped) text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict | list | tuple | set | np.ndarray):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    isna = pd.isna(value)
    if isinstance(isna, bool | np.bool_) and isna:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(round(value, 6))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, shapely.Geometry):
        return value.geom_type
    return str(value)


def _jsonable(value: Any) -> Any:
    """Nested containers with every leaf made JSON-safe (text unless a plain number/bool)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return _plain_text(value) or None


def _check_color(color: str, where: str) -> str:
    """The colour if it is a plain CSS colour (hex, name, rgb()/hsl()), else InputError."""
    if not isinstance(color, str) or not _COLOR.match(color.strip()):
        raise InputError(f"not a CSS colour: {color!r} (use #rrggbb, a colour name or rgb(...))", where=where)
    return color.strip()


def _to_wgs84(layer: MapLayer) -> gpd.GeoDataFrame:
    """The layer's rows with non-empty geometries, in EPSG:4326, coordinates rounded."""
    gdf = layer.gdf
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("gdf must be a GeoDataFrame", source=layer.name)
    try:
        gdf.geometry  # noqa: B018 - raises AttributeError when no active geometry column is set
    except AttributeError as err:
        raise InputError("GeoDataFrame has no active geometry column", source=layer.name) from err
    if gdf.crs is None and len(gdf):
        raise InputError("GeoDataFrame has no CRS; set one (e.g. gdf.set_crs(4326))", source=layer.name)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    rounded = shapely.transform(gdf.geometry.values, lambda c: np.round(c, COORD_DECIMALS))
    return gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=4326))


def _popup_fields(layer: MapLayer, gdf: gpd.GeoDataFrame) -> list:
    """Columns shown in popups: the given ones (checked) or every non-geometry column."""
    geom = gdf.geometry.name
    if layer.popup_fields is None:
        return [c for c in gdf.columns if c != geom]
    missing = [f for f in layer.popup_fields if f not in gdf.columns or f == geom]
    if missing:
        raise MissingColumnsError(f"popup_fields not in the layer: {missing}", source=layer.name)
    return list(layer.popup_fields)


def _collections(gdf: gpd.GeoDataFrame, fields: list) -> dict[str, dict]:
    """GeoJSON FeatureCollections per geometry family (polygon, line, point), properties as escaped text."""
    out: dict[str, dict] = {}
    keys = [str(f) for f in fields]
    rows = gdf[fields].itertuples(index=False, name=None) if fields else ((),) * len(gdf)
    for geom, row in zip(gdf.geometry.values, rows, strict=True):
        family = _FAMILIES.get(geom.geom_type, "polygon")
        feats = out.setdefault(family, {"type": "FeatureCollection", "features": []})["features"]
        props = {k: display_value(v) for k, v in zip(keys, row, strict=True)}
        feats.append(
            {"type": "Feature", "id": str(len(feats)), "properties": props, "geometry": mapping(geom)}
        )
    return {f: out[f] for f in ("polygon", "line", "point") if f in out}


def _style(layer: MapLayer, family: str, color: str) -> dict:
    """Leaflet path style for one geometry family of a layer."""
    if family == "point":
        return {
            "color": color,
            "weight": 1,
            "fill": True,
            "fillColor": color,
            "fillOpacity": max(layer.fill_opacity, 0.8),
        }
    if family == "line":
        return {"color": color, "weight": layer.weight, "opacity": 0.9}
    return {"color": color, "weight": layer.weight, "fillColor": color, "fillOpacity": layer.fill_opacity}


def _add_layer(m: folium.Map, layer: MapLayer, gdf: gpd.GeoDataFrame, color: str) -> None:
    """Add one MapLayer as a FeatureGroup holding a GeoJson per geometry family."""
    label = f'<span class="swatch" style="background:{color}"></span>{html.escape(layer.name)}'
    group = folium.FeatureGroup(name=label, show=layer.show).add_to(m)
    fields = _popup_fields(layer, gdf)
    for family, data in _collections(gdf, fields).items():
        style = _style(layer, family, color)
        highlight = {"weight": style["weight"] + 2, "fillOpacity": min(style.get("fillOpacity", 0) + 0.2, 1)}
        popup = None
        if fields:
            aliases = [html.escape(str(f)) for f in fields]
            popup = folium.GeoJsonPopup(
                fields=[str(f) for f in fields],
                aliases=aliases,
                localize=False,
                class_name="gridsvc-popup",
                max_width=420,
            )
        folium.GeoJson(
            data,
            control=False,
            style_function=lambda _f, s=style: s,
            highlight_function=lambda _f, h=highlight: h,
            popup=popup,
            marker=folium.CircleMarker(radius=layer.point_radius) if family == "point" else None,
        ).add_to(group)


def _legend_html(legend: list[tuple[str, str]]) -> str:
    """Legend rows (colour swatch + escaped label) as HTML."""
    rows = []
    for label, color in legend:
        color = _check_color(color, f"legend {label!r}")
        rows.append(
            f'<div><span class="swatch" style="background:{color}"></span>{html.escape(str(label))}</div>'
        )
    return "".join(rows)


def _bounds(frames: list[gpd.GeoDataFrame]) -> list[list[float]] | None:
    """[[south, west], [north, east]] over all non-empty frames, or None."""
    boxes = [f.total_bounds for f in frames if len(f)]
    if not boxes:
        return None
    b = np.array(boxes)
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]


def build_layers_map(
    layers: list[MapLayer],
    *,
    title: str,
    legend: list[tuple[str, str]] | None = None,
    attribution: str = "© OpenStreetMap contributors",
    tiles: str | None = None,
) -> folium.Map:
    """The folium Map of render_layers_map (Leaflet inlined, no CDN links), not yet saved."""
    if tiles not in (None, "osm"):
        raise InputError(f"tiles must be None or 'osm', not {tiles!r}")
    names = [layer.name for layer in layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"layer names must be unique (layer control keys): {dupes}")
    colors = [_check_color(layer.color, f"layer {layer.name!r}") for layer in layers]
    frames = [_to_wgs84(layer) for layer in layers]

    m = folium.Map(tiles=None, control_scale=True, maxZoom=19, zoomSnap=0.25)
    m.default_js = []  # instance lists: never mutate folium's shared class defaults
    m.default_css = []
    fig = m.get_root()
    fig.title = html.escape(title)
    fig.header.add_child(_RawHtml(assets.leaflet_head()), name="gridsvc_leaflet", index=1)
    fig.header.add_child(_RawHtml(f"<style>{_CSS}</style>"), name="gridsvc_css")
    fig.html.add_child(
        _RawHtml(f'<div class="gridsvc-title">{html.escape(title)}</div>'), name="gridsvc_title"
    )

    escaped_attr = html.escape(attribution) if attribution else ""
    if tiles == "osm":
        folium.TileLayer("OpenStreetMap", attr=escaped_attr or "OpenStreetMap", control=False).add_to(m)
        escaped_attr = ""
    for layer, gdf, color in zip(layers, frames, colors, strict=True):
        _add_layer(m, layer, gdf, color)
    if legend is None:
        legend = [(layer.name, color) for layer, color in zip(layers, colors, strict=True)]
    m.add_child(_MapExtras(escaped_attr, _legend_html(legend)), name="gridsvc_extras")
    folium.LayerControl(collapsed=False).add_to(m)

    bounds = _bounds(frames)
    if bounds:
        m.location = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
        m.fit_bounds(bounds, padding=(24, 24), max_zoom=18)
    return m


def render_html(m: folium.Map) -> str:
    """The map's full HTML page; raises if it would load anything from outside the file."""
    page = m.get_root().render().replace("<html>", '<html lang="zh-CN">', 1)
    refs = assets.external_refs(page)
    if refs:
        raise GridsvcError(f"map HTML references external URLs: {refs[:5]}", refs=refs)
    return page


def render_layers_map(
    layers: list[MapLayer],
    out: Path,
    *,
    title: str,
    legend: list[tuple[str, str]] | None = None,
    attribution: str = "© OpenStreetMap contributors",
    tiles: str | None = None,
) -> Path:
    """Write a self-contained HTML map of `layers` to `out` (works offline from file://); returns the path.

    legend=None derives one row per layer; pass [] for no legend. tiles='osm' adds OSM tiles (online only).
    """
    m = build_layers_map(layers, title=title, legend=legend, attribution=attribution, tiles=tiles)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(m), encoding="utf-8")
    return out
