"""Dates and times as people give and read them: in GRIDSVC_TZ (default Asia/Shanghai, Beijing time).

Instants are stored as timestamptz. This module is the one place where what a user types (a date, a time with
or without an offset) becomes an instant, and where an instant becomes a date or time for people (CLI output,
PDFs, the public page). A date is a whole day in GRIDSVC_TZ: "who was responsible on 2026-12-02" asks about
the end of that Beijing day, "since 2026-12-02" starts at its first moment and "until 2026-12-02" includes it.
A time without an offset is wall-clock time in GRIDSVC_TZ; one with an offset (or Z) is taken as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from .errors import InputError
from .settings import get_settings

Edge = Literal["end", "start", "after"]
MAX_TEXT = 40  # the longest ISO time with microseconds and an offset is 32 characters
DATE_HELP = "a date like 2026-05-01 (a whole day, Beijing time) or an ISO time like 2026-05-01T08:30 or 2026-05-01T08:30+08:00"


def zone() -> tzinfo:
    """The time zone of the people using gridsvc (GRIDSVC_TZ)."""
    return ZoneInfo(get_settings().tz)


def parse_when(value: str | date | datetime, *, where: str) -> date | datetime:
    """A date or a time from what a user typed; InputError naming `where` for anything else."""
    if isinstance(value, date):  # datetime too
        return value
    text = str(value).strip()
    shown = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if len(text) <= MAX_TEXT:
        try:  # a date first: datetime.fromisoformat would read "2026-12-02" as its midnight
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise InputError(f"must be {DATE_HELP}, not {shown!r}", where=where)


def instant(value: str | date | datetime | None, *, edge: Edge = "end", where: str = "at") -> datetime:
    """The instant (aware, in GRIDSVC_TZ) a user means; None is now.

    A date is a day in GRIDSVC_TZ: its last microsecond (edge="end": "on that day"), its first (edge="start":
    "from that day") or the first of the next day (edge="after": an exclusive bound that includes that day).
    A naive time is wall-clock time in GRIDSVC_TZ.
    """
    tz = zone()
    if value is None:
        return datetime.now(tz)
    when = parse_when(value, where=where)
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=tz)).astimezone(tz)
    if edge == "end":
        return datetime.combine(when, time.max, tzinfo=tz)
    day = when if edge == "start" else when + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=tz)


def local(value: datetime) -> datetime:
    """An instant as wall-clock time in GRIDSVC_TZ (a naive value is taken as UTC, as PostgreSQL stores it)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone())


def for_people(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An instant written for people in GRIDSVC_TZ ("" for None)."""
    return "" if value is None else local(value).strftime(fmt)


def iso(value: datetime | str | None) -> str | None:
    """An instant as ISO 8601 with GRIDSVC_TZ's offset (2026-12-02T23:59:59.999999+08:00); text passes through."""
    return local(value).isoformat() if isinstance(value, datetime) else value


def today() -> date:
    """Today's date in GRIDSVC_TZ (a PDF printed at 07:00 Beijing time carries that Beijing day)."""
    return datetime.now(zone()).date()


@dataclass(frozen=True)
class Period:
    """A rating period in GRIDSVC_TZ: a calendar month (2026-11) or an ISO week from Monday (2026-W47)."""

    kind: Literal["week", "month"]
    key: str
    start: datetime  # first instant
    end: datetime  # first instant of the next period (exclusive)
    previous: str  # the previous period's key

    @property
    def previous_start(self) -> datetime:
        return period(self.previous).start


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def period(key: str) -> Period:
    """The period a key names: `2026-11` is 2026-11-01 00:00 to 2026-12-01 00:00 Beijing time, `2026-W47` the ISO
    week 2026-11-16 00:00 to 2026-11-23 00:00. InputError (where="period") for anything else."""
    tz = zone()
    text = str(key).strip().upper()
    if m := _MONTH.match(text):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12 and 2000 <= y <= 2100:
            nxt, prv = (y + mo // 12, mo % 12 + 1), (y - (mo == 1), (mo - 2) % 12 + 1)
            return Period("month", f"{y:04d}-{mo:02d}", datetime(y, mo, 1, tzinfo=tz), datetime(*nxt, 1, tzinfo=tz),
                          f"{prv[0]:04d}-{prv[1]:02d}")
    if m := _WEEK.match(text):
        try:
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            monday = None
        if monday is not None and 2000 <= monday.year <= 2100:
            start = datetime.combine(monday, time.min, tzinfo=tz)
            y, w, _ = (monday - timedelta(days=7)).isocalendar()
            return Period("week", f"{m[1]}-W{int(m[2]):02d}", start,
                          datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz), f"{y:04d}-W{w:02d}")
    shown = text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    raise InputError(f"period must be a month like 2026-11 or an ISO week like 2026-W47, not {shown!r}",
                     where="period")
