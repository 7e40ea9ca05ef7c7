"""The notices' fixed wording (geodata/ops/notices.toml): titles and the legal basis."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from .files import Strict, ops_dir, read_toml, stamp, validate


class Titles(Strict):
    reminder: str = Field(min_length=1, max_length=30)
    rectification: str = Field(min_length=1, max_length=30)
    escalation: str = Field(min_length=1, max_length=30)


class NoticeTexts(Strict):
    legal_basis: str = Field(min_length=1, max_length=300)
    titles: Titles


def parse_notice_texts(path: Path) -> NoticeTexts:
    return validate(NoticeTexts, read_toml(path), path)


def load_notice_texts() -> NoticeTexts:
    """notices.toml of <geodata_dir>/ops (cached while the files are unchanged)."""
    return _cached(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _cached(folder: Path, _stamp: tuple) -> NoticeTexts:
    return parse_notice_texts(folder / "notices.toml")
