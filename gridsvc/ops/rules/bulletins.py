"""bulletins.toml: the named counts, the indicators built from them, targets, ranking, 末位, the inspection plan and
the look of the weekly assessment and monthly bulletin (pure: no database). Validated like the other ops files,
with errors that name the file and the entry."""

from __future__ import annotations

import operator
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from .files import Strict, fail, ops_dir, read_toml, stamp, validate

# The counts db/sql/bulletin_cases.sql computes per case (each a 0/1 flag or a number of events), in print order.
COUNTS: tuple[str, ...] = ("found", "registered", "closed", "closed_on_time", "overdue", "rework", "verified",
                           "escalated", "deferred", "due", "rectified")
# The rows of a bulletin: 街道, 社区, 网格, 部门, 道路 (the street of the case's zone, else the nearest street).
LEVELS: tuple[str, ...] = ("subdistrict", "community", "grid", "department", "street")
LEVEL_ZH = {"subdistrict": "街道", "community": "社区", "grid": "网格", "department": "部门", "street": "道路"}
INSPECTIONS = "inspection_rate"  # the inspections' rate: a ranking key and a target like the indicators'
Op = Literal[">=", ">", "<=", "<"]
SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
PeriodKind = Literal["week", "month"]


class Target(Strict):
    op: Op
    value: float

    def met(self, value: float | None) -> bool | None:
        return None if value is None else OPS[self.op](value, self.value)

    @property
    def zh(self) -> str:
        return f"{SYMBOL[self.op]} {self.value:g}%"


class Count(Strict):
    zh: str = Field(min_length=1)
    meaning_zh: str = Field(min_length=1)


class Indicator(Strict):
    zh: str = Field(min_length=1)
    numerator: str
    denominator: str
    decimals: int = Field(default=1, ge=0, le=4)
    target: Target | None = None

    def rate(self, counts: dict) -> float | None:
        den = counts[self.denominator]
        return None if not den else round(100 * counts[self.numerator] / den, self.decimals)


class RankKey(Strict):
    key: str
    order: Literal["asc", "desc"]


class Ranking(Strict):
    keys: tuple[RankKey, ...] = Field(min_length=1)


class InspectionPlan(Strict):
    zh: str = Field(min_length=1)
    per_unit: dict[PeriodKind, int]
    decimals: int = Field(default=1, ge=0, le=4)
    target: Target | None = None

    def rate(self, done: int, planned: int) -> float | None:
        return None if not planned else round(100 * done / planned, self.decimals)


class Trend(Strict):
    periods: dict[PeriodKind, int]


class HeatMap(Strict):
    min_res: int = Field(ge=0, le=15)
    max_res: int = Field(ge=0, le=15)
    cells_across: int = Field(ge=2, le=500)


class Printing(Strict):
    rows: dict[str, int]


class Merchants(Strict):
    title: str = Field(min_length=1)
    closing: tuple[str, ...] = ()


class BulletinRules(Strict):
    nearest_street_m: float = Field(ge=0, le=1000)
    exclusions_zh: str = Field(min_length=1)
    counts: dict[str, Count]
    indicators: dict[str, Indicator] = Field(min_length=1)
    ranking: Ranking
    last_places: dict[str, int]
    inspections: InspectionPlan
    trend: Trend
    heat_map: HeatMap
    print: Printing
    merchants: Merchants

    def last(self, level: str) -> int:
        return self.last_places.get(level, 0)

    def key_zh(self, key: str) -> str:
        if key in self.indicators:
            return self.indicators[key].zh
        if key == INSPECTIONS:
            return self.inspections.zh
        return self.counts[key].zh


def parse_bulletins(path: Path) -> BulletinRules:
    """bulletins.toml, validated and cross-checked (counts exactly COUNTS; indicators and ranking keys name known
    counts and indicators; levels known; resolutions ordered)."""
    raw = read_toml(path)
    rules = validate(BulletinRules, raw, path)
    missing = [c for c in COUNTS if c not in rules.counts]
    unknown = [c for c in rules.counts if c not in COUNTS]
    if missing or unknown:
        raise fail(path, "counts", f"the counts are fixed ({', '.join(COUNTS)})"
                   + (f"; missing {', '.join(missing)}" if missing else "")
                   + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    for name, ind in rules.indicators.items():
        for side in ("numerator", "denominator"):
            if getattr(ind, side) not in COUNTS:
                raise fail(path, f"indicators.{name}.{side}",
                           f"{getattr(ind, side)!r} is not a count ({', '.join(COUNTS)})")
    keys = set(rules.indicators) | set(COUNTS) | {INSPECTIONS}
    for i, k in enumerate(rules.ranking.keys):
        if k.key not in keys:
            raise fail(path, f"ranking.keys[{i}]", f"{k.key!r} is neither an indicator, {INSPECTIONS} nor a count")
    for section, table in (("last_places", rules.last_places), ("print.rows", rules.print.rows)):
        for level, n in table.items():
            if level not in LEVELS:
                raise fail(path, f"{section}.{level}", f"unknown level; levels: {', '.join(LEVELS)}")
            if n < 0:
                raise fail(path, f"{section}.{level}", "must not be negative")
    for section, table in (("inspections.per_unit", rules.inspections.per_unit),
                           ("trend.periods", rules.trend.periods)):
        for kind in ("week", "month"):
            if kind not in table or table[kind] < 1:
                raise fail(path, f"{section}.{kind}", "give a whole number ≥ 1 for week and for month")
    if rules.heat_map.min_res > rules.heat_map.max_res:
        raise fail(path, "heat_map", "min_res is above max_res")
    return rules


def load_bulletins() -> BulletinRules:
    """<geodata_dir>/ops/bulletins.toml (cached while the files are unchanged)."""
    return _load(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _load(folder: Path, _stamp: tuple) -> BulletinRules:
    return parse_bulletins(folder / "bulletins.toml")
