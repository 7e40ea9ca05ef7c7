"""`gridsvc uploads …`: retention of uploaded photos and ledgers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..settings import get_settings
from .common import console, exit_on_error, migrated_engine

uploads_app = typer.Typer(help="Uploaded photos and ledgers: retention.", no_args_is_help=True)


@uploads_app.command("prune")
def uploads_prune(
    older_than: Annotated[int | None, typer.Option("--older-than", help="days to keep (default GRIDSVC_UPLOAD_"
                                                   "KEEP_DAYS_PHOTO=365, GRIDSVC_UPLOAD_KEEP_DAYS_LEDGER=90)")] = None,
    kind: Annotated[str | None, typer.Option(help="photo or ledger (default: both)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be removed; remove nothing")] = False,
) -> None:
    """Delete uploads older than their retention (row, then file) and files without a row older than a day."""
    with exit_on_error():
        from rich.filesize import decimal

        from ..db.instance import upload_root
        from ..files.retention import prune_uploads, retention_limits
        from ..timekeeping import for_people
        s = get_settings()
        limits = retention_limits(s, kind, older_than)
        engine = migrated_engine()
        with engine.connect() as conn:
            root = upload_root(s.upload_dir, conn)  # this database's files only, never another's on the same folder
        report = prune_uploads(engine, root, limits, dry_run=dry_run)
        if dry_run:
            for g in [*report.rows, *report.orphans]:
                what = g.kind or ("orphan" if g.sha256 else "temporary")
                state = "" if g.present else " (file already missing)"
                console.print(f"{for_people(g.when, '%Y-%m-%d %H:%M')}  {what:<9} {g.path.name[:16]:<16} "
                              f"{decimal(g.size_bytes):>9}  {g.filename or ''}{state}", highlight=False, markup=False)
        table = Table(title=f"{'dry run, nothing removed' if dry_run else 'removed'}: uploads in {root}")
        for col in ("what", "count", "bytes"):
            table.add_column(col, justify="left" if col == "what" else "right")
        for k, days in limits.items():
            gone = [g for g in report.rows if g.kind == k]
            table.add_row(f"{k} older than {days} days", str(len(gone)),
                          decimal(sum(g.size_bytes for g in gone if g.present and g.sha256 not in report.kept)))
        table.add_row("files without a row, older than a day", str(len(report.orphans)),
                      decimal(sum(g.size_bytes for g in report.orphans if g.sha256 not in report.kept)))
        table.add_row(f"total {'to free' if dry_run else 'freed'}", str(len(report.rows) + len(report.orphans)),
                      decimal(report.bytes_freed), style="bold")
        console.print(table)
        if report.missing:
            console.print(f"[yellow]note:[/] {len(report.missing)} expired upload(s) had no file any more")
        if report.kept:
            console.print(f"[yellow]note:[/] {len(report.kept)} file(s) kept: uploaded again while pruning")
