"""Spreadsheet (CSV/formula) injection: text a spreadsheet would run as a formula, and how it is defused.

A shop ledger may carry text such as `=HYPERLINK("http://evil","点我")`, `=cmd|' /C calc'!A0` or `@SUM(A1)`.
gridsvc stores such text verbatim (it is harmless in the database, JSON, HTML and PDF, and the same text can
also come from OSM tags or API edits, so the reader is not the place to guard it) and defuses it where it
leaves in a spreadsheet-openable file: every text cell that starts with = + - @ TAB or CR (or the full-width
＝ ＋ － ＠, as a precaution) gets a leading single quote (OWASP "CSV Injection"), so Excel/WPS show it as text.

Plain numbers and phone numbers ("-12.5", "+86 138 0000 0000": a sign, then only digits, spaces and dots) and a
lone "-" or "+" (the usual "none" in a ledger) are left alone: without letters, references or parentheses they
cannot call a function, reach a cell or run DDE, and quoting them would spoil the numbers. Non-text cells
(numbers, dates, None) are never changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FORMULA_START = r"[=+\-@\t\r＝＋－＠]"
NUMBERISH = r"[+-]?\d[\d .]*|[+-]"  # a number, a phone number, a lone sign: nothing a spreadsheet could run
QUOTE = "'"


def formula_like(values: pd.Series) -> np.ndarray:
    """Which values are text that a spreadsheet would take for a formula (see the module docstring)."""
    text = values.astype(object)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text = text.where(text.map(lambda v: isinstance(v, str)), None)  # mixed column: only its text counts
    starts = text.str.match(FORMULA_START, na=False).astype(bool)
    numberish = text.str.fullmatch(NUMBERISH, na=False).astype(bool)
    return (starts & ~numberish).to_numpy(dtype=bool)


def neutralise(values: pd.Series) -> pd.Series:
    """The values with formula-like text prefixed by a single quote; other values unchanged."""
    risky = formula_like(values)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky] = QUOTE + out[risky].astype(str)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with every text column neutralised (numeric columns untouched)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = neutralise(out[col])
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV with a BOM (Excel opens it directly), formula-like text defused."""
    path = Path(path)
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path
