"""Sanity checks on input coordinates and geometries, raising errors that name file and rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj.database import query_crs_info
from pyproj.enums import PJType

from gridsvc.errors import InputError, InvalidGeometryError, OutsideChinaError, SwappedCoordinatesError
from gridsvc.geo.chinese_crs import in_china
from gridsvc.geo.crs import CrsSpec, points_to_wgs84

MAX_LISTED = 5  # labels named in a message before "(N in total)"
MAX_NOTES = 20  # repair notes listed one by one before a summary line


def _labels(labels: Sequence[str] | None, n: int) -> np.ndarray:
    """Row labels as an object array (default 'feature i')."""
    if labels is None:
        return np.array([f"feature {i}" for i in range(n)], dtype=object)
    out = np.asarray(list(labels), dtype=object)
    if len(out) != n:
        raise ValueError(f"{len(out)} labels for {n} rows")
    return out


def format_where(labels: Sequence[str] | np.ndarray, mask: np.ndarray | None = None) -> str:
    """'row 2, row 5 ... (17 in total)': the first few labels where mask is true."""
    chosen = np.asarray(labels, dtype=object)
    if mask is not None:
        chosen = chosen[np.asarray(mask, dtype=bool)]
    head = ", ".join(str(v) for v in chosen[:MAX_LISTED])
    if len(chosen) <= MAX_LISTED:
        return head
    return f"{head}, … ({len(chosen)} in total)"


def _num(v: float) -> str:
    """Compact number for messages."""
    return f"{v:.10g}"


def check_raw_coordinates(
    x, y, spec: CrsSpec, source: str | None = None, labels: Sequence[str] | None = None
) -> None:
    """Check raw input coordinates in spec (before transforming): finite, not swapped, in range."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lab = _labels(labels, len(x))
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"coordinates are missing or not finite (got x={_num(x[i])}, y={_num(y[i])})",
            source=source,
            where=format_where(lab, bad),
        )
    if spec.is_geographic:
        _check_geographic(x, y, spec, source, lab)
    else:
        _check_projected(x, y, spec, source, lab)


def _check_geographic(x: np.ndarray, y: np.ndarray, spec: CrsSpec, source, lab: np.ndarray) -> None:
    """Swapped or out-of-range longitude/latitude."""
    swapped = (np.abs(x) <= 90) & (np.abs(y) > 90)
    if spec.is_chinese:
        swapped |= (x >= 15) & (x <= 55) & (y >= 70) & (y <= 140)
    if swapped.any():
        i = int(np.flatnonzero(swapped)[0])
        raise SwappedCoordinatesError(
            f"looks like latitude/longitude are swapped (got lng={_num(x[i])}, lat={_num(y[i])})",
            source=source,
            where=format_where(lab, swapped),
        )
    out = (np.abs(x) > 180) | (np.abs(y) > 90)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InputError(
            f"longitude/latitude out of range (got lng={_num(x[i])}, lat={_num(y[i])}); "
            f"{spec.label} needs -180..180 and -90..90 degrees",
            source=source,
            where=format_where(lab, out),
        )


def _check_projected(x: np.ndarray, y: np.ndarray, spec: CrsSpec, source, lab: np.ndarray) -> None:
    """Projected input must transform; for Chinese CRSs it must land in China."""
    lng, lat = points_to_wgs84(x, y, spec)
    failed = ~(np.isfinite(lng) & np.isfinite(lat))
    outside = ~failed & ~in_china(lng, lat) if spec.is_chinese else np.zeros(len(x), dtype=bool)
    for bad in (failed, outside):
        if not bad.any():
            continue
        i = int(np.flatnonzero(bad)[0])
        got = f"got x={_num(x[i])}, y={_num(y[i])}"
        where = format_where(lab, bad)
        if spec.is_chinese and np.all(in_china(*points_to_wgs84(y[bad], x[bad], spec))):
            raise SwappedCoordinatesError(
                f"looks like easting/northing are swapped ({got}); Chinese surveys write X=northing, "
                "Y=easting, but x/lng must hold the easting",
                source=source,
                where=where,
            )
        hint = gauss_kruger_hint(float(x[i]), spec) or "is the CRS right?"
        if bad is failed:
            raise InputError(
                f"coordinates cannot be converted from {spec.label} ({got}); {hint}",
                source=source,
                where=where,
            )
        raise OutsideChinaError(
            f"coordinates in {spec.label} do not land in China ({got} -> lng={lng[i]:.5f}, lat={lat[i]:.5f}); {hint}",
            source=source,
            where=where,
        )


@lru_cache(maxsize=1)
def _projected_codes() -> dict[str, int]:
    """EPSG projected CRS name -> code."""
    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
    return {info.name: int(info.code) for info in infos}


def _gk_variant(base: str, degrees: int, what: str) -> str:
    """'EPSG:nnnn (name)' of a Gauss–Krüger variant, or just the name if EPSG lacks it."""
    name = f"{base} / {'3-degree ' if degrees == 3 else ''}Gauss-Kruger {what}"
    code = _projected_codes().get(name)
    return f"EPSG:{code} ({name})" if code else name


def gauss_kruger_hint(easting: float, spec: CrsSpec) -> str | None:
    """Explain a missing or unexpected zone prefix on a Gauss–Krüger easting, if that is the problem."""
    if spec.epsg is None:
        return None
    crs = spec.crs
    if "Gauss-Kruger" not in crs.name or crs.coordinate_operation is None:
        return None
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    false_easting = params.get("False easting", 500000.0)
    base = crs.name.split(" / ")[0]
    if false_easting < 1e6 and easting >= 1e7:
        zone = int(easting // 1e6)
        if 25 <= zone <= 45:
            return f"easting {_num(easting)} carries 3-degree zone prefix {zone}; use {_gk_variant(base, 3, f'zone {zone}')}"
        if 13 <= zone <= 23:
            return f"easting {_num(easting)} carries 6-degree zone prefix {zone}; use {_gk_variant(base, 6, f'zone {zone}')}"
        return None
    if false_easting >= 1e6 and 0 < easting < 1e6:
        zone = int(false_easting // 1e6)
        degrees = 3 if "3-degree" in crs.name else 6
        cm = 3 * zone if degrees == 3 else 6 * zone - 3
        return (
            f"easting {_num(easting)} lacks its zone prefix {zone} (expected {zone}xxxxxx); "
            f"add it or use {_gk_variant(base, degrees, f'CM {cm}E')}"
        )
    return None


def check_in_china(
    gdf_wgs84: gpd.GeoDataFrame, spec: CrsSpec, source: str | None = None, labels: Sequence[str] | None = None
) -> None:
    """OutsideChinaError if spec is Chinese and any geometry's representative point is outside China."""
    if not spec.is_chinese or len(gdf_wgs84) == 0:
        return
    geoms = np.asarray(gdf_wgs84.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = np.full(len(geoms), None, dtype=object)
    points[present] = shapely.point_on_surface(geoms[present])
    outside = present.copy()
    outside[present] = ~in_china(shapely.get_x(points[present]), shapely.get_y(points[present]))
    if outside.any():
        lab = _labels(labels, len(geoms))
        i = int(np.flatnonzero(outside)[0])
        pt = points[i]
        raise OutsideChinaError(
            f"{int(outside.sum())} feature(s) lie outside China although {spec.label} was declared "
            f"(e.g. at lng={pt.x:.5f}, lat={pt.y:.5f}); is the CRS right?",
            source=source,
            where=format_where(lab, outside),
        )


def _flatten(geoms: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-part geometries of geoms (recursing into collections), with their owner index."""
    while True:
        multi = shapely.get_num_geometries(geoms) > 1
        multi |= shapely.get_type_id(geoms) >= 4  # Multi* and GeometryCollection
        if not multi.any():
            return geoms, index
        parts, owner = shapely.get_parts(geoms[multi], return_index=True)
        geoms = np.concatenate([geoms[~multi], parts])
        index = np.concatenate([index[~multi], index[multi][owner]])


_COLLECT = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}


def _keep_dimension(repaired: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """From each repaired geometry keep only parts of the given dimension (None where nothing is left)."""
    parts, owner = _flatten(repaired, np.arange(len(repaired)))
    keep = ~shapely.is_empty(parts) & (shapely.get_dimensions(parts) == dims[owner])
    parts, owner = parts[keep], owner[keep]
    out = np.full(len(repaired), None, dtype=object)
    for dim, collect in _COLLECT.items():
        sel = dims[owner] == dim
        if not sel.any():
            continue
        owners = np.unique(owner[sel])
        out[owners] = collect(parts[sel], indices=np.searchsorted(owners, owner[sel]))
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _reason_text(reason: str) -> str:
    """'Self-intersection[116.3 39.9]' -> 'self-intersection at 116.3 39.9'."""
    match = re.fullmatch(r"\s*([^\[]*?)\s*\[(.*)\]\s*", reason)
    if not match:
        return reason[:1].lower() + reason[1:]
    what, where = match.groups()
    return f"{what[:1].lower() + what[1:]} at {where}"


@dataclass(frozen=True)
class GeometryFix:
    """One feature an ingest changed on the way in: repaired with make_valid, or skipped, and why."""

    feature: str  # its label, e.g. 'feature way/123'
    action: str  # 'repaired' | 'skipped'
    reason: str  # e.g. 'self-intersection at 24.95 60.16', 'empty geometry'


def repair_geometries(
    gdf: gpd.GeoDataFrame,
    source: str | None = None,
    labels: Sequence[str] | None = None,
    strict: bool = False,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Drop empty geometries and make invalid ones valid (same dimension); returns (gdf, notes).

    A geometry that cannot be repaired is skipped and reported, or with strict=True rejects the input.
    """
    out, notes, _ = repair_geometries_logged(gdf, source, labels, strict)
    return out, notes


def repair_geometries_logged(
    gdf: gpd.GeoDataFrame,
    source: str | None = None,
    labels: Sequence[str] | None = None,
    strict: bool = False,
) -> tuple[gpd.GeoDataFrame, list[str], list[GeometryFix]]:
    """repair_geometries, plus one GeometryFix for every feature repaired or skipped (notes stop at MAX_NOTES)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    lab = _labels(labels, len(geoms))
    notes: list[str] = []
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    fixes = [GeometryFix(str(label), "skipped", "empty geometry") for label in lab[empty]]
    if empty.any():
        notes.append(f"{int(empty.sum())} feature(s) with empty geometry skipped: {format_where(lab, empty)}")
    invalid = ~empty & ~shapely.is_valid(geoms)
    out = gdf.copy()
    if invalid.any():
        bad = geoms[invalid]
        reasons = shapely.is_valid_reason(bad)
        dims = shapely.get_dimensions(bad)
        fixed = _keep_dimension(shapely.make_valid(bad), dims)
        lost = shapely.is_missing(fixed) | ~shapely.is_valid(fixed)
        if lost.any():
            i = int(np.flatnonzero(lost)[0])
            what = (f"invalid geometry ({_reason_text(reasons[i])}) cannot be repaired into a valid "
                    f"{bad[i].geom_type}")
            if strict:
                raise InvalidGeometryError(what, source=source, where=format_where(lab[invalid], lost))
            notes.append(f"{int(lost.sum())} feature(s) skipped: {what}: {format_where(lab[invalid], lost)}")
            fixes += [GeometryFix(str(label), "skipped", f"invalid geometry ({_reason_text(reason)}) cannot be "
                                  f"repaired into a valid {geom.geom_type}")
                      for label, reason, geom in zip(lab[invalid][lost], reasons[lost], bad[lost], strict=True)]
            dropped = np.zeros(len(geoms), dtype=bool)
            dropped[np.flatnonzero(invalid)[lost]] = True
            empty = empty | dropped
            invalid = invalid & ~dropped
            bad, reasons, fixed = bad[~lost], reasons[~lost], fixed[~lost]
        new = geoms.copy()
        new[invalid] = fixed
        out[out.geometry.name] = gpd.GeoSeries(new, index=out.index, crs=gdf.crs)
        bad_labels = lab[invalid]
        fixes += [GeometryFix(str(label), "repaired", _reason_text(reason))
                  for label, reason in zip(bad_labels, reasons, strict=True)]
        for label, reason in zip(bad_labels[:MAX_NOTES], reasons[:MAX_NOTES], strict=False):
            notes.append(f"{label}: {_reason_text(reason)} repaired with make_valid")
        if len(bad_labels) > MAX_NOTES:
            notes.append(
                f"… and {len(bad_labels) - MAX_NOTES} more invalid geometries repaired with make_valid"
            )
    return out[~empty], notes, fixes
