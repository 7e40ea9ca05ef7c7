"""`gridsvc ops …`: check the operations rules (geodata/ops) and bring the database in line."""

from __future__ import annotations

import typer

from .common import console, exit_on_error, migrated_engine

ops_app = typer.Typer(help="The operations rules (geodata/ops): check them, bring the database in line.",
                      no_args_is_help=True)


@ops_app.command("sync")
def ops_sync() -> None:
    """Check every geodata/ops file and bring the departments table in line with departments.toml."""
    with exit_on_error():
        from ..ops.cases.core import sync_departments
        from ..ops.rules.flow import load_flow
        from ..ops.rules.loader import load_rules

        load_rules()
        load_flow()
        with migrated_engine().begin() as conn:
            n = sync_departments(conn)
        console.print(f"ops rules valid; departments: {n} row(s) written", highlight=False)
