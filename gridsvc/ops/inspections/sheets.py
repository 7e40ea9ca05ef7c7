"""Paper coming back: a filled-in results sheet of a walk-through pack (gridsvc/exporters/results_sheet.py) turned
into inspection records (`gridsvc inspections import FILE`).

All or nothing: every row is read and checked first, and one InputError names every bad row by its row number and
column header; then every row is recorded in the caller's transaction. Idempotent: each row's external key is the
pack id, the unit id and the visit time, so a row already imported is recorded again never (the report says how
many were). Blank rows (no result, note, inspector or time) are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import InputError, NotFoundError, UnreadableFileError
from ...exporters.results_sheet import HEAD, META_KEYS, META_SHEET, SHEET, TAIL, VALUES, headers
from ...timekeeping import instant, zone
from ..rules.checklists import Checklist, get_checklist
from .core import known_inspector_kind, record_inspection

Progress = Callable[[str, int, int], None]
MAX_ROWS = 5_000
MAX_LISTED = 50  # bad cells named in one error
VALUE_WORDS = {**VALUES, "pass": "pass", "fail": "fail", "na": "na", "n/a": "na"}


@dataclass
class ImportReport:
    """What an import did."""

    pack_id: str
    checklist: str
    rows: int = 0  # filled-in rows
    blank: int = 0
    recorded: list[int] = field(default_factory=list)  # new inspection ids
    already: int = 0  # rows imported before (same pack, unit and time)
    cases: list[int] = field(default_factory=list)  # cases opened from failed items (open_cases=True)


@dataclass(frozen=True)
class _Row:
    number: int
    unit_id: int
    results: list[dict]
    note: str | None
    inspector_name: str | None
    at: dt.datetime
    key: str


def _read(path: Path):
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except Exception as e:  # openpyxl raises many kinds for a file that is no workbook
        raise UnreadableFileError(f"not a results sheet (.xlsx) ({e})", source=str(path)) from None
    if SHEET not in book.sheetnames or META_SHEET not in book.sheetnames:
        raise InputError(f"not a walk-through pack's results sheet: it needs the sheets {SHEET!r} and "
                         f"{META_SHEET!r} (gridsvc export pack writes results.xlsx)", source=str(path))
    meta = {str(r[0]): r[1] for r in book[META_SHEET].iter_rows(values_only=True) if r and r[0] is not None}
    missing = [k for k in META_KEYS if not meta.get(k)]
    if missing:
        raise InputError(f"the sheet {META_SHEET!r} lacks {', '.join(missing)}", source=str(path))
    return book[SHEET], meta


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_sheet(conn: Connection, path: Path) -> tuple[dict, Checklist, list[_Row], int]:
    """The sheet's pack data, checklist, checked rows and the count of blank rows; one InputError naming every bad
    cell (row number and column header)."""
    path = Path(path)
    sheet, meta = _read(path)
    try:
        checklist = get_checklist(str(meta["checklist"]))
    except NotFoundError as e:
        raise InputError(e.message, source=str(path), where=f"sheet {META_SHEET!r}") from None
    want = headers(checklist)
    rows = sheet.iter_rows(values_only=True)
    got = [_text(v) for v in next(rows, ())][:len(want)]
    if got != want:
        wrong = [f"column {i + 1}: {g!r} (expected {w!r})" for i, (g, w) in
                 enumerate(zip(got + [None] * (len(want) - len(got)), want, strict=True)) if g != w]
        raise InputError("the header row is not the pack's: " + "; ".join(wrong[:5]), source=str(path),
                         where=f"sheet {SHEET!r} row 1")
    items = checklist.items
    now = instant(None)
    bad: list[str] = []
    parsed: list[_Row] = []
    blank = 0
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise InputError(f"more than {MAX_ROWS} rows", source=str(path))
        cells = dict(zip(want, list(values) + [None] * (len(want) - len(values)), strict=False))
        filled = [h for h in want[len(HEAD):] if _text(cells[h]) is not None]
        if not filled:
            blank += 1
            continue

        def problem(column: str, what: str, number: int = number) -> None:
            bad.append(f"row {number}, column {column!r}: {what}")

        unit = cells[HEAD[0]]
        try:
            unit_id = int(str(unit).strip())
            if not 0 < unit_id < 2**31:
                raise ValueError
        except (TypeError, ValueError):
            problem(HEAD[0], f"a unit id, not {unit!r}")
            unit_id = 0
        results = []
        for item in items:
            header = want[len(HEAD) + len(results)]
            word = _text(cells[header])
            result = VALUE_WORDS.get(word.lower() if word else word)
            if result is None:
                problem(header, "not filled in: write 合格, 不合格 or 不适用" if word is None
                        else f"{word!r} is not 合格, 不合格 or 不适用")
            results.append({"item": item.id, "result": result})
        at = None
        when = cells[TAIL[2]]
        if when is None:
            problem(TAIL[2], "the time of the visit is missing (e.g. 2026-05-01 09:30)")
        else:
            try:
                at = (when.replace(tzinfo=zone()) if isinstance(when, dt.datetime) and when.tzinfo is None
                      else instant(when, edge="start", where=TAIL[2]))
                if at > now:
                    problem(TAIL[2], f"{at.isoformat()} is in the future")
            except InputError as e:
                problem(TAIL[2], e.what)
        if unit_id and at is not None:
            parsed.append(_Row(number, unit_id, results, _text(cells[TAIL[0]]), _text(cells[TAIL[1]]), at,
                               f"{meta['pack_id']}:{unit_id}:{at.isoformat()}"))
    if parsed:
        known = set(conn.execute(sql("units_existing"), {"ids": [r.unit_id for r in parsed]}).scalars())
        for r in parsed:
            if r.unit_id not in known:
                bad.append(f"row {r.number}, column {HEAD[0]!r}: no unit {r.unit_id}")
        seen: dict[str, int] = {}
        for r in parsed:
            if r.key in seen:
                bad.append(f"row {r.number}: the same unit and time as row {seen[r.key]}")
            seen.setdefault(r.key, r.number)
    if bad:
        more = f" (and {len(bad) - MAX_LISTED} more)" if len(bad) > MAX_LISTED else ""
        raise InputError(f"{len(bad)} problem(s), nothing imported: " + "; ".join(bad[:MAX_LISTED]) + more,
                         source=str(path))
    return meta, checklist, parsed, blank


def import_sheet(conn: Connection, path: Path, *, inspector: str, inspector_kind: str = "grid_officer",
                 role: str | None = None, progress: Progress | None = None, open_cases: bool = False) -> ImportReport:
    """Record every filled-in row of a results sheet not imported before, in the caller's transaction; with
    `open_cases`, every failed item of a new row opens a case (source inspection) in the same transaction."""
    tick = progress or (lambda *_: None)
    known_inspector_kind(inspector_kind)
    meta, checklist, rows, blank = read_sheet(conn, path)
    report = ImportReport(str(meta["pack_id"]), checklist.id, rows=len(rows), blank=blank)
    done = set(conn.execute(sql("inspection_external_keys"), {"k": [r.key for r in rows]}).scalars())
    report.already = sum(r.key in done for r in rows)
    todo = [r for r in rows if r.key not in done]
    for i, r in enumerate(todo):
        tick("recording", i, len(todo))
        try:
            made = record_inspection(conn, target_kind="unit", target_id=r.unit_id, checklist=checklist.id,
                                     results=[dict(x, open_case=open_cases and x["result"] == "fail") for x in r.results],
                                     inspector=inspector, inspector_kind=inspector_kind,
                                     inspector_name=r.inspector_name, inspected_at=r.at, note=r.note,
                                     source="paper", external_key=r.key, role=role)
        except InputError as e:
            raise InputError(f"row {r.number}: {e.message}; nothing imported", source=str(path)) from None
        report.recorded.append(made["id"])
        report.cases.extend(made["cases"])
    tick("recording", len(todo), len(todo))
    return report
