"""Ratings earned from records (issue G item 6) on the database: a period's 红/黄/黑 boards for every unit, the credit
ledger (信用积分) and stars (星级商户), duty boards (责任牌) and their coverage, 责任书 pledges.

The rules are ratings.toml's (gridsvc/ops/rules/ratings.py): boards as named conditions on period metrics, points per
event, star thresholds, which period is a unit's current board. `compute()` takes the metrics of every unit in one
set-based query (db/sql/rating_metrics.sql), applies the boards in Python (the data's rule language), writes the
period's ratings in one statement (a recompute replaces computed values and keeps overrides), brings units.rating
in line for the current period kind, and writes the credit entries of the period's records (each once per unit,
reason and source record). Everything runs in the caller's transaction; the caller commits.

A hand override of a period's board needs a reason and is audited (row triggers, with the actor); it survives
recompute. A manual credit entry needs a reason too. Periods are Beijing months and ISO weeks
(gridsvc/timekeeping.period).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import InputError, NotFoundError
from ...people.audit import bulk, start_bulk
from ...timekeeping import Period, instant, iso, period, zone
from ...versions import require_version
from ..rules.ratings import METRICS, RATING_CODES, load_ratings

BOARD_STATES = ("hung", "missing", "damaged", "replaced")
BOARD_STATE_ZH = {"hung": "已悬挂", "missing": "缺失", "damaged": "损坏", "replaced": "已更换"}
COVERAGE_BY = ("street", "grid")
MAX_REASON = 500


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _board(code: str) -> str:
    """A board code as stored: the boards' codes, or 'none' for `otherwise`."""
    return code if code in RATING_CODES else "none"


def _unit(conn: Connection, unit_id: int):
    row = conn.execute(sql("unit_exists"), {"id": unit_id}).first()
    if row is None:
        raise NotFoundError(f"no unit {unit_id}", id=unit_id)
    return row


def _reason(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InputError(f"{what} needs a reason", where="reason")
    if len(text) > MAX_REASON:
        raise InputError(f"the reason is longer than {MAX_REASON} characters", where="reason")
    return text


# ---- computing a period ----

def metrics(conn: Connection, p: Period, now: datetime | None = None) -> list[dict]:
    """Every unit's metrics for period p (and the previous period's figures they compare with)."""
    now = now or datetime.now(zone())
    rows = conn.execute(sql("rating_metrics"), {"s": p.start, "e": p.end, "ps": p.previous_start, "now": now})
    return [{k: _number(v) for k, v in r.items()} for r in rows.mappings()]


def credit_points_params() -> dict:
    rules = load_ratings()
    return {"initial": rules.credit.initial, **rules.credit.points}


def compute(conn: Connection, key: str, *, actor: str = "gridsvc", now: datetime | None = None,
            progress=None) -> dict:
    """Rate every unit for the period `key` (2026-11, 2026-W47) and write the credit entries of its records.

    Idempotent: a second run over the same records writes nothing new. Returns a summary (units, boards counted,
    ratings written, credit entries added). progress(step, done, total) is called between the steps.
    """
    now = now or datetime.now(zone())
    p = period(key)
    rules = load_ratings()
    if p.kind not in rules.periods:
        raise InputError(f"ratings.toml rates periods {', '.join(rules.periods)}, not {p.kind}", where="period")
    step = progress or (lambda *_: None)
    start_bulk(conn)  # one audit summary for the whole computation
    rows = metrics(conn, p, now)
    step("metrics", 1, 4)
    units, boards, because, blobs = [], [], [], []
    counts = {c: 0 for c in (*RATING_CODES, "none")}
    for r in rows:
        m = {k: r[k] for k in METRICS}
        rating = rules.rate(m, p.kind)
        board = _board(rating.board)
        counts[board] += 1
        units.append(r["unit_id"])
        boards.append(board)
        because.append(",".join(rating.because))
        blobs.append(json.dumps({k: v for k, v in r.items() if k != "unit_id"}, sort_keys=True))
    step("rules", 2, 4)
    written = conn.execute(sql("ratings_upsert"), {
        "kind": p.kind, "period": p.key, "s": p.start, "e": p.end, "now": now, "units": units, "boards": boards,
        "because": because, "metrics": blobs}).rowcount
    if p.kind == rules.current:
        conn.execute(sql("units_rating_sync"), {"kind": p.kind, "unit": None})
    step("ratings", 3, 4)
    credit = conn.execute(sql("credit_generate"), {"s": p.start, "e": p.end, "now": now, "actor": actor,
                                                   **credit_points_params()}).rowcount
    synced = _sync_rating_credit(conn, p, None, actor)
    step("credit", 4, 4)
    out = {"period": p.key, "kind": p.kind, "start": iso(p.start), "end": iso(p.end), "units": len(rows),
           "boards": counts, "ratings_written": written, "credit_entries": credit + synced["added"],
           "credit_removed": synced["removed"]}
    bulk(conn, "ratings_compute", "unit_ratings", p.key, out)
    return out


def _sync_rating_credit(conn: Connection, p: Period, unit: int | None, actor: str) -> dict:
    rules = load_ratings()
    if p.kind not in rules.credit.rating_periods:
        return {"removed": 0, "added": 0}
    codes = list(RATING_CODES)
    r = conn.execute(sql("credit_rating_sync"), {
        "kind": p.kind, "period": p.key, "unit": unit, "actor": actor, "codes": codes,
        "points": [rules.points(f"rating_{c}") for c in codes]}).one()
    return {"removed": r.removed, "added": r.added}


# ---- reading ratings ----

def _rating_dict(row) -> dict:
    rules = load_ratings()
    eff = row["effective"]
    sign = rules.sign_for(eff)
    return {"unit_id": row["unit_id"], "name": row["name"], "grid_code": row["grid_code"],
            "period_kind": row["period_kind"], "period": row["period"],
            "board": row["board"], "because": [{"condition": c, "zh": rules.conditions[c].zh if c in
                                                rules.conditions else c} for c in row["because"]],
            "metrics": row["metrics"], "computed_at": iso(row["computed_at"]),
            "override": None if row["override_board"] is None else {
                "board": row["override_board"], "reason": row["override_reason"], "by": row["override_by"],
                "at": iso(row["override_at"])},
            "effective": eff, "label": sign.zh, "version": row["version"]}


def list_ratings(conn: Connection, key: str, *, grid: str | None = None, board: str | None = None,
                 unit: int | None = None, limit: int = 100, offset: int = 0) -> dict:
    """The ratings of a period (filters: grid or community code, effective board, unit)."""
    p = period(key)
    if board is not None and board not in (*RATING_CODES, "none"):
        raise InputError(f"board must be one of {', '.join((*RATING_CODES, 'none'))}", where="board")
    rows = conn.execute(sql("ratings_list"), {"kind": p.kind, "period": p.key, "grid": grid, "board": board,
                                              "unit": unit, "limit": limit, "offset": offset}).mappings().all()
    return {"period": p.key, "kind": p.kind, "start": iso(p.start), "end": iso(p.end),
            "total": rows[0]["total"] if rows else 0, "limit": limit, "offset": offset,
            "ratings": [_rating_dict(r) for r in rows]}


def override(conn: Connection, unit_id: int, key: str, board: str | None, reason: str | None, *, actor: str,
             expected_version: int | str | None = None, now: datetime | None = None) -> dict:
    """Set a period's board by hand (board None clears the override), with a reason; audited by the row triggers.
    The period must have been computed. The unit's current board and the period's rating credit follow."""
    now = now or datetime.now(zone())
    p = period(key)
    _unit(conn, unit_id)
    if board is not None and board not in (*RATING_CODES, "none"):
        raise InputError(f"board must be one of {', '.join((*RATING_CODES, 'none'))} (or null to clear)",
                         where="board")
    reason = _reason(reason, "an override") if board is not None else None
    row = conn.execute(sql("rating_for_update"), {"unit": unit_id, "kind": p.kind, "period": p.key}).first()
    if row is None:
        raise NotFoundError(f"unit {unit_id} has no rating for {p.key} yet: run `gridsvc ratings compute --period "
                            f"{p.key}` first", where="period")
    if expected_version is not None:
        require_version(unit_id, row.version, expected_version, what=f"the {p.key} rating of unit", field="version")
    conn.execute(sql("rating_override"), {"id": row.id, "board": board, "reason": reason, "actor": actor,
                                          "now": now})
    if p.kind == load_ratings().current:
        conn.execute(sql("units_rating_sync"), {"kind": p.kind, "unit": unit_id})
    _sync_rating_credit(conn, p, unit_id, actor)
    return list_ratings(conn, p.key, unit=unit_id)["ratings"][0]


# ---- credit and stars ----

def credit(conn: Connection, unit_id: int) -> dict:
    """A unit's ledger, balance (the sum) and stars."""
    unit = _unit(conn, unit_id)
    rules = load_ratings()
    entries = [dict(e) | {"at": iso(e["at"]), "created_at": iso(e["created_at"])}
               for e in conn.execute(sql("credit_ledger"), {"unit": unit_id}).mappings()]
    balance = sum(e["amount"] for e in entries) if entries else None
    return {"unit_id": unit_id, "name": unit.name, "balance": balance,
            "stars": rules.stars_for(balance) if balance is not None else 0, "entries": entries}


def add_credit(conn: Connection, unit_id: int, amount: int, reason: str | None, *, actor: str,
               at: str | datetime | None = None) -> dict:
    """A manual ledger entry (+ or −) with its reason; audited. Returns the ledger."""
    _unit(conn, unit_id)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0 or abs(amount) > 1000:
        raise InputError("amount must be a whole number from -1000 to 1000, not 0", where="amount")
    note = _reason(reason, "a manual credit entry")
    when = instant(at, where="at") if at is not None else datetime.now(zone())
    _open_ledger(conn, unit_id, actor, when)
    conn.execute(sql("credit_entry_insert"), {"unit": unit_id, "amount": amount, "reason": "manual", "note": note,
                                              "source": None, "inspection": None, "case": None, "actor": actor,
                                              "at": when})
    return credit(conn, unit_id)


def _open_ledger(conn: Connection, unit_id: int, actor: str, at: datetime) -> None:
    """The opening entry (ratings.toml credit.initial) of a ledger, once: the first entry of any kind brings it."""
    conn.execute(sql("credit_entry_insert"), {"unit": unit_id, "amount": load_ratings().credit.initial,
                                              "reason": "initial", "note": None, "source": f"unit:{unit_id}",
                                              "inspection": None, "case": None, "actor": actor, "at": at})


def _record_credit(conn: Connection, unit_id: int, event: str, source: str, actor: str, at: datetime) -> None:
    _open_ledger(conn, unit_id, actor, at)
    conn.execute(sql("credit_entry_insert"), {"unit": unit_id, "amount": load_ratings().points(event),
                                              "reason": event, "note": None, "source": source, "inspection": None,
                                              "case": None, "actor": actor, "at": at})


# ---- duty boards and pledges ----

def _scan_known(conn: Connection, sha: str | None, where: str) -> None:
    if sha is not None and not conn.execute(sql("photos_found"), {"s": [sha]}).first():
        raise InputError(f"no uploaded image with sha256 {sha}: POST /uploads first", where=where)


def boards(conn: Connection, unit_id: int) -> dict:
    """A unit's 责任牌: its status (the latest record) and history, and its 责任书."""
    unit = _unit(conn, unit_id)
    history = [dict(b) | {"at": iso(b["at"]), "created_at": iso(b["created_at"]),
                          "status_zh": BOARD_STATE_ZH[b["status"]]}
               for b in conn.execute(sql("duty_board_history"), {"unit": unit_id}).mappings()]
    pledges = [dict(p) | {"signed_on": p["signed_on"].isoformat(), "created_at": iso(p["created_at"])}
               for p in conn.execute(sql("pledges_of_unit"), {"unit": unit_id}).mappings()]
    return {"unit_id": unit_id, "name": unit.name, "status": history[0]["status"] if history else None,
            "history": history, "pledges": pledges}


def record_board(conn: Connection, unit_id: int, status: str, *, actor: str, at: str | datetime | None = None,
                 note: str | None = None, photo: str | None = None) -> dict:
    """Record a 责任牌 status (hung, missing, damaged, replaced); missing or damaged costs credit points at once."""
    _unit(conn, unit_id)
    if status not in BOARD_STATES:
        raise InputError(f"status must be one of {', '.join(BOARD_STATES)}", where="status")
    when = instant(at, where="at") if at is not None else datetime.now(zone())
    if when > datetime.now(zone()):
        raise InputError(f"at {when.isoformat()} is in the future", where="at")
    _scan_known(conn, photo, "photo")
    board_id = conn.execute(sql("duty_board_insert"), {"unit": unit_id, "status": status, "at": when,
                                                       "note": (note or "").strip() or None, "photo": photo,
                                                       "actor": actor}).scalar_one()
    if status in ("missing", "damaged"):
        _record_credit(conn, unit_id, "duty_board_missing", f"board:{board_id}", actor, when)
    return boards(conn, unit_id)


def record_pledge(conn: Connection, unit_id: int, *, signed_on: str | date, signatory: str, scan: str | None,
                  actor: str) -> dict:
    """Record a signed 责任书 (date, signatory, the scan's sha256 from /uploads); earns pledge_signed points."""
    _unit(conn, unit_id)
    if not (signatory or "").strip():
        raise InputError("the signatory is needed", where="signatory")
    try:
        day = signed_on if isinstance(signed_on, date) else date.fromisoformat(str(signed_on))
    except ValueError:
        raise InputError(f"signed_on must be a date like 2026-11-02, not {str(signed_on)[:40]!r}",
                         where="signed_on") from None
    if day > datetime.now(zone()).date():
        raise InputError(f"signed_on {day} is in the future", where="signed_on")
    _scan_known(conn, scan, "scan")
    row = conn.execute(sql("pledge_insert"), {"unit": unit_id, "signed_on": day, "signatory": signatory.strip(),
                                              "scan": scan, "actor": actor}).one()
    _record_credit(conn, unit_id, "pledge_signed", f"pledge:{row.id}", actor, row.created_at)
    return boards(conn, unit_id)


def coverage(conn: Connection, by: str) -> dict:
    """责任牌 coverage per street or grid: shops, boards hung (hung or replaced), missing, damaged, unrecorded."""
    if by not in COVERAGE_BY:
        raise InputError(f"by must be one of {', '.join(COVERAGE_BY)}", where="by")
    rows = [dict(r) for r in conn.execute(sql(f"board_coverage_{by}")).mappings()]
    for r in rows:
        r["coverage"] = round(r["hung"] / r["shops"], 4) if r["shops"] else None
    shops, hung = sum(r["shops"] for r in rows), sum(r["hung"] for r in rows)
    return {"by": by, "shops": shops, "hung": hung, "coverage": round(hung / shops, 4) if shops else None,
            "rows": rows}
