"""Ratings, credit and stars earned from a small hand-made history (two months, five units), every figure known in
advance: the boards and the conditions behind them, the metrics, the credit balance and stars; recompute is
idempotent; an override needs a reason, is audited and survives recompute; periods are Beijing months and ISO
weeks at their edges."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from gridsvc.errors import InputError, NotFoundError
from gridsvc.ops.ratings import records as rr
from gridsvc.timekeeping import period, zone

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=zone())


def _t(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def unit(c, name: str) -> int:
    return c.execute(text("INSERT INTO units (name, geom, source_file, source_id) VALUES (:n, "
                          "ST_SetSRID(ST_MakePoint(118.78, 32.04), 4326), 'test-ratings', :n) RETURNING id"),
                     {"n": name}).scalar_one()


def inspection(c, unit_id: int, at: str, score: float, *, failed: int = 0, unannounced: bool = False) -> int:
    """An inspection row as the inspections code would store it (10 items, max score 100)."""
    return c.execute(text(
        "INSERT INTO inspections (checklist, target_kind, unit_id, inspector, inspector_kind, unannounced, "
        "inspected_at, score, max_score, items_total, items_failed, passed, source) VALUES ('市容', 'unit', :u, "
        "'tester', 'grid_officer', :ua, :at, :s, 100, 10, :f, :p, 'api') RETURNING id"),
        {"u": unit_id, "ua": unannounced, "at": _t(at), "s": score, "f": failed, "p": failed == 0}).scalar_one()


def case(c, unit_id: int, reported: str, *, state: str = "dispatched", due: str | None = None,
         closed: str | None = None, ever_overdue: bool = False) -> int:
    return c.execute(text(
        "INSERT INTO cases (code, state, category, kind, urgency, description, source, reported_by, reported_at, "
        "geom, unit_id, department, rule, routing, deadlines, stage, due_at, closed_at, ever_overdue) VALUES "
        "(:code, :st, 'SJ0102', 'event', 'normal', '门前堆物', 'grid_officer', 'tester', :r, "
        "ST_SetSRID(ST_MakePoint(118.78, 32.04), 4326), :u, 'huanwei', 'r', '{}', '{}', "
        "CASE WHEN CAST(:due AS timestamptz) IS NULL THEN NULL ELSE 'handle' END, :due, :cl, :eo) RETURNING id"),
        {"u": unit_id, "r": _t(reported), "st": state, "due": _t(due), "cl": _t(closed), "eo": ever_overdue,
         "code": f"C{unit_id}{reported}"}).scalar_one()


def escalation(c, case_id: int, due: str, issued: str) -> None:
    c.execute(text("INSERT INTO escalations (case_id, stage, stage_started_at, level, level_code, issued_at, due_at, "
                   "notify, to_whom, reason) VALUES (:c, 'handle', :d, 1, 'grid', :i, :d, 'grid_officer', '网格员', "
                   "'超期')"), {"c": case_id, "d": _t(due), "i": _t(issued)})


@pytest.fixture
def history(clean_db):
    """Units A–E and their records of October and November 2026 (Beijing time)."""
    with clean_db.begin() as c:
        u = {k: unit(c, k) for k in "ABCDE"}
        # A: passed in October (80) and twice in November (90, and a passed 暗访 at 100)
        inspection(c, u["A"], "2026-10-12T10:00+08:00", 80)
        inspection(c, u["A"], "2026-11-03T10:00+08:00", 90)
        inspection(c, u["A"], "2026-11-20T10:00+08:00", 100, unannounced=True)
        # B: passed in October (90); failed once in November, on its last half hour (Beijing): 70 with 1 item failed;
        # failed again 10 minutes into December, which November must not see
        inspection(c, u["B"], "2026-10-15T10:00+08:00", 90)
        inspection(c, u["B"], "2026-11-30T23:30+08:00", 70, failed=1)
        inspection(c, u["B"], "2026-12-01T00:10+08:00", 60, failed=2)
        # C: two cases in November, both past their deadline (督办单 each): one still open, one closed late after
        # a 返工
        c1 = case(c, u["C"], "2026-11-05T09:00+08:00", due="2026-11-06T09:00+08:00", ever_overdue=True)
        escalation(c, c1, "2026-11-06T09:00+08:00", "2026-11-07T09:00+08:00")
        c2 = case(c, u["C"], "2026-11-10T09:00+08:00", state="closed", closed="2026-11-20T09:00+08:00",
                  ever_overdue=True)
        escalation(c, c2, "2026-11-12T09:00+08:00", "2026-11-13T09:00+08:00")
        c.execute(text("INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, at) VALUES "
                       "(:c, 5, 'verify_fail', 'rectified', 'rework', 'tester', '2026-11-15T09:00+08:00')"),
                  {"c": c2})
        # D: nothing. E: a case closed on time in November
        case(c, u["E"], "2026-11-02T09:00+08:00", state="closed", closed="2026-11-03T09:00+08:00")
    return clean_db, u


def ratings_of(engine, key: str) -> dict[int, dict]:
    with engine.connect() as c:
        return {r["unit_id"]: r for r in rr.list_ratings(c, key, limit=1000)["ratings"]}


def balances(engine, units: dict) -> dict[str, tuple]:
    with engine.connect() as c:
        return {k: (v := rr.credit(c, i))["balance"] and (v["balance"], v["stars"]) for k, i in units.items()}


def test_periods_are_beijing_months_and_iso_weeks():
    nov = period("2026-11")
    assert (nov.start.isoformat(), nov.end.isoformat(), nov.previous) == (
        "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", "2026-10")
    w = period("2026-w47")
    assert (w.key, w.start.isoformat(), w.end.isoformat(), w.previous) == (
        "2026-W47", "2026-11-16T00:00:00+08:00", "2026-11-23T00:00:00+08:00", "2026-W46")
    assert period("2027-01").previous == "2026-12" and period("2027-W01").previous == "2026-W53"
    for bad in ("2026-13", "2026-W54", "2026/11", "", "2026-11-01"):
        with pytest.raises(InputError):
            period(bad)


def test_two_months_rated_from_records_with_every_figure_known(history):
    engine, u = history
    with engine.begin() as c:
        oct_ = rr.compute(c, "2026-10", now=NOW)
    assert oct_["units"] == 5 and oct_["boards"] == {"red": 2, "yellow": 0, "black": 0, "none": 3}
    with engine.begin() as c:
        nov = rr.compute(c, "2026-11", now=NOW)
    assert nov["boards"] == {"red": 1, "yellow": 1, "black": 1, "none": 2}
    r = ratings_of(engine, "2026-11")
    a, b, cc, d, e = (r[u[k]] for k in "ABCDE")
    assert (a["board"], [x["condition"] for x in a["because"]]) == ("red", ["inspected", "all_passed", "no_overdue"])
    assert {k: a["metrics"][k] for k in ("inspections", "inspections_passed", "inspections_failed", "score_avg",
                                         "score_change", "failed_change")} == {
        "inspections": 2, "inspections_passed": 2, "inspections_failed": 0, "score_avg": 95, "score_change": 15,
        "failed_change": 0}
    # B's failure at 23:30 on 30 November (Beijing) is November's; the one at 00:10 on 1 December is not
    assert (b["board"], [x["condition"] for x in b["because"]]) == ("yellow", ["score_fell", "more_failures"])
    assert {k: b["metrics"][k] for k in ("inspections", "inspections_failed", "items_failed", "score_avg",
                                         "score_change", "failed_change")} == {
        "inspections": 1, "inspections_failed": 1, "items_failed": 1, "score_avg": 70, "score_change": -20,
        "failed_change": 1}
    assert (cc["board"], [x["condition"] for x in cc["because"]]) == ("black", ["overdue_cases", "escalated"])
    assert {k: cc["metrics"][k] for k in ("cases", "cases_overdue", "cases_open_overdue", "cases_escalated",
                                          "cases_on_time", "cases_rework", "inspections", "score_avg")} == {
        "cases": 2, "cases_overdue": 2, "cases_open_overdue": 1, "cases_escalated": 2, "cases_on_time": 0,
        "cases_rework": 1, "inspections": 0, "score_avg": None}
    assert d["board"] == "none" and d["metrics"]["inspections"] == 0 and d["metrics"]["failed_change"] is None
    assert e["board"] == "none" and e["metrics"]["cases_on_time"] == 1 and e["metrics"]["cases"] == 1
    # credit: 100 opening; A +1 (Oct pass) +5 (Oct red) +1 +1 +2 (暗访) +5 (Nov red) = 115 → 4 stars;
    # B +1 +5 (Oct) −2 (fail) −1 (yellow) = 103 → 3; C −3 −3 (overdue) −2 −2 (督办) −1 (返工) −5 (black) = 84 → 1;
    # D 100 → 3; E +1 (closed on time) = 101 → 3
    assert balances(engine, u) == {"A": (115, 4), "B": (103, 3), "C": (84, 1), "D": (100, 3), "E": (101, 3)}
    with engine.connect() as c:
        ledger = rr.credit(c, u["C"])["entries"]
        current = dict(c.execute(text("SELECT name, rating FROM units")).all())
    assert sorted(x["reason"] for x in ledger) == sorted(["initial", "case_overdue", "case_overdue", "case_escalated",
                                                         "case_escalated", "case_rework", "rating_black"])
    assert all(x["case_id"] for x in ledger if x["reason"].startswith("case_"))
    assert current == {"A": "red", "B": "yellow", "C": "black", "D": None, "E": None}  # the latest month's board

    with engine.begin() as c:  # idempotent: nothing new, nothing changed
        again = rr.compute(c, "2026-11", now=NOW)
    assert (again["ratings_written"], again["credit_entries"], again["credit_removed"]) == (0, 0, 0)
    assert balances(engine, u)["A"] == (115, 4)


def test_an_override_needs_a_reason_is_audited_and_survives_recompute(history):
    engine, u = history
    with engine.begin() as c:
        rr.compute(c, "2026-10", now=NOW)
        rr.compute(c, "2026-11", now=NOW)
    with engine.begin() as c, pytest.raises(InputError, match="reason"):
        rr.override(c, u["B"], "2026-11", "black", "  ", actor="张主任")
    with engine.begin() as c, pytest.raises(NotFoundError, match="compute"):
        rr.override(c, u["B"], "2026-09", "black", "x", actor="张主任")
    with engine.begin() as c:
        c.execute(text("SELECT set_config('gridsvc.actor', '张主任', true)"))
        out = rr.override(c, u["B"], "2026-11", "black", "占道经营屡教不改", actor="张主任")
    assert (out["board"], out["effective"], out["override"]["reason"], out["override"]["by"]) == (
        "yellow", "black", "占道经营屡教不改", "张主任")
    with engine.begin() as c:
        rr.compute(c, "2026-11", now=NOW)
    b = ratings_of(engine, "2026-11")[u["B"]]
    assert (b["board"], b["effective"], b["override"]["reason"]) == ("yellow", "black", "占道经营屡教不改")
    # the board's credit follows the override: −5 instead of −1 → 99, 2 stars; the unit's current board too
    assert balances(engine, u)["B"] == (99, 2)
    with engine.connect() as c:
        assert c.execute(text("SELECT rating FROM units WHERE id = :i"), {"i": u["B"]}).scalar() == "black"
        log = c.execute(text("SELECT actor, after ->> 'override_reason' FROM audit_log WHERE table_name = "
                             "'unit_ratings' AND action = 'update' ORDER BY id")).all()
    assert ("张主任", "占道经营屡教不改") in [tuple(x) for x in log]
    with engine.begin() as c:  # cleared: back to the computed board
        out = rr.override(c, u["B"], "2026-11", None, None, actor="张主任")
    assert out["effective"] == "yellow" and out["override"] is None and balances(engine, u)["B"] == (103, 3)


def test_a_week_at_the_month_edge_and_manual_credit(history):
    engine, u = history
    with engine.begin() as c:
        w = rr.compute(c, "2026-W49", now=NOW)  # Mon 30 Nov – Sun 6 Dec: both of B's failures
    assert w["kind"] == "week"
    b = ratings_of(engine, "2026-W49")[u["B"]]
    assert (b["board"], b["metrics"]["inspections_failed"]) == ("black", 2)
    with engine.begin() as c:
        with pytest.raises(InputError, match="reason"):
            rr.add_credit(c, u["D"], 5, " ", actor="张主任")
        ledger = rr.add_credit(c, u["D"], 5, "主动清理积雪", actor="张主任")
    assert ledger["balance"] == 105 and ledger["stars"] == 3
    assert ledger["entries"][-1] | {} and ledger["entries"][-1]["note"] == "主动清理积雪"


def test_boards_pledges_and_coverage(history):
    engine, u = history
    with engine.begin() as c:
        rr.record_board(c, u["A"], "hung", actor="t", at="2026-11-01T10:00")
        rr.record_board(c, u["B"], "hung", actor="t", at="2026-11-01T10:00")
        out = rr.record_board(c, u["B"], "missing", actor="t", at="2026-11-10T10:00")
        rr.record_board(c, u["C"], "damaged", actor="t", at="2026-11-10T10:00")
        rr.record_board(c, u["C"], "replaced", actor="t", at="2026-11-12T10:00")
        rr.record_pledge(c, u["D"], signed_on="2026-11-02", signatory="王老板", scan=None, actor="t")
        with pytest.raises(InputError):
            rr.record_board(c, u["D"], "stolen", actor="t")
    assert out["status"] == "missing" and [h["status"] for h in out["history"]] == ["missing", "hung"]
    with engine.connect() as c:
        grid = rr.coverage(c, "grid")
        street = rr.coverage(c, "street")
        # the first entry opens a ledger with its 100: B −1 (board missing) = 99, D +2 (责任书) = 102
        assert rr.credit(c, u["B"])["balance"] == 99 and rr.credit(c, u["D"])["balance"] == 102
        assert rr.boards(c, u["D"])["pledges"][0]["signatory"] == "王老板"
    # these units lie in no grid cell and no frontage zone: one row each, 2 hung (A, C replaced) of 5 shops
    assert (grid["shops"], grid["hung"], street["shops"], street["hung"]) == (5, 2, 5, 2)
    assert grid["rows"][0] | {} and (grid["rows"][0]["missing"], grid["rows"][0]["unrecorded"]) == (1, 2)


def test_the_board_pdf_prints_the_current_rating_and_stars():
    from gridsvc.exporters.board_pdf import standing

    assert standing({"rating": "red", "credit_points": 115}) == "评级：红牌　4星商户"
    assert standing({"rating": None, "credit_points": 70}) == "评级：未评"
    assert standing({"name": "x"}) == ""
