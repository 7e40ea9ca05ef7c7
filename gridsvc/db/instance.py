"""The database's own identity (table `instance`, migration 0007): its id and its JWT signing key.

Several databases may share one data folder and one cluster (a second `GRIDSVC_DB_NAME`, the test sessions);
what belongs to one database is named by its id: the audience of its login tokens, the folder of its uploads.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from ..errors import GridsvcError


@dataclass(frozen=True)
class Identity:
    """A database's id (a UUID, as text) and its JWT signing key."""

    id: str
    jwt_key: str


_cache: weakref.WeakKeyDictionary[Engine, Identity] = weakref.WeakKeyDictionary()


def identity(conn: Connection) -> Identity:
    """The identity of the database conn is connected to (read once per engine)."""
    engine = conn.engine
    found = _cache.get(engine)
    if found is None:
        row = conn.execute(text("SELECT CAST(id AS text), jwt_key FROM instance")).first()
        if row is None:
            raise GridsvcError("the database has no identity row (table instance): run `gridsvc db upgrade`")
        found = _cache[engine] = Identity(row[0], row[1])
    return found


def upload_root(base: Path, conn: Connection) -> Path:
    """This database's uploads folder: <base>/<database id>."""
    return Path(base) / identity(conn).id
