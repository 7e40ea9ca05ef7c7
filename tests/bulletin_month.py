"""A hand-made November 2026 for the bulletin tests: two 街道, three 社区, four 网格, two streets, two departments,
17 cases in every state (one a duplicate, one void, some from October and September), inspections, ratings and
credit. Every figure of the bulletin is worked out by hand in tests/ops/bulletins/test_bulletins.py."""

from __future__ import annotations

import json
from datetime import datetime

import h3
from shapely.geometry import LineString, Polygon, box
from sqlalchemy import text

from gridsvc.ops.cases.core import sync_departments

NOW = datetime.fromisoformat("2026-12-05T12:00+08:00")
POINTS = {"G1": (118.7800, 32.0400), "G2": (118.7830, 32.0400), "G3": (118.7800, 32.0450), "G4": (118.7900, 32.0500)}
GRID = {"G1": ("320102001001001", "A1"), "G2": ("320102001001002", "A1"), "G3": ("320102001002001", "A2"),
        "G4": ("320102002001001", "B1")}
OUTSIDE = (118.7950, 32.0360)  # in the district, in no grid cell, far from both streets


def t(day: str) -> datetime:
    """'11-05 09' -> 2026-11-05 09:00 Beijing; '10-28 09' October; '09-20 09' September; '12-01 00:30'."""
    md, _, hm = day.partition(" ")
    hm = hm if ":" in hm else f"{hm}:00"
    return datetime.fromisoformat(f"2026-{md}T{hm}+08:00")


def cell(name: str) -> str:
    lng, lat = POINTS[name]
    return h3.latlng_to_cell(lat, lng, 10)


def centre(name: str) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(cell(name))
    return lng, lat


def _poly(cell_id: str) -> str:
    return Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell_id)]).wkt


def _multi(geom) -> str:
    return f"MULTIPOLYGON((({', '.join(f'{x} {y}' for x, y in geom.exterior.coords)})))"


def _admin(c, level, code, name, parent, geom) -> int:
    return c.execute(text("INSERT INTO admin_units (id, level, code, name, parent_id, provisional, geom) VALUES "
                          "((SELECT coalesce(max(id), 0) + 1 FROM admin_units), :l, :c, :n, :p, false, "
                          "ST_GeomFromText(:g, 4326)) RETURNING id"),
                     {"l": level, "c": code, "n": name, "p": parent, "g": _multi(geom)}).scalar_one()


def _street(c, sid, name, line: LineString) -> None:
    c.execute(text("INSERT INTO streets (id, name, name_zh, width_m, width_source, centerline, geom) VALUES "
                   "(:i, :n, :n, 10, 'test', ST_Multi(ST_GeomFromText(:l, 4326)), "
                   "ST_Multi(ST_Buffer(ST_GeomFromText(:l, 4326), 0.00005)))"), {"i": sid, "n": name, "l": line.wkt})


def _case(c, n, grid, dept, reported, state, *, handle=None, due_at=None, closed=None, events=(), escalations=(),
          duplicate_of=None, ever_overdue=False, marked=None, point=None) -> int:
    x, y = point or centre(grid)
    code = GRID[grid][0] if grid else None
    case_id = c.execute(text(
        "INSERT INTO cases (code, state, category, kind, urgency, description, source, reported_by, reported_at, geom, "
        "grid_code, department, rule, routing, deadlines, stage, due_at, closed_at, ever_overdue, overdue_marked_at, "
        "duplicate_of) VALUES (:code, :st, 'SJ0102', 'event', 'normal', '门前堆物', 'grid_officer', 'tester', :r, "
        "ST_SetSRID(ST_MakePoint(:x, :y), 4326), :g, :d, 'r', '{}', :dl, "
        "CASE WHEN CAST(:due AS timestamptz) IS NULL THEN NULL ELSE 'handle' END, :due, :cl, :eo, :mk, :dup) "
        "RETURNING id"),
        {"code": f"T{n:03d}", "st": state, "r": t(reported), "x": x, "y": y, "g": code, "d": dept,
         "dl": json.dumps({"handle": t(handle).isoformat()} if handle else {}),
         "due": t(due_at) if due_at else None, "cl": t(closed) if closed else None, "eo": ever_overdue,
         "mk": t(marked) if marked else None, "dup": duplicate_of}).scalar_one()
    steps = [("report", reported, "accepted", {}), *events]
    for seq, (action, at, to, data) in enumerate(steps, 1):
        c.execute(text("INSERT INTO case_events (case_id, seq, action, to_state, actor, at, data) VALUES "
                       "(:c, :s, :a, :to, 'tester', :at, :d)"),
                  {"c": case_id, "s": seq, "a": action, "to": to, "at": t(at), "d": json.dumps(data)})
    for due, issued in escalations:
        c.execute(text("INSERT INTO escalations (case_id, stage, stage_started_at, level, level_code, issued_at, "
                       "due_at, notify, to_whom, reason) VALUES (:c, 'handle', :d, 1, 'grid', :i, :d, "
                       "'grid_officer', '网格员', '超期')"), {"c": case_id, "d": t(due), "i": t(issued)})
    return case_id


def closed_flow(reg, rect, ver, close, *, late=False):
    return [("register", reg, "registered", {}), ("dispatch", reg, "dispatched", {}),
            ("rectify", rect, "rectified", {"on_time": not late}), ("verify_pass", ver, "verified", {}),
            ("close", close, "closed", {})]


def make_month(engine) -> dict:
    """Insert the month; returns the ids of units and cases."""
    with engine.begin() as c:
        sync_departments(c)
        district = box(118.775, 32.034, 118.800, 32.056)
        dist = _admin(c, "district", "320102", "测试区", None, district)
        sub_a = _admin(c, "subdistrict", "320102001", "新街口街道", dist, box(118.775, 32.034, 118.7865, 32.056))
        sub_b = _admin(c, "subdistrict", "320102002", "华侨路街道", dist, box(118.7865, 32.034, 118.800, 32.056))
        com = {"A1": _admin(c, "community", "320102001001", "丰富路社区", sub_a, box(118.775, 32.034, 118.7865, 32.0425)),
               "A2": _admin(c, "community", "320102001002", "石鼓路社区", sub_a, box(118.775, 32.0425, 118.7865, 32.056)),
               "B1": _admin(c, "community", "320102002001", "华侨路社区", sub_b, box(118.7865, 32.034, 118.800, 32.056))}
        for g, (code, cm) in GRID.items():
            c.execute(text("INSERT INTO grid_cells (h3, res, code, community_id, geom) VALUES (:h, 10, :c, :m, "
                           "ST_GeomFromText(:g, 4326))"),
                      {"h": h3.str_to_int(cell(g)), "c": code, "m": com[cm], "g": _poly(cell(g))})
        (x1, y1), (x2, y2), (x3, y3) = centre("G1"), centre("G2"), centre("G3")
        _street(c, 1, "中山路", LineString([(x1 - 0.001, y1), (x1, y1), (x2, y2), (x2 + 0.001, y2)]))
        _street(c, 2, "汉中路", LineString([(x3, y3 - 0.001), (x3, y3 + 0.001)]))
        units = {}
        for name, g, street in (("老王面馆", "G1", 1), ("小李水果", "G1", 1), ("华侨超市", "G3", 2),
                                ("便民药店", "G4", None), ("金陵茶社", "G2", 1)):
            x, y = centre(g)
            u = c.execute(text("INSERT INTO units (name, geom, source_file, source_id) VALUES (:n, "
                               "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'test-bulletin', :n) RETURNING id"),
                          {"n": name, "x": x, "y": y}).scalar_one()
            units[name] = u
            c.execute(text("INSERT INTO feature_cells (layer, feature_id, h3) VALUES ('units', :u, :h)"),
                      {"u": u, "h": h3.str_to_int(cell(g))})
            if street:
                c.execute(text("INSERT INTO zones (zone_key, kind, origin, policy, unit_id, street_id, geom) VALUES "
                               "(:k, 'frontage', 'auto', '三包', :u, :s, ST_Multi(ST_Buffer(ST_SetSRID("
                               "ST_MakePoint(:x, :y), 4326), 0.0001)))"),
                          {"k": f"test:{u}", "u": u, "s": street, "x": x, "y": y})
        # inspections: 老王面馆 5 in November (counted 4) and one in October; 小李水果 2 and one on 1 December;
        # 华侨超市 3; 便民药店 none; 金陵茶社 1
        for name, days in (("老王面馆", ["10-20 10", "11-02 10", "11-09 10", "11-16 10", "11-23 10", "11-30 23:30"]),
                           ("小李水果", ["11-03 10", "11-17 10", "12-01 00:10"]),
                           ("华侨超市", ["11-01 00:10", "11-10 10", "11-20 10"]), ("金陵茶社", ["11-11 10"])):
            for d in days:
                c.execute(text(
                    "INSERT INTO inspections (checklist, target_kind, unit_id, inspector, inspector_kind, "
                    "inspected_at, score, max_score, items_total, items_failed, passed, source) VALUES ('市容', "
                    "'unit', :u, 'tester', 'grid_officer', :at, 100, 100, 10, 0, true, 'api')"),
                    {"u": units[name], "at": t(d)})
        # ratings of November: 老王面馆 red, 小李水果 yellow overridden to black, 华侨超市 red, 便民药店 black,
        # 金陵茶社 none for the month (a red week does not count)
        for name, kind, key, board, override in (("老王面馆", "month", "2026-11", "red", None),
                                                 ("小李水果", "month", "2026-11", "yellow", "black"),
                                                 ("华侨超市", "month", "2026-11", "red", None),
                                                 ("便民药店", "month", "2026-11", "black", None),
                                                 ("金陵茶社", "week", "2026-W47", "red", None)):
            c.execute(text("INSERT INTO unit_ratings (unit_id, period_kind, period, period_start, period_end, board, "
                           "metrics, computed_at, override_board, override_reason, override_by, override_at) VALUES "
                           "(:u, :k, :p, :s, :e, :b, '{}', :s, :o, CASE WHEN CAST(:o AS text) IS NULL THEN NULL "
                           "ELSE '复查' END, CASE WHEN CAST(:o AS text) IS NULL THEN NULL ELSE 'tester' END, "
                           "CASE WHEN CAST(:o AS text) IS NULL THEN NULL ELSE CAST(:s AS timestamptz) END)"),
                      {"u": units[name], "k": kind, "p": key, "s": t("11-30 12"), "e": t("12-01 00"), "b": board,
                       "o": override})
        # credit at the end of November: 120 (4 stars; +20 in December not counted), 85 (1), 100 (3), 75 (0),
        # 金陵茶社 no ledger (0)
        for name, amount, at in (("老王面馆", 100, "10-01 09"), ("老王面馆", 20, "11-10 09"),
                                 ("老王面馆", 20, "12-02 09"), ("小李水果", 100, "10-01 09"),
                                 ("小李水果", -15, "11-12 09"), ("华侨超市", 100, "10-01 09"),
                                 ("便民药店", 100, "10-01 09"), ("便民药店", -25, "11-20 09")):
            c.execute(text("INSERT INTO credit_entries (unit_id, amount, reason, note, actor, at) VALUES (:u, :a, 'manual', '测试', "
                           "'tester', :at)"), {"u": units[name], "a": amount, "at": t(at)})
        cases = {}
        cases[1] = _case(c, 1, "G1", "sanitation", "11-02 09", "closed", handle="11-05 09", closed="11-04 15",
                         events=closed_flow("11-02 10", "11-03 10", "11-04 10", "11-04 15"))
        cases[2] = _case(c, 2, "G1", "sanitation", "11-03 09", "closed", handle="11-10 09", closed="11-09 15",
                         events=[("register", "11-03 10", "registered", {}), ("dispatch", "11-03 10", "dispatched", {}),
                                 ("rectify", "11-06 10", "rectified", {"on_time": True}),
                                 ("verify_fail", "11-07 10", "rework", {}),
                                 ("rectify", "11-08 10", "rectified", {"on_time": True}),
                                 ("verify_pass", "11-09 10", "verified", {}), ("close", "11-09 15", "closed", {})])
        cases[3] = _case(c, 3, "G1", "sanitation", "11-05 09", "closed", handle="11-08 09", closed="11-13 15",
                         ever_overdue=True, escalations=[("11-08 09", "11-09 09")],
                         events=closed_flow("11-05 10", "11-12 10", "11-13 10", "11-13 15", late=True))
        cases[4] = _case(c, 4, "G1", "sanitation", "11-20 09", "dispatched", handle="12-03 09", due_at="12-03 09",
                         events=[("register", "11-20 10", "registered", {}), ("dispatch", "11-20 11", "dispatched", {})])
        cases[5] = _case(c, 5, "G1", "sanitation", "11-02 09", "dispatched", handle="11-05 09", due_at="11-05 09",
                         duplicate_of=cases[1],  # a duplicate that was not voided: still counts nowhere
                         events=[("register", "11-02 10", "registered", {}), ("dispatch", "11-02 11", "dispatched", {})])
        cases[6] = _case(c, 6, "G2", "municipal", "10-28 09", "dispatched", handle="11-03 09", due_at="11-03 09",
                         ever_overdue=True, escalations=[("11-03 09", "11-04 09")],
                         events=[("register", "10-28 10", "registered", {}), ("dispatch", "10-28 11", "dispatched", {})])
        cases[7] = _case(c, 7, "G2", "municipal", "11-10 09", "deferred", handle="11-15 09",
                         events=[("register", "11-10 10", "registered", {}), ("dispatch", "11-10 11", "dispatched", {}),
                                 ("defer", "11-12 10", "deferred", {})])
        cases[8] = _case(c, 8, "G2", "municipal", "09-20 09", "closed", handle="09-25 09", closed="10-10 15",
                         ever_overdue=True, events=closed_flow("09-20 10", "10-09 10", "10-10 10", "10-10 15",
                                                               late=True))
        cases[9] = _case(c, 9, "G2", "municipal", "11-25 09", "accepted", handle="12-02 09", due_at="11-25 17")
        cases[10] = _case(c, 10, "G3", "sanitation", "11-01 00:30", "closed", handle="11-04 09", closed="11-03 15",
                          events=closed_flow("11-01 08", "11-02 10", "11-02 16", "11-03 15"))
        cases[11] = _case(c, 11, "G3", "sanitation", "11-28 09", "closed", handle="11-30 09", closed="12-01 00:30",
                          events=closed_flow("11-28 10", "11-29 10", "11-30 20", "12-01 00:30"))
        cases[12] = _case(c, 12, "G3", "sanitation", "10-31 23:30", "rework", handle="11-20 09", due_at="11-20 09",
                          events=[("register", "11-01 08", "registered", {}), ("dispatch", "11-01 09", "dispatched", {}),
                                  ("rectify", "11-05 10", "rectified", {"on_time": True}),
                                  ("verify_fail", "11-06 10", "rework", {})])
        cases[13] = _case(c, 13, "G4", "municipal", "11-04 09", "closed", handle="11-08 09", closed="11-07 15",
                          events=closed_flow("11-04 10", "11-06 10", "11-06 16", "11-07 15"))
        cases[14] = _case(c, 14, "G4", "municipal", "11-06 09", "closed", handle="11-09 09", closed="11-12 15",
                          ever_overdue=True, marked="11-10 09",
                          events=closed_flow("11-06 10", "11-11 10", "11-12 10", "11-12 15", late=True))
        cases[15] = _case(c, 15, "G4", "municipal", "11-15 09", "void", closed="11-15 12",
                          events=[("invalidate", "11-15 12", "void", {})])
        cases[16] = _case(c, 16, "G4", "municipal", "11-16 09", "dispatched", handle="11-18 09", due_at="11-18 09",
                          ever_overdue=True, escalations=[("11-18 09", "11-19 09")],
                          events=[("register", "11-16 10", "registered", {}), ("dispatch", "11-16 11", "dispatched", {})])
        cases[17] = _case(c, 17, None, "sanitation", "11-08 09", "closed", handle="11-11 09", closed="11-10 15",
                          point=OUTSIDE, events=closed_flow("11-08 10", "11-09 10", "11-09 16", "11-10 15"))
    return {"units": units, "cases": cases}
