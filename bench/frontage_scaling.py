"""Frontage zones (no database) on the Nanjing extract tiled 1x, 10x, 70x: seconds and peak memory.

`python -m bench.frontage_scaling` runs each size in its own process (so peak RSS belongs to that size)
and prints one JSON line per size; `--png FILE` also draws a 300 m window around 新街口 at 1x.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridsvc.geo.crs import local_metric_crs
from gridsvc.geo.frontage import build_frontage_zones
from gridsvc.zones.policies import load_policy

from .tiling import nanjing_layers, tile

CENTRE = (118.7836, 32.0427)
LINK_M = 10.0  # as `link_units_to_buildings`: the containing building, else the nearest within 10 m


def city(n: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Streets, buildings and units of the extract tiled n times, with integer ids and units linked."""
    layers = tile(nanjing_layers(), n)
    streets, buildings, units = (layers[k].reset_index(drop=True) for k in ("streets", "buildings", "units"))
    for gdf in (streets, buildings, units):
        gdf["id"] = np.arange(1, len(gdf) + 1)
    crs = local_metric_crs(streets)
    um, bm = units.to_crs(crs), buildings.to_crs(crs)
    ui, bi = shapely.STRtree(bm.geometry.values).query(um.geometry.values, predicate="dwithin", distance=LINK_M)
    pairs = pd.DataFrame({"u": ui, "b": bi,
                          "inside": ~shapely.covers(bm.geometry.values[bi], um.geometry.values[ui]),
                          "d": shapely.distance(bm.geometry.values[bi], um.geometry.values[ui])})
    best = pairs.sort_values(["u", "inside", "d", "b"]).drop_duplicates("u")
    units["building_id"] = pd.array([pd.NA] * len(units), dtype="Int64")
    units.loc[best["u"].to_numpy(), "building_id"] = buildings["id"].to_numpy()[best["b"].to_numpy()]
    return streets, buildings, units


def quality(result, streets: gpd.GeoDataFrame, units: gpd.GeoDataFrame, policy) -> dict:
    """Units near a street that got a zone, and the largest overlap between two zones."""
    crs = local_metric_crs(streets)
    geoms = result.zones.to_crs(crs).geometry.values
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    overlap = shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]]))
    far = result.unassigned["reason"].str.startswith("more than").sum()
    near = len(units) - int(far)
    zoned = result.zones["unit_id"].nunique()
    return {"units": len(units), "units_within_limit": near, "units_with_zone": int(zoned),
            "pct_with_zone": round(100 * zoned / max(near, 1), 1),
            "max_overlap_m2": float(overlap.max()) if len(overlap) else 0.0, "zones": len(result.zones),
            "unassigned": result.unassigned["reason"].value_counts().to_dict(), "policy": policy.name}


def render(result, streets, buildings, units, path: str, half: float = 150.0) -> None:
    """PNG of a 2*half metre window around CENTRE: buildings, carriageways, zones coloured per unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["Noto Sans CJK SC", "DejaVu Sans"]
    crs = local_metric_crs(streets)
    c = gpd.GeoSeries([shapely.Point(*CENTRE)], crs=4326).to_crs(crs).iloc[0]
    box = shapely.box(c.x - half, c.y - half, c.x + half, c.y + half)
    fig, ax = plt.subplots(figsize=(11, 11), dpi=110)
    cmap = plt.get_cmap("tab20")
    layers = ((result.street_space, {"color": "#f3ecd0"}), (streets, {"color": "#bbbbbb", "edgecolor": "#888888"}),
              (buildings, {"color": "#6b6b7a", "edgecolor": "black", "linewidth": 0.4}))
    for gdf, style in layers:
        m = gdf.to_crs(crs)
        m[m.intersects(box)].plot(ax=ax, **style)
    z = result.zones.to_crs(crs)
    z = z[z.intersects(box)]
    z.plot(ax=ax, color=[cmap(int(u) % 20) for u in z["unit_id"]], edgecolor="black", linewidth=0.6, alpha=0.85)
    u = units.to_crs(crs)
    u = u[u.intersects(box)]
    ax.scatter(u.geometry.x, u.geometry.y, c=[cmap(int(i) % 20) for i in u["id"]], edgecolors="red", s=25, zorder=5)
    ax.set_xlim(box.bounds[0], box.bounds[2])
    ax.set_ylim(box.bounds[1], box.bounds[3])
    ax.set_aspect("equal")
    ax.set_title(f"门前三包 zones, {2 * half:.0f} m around 新街口 {CENTRE}: street space beige, zones per unit")
    fig.savefig(path, bbox_inches="tight")


def one(n: int, policy_name: str, png: str | None) -> dict:
    """Build zones once at n tiles; seconds, peak RSS and (at 1x) quality."""
    streets, buildings, units = city(n)
    policy = load_policy(policy_name)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    result = build_frontage_zones(streets, buildings, units, policy)
    seconds = time.perf_counter() - t
    out = {"tiles": n, "streets": len(streets), "buildings": len(buildings), "units": len(units),
           "seconds": round(seconds, 2), "zones": len(result.zones),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "rss_before_mb": round(rss0 / 1024, 1)}
    if n == 1:
        out["quality"] = quality(result, streets, units, policy)
        if png:
            render(result, streets, buildings, units, png)
            out["png"] = png
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiles", type=int, nargs="*", default=[1, 10, 70])
    ap.add_argument("--policy", default="三包")
    ap.add_argument("--png", default=None, help="draw the 1x window around 新街口 to this PNG")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.policy, args.png), ensure_ascii=False))
        return
    for n in args.tiles:
        cmd = [sys.executable, "-m", "bench.frontage_scaling", "--one", str(n), "--policy", args.policy]
        if args.png:
            cmd += ["--png", args.png]
        print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
