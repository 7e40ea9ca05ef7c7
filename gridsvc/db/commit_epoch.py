"""A per-database token in shared memory that every gridsvc process on this machine changes after each commit.

The lookup index (gridsvc/zones/lookup_index.py) learns of changes through NOTIFY, which arrives a little after
the commit. A client that gets an edit's response from one API worker and sends its next lookup to another must
still see the edit: the writer changes this token after its commit returns and before it answers, and a worker
that finds the token changed checks the database's lookup generation (one query) before answering from memory.
The token is 8 random bytes in /dev/shm (else the temp folder), one file per database (host, port, name).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
import threading
from pathlib import Path

from sqlalchemy import URL, Engine

_maps: dict[str, mmap.mmap] = {}
_lock = threading.Lock()


def _key(url: URL) -> str:
    return f"{url.host or ''}|{url.query.get('host', '')}|{url.port or ''}|{url.database}"


def path_for(url: URL) -> Path:
    """The token file of a database."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    digest = hashlib.sha1(_key(url).encode()).hexdigest()[:16]
    return base / f"gridsvc-{os.getuid()}" / f"commits-{digest}"


def _map(url: URL) -> mmap.mmap:
    key = _key(url)
    m = _maps.get(key)
    if m is None:
        with _lock:
            m = _maps.get(key)
            if m is None:
                path = path_for(url)
                path.parent.mkdir(mode=0o700, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(fd).st_size < 8:
                        os.ftruncate(fd, 8)
                    m = _maps[key] = mmap.mmap(fd, 8)
                finally:
                    os.close(fd)
    return m


def bump(url: URL) -> None:
    """Change the database's token (after a commit)."""
    _map(url)[:8] = os.urandom(8)


def read(url: URL) -> bytes:
    """The database's token now."""
    return _map(url)[:8]


def reader(url: URL) -> mmap.mmap:
    """The database's token, mapped: m[:8] reads it now (what a lookup does before answering from memory)."""
    return _map(url)


def install(engine: Engine) -> None:
    """Change the token after every commit made through this engine."""
    dialect, url = engine.dialect, engine.url
    commit = dialect.do_commit

    def do_commit(dbapi_connection) -> None:
        commit(dbapi_connection)
        bump(url)

    dialect.do_commit = do_commit
