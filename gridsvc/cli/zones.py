"""`gridsvc lookup`, `gridsvc validate` and `gridsvc zones …`: who answers for a spot, zone checks, zone history."""

from __future__ import annotations

from typing import Annotated

import typer

from ..settings import get_settings
from .common import console, exit_on_error, migrated_engine

zones_app = typer.Typer(help="Responsibility zones: history and reassignment.", no_args_is_help=True)


def lookup(
    lng: float, lat: float,
    crs: Annotated[str, typer.Option(help="wgs84, gcj02 (高德/腾讯, phones) or bd09 (百度)")] = "wgs84",
    at: Annotated[str | None, typer.Option(help="date YYYY-MM-DD (the end of that day, GRIDSVC_TZ) or ISO time "
                                                "(without an offset: GRIDSVC_TZ wall time); default now")] = None,
    radius: Annotated[float | None, typer.Option(help="also list zones within this many metres")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Who is responsible for this spot?"""
    with exit_on_error():
        import json

        from ..timekeeping import for_people, instant
        from ..zones import lookup as core
        when = instant(at, where="--at")
        with migrated_engine().connect() as conn:
            r = core.lookup(conn, lng, lat, crs=crs, at=when)
            if radius:
                r["nearby"] = core.lookup_radius(conn, lng, lat, radius, crs=crs, at=when)
        if as_json:
            print(json.dumps(r, ensure_ascii=False, indent=2, default=str))
            return
        z, p = r["zone"], r["primary"]
        console.print(f"[bold]{(z or {}).get('kind_label', '网格 grid cell')}[/] · grid {r['cell']['grid_code']} "
                      f"(h3 {r['cell']['h3']})", highlight=False)
        console.print(f"at {for_people(when)} ({get_settings().tz})", highlight=False)
        if p:
            console.print(f"primary: {p['name']} ({p['kind']}) {p.get('phone') or ''}", highlight=False)
            for d in p.get("duties", []):
                console.print(f"  · {d['zh']}：{d['description_zh']}（{d['en']}: {d['description']}）", highlight=False)
        off = r["grid_officer"]
        console.print(f"secondary (grid officer): {off['name'] + ' ' + (off['phone'] or '') if off else '(none assigned)'}",
                      highlight=False)
        console.print(f"rule: {r['rule']['rule']}", highlight=False)
        if r["nearest_unit"]:
            console.print(f"nearest unit: {r['nearest_unit']['name']} ({r['nearest_unit']['distance_m']} m)",
                          highlight=False)
        for n in r.get("nearby", []):
            console.print(f"  within {radius} m: zone {n['id']} {n['kind']} {n['party_name'] or ''} "
                          f"{n['distance_m']} m", highlight=False)


def validate(as_json: Annotated[bool, typer.Option("--json", help="print the full report as JSON")] = False) -> None:
    """Check the zones: overlaps, gaps, detached zones, units without a zone, coverage."""
    with exit_on_error():
        import json

        from ..zones.validation import validate as run
        with migrated_engine().connect() as conn:
            report = run(conn)
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
            return
        for k, v in report.get("summary", {}).items():
            console.print(f"{k}: {v}")
        for o in report.get("overlaps", [])[:10]:
            console.print(f"[red]overlap[/] zones {o['zone_a']} / {o['zone_b']}: {o['area_m2']} m²")
        for d in report.get("detached_zones", [])[:10]:
            console.print(f"[red]detached[/] zone {d['zone_id']} of unit {d['unit_id']}: {d['distance_m']} m from its "
                          f"building {d['building_id']}")
        for g in report.get("frontage_gaps", [])[:10]:
            console.print(f"[yellow]gap[/] street {g['street_id']} ({g['side']}) between units {g['unit_a']} and "
                          f"{g['unit_b']}: {g['gap_m']} m, from {g['from_m']} to {g['to_m']} m along it")
        for u in report.get("units_without_zone", [])[:10]:
            console.print(f"[yellow]no zone[/] unit {u['unit_id']} {u['name'] or ''}: {u['reason']}", highlight=False)


@zones_app.command("history")
def zones_history(zone: str) -> None:
    """Every version of a zone (by id, or by key such as frontage:unit:12:street:5:left)."""
    with exit_on_error():
        from ..people.parties import zone_history
        with migrated_engine().connect() as conn:
            for v in zone_history(conn, zone):
                console.print(f"v{v['version']} zone {v['id']} {v['valid_from']} → {v['valid_to'] or 'now'}: "
                              f"{v['party_name']} ({v['party_kind']}) by {v['created_by']}", highlight=False)


@zones_app.command("reassign")
def zones_reassign(zone_id: int, party: Annotated[int, typer.Option(help="party id")]) -> None:
    """Give a zone to another party: closes its current version and opens a new one."""
    with exit_on_error():
        from ..people.parties import reassign_zone
        with migrated_engine().begin() as conn:
            version = reassign_zone(conn, zone_id, party)
        console.print(f"zone {zone_id} now at version {version}")
