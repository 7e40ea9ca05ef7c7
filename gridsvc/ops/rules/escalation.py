"""The 督办 chain (escalation.toml): grid → community → subdistrict → the department's leader, and when each
level is reached by an overdue case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ...errors import InputError
from .calendar import add_limit
from .files import Strict, fail, ops_dir, read_toml, stamp, validate
from .limits import URGENCIES, Limit, WorkingDay, load_time_limits

CHAIN = ("grid", "community", "subdistrict", "department_leader")
LevelCode = Literal["grid", "community", "subdistrict", "department_leader"]
Notify = Literal["grid_officer", "community", "subdistrict", "department_leader"]


class _After(Strict):
    after: Limit


class Level(Strict):
    """One level of the chain: who gets the 督办单 and after how much overdue time."""

    code: LevelCode
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    notify: Notify
    after: Limit
    urgent: _After | None = None

    def after_for(self, urgency: str) -> Limit:
        """The overdue time before this level is reached, for a case of that urgency."""
        return self.urgent.after if urgency == "urgent" and self.urgent is not None else self.after


class _File(Strict):
    levels: list[Level] = Field(min_length=1)


@dataclass(frozen=True)
class Escalation:
    """The chain, in order, with the working day its working-time limits count in."""

    levels: tuple[Level, ...]
    working_day: WorkingDay
    source: str

    def due(self, deadline: datetime, urgency: str) -> list[tuple[Level, datetime]]:
        """Each level with the instant it is reached for a case whose deadline was `deadline`."""
        if urgency not in URGENCIES:
            raise InputError(f"urgency must be one of {', '.join(URGENCIES)}, got {urgency!r}", where="urgency")
        return [(lv, add_limit(deadline, lv.after_for(urgency), self.working_day)) for lv in self.levels]

    def reached(self, deadline: datetime, now: datetime, urgency: str) -> list[Level]:
        """The levels reached by `now` (in chain order); empty when the case is not overdue."""
        if now <= deadline:
            return []
        return [lv for lv, at in self.due(deadline, urgency) if now >= at]


def parse_escalation(path: Path, working_day: WorkingDay) -> Escalation:
    """Read escalation.toml; the chain must be complete and in order, and its times strictly increasing."""
    data = validate(_File, read_toml(path), path)
    codes = tuple(lv.code for lv in data.levels)
    if codes != CHAIN:
        raise fail(path, "levels", f"the chain is {' → '.join(CHAIN)}, in that order, each once; got {' → '.join(codes)}")
    for urgency in URGENCIES:
        previous = None
        for i, lv in enumerate(data.levels):
            limit = lv.after_for(urgency)
            where = f"levels[{i}] (code {lv.code!r}).{'urgent.' if urgency == 'urgent' and lv.urgent else ''}after"
            if previous is not None:
                if limit.working != previous.working:
                    raise fail(path, where, f"mixes calendar and working time within the {urgency} chain "
                                            f"({previous} then {limit}): use one kind so levels come in order")
                if limit.minutes(working_day.minutes) <= previous.minutes(working_day.minutes):
                    raise fail(path, where, f"must be longer than the level before ({previous}), got {limit}")
            previous = limit
    return Escalation(levels=tuple(data.levels), working_day=working_day, source=str(path))


def load_escalation() -> Escalation:
    """escalation.toml of <geodata_dir>/ops (cached while the files are unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> Escalation:
    return parse_escalation(folder / "escalation.toml", load_time_limits().working_day)
