"""Reading geodata/ops/*.toml: the folder, TOML parsing, pydantic validation with errors naming file and entry."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ...errors import InputError
from ...settings import get_settings

M = TypeVar("M", bound=BaseModel)

# Keys that name an entry of a list in the ops files, tried in this order.
_ENTRY_KEYS = ("code", "id", "category", "stars")


class Strict(BaseModel):
    """Base of the file models: unknown keys are errors (a typo must not pass silently), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def ops_dir() -> Path:
    """The folder of the operations data: <geodata_dir>/ops."""
    return get_settings().geodata_dir / "ops"


# How long a stamp is reused before the folders are looked at again: loaders are called per case and per
# deadline (a cron tick over a year of cases), so they must not walk the folder every time.
STAMP_SECONDS = 1.0
_stamps: dict[tuple[Path, ...], tuple[float, tuple]] = {}


def stamp(*folders: Path) -> tuple[tuple[str, int], ...]:
    """(path, mtime) of every .toml under the folders: the cache key of the loaders, so an edited file is read
    again (within STAMP_SECONDS; forget() makes it at once)."""
    now = time.monotonic()
    memo = _stamps.get(folders)
    if memo is not None and now - memo[0] < STAMP_SECONDS:
        return memo[1]
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [(str(p), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.toml"))]
    _stamps[folders] = (now, tuple(found))
    return tuple(found)


def forget() -> None:
    """Look at the files again on the next load (after editing them)."""
    _stamps.clear()


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; InputError naming the file when it is missing or not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError("file not found", source=str(path)) from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"not valid TOML ({e})", source=str(path)) from e


def entry_name(node: Any) -> str:
    """' (code 'X')' for a table that has an identifying key, else ''."""
    if isinstance(node, dict):
        for key in _ENTRY_KEYS:
            if isinstance(node.get(key), str | int) and not isinstance(node.get(key), bool):
                return f" ({key} {node[key]!r})"
    return ""


def describe_loc(raw: Any, loc: tuple) -> str:
    """A pydantic error location as the path of keys in the file, naming each entry by its code or id."""
    text, node = "", raw
    for step in loc:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            text += f"[{step}]{entry_name(node)}"
        else:
            node = node.get(step) if isinstance(node, dict) else None
            text += f".{step}" if text else str(step)
    return text


def validate(model: type[M], raw: dict, path: Path) -> M:
    """raw validated as model; InputError naming the file, the entry (by key path and code) and the problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        first = errors[0]
        loc = tuple(s for s in first["loc"] if not (isinstance(s, str) and s.startswith("function-")))
        what = first["msg"].removeprefix("Value error, ")
        if first["type"] not in ("missing", "extra_forbidden", "value_error") and not isinstance(
                first.get("input"), dict | list):
            what += f", got {first.get('input')!r}"
        if first["type"] == "extra_forbidden":
            what = "unknown key"
        if len(errors) > 1:
            what += f" (and {len(errors) - 1} more error(s))"
        raise InputError(what, source=str(path), where=describe_loc(raw, loc) or None) from None


def fail(path: Path, where: str, what: str) -> InputError:
    """An InputError for a cross-check, naming file and entry."""
    return InputError(what, source=str(path), where=where)
