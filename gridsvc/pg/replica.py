"""Local hot standbys of the local cluster (`gridsvc db replica …`), for trying read replicas and for the tests.

A standby is a folder <cluster>/replicas/<name> laid out like the cluster itself (data/, run/, log/, password,
port): `pg_basebackup -R` copies the primary through a replication slot of its own, and the standby streams from
the primary on 127.0.0.1 from then on. Its URL goes into GRIDSVC_READ_URLS (docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterError, InputError, NotFoundError
from .cluster import HOST, SUPERUSER, LocalCluster, _conf_quote, _free_port, _port_is_free, find_pg_bindir

NAME = re.compile(r"^replica-(\d+)$")
# what pg_basebackup -R writes to postgresql.auto.conf: gridsvc.conf gives them instead, renewed at every start
# (the primary's port may change)
RECOVERY_KEYS = re.compile(r"^\s*(primary_conninfo|primary_slot_name)\s*=.*\n?", re.MULTILINE)


class Standby(LocalCluster):
    """A hot standby of a LocalCluster, in <primary>/replicas/<name>."""

    def __init__(self, primary: LocalCluster, name: str):
        if not NAME.match(name):
            raise InputError(f"a replica's name is replica-<number>, like replica-1, not {name!r}", where="name")
        super().__init__(primary.path / "replicas" / name)
        self.primary, self.name = primary, name

    @property
    def slot(self) -> str:
        """The primary's replication slot for this standby."""
        return "gridsvc_" + self.name.replace("-", "_")

    def _extra_settings(self) -> dict[str, str]:
        port = self.primary._saved_port()
        conninfo = (f"host={HOST} port={port} user={SUPERUSER} password={self.primary.password()} "
                    f"application_name={self.name} connect_timeout=5")
        return {"primary_conninfo": _conf_quote(conninfo), "primary_slot_name": _conf_quote(self.slot)}


@dataclass(frozen=True)
class StandbyInfo:
    """A local standby: name, folder, port, whether it runs, and the primary's view of its replication."""

    name: str
    path: Path
    port: int | None
    running: bool
    state: str  # pg_stat_replication.state (streaming, catchup, …) or "-" when not connected
    replay_lag_ms: float | None
    behind_bytes: int | None


def standbys(primary: LocalCluster) -> list[Standby]:
    """The primary's local standbys, by number."""
    folder = primary.path / "replicas"
    names = [p.name for p in folder.iterdir() if NAME.match(p.name)] if folder.is_dir() else []
    return [Standby(primary, n) for n in sorted(names, key=lambda n: int(NAME.match(n).group(1)))]


def standby(primary: LocalCluster, name: str) -> Standby:
    """The local standby called name; NotFoundError if there is none."""
    found = Standby(primary, name)
    if not found.path.is_dir():
        known = ", ".join(s.name for s in standbys(primary)) or "none yet: `gridsvc db replica add`"
        raise NotFoundError(f"no local replica {name!r} (replicas: {known})")
    return found


def add(primary: LocalCluster, port: int | None = None) -> Standby:
    """Copy the running primary into a new standby with pg_basebackup -R (through a new replication slot), start it
    on port (default: a free one) and return it."""
    if port is not None and not _port_is_free(port):
        raise InputError(f"port {port} on {HOST} is in use; choose another or leave --port out", where="--port")
    primary.up()
    taken = [int(NAME.match(s.name).group(1)) for s in standbys(primary)]
    new = Standby(primary, f"replica-{max(taken, default=0) + 1}")
    user = new._server_user()
    new._make_dirs(new.path.parent)
    new._make_dirs(new.path)
    try:
        new._make_server_dir(new.data_dir, user, 0o700)
        _drop_slot(primary, new.slot)  # a slot left by a replica removed by hand
        bindir = find_pg_bindir(primary.status().version or None)
        result = new._run([bindir / "pg_basebackup", "-D", new.data_dir, "-R", "-X", "stream", "-C", "-S", new.slot,
                           "-c", "fast", "-h", HOST, "-p", str(primary.status().port), "-U", SUPERUSER, "-w"],
                          user, env={"PGPASSWORD": primary.password()})
        if result.returncode != 0:
            raise ClusterError(f"pg_basebackup could not copy the local cluster in {primary.path}: "
                               f"{result.stderr.strip() or result.stdout.strip()}")
        auto = new.data_dir / "postgresql.auto.conf"
        auto.write_text(RECOVERY_KEYS.sub("", auto.read_text()))  # written in place: the owner stays
        shutil.copy2(primary.password_file, new.password_file)
        new.port_file.write_text(f"{port or _free_port()}\n")  # not the primary's, read from the copied gridsvc.conf
        new.up()
    except BaseException:
        remove(primary, new.name)
        raise
    return new


def remove(primary: LocalCluster, name: str) -> None:
    """Stop a standby, drop its slot on the primary (the WAL kept for it is freed) and delete its folder."""
    gone = Standby(primary, name)
    if gone.path.is_dir():
        gone.down()
    if primary.status().running:
        _drop_slot(primary, gone.slot)
    shutil.rmtree(gone.path, ignore_errors=True)


def _drop_slot(primary: LocalCluster, slot: str) -> None:
    with primary._connect("postgres") as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                     (slot,))


def info(primary: LocalCluster) -> list[StandbyInfo]:
    """Every local standby with the primary's view of it (pg_stat_replication) when the primary runs."""
    seen: dict[str, tuple] = {}
    if primary.status().running:
        with primary._connect("postgres") as conn:
            for row in conn.execute(
                    "SELECT application_name, state, extract(epoch FROM replay_lag) * 1000, "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"):
                seen[row[0]] = row[1:]
    out = []
    for s in standbys(primary):
        st = s.status()
        state, lag, behind = seen.get(s.name, ("-", None, None))
        out.append(StandbyInfo(s.name, s.path, st.port, st.running, state,
                               None if lag is None else float(lag), None if behind is None else int(behind)))
    return out


def stop_all(primary: LocalCluster) -> None:
    """Stop every local standby (fine if none runs)."""
    for s in standbys(primary):
        with contextlib.suppress(ClusterError):
            s.down()
