"""Fixtures of the ops rules tests: the service zone pinned, and a writable copy of geodata for broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridsvc import settings as settings_mod
from gridsvc.ops.rules.files import forget

REPO_GEODATA = Path(__file__).resolve().parents[2] / "geodata"


@pytest.fixture(autouse=True)
def _service_zone(monkeypatch):
    """Every test runs in the default zone (Asia/Shanghai), whatever the shell has in GRIDSVC_TZ."""
    monkeypatch.delenv("GRIDSVC_TZ", raising=False)
    monkeypatch.delenv("GRIDSVC_GEODATA_DIR", raising=False)
    settings_mod.get_settings.cache_clear()
    forget()
    yield
    settings_mod.get_settings.cache_clear()
    forget()


@pytest.fixture
def geodata(tmp_path, monkeypatch) -> Path:
    """A copy of geodata/ (ops and policies) that settings point at; tests break files in it."""
    root = tmp_path / "geodata"
    shutil.copytree(REPO_GEODATA / "ops", root / "ops")
    shutil.copytree(REPO_GEODATA / "policies", root / "policies")
    monkeypatch.setenv("GRIDSVC_GEODATA_DIR", str(root))
    settings_mod.get_settings.cache_clear()
    return root

