"""`gridsvc cases …`: deadlines and escalation (督办) of cases, and their notices as PDF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..settings import get_settings
from .common import console, exit_on_error, migrated_engine

cases_app = typer.Typer(help="Cases (问题/案卷): deadlines and escalation (督办).", no_args_is_help=True)


@cases_app.command("tick")
def cases_tick(
    now: Annotated[str | None, typer.Option(help="the time to tick at (ISO; a naive time is GRIDSVC_TZ); default now")
                   ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Mark overdue cases and escalate them (督办单 per level reached). Idempotent; safe from cron every minute."""
    with exit_on_error():
        from ..ops.cases.core import tick
        from ..timekeeping import instant

        at = None if now is None else instant(now, edge="start", where="--now")
        with migrated_engine().begin() as conn:
            report = tick(conn, at)
        if as_json:
            print(json.dumps(report, ensure_ascii=False))
        elif "skipped" in report:
            console.print(f"skipped: {report['skipped']}", highlight=False)
        else:
            console.print(f"{report['now']}: {report['overdue']} case(s) overdue, {report['cases_marked']} marked, "
                          f"{report['escalations_issued']} 督办单 issued", highlight=False)


@cases_app.command("notice")
def cases_notice(
    case: Annotated[str, typer.Argument(help="the case's code (e.g. 2026120200001) or id")],
    kind: Annotated[str, typer.Option(help="reminder (提醒卡), rectification (整改通知单) or escalation (督办单)")
                    ] = "rectification",
    out: Annotated[Path, typer.Option(help="the PDF to write")] = Path("notice.pdf"),
    size: Annotated[str, typer.Option(help="A4 or A5")] = "A4",
    escalation: Annotated[int | None, typer.Option(help="escalation: the 督办单's id (default: the latest)")] = None,
    base_url: Annotated[str | None, typer.Option(help="the QR code's address (default GRIDSVC_PUBLIC_BASE_URL)")
                        ] = None,
) -> None:
    """A case's notice as a Chinese PDF, with the zone sketch, photo and the QR code of the party's case page."""
    with exit_on_error():
        from ..db.instance import upload_root
        from ..exporters.notices import case_id_by_code, case_notice

        s = get_settings()
        with migrated_engine().connect() as conn:
            pdf = case_notice(conn, case_id_by_code(conn, case), kind, size=size, base_url=base_url or
                              s.public_base_url, escalation_id=escalation, upload_dir=upload_root(s.upload_dir, conn))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        console.print(f"wrote {out} ({len(pdf):,} bytes)", highlight=False)
