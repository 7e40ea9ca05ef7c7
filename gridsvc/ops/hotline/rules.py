"""geodata/ops/hotline.toml: the 12345 export's header aliases, 诉求类型 → category codes and the words of the reply
export (addresses are placed as geodata/ops/addresses.toml says: gridsvc/ops/addresses.py). Validated like the other
ops files (errors name the file and the entry) and cross-checked against categories.toml and case_flow.toml."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ..rules.categories import load_categories
from ..rules.files import Strict, fail, ops_dir, read_toml, stamp, validate
from ..rules.flow import load_flow

FIELDS = ("number", "received_at", "content", "type", "address", "area", "lng", "lat", "crs", "reporter_name",
          "reporter_phone")
Text = Field(min_length=1)


class Headers(Strict):
    number: list[str] = Field(min_length=1)
    received_at: list[str] = Field(min_length=1)
    content: list[str] = Field(min_length=1)
    type: list[str] = Field(min_length=1)
    address: list[str] = Field(min_length=1)
    area: list[str] = []
    lng: list[str] = []
    lat: list[str] = []
    crs: list[str] = []
    reporter_name: list[str] = []
    reporter_phone: list[str] = []


class CategoryRule(Strict):
    code: str = Field(min_length=1)
    match: list[str] = Field(min_length=1)


class Compose(Strict):
    closed: str = Field(min_length=1)
    void: str = Field(min_length=1)
    open: str = Field(min_length=1)
    unplaced: str = Field(min_length=1)


class Replies(Strict):
    unplaced: str = Field(min_length=1)
    states: dict[str, str]
    compose: Compose


class HotlineRules(Strict):
    default_crs: Literal["wgs84", "gcj02", "bd09"]
    required: list[Literal["number", "received_at", "content", "type", "address"]]
    headers: Headers
    crs_values: dict[Literal["wgs84", "gcj02", "bd09"], list[str]]
    categories: list[CategoryRule] = Field(min_length=1)
    default_category: str | None = None
    replies: Replies

    def header_field(self) -> dict[str, str]:
        """Normalised header -> field."""
        return {norm_header(h): f for f in FIELDS for h in getattr(self.headers, f)}

    def crs_of(self, text: str) -> str | None:
        key = norm_word(text)
        for crs, words in self.crs_values.items():
            if key in {norm_word(w) for w in words} or key == crs.upper():
                return crs
        return None

    def category_of(self, type_text: str | None, content: str) -> str | None:
        """The category code of a work order: its 诉求类型 first, then its content; else default_category."""
        for text in (type_text, content):
            if text:
                folded = unicodedata.normalize("NFKC", text)
                for rule in self.categories:
                    if any(w in folded for w in rule.match):
                        return rule.code
        return self.default_category


def norm_header(header: str) -> str:
    from ...city.readers.ledger import normalize_header

    return normalize_header(header)


def norm_word(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).upper().split())


def parse_hotline(path: Path) -> HotlineRules:
    """hotline.toml validated and cross-checked (categories exist, a header names one field, every state worded)."""
    raw = read_toml(path)
    rules = validate(HotlineRules, raw, path)
    cats = load_categories()
    for i, rule in enumerate(rules.categories):
        if rule.code not in cats.by_code:
            raise fail(path, f"categories[{i}] (code {rule.code!r})", f"unknown category {rule.code!r} "
                       "(not in categories.toml)")
    if rules.default_category is not None and rules.default_category not in cats.by_code:
        raise fail(path, "default_category", f"unknown category {rules.default_category!r}")
    seen: dict[str, str] = {}
    for f in FIELDS:
        for h in getattr(rules.headers, f):
            key = norm_header(h)
            if key in seen and seen[key] != f:
                raise fail(path, f"headers.{f}", f"header {h!r} is also given for {seen[key]}")
            seen[key] = f
    missing = [s for s in load_flow().states if s not in rules.replies.states]
    if missing:
        raise fail(path, "replies.states", f"no 办结情况 for the state(s) {', '.join(missing)}")
    return rules


def load_hotline() -> HotlineRules:
    """<geodata_dir>/ops/hotline.toml (cached while the files are unchanged)."""
    return _hotline(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=4)
def _hotline(folder: Path, _stamp: tuple) -> HotlineRules:
    return parse_hotline(folder / "hotline.toml")
