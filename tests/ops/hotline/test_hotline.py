"""The 12345 hotline on the real Nanjing 新街口 extract: a hand-made export (GCJ-02 coordinates, addresses on the
city's own street and unit names, an unplaceable address, swapped coordinates, a repeated row) becomes exactly these
cases and held orders; importing again updates, never duplicates; a bad row leaves the database unchanged; the replies
come back in the hotline's shape; GBK CSV and header variants."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from case_city import gps_jpeg, store_upload
from sqlalchemy import text
from support import load_nanjing, table_counts, write_xlsx

from gridsvc.errors import InputError, MissingColumnsError
from gridsvc.geo.chinese_crs import wgs84_to_gcj02
from gridsvc.ops.cases.core import act
from gridsvc.ops.hotline import orders as core
from gridsvc.ops.hotline.rules import load_hotline
from gridsvc.people.users import Principal

HEAD = ["工单编号", "来电时间", "诉求内容", "诉求类型", "地址", "经度", "纬度", "来电人", "来电号码"]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DISPATCHER = Principal("hotline-dispatcher", "dispatcher")


@pytest.fixture(scope="module")
def city(engine):
    load_nanjing(engine, zones="三包")
    with engine.connect() as c:
        x, y = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE name = '中央商场'")).one()
    gx, gy = (float(v[0]) for v in wgs84_to_gcj02([x], [y]))
    return engine, (x, y), (gx, gy)


def rows(gcj) -> list[list]:
    gx, gy = gcj
    return [HEAD,
            ["GD001", "2026-03-01 09:30:00", "商场门口占道经营", "占道经营", "中山南路79号", gx, gy, "张三", "13812345678"],
            ["GD002", "2026/3/1 10:05", "银行门口垃圾没人收", "环境卫生", "管家桥８５号", "", "", "李四", "13912345678"],
            ["GD003", "2026-03-02 08:00", "夜里施工吵", "施工扰民", "南京市火星路1号", "", "", "", ""],
            ["GD004", "2026-03-02 08:10", "路口违停", "机动车乱停放", "汉中路与中山路交叉口", "", "", "", ""],
            ["GD005", "2026-03-02 09:00", "烧烤油烟很大", "", "香铺营集贸市场", gy, gx, "", ""],  # swapped
            ["GD006", "2026-03-03 14:00", "中山东路302号门前堆物", "乱堆物", "中山东路302号", "", "", "", ""],
            ["GD007", "2026-03-03 15:00", "路灯不亮", "路灯", "玄武区珠江路", "", "", "", ""],
            ["GD008", "2026-03-04 08:00", "金陵中学门口摆摊", "占道经营", "金陵中学东门", "", "", "", ""],
            ["GD009", "2026-03-04 09:00", "小广告", "乱张贴", "王府街12号", "", "", "", ""],
            ["GD001", "2026-03-01 09:30:00", "商场门口占道经营", "占道经营", "中山南路79号", gx, gy, "张三",
             "13812345678"]]  # a repeat of row 2


def _import(engine, path, **kw):
    with engine.begin() as c:
        return core.import_orders(c, path, actor="hotline-test", role="dispatcher", now=NOW, **kw)


def _cases(engine) -> dict[str, dict]:
    with engine.connect() as c:
        return {r["n"]: dict(r) for r in c.execute(text(
            "SELECT external_ids->>'12345' AS n, id, category, description, state, version, source, "
            "reporter_name, ST_X(geom) AS x, ST_Y(geom) AS y FROM cases WHERE external_ids ? '12345'")).mappings()}


def test_import_places_every_row_it_can_and_holds_the_rest(city, tmp_path):
    engine, (x, y), gcj = city
    report = _import(engine, write_xlsx(tmp_path / "12345.xlsx", rows(gcj)))
    assert report.rows == 9 and len(report.opened) == 8
    assert report.unplaced == [{"row": 4, "number": "GD003", "reason":
                                "no street, unit, compound or market of the city named in '南京市火星路1号'"}]
    assert dict(report.placements) == {"coordinates": 2, "unit_address": 1, "crossing": 1, "near_number": 1,
                                       "street": 1, "feature_name": 1, "street_variant": 1}
    assert any("swapped" in n and n.startswith("row 6:") for n in report.notes)
    assert any(n.startswith("row 11: repeats row 2") for n in report.notes)
    cases = _cases(engine)
    assert sorted(cases) == ["GD001", "GD002", "GD004", "GD005", "GD006", "GD007", "GD008", "GD009"]
    assert {n: c["category"] for n, c in cases.items()} == {
        "GD001": "SJ0502", "GD002": "SJ0102", "GD004": "SJ0506", "GD005": "SJ0505", "GD006": "SJ0504",
        "GD007": "BJ0201", "GD008": "SJ0502", "GD009": "SJ0201"}
    assert all(c["source"] == "hotline" and c["state"] == "accepted" for c in cases.values())
    # GCJ-02 coordinates came back to the unit's WGS84 point (millimetres)
    assert abs(cases["GD001"]["x"] - x) < 1e-7 and abs(cases["GD001"]["y"] - y) < 1e-7
    with engine.connect() as c:
        held = core.list_orders(c, unplaced=True)
        placed = {o["number"]: o["placement"] for o in core.list_orders(c)["orders"] if o["placement"]}
        log = c.execute(text("SELECT source_file, counts FROM imports WHERE id = :i"), {"i": report.import_id}).one()
    assert [o["number"] for o in held["orders"]] == ["GD003"] and held["orders"][0]["case_id"] is None
    assert placed["GD002"]["method"] == "unit_address" and placed["GD002"]["confidence"] == 0.95
    assert "管家桥85号 → unit" in placed["GD002"]["matched"]
    assert placed["GD006"]["matched"].endswith("at No. 300")
    assert log.source_file == "12345.xlsx" and log.counts["hotline"]["opened"] == 8


def test_reimport_updates_never_duplicates(city, tmp_path):
    engine, _xy, gcj = city
    first = rows(gcj)
    _import(engine, write_xlsx(tmp_path / "a.xlsx", first))
    before = _cases(engine)
    again = _import(engine, write_xlsx(tmp_path / "a.xlsx", first))
    assert again.opened == [] and again.updated == [] and again.unchanged == 9
    assert _cases(engine) == before
    # GD002 moves past 受理; GD004 stays in 受理; both change in the next export
    with engine.begin() as c:
        act(c, before["GD002"]["id"], "register", principal=DISPATCHER, expected_version="*", now=NOW)
    changed = [list(r) for r in first]
    changed[2][2] = "银行门口垃圾三天没人收"
    changed[4][2], changed[4][3] = "路口乱停非机动车", "非机动车乱停放"
    report = _import(engine, write_xlsx(tmp_path / "b.xlsx", changed))
    assert report.updated == ["GD004"] and report.recorded == ["GD002"] and report.opened == []
    after = _cases(engine)
    assert sorted(after) == sorted(before)  # no duplicate
    assert after["GD004"]["description"] == "路口乱停非机动车" and after["GD004"]["category"] == "SJ0507"
    assert after["GD004"]["version"] == before["GD004"]["version"] + 1
    assert after["GD002"]["description"] == before["GD002"]["description"]  # past 受理: left as the office has it
    with engine.connect() as c:
        ev = c.execute(text("SELECT from_state, to_state, note, data FROM case_events WHERE case_id = :i AND "
                            "action = 'hotline_update'"), {"i": before["GD002"]["id"]}).one()
    assert ev.from_state == ev.to_state == "registered" and ev.note == "银行门口垃圾三天没人收"
    assert ev.data["applied"] is False and ev.data["changes"]["content"]["to"] == "银行门口垃圾三天没人收"


def test_a_bad_row_imports_nothing(city, tmp_path):
    engine, _xy, gcj = city
    bad = rows(gcj) + [["GD010", "2026-13-45 25:00", "x", "占道经营", "珠江路", "", "", "", ""],
                       ["GD011", "2026-03-05 08:00", "", "占道经营", "珠江路", "abc", "32.0", "", ""],
                       ["GD001", "2026-03-01 09:30:00", "别的内容", "占道经营", "中山南路79号", "", "", "", ""]]
    before = table_counts(engine)
    with pytest.raises(InputError) as err:
        _import(engine, write_xlsx(tmp_path / "bad.xlsx", bad))
    message = str(err.value)
    assert message.startswith("bad.xlsx: 4 problem(s), nothing imported: ")
    assert "row 12, column '来电时间': '2026-13-45 25:00' is not a time" in message
    assert "row 13, column '诉求内容': is empty" in message
    assert "row 13, column '经度': 'abc' is not a number" in message
    assert "row 14, column '工单编号': 工单编号 GD001 is also row 2, with other values" in message
    assert table_counts(engine) == before


def test_replies_in_the_hotlines_shape(city, tmp_path):
    engine, _xy, gcj = city
    _import(engine, write_xlsx(tmp_path / "a.xlsx", rows(gcj)))
    cases = _cases(engine)
    photo = store_upload(engine, gps_jpeg())
    with engine.begin() as c:  # GD007 through the whole flow, closed with a note; GD009 voided
        i = cases["GD007"]["id"]
        for action, note in (("register", None), ("dispatch", None), ("rectify", "=已更换灯泡"),
                             ("verify_pass", "=核查已修复"), ("close", None)):
            who = Principal("hotline-admin", "admin")
            act(c, i, action, principal=who, expected_version="*", note=note, now=NOW,
                photos=[photo] if action == "rectify" else None)
        act(c, cases["GD009"]["id"], "invalidate", principal=DISPATCHER, expected_version="*", note="非城管事项",
            now=NOW)
    with engine.connect() as c:
        replies = core.replies(c)
    out = core.write_replies(replies, tmp_path / "replies.xlsx")
    sheet = openpyxl.load_workbook(out).active
    got = {r[0]: r[1:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in sheet[1]] == ["工单编号", "办结情况", "办结时间", "回复内容"]
    assert got["GD007"] == ("已办结", NOW.astimezone(core.zone()).strftime("%Y-%m-%d %H:%M:%S"), "'=核查已修复")
    assert got["GD009"][0] == "已退回" and got["GD009"][2] == "非城管事项"
    assert got["GD003"] == ("待核实地址", None, "诉求地址未能在本辖区定位，已转人工核实。")
    assert got["GD001"][0] == "办理中" and got["GD001"][2] == "您反映的占道经营问题已转综合执法办理，当前环节：受理。"


def test_staff_place_a_held_order(city, tmp_path):
    engine, (x, y), gcj = city
    _import(engine, write_xlsx(tmp_path / "a.xlsx", rows(gcj)))
    with engine.begin() as c:
        case_id = core.place_order(c, "GD003", lng=x, lat=y, actor="hotline-test", role="dispatcher", now=NOW)
    with engine.connect() as c:
        assert core.list_orders(c, unplaced=True)["total"] == 0
        order = core.list_orders(c, number="GD003")["orders"][0]
    assert order["case_id"] == case_id and order["placement"]["method"] == "staff"
    again = _import(engine, write_xlsx(tmp_path / "a.xlsx", rows(gcj)))
    assert again.opened == [] and again.unplaced == []  # placed by staff: not held again, not duplicated


def test_gbk_csv_with_header_variants_and_a_title_row(city, tmp_path):
    engine, _xy, _gcj = city
    lines = ["12345热线工单导出（2026年3月）,,,,",
             "工单号,受理时间,问题描述,事项分类,所属区域,事发地址",
             "ZX-1,2026-03-06 10:00,太平南路250号店外经营,店外经营,秦淮区,太平南路250号"]
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    report = _import(engine, path)
    assert len(report.opened) == 1 and dict(report.placements) == {"near_number": 1}
    assert any("header taken from row 2" in n for n in report.notes)


def test_missing_columns_named(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["编号", "地址"], ["1", "珠江路"]])
    with pytest.raises(MissingColumnsError, match=r"missing column\(s\): received_at \(来电时间 / 受理时间 / 登记时间\)"):
        core.read_orders(path, load_hotline())


def test_cli_import_export_and_imports_show(city, tmp_path, database_url, monkeypatch):
    from typer.testing import CliRunner

    from gridsvc import settings as settings_mod
    from gridsvc.cli import app
    from gridsvc.db import engine as engine_mod

    engine, _xy, gcj = city
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database_url)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    runner = CliRunner()
    r = runner.invoke(app, ["hotline", "import", str(write_xlsx(tmp_path / "cli.xlsx", rows(gcj)))])
    assert r.exit_code == 0, r.output
    assert "not placed: row 4 (工单编号 GD003)" in r.output or "0 not placed" in r.output
    out = tmp_path / "replies.xlsx"
    r = runner.invoke(app, ["hotline", "export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert [c.value for c in openpyxl.load_workbook(out).active[1]] == list(core.REPLY_HEADERS)
    bad = write_xlsx(tmp_path / "bad.xlsx", [HEAD, ["X", "not a time", "内容", "占道经营", "珠江路"]])
    r = runner.invoke(app, ["hotline", "import", str(bad)])
    assert r.exit_code == 2 and "row 2, column '来电时间'" in r.output
    engine_mod.get_engine.cache_clear()
