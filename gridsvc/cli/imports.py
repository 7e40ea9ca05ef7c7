"""`gridsvc ingest` and `gridsvc imports …`: load files, and what each ingest stored, repaired or skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputError
from .common import console, exit_on_error, migrated_engine, progress_bar

imports_app = typer.Typer(help="What each ingest stored, and every geometry it repaired or skipped.",
                          no_args_is_help=True)


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
    """A table of per-layer counts, one line per layer with repaired or skipped geometries, then the other notes."""
    table = Table(title=f"{report.source_file} ({report.crs})")
    for col in ("layer", "rows", "inserted", "updated", "unchanged", "removed"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for name, c in report.counts.items():
        table.add_row(name, *(str(c[k]) for k in ("rows", "inserted", "updated", "unchanged", "removed")))
    console.print(table)
    summary = report.fix_summary()
    for layer, (repaired, skipped) in summary.items():
        console.print(f"[yellow]{layer}:[/] {repaired} geometries repaired, {skipped} skipped", highlight=False)
    if summary:
        console.print(f"each one with its reason: gridsvc imports show {report.import_id}", highlight=False)
    notes = report.other_notes
    for note in notes[:20]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if len(notes) > 20:
        console.print(f"[yellow]... and {len(notes) - 20} more notes[/]")


@imports_app.command("list")
def imports_list(limit: Annotated[int, typer.Option(help="how many, newest first")] = 50) -> None:
    """Every ingest, newest first: id, time, file, CRS, rows stored, geometries repaired and skipped."""
    with exit_on_error():
        from ..city.ingest import list_imports
        from ..timekeeping import for_people
        with migrated_engine().connect() as conn:
            rows = list_imports(conn, limit)
        table = Table(title="imports")
        for col in ("id", "imported", "file", "crs", "rows", "repaired", "skipped"):
            table.add_column(col, justify="right" if col in ("id", "rows", "repaired", "skipped") else "left")
        for r in rows:
            table.add_row(str(r["id"]), for_people(r["imported_at"], "%Y-%m-%d %H:%M"), r["source_file"], r["crs"],
                          str(r["rows"]), str(r["repaired"]), str(r["skipped"]))
        console.print(table)


@imports_app.command("show")
def imports_show(import_id: Annotated[int, typer.Argument(help="an id from `gridsvc imports list`")]) -> None:
    """One ingest: file, checksum, counts per layer, notes, and each geometry repaired or skipped with its reason."""
    with exit_on_error():
        from ..city.ingest import import_detail
        from ..timekeeping import for_people
        with migrated_engine().connect() as conn:
            d = import_detail(conn, import_id)
        console.print(f"import {d['id']}: {d['source_file']} ({d['crs']}) at {for_people(d['imported_at'])}",
                      highlight=False)
        console.print(f"path {d['path'] or '-'}, sha256 {d['sha256'] or '-'}", highlight=False)
        for layer, c in d["counts"].items():
            console.print(f"{layer}: {c.get('rows', 0)} rows, {c.get('inserted', 0)} inserted, "
                          f"{c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged, "
                          f"{c.get('removed', 0)} removed", highlight=False)
        for note in d["notes"]:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
        if not d["fixes"]:
            console.print("no geometry repaired or skipped")
            return
        table = Table(title=f"{len(d['fixes'])} geometries repaired or skipped")
        for col in ("layer", "feature", "action", "reason"):
            table.add_column(col, overflow="fold")
        for f in d["fixes"]:
            table.add_row(f["layer"], f["feature"], f["action"], f["reason"])
        console.print(table)


def ingest(
    path: Annotated[Path, typer.Argument(help="OSM .pbf, .gpkg/.geojson/.shp, or a .csv/.xlsx shop ledger")],
    kind: Annotated[str | None, typer.Option(help="street|building|compound|market|unit|boundary")] = None,
    layer: Annotated[str | None, typer.Option(help="layer (GIS file) or sheet (xlsx) to read")] = None,
    crs: Annotated[str | None, typer.Option(help="EPSG code (4490, 4547, …), wgs84, gcj02 or bd09")] = None,
    column: Annotated[list[str] | None, typer.Option(help="column mapping canonical=header, repeatable")] = None,
    strict: Annotated[bool, typer.Option(help="reject the file if any geometry cannot be repaired")] = False,
    stream: Annotated[bool | None, typer.Option(
        help="OSM PBF: read in bounded memory, chunk by chunk (default: for files over 16 MB)")] = None,
) -> None:
    """Import a file in one transaction; re-importing the same file updates rows in place."""
    with exit_on_error():
        from ..city.ingest import ingest as run
        from ..city.ingest import ingest_stream, streams
        engine = migrated_engine()
        with progress_bar(f"ingest {path.name}") as tick:
            if streams(path, stream, kind=kind, layer=layer, crs=crs, columns=column):
                report = ingest_stream(engine, path, strict=strict, progress=tick)
            else:
                report = run(engine, path, kind=kind, layer=layer, crs=crs, columns=_parse_columns(column),
                             strict=strict, progress=tick)
        print_ingest_report(report)
