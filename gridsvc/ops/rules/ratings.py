"""红/黄/黑 boards, credit points and stars (ratings.toml): named conditions on a unit's period metrics.

Also the one home of how the boards are shown ([signs.*]): a unit's stored rating (red, yellow, black, or none)
as 红牌/黄牌/黑牌 with its labels and colours, read by the checklist PDF, the exports, the offline map and the
public unit page (`signs()`, `rating_label`, `sign_for`). Nothing here imports a renderer.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ...errors import InputError
from .files import Strict, fail, ops_dir, read_toml, stamp, validate

# A unit's stored rating (units.rating, CHECK unit_rating_known of migration 0003): the boards' codes.
RatingCode = Literal["red", "yellow", "black"]
RATING_CODES: tuple[str, ...] = ("red", "yellow", "black")
Period = Literal["week", "month"]
PERIODS: tuple[str, ...] = ("week", "month")
# The metrics the rating code computes per unit and period (documented in ratings.toml).
METRICS: tuple[str, ...] = ("inspections", "inspections_passed", "inspections_failed", "items_failed", "score_avg",
                            "cases", "cases_overdue", "cases_open_overdue", "cases_escalated", "cases_on_time",
                            "cases_rework", "score_change", "failed_change")
Metric = Literal["inspections", "inspections_passed", "inspections_failed", "items_failed", "score_avg", "cases",
                 "cases_overdue", "cases_open_overdue", "cases_escalated", "cases_on_time", "cases_rework",
                 "score_change", "failed_change"]
Op = Literal["==", "!=", "<", "<=", ">", ">="]
_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}
# The events that move credit points (the keys of [credit.points]; every one must be given).
CREDIT_EVENTS: tuple[str, ...] = ("inspection_passed", "inspection_failed", "case_rectified_on_time", "case_overdue",
                                  "case_escalated", "case_rework", "rating_red", "rating_yellow", "rating_black",
                                  "duty_board_missing", "pledge_signed", "unannounced_passed")
CreditEvent = Literal["inspection_passed", "inspection_failed", "case_rectified_on_time", "case_overdue",
                      "case_escalated", "case_rework", "rating_red", "rating_yellow", "rating_black",
                      "duty_board_missing", "pledge_signed", "unannounced_passed"]


class Condition(Strict):
    """A named condition: `metric op value`, the value one number or one per period."""

    zh: str = Field(min_length=1)
    metric: Metric
    op: Op
    value: float | dict[Period, float]

    def threshold(self, period: str) -> float:
        return self.value[period] if isinstance(self.value, dict) else self.value

    def holds(self, metrics: Mapping[str, float | None], period: str) -> bool:
        """Does it hold for these metrics? A metric that is None (nothing to compare) never holds."""
        value = metrics.get(self.metric)
        return value is not None and _OPS[self.op](value, self.threshold(period))


class Board(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()


HEX = r"^#[0-9A-Fa-f]{6}$"


class Sign(Strict):
    """A board as shown: 红牌 on the door, in the checklists, on the public page and the map."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    meaning_zh: str = Field(min_length=1)
    meaning_en: str = Field(min_length=1)
    printed: str | None = Field(default=None, min_length=1)  # the checklists' label when not zh
    ink: str = Field(pattern=HEX)
    tint: str | None = Field(default=None, pattern=HEX)
    page: str = Field(pattern=HEX)
    page_text: str = Field(pattern=HEX)
    map: str | None = Field(default=None, pattern=HEX)

    @property
    def label(self) -> str:
        """The printed label (红牌, 黄牌, 黑牌, 未评)."""
        return self.printed or self.zh


class Credit(Strict):
    initial: int
    points: dict[CreditEvent, int]
    rating_periods: tuple[Period, ...] = ("month",)  # the periods whose boards earn rating_* points


class StarLevel(Strict):
    stars: int = Field(ge=1, le=5)
    min_points: int


class _File(Strict):
    periods: tuple[Period, ...] = Field(min_length=1)
    current: Period = "month"
    otherwise: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    conditions: dict[str, Condition] = Field(min_length=1)
    boards: tuple[Board, ...] = Field(min_length=1)
    signs: dict[str, Sign] = Field(min_length=1)
    credit: Credit
    stars: tuple[StarLevel, ...] = ()


@dataclass(frozen=True)
class Rating:
    """A unit's board for a period and the conditions that put it there."""

    board: str  # a board code (red, yellow, black) or `otherwise` (none)
    because: tuple[str, ...]  # names of the conditions that held


@dataclass(frozen=True)
class RatingRules:
    """ratings.toml, checked."""

    periods: tuple[str, ...]
    current: str  # the period whose latest rating is a unit's current board (units.rating)
    otherwise: str
    conditions: dict[str, Condition]
    boards: tuple[Board, ...]
    signs: dict[str, Sign]  # board code (and `otherwise`) -> how it is shown, in the order listed
    credit: Credit
    stars: tuple[StarLevel, ...]  # highest threshold first
    source: str

    @property
    def unrated(self) -> Sign:
        """How a unit on no board (`otherwise`, or no rating stored) is shown."""
        return self.signs[self.otherwise]

    def rated_signs(self) -> dict[str, Sign]:
        """The signs of the boards (without `otherwise`), in the order listed: red, yellow, black."""
        return {code: s for code, s in self.signs.items() if code != self.otherwise}

    def spellings(self) -> dict[str, str]:
        """Accepted spellings of a rating (code, 红牌, 红; lower case) -> the printed label."""
        out = {}
        for code, s in self.rated_signs().items():
            out |= {code.lower(): s.label, s.zh.lower(): s.label, s.zh[0]: s.label}
        return out

    def sign_for(self, code: str | None) -> Sign:
        """The sign of a stored rating code; unrated for None or a code with no board."""
        return self.signs[code] if code in self.rated_signs() else self.unrated

    def rating_label(self, value, *, where: str = "") -> str:
        """The printed rating (红牌/黄牌/黑牌) of a value such as 'red' or '红牌'; 未评 when missing."""
        unrated = self.unrated.label
        if value is None or type(value).__name__ == "NAType" or (isinstance(value, float) and math.isnan(value)):
            return unrated
        text = str(value).strip()
        if text in ("", unrated):
            return unrated
        label = self.spellings().get(text.lower())
        if label is None:
            codes = "/".join(self.rated_signs())
            labels = "/".join(s.zh for s in self.rated_signs().values())
            raise InputError(f"unknown rating {value!r}; use {codes} ({labels}) or leave empty",
                             source="rows", where=where or None)
        return label

    def rate(self, metrics: Mapping[str, float | None], period: str) -> Rating:
        """The first board (in file order) whose `all` conditions all hold and, if it has `any`, one of those."""
        if period not in self.periods:
            raise InputError(f"period must be one of {', '.join(self.periods)}, got {period!r}", where="period")
        unknown = set(metrics) - set(METRICS)
        if unknown:
            raise InputError(f"unknown metric(s) {', '.join(sorted(unknown))}; metrics: {', '.join(METRICS)}",
                             where="metrics")
        for board in self.boards:
            held_all = [n for n in board.all if self.conditions[n].holds(metrics, period)]
            held_any = [n for n in board.any if self.conditions[n].holds(metrics, period)]
            if len(held_all) == len(board.all) and (not board.any or held_any):
                return Rating(board.code, tuple(held_all + held_any))
        return Rating(self.otherwise, ())

    def points(self, event: str) -> int:
        """Credit points of an event (inspection_passed, case_overdue, rating_red, …)."""
        try:
            return self.credit.points[event]
        except KeyError:
            raise InputError(f"unknown credit event {event!r}; events: {', '.join(CREDIT_EVENTS)}",
                             where="event") from None

    def stars_for(self, balance: float) -> int:
        """Stars for a credit balance: the highest level whose min_points it reaches, else 0."""
        for level in self.stars:
            if balance >= level.min_points:
                return level.stars
        return 0


def parse_ratings(path: Path) -> RatingRules:
    """Read ratings.toml; cross-checks: boards name known conditions, per-period values cover every period,
    every credit event has points, star thresholds rise with the stars."""
    data = validate(_File, read_toml(path), path)
    for name, cond in data.conditions.items():
        if isinstance(cond.value, dict):
            missing = [p for p in data.periods if p not in cond.value]
            if missing:
                raise fail(path, f"conditions.{name}.value", f"no threshold for period(s) {', '.join(missing)}")
    codes = set()
    for i, board in enumerate(data.boards):
        where = f"boards[{i}] (code {board.code!r})"
        if board.code in codes or board.code == data.otherwise:
            raise fail(path, where, f"duplicate board code {board.code!r} (or the same as otherwise)")
        codes.add(board.code)
        if not board.all and not board.any:
            raise fail(path, where, "a board needs conditions in `all` or `any`")
        for name in (*board.all, *board.any):
            if name not in data.conditions:
                raise fail(path, where, f"unknown condition {name!r}; conditions: {', '.join(data.conditions)}")
    missing = [e for e in CREDIT_EVENTS if e not in data.credit.points]
    if missing:
        raise fail(path, "credit.points", f"no points for event(s) {', '.join(missing)}")
    stars = sorted(data.stars, key=lambda s: -s.stars)
    for i, level in enumerate(stars):
        if i and (level.stars == stars[i - 1].stars or level.min_points >= stars[i - 1].min_points):
            raise fail(path, f"stars (stars {level.stars})",
                       "star levels must be distinct, with fewer stars needing fewer points")
    if set(RATING_CODES) - codes:
        raise fail(path, "boards", f"boards for every stored rating are needed ({', '.join(RATING_CODES)}); "
                                   f"missing {', '.join(sorted(set(RATING_CODES) - codes))}")
    shown = {*codes, data.otherwise}
    if set(data.signs) != shown:
        raise fail(path, "signs", f"one sign per board code and for {data.otherwise!r} (otherwise) is needed: "
                                  f"missing {', '.join(sorted(shown - set(data.signs))) or 'none'}, unknown "
                                  f"{', '.join(sorted(set(data.signs) - shown)) or 'none'}")
    if data.current not in data.periods:
        raise fail(path, "current", f"{data.current!r} is not one of the periods ({', '.join(data.periods)})")
    return RatingRules(periods=data.periods, current=data.current, otherwise=data.otherwise, conditions=dict(data.conditions),
                       boards=data.boards, signs=dict(data.signs), credit=data.credit, stars=tuple(stars),
                       source=str(path))


def rating_label(value, *, where: str = "") -> str:
    """The printed rating (红牌/黄牌/黑牌) of a value such as 'red' or '红牌'; 未评 when missing (ratings.toml)."""
    return load_ratings().rating_label(value, where=where)


def load_ratings() -> RatingRules:
    """ratings.toml of <geodata_dir>/ops (cached while unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> RatingRules:
    return parse_ratings(folder / "ratings.toml")
