"""Fixtures for the fault tests: extra throwaway databases and a row-level snapshot of a whole database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import make_url, text

from gridsvc.db.engine import make_engine
from gridsvc.settings import get_settings

# Every table of the public schema except those an extension owns (PostGIS's spatial_ref_sys).
TABLES = """
SELECT c.oid::regclass::text AS name,
       array(SELECT a.attname FROM pg_index i JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, n) ON true
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.n) AS pk
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = c.tableoid AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


def snapshot(engine, sequences: bool = True) -> dict[str, tuple[int, str]]:
    """Every public table's row count and hash of its rows in primary-key order (and every sequence's value)."""
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as c:
        for name, pk in c.execute(text(TABLES)).all():
            order = ", ".join(f'x."{col}"' for col in pk) or "md5(x::text)"
            out[name] = tuple(c.execute(text(
                f"SELECT count(*), md5(coalesce(string_agg(md5(x::text), ',' ORDER BY {order}), '')) FROM {name} x"
            )).one())
        if sequences:  # nextval is not transactional: a rolled-back writer moves sequences on
            for name, value in c.execute(text("SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences "
                                              "WHERE schemaname = 'public'")):
                out[f"sequence {name}"] = (value, "")
    return out


@pytest.fixture(scope="module")
def new_database():
    """A factory of fresh, empty PostGIS databases on the test server (URL per call); all dropped afterwards."""
    settings = get_settings()
    made: list[str] = []
    if settings.database_url:
        admin = make_engine(settings.database_url, settings).execution_options(isolation_level="AUTOCOMMIT")

        def create(name: str) -> str:
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
            eng = make_engine(url, settings)
            with eng.begin() as c:
                c.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            eng.dispose()
            return url

        def drop(name: str) -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        from gridsvc.pg.cluster import LocalCluster

        cluster = LocalCluster(settings.cluster_dir)
        cluster.up()

        def create(name: str) -> str:
            cluster.ensure_database(name)
            return cluster.url(name)

        drop = cluster.drop_database

    def factory(label: str = "db") -> str:
        name = f"gridsvc_test_{label}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        return create(name)

    yield factory
    for name in made:
        drop(name)


@pytest.fixture
def db_snapshot():
    """The snapshot function (test modules cannot import conftest)."""
    return snapshot
