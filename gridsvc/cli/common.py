"""What every `gridsvc` command shares: the consoles, error exits, progress bars, the cluster and the engine."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import GridsvcError, InputError
from ..settings import get_settings

console = Console()
err_console = Console(stderr=True)


@contextmanager
def exit_on_error():
    """Print a GridsvcError once, in plain words, and exit non-zero (2 for bad input)."""
    try:
        yield
    except GridsvcError as e:
        err_console.print(f"[bold red]error:[/] {e.message}", highlight=False, markup=True)
        raise typer.Exit(2 if isinstance(e, InputError) else 1) from None


@contextmanager
def progress_bar(title: str):
    """A rich progress bar driven by (stage, done, total) callbacks."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=False, disable=not sys.stderr.isatty()) as p:
        task = p.add_task(title, total=1)

        def tick(stage: str, done: int, total: int) -> None:
            p.update(task, description=f"{title}: {stage}", completed=done, total=max(total, 1))

        yield tick


def local_cluster():
    from ..pg.cluster import LocalCluster
    return LocalCluster(get_settings().cluster_dir)


def migrated_engine(audit_as_cli: bool = True):
    """The configured engine, migrated; its writes are audited as cli:<login user> unless it serves the API."""
    from sqlalchemy import event

    from ..db import migrate
    from ..db.engine import get_engine

    engine = get_engine()
    if audit_as_cli and not event.contains(engine, "checkout", _cli_actor):
        event.listen(engine, "checkout", _cli_actor)
    elif not audit_as_cli and event.contains(engine, "checkout", _cli_actor):
        event.remove(engine, "checkout", _cli_actor)
        engine.dispose()  # pooled connections carry the CLI's session settings
    if migrate.current_revision(engine) != migrate.head_revision():
        migrate.upgrade(engine)
    return engine


def _cli_actor(dbapi_conn, record, proxy) -> None:
    """Session defaults for the audit triggers: this process writes as cli:<login user>."""
    import getpass

    from ..db.sql import sql

    with dbapi_conn.cursor() as cur:
        cur.execute(sql("audit_cli_session").text, {"actor": f"cli:{getpass.getuser()}"})
