"""The grid officer's question: who is responsible for this spot (on this day)?"""

from __future__ import annotations

import math
import time
from datetime import date, datetime

import h3.api.basic_int as h3
import numpy as np
from sqlalchemy import Connection

from ..city.catalogue import load_catalogue
from ..city.grid import grid_res
from ..db.sql import sql
from ..errors import InputError, NotFoundError
from ..geo.crs import CrsSpec, parse_crs, points_to_wgs84
from ..timekeeping import instant
from .kinds import KIND_LABELS, PARTY_KIND_TABLE, ZONE_KIND_TABLE
from .policies import load_policy

PARTY_ZH = {p.name: p.zh for p in PARTY_KIND_TABLE}  # kind_zh of the answer's parties (楼院长（无物业）…)
ZONE_ZH = {k.name: k.zh for k in ZONE_KIND_TABLE}  # kind_zh of its zone (门前责任区…), for Chinese-only pages
EVENT_RULE = "事件先属地后属主 (events: territory first, then owner)"
COMPONENT_RULE = "部件先属主后属地 (components: owner first, then territory)"


When = str | date | datetime | None  # a user's date or time: gridsvc/timekeeping.py says what it means


def to_wgs84_point(lng: float, lat: float, crs: str | CrsSpec = "wgs84") -> tuple[float, float]:
    """A client's point in WGS84, with range checks that name the problem."""
    if not (math.isfinite(lng) and math.isfinite(lat)):
        raise InputError("lng and lat must be finite numbers", where="point")
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        hint = " (lat/lng swapped?)" if -90 <= lng <= 90 and -180 <= lat <= 180 else ""
        raise InputError(f"point ({lng}, {lat}) is out of range{hint}", where="point")
    spec = parse_crs(crs)
    if spec.epsg == 4326:
        return float(lng), float(lat)
    x, y = points_to_wgs84(np.array([lng]), np.array([lat]), spec)
    return float(x[0]), float(y[0])


_DUTIES: dict[str, tuple[float, list[dict]]] = {}  # policy -> (read at, duties): a policy file is read once a second


def _duties(policy_name: str | None) -> list[dict]:
    if not policy_name:
        return []
    now = time.monotonic()
    read_at, duties = _DUTIES.get(policy_name, (-1.0, []))
    if now - read_at > 1.0:
        duties = load_policy(policy_name).duty_list()
        _DUTIES[policy_name] = (now, duties)
    return [dict(d) for d in duties]


def check_subject(subject: str) -> None:
    """InputError unless subject is event or component."""
    if subject not in ("event", "component"):
        raise InputError("subject must be 'event' or 'component'", where="subject")


def lookup(conn: Connection, lng: float, lat: float, *, crs: str | CrsSpec = "wgs84",
           at: When = None, subject: str = "event") -> dict:
    """Primary and secondary responsible party at a point (at = a date: the end of that day in GRIDSVC_TZ);
    NotFoundError outside the managed area."""
    check_subject(subject)
    x, y = to_wgs84_point(lng, lat, crs)
    when = instant(at)
    cell = h3.latlng_to_cell(y, x, grid_res(conn))
    row = conn.execute(sql("lookup"), {"lng": x, "lat": y, "at": when, "h3": cell}).one()
    return compose(x, y, crs, when, subject, cell, *row)


def compose(x: float, y: float, crs: str | CrsSpec, when: datetime, subject: str, cell: int, zone: dict | None,
            party: dict | None, street: dict | None, cell_row: dict | None, officer: dict | None,
            nearest: dict | None) -> dict:
    """The answer from the rows lookup.sql gives (the in-memory index, gridsvc/zones/lookup_index.py, gives the
    same rows)."""
    if zone is None and cell_row is None:
        raise NotFoundError(f"point ({x:.6f}, {y:.6f}) is outside the managed area: no zone or grid cell here")
    officer_party = ({"kind": "grid_officer", "kind_zh": "网格员", "name": officer["name"], "phone": officer["phone"]}
                     if officer else None)
    if zone is None:
        primary, kind = officer_party, "grid"
    elif party is None:  # street space without a steward: the grid officer holds it
        primary, kind = officer_party, zone["kind"]
    else:
        primary, kind = {"kind": party["kind"], "kind_zh": PARTY_ZH.get(party["kind"], party["kind"]),
                         "name": party["name"], "contact": party["contact"],
                         "phone": party["phone"],
                         "duties": _duties(zone["policy"]) if zone["kind"] == "frontage" else []}, zone["kind"]
    rule = EVENT_RULE if subject == "event" else COMPONENT_RULE
    how = ("属地: the zone holder answers first" if subject == "event" else
           "属主: no component owner is recorded here, so the territory (zone holder) answers")
    return {
        "point": {"lng": x, "lat": y, "crs_in": str(parse_crs(crs).label)},
        "at": when.isoformat(),
        "zone": None if zone is None else {
            "id": zone["id"], "key": zone["zone_key"], "version": zone["version"], "kind": zone["kind"],
            "kind_label": KIND_LABELS[zone["kind"]], "kind_zh": ZONE_ZH[zone["kind"]], "origin": zone["origin"], "policy": zone["policy"],
            "valid_from": zone["valid_from"], "valid_to": zone["valid_to"], "props": zone["props"],
            "unit_id": zone["unit_id"], "street": street},
        "kind": kind,
        "primary": primary,
        "secondary": officer_party,
        "rule": {"subject": subject, "rule": rule, "applied": how},
        "cell": {"h3": format(cell, "x"), "grid_code": cell_row["code"] if cell_row else None},
        "grid_officer": officer_party,
        "nearest_unit": None if (zone and zone["kind"] == "frontage") or nearest is None else {
            "id": nearest["id"], "name": load_catalogue().unit_label(nearest["name"], nearest["category"]),
            "distance_m": round(nearest["distance_m"], 2)},
        "note": None if officer_party else "no grid officer is assigned to this grid yet",
    }


def check_points(points: list[tuple[float, float]]) -> np.ndarray:
    """A batch's points as an (n, 2) array; InputError naming the first problem."""
    if not 0 < len(points) <= 10_000:
        raise InputError(f"a batch takes 1 to 10,000 points, got {len(points)}", where="points")
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
        raise InputError("points must be [lng, lat] pairs of finite numbers", where="points")
    bad = np.flatnonzero((np.abs(arr[:, 0]) > 180) | (np.abs(arr[:, 1]) > 90))
    if len(bad):
        raise InputError(f"{len(bad)} point(s) out of range, first at index {int(bad[0])}: {arr[bad[0]].tolist()}",
                         where="points")
    return arr


def batch_result(i: int, zone_id, kind, unit_id, party_kind, party_name, party_phone, grid_code, officer_name,
                 officer_phone) -> dict:
    """One point's result in a batch, from lookup_batch.sql's columns (or the index's)."""
    officer = {"name": officer_name, "phone": officer_phone} if officer_name else None
    primary = ({"kind": party_kind, "name": party_name, "phone": party_phone}
               if party_name else (dict(officer, kind="grid_officer") if officer else None))
    return {"index": i, "inside": zone_id is not None or grid_code is not None, "zone_id": zone_id, "kind": kind,
            "unit_id": unit_id, "primary": primary, "grid_code": grid_code, "grid_officer": officer}


def lookup_batch(conn: Connection, points: list[tuple[float, float]], *, crs: str | CrsSpec = "wgs84",
                 at: When = None) -> list[dict]:
    """Primary zone, party, grid code and officer for up to 10,000 points in one query."""
    arr = check_points(points)
    when = instant(at)
    xs, ys = points_to_wgs84(arr[:, 0], arr[:, 1], parse_crs(crs))
    res = grid_res(conn)
    cells = [h3.latlng_to_cell(float(y), float(x), res) for x, y in zip(xs, ys, strict=True)]
    rows = conn.execute(sql("lookup_batch"), {"xs": xs.tolist(), "ys": ys.tolist(), "hs": cells,
                                              "at": when}).mappings().all()
    return [batch_result(int(r["i"]) - 1, r["zone_id"], r["kind"], r["unit_id"], r["party_kind"], r["party_name"],
                         r["party_phone"], r["grid_code"], r["officer_name"], r["officer_phone"]) for r in rows]


def lookup_radius(conn: Connection, lng: float, lat: float, radius_m: float, *, crs: str | CrsSpec = "wgs84",
                  at: When = None) -> list[dict]:
    """All zones within radius_m of a point, each with its distance."""
    if not (0 < radius_m <= 1000):
        raise InputError("radius must be between 0 and 1000 metres", where="radius")
    x, y = to_wgs84_point(lng, lat, crs)
    rows = conn.execute(sql("lookup_radius"), {"lng": x, "lat": y, "radius": radius_m, "at": instant(at)})
    return [dict(r._mapping) | {"distance_m": float(r.distance_m)} for r in rows]
