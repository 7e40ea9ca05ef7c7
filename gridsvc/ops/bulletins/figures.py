"""每周一测评、每月一通报: the figures of the weekly assessment and the monthly bulletin.

`figures(conn, "monthly", "2026-11")` reads one row of facts per case (db/sql/bulletin_cases.sql) and per unit
(db/sql/bulletin_units.sql) and adds them up per row of each level: 街道 (subdistrict), 社区 (community), 网格
(grid), 部门 (department) and 道路 (street). What is counted, the indicators (numerator / denominator of named
counts), the targets, the ranking keys, how many 末位 and the inspection plan are geodata/ops/bulletins.toml
(gridsvc/ops/rules/bulletins.py); the answer carries those definitions, and every output prints them.

The answer is plain JSON (the dashboard's `GET /bulletins/{kind}/{period}.json`); the XLSX, PDF and HTML bulletins
(gridsvc/exporters/bulletin_*.py) draw from it and from `outline()` (the district's shape for the heat map).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import h3
import shapely
from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import InputError
from ...timekeeping import Period, iso, period, zone
from ..rules.bulletins import COUNTS, INSPECTIONS, LEVEL_ZH, LEVELS, BulletinRules, load_bulletins
from ..rules.ratings import RATING_CODES, load_ratings

KINDS = {"weekly": "week", "monthly": "month"}
KIND_ZH = {"weekly": "周测评", "monthly": "月度通报"}
BOARDS = (*RATING_CODES, "none")
STARS = ("5", "4", "3", "2", "1", "0")
NO_PLACE = {"subdistrict": "（未落网格）", "community": "（未落网格）", "grid": "（未落网格）",
            "department": "（无部门）", "street": "（无道路）"}


def bulletin_period(kind: str, key: str) -> Period:
    """The period of a weekly (2026-W47) or monthly (2026-11) bulletin; InputError for a mismatch."""
    if kind not in KINDS:
        raise InputError(f"a bulletin is weekly or monthly, not {kind!r}", where="kind")
    p = period(key)
    if p.kind != KINDS[kind]:
        want = "an ISO week like 2026-W47" if kind == "weekly" else "a month like 2026-11"
        raise InputError(f"a {kind} bulletin's period is {want}, not {key!r}", where="period")
    return p


def period_zh(p: Period) -> str:
    """2026年11月, or 2026年第47周（11月16日—11月22日）."""
    if p.kind == "month":
        return f"{p.start.year}年{p.start.month}月"
    last = p.end.astimezone(zone()).date() - timedelta(days=1)
    return f"{p.key[:4]}年第{int(p.key[-2:])}周（{p.start.month}月{p.start.day}日—{last.month}月{last.day}日）"


def _num(v):
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


# ---- the rows ----

def _places(f: dict) -> dict[str, tuple]:
    """(key, name, parent) of a case's or unit's row at each level (key None: no such place)."""
    sub = (f["subdistrict_code"], f["subdistrict_name"], None)
    com = (f["community_code"], f["community_name"], f["subdistrict_name"])
    grid = (f["grid_code"], f["grid_code"], f["community_name"])
    street = (None if f["street_id"] is None else str(f["street_id"]), f["street_name"], None)
    out = {"subdistrict": sub, "community": com, "grid": grid, "street": street}
    if "department" in f:
        out["department"] = (f["department"], f["department_name"], None)
    return out


def _empty(key, name, parent) -> dict:
    return {"key": key, "name": name, "parent": parent, "counts": dict.fromkeys(COUNTS, 0), "units": 0,
            "inspections_done": 0, "boards": dict.fromkeys(BOARDS, 0), "stars": dict.fromkeys(STARS, 0)}


def _add_case(row: dict, f: dict) -> None:
    for c in COUNTS:
        row["counts"][c] += int(f[c])


def _add_unit(row: dict, u: dict, per_unit: int, stars_for) -> None:
    row["units"] += 1
    row["inspections_done"] += min(int(u["inspections"]), per_unit)
    row["boards"][u["board"] if u["board"] in BOARDS else "none"] += 1
    row["stars"][str(stars_for(u["balance"]) if u["balance"] is not None else 0)] += 1


def _finish(row: dict, rules: BulletinRules, per_unit: int, has_units: bool) -> dict:
    """Rates, the inspection plan and the targets of a row of sums."""
    rates = {name: ind.rate(row["counts"]) for name, ind in rules.indicators.items()}
    plan = rules.inspections
    insp = None
    if has_units:
        planned = row["units"] * per_unit
        insp = {"done": row["inspections_done"], "planned": planned, "rate": plan.rate(row["inspections_done"],
                                                                                          planned)}
    targets = {name: ind.target.met(rates[name]) for name, ind in rules.indicators.items() if ind.target}
    if plan.target is not None:
        targets[INSPECTIONS] = plan.target.met(insp["rate"]) if insp else None
    missed = [k for k, ok in targets.items() if ok is False]
    out = {"key": row["key"], "name": row["name"], "parent": row["parent"], "counts": row["counts"],
           "rates": rates, "inspections": insp,
           "units": row["units"] if has_units else None,
           "boards": row["boards"] if has_units else None, "stars": row["stars"] if has_units else None,
           "targets": targets, "targets_missed": missed, "rank": None, "last_place": False}
    return out


def _key_value(row: dict, key: str):
    if key == INSPECTIONS:
        return row["inspections"]["rate"] if row["inspections"] else None
    if key in row["rates"]:
        return row["rates"][key]
    return row["counts"][key]


def _rank(rows: list[dict], rules: BulletinRules, last: int) -> list[dict]:
    """Rank rows by the ranking keys (none after any value on a tie-break key; rows equal on every key share a
    rank), mark the last `last` ranked rows 末位; unranked rows (no place, first key none) follow by name."""
    keys = rules.ranking.keys

    def sort_key(r):
        out = []
        for k in keys:
            v = _key_value(r, k.key)
            out.append((1, 0) if v is None else (0, -v if k.order == "desc" else v))
        return tuple(out)

    ranked = [r for r in rows if r["key"] is not None and _key_value(r, keys[0].key) is not None]
    others = sorted((r for r in rows if r not in ranked), key=lambda r: (r["key"] is None, str(r["name"] or "")))
    ranked.sort(key=lambda r: (sort_key(r), str(r["name"] or "")))
    prev, rank = None, 0
    for i, r in enumerate(ranked, 1):
        k = sort_key(r)
        if k != prev:
            rank, prev = i, k
        r["rank"] = rank
    if last and len(ranked) > last:
        cut = ranked[-last]["rank"]  # ties with the first of the last places are last places too
        for r in ranked:
            r["last_place"] = r["rank"] >= cut
    return ranked + others


# ---- the figures ----

def case_facts(conn: Connection, p: Period, now: datetime, rules: BulletinRules) -> list[dict]:
    return [dict(r) for r in conn.execute(sql("bulletin_cases"), {"s": p.start, "e": p.end, "now": now,
                                                                  "street_m": rules.nearest_street_m}).mappings()]


def unit_facts(conn: Connection, p: Period) -> list[dict]:
    return [{k: _num(v) for k, v in r.items()} for r in conn.execute(
        sql("bulletin_units"), {"s": p.start, "e": p.end, "kind": p.kind, "period": p.key}).mappings()]


def _levels(conn: Connection, cases: list[dict], units: list[dict], p: Period, rules: BulletinRules) -> tuple:
    per_unit = rules.inspections.per_unit[p.kind]
    stars_for = load_ratings().stars_for
    rows: dict[str, dict] = {lv: {} for lv in LEVELS}
    for r in conn.execute(sql("bulletin_admin_names")).mappings():  # every 街道 and 社区, with cases or not
        rows[r["level"]].setdefault(r["code"], _empty(r["code"], r["name"], None))
    total = _empty("total", "全区", None)
    for f in cases:
        _add_case(total, f)
        for lv, (key, name, parent) in _places(f).items():
            row = rows[lv].setdefault(key, _empty(key, name if key is not None else NO_PLACE[lv], parent))
            row["parent"] = row["parent"] or parent
            _add_case(row, f)
    for u in units:
        _add_unit(total, u, per_unit, stars_for)
        for lv, (key, name, parent) in _places(u).items():
            row = rows[lv].setdefault(key, _empty(key, name if key is not None else NO_PLACE[lv], parent))
            row["parent"] = row["parent"] or parent
            _add_unit(row, u, per_unit, stars_for)
    levels = []
    for lv in LEVELS:
        done = [_finish(r, rules, per_unit, lv != "department") for r in rows[lv].values()]
        levels.append({"level": lv, "zh": LEVEL_ZH[lv], "last_places": rules.last(lv),
                       "rows": _rank(done, rules, rules.last(lv))})
    return levels, _finish(total, rules, per_unit, True)


def definitions(rules: BulletinRules, p: Period) -> dict:
    """What the bulletin counted and how it ranked: printed by every output."""
    counts = [{"code": c, "zh": rules.counts[c].zh, "meaning": rules.counts[c].meaning_zh} for c in COUNTS]
    inds = []
    for name, ind in rules.indicators.items():
        inds.append({"code": name, "zh": ind.zh, "numerator": ind.numerator, "denominator": ind.denominator,
                     "formula": f"{ind.zh} = {rules.counts[ind.numerator].zh} ÷ {rules.counts[ind.denominator].zh}"
                                f" × 100%（保留 {ind.decimals} 位小数；分母为 0 时不计）",
                     "target": ind.target.zh if ind.target else None,
                     "target_op": ind.target.op if ind.target else None,
                     "target_value": ind.target.value if ind.target else None})
    plan = rules.inspections
    per_unit = plan.per_unit[p.kind]
    order_zh = {"desc": "从高到低", "asc": "从低到高"}
    keys = [{"key": k.key, "zh": rules.key_zh(k.key), "order": k.order} for k in rules.ranking.keys]
    return {
        "exclusions": rules.exclusions_zh,
        "counts": counts,
        "indicators": inds,
        "inspections": {"code": INSPECTIONS, "zh": plan.zh, "per_unit": per_unit,
                        "formula": f"{plan.zh} = 实际巡查数 ÷ 计划巡查数 × 100%；计划巡查数 = 辖区商户（单位）数 × "
                                   f"{per_unit}（每{'周' if p.kind == 'week' else '月'}每户 {per_unit} 次）；"
                                   f"实际巡查数中每户最多计 {per_unit} 次",
                        "target": plan.target.zh if plan.target else None,
                        "target_op": plan.target.op if plan.target else None,
                        "target_value": plan.target.value if plan.target else None},
        "ranking": {"keys": keys,
                    "text": "排名依据：" + "，其次".join(f"{k['zh']}{order_zh[k['order']]}" for k in keys)
                            + "；各项相同者并列；首项无法计算（分母为 0）或无所属区域的不参与排名。"},
        "last_places": {lv: rules.last(lv) for lv in LEVELS},
        "last_places_text": "末位：" + "，".join(f"{LEVEL_ZH[lv]}后 {rules.last(lv)} 名" for lv in LEVELS
                                                   if rules.last(lv)),
        "boards": "红/黄/黑榜为本期（unit_ratings）评定结果，人工改判者以改判为准；未评定计入“未评”。",
        "stars": "星级按期末信用积分余额（ratings.toml [[stars]] 门槛）计；无积分记录计 0 星。",
        "street": f"案件所属道路：案件路由到的责任区所在道路，否则为 {rules.nearest_street_m:g} 米内最近的道路。",
    }


def _previous(p: Period, n: int) -> list[Period]:
    out = [p]
    while len(out) < n:
        out.append(period(out[-1].previous))
    return out[::-1]


def trend(conn: Connection, p: Period, now: datetime, rules: BulletinRules) -> dict:
    """The indicators of the district over the last N periods (this one last), and the first ranking key's
    indicator per 街道."""
    n = rules.trend.periods[p.kind]
    periods = _previous(p, n)
    key = rules.ranking.keys[0].key
    ind = rules.indicators.get(key) or rules.indicators[next(iter(rules.indicators))]
    key = key if key in rules.indicators else next(iter(rules.indicators))
    total = {name: [] for name in rules.indicators}
    found = []
    subs: dict[str, dict] = {}
    for i, q in enumerate(periods):
        facts = case_facts(conn, q, now, rules)
        sums = dict.fromkeys(COUNTS, 0)
        per_sub: dict[str, dict] = {}
        for f in facts:
            for c in COUNTS:
                sums[c] += int(f[c])
            if f["subdistrict_code"] is not None:
                s = per_sub.setdefault(f["subdistrict_code"], {"name": f["subdistrict_name"],
                                                               "counts": dict.fromkeys(COUNTS, 0)})
                for c in COUNTS:
                    s["counts"][c] += int(f[c])
        for name, x in rules.indicators.items():
            total[name].append(x.rate(sums))
        found.append(sums["found"])
        for code, s in per_sub.items():
            row = subs.setdefault(code, {"key": code, "name": s["name"], "values": [None] * n})
            row["values"][i] = ind.rate(s["counts"])
    return {"periods": [q.key for q in periods], "indicator": key, "indicator_zh": ind.zh, "found": found,
            "total": total, "subdistricts": sorted(subs.values(), key=lambda r: r["key"])}


# ---- the heat map ----

def outline(conn: Connection, tol: float = 0.0002) -> dict:
    """The district's outline (shapely, WGS84), its subdistricts' and its name, for the heat map."""
    r = conn.execute(sql("bulletin_outline"), {"tol": tol}).mappings().one()
    return {"district": shapely.from_wkb(bytes(r["district"])) if r["district"] else None,
            "subdistricts": [shapely.from_wkb(bytes(g)) for g in (r["subdistricts"] or [])],
            "name": r["name"]}


def heat_resolution(bounds: tuple[float, float, float, float] | None, rules: BulletinRules) -> int:
    """The finest resolution in [min_res, max_res] at which the extent is at most cells_across cells wide."""
    hm = rules.heat_map
    if bounds is None:
        return hm.min_res
    minx, miny, maxx, maxy = bounds
    mid = math.radians((miny + maxy) / 2)
    width_m = max((maxx - minx) * 111_320 * math.cos(mid), (maxy - miny) * 110_540, 1.0)
    for res in range(hm.max_res, hm.min_res - 1, -1):
        if width_m / (math.sqrt(3) * h3.average_hexagon_edge_length(res, "m")) <= hm.cells_across:
            return res
    return hm.min_res


def heat(points: list[tuple[float, float]], res: int) -> list[dict]:
    """Case points counted per H3 cell at res, the most first."""
    counts = Counter(h3.latlng_to_cell(lat, lng, res) for lng, lat in points)
    return [{"h3": cell, "count": n} for cell, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


# ---- all of it ----

def figures(conn: Connection, kind: str, key: str, *, now: datetime | None = None,
            with_trend: bool = True) -> dict:
    """The bulletin of a period as JSON-ready data: definitions, the district total, each level's ranked rows, the
    trend and the heat map of the cases found."""
    p = bulletin_period(kind, key)
    now = now or datetime.now(zone())
    rules = load_bulletins()
    cases = case_facts(conn, p, now, rules)
    units = unit_facts(conn, p)
    levels, total = _levels(conn, cases, units, p, rules)
    shape = outline(conn)
    bounds = shape["district"].bounds if shape["district"] is not None else None
    points = [(f["lng"], f["lat"]) for f in cases if f["found"]]
    if bounds is None and points:
        xs, ys = zip(*points, strict=True)
        bounds = (min(xs), min(ys), max(xs), max(ys))
    res = heat_resolution(bounds, rules)
    return {
        "kind": kind, "kind_zh": KIND_ZH[kind], "period": p.key, "period_zh": period_zh(p),
        "start": iso(p.start), "end": iso(p.end), "computed_at": iso(now),
        "district": shape["name"],
        "definitions": definitions(rules, p),
        "total": total,
        "levels": levels,
        "trend": trend(conn, p, now, rules) if with_trend else None,
        "heat_map": {"res": res, "cases": len(points), "cells": heat(points, res)},
    }


def merchants(conn: Connection, key: str, place: str) -> dict:
    """The 红/黄/黑 lists of the units of one street (a street's name or id: the street of their frontage zone) or
    one 街道 (a subdistrict's name or code) for a period: the per-street merchant notice."""
    p = period(key)
    place = (place or "").strip()
    if not place:
        raise InputError("name the street or 街道", where="street")
    units = unit_facts(conn, p)
    hit = [u for u in units if place in (u["street_name"], str(u["street_id"]), u["subdistrict_name"],
                                          u["subdistrict_code"])]
    if not hit:
        raise InputError(f"no units on a street or in a 街道 named {place!r}", where="street")
    rules = load_ratings()
    board_zh = {b.code: b.zh for b in rules.boards}
    lists = {code: sorted(u["name"] or f"单位 {u['unit_id']}" for u in hit if u["board"] == code)
             for code in RATING_CODES}
    return {"period": p.key, "period_zh": period_zh(p), "place": place, "units": len(hit),
            "boards": [{"code": code, "zh": board_zh.get(code, code), "label": rules.signs[code].zh,
                        "meaning": rules.signs[code].meaning_zh, "ink": rules.signs[code].page,
                        "text": rules.signs[code].page_text, "units": lists[code]} for code in RATING_CODES],
            "title": load_bulletins().merchants.title.format(place=place, period=period_zh(p)),
            "closing": list(load_bulletins().merchants.closing)}
