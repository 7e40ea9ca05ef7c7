"""The case flow (case_flow.toml): states, the stage whose clock runs in each, and the actions between them with
who may take them and what they must carry. Pure: the database side is gridsvc/ops/cases/core.py."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ...people.roles import role_table
from .files import Strict, fail, ops_dir, read_toml, stamp, validate
from .limits import STAGES

Required = Literal["note", "photos", "duplicate_of", "new_deadline"]
PREVIOUS = "previous"


class State(Strict):
    """A state of a case: its label, the stage whose deadline runs in it (none: no clock)."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    stage: Literal["register", "dispatch", "handle", "verify"] | None = None
    final: bool = False
    on_time_figures: bool = True


class Action(Strict):
    """An action between states, with who may take it and what it must carry."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    to: str
    roles: tuple[str, ...] = Field(min_length=1)
    requires: tuple[Required, ...] = ()
    restart: Literal["register", "dispatch", "handle", "verify"] | None = None
    deadline: Literal["new_deadline"] | None = None


class _File(Strict):
    states: dict[str, State] = Field(min_length=1)
    actions: dict[str, Action] = Field(min_length=1)


@dataclass(frozen=True)
class Flow:
    """The flow: states and actions by code."""

    states: dict[str, State]
    actions: dict[str, Action]
    source: str

    def allowed(self, state: str, role: str | None = None) -> list[str]:
        """The actions that may be taken from `state` (by `role`, when given), in the file's order."""
        return [code for code, a in self.actions.items()
                if state in a.from_ and (role is None or role in a.roles)]

    def target(self, action: str, prior_state: str | None) -> str:
        """The state an action leads to ("previous" resolved against the case's prior state)."""
        to = self.actions[action].to
        return prior_state if to == PREVIOUS else to

    def label(self, state: str) -> str:
        """受理 (accepted)."""
        s = self.states[state]
        return f"{s.zh} ({state})"


def parse_flow(path: Path) -> Flow:
    """Read case_flow.toml; cross-checks: states and roles named exist, every non-final state can be left,
    "previous" only from states reached from more than one place, the first state is accepted."""
    data = validate(_File, read_toml(path), path)
    states, actions = dict(data.states), dict(data.actions)
    if next(iter(states)) != "accepted":
        raise fail(path, "states", "the first state is 'accepted' (受理): a new case starts there")
    roles = set(role_table().roles)
    for code, a in actions.items():
        where = f"actions.{code}"
        for s in a.from_:
            if s not in states:
                raise fail(path, f"{where}.from", f"unknown state {s!r}; states: {', '.join(states)}")
            if states[s].final:
                raise fail(path, f"{where}.from", f"state {s!r} is final: nothing leaves it")
        if a.to != PREVIOUS and a.to not in states:
            raise fail(path, f"{where}.to", f"unknown state {a.to!r}; states: {', '.join(states)} or {PREVIOUS!r}")
        unknown = sorted(set(a.roles) - roles)
        if unknown:
            raise fail(path, f"{where}.roles", f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(sorted(roles))}")
        if a.deadline == "new_deadline" and "new_deadline" not in a.requires:
            raise fail(path, f"{where}.deadline", "deadline = 'new_deadline' needs new_deadline in requires")
        target = a.to if a.to != PREVIOUS else None
        if a.restart and target is not None and states[target].stage != a.restart:
            raise fail(path, f"{where}.restart", f"restarts {a.restart!r} but leads to {a.to!r}, whose stage is "
                                                 f"{states[target].stage!r}")
    for code, s in states.items():
        if s.stage is not None and s.stage not in STAGES:
            raise fail(path, f"states.{code}.stage", f"unknown stage {s.stage!r}")
        if not s.final and not any(code in a.from_ for a in actions.values()):
            raise fail(path, f"states.{code}", "no action leaves this state: mark it final or add one")
    return Flow(states=states, actions=actions, source=str(path))


def load_flow() -> Flow:
    """case_flow.toml of <geodata_dir>/ops (cached while the files are unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> Flow:
    return parse_flow(folder / "case_flow.toml")
