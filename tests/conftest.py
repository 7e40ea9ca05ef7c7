"""Shared fixtures: a throwaway database on the real PostGIS for each test session."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url, text
from support import APP_TABLES, bearer, require_chromium

from gridsvc import settings as settings_mod
from gridsvc.db import engine as engine_mod
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine
from gridsvc.settings import get_settings


@contextlib.contextmanager
def throwaway_database(prefix: str = "gridsvc_test") -> Iterator[str]:
    """URL of a fresh database on the local cluster or GRIDSVC_DATABASE_URL's server, dropped afterwards."""
    settings = get_settings()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    if settings.database_url:
        admin = make_engine(settings.database_url, settings).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    from gridsvc.pg.cluster import LocalCluster

    cluster = LocalCluster(settings.cluster_dir)
    cluster.up()
    cluster.ensure_database(name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of a fresh database for this test session (on the local cluster or GRIDSVC_DATABASE_URL's server)."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url):
    """Engine on the session's database, migrated to head."""
    eng = make_engine(database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def second_database_url(database_url) -> str:
    """A second database next to the session's (same server, same data folder), for tests of what must stay
    apart between databases (tokens, uploads)."""
    with throwaway_database("gridsvc_test_second") as url:
        yield url


@pytest.fixture(scope="session")
def second_engine(second_database_url):
    """Engine on the second database, migrated to head."""
    eng = make_engine(second_database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clean_db(engine):
    """The session database with every gridsvc table emptied."""
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium (the test fails where it is missing: see support.require_chromium)."""
    return require_chromium()


@pytest.fixture
def cli_env(database_url, monkeypatch):
    """The CLI on the test database."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", database_url)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    yield
    engine_mod.get_engine.cache_clear()
    settings_mod.get_settings.cache_clear()


@pytest.fixture(scope="session")
def admin_headers(engine) -> dict:
    """Authorization headers of an admin's API token (users survive the data fixtures' truncations)."""
    return bearer(engine, "test-admin", "admin")


@pytest.fixture(scope="session")
def planner_headers(engine) -> dict:
    """Authorization headers of a planner's API token."""
    return bearer(engine, "test-planner", "planner")
