"""`gridsvc build …`: the H3 grid and the duty zones derived from the stored city."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..settings import get_settings
from .common import console, exit_on_error, migrated_engine, progress_bar

build_app = typer.Typer(help="Build derived data: the H3 grid, the duty zones.", no_args_is_help=True)


@build_app.command("grid")
def build_grid(res: Annotated[int | None, typer.Option(help="H3 resolution (default 10 ≈ 15,000 m²)")] = None) -> None:
    """Cover the managed area with H3 cells, group them into communities, index every feature."""
    with exit_on_error():
        from ..city.grid import build_grid as run
        s = get_settings()
        engine = migrated_engine()
        with progress_bar("build grid") as tick:
            r = run(engine, res or s.h3_res, s.admin_code, progress=tick)
        console.print(f"{r.cells} cells at res {r.res} in {r.communities} communities / {r.subdistricts} "
                      f"subdistricts{' (provisional)' if r.provisional else ''}; feature cells: {r.feature_cells}")


@build_app.command("zones")
def build_zones(policy: Annotated[str, typer.Option(help="三包, 五包, or a city policy (geodata/policies)")] = "三包",
                workers: Annotated[int | None, typer.Option(min=1, help="compute on a local dask cluster of N "
                                                            "one-thread worker processes (needs the dask extra)")] = None,
                scheduler: Annotated[str | None, typer.Option(help="compute on the dask cluster at this address, "
                                                              "e.g. tcp://10.0.0.5:8786")] = None,
                ) -> None:
    """Build 门前三包/五包 frontage zones and area zones; planner-drawn zones are kept and clipped around."""
    with exit_on_error():
        from ..zones.build import build_zones as run
        with progress_bar(f"build zones ({policy})") as tick:
            r = run(migrated_engine(), policy, progress=tick, workers=workers, scheduler=scheduler)
        table = Table(title=f"zones under {r.policy} (build {r.build_id})")
        table.add_column("kind")
        table.add_column("count", justify="right")
        for k, v in r.counts.items():
            table.add_row(k, str(v))
        console.print(table)
        console.print(f"{r.opened} zone version(s) opened, {r.closed} closed")
        for u in r.unassigned[:10]:
            console.print(f"[yellow]no zone:[/] unit {u['unit_id']}: {u['reason']}", highlight=False)
        if len(r.unassigned) > 10:
            console.print(f"[yellow]... {len(r.unassigned) - 10} more units without a zone (gridsvc validate)[/]")
