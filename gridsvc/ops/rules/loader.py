"""All operations rules at once: every geodata/ops file loaded and cross-checked (for `gridsvc validate`,
start-up and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from ...zones.policies import list_policies
from .bulletins import BulletinRules, load_bulletins
from .categories import Categories, Department, load_categories, load_departments
from .checklists import Checklist, load_checklists, policy_checklist
from .escalation import Escalation, load_escalation
from .flow import Flow, load_flow
from .limits import TimeLimits, load_time_limits
from .notices import load_notice_texts
from .ratings import RatingRules, load_ratings


@dataclass(frozen=True)
class OpsRules:
    departments: dict[str, Department]
    categories: Categories
    time_limits: TimeLimits
    escalation: Escalation
    checklists: dict[str, Checklist]
    ratings: RatingRules
    flow: Flow
    bulletins: BulletinRules


def load_rules() -> OpsRules:
    """Every ops file, cross-checked; also generates each shipped policy's checklist (raising InputError naming
    the file and entry of the first problem)."""
    rules = OpsRules(departments=load_departments(), categories=load_categories(), time_limits=load_time_limits(),
                     escalation=load_escalation(), checklists=load_checklists(), ratings=load_ratings(),
                     flow=load_flow(), bulletins=load_bulletins())
    for name in list_policies():
        policy_checklist(name)
    from ..inspections.core import (
        load_inspector_kinds,  # imports cases and lookup: loaded only when checking all
    )

    load_inspector_kinds()
    load_notice_texts()
    from ..addresses import load_addresses
    from ..hotline.rules import load_hotline

    load_addresses()
    load_hotline()
    return rules
