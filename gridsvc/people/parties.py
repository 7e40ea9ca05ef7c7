"""People and parties: grid officers and their grids, street stewards, reassigning a zone."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from ..city.catalogue import load_catalogue
from ..db.sql import sql
from ..errors import InputError, NotFoundError


def sync_parties(conn: Connection) -> None:
    """The parties the city layers imply (units, compound managers, market operators), an unnamed unit's
    party named by its kind from the catalogue ("未命名 便利店")."""
    cat = load_catalogue()
    categories = conn.execute(text("SELECT DISTINCT coalesce(category, '') FROM units "
                                   "WHERE name IS NULL OR btrim(name) = ''")).scalars().all()
    labels = {c: cat.unit_label(None, c) for c in categories}
    conn.execute(sql("sync_parties"), {"labels": json.dumps(labels, ensure_ascii=False)})


def add_officer(conn: Connection, name: str, phone: str | None, grids: list[str]) -> int:
    """A grid officer 网格员 looking after grids (by grid code or community code prefix)."""
    if not grids:
        raise InputError("an officer needs at least one --grid CODE")
    codes: list[str] = []
    for g in grids:
        found = conn.execute(text("SELECT code FROM grid_cells WHERE code LIKE :p ORDER BY code"),
                             {"p": g + "%"}).scalars().all()
        if not found:
            raise NotFoundError(f"no grid with code {g!r} (or starting with it); run `gridsvc build grid` first?")
        codes += found
    party = conn.execute(text(
        "INSERT INTO parties (kind, ref, name, phone) VALUES ('grid_officer', :ref, :n, :p) RETURNING id"),
        {"ref": f"officer:{name}:{phone or ''}", "n": name, "p": phone}).scalar()
    officer = conn.execute(text("INSERT INTO officers (name, phone, party_id) VALUES (:n, :p, :party) RETURNING id"),
                           {"n": name, "p": phone, "party": party}).scalar()
    conn.execute(text("INSERT INTO officer_grids (officer_id, grid_code) SELECT :o, unnest(CAST(:c AS text[])) "
                      "ON CONFLICT DO NOTHING"), {"o": officer, "c": sorted(set(codes))})
    return officer


def set_steward(conn: Connection, street: str, name: str, phone: str | None, by: str = "cli") -> tuple[int, int]:
    """Make someone the steward 街巷管家 of a street (by id or exact name); street-space zones get new versions."""
    ids = conn.execute(text("SELECT id FROM streets WHERE CAST(id AS text) = :s OR name = :s"), {"s": street}).scalars().all()
    if not ids:
        raise NotFoundError(f"no street with id or name {street!r}")
    party = conn.execute(text(
        "INSERT INTO parties (kind, ref, name, phone) VALUES ('street_steward', :ref, :n, :p) "
        "ON CONFLICT (kind, ref) DO UPDATE SET phone = EXCLUDED.phone RETURNING id"),
        {"ref": f"steward:{name}:{phone or ''}", "n": name, "p": phone}).scalar()
    conn.execute(text("UPDATE streets SET steward_party_id = :p WHERE id = ANY(:ids)"), {"p": party, "ids": ids})
    from ..zones.edits import hand_over

    zone_ids = conn.execute(text("SELECT zone_id FROM zones WHERE valid_to IS NULL AND kind = 'street_space' "
                                 "AND street_id = ANY(:ids) AND party_id IS DISTINCT FROM :p ORDER BY zone_id"),
                            {"ids": ids, "p": party}).scalars().all()
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
    rows = conn.execute(text(
        "SELECT z.zone_id AS id, z.version, z.kind, z.origin, z.policy, z.valid_from, z.valid_to, z.created_by, "
        "p.kind AS party_kind, p.name AS party_name FROM zones z LEFT JOIN parties p ON p.id = z.party_id "
        "WHERE z.zone_key = :k OR z.zone_id = :i ORDER BY z.version"),
        {"k": zone, "i": int(zone) if str(zone).isdigit() else -1}).mappings().all()
    if not rows:
        raise NotFoundError(f"no zone {zone!r}")
    return [dict(r) for r in rows]
