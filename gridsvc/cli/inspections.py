"""`gridsvc inspections …`: filled-in paper results sheets coming back as inspections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine, progress_bar

inspections_app = typer.Typer(help="Inspections (巡查): paper results sheets coming back.", no_args_is_help=True)


@inspections_app.command("import")
def inspections_import(
    file: Annotated[Path, typer.Argument(help="a pack's filled-in results.xlsx")],
    inspector: Annotated[str | None, typer.Option(help="the user recording it (default cli:<login>)")] = None,
    kind: Annotated[str, typer.Option(help="inspector kind: grid_officer, steward, chengguan, volunteer, "
                                           "compound_head, leader, third_party")] = "grid_officer",
    open_cases: Annotated[bool, typer.Option("--open-cases", help="open a case for every failed item")] = False,
) -> None:
    """Turn a filled-in results sheet into inspections: all or nothing, bad rows named; importing it again records
    nothing new. With --open-cases, each failed item opens a case (routed like any case) in the same transaction."""
    with exit_on_error():
        import getpass

        from ..db.sql import sql
        from ..errors import NotFoundError
        from ..ops.inspections.sheets import import_sheet

        with migrated_engine().begin() as conn, progress_bar(f"import {file.name}") as tick:
            if inspector is not None and conn.execute(sql("user_exists"), {"n": inspector}).first() is None:
                raise NotFoundError(f"no user {inspector!r} (gridsvc user list)")
            report = import_sheet(conn, file, inspector=inspector or f"cli:{getpass.getuser()}", inspector_kind=kind,
                                  progress=tick, open_cases=open_cases)
        console.print(f"pack {report.pack_id} ({report.checklist}): {len(report.recorded)} inspection(s) recorded, "
                      f"{report.already} row(s) imported before, {report.blank} blank row(s) skipped"
                      + (f", {len(report.cases)} case(s) opened from failed items" if open_cases else ""),
                      highlight=False)
        if report.rows and not report.recorded:
            console.print("nothing new: every filled-in row of this sheet was imported before", highlight=False)
