"""`gridsvc org …`: street steward teams (街长/路长) and the 楼院长 of compounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputError
from .common import console, exit_on_error, migrated_engine

org_app = typer.Typer(help="The organisation: street steward teams (街长/路长) and named 楼院长.", no_args_is_help=True)
team_app = typer.Typer(help="Street steward teams (街长/路长 teams).", no_args_is_help=True)
org_app.add_typer(team_app, name="team")


def _member(spec: str, role: str):
    """姓名,电话,部门 (the phone may be empty) as an org.Member."""
    from ..people.org import Member

    parts = [p.strip() for p in spec.replace("，", ",").split(",")]
    if len(parts) != 3:
        raise InputError(f"a {role} is NAME,PHONE,DEPARTMENT (e.g. 张三,13800000000,环卫), got {spec!r}")
    return Member(parts[0], parts[1] or None, parts[2], role)


@team_app.command("add")
def team_add(name: str, street: Annotated[str, typer.Option(help="the street's exact name or id")],
             leader: Annotated[str, typer.Option(help="姓名,电话,部门 (department code or Chinese name)")],
             member: Annotated[list[str] | None, typer.Option(help="姓名,电话,部门; repeatable")] = None,
             segment: Annotated[str | None, typer.Option(help="a segment of the street, e.g. 汉中路—新街口")] = None,
             ) -> None:
    """Add a steward team (街长/路长 team) for a street or a segment of it: one leader, members from departments."""
    with exit_on_error():
        from ..people.org import add_team
        members = [_member(leader, "leader"), *(_member(m, "member") for m in member or [])]
        with migrated_engine().begin() as conn:
            team = add_team(conn, name, street, members, segment=segment)
        console.print(f"steward team {team}: {name} ({len(members)} people)")


@team_app.command("list")
def team_list(street: Annotated[str | None, typer.Option(help="only this street's teams")] = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Steward teams with their leader and members (names and phones in full: this is the office's own list)."""
    with exit_on_error():
        from ..people.org import list_teams
        with migrated_engine().connect() as conn:
            teams = list_teams(conn, street, 100_000)
        if as_json:
            console.print_json(json.dumps(teams, ensure_ascii=False, default=str))
            return
        table = Table("id", "队名", "街道", "路段", "队长", "队员")
        for t in teams:
            people = [f"{m['contact']} {m['phone'] or ''} ({m['department_zh']})".replace(" (", "(") for m in t["members"]]
            table.add_row(str(t["id"]), t["name"], t["street"], t["segment"] or "", people[0], "; ".join(people[1:]))
        console.print(table)


@team_app.command("import")
def team_import(path: Path) -> None:
    """Teams from a CSV/XLSX sheet with the headers 队名, 街道, 路段, 角色 (队长/队员), 姓名, 电话, 部门: one row per
    person. All or nothing; a bad row is named."""
    with exit_on_error():
        from ..people.org import import_teams
        with migrated_engine().begin() as conn:
            ids = import_teams(conn, path)
        console.print(f"{len(ids)} steward team(s) imported: {', '.join(map(str, ids))}")


@org_app.command("head")
def org_head(compound: int, name: str, phone: str | None = None,
             since: Annotated[str | None, typer.Option(help="the date they started (default today)")] = None) -> None:
    """Name the 楼院长 of a compound without a property manager: its zones pass to them as new versions."""
    with exit_on_error():
        from ..people.org import set_compound_head
        with migrated_engine().begin() as conn:
            head = set_compound_head(conn, compound, name, phone, since)
        console.print(f"楼院长 {name} of compound {compound} since {head['since']} (party {head['party_id']}); "
                      f"{len(head['zones'])} zone(s) moved to a new version", highlight=False)


@org_app.command("heads")
def org_heads(compound: int) -> None:
    """Every 楼院长 of a compound, newest first."""
    with exit_on_error():
        from ..people.org import compound_heads
        with migrated_engine().connect() as conn:
            for h in compound_heads(conn, compound):
                console.print(f"{h['since']} → {h['until'] or 'now'}: {h['contact']} {h['phone'] or ''} "
                              f"(party {h['party_id']}, by {h['assigned_by']})", highlight=False)
