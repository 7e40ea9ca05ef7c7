"""The audit log: who changed which record when, before and after (rows written by database triggers)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import InputError
from ..timekeeping import instant


def use_actor(conn: Connection, actor: str, role: str | None, source: str) -> None:
    """Name the writer of this transaction for the audit triggers."""
    conn.execute(sql("audit_use_actor"), {"a": actor, "r": role or "", "s": source})


def start_bulk(conn: Connection) -> None:
    """From here to the end of the transaction, row triggers stay quiet: the job writes one summary (bulk())."""
    conn.execute(sql("audit_start_bulk"))


def bulk(conn: Connection, action: str, table: str, record_id: str | int | None, summary: dict) -> None:
    """The summary row of a bulk job (ingest, zone build) of this transaction."""
    start_bulk(conn)
    conn.execute(sql("audit_bulk_insert"),
                 {"a": action, "t": table, "r": None if record_id is None else str(record_id),
                  "s": json.dumps(summary, ensure_ascii=False, default=str)})


def event(conn: Connection, *, actor: str, source: str, action: str, table: str, record_id: str | None,
          after: dict) -> None:
    """An audit row for something no table trigger sees (a refused or throttled login)."""
    conn.execute(sql("audit_event_insert"),
                 {"actor": actor, "source": source, "a": action, "t": table, "r": record_id,
                  "after": json.dumps(after, ensure_ascii=False, default=str)})


def query(conn: Connection, *, table: str | None = None, record: str | None = None, actor: str | None = None,
          since: str | date | datetime | None = None, until: str | date | datetime | None = None,
          limit: int = 100) -> list[dict]:
    """Audit rows, newest first, filtered by record (table and id), actor and time.

    since and until are dates or times as users give them (gridsvc/timekeeping.py): since a date is from the
    start of that day in GRIDSVC_TZ, until a date includes that day; until a time is before that time.
    """
    if record is not None and table is None:
        raise InputError("a record id needs its table (e.g. table=zones)", where="record")
    if not 1 <= limit <= 10_000:
        raise InputError("limit must be 1 to 10,000", where="limit")
    since = None if since is None else instant(since, edge="start", where="since")
    until = None if until is None else instant(until, edge="after", where="until")
    rows = conn.execute(sql("audit_rows"),
                        {"t": table, "r": record, "a": actor, "s": since, "u": until, "n": limit}).mappings().all()
    return [dict(r) for r in rows]
