"""The organisation the cases need: street steward teams (街长/路长 teams) and the named 楼院长 of compounds.

Departments are data (geodata/ops/departments.toml, synced to the departments table by `gridsvc ops sync`);
the chain 区 → 街道 → 社区 → 网格 is admin_units and the grid codes. A steward team looks after a street (or a
segment of one): one leader and members, each from a department (the street office is the department
`subdistrict`, 街道办). A named 楼院长 takes a compound's zones as new versions (MapIt style: the earlier holder
stays in the earlier versions, so a lookup or a case of an earlier date names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import ConflictError, InputError, NotFoundError
from ..ops.rules.categories import load_departments
from ..timekeeping import iso, parse_when, today

ROLE_ZH = {"leader": "队长", "member": "队员"}
# The headers of a team sheet (CSV or XLSX), one row per member; rows with the same 队名 make one team.
SHEET_HEADERS = {"队名": "team", "街道": "street", "路段": "segment", "角色": "role", "姓名": "name", "电话": "phone",
                 "部门": "department"}
LEADER_WORDS = {"队长", "街长", "路长", "leader", "组长"}


@dataclass(frozen=True)
class Member:
    """A team member: name, phone, department (a departments.toml code or its Chinese name), leader or not."""

    name: str
    phone: str | None
    department: str
    role: str = "member"


def department_code(value: str, *, where: str = "department") -> str:
    """A departments.toml code from its code or Chinese name (街道办 is `subdistrict`); InputError naming the
    departments otherwise."""
    deps = load_departments()
    text = (value or "").strip()
    if text in deps:
        return text
    for code, dep in deps.items():
        if text == dep.zh:
            return code
    raise InputError(f"unknown department {value!r}; departments: "
                     + ", ".join(f"{c} ({d.zh})" for c, d in deps.items()), where=where)


def add_team(conn: Connection, name: str, street: str, members: list[Member], *, segment: str | None = None,
             note: str | None = None, by: str = "cli") -> int:
    """A steward team for a street (id or exact name) or a segment of it: exactly one leader; returns its id."""
    name = (name or "").strip()
    if not name:
        raise InputError("a team needs a name", where="name")
    leaders = [m for m in members if m.role == "leader"]
    if len(leaders) != 1:
        raise InputError(f"a team has exactly one leader (队长), this one has {len(leaders)}", where="members")
    for i, m in enumerate(members):
        if m.role not in ROLE_ZH:
            raise InputError(f"role must be leader or member, got {m.role!r}", where=f"members[{i}].role")
        if not m.name.strip():
            raise InputError("a member needs a name", where=f"members[{i}].name")
    codes = [department_code(m.department, where=f"members[{i}].department") for i, m in enumerate(members)]
    ids = conn.execute(sql("street_ids_by_id_or_name"), {"s": street.strip()}).scalars().all()
    if not ids:
        raise NotFoundError(f"no street with id or name {street!r}")
    if conn.execute(sql("steward_team_by_name"), {"n": name}).first() is not None:
        raise ConflictError(f"a steward team named {name!r} exists already")
    team = conn.execute(sql("steward_team_insert"), {"name": name, "street": street.strip(), "ids": list(ids),
                                                     "segment": segment or None, "note": note or None,
                                                     "by": by}).scalar_one()
    ordered = sorted(zip(members, codes, strict=True), key=lambda mc: mc[0].role != "leader")
    for seq, (m, code) in enumerate(ordered, start=1):
        conn.execute(sql("steward_member_insert"), {"team": team, "seq": seq, "role": m.role, "name": m.name.strip(),
                                                    "phone": (m.phone or "").strip() or None, "dept": code})
    return team


def list_teams(conn: Connection, street: str | None = None, limit: int = 200, offset: int = 0, *,
               team_id: int | None = None) -> list[dict]:
    """Steward teams with their members (leader first), each member's department named; of one street if given."""
    deps = load_departments()
    ids = conn.execute(sql("street_ids_by_id_or_name"), {"s": street}).scalars().all() if street else []
    rows = conn.execute(sql("steward_teams_list"), {"street": street, "ids": list(ids), "team": team_id,
                                                    "limit": limit, "offset": offset}).mappings().all()
    out = []
    for r in rows:
        members = [{"role": m["role"], "role_zh": ROLE_ZH[m["role"]], "contact": m["name"], "phone": m["phone"],
                    "department": m["department"],
                    "department_zh": deps[m["department"]].zh if m["department"] in deps else m["department"]}
                   for m in r["members"]]  # a member's name is personal data: "contact", masked like one
        out.append({**dict(r), "created_at": iso(r["created_at"]), "members": members})
    return out


def import_teams(conn: Connection, path: Path, by: str = "cli") -> list[int]:
    """Teams from a CSV/XLSX sheet with Chinese headers (队名, 街道, 路段, 角色, 姓名, 电话, 部门), one row per
    member; all or nothing (the caller's transaction), bad rows named by their spreadsheet row."""
    from ..city.readers.ledger import _read_table  # the ledgers' reader: encodings, title rows, XLSX

    table, rows, _notes, formulas = _read_table(Path(path), None, set(SHEET_HEADERS))
    missing = [h for h in SHEET_HEADERS if h not in table.columns and h != "路段"]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; a team sheet has the headers "
                         + ", ".join(SHEET_HEADERS), source=Path(path).name)
    if formulas.cells:
        (r, _c), text = next(iter(formulas.cells.items()))
        raise InputError(f"row {r} holds a formula ({text[:40]}); paste values and import again",
                         source=Path(path).name)
    teams: dict[str, dict] = {}
    for row_no, rec in zip(rows, table.to_dict("records"), strict=True):
        team = rec["队名"].strip()
        if not team:
            raise InputError(f"row {row_no}: 队名 is empty", source=Path(path).name)
        t = teams.setdefault(team, {"street": rec["街道"].strip(), "segment": rec.get("路段", "").strip(),
                                    "members": []})
        role = "leader" if rec["角色"].strip() in LEADER_WORDS else "member"
        t["members"].append((row_no, Member(rec["姓名"], rec["电话"], rec["部门"], role)))
    ids = []
    for name, t in teams.items():
        try:
            ids.append(add_team(conn, name, t["street"], [m for _r, m in t["members"]], segment=t["segment"] or None,
                                by=by))
        except (InputError, NotFoundError, ConflictError) as e:
            rows_of = ", ".join(str(r) for r, _m in t["members"])
            raise type(e)(f"team {name!r} (rows {rows_of}): {e.message}") from None
    return ids


# ---- 楼院长 ----

def set_compound_head(conn: Connection, compound_id: int, name: str, phone: str | None,
                      since: str | date | None = None, by: str = "cli") -> dict:
    """Name the 楼院长 of a compound without a property manager: a party of their own (building_head) takes the
    compound's zones as new versions; the previous appointment ends. Returns the appointment."""
    from ..zones.edits import hand_over

    name = (name or "").strip()
    if not name:
        raise InputError("the 楼院长 needs a name", where="name")
    day = today() if since is None else parse_when(since, where="since")
    if not isinstance(day, date) or hasattr(day, "hour"):
        raise InputError("since is a date such as 2026-05-01", where="since")
    if day > today():
        raise InputError(f"since {day} is in the future: name the 楼院长 on the day they start", where="since")
    c = conn.execute(sql("compound_for_head"), {"c": compound_id}).mappings().first()
    if c is None:
        raise NotFoundError(f"no compound {compound_id}")
    if c["kind"] != "residential" or c["property_manager"]:
        holder = c["property_manager"] or "the institution"
        raise ConflictError(f"compound {compound_id} ({c['name'] or '未命名'}) has a property manager ({holder}): "
                            "a 楼院长 is named only where there is none (无物业)")
    label = f"{c['name'] or f'小区 #{compound_id}'} 楼院长"
    party = conn.execute(sql("party_insert"), {"kind": "building_head",
                                               "ref": f"compound_head:{compound_id}:{c['appointments'] + 1}",
                                               "name": label, "contact": name,
                                               "phone": (phone or "").strip() or None}).mappings().one()
    conn.execute(sql("compound_head_close"), {"c": compound_id, "d": day})
    head = conn.execute(sql("compound_head_insert"), {"c": compound_id, "p": party["id"], "name": name,
                                                      "phone": party["phone"], "since": day, "by": by}).scalar_one()
    zones = conn.execute(sql("compound_zones_of_others"), {"c": compound_id, "p": party["id"]}).scalars().all()
    hand_over(conn, list(zones), party["id"], by=by)
    return {"id": head, "compound_id": compound_id, "compound": c["name"], "party_id": party["id"],
            "party_name": label, "contact": name, "phone": party["phone"], "since": day.isoformat(),
            "zones": list(zones), "previous_party_id": c["head_party_id"]}


def compound_heads(conn: Connection, compound_id: int) -> list[dict]:
    """Every 楼院长 appointment of a compound, newest first."""
    rows = conn.execute(sql("compound_heads_of"), {"c": compound_id}).mappings().all()
    return [{k: (str(v) if v is not None and k in ("since", "until") else v) for k, v in r.items() if k != "name"}
            | {"contact": r["name"], "assigned_at": iso(r["assigned_at"])} for r in rows]
