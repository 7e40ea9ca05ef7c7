"""The role table (gridsvc/people/roles.toml): which roles may perform each action and change each field.

Read once, checked as it is read: every role named must be in `roles`, every action and field list non-empty.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import InputError

ROLE_TABLE = Path(__file__).resolve().parent / "roles.toml"
PUBLIC = "public"  # the role of anonymous callers


@dataclass(frozen=True)
class RoleTable:
    """Roles, the roles of each action, and per table the roles that may change each field."""

    roles: tuple[str, ...]
    actions: dict[str, frozenset[str]]
    fields: dict[str, dict[str, frozenset[str]]]

    def allowed(self, action: str) -> frozenset[str]:
        """The roles that may perform an action (KeyError for an action the table does not know)."""
        return self.actions[action]

    def editors(self, table: str) -> frozenset[str]:
        """The roles that may change some field of a table (may PATCH it)."""
        return frozenset().union(*self.fields[table].values())

    def editable(self, table: str, role: str) -> tuple[str, ...]:
        """The fields of a table a role may change."""
        return tuple(f for f, roles in self.fields[table].items() if role in roles)


def parse_role_table(path: Path) -> RoleTable:
    """A role table from a TOML file; InputError naming the file and the entry that is wrong."""
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"cannot read the role table: {e}", source=src) from None
    roles = data.get("roles")
    if not (isinstance(roles, list) and roles and all(isinstance(r, str) for r in roles)) or PUBLIC not in roles:
        raise InputError(f"`roles` must list the role names, {PUBLIC!r} among them", source=src, where="roles")

    def role_set(value, where: str) -> frozenset[str]:
        if not (isinstance(value, list) and value):
            raise InputError("must be a non-empty list of roles", source=src, where=where)
        unknown = sorted(set(value) - set(roles))
        if unknown:
            raise InputError(f"unknown role(s) {', '.join(map(repr, unknown))}; roles: {', '.join(roles)}",
                             source=src, where=where)
        return frozenset(value)

    actions = {name: role_set(v, f"actions.{name}") for name, v in data.get("actions", {}).items()}
    fields = {table: {f: role_set(v, f"fields.{table}.{f}") for f, v in cols.items()}
              for table, cols in data.get("fields", {}).items()}
    return RoleTable(tuple(roles), actions, fields)


@cache
def role_table() -> RoleTable:
    """The shipped role table."""
    return parse_role_table(ROLE_TABLE)
