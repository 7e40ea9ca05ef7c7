"""The city map: grid cells, streets, compounds, markets and units from the database."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3.api.basic_int as h3
from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..city.grid import grid_res
from ..db.layers import layer_spec
from ..db.sql import sql
from ..db.store import read_layer
from ..zones.policies import load_policy
from .layer_map import MapLayer, render_layers_map

# Zones by kind of responsible party: (layer label, colour).
ZONE_STYLE = {
    "unit": ("门前责任区 · 商户 Shop frontage zones", "#e74c3c"),
    "market_operator": ("市场开办方 Market operators", "#e67e22"),
    "property_manager": ("物业 Property managers", "#16a085"),
    "building_head": ("楼院长（无物业）Building heads, no manager", "#8e44ad"),
    "institution": ("机关、企事业单位院落 Institution grounds", "#00897b"),
    "street_steward": ("街巷管家 Street stewards", "#2980b9"),
    "grid_officer": ("网格员 · 街巷空间 Street space, grid officer", "#95a5a6"),
}
ZONE_FIELDS = ["责任方 party", "类型 kind", "职责 duties", "联系人 contact", "电话 phone", "网格员 grid officer",
               "责任区 zone", "来源 provenance", "政策 policy", "面积 area m²"]

# (layer, colour, fill opacity, popup fields, shown at start)
STYLE = {
    "cells": ("#7f8c8d", 0.04, ["code", "h3", "community_id"], True),
    "buildings": ("#b8b0a2", 0.6, ["name", "building_type", "levels", "source_id"], True),
    "compounds": ("#27ae60", 0.30, ["name", "property_manager", "source_id"], True),
    "markets": ("#d35400", 0.45, ["name", "market_type", "operator", "source_id"], True),
    "streets": (
        "#2c3e50",
        0.30,
        ["name", "osm_class", "width_m", "width_source", "lanes", "source_id"],
        True,
    ),
    "units": ("#c0392b", 0.9, ["name", "category", "address", "phone", "source_id"], True),
}


def city_layers(conn: Connection, layers: tuple[str, ...] = tuple(STYLE)) -> list[MapLayer]:
    """MapLayers of the stored city, in drawing order."""
    out = []
    for name in layers:
        color, opacity, fields, show = STYLE[name]
        spec = layer_spec(name)
        gdf = read_layer(conn, spec)
        if name == "cells":
            gdf["h3"] = gdf["h3"].map(lambda v: format(int(v), "x"))
        if name == "compounds":
            gdf["property_manager"] = gdf["property_manager"].fillna("无物业")
        if name == "units":  # an unnamed unit reads as its kind (未命名 便利店)
            gdf["name"] = load_catalogue().unit_labels(gdf["name"], gdf["category"])
        gdf = gdf[[f for f in fields if f in gdf.columns] + ["geometry"]]
        out.append(
            MapLayer(
                name=spec.label,
                gdf=gdf,
                color=color,
                fill_opacity=opacity,
                weight=0.8 if name in ("cells", "buildings") else 1.5,
                popup_fields=fields,
                show=show,
            )
        )
    return out


def zone_layers(conn: Connection) -> list[MapLayer]:
    """Current zones, one layer per kind of responsible party, with bilingual popups."""
    rows = conn.execute(sql("zones_for_map")).mappings().all()
    if not rows:
        return []
    officers = {r.h3: f"{r.name} {r.phone or ''}".strip() for r in conn.execute(sql("officers_by_cell"))}
    res = grid_res(conn)
    duties: dict[str, str] = {}
    records = []
    for r in rows:
        kind = r["party_kind"] or "grid_officer"
        if r["policy"] not in duties:
            duties[r["policy"]] = "；".join(f"{d.zh} {d.en}" for d in load_policy(r["policy"]).duties)
        officer = officers.get(h3.latlng_to_cell(r["py"], r["px"], res), "未指定 not assigned")
        records.append({
            "party_kind": kind,
            "责任方 party": r["party_name"] or officer, "类型 kind": ZONE_STYLE[kind][0],
            "职责 duties": duties[r["policy"]] if r["kind"] == "frontage" else "",
            "联系人 contact": r["party_contact"], "电话 phone": r["party_phone"], "网格员 grid officer": officer,
            "责任区 zone": f"{r['zone_key']} (#{r['id']})", "来源 provenance": r["provenance"],
            "政策 policy": r["policy"], "面积 area m²": r["area_m2"], "geometry": r["geom"]})
    gdf = gpd.GeoDataFrame(records, geometry=gpd.GeoSeries.from_wkb([r["geometry"] for r in records]), crs=4326)
    out = []
    for kind, (label, color) in ZONE_STYLE.items():
        part = gdf[gdf["party_kind"] == kind]
        if len(part):
            out.append(MapLayer(name=label, gdf=part[[*ZONE_FIELDS, "geometry"]], color=color, fill_opacity=0.55,
                                weight=0.8, popup_fields=ZONE_FIELDS))
    return out


def write_city_map(conn: Connection, out: Path, title: str) -> Path:
    """Write the self-contained city map HTML: the city layers, then the zones by party kind."""
    layers = city_layers(conn)
    zones = zone_layers(conn)
    layers = layers[:2] + zones + layers[2:] if zones else layers
    legend = [(layer.name, layer.color) for layer in layers]
    return render_layers_map(layers, out, title=title, legend=legend)
