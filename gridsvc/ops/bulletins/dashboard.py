"""The workspace's dashboard (看板, issue H item 6): cases found per H3 cell and ISO week, and the cases of one cell.

Counted as the bulletins count 发现数 (gridsvc/ops/bulletins/figures.py): a case is found in the week it was reported, weeks
are ISO weeks in Beijing time (`GRIDSVC_TZ`, gridsvc/timekeeping.py), duplicates and void cases count nowhere. The
resolution is the bulletin heat map's (bulletins.toml `[heat_map]`: the finest at which the district is at most
`cells_across` cells wide), so the dashboard and the printed bulletin draw the same hexagons. The overdue list and
the ranking are not here: the page reads them from `GET /cases?overdue=true` and `GET /bulletins/…json`.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import h3
from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import InputError
from ...exporters.bulletin_charts import HEAT, heat_class
from ...geo.chinese_crs import wgs84_to_gcj02
from ...timekeeping import Period, iso, period, zone
from ..cases.core import in_grids
from ..rules.bulletins import load_bulletins
from ..rules.categories import load_categories
from ..rules.flow import load_flow
from .figures import heat, heat_resolution, outline, period_zh

MAX_WEEKS = 26
MAX_CELL_CASES = 200


def week_key(when: datetime | None = None) -> str:
    """The ISO week (Beijing time) holding an instant (default: now): 2026-W49."""
    y, w, _ = (when or datetime.now(zone())).astimezone(zone()).isocalendar()
    return f"{y:04d}-W{w:02d}"


def week(key: str) -> Period:
    """An ISO week like 2026-W48; InputError for anything else (a month too)."""
    p = period(key)
    if p.kind != "week":
        raise InputError(f"week must be an ISO week like 2026-W48, not {key!r}", where="week")
    return p


def last_weeks(n: int, until: str | None = None, now: datetime | None = None) -> list[Period]:
    """The last n ISO weeks up to `until` (default: this week, Beijing time), the oldest first."""
    if not 1 <= n <= MAX_WEEKS:
        raise InputError(f"n must be 1..{MAX_WEEKS}", where="n")
    out = [week(until or week_key(now))]
    while len(out) < n:
        out.append(period(out[-1].previous))
    return out[::-1]


def resolution(conn: Connection, res: int | None = None) -> int:
    """The heat map's H3 resolution: `res` if given (within bulletins.toml's range), else the bulletin's for the
    district's outline."""
    hm = load_bulletins().heat_map
    if res is not None:
        if not hm.min_res <= res <= hm.max_res:
            raise InputError(f"res must be {hm.min_res}..{hm.max_res} (bulletins.toml [heat_map])", where="res")
        return res
    shape = outline(conn)["district"]
    return heat_resolution(shape.bounds if shape is not None and not shape.is_empty else None, load_bulletins())


def _points(conn: Connection, p: Period) -> list[tuple[float, float]]:
    return [(r.lng, r.lat) for r in conn.execute(sql("dashboard_case_points"), {"s": p.start, "e": p.end})]


def weeks(conn: Connection, n: int = 8, until: str | None = None, res: int | None = None,
          now: datetime | None = None) -> dict:
    """The slider's weeks: each with its cases found and its busiest cell's count (`top`: the colour scale that
    keeps the weeks comparable is the largest of them); this week and this month (Beijing time), for the ranking."""
    now = (now or datetime.now(zone())).astimezone(zone())
    ps = last_weeks(n, until, now)
    res = resolution(conn, res)
    out = []
    for p in ps:
        cells = heat(_points(conn, p), res)
        out.append({"week": p.key, "zh": period_zh(p), "start": iso(p.start), "end": iso(p.end),
                    "cases": sum(c["count"] for c in cells), "cells": len(cells),
                    "max": cells[0]["count"] if cells else 0})
    return {"res": res, "this_week": week_key(now), "this_month": f"{now:%Y-%m}", "weeks": out,
            "top": max((w["max"] for w in out), default=0), "colors": list(HEAT)}


@lru_cache(maxsize=20_000)
def _ring(cell: str, crs: str) -> tuple:
    lat, lng = zip(*h3.cell_to_boundary(cell), strict=True)
    if crs == "gcj02":
        lng, lat = wgs84_to_gcj02(list(lng), list(lat))
    ring = [[round(float(x), 7), round(float(y), 7)] for x, y in zip(lng, lat, strict=True)]
    return tuple(map(tuple, ring + ring[:1]))


def week_heat(conn: Connection, key: str, res: int | None = None, top: int | None = None,
              crs: str = "wgs84") -> dict:
    """The cases found in one week per H3 cell, as GeoJSON hexagons with their count and colour class (0..4 of
    `colors` on the scale 1..top; top defaults to this week's busiest cell)."""
    p = week(key)
    res = resolution(conn, res)
    cells = heat(_points(conn, p), res)
    top = top or (cells[0]["count"] if cells else 0)
    features = [{"type": "Feature", "id": c["h3"],
                 "properties": {"h3": c["h3"], "count": c["count"], "class": heat_class(c["count"], top)},
                 "geometry": {"type": "Polygon", "coordinates": [list(map(list, _ring(c["h3"], crs)))]}}
                for c in cells]
    return {"type": "FeatureCollection", "week": p.key, "zh": period_zh(p), "start": iso(p.start), "end": iso(p.end),
            "res": res, "crs": crs, "cases": sum(c["count"] for c in cells), "top": top, "colors": list(HEAT),
            "features": features}


def _cell(value: str) -> str:
    cell = (value or "").strip().lower()
    if not (len(cell) <= 16 and h3.is_valid_cell(cell)):
        raise InputError(f"not an H3 cell: {value[:20]!r}", where="h3")
    hm = load_bulletins().heat_map
    if not hm.min_res <= h3.get_resolution(cell) <= hm.max_res:
        raise InputError(f"the heat map's cells are of resolution {hm.min_res}..{hm.max_res}", where="h3")
    return cell


def cell_cases(conn: Connection, cell: str, key: str, principal=None, limit: int = 50,
               now: datetime | None = None) -> dict:
    """The cases found in a week whose point lies in an H3 cell (those the heat map counted there), newest first,
    as compact rows. A grid officer gets those of their grids only; `outside_scope` says how many others there are."""
    cell = _cell(cell)
    p = week(key)
    now = now or datetime.now(zone())
    res = h3.get_resolution(cell)
    lat, lng = zip(*h3.cell_to_boundary(cell), strict=True)
    pad = 1e-6
    rows = [r for r in conn.execute(sql("dashboard_cell_cases"), {
        "s": p.start, "e": p.end, "minx": min(lng) - pad, "miny": min(lat) - pad, "maxx": max(lng) + pad,
        "maxy": max(lat) + pad}).mappings() if h3.latlng_to_cell(r["lat"], r["lng"], res) == cell]
    officer = principal is not None and principal.role == "grid_officer"
    shown = [r for r in rows if not officer or in_grids(r["grid_code"], principal.grids)]
    flow, cats = load_flow(), load_categories()
    out = []
    for r in shown[:limit]:
        cat = cats.by_code.get(r["category"])
        due = r["due_at"]
        out.append({"id": r["id"], "code": r["code"], "state": r["state"], "state_zh": flow.states[r["state"]].zh,
                    "category": r["category"], "category_zh": cat.zh if cat else r["category"],
                    "urgency": r["urgency"], "description": (r["description"] or "")[:120],
                    "reported_at": iso(r["reported_at"]), "due_at": iso(due),
                    "overdue": due is not None and due < now, "grid_code": r["grid_code"],
                    "point": {"lng": r["lng"], "lat": r["lat"]}})
    return {"h3": cell, "res": res, "week": p.key, "zh": period_zh(p), "total": len(shown),
            "outside_scope": len(rows) - len(shown), "limit": limit, "cases": out}

