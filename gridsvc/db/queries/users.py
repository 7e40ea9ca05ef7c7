"""Who a request's credentials name: an active user with their grid codes."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, RowMapping

from ..sql import sql

# How principal_row finds the user: by name (login), by API token digest (:h), by id (a JWT's subject).
_WHO = {
    "name": "u.name = :n",
    "token": "u.id = (SELECT user_id FROM api_tokens WHERE token_hash = :h AND revoked_at IS NULL)",
    "id": "u.id = :id",
}


def principal_row(conn: Connection, by: Literal["name", "token", "id"], params: dict) -> RowMapping | None:
    """id, name, role, party_id and grids of the active user found `by` name (:n), token digest (:h) or id (:id)."""
    return conn.execute(sql("principal", who=_WHO[by]), params).mappings().first()
