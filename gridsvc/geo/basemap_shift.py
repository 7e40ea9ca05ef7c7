"""Overlays for GCJ-02 basemaps (高德): stored WGS84 data shown where a GCJ-02 map draws the same ground.

Inside China a GCJ-02 basemap is drawn ≈ 300-600 m away from WGS84 coordinates, so overlays must be shifted
by the same offset. Outside China (`chinese_crs.in_china` false) GCJ-02 is WGS84 and nothing moves.

- GeoJSON: every position is converted exactly (`shift_positions`), and a bbox sent in GCJ-02 is converted
  back to the WGS84 box to query (`bbox_to_wgs84`).
- Vector tiles: over one tile the offset is nearly constant, so the whole tile is moved by one affine map
  (the offset and its gradient at the tile centre, `tile_affine`), which PostGIS applies with ST_Affine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from . import chinese_crs
from .crs import DisplayCrs

BBOX_MARGIN_DEG = 1e-4  # ≈ 10 m: the offset is not linear along a box edge


def _gcj_where_chinese(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02 for positions in China; others unchanged."""
    inside = chinese_crs.in_china(lng, lat)
    glng, glat = chinese_crs.wgs84_to_gcj02(lng, lat)
    return np.where(inside, glng, lng), np.where(inside, glat, lat)


def shift_positions(xy: np.ndarray, crs: DisplayCrs) -> np.ndarray:
    """(n, 2) WGS84 lng/lat -> the display CRS, rounded to 1e-7° (as ST_AsGeoJSON(geom, 7))."""
    if crs == "wgs84" or len(xy) == 0:
        return xy
    lng, lat = _gcj_where_chinese(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lng, lat]), 7)


def shift_geometries(geoms, crs: DisplayCrs):
    """Shapely geometries (array or one) from WGS84 to the display CRS, converted all at once."""
    if crs == "wgs84":
        return geoms
    return shapely.transform(geoms, lambda xy: shift_positions(xy, crs))


def bbox_to_wgs84(minx: float, miny: float, maxx: float, maxy: float,
                  crs: DisplayCrs) -> tuple[float, float, float, float]:
    """A bbox in the display CRS -> the WGS84 bbox holding the same ground (corners converted, small margin)."""
    if crs == "wgs84":
        return minx, miny, maxx, maxy
    xs = np.array([minx, maxx, minx, maxx, (minx + maxx) / 2, (minx + maxx) / 2, minx, maxx])
    ys = np.array([miny, miny, maxy, maxy, miny, maxy, (miny + maxy) / 2, (miny + maxy) / 2])
    inside = chinese_crs.in_china(xs, ys)
    wx, wy = chinese_crs.gcj02_to_wgs84(xs, ys)
    wx, wy = np.where(inside, wx, xs), np.where(inside, wy, ys)
    m = BBOX_MARGIN_DEG if inside.any() else 0.0
    return (max(-180.0, float(wx.min()) - m), max(-90.0, float(wy.min()) - m),
            min(180.0, float(wx.max()) + m), min(90.0, float(wy.max()) + m))


def tile_of(lng: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (Web Mercator) holding a WGS84-style lng/lat point."""
    n = 2**z
    return int((lng + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def tile_center(z: int, x: int, y: int) -> tuple[float, float]:
    """WGS84-style lng/lat of the centre of XYZ tile z/x/y (Web Mercator)."""
    n = 2**z
    lng = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lng, lat


def tile_span_deg(z: int) -> float:
    """Width of a tile at zoom z in degrees of longitude."""
    return 360.0 / 2**z


@dataclass(frozen=True)
class TileAffine:
    """x' = a x + b y + xoff, y' = d x + e y + yoff (PostGIS ST_Affine order), and the shift of the query box."""

    a: float
    b: float
    d: float
    e: float
    xoff: float
    yoff: float
    search_dx: float  # add to the (display CRS) tile envelope to get the WGS84 one to query
    search_dy: float

    def apply(self, lng, lat) -> tuple[np.ndarray, np.ndarray]:
        """The map applied to WGS84 positions (what the tile SQL does)."""
        lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
        return self.a * lng + self.b * lat + self.xoff, self.d * lng + self.e * lat + self.yoff


IDENTITY = TileAffine(1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)


def tile_affine(z: int, x: int, y: int, crs: DisplayCrs) -> TileAffine:
    """The affine map taking WGS84 data into tile z/x/y of a `crs` basemap.

    The GCJ-02 forward map F is linearised at the WGS84 point w0 that lands on the tile centre c:
    F(w) ≈ c + J (w - w0), with J the secant Jacobian over half a tile. Outside China: the identity.
    """
    if crs == "wgs84":
        return IDENTITY
    cx, cy = tile_center(z, x, y)
    if not bool(chinese_crs.in_china(cx, cy)):
        return IDENTITY
    w0x, w0y = (float(v) for v in chinese_crs.gcj02_to_wgs84(cx, cy))
    h = min(tile_span_deg(z) / 4, 0.05)
    fwd = chinese_crs.wgs84_to_gcj02
    px, py = fwd(np.array([w0x + h, w0x - h, w0x, w0x]), np.array([w0y, w0y, w0y + h, w0y - h]))
    a, d = (px[0] - px[1]) / (2 * h), (py[0] - py[1]) / (2 * h)
    b, e = (px[2] - px[3]) / (2 * h), (py[2] - py[3]) / (2 * h)
    return TileAffine(float(a), float(b), float(d), float(e),
                      xoff=float(cx - (a * w0x + b * w0y)), yoff=float(cy - (d * w0x + e * w0y)),
                      search_dx=w0x - cx, search_dy=w0y - cy)
