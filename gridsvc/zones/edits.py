"""Planners' edits of responsibility zones: create, replace, delete, split, merge, revert; each a new version.

Every edit runs in the caller's transaction under one advisory lock, so concurrent edits cannot create
overlaps. Overlaps with other current zones are refused (ZoneOverlapError names them and the shared area),
or resolved on request: overlap="clip" (the edited zone yields) or overlap="take" (the others yield, each
as a new version of itself). A zone must lie inside the managed area (the grid cells).

Permission before content. Every write checks first who may make it (check_scope: a grid officer writes only
inside their grids), on the geometry that matters: the stored zone(s) for replace, delete, split, merge and revert
(and the version revert brings back), the incoming shape in WGS84 for create and replace. Only then come the
precondition (If-Match: 428/412), the body's validity (422), the party's existence (404) and the overlap rules
(409). The API runs the same check as a dependency (gridsvc/api/scope.py), before FastAPI validates the body.
A body is validated once, by the ZoneFeature model (gridsvc/zones/body.py: properties, GeoJSON structure and
numbers); in the API that happens when FastAPI reads it (so a malformed body is a 422 before the precondition),
for a mapping passed here after the precondition. What depends on stored data is checked here.
The scope covers what the writer asked for, not what yields to it: the residual street space cut by an edit may
reach into other grids, and the part taken lies inside the edited shape.

Precision and tolerance agree. GeoJSON answers give coordinates to 7 decimals (OUTPUT_DEG ≈ 1 cm), so a client
can only send back a stored vertex rounded by up to half of that. Before any check, each incoming vertex within
SNAP_DEG (= OUTPUT_DEG) of a stored vertex of the edited zone takes that stored vertex, and any other within it
of a neighbour's vertex or edge is put on it (zone_geometry.snap_to_stored). An unchanged zone therefore comes
back exactly as stored (and makes no new version), a moved vertex is the only change, and the overlap check
(MIN_OVERLAP_M2) sees only what the client really changed. Snapping happens here, once, for create and replace.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import (
    ForbiddenError,
    InputError,
    NotFoundError,
    OutsideManagedAreaError,
    ZoneOverlapError,
)
from ..geo.crs import ClientCrs, CrsSpec
from ..geo.zone_geometry import (
    SNAP_DEG,
    answered_as,
    from_client,
    parse_geometry,
    polygonal,
    snap_to_stored,
)
from ..versions import Expected, require_version
from .body import ZoneFeature, ZoneProperties, zone_body
from .kinds import PARTY_KINDS_OF_ZONE, ZONE_KIND_OF_PARTY
from .policies import list_policies

Overlap = Literal["reject", "clip", "take"]
OVERLAP_MODES = ("reject", "clip", "take")
MIN_OVERLAP_M2 = 0.01  # shared edges and float noise; the same tolerance as B's validation
OUTSIDE_TOLERANCE_M2 = 1.0
MIN_AREA_M2 = 0.5
EDIT_LOCK = 0x67726964  # pg_advisory_xact_lock key of zone edits ('grid')


def _lock(conn: Connection) -> datetime:
    """Serialise zone edits; the edit's timestamp (one instant closes old and opens new versions)."""
    conn.execute(sql("zone_edit_lock"), {"k": EDIT_LOCK})
    return conn.execute(sql("clock_timestamp")).scalar_one()


def _current(conn: Connection, zone_id: int) -> Mapping:
    row = conn.execute(sql("zone_current"), {"zone_id": zone_id}).mappings().one_or_none()
    if row is None:
        raise NotFoundError(f"zone {zone_id} does not exist or has been deleted", zone_id=zone_id)
    return row


def _party(conn: Connection, party_id) -> Mapping:
    if isinstance(party_id, bool) or not isinstance(party_id, int):
        raise InputError(f"party_id must be an integer, got {party_id!r}", where="properties.party_id")
    row = conn.execute(sql("party_by_id"), {"p": party_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no party {party_id}: create it first (POST /parties)", where="properties.party_id")
    return row


def _default_policy(conn: Connection) -> str:
    return conn.execute(sql("latest_build_policy")).scalar() or "三包"


def check_version(current: Mapping, expected: Expected) -> None:
    """require_version for a zone row."""
    require_version(current["zone_id"], current["version"], expected, zone_id=current["zone_id"])


def overlaps(conn: Connection, geom: BaseGeometry, exclude: list[int]) -> list[dict]:
    """Current zones a geometry overlaps by more than MIN_OVERLAP_M2, with the shared area."""
    rows = conn.execute(sql("zone_overlaps"), {"wkb": geom.wkb, "exclude": exclude or [0],
                                               "min_m2": MIN_OVERLAP_M2}).mappings().all()
    return [{**r, "area_m2": round(float(r["area_m2"]), 2)} for r in rows]


def _outside_m2(conn: Connection, geom: BaseGeometry) -> tuple[bool, float]:
    row = conn.execute(sql("zone_outside_area"), {"wkb": geom.wkb}).one()
    return bool(row.has_grid), float(row.outside_m2)


def _check_inside(conn: Connection, geom: BaseGeometry, before: BaseGeometry | None) -> None:
    """Refuse a zone (or the part an edit adds) outside the managed area."""
    has_grid, outside = _outside_m2(conn, geom)
    if not has_grid:
        raise OutsideManagedAreaError("there is no managed area yet: build the grid first (gridsvc build grid)")
    allowed = OUTSIDE_TOLERANCE_M2 + (_outside_m2(conn, before)[1] if before is not None else 0.0)
    if outside > allowed:
        raise OutsideManagedAreaError(f"{outside:.1f} m² of the zone lie outside the managed area (the grid cells)",
                                      where="geometry", outside_m2=round(outside, 1))


def _difference(conn: Connection, geom: BaseGeometry, ids: list[int]) -> BaseGeometry:
    wkb = conn.execute(sql("zone_difference"), {"wkb": geom.wkb, "ids": ids}).scalar()
    return shapely.from_wkb(wkb) if wkb is not None else shapely.MultiPolygon()


def _overlap_message(subject: str, found: list[dict]) -> str:
    parts = [f"zone {o['zone_id']} ({o['kind']}, {o['party_name'] or 'no party'}) by {o['area_m2']:.2f} m²"
             for o in found[:5]]
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return (f"{subject} overlaps {'; '.join(parts)}{more}. Send overlap=clip to cut yours back, or overlap=take "
            "to cut the others")


def check_scope(conn: Connection, what: str, geom: BaseGeometry | None, *, principal=None) -> None:
    """Permission before content: a grid officer may only write zones inside the grids assigned to them.

    Every zone write calls this before any other check, with each geometry that matters (see the module doc);
    principal defaults to the connection's writer (conn.info["principal"]). None (no shape known) passes.
    """
    principal = principal if principal is not None else conn.info.get("principal")
    if geom is None or principal is None or principal.role != "grid_officer":
        return
    if not geom.is_valid:  # an invalid shape is refused later (422); its scope is the area it covers
        geom = shapely.make_valid(geom)
    outside = conn.execute(sql("zone_outside_grids"), {"wkb": geom.wkb, "codes": list(principal.grids)}).scalar_one()
    if outside > OUTSIDE_TOLERANCE_M2:
        raise ForbiddenError(f"{what} reaches {outside:.1f} m² outside your grids ({', '.join(principal.grids)}); "
                             "ask a planner", where="geometry")


def stored_shape(conn: Connection, zone_id: int) -> BaseGeometry | None:
    """A zone's current geometry, else that of its last version (a deleted zone); None when there is no such zone."""
    wkb = conn.execute(sql("zone_last_shape"), {"z": zone_id}).scalar()
    return shapely.from_wkb(wkb) if wkb is not None else None


def scope_shape(feature, crs="wgs84", *, field: str = "geometry") -> BaseGeometry | None:
    """The shape a body asks for, in WGS84, for check_scope; None when it cannot be read (validation says why)."""
    try:
        geojson = feature.get(field) if isinstance(feature, Mapping) else None
        if geojson is None:
            return None
        return from_client(parse_geometry(geojson), crs)
    except (InputError, ValueError, TypeError, AttributeError, KeyError):
        return None


def check_zone_scope(conn: Connection, zone_ids, shape: BaseGeometry | None = None, *, principal=None) -> None:
    """check_scope on stored zones (those that exist) and on a requested shape: what every zone write does first."""
    for zone_id in zone_ids:
        if isinstance(zone_id, int) and not isinstance(zone_id, bool) and 0 < zone_id < 2**31:
            check_scope(conn, f"zone {zone_id}", stored_shape(conn, zone_id), principal=principal)
    check_scope(conn, "the zone you sent" if zone_ids else "the new zone", shape, principal=principal)


def _close(conn: Connection, ts: datetime, zone_id: int) -> None:
    conn.execute(sql("zone_close"), {"zone_id": zone_id, "ts": ts})


def _insert(conn: Connection, ts: datetime, geom: BaseGeometry, *, zone_id: int | None, zone_key: str, version: int,
            kind: str, origin: str, policy: str, party_id: int | None, by: str, props: dict,
            refs: Mapping | None = None, build_id: int | None = None) -> int:
    refs = refs or {}
    principal = conn.info.get("principal")
    row = conn.execute(sql("zone_insert"), {
        "wkb": geom.wkb, "zone_id": zone_id, "zone_key": zone_key, "version": version, "kind": kind,
        "origin": origin, "policy": policy, "party_id": party_id, "unit_id": refs.get("unit_id"),
        "street_id": refs.get("street_id"), "compound_id": refs.get("compound_id"),
        "market_id": refs.get("market_id"), "props": json.dumps(props, ensure_ascii=False), "build_id": build_id,
        "created_by": principal.name if principal is not None else by, "ts": ts}).one()
    return int(row.zone_id)


def _new_version(conn: Connection, ts: datetime, cur: Mapping, geom: BaseGeometry, *, by: str,
                 party_id: int | None = None, kind: str | None = None, note: str | None = None,
                 origin: str = "planner", policy: str | None = None) -> int:
    _close(conn, ts, cur["zone_id"])
    props = {k: v for k, v in dict(cur["props"] or {}).items() if k != "area_m2"}
    if note is not None:
        props["note"] = note
    return _insert(conn, ts, geom, zone_id=cur["zone_id"], zone_key=cur["zone_key"], version=cur["version"] + 1,
                   kind=kind or cur["kind"], origin=origin, policy=policy or cur["policy"],
                   party_id=cur["party_id"] if party_id is None else party_id, by=by, props=props, refs=cur,
                   build_id=cur["build_id"])


def _take(conn: Connection, ts: datetime, geom: BaseGeometry, found: list[dict], by: str) -> list[dict]:
    """Cut geom out of the zones found (new versions of them; a zone left empty is closed)."""
    taken = []
    for o in found:
        cur = _current(conn, o["zone_id"])
        rest = polygonal_or_empty(shapely.difference(shapely.from_wkb(cur["wkb"]), geom))
        if rest.is_empty:
            _close(conn, ts, o["zone_id"])
        else:
            _new_version(conn, ts, cur, rest, by=by, origin=cur["origin"])
        taken.append({**o, "deleted": rest.is_empty})
    return taken


def _is_residual(zone: Mapping) -> bool:
    return zone["kind"] == "street_space" and zone["provenance"] == "auto"


def _resolve_overlaps(conn: Connection, ts: datetime, geom: BaseGeometry, exclude: list[int], overlap: Overlap,
                      subject: str, by: str) -> tuple[BaseGeometry, dict]:
    """The geometry to store after the overlap rule, and what happened to the zones it met.

    The residual street space (auto street_space zones: "the rest of the street", the steward's or the grid
    officer's) always yields. Any other zone is protected: reject, clip (the edited zone yields) or take (it yields).
    """
    if overlap not in OVERLAP_MODES:
        raise InputError(f"overlap must be one of {', '.join(OVERLAP_MODES)}, got {overlap!r}", where="overlap")
    found = overlaps(conn, geom, exclude)
    if not found:
        return geom, {}
    residual = [o for o in found if _is_residual(o)]
    others = [o for o in found if o not in residual]
    report: dict = {}
    if others and overlap == "reject":
        raise ZoneOverlapError(_overlap_message(subject, others), overlaps=others)
    if others and overlap == "clip":
        geom = _difference(conn, geom, [o["zone_id"] for o in others])
        if geom.is_empty or geom.area == 0:
            raise ZoneOverlapError(f"{subject} lies entirely inside other zones: nothing is left after clipping",
                                   overlaps=others)
        report["clipped_by"] = others
        found = overlaps(conn, geom, exclude)
        residual = [o for o in found if _is_residual(o)]
    elif others:
        report["taken_from"] = _take(conn, ts, geom, others, by)
    if residual:
        report["street_space_taken"] = _take(conn, ts, geom, residual, by)
    # the overlays above, checked: the store never keeps an overlap (after a plain clip, `found` is that check)
    left = overlaps(conn, geom, exclude) if residual or "taken_from" in report else found
    if left:
        raise ZoneOverlapError(f"{subject} still overlaps after the overlap rule was applied (the shape is too "
                               "intricate to cut exactly: simplify it); " + _overlap_message(subject, left),
                               overlaps=left)
    return geom, report


def polygonal_or_empty(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a geometry (empty MultiPolygon when none)."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p) if not q.is_empty]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


def _check_policy(policy: str | None, current_policy: str | None = None) -> None:
    """A policy sent must exist (or be the zone's own, which may since have been retired)."""
    if policy is not None and policy != current_policy and policy not in list_policies():
        raise InputError(f"policy must name an existing policy: one of {', '.join(list_policies())}; got {policy!r}",
                         where="properties.policy")


def _requested_shape(feature, crs) -> BaseGeometry | None:
    """The shape a body asks for, in WGS84, for check_scope (None when it cannot be read: validation says why)."""
    if not isinstance(feature, ZoneFeature):
        return scope_shape(feature, crs)
    try:
        return feature.shape(crs)
    except (InputError, ValueError, TypeError):
        return None


def _sent_version(feature) -> object:
    """properties.version as sent (read before the body is validated: the precondition comes first)."""
    if isinstance(feature, ZoneFeature):
        return feature.props.version
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    return props.get("version") if isinstance(props, Mapping) else None


def _kind_for(party: Mapping, kind: str | None, *, field: str = "properties.kind") -> str:
    """The zone kind a party holds; a kind sent with it must be that one."""
    fits = ZONE_KIND_OF_PARTY[party["kind"]]
    if kind is not None and kind != fits:
        raise InputError(f"kind {kind!r} does not fit party {party['id']} ({party['name']}), a {party['kind']}: "
                         f"its zones are of kind {fits!r}; a {kind} zone is held by a "
                         f"{' or '.join(PARTY_KINDS_OF_ZONE[kind])}", where=field)
    return fits


def _snap(conn: Connection, geom: BaseGeometry, own: BaseGeometry | None, exclude: list[int]) -> BaseGeometry:
    """geom with the rounding of our GeoJSON answers undone (see the module doc)."""
    rows = conn.execute(sql("zone_neighbours"), {"wkb": geom.wkb, "tol": SNAP_DEG,
                                                 "exclude": exclude or [0]}).scalars().all()
    return snap_to_stored(geom, own, [shapely.from_wkb(w) for w in rows])


def _area_ok(conn: Connection, geom: BaseGeometry, subject: str) -> None:
    area = conn.execute(sql("geodesic_area"), {"w": geom.wkb}).scalar_one()
    if area < MIN_AREA_M2:
        raise InputError(f"{subject} has {area:.2f} m²; a zone needs at least {MIN_AREA_M2} m²", where="geometry")


def create_zone(conn: Connection, feature: ZoneFeature | Mapping, *, overlap: Overlap = "reject",
                crs: ClientCrs | CrsSpec = "wgs84", repair: bool = False, by: str = "api") -> tuple[int, dict]:
    """A new planner-drawn zone held by properties.party_id; returns (zone_id, edit report).

    `feature` is the body the API validated (NewZoneFeature), or a mapping validated here the same way."""
    check_zone_scope(conn, [], _requested_shape(feature, crs))
    body = zone_body(feature, new=True)
    geom = polygonal(body.shape(crs), repair=repair)
    props = body.props
    _check_policy(props.policy)
    if props.party_id is None:
        raise InputError("properties.party_id is required: who is responsible for the new zone?",
                         where="properties.party_id")
    party = _party(conn, props.party_id)
    kind = _kind_for(party, props.kind)
    ts = _lock(conn)
    geom = _snap(conn, geom, None, [])
    _check_inside(conn, geom, None)
    geom, report = _resolve_overlaps(conn, ts, geom, [], overlap, "the new zone", by)
    _area_ok(conn, geom, "the new zone")
    ref = str(party["ref"])
    unit_id = int(ref.split(":", 1)[1]) if party["kind"] == "unit" and ref.startswith("unit:") else None
    zone_id = _insert(conn, ts, geom, zone_id=None, zone_key=f"planner:{uuid.uuid4().hex[:12]}", version=1,
                      kind=kind, origin="planner",
                      policy=props.policy or _default_policy(conn), party_id=party["id"], by=by,
                      props={"note": props.note} if props.note else {},
                      refs={"unit_id": unit_id})
    return zone_id, report


def replace_zone(conn: Connection, zone_id: int, feature: ZoneFeature | Mapping, *, overlap: Overlap = "reject",
                 crs: ClientCrs | CrsSpec = "wgs84", repair: bool = False, expected_version: Expected = None,
                 by: str = "api") -> tuple[int, dict]:
    """A new version of a zone with another geometry and/or party (the zone becomes planner-made).

    A party of another kind brings its kind of zone (unless kind is sent, which must fit it). A body that changes
    nothing (the zone as GET gave it) makes no new version: the report says {"unchanged": true}.
    """
    shape = _requested_shape(feature, crs)
    ts = _lock(conn)
    cur = _current(conn, zone_id)
    before = shapely.from_wkb(cur["wkb"])
    check_scope(conn, f"zone {zone_id}", before)
    check_scope(conn, f"the shape sent for zone {zone_id}", shape)
    check_version(cur, expected_version if expected_version is not None else _sent_version(feature))
    body = zone_body(feature)
    geom = body.shape(crs)
    if geom is not None:  # the rounding of our answers undone: the stored zone comes back as it is
        geom = before if answered_as(geom, before) else _snap(conn, polygonal(geom, repair=repair), before, [zone_id])
    props = body.props
    _check_policy(props.policy, cur["policy"])
    party_id, kind = props.party_id, props.kind
    if party_id is not None and party_id != cur["party_id"]:
        kind = _kind_for(_party(conn, party_id), kind)
    elif kind is not None and kind != cur["kind"] and cur["party_id"] is not None:
        _kind_for(_party(conn, cur["party_id"]), kind)
    elif party_id is not None:
        _party(conn, party_id)
    if _unchanged(cur, geom, party_id, kind, props):
        return zone_id, {"unchanged": True}
    report: dict = {}
    if geom is None:
        geom = before
    else:
        _check_inside(conn, geom, before)
        geom, report = _resolve_overlaps(conn, ts, geom, [zone_id], overlap, f"zone {zone_id}", by)
        _area_ok(conn, geom, f"zone {zone_id}")
    _new_version(conn, ts, cur, geom, by=by, party_id=party_id, kind=kind, note=props.note, policy=props.policy)
    return zone_id, report


def _unchanged(cur: Mapping, geom: BaseGeometry | None, party_id, kind, props: ZoneProperties) -> bool:
    """Whether an edit would store what is stored already."""
    same = ((party_id is None or party_id == cur["party_id"]) and (kind is None or kind == cur["kind"])
            and props.note in (None, (cur["props"] or {}).get("note"))
            and props.policy in (None, cur["policy"]))
    return same and (geom is None or _same_shape(geom, shapely.from_wkb(cur["wkb"])))


def _same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), 0) or shapely.equals(a, b))


def hand_over(conn: Connection, zone_ids: list[int], party_id: int, *, by: str) -> None:
    """New versions of zones held by another party (same shapes, same provenance), under the edit lock."""
    if not zone_ids:
        return
    ts = _lock(conn)
    for zone_id in zone_ids:
        cur = _current(conn, zone_id)
        _new_version(conn, ts, cur, shapely.from_wkb(cur["wkb"]), by=by, party_id=party_id, origin=cur["origin"])


def delete_zone(conn: Connection, zone_id: int, *, expected_version: Expected = None, by: str = "api") -> None:
    """Close a zone's current version; its history stays queryable."""
    ts = _lock(conn)
    cur = _current(conn, zone_id)
    check_scope(conn, f"zone {zone_id}", shapely.from_wkb(cur["wkb"]))
    check_version(cur, expected_version)
    _close(conn, ts, zone_id)


def revert_zone(conn: Connection, zone_id: int, version: int, *, overlap: Overlap = "reject",
                expected_version: Expected = None, by: str = "api") -> tuple[int, dict]:
    """A new version equal to an earlier one (geometry, party, kind); deleted zones can be brought back."""
    ts = _lock(conn)
    check_zone_scope(conn, [zone_id])
    old = conn.execute(sql("zone_feature"), {"zone_id": zone_id, "version": version}).mappings().first()
    if old is None:
        raise NotFoundError(f"zone {zone_id} has no version {version}", zone_id=zone_id)
    old_geom = shapely.from_wkb(old["wkb"])
    check_scope(conn, f"version {version} of zone {zone_id}", old_geom)
    geom = polygonal_or_empty(old_geom)
    cur = conn.execute(sql("zone_current"), {"zone_id": zone_id}).mappings().one_or_none()
    last = None
    if cur is None:  # a deleted zone: the precondition names the version that was deleted
        last = conn.execute(sql("zone_last_version"), {"z": zone_id}).mappings().one()
        require_version(zone_id, last["v"], expected_version, zone_id=zone_id)
    else:
        check_version(cur, expected_version)
    _check_inside(conn, geom, old_geom)
    geom, report = _resolve_overlaps(conn, ts, geom, [zone_id], overlap, f"version {version} of zone {zone_id}", by)
    note = f"reverted to version {version}"
    if cur is not None:
        _new_version(conn, ts, cur, geom, by=by, party_id=old["party_id"], kind=old["kind"], note=note)
        return zone_id, report
    props = {k: v for k, v in dict(last["p"] or {}).items() if k != "area_m2"} | {"note": note}
    _insert(conn, ts, geom, zone_id=zone_id, zone_key=last["zone_key"], version=last["v"] + 1, kind=old["kind"],
            origin="planner", policy=old["policy"], party_id=old["party_id"], by=by, props=props,
            refs={"unit_id": last["unit_id"]})
    return zone_id, report


def split_zone(conn: Connection, zone_id: int, line_feature: Mapping, *, crs="wgs84",
               expected_version: Expected = None, by: str = "api") -> list[int]:
    """Cut a zone along a line: the largest piece keeps the zone, the others become new zones of the same party."""
    ts = _lock(conn)
    cur = _current(conn, zone_id)
    geom = shapely.from_wkb(cur["wkb"])
    check_scope(conn, f"zone {zone_id}", geom)
    check_version(cur, expected_version)
    if not isinstance(line_feature, Mapping) or line_feature.get("type") != "Feature":
        raise InputError("the body must be a GeoJSON Feature with a LineString geometry", where="body")
    line = from_client(parse_geometry(line_feature.get("geometry"), kinds=("LineString",)), crs)
    pieces = split_polygon(geom, line)
    if len(pieces) < 2:
        raise InputError(f"the line does not cut zone {zone_id} in two: draw it across the zone, end to end",
                         where="geometry")
    pieces.sort(key=lambda g: -g.area)
    _new_version(conn, ts, cur, pieces[0], by=by, note=f"split: kept the largest of {len(pieces)} pieces")
    ids = [zone_id]
    for piece in pieces[1:]:
        ids.append(_insert(conn, ts, piece, zone_id=None, zone_key=f"planner:{uuid.uuid4().hex[:12]}", version=1,
                           kind=cur["kind"], origin="planner", policy=cur["policy"], party_id=cur["party_id"],
                           by=by, props={"note": f"split from zone {zone_id}"}, refs=cur))
    return ids


def split_polygon(geom: BaseGeometry, line: BaseGeometry) -> list[BaseGeometry]:
    """The polygons a line cuts a (multi)polygon into (the polygon itself when the line does not cross it)."""
    from shapely.ops import split

    out = []
    for part in shapely.get_parts(geom):
        out.extend(p for p in shapely.get_parts(split(part, line)) if p.geom_type == "Polygon" and p.area > 0)
    return [shapely.MultiPolygon([p]) for p in out]


def merge_zones(conn: Connection, ids: list[int], *, expected_versions: list[Expected] | None = None,
                party_id: int | None = None, by: str = "api") -> int:
    """Join touching zones into the first one (a new version); the others are closed.

    Under another party, the merged zone takes that party's kind of zone.
    """
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InputError("ids must list zone ids (integers)", where="ids")
    ts = _lock(conn)
    check_zone_scope(conn, list(dict.fromkeys(ids)))
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise InputError("ids must list at least two different zone ids", where="ids")
    expected_versions = expected_versions or [None] * len(ids)
    if len(expected_versions) != len(ids):
        raise InputError(f"versions must give one version per id ({len(ids)}), got {len(expected_versions)}",
                         where="versions")
    rows = [_current(conn, i) for i in ids]
    for row, expected in zip(rows, expected_versions, strict=True):
        check_version(row, expected)
    kind = _kind_for(_party(conn, party_id), None) if party_id is not None else None
    geoms = [shapely.from_wkb(r["wkb"]) for r in rows]
    union = shapely.union_all([shapely.buffer(g, 0) for g in geoms])
    if union.geom_type != "Polygon":
        raise InputError(f"zones {', '.join(map(str, ids))} do not form one connected area: only touching zones "
                         "can be merged", where="ids")
    union = shapely.MultiPolygon([union])
    _new_version(conn, ts, rows[0], union, by=by, party_id=party_id, kind=kind,
                 note=f"merged with zone(s) {', '.join(map(str, ids[1:]))}")
    for r in rows[1:]:
        _close(conn, ts, r["zone_id"])
    return ids[0]


def zone_feature(conn: Connection, zone_id: int, version: int | None = None) -> Mapping:
    """The current (or a given) version of a zone as a row with its WKB geometry."""
    row = conn.execute(sql("zone_feature"), {"zone_id": zone_id, "version": version}).mappings().first()
    if row is None:
        what = f"version {version} of zone {zone_id}" if version else f"zone {zone_id}"
        raise NotFoundError(f"{what} does not exist (or the zone was deleted: see /zones/{zone_id}/history)",
                            zone_id=zone_id)
    return row


def zone_versions(conn: Connection, zone_id: int) -> list[Mapping]:
    """Every version of a zone, oldest first."""
    rows = conn.execute(sql("zone_versions"), {"zone_id": zone_id}).mappings().all()
    if not rows:
        raise NotFoundError(f"zone {zone_id} does not exist", zone_id=zone_id)
    return rows
