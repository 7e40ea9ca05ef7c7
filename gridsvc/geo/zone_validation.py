"""Checks on a set of responsibility zones (pure): overlaps, gaps, detached zones, coverage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import local_metric_crs

OVERLAP_TOLERANCE_M2 = 0.01
TOUCH_TOLERANCE_M = 0.5
GAP_TOLERANCE_M = 0.05


def overlaps(zones: gpd.GeoDataFrame, tol_m2: float = OVERLAP_TOLERANCE_M2) -> pd.DataFrame:
    """Pairs of zones (metric CRS, column id) overlapping by more than tol_m2: zone_a, zone_b, area_m2."""
    geoms = np.asarray(zones.geometry.values)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    area = shapely.area(shapely.intersection(geoms[a], geoms[b])) if len(a) else np.array([])
    big = area > tol_m2
    if big.any():  # GEOS can mis-measure nearly coincident edges: confirm on a 1 mm grid (changes areas by ~mm²)
        area[big] = shapely.area(shapely.intersection(geoms[a[big]], geoms[b[big]], grid_size=0.001))
        big = area > tol_m2
    ids = zones["id"].to_numpy()
    return pd.DataFrame({"zone_a": ids[a[big]], "zone_b": ids[b[big]], "area_m2": np.round(area[big], 3)})


def frontage_gaps(zones: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, tol_m: float = GAP_TOLERANCE_M,
                  ) -> pd.DataFrame:
    """Gaps between consecutive frontage zones on the same street side (where their stations do not meet)."""
    front = zones[zones["kind"] == "frontage"]
    if front.empty:
        return pd.DataFrame(columns=["street_id", "side", "unit_a", "unit_b", "from_m", "to_m", "gap_m"])
    lines = dict(zip(streets["id"], streets["centerline"], strict=True))
    rows = []
    for (sid, side), grp in front.groupby(["street_id", "side"], sort=True):
        line = lines.get(sid)
        if line is None:
            continue
        coords, idx = shapely.get_coordinates(grp.geometry.values, return_index=True)
        st = shapely.line_locate_point(line, shapely.points(coords))
        lo = pd.Series(st).groupby(idx).min().to_numpy()
        hi = pd.Series(st).groupby(idx).max().to_numpy()
        order = np.argsort(lo)
        geoms = grp.geometry.values[order]
        units = grp["unit_id"].to_numpy()[order]
        lo, hi = lo[order], hi[order]
        for i in range(len(order) - 1):
            gap = lo[i + 1] - hi[i]
            if gap > tol_m and shapely.distance(geoms[i], geoms[i + 1]) > tol_m:
                rows.append({"street_id": int(sid), "side": side, "unit_a": int(units[i]), "unit_b": int(units[i + 1]),
                             "from_m": round(float(hi[i]), 2), "to_m": round(float(lo[i + 1]), 2),
                             "gap_m": round(float(gap), 2)})
    return pd.DataFrame(rows, columns=["street_id", "side", "unit_a", "unit_b", "from_m", "to_m", "gap_m"])


def detached(zones: gpd.GeoDataFrame, units: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
             tol_m: float = TOUCH_TOLERANCE_M) -> pd.DataFrame:
    """Frontage zones farther than tol_m from their unit's building."""
    front = zones[zones["kind"] == "frontage"].merge(
        units[["id", "building_id"]].rename(columns={"id": "unit_id"}), on="unit_id", how="left")
    front = front[front["building_id"].notna()]
    if front.empty:
        return pd.DataFrame(columns=["zone_id", "unit_id", "building_id", "distance_m"])
    bgeom = dict(zip(buildings["id"], buildings.geometry.values, strict=True))
    b = np.array([bgeom.get(int(i)) for i in front["building_id"]], dtype=object)
    dist = shapely.distance(np.asarray(front.geometry.values), b)
    far = ~np.isnan(dist) & (dist > tol_m)
    return pd.DataFrame({"zone_id": front["id"].to_numpy()[far], "unit_id": front["unit_id"].astype(int).to_numpy()[far],
                         "building_id": front["building_id"].astype(int).to_numpy()[far],
                         "distance_m": np.round(dist[far], 2)})


def street_coverage(zones: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per street with units: frontage length covered by unit zones / both sides' length, in %."""
    front = zones[zones["kind"] == "frontage"]
    covered = front.groupby("street_id")["frontage_m"].sum()
    length = pd.Series(shapely.length(streets["centerline"].values), index=streets["id"].to_numpy())
    out = pd.DataFrame({"street_id": covered.index.astype(int), "frontage_m": covered.round(1).to_numpy(),
                        "length_m": length.reindex(covered.index).round(1).to_numpy()})
    out["coverage_pct"] = (100 * out["frontage_m"] / (2 * out["length_m"])).clip(upper=100).round(1)
    names = dict(zip(streets["id"], streets["name"], strict=True))
    out["name"] = [names.get(s) for s in out["street_id"]]
    return out.sort_values("coverage_pct")


def cell_coverage(zones: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per grid cell: share of its area inside any responsibility zone, in % (zones are disjoint)."""
    cg, zg = np.asarray(cells.geometry.values), np.asarray(zones.geometry.values)
    ci, zi = shapely.STRtree(zg).query(cg, predicate="intersects")
    inter = shapely.area(shapely.intersection(cg[ci], zg[zi])) if len(ci) else np.array([])
    covered = np.bincount(ci, weights=inter, minlength=len(cg))
    pct = np.clip(100 * covered / shapely.area(cg), 0, 100)
    return pd.DataFrame({"grid_code": cells["code"].to_numpy(), "coverage_pct": np.round(pct, 1)})


def zone_differences(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, crs=None) -> dict:
    """How two zone tables (columns zone_key, party_id, props, geometry) differ, zone for zone: keys in one only,
    zones whose party or props differ, and the largest Hausdorff distance (m) and symmetric-difference area (m²)
    between the geometries of the same key, measured in a metric CRS (default: the local UTM zone)."""
    crs = crs or local_metric_crs(a if len(a) else b)
    ka, kb = pd.Index(a["zone_key"]), pd.Index(b["zone_key"])
    both = ka.intersection(kb)
    ia, ib = ka.get_indexer(both), kb.get_indexer(both)
    ga = np.asarray(a.to_crs(crs).geometry.values, dtype=object)[ia]
    gb = np.asarray(b.to_crs(crs).geometry.values, dtype=object)[ib]
    hausdorff = shapely.hausdorff_distance(ga, gb) if len(both) else np.zeros(0)
    symdiff = shapely.area(shapely.symmetric_difference(ga, gb)) if len(both) else np.zeros(0)
    def equal(x, y) -> bool:
        return x == y if isinstance(x, dict) or isinstance(y, dict) else bool(x == y or (pd.isna(x) and pd.isna(y)))

    same = {c: [equal(x, y) for x, y in zip(a[c].to_numpy()[ia], b[c].to_numpy()[ib], strict=True)]
            for c in ("party_id", "props") if c in a and c in b}
    return {"zones": [len(a), len(b)], "only_first": sorted(ka.difference(kb))[:20],
            "only_second": sorted(kb.difference(ka))[:20],
            "differ": {c: int(len(v) - sum(v)) for c, v in same.items()},
            "max_hausdorff_m": float(np.max(hausdorff, initial=0.0)),
            "max_symdiff_m2": float(np.max(symdiff, initial=0.0)),
            "over_1mm": int((hausdorff > 0.001).sum()), "identical": int(shapely.equals_exact(ga, gb, 0).sum())}
