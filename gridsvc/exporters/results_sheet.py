"""The walk-through pack's results sheet (巡查结果表, results.xlsx): one row per unit of the grid, keyed by unit id,
one column per checklist item taking 合格 / 不合格 / 不适用 (a drop-down), then 备注, 巡查人, 巡查时间.

A very hidden sheet `pack` holds the pack id, the checklist id, the grid and the date, so that
`gridsvc inspections import` (gridsvc/ops/inspections/sheets.py) knows what a filled-in sheet answers. The layout
(headers, values, sheet names) is defined here once and read back by the import.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from ..ops.rules.checklists import Checklist

SHEET = "巡查结果"
META_SHEET = "pack"
HEAD = ("单位编号", "名称", "地址")  # unit id, name, address
TAIL = ("备注", "巡查人", "巡查时间")  # note, inspector, time
VALUES = {"合格": "pass", "不合格": "fail", "不适用": "na"}
META_KEYS = ("pack_id", "checklist", "grid", "date")


def item_header(item) -> str:
    """An item's column header: its id, then its text (the import reads the id before the first space)."""
    return f"{item.id} {item.text_zh}"


def headers(checklist: Checklist) -> list[str]:
    """Every column header of the sheet, in order."""
    return [*HEAD, *(item_header(i) for i in checklist.items), *TAIL]


def write_results_sheet(units: pd.DataFrame, checklist: Checklist, out: Path, *, pack_id: str, grid: str,
                        date: dt.date) -> Path:
    """Write the sheet for `units` (columns unit_id, name, address; in walking order) to out (.xlsx)."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    cols = headers(checklist)
    sheet.append(cols)
    for row in units.itertuples(index=False):
        sheet.append([int(row.unit_id), _text(row.name), _text(row.address)])
        for cell in sheet[sheet.max_row][1:3]:
            if cell.data_type == "f":  # a name like "=HYPERLINK(…)" stays the text it is, never a formula
                cell.data_type = "s"
    n = len(units)
    first, last = len(HEAD) + 1, len(HEAD) + len(checklist.items)
    if n:
        rule = DataValidation(type="list", formula1='"' + ",".join(VALUES) + '"', allow_blank=True,
                              showErrorMessage=True, errorTitle="巡查结果", error="请选择 合格、不合格 或 不适用")
        rule.add(f"{_col(first)}2:{_col(last)}{n + 1}")
        sheet.add_data_validation(rule)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, _ in enumerate(cols, 1):
        cell = sheet.cell(row=1, column=i)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[_col(i)].width = 10 if first <= i <= last else 16
    sheet.column_dimensions[_col(len(cols))].width = 18
    sheet.freeze_panes = "B2"
    meta = book.create_sheet(META_SHEET)
    for key, value in zip(META_KEYS, (pack_id, checklist.id, grid, date.isoformat()), strict=True):
        meta.append([key, value])
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    out = Path(out)
    book.save(out)
    return out


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)
