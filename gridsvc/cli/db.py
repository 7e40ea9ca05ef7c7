"""`gridsvc db …`: the local PostGIS cluster, its replicas, the schema, dump and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..settings import get_settings
from .common import console, exit_on_error, local_cluster

db_app = typer.Typer(help="The database: local PostGIS cluster and schema.", no_args_is_help=True)
replica_app = typer.Typer(help="Local hot standbys of the local cluster, for GRIDSVC_READ_URLS (docs/scaling.md).",
                          no_args_is_help=True)
db_app.add_typer(replica_app, name="replica")


@db_app.command("up")
def db_up() -> None:
    """Start the local PostGIS cluster (initialising it the first time); idempotent."""
    with exit_on_error():
        s = get_settings()
        if s.database_url:
            console.print("GRIDSVC_DATABASE_URL is set: gridsvc uses that server and runs no cluster of its own.")
            return
        c = local_cluster()
        st = c.up()
        c.ensure_database(s.db_name)
        console.print(f"local PostGIS running: {st.path} on 127.0.0.1:{st.port} (pid {st.pid})")
        from ..pg import replica
        for standby in replica.standbys(c):
            console.print(f"{standby.name} running on 127.0.0.1:{standby.up().port}")


@db_app.command("down")
def db_down() -> None:
    """Stop the local PostGIS cluster and its local replicas; fine if it is not running."""
    with exit_on_error():
        from ..pg import replica
        replica.stop_all(local_cluster())
        local_cluster().down()
        console.print("local PostGIS stopped")


@db_app.command("status")
def db_status() -> None:
    """Show the local cluster and schema state."""
    with exit_on_error():
        s = get_settings()
        if s.database_url:
            console.print("using GRIDSVC_DATABASE_URL (external server)")
        else:
            st = local_cluster().status()
            console.print(f"cluster {st.path}: initialised={st.initialised} running={st.running} "
                          f"port={st.port} pid={st.pid}")
            if not st.running:
                return
        from ..db import migrate
        from ..db.engine import get_engine
        console.print(f"schema revision: {migrate.current_revision(get_engine())} (head {migrate.head_revision()})")


@db_app.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL in use (starts the local cluster if needed)."""
    with exit_on_error():
        from ..pg.cluster import database_url
        print(database_url(get_settings()))


def _local_primary():
    """The local cluster, refusing when GRIDSVC_DATABASE_URL names another server."""
    s = get_settings()
    if s.database_url:
        raise InputError("GRIDSVC_DATABASE_URL is set: local replicas copy gridsvc's own cluster only; make standbys "
                         "of that server with its own tools (docs/scaling.md)", where="GRIDSVC_DATABASE_URL")
    return local_cluster()


@replica_app.command("add")
def replica_add(port: Annotated[int | None, typer.Option(help="its port on 127.0.0.1 (default: a free one)")] = None,
                ) -> None:
    """Make a hot standby of the local cluster (pg_basebackup -R, a slot, its own port), start it, print its URL."""
    with exit_on_error():
        from ..pg import replica
        standby = replica.add(_local_primary(), port)
        url = standby.url(get_settings().db_name)
        console.print(f"{standby.name} streaming from the local cluster: {standby.path} on 127.0.0.1:"
                      f"{standby.status().port}")
        print(f"GRIDSVC_READ_URLS={url}")


@replica_app.command("list")
def replica_list() -> None:
    """The local standbys: port, running, replication state, replay lag and bytes behind the primary."""
    with exit_on_error():
        from ..pg import replica
        rows = replica.info(_local_primary())
        if not rows:
            console.print("no local replicas (gridsvc db replica add)")
        for r in rows:
            lag = "-" if r.replay_lag_ms is None else f"{r.replay_lag_ms:.1f} ms"
            behind = "-" if r.behind_bytes is None else f"{r.behind_bytes} bytes"
            console.print(f"{r.name}  port={r.port} running={r.running} state={r.state} replay_lag={lag} "
                          f"behind={behind}  {r.path}", highlight=False)


@replica_app.command("start")
def replica_start(name: Annotated[str, typer.Argument(help="e.g. replica-1")]) -> None:
    """Start a local standby (it catches up from its slot)."""
    with exit_on_error():
        from ..pg import replica
        st = replica.standby(_local_primary(), name).up()
        console.print(f"{name} running on 127.0.0.1:{st.port}")


@replica_app.command("stop")
def replica_stop(name: Annotated[str, typer.Argument(help="e.g. replica-1")]) -> None:
    """Stop a local standby (the primary keeps its WAL in the slot, at most max_slot_wal_keep_size)."""
    with exit_on_error():
        from ..pg import replica
        replica.standby(_local_primary(), name).down()
        console.print(f"{name} stopped")


@replica_app.command("remove")
def replica_remove(name: Annotated[str, typer.Argument(help="e.g. replica-1")]) -> None:
    """Stop a local standby, drop its slot and delete its folder (take it out of GRIDSVC_READ_URLS first)."""
    with exit_on_error():
        from ..pg import replica
        primary = _local_primary()
        replica.standby(primary, name)
        replica.remove(primary, name)
        console.print(f"{name} removed")


@db_app.command("dump")
def db_dump(
    path: Annotated[Path, typer.Argument(help="file to write, or a folder for gridsvc-<db>-<UTC time>.dump")],
    keep: Annotated[int | None, typer.Option(help="with a folder: keep only the newest N dumps")] = None,
) -> None:
    """Back up the database to a pg_dump custom-format file (written atomically, mode 0600)."""
    with exit_on_error():
        from ..pg import backup
        from ..pg.cluster import database_url
        r = backup.dump(database_url(get_settings()), path, keep=keep)
        console.print(f"dumped schema {r.revision} to {r.path} ({r.size / 1e6:.1f} MB, {r.seconds:.1f} s)")
        for old in r.pruned:
            console.print(f"removed old dump {old}")


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="a file made by `gridsvc db dump`")],
    replace: Annotated[bool, typer.Option("--replace", help="replace a database that holds data")] = False,
) -> None:
    """Restore a dump into the configured database in one transaction, then upgrade its schema."""
    with exit_on_error():
        from ..pg import backup
        from ..pg.cluster import database_url
        r = backup.restore(database_url(get_settings()), path, replace=replace)
        upgraded = f", upgraded from {r.upgraded_from}" if r.upgraded_from else ""
        console.print(f"restored {path} in {r.seconds:.1f} s: schema {r.revision}{upgraded}, "
                      f"{sum(r.rows.values())} rows in {len(r.rows)} tables")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations (Alembic)."""
    with exit_on_error():
        from ..db import migrate
        from ..db.engine import get_engine
        migrate.upgrade(get_engine(), revision)
        console.print(f"schema at {migrate.current_revision(get_engine())}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="really delete all data")] = False) -> None:
    """Delete every table and recreate the schema (asks for --yes)."""
    with exit_on_error():
        if not yes:
            raise InputError("db reset deletes all gridsvc data; run again with --yes")
        from ..db import migrate
        from ..db.engine import get_engine
        migrate.downgrade(get_engine(), "base")
        migrate.upgrade(get_engine())
        console.print("all gridsvc tables recreated empty")
