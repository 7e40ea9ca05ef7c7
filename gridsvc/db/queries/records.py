"""Reading and versioned updating of one party or unit (gridsvc/people/records.py decides what may change)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import TextClause, text

# What a party or unit record answers with.
FIELDS = {
    "parties": "id, kind, ref, name, contact, phone, version",
    "units": "id, name, category, address, contact, phone, public_code, rating, "
             "(SELECT c.balance FROM unit_credit c WHERE c.unit_id = units.id) AS credit_points, rated_at, version, "
             "ST_X(geom) AS lng, ST_Y(geom) AS lat",
}


def _columns(columns: Iterable[str]) -> str:
    """`c = :c, …` for column names from a fixed list (EDITABLE), never from a request."""
    names = tuple(columns)
    if not all(c.isidentifier() and c.islower() for c in names):
        raise ValueError(f"not plain column names: {names!r}")
    return ", ".join(f"{c} = :{c}" for c in names)


@cache
def record_by_id(table: str) -> TextClause:
    """One party or unit (:id) with its version."""
    return text(f"SELECT {FIELDS[table]} FROM {table} WHERE id = :id")


def record_update(table: str, columns: tuple[str, ...]) -> TextClause:
    """Set `columns` of record :id if it is at version :expected (or :any); returns the record, or nothing when it
    is gone or at another version."""
    return text(f"UPDATE {table} SET {_columns(columns)} WHERE id = :id AND (CAST(:any AS boolean) OR version = :expected) "
                f"RETURNING {FIELDS[table]}")


def unit_party_update(columns: tuple[str, ...]) -> TextClause:
    """Set name/contact/phone of the party (kind unit) of unit :ref ('unit:<id>')."""
    return text(f"UPDATE parties SET {_columns(columns)} WHERE kind = 'unit' AND ref = :ref")
