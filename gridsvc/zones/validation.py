"""`gridsvc validate` / GET /zones/validate: the zone report planners work through."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection

from ..db import store
from ..db.layers import layer_spec
from ..db.sql import sql
from ..geo import zone_validation as zv
from ..geo.crs import local_metric_crs


def _records(df, limit: int) -> list[dict]:
    return df.head(limit).to_dict(orient="records")


def validate(conn: Connection, limit: int = 500) -> dict:
    """Overlaps, frontage gaps, detached zones, units without a zone, and coverage per street and cell."""
    zones = store.read_layer(conn, layer_spec("zones")).rename(columns={"zone_id": "id"})  # report public ids
    if zones.empty:
        return {"zones": 0, "ok": False, "message": "no zones yet: run `gridsvc build zones`"}
    streets, units = store.read_layer(conn, layer_spec("streets")), store.read_layer(conn, layer_spec("units"))
    buildings = store.read_layer(conn, layer_spec("buildings"))
    cells = store.read_layer(conn, layer_spec("cells"))
    metric = local_metric_crs(zones)
    mz, ms, mu, mb = (g.to_crs(metric) for g in (zones, streets, units, buildings))
    ms["centerline"] = gpd.GeoSeries(streets["centerline"], crs=4326).to_crs(metric)
    mc = cells.to_crs(metric)
    zoned = set(zones.loc[zones["kind"] == "frontage", "unit_id"].dropna().astype(int))
    build = conn.execute(sql("latest_build")).one_or_none()
    reasons = {int(u["unit_id"]): u["reason"] for u in (build.unassigned if build else [])}
    missing = [{"unit_id": int(i), "name": n, "reason": reasons.get(int(i), "no current frontage zone")}
               for i, n in zip(units["id"], units["name"], strict=True) if int(i) not in zoned]
    ov, gaps, det = zv.overlaps(mz), zv.frontage_gaps(mz, ms), zv.detached(mz, mu, mb)
    streets_cov, cells_cov = zv.street_coverage(mz, ms), zv.cell_coverage(mz, mc)
    with_units = len(units)
    return {
        "zones": len(zones), "policy": build.policy if build else None,
        "ok": ov.empty and det.empty,
        "summary": {
            "overlaps": len(ov), "overlap_area_m2": round(float(ov["area_m2"].sum()), 3) if len(ov) else 0.0,
            "frontage_gaps": len(gaps), "detached_zones": len(det), "units": with_units,
            "units_without_zone": len(missing),
            "units_with_zone_pct": round(100 * (with_units - len(missing)) / with_units, 1) if with_units else None,
            "mean_street_coverage_pct": round(float(streets_cov["coverage_pct"].mean()), 1) if len(streets_cov) else None,
            "mean_cell_coverage_pct": round(float(cells_cov["coverage_pct"].mean()), 1) if len(cells_cov) else None,
        },
        "overlaps": _records(ov, limit), "frontage_gaps": _records(gaps, limit), "detached_zones": _records(det, limit),
        "units_without_zone": missing[:limit],
        "coverage_by_street": _records(streets_cov, limit), "coverage_by_cell": _records(cells_cov, limit),
    }
