"""`gridsvc audit`: the audit log, who changed which record when."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine


def audit_cmd(
    table: Annotated[str | None, typer.Option(help="zones, parties, units, users, …")] = None,
    record: Annotated[str | None, typer.Option(help="record id (with --table)")] = None,
    actor: Annotated[str | None, typer.Option(help="user name, or cli:<login>")] = None,
    since: Annotated[str | None, typer.Option(help="from this date (its start, GRIDSVC_TZ) or ISO time")] = None,
    until: Annotated[str | None, typer.Option(help="until this date (included, GRIDSVC_TZ), or before this ISO time")
                     ] = None,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The audit log, newest first: who changed which record when, before and after."""
    with exit_on_error():
        from ..people.audit import query
        from ..timekeeping import for_people, instant, iso
        start = None if since is None else instant(since, edge="start", where="--since")
        end = None if until is None else instant(until, edge="after", where="--until")
        with migrated_engine().connect() as conn:
            rows = query(conn, table=table, record=record, actor=actor, since=start, until=end, limit=limit)
        if as_json:
            print(json.dumps([r | {"at": iso(r["at"])} for r in rows], ensure_ascii=False, default=str, indent=1))
            return
        for r in rows:
            console.print(f"{for_people(r['at'])} {r['actor']} ({r['source']}) {r['action']} "
                          f"{r['table_name']}:{r['record_id']}", highlight=False)
