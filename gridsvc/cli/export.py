"""`gridsvc export …`: stored layers, offline maps, walk-through packs and 责任牌 boards as files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputError
from ..settings import get_settings
from .common import console, exit_on_error, migrated_engine, progress_bar

export_app = typer.Typer(help="Export stored data to files.", no_args_is_help=True)
GridOpt = Annotated[str | None, typer.Option("--grid", help="a grid's 15-digit code")]
CommunityOpt = Annotated[str | None, typer.Option("--community", help="a community's 12-digit code")]
StreetOpt = Annotated[str | None, typer.Option("--street", help="a street's name (or a subdistrict's)")]
BBoxOpt = Annotated[str | None, typer.Option("--bbox", help="minLng,minLat,maxLng,maxLat (WGS84)")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="QR codes link to URL/u/CODE "
                                                "(default GRIDSVC_PUBLIC_BASE_URL)")]


@export_app.command("layer")
def export_layer(
    name: Annotated[str, typer.Argument(help="streets, buildings, compounds, markets, units, cells, admin_units, zones")],
    out: Annotated[Path, typer.Option("--out", help=".geojson, .gpkg, .shp or .kml")],
    grid: GridOpt = None, community: CommunityOpt = None, street: StreetOpt = None, bbox: BBoxOpt = None,
) -> None:
    """Write a stored layer (or its part inside one scope) in WGS84 with all attributes; format from the extension."""
    with exit_on_error():
        from ..db.layers import layer_spec
        from ..exporters.layers import write_layer
        from ..exporters.scope import layer_for_export
        layer_spec(name)
        with migrated_engine().connect() as conn:
            gdf = layer_for_export(conn, name, grid, community, street, bbox)
        path = write_layer(gdf, out, name)
        console.print(f"wrote {len(gdf)} {name} to {path}")


@export_app.command("map")
def export_map(
    out: Annotated[Path, typer.Option("--out", help="the .html file to write")],
    grid: GridOpt = None, community: CommunityOpt = None, street: StreetOpt = None, bbox: BBoxOpt = None,
    title: Annotated[str | None, typer.Option(help="map title (default: from the scope)")] = None,
) -> None:
    """One self-contained HTML map of a scope (no scope: everything) that opens offline from file://."""
    with exit_on_error():
        from ..exporters.offline_map import write_offline_map
        from ..exporters.scope import resolve_scope
        with migrated_engine().connect() as conn:
            scope = resolve_scope(conn, grid, community, street, bbox)
            with progress_bar(f"map {scope.slug}") as tick:
                path = write_offline_map(conn, scope, out, title, progress=tick)
        kind = "overview: simplified, units clustered" if scope.overview else "full detail"
        console.print(f"wrote {scope.label} map ({kind}, zoom {scope.zoom}) to {path}: "
                      f"{path.stat().st_size / 1e6:.2f} MB", highlight=False)


@export_app.command("pack")
def export_pack(
    grid: Annotated[str, typer.Option("--grid", help="the grid's 15-digit code")],
    out: Annotated[Path, typer.Option("--out", help="folder to write the pack into")],
    base_url: BaseUrlOpt = None,
) -> None:
    """A grid's walk-through pack: offline map, walking order, checklist, boards, GIS layers, manifest."""
    with exit_on_error():
        from ..exporters.pack import build_pack
        with migrated_engine().connect() as conn, progress_bar(f"pack {grid}") as tick:
            report = build_pack(conn, grid, out, base_url=base_url, progress=tick)
        table = Table(title=f"{report.scope.label}: {report.units} units, {report.zones} zones")
        for col in ("file", "bytes", "what"):
            table.add_column(col, justify="right" if col == "bytes" else "left")
        for f in report.files:
            table.add_row(f["name"], f"{f['bytes']:,}", f["what"])
        console.print(table)
        for note in report.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
        console.print(f"pack written to {report.out.resolve()}", highlight=False)


@export_app.command("boards")
def export_boards(
    out: Annotated[Path, typer.Option("--out", help="the .pdf file to write")],
    unit: Annotated[list[int] | None, typer.Option("--unit", help="unit id, repeatable")] = None,
    grid: GridOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """责任牌 boards, one page per unit with its duties, zone sketch and QR code, for units or a grid."""
    with exit_on_error():
        from ..exporters.pack import units_in_walk_order
        from ..exporters.scope import units_by_id
        from ..exporters.unit_boards import write_boards
        if bool(unit) == bool(grid):
            raise InputError("give --unit ID (repeatable) or --grid CODE, not both or neither")
        with migrated_engine().connect() as conn:
            units = units_by_id(conn, unit) if unit else units_in_walk_order(conn, grid)
            path = write_boards(conn, units, out, base_url=base_url or get_settings().public_base_url)
        console.print(f"wrote {len(units)} board(s) to {path}")
