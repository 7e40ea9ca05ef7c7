"""Vectorized conversions between WGS84, GCJ-02 (高德/腾讯) and BD-09 (百度) coordinates."""

from __future__ import annotations

import numpy as np

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formulas.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Inverses iterate until every coordinate moves less than this (degrees, ~0.1 mm).
_TOLERANCE = 1e-9
_MAX_ITER = 50

# Coarse mainland bounding box (lng_min, lat_min, lng_max, lat_max) ...
_CHINA_BBOX = (73.4, 18.1, 135.1, 53.6)
# ... minus corners that are certainly not China (neighbour countries inside the box).
_NOT_CHINA = np.array(
    [
        (124.6, 18.1, 135.1, 39.5),  # Korea, Japan
        (131.3, 39.5, 135.1, 44.8),  # Russian Primorye (Vladivostok)
        (128.0, 50.0, 135.1, 53.6),  # Russian Amur north of the river
        (97.0, 44.0, 110.0, 53.6),  # Mongolia (west and centre)
        (110.0, 47.0, 116.0, 53.6),  # Mongolia (east)
        (73.4, 42.0, 79.0, 53.6),  # Kazakhstan, Kyrgyzstan
        (73.4, 45.2, 80.5, 53.6),  # Kazakhstan
        (73.4, 18.1, 78.0, 35.0),  # Pakistan, India (west)
        (78.0, 18.1, 80.0, 30.5),  # India (Uttarakhand)
        (80.0, 18.1, 88.5, 27.9),  # Nepal, India
        (88.5, 18.1, 97.3, 26.8),  # Bangladesh, India (north-east), Myanmar
        (88.5, 18.1, 100.0, 21.9),  # Myanmar, Thailand
        (100.0, 18.1, 102.5, 21.0),  # Laos
        (102.5, 18.1, 106.5, 22.0),  # Vietnam (Hanoi)
        (106.5, 18.1, 108.3, 21.3),  # Vietnam (Haiphong)
        (119.0, 18.1, 124.6, 21.0),  # Philippines (Luzon)
    ]
)


def _as_float(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as broadcast float64 arrays."""
    return tuple(np.broadcast_arrays(np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)))


def _gcj_offset(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlng, dlat) in degrees at WGS84 (lng, lat)."""
    x = lng - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlng += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlng, dlat


def _invert(forward, lng: np.ndarray, lat: np.ndarray, guess: tuple[np.ndarray, np.ndarray]):
    """Solve forward(x, y) == (lng, lat) by fixed-point iteration from guess."""
    x, y = guess
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        dx = fx - lng
        dy = fy - lat
        x = x - dx
        y = y - dy
        step = np.nanmax(np.abs(np.concatenate([dx.ravel(), dy.ravel()])), initial=0.0)
        if not step >= _TOLERANCE:  # also stops when everything is NaN
            break
    return x, y


def wgs84_to_gcj02(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 to GCJ-02 (applied everywhere; callers check in_china)."""
    lng, lat = _as_float(lng, lat)
    dlng, dlat = _gcj_offset(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to WGS84, exact to < 1e-9 degrees by fixed-point iteration."""
    lng, lat = _as_float(lng, lat)
    dlng, dlat = _gcj_offset(lng, lat)
    return _invert(wgs84_to_gcj02, lng, lat, (lng - dlng, lat - dlat))


def gcj02_to_bd09(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to BD-09."""
    x, y = _as_float(lng, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published one-step BD-09 to GCJ-02 approximation."""
    x = lng - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to GCJ-02, exact to < 1e-9 degrees by fixed-point iteration."""
    lng, lat = _as_float(lng, lat)
    return _invert(gcj02_to_bd09, lng, lat, _bd09_to_gcj02_approx(lng, lat))


def wgs84_to_bd09(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to WGS84 (via GCJ-02), exact to < 1e-9 degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def in_china(lng, lat) -> np.ndarray:
    """True where (lng, lat) lies in a coarse mainland-China outline (bbox minus neighbour corners)."""
    lng, lat = _as_float(lng, lat)
    x0, y0, x1, y1 = _CHINA_BBOX
    inside = (lng >= x0) & (lng <= x1) & (lat >= y0) & (lat <= y1)
    bx0, by0, bx1, by1 = (_NOT_CHINA[:, i, None] for i in range(4))
    flat_lng, flat_lat = lng.ravel()[None, :], lat.ravel()[None, :]
    excluded = ((flat_lng > bx0) & (flat_lng < bx1) & (flat_lat > by0) & (flat_lat < by1)).any(axis=0)
    return inside & ~excluded.reshape(lng.shape)
