"""Upload retention (gridsvc/upload_retention.py, `gridsvc uploads prune`): old rows and files go, new ones stay,
a dry run changes nothing, orphan files are swept, a file uploaded again meanwhile is kept."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gridsvc import settings as settings_mod
from gridsvc.cli import app
from gridsvc.db import engine as engine_mod
from gridsvc.errors import InputError
from gridsvc.files import retention as retention
from gridsvc.files import uploads
from gridsvc.settings import Settings

DAY = 24 * 3600
LIMITS = {"photo": 365, "ledger": 90}
TYPES = {"photo": "image/jpeg", "ledger": "text/csv; charset=utf-8"}


@pytest.fixture
def store(engine, tmp_path):
    """An empty uploads table and an empty store folder; emptied again afterwards."""
    with engine.begin() as c:
        c.execute(text("TRUNCATE uploads RESTART IDENTITY"))
    yield tmp_path / "uploads"
    with engine.begin() as c:
        c.execute(text("TRUNCATE uploads RESTART IDENTITY"))


def put(engine, root, name: str, kind: str, age_days: float, size: int = 1000) -> str:
    """Store a file of `size` bytes and index it as uploaded age_days ago; returns its checksum."""
    data = name.encode().ljust(size, b".")
    sha = hashlib.sha256(data).hexdigest()
    uploads.store(root, io.BytesIO(data), sha)
    with engine.begin() as c:
        c.execute(text("INSERT INTO uploads (sha256, kind, content_type, size_bytes, filename, uploaded_by) "
                       "VALUES (:s, :k, :t, :n, :f, 'test')"),
                  {"s": sha, "k": kind, "t": TYPES[kind], "n": size, "f": f"{name}.bin"})
        c.execute(text("UPDATE uploads SET created_at = now() - make_interval(secs => :d * 86400) "
                       "WHERE sha256 = :s"), {"d": age_days, "s": sha})
    return sha


def orphan(root, name: str, age_days: float, size: int = 500) -> str:
    """A stored file without a row, its mtime age_days ago; returns its checksum."""
    data = name.encode().ljust(size, b"#")
    sha = hashlib.sha256(data).hexdigest()
    path = uploads.store(root, io.BytesIO(data), sha)
    then = time.time() - age_days * DAY
    os.utime(path, (then, then))
    return sha


def rows(engine) -> set[str]:
    with engine.connect() as c:
        return set(c.execute(text("SELECT sha256 FROM uploads")).scalars())


def on_disk(root) -> set[str]:
    return {p.name for p in root.glob("*/*")}


def deletions(engine) -> list[tuple[str, str]]:
    """(actor, record) of every audited deletion of an upload."""
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT actor, before->>'sha256' FROM audit_log WHERE table_name = 'uploads' AND action = 'delete' "
            "ORDER BY id"))]


@pytest.fixture
def mixed(engine, store):
    """Old and new photos and ledgers (each file 1000 bytes) and two orphan files, one young."""
    shas = {
        "old_photo": put(engine, store, "old photo", "photo", 400),
        "new_photo": put(engine, store, "new photo", "photo", 300),
        "old_ledger": put(engine, store, "old ledger", "ledger", 91),
        "new_ledger": put(engine, store, "new ledger", "ledger", 89),
        "orphan": orphan(store, "crashed before insert", 3),
        "young_orphan": orphan(store, "upload in flight", 0.1),
    }
    return store, shas


def test_old_rows_and_files_go_new_ones_stay(engine, mixed):
    root, shas = mixed
    before = len(deletions(engine))
    report = retention.prune_uploads(engine, root, LIMITS)
    assert {g.sha256 for g in report.rows} == {shas["old_photo"], shas["old_ledger"]}
    assert [g.sha256 for g in report.orphans] == [shas["orphan"]]
    assert rows(engine) == {shas["new_photo"], shas["new_ledger"]}
    assert on_disk(root) == {shas["new_photo"], shas["new_ledger"], shas["young_orphan"]}
    assert report.bytes_freed == 1000 + 1000 + 500 and report.kept == [] and report.missing == []
    assert {g.filename for g in report.rows} == {"old photo.bin", "old ledger.bin"}
    assert sorted(sha for _, sha in deletions(engine)[before:]) == sorted([shas["old_photo"], shas["old_ledger"]])
    again = retention.prune_uploads(engine, root, LIMITS)
    assert again.rows == [] and again.orphans == [] and again.bytes_freed == 0


def test_a_dry_run_lists_the_same_and_changes_nothing(engine, mixed):
    root, shas = mixed
    audited = deletions(engine)
    dry = retention.prune_uploads(engine, root, LIMITS, dry_run=True)
    assert rows(engine) == {shas[k] for k in ("old_photo", "new_photo", "old_ledger", "new_ledger")}
    assert on_disk(root) == set(shas.values()) and deletions(engine) == audited
    real = retention.prune_uploads(engine, root, LIMITS)
    listed = [[(g.sha256, g.kind, g.size_bytes) for g in report.rows] for report in (dry, real)]
    assert listed[0] == listed[1] and len(listed[0]) == 2
    assert [g.path for g in dry.orphans] == [g.path for g in real.orphans]
    assert dry.bytes_freed == real.bytes_freed == 2500 and dry.dry_run and not real.dry_run


def test_rows_of_another_kind_are_untouched(engine, store):
    photo = put(engine, store, "photo", "photo", 1000)
    ledger = put(engine, store, "ledger", "ledger", 1000)
    report = retention.prune_uploads(engine, store, {"photo": 30})
    assert [g.sha256 for g in report.rows] == [photo]
    assert rows(engine) == {ledger} and on_disk(store) == {ledger}


def test_orphans_temporary_and_foreign_files(engine, store):
    kept = put(engine, store, "indexed", "photo", 1)
    old = orphan(store, "old orphan", 2)
    young = orphan(store, "young orphan", 0.5)
    temp = store / kept[:2] / ".incoming-abc123"
    temp.write_bytes(b"half a file")
    os.utime(temp, (time.time() - 2 * DAY,) * 2)
    fresh_temp = store / kept[:2] / ".incoming-def456"
    fresh_temp.write_bytes(b"being written")
    foreign = store / kept[:2] / "notes.txt"
    foreign.write_text("not ours")
    os.utime(foreign, (time.time() - 9 * DAY,) * 2)
    (store / "README").write_text("not a shard")
    report = retention.prune_uploads(engine, store, LIMITS)
    assert report.rows == [] and {g.path.name for g in report.orphans} == {old, ".incoming-abc123"}
    assert on_disk(store) == {kept, young, ".incoming-def456", "notes.txt"}
    assert report.bytes_freed == 500 + len(b"half a file") and (store / "README").exists()


def test_a_file_uploaded_again_while_pruning_is_kept(engine, store, monkeypatch):
    sha = put(engine, store, "re-uploaded", "ledger", 200)
    real_lock = retention.lock_files

    def upload_again_then_lock(conn, shas):
        with engine.begin() as c:  # POST /uploads of the same file, between the deletion and the unlink
            c.execute(text("INSERT INTO uploads (sha256, kind, content_type, size_bytes) "
                           "VALUES (:s, 'ledger', 'text/csv; charset=utf-8', 1000)"), {"s": sha})
        real_lock(conn, shas)

    monkeypatch.setattr(retention, "lock_files", upload_again_then_lock)
    report = retention.prune_uploads(engine, store, LIMITS)
    assert [g.sha256 for g in report.rows] == [sha] and report.kept == [sha] and report.bytes_freed == 0
    assert rows(engine) == {sha} and on_disk(store) == {sha}


def test_a_missing_file_is_reported_not_an_error(engine, store):
    sha = put(engine, store, "lost", "photo", 500)
    uploads.stored_path(store, sha).unlink()
    report = retention.prune_uploads(engine, store, LIMITS)
    assert [g.sha256 for g in report.missing] == [sha] and report.bytes_freed == 0 and rows(engine) == set()


def test_the_store_lock_excludes_a_second_holder(engine):
    sha = "ab" * 32
    with engine.begin() as a:
        retention.lock_files(a, [sha])
        with engine.connect() as b:
            got = b.execute(text("SELECT pg_try_advisory_xact_lock(:ns, hashtext(:s))"),
                            {"ns": retention.UPLOAD_LOCK, "s": sha}).scalar_one()
            b.rollback()
    assert got is False


def test_limits_come_from_settings_or_the_command_line():
    s = Settings(upload_keep_days_photo=200, upload_keep_days_ledger=30)
    assert retention.retention_limits(s) == {"photo": 200, "ledger": 30}
    assert retention.retention_limits(s, "ledger") == {"ledger": 30}
    assert retention.retention_limits(s, older_than=7) == {"photo": 7, "ledger": 7}
    assert Settings().upload_keep_days("photo") == 365 and Settings().upload_keep_days("ledger") == 90
    for bad in ({"kind": "video"}, {"older_than": 0}):
        with pytest.raises(InputError):
            retention.retention_limits(s, **bad)


runner = CliRunner()


def use_database(monkeypatch, url: str, data_dir) -> None:
    """Point the CLI and the app's settings at a database and a data folder."""
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", url)
    monkeypatch.setenv("GRIDSVC_DATA_DIR", str(data_dir))
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


@pytest.fixture
def cli_store(engine, store, database_url, monkeypatch):
    """The CLI pointed at the test database, with <data_dir>/uploads/<database id> as the store."""
    from gridsvc.db.instance import upload_root

    use_database(monkeypatch, database_url, store.parent)
    with engine.connect() as c:
        yield upload_root(store, c)
    settings_mod.get_settings.cache_clear()
    engine_mod.get_engine.cache_clear()


def test_cli_prune_dry_run_then_for_real_audited_as_the_cli(engine, cli_store):
    old = put(engine, cli_store, "old ledger", "ledger", 40)
    new = put(engine, cli_store, "new ledger", "ledger", 10)
    photo = put(engine, cli_store, "old photo", "photo", 40)
    r = runner.invoke(app, ["uploads", "prune", "--older-than", "30", "--kind", "ledger", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "dry run, nothing removed" in r.output and "to free" in r.output
    assert old[:16] in r.output and "old ledger.bin" in r.output
    assert new[:16] not in r.output and photo[:16] not in r.output and "1.0 kB" in r.output
    assert rows(engine) == {old, new, photo}
    r = runner.invoke(app, ["uploads", "prune", "--older-than", "30", "--kind", "ledger"])
    assert r.exit_code == 0, r.output
    assert "removed" in r.output and "ledger older than 30 days" in r.output and "freed" in r.output
    assert rows(engine) == {new, photo} and on_disk(cli_store) == {new, photo}
    actor, sha = deletions(engine)[-1]
    assert sha == old and actor.startswith("cli:")
    r = runner.invoke(app, ["uploads", "prune", "--kind", "video"])
    assert r.exit_code == 2 and "kind must be one of photo, ledger" in r.output
    r = runner.invoke(app, ["uploads", "prune", "--older-than", "0"])
    assert r.exit_code == 2 and "at least 1" in r.output


def test_two_databases_on_one_data_folder_keep_their_uploads_apart(engine, second_engine, store, database_url,
                                                                   second_database_url, monkeypatch):
    """Each database's prune sees only its own files: the other's are neither orphans nor served."""
    from fastapi.testclient import TestClient
    from support import bearer

    from gridsvc.api.app import create_app

    use_database(monkeypatch, database_url, store.parent)
    ledger = "编号,名称\n1,老店\n".encode()
    sha = hashlib.sha256(ledger).hexdigest()
    try:
        with TestClient(create_app(engine), headers=bearer(engine, "apart-inspector", "inspector")) as first:
            r = first.post("/uploads", files={"file": ("台账.csv", ledger, "text/csv")})
            assert r.status_code in (200, 201), r.text
            stored = list(store.rglob(sha))
            assert len(stored) == 1
            week_ago = time.time() - 7 * DAY  # long past the orphan grace of a day
            os.utime(stored[0], (week_ago, week_ago))
            with TestClient(create_app(second_engine),
                            headers=bearer(second_engine, "apart-inspector", "inspector")) as second:
                assert second.get(f"/uploads/{sha}").status_code == 404, "the second database has no such upload"
                use_database(monkeypatch, second_database_url, store.parent)
                r = runner.invoke(app, ["uploads", "prune", "--dry-run"])
                assert r.exit_code == 0, r.output
                assert sha[:16] not in r.output, "the first database's ledger listed as the second's orphan"
                r = runner.invoke(app, ["uploads", "prune"])
                assert r.exit_code == 0, r.output
                assert stored[0].is_file(), "the second database's prune deleted the first database's file"
                assert second.post("/uploads", files={"file": ("台账.csv", ledger, "text/csv")}).status_code == 201
                assert len(list(store.rglob(sha))) == 2, "each database stores its own copy"
            assert first.get(f"/uploads/{sha}").content == ledger
    finally:
        settings_mod.get_settings.cache_clear()
        engine_mod.get_engine.cache_clear()
        with second_engine.begin() as c:
            c.execute(text("TRUNCATE uploads RESTART IDENTITY"))
