"""Zones: one zone and its history, the planner's edits (create, replace, delete, split, merge, revert), validation.

The current zones as a GeoJSON FeatureCollection (GET /zones?bbox=) come from the layer factory in layers.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping

from ...geo.crs import ClientCrs
from ...geo.zone_geometry import rounded, to_client
from ...zones import edits as zone_edits
from ...zones import validation
from ...zones.body import NewZoneFeature, ZoneFeature
from ...zones.edits import Overlap
from ..dependencies import Conn
from ..geojson import GeoJSONResponse
from ..scope import MergeScope, NewZoneScope, ZoneScope
from ..security import CurrentUser, Writer, redact
from ..versions import IfMatch, etag, expected_version

router = APIRouter(tags=["zones"])
CrsParam = Annotated[ClientCrs, Query(description="coordinates of body and response "
                                                                      "(gcj02 for 高德 basemaps)")]
OverlapParam = Annotated[Overlap, Query(
    description="when the zone overlaps others: reject (409), clip (yours yields) or take (theirs yield)")]
RepairParam = Annotated[bool, Query(description="repair an invalid polygon with make_valid instead of 422")]


class LineFeature(BaseModel):
    """A GeoJSON Feature with the LineString to split along."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any] | None = None


class MergeRequest(BaseModel):
    """Zones to merge into the first one, optionally under another party."""

    ids: list[int] = Field(min_length=2, max_length=50)
    versions: list[int] | None = Field(default=None, max_length=50,
                                       description="the version of each zone you saw, in the order of ids (required)")
    party_id: int | None = None


def zone_geojson(row: Mapping, crs: str = "wgs84") -> dict:
    """A zone version row as a GeoJSON Feature (geometry in the client's CRS)."""
    geom = to_client(shapely.from_wkb(row["wkb"]), crs)
    props = {k: v for k, v in row.items() if k != "wkb"}
    return {"type": "Feature", "id": row["zone_id"], "geometry": mapping(rounded(geom)),
            "properties": props}


def _answer(conn, zone_id: int, report: dict, crs: str, response: Response, status: int = 200) -> dict:
    conn.commit()
    row = zone_edits.zone_feature(conn, zone_id)
    response.status_code = status
    response.headers["ETag"] = etag(zone_id, row["version"])
    if status == 201:
        response.headers["Location"] = f"/zones/{zone_id}"
    return zone_geojson(row, crs) | ({"edit": report} if report else {})


@router.get("/zones/validate", summary="Overlaps, gaps, detached zones, units without a zone, coverage")
def validate_zones(conn: Conn, limit: Annotated[int, Query(ge=1, le=100_000)] = 500) -> dict:
    """B's validation report on the current zones (lists cut at `limit`)."""
    return validation.validate(conn, limit=limit)


@router.post("/zones", status_code=201, response_class=GeoJSONResponse, summary="Draw a new zone for a party")
def create_zone(conn: Writer, scoped: NewZoneScope, response: Response, feature: Annotated[NewZoneFeature, Body()],
                overlap: OverlapParam = "reject", crs: CrsParam = "wgs84", repair: RepairParam = False) -> dict:
    """A planner-drawn zone; 409 names overlapped zones and areas, 422 outside the managed area."""
    zone_id, report = zone_edits.create_zone(conn, feature, overlap=overlap, crs=crs, repair=repair)
    return _answer(conn, zone_id, report, crs, response, 201)


@router.post("/zones/merge", response_class=GeoJSONResponse, summary="Merge touching zones into the first")
def merge_zones(conn: Writer, scoped: MergeScope, response: Response, body: MergeRequest, crs: CrsParam = "wgs84") -> dict:
    """The first zone gets the union (a new version); the others are closed."""
    zone_id = zone_edits.merge_zones(conn, body.ids, expected_versions=body.versions, party_id=body.party_id)
    return _answer(conn, zone_id, {"merged": body.ids[1:]}, crs, response)


@router.get("/zones/{zone_id:int}", response_class=GeoJSONResponse, summary="One zone (current version)")
def get_zone(conn: Conn, principal: CurrentUser, zone_id: int, response: Response, crs: CrsParam = "wgs84",
             version: Annotated[int | None, Query(ge=1, description="an older version")] = None) -> dict:
    """The zone with its party, provenance and validity; ETag names the version."""
    row = zone_edits.zone_feature(conn, zone_id, version)
    response.headers["ETag"] = etag(zone_id, row["version"])
    return redact(zone_geojson(row, crs), principal)


@router.put("/zones/{zone_id:int}", response_class=GeoJSONResponse, summary="Replace a zone's geometry or party")
def replace_zone(conn: Writer, scoped: ZoneScope, zone_id: int, response: Response, feature: Annotated[ZoneFeature, Body()],
                 overlap: OverlapParam = "reject", crs: CrsParam = "wgs84", repair: RepairParam = False,
                 if_match: IfMatch = None) -> dict:
    """A new version of the zone (planner-made from now on); the old one stays in the history."""
    zone_id, report = zone_edits.replace_zone(conn, zone_id, feature, overlap=overlap, crs=crs, repair=repair,
                                              expected_version=expected_version(if_match, zone_id))
    return _answer(conn, zone_id, report, crs, response)


@router.delete("/zones/{zone_id:int}", status_code=204, summary="Delete a zone (its history stays)")
def delete_zone(conn: Writer, scoped: ZoneScope, zone_id: int, if_match: IfMatch = None) -> Response:
    """Close the current version; revert brings it back."""
    zone_edits.delete_zone(conn, zone_id, expected_version=expected_version(if_match, zone_id))
    conn.commit()
    return Response(status_code=204)


@router.get("/zones/{zone_id:int}/history", summary="Every version of a zone")
def zone_history(conn: Conn, principal: CurrentUser, zone_id: int, crs: CrsParam = "wgs84") -> dict:
    """Versions oldest first, each with its party, provenance, author, validity and geometry."""
    versions = []
    for row in zone_edits.zone_versions(conn, zone_id):
        f = zone_geojson(row, crs)
        versions.append(f["properties"] | {"geometry": f["geometry"]})
    return {"zone_id": zone_id, "versions": redact(versions, principal)}


@router.post("/zones/{zone_id:int}/revert", response_class=GeoJSONResponse, summary="Revert to an earlier version")
def revert_zone(conn: Writer, scoped: ZoneScope, zone_id: int, response: Response,
                version: Annotated[int, Query(ge=1, description="the version to bring back")],
                overlap: OverlapParam = "reject", crs: CrsParam = "wgs84", if_match: IfMatch = None) -> dict:
    """A new version equal to the given one (also undeletes)."""
    zone_id, report = zone_edits.revert_zone(conn, zone_id, version, overlap=overlap,
                                             expected_version=expected_version(if_match, zone_id))
    return _answer(conn, zone_id, report, crs, response)


@router.post("/zones/{zone_id:int}/split", summary="Split a zone along a line")
def split_zone(conn: Writer, scoped: ZoneScope, zone_id: int, line: Annotated[LineFeature, Body()], crs: CrsParam = "wgs84",
               if_match: IfMatch = None) -> dict:
    """The largest piece keeps the zone id; the others become new zones of the same party."""
    ids = zone_edits.split_zone(conn, zone_id, line.model_dump(exclude_none=True), crs=crs,
                                expected_version=expected_version(if_match, zone_id))
    conn.commit()
    return {"type": "FeatureCollection",
            "features": [zone_geojson(zone_edits.zone_feature(conn, i), crs) for i in ids]}
