"""`gridsvc db dump` / `db restore`: pg_dump custom-format backups of the configured database."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url, text

from ..db import migrate
from ..db.engine import make_engine
from ..errors import (
    BackupError,
    ConflictError,
    DatabaseUnavailableError,
    InputError,
    MissingDependencyError,
    UnreadableFileError,
)
from .cluster import PG_LIB_ROOT, tool_major

CLIENT_TOOLS = ("pg_dump", "pg_restore", "psql")
MAGIC = b"PGDMP"  # the first bytes of every custom-format archive
CONNECT_TIMEOUT = 10
LOCK_TIMEOUT = "30s"  # a restore waits this long for running transactions on the tables it replaces
DUMP_GLOB = "gridsvc-{db}-*.dump"
SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ SCHEMA - (\S+) ")
EXTENSION_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - EXTENSION ")  # only the extension's owner may set it
BLOB_ENTRY = re.compile(r"^\d+; \d+ \d+ (BLOB|BLOBS|LARGE OBJECT) ")
TABLE_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")
DATA_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ")

# Tables, views, sequences, routines and types of the public schema that no extension owns (PostGIS's stay).
USER_OBJECTS = """
WITH ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT format('DROP %s IF EXISTS %s CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
              WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass)
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND (c.tableoid, c.oid) NOT IN (SELECT * FROM ext)
UNION ALL
SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE'
              ELSE 'FUNCTION' END, p.oid::regprocedure)
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND (p.tableoid, p.oid) NOT IN (SELECT * FROM ext)
UNION ALL
SELECT format('DROP %s IF EXISTS %s CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype)
FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND (t.tableoid, t.oid) NOT IN (SELECT * FROM ext)
  AND (t.typtype IN ('e', 'd', 'r')
       OR t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
"""

USER_TABLES = """
SELECT c.oid::regclass::text FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = c.tableoid AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


@dataclass(frozen=True)
class Target:
    """Where pg_dump/pg_restore connect: a libpq conninfo without the password, which goes in PGPASSWORD."""

    conninfo: str
    password: str | None
    dbname: str
    label: str

    def env(self) -> dict[str, str]:
        """Environment for the client programs: the password, a connect timeout, never a prompt."""
        env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        if self.password:
            env["PGPASSWORD"] = self.password
        env["PGCONNECT_TIMEOUT"] = str(CONNECT_TIMEOUT)
        return env

    def connect(self) -> psycopg.Connection:
        """An autocommit psycopg connection; DatabaseUnavailableError if the server does not answer."""
        try:
            return psycopg.connect(self.conninfo, password=self.password, autocommit=True,
                                   connect_timeout=CONNECT_TIMEOUT)
        except psycopg.OperationalError as err:
            raise DatabaseUnavailableError(f"cannot connect to {self.label}: {str(err).strip()}") from err


@dataclass
class DumpResult:
    """A finished dump: the file, its size, how long it took, the schema revision inside, files pruned."""

    path: Path
    size: int
    seconds: float
    revision: str
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    """A finished restore: the revision restored, the one it was upgraded from (if any), rows per table."""

    revision: str
    upgraded_from: str | None
    seconds: float
    rows: dict[str, int]


def target(url: str) -> Target:
    """The libpq connection of a SQLAlchemy postgresql URL."""
    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise InputError(f"backups need a PostgreSQL database, not {u.drivername}", source="GRIDSVC_DATABASE_URL")
    if not u.database:
        raise InputError("the database URL names no database", source="GRIDSVC_DATABASE_URL")
    params = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in u.query.items()}
    params.update({k: v for k, v in (("host", u.host), ("port", u.port), ("user", u.username),
                                     ("dbname", u.database)) if v is not None})
    label = f"database {u.database!r} on {u.host or 'the local socket'}{f':{u.port}' if u.port else ''}"
    return Target(make_conninfo(**params), u.password, u.database, label)


def client_bindir(server_major: int) -> Path:
    """Folder with pg_dump, pg_restore and psql of the server's major version, else the oldest newer one."""
    candidates = sorted((p for p in PG_LIB_ROOT.glob("*/bin") if p.parent.name.isdigit()),
                        key=lambda p: (int(p.parent.name) != server_major, int(p.parent.name)))
    if found := shutil.which("pg_dump"):
        candidates.append(Path(found).resolve().parent)
    for folder in candidates:
        if all(os.access(folder / t, os.X_OK) for t in CLIENT_TOOLS):
            major = tool_major(folder / "pg_dump")
            if major is not None and major >= server_major:
                return folder
    raise MissingDependencyError(
        f"pg_dump, pg_restore and psql of PostgreSQL {server_major} or newer not found. Install them with: "
        f"sudo apt-get install postgresql-client-{server_major}",
        searched=[str(c) for c in candidates] or [str(PG_LIB_ROOT), "PATH"],
    )


def _server_bindir(t: Target) -> Path:
    """Client programs matching the server of t."""
    with t.connect() as conn:
        return client_bindir(conn.info.server_version // 10000)


def _run(args: list, t: Target, what: str, *, stdout=subprocess.PIPE, timeout: float | None = None,
         ) -> subprocess.CompletedProcess:
    """Run a client program (text output); BackupError with its message if it fails."""
    try:
        result = subprocess.run([str(a) for a in args], env=t.env(), stdout=stdout, stderr=subprocess.PIPE,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {timeout:.0f}s") from None
    if result.returncode != 0:
        err = result.stderr.decode(errors="replace").strip()
        raise BackupError(f"{what} failed: {err or f'exit code {result.returncode}'}")
    return result


def _text(result: subprocess.CompletedProcess) -> str:
    """A client program's stdout as text."""
    return result.stdout.decode(errors="replace")


# ---- reading an archive ---------------------------------------------------------------------------------


def check_archive(path: Path) -> Path:
    """The path of a readable pg_dump custom-format file, else UnreadableFileError saying why."""
    path = Path(path)
    if not path.exists():
        raise UnreadableFileError("file not found", source=str(path))
    if not path.is_file():
        raise UnreadableFileError("not a file", source=str(path))
    try:
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC))
    except OSError as err:
        raise UnreadableFileError(f"cannot read it: {err.strerror}", source=str(path)) from err
    if head != MAGIC:
        raise UnreadableFileError("not a pg_dump custom-format archive (make one with `gridsvc db dump FILE`)",
                                  source=str(path))
    return path


def read_toc(bindir: Path, path: Path, t: Target) -> list[str]:
    """The archive's table of contents (`pg_restore -l`), one entry a line."""
    try:
        out = _text(_run([bindir / "pg_restore", "-l", path], t, "reading the archive", timeout=120))
    except BackupError as err:
        raise UnreadableFileError(f"damaged or unsupported archive: {err.message}", source=str(path)) from None
    return [line for line in out.splitlines() if line and not line.startswith(";")]


def archive_revision(bindir: Path, path: Path, t: Target) -> str:
    """The Alembic revision stored in the archive's alembic_version table."""
    out = _text(_run([bindir / "pg_restore", "-a", "-t", "alembic_version", "-f", "-", path], t,
                     f"reading {path}", timeout=120))
    match = re.search(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(\S+)\n", out, re.MULTILINE)
    if not match:
        raise InputError("the archive holds no gridsvc schema (no alembic_version row); is it a gridsvc dump?",
                         source=str(path))
    return match.group(1)


# ---- dump -----------------------------------------------------------------------------------------------


def _dump_path(dest: Path, dbname: str) -> tuple[Path, bool]:
    """The file to write, and whether dest is a folder (which then gets a timestamped name)."""
    if dest.is_dir():
        now = datetime.now(UTC)
        stamp = f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z"  # sorts in time order
        return dest / f"gridsvc-{dbname}-{stamp}.dump", True
    if not dest.parent.is_dir():
        raise InputError(f"folder {dest.parent} does not exist", source=str(dest))
    return dest, False


def prune(folder: Path, dbname: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` timestamped dumps of dbname in folder; returns the deleted files."""
    dumps = sorted(folder.glob(DUMP_GLOB.format(db=dbname)))
    old = dumps[:-keep]
    for p in old:
        p.unlink(missing_ok=True)
    return old


def dump(url: str, dest: Path, *, keep: int | None = None) -> DumpResult:
    """pg_dump -Fc of the database at url into dest (a file, or a folder for a timestamped file), atomically."""
    t = target(url)
    bindir = _server_bindir(t)
    path, in_folder = _dump_path(Path(dest), t.dbname)
    if keep is not None and not in_folder:
        raise InputError("--keep needs a folder to write timestamped dumps into", source=str(dest))
    if keep is not None and keep < 1:
        raise InputError(f"--keep must be at least 1, got {keep}", source=str(dest))
    start = time.monotonic()
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # dumps hold names and phone numbers
    try:
        with os.fdopen(fd, "wb") as fh:
            _run([bindir / "pg_dump", "-Fc", "--no-password", "-d", t.conninfo], t, f"pg_dump of {t.label}",
                 stdout=fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            revision = archive_revision(bindir, partial, t)  # also proves the file reads back
        except InputError:
            raise InputError(f"{t.label} holds no gridsvc schema (no alembic_version row); nothing was written",
                             source=str(path)) from None
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    pruned = prune(path.parent, t.dbname, keep) if keep is not None else []
    return DumpResult(path, path.stat().st_size, time.monotonic() - start, revision, pruned)


# ---- restore --------------------------------------------------------------------------------------------


def _check_known(revision: str, path: Path) -> None:
    """InputError if this gridsvc has no migration called revision (a dump from a newer gridsvc)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision not in known:
        raise InputError(f"the archive's schema revision {revision!r} is unknown to this gridsvc (head "
                         f"{migrate.head_revision()}); restore it with the gridsvc version that made it",
                         source=str(path))


def restorable(toc: list[str]) -> list[str]:
    """The entries to restore: all but the extensions' comments and the rows of extension tables (PostGIS's
    spatial_ref_sys: its owner is whoever created the extension, and gridsvc adds no reference systems)."""
    tables = {m.groups() for line in toc if (m := TABLE_ENTRY.match(line))}
    return [line for line in toc if not EXTENSION_COMMENT.match(line)
            and not ((m := DATA_ENTRY.match(line)) and m.groups() not in tables)]


def _tables_with_rows(conn: psycopg.Connection) -> list[str]:
    """User tables of the public schema that hold at least one row."""
    names = [r[0] for r in conn.execute(USER_TABLES)]
    return [n for n in names if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {n})").fetchone()[0]]


def _prelude(toc: list[str]) -> str:
    """SQL run before the archive, in the same transaction: drop every user object the archive recreates."""
    schemas = [m.group(1) for line in toc if (m := SCHEMA_ENTRY.match(line)) and m.group(1) != "public"]
    drops = "".join(f'DROP SCHEMA IF EXISTS "{s}" CASCADE;\n' for s in schemas)
    return (f"SET client_min_messages = warning;\nBEGIN;\nSET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n"
            f"DO $gridsvc$ DECLARE s text; BEGIN FOR s IN SELECT unnest(ARRAY({USER_OBJECTS})) LOOP EXECUTE s; "
            f"END LOOP; END $gridsvc$;\n{drops}")


def _load(bindir: Path, path: Path, t: Target, listing: Path, prelude: str, tmp: Path) -> None:
    """Stream `pg_restore -f -` into psql inside one transaction, committed only if pg_restore read it all."""
    with (tmp / "psql.err").open("w+b") as psql_err, (tmp / "pg_restore.err").open("w+b") as reader_err:
        _stream(bindir, path, t, listing, prelude, psql_err, reader_err)


def _stream(bindir: Path, path: Path, t: Target, listing: Path, prelude: str, psql_err, reader_err) -> None:
    """The body of _load, with the two programs' stderr going to open files."""
    psql = subprocess.Popen([str(bindir / "psql"), "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d", t.conninfo],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=t.env())
    reader = subprocess.Popen([str(bindir / "pg_restore"), "-O", "-x", "-L", str(listing), "-f", "-", str(path)],
                              stdout=subprocess.PIPE, stderr=reader_err, env=t.env())
    try:
        psql.stdin.write(prelude.encode())
        shutil.copyfileobj(reader.stdout, psql.stdin, 1 << 20)
        complete = reader.wait() == 0
        psql.stdin.write(b"COMMIT;\n" if complete else b"ROLLBACK;\n")
    except BrokenPipeError:  # psql stopped at an error: its transaction is rolled back
        pass
    finally:
        if reader.poll() is None:
            reader.kill()
        reader.wait()
        with contextlib.suppress(BrokenPipeError, OSError):
            psql.stdin.close()
        psql.wait()
    if reader.returncode != 0:
        reader_err.seek(0)
        raise BackupError(f"pg_restore could not read {path}: {reader_err.read().decode(errors='replace').strip()}"
                          f"; {t.label} is unchanged")
    if psql.returncode != 0:
        psql_err.seek(0)
        message = psql_err.read().decode(errors="replace").strip()
        if "lock timeout" in message:
            message = (f"other sessions kept its tables busy for {LOCK_TIMEOUT} (a running `gridsvc serve`, ingest "
                       f"or build?); stop them and try again")
        raise BackupError(f"restoring {path.name} into {t.label} failed, nothing was changed: {message}")


def restore(url: str, src: Path, *, replace: bool = False) -> RestoreResult:
    """Load a dump into the database at url in one transaction, then bring its schema to head.

    A database that holds data is refused unless replace=True; then every user object of its public schema is
    dropped and the archive loaded in the same transaction, so a failure leaves the database as it was.
    """
    path = check_archive(src)
    t = target(url)
    bindir = _server_bindir(t)
    toc = read_toc(bindir, path, t)
    if any(BLOB_ENTRY.match(line) for line in toc):
        raise InputError("the archive holds large objects, which gridsvc never makes; not a gridsvc dump?",
                         source=str(path))
    revision = archive_revision(bindir, path, t)
    _check_known(revision, path)
    with t.connect() as conn:
        filled = _tables_with_rows(conn)
    if filled and not replace:
        more = f" and {len(filled) - 5} more" if len(filled) > 5 else ""
        raise ConflictError(f"{t.label} already holds data (in {', '.join(filled[:5])}{more}); "
                            f"`gridsvc db restore --replace` replaces all of it with the dump "
                            f"(back it up first with `gridsvc db dump`)", tables=filled)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gridsvc-restore-") as tmp:
        listing = Path(tmp) / "toc.list"
        listing.write_text("".join(line + "\n" for line in restorable(toc)))
        _load(bindir, path, t, listing, _prelude(toc), Path(tmp))
    engine = make_engine(url)
    try:
        current = migrate.current_revision(engine)
        upgraded_from = None
        if current != migrate.head_revision():
            migrate.upgrade(engine)
            upgraded_from = current
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))  # fresh statistics: pg_restore leaves none
            tables = conn.exec_driver_sql(USER_TABLES).scalars().all()
            rows = {n: conn.execute(text(f"SELECT count(*) FROM {n}")).scalar_one() for n in tables}
    finally:
        engine.dispose()
    return RestoreResult(migrate.head_revision(), upgraded_from, time.monotonic() - start, rows)
