"""Paper coming back: the pack's results sheet (results.xlsx) exported, filled in with openpyxl as a person would,
imported with `gridsvc inspections import` (records, routing, idempotent), and a sheet with bad rows refused as a
whole, each bad cell named by row number and column header."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.exporters.pack import build_pack
from gridsvc.exporters.results_sheet import HEAD, META_SHEET, SHEET, TAIL
from gridsvc.ops.rules.checklists import policy_checklist
from gridsvc.timekeeping import today

runner = CliRunner()
ITEMS = [f"{i.id} {i.text_zh}" for i in policy_checklist("三包").items]  # sanitation, order, greenery


@pytest.fixture(scope="module")
def sheet(nanjing_zones, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "grid"
    with nanjing_zones.engine.connect() as conn:
        report = build_pack(conn, nanjing_zones.grid, out)
    return report, out / "results.xlsx"


def _inspections(engine) -> list[dict]:
    with engine.connect() as c:
        return [dict(r) for r in c.execute(text(
            "SELECT id, unit_id, grid_code, inspector, inspector_name, inspector_kind, source, external_key, "
            "items_failed, passed, note, inspected_at FROM inspections ORDER BY id")).mappings()]


def _fill(path, rows: dict[int, list]) -> None:
    """Write values from the first item column on (items, note, inspector, time) into sheet rows."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    for row, values in rows.items():
        for i, value in enumerate(values):
            sheet.cell(row=row, column=len(HEAD) + 1 + i, value=value)
    book.save(path)


def test_the_sheet_is_keyed_by_unit_with_choices_and_the_pack_hidden(sheet, nanjing_zones):
    report, path = sheet
    book = openpyxl.load_workbook(path)
    main = book[SHEET]
    assert [c.value for c in main[1]] == [*HEAD, *ITEMS, *TAIL]
    ids = [main.cell(row=r, column=1).value for r in range(2, main.max_row + 1)]
    assert sorted(ids) == sorted(u["id"] for u in nanjing_zones.units)
    (rule,) = main.data_validations.dataValidation
    assert rule.formula1 == '"合格,不合格,不适用"' and str(rule.sqref) == f"D2:F{main.max_row}"
    meta = book[META_SHEET]
    assert meta.sheet_state == "veryHidden" and meta.protection.sheet
    assert {r[0]: r[1] for r in meta.iter_rows(values_only=True)} == {
        "pack_id": report.pack_id, "checklist": "policy:三包", "grid": nanjing_zones.grid,
        "date": today().isoformat()}
    assert report.pack_id.startswith(nanjing_zones.grid + "-")


def test_paper_round_trip(sheet, nanjing_zones, tmp_path, cli_env):
    engine = nanjing_zones.engine
    with engine.begin() as c:
        c.execute(text("TRUNCATE inspections CASCADE"))
    report, blank_sheet = sheet
    filled = tmp_path / "filled.xlsx"
    shutil.copy(blank_sheet, filled)
    _fill(filled, {2: ["合格", "合格", "合格", None, "李四", "2026-11-20 09:30"],
                   3: ["合格", "不合格", "不适用", "门前乱停车", "李四", "2026-11-20 09:40"]})
    r = runner.invoke(app, ["inspections", "import", str(filled), "--kind", "volunteer"])
    assert r.exit_code == 0, r.output
    assert "2 inspection(s) recorded, 0 row(s) imported before, 3 blank row(s) skipped" in " ".join(r.output.split())
    book = openpyxl.load_workbook(filled)
    units = [book[SHEET].cell(row=n, column=1).value for n in (2, 3)]
    got = _inspections(engine)
    assert [g["unit_id"] for g in got] == units
    assert {g["grid_code"] for g in got} == {nanjing_zones.grid}
    assert [(g["passed"], g["items_failed"], g["note"]) for g in got] == [(True, 0, None), (False, 1, "门前乱停车")]
    assert {(g["source"], g["inspector_kind"], g["inspector_name"]) for g in got} == {("paper", "volunteer", "李四")}
    assert got[0]["inspector"].startswith("cli:")
    assert got[1]["external_key"] == f"{report.pack_id}:{units[1]}:2026-11-20T09:40:00+08:00"
    assert got[1]["inspected_at"].astimezone(UTC) == datetime(2026, 11, 20, 1, 40, tzinfo=UTC)  # Beijing 09:40

    again = runner.invoke(app, ["inspections", "import", str(filled)])
    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())
    assert "0 inspection(s) recorded, 2 row(s) imported before" in said and "nothing new" in said
    assert len(_inspections(engine)) == 2


def test_bad_rows_are_named_and_nothing_is_recorded(sheet, nanjing_zones, tmp_path, cli_env):
    engine = nanjing_zones.engine
    before = len(_inspections(engine))
    bad = tmp_path / "bad.xlsx"
    shutil.copy(sheet[1], bad)
    _fill(bad, {2: ["合格", "合格", "合格", None, "王五", "2026-11-21 10:00"],  # a good row: not recorded either
                3: ["合格", "好", "合格", None, "王五", "2026-11-21 10:05"],
                4: ["合格", None, "不适用", "漏填", "王五", None]})
    r = runner.invoke(app, ["inspections", "import", str(bad)])
    assert r.exit_code == 2
    said = " ".join(r.output.split())
    assert "3 problem(s), nothing imported" in said
    assert f"row 3, column '{ITEMS[1]}': '好' is not 合格, 不合格 or 不适用" in said
    assert f"row 4, column '{ITEMS[1]}': not filled in" in said
    assert "row 4, column '巡查时间': the time of the visit is missing" in said
    assert len(_inspections(engine)) == before


def test_paper_failures_open_cases_when_asked(sheet, nanjing_zones, tmp_path, cli_env):
    """--open-cases: each failed item of a new row opens a case from its inspection, routed to the unit's party;
    rows imported before open nothing again."""
    engine = nanjing_zones.engine
    with engine.begin() as c:
        c.execute(text("TRUNCATE inspections, cases CASCADE"))
    filled = tmp_path / "cases.xlsx"
    shutil.copy(sheet[1], filled)
    _fill(filled, {2: ["不合格", "合格", "不合格", "门前堆物", "赵六", "2026-11-22 10:00"],
                   3: ["合格", "合格", "合格", None, "赵六", "2026-11-22 10:10"]})
    r = runner.invoke(app, ["inspections", "import", str(filled), "--open-cases"])
    assert r.exit_code == 0, r.output
    assert "2 inspection(s) recorded" in r.output and "2 case(s) opened from failed items" in " ".join(r.output.split())
    unit = openpyxl.load_workbook(filled)[SHEET].cell(row=2, column=1).value
    with engine.connect() as c:
        got = c.execute(text(
            "SELECT c.source, c.inspection_item, c.unit_id, i.unit_id AS inspected, c.party_id, i.party_id AS held, "
            "c.reported_at, "
            "i.inspected_at FROM cases c JOIN inspections i ON i.id = c.inspection_id ORDER BY c.inspection_item"
        )).mappings().all()
    items = [i.id for i in policy_checklist("三包").items]
    assert [g["inspection_item"] for g in got] == sorted([items[0], items[2]])
    assert all(g["source"] == "inspection" and g["inspected"] == g["unit_id"] == unit for g in got)
    assert all(g["reported_at"] == g["inspected_at"] for g in got)
    assert all(g["party_id"] == g["held"] for g in got), [dict(g) for g in got]  # routed to the party the inspection found

    again = runner.invoke(app, ["inspections", "import", str(filled), "--open-cases"])
    assert again.exit_code == 0 and "0 case(s) opened" in " ".join(again.output.split())
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM cases")).scalar_one() == 2
