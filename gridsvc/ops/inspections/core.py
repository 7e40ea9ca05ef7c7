"""Inspections (巡查, 暗访) on the database: recording one against a checklist, its derived score, the cases its
failed items open (in the same transaction), reading and listing them.

An inspection keeps what it was made against as values of the moment (migration 0011): the target's unit, zone,
party and grid cell at the inspection time, found like a case's routing. Every write runs inside the caller's
transaction (the API's request connection, the CLI's engine.begin()); the caller commits, so an inspection and
the cases it opens are one transaction: a case that cannot be opened leaves no inspection behind.

The order of checks is the project's: role and scope first (a grid officer records only inside their grids:
check_record_scope, before the body is validated), then the content (one InputError naming what and where).

Scoring (docs/operations.md#inspections): every item of the checklist is answered exactly once with pass, fail or
na. `score` is the sum of the scores of the passed items, `max_score` the sum of the scores of the items not n.a.
(both NULL in a checklist without scores, or when every scored item is n.a.); `percent` is 100 × score / max_score
(items weigh 1 each in a checklist without scores: Checklist.score); `items_failed` counts the failed items and
the inspection `passed` when none failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import ConflictError, ForbiddenError, InputError, NotFoundError
from ...geo.crs import CLIENT_CRS
from ...timekeeping import instant, iso, zone
from ...zones.lookup import lookup, to_wgs84_point
from ..cases.core import Holder, check_photos, grid_at, in_grids, open_case
from ..rules.categories import load_categories
from ..rules.checklists import TARGET_KINDS, Checklist, Item, get_checklist
from ..rules.files import Strict, fail, ops_dir, read_toml, stamp, validate

# The kinds the inspections table accepts (migration 0011, inspection_inspector_kind_known).
INSPECTOR_KINDS: tuple[str, ...] = ("grid_officer", "steward", "chengguan", "volunteer", "compound_head", "leader",
                                    "third_party")
SOURCES = ("api", "field", "paper")
RESULTS = ("pass", "fail", "na")
RESULT_ZH = {"pass": "合格", "fail": "不合格", "na": "不适用"}
TARGETS_BY_ID = ("unit", "zone", "market", "compound", "street")
# Targets with a duty holder of their own: a case from a failed item goes to that holder (属主), wherever its point falls.
HOLDER_TARGETS = ("unit", "market", "compound")


# ---- inspector kinds, as data (geodata/ops/inspector_kinds.toml) ----

class InspectorKind(Strict):
    code: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    note: str = ""


class _KindsFile(Strict):
    kinds: tuple[InspectorKind, ...] = Field(min_length=1)


def parse_inspector_kinds(path: Path) -> dict[str, InspectorKind]:
    """The kinds of inspector of one file, checked: unique codes, each one the database accepts."""
    data = validate(_KindsFile, read_toml(path), path)
    out: dict[str, InspectorKind] = {}
    for i, kind in enumerate(data.kinds):
        where = f"kinds[{i}] (code {kind.code!r})"
        if kind.code in out:
            raise fail(path, where, f"duplicate code {kind.code!r}")
        if kind.code not in INSPECTOR_KINDS:
            raise fail(path, where, f"unknown kind {kind.code!r}: the inspections table takes "
                                    f"{', '.join(INSPECTOR_KINDS)} (a new kind needs a migration)")
        out[kind.code] = kind
    return out


def load_inspector_kinds() -> dict[str, InspectorKind]:
    """The kinds of inspector by code (geodata/ops/inspector_kinds.toml; cached while unchanged)."""
    return _kinds(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _kinds(folder: Path, _stamp: tuple) -> dict[str, InspectorKind]:
    return parse_inspector_kinds(folder / "inspector_kinds.toml")


def known_inspector_kind(code: Any) -> InspectorKind:
    """A known kind of inspector; InputError listing them."""
    kinds = load_inspector_kinds()
    if code not in kinds:
        raise InputError(f"unknown inspector kind {code!r}; kinds: "
                         + ", ".join(f"{k.code} ({k.zh})" for k in kinds.values()), where="inspector_kind")
    return kinds[code]


# ---- the target and its routing ----

@dataclass(frozen=True)
class Target:
    """What an inspection is made against, with the values of the moment."""

    kind: str
    ref: str | None
    name: str | None
    x: float  # the target's point (or the position of a bare point), WGS84
    y: float
    case_x: float  # where a case from a failed item is routed: the position, else the target's zone, else the target
    case_y: float
    unit_id: int | None
    zone_id: int | None
    party_id: int | None
    party_name: str | None
    grid_code: str | None


def _position(lng: Any, lat: Any, crs: Any) -> tuple[float, float] | None:
    if lng is None and lat is None:
        return None
    if lng is None or lat is None:
        raise InputError("give both lng and lat, or neither", where="position")
    if crs not in CLIENT_CRS:
        raise InputError(f"crs must be one of {', '.join(CLIENT_CRS)}, got {crs!r}", where="crs")
    return to_wgs84_point(float(lng), float(lat), crs)


def resolve_target(conn: Connection, kind: str, target_id: Any, position: tuple[float, float] | None,
                   at: datetime) -> Target:
    """The target at `at`, routed: a unit, zone, market, compound or street by id, or a bare point (the position)."""
    if kind not in TARGET_KINDS:
        raise InputError(f"target_kind must be one of {', '.join(TARGET_KINDS)}, got {kind!r}", where="target_kind")
    if kind == "point":
        if position is None:
            raise InputError("a point target needs the position (lng, lat, crs)", where="position")
        x, y = position
        try:
            routed = lookup(conn, x, y, at=at)
        except NotFoundError as e:
            raise InputError(str(e), where="position") from None
        z = routed["zone"]
        party = conn.execute(sql("case_zone_party"), {"z": z["id"], "v": z["version"]}).first() if z else None
        return Target(kind, None, None, x, y, x, y, z["unit_id"] if z else None, z["id"] if z else None,
                      party.id if party else None, party.name if party else None, routed["cell"]["grid_code"])
    if not isinstance(target_id, int) or isinstance(target_id, bool) or not 0 < target_id < 2**31:
        raise InputError(f"a {kind} target needs its id (target_id), got {target_id!r}", where="target_id")
    row = conn.execute(sql("inspection_target"), {"kind": kind, "id": target_id, "at": at}).first()
    if row is None:
        raise InputError(f"no {kind} {target_id}" + (f" current at {at.isoformat()}" if kind == "zone" else ""),
                         where="target_id")
    case_x, case_y = position or ((row.zx, row.zy) if row.zx is not None else (row.x, row.y))
    return Target(kind, str(target_id), row.name, row.x, row.y, case_x, case_y, row.unit_id, row.zone_id,
                  row.party_id, row.party_name, grid_at(conn, row.x, row.y))


def check_record_scope(conn: Connection, body: Any, principal) -> None:
    """Permission before content: a grid officer records only inside their grids (403), judged by the target's grid
    (a point's: the position's). What cannot be read has no scope yet and is refused later (422)."""
    if principal is None or principal.role != "grid_officer" or not isinstance(body, Mapping):
        return
    try:
        position = _position(body.get("lng"), body.get("lat"), body.get("crs", "wgs84"))
        target = resolve_target(conn, body.get("target_kind"), body.get("target_id"), position,
                                instant(body.get("inspected_at"), edge="start", where="inspected_at"))
    except (InputError, TypeError, ValueError):
        return
    if not in_grids(target.grid_code, principal.grids):
        raise ForbiddenError(f"the {target.kind} inspected lies outside your grids ({', '.join(principal.grids)}) "
                             f"(grid {target.grid_code or 'none'})", where="target")


def check_inspection_scope(conn: Connection, inspection_id: int, principal) -> None:
    """A grid officer reads and acts on inspections of their grids only (403); an unknown one is a 404 later."""
    if principal is None or principal.role != "grid_officer":
        return
    row = conn.execute(sql("inspection_scope_row"), {"i": inspection_id}).first()
    if row is not None and not in_grids(row.grid_code, principal.grids):
        raise ForbiddenError(f"inspection {inspection_id} lies outside your grids ({', '.join(principal.grids)}) "
                             f"(grid {row.grid_code or 'none'})", where="inspection")


# ---- the results and the score ----

@dataclass(frozen=True)
class Answer:
    item: Item
    result: str
    note: str | None
    photos: list[str]
    open_case: bool
    category: str | None
    description: str | None


def _checklist(checklist_id: Any, target_kind: str) -> Checklist:
    try:
        checklist = get_checklist(checklist_id)
    except NotFoundError as e:
        raise InputError(e.message, where="checklist") from None
    if target_kind not in checklist.targets:
        raise InputError(f"checklist {checklist.id!r} applies to {', '.join(checklist.targets)}, not to a "
                         f"{target_kind}", where="checklist")
    return checklist


def answers(checklist: Checklist, results: Sequence[Mapping]) -> list[Answer]:
    """Each item of the checklist answered exactly once (in the checklist's order); one InputError naming every
    unknown, repeated and missing item and every bad result."""
    items = {item.id: item for item in checklist.items}
    given: dict[str, Mapping] = {}
    problems, repeated, unknown = [], [], []
    for i, r in enumerate(results):
        item_id = str(r.get("item", ""))
        result = r.get("result")
        if item_id not in items:
            unknown.append(item_id)
        elif item_id in given:
            repeated.append(item_id)
        else:
            given[item_id] = r
        if result not in RESULTS:
            problems.append(f"results[{i}] (item {item_id!r}): result must be pass, fail or na, got {result!r}")
        elif r.get("open_case") and result != "fail":
            problems.append(f"results[{i}] (item {item_id!r}): open_case is for a failed item, this one is {result}")
    missing = [i for i in items if i not in given]
    if unknown:
        problems.append(f"checklist {checklist.id!r} has no item {', '.join(map(repr, unknown))}")
    if repeated:
        problems.append(f"item {', '.join(map(repr, repeated))} answered more than once")
    if missing:
        problems.append(f"item {', '.join(map(repr, missing))} not answered (answer every item: pass, fail or na)")
    if problems:
        raise InputError("; ".join(problems), where="results")
    return [Answer(items[i], given[i]["result"], (str(given[i].get("note") or "").strip() or None),
                   list(given[i].get("photos") or []), bool(given[i].get("open_case")), given[i].get("category"),
                   given[i].get("description")) for i in items]


def score(checklist: Checklist, done: Sequence[Answer]) -> dict:
    """The derived figures: score, max_score (None without scores), percent, items_total, items_failed, passed."""
    scored = any(item.score is not None for item in checklist.items)
    checked = [a for a in done if a.result != "na"]
    max_score = sum(a.item.score for a in checked) if scored else None
    earned = sum(a.item.score for a in checked if a.result == "pass") if scored else None
    if not max_score:
        earned = max_score = None
    failed = sum(a.result == "fail" for a in done)
    return {"score": earned, "max_score": max_score,
            "percent": checklist.score({a.item.id: a.result for a in done}),
            "items_total": len(done), "items_failed": failed, "passed": failed == 0}


def item_category(item: Item, override: str | None = None) -> str:
    """The case category a failed item opens a case in: the request's, the item's, or its duty's (categories.toml
    [duty_categories])."""
    categories = load_categories()
    code = override or item.category or (categories.for_duty(item.duty) if item.duty else None)
    if code is None:
        raise InputError(f"item {item.id!r} names no case category: give one (category)", where="category")
    if code not in categories.by_code:
        raise InputError(f"unknown case category {code!r}; see GET /cases/categories", where="category")
    return code


# ---- recording ----

def record_inspection(conn: Connection, *, target_kind: str, checklist: str, results: Sequence[Mapping],
                      inspector: str, inspector_kind: str, role: str | None, target_id: int | None = None,
                      lng: float | None = None, lat: float | None = None, crs: str = "wgs84",
                      inspector_name: str | None = None, unannounced: bool = False,
                      inspected_at: str | datetime | None = None, note: str | None = None, source: str = "api",
                      external_key: str | None = None, now: datetime | None = None) -> dict:
    """Record one inspection with its item results and open a case for each failed item marked open_case, all in
    the caller's transaction. Returns {"id", "cases": [case ids]}."""
    now = now or datetime.now(zone())
    at = instant(inspected_at, edge="start", where="inspected_at") if inspected_at is not None else now
    if at > now:
        raise InputError(f"inspected_at {at.isoformat()} is in the future", where="inspected_at")
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}, got {source!r}", where="source")
    kind = known_inspector_kind(inspector_kind).code
    position = _position(lng, lat, crs)
    target = resolve_target(conn, target_kind, target_id, position, at)
    chosen = _checklist(checklist, target.kind)
    done = answers(chosen, results)
    for a in done:
        a.photos[:] = check_photos(conn, a.photos)
        if a.open_case:
            item_category(a.item, a.category)
    figures = score(chosen, done)
    x, y = position or (target.x, target.y)
    inspection_id = conn.execute(sql("inspection_insert"), {
        "checklist": chosen.id, "kind": target.kind, "ref": target.ref, "unit": target.unit_id,
        "zone": target.zone_id, "party": target.party_id, "grid": target.grid_code, "inspector": inspector,
        "iname": (inspector_name or "").strip() or None, "ikind": kind, "unannounced": bool(unannounced), "at": at,
        "x": x, "y": y, "crs": crs if position else None, "score": figures["score"],
        "max_score": figures["max_score"], "total": figures["items_total"], "failed": figures["items_failed"],
        "passed": figures["passed"], "note": (note or "").strip() or None, "source": source,
        "key": external_key}).scalar_one()
    conn.execute(sql("inspection_results_insert"), {
        "i": inspection_id, "seq": list(range(1, len(done) + 1)), "item": [a.item.id for a in done],
        "result": [a.result for a in done],
        "score": [float(a.item.score if a.result == "pass" else 0) if a.item.score is not None and a.result != "na"
                  else None for a in done],
        "note": [a.note for a in done], "photos": [json.dumps(a.photos) for a in done]})
    cases = [_open_item_case(conn, inspection_id, target, a, at=at, actor=inspector, role=role, now=now)
             for a in done if a.open_case]
    return {"id": inspection_id, "cases": cases}


def _open_item_case(conn: Connection, inspection_id: int, target: Target, answer: Answer, *, at: datetime,
                    actor: str, role: str | None, now: datetime) -> int:
    """A case (source inspection) from a failed item, routed at the target, carrying the item's photos."""
    item = answer.item
    what = (answer.description or "").strip() or f"巡查不合格：{item.text_zh}" + (f"（{answer.note}）" if answer.note
                                                                                else "")
    holder = (Holder(target.unit_id, target.party_id, target.party_name,
                     f"the inspected {target.kind}'s duty ({item.id})")
              if target.kind in HOLDER_TARGETS else None)
    case_id = open_case(conn, lng=target.case_x, lat=target.case_y, category=item_category(item, answer.category),
                        description=what, source="inspection", reported_at=at, photos=answer.photos, actor=actor,
                        role=role, now=now, holder=holder)
    conn.execute(sql("case_link_inspection"), {"i": inspection_id, "item": item.id, "c": case_id})
    return case_id


def open_case_for_item(conn: Connection, inspection_id: int, item_id: str, *, principal,
                       category: str | None = None, description: str | None = None,
                       now: datetime | None = None) -> int:
    """Open a case later from a failed item of a recorded inspection (409 for an item that passed or is n.a., or
    that has a case already); returns the case id."""
    now = now or datetime.now(zone())
    check_inspection_scope(conn, inspection_id, principal)
    found = get_inspection(conn, inspection_id, principal, now=now)
    result = next((r for r in found["results"] if r["item"] == item_id), None)
    if result is None:
        raise InputError(f"inspection {inspection_id} has no item {item_id!r}; items: "
                         + ", ".join(r["item"] for r in found["results"]), where="item")
    if result["result"] != "fail":
        raise ConflictError(f"item {item_id!r} of inspection {inspection_id} is {result['result']} "
                            f"({RESULT_ZH[result['result']]}): only a failed item opens a case", where="item")
    opened = [c for c in found["cases"] if c["inspection_item"] == item_id]
    if opened:
        raise ConflictError(f"item {item_id!r} of inspection {inspection_id} has opened case {opened[0]['id']} "
                            f"already", where="item", case_id=opened[0]["id"])
    checklist = get_checklist(found["checklist"]["id"])
    point = found["point"]
    target = Target(found["target"]["kind"], None, None, point["lng"], point["lat"], point["lng"], point["lat"],
                    None, None, None, None, None)
    answer = Answer(checklist.item(item_id), "fail", result["note"], list(result["photos"]), True, category,
                    description)
    return _open_item_case(conn, inspection_id, target, answer, at=datetime.fromisoformat(found["inspected_at"]),
                           actor=principal.name, role=principal.role, now=now)


# ---- reading ----

def _dicts(conn: Connection, ids: list[int]) -> dict[int, dict]:
    rows = {r["id"]: r for r in conn.execute(sql("inspections_by_ids"), {"ids": ids}).mappings()}
    results: dict[int, list] = {i: [] for i in ids}
    for r in conn.execute(sql("inspection_results_by_ids"), {"ids": ids}).mappings():
        results[r["inspection_id"]].append(r)
    cases: dict[int, list] = {i: [] for i in ids}
    for c in conn.execute(sql("inspection_cases"), {"ids": ids}).mappings():
        cases[c["inspection_id"]].append({k: c[k] for k in ("id", "code", "state", "category", "inspection_item")})
    kinds = load_inspector_kinds()
    out = {}
    for i, row in rows.items():
        try:
            checklist = get_checklist(row["checklist"])
            texts = {item.id: item.text_zh for item in checklist.items}
            title = {"id": checklist.id, "zh": checklist.zh, "en": checklist.en}
        except NotFoundError:  # a checklist since removed from the files: the record keeps its item ids
            texts, title = {}, {"id": row["checklist"], "zh": None, "en": None}
        kind = kinds.get(row["inspector_kind"])
        items = [{"seq": r["seq"], "item": r["item_id"], "text_zh": texts.get(r["item_id"]), "result": r["result"],
                  "result_zh": RESULT_ZH[r["result"]], "score": _num(r["score"]), "note": r["note"],
                  "photos": list(r["photos"])} for r in results[i]]
        max_score = _num(row["max_score"])
        out[i] = {
            "id": i, "checklist": title,
            "target": {"kind": row["target_kind"], "id": int(row["target_ref"]) if row["target_ref"] else None},
            "routing": {"unit_id": row["unit_id"], "zone_id": row["target_zone_id"], "party_id": row["party_id"],
                        "party_name": row["party_name"], "grid_code": row["grid_code"]},
            "inspector": {"account": row["inspector"], "contact": row["inspector_name"], "kind": row["inspector_kind"],
                          "kind_zh": kind.zh if kind else None, "kind_en": kind.en if kind else None},
            "unannounced": row["unannounced"], "inspected_at": iso(row["inspected_at"]),
            "point": {"lng": row["lng"], "lat": row["lat"], "crs_in": row["crs_in"]},
            "score": _num(row["score"]), "max_score": max_score,
            "percent": _percent(items, checklist_scored=max_score is not None, row=row),
            "items_total": row["items_total"], "items_failed": row["items_failed"], "passed": row["passed"],
            "failed_items": [r["item"] for r in items if r["result"] == "fail"],
            "results": items, "cases": cases[i], "note": row["note"], "source": row["source"],
            "external_key": row["external_key"], "version": row["version"], "created_at": iso(row["created_at"]),
        }
    return out


def _num(value) -> float | None:
    return None if value is None else float(value)


def _percent(items: list[dict], *, checklist_scored: bool, row) -> float | None:
    if checklist_scored:
        return round(100.0 * float(row["score"]) / float(row["max_score"]), 2) if row["max_score"] else None
    checked = [r for r in items if r["result"] != "na"]
    return round(100.0 * sum(r["result"] == "pass" for r in checked) / len(checked), 2) if checked else None


def get_inspection(conn: Connection, inspection_id: int, principal=None, now: datetime | None = None) -> dict:
    """One inspection with its item results, routing and the cases its failed items opened."""
    check_inspection_scope(conn, inspection_id, principal)
    found = _dicts(conn, [inspection_id])
    if inspection_id not in found:
        raise NotFoundError(f"no inspection {inspection_id}")
    return found[inspection_id]


def list_inspections(conn: Connection, *, principal=None, unit: int | None = None, grid: str | None = None,
                     inspector: str | None = None, party: int | None = None, since: str | None = None,
                     until: str | None = None, passed: bool | None = None, unannounced: bool | None = None,
                     limit: int = 50, offset: int = 0) -> dict:
    """Inspections filtered and paged, newest first; since/until as users give them (a date = a Beijing day,
    until includes it). A grid officer sees their grids' only (a grid of theirs, or all of them)."""
    grids = [grid] if grid else None
    if principal is not None and principal.role == "grid_officer":
        if grid is None:
            grids = list(principal.grids)
        elif not in_grids(grid, principal.grids):
            raise ForbiddenError(f"grid {grid} lies outside your grids ({', '.join(principal.grids)})", where="grid")
    ids = conn.execute(sql("inspections_list"), {
        "unit": unit, "grids": grids, "inspector": inspector, "party": party,
        "since": None if since is None else instant(since, edge="start", where="since"),
        "until": None if until is None else instant(until, edge="after", where="until"),
        "passed": passed, "unannounced": unannounced, "limit": limit, "offset": offset}).all()
    found = _dicts(conn, [r.id for r in ids])
    return {"total": ids[0].total if ids else 0, "limit": limit, "offset": offset,
            "inspections": [found[r.id] for r in ids]}
