"""The lookup fast path: each process answers lookups from memory, never from a stale state.

An index (one per engine, so per API worker) holds the zones current now or later, their parties and streets, the
grid cells with their codes and first officer, and the units' points (gridsvc/geo/zone_index.py does the
geometry). It is loaded in the background on the first lookup (until then lookups query PostGIS) and follows the
database's *lookup generation* (migration 0017): every transaction that changes zones, parties, streets, units,
grid cells or officers bumps it at commit and NOTIFYs gridsvc_lookup. A listener thread keeps the highest
generation announced; a reloader thread fetches only what changed (zones by row version, the other tables whole
when they changed) in one REPEATABLE READ snapshot that also reads the generation it reflects.

A lookup answers from memory only when the index is loaded, listening, and at the highest generation known; else
it returns None and the caller queries PostGIS (the SQL path, gridsvc/zones/lookup.py), while the reloader catches
up. NOTIFY arrives a little after the commit, so a writer's own next request could beat it: every commit through a
gridsvc engine also changes a token in shared memory (gridsvc/db/commit_epoch.py), and a lookup that sees the token
changed reads the generation from the database first (one query). So the next lookup after an edit's response, in
any worker on this machine, names the new party; writers on other machines are seen when their NOTIFY arrives.
at= (history) and radius= (the nearby list) stay on SQL.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np
import psycopg
import shapely
from pyproj import Geod
from sqlalchemy import Connection, Engine

from ..db import commit_epoch, notify
from ..db.sql import sql
from ..geo.crs import CrsSpec, parse_crs, points_to_wgs84
from ..geo.zone_index import PointIndex, ZoneIndex, cell_boxes, micros
from ..settings import get_settings
from ..timekeeping import instant
from . import lookup as core

log = logging.getLogger("gridsvc.lookup_index")
TABLES = frozenset({"zones", "parties", "streets", "units", "grid_cells", "officers", "officer_grids"})
WGS84 = Geod(ellps="WGS84")  # ST_Distance(geography) of two points: the geodesic on the WGS84 spheroid
DEBOUNCE_S = 0.02  # after a NOTIFY, wait this long for more before reloading
WORKER = os.urandom(4).hex()  # names this process in the X-Gridsvc-Worker header of lookups (not its pid)
RECHECK_S = 30.0  # the reloader also compares generations this often, in case a NOTIFY was lost


@dataclass(frozen=True)
class Snapshot:
    """Everything a lookup reads, as of one database generation (immutable: a reload makes a new one)."""

    gen: int
    zones: ZoneIndex
    zone_rows: tuple[tuple, ...]  # per zone position: the fields of lookup.sql's zone row (see _zone_row)
    zone_ids: np.ndarray  # row ids (zones.id), by position
    zone_xmin: np.ndarray  # row versions, by position
    parties: dict[int, dict]
    streets: dict[int, dict]
    grid: dict[int, str]  # h3 -> grid code
    officers: dict[int, dict]  # h3 -> the cell's first officer {name, phone}
    units: PointIndex
    unit_rows: tuple[tuple, ...]  # per unit position: (id, name, category)
    res: int
    cell_boxes: np.ndarray  # the grid cells' widened envelopes (in grid order), kept while the grid is unchanged


ZONE_FIELDS = ("id", "zone_key", "version", "kind", "origin", "policy", "party_id", "unit_id", "street_id", "props",
               "valid_from", "valid_to")


def _zone_row(t: tuple) -> dict:
    """lookup.sql's zone row from the stored tuple (props parsed afresh, so callers may change the answer)."""
    row = dict(zip(ZONE_FIELDS, t, strict=True))
    row["props"] = json.loads(row["props"]) if row["props"] is not None else None
    return row


class LookupIndex:
    """The in-memory lookup of one engine's database, with its listener and reloader threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._snap: Snapshot | None = None
        self._seen = 0  # the highest generation known to exist (NOTIFY, or read from the database)
        self._went_back = False  # a generation below one seen before: the database was restored; reload all
        self._listening = False
        self._token: bytes | None = None  # the commit token last checked against the database
        self._tokens = commit_epoch.reader(engine.url)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()  # the listener's first LISTEN is in place (or it gave up)
        self._threads: list[threading.Thread] = []
        self.stats = {"index": 0, "sql": 0, "reloads": 0, "full_reloads": 0, "last_reload_s": None,
                      "verifies": 0}

    # -- life cycle ---------------------------------------------------------------------------------------------
    def start(self) -> LookupIndex:
        """Start the listener and the reloader (once); the first load runs in the background."""
        with self._lock:
            if not self._threads and not self._stop.is_set():
                self._threads = [threading.Thread(target=self._listen, name="lookup-listen", daemon=True),
                                 threading.Thread(target=self._reload_loop, name="lookup-reload", daemon=True)]
                for t in self._threads:
                    t.start()
        return self

    def stop(self) -> None:
        """Stop both threads; lookups then go to SQL."""
        self._stop.set()
        self._listening = False
        self._wake.set()
        for t in self._threads:
            t.join(5)

    def wait_loaded(self, timeout_s: float = 120.0) -> bool:
        """Block until a snapshot is loaded and current (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.current() is not None:
                return True
            time.sleep(0.01)
        return False

    # -- freshness ----------------------------------------------------------------------------------------------
    def current(self, verify: bool = True) -> Snapshot | None:
        """The snapshot if it may answer now: loaded, listening, and at the highest generation known (after a
        commit on this machine, verify=False answers None rather than ask the database)."""
        snap = self._snap
        if snap is None or not self._listening:
            return None
        token = self._tokens[:8]
        if token != self._token:  # a commit on this machine since the last check: ask the database
            if not verify:
                return None
            try:
                with self.engine.connect() as c:
                    gen = c.execute(sql("lookup_generation")).scalar_one()
            except Exception:  # noqa: BLE001 - the SQL path reports the database's state itself
                return None
            self.stats["verifies"] += 1
            self._saw(gen)
            self._token = token
        if snap.gen != self._seen:
            self._wake.set()
            return None
        return snap

    def _saw(self, gen: int) -> None:
        with self._lock:
            if gen > self._seen:
                self._seen = gen
                self._wake.set()
            elif gen < self._seen:  # the database went back (restored from a dump): reload all of it
                self._seen = gen
                self._went_back = True
                self._wake.set()

    # -- threads ------------------------------------------------------------------------------------------------
    def _on_listening(self) -> None:
        self._listening = True
        self._token = None  # whatever was missed while not listening: the next lookup checks the generation
        self._ready.set()
        self._wake.set()

    def _listen(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                for payload in notify.listen(self.engine.url, "lookup_listen", self._stop, self._on_listening):
                    self._saw(int(payload.split(" ", 1)[0]))
                    backoff = 0.2
            except psycopg.Error as e:
                self._listening = False
                if getattr(e, "sqlstate", None) == notify.MISSING_DATABASE or "does not exist" in str(e):
                    log.info("lookup index: database gone, stopping")
                    self._stop.set()
                    break
                log.warning("lookup index: listener lost (%s); lookups use SQL until it is back",
                            str(e).splitlines()[0] if str(e) else type(e).__name__)
            finally:
                self._listening = False
            self._ready.set()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)
        self._wake.set()

    def _reload_loop(self) -> None:
        self._ready.wait(10)
        while not self._stop.is_set():
            try:
                self.reload()
            except Exception:  # noqa: BLE001 - logged; lookups stay on SQL and the next wake-up retries
                log.exception("lookup index: reload failed; lookups use SQL")
                self._stop.wait(1.0)
            self._wake.wait(RECHECK_S)
            self._wake.clear()
            self._stop.wait(DEBOUNCE_S)

    # -- loading ------------------------------------------------------------------------------------------------
    def reload(self) -> bool:
        """Bring the snapshot to the database's generation (only what changed); True if it changed."""
        t0 = time.perf_counter()
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as c:
            c.execute(sql("lookup_reload_lock_timeout"))
            gen = c.execute(sql("lookup_generation")).scalar_one()
            old = self._snap
            if old is not None and (gen < old.gen or self._went_back):
                old, self._went_back = None, False  # a restored (older) database: nothing of the snapshot holds
            if old is not None and old.gen == gen:
                self._saw(gen)
                return False
            if old is None:
                changed = set(TABLES)
            else:
                first_kept, tables = c.execute(sql("lookup_changes_since"), {"since": old.gen}).one()
                changed = set(TABLES) if first_kept is None or first_kept > old.gen + 1 else set(tables) & TABLES
            snap = _load(c, gen, old, changed)
        self._snap = snap
        self._saw(gen)
        self.stats["reloads"] += 1
        self.stats["full_reloads"] += old is None or changed == TABLES
        self.stats["last_reload_s"] = round(time.perf_counter() - t0, 4)
        return True

    # -- answers ------------------------------------------------------------------------------------------------
    def lookup(self, lng: float, lat: float, *, crs: str | CrsSpec = "wgs84", subject: str = "event",
               verify: bool = True) -> dict | None:
        """lookup.lookup()'s answer now, from memory; None when the index may not answer (use SQL). verify=False:
        never touch the database (None when the generation must be read first)."""
        core.check_subject(subject)
        snap = self.current(verify)
        if snap is None:
            return None
        x, y = core.to_wgs84_point(lng, lat, crs)
        when = instant(None)
        cell = snap.zones.cell_of(x, y)
        pos = snap.zones.covering(x, y, cell, micros(when))
        zone = _zone_row(snap.zone_rows[pos]) if pos >= 0 else None
        party = street = nearest = None
        if zone is not None:
            party = snap.parties.get(zone["party_id"])
            street = snap.streets.get(zone["street_id"])
        code = snap.grid.get(cell)
        if zone is None or zone["kind"] != "frontage":
            nearest = _nearest(snap, x, y)
        self.stats["index"] += 1
        return core.compose(x, y, crs, when, subject, cell, zone, party, street,
                            None if code is None else {"code": code, "h3": cell},
                            snap.officers.get(cell) if code is not None else None, nearest)

    def lookup_batch(self, points: list[tuple[float, float]], *, crs: str | CrsSpec = "wgs84") -> list[dict] | None:
        """lookup.lookup_batch()'s answer now, from memory (one STRtree query); None: use SQL."""
        arr = core.check_points(points)
        snap = self.current()
        if snap is None:
            return None
        xs, ys = points_to_wgs84(arr[:, 0], arr[:, 1], parse_crs(crs))
        pos = snap.zones.covering_many(xs, ys, micros(instant(None)))
        res, grid, officers, parties, rows = snap.res, snap.grid, snap.officers, snap.parties, snap.zone_rows
        from h3.api.basic_int import latlng_to_cell

        out = []
        for i, (x, y, p) in enumerate(zip(xs.tolist(), ys.tolist(), pos.tolist(), strict=True)):
            cell = latlng_to_cell(y, x, res)
            code = grid.get(cell)
            officer = officers.get(cell) if code is not None else None
            if p >= 0:
                z = rows[p]
                party = parties.get(z[6]) or {}
                zone_id, kind, unit_id = z[0], z[3], z[7]
            else:
                party, zone_id, kind, unit_id = {}, None, None, None
            out.append(core.batch_result(i, zone_id, kind, unit_id, party.get("kind"), party.get("name"),
                                         party.get("phone"), code, officer and officer["name"],
                                         officer and officer["phone"]))
        self.stats["index"] += 1
        return out


def _nearest(snap: Snapshot, x: float, y: float) -> dict | None:
    """The nearest unit as lookup.sql's nearest_unit row (planar KNN, geodesic distance)."""
    pos = snap.units.nearest(x, y)
    if pos < 0:
        return None
    uid, name, category = snap.unit_rows[pos]
    _, _, dist = WGS84.inv(x, y, float(snap.units.xs[pos]), float(snap.units.ys[pos]))
    return {"id": uid, "name": name, "category": category, "distance_m": dist}


def _load(c: Connection, gen: int, old: Snapshot | None, changed: set[str]) -> Snapshot:
    """A snapshot at generation gen: the tables in changed read again (zones: only the rows whose version
    changed), the rest taken from old."""
    intern: dict = {}

    def i(v):  # repeated strings (kinds, policies, the timestamps of one build) kept once
        return intern.setdefault(v, v) if isinstance(v, str) else v

    zones_changed, grid_changed = old is None or "zones" in changed, old is None or "grid_cells" in changed
    if grid_changed:
        grid_rows = c.execute(sql("lookup_grid_cells")).all()
        grid = {int(h): code for h, code, _ in grid_rows}
        res = int(grid_rows[0][2]) if grid_rows else get_settings().h3_res
        boxes = cell_boxes(np.fromiter(grid, np.int64, len(grid)))
    else:
        grid, res, boxes = old.grid, old.res, old.cell_boxes
    if zones_changed:
        rows, geoms, row_ids, xmin, vfrom, vto, keys = _zone_arrays(c, old, i)
    else:
        z = old.zones
        rows, geoms, row_ids, xmin, vfrom, vto, keys = (old.zone_rows, z.geoms, old.zone_ids, old.zone_xmin,
                                                        z.valid_from, z.valid_to, z.keys)
    if zones_changed or grid_changed:
        zones = ZoneIndex.build(geoms, keys, vfrom, vto, np.fromiter(grid, np.int64, len(grid)), res, boxes)
    else:
        zones = old.zones
    if old is None or "units" in changed:
        units = c.execute(sql("lookup_units")).all()
        unit_index = PointIndex.build([u.id for u in units], [u.x for u in units], [u.y for u in units])
        unit_rows = tuple((u.id, i(u.name), i(u.category)) for u in units)
    else:
        unit_index, unit_rows = old.units, old.unit_rows
    parties = ({r["id"]: {k: i(v) for k, v in r.items()} for r in c.execute(sql("lookup_parties")).mappings()}
               if old is None or "parties" in changed else old.parties)
    streets = ({r["id"]: dict(r) for r in c.execute(sql("lookup_streets")).mappings()}
               if old is None or "streets" in changed else old.streets)
    officers = ({int(r.h3): {"name": r.name, "phone": r.phone} for r in c.execute(sql("officers_by_cell"))}
                if old is None or changed & {"officers", "officer_grids", "grid_cells"} else old.officers)
    return Snapshot(gen, zones, tuple(rows), row_ids, xmin, parties, streets, grid, officers, unit_index, unit_rows,
                    res, boxes)


def _zone_arrays(c: Connection, old: Snapshot | None, i: Callable) -> tuple:
    """The current zones' rows, geometries, row ids, row versions, validity and precedence keys: those of old whose
    row version is unchanged kept, the others fetched."""
    versions = c.execute(sql("lookup_zone_versions")).all()
    now = {(int(a), int(b)) for a, b in versions}
    if old is None:
        keep = np.zeros(0, dtype=np.intp)
        fetch = [a for a, _ in versions]
    else:
        keep = np.array([k for k, ab in enumerate(zip(old.zone_ids.tolist(), old.zone_xmin.tolist(), strict=True))
                         if ab in now], dtype=np.intp)
        kept = set(old.zone_ids[keep].tolist())
        fetch = [a for a, _ in versions if a not in kept]
    new = c.execute(sql("lookup_zones_by_id"), {"ids": fetch}).mappings().all() if fetch else []
    fields = ("id", "zone_key", "version", "kind", "origin", "policy", "party_id", "unit_id", "street_id", "props",
              "valid_from_json", "valid_to_json")
    rows = ([] if old is None else [old.zone_rows[k] for k in keep]) + \
        [tuple(i(r[f]) for f in fields) for r in new]

    def cat(old_part, new_part, dtype):
        return np.concatenate([old_part[keep] if old is not None else np.empty(0, dtype),
                               np.asarray(new_part, dtype=dtype)])

    geoms = cat(None if old is None else old.zones.geoms, shapely.from_wkb([bytes(r["wkb"]) for r in new]), object)
    row_ids = cat(None if old is None else old.zone_ids, [r["row_id"] for r in new], np.int64)
    xmin = cat(None if old is None else old.zone_xmin, [r["xmin"] for r in new], np.int64)
    vfrom = cat(None if old is None else old.zones.valid_from, [micros(r["valid_from"]) for r in new], np.int64)
    vto = cat(None if old is None else old.zones.valid_to, [micros(r["valid_to"]) for r in new], np.int64)
    # precedence as lookup.sql orders: planner first, then zone_rank (NULL: last), then row id, in one int64
    keys = cat(None if old is None else old.zones.keys,
               [(int(r["origin"] != "planner") << 62) | (min(r["rank"] or 1023, 1023) << 52) | r["row_id"]
                for r in new], np.int64)
    return rows, geoms, row_ids, xmin, vfrom, vto, keys


_indexes: WeakKeyDictionary[Engine, LookupIndex] = WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(engine: Engine) -> LookupIndex | None:
    """The engine's index, started on first use; None when GRIDSVC_LOOKUP_INDEX=0."""
    if not get_settings().lookup_index:
        return None
    idx = _indexes.get(engine)
    if idx is None:
        with _indexes_lock:
            idx = _indexes.get(engine)
            if idx is None:
                idx = _indexes[engine] = LookupIndex(engine).start()
    return idx


def answer_now(engine: Engine, lng: float, lat: float, *, crs: str | CrsSpec = "wgs84",
               subject: str = "event") -> dict | None:
    """The answer from memory without any I/O (for the event loop), or None: then call answer() in a thread."""
    idx = index_for(engine)
    return idx.lookup(lng, lat, crs=crs, subject=subject, verify=False) if idx is not None else None


def answer(engine: Engine, conn_of: Callable[[], Connection], lng: float, lat: float, *,
           crs: str | CrsSpec = "wgs84", at: str | None = None, subject: str = "event") -> tuple[dict, str]:
    """The lookup's answer and where it came from ("index" or "sql"): from memory when the index is current and
    no at= is asked, else from PostGIS on conn_of()."""
    idx = index_for(engine) if at is None else None
    result = idx.lookup(lng, lat, crs=crs, subject=subject) if idx is not None else None
    if result is not None:
        return result, "index"
    if idx is not None:
        idx.stats["sql"] += 1
    return core.lookup(conn_of(), lng, lat, crs=crs, at=at, subject=subject), "sql"


def answer_batch(engine: Engine, conn_of: Callable[[], Connection], points: list[tuple[float, float]], *,
                 crs: str | CrsSpec = "wgs84", at: str | None = None) -> tuple[list[dict], str]:
    """The batch's results and where they came from, as answer() does for one point."""
    idx = index_for(engine) if at is None else None
    results = idx.lookup_batch(points, crs=crs) if idx is not None else None
    if results is not None:
        return results, "index"
    return core.lookup_batch(conn_of(), points, crs=crs, at=at), "sql"
