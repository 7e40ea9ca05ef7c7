"""LISTEN on a channel with a psycopg connection of its own, outside the engine's pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import psycopg
from sqlalchemy import URL

from .sql import SQL_DIR

MISSING_DATABASE = "3D000"  # invalid_catalog_name: the database was dropped; stop listening


def conninfo(url: URL) -> str:
    """A libpq URI for an engine's URL (the SQLAlchemy driver name removed)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def listen(url: URL, statement: str, stop: threading.Event, on_ready: Callable[[], None],
           poll_s: float = 0.5) -> Iterator[str]:
    """Payloads of the notifications after running the LISTEN in sql/<statement>.sql, until stop is set.

    on_ready() is called once the LISTEN is in place (every notification committed after that is delivered).
    A lost connection raises psycopg.OperationalError: the caller reconnects and checks what it missed."""
    with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute((SQL_DIR / f"{statement}.sql").read_text(encoding="utf-8"))
        on_ready()
        while not stop.is_set():
            for note in conn.notifies(timeout=poll_s):
                yield note.payload
