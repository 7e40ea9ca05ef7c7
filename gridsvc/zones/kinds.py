"""Zone kinds and party kinds: the one home of their names, precedence, labels and who holds what.

Everything else reads these tables: the database models (CHECK constraints), the zone edits (which kind a
party holds), the API (ZoneKind, PartyKind), the lookup (KIND_LABELS), the workspace (GET /workspace/config
sends ZONE_KINDS and PARTY_KINDS with their labels) and the SQL function zone_rank(kind) that every lookup
query orders by (created by migration 0009 from RANK as it was then; a change of precedence is a new
migration that replaces the function, and tests/zones/test_kinds.py checks that the two agree).

Precedence: where zones of several kinds cover one point (they do not after a build, but they may on an
earlier date or in the radius list), a planner-drawn zone answers first, then frontage > market > compound >
street space. Pure data: no imports from the rest of gridsvc.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ZoneKindInfo:
    """A kind of responsibility zone: its precedence (1 first) and labels (full, and short for the workspace)."""

    name: str
    rank: int
    zh: str
    en: str
    short_zh: str
    short_en: str

    @property
    def label(self) -> str:
        """"门前责任区 frontage zone": Chinese, then English."""
        return f"{self.zh} {self.en}"


@dataclass(frozen=True)
class PartyKindInfo:
    """A kind of responsible party, the kind of zone it holds, and its labels."""

    name: str
    zone_kind: str
    zh: str
    en: str


ZONE_KIND_TABLE: tuple[ZoneKindInfo, ...] = (
    ZoneKindInfo("frontage", 1, "门前责任区", "frontage zone", "门前", "Frontage"),
    ZoneKindInfo("market", 2, "市场责任区", "market", "市场", "Market"),
    ZoneKindInfo("compound", 3, "小区或单位院落", "compound or grounds", "小区", "Compound"),
    ZoneKindInfo("street_space", 4, "街巷公共空间", "street space", "街巷空间", "Street space"),
)
PARTY_KIND_TABLE: tuple[PartyKindInfo, ...] = (
    PartyKindInfo("unit", "frontage", "商户（门前）", "Shop (frontage)"),
    PartyKindInfo("property_manager", "compound", "物业", "Property manager"),
    PartyKindInfo("building_head", "compound", "楼院长（无物业）", "Building head (no manager)"),
    PartyKindInfo("market_operator", "market", "市场开办方", "Market operator"),
    PartyKindInfo("street_steward", "street_space", "街巷管家", "Street steward"),
    PartyKindInfo("grid_officer", "street_space", "网格员（街巷空间）", "Grid officer (street space)"),
    PartyKindInfo("institution", "compound", "机关、企事业单位", "Institution"),
)

ZoneKind = Literal["frontage", "market", "compound", "street_space"]
PartyKind = Literal["unit", "property_manager", "building_head", "market_operator", "street_steward", "grid_officer",
                    "institution"]

ZONE_KINDS: tuple[str, ...] = tuple(k.name for k in sorted(ZONE_KIND_TABLE, key=lambda k: k.rank))
PARTY_KINDS: tuple[str, ...] = tuple(p.name for p in PARTY_KIND_TABLE)
RANK: dict[str, int] = {k.name: k.rank for k in ZONE_KIND_TABLE}
ZONE_KIND_OF_PARTY: dict[str, str] = {p.name: p.zone_kind for p in PARTY_KIND_TABLE}
PARTY_KINDS_OF_ZONE: dict[str, tuple[str, ...]] = {
    k: tuple(p for p, z in ZONE_KIND_OF_PARTY.items() if z == k) for k in ZONE_KINDS}
GRID_LABEL = "网格 grid cell"  # what answers where no zone does (the lookup's kind "grid")
KIND_LABELS: dict[str, str] = {k.name: k.label for k in ZONE_KIND_TABLE} | {"grid": GRID_LABEL}


def for_workspace() -> dict:
    """The kinds as the workspace page receives them (GET /workspace/config): in order of precedence."""
    return {
        "zone_kinds": [{"kind": k.name, "rank": k.rank, "zh": k.short_zh, "en": k.short_en}
                       for k in sorted(ZONE_KIND_TABLE, key=lambda k: k.rank)],
        "party_kinds": [{"kind": p.name, "zone_kind": p.zone_kind, "zh": p.zh, "en": p.en} for p in PARTY_KIND_TABLE],
    }
