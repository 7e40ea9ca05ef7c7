"""`gridsvc hotline …`: the 12345 hotline's work orders in as cases, replies out (gridsvc/ops/hotline/orders.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine, progress_bar

hotline_app = typer.Typer(help="The 12345 hotline: work orders in as cases, replies out.", no_args_is_help=True)


def _user() -> str:
    import getpass

    return getpass.getuser()


@hotline_app.command("import")
def hotline_import(
    file: Annotated[Path, typer.Argument(help="a 12345 work-order export (.xlsx or .csv, GBK too)")],
    crs: Annotated[str | None, typer.Option(help="wgs84, gcj02 or bd09 when the file has no 坐标系 column "
                                                 "(default: hotline.toml's default_crs)")] = None,
) -> None:
    """Each work order becomes a case (re-importing updates, never duplicates); rows that cannot be placed are held
    and listed. All or nothing: bad rows are named by row and header."""
    with exit_on_error():
        from ..ops.hotline.orders import import_orders

        with migrated_engine().begin() as conn, progress_bar(f"import {file.name}") as tick:
            report = import_orders(conn, file, actor=f"cli:{_user()}", role="admin", crs=crs,
                                   progress=tick)
        c = report.counts()
        placed = ", ".join(f"{k} {v}" for k, v in sorted(report.placements.items())) or "none"
        console.print(f"{file.name}: {c['rows']} work order(s): {c['opened']} new case(s), {c['updated']} updated "
                          f"(受理), {c['recorded']} change(s) recorded on cases past 受理, {c['unchanged']} unchanged, "
                          f"{c['unplaced']} not placed; placed by {placed} (import {report.import_id})",
                          highlight=False)
        for note in report.notes:
            console.print(f"  note: {note}", highlight=False)
        for u in report.unplaced:
            console.print(f"  not placed: row {u['row']} (工单编号 {u['number']}): {u['reason']}", highlight=False)
        if report.unplaced:
            console.print("  place them: gridsvc hotline place NUMBER --lng … --lat … [--crs gcj02]",
                              highlight=False)


@hotline_app.command("list")
def hotline_list(unplaced: Annotated[bool, typer.Option(help="only the orders held without a case")] = False,
          limit: int = 100, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Work orders, newest call first, with their placement and case."""
    with exit_on_error():
        from ..ops.hotline.orders import list_orders

        with migrated_engine().connect() as conn:
            found = list_orders(conn, unplaced=unplaced, limit=limit)
        if as_json:
            console.print_json(json.dumps(found, ensure_ascii=False, default=str))
            return
        for o in found["orders"]:
            where = (f"{o['placement']['method']} {o['placement']['confidence']}" if o["placement"]
                     else f"not placed: {o['unplaced_reason']}")
            case = f"case {o['case_code']} {o['state_zh']}" if o["case_id"] else "no case"
            console.print(f"{o['number']}  {o['received_at'][:16]}  {case}  {where}  {o['address'] or ''}",
                              highlight=False)
        console.print(f"{found['total']} work order(s)", highlight=False)


@hotline_app.command("place")
def hotline_place(number: Annotated[str, typer.Argument(help="the 工单编号 of a held order")],
          lng: Annotated[float, typer.Option()], lat: Annotated[float, typer.Option()],
          crs: Annotated[str, typer.Option(help="wgs84, gcj02 or bd09")] = "wgs84") -> None:
    """Place a held work order at a point: its case is opened there."""
    with exit_on_error():
        from ..ops.hotline.orders import place_order

        with migrated_engine().begin() as conn:
            case_id = place_order(conn, number, lng=lng, lat=lat, crs=crs, actor=f"cli:{_user()}",
                                  role="admin")
        console.print(f"work order {number}: case {case_id} opened", highlight=False)


@hotline_app.command("export")
def hotline_export(out: Annotated[Path, typer.Option(help="replies.xlsx or replies.csv")],
           since: Annotated[str | None, typer.Option(help="only orders changed since (a Beijing date or time)")]
           = None) -> None:
    """The replies for the hotline: 工单编号, 办结情况, 办结时间 (Beijing time), 回复内容."""
    with exit_on_error():
        from ..ops.hotline.orders import replies, write_replies

        with migrated_engine().connect() as conn:
            rows = replies(conn, since)
        write_replies(rows, out)
        console.print(f"{len(rows)} repl{'y' if len(rows) == 1 else 'ies'} written to {out}", highlight=False)
