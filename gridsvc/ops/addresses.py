"""Placing a written Chinese address on the map with the city's own names, without an external geocoder: the one
placer of the 12345 import (gridsvc/ops/hotline/orders.py, docs/hotline.md) and of Open311 address_string
(gridsvc/ops/citizens/open311.py, docs/open311.md). Its settings and confidences are data: geodata/ops/addresses.toml.

The gazetteer is read once per import or request (db/sql/address_names.sql): street names (name and name_zh; a
name's point is the point of its segments nearest their middle), units with their names and addresses, named
compounds and markets. Text is compared after NFKC (full-width letters, digits and spaces become half-width) without
spaces. The methods, tried in this order, each recorded with its confidence:

1. `unit_address`: a street of the city followed by a house number (中山南路79号) that a unit's own address
   carries (中山南路79): the unit's point (several units at one address: their mean).
2. `feature_name`: the name of a unit, compound or market (at least `min_feature_name_chars` long) in the address:
   its point, unless places of that name lie more than `ambiguous_within_m` apart (then it is not used, and a
   placement by a later method carries the ambiguity).
3. `crossing`: two streets and a crossing word (与, 交叉口, …): where they meet (or come within
   `crossing_within_m`).
4. `near_number`: a street and a number no unit carries: the unit on that street with the nearest number (the same
   side, odd or even, first) within `number_tolerance`.
5. `street` (`street_variant` when the suffix differs, 王府街 for 王府大街): the street's middle point.

Anything else is not placed, with the reason. `place_unit_code` places a unit by its public code (一户一码).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import InputError
from .rules.files import Strict, fail, ops_dir, read_toml, stamp, validate

METHODS = ("coordinates", "staff", "unit_code", "unit_address", "feature_name", "crossing", "near_number", "street",
           "street_variant")

_NUMBER = re.compile(r"^(?:\d+号楼)?(\d{1,5})(?:[-之]\d+)?(?:号|$|[^\d])")


class Confidence(Strict):
    coordinates: float = Field(ge=0, le=1)
    staff: float = Field(ge=0, le=1)
    unit_code: float = Field(ge=0, le=1)
    unit_address: float = Field(ge=0, le=1)
    feature_name: float = Field(ge=0, le=1)
    crossing: float = Field(ge=0, le=1)
    near_number: float = Field(ge=0, le=1)
    street: float = Field(ge=0, le=1)
    street_variant: float = Field(ge=0, le=1)


class Accept(Strict):
    open311: float = Field(ge=0, le=1)


class AddressRules(Strict):
    """geodata/ops/addresses.toml."""

    suffixes: list[str] = Field(min_length=1)
    number_tolerance: int = Field(ge=0)
    min_name_chars: int = Field(ge=1)
    min_feature_name_chars: int = Field(ge=1)
    ambiguous_within_m: float = Field(gt=0)
    crossing_words: list[str] = []
    crossing_within_m: float = Field(gt=0)
    confidence: Confidence
    accept: Accept


def parse_addresses(path: Path) -> AddressRules:
    """addresses.toml validated (a suffix is not empty)."""
    rules = validate(AddressRules, read_toml(path), path)
    for i, suffix in enumerate(rules.suffixes):
        if not suffix.strip():
            raise fail(path, f"suffixes[{i}]", "an empty suffix")
    return rules


def load_addresses() -> AddressRules:
    """<geodata_dir>/ops/addresses.toml (cached while the files are unchanged)."""
    return _addresses(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=4)
def _addresses(folder: Path, _stamp: tuple) -> AddressRules:
    return parse_addresses(folder / "addresses.toml")


def norm(text: str | None) -> str:
    """NFKC, without spaces."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two WGS84 points (equirectangular: exact enough within a city)."""
    k = math.cos(math.radians((a[1] + b[1]) / 2))
    return 6_371_000 * math.radians(math.hypot((a[0] - b[0]) * k, a[1] - b[1]))


@dataclass(frozen=True)
class Placed:
    """Where an address was placed (WGS84), how, how sure, and what matched."""

    lng: float
    lat: float
    method: str
    confidence: float
    matched: str
    name: str = ""  # the place's own name (the unit's address or name, the street …)
    ambiguous: str | None = None  # a name in the address that was ambiguous (a later method placed it)

    def as_dict(self) -> dict:
        out = {"method": self.method, "confidence": self.confidence, "matched": self.matched,
               "lng": round(self.lng, 7), "lat": round(self.lat, 7)}
        return out | ({"ambiguous": self.ambiguous} if self.ambiguous else {})


@dataclass
class _Feature:
    kind: str
    id: int
    name: str
    point: tuple[float, float]


@dataclass
class Gazetteer:
    """The city's names, compiled for matching."""

    rules: AddressRules
    streets: dict[str, _Feature] = field(default_factory=dict)  # normalised name -> street
    stems: dict[str, list[str]] = field(default_factory=dict)  # name without its suffix -> names
    numbered: dict[str, dict[int, list[_Feature]]] = field(default_factory=dict)  # street -> number -> units
    features: dict[str, list[_Feature]] = field(default_factory=dict)  # unit, compound, market names

    @classmethod
    def load(cls, conn: Connection, rules: AddressRules | None = None) -> Gazetteer:
        g = cls(rules or load_addresses())
        p = g.rules
        rows = conn.execute(sql("address_names")).all()
        for r in rows:
            if r.kind == "street":
                key = norm(r.name)
                if len(key) >= p.min_name_chars:
                    g.streets[key] = _Feature("street", r.id, r.name, (r.x, r.y))
                    stem = g._stem(key)
                    if stem and len(stem) >= p.min_name_chars:
                        g.stems.setdefault(stem, []).append(key)
        g._compile()
        for r in rows:
            if r.kind == "street":
                continue
            feature = _Feature(r.kind, r.id, r.name or r.address, (r.x, r.y))
            if r.name and len(norm(r.name)) >= p.min_feature_name_chars:
                g.features.setdefault(norm(r.name), []).append(feature)
            if r.kind == "unit" and r.address:
                for street, number, _variant, _span in g.streets_in(norm(r.address)):
                    if number is not None:
                        g.numbered.setdefault(street, {}).setdefault(number, []).append(feature)
                    break
        names = sorted(g.features, key=len, reverse=True)
        g._feature_re = re.compile("|".join(map(re.escape, names))) if names else None
        return g

    def _stem(self, name: str) -> str | None:
        for suffix in sorted(self.rules.suffixes, key=len, reverse=True):
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)]
        return None

    def _compile(self) -> None:
        names = sorted(self.streets, key=len, reverse=True)
        self._street_re = re.compile("|".join(map(re.escape, names))) if names else None
        suffixes = "|".join(map(re.escape, sorted(self.rules.suffixes, key=len, reverse=True)))
        stems = sorted(self.stems, key=len, reverse=True)
        self._stem_re = (re.compile(f"({'|'.join(map(re.escape, stems))})({suffixes})") if stems else None)

    def streets_in(self, text: str) -> list[tuple[str, int | None, bool, tuple[int, int]]]:
        """Streets named in a normalised text: (street key, house number after it or None, variant?, span)."""
        found: list[tuple[str, int | None, bool, tuple[int, int]]] = []
        if self._street_re is not None:
            for m in self._street_re.finditer(text):
                found.append((m.group(0), self._number(text, m.end()), False, m.span()))
        if not found and self._stem_re is not None:
            for m in self._stem_re.finditer(text):
                names = self.stems.get(m.group(1), [])
                if len(names) == 1:
                    found.append((names[0], self._number(text, m.end()), True, m.span()))
        return found

    @staticmethod
    def _number(text: str, at: int) -> int | None:
        m = _NUMBER.match(text[at:])
        return int(m.group(1)) if m else None

    def place(self, conn: Connection, address: str | None) -> Placed | str:
        """The address placed, or the reason it cannot be."""
        text = norm(address)
        p = self.rules
        conf = p.confidence
        if not text:
            return "no coordinates and no address"
        streets = self.streets_in(text)
        for key, number, _variant, _span in streets:  # 1. a unit's own address
            units = self.numbered.get(key, {}).get(number) if number is not None else None
            if units:
                x = sum(u.point[0] for u in units) / len(units)
                y = sum(u.point[1] for u in units) / len(units)
                more = f" and {len(units) - 1} more" if len(units) > 1 else ""
                return Placed(x, y, "unit_address", conf.unit_address,
                              f"{self.streets[key].name}{number}号 → unit {units[0].id} {units[0].name}{more}",
                              units[0].name)
        ambiguous = None
        if self._feature_re is not None:  # 2. a unit, compound or market by name
            for m in self._feature_re.finditer(text):
                places = self.features[m.group(0)]
                first = places[0]
                if all(metres(first.point, f.point) <= p.ambiguous_within_m for f in places[1:]):
                    return Placed(*first.point, "feature_name", conf.feature_name,
                                  f"{first.name} → {first.kind} {first.id}", first.name)
                ambiguous = (f"the name {first.name!r} is ambiguous: {len(places)} places more than "
                             f"{p.ambiguous_within_m:g} m apart")
        distinct = list(dict.fromkeys(k for k, *_ in streets))
        if len(distinct) >= 2 and any(w in text for w in p.crossing_words):  # 3. a crossing
            a, b = self.streets[distinct[0]].name, self.streets[distinct[1]].name
            row = conn.execute(sql("address_crossing"), {"a": a, "b": b}).first()
            if row is not None and row.metres <= p.crossing_within_m:
                return Placed(row.x, row.y, "crossing", conf.crossing, f"{a} × {b}", f"{a}与{b}交叉口", ambiguous)
        for key, number, _variant, _span in streets:  # 4. the nearest number on the street
            if number is None or key not in self.numbered:
                continue
            near = sorted(((n - number) % 2, abs(n - number), n) for n in self.numbered[key]
                          if abs(n - number) <= p.number_tolerance)
            if near:
                n = near[0][2]
                unit = self.numbered[key][n][0]
                return Placed(*unit.point, "near_number", conf.near_number,
                              f"{self.streets[key].name}{number}号 → unit {unit.id} {unit.name} at No. {n}",
                              unit.name, ambiguous)
        if streets:  # 5. the street's middle
            key, number, variant, _span = streets[0]
            street = self.streets[key]
            return Placed(*street.point, "street_variant" if variant else "street",
                          conf.street_variant if variant else conf.street,
                          f"{street.name} (street {street.id}, middle)", street.name, ambiguous)
        return ambiguous or f"no street, unit, compound or market of the city named in {address.strip()!r}"


def place_address(conn: Connection, address: str | None, rules: AddressRules | None = None) -> Placed | str:
    """One address placed (the gazetteer read for it), or the reason it cannot be. For many, load a Gazetteer."""
    return Gazetteer.load(conn, rules).place(conn, address)


def place_unit_code(conn: Connection, code: str, *, where: str = "address_id") -> Placed:
    """A unit by its public code (一户一码, the code on its 责任牌); InputError when no unit has it."""
    row = conn.execute(sql("address_unit_by_code"), {"c": code}).first()
    if row is None:
        raise InputError(f"no unit with the public code {code!r}", where=where)
    return Placed(row.lng, row.lat, "unit_code", load_addresses().confidence.unit_code, f"public code {code}",
                  row.name or code)
