"""The case update whose columns depend on the transition (gridsvc/ops/cases/core.py decides which)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import TextClause, text

from .records import _columns


@cache
def _update(columns: tuple[str, ...]) -> TextClause:
    return text(f"UPDATE cases SET {_columns(columns)}, version = version + 1, updated_at = :now WHERE id = :id")


def case_update(columns) -> TextClause:
    """UPDATE of one case (:id) setting `columns` (names fixed by the flow code, never from a request) and bumping
    its version; :now is the update time."""
    return _update(tuple(columns))
