"""Time limits: the limit language ("10 minutes", "2 hours", "1 working_day"), the working day, time_limits.toml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ...errors import InputError
from .files import Strict, fail, ops_dir, read_toml, stamp, validate

Unit = Literal["minutes", "hours", "days", "working_minutes", "working_hours", "working_days"]
Urgency = Literal["urgent", "normal"]
URGENCIES: tuple[Urgency, ...] = ("urgent", "normal")
# The stages of the case flow that have a limit: 立案, 派遣, 处置, 核查.
STAGES = ("register", "dispatch", "handle", "verify")
STAGE_ZH = {"register": "立案", "dispatch": "派遣", "handle": "处置", "verify": "核查"}
_UNITS = {"minute": "minutes", "hour": "hours", "day": "days", "working_minute": "working_minutes",
          "working_hour": "working_hours", "working_day": "working_days"}
_CALENDAR_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
_LIMIT_RE = re.compile(r"^\s*(\d+)\s+([a-z_]+?)s?\s*$")


class Limit(Strict):
    """A time limit: an amount of calendar time (minutes, hours, days) or of working time (working_*)."""

    amount: int = Field(ge=0)
    unit: Unit

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value):
        if isinstance(value, str):
            m = _LIMIT_RE.match(value)
            unit = _UNITS.get(m.group(2)) if m else None
            if unit is None:
                raise ValueError(f"a limit is '<whole number> <unit>' with unit one of {', '.join(_UNITS.values())}"
                                 f" (e.g. '30 minutes', '1 working_day'); got {value!r}")
            return {"amount": int(m.group(1)), "unit": unit}
        return value

    @classmethod
    def parse(cls, text: str) -> Limit:
        """A limit from its text; InputError when malformed."""
        try:
            return cls.model_validate(text)
        except ValidationError as e:
            raise InputError(e.errors()[0]["msg"].removeprefix("Value error, "), where="limit") from None

    @property
    def working(self) -> bool:
        """Counted in working time (working days of the China calendar, inside the working periods)?"""
        return self.unit.startswith("working_")

    def minutes(self, day_minutes: int) -> int:
        """Length in minutes of calendar time, or of working time with day_minutes to a working day."""
        if self.unit == "working_days":
            return self.amount * day_minutes
        return self.amount * {"working_minutes": 1, "working_hours": 60, **_CALENDAR_MINUTES}[self.unit]

    def __str__(self) -> str:
        """'30 minutes', '1 working_day' (the file's own spelling, singular for 1)."""
        return f"{self.amount} {self.unit[:-1] if self.amount == 1 else self.unit}"


class WorkingDay(Strict):
    """The working periods of a working day (local wall time), e.g. 08:30–12:00 and 14:00–18:00."""

    periods: tuple[tuple[time, time], ...] = Field(min_length=1)

    @field_validator("periods")
    @classmethod
    def _ordered(cls, periods):
        last = time(0, 0)
        for i, (start, end) in enumerate(periods):
            if not start < end:
                raise ValueError(f"period {i + 1} must end after it starts: {start:%H:%M}–{end:%H:%M}")
            if i and not last <= start:
                raise ValueError(f"period {i + 1} must start after period {i} ends ({last:%H:%M})")
            last = end
        return periods

    @property
    def minutes(self) -> int:
        """Length of a working day in minutes (7.5 h = 450 for 08:30–12:00 + 14:00–18:00)."""
        return sum((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in self.periods)


def _stage(obj, stage: str):
    """A stage's field of a file model ('register' is spelled register_ there: BaseModel has a .register)."""
    return getattr(obj, "register_" if stage == "register" else stage)


class _Stages(Strict):
    register_: Limit | None = Field(default=None, alias="register")
    dispatch: Limit | None = None
    handle: Limit | None = None
    verify: Limit | None = None


class _DefaultStages(Strict):
    register_: Limit = Field(alias="register")
    dispatch: Limit
    verify: Limit


class _Defaults(Strict):
    urgent: _DefaultStages
    normal: _DefaultStages


class _Entry(_Stages):
    category: str
    label: str = ""
    urgent: _Stages | None = None
    normal: _Stages | None = None


class _File(Strict):
    working_day: WorkingDay
    default: _Defaults
    limit: list[_Entry] = []


@dataclass(frozen=True)
class CaseLimits:
    """The four limits of a case of one category and urgency, and where each came from."""

    register: Limit
    dispatch: Limit
    handle: Limit
    verify: Limit
    sources: dict[str, str]  # stage -> "default" or the category code of the entry that gave it

    def get(self, stage: str) -> Limit:
        """The limit of a stage (register, dispatch, handle or verify)."""
        if stage not in STAGES:
            raise InputError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}", where="stage")
        return getattr(self, stage)


@dataclass(frozen=True)
class TimeLimits:
    """time_limits.toml, resolved: the limits of every (category code, urgency), majors and minors alike."""

    working_day: WorkingDay
    table: dict[tuple[str, str], CaseLimits]
    source: str

    def for_case(self, category: str, urgency: str) -> CaseLimits:
        """The limits for a case; InputError for an unknown category or urgency."""
        if urgency not in URGENCIES:
            raise InputError(f"urgency must be one of {', '.join(URGENCIES)}, got {urgency!r}", where="urgency")
        try:
            return self.table[(category, urgency)]
        except KeyError:
            raise InputError(f"unknown case category {category!r}", where="category") from None


def parse_time_limits(path: Path, categories) -> TimeLimits:
    """Read time_limits.toml and resolve it against the categories (gridsvc.ops.rules.categories.Categories).

    Cross-checks: every entry names a known category, once; no 处置 in the defaults; every category gets a 处置
    limit for both urgencies from its own entry or its major class's.
    """
    raw = read_toml(path)
    for urgency in URGENCIES:
        if isinstance(raw.get("default", {}).get(urgency), dict) and "handle" in raw["default"][urgency]:
            raise fail(path, f"default.{urgency}.handle",
                       "处置 (handle) limits are per category: give them in a [[limit]] of the category or its major class")
    data = validate(_File, raw, path)
    entries: dict[str, tuple[int, _Entry]] = {}
    for i, entry in enumerate(data.limit):
        where = f"limit[{i}] (category {entry.category!r})"
        if entry.category not in categories.by_code:
            raise fail(path, where, f"unknown category {entry.category!r}: not in categories.toml")
        if entry.category in entries:
            raise fail(path, where, f"category {entry.category!r} already has an entry (limit[{entries[entry.category][0]}])")
        entries[entry.category] = (i, entry)

    def stage_of(code: str, urgency: str, stage: str) -> Limit | None:
        if code not in entries:
            return None
        entry = entries[code][1]
        specific = getattr(entry, urgency)
        return (_stage(specific, stage) if specific is not None else None) or _stage(entry, stage)

    table = {}
    for cat in categories.by_code.values():
        chain = [cat.code] if cat.major == cat.code else [cat.code, cat.major]
        for urgency in URGENCIES:
            found, sources = {}, {}
            for stage in STAGES:
                for code in chain:
                    limit = stage_of(code, urgency, stage)
                    if limit is not None:
                        found[stage], sources[stage] = limit, code
                        break
                else:
                    if stage == "handle":
                        if cat.major != cat.code:
                            raise fail(path, f"category {cat.code!r} ({cat.zh})",
                                       f"no 处置 (handle) limit for {urgency} cases: add a [[limit]] for {cat.code} or "
                                       f"its major class {cat.major}")
                        continue  # a major class whose minors all carry their own limit
                    found[stage], sources[stage] = _stage(getattr(data.default, urgency), stage), "default"
            if "handle" in found:
                table[(cat.code, urgency)] = CaseLimits(**found, sources=sources)
    return TimeLimits(working_day=data.working_day, table=table, source=str(path))


def load_time_limits() -> TimeLimits:
    """time_limits.toml of <geodata_dir>/ops, checked against categories.toml (cached while unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> TimeLimits:
    from .categories import load_categories

    return parse_time_limits(folder / "time_limits.toml", load_categories())
