"""Write a GeoDataFrame as a GeoJSON, GeoPackage, Shapefile or KML layer in WGS84."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from geopandas.array import GeometryDtype

from ..errors import InputError, MissingDependencyError

log = logging.getLogger(__name__)

FORMATS = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".kml": "KML"}
SHP_NAME_BYTES = 10  # dBASE field names: at most 10 bytes
SHP_TEXT_BYTES = 254  # dBASE text values: at most 254 bytes
GEOM_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
                 "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}
INT32 = np.iinfo(np.int32)


def write_layer(gdf: gpd.GeoDataFrame, out: Path, layer: str) -> Path:
    """Write gdf to out (format from the extension) reprojected to EPSG:4326; returns out."""
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"unsupported export format {out.suffix or '(no extension)'!r}; "
                         f"use one of {', '.join(FORMATS)}", source=str(out))
    if gdf.crs is None:
        raise InputError("the layer has no CRS, so it cannot be reprojected to WGS84; "
                         "declare it first, e.g. gdf.set_crs('EPSG:4326')", source=str(out))
    data = _prepare(gdf, ext)
    options: dict = {}
    if ext == ".shp":
        data, options = _for_shapefile(data, out)
    elif ext == ".geojson":
        options = {"layer_options": {"RFC7946": "YES"}}
    driver = _kml_driver() if ext == ".kml" else FORMATS[ext]
    out.parent.mkdir(parents=True, exist_ok=True)
    if ext in (".kml", ".geojson"):
        out.unlink(missing_ok=True)  # single-layer files: replace, never add to them
    pyogrio.write_dataframe(data, out, layer=layer, driver=driver, **options)
    log.info("Wrote %d features to %s (layer %s, %s)", len(data), out, layer, driver)
    return out


def _kml_driver() -> str:
    """LIBKML if pyogrio's GDAL can write it (typed attributes), else the plain KML driver."""
    writable = pyogrio.list_drivers(write=True)
    for name in ("LIBKML", "KML"):
        if name in writable:
            return name
    raise MissingDependencyError("The GDAL bundled with pyogrio has no KML driver; export .gpkg or .geojson instead.")


def _prepare(gdf: gpd.GeoDataFrame, ext: str) -> gpd.GeoDataFrame:
    """A WGS84 copy with named index levels as columns and values every format can store."""
    data = gdf.to_crs(4326)
    if any(name is not None for name in data.index.names):
        data = data.reset_index()
    data.columns = [str(c) for c in data.columns]
    geometry = data.geometry.name
    text_dates = ext in (".shp", ".kml")  # dBASE has no date-time type, KML has no typed dates
    for col in data.columns:
        if col == geometry:
            continue
        series = data[col]
        if isinstance(series.dtype, GeometryDtype):  # extra geometry columns become WKT
            extra = gpd.GeoSeries(series)
            data[col] = (extra.to_crs(4326) if extra.crs else extra).to_wkt()
        elif pd.api.types.is_datetime64_any_dtype(series) and text_dates:
            data[col] = series.map(_iso, na_action="ignore").astype(object)
        elif pd.api.types.is_timedelta64_dtype(series):
            data[col] = series.map(str, na_action="ignore").astype(object)
        elif series.dtype == object:
            data[col] = series.map(_plain)
        elif ext == ".kml" and pd.api.types.is_integer_dtype(series) and _fits_int32(series):
            data[col] = series.astype("Int32" if series.hasnans else "int32")  # LIBKML writes int64 as text
    return data


def _iso(value) -> str:
    """ISO 8601 text of a date/time value."""
    return value.isoformat()


def _plain(value):
    """dicts/lists as JSON text, dates as ISO text, anything else unchanged."""
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _fits_int32(series: pd.Series) -> bool:
    """True if every non-null value fits a 32-bit integer."""
    values = series.dropna()
    return values.empty or (INT32.min <= values.min() and values.max() <= INT32.max)


def shapefile_field_names(columns: list[str]) -> dict[str, str]:
    """Map each column to a unique (case-insensitive) dBASE name of at most 10 UTF-8 bytes."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:  # names that already fit keep priority
        if len(col.encode()) <= SHP_NAME_BYTES and col.lower() not in taken:
            names[col] = col
            taken.add(col.lower())
    for col in columns:
        if col in names:
            continue
        candidate, n = _fit_bytes(col, SHP_NAME_BYTES) or "field", 0
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = _fit_bytes(col, SHP_NAME_BYTES - len(suffix)) + suffix
        names[col] = candidate
        taken.add(candidate.lower())
    return {col: names[col] for col in columns}


def _fit_bytes(text: str, limit: int) -> str:
    """The longest prefix of text whose UTF-8 form has at most limit bytes (never splits a character)."""
    return text.encode()[:limit].decode(errors="ignore")


def _for_shapefile(data: gpd.GeoDataFrame, out: Path) -> tuple[gpd.GeoDataFrame, dict]:
    """Check geometry types, shorten field names and pick write options for a Shapefile."""
    present = data.geometry[data.geometry.notna() & ~data.geometry.is_empty]
    kinds = set(present.geom_type)
    unsupported = sorted(kinds - GEOM_FAMILIES.keys())
    if unsupported:
        raise InputError(f"a Shapefile cannot hold {', '.join(unsupported)} geometries; "
                         "export .gpkg or .geojson instead, or explode them first", source=str(out))
    families = {GEOM_FAMILIES[k] for k in kinds}
    if len(families) > 1:
        counts = present.geom_type.value_counts().to_dict()
        raise InputError(f"a Shapefile holds one geometry type, but this layer mixes {sorted(families)} "
                         f"({counts}); write one file per type (e.g. filter by gdf.geom_type) "
                         "or export .gpkg / .geojson instead", source=str(out))
    geometry = data.geometry.name
    names = shapefile_field_names([c for c in data.columns if c != geometry])
    renamed = {old: new for old, new in names.items() if old != new}
    if renamed:
        log.info("Shapefile %s: field names shortened to 10 bytes: %s", out,
                 ", ".join(f"{old} -> {new}" for old, new in renamed.items()))
        data = data.rename(columns=renamed)
    too_long = [col for col in data.columns if col != geometry and pd.api.types.is_string_dtype(data[col])
                and data[col].map(lambda v: isinstance(v, str) and len(v.encode()) > SHP_TEXT_BYTES).any()]
    if too_long:
        log.warning("Shapefile %s: text longer than %d bytes in %s will be cut; export .gpkg to keep it whole",
                    out, SHP_TEXT_BYTES, ", ".join(too_long))
    promote = any(k.startswith("Multi") for k in kinds) and any(not k.startswith("Multi") for k in kinds)
    return data, {"encoding": "UTF-8", "promote_to_multi": promote or None}
