"""The local PostGIS cluster gridsvc runs itself when GRIDSVC_DATABASE_URL is not set."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import grp
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from ..errors import ClusterError, InputError, MissingDependencyError
from ..settings import Settings

log = logging.getLogger(__name__)

PG_LIB_ROOT = Path("/usr/lib/postgresql")  # Debian/Ubuntu layout: <root>/<major>/bin
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
POSTGRES_USER = "postgres"  # the account the server runs as when gridsvc runs as root
SUPERUSER = "gridsvc"
HOST = "127.0.0.1"
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes including the trailing NUL
START_TIMEOUT = 60
ORPHAN_WAIT = 15.0
PORT_ATTEMPTS = 3
INSTALL_HINT = "sudo apt-get install postgresql-15-postgis-3 (or run `make setup`)"

SERVER_SETTINGS = {  # modest settings for a 2-core, 24 GiB machine
    "shared_buffers": "256MB",
    "effective_cache_size": "4GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "1GB",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "1",
    "random_page_cost": "1.1",
    # streaming replication for `gridsvc db replica add` (pg/replica.py); a standby reads the same file. A slot keeps
    # the WAL a stopped standby still needs, but never more than max_slot_wal_keep_size.
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "max_slot_wal_keep_size": "1GB",
    "hot_standby": "on",
    "hot_standby_feedback": "on",  # on a standby: long reads are not cancelled by the primary's vacuum
    "logging_collector": "off",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}


@dataclass(frozen=True)
class ClusterStatus:
    """A snapshot of the cluster: folder, whether initialised and running, port, postmaster pid, major version."""

    path: Path
    initialised: bool
    running: bool
    port: int | None
    pid: int | None
    version: str


def _version_key(bindir: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<major>/bin: the numbers in <major>."""
    return tuple(int(n) for n in re.findall(r"\d+", bindir.parent.name))


def _pg_config(pg_config: Path | str, flag: str) -> Path | None:
    """A folder reported by `pg_config <flag>`, or None if pg_config fails."""
    try:
        out = subprocess.run([str(pg_config), flag], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.stdout.strip() else None


def _has_server_tools(folder: Path) -> bool:
    """True if initdb, pg_ctl and postgres are all executables in folder."""
    return all(os.access(folder / tool, os.X_OK) and (folder / tool).is_file() for tool in SERVER_TOOLS)


def find_pg_bindir(major: str | None = None) -> Path:
    """Folder with initdb/pg_ctl/postgres: <major> if given, then pg_config --bindir, newest Debian dir, PATH."""
    candidates: list[Path] = []
    if major:
        candidates.append(PG_LIB_ROOT / major / "bin")
    pg_config = shutil.which("pg_config")
    if pg_config and (bindir := _pg_config(pg_config, "--bindir")):
        candidates.append(bindir)
    candidates += sorted(PG_LIB_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if _has_server_tools(folder):
            return folder
    raise MissingDependencyError(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found. Install them with: {INSTALL_HINT}",
        searched=[str(c) for c in candidates] or [str(PG_LIB_ROOT), "PATH"],
    )


def tool_major(tool: Path) -> int | None:
    """Major version printed by `<tool> --version` (e.g. 15), or None."""
    try:
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def pg_major(bindir: Path) -> str:
    """Major version of the binaries in bindir (e.g. '15') from `pg_ctl --version`, else from the folder name."""
    if (major := tool_major(bindir / "pg_ctl")) is not None:
        return str(major)
    return bindir.parent.name if bindir.parent.name.isdigit() else ""


def check_postgis(bindir: Path) -> Path:
    """Path of postgis.control for the server in bindir; MissingDependencyError if PostGIS is not installed."""
    sharedirs: list[Path] = []
    pg_config = bindir / "pg_config" if (bindir / "pg_config").exists() else shutil.which("pg_config")
    if pg_config and _pg_config(pg_config, "--bindir") == bindir and (sharedir := _pg_config(pg_config, "--sharedir")):
        sharedirs.append(sharedir)
    prefix = bindir.parent
    sharedirs += [prefix.parent.parent / "share" / "postgresql" / prefix.name,  # Debian: /usr/share/postgresql/15
                  prefix / "share" / "postgresql", prefix / "share"]
    for sharedir in sharedirs:
        control = sharedir / "extension" / "postgis.control"
        if control.is_file():
            return control
    major = pg_major(bindir) or "15"
    raise MissingDependencyError(
        f"PostGIS is not installed for the PostgreSQL {major} server in {bindir} "
        f"(no postgis.control in {', '.join(str(s / 'extension') for s in sharedirs)}). "
        f"Install it with: sudo apt-get install postgresql-{major}-postgis-3 (or run `make setup`)",
    )


def socket_directory(run_dir: Path) -> str:
    """Value for unix_socket_directories: run_dir, or '' (TCP only) if its socket path would be too long."""
    longest = run_dir / ".s.PGSQL.65535"
    return str(run_dir) if len(os.fsencode(longest)) <= SOCKET_PATH_MAX else ""


def _conf_quote(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """True if port can be bound on 127.0.0.1 (as PostgreSQL does, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def _process_cwd(pid: int) -> Path | None:
    """Working folder of a live (non-zombie) process, or None if gone or not ours to inspect."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _is_postmaster(pid: int, data_dir: Path) -> bool:
    """True if pid is a live (not zombie) postgres whose working folder is data_dir."""
    if not Path("/proc/self").exists():  # not Linux: the best we can do is "does the pid exist"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except (OSError, IndexError):
        return False
    if state in ("Z", "X") or Path(argv0).name not in ("postgres", "postmaster"):
        return False
    return _process_cwd(pid) == data_dir


def _server_processes(data_dir: Path) -> list[int]:
    """Pids of live processes working in data_dir (a killed postmaster's orphaned children)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        if _process_cwd(int(entry.name)) == data_dir:
            pids.append(int(entry.name))
    return sorted(pids)


@functools.cache
def _pick_locale() -> str:
    """C.UTF-8 if the system has it, else C (used with --encoding=UTF8 either way)."""
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "C"
    names = {line.strip().lower().replace("-", "") for line in out.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


class LocalCluster:
    """A PostgreSQL + PostGIS cluster in one folder: data/, run/, log/, password and port files."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser().resolve()
        self.data_dir = self.path / "data"
        self.run_dir = self.path / "run"
        self.log_dir = self.path / "log"
        self.log_file = self.log_dir / "postgresql.log"
        self.password_file = self.path / "password"
        self.port_file = self.path / "port"
        self.conf_file = self.data_dir / "gridsvc.conf"

    def __repr__(self) -> str:
        return f"LocalCluster({str(self.path)!r})"

    # ---- inspection -------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        """Current state, read from the folder and /proc (never starts anything)."""
        self._check_readable()
        version_file = self.data_dir / "PG_VERSION"
        initialised = version_file.is_file()
        version = version_file.read_text().strip() if initialised else ""
        pid = self._pidfile_pid()
        running = pid is not None and _is_postmaster(pid, self.data_dir)
        return ClusterStatus(self.path, initialised, running, self._saved_port(), pid if running else None, version)

    def password(self) -> str:
        """The gridsvc superuser's password, from <path>/password."""
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise ClusterError(
                f"The local cluster has no password file {self.password_file}. It was not created by gridsvc or "
                f"the file was deleted; remove {self.path} to start afresh, or set GRIDSVC_PG_DIR to another folder."
            ) from None
        except PermissionError:
            raise ClusterError(
                f"Cannot read {self.password_file}: it belongs to another user. Run gridsvc as the user that "
                f"created the cluster, or set GRIDSVC_PG_DIR to a folder of your own."
            ) from None

    def url(self, db_name: str) -> str:
        """SQLAlchemy URL of db_name in this cluster (postgresql+psycopg over TCP 127.0.0.1)."""
        port = self._saved_port()
        if port is None:
            raise ClusterError(f"The local cluster in {self.path} has never been started; call up() first.")
        password = quote(self.password(), safe="")
        return f"postgresql+psycopg://{SUPERUSER}:{password}@{HOST}:{port}/{quote(db_name, safe='')}"

    # ---- lifecycle --------------------------------------------------------------------------

    def up(self) -> ClusterStatus:
        """Initialise (first time) and start the cluster unless it already runs; idempotent."""
        user = self._server_user()
        if user is not None:
            self._check_traversable(user)
        self._make_dirs(self.path)
        with self._lock():
            status = self.status()
            if status.running:
                return status
            bindir = find_pg_bindir(status.version or None)
            check_postgis(bindir)
            self._check_owner(user)
            for folder in (self.run_dir, self.log_dir):
                self._make_server_dir(folder, user, 0o750)
            if not status.initialised:
                self._initdb(bindir, user)
            self._clear_stale_pid()
            self._start(bindir, user)
            status = self.status()
        log.info("Local PostGIS cluster running in %s on port %s (pid %s)", self.path, status.port, status.pid)
        return status

    def down(self) -> None:
        """Stop the cluster (pg_ctl stop -m fast); does nothing if it is not running."""
        if not self.path.exists():
            return
        with self._lock():
            status = self.status()
            if not status.running:
                return
            bindir = find_pg_bindir(status.version or None)
            result = self._run([bindir / "pg_ctl", "-w", "-t", str(START_TIMEOUT), "-D", self.data_dir,
                                "-m", "fast", "stop"], self._server_user())
            if result.returncode != 0 and self.status().running:
                raise ClusterError(
                    f"Could not stop the local cluster in {self.path}: {result.stderr.strip() or result.stdout.strip()}"
                    f". See {self.log_file}."
                )

    # ---- databases --------------------------------------------------------------------------

    def ensure_database(self, name: str) -> None:
        """Create database `name` if missing and enable PostGIS in it."""
        _check_db_name(name)
        with self._connect("postgres") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created meanwhile by another process
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    log.info("Created database %s in %s", name, self.path)
        with self._connect(name) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.errors.UniqueViolation:  # another process created it at the same moment
                pass
            except psycopg.Error as err:
                raise ClusterError(
                    f"Cannot enable PostGIS in database {name!r}: {err}. Install it with: {INSTALL_HINT}"
                ) from err

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting its sessions (WITH (FORCE))."""
        _check_db_name(name)
        if name in ("postgres", "template0", "template1"):
            raise InputError(f"refusing to drop the system database {name!r}", source="drop_database")
        with self._connect("postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextlib.contextmanager
    def _connect(self, dbname: str) -> Iterator[psycopg.Connection]:
        """An autocommit psycopg connection to dbname as the gridsvc superuser."""
        status = self.status()
        port = status.port if status.running else None
        if port is None:
            raise ClusterError(f"The local cluster in {self.path} is not running; call up() first.")
        try:
            conn = psycopg.connect(host=HOST, port=port, user=SUPERUSER, password=self.password(), dbname=dbname,
                                   autocommit=True, connect_timeout=10, sslmode="disable")
        except psycopg.OperationalError as err:
            raise ClusterError(f"Cannot connect to the local cluster on {HOST}:{port}: {err}. "
                               f"See {self.log_file}.") from err
        with conn:
            yield conn

    # ---- privileges and folders -------------------------------------------------------------

    @staticmethod
    def _server_user() -> pwd.struct_passwd | None:
        """The account the server runs as: `postgres` when we are root, else None (ourselves)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise ClusterError(
                f"gridsvc runs as root, but there is no '{POSTGRES_USER}' system user to run PostgreSQL as "
                f"(PostgreSQL refuses to run as root). Install the server package, which creates it "
                f"({INSTALL_HINT}), create it with `sudo adduser --system --group {POSTGRES_USER}`, "
                f"or run gridsvc as a normal user."
            ) from None

    def _check_traversable(self, user: pwd.struct_passwd) -> None:
        """Raise ClusterError naming the first existing folder above the cluster that `user` cannot enter."""
        groups = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem}
        for folder in reversed([self.path, *self.path.parents]):
            try:
                st = folder.stat()
            except FileNotFoundError:
                return  # the rest will be created by us with mode 0755
            if st.st_uid == user.pw_uid:
                allowed = st.st_mode & stat.S_IXUSR
            elif st.st_gid in groups:
                allowed = st.st_mode & stat.S_IXGRP
            else:
                allowed = st.st_mode & stat.S_IXOTH
            if not allowed:
                owner = _user_name(st.st_uid)
                raise ClusterError(
                    f"gridsvc runs as root, so the PostgreSQL server runs as the '{user.pw_name}' user, but "
                    f"'{user.pw_name}' cannot enter {folder} (owner {owner}, mode {stat.filemode(st.st_mode)}), "
                    f"which holds the cluster folder {self.path}. Set GRIDSVC_PG_DIR to a folder outside it "
                    f"(e.g. /var/lib/gridsvc/pg or a folder in the project), or allow entry with `chmod o+x {folder}`.",
                    blocked=str(folder),
                )

    def _check_readable(self) -> None:
        """Raise ClusterError if the data folder belongs to a user we cannot act for."""
        if self.data_dir.exists() and not os.access(self.data_dir, os.R_OK | os.X_OK):
            owner = _user_name(self.data_dir.stat().st_uid)
            creator = "root (which runs the server as 'postgres')" if owner == POSTGRES_USER else f"'{owner}'"
            raise ClusterError(
                f"Cannot read the local cluster {self.data_dir}: it belongs to '{owner}'. Run gridsvc as "
                f"{creator}, or set GRIDSVC_PG_DIR to a folder of your own."
            )

    def _check_owner(self, user: pwd.struct_passwd | None) -> None:
        """As root, raise ClusterError if an existing data folder is not owned by the server user."""
        if user is None or not self.data_dir.exists():
            return
        owner = self.data_dir.stat().st_uid
        if owner != user.pw_uid:
            raise ClusterError(
                f"The cluster data folder {self.data_dir} belongs to '{_user_name(owner)}', but as root gridsvc runs "
                f"the server as '{user.pw_name}'. Run gridsvc as '{_user_name(owner)}', hand the folder over with "
                f"`chown -R {user.pw_name}: {self.data_dir}`, or set GRIDSVC_PG_DIR to a new folder."
            )

    @staticmethod
    def _make_dirs(folder: Path) -> None:
        """Create folder and missing parents with mode 0755 (umask ignored, so `postgres` can pass through)."""
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):
                path.mkdir()
                os.chmod(path, 0o755)

    @staticmethod
    def _make_server_dir(folder: Path, user: pwd.struct_passwd | None, mode: int) -> None:
        """Create folder (if missing) owned by the server user."""
        folder.mkdir(exist_ok=True)
        os.chmod(folder, mode)
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)

    @staticmethod
    def _write_server_file(path: Path, text: str, user: pwd.struct_passwd | None) -> None:
        """Write a 0600 file readable by the server user."""
        path.write_text(text)
        os.chmod(path, 0o600)
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise up()/down() across processes with an flock on <path>/.lock."""
        self._check_readable()
        try:
            fh = open(self.path / ".lock", "a")
        except PermissionError:
            raise ClusterError(
                f"Cannot write to the local cluster folder {self.path}: it belongs to "
                f"'{_user_name(self.path.stat().st_uid)}'. Run gridsvc as that user, or set GRIDSVC_PG_DIR to a "
                f"folder of your own."
            ) from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _run(self, args: list, user: pwd.struct_passwd | None, timeout: float = START_TIMEOUT + 30,
             env: dict[str, str] | None = None):
        """Run a PostgreSQL program, as `user` via runuser/setpriv when given (with env added to its environment)."""
        cmd = [str(a) for a in args]
        if user is not None:
            if runuser := shutil.which("runuser"):
                cmd = [runuser, "-u", user.pw_name, "--", *cmd]
            elif setpriv := shutil.which("setpriv"):
                cmd = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--", *cmd]
            else:
                raise MissingDependencyError(
                    "Neither runuser nor setpriv found to run PostgreSQL as the postgres user. "
                    "Install them with: sudo apt-get install util-linux"
                )
        locale = _pick_locale()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        environment.update(LC_ALL=locale, LANG=locale, **(env or {}))
        try:
            return subprocess.run(cmd, cwd=self.path, env=environment, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise ClusterError(f"{Path(str(args[0])).name} did not finish within {timeout:.0f}s for the cluster "
                               f"in {self.path}; see {self.log_file}.") from err

    # ---- initdb and start -------------------------------------------------------------------

    def _initdb(self, bindir: Path, user: pwd.struct_passwd | None) -> None:
        """Create the data folder with a gridsvc superuser and a random password."""
        password = secrets.token_urlsafe(24)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        os.chmod(self.password_file, 0o600)  # stays owned by the invoking user
        self._make_server_dir(self.data_dir, user, 0o700)
        pwfile = self.path / ".initdb-password"
        self._write_server_file(pwfile, password + "\n", user)
        locale = _pick_locale()
        try:
            result = self._run([bindir / "initdb", "-D", self.data_dir, "-U", SUPERUSER, f"--pwfile={pwfile}",
                                "--encoding=UTF8", f"--locale={locale}", "--auth-local=scram-sha-256",
                                "--auth-host=scram-sha-256"], user)
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ClusterError(f"initdb failed for {self.data_dir}: {result.stderr.strip() or result.stdout.strip()}")
        with open(self.data_dir / "postgresql.conf", "a") as fh:
            fh.write("\n# gridsvc settings (rewritten at every start)\ninclude_if_exists = 'gridsvc.conf'\n")
        log.info("Initialised a PostgreSQL %s cluster in %s (locale %s)", pg_major(bindir), self.data_dir, locale)

    def _configure(self, port: int, user: pwd.struct_passwd | None) -> None:
        """Write data/gridsvc.conf (port, sockets, memory, logging) and the <path>/port file."""
        settings = {"listen_addresses": _conf_quote(HOST), "port": str(port),
                    "unix_socket_directories": _conf_quote(socket_directory(self.run_dir)), **SERVER_SETTINGS}
        settings.update(self._extra_settings())
        text = "# Written by gridsvc at every start; edit gridsvc/pg/cluster.py instead.\n"
        text += "".join(f"{key} = {value}\n" for key, value in settings.items())
        self._write_server_file(self.conf_file, text, user)
        self._allow_local_replication()
        self.port_file.write_text(f"{port}\n")

    def _extra_settings(self) -> dict[str, str]:
        """Settings of this kind of cluster on top of the common ones (a standby's: pg/replica.py)."""
        return {}

    def _allow_local_replication(self) -> None:
        """Let the gridsvc superuser stream WAL over 127.0.0.1 (initdb writes this line; put it back if gone)."""
        hba = self.data_dir / "pg_hba.conf"
        text = hba.read_text()
        if not re.search(rf"^host\s+replication\s+(all|{SUPERUSER})\s+{re.escape(HOST)}/32\s", text, re.MULTILINE):
            with open(hba, "a") as fh:  # appending keeps the file's owner (the server user)
                fh.write(f"host    replication     {SUPERUSER}         {HOST}/32            scram-sha-256\n")

    def _saved_port(self) -> int | None:
        """The port from <path>/port, else from data/gridsvc.conf, else None."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.port_file.read_text().strip())
        with contextlib.suppress(OSError):
            if match := re.search(r"^port = (\d+)$", self.conf_file.read_text(), re.MULTILINE):
                return int(match.group(1))
        return None

    def _pidfile_pid(self) -> int | None:
        """The pid on the first line of data/postmaster.pid, or None."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first)
        except (OSError, ValueError):
            return None

    def _clear_stale_pid(self) -> None:
        """Remove postmaster.pid and socket lock files left by a crashed server (after its children exit)."""
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        deadline = time.monotonic() + ORPHAN_WAIT
        while orphans := _server_processes(self.data_dir):
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"The local cluster in {self.path} crashed but its processes {orphans} still run; "
                    f"stop them with `kill {' '.join(map(str, orphans))}` and try again."
                )
            time.sleep(0.2)
        log.warning("Removing stale %s (server process %s is gone)", pidfile, self._pidfile_pid())
        pidfile.unlink(missing_ok=True)
        for leftover in self.run_dir.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    def _start(self, bindir: Path, user: pwd.struct_passwd | None) -> None:
        """pg_ctl start, choosing a new free port if the saved one is taken."""
        port = self._saved_port()
        for _attempt in range(PORT_ATTEMPTS):
            if port is None or not _port_is_free(port):
                if port is not None:
                    log.warning("Port %s of the local cluster is taken; choosing another", port)
                port = _free_port()
            self._configure(port, user)
            offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            result = self._run([bindir / "pg_ctl", "-w", "-t", str(START_TIMEOUT), "-D", self.data_dir,
                                "-l", self.log_file, "start"], user)
            if result.returncode == 0:
                return
            new_log = self._log_since(offset)
            if "Address already in use" not in new_log:
                raise ClusterError(
                    f"Could not start the local cluster in {self.path}: "
                    f"{result.stderr.strip() or result.stdout.strip()}\nLast lines of {self.log_file}:\n"
                    + "\n".join(new_log.splitlines()[-15:])
                )
            log.warning("Port %s was taken while the local cluster started; retrying on another", port)
            port = None
        raise ClusterError(f"Could not find a free port for the local cluster in {self.path} after "
                           f"{PORT_ATTEMPTS} attempts; see {self.log_file}.")

    def _log_since(self, offset: int) -> str:
        """Server log text written after byte offset."""
        try:
            with open(self.log_file, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""


def _user_name(uid: int) -> str:
    """User name for uid, or the number if unknown."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _check_db_name(name: str) -> None:
    """Raise InputError unless name is a usable database name (1-63 bytes)."""
    if not name or len(name.encode()) > 63:
        raise InputError(f"database name {name!r} must be 1 to 63 bytes long", source="GRIDSVC_DB_NAME")


def database_url(settings: Settings) -> str:
    """The configured GRIDSVC_DATABASE_URL, else the local cluster's URL (started and prepared on demand)."""
    if settings.database_url:
        return settings.database_url
    cluster = LocalCluster(settings.cluster_dir)
    cluster.up()
    cluster.ensure_database(settings.db_name)
    return cluster.url(settings.db_name)
