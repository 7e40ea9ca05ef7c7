"""Hot standbys for reads (GRIDSVC_READ_URLS): round-robin, health-checked, the primary as the fallback.

A standby that refuses a connection, fails its check (`pg_is_in_recovery()`, at most once a second per process) or
is no longer a standby (promoted) is skipped for GRIDSVC_READ_RETRY_S, twice as long at each further failure (at
most 12 times), then tried again by the next read that comes its way. A read that must see a write of its own
carries that write's WAL position (`wal_position` on the primary after the commit): a standby serves it only once
it has replayed that far, else the next one does, else the primary. docs/scaling.md tells the whole rule.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..settings import Settings, get_settings
from .engine import make_engine
from .sql import sql

log = logging.getLogger(__name__)
CHECK_S = 1.0  # how often (per process) a standby in use is asked whether it still is one
MAX_BACKOFF = 12  # the back-off doubles after each failure up to this many times GRIDSVC_READ_RETRY_S
LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$", re.IGNORECASE)


@dataclass
class Standby:
    """One read server and what this process knows of its health."""

    name: str
    url: str  # password hidden, for messages
    engine: Engine
    down_until: float = 0.0
    failures: int = 0
    checked_at: float = float("-inf")
    reason: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def parse_lsn(value: str | None) -> str | None:
    """A WAL position as PostgreSQL writes it (`16/B374D848`), else None (absent or malformed: ignored)."""
    value = (value or "").strip()
    return value.upper() if LSN.match(value) else None


def wal_position(conn: Connection) -> str:
    """The primary's current WAL position (after a commit on conn: a standby replayed this far holds it)."""
    return conn.execute(sql("wal_position")).scalar_one()


class ReadPool:
    """The standbys of GRIDSVC_READ_URLS, named replica-1, replica-2, … in that order."""

    def __init__(self, urls: list[str], settings: Settings | None = None):
        s = settings or get_settings()
        self.retry_s = s.read_retry_s
        self.standbys = [Standby(f"replica-{i}", make_url(url).render_as_string(hide_password=True),
                                 make_engine(url, s, connect_timeout=s.read_connect_timeout))
                         for i, url in enumerate(urls, 1)]
        self._turn = itertools.count()

    def connect(self, min_lsn: str | None = None) -> tuple[Connection, str] | None:
        """A connection to the next healthy standby in turn that has replayed min_lsn, and its name; None when
        none can serve (the caller reads from the primary)."""
        start = next(self._turn)
        now = time.monotonic()
        for i in range(len(self.standbys)):
            standby = self.standbys[(start + i) % len(self.standbys)]
            if standby.down_until <= now and (conn := self._try(standby, min_lsn)) is not None:
                return conn, standby.name
        return None

    def _try(self, standby: Standby, min_lsn: str | None) -> Connection | None:
        try:
            conn = standby.engine.connect()
        except PoolTimeoutError:
            return None  # busy, not down: this read goes elsewhere
        except DBAPIError as err:
            self._down(standby, f"connect failed: {_first_line(err)}")
            return None
        now = time.monotonic()
        try:
            if min_lsn is None and now - standby.checked_at < CHECK_S:
                return conn
            is_standby, caught_up = conn.execute(sql("replica_state"), {"lsn": min_lsn}).one()
        except DBAPIError as err:
            conn.invalidate()
            conn.close()
            self._down(standby, f"check failed: {_first_line(err)}")
            return None
        if not is_standby:
            conn.close()
            self._down(standby, "it is not in recovery (promoted, or not a standby)")
            return None
        self._up(standby, now)
        if not caught_up:
            conn.close()  # behind the client's own write: not down, just not for this read
            return None
        return conn

    def _down(self, standby: Standby, reason: str) -> None:
        with standby.lock:
            standby.failures += 1
            wait = self.retry_s * min(2 ** (standby.failures - 1), MAX_BACKOFF)
            standby.down_until = time.monotonic() + wait
            standby.reason = reason
        log.warning("read replica %s (%s) skipped for %.1f s: %s", standby.name, standby.url, wait, reason)

    def _up(self, standby: Standby, now: float) -> None:
        with standby.lock:
            standby.checked_at = now
            if standby.failures:
                log.warning("read replica %s (%s) serves reads again", standby.name, standby.url)
            standby.failures, standby.reason = 0, ""

    def states(self) -> list[dict]:
        """Each standby: name, URL without password, whether it is skipped now and why."""
        now = time.monotonic()
        return [{"name": s.name, "url": s.url, "down": s.down_until > now, "reason": s.reason}
                for s in self.standbys]

    def dispose(self) -> None:
        """Close every standby's pooled connections."""
        for standby in self.standbys:
            standby.engine.dispose()


def _first_line(err: Exception) -> str:
    orig = getattr(err, "orig", None) or err
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]
