"""The city map: grid cells, streets, compounds, markets and units from the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from ..db.layers import layer_spec
from ..db.store import read_layer
from .layer_map import MapLayer, render_layers_map

# (layer, colour, fill opacity, popup fields, shown at start)
STYLE = {
    "cells": ("#7f8c8d", 0.04, ["code", "h3", "community_id"], True),
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
        gdf = gdf[[f for f in fields if f in gdf.columns] + ["geometry"]]
        out.append(
            MapLayer(
                name=spec.label,
                gdf=gdf,
                color=color,
                fill_opacity=opacity,
                weight=0.8 if name == "cells" else 1.5,
                popup_fields=fields,
                show=show,
            )
        )
    return out


def write_city_map(conn: Connection, out: Path, title: str) -> Path:
    """Write the self-contained city map HTML."""
    layers = city_layers(conn)
    legend = [(layer.name, layer.color) for layer in layers]
    return render_layers_map(layers, out, title=title, legend=legend)
