"""Cases (问题/案卷) on the database: opening one (routed at the place and time of the report), acting on it
through the flow (geodata/ops/case_flow.toml), reading and listing them, and the tick that marks overdue cases
and escalates them (督办).

Every write here runs inside the caller's transaction (the API's request connection, the CLI's engine.begin());
the caller commits, so each transition is one transaction, audited by the table triggers (migration 0010).
The order of checks is the project's: role and scope first (check_case_scope, before the request's body is
read), then the content (action known, role allowed for that action, required fields), then conflicts (version:
428/412; state: 409 naming the state and the actions allowed from it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ...db.queries.cases import case_update
from ...db.sql import sql
from ...errors import ConflictError, ForbiddenError, InputError, NotFoundError
from ...timekeeping import instant, iso, zone
from ...versions import require_version
from ...zones.lookup import lookup, to_wgs84_point
from ..rules.calendar import add_limit
from ..rules.categories import load_categories, load_departments
from ..rules.escalation import load_escalation
from ..rules.flow import Flow, load_flow
from ..rules.limits import STAGE_ZH, STAGES, load_time_limits

SOURCES = ("inspection", "grid_officer", "steward", "leader", "citizen", "hotline", "dispatcher")
SOURCE_ZH = {"inspection": "巡查", "grid_officer": "网格员上报", "steward": "街长/管家上报", "leader": "领导暗访",
             "citizen": "市民投诉", "hotline": "12345热线", "dispatcher": "指挥中心"}
MAX_PHOTOS = 20


class CaseStateError(ConflictError):
    """An action the case's state does not allow (409), naming the state and the actions allowed from it."""


# ---- departments ----

def sync_departments(conn: Connection) -> int:
    """Bring the departments table in line with departments.toml (new and changed rows; those no longer in the
    file are marked inactive, never deleted: old cases name them). Returns the rows written."""
    deps = list(load_departments().values())
    n = conn.execute(sql("departments_sync"),
        {"c": [d.code for d in deps], "zh": [d.zh for d in deps], "en": [d.en for d in deps],
         "l": [d.leader_zh for d in deps], "n": [d.note for d in deps]}).rowcount
    n += conn.execute(sql("departments_retire"),
                      {"c": [d.code for d in deps]}).rowcount
    return n


# ---- deadlines ----

def _limits(category: str, urgency: str):
    return load_time_limits().for_case(category, urgency)


def project_deadlines(category: str, urgency: str, stage: str, start: datetime,
                      known: dict[str, str] | None = None) -> dict[str, str]:
    """Each stage's deadline: those before `stage` as known, `stage` counted from `start`, the later ones projected
    as if each stage ended at its deadline (they are counted again from the real time when their stage starts)."""
    limits = _limits(category, urgency)
    out = {s: v for s, v in (known or {}).items() if STAGES.index(s) < STAGES.index(stage)}
    at = start
    for s in STAGES[STAGES.index(stage):]:
        at = add_limit(at, limits.get(s))
        out[s] = at.isoformat()
    return out


def _escalate_at(due: datetime, urgency: str) -> list[datetime]:
    return [at for _lv, at in load_escalation().due(due, urgency)]


# ---- scope ----

def in_grids(grid_code: str | None, grids) -> bool:
    return grid_code is not None and (grid_code in grids or grid_code[:12] in grids)


def check_case_scope(conn: Connection, case_id: int, principal) -> None:
    """Permission before content: a grid officer acts only on cases in their grids, a party only on its own
    cases (403). An unknown case has no scope yet (404 later)."""
    if principal is None or principal.role not in ("grid_officer", "party"):
        return
    row = conn.execute(sql("case_scope_row"), {"i": case_id}).first()
    if row is None:
        return
    if principal.role == "grid_officer" and not in_grids(row.grid_code, principal.grids):
        raise ForbiddenError(f"case {case_id} lies outside your grids ({', '.join(principal.grids)}) "
                             f"(grid {row.grid_code or 'none'})", where="case")
    if principal.role == "party" and (principal.party_id is None or row.party_id != principal.party_id):
        raise ForbiddenError(f"case {case_id} is not one of your party's cases", where="case")


def grid_at(conn: Connection, lng: float, lat: float, crs: str = "wgs84") -> str | None:
    """The grid code of the cell holding a point (None outside the grid)."""
    x, y = to_wgs84_point(lng, lat, crs)
    return conn.execute(sql("grid_code_at"), {"x": x, "y": y}).scalar()


def check_report_scope(conn: Connection, lng: Any, lat: Any, crs: Any, principal) -> None:
    """A grid officer reports only inside their grids (403); what cannot be read is refused later (422)."""
    if principal is None or principal.role != "grid_officer":
        return
    try:
        grid = grid_at(conn, float(lng), float(lat), str(crs or "wgs84"))
    except (InputError, TypeError, ValueError):
        return
    if not in_grids(grid, principal.grids):
        raise ForbiddenError(f"the point lies outside your grids ({', '.join(principal.grids)}) "
                             f"(grid {grid or 'none'})", where="point")


# ---- opening a case ----

def _next_code(conn: Connection, at: datetime) -> str:
    day = at.astimezone(zone()).date()
    n = conn.execute(sql("case_code_next"), {"d": day}).scalar_one()
    return f"{day:%Y%m%d}{n:05d}"


def _event(conn: Connection, case_id: int, action: str, from_state: str | None, to_state: str | None, *,
           actor: str, role: str | None, at: datetime, note: str | None = None, photos: list[str] | None = None,
           data: dict | None = None) -> None:
    conn.execute(sql("case_event_insert"),
        {"c": case_id, "a": action, "f": from_state, "t": to_state, "actor": actor, "role": role, "at": at,
         "note": note, "photos": photos or [], "data": json.dumps(data or {}, ensure_ascii=False, default=str)})


def check_photos(conn: Connection, photos: list[str] | None) -> list[str]:
    photos = list(dict.fromkeys(photos or []))
    if len(photos) > MAX_PHOTOS:
        raise InputError(f"at most {MAX_PHOTOS} photos", where="photos")
    if photos:
        found = set(conn.execute(sql("photos_found"),
                                 {"s": photos}).scalars())
        missing = [p for p in photos if p not in found]
        if missing:
            raise InputError(f"no uploaded photo with sha256 {', '.join(missing[:3])}: POST /uploads first",
                             where="photos")
    return photos


@dataclass(frozen=True)
class Holder:
    """The party a case goes to whatever the place says (an inspected target's duty holder)."""

    unit_id: int | None
    party_id: int | None
    party_name: str | None
    why: str


def open_case(conn: Connection, *, lng: float, lat: float, category: str, description: str, source: str,
              crs: str = "wgs84", urgency: str | None = None, problem: str | None = None,
              reporter_name: str | None = None, reporter_phone: str | None = None,
              external_ids: dict[str, str] | None = None, reported_at: str | datetime | None = None,
              photos: list[str] | None = None, actor: str, role: str | None, now: datetime | None = None,
              holder: Holder | None = None, routing_extra: dict | None = None) -> int:
    """A new case in state 受理 (accepted), routed by the place and time of the report; returns its id.

    `holder`: the party whose duty was checked when the case comes from an inspection of a named target (a unit's
    门前三包, a market, a compound). The case goes to that holder (属主: the duty is theirs wherever the point of the
    case falls), and the routing keeps the place's own answer beside it.

    `routing_extra`: more of what the report said, kept in the case's routing JSON by key (Open311: 'open311').

    The category (categories.toml) gives the kind (事件 → 事件先属地后属主, 部件 → 部件先属主后属地), the
    department and the default urgency (a 部件 problem kind, e.g. missing, may make it urgent). Deadlines of the
    four stages come from time_limits.toml, counted from the report time on the China working calendar.
    """
    now = now or datetime.now(zone())
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}, got {source!r}", where="source")
    fields = case_fields(conn, lng=lng, lat=lat, category=category, description=description, crs=crs,
                         urgency=urgency, problem=problem, reported_at=reported_at, photos=photos, now=now)
    photos = fields.pop("photos")
    at = fields["at"]
    routing = json.loads(fields["routing"])
    if holder is not None and holder.party_id is not None:
        routing["holder"] = {"unit_id": holder.unit_id, "party_id": holder.party_id, "party": holder.party_name,
                             "place_party": fields["pname"]}
        fields.update(unit=holder.unit_id, pid=holder.party_id, pname=holder.party_name, rule=f"属主: {holder.why}")
    routing.update(routing_extra or {})
    fields["routing"] = json.dumps(routing, ensure_ascii=False, default=str)
    case_id = conn.execute(sql("case_insert"),
        {**fields, "code": _next_code(conn, at), "src": source, "rn": reporter_name, "rp": reporter_phone,
         "by": actor, "ext": json.dumps(external_ids or {}, ensure_ascii=False)}).scalar_one()
    _event(conn, case_id, "report", None, "accepted", actor=actor, role=role, at=at, note=fields["desc"],
           photos=photos, data={"source": source, "problem": problem, "urgency": fields["urg"]})
    return case_id


def case_fields(conn: Connection, *, lng: float, lat: float, category: str, description: str, crs: str = "wgs84",
                urgency: str | None = None, problem: str | None = None,
                reported_at: str | datetime | None = None, photos: list[str] | None = None,
                now: datetime) -> dict:
    """What a case in 受理 takes from its category, place and report time: kind, urgency, the routing of that place
    and time, and the deadlines (the parameters of case_insert.sql). Shared by open_case and the hotline import,
    which re-routes a case still in 受理 when its work order changes."""
    cats = load_categories()
    cat = cats.get(category)
    if not description or not description.strip():
        raise InputError("describe the problem", where="description")
    if problem is not None:
        kinds = {p.code: p for p in cat.problems}
        if problem not in kinds:
            raise InputError(f"category {category} has no problem kind {problem!r}"
                             + (f"; kinds: {', '.join(kinds)}" if kinds else ""), where="problem")
        urgency = urgency or kinds[problem].urgency
    urgency = urgency or cat.urgency
    if urgency not in ("urgent", "normal"):
        raise InputError(f"urgency must be urgent or normal, got {urgency!r}", where="urgency")
    at = instant(reported_at, where="reported_at") if reported_at is not None else now
    if at > now:
        raise InputError(f"reported_at {at.isoformat()} is in the future", where="reported_at")
    photos = check_photos(conn, photos)
    try:
        routed = lookup(conn, lng, lat, crs=crs, at=at, subject=cat.kind)
    except NotFoundError as e:
        raise InputError(str(e), where="point") from None
    zone_row = routed["zone"]
    party = None
    if zone_row is not None:
        party = conn.execute(sql("case_zone_party"),
                             {"z": zone_row["id"], "v": zone_row["version"]}).first()
    grid = routed["cell"]["grid_code"]
    officer = conn.execute(sql("grid_officer_first"), {"g": grid}).first() if grid else None
    if conn.execute(sql("department_exists"), {"c": cat.department}).first() is None:
        sync_departments(conn)
    deadlines = project_deadlines(category, urgency, "register", at)
    due = datetime.fromisoformat(deadlines["register"])
    rule = f"{routed['rule']['rule']}: {routed['rule']['applied']}"
    routing = {k: routed[k] for k in ("kind", "primary", "secondary", "rule", "cell")}
    routing["zone"] = None if zone_row is None else {k: zone_row[k] for k in ("id", "key", "version", "kind",
                                                                             "policy", "unit_id")}
    return {"cat": category, "kind": cat.kind, "urg": urgency, "desc": description.strip(), "at": at,
            "x": routed["point"]["lng"], "y": routed["point"]["lat"],
            "zid": zone_row["id"] if zone_row else None, "zv": zone_row["version"] if zone_row else None,
            "zk": routed["kind"], "unit": zone_row["unit_id"] if zone_row else None,
            "pid": party.id if party else None, "pname": party.name if party else None, "grid": grid,
            "oid": officer.id if officer else None, "oname": officer.name if officer else None,
            "dept": cat.department, "rule": rule, "routing": json.dumps(routing, ensure_ascii=False, default=str),
            "deadlines": json.dumps(deadlines), "due": due, "esc": _escalate_at(due, urgency), "photos": photos}


# ---- acting on a case ----

def _parse_deadline(value: Any, now: datetime) -> datetime:
    if value is None:
        raise InputError("new_deadline is required (an ISO time)", where="new_deadline")
    when = instant(value, where="new_deadline")
    if when <= now:
        raise InputError(f"new_deadline {when.isoformat()} must be later than now ({now.isoformat()})",
                         where="new_deadline")
    return when


def act(conn: Connection, case_id: int, action: str, *, principal, expected_version: int | str | None,
        note: str | None = None, photos: list[str] | None = None, duplicate_of: int | None = None,
        new_deadline: str | datetime | None = None, data: dict | None = None, now: datetime | None = None) -> dict:
    """Take `action` on a case: one transition (the caller commits). Returns the transition's summary.

    Order: scope (a grid officer's grids, a party's own cases: 403), then the action's content (unknown action,
    role not allowed for it: 403, required fields: 422), then the version (428/412), then the state (409).
    """
    now = now or datetime.now(zone())
    check_case_scope(conn, case_id, principal)
    flow = load_flow()
    if action not in flow.actions:
        raise InputError(f"unknown action {action!r}; actions: {', '.join(flow.actions)}", where="action")
    spec = flow.actions[action]
    role = principal.role
    if role not in spec.roles:
        raise ForbiddenError(f"role {role!r} may not {action} ({spec.zh}); needs {' or '.join(spec.roles)}",
                             where="action")
    note = (note or "").strip() or None
    fields = {"note": note, "photos": photos, "duplicate_of": duplicate_of, "new_deadline": new_deadline}
    missing = [f for f in spec.requires if not fields[f]]
    if missing:
        raise InputError(f"{action} ({spec.zh}) needs {', '.join(missing)}", where=missing[0])
    photos = check_photos(conn, photos)
    deadline = _parse_deadline(new_deadline, now) if spec.deadline == "new_deadline" else None
    row = conn.execute(sql("case_for_update"), {"i": case_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    if duplicate_of is not None:
        if duplicate_of == case_id:
            raise InputError("a case cannot duplicate itself", where="duplicate_of")
        original = conn.execute(sql("case_root"), {"i": duplicate_of, "c": None}).first()
        if original is None:
            raise InputError(f"no case {duplicate_of} to be a duplicate of", where="duplicate_of")
        if original.duplicate_of is not None:  # one level only: a case's reporters follow a case that counts
            raise InputError(f"case {duplicate_of} is itself a duplicate of case {original.duplicate_of}: mark this "
                             f"one a duplicate of {original.duplicate_of}", where="duplicate_of")
    require_version(case_id, row["version"], expected_version, what="case", field="version", case_id=case_id)
    state = row["state"]
    if state not in spec.from_:
        allowed = flow.allowed(state, role)
        raise CaseStateError(
            f"case {case_id} is {flow.label(state)}: {action} ({spec.zh}) is taken only from "
            f"{', '.join(spec.from_)}; from {state} role {role!r} may "
            + (", ".join(allowed) if allowed else "take no action"),
            current_state=state, allowed_actions=allowed)
    to = flow.target(action, row["prior_state"])
    changes = _clock(flow, row, to, spec.restart, deadline, now)
    prior = state if flow.actions[action].to != "previous" else None
    extra = {}
    if duplicate_of is not None:
        extra["duplicate_of"] = duplicate_of
    if action == "verify_fail":
        extra["rework_count"] = row["rework_count"] + 1
    sets = {**changes, **extra, "state": to, "prior_state": prior,
            "closed_at": now if flow.states[to].final else None}
    conn.execute(case_update(sets),
                 {**{k: (json.dumps(v) if k == "deadlines" else v) for k, v in sets.items()}, "now": now,
                  "id": case_id})
    event_data = dict(data or {})
    if deadline is not None:
        event_data["new_deadline"] = deadline.isoformat()
    if duplicate_of is not None:  # its reporters (随手拍, ops/citizens/reports.py) follow the original from now on
        event_data["duplicate_of"] = duplicate_of
        event_data["reporters_moved"] = conn.execute(sql("reports_move"),
                                                     {"a": duplicate_of, "b": case_id, "now": now}).rowcount
    if row["due_at"] is not None:
        event_data["stage_deadline"] = iso(row["due_at"])
        event_data["on_time"] = now <= row["due_at"]
    _event(conn, case_id, action, state, to, actor=principal.name, role=role, at=now, note=note, photos=photos,
           data=event_data)
    return {"case_id": case_id, "action": action, "from": state, "to": to, "version": row["version"] + 1}


def _clock(flow: Flow, row, to: str, restart: str | None, deadline: datetime | None, now: datetime) -> dict:
    """The stage columns after a transition: the clock of the new state's stage, restarted when the action says so
    or the stage changes, set to the new deadline of a granted extension, stopped in a state without a stage."""
    stage = flow.states[to].stage
    if stage is None:
        return {"stage": None, "due_at": None, "escalate_at": None, "stage_started_at": None,
                "escalation_level": 0, "overdue_marked_at": None}
    known = dict(row["deadlines"])
    if deadline is not None:
        due = deadline
        known[stage] = due.isoformat()
        deadlines = known
    elif restart or stage != row["stage"]:
        deadlines = project_deadlines(row["category"], row["urgency"], stage, now, known)
        due = datetime.fromisoformat(deadlines[stage])
    else:
        return {}
    return {"stage": stage, "due_at": due, "escalate_at": _escalate_at(due, row["urgency"]), "stage_started_at": now,
            "escalation_level": 0, "overdue_marked_at": None, "deadlines": deadlines}


# ---- reading ----

def _case_dict(row, events: list | None, flow: Flow, role: str | None, in_scope: bool, now: datetime) -> dict:
    cats = load_categories()
    cat = cats.by_code.get(row["category"])
    deps = load_departments()
    dep = deps.get(row["department"])
    state = flow.states[row["state"]]
    due = row["due_at"]
    out = {
        "id": row["id"], "code": row["code"], "state": row["state"], "state_zh": state.zh,
        "category": cat.as_dict() if cat else {"code": row["category"]},
        "kind": row["kind"], "urgency": row["urgency"], "description": row["description"],
        "source": row["source"], "source_zh": SOURCE_ZH.get(row["source"], row["source"]),
        "reporter": {"contact": row["reporter_name"], "phone": row["reporter_phone"]},
        "reported_by": row["reported_by"], "reported_at": iso(row["reported_at"]),
        "point": {"lng": row["lng"], "lat": row["lat"]},
        "routing": {
            "zone_id": row["route_zone_id"], "zone_version": row["zone_version"], "zone_kind": row["zone_kind"],
            "unit_id": row["unit_id"], "party_id": row["party_id"], "party_name": row["party_name"],
            "grid_code": row["grid_code"], "grid_officer": row["officer_name"], "officer_id": row["officer_id"],
            "department": {"code": row["department"], "zh": dep.zh if dep else None,
                           "leader_zh": dep.leader_zh if dep else None},
            "rule": row["rule"], "at_report": row["routing"]},
        "deadlines": {s: {"zh": STAGE_ZH[s], "due": row["deadlines"].get(s)} for s in STAGES},
        "stage": row["stage"], "stage_zh": STAGE_ZH.get(row["stage"]) if row["stage"] else None,
        "due_at": iso(due), "overdue": due is not None and due < now,
        "overdue_by_minutes": round((now - due).total_seconds() / 60) if due is not None and due < now else 0,
        "escalation_level": row["escalation_level"], "escalations": row["escalations"],
        "ever_overdue": row["ever_overdue"] or (due is not None and due < now),
        "on_time_figures": state.on_time_figures, "rework_count": row["rework_count"],
        "duplicate_of": row["duplicate_of"], "external_ids": row["external_ids"], "version": row["version"],
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]), "closed_at": iso(row["closed_at"]),
        "allowed_actions": flow.allowed(row["state"], role) if in_scope and role else [],
    }
    if events is not None:
        out["events"] = events
    return out


def _in_scope(row, principal) -> bool:
    if principal is None:
        return False
    if principal.role == "grid_officer":
        return in_grids(row["grid_code"], principal.grids)
    if principal.role == "party":
        return principal.party_id is not None and row["party_id"] == principal.party_id
    return True


def get_case(conn: Connection, case_id: int, principal=None, now: datetime | None = None) -> dict:
    """One case with its events, escalations and the actions the principal may take on it now."""
    now = now or datetime.now(zone())
    row = conn.execute(sql("case_by_id"), {"i": case_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    events = [dict(e) | {"at": iso(e["at"])} for e in conn.execute(sql("case_events"), {"i": case_id}).mappings()]
    out = _case_dict(row, events, load_flow(), principal.role if principal else None, _in_scope(row, principal), now)
    out["escalation_notices"] = [dict(e) | {"issued_at": iso(e["issued_at"]), "due_at": iso(e["due_at"])}
                                 for e in conn.execute(sql("case_escalations"), {"i": case_id}).mappings()]
    return out


def list_cases(conn: Connection, *, principal=None, grid: str | None = None, states: list[str] | None = None,
               overdue: bool | None = None, party: int | None = None, category: str | None = None,
               since: str | None = None, until: str | None = None, open_only: bool = False, mine: bool = False,
               order: str = "reported", limit: int = 100, offset: int = 0, now: datetime | None = None) -> dict:
    """Cases filtered and paged. since/until are dates or times as users give them (a date = a Beijing day).
    mine: a grid officer's grids, a party's own cases."""
    now = now or datetime.now(zone())
    flow = load_flow()
    for s in states or []:
        if s not in flow.states:
            raise InputError(f"unknown state {s!r}; states: {', '.join(flow.states)}", where="state")
    if order not in ("reported", "deadline"):
        raise InputError("order must be reported or deadline", where="order")
    grids = [grid] if grid else None
    if mine:
        if principal is None or principal.role not in ("grid_officer", "party"):
            raise InputError("mine=true is for a grid officer (their grids) or a party (its cases)", where="mine")
        if principal.role == "grid_officer":
            grids = [g for g in principal.grids if grid is None or g == grid] or ["-"]
        else:
            party = principal.party_id if party in (None, principal.party_id) else -1
    ids = conn.execute(sql("cases_list"), {
        "grids": grids, "states": states or None, "overdue": overdue, "party": party, "category": category,
        "since": None if since is None else instant(since, edge="start", where="since"),
        "until": None if until is None else instant(until, edge="after", where="until"),
        "open": open_only, "order": order, "limit": limit, "offset": offset, "now": now}).all()
    total = ids[0].total if ids else 0
    rows = {r["id"]: r for r in conn.execute(sql("cases_by_ids"),
                                             {"ids": [i.id for i in ids]}).mappings()}
    role = principal.role if principal else None
    items = [_case_dict(rows[i.id], None, flow, role, _in_scope(rows[i.id], principal), now) for i in ids]
    return {"total": total, "limit": limit, "offset": offset, "cases": items}


# ---- the tick ----

TICK_LOCK = 0x6772_6964_7469_636B & 0x7FFF_FFFF_FFFF_FFFF  # pg advisory lock key of `cases tick`


def tick(conn: Connection, now: datetime | None = None) -> dict:
    """Mark overdue cases and issue the 督办单 of every escalation level reached by `now` (default: now).

    Idempotent (a second run at the same now changes nothing) and safe to run from cron every minute: runs
    under a transaction-level advisory lock, and a tick that finds another one running returns at once.
    One set-based statement; the audit log gets one summary row per tick that changed something.
    """
    from ...people.audit import bulk

    now = now or datetime.now(zone())
    if not conn.execute(sql("case_tick_lock"), {"k": TICK_LOCK}).scalar_one():
        return {"now": now.isoformat(), "skipped": "another tick is running"}
    esc = load_escalation()
    deps = load_departments()
    from ...people.audit import start_bulk

    start_bulk(conn)
    r = conn.execute(sql("case_tick"), {
        "now": now, "codes": [lv.code for lv in esc.levels], "notify": [lv.notify for lv in esc.levels],
        "dept_codes": list(deps), "dept_leaders": [d.leader_zh for d in deps.values()]}).one()
    out = {"now": now.isoformat(), "overdue": r.overdue, "cases_marked": r.cases_marked,
           "escalations_issued": r.escalations_issued}
    if r.cases_marked or r.escalations_issued:
        bulk(conn, "tick", "cases", None, out)
    return out
