"""Writers killed half-way (SIGKILL) leave nothing partial: an ingest and a zone build are one transaction each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from support import NANJING, shared_file, table_counts

from gridsvc.city.grid import build_grid
from gridsvc.city.ingest import ingest
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine
from gridsvc.settings import REPO_ROOT
from gridsvc.zones.build import build_zones

GRIDSVC = Path(sys.executable).with_name("gridsvc")  # the console script of this venv
# Where each job is killed: at its first write as it happens (None), or held at a later table (its earlier
# tables written in the same transaction) by a lock the test holds, with the statement it then waits in.
INGEST_KILLS = {None: r"^\s*(COPY _incoming|INSERT INTO (streets|buildings|compounds|markets|units|admin_units))",
                "units": r"^\s*INSERT INTO units"}
ZONE_KILLS = {None: r"(COPY _new_zones|INSERT INTO zones|UPDATE zones|INSERT INTO zone_builds)",
              "zones": r"UPDATE zones z SET valid_to"}  # close_changed_zones.sql (after a comment line)

WRITER = """
SELECT pid, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
  AND state = 'active' AND query ~* :pattern AND (NOT :waiting OR wait_event_type = 'Lock')
"""


@contextmanager
def _held(engine, table: str | None) -> Iterator[None]:
    """Hold table in SHARE ROW EXCLUSIVE mode: others still read it, but their writes to it wait."""
    if table is None:
        yield
        return
    with engine.connect() as c:
        c.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        yield
        c.rollback()


@pytest.fixture
def city(new_database):
    """A database of its own, migrated and empty; yields (url, engine)."""
    url = new_database("killed")
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()


def _start(url: str, log: Path, *args: str) -> subprocess.Popen:
    """`gridsvc ARGS` on the database at url, output to log."""
    env = {**os.environ, "GRIDSVC_DATABASE_URL": url}
    with log.open("wb") as fh:
        return subprocess.Popen([str(GRIDSVC), *args], env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO_ROOT)


def _kill_when_writing(engine, proc: subprocess.Popen, pattern: str, waiting: bool, log: Path,
                       timeout: float = 180) -> tuple[int, str]:
    """SIGKILL proc once its backend runs (or waits in) a writing statement in an open transaction; returns that
    backend's pid and statement."""
    deadline = time.monotonic() + timeout
    with engine.connect() as c:
        while (row := c.execute(text(WRITER), {"pattern": pattern, "waiting": waiting}).first()) is None:
            if proc.poll() is not None:
                pytest.fail(f"the job ended (exit {proc.returncode}) before it was seen writing:\n{log.read_text()}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the job was not seen writing within {timeout:.0f}s")
            c.rollback()
            time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    return row[0], row[1]


def _wait_gone(engine, pid: int, timeout: float = 30) -> None:
    """Wait until the killed job's backend has noticed and ended (its transaction rolled back)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as c:
        while c.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
            assert time.monotonic() < deadline, f"the killed job's backend is still there after {timeout:.0f}s"
            c.rollback()
            time.sleep(0.05)


def _run(url: str, log: Path, *args: str) -> str:
    """`gridsvc ARGS` to completion; its output."""
    proc = _start(url, log, *args)
    assert proc.wait(600) == 0, log.read_text()
    return log.read_text()


def _tables(snapshot, engine) -> dict:
    return snapshot(engine, sequences=False)


@pytest.mark.parametrize("hold", list(INGEST_KILLS), ids=["first-write", "at-units"])
def test_ingest_killed_mid_write_leaves_nothing(city, db_snapshot, tmp_path, hold):
    url, engine = city
    pbf = shared_file(NANJING)
    before = _tables(db_snapshot, engine)
    with _held(engine, hold):
        proc = _start(url, tmp_path / "ingest.log", "ingest", str(pbf))
        pid, statement = _kill_when_writing(engine, proc, INGEST_KILLS[hold], hold is not None,
                                            tmp_path / "ingest.log")
    _wait_gone(engine, pid)
    print(f"\ningest killed in: {statement}")
    assert _tables(db_snapshot, engine) == before
    assert not any(table_counts(engine).values())
    out = _run(url, tmp_path / "rerun.log", "ingest", str(pbf))
    assert "units" in out
    counts = table_counts(engine)
    assert counts["streets"] > 0 and counts["units"] > 0 and counts["imports"] == 1


@pytest.mark.parametrize("hold", list(ZONE_KILLS), ids=["first-write", "at-zones"])
def test_zone_build_killed_mid_write_keeps_previous_versions(city, db_snapshot, tmp_path, hold):
    url, engine = city
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    build_zones(engine, "三包")
    before = _tables(db_snapshot, engine)
    with _held(engine, hold):
        proc = _start(url, tmp_path / "zones.log", "build", "zones", "--policy", "五包")
        pid, statement = _kill_when_writing(engine, proc, ZONE_KILLS[hold], hold is not None, tmp_path / "zones.log")
    _wait_gone(engine, pid)
    print(f"\nzone build killed in: {statement}")
    assert _tables(db_snapshot, engine) == before
    with engine.connect() as c:
        assert c.execute(text("SELECT DISTINCT policy FROM zones WHERE valid_to IS NULL")).scalars().all() == ["三包"]
    _run(url, tmp_path / "rerun.log", "build", "zones", "--policy", "五包")
    with engine.connect() as c:
        assert c.execute(text("SELECT DISTINCT policy FROM zones WHERE valid_to IS NULL")).scalars().all() == ["五包"]
        assert c.execute(text("SELECT count(*) FROM zone_builds")).scalar() == before["zone_builds"][0] + 1
