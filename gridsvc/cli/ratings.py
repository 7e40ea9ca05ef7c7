"""`gridsvc ratings …`: 红/黄/黑 boards, credit points and stars computed from records."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine

ratings_app = typer.Typer(help="Ratings earned from records: 红/黄/黑 boards, credit points, stars.",
                          no_args_is_help=True)


@ratings_app.command("compute")
def ratings_compute(
    period: Annotated[str, typer.Option(help="a month like 2026-11 or an ISO week like 2026-W47 (Beijing time)")],
    now: Annotated[str | None, typer.Option(help="the time the records are read at (ISO); default now")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rate every unit for a period from its records (ratings.toml) and write the credit entries; idempotent,
    hand overrides kept."""
    with exit_on_error():
        from rich.progress import Progress

        from ..ops.ratings.records import compute
        from ..timekeeping import instant

        at = None if now is None else instant(now, edge="start", where="--now")
        with Progress(console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task(f"ratings {period}", total=4)
            with migrated_engine().begin() as conn:
                report = compute(conn, period, actor="cli", now=at,
                                 progress=lambda step, done, total: bar.update(task, completed=done,
                                                                                description=f"ratings {period}: {step}"))
        if as_json:
            print(json.dumps(report, ensure_ascii=False))
            return
        b = report["boards"]
        console.print(f"{report['period']} ({report['kind']}): {report['units']} units rated — 红 {b['red']}, "
                      f"黄 {b['yellow']}, 黑 {b['black']}, none {b['none']}; {report['ratings_written']} rating(s) "
                      f"written, {report['credit_entries']} credit entr(y/ies) added", highlight=False)
