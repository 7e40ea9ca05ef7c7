"""The tag catalogue (geodata/catalogue.toml): what is a street, unit, market or compound."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..settings import get_settings

UNNAMED = "未命名"
UNIT_WORD = "单位"
HOLDER_KEYS = ("shop", "amenity", "office")


def _pairs(values: list, key: str) -> frozenset[tuple[str, str]]:
    """'key=value' strings as (key, value) pairs; the key must be one a unit is classified by."""
    out = set()
    for v in values:
        k, sep, val = str(v).partition("=")
        if not sep or k not in HOLDER_KEYS or not val:
            raise ValueError(f"{key}: {v!r} is not 'key=value' with key one of {', '.join(HOLDER_KEYS)}")
        out.add((k, val))
    return frozenset(out)


@dataclass(frozen=True)
class Catalogue:
    """Parsed catalogue; see geodata/catalogue.toml for the meaning of each field."""

    street_widths: dict[str, float]
    lane_width_m: float
    fallback_width_m: float
    skip_service: frozenset[str]
    skip_footway: frozenset[str]
    unit_amenities: frozenset[str]
    market_default_type: str
    market_type_by_name: tuple[tuple[str, str], ...]
    compound_landuse: frozenset[str]
    compound_place: frozenset[str]
    unit_not_holders: frozenset[tuple[str, str]] = frozenset()
    kind_labels: dict[str, str] = field(default_factory=dict)
    building_not_holders: frozenset[str] = frozenset()
    institution_tags: frozenset[tuple[str, str]] = frozenset()

    def kind_label(self, category: object) -> str:
        """What a person reads for a unit's kind: the label of its category (key=value, then the key alone);
        a ledger's own category text as it is; '单位' when there is none."""
        text = category.strip() if isinstance(category, str) else ""
        if not text:
            return UNIT_WORD
        if "=" not in text:
            return text
        return self.kind_labels.get(text) or self.kind_labels.get(text.split("=", 1)[0]) or UNIT_WORD

    def unit_label(self, name: object, category: object) -> str:
        """A unit's name, or '未命名 便利店' (its kind) for one without."""
        if isinstance(name, str) and name.strip():
            return name
        return f"{UNNAMED} {self.kind_label(category)}"

    def unit_labels(self, names, categories) -> list[str]:
        """unit_label over two sequences."""
        return [self.unit_label(n, c) for n, c in zip(names, categories, strict=True)]


def parse_catalogue(path: Path) -> Catalogue:
    """Read a catalogue TOML file, naming the file and key on any error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        s, u, m, c = raw["streets"], raw["units"], raw["markets"], raw["compounds"]
        return Catalogue(
            street_widths={k: float(v) for k, v in s["default_width_m"].items()},
            lane_width_m=float(s["lane_width_m"]),
            fallback_width_m=float(s["fallback_width_m"]),
            skip_service=frozenset(s.get("skip_service", [])),
            skip_footway=frozenset(s.get("skip_footway", [])),
            unit_amenities=frozenset(u["amenity"]),
            market_default_type=m["default_type"],
            market_type_by_name=tuple((a, b) for a, b in m.get("type_by_name", [])),
            compound_landuse=frozenset(c.get("landuse", [])),
            compound_place=frozenset(c.get("place", [])),
            unit_not_holders=_pairs(u.get("not_holders", []), "units.not_holders"),
            kind_labels={str(k): str(v) for k, v in u.get("kind_labels", {}).items()},
            building_not_holders=frozenset(raw.get("buildings", {}).get("not_holders", [])),
            institution_tags=frozenset((k, str(v)) for k in ("amenity", "office", "landuse")
                                       for v in raw.get("institutions", {}).get(k, [])),
        )
    except FileNotFoundError as e:
        raise InputError("catalogue file not found", source=str(path)) from e
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"catalogue is malformed ({type(e).__name__}: {e})", source=str(path)) from e


@lru_cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in use: the given file or geodata/catalogue.toml."""
    return parse_catalogue(path or get_settings().geodata_dir / "catalogue.toml")
