"""People and parties: grid officers and their grids, street stewards, reassigning a zone."""

from __future__ import annotations

import json

from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..db.sql import sql
from ..errors import InputError, NotFoundError


def sync_parties(conn: Connection) -> None:
    """The parties the city layers imply (units, compound managers, market operators), an unnamed unit's
    party named by its kind from the catalogue ("未命名 便利店")."""
    cat = load_catalogue()
    categories = conn.execute(sql("unit_categories_unnamed")).scalars().all()
    labels = {c: cat.unit_label(None, c) for c in categories}
    conn.execute(sql("sync_parties"), {"labels": json.dumps(labels, ensure_ascii=False)})


def add_officer(conn: Connection, name: str, phone: str | None, grids: list[str]) -> int:
    """A grid officer 网格员 looking after grids (by grid code or community code prefix)."""
    if not grids:
        raise InputError("an officer needs at least one --grid CODE")
    codes: list[str] = []
    for g in grids:
        found = conn.execute(sql("grid_codes_starting"), {"p": g + "%"}).scalars().all()
        if not found:
            raise NotFoundError(f"no grid with code {g!r} (or starting with it); run `gridsvc build grid` first?")
        codes += found
    party = conn.execute(sql("officer_party_insert"),
                         {"ref": f"officer:{name}:{phone or ''}", "n": name, "p": phone}).scalar()
    officer = conn.execute(sql("officer_insert"), {"n": name, "p": phone, "party": party}).scalar()
    conn.execute(sql("officer_grids_insert"), {"o": officer, "c": sorted(set(codes))})
    return officer


def set_steward(conn: Connection, street: str, name: str, phone: str | None, by: str = "cli") -> tuple[int, int]:
    """Make someone the steward 街巷管家 of a street (by id or exact name); street-space zones get new versions."""
    ids = conn.execute(sql("street_ids_by_id_or_name"), {"s": street}).scalars().all()
    if not ids:
        raise NotFoundError(f"no street with id or name {street!r}")
    party = conn.execute(sql("steward_party_upsert"),
                         {"ref": f"steward:{name}:{phone or ''}", "n": name, "p": phone}).scalar()
    conn.execute(sql("streets_set_steward"), {"p": party, "ids": ids})
    from ..zones.edits import hand_over

    zone_ids = conn.execute(sql("street_space_zones_of_others"), {"ids": ids, "p": party}).scalars().all()
    hand_over(conn, zone_ids, party, by=by)
    return party, len(zone_ids)


def reassign_zone(conn: Connection, zone_id: int, party_id: int, by: str = "cli") -> int:
    """Give a current zone (by its id) to another existing party, as a new planner version; returns the version."""
    from ..versions import ANY_VERSION
    from ..zones.edits import replace_zone, zone_feature

    replace_zone(conn, zone_id, {"type": "Feature", "geometry": None, "properties": {"party_id": party_id}},
                 expected_version=ANY_VERSION, by=by)
    return int(zone_feature(conn, zone_id)["version"])


def zone_history(conn: Connection, zone: str) -> list[dict]:
    """Every version of a zone (by id or key), oldest first, with its party."""
    rows = conn.execute(sql("zone_history"),
                        {"k": zone, "i": int(zone) if str(zone).isdigit() else -1}).mappings().all()
    if not rows:
        raise NotFoundError(f"no zone {zone!r}")
    return [dict(r) for r in rows]
