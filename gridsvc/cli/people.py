"""`gridsvc people …`: grid officers (网格员) and street stewards (街巷管家)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine

people_app = typer.Typer(help="Grid officers and street stewards.", no_args_is_help=True)


@people_app.command("officer")
def people_officer(name: str, grid: Annotated[list[str], typer.Option(help="grid or community code, repeatable")],
                   phone: str | None = None) -> None:
    """Add a grid officer 网格员 for grids (a community code prefix takes all its grids)."""
    with exit_on_error():
        from ..people.parties import add_officer
        with migrated_engine().begin() as conn:
            oid = add_officer(conn, name, phone, grid)
        console.print(f"officer {oid}: {name}")


@people_app.command("steward")
def people_steward(street: str, name: str, phone: str | None = None) -> None:
    """Make NAME the steward 街巷管家 of a street (id or exact name)."""
    with exit_on_error():
        from ..people.parties import set_steward
        with migrated_engine().begin() as conn:
            pid, changed = set_steward(conn, street, name, phone)
        console.print(f"steward party {pid}; {changed} street-space zone(s) moved to a new version")
