"""Backups: `gridsvc db dump` / `db restore` bring back every row, refuse what they must and fail atomically."""

from __future__ import annotations

import secrets
import stat
import uuid

import psycopg
import pytest
from sqlalchemy import make_url, text
from support import load_nanjing
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.cli import app
from gridsvc.db import engine as engine_mod
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine
from gridsvc.errors import BackupError, ConflictError, InputError, UnreadableFileError
from gridsvc.people.parties import reassign_zone
from gridsvc.pg import backup
from gridsvc.pg.cluster import LocalCluster

runner = CliRunner()


@pytest.fixture(scope="module")
def source(new_database):
    """Its own database with Nanjing, 三包 zones and three zones reassigned (second versions, audit rows)."""
    url = new_database("backup_src")
    engine = make_engine(url)
    migrate.upgrade(engine)
    load_nanjing(engine, zones="三包")
    with engine.begin() as c:
        party = c.execute(text("INSERT INTO parties (kind, ref, name, contact, phone) VALUES "
                               "('unit', 'test:backup', '备份测试商户', '王经理', '025-84001234') RETURNING id")).scalar()
        zone_ids = c.execute(text("SELECT zone_id FROM zones WHERE valid_to IS NULL AND kind = 'frontage' "
                                  "ORDER BY zone_id LIMIT 3")).scalars().all()
        for zone_id in zone_ids:
            reassign_zone(c, zone_id, party, by="test")
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory):
    """A dump of the source database, made into a folder (timestamped name)."""
    folder = tmp_path_factory.mktemp("backups")
    return backup.dump(source[0], folder)


def test_dump_is_a_private_custom_format_file(archive):
    assert archive.path.name.startswith("gridsvc-gridsvc_test_backup_src_") and archive.path.suffix == ".dump"
    assert archive.path.read_bytes()[:5] == b"PGDMP"
    assert stat.S_IMODE(archive.path.stat().st_mode) == 0o600
    assert archive.revision == migrate.head_revision()
    assert not list(archive.path.parent.glob(".*partial*"))


def test_restore_into_fresh_database_is_identical(source, archive, new_database, db_snapshot):
    url = new_database("backup_dst")
    result = backup.restore(url, archive.path)
    assert result.upgraded_from is None and result.revision == migrate.head_revision()
    before, engine = db_snapshot(source[1]), make_engine(url)
    try:
        after = db_snapshot(engine)
        with engine.connect() as c:
            versions = c.execute(text("SELECT count(*) FROM zones WHERE version > 1")).scalar()
            reassigned = c.execute(text("SELECT count(*) FROM zones z JOIN parties p ON p.id = z.party_id "
                                        "WHERE p.ref = 'test:backup' AND z.valid_to IS NULL")).scalar()
    finally:
        engine.dispose()
    assert before == after
    for table in ("zones", "parties", "units", "streets", "grid_cells", "alembic_version"):
        assert after[table][0] > 0, table
    if "audit_log" in after:
        assert after["audit_log"][0] > 0
    assert versions >= 3 and reassigned == 3
    assert result.rows["zones"] == before["zones"][0]
    print(f"\n{len(after)} tables and sequences identical, {sum(n for n, _ in after.values() if _)} rows; "
          f"dump {archive.size / 1e6:.2f} MB in {archive.seconds:.2f}s, restore {result.seconds:.2f}s; "
          f"zones {after['zones'][0]}, audit_log {after.get('audit_log', (0,))[0]}")


def test_restore_refuses_a_database_with_data_then_replaces_it(source, archive, new_database, db_snapshot):
    url = new_database("backup_replace")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as c:
            c.execute(text("INSERT INTO parties (kind, ref, name) VALUES ('unit', 'test:other', '另一家')"))
        other = db_snapshot(engine)
        with pytest.raises(ConflictError, match=r"already holds data \(in .*parties.*--replace"):
            backup.restore(url, archive.path)
        assert db_snapshot(engine) == other
        backup.restore(url, archive.path, replace=True)
        assert db_snapshot(engine) == db_snapshot(source[1])
    finally:
        engine.dispose()


def test_failed_replace_leaves_the_database_as_it_was(archive, new_database, db_snapshot, tmp_path):
    url = new_database("backup_atomic")
    backup.restore(url, archive.path)
    engine = make_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO parties (kind, ref, name) VALUES ('unit', 'test:later', '后来的')"))
        before = db_snapshot(engine)
        damaged = tmp_path / "damaged.dump"
        damaged.write_bytes(archive.path.read_bytes()[: archive.size * 2 // 3])
        with pytest.raises(BackupError, match=r"could not read .*damaged\.dump.* is unchanged"):
            backup.restore(url, damaged, replace=True)  # the table of contents reads, the data ends early
        assert db_snapshot(engine) == before
    finally:
        engine.dispose()


def test_restore_upgrades_a_dump_from_an_older_schema(new_database, tmp_path):
    old_url, new_url = new_database("backup_old"), new_database("backup_upgraded")
    engine = make_engine(old_url)
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as c:
            c.execute(text("INSERT INTO parties (kind, ref, name) VALUES ('unit', 'test:old', '老商户')"))
    finally:
        engine.dispose()
    old = backup.dump(old_url, tmp_path / "old.dump")
    assert old.revision == "0003"
    result = backup.restore(new_url, old.path)
    assert result.upgraded_from == "0003" and result.revision == migrate.head_revision()
    engine = make_engine(new_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as c:
            assert c.execute(text("SELECT name FROM parties WHERE ref = 'test:old'")).scalar() == "老商户"
    finally:
        engine.dispose()


def test_restore_refuses_a_dump_from_a_newer_gridsvc(new_database, tmp_path):
    url = new_database("backup_newer")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as c:
            c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    newer = backup.dump(url, tmp_path / "newer.dump")
    with pytest.raises(InputError, match="revision '9999' is unknown to this gridsvc"):
        backup.restore(new_database("backup_never"), newer.path)


@pytest.fixture
def owner_url():
    """A database owned by a fresh role without superuser (as on a managed server), PostGIS made by the admin."""
    settings = settings_mod.get_settings()
    if settings.database_url:
        pytest.skip("needs the local cluster's superuser to make a role")
    cluster = LocalCluster(settings.cluster_dir)
    admin = cluster.url("postgres").replace("postgresql+psycopg", "postgresql")
    suffix, password = uuid.uuid4().hex[:8], secrets.token_urlsafe(12)
    role, db = f"gridsvc_owner_{suffix}", f"gridsvc_test_owner_{suffix}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER PASSWORD '{password}'")
        c.execute(f"CREATE DATABASE {db} OWNER {role}")
    cluster.ensure_database(db)  # PostGIS, created by the superuser
    try:
        yield make_url(cluster.url(db)).set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        cluster.drop_database(db)
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP ROLE IF EXISTS {role}")


def test_restore_as_an_owner_without_superuser(source, archive, owner_url, db_snapshot):
    backup.restore(owner_url, archive.path)
    backup.restore(owner_url, archive.path, replace=True)
    engine = make_engine(owner_url)
    try:
        assert db_snapshot(engine) == db_snapshot(source[1])
    finally:
        engine.dispose()


def test_clear_errors(source, tmp_path):
    url = source[0]
    with pytest.raises(UnreadableFileError, match="file not found"):
        backup.restore(url, tmp_path / "missing.dump")
    notdump = tmp_path / "zones.geojson"
    notdump.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(UnreadableFileError, match="not a pg_dump custom-format archive"):
        backup.restore(url, notdump)
    with pytest.raises(InputError, match="does not exist"):
        backup.dump(url, tmp_path / "no" / "such" / "folder.dump")
    with pytest.raises(InputError, match="--keep needs a folder"):
        backup.dump(url, tmp_path / "one.dump", keep=3)
    with pytest.raises(InputError, match="--keep must be at least 1"):
        backup.dump(url, tmp_path, keep=0)
    assert not list(tmp_path.glob("*.dump"))


@pytest.fixture
def cli_source(source, monkeypatch):
    """The CLI pointed at the source database."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", source[0])
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()
    yield source[0]
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


def test_cli_dump_keeps_the_newest_and_restore_refuses(cli_source, tmp_path):
    for _ in range(3):
        r = runner.invoke(app, ["db", "dump", str(tmp_path), "--keep", "2"])
        assert r.exit_code == 0, r.output
    files = sorted(tmp_path.glob("gridsvc-*.dump"))
    assert len(files) == 2 and "removed old dump" in r.output
    r = runner.invoke(app, ["db", "restore", str(files[-1])])
    assert r.exit_code == 1 and "already holds data" in " ".join(r.output.split()) and "Traceback" not in r.output
    r = runner.invoke(app, ["db", "restore", str(tmp_path / "nope.dump")])
    assert r.exit_code == 2 and "file not found" in " ".join(r.output.split())
