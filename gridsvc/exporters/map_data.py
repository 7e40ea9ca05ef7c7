"""Compact layer data for offline maps: one shared table of texts, delta-coded integer coordinates.

A district's zones as GeoJSON with a popup text per feature are mostly repeated keys and values; here every
distinct text is stored once and each feature keeps only indices into that table, and coordinates are
integers (degrees x 10^decimals) stored as differences from the previous vertex, split by part lengths
(the ragged layout of shapely.to_ragged_array). gridsvc/static/js/offline_layers.js decodes it.

No database access: it works on GeoDataFrames already read, but it is not part of the pure core (gridsvc/geo) as it
borrows db.store's Multi* promotion (to_multi) for the layer columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..db.store import to_multi
from ..errors import InputError

FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
            "Polygon": "polygon", "MultiPolygon": "polygon"}
MULTI = {"line": "MULTILINESTRING", "polygon": "MULTIPOLYGON"}


@dataclass
class LayerData:
    """One map layer's features: popup fields are the gdf's columns but the geometry, in order."""

    gdf: gpd.GeoDataFrame  # WGS84, already simplified and rounded
    style: dict = field(default_factory=dict)  # Leaflet path options, radius, cluster, palette/palette_field
    decimals: int = 6


def _family(gdf: gpd.GeoDataFrame, where: int) -> str:
    """The one geometry family (point, line, polygon) of a layer."""
    kinds = {FAMILIES.get(t, t) for t in gdf.geom_type.unique()}
    if len(kinds) > 1 or not kinds <= set(FAMILIES.values()):
        raise InputError(f"a map layer holds one geometry family, got {sorted(kinds)}", source="map layers",
                         where=f"layer {where}")
    return kinds.pop() if kinds else "point"


def _geometry(gdf: gpd.GeoDataFrame, family: str, decimals: int) -> tuple[list[int], list[list[int]]]:
    """Delta-coded integer coordinates (x, y interleaved) and the part lengths, outermost last."""
    geoms = np.asarray(gdf.geometry.values)
    if family == "point":
        coords, offsets = shapely.get_coordinates(geoms), ()
    else:
        _, coords, offsets = shapely.to_ragged_array(to_multi(geoms, MULTI[family]))
    ints = np.rint(np.asarray(coords, dtype=float) * 10 ** decimals).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return deltas.ravel().tolist(), [np.diff(o).tolist() for o in offsets]


def _texts(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """The popup values as text, '' for missing ones, shape (features, fields)."""
    values = gdf.drop(columns=gdf.geometry.name)
    if values.shape[1] == 0:
        return np.empty((len(gdf), 0), dtype=object)
    values = values.astype(object).where(values.notna(), "")
    return values.astype(str).to_numpy(dtype=object)


def encode_layers(layers: list[LayerData]) -> dict:
    """The layers as one JSON-ready document: {strings, layers: [{family, scale, xy, parts, fields, rows, style}]}."""
    texts = [_texts(layer.gdf) for layer in layers]
    flat = np.concatenate([t.ravel() for t in texts]) if texts else np.empty(0, dtype=object)
    codes, uniques = pd.factorize(flat)
    if len(uniques):  # frequent texts get small indices
        order = np.argsort(-np.bincount(codes, minlength=len(uniques)), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes, uniques = rank[codes], np.asarray(uniques, dtype=object)[order]
    out, start = [], 0
    for i, (layer, values) in enumerate(zip(layers, texts, strict=True)):
        family = _family(layer.gdf, i)
        xy, parts = _geometry(layer.gdf, family, layer.decimals)
        rows = codes[start:start + values.size].reshape(values.shape)
        start += values.size
        out.append({"family": family, "scale": 10 ** layer.decimals, "xy": xy, "parts": parts,
                    "fields": [str(c) for c in layer.gdf.columns if c != layer.gdf.geometry.name],
                    "rows": rows.tolist(), "style": layer.style})
    return {"strings": [str(s) for s in uniques], "layers": out}


def script_json(document: dict) -> str:
    """JSON text that is safe inside an HTML <script> element (no '<', no line separators)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
