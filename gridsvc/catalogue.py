"""The tag catalogue (geodata/catalogue.toml): what is a street, unit, market or compound."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import InputError
from .settings import get_settings


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
        )
    except FileNotFoundError as e:
        raise InputError("catalogue file not found", source=str(path)) from e
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"catalogue is malformed ({type(e).__name__}: {e})", source=str(path)) from e


@lru_cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in use: the given file or geodata/catalogue.toml."""
    return parse_catalogue(path or get_settings().geodata_dir / "catalogue.toml")
