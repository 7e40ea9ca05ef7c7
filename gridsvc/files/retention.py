"""Upload retention (`gridsvc uploads prune`): old uploads go, index row first, then the file; orphan files too.

How long each kind is kept (GRIDSVC_UPLOAD_KEEP_DAYS_PHOTO / GRIDSVC_UPLOAD_KEEP_DAYS_LEDGER, or --older-than):

- photos (随手拍), 365 days: a report's photo is the evidence of its case; a year covers handling, complaints
  and review, and the yearly assessment (年度考核) that looks back over the year's cases.
- ledgers, 90 days: a ledger is imported within days and its shops then live in the database (units); the file
  itself holds shop owners' names and phone numbers, which should be kept no longer than needed (个人信息保护法
  art. 19). A quarter leaves room to compare with, or re-import, the last ledger.

How a run goes, so that no row is left without its file and no file is lost to an upload running meanwhile:

1. One transaction deletes the rows older than their kind's limit (RETURNING sha256, size); the audit triggers
   log each deletion under the caller's actor (the CLI: cli:<login>). It commits.
2. Only then are the files unlinked, in batches, each batch in a transaction holding the store's advisory lock
   on its checksums (lock_files; POST /uploads holds it while it stores a file and inserts its row), and only
   files that no row names any more: the same file uploaded again since step 1 is kept. A crash between 1 and
   2 leaves orphan files, which step 3 of the next run removes.
3. Files under the store that no row names (a crash between the rename and the insert of an upload, or between
   1 and 2) are removed the same way once older than a day (file mtime; a younger one may be an upload in
   flight), as are `.incoming-*` temporary files older than a day. Orphans are swept in every run whatever
   --kind and --older-than say: without a row nothing can serve them. Shard folders are kept (an upload may be
   about to write into one).

`dry_run` makes the same selection with SELECTs only and changes nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from ..db.sql import sql
from ..errors import InputError
from ..settings import Settings
from .uploads import KINDS, SHA256_RE, stored_path

ORPHAN_GRACE_S = 24 * 3600  # files without a row younger than this may be an upload in flight
BATCH = 500  # checksums per unlink transaction (advisory locks held at once)
UPLOAD_LOCK = 0x75706C64  # 'upld': key space of pg_advisory_xact_lock(UPLOAD_LOCK, hashtext(sha256))
_SHARD = re.compile(r"[0-9a-f]{2}")


@dataclass(frozen=True)
class Gone:
    """An upload (or orphan file) removed, or in a dry run that would be."""

    path: Path
    size_bytes: int  # of the file on disk (0: it was already missing); the row's size for a missing file
    when: datetime  # the upload's time, or an orphan file's mtime
    sha256: str | None = None  # None: a temporary file
    kind: str | None = None  # None: an orphan file, which has no row
    filename: str | None = None  # the client's name (a label)
    present: bool = True  # whether the file was there


@dataclass
class PruneReport:
    """What a prune removed (or, dry run, would remove)."""

    dry_run: bool
    limits: dict[str, int]  # kind -> days kept
    rows: list[Gone] = field(default_factory=list)  # expired uploads (rows deleted, and their files)
    orphans: list[Gone] = field(default_factory=list)  # files without a row, temporary files
    kept: list[str] = field(default_factory=list)  # checksums whose file stayed: uploaded again meanwhile

    @property
    def bytes_freed(self) -> int:
        """Bytes of the files removed (would be, in a dry run)."""
        kept = set(self.kept)
        return sum(g.size_bytes for g in [*self.rows, *self.orphans] if g.present and g.sha256 not in kept)

    @property
    def missing(self) -> list[Gone]:
        """Expired uploads whose file was already gone."""
        return [g for g in self.rows if not g.present]


def retention_limits(settings: Settings, kind: str | None = None, older_than: int | None = None) -> dict[str, int]:
    """Days to keep each kind pruned: --older-than, else the settings; one kind or both."""
    if kind is not None and kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", where="--kind")
    if older_than is not None and older_than < 1:
        raise InputError(f"--older-than is a number of days, at least 1; got {older_than}", where="--older-than")
    return {k: older_than or settings.upload_keep_days(k) for k in ([kind] if kind else KINDS)}


def lock_files(conn: Connection, shas: Iterable[str]) -> None:
    """Hold, until this transaction ends, the store's lock on these checksums (in a fixed order: no deadlock)."""
    conn.execute(sql("uploads_lock"), {"ns": UPLOAD_LOCK, "shas": sorted(set(shas))})


def prune_uploads(engine: Engine, root: Path, limits: Mapping[str, int], *, dry_run: bool = False,
                  orphan_grace_s: float = ORPHAN_GRACE_S) -> PruneReport:
    """Delete the uploads older than limits[kind] days (rows, then files) and orphan files (module docstring)."""
    for kind, days in limits.items():
        if kind not in KINDS or not isinstance(days, int) or days < 1:
            raise InputError(f"retention must map {' or '.join(KINDS)} to at least 1 day; got {kind!r}: {days!r}",
                             where="limits")
    root = Path(root)
    report = PruneReport(dry_run, dict(limits))
    params = {"kinds": list(limits), "days": list(limits.values())}
    with engine.begin() as conn:  # the deletions commit (audited) before any file goes
        expired = conn.execute(sql("uploads_expired" if dry_run else "uploads_expire"), params).mappings().all()
    for row in sorted(expired, key=lambda r: (r["created_at"], r["sha256"])):
        path = stored_path(root, row["sha256"])
        size = _size(path)
        report.rows.append(Gone(path, row["size_bytes"] if size is None else size, row["created_at"], row["sha256"],
                                row["kind"], row["filename"], size is not None))
    if not dry_run:
        report.kept = _unlink_unreferenced(engine, root, [g.sha256 for g in report.rows if g.present])
    report.orphans = _orphans(engine, root, orphan_grace_s)
    if not dry_run:
        temporary = [g for g in report.orphans if g.sha256 is None]
        for g in temporary:
            g.path.unlink(missing_ok=True)
        report.kept += _unlink_unreferenced(engine, root, [g.sha256 for g in report.orphans if g.sha256])
    return report


def _size(path: Path) -> int | None:
    """Size of a file, None when it is not there."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _named(conn: Connection, shas: list[str]) -> set[str]:
    """The checksums among shas that an index row names."""
    return set(conn.execute(sql("uploads_named"), {"s": shas}).scalars())


def _unlink_unreferenced(engine: Engine, root: Path, shas: list[str]) -> list[str]:
    """Unlink the stored files of these checksums that no row names, under the store's lock; returns those kept."""
    kept: list[str] = []
    for i in range(0, len(shas), BATCH):
        batch = shas[i:i + BATCH]
        with engine.begin() as conn:
            lock_files(conn, batch)
            named = _named(conn, batch)
            for sha in batch:
                if sha in named:
                    kept.append(sha)
                else:
                    stored_path(root, sha).unlink(missing_ok=True)
    return kept


def _orphans(engine: Engine, root: Path, grace_s: float) -> list[Gone]:
    """Files under root older than grace_s that no row names, and old temporary files."""
    if not root.is_dir():
        return []
    cutoff = time.time() - grace_s
    found: dict[str, Gone] = {}
    temporary: list[Gone] = []
    with os.scandir(root) as shards:
        for shard in shards:
            if not (shard.is_dir(follow_symlinks=False) and _SHARD.fullmatch(shard.name)):
                continue
            with os.scandir(shard.path) as files:
                for f in files:
                    if not f.is_file(follow_symlinks=False):
                        continue
                    st = f.stat(follow_symlinks=False)
                    if st.st_mtime >= cutoff:
                        continue
                    when = datetime.fromtimestamp(st.st_mtime, UTC)
                    if SHA256_RE.fullmatch(f.name) and f.name.startswith(shard.name):
                        found[f.name] = Gone(Path(f.path), st.st_size, when, f.name)
                    elif f.name.startswith(".incoming-"):
                        temporary.append(Gone(Path(f.path), st.st_size, when))
    names = sorted(found)
    with engine.connect() as conn:
        for i in range(0, len(names), BATCH):
            for sha in _named(conn, names[i:i + BATCH]):
                del found[sha]
    return sorted([*found.values(), *temporary], key=lambda g: (g.when, str(g.path)))
