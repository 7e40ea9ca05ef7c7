"""The weekly assessment and monthly bulletin (issue H item 5) on a hand-made month (tests/bulletin_month.py):
every figure below was worked out by hand from the cases, inspections, ratings and credit the month holds, and
must come out exactly in the JSON figures, the XLSX, the PDF, the HTML and the API."""

from __future__ import annotations

import pytest
from bulletin_month import NOW, make_month

from gridsvc.ops.bulletins import figures as b

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


# ---- the same figures in every output ----

def shown_row(name: str, rank) -> list[str]:
    """The printed cells (PDF, HTML: the compact table) of a row, from the hand-made figures above."""
    def s(v):
        return "—" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)
    cells = ["—" if rank is None else str(rank), name, *[str(v) for v in COUNTS[name]], *[s(v) for v in RATES[name]]]
    insp = INSPECTIONS.get(name)
    cells += ["—", "—"] if insp is None else [f"{insp[0]}/{insp[1]}", s(insp[2])]
    if name in BOARDS:
        cells.append("/".join(map(str, BOARDS[name])))
    if name in STARS:
        cells.append("/".join(map(str, STARS[name])))
    return cells


RANKED = [(name, rank) for rows in RANKS.values() for name, rank, _ in rows if name in COUNTS]


def test_xlsx_has_every_figure_charts_and_formats(month, tmp_path):
    import zipfile

    import openpyxl

    from gridsvc.exporters.bulletin_files import render

    engine, _, _ = month
    with engine.connect() as c:
        data = render(c, "monthly", "2026-11", "xlsx", now=NOW)
    path = tmp_path / "b.xlsx"
    path.write_bytes(data)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "定义", "街道", "社区", "网格", "部门", "道路", "趋势"]
    sheet_of = {"subdistrict": "街道", "community": "社区", "grid": "网格", "department": "部门", "street": "道路"}
    for level, rows in RANKS.items():
        ws = wb[sheet_of[level]]
        head = [c.value for c in ws[1]]
        got = {r[1]: dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
        for name, rank, last in rows:
            r = got[name]
            assert (r["排名"], r["末位"] == "末位") == (rank, last), name
            if name not in COUNTS:
                continue
            assert tuple(r[k] for k in ("发现数", "立案数", "结案数", "按期结案数", "超期数", "返工数", "核查数", "督办数",
                                        "挂账数", "应结案数", "已整改数")) == COUNTS[name], name
            assert (r["结案率(%)"], r["按期结案率(%)"], r["整改率(%)"], r["返工率(%)"]) == RATES[name], name
            if name in INSPECTIONS:
                assert (r["巡查完成数"], r["巡查计划数"], r["巡查完成率(%)"]) == INSPECTIONS[name], name
            if name in BOARDS:
                assert (r["红榜"], r["黄榜"], r["黑榜"], r["未评"]) == BOARDS[name], name
            if name in STARS:
                assert tuple(r[f"{k}星"] for k in "543210") == STARS[name], name
        assert ws.conditional_formatting, level  # missed targets and 末位 are formatted
    trend = [r for r in wb["趋势"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in trend] == TREND["periods"] and [r[1] for r in trend] == TREND["total"]
    defs = [r[0] for r in wb["定义"].iter_rows(min_row=2, values_only=True)]
    assert {"应结案数", "结案率", "按期结案率", "返工率", "巡查完成率", "排名", "末位"} <= set(defs)
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert any("<c:barChart>" in x for x in charts) and any("<c:lineChart>" in x for x in charts)


def test_pdf_prints_every_figure_and_the_definitions(month):
    import io

    from pypdf import PdfReader

    from gridsvc.exporters.bulletin_files import render

    engine, _, _ = month
    with engine.connect() as c:
        pdf = render(c, "monthly", "2026-11", "pdf", now=NOW)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    tokens = " " + " ".join(text.split()) + " "  # a table's cells come out one per line, in order
    for name, rank in RANKED:
        want = " ".join(shown_row(name, rank))
        assert f" {want} " in tokens, f"{name}: {want}"
    assert "本期发现案件 12 件，立案 12 件，结案 7 件（按期 5 件），应结案 11 件" in text.replace("\n", "")
    flat = text.replace("\n", "").replace(" ", "")
    for phrase in ("结案率=结案数÷应结案数×100%", "应结案数：本期内结案的案件", "末位：街道后1名", "案件热力图（H3）",
                   "结案率走势"):
        assert phrase in flat, phrase


def html_rows(html: str) -> dict[str, list[list[str]]]:
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.level, self.row, self.cell = {}, None, None, None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.level = dict(attrs)["data-level"]
                self.tables[self.level] = []
            elif tag == "tr" and self.level:
                self.row = []
            elif tag == "td" and self.row is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.row.append(self.cell)
                self.cell = None
            elif tag == "tr" and self.row:
                self.tables[self.level].append(self.row)
                self.row = None
            elif tag == "table":
                self.level = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    p = P()
    p.feed(html)
    return p.tables


def test_html_prints_every_figure_self_contained(month):
    from gridsvc.exporters.bulletin_files import render

    engine, _, _ = month
    with engine.connect() as c:
        html = render(c, "monthly", "2026-11", "html", now=NOW).decode()
    tables = html_rows(html)
    for level, rows in RANKS.items():
        got = {r[1]: r for r in tables[level]}
        assert [r[1] for r in tables[level]] == [n for n, _, _ in rows]
        for name, rank, last in rows:
            if name in COUNTS:
                want = shown_row(name, rank)
                assert got[name][:len(want)] == want, name
            assert (got[name][-2] == "末位") == last
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count("<svg") == 2 and "结案率 = 结案数 ÷ 应结案数" in html


def test_api_answers_the_same_figures_to_staff_only(month, monkeypatch):
    from fastapi.testclient import TestClient
    from support import bearer

    from gridsvc.api.app import create_app

    class Frozen(b.datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW.astimezone(tz)

    monkeypatch.setattr(b, "datetime", Frozen)
    engine, _, fig = month
    client = TestClient(create_app(engine))
    staff = bearer(engine, "bulletin-dispatcher", "dispatcher")
    r = client.get("/bulletins/monthly/2026-11.json", headers=staff)
    assert r.status_code == 200, r.text
    got = r.json()
    assert {k: v for k, v in got.items() if k != "computed_at"} == {k: v for k, v in fig.items() if k != "computed_at"}
    for fmt, mime in (("xlsx", "spreadsheetml"), ("pdf", "application/pdf"), ("html", "text/html")):
        r = client.get(f"/bulletins/monthly/2026-11.{fmt}", headers=staff)
        assert r.status_code == 200 and mime in r.headers["content-type"], fmt
    assert client.get("/bulletins/monthly/2026-11.json").status_code == 401
    party = bearer(engine, "bulletin-public", "public")
    assert client.get("/bulletins/monthly/2026-11.json", headers=party).status_code == 403
    assert client.get("/bulletins/weekly/2026-11.json", headers=staff).status_code == 422  # a month is not a week
    assert client.get("/bulletins/monthly/2026-11.docx", headers=staff).status_code == 422
    assert client.get("/bulletins/yearly/2026.json", headers=staff).status_code == 422
    week = client.get("/bulletins/weekly/2026-W46.json", headers=staff).json()  # 9–15 November
    # 9–15 November: found T007 only (T016 is reported on Monday the 16th, T015 is void); closed T002, T003, T014, T017
    assert (week["total"]["counts"]["found"], week["total"]["counts"]["closed"]) == (1, 4)
    assert week["trend"]["periods"][-1] == "2026-W46" and len(week["trend"]["periods"]) == 8


def test_cli_writes_each_format_and_the_merchant_notice(month, cli_env, tmp_path):
    import json

    from PIL import Image
    from typer.testing import CliRunner

    from gridsvc.cli import app

    runner = CliRunner()
    for fmt in ("xlsx", "pdf", "html", "json"):
        out = tmp_path / f"b.{fmt}"
        r = runner.invoke(app, ["report", "monthly", "--period", "2026-11", "--out", str(out), "--now",
                                "2026-12-05T12:00+08:00"])
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 1000
    fig = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert fig["total"]["counts"]["due"] == 11
    r = runner.invoke(app, ["report", "weekly", "--period", "2026-11", "--out", str(tmp_path / "w.pdf")])
    assert r.exit_code == 2 and "ISO week" in r.output
    r = runner.invoke(app, ["report", "monthly", "--period", "2026-11", "--out", str(tmp_path / "w.docx")])
    assert r.exit_code == 2 and ".xlsx, .pdf, .html or .json" in r.output
    png = tmp_path / "zhongshan.png"
    r = runner.invoke(app, ["report", "merchants", "--street", "中山路", "--period", "2026-11", "--out", str(png)])
    assert r.exit_code == 0, r.output
    text = png.with_suffix(".txt").read_text(encoding="utf-8")
    # 中山路: 老王面馆 red, 小李水果 black (its yellow overridden), 金陵茶社 not rated for the month
    assert "红榜（示范单位，1 户）：老王面馆" in text and "黑榜（不达标，重点监管，1 户）：小李水果" in text
    assert "黄榜（警示，限期整改，0 户）：无" in text and "金陵茶社" not in text
    with Image.open(png) as img:
        assert img.width == 1080 and img.format == "PNG"
    r = runner.invoke(app, ["report", "merchants", "--street", "无此路", "--period", "2026-11"])
    assert r.exit_code == 2 and "无此路" in r.output
