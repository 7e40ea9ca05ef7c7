"""The China working calendar and deadlines, every expected instant worked out by hand.

2026 facts used (State Council arrangement, as holidays.China has it): Friday 09-25 is 中秋 (off); 10-01..10-07
are the National Day holiday (Thursday to Wednesday, all off); Sunday 09-20 and Saturday 10-10 are 调休 working
days. The working day of time_limits.toml is 08:30–12:00 + 14:00–18:00 = 450 minutes.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import gridsvc.settings as settings_mod
from gridsvc.errors import InputError
from gridsvc.ops.rules.calendar import add_limit, is_workday, service_tz, working_time_between
from gridsvc.ops.rules.limits import Limit, WorkingDay, load_time_limits

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Shanghai wall-clock time, '2026-09-11 16:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_the_working_day_is_data():
    wd = load_time_limits().working_day
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in wd.periods] == [("08:30", "12:00"), ("14:00", "18:00")]
    assert wd.minutes == 450


@pytest.mark.parametrize(("day", "working"), [
    ("2026-09-18", True),    # Friday
    ("2026-09-19", False),   # Saturday
    ("2026-09-20", True),    # Sunday, 调休 workday (for National Day)
    ("2026-09-25", False),   # Friday, 中秋
    ("2026-09-30", True),
    *[(f"2026-10-0{d}", False) for d in range(1, 8)],  # National Day, Thursday to Wednesday
    ("2026-10-08", True),
    ("2026-10-10", True),    # Saturday, 调休 workday
    ("2026-10-11", False),   # Sunday
])
def test_is_workday_2026(day, working):
    assert is_workday(date.fromisoformat(day)) is working


def test_is_workday_of_a_datetime_uses_the_service_zone():
    # 2026-09-19 17:00 UTC is Sunday 2026-09-20 01:00 in Shanghai: a 调休 workday.
    assert is_workday(datetime(2026, 9, 19, 17, 0, tzinfo=UTC)) is True
    assert is_workday(datetime(2026, 9, 19, 15, 0, tzinfo=UTC)) is False  # Saturday 23:00 in Shanghai


@pytest.mark.parametrize(("start", "limit", "deadline"), [
    # Across a weekend. Fri 16:00 + 450 working min: Fri 16–18 (120), Mon 08:30–12 (210), Mon 14:00 + 120.
    ("2026-09-11 16:00", "1 working_day", "2026-09-14 16:00"),
    # Across the National Day holiday. Wed 09-30 17:00: 60 that day, 10-01..07 off, Thu 10-08 210 + 180.
    ("2026-09-30 17:00", "1 working_day", "2026-10-08 17:00"),
    # Into a 调休 Sunday: Saturday 09-19 is off, Sunday 09-20 works from 08:30.
    ("2026-09-19 10:00", "2 working_hours", "2026-09-20 10:30"),
    # Into a 调休 Saturday: Fri 10-09 17:00 gives 60, Sat 10-10 08:30 + 180.
    ("2026-10-09 17:00", "4 working_hours", "2026-10-10 11:30"),
    # 违法建设, 15 working days from Mon 09-21 09:00: working days 09-22, 23, 24 (25 中秋), 28, 29, 30,
    # (10-01..07 off) 10-08, 09, 10 (Sat, 调休), 12, 13, 14, 15, 16, 19 -> the 15th is Mon 10-19, same clock time.
    ("2026-09-21 09:00", "15 working_days", "2026-10-19 09:00"),
    # Over lunch: 11:00-12:00 (60), then 14:00 + 60.
    ("2026-09-15 11:00", "2 working_hours", "2026-09-15 15:00"),
    # Over the end of the day: 17:00-18:00 (60), next morning 08:30 + 60.
    ("2026-09-15 17:00", "2 working_hours", "2026-09-16 09:30"),
    # Ending exactly at the end of a period: 12:00, not 14:00.
    ("2026-09-15 10:00", "2 working_hours", "2026-09-15 12:00"),
    ("2026-09-15 16:00", "2 working_hours", "2026-09-15 18:00"),
    # Starting in the lunch break, in the evening, on a holiday morning.
    ("2026-09-15 12:30", "30 working_minutes", "2026-09-15 14:30"),
    ("2026-09-15 20:00", "30 working_minutes", "2026-09-16 09:00"),
    ("2026-10-03 09:00", "1 working_day", "2026-10-08 18:00"),
    # Calendar limits ignore weekends, holidays and working hours.
    ("2026-10-03 23:00", "2 hours", "2026-10-04 01:00"),    # 井盖缺失 on a holiday night
    ("2026-10-01 23:55", "10 minutes", "2026-10-02 00:05"),  # 立案, urgent
    ("2026-09-19 12:00", "3 days", "2026-09-22 12:00"),
    # A limit of 0 is the start itself, even outside working hours.
    ("2026-10-03 23:00", "0 working_minutes", "2026-10-03 23:00"),
])
def test_add_limit(start, limit, deadline):
    result = add_limit(at(start), limit)
    assert result == at(deadline)
    assert result.tzinfo is not None and result.utcoffset() == timedelta(hours=8)
    assert str(result.tzinfo) == "Asia/Shanghai"


def test_add_limit_takes_any_aware_start_and_answers_in_the_service_zone():
    # 2026-09-11 08:00 UTC is Friday 16:00 in Shanghai (the weekend case above).
    result = add_limit(datetime(2026, 9, 11, 8, 0, tzinfo=UTC), Limit.parse("1 working_day"))
    assert result.isoformat() == "2026-09-14T16:00:00+08:00"


def test_add_limit_refuses_a_naive_start():
    with pytest.raises(InputError, match="timezone-aware"):
        add_limit(datetime(2026, 9, 11, 16, 0), "1 working_day")


def test_add_limit_with_another_working_day():
    wd = WorkingDay.model_validate({"periods": [["09:00", "17:00"]]})
    assert add_limit(at("2026-09-11 16:00"), "1 working_day", wd) == at("2026-09-14 16:00")  # 60 + 420
    assert add_limit(at("2026-09-11 16:00"), "2 working_hours", wd) == at("2026-09-14 10:00")


def test_case_deadlines_from_the_time_limits_table():
    limits = load_time_limits()
    rubbish = limits.for_case("SJ0102", "normal")  # 暴露垃圾
    assert (str(rubbish.register), str(rubbish.dispatch), str(rubbish.handle)) == ("30 minutes", "30 minutes", "1 working_day")
    # Reported Friday 2026-09-11 16:00: filed and dispatched within 30 minutes each, fixed by Monday 16:00.
    assert add_limit(at("2026-09-11 16:00"), rubbish.register) == at("2026-09-11 16:30")
    assert add_limit(at("2026-09-11 16:00"), rubbish.handle) == at("2026-09-14 16:00")
    cover = limits.for_case("BJ0103", "urgent")  # 雨水井盖, missing
    assert (str(cover.register), str(cover.handle)) == ("10 minutes", "2 hours")
    assert add_limit(at("2026-10-01 22:30"), cover.handle) == at("2026-10-02 00:30")
    building = limits.for_case("SJ0701", "normal")  # 违法建设
    assert add_limit(at("2026-09-21 09:00"), building.handle) == at("2026-10-19 09:00")


@pytest.mark.parametrize(("a", "b", "minutes"), [
    ("2026-09-11 16:00", "2026-09-14 10:00", 120 + 90),        # over a weekend
    ("2026-09-15 11:00", "2026-09-15 15:00", 60 + 60),         # over lunch
    ("2026-09-30 18:00", "2026-10-08 08:30", 0),               # the whole National Day holiday
    ("2026-09-30 17:00", "2026-10-08 17:00", 450),             # one working day, as add_limit counts it
    ("2026-09-19 00:00", "2026-09-21 00:00", 450),             # Sat off, Sun 09-20 (调休) worked
    ("2026-09-15 12:10", "2026-09-15 13:50", 0),               # inside lunch
])
def test_working_time_between(a, b, minutes):
    assert working_time_between(at(a), at(b)) == timedelta(minutes=minutes)
    assert working_time_between(at(b), at(a)) == -timedelta(minutes=minutes)


def test_the_zone_comes_from_GRIDSVC_TZ(monkeypatch):
    assert str(service_tz()) == "Asia/Shanghai"
    monkeypatch.setenv("GRIDSVC_TZ", "Asia/Urumqi")  # UTC+6: working hours are Urumqi's wall clock
    settings_mod.get_settings.cache_clear()
    result = add_limit(datetime(2026, 9, 15, 10, 0, tzinfo=ZoneInfo("Asia/Urumqi")), "2 working_hours")
    assert result.isoformat() == "2026-09-15T12:00:00+06:00"


@pytest.mark.parametrize("text", ["2 fortnights", "two hours", "1.5 hours", "-1 hours", "hours"])
def test_malformed_limits(text):
    with pytest.raises(InputError, match="working_day"):
        Limit.parse(text)


def test_limit_units_singular_and_plural():
    assert Limit.parse("1 working_day") == Limit.parse("1 working_days") == Limit(amount=1, unit="working_days")
    assert Limit.parse("1 hour").minutes(450) == 60 and Limit.parse("2 working_days").minutes(450) == 900
