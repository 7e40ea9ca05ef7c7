"""门前三包/五包 policies (geodata/policies/*.toml): duties and the frontage-zone rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, NotFoundError
from ..settings import get_settings

KERB, CENTRELINE, EXCLUDED = "kerb", "centreline", "excluded"
_TOP_KEYS = {"name", "label", "inherits", "duties", "extra_duties", "depth", "limits"}
_DUTY_KEYS = ("code", "zh", "en", "description_zh", "description")
_DEPTH_KEYS = {"kerb_classes", "centreline_classes", "excluded_classes", "default_rule", "sidewalk_kerb",
               "sidewalk_centreline"}
_LIMIT_KEYS = ("max_depth_m", "default_frontage_m", "max_distance_m", "market_strip_m", "max_gap_fill_m")


@dataclass(frozen=True)
class Duty:
    """One duty of a frontage unit (e.g. sanitation 环境卫生): labels and what it asks, in Chinese and English."""

    code: str
    zh: str
    en: str
    description_zh: str
    description: str


@dataclass(frozen=True)
class Policy:
    """A parsed policy; see geodata/policies/三包.toml for the meaning of each field."""

    name: str
    duties: tuple[Duty, ...]
    kerb_classes: frozenset[str]
    centreline_classes: frozenset[str]
    max_depth_m: float
    default_frontage_m: float
    max_distance_m: float
    market_strip_m: float
    inherits: str | None = None
    label: str = ""
    excluded_classes: frozenset[str] = frozenset()
    default_rule: str = KERB
    sidewalk_kerb: frozenset[str] = frozenset({"both", "left", "right", "yes", "separate"})
    sidewalk_centreline: frozenset[str] = frozenset({"no", "none"})
    max_gap_fill_m: float = 10.0
    source: str = ""

    def duty_list(self) -> list[dict]:
        """The duties as JSON objects (code, zh, en, description_zh, description)."""
        return [{"code": d.code, "zh": d.zh, "en": d.en, "description_zh": d.description_zh,
                 "description": d.description} for d in self.duties]

    def depth_rules(self, osm_class: pd.Series, sidewalk: pd.Series | None = None) -> np.ndarray:
        """Per street: 'kerb', 'centreline' or 'excluded', by class, overridden by an explicit sidewalk tag."""
        cls = pd.Series(osm_class, dtype=object).reset_index(drop=True)
        rule = np.where(cls.isin(self.kerb_classes), KERB,
                        np.where(cls.isin(self.centreline_classes), CENTRELINE, self.default_rule)).astype(object)
        if sidewalk is not None:
            tag = pd.Series(sidewalk, dtype=object).reset_index(drop=True).astype("string").str.strip().str.lower()
            rule = np.where(tag.isin(self.sidewalk_kerb).fillna(False).to_numpy(bool), KERB, rule)
            rule = np.where(tag.isin(self.sidewalk_centreline).fillna(False).to_numpy(bool), CENTRELINE, rule)
        return np.where(cls.isin(self.excluded_classes), EXCLUDED, rule).astype(object)


def policies_dir() -> Path:
    """Folder of the shipped policies."""
    return get_settings().geodata_dir / "policies"


def list_policies() -> list[str]:
    """Names of all policies: the general ones, then per-city ones."""
    root = policies_dir()
    return sorted(p.stem for p in root.glob("*.toml")) + sorted(p.stem for p in (root / "cities").glob("*.toml"))


def _policy_path(name_or_path: str | Path) -> Path:
    """The file of a policy given by name or path; NotFoundError listing the available ones."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise NotFoundError(f"policy file {text!r} not found; available policies: {', '.join(list_policies())}")
        return path
    root = policies_dir()
    for path in (root / f"{text}.toml", root / "cities" / f"{text}.toml"):
        if path.is_file():
            return path
    raise NotFoundError(f"unknown policy {text!r}; available policies: {', '.join(list_policies())}")


def _read_raw(path: Path, seen: tuple[str, ...] = ()) -> dict:
    """A policy file merged over the policy it inherits from (tables merge, lists and values replace)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"policy is not valid TOML ({e})", source=str(path)) from e
    for key in raw:
        if key not in _TOP_KEYS:
            raise InputError(f"unknown key {key!r}; known keys: {', '.join(sorted(_TOP_KEYS))}", source=str(path))
    parent = raw.get("inherits")
    base: dict = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise InputError("key 'inherits' must be a policy name", source=str(path))
        if str(path.resolve()) in seen:
            raise InputError(f"key 'inherits': inheritance cycle through {parent!r}", source=str(path))
        try:
            base = _read_raw(_policy_path(parent), (*seen, str(path.resolve())))
        except NotFoundError as e:
            raise InputError(f"key 'inherits': {e}", source=str(path)) from None
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merged[key] | value
        else:
            merged[key] = value
    for key in ("duties", "extra_duties"):
        if not isinstance(merged.get(key, []), list):
            raise InputError(f"key {key!r} must be an array of tables ([[{key}]])", source=str(path))
    merged["duties"] = list(raw.get("duties", base.get("duties", []))) + list(raw.get("extra_duties", []))
    merged.pop("extra_duties", None)
    merged["name"] = raw.get("name", path.stem)
    merged["label"] = raw.get("label", merged["name"])
    merged["inherits"] = parent
    return merged


def _classes(depth: dict, key: str, source: str) -> frozenset[str]:
    value = depth.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"key 'depth.{key}' must be a list of strings", source=source)
    return frozenset(value)


def _duties(raw: dict, source: str) -> tuple[Duty, ...]:
    items = raw.get("duties", [])
    if not items:
        raise InputError("key 'duties': a policy needs at least one duty", source=source)
    duties = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"key 'duties[{i}]' must be a table with {', '.join(_DUTY_KEYS)}", source=source)
        missing = [k for k in _DUTY_KEYS if not isinstance(item.get(k), str) or not item[k].strip()]
        if missing:
            raise InputError(f"key 'duties[{i}]' needs non-empty string(s) {', '.join(missing)} "
                             f"(every duty has {', '.join(_DUTY_KEYS)})", source=source)
        extra = set(item) - set(_DUTY_KEYS)
        if extra:
            raise InputError(f"key 'duties[{i}]' has unknown field(s) {', '.join(sorted(extra))}", source=source)
        duties.append(Duty(**{k: item[k] for k in _DUTY_KEYS}))
    codes = [d.code for d in duties]
    if len(set(codes)) != len(codes):
        raise InputError(f"key 'duties': duplicate duty codes in {codes}", source=source)
    return tuple(duties)


def parse_policy(path: Path) -> Policy:
    """Read a policy file (with what it inherits), naming the file and key on any error."""
    source = str(path)
    raw = _read_raw(path)
    depth, limits = raw.get("depth", {}), raw.get("limits", {})
    if not isinstance(depth, dict) or not isinstance(limits, dict):
        raise InputError("keys 'depth' and 'limits' must be tables", source=source)
    for table, known, found in (("depth", _DEPTH_KEYS, depth), ("limits", set(_LIMIT_KEYS), limits)):
        for key in found:
            if key not in known:
                raise InputError(f"unknown key '{table}.{key}'; known: {', '.join(sorted(known))}", source=source)
    values = {}
    for key in _LIMIT_KEYS:
        if key not in limits:
            raise InputError(f"missing key 'limits.{key}'", source=source)
        v = limits[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1000:
            raise InputError(f"key 'limits.{key}' must be a number of metres in (0, 1000), got {v!r}", source=source)
        values[key] = float(v)
    kerb = _classes(depth, "kerb_classes", source)
    centre = _classes(depth, "centreline_classes", source)
    excluded = _classes(depth, "excluded_classes", source)
    both = (kerb & centre) | (kerb & excluded) | (centre & excluded)
    if both:
        raise InputError(f"key 'depth': class(es) {', '.join(sorted(both))} listed under two rules", source=source)
    default_rule = depth.get("default_rule", KERB)
    if default_rule not in (KERB, CENTRELINE):
        raise InputError(f"key 'depth.default_rule' must be 'kerb' or 'centreline', got {default_rule!r}",
                         source=source)
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise InputError("key 'name' must be a non-empty string", source=source)
    return Policy(
        name=name, duties=_duties(raw, source), kerb_classes=kerb, centreline_classes=centre,
        max_depth_m=values["max_depth_m"], default_frontage_m=values["default_frontage_m"],
        max_distance_m=values["max_distance_m"], market_strip_m=values["market_strip_m"],
        inherits=raw.get("inherits"), label=str(raw.get("label", name)), excluded_classes=excluded,
        default_rule=default_rule,
        sidewalk_kerb=frozenset(s.lower() for s in _classes(depth, "sidewalk_kerb", source))
        if "sidewalk_kerb" in depth else Policy.sidewalk_kerb,
        sidewalk_centreline=frozenset(s.lower() for s in _classes(depth, "sidewalk_centreline", source))
        if "sidewalk_centreline" in depth else Policy.sidewalk_centreline,
        max_gap_fill_m=values["max_gap_fill_m"], source=source,
    )


def load_policy(name_or_path: str | Path) -> Policy:
    """A policy by name ('三包', '五包', a city such as '南京') or by path to a .toml file."""
    path = _policy_path(name_or_path)
    return _parse_cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _parse_cached(path: str, mtime_ns: int) -> Policy:
    """parse_policy, reused while the file is unchanged (lookups ask for the policy on every request)."""
    return parse_policy(Path(path))
