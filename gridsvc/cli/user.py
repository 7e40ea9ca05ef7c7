"""`gridsvc user …`: users, roles and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import console, exit_on_error, migrated_engine

user_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, planner, grid_officer, inspector, party, public")],
    grid: Annotated[list[str] | None, typer.Option(help="grid or community code (grid officers), repeatable")] = None,
    party: Annotated[int | None, typer.Option(help="party id (role party)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a user; the password comes from stdin (never from the command line)."""
    with exit_on_error():
        from ..people.users import create_user
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        with migrated_engine().begin() as conn:
            create_user(conn, name, role, password, grid or [], party)
        console.print(f"user {name} ({role}) created" + ("" if password else "; no password: use `gridsvc user "
                                                         "token` for an API token"))


@user_app.command("list")
def user_list() -> None:
    """Every user with role, grids, active tokens and state."""
    with exit_on_error():
        from ..people.users import list_users
        from ..timekeeping import for_people
        with migrated_engine().connect() as conn:
            for u in list_users(conn):
                state = f"disabled {for_people(u['disabled_at'], '%Y-%m-%d')}" if u["disabled_at"] else "active"
                console.print(f"{u['name']}\t{u['role']}\t{','.join(u['grids']) or '-'}\t"
                              f"tokens={u['active_tokens']}\t{state}", highlight=False)


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable a user: logins and every token stop working."""
    with exit_on_error():
        from ..people.users import disable_user
        with migrated_engine().begin() as conn:
            disable_user(conn, name)
        console.print(f"user {name} disabled")


@user_app.command("token")
def user_token(name: str, label: Annotated[str | None, typer.Option(help="what the token is for")] = None) -> None:
    """Print a new API token for the user (shown once; `gridsvc user disable` revokes everything)."""
    with exit_on_error():
        from ..people.users import issue_api_token
        with migrated_engine().begin() as conn:
            token = issue_api_token(conn, name, label)
        print(token)
