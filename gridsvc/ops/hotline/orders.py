"""The 12345 hotline (docs/hotline.md): importing a work-order export (工单) as cases, placing staff's unplaced
orders, and exporting the replies (办结情况, 办结时间, 回复内容) for the hotline to take back.

An import is all or nothing and idempotent. Every row is read and checked first (one InputError names every bad row
by its row number and header); then, in the caller's transaction, each work order becomes a case (source hotline,
external_ids {"12345": number}) or, when it cannot be placed, a held order without a case that the import lists with
the reason (cases.geom is NOT NULL: a case without a place could not be routed). Importing again:

- an unchanged row changes nothing;
- a changed row of a case still in 受理 updates the case (content, category, caller, time, place: re-routed);
- a changed row of a case past 受理 is recorded as a `hotline_update` event on the case (its note the new content,
  its data the changes) and the case is left as the office has it;
- a held order that can now be placed gets its case.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ...city.readers.ledger import _formula_error, _read_table, _resolve_formulas
from ...db.sql import sql
from ...errors import ConflictError, InputError, MissingColumnsError, NotFoundError
from ...files.spreadsheet import neutralise_frame
from ...geo.chinese_crs import in_china
from ...timekeeping import for_people, instant, zone
from ...zones.lookup import to_wgs84_point
from ..addresses import Gazetteer, Placed, load_addresses, norm
from ..cases.core import SOURCE_ZH, _event, case_fields, open_case
from ..rules.categories import load_categories, load_departments
from ..rules.flow import load_flow
from .rules import HotlineRules, load_hotline

Progress = Callable[[str, int, int], None]
MAX_ROWS = 20_000
MAX_LISTED = 50
EXTERNAL = "12345"
TEXT_FIELDS = ("number", "content", "type", "address", "area", "reporter_name", "reporter_phone", "crs")
REPLY_HEADERS = ("工单编号", "办结情况", "办结时间", "回复内容")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?)?)?$")


@dataclass(frozen=True)
class Order:
    """A checked row of the export."""

    row: int
    number: str
    received_at: datetime
    content: str
    type_text: str | None
    category: str
    address: str | None
    area: str | None
    reporter_name: str | None
    reporter_phone: str | None
    given: dict | None  # {lng, lat, crs} as in the file (after a swap is undone)
    sha: str

    def values(self) -> dict:
        return {"received_at": self.received_at.isoformat(), "content": self.content, "type_text": self.type_text,
                "category": self.category, "address": self.address, "area": self.area,
                "reporter_name": self.reporter_name, "reporter_phone": self.reporter_phone, "given_point": self.given}


@dataclass
class HotlineReport:
    """What an import did."""

    source_file: str
    rows: int = 0
    opened: list[int] = field(default_factory=list)  # case ids of new cases
    updated: list[str] = field(default_factory=list)  # numbers whose 受理 case took the changes
    recorded: list[str] = field(default_factory=list)  # numbers whose later case got a hotline_update event
    unchanged: int = 0
    unplaced: list[dict] = field(default_factory=list)  # {row, number, reason}
    placements: Counter = field(default_factory=Counter)  # method -> rows placed by it (new or re-placed)
    notes: list[str] = field(default_factory=list)
    import_id: int | None = None

    def counts(self) -> dict:
        return {"rows": self.rows, "opened": len(self.opened), "updated": len(self.updated),
                "recorded": len(self.recorded), "unchanged": self.unchanged, "unplaced": len(self.unplaced),
                "placements": dict(self.placements)}


# ---- reading ----

def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _header_row(table, rows, header_field: dict[str, str]):
    """The table below the hotline's header row (found among the first rows, under title rows)."""
    from ...city.readers.ledger import normalize_header

    def hits(cells) -> int:
        return len({header_field.get(normalize_header(c)) for c in cells} - {None})

    if hits(table.columns) >= 2:
        return table, rows, []
    for i in range(min(10, len(table))):
        cells = list(table.iloc[i])
        if hits(cells) >= 2:
            header = [str(h).strip() or f"column {j + 1}" for j, h in enumerate(cells)]
            header = [h if header.index(h) == j else f"{h} ({j + 1})" for j, h in enumerate(header)]
            out = table.iloc[i + 1:].set_axis(header, axis=1).reset_index(drop=True)
            return out, rows[i + 1:], [f"header taken from row {rows[i]}"]
    return table, rows, []


def _when(value: str) -> datetime:
    text = value.strip()
    m = _DATE.match(text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=zone())
    return instant(text, edge="start", where="time")


def read_orders(path: Path, rules: HotlineRules, *, crs: str | None = None,
                now: datetime | None = None) -> tuple[list[Order], list[str]]:
    """The export's checked rows and notes; one InputError naming every bad row (row number and header)."""
    path = Path(path)
    source = path.name
    now = now or datetime.now(zone())
    default_crs = crs or rules.default_crs
    if default_crs not in ("wgs84", "gcj02", "bd09"):
        raise InputError(f"crs must be wgs84, gcj02 or bd09, not {default_crs!r}", where="crs")
    table, rows, notes, formulas = _read_table(path, None, set())
    header_field = rules.header_field()
    table, rows, more = _header_row(table, rows, header_field)
    notes = [n for n in notes if "header taken" not in n] + [f"{source}: {n}" for n in more]
    from ...city.readers.ledger import normalize_header

    mapping: dict[str, str] = {}
    for header in table.columns:
        f = header_field.get(normalize_header(header))
        if f is not None and f not in mapping:
            mapping[f] = header
    missing = [f for f in rules.required if f not in mapping]
    if missing:
        wanted = "; ".join(f"{f} ({' / '.join(getattr(rules.headers, f)[:3])})" for f in missing)
        raise MissingColumnsError(f"missing column(s): {wanted}; headers found: {', '.join(map(str, table.columns))}",
                                  source=source)
    if ("lng" in mapping) != ("lat" in mapping):
        raise MissingColumnsError("a 经度 column needs a 纬度 column and the other way round; headers found: "
                                  + ", ".join(map(str, table.columns)), source=source)
    if len(table) > MAX_ROWS:
        raise InputError(f"more than {MAX_ROWS} rows", source=source)
    if formulas.cells:
        column = {h: j for j, h in enumerate(table.columns)}
        read = {column[h]: (f, h) for f, h in mapping.items()}
        text_cells = sorted(c for c in formulas.cells if c[1] in read and read[c[1]][0] not in ("lng", "lat")
                            and c[0] in set(int(r) for r in rows))
        if text_cells:
            raise _formula_error(text_cells, formulas, read, source, "; formulas are not read in text columns")
        coords = {k: mapping[k] for k in ("lng", "lat") if k in mapping}
        if coords:
            table = _resolve_formulas(path, table, rows, coords, formulas, notes)
    bad: list[str] = []
    orders: list[Order] = []
    seen: dict[str, Order] = {}
    for i in range(len(table)):
        number_row = int(rows[i])
        cells = {f: _text(table.iat[i, table.columns.get_loc(h)]) for f, h in mapping.items()}

        def problem(f: str, what: str, n: int = number_row) -> None:
            bad.append(f"row {n}, column {mapping.get(f, f)!r}: {what}")

        number = cells.get("number")
        content = cells.get("content")
        for f in rules.required:
            if not cells.get(f):
                problem(f, "is empty")
        at = None
        if cells.get("received_at"):
            try:
                at = _when(cells["received_at"])
                if at > now:
                    problem("received_at", f"{at.isoformat()} is in the future")
                    at = None
            except (InputError, ValueError):
                problem("received_at", f"{cells['received_at']!r} is not a time (e.g. 2026-05-01 09:30)")
        category = rules.category_of(cells.get("type"), content or "")
        if category is None and content:
            problem("type", f"{cells.get('type')!r} matches no category of hotline.toml (nor does the content); "
                            "add its words to geodata/ops/hotline.toml [[categories]]")
        given = None
        lng, lat = cells.get("lng"), cells.get("lat")
        if lng or lat:
            row_crs = default_crs
            if cells.get("crs"):
                row_crs = rules.crs_of(cells["crs"])
                if row_crs is None:
                    problem("crs", f"{cells['crs']!r} is not a coordinate system this file knows "
                                   f"({', '.join(w for ws in rules.crs_values.values() for w in ws[:2])})")
            try:
                x, y = float(norm(lng)), float(norm(lat))
            except (TypeError, ValueError):
                which = "lng" if not _is_number(lng) else "lat"
                problem(which, f"{cells.get(which)!r} is not a number" if cells.get(which) else
                        "is empty while the other coordinate is given")
                x = y = None
            if x is not None and row_crs is not None:
                if x == 0 and y == 0:
                    notes.append(f"row {number_row}: coordinates 0, 0 read as none")
                elif not in_china_bbox(x, y) and in_china_bbox(y, x):
                    notes.append(f"row {number_row}: {mapping['lng']!r} and {mapping['lat']!r} are swapped "
                                 f"({lng}, {lat}); read as {y}, {x}")
                    given = {"lng": y, "lat": x, "crs": row_crs}
                elif not in_china_bbox(x, y):
                    problem("lng", f"({lng}, {lat}) lies outside China")
                else:
                    given = {"lng": x, "lat": y, "crs": row_crs}
        if number is None or at is None or not content or category is None or any(
                b.startswith(f"row {number_row},") for b in bad[-3:]):
            continue
        values = [number, at.isoformat(), content, cells.get("type"), cells.get("address"), cells.get("area"),
                  cells.get("reporter_name"), cells.get("reporter_phone"), json.dumps(given, sort_keys=True)]
        sha = hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()
        order = Order(number_row, number, at, content, cells.get("type"), category, cells.get("address"),
                      cells.get("area"), cells.get("reporter_name"), cells.get("reporter_phone"), given, sha)
        if number in seen:
            if seen[number].sha == sha:
                notes.append(f"row {number_row}: repeats row {seen[number].row} (工单编号 {number}, same values); "
                             "read once")
            else:
                bad.append(f"row {number_row}, column {mapping['number']!r}: 工单编号 {number} is also row "
                           f"{seen[number].row}, with other values")
            continue
        seen[number] = order
        orders.append(order)
    if bad:
        listed = "; ".join(bad[:MAX_LISTED]) + (f" (and {len(bad) - MAX_LISTED} more)" if len(bad) > MAX_LISTED else "")
        raise InputError(f"{len(bad)} problem(s), nothing imported: {listed}", source=source)
    return orders, notes


def in_china_bbox(lng: float, lat: float) -> bool:
    return bool(in_china([lng], [lat])[0]) if -180 <= lng <= 180 and -90 <= lat <= 90 else False


def _is_number(text: str | None) -> bool:
    try:
        float(norm(text))
        return True
    except (TypeError, ValueError):
        return False


# ---- importing ----

def _place(conn: Connection, order: Order, gazetteer: Callable[[], Gazetteer], rules: HotlineRules) -> Placed | str:
    if order.given is not None:
        try:
            x, y = to_wgs84_point(order.given["lng"], order.given["lat"], order.given["crs"])
        except InputError as e:
            return f"coordinates not usable: {e.what}"
        return Placed(x, y, "coordinates", load_addresses().confidence.coordinates,
                      f"{order.given['lng']}, {order.given['lat']} ({order.given['crs']})")
    return gazetteer().place(conn, order.address)


def _save(conn: Connection, order: Order, case_id: int | None, placed: Placed | str, import_id: int | None) -> None:
    conn.execute(sql("hotline_order_upsert"), {
        "number": order.number, "case_id": case_id, "at": order.received_at, "content": order.content,
        "type_text": order.type_text, "category": order.category, "address": order.address, "area": order.area,
        "rn": order.reporter_name, "rp": order.reporter_phone,
        "given": json.dumps(order.given) if order.given else None,
        "placement": json.dumps(placed.as_dict(), ensure_ascii=False) if isinstance(placed, Placed) else None,
        "reason": placed if isinstance(placed, str) else None, "sha": order.sha, "import_id": import_id,
        "row_number": order.row})


def _open(conn: Connection, order: Order, placed: Placed, actor: str, role: str | None, now: datetime) -> int | str:
    """The order's case, or why its place cannot take one (outside the managed area)."""
    try:
        return open_case(conn, lng=placed.lng, lat=placed.lat, category=order.category,
                         description=order.content, source="hotline", reporter_name=order.reporter_name,
                         reporter_phone=order.reporter_phone, external_ids={EXTERNAL: order.number},
                         reported_at=order.received_at, actor=actor, role=role, now=now)
    except InputError as e:
        if e.where == "point":
            return f"placed by {placed.method} ({placed.matched}) but {e.what}"
        raise


def import_orders(conn: Connection, path: Path, *, actor: str, role: str | None = None, crs: str | None = None,
                  progress: Progress | None = None, now: datetime | None = None) -> HotlineReport:
    """Import a 12345 export in the caller's transaction (see the module docstring)."""
    from ...files.uploads import file_sha256
    from ...people.audit import bulk, start_bulk

    tick = progress or (lambda *_: None)
    now = now or datetime.now(zone())
    path = Path(path)
    rules = load_hotline()
    tick("reading", 0, 1)
    orders, notes = read_orders(path, rules, crs=crs, now=now)
    report = HotlineReport(path.name, rows=len(orders), notes=notes)
    start_bulk(conn)
    report.import_id = conn.execute(sql("import_insert"), {
        "f": path.name, "p": str(path), "h": file_sha256(path), "c": f"hotline ({crs or rules.default_crs})",
        "n": "{}", "o": "[]"}).scalar_one()
    known = {r["number"]: r for r in conn.execute(sql("hotline_orders_known"),
                                                  {"numbers": [o.number for o in orders]}).mappings()}
    memo: list[Gazetteer] = []

    def gazetteer() -> Gazetteer:
        if not memo:
            memo.append(Gazetteer.load(conn))
        return memo[0]

    for i, order in enumerate(orders):
        tick("importing", i, len(orders))
        old = known.get(order.number)
        if old is not None and old["row_sha"] == order.sha:
            report.unchanged += 1
            if old["case_id"] is None:
                report.unplaced.append({"row": order.row, "number": order.number, "reason": old["unplaced_reason"]})
            continue
        try:
            _import_one(conn, order, old, rules, gazetteer, report, actor, role, now)
        except InputError as e:
            raise InputError(f"row {order.row} (工单编号 {order.number}): {e.message}; nothing imported",
                             source=path.name) from None
    tick("importing", len(orders), len(orders))
    notes_out = [*report.notes] + [{"layer": "hotline", "feature": f"row {u['row']} ({u['number']})",
                                    "action": "unplaced", "reason": u["reason"]} for u in report.unplaced]
    conn.execute(sql("hotline_import_counts"), {"id": report.import_id,
                                                "n": json.dumps({"hotline": report.counts()}, ensure_ascii=False),
                                                "o": json.dumps(notes_out, ensure_ascii=False)})
    bulk(conn, "import", "hotline_orders", path.name, {"import_id": report.import_id, **report.counts()})
    return report


def _import_one(conn, order: Order, old, rules, gazetteer, report: HotlineReport, actor, role, now) -> None:
    if old is None or old["case_id"] is None:  # new, or held before
        placed = _place(conn, order, gazetteer, rules)
        case_id = None
        if isinstance(placed, Placed):
            made = _open(conn, order, placed, actor, role, now)
            if isinstance(made, int):
                case_id = made
                report.opened.append(made)
                report.placements[placed.method] += 1
            else:
                placed = made
        if case_id is None:
            report.unplaced.append({"row": order.row, "number": order.number, "reason": placed})
        _save(conn, order, case_id, placed, report.import_id)
        return
    changes = _changes(old, order)
    case_id = old["case_id"]
    if old["state"] == "accepted":
        placed = _place(conn, order, gazetteer, rules)
        keep = not isinstance(placed, Placed)
        if keep:  # the new address cannot be placed: the case keeps its place
            changes["placement"] = f"kept: {placed}"
            placed = _stored_placement(old)
        fields = case_fields(conn, lng=placed.lng, lat=placed.lat, category=order.category,
                             description=order.content, reported_at=order.received_at, now=now)
        fields.pop("photos")
        n = conn.execute(sql("hotline_case_refresh"), {**fields, "rn": order.reporter_name,
                                                       "rp": order.reporter_phone, "id": case_id, "now": now}).rowcount
        if n != 1:
            raise ConflictError(f"case {case_id} of work order {order.number} left 受理 during the import")
        if not keep:
            report.placements[placed.method] += 1
        _event(conn, case_id, "hotline_update", "accepted", "accepted", actor=actor, role=role, at=now,
               note=order.content, data={"changes": changes, "applied": True, "number": order.number})
        report.updated.append(order.number)
    else:
        placed = _stored_placement(old)
        _event(conn, case_id, "hotline_update", old["state"], old["state"], actor=actor, role=role, at=now,
               note=order.content, data={"changes": changes, "applied": False, "number": order.number})
        report.recorded.append(order.number)
    _save(conn, order, case_id, placed, report.import_id)


def _stored_placement(old) -> Placed:
    p = old["placement"] or {}
    return Placed(old["case_lng"], old["case_lat"], p.get("method", "coordinates"), p.get("confidence", 1.0),
                  p.get("matched", "the case's point"))


def _changes(old, order: Order) -> dict:
    new = order.values()
    out = {}
    for k, v in new.items():
        before = old[k].isoformat() if isinstance(old[k], datetime) else old[k]
        if k == "received_at":
            before = instant(old[k]).isoformat()
        if before != v:
            out[k] = {"from": before, "to": v}
    return out


# ---- staff place a held order ----

def place_order(conn: Connection, number: str, *, lng: float, lat: float, crs: str = "wgs84", actor: str,
                role: str | None, now: datetime | None = None) -> int:
    """Open the case of a held (unplaced) work order at a point staff give; returns the case id."""
    now = now or datetime.now(zone())
    old = conn.execute(sql("hotline_orders_known"), {"numbers": [number]}).mappings().first()
    if old is None:
        raise NotFoundError(f"no work order {number!r} (gridsvc hotline list --unplaced)")
    if old["case_id"] is not None:
        raise ConflictError(f"work order {number} is placed already: case {old['case_id']}")
    x, y = to_wgs84_point(lng, lat, crs)
    order = Order(0, number, old["received_at"], old["content"], old["type_text"], old["category"], old["address"],
                  old["area"], old["reporter_name"], old["reporter_phone"], old["given_point"], old["row_sha"])
    placed = Placed(x, y, "staff", load_addresses().confidence.staff, f"placed by {actor}")
    made = _open(conn, order, placed, actor, role, now)
    if not isinstance(made, int):
        raise InputError(made, where="point")
    conn.execute(sql("hotline_order_upsert"), {
        "number": number, "case_id": made, "at": old["received_at"], "content": old["content"],
        "type_text": old["type_text"], "category": old["category"], "address": old["address"], "area": old["area"],
        "rn": old["reporter_name"], "rp": old["reporter_phone"],
        "given": json.dumps(old["given_point"]) if old["given_point"] else None,
        "placement": json.dumps(placed.as_dict(), ensure_ascii=False), "reason": None, "sha": old["row_sha"],
        "import_id": None, "row_number": None})
    return made


def list_orders(conn: Connection, *, unplaced: bool = False, number: str | None = None, limit: int = 100,
                offset: int = 0) -> dict:
    """Work orders newest first (or only those held without a case), each with its placement and case."""
    rows = [dict(r) for r in conn.execute(sql("hotline_orders_list"), {
        "unplaced": unplaced, "number": number, "limit": limit, "offset": offset}).mappings()]
    total = rows[0]["total"] if rows else 0
    flow = load_flow()
    out = []
    for r in rows:
        r.pop("total")
        r["reporter"] = {"contact": r.pop("reporter_name"), "phone": r.pop("reporter_phone")}
        r["received_at"] = instant(r["received_at"]).isoformat()
        r["updated_at"] = instant(r["updated_at"]).isoformat()
        r["state_zh"] = flow.states[r["state"]].zh if r["state"] else None
        out.append(r)
    return {"total": total, "limit": limit, "offset": offset, "orders": out}


# ---- replies ----

def replies(conn: Connection, since: str | datetime | None = None) -> list[dict]:
    """One reply per work order (changed since `since`): 工单编号, 办结情况, 办结时间 (Beijing time), 回复内容."""
    rules = load_hotline().replies
    cats = load_categories()
    deps = load_departments()
    flow = load_flow()
    when = None if since is None else instant(since, edge="start", where="since")
    out = []
    for r in conn.execute(sql("hotline_replies"), {"since": when}).mappings():
        if r["case_id"] is None:
            out.append({"工单编号": r["number"], "办结情况": rules.unplaced, "办结时间": "",
                        "回复内容": rules.compose.unplaced})
            continue
        cat = cats.by_code.get(r["category"])
        dep = deps.get(r["department"])
        words = {"category": cat.zh if cat else r["category"], "department": dep.zh if dep else r["department"],
                 "state": flow.states[r["state"]].zh, "closed_at": for_people(r["closed_at"], "%Y-%m-%d %H:%M"),
                 "code": r["code"], "source": SOURCE_ZH["hotline"]}
        template = (rules.compose.closed if r["state"] == "closed" else rules.compose.void if r["state"] == "void"
                    else rules.compose.open)
        out.append({"工单编号": r["number"], "办结情况": rules.states[r["state"]],
                    "办结时间": for_people(r["closed_at"]) if r["state"] in ("closed", "void") else "",
                    "回复内容": r["note"] or template.format(**words)})
    return out


def write_replies(rows: list[dict], path: Path) -> Path:
    """The replies as .xlsx or .csv (by the suffix), formula-like text quoted (gridsvc/files/spreadsheet.py)."""
    import pandas as pd

    from ...files.spreadsheet import write_csv

    path = Path(path)
    frame = pd.DataFrame(rows, columns=list(REPLY_HEADERS))
    if path.suffix.lower() == ".csv":
        return write_csv(frame, path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"write the replies to .xlsx or .csv, not {path.suffix or '(none)'!r}", where="out")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "回复"
    sheet.append(list(REPLY_HEADERS))
    for row in neutralise_frame(frame).itertuples(index=False):
        sheet.append([None if v is None else str(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCD", (22, 12, 20, 60), strict=True):
        sheet.column_dimensions[col].width = width
    book.save(path)
    return path
