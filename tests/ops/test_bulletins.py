"""The weekly assessment and monthly bulletin (issue H item 5) on a hand-made month (tests/bulletin_month.py):
every figure below was worked out by hand from the cases, inspections, ratings and credit the month holds, and
must come out exactly in the JSON figures, the XLSX, the PDF, the HTML and the API."""

from __future__ import annotations

import pytest
from bulletin_month import NOW, make_month

from gridsvc.ops import bulletins as b

# (found, registered, closed, closed_on_time, overdue, rework, verified, escalated, deferred, due, rectified)
COUNT_NAMES = ("found", "registered", "closed", "closed_on_time", "overdue", "rework", "verified", "escalated",
               "deferred", "due", "rectified")
# Per case of November (duplicate T005 and void T015 count nowhere; T008 closed in October is outside):
#   T001 G1 环卫 1,1,1,1,0,0,1,0,0,1,1   T002 G1 环卫 1,1,1,1,0,1,2,0,0,1,1   T003 G1 环卫 1,1,1,0,1,0,1,1,0,1,1
#   T004 G1 环卫 1,1,0,0,0,0,0,0,0,0,0   T006 G2 市政 0,0,0,0,1,0,0,1,0,1,0   T007 G2 市政 1,1,0,0,0,0,0,0,1,0,0
#   T009 G2 市政 1,0,0,0,1,0,0,0,0,0,0   T010 G3 环卫 1,1,1,1,0,0,1,0,0,1,1   T011 G3 环卫 1,1,0,0,0,0,1,0,0,1,1
#   T012 G3 环卫 0,1,0,0,1,1,1,0,0,1,0   T013 G4 市政 1,1,1,1,0,0,1,0,0,1,1   T014 G4 市政 1,1,1,0,1,0,1,0,0,1,1
#   T016 G4 市政 1,1,0,0,1,0,0,1,0,1,0   T017 —  环卫 1,1,1,1,0,0,1,0,0,1,1
COUNTS = {
    "total": (12, 12, 7, 5, 6, 2, 10, 3, 1, 11, 8),
    "新街口街道": (8, 8, 4, 3, 4, 2, 7, 2, 1, 7, 5), "华侨路街道": (3, 3, 2, 1, 2, 0, 2, 1, 0, 3, 2),
    "丰富路社区": (6, 5, 3, 2, 3, 1, 4, 2, 1, 4, 3), "石鼓路社区": (2, 3, 1, 1, 1, 1, 3, 0, 0, 3, 2),
    "华侨路社区": (3, 3, 2, 1, 2, 0, 2, 1, 0, 3, 2),
    "320102001001001": (4, 4, 3, 2, 1, 1, 4, 1, 0, 3, 3), "320102001001002": (2, 1, 0, 0, 2, 0, 0, 1, 1, 1, 0),
    "320102001002001": (2, 3, 1, 1, 1, 1, 3, 0, 0, 3, 2), "320102002001001": (3, 3, 2, 1, 2, 0, 2, 1, 0, 3, 2),
    "环卫": (7, 8, 5, 4, 2, 2, 8, 1, 0, 7, 6), "市政": (5, 4, 2, 1, 4, 0, 2, 2, 1, 4, 2),
    "中山路": (6, 5, 3, 2, 3, 1, 4, 2, 1, 4, 3), "汉中路": (2, 3, 1, 1, 1, 1, 3, 0, 0, 3, 2),
    "（无道路）": (4, 4, 3, 2, 2, 0, 3, 1, 0, 4, 3),
}
# 结案率 = closed/due, 按期结案率 = on time/due, 整改率 = rectified/due, 返工率 = rework/verified (1 decimal)
RATES = {
    "total": (63.6, 45.5, 72.7, 20.0),  # 7/11, 5/11, 8/11, 2/10
    "新街口街道": (57.1, 42.9, 71.4, 28.6), "华侨路街道": (66.7, 33.3, 66.7, 0.0),
    "丰富路社区": (75.0, 50.0, 75.0, 25.0), "石鼓路社区": (33.3, 33.3, 66.7, 33.3), "华侨路社区": (66.7, 33.3, 66.7, 0.0),
    "320102001001001": (100.0, 66.7, 100.0, 25.0), "320102001001002": (0.0, 0.0, 0.0, None),
    "320102001002001": (33.3, 33.3, 66.7, 33.3), "320102002001001": (66.7, 33.3, 66.7, 0.0),
    "环卫": (71.4, 57.1, 85.7, 25.0), "市政": (50.0, 25.0, 50.0, 0.0),
    "中山路": (75.0, 50.0, 75.0, 25.0), "汉中路": (33.3, 33.3, 66.7, 33.3), "（无道路）": (75.0, 50.0, 75.0, 0.0),
}
# inspections done (each unit at most 4 a month) / planned (4 per unit) and %; boards red, yellow, black, none;
# stars 5..0 (credit at the end of November: 120, 85, 100, 75, none)
INSPECTIONS = {
    "total": (10, 20, 50.0), "新街口街道": (10, 16, 62.5), "华侨路街道": (0, 4, 0.0), "丰富路社区": (7, 12, 58.3),
    "石鼓路社区": (3, 4, 75.0), "华侨路社区": (0, 4, 0.0), "320102001001001": (6, 8, 75.0),
    "320102001001002": (1, 4, 25.0), "320102001002001": (3, 4, 75.0), "320102002001001": (0, 4, 0.0),
    "中山路": (7, 12, 58.3), "汉中路": (3, 4, 75.0), "（无道路）": (0, 4, 0.0),
}
BOARDS = {"total": (2, 0, 2, 1), "新街口街道": (2, 0, 1, 1), "华侨路街道": (0, 0, 1, 0), "丰富路社区": (1, 0, 1, 1),
          "320102001001001": (1, 0, 1, 0), "320102001001002": (0, 0, 0, 1), "中山路": (1, 0, 1, 1)}
STARS = {"total": (0, 1, 1, 0, 1, 2), "新街口街道": (0, 1, 1, 0, 1, 1), "华侨路街道": (0, 0, 0, 0, 0, 1)}
# rank and 末位 per level (ranked by 结案率 desc, then 按期结案率 desc, then 返工率 asc)
RANKS = {
    "subdistrict": [("华侨路街道", 1, False), ("新街口街道", 2, True), ("（未落网格）", None, False)],
    "community": [("丰富路社区", 1, False), ("华侨路社区", 2, False), ("石鼓路社区", 3, True),
                  ("（未落网格）", None, False)],
    "grid": [("320102001001001", 1, False), ("320102002001001", 2, False), ("320102001002001", 3, True),
             ("320102001001002", 4, True), ("（未落网格）", None, False)],
    "department": [("环卫", 1, False), ("市政", 2, True)],
    "street": [("中山路", 1, False), ("汉中路", 2, True), ("（无道路）", None, False)],
}
TREND = {"periods": ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"],
         "total": [None, None, None, 0.0, 100.0, 63.6],
         "新街口街道": [None, None, None, 0.0, 100.0, 57.1], "华侨路街道": [None, None, None, None, None, 66.7]}


@pytest.fixture(scope="module")
def month(engine):
    from sqlalchemy import text
    from support import APP_TABLES

    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ids = make_month(engine)
    with engine.connect() as c:
        fig = b.figures(c, "monthly", "2026-11", now=NOW)
    return engine, ids, fig


def rows_by_name(fig) -> dict:
    out = {"total": fig["total"]}
    for level in fig["levels"]:
        for r in level["rows"]:
            out.setdefault(r["name"], r)
    return out


def test_every_count_and_rate_as_worked_out_by_hand(month):
    _, _, fig = month
    rows = rows_by_name(fig)
    for name, want in COUNTS.items():
        assert tuple(rows[name]["counts"][c] for c in COUNT_NAMES) == want, name
    for name, want in RATES.items():
        r = rows[name]["rates"]
        assert (r["close_rate"], r["on_time_rate"], r["rectify_rate"], r["rework_rate"]) == want, name
    for name, want in INSPECTIONS.items():
        i = rows[name]["inspections"]
        assert (i["done"], i["planned"], i["rate"]) == want, name
    assert rows["环卫"]["inspections"] is None and rows["环卫"]["boards"] is None
    for name, want in BOARDS.items():
        assert tuple(rows[name]["boards"][k] for k in ("red", "yellow", "black", "none")) == want, name
    for name, want in STARS.items():
        assert tuple(rows[name]["stars"][k] for k in ("5", "4", "3", "2", "1", "0")) == want, name


def test_ranks_last_places_and_targets(month):
    _, _, fig = month
    levels = {lv["level"]: lv for lv in fig["levels"]}
    for level, want in RANKS.items():
        got = [(r["name"], r["rank"], r["last_place"]) for r in levels[level]["rows"]]
        assert got == want, level
    rows = rows_by_name(fig)
    g1 = rows["320102001001001"]["targets"]
    assert g1 == {"close_rate": True, "on_time_rate": False, "rectify_rate": True, "rework_rate": False,
                  "inspection_rate": False}
    assert rows["华侨路街道"]["targets_missed"] == ["close_rate", "on_time_rate", "rectify_rate", "inspection_rate"]
    assert rows["320102001001002"]["targets"]["rework_rate"] is None  # no verification: neither met nor missed


def test_trend_and_heat_map(month):
    _, _, fig = month
    tr = fig["trend"]
    assert tr["periods"] == TREND["periods"] and tr["total"]["close_rate"] == TREND["total"]
    subs = {s["name"]: s["values"] for s in tr["subdistricts"]}
    assert subs == {k: v for k, v in TREND.items() if k.endswith("街道")}
    hm = fig["heat_map"]
    assert hm["res"] == 10 and hm["cases"] == 12
    assert [c["count"] for c in hm["cells"]] == [4, 3, 2, 2, 1]


def test_definitions_are_the_data_files(month):
    _, _, fig = month
    d = fig["definitions"]
    assert [c["code"] for c in d["counts"]] == list(COUNT_NAMES)
    ind = {i["code"]: i for i in d["indicators"]}
    assert ind["close_rate"]["formula"].startswith("结案率 = 结案数 ÷ 应结案数") and ind["close_rate"]["target"] == "≥ 90%"
    assert "duplicate_of" in d["exclusions"]
