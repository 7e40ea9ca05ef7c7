"""The 督办 chain timing, and 红/黄/黑 boards, credit points and stars from the ratings rules."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gridsvc.errors import InputError
from gridsvc.ops.rules.escalation import load_escalation
from gridsvc.ops.rules.ratings import load_ratings

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_a_normal_case_climbs_in_working_time():
    # Deadline Friday 2026-09-11 17:00. grid: at once; community: 4 working hours = Fri 17–18 (60) + Mon
    # 08:30 + 180 = Mon 11:30; subdistrict: 1 working day = Mon 17:00; department leader: 3 working days = Wed 17:00.
    esc = load_escalation()
    due = {lv.code: when for lv, when in esc.due(at("2026-09-11 17:00"), "normal")}
    assert due == {"grid": at("2026-09-11 17:00"), "community": at("2026-09-14 11:30"),
                   "subdistrict": at("2026-09-14 17:00"), "department_leader": at("2026-09-16 17:00")}
    assert esc.reached(at("2026-09-11 17:00"), at("2026-09-11 16:59"), "normal") == []
    assert [lv.code for lv in esc.reached(at("2026-09-11 17:00"), at("2026-09-13 12:00"), "normal")] == ["grid"]
    assert [lv.code for lv in esc.reached(at("2026-09-11 17:00"), at("2026-09-14 12:00"), "normal")] == [
        "grid", "community"]
    assert len(esc.reached(at("2026-09-11 17:00"), at("2026-09-16 17:00"), "normal")) == 4


def test_an_urgent_case_climbs_in_hours_through_a_holiday():
    # A missing cover due Saturday 2026-10-03 02:00 (National Day): +0, +1 h, +4 h, +12 h.
    due = {lv.code: when for lv, when in load_escalation().due(at("2026-10-03 02:00"), "urgent")}
    assert due == {"grid": at("2026-10-03 02:00"), "community": at("2026-10-03 03:00"),
                   "subdistrict": at("2026-10-03 06:00"), "department_leader": at("2026-10-03 14:00")}


def test_the_levels_notify_up_the_chain():
    levels = load_escalation().levels
    assert [lv.notify for lv in levels] == ["grid_officer", "community", "subdistrict", "department_leader"]
    with pytest.raises(InputError, match="urgency"):
        load_escalation().due(at("2026-10-03 02:00"), "soon")


# Metrics of one unit and period; a metric left out (or None) makes its conditions false.
@pytest.mark.parametrize(("metrics", "period", "board", "because"), [
    ({"inspections": 2, "inspections_failed": 0, "cases_overdue": 0}, "week", "red",
     ("inspected", "all_passed", "no_overdue")),
    # Two failures: black in a week (>= 2), but not in a month (>= 3), where it is yellow if worse than before.
    ({"inspections": 4, "inspections_failed": 2, "cases_overdue": 0, "failed_change": 1}, "week", "black",
     ("repeated_failures",)),
    ({"inspections": 4, "inspections_failed": 2, "cases_overdue": 0, "failed_change": 1}, "month", "yellow",
     ("more_failures",)),
    ({"inspections": 4, "inspections_failed": 2, "cases_overdue": 0, "failed_change": 0}, "month", "none", ()),
    # One overdue case: black in a week, not in a month (>= 2); all passed but overdue is not red.
    ({"inspections": 1, "inspections_failed": 0, "cases_overdue": 1}, "week", "black", ("overdue_cases",)),
    ({"inspections": 1, "inspections_failed": 0, "cases_overdue": 1, "score_change": -10}, "month", "yellow",
     ("score_fell",)),
    ({"inspections": 1, "inspections_failed": 1, "cases_overdue": 0, "cases_escalated": 1}, "month", "black",
     ("escalated",)),
    # All passed beats a falling score (red before yellow); -4 is not a fall of 5.
    ({"inspections": 3, "inspections_failed": 0, "cases_overdue": 0, "score_change": -8}, "week", "red",
     ("inspected", "all_passed", "no_overdue")),
    ({"inspections": 3, "inspections_failed": 1, "cases_overdue": 0, "score_change": -4}, "week", "none", ()),
    # Not inspected and no previous period: nothing to compare, no board.
    ({"inspections": 0, "inspections_failed": 0, "cases_overdue": 0, "score_change": None}, "week", "none", ()),
])
def test_boards(metrics, period, board, because):
    rating = load_ratings().rate(metrics, period)
    assert (rating.board, rating.because) == (board, because)


def test_rate_refuses_unknown_periods_and_metrics():
    rules = load_ratings()
    with pytest.raises(InputError, match="week, month"):
        rules.rate({}, "year")
    with pytest.raises(InputError, match="overdue"):
        rules.rate({"overdue": 1}, "week")


def test_credit_points_and_stars():
    rules = load_ratings()
    assert rules.credit.initial == 100
    assert (rules.points("inspection_passed"), rules.points("case_overdue"), rules.points("rating_black")) == (1, -3, -5)
    # 100 + 4 inspections passed + 1 failed + 1 red week = 100 + 4 - 2 + 5 = 107 → 3 stars.
    balance = rules.credit.initial + 4 * rules.points("inspection_passed") + rules.points("inspection_failed") \
        + rules.points("rating_red")
    assert balance == 107 and rules.stars_for(balance) == 3
    assert [rules.stars_for(p) for p in (130, 129, 115, 100, 99, 90, 80, 79, -20)] == [5, 4, 4, 3, 2, 2, 1, 0, 0]
    with pytest.raises(InputError, match="unknown credit event"):
        rules.points("bribe")
