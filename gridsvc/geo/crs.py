"""Parse user CRS strings (EPSG, gcj02, bd09) and convert data to and from WGS84."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from gridsvc.errors import UnknownCRSError
from gridsvc.geo import chinese_crs

# Datums of Chinese national CRSs (CGCS2000, Beijing 1954, Xian 1980, New Beijing).
CHINESE_DATUMS = (
    "China 2000",
    "China Geodetic Coordinate System 2000",
    "Beijing 1954",
    "Xian 1980",
    "New Beijing",
)

_GCJ_ALIASES = {"gcj02", "gcj", "mars", "amap", "gaode", "tencent", "高德", "腾讯", "火星"}
_BD_ALIASES = {"bd09", "bd09ll", "baidu", "百度"}
_EPSG_ALIASES = {"wgs84": 4326, "wgs1984": 4326, "cgcs2000": 4490, "china2000": 4490}
# The coordinates an API client sends and receives (bodies, points, answers): gcj02 for 高德/腾讯, bd09 for 百度.
ClientCrs = Literal["wgs84", "gcj02", "bd09"]
CLIENT_CRS: tuple[str, ...] = get_args(ClientCrs)
# The basemaps overlays are drawn for (layers, tiles, outlines): WGS84, or GCJ-02 shifted (gridsvc.geo.basemap_shift).
DisplayCrs = Literal["wgs84", "gcj02"]
ACCEPTED = (
    "wgs84 (default), EPSG codes as 4326 / 'EPSG:4547' / 'epsg:4490', "
    "'cgcs2000' (=EPSG:4490), 'gcj02' / 'GCJ-02' (高德/腾讯), 'bd09' / 'BD-09' (百度)"
)


@dataclass(frozen=True)
class CrsSpec:
    """A parsed input CRS: an EPSG code or one of the Chinese offset systems."""

    kind: Literal["epsg", "gcj02", "bd09"]
    epsg: int | None
    label: str
    is_chinese: bool
    is_geographic: bool

    @property
    def crs(self) -> pyproj.CRS:
        """The pyproj CRS (WGS84 for gcj02/bd09, which are offsets of it)."""
        return _pyproj_crs(self.epsg or 4326)


@lru_cache(maxsize=256)
def _pyproj_crs(code: int) -> pyproj.CRS:
    """Cached pyproj CRS for an EPSG code."""
    return pyproj.CRS.from_epsg(code)


def _is_chinese_crs(crs: pyproj.CRS) -> bool:
    """True if the CRS sits on a Chinese national datum."""
    names = [crs.datum.name if crs.datum else "", crs.geodetic_crs.name if crs.geodetic_crs else ""]
    return any(d in n for n in names for d in CHINESE_DATUMS)


def _epsg_spec(code: int, raw: object) -> CrsSpec:
    """CrsSpec for an EPSG code, or UnknownCRSError if pyproj does not know it."""
    try:
        crs = _pyproj_crs(code)
    except CRSError:
        raise UnknownCRSError(
            f"unknown CRS {raw!r}: EPSG:{code} is not a known EPSG CRS code; accepted: {ACCEPTED}"
        ) from None
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        raise UnknownCRSError(f"CRS {raw!r} ({crs.name}) is not a 2D horizontal CRS; accepted: {ACCEPTED}")
    return CrsSpec("epsg", code, f"EPSG:{code} ({crs.name})", _is_chinese_crs(crs), crs.is_geographic)


WGS84 = _epsg_spec(4326, 4326)
GCJ02 = CrsSpec("gcj02", None, "GCJ-02 (高德/腾讯)", True, True)
BD09 = CrsSpec("bd09", None, "BD-09 (百度)", True, True)


_PARSED: dict[str, CrsSpec] = {}  # strings parsed before (every lookup names its crs: pyproj's checks cost ~20 µs)


def parse_crs(value: str | int | CrsSpec | None) -> CrsSpec:
    """Parse a CRS given by a user: None/'wgs84', EPSG code, 'gcj02', 'bd09', 'cgcs2000'."""
    if isinstance(value, str):
        spec = _PARSED.get(value)
        if spec is None:
            spec = _parse_crs(value)
            if len(_PARSED) < 1024:
                _PARSED[value] = spec
        return spec
    return _parse_crs(value)


def _parse_crs(value: str | int | CrsSpec | None) -> CrsSpec:
    if value is None:
        return WGS84
    if isinstance(value, CrsSpec):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnknownCRSError(f"unknown CRS {value!r}; accepted: {ACCEPTED}")
    if isinstance(value, int):
        return _epsg_spec(value, value)
    key = re.sub(r"[\s_\-]", "", value).lower()
    if key in ("", "wgs84") or key in _EPSG_ALIASES:
        return _epsg_spec(_EPSG_ALIASES.get(key, 4326), value)
    if key in _GCJ_ALIASES:
        return GCJ02
    if key in _BD_ALIASES:
        return BD09
    match = re.fullmatch(r"(?:epsg:?)?(\d{4,6})", key)
    if match:
        return _epsg_spec(int(match.group(1)), value)
    raise UnknownCRSError(f"unknown CRS {value!r}; accepted: {ACCEPTED}")


_TO_WGS84 = {"gcj02": chinese_crs.gcj02_to_wgs84, "bd09": chinese_crs.bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": chinese_crs.wgs84_to_gcj02, "bd09": chinese_crs.wgs84_to_bd09}


@lru_cache(maxsize=64)
def _transformer(src: int, dst: int) -> pyproj.Transformer:
    """pyproj transformer with always_xy (x=lng/easting, y=lat/northing)."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def points_to_wgs84(lng, lat, spec: CrsSpec) -> tuple[np.ndarray, np.ndarray]:
    """Convert point coordinate arrays (x/y for projected CRSs) in spec to WGS84 lng/lat."""
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    if spec.kind in _TO_WGS84:
        return _TO_WGS84[spec.kind](lng, lat)
    if spec.epsg == 4326:
        return lng.copy(), lat.copy()
    x, y = _transformer(spec.epsg, 4326).transform(lng, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def points_from_wgs84(lng, lat, spec: CrsSpec) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lng/lat arrays to spec (x/y for projected CRSs)."""
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    if spec.kind in _FROM_WGS84:
        return _FROM_WGS84[spec.kind](lng, lat)
    if spec.epsg == 4326:
        return lng.copy(), lat.copy()
    x, y = _transformer(4326, spec.epsg).transform(lng, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def to_wgs84(gdf: gpd.GeoDataFrame, spec: CrsSpec) -> gpd.GeoDataFrame:
    """Copy of gdf (coordinates in spec, whatever gdf.crs says) converted to EPSG:4326."""
    if spec.kind == "epsg":
        return gdf.set_crs(spec.epsg, allow_override=True).to_crs(4326)
    convert = _TO_WGS84[spec.kind]

    def _fn(x, y, z):
        lng, lat = convert(x, y)
        return lng, lat, z

    geoms = shapely.transform(np.asarray(gdf.geometry.values), _fn, include_z=True, interleaved=False)
    out = gdf.set_crs(4326, allow_override=True)
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=4326)
    return out


def local_metric_crs(gdf_or_bounds) -> pyproj.CRS:
    """UTM zone CRS (EPSG:326xx/327xx) at the centre of a GeoDataFrame/GeoSeries or WGS84 bounds."""
    if isinstance(gdf_or_bounds, gpd.GeoDataFrame | gpd.GeoSeries):
        data = gdf_or_bounds
        if data.crs is not None and not data.crs.equals(_pyproj_crs(4326)):
            data = data.to_crs(4326)
        bounds = data.total_bounds
    else:
        bounds = np.asarray(gdf_or_bounds, dtype=float)
    if bounds.shape != (4,) or not np.all(np.isfinite(bounds)):
        raise ValueError(f"need finite (minx, miny, maxx, maxy) bounds, got {bounds!r}")
    lng = (bounds[0] + bounds[2]) / 2.0
    lat = (bounds[1] + bounds[3]) / 2.0
    zone = int(np.clip(np.floor((lng + 180.0) / 6.0) + 1, 1, 60))
    return _pyproj_crs((32600 if lat >= 0 else 32700) + zone)
