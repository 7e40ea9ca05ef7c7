"""Tests for the local PostGIS cluster (gridsvc.pg.cluster)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from gridsvc.errors import ClusterError, MissingDependencyError
from gridsvc.pg import cluster as cluster_mod
from gridsvc.pg.cluster import LocalCluster, database_url, socket_directory
from gridsvc.settings import REPO_ROOT, Settings

# Root's tmp folders (/tmp/pytest-of-root is 0700) are not traversable by `postgres`, so use the repo.
CLUSTERS = REPO_ROOT / ".gridsvc" / "test-clusters"


def _new_dir() -> Path:
    """A fresh, not yet existing folder under .gridsvc/test-clusters."""
    return CLUSTERS / uuid.uuid4().hex[:12]


def _remove(folder: Path) -> None:
    """Stop a cluster in folder (if any) and delete the folder."""
    try:
        LocalCluster(folder).down()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    """One running cluster shared by the tests of this module."""
    folder = _new_dir()
    c = LocalCluster(folder)
    try:
        c.up()
        yield c
    finally:
        _remove(folder)


@pytest.fixture
def scratch():
    """A fresh folder under .gridsvc/test-clusters, removed afterwards."""
    folder = _new_dir()
    yield folder
    _remove(folder)


def _query(c: LocalCluster, db: str, statement: str):
    """First row of statement run in database db of cluster c."""
    with psycopg.connect(c.url(db).replace("postgresql+psycopg", "postgresql"), connect_timeout=10) as conn:
        return conn.execute(statement).fetchone()


def test_up_twice_keeps_port_and_pid(cluster):
    first = cluster.up()
    second = cluster.up()
    assert first.running and second.running
    assert first.port == second.port
    assert first.pid == second.pid


def test_status_fields(cluster):
    st = cluster.status()
    assert st.path == cluster.path
    assert st.initialised and st.running
    assert st.version == "15" or st.version.isdigit()
    assert isinstance(st.port, int) and 1024 < st.port < 65536
    assert st.pid == int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    assert (cluster.path / "port").read_text().strip() == str(st.port)


def test_password_file_private_and_url(cluster):
    mode = cluster.password_file.stat().st_mode & 0o777
    assert mode == 0o600
    assert cluster.password_file.stat().st_uid == os.geteuid()
    url = cluster.url("somedb")
    assert url.startswith("postgresql+psycopg://gridsvc:")
    assert url.endswith(f"@127.0.0.1:{cluster.status().port}/somedb")


def test_server_runs_as_postgres_when_root(cluster):
    if os.geteuid() != 0:
        pytest.skip("only as root")
    pid = cluster.status().pid
    assert os.stat(f"/proc/{pid}").st_uid == cluster_mod.pwd.getpwnam("postgres").pw_uid
    assert cluster.data_dir.stat().st_uid == os.stat(f"/proc/{pid}").st_uid


def test_ensure_database_enables_postgis(cluster):
    cluster.ensure_database("gridsvc_test")
    cluster.ensure_database("gridsvc_test")  # idempotent
    version = _query(cluster, "gridsvc_test", "SELECT postgis_version()")[0]
    assert version.startswith("3.")
    cluster.drop_database("gridsvc_test")
    assert _query(cluster, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'gridsvc_test'")[0] == 0
    cluster.drop_database("gridsvc_test")  # no error when missing


def test_database_url_uses_local_cluster(cluster):
    settings = Settings(database_url=None, pg_dir=cluster.path, db_name="gridsvc_url_test")
    url = database_url(settings)
    assert url == cluster.url("gridsvc_url_test")
    assert _query(cluster, "gridsvc_url_test", "SELECT postgis_version()")[0].startswith("3.")
    cluster.drop_database("gridsvc_url_test")


def test_database_url_given_starts_nothing(tmp_path):
    url = "postgresql+psycopg://u:p@db.example:5432/x"
    assert database_url(Settings(database_url=url, pg_dir=tmp_path / "never")) == url
    assert not (tmp_path / "never").exists()


def test_stale_pid_is_recovered(cluster):
    before = cluster.up()
    os.kill(before.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cluster.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    crashed = cluster.status()
    assert not crashed.running
    assert (cluster.data_dir / "postmaster.pid").exists()  # left behind by the crash
    after = cluster.up()
    assert after.running and after.pid != before.pid
    assert after.port == before.port
    assert _query(cluster, "postgres", "SELECT 1")[0] == 1


def test_down_is_idempotent(cluster):
    cluster.up()
    cluster.down()
    cluster.down()
    st = cluster.status()
    assert st.initialised and not st.running and st.pid is None
    assert not (cluster.data_dir / "postmaster.pid").exists()
    with pytest.raises(ClusterError, match="not running"):
        cluster.ensure_database("x")
    assert cluster.up().running  # comes back for any later test


@pytest.mark.parametrize("precheck", [True, False], ids=["checked-before-start", "retried-after-failure"])
def test_taken_port_is_replaced(cluster, monkeypatch, precheck):
    old = cluster.up().port
    cluster.down()
    if not precheck:  # let the server itself hit "Address already in use" and retry
        monkeypatch.setattr(cluster_mod, "_port_is_free", lambda port: True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old port may be in TIME_WAIT
        squatter.bind(("127.0.0.1", old))
        squatter.listen()
        new = cluster.up().port
    assert new != old
    assert cluster.url("x").endswith(f":{new}/x")
    assert _query(cluster, "postgres", "SELECT 1")[0] == 1


def test_status_of_missing_cluster(scratch):
    st = LocalCluster(scratch).status()
    assert (st.initialised, st.running, st.port, st.pid, st.version) == (False, False, None, None, "")
    LocalCluster(scratch).down()  # nothing to stop, no error


def test_missing_binaries(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cluster_mod, "PG_LIB_ROOT", tmp_path / "no-postgresql")
    with pytest.raises(MissingDependencyError) as err:
        cluster_mod.find_pg_bindir()
    assert "PostgreSQL server binaries (initdb, pg_ctl) not found" in str(err.value)
    assert "sudo apt-get install postgresql-15-postgis-3" in str(err.value)


def test_missing_postgis(tmp_path):
    bindir = tmp_path / "lib" / "postgresql" / "15" / "bin"
    bindir.mkdir(parents=True)
    with pytest.raises(MissingDependencyError, match="postgresql-15-postgis-3"):
        cluster_mod.check_postgis(bindir)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to the postgres user")
def test_blocked_parent_folder(scratch):
    blocked = scratch / "private"
    blocked.mkdir(parents=True)
    os.chmod(blocked, 0o700)
    with pytest.raises(ClusterError) as err:
        LocalCluster(blocked / "pg").up()
    message = str(err.value)
    assert str(blocked) in message and "GRIDSVC_PG_DIR" in message and "'postgres'" in message
    assert not (blocked / "pg").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs the postgres user")
def test_missing_postgres_user(monkeypatch, scratch):
    monkeypatch.setattr(cluster_mod, "POSTGRES_USER", "gridsvc-no-such-user")
    with pytest.raises(ClusterError, match="no 'gridsvc-no-such-user' system user"):
        LocalCluster(scratch).up()


def test_long_socket_path_falls_back_to_tcp():
    assert socket_directory(Path("/srv/pg/run")) == "/srv/pg/run"
    assert socket_directory(Path("/srv/" + "x" * 100 + "/run")) == ""
