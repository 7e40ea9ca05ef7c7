"""Versioned edits of parties and units: each update names the version it was based on (If-Match or version).

A trigger bumps `version` on every real change (migration 0006), so the check-and-write is one statement:
`UPDATE … WHERE id = :id AND version = :expected`. No row updated means the record is gone (404) or someone
changed it meanwhile (412 with the current version); an update without a version is refused (428).
Permission comes first: a grid officer's scope (check_unit_scope) is checked before the fields, the version and
the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..db.queries.records import record_by_id, record_update, unit_party_update
from ..db.sql import sql
from ..errors import ForbiddenError, InputError, NotFoundError
from ..versions import ANY_VERSION, Expected, require_version

# What an API client may change, per table (everything else comes from imports or is derived). A unit's rating and
# credit points are earned from records (gridsvc/ops/ratings/records.py): a hand change is an override with a reason
# (POST /ratings/{unit_id}/override) or a manual credit entry (POST /units/{id}/credit), never a PATCH.
EDITABLE = {
    "parties": ("name", "contact", "phone"),
    "units": ("name", "category", "address", "contact", "phone"),
}
_NAMES = {"parties": "party", "units": "unit"}


def get_record(conn: Connection, table: str, record_id: int) -> dict:
    """One party or unit with its version."""
    row = conn.execute(record_by_id(table), {"id": record_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no {_NAMES[table]} {record_id}", id=record_id)
    return dict(row)


def _version_of(conn: Connection, table: str, record_id: int) -> int:
    return get_record(conn, table, record_id)["version"]


def update_record(conn: Connection, table: str, record_id: int, changes: Mapping[str, Any],
                  expected: Expected) -> dict:
    """Apply changes to one party or unit if it is still at the expected version; returns the new record."""
    what = _NAMES[table]
    if table == "units":
        check_unit_scope(conn, record_id)
    unknown = sorted(set(changes) - set(EDITABLE[table]))
    if unknown:
        raise InputError(f"{', '.join(unknown)} cannot be changed here; editable: {', '.join(EDITABLE[table])}",
                         where="body")
    if not changes:
        raise InputError(f"nothing to change; send one or more of {', '.join(EDITABLE[table])}", where="body")
    if expected is None:
        require_version(record_id, _version_of(conn, table, record_id), None, what=what,
                        field="a version field")
    if table == "parties":
        _check_party_editable(conn, record_id)
    row = conn.execute(record_update(table, tuple(changes)),
                       {**changes, "id": record_id, "any": expected == ANY_VERSION,
                        "expected": expected if isinstance(expected, int) else -1}).mappings().first()
    if row is None:  # gone (404) or changed meanwhile (412)
        require_version(record_id, _version_of(conn, table, record_id), expected, what=what,
                        field="a version field")
    if table == "units":
        _sync_unit_party(conn, record_id, changes)
    return dict(row)


def _check_party_editable(conn: Connection, party_id: int) -> None:
    row = conn.execute(sql("party_kind_ref"), {"id": party_id}).first()
    if row is not None and row.kind == "unit":
        ref = row.ref
        raise InputError(f"party {party_id} is a frontage unit ({ref}): edit the unit (PATCH /units/"
                         f"{ref.removeprefix('unit:')}), its party follows", where="party")


def check_unit_scope(conn: Connection, unit_id: int, *, principal=None) -> None:
    """Permission before content: a grid officer may only change units inside their grids (None: the writer's)."""
    principal = principal if principal is not None else conn.info.get("principal")
    if principal is None or principal.role != "grid_officer":
        return
    outside = conn.execute(sql("unit_outside_grids"), {"id": unit_id, "codes": list(principal.grids)}).scalar()
    if outside:
        raise ForbiddenError(f"unit {unit_id} lies outside your grids ({', '.join(principal.grids)}); ask a planner",
                             where="unit")


def _sync_unit_party(conn: Connection, unit_id: int, changes: Mapping[str, Any]) -> None:
    """A unit's party (kind unit) carries its name, contact and phone."""
    shared = {k: v for k, v in changes.items() if k in ("name", "contact", "phone")}
    if not shared:
        return
    if "name" in shared and not (shared["name"] or "").strip():  # named by its kind, as sync_parties does
        category = conn.execute(sql("unit_category"), {"i": unit_id}).scalar()
        shared["name"] = load_catalogue().unit_label(None, category)
    conn.execute(unit_party_update(tuple(shared)), {**shared, "ref": f"unit:{unit_id}"})
