"""Read shop ledgers (商户台账) from CSV/XLSX into a WGS84 point GeoDataFrame.

Formulas (spreadsheet injection, see gridsvc/spreadsheet.py). Nothing in a ledger is ever evaluated:

- XLSX formula cells are told from values (openpyxl, data_only=False). A formula in a text column (name,
  address, contact, phone, category, id) is refused with an InputError naming the sheet, the cell ("B7") and the
  column, asking for the column to be pasted as values: what we would store (the formula's text, or a cached
  result that the file may have been forged or left stale to carry) is not what the user saw. A formula in a
  coordinate column is read as its cached value, the number Excel/WPS last showed (e.g. 度分秒 converted to
  degrees), then checked like any coordinate; one without a cached value (a workbook written by a script and
  never saved by Excel/WPS) is refused the same way. Formulas in columns that are not read are ignored.
- Text that merely looks like a formula (CSV fields, XLSX text cells: `=HYPERLINK(...)`, `@SUM(A1)`, `-2+3`)
  is kept verbatim and noted: refusing it would need guesses that break real values ("+86 138 0000 0000",
  "-" for none, negative coordinates), rewriting it would print a stray quote on boards and pages, and the
  same text can arrive from OSM or API edits anyway. It is defused where it leaves gridsvc in a
  spreadsheet-openable file (gridsvc.files.spreadsheet.write_csv). Leading tabs/CRs are stripped with other spaces.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from gridsvc.errors import InputError, MissingColumnsError, UnreadableFileError
from gridsvc.files.spreadsheet import formula_like
from gridsvc.geo.checks import check_in_china, check_raw_coordinates, format_where
from gridsvc.geo.crs import CrsSpec, parse_crs, to_wgs84

CANONICAL = ("name", "address", "contact", "phone", "lng", "lat", "category", "source_id")
REQUIRED = ("name", "lng", "lat")
TEXT_COLUMNS = ("name", "address", "contact", "phone", "category", "source_id")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "店名", "商户名称", "单位名称", "门店名称", "店铺名称", "商户", "name"),
    "address": ("地址", "详细地址", "经营地址", "address", "addr"),
    "contact": ("负责人", "联系人", "法人", "法定代表人", "contact"),
    "phone": ("电话", "联系电话", "手机", "手机号", "手机号码", "phone", "tel", "telephone", "mobile"),
    "lng": ("经度", "lng", "lon", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "category": ("类别", "类型", "行业", "业态", "category", "type"),
    "source_id": ("编号", "序号", "id", "code", "统一社会信用代码", "sourceid"),
}
_HEADER_TO_CANONICAL = {syn: canon for canon, syns in SYNONYMS.items() for syn in syns}
ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK/GB2312 (Chinese Excel CSV exports)
_XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    SyntaxError,
)
HEADER_SEARCH_ROWS = 10  # title rows above the header that are skipped
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other MS Office binary files)
MAX_FORMULA_CHARS = 60  # of a formula quoted in a message
PASTE_VALUES = "copy the column and paste it as values (选择性粘贴 → 数值), then import again"


class _Formulas(NamedTuple):
    """The formula cells of the sheet read: its title and (spreadsheet row, 0-based column) -> formula text."""

    sheet: str = ""
    cells: dict[tuple[int, int], str] = {}


def normalize_header(header: str) -> str:
    """Header key for synonym matching: NFKC, lower case, no spaces, units in brackets and '*' removed."""
    text = unicodedata.normalize("NFKC", str(header)).lower()
    text = re.sub(r"[(\[【{].*?[)\]】}]", "", text)
    return re.sub(r"[\s*:_\-]", "", text)


def read_ledger(
    path: str | Path,
    *,
    crs: str | int | CrsSpec | None = "wgs84",
    columns: dict[str, str] | None = None,
    sheet: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a CSV/XLSX shop ledger; returns (EPSG:4326 points with CANONICAL columns, notes)."""
    path = Path(path)
    source = path.name
    spec = parse_crs(crs)
    table, rows, notes, formulas = _read_table(path, sheet, set((columns or {}).values()))
    mapping = _map_columns(list(table.columns), columns, source, notes)
    if formulas.cells:
        table = _resolve_formulas(path, table, rows, mapping, formulas, notes)
    labels = [f"row {n}" for n in rows]
    text = table.apply(lambda col: col.str.strip())
    lng = _coordinates(text[mapping["lng"]], mapping["lng"], source, labels)
    lat = _coordinates(text[mapping["lat"]], mapping["lat"], source, labels)
    check_raw_coordinates(lng, lat, spec, source, labels)
    out = pd.DataFrame(index=pd.RangeIndex(len(table)))
    for canon in TEXT_COLUMNS:
        col = pd.Series(
            text[mapping[canon]].to_numpy(dtype=object) if canon in mapping else "", index=out.index
        )
        out[canon] = col.astype(object).where(col != "", None)
    _require_names(out["name"], mapping["name"], source, labels)
    out["source_id"] = out["source_id"].fillna(pd.Series([f"row-{n}" for n in rows], dtype=object))
    _note_phones(out["phone"], labels, notes)
    _note_formula_text(out, mapping, labels, notes)
    _note_duplicates(out["source_id"], labels, notes)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lng, lat), crs=None)
    gdf = to_wgs84(gdf, spec)
    check_in_china(gdf, spec, source, labels)
    gdf["lng"] = gdf.geometry.x
    gdf["lat"] = gdf.geometry.y
    gdf = gdf[[*CANONICAL, "geometry"]]
    notes.insert(0, f"{source}: {len(gdf)} shops read, coordinates in {spec.label}")
    return gdf, notes


def _read_table(
    path: Path, sheet: str | None, wanted: set[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str], _Formulas]:
    """All-string table of a CSV/XLSX file, the spreadsheet row number of each row, notes, formula cells."""
    source = path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise UnreadableFileError(f"cannot open file ({exc.strerror or exc})", source=source) from None
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        raise UnreadableFileError(
            "legacy Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV", source=source
        )
    if head.startswith(_ZIP_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, wanted)
    if suffix in (".csv", ".txt", ".tsv"):
        return (*_read_csv(path, wanted), _Formulas())
    raise UnreadableFileError(
        f"unsupported file type {suffix or '(none)'!r}; expected .csv or .xlsx", source=source
    )


def _header_index(values: list[list[str]], wanted: set[str]) -> int:
    """Index of the header row: the first top row naming two known columns or all `wanted` (skips titles)."""
    for i, row in enumerate(values[:HEADER_SEARCH_ROWS]):
        cells = {c.strip() for c in row}
        if (wanted and wanted <= cells) or len(
            {_HEADER_TO_CANONICAL.get(normalize_header(c)) for c in cells} - {None}
        ) >= 2:
            return i
    return 0


def _finish(
    values: list[list[str]], source: str, wanted: set[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Table below the header row without blank rows, and each row's spreadsheet row number (1-based)."""
    notes: list[str] = []
    width = max((len(r) for r in values), default=0)
    cells = np.array([r + [""] * (width - len(r)) for r in values], dtype=object).reshape(len(values), width)
    cells = pd.DataFrame(cells).astype(str)
    blank = cells.apply(lambda col: col.str.strip() == "").all(axis=1).to_numpy(dtype=bool)
    if blank.all():
        raise InputError("file is empty", source=source)
    top = _header_index(cells[~blank].to_numpy().tolist(), wanted)
    header_at = int(np.flatnonzero(~blank)[top])
    if header_at > 0:
        notes.append(f"{source}: header taken from row {header_at + 1} (rows above it skipped)")
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(cells.iloc[header_at])]
    header = [h if header.index(h) == i else f"{h} ({i + 1})" for i, h in enumerate(header)]  # unique names
    keep = ~blank & (np.arange(len(cells)) > header_at)
    if not keep.any():
        raise InputError("file has a header row but no data rows", source=source)
    table = cells[keep].set_axis(header, axis=1).reset_index(drop=True)
    return table, np.flatnonzero(keep) + 1, notes


def _read_csv(path: Path, wanted: set[str]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Decode (utf-8, then GB18030/GBK) and parse a CSV file as strings."""
    source = path.name
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFileError("cannot decode the text as UTF-8 or GBK/GB18030", source=source)
    if not text.strip():
        raise InputError("file is empty", source=source)
    top = text.splitlines()[:HEADER_SEARCH_ROWS]
    sep = max((",", "\t", ";", "，"), key=lambda c: max(line.count(c) for line in top))
    try:
        values = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        raise UnreadableFileError(f"cannot parse CSV ({exc})", source=source) from None
    table, rows, notes = _finish(values, source, wanted)
    if encoding != "utf-8-sig":
        notes.append(f"{source}: decoded as {encoding.upper()} (GBK-compatible)")
    return table, rows, notes


def _cell_text(value: object) -> str:
    """Spreadsheet cell as text: integers without '.0', no scientific notation for phone numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(
    path: Path, sheet: str | None, wanted: set[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str], _Formulas]:
    """Read one sheet of an XLSX workbook as strings, noting which cells are formulas (their text is kept)."""
    source = path.name
    formulas: dict[tuple[int, int], str] = {}
    with path.open("rb") as handle:  # a file object, so any extension works
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        except _XLSX_ERRORS as exc:
            raise UnreadableFileError(
                f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})", source=source
            ) from None
        try:
            if sheet is not None and sheet not in book.sheetnames:
                raise UnreadableFileError(
                    f"sheet {sheet!r} not found; sheets are {', '.join(book.sheetnames)}", source=source
                )
            ws = book[sheet] if sheet is not None else book.worksheets[0]
            values = []
            for r, row in enumerate(ws.iter_rows(), start=1):  # read-only sheets start at A1
                texts = [_cell_text(c.value) for c in row]
                for j, c in enumerate(row):
                    if c.data_type == "f":
                        formulas[(r, j)] = texts[j] = _formula_text(c.value)
                values.append(texts)
        except _XLSX_ERRORS as exc:
            raise UnreadableFileError(
                f"corrupted .xlsx workbook ({type(exc).__name__}: {exc})", source=source
            ) from None
        finally:
            book.close()
    table, rows, notes = _finish(values, source, wanted)
    notes.append(f"{source}: read sheet {ws.title!r}")
    return table, rows, notes, _Formulas(ws.title, formulas)


def _formula_text(value: object) -> str:
    """A formula cell's text ('=…'), also of array formulas."""
    text = getattr(value, "text", value)
    return str(text) if str(text).startswith("=") else f"={text}"


def _cached_values(path: Path, sheet: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], object]:
    """The values Excel/WPS saved for these formula cells (None where the workbook holds none)."""
    last = max(r for r, _ in cells)
    found: dict[tuple[int, int], object] = {}
    with path.open("rb") as handle:
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                for r, row in enumerate(book[sheet].iter_rows(max_row=last, values_only=True), start=1):
                    found.update({(r, j): row[j] for j in range(len(row)) if (r, j) in cells})
            finally:
                book.close()
        except _XLSX_ERRORS as exc:
            raise UnreadableFileError(
                f"corrupted .xlsx workbook ({type(exc).__name__}: {exc})", source=path.name
            ) from None
    return found


def _resolve_formulas(
    path: Path, table: pd.DataFrame, rows: np.ndarray, mapping: dict[str, str], formulas: _Formulas,
    notes: list[str],
) -> pd.DataFrame:
    """Refuse formulas in text columns; read coordinate formulas as their cached values (module docstring)."""
    source = path.name
    position = {int(n): k for k, n in enumerate(rows)}  # spreadsheet row -> table row (header, titles: absent)
    column = {header: j for j, header in enumerate(table.columns)}
    read = {column[h]: (canon, h) for canon, h in mapping.items()}
    hits = sorted(cell for cell in formulas.cells if cell[0] in position and cell[1] in read)  # (row, col)
    text_cells = [(r, j) for r, j in hits if read[j][0] in TEXT_COLUMNS]
    if text_cells:
        raise _formula_error(text_cells, formulas, read, source, "; formulas are not read in text columns")
    if not hits:
        return table
    cached = _cached_values(path, formulas.sheet, set(hits))
    missing = [cell for cell in hits if cached.get(cell) is None]
    if missing:
        raise _formula_error(missing, formulas, read, source,
                             " without a saved value (the workbook was not last saved by Excel/WPS)")
    table = table.copy()
    for r, j in hits:
        table.iat[position[r], j] = _cell_text(cached[(r, j)])
    notes.append(f"{source}: {len(hits)} coordinate cell(s) are formulas (e.g. {_cell_name(*hits[0])}); "
                 "read the values Excel/WPS saved with them")
    return table


def _cell_name(row: int, col: int) -> str:
    """'B7' for spreadsheet row 7, 0-based column 1."""
    return f"{get_column_letter(col + 1)}{row}"


def _formula_error(
    cells: list[tuple[int, int]], formulas: _Formulas, read: dict[int, tuple[str, str]], source: str, why: str
) -> InputError:
    """InputError naming the sheet, the first formula cell, its column and formula (and how many more)."""
    r, j = cells[0]
    formula = formulas.cells[(r, j)]
    if len(formula) > MAX_FORMULA_CHARS:
        formula = formula[:MAX_FORMULA_CHARS] + "…"
    names = [_cell_name(*c) for c in cells]
    more = ""
    if len(cells) > 1:
        more = f" ({len(cells)} such cells: {', '.join(names[:5])}{', …' if len(cells) > 5 else ''})"
    return InputError(f"column {read[j][1]!r} holds a formula ({formula}){why}; {PASTE_VALUES}{more}",
                      source=source, where=f"sheet {formulas.sheet!r}, cell {names[0]}")


def _map_columns(
    headers: list[str], override: dict[str, str] | None, source: str, notes: list[str]
) -> dict[str, str]:
    """Canonical column -> header in the file, by synonyms and the caller's override."""
    mapping: dict[str, str] = {}
    for header in headers:
        canon = _HEADER_TO_CANONICAL.get(normalize_header(header))
        if canon is None:
            continue
        if canon in mapping:
            notes.append(
                f"{source}: columns {mapping[canon]!r} and {header!r} both look like {canon}; using the first"
            )
            continue
        mapping[canon] = header
    for canon, header in (override or {}).items():
        if canon not in CANONICAL:
            raise InputError(
                f"unknown column {canon!r} in columns=; expected one of {', '.join(CANONICAL)}", source=source
            )
        if header not in headers:
            raise MissingColumnsError(
                f"column {header!r} (given for {canon}) not found; headers found: {', '.join(headers)}",
                source=source,
            )
        mapping[canon] = header
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise MissingColumnsError(
            f"missing required column(s) {', '.join(missing)} (e.g. 名称, 经度, 纬度); "
            f"headers found: {', '.join(headers)}",
            source=source,
        )
    return mapping


def _coordinates(col: pd.Series, header: str, source: str, labels: list[str]) -> np.ndarray:
    """Numeric coordinates of one column; InputError naming the rows and header otherwise."""
    cleaned = col.map(lambda s: unicodedata.normalize("NFKC", s)).str.replace(r"[°\s]", "", regex=True)
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "is empty" if not col.iloc[i] else f"has {col.iloc[i]!r}, which is not a number"
        raise InputError(
            f"column {header!r} {what}" + (f" ({int(bad.sum())} rows affected)" if bad.sum() > 1 else ""),
            source=source,
            where=format_where(labels, bad),
        )
    return values


def _require_names(names: pd.Series, header: str, source: str, labels: list[str]) -> None:
    """Every shop needs a name."""
    empty = names.isna().to_numpy()
    if empty.any():
        raise InputError(
            f"column {header!r} is empty (every shop needs a name)",
            source=source,
            where=format_where(labels, empty),
        )


def _note_phones(phones: pd.Series, labels: list[str], notes: list[str]) -> None:
    """Note phone numbers that Excel mangled into scientific notation (1.38E+10)."""
    mangled = phones.fillna("").str.contains(r"^\d(?:\.\d+)?[eE]\+\d+$", regex=True).to_numpy(dtype=bool)
    if mangled.any():
        notes.append(
            f"{format_where(labels, mangled)}: phone number in scientific notation (e.g. {phones[mangled].iloc[0]}), "
            "digits were lost when the file was saved from Excel"
        )


def _note_formula_text(out: pd.DataFrame, mapping: dict[str, str], labels: list[str], notes: list[str]) -> None:
    """Note text that a spreadsheet would take for a formula (kept as it is; defused in CSV exports)."""
    for canon in TEXT_COLUMNS:
        risky = formula_like(out[canon])
        if risky.any():
            notes.append(
                f"{format_where(labels, risky)}: column {mapping[canon]!r} starts like a spreadsheet formula "
                f"(e.g. {out[canon][risky].iloc[0][:MAX_FORMULA_CHARS]!r}); kept as text, quoted in CSV exports"
            )


def _note_duplicates(ids: pd.Series, labels: list[str], notes: list[str]) -> None:
    """Note duplicated source ids."""
    dup = ids.duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        notes.append(f"{format_where(labels, dup)}: duplicate id(s) {', '.join(sorted(set(ids[dup])))[:200]}")
