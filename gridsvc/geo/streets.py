"""Street carriageway widths and street polygons (pure, vectorized)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..city.catalogue import Catalogue
from .crs import local_metric_crs

WIDTH_FROM_TAG = "width tag"
WIDTH_FROM_LANES = "lanes x lane width"
WIDTH_FROM_CLASS = "class default"
WIDTH_FROM_FALLBACK = "fallback default"
WIDTH_FROM_INPUT = "input column"

_NUMBER = r"(\d+(?:[.,]\d+)?)"


def _first_number(values: pd.Series) -> pd.Series:
    """The first number in each string ('7 m' -> 7.0, '2;3' -> 2.0); None when there is none."""
    s = values.astype("string").str.extract(_NUMBER, expand=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(s, errors="coerce").astype(float)


def carriageway_widths(
    highway: pd.Series, width: pd.Series, lanes: pd.Series, cat: Catalogue
) -> tuple[np.ndarray, np.ndarray]:
    """Width in metres and where it came from: width tag, else lanes x 3.5 m, else class default."""
    w_tag = _first_number(width)
    w_tag = w_tag.where((w_tag > 0.5) & (w_tag < 150))
    n_lanes = _first_number(lanes)
    w_lanes = (n_lanes * cat.lane_width_m).where((n_lanes >= 1) & (n_lanes <= 16))
    w_class = highway.map(cat.street_widths).astype(float)
    width_m = w_tag.fillna(w_lanes).fillna(w_class).fillna(cat.fallback_width_m).to_numpy()
    source = np.select(
        [w_tag.notna(), w_lanes.notna(), w_class.notna()],
        [WIDTH_FROM_TAG, WIDTH_FROM_LANES, WIDTH_FROM_CLASS],
        default=WIDTH_FROM_FALLBACK,
    )
    return width_m, source


def street_polygons(centerlines: gpd.GeoSeries, width_m: np.ndarray) -> gpd.GeoSeries:
    """Buffer each centreline by half its width in a local metric CRS; returns WGS84 polygons."""
    if len(centerlines) == 0:
        return gpd.GeoSeries([], crs=4326)
    metric = local_metric_crs(centerlines)
    projected = centerlines.to_crs(metric)
    polys = projected.buffer(np.asarray(width_m) / 2.0, quad_segs=4)
    return polys.to_crs(4326)
