"""Dates and times as people give and read them: in GRIDSVC_TZ (default Asia/Shanghai, Beijing time).

Instants are stored as timestamptz. This module is the one place where what a user types (a date, a time with
or without an offset) becomes an instant, and where an instant becomes a date or time for people (CLI output,
PDFs, the public page). A date is a whole day in GRIDSVC_TZ: "who was responsible on 2026-12-02" asks about
the end of that Beijing day, "since 2026-12-02" starts at its first moment and "until 2026-12-02" includes it.
A time without an offset is wall-clock time in GRIDSVC_TZ; one with an offset (or Z) is taken as given.
"""

from __future__ import annotations

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
