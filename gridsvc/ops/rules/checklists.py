"""Inspection checklists: data files (geodata/ops/checklists/*.toml, cities/<policy>.toml) and the checklists
generated from each duty policy's duties (三包, 五包, city policies)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ...errors import InputError, NotFoundError
from ...zones.policies import list_policies, load_policy, policies_dir
from .categories import Categories, load_categories
from .files import Strict, fail, ops_dir, read_toml, stamp, validate

TargetKind = Literal["unit", "zone", "market", "compound", "street", "point"]
TARGET_KINDS: tuple[str, ...] = ("unit", "zone", "market", "compound", "street", "point")
Result = Literal["pass", "fail", "na"]
# The holders of frontage zones: the targets a policy's duty checklist applies to.
POLICY_TARGETS: tuple[str, ...] = ("unit", "zone", "market", "compound")


class Item(Strict):
    """One item: pass / fail / n.a. at inspection; a failure may open a case in `category`."""

    id: str = Field(min_length=1)
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    score: float | None = Field(default=None, gt=0)
    category: str | None = None
    frequency: Literal["each_visit", "daily", "weekly", "monthly"] = "each_visit"
    days_of_month: tuple[int, ...] = ()
    duty: str | None = None  # the policy duty a generated item checks


class Section(Strict):
    id: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)


class Checklist(Strict):
    """A checklist: sections of items, the target kinds it applies to, and (city lists) the policy it belongs to."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-\u4e00-\u9fff]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    targets: tuple[TargetKind, ...] = Field(min_length=1)
    sections: tuple[Section, ...] = Field(min_length=1)
    policy: str | None = None  # set for a city file (its stem) and for a generated checklist
    generated: bool = False
    source: str = ""

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError(f"checklist {self.id!r} has no item {item_id!r}", where="item")

    def score(self, results: Mapping[str, str]) -> float | None:
        """The inspection score, 0–100: the weight of the passed items over the weight of the items checked.

        results maps item id → pass | fail | na; items not given count as n.a. Weights are the items' scores, or
        1 each in a checklist without scores. None when no item was checked (all n.a.).
        """
        items = {item.id: item for item in self.items}
        passed = checked = 0.0
        for item_id, result in results.items():
            if item_id not in items:
                raise InputError(f"checklist {self.id!r} has no item {item_id!r}", where=f"results.{item_id}")
            if result not in ("pass", "fail", "na"):
                raise InputError(f"a result is pass, fail or na, got {result!r}", where=f"results.{item_id}")
            if result == "na":
                continue
            weight = items[item_id].score or 1.0
            checked += weight
            passed += weight if result == "pass" else 0.0
        return round(100.0 * passed / checked, 2) if checked else None

    def as_dict(self) -> dict:
        return self.model_dump(mode="json")


def _check(checklist: Checklist, path: Path, categories: Categories) -> Checklist:
    """Cross-checks of one checklist: unique section and item ids, scores all-or-none, categories exist."""
    sections, items = set(), set()
    for i, section in enumerate(checklist.sections):
        swhere = f"sections[{i}] (id {section.id!r})"
        if section.id in sections:
            raise fail(path, swhere, f"duplicate section id {section.id!r}")
        sections.add(section.id)
        for j, item in enumerate(section.items):
            where = f"{swhere}.items[{j}] (id {item.id!r})"
            if item.id in items:
                raise fail(path, where, f"duplicate item id {item.id!r} in checklist {checklist.id!r}")
            items.add(item.id)
            if item.category is not None and item.category not in categories.by_code:
                raise fail(path, where, f"unknown category {item.category!r}: not in categories.toml")
            if any(not 1 <= d <= 31 for d in item.days_of_month):
                raise fail(path, where, f"days_of_month must be days 1–31, got {list(item.days_of_month)}")
    scored = {item.score is not None for item in checklist.items}
    if len(scored) > 1:
        raise fail(path, "sections", f"checklist {checklist.id!r}: give every item a score, or none")
    return checklist


def parse_checklist(path: Path, categories: Categories, policy: str | None = None) -> Checklist:
    """One checklist file; `policy` is set for a city file (checklists/cities/<policy>.toml)."""
    raw = read_toml(path)
    for key in ("policy", "generated", "source"):
        if key in raw:
            raise fail(path, key, "unknown key (a city checklist's policy is its file name under cities/)")
    checklist = validate(Checklist, raw, path).model_copy(update={"policy": policy, "source": str(path)})
    return _check(checklist, path, categories)


def load_checklists() -> dict[str, Checklist]:
    """The data checklists by id: checklists/*.toml and checklists/cities/*.toml (cached while unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir(), policies_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> dict[str, Checklist]:
    categories = load_categories()
    found: dict[str, Checklist] = {}
    root = folder / "checklists"
    paths = [(p, None) for p in sorted(root.glob("*.toml"))] + [(p, p.stem) for p in sorted((root / "cities").glob("*.toml"))]
    for path, policy in paths:
        if policy is not None:
            try:
                load_policy(policy)
            except NotFoundError as e:
                raise fail(path, "file name", f"a city checklist is named after its policy: {e}") from None
        checklist = parse_checklist(path, categories, policy)
        if checklist.id in found:
            raise fail(path, f"id {checklist.id!r}", f"checklist id already used by {found[checklist.id].source}")
        found[checklist.id] = checklist
    return found


def policy_checklist(policy_name: str) -> Checklist:
    """The checklist generated from a duty policy: one item per duty (三包: 3, 五包: 5), each failing into the
    category of categories.toml's [duty_categories]."""
    policy = load_policy(policy_name)
    categories = load_categories()
    items = tuple(
        Item(id=d.code, text_zh=f"{d.zh}：责任落实", text_en=f"{d.en}: {d.description}",
             category=categories.for_duty(d.code), duty=d.code)
        for d in policy.duties)
    return Checklist(
        id=f"policy:{policy.name}", zh=f"{policy.label or policy.name} 责任检查",
        en=f"Frontage duties of policy {policy.name}", targets=POLICY_TARGETS,
        sections=(Section(id="duties", zh="门前责任", en="Frontage duties", items=items),),
        policy=policy.name, generated=True, source=policy.source)


def policy_chain(policy_name: str) -> list[str]:
    """The policy and the policies it inherits from, nearest first (南京 → 五包 → 三包)."""
    chain, name = [], policy_name
    while name is not None and name not in chain:
        policy = load_policy(name)
        chain.append(policy.name)
        name = policy.inherits
    return chain


def checklists_for(target_kind: str, policy_name: str) -> list[Checklist]:
    """The checklists for a target kind under a policy: the one generated from the policy's duties (for the
    holders of frontage zones), the data checklists that apply to the kind, then the city lists of the policy
    and of the policies it inherits from (most general first)."""
    if target_kind not in TARGET_KINDS:
        raise InputError(f"target kind must be one of {', '.join(TARGET_KINDS)}, got {target_kind!r}",
                         where="target_kind")
    chain = policy_chain(policy_name)
    found = [policy_checklist(policy_name)] if target_kind in POLICY_TARGETS else []
    data = load_checklists()
    found += [c for c in data.values() if c.policy is None and target_kind in c.targets]
    for name in reversed(chain):
        found += [c for c in data.values() if c.policy == name and target_kind in c.targets]
    return found


POLICY_PREFIX = "policy:"


def all_checklists() -> list[Checklist]:
    """Every checklist an inspection may name: the one generated from each policy, then the data lists."""
    return [policy_checklist(name) for name in list_policies()] + list(load_checklists().values())


def get_checklist(checklist_id: str) -> Checklist:
    """A checklist by id: policy:<policy name> (generated from that policy's duties) or a data list's id;
    NotFoundError naming the ids there are."""
    if isinstance(checklist_id, str) and checklist_id.startswith(POLICY_PREFIX):
        name = checklist_id.removeprefix(POLICY_PREFIX)
        if name in list_policies():
            return policy_checklist(name)
    else:
        found = load_checklists().get(checklist_id)
        if found is not None:
            return found
    known = ", ".join(c.id for c in all_checklists())
    raise NotFoundError(f"no checklist {checklist_id!r}; checklists: {known}", where="checklist")
