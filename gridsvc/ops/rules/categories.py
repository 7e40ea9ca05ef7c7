"""Departments (departments.toml) and the case classification (categories.toml): 部件/事件, major and minor classes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ...errors import InputError
from .files import Strict, fail, ops_dir, read_toml, stamp, validate
from .limits import Urgency

Kind = Literal["event", "component"]
KIND_ZH = {"event": "事件", "component": "部件"}
_MAJOR_CODE = re.compile(r"^[A-Z]{2}\d{2}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


# ---- departments.toml ----

class Department(Strict):
    """A department (部门) that handles cases."""

    code: str = Field(pattern=_CODE.pattern)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    leader_zh: str = Field(min_length=1)
    note: str = ""


class _DepartmentsFile(Strict):
    departments: list[Department] = Field(min_length=1)


def parse_departments(path: Path) -> dict[str, Department]:
    """departments.toml as {code: Department}; duplicate codes are errors."""
    data = validate(_DepartmentsFile, read_toml(path), path)
    found: dict[str, Department] = {}
    for i, d in enumerate(data.departments):
        if d.code in found:
            raise fail(path, f"departments[{i}] (code {d.code!r})", f"duplicate department code {d.code!r}")
        found[d.code] = d
    return found


def load_departments() -> dict[str, Department]:
    """The departments of <geodata_dir>/ops/departments.toml (cached while the files are unchanged)."""
    return _departments(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _departments(folder: Path, _stamp: tuple) -> dict[str, Department]:
    return parse_departments(folder / "departments.toml")


# ---- categories.toml ----

class Problem(Strict):
    """A 立案 problem kind of a component (缺失, 破损, 移位, …) with its urgency."""

    code: str = Field(pattern=_CODE.pattern)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    urgency: Urgency


class _Minor(Strict):
    code: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    department: str | None = None
    urgency: Urgency | None = None
    problems: tuple[Problem, ...] = ()


class _Major(Strict):
    code: str = Field(pattern=_MAJOR_CODE.pattern)
    kind: Kind
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    department: str
    urgency: Urgency
    source: str = ""
    minor: list[_Minor] = Field(min_length=1)


class _CategoriesFile(Strict):
    major: list[_Major] = Field(min_length=1)
    duty_categories: dict[str, str]


@dataclass(frozen=True)
class Category:
    """A major or minor class, resolved: department and urgency inherited from the major class when not given."""

    code: str
    kind: str  # event | component
    major: str  # the major class's code (its own code for a major class)
    zh: str
    en: str
    major_zh: str
    major_en: str
    department: str
    urgency: str
    problems: tuple[Problem, ...] = ()

    @property
    def is_major(self) -> bool:
        return self.code == self.major

    @property
    def kind_zh(self) -> str:
        return KIND_ZH[self.kind]

    def as_dict(self) -> dict:
        """JSON form (GET /cases/categories)."""
        return {"code": self.code, "kind": self.kind, "kind_zh": self.kind_zh, "major": self.major,
                "major_zh": self.major_zh, "major_en": self.major_en, "zh": self.zh, "en": self.en,
                "department": self.department, "urgency": self.urgency,
                "problems": [p.model_dump() for p in self.problems]}


@dataclass(frozen=True)
class Categories:
    """The classification: every major and minor class by code, and the duty → category map."""

    by_code: dict[str, Category]
    duty_categories: dict[str, str]
    source: str

    @property
    def minors(self) -> list[Category]:
        return [c for c in self.by_code.values() if not c.is_major]

    @property
    def majors(self) -> list[Category]:
        return [c for c in self.by_code.values() if c.is_major]

    def get(self, code: str) -> Category:
        """A category by code; InputError for an unknown one."""
        try:
            return self.by_code[code]
        except KeyError:
            raise InputError(f"unknown case category {code!r} (see GET /cases/categories)", where="category") from None

    def for_duty(self, duty_code: str) -> str:
        """The category a failed duty item opens a case in (duty_categories, else its default)."""
        return self.duty_categories.get(duty_code, self.duty_categories["default"])


def parse_categories(path: Path, departments: dict[str, Department]) -> Categories:
    """Read categories.toml; cross-checks: unique codes, minor codes under their major's, departments exist."""
    data = validate(_CategoriesFile, read_toml(path), path)
    by_code: dict[str, Category] = {}

    def add(cat: Category, where: str, department: str) -> None:
        if cat.code in by_code:
            raise fail(path, where, f"duplicate category code {cat.code!r}")
        if department not in departments:
            raise fail(path, where, f"unknown department {department!r}: not in departments.toml "
                                    f"({', '.join(departments)})")
        by_code[cat.code] = cat

    for i, major in enumerate(data.major):
        where = f"major[{i}] (code {major.code!r})"
        add(Category(major.code, major.kind, major.code, major.zh, major.en, major.zh, major.en, major.department,
                     major.urgency), where, major.department)
        for j, minor in enumerate(major.minor):
            mwhere = f"{where}.minor[{j}] (code {minor.code!r})"
            if not re.fullmatch(re.escape(major.code) + r"\d{2}", minor.code):
                raise fail(path, mwhere, f"a minor class code is its major's code + 2 digits ({major.code}01 …)")
            codes = [p.code for p in minor.problems]
            if len(set(codes)) != len(codes):
                raise fail(path, mwhere, f"duplicate problem codes in {codes}")
            department = minor.department or major.department
            add(Category(minor.code, major.kind, major.code, minor.zh, minor.en, major.zh, major.en, department,
                         minor.urgency or major.urgency, minor.problems), mwhere, department)
    if "default" not in data.duty_categories:
        raise fail(path, "duty_categories", "needs a 'default' category for duties not listed")
    for duty, code in data.duty_categories.items():
        if code not in by_code:
            raise fail(path, f"duty_categories.{duty}", f"unknown category {code!r}")
    return Categories(by_code=by_code, duty_categories=dict(data.duty_categories), source=str(path))


def load_categories() -> Categories:
    """categories.toml of <geodata_dir>/ops, checked against departments.toml (cached while unchanged)."""
    return _categories(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _categories(folder: Path, _stamp: tuple) -> Categories:
    return parse_categories(folder / "categories.toml", load_departments())
