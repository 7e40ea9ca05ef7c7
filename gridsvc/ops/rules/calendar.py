"""The China working calendar, in the service's time zone (GRIDSVC_TZ, default Asia/Shanghai).

Working days come from the maintained `holidays` package (holidays.China, >= 0.109): weekends and public holidays
are off, the substituted days off (调休放假) are off, and the weekend days worked in exchange (调休上班, e.g. Sunday
2026-09-20 and Saturday 2026-10-10) are working days. No holiday list is kept here.

For years beyond the official arrangements the package knows (the State Council publishes each year's in the
previous November or December), the package falls back to its statutory rules: the statutory holidays are off,
but no 调休 weekend workdays or substituted days off are known, so such a year's calendar is provisional until the
package is updated.

Time limits (gridsvc/ops/rules/limits.py) are counted here: calendar limits (minutes, hours, days) run day and night;
working limits (working_minutes, working_hours, working_days) run only inside the working periods of
time_limits.toml ([working_day], e.g. 08:30–12:00 and 14:00–18:00) on working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from ...errors import InputError
from ...timekeeping import zone
from .limits import Limit, WorkingDay

# The longest stretch add_limit walks before giving up (a working day that can never come).
_MAX_DAYS = 366 * 20


def service_tz() -> ZoneInfo:
    """The zone the calendar runs in: GRIDSVC_TZ (gridsvc.timekeeping.zone, checked by the settings)."""
    return zone()


@lru_cache(maxsize=1)
def _china() -> holidays.HolidayBase:
    return holidays.China()


def is_workday(day: date) -> bool:
    """Is `day` a working day in China (no weekend or holiday, or a 调休 weekend workday)?

    A datetime counts by its date in the service zone.
    """
    if isinstance(day, datetime):
        day = _aware(day, "day").astimezone(service_tz()).date()
    return _is_workday(day)


@lru_cache(maxsize=8192)
def _is_workday(day: date) -> bool:
    return _china().is_working_day(day)


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise InputError(f"{name} must be a datetime, got {type(moment).__name__}", where=name)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{name} must be timezone-aware (e.g. 2026-10-01T09:00+08:00), got {moment.isoformat()}",
                         where=name)
    return moment


def _working_day(working_day: WorkingDay | None) -> WorkingDay:
    if working_day is not None:
        return working_day
    from .limits import load_time_limits

    return load_time_limits().working_day


def _periods(day: date, working_day: WorkingDay, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The working periods of a day as aware datetimes in UTC (none on a day off)."""
    if not is_workday(day):
        return []
    return [(datetime.combine(day, s, tzinfo=tz).astimezone(UTC), datetime.combine(day, e, tzinfo=tz).astimezone(UTC))
            for s, e in working_day.periods]


def add_limit(start: datetime, limit: Limit | str, working_day: WorkingDay | None = None) -> datetime:
    """The deadline `limit` after `start`, as an aware datetime in the service zone.

    Calendar limits add elapsed time. Working limits add working time: the clock starts at `start`, or at the next
    working period when `start` is outside one (a Saturday, a holiday, lunch, the evening), and stops outside the
    periods; a deadline that falls exactly on the end of a period is that end (18:00, not the next 08:30).
    A limit of 0 is `start` itself. `working_day` defaults to time_limits.toml's.
    """
    start = _aware(start, "start")
    if isinstance(limit, str):
        limit = Limit.parse(limit)
    tz = service_tz()
    if not limit.working:
        return (start.astimezone(UTC) + timedelta(minutes=limit.minutes(0))).astimezone(tz)
    wd = _working_day(working_day)
    remaining = timedelta(minutes=limit.minutes(wd.minutes))
    cursor = start.astimezone(UTC)
    if not remaining:
        return cursor.astimezone(tz)
    day = start.astimezone(tz).date()
    for _ in range(_MAX_DAYS):
        for s, e in _periods(day, wd, tz):
            if cursor >= e:
                continue
            begin = max(cursor, s)
            if remaining <= e - begin:
                return (begin + remaining).astimezone(tz)
            remaining -= e - begin
            cursor = e
        day += timedelta(days=1)
    raise InputError(f"no working time found within {_MAX_DAYS} days of {start.isoformat()}", where="limit")


def working_time_between(a: datetime, b: datetime, working_day: WorkingDay | None = None) -> timedelta:
    """Working time from a to b (negative when b is before a): how overdue a case is in working terms."""
    a, b = _aware(a, "a"), _aware(b, "b")
    if b < a:
        return -working_time_between(b, a, working_day)
    wd, tz = _working_day(working_day), service_tz()
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    day, last = a.astimezone(tz).date(), b.astimezone(tz).date()
    while day <= last:
        for s, e in _periods(day, wd, tz):
            overlap = min(e, b) - max(s, a)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def elapsed(a: datetime, b: datetime, limit: Limit) -> timedelta:
    """Time from a to b measured the way `limit` counts: working time for a working limit, else elapsed time."""
    if limit.working:
        return working_time_between(a, b)
    return _aware(b, "b") - _aware(a, "a")
