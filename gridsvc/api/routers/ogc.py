"""OGC API – Features at /ogc: Part 1 core (GeoJSON) for every layer, Part 4 create/replace/delete on zones."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Connection

from ...db.layer_sql import bbox_period_filter, layer_bounds
from ...db.layers import LAYERS, LayerSpec, layer_spec
from ...errors import MethodNotAllowedError, NotFoundError, OGCParameterError
from ...zones import edits as zone_edits
from ...zones.body import NewZoneFeature, ZoneFeature
from ..dependencies import Page, ReadConn
from ..geojson import GeoJSONResponse, feature_collection
from ..scope import NewZoneScope, OGCItemScope
from ..security import ReadUser, Writer, own_records, redact
from ..versions import IfMatch as IfMatchHeader
from ..versions import etag, expected_version
from .zones import OverlapParam, RepairParam

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
CORE_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)  # not oas30: FastAPI describes the API in OpenAPI 3.1, which that class does not cover
# Part 4 (create, replace, delete) on the zones collection, under the same validation as /zones.
PART4_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
)
EDITABLE = ("zones",)
DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000


def _param_name(loc: tuple) -> str:
    return ".".join(str(p) for p in loc[1:]) or str(loc[0])


class OGCRoute(APIRoute):
    """Routes whose invalid or unknown query parameters are 400 (OGCParameterError), as OGC API requires."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        allowed = _query_names(self.dependant)

        async def ogc_handler(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - allowed)
            if unknown:
                raise OGCParameterError(f"unknown query parameter(s) {', '.join(unknown)}; this operation takes "
                                        f"{', '.join(sorted(allowed)) or 'none'}", where="query")
            try:
                return await handler(request)
            except RequestValidationError as e:
                errs = list(e.errors())
                if len(errs) == 1:
                    raise OGCParameterError(errs[0]["msg"], where=f"{errs[0]['loc'][0]} parameter "
                                                                  f"{_param_name(errs[0]['loc'])}") from None
                what = "; ".join(f"{_param_name(err['loc'])}: {err['msg']}" for err in errs)
                raise OGCParameterError(what, where="query") from None

        return ogc_handler


def _query_names(dependant) -> set[str]:
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(prefix="/ogc", tags=["OGC API – Features"], route_class=OGCRoute)
FormatParam = Annotated[Literal["json"] | None, Query(description="response format: json (the default)")]
CollectionId = Annotated[str, Path(description=f"one of: {', '.join(LAYERS)}", max_length=64)]
FeatureId = Annotated[str, Path(description="the feature's id (an H3 index in hex for cells)", max_length=64)]


def _link(href: str, rel: str, type_: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _openapi_type(request: Request) -> str:
    major_minor = ".".join(request.app.openapi_version.split(".")[:2])
    return f"application/vnd.oai.openapi+json;version={major_minor}"


@router.get("", summary="Landing page")
@router.get("/", include_in_schema=False)
def landing(request: Request, f: FormatParam = None) -> dict:
    """Title and links to the API definition, conformance and collections."""
    links = [_link(str(request.url_for("landing")), "self", JSON, "this document"),
             _link(str(request.url_for("conformance")), "conformance", JSON, "conformance classes"),
             _link(str(request.url_for("collections")), "data", JSON, "the collections")]
    if request.app.openapi_url:
        links.append(_link(str(request.base_url).rstrip("/") + request.app.openapi_url, "service-desc",
                           _openapi_type(request), "the API definition"))
    if any(getattr(r, "path", None) == "/docs" for r in request.app.routes):
        links.append(_link(str(request.base_url).rstrip("/") + "/docs", "service-doc", HTML, "the API documentation"))
    return {"title": "gridsvc – OGC API Features",
            "description": "H3 unit grids, streets, compounds, markets, frontage units and 门前三包 responsibility "
                           "zones of the managed area, as OGC API – Features collections.",
            "links": links}


@router.get("/conformance", summary="Conformance classes")
def conformance(f: FormatParam = None) -> dict:
    """The OGC API – Features requirement classes this API implements."""
    return {"conformsTo": [*CORE_CLASSES, *PART4_CLASSES]}


def _collection(request: Request, conn: Connection, spec: LayerSpec) -> dict:
    """One collection's description with its extent from ST_Extent."""
    own = str(request.url_for("collection", collectionId=spec.name))
    doc = {"id": spec.name, "title": spec.label,
           "description": f"{spec.label}: {spec.geom_type.lower()} features, attributes {', '.join(spec.columns)}",
           "links": [_link(own, "self", JSON, spec.label),
                     _link(str(request.url_for("items", collectionId=spec.name)), "items", GEOJSON,
                           f"{spec.label} as GeoJSON")],
           "itemType": "feature", "crs": [CRS84]}
    bbox = layer_bounds(conn, spec)
    if bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [list(bbox)], "crs": CRS84}}
    return doc


@router.get("/collections", summary="The collections: every stored layer")
def collections(request: Request, conn: ReadConn, f: FormatParam = None) -> dict:
    """Every layer as a collection, with extent and links."""
    return {"links": [_link(str(request.url_for("collections")), "self", JSON, "the collections")],
            "collections": [_collection(request, conn, spec) for spec in LAYERS.values()]}


@router.get("/collections/{collectionId}", summary="One collection")
def collection(request: Request, conn: ReadConn, collectionId: CollectionId, f: FormatParam = None) -> dict:
    """A collection's description: title, extent (CRS84), item type, links."""
    return _collection(request, conn, layer_spec(collectionId))


def parse_ogc_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """OGC bbox 'minx,miny,maxx,maxy' (or 6 numbers with heights, ignored) in CRS84; minx > maxx crosses 180°."""
    if value is None:
        return None
    try:
        nums = [float(p) for p in value.split(",")]
    except ValueError:
        nums = []
    if len(nums) not in (4, 6) or not all(math.isfinite(n) for n in nums):
        raise OGCParameterError(f"bbox must be 4 (or 6) comma-separated numbers minLng,minLat,maxLng,maxLat; "
                                f"got {value!r}", where="query parameter bbox")
    minx, miny, maxx, maxy = nums if len(nums) == 4 else (nums[0], nums[1], nums[3], nums[4])
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise OGCParameterError(f"bbox {value!r} is out of range (longitudes -180..180, latitudes -90..90, "
                                f"minLat ≤ maxLat)", where="query parameter bbox")
    return minx, miny, maxx, maxy


_OPEN = {"", ".."}


def _instant(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise OGCParameterError(f"{text!r} is not an RFC 3339 date-time such as 2024-05-01T08:00:00Z",
                                where="query parameter datetime") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """OGC datetime: an instant, or an interval 'start/end' with '..' or '' for an open end."""
    if value is None:
        return None
    if "/" not in value:
        t = _instant(value)
        return t, t
    start, _, end = value.partition("/")
    if start in _OPEN and end in _OPEN:
        raise OGCParameterError("datetime interval must have at least one end", where="query parameter datetime")
    lo = None if start in _OPEN else _instant(start)
    hi = None if end in _OPEN else _instant(end)
    if lo and hi and lo > hi:
        raise OGCParameterError(f"datetime interval {value!r} ends before it starts", where="query parameter datetime")
    return lo, hi


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _paging_links(request: Request, spec: LayerSpec, page: Page, matched: int, returned: int) -> list[dict]:
    """self, next, prev (keeping the other query parameters) and the collection."""
    url = request.url
    links = [_link(str(url), "self", GEOJSON, "this page"),
             _link(str(request.url_for("collection", collectionId=spec.name)), "collection", JSON, spec.label)]
    if page.offset + returned < matched:
        links.append(_link(str(url.include_query_params(limit=page.limit, offset=page.offset + page.limit)),
                           "next", GEOJSON, "next page"))
    if page.offset > 0:
        links.append(_link(str(url.include_query_params(limit=page.limit, offset=max(0, page.offset - page.limit))),
                           "prev", GEOJSON, "previous page"))
    return links


@router.get("/collections/{collectionId}/items", summary="Features of a collection (GeoJSON)",
            response_class=GeoJSONResponse)
def items(
    request: Request, conn: ReadConn, principal: ReadUser, collectionId: CollectionId,
    bbox: Annotated[str | None, Query(description="minLng,minLat,maxLng,maxLat in CRS84 (features that intersect it)",
                                      max_length=300)] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100,
                                           description="instant or interval (start/end, '..' open); "
                                                       "filters layers with a validity period (zones)")] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size; larger values are cut to {MAX_LIMIT}",
                                json_schema_extra={"maximum": MAX_LIMIT})] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="features to skip (follow the `next` link instead)")] = 0,
    f: FormatParam = None,
) -> GeoJSONResponse:
    """One page of features: numberMatched, numberReturned, timeStamp and next/prev links."""
    spec = layer_spec(collectionId)
    where, params = bbox_period_filter(spec, parse_ogc_bbox(bbox), parse_datetime(datetime_))
    page = Page(min(limit, MAX_LIMIT), offset)
    fc = feature_collection(conn, spec, None, page, str(request.url), where=where, params=params)
    fc["timeStamp"] = _now()
    fc["links"] = _paging_links(request, spec, page, fc["numberMatched"], fc["numberReturned"])
    return GeoJSONResponse(redact(fc, principal, records=own_records(conn, principal, spec.table)))


_HEX = re.compile(r"[0-9a-fA-F]{1,16}")


def _feature_key(spec: LayerSpec, fid: str) -> int | None:
    """The key value for a feature id: hex H3 index for cells, a decimal integer otherwise; None if malformed."""
    if spec.key == "h3":
        return int(fid, 16) if _HEX.fullmatch(fid) and int(fid, 16) < 2**63 else None
    return int(fid) if fid.isascii() and fid.isdigit() and len(fid) <= 10 and int(fid) < 2**31 else None


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature (GeoJSON)",
            response_class=GeoJSONResponse)
def item(request: Request, conn: ReadConn, principal: ReadUser, collectionId: CollectionId,
         featureId: FeatureId,
         f: FormatParam = None) -> GeoJSONResponse:
    """A feature by id; 404 when there is none."""
    spec = layer_spec(collectionId)
    key = _feature_key(spec, featureId)
    fc = None if key is None else feature_collection(conn, spec, None, Page(1, 0), "", where=f"{spec.key} = :fid",
                                                     params={"fid": key})
    if not fc or not fc["features"]:
        raise NotFoundError(f"no feature {featureId!r} in collection {spec.name!r}")
    feature = fc["features"][0]
    feature["links"] = [
        _link(str(request.url_for("item", collectionId=spec.name, featureId=featureId)), "self", GEOJSON, "this feature"),
        _link(str(request.url_for("collection", collectionId=spec.name)), "collection", JSON, spec.label)]
    version = feature["properties"].get("version") if spec.name in EDITABLE else None
    return GeoJSONResponse(redact(feature, principal, records=own_records(conn, principal, spec.table)), headers={"ETag": etag(key, version)} if version else None)


def _editable(spec: LayerSpec, method: str) -> None:
    if spec.name not in EDITABLE:
        raise MethodNotAllowedError(f"{method} is not allowed on collection {spec.name!r}: only "
                                    f"{', '.join(EDITABLE)} can be edited", allow="GET")


def _zone_id(featureId: str) -> int:
    key = _feature_key(LAYERS["zones"], featureId)
    if key is None:
        raise NotFoundError(f"no feature {featureId!r} in collection 'zones'")
    return key


@router.post("/collections/{collectionId}/items", status_code=201, summary="Create a feature (Part 4; zones)")
def create_item(request: Request, conn: Writer, scoped: NewZoneScope, collectionId: CollectionId,
                feature: Annotated[NewZoneFeature, Body(media_type=GEOJSON)],
                overlap: OverlapParam = "reject", repair: RepairParam = False) -> Response:
    """A new zone from a GeoJSON feature (properties.party_id); 201 with its Location."""
    spec = layer_spec(collectionId)
    _editable(spec, "POST")
    zone_id, _ = zone_edits.create_zone(conn, feature, overlap=overlap, repair=repair)
    conn.commit()
    url = str(request.url_for("item", collectionId=spec.name, featureId=str(zone_id)))
    return Response(status_code=201, headers={"Location": url, "ETag": etag(zone_id, 1)})  # a new zone


@router.put("/collections/{collectionId}/items/{featureId}", status_code=204,
            summary="Replace a feature (Part 4; zones)")
def replace_item(conn: Writer, scoped: OGCItemScope, collectionId: CollectionId, featureId: FeatureId,
                 feature: Annotated[ZoneFeature, Body(media_type=GEOJSON)], overlap: OverlapParam = "reject",
                 repair: RepairParam = False, if_match: IfMatchHeader = None) -> Response:
    """A new version of the zone; properties.version or If-Match guard against lost edits."""
    spec = layer_spec(collectionId)
    _editable(spec, "PUT")
    zone_id = _zone_id(featureId)
    zone_edits.replace_zone(conn, zone_id, feature, overlap=overlap, repair=repair,
                            expected_version=expected_version(if_match, zone_id))
    conn.commit()
    return Response(status_code=204, headers={"ETag": etag(zone_id, zone_edits.zone_feature(conn, zone_id)["version"])})


@router.delete("/collections/{collectionId}/items/{featureId}", status_code=204,
               summary="Delete a feature (Part 4; zones)")
def delete_item(conn: Writer, scoped: OGCItemScope, collectionId: CollectionId, featureId: FeatureId,
                if_match: IfMatchHeader = None) -> Response:
    """Close the zone's current version (its history stays)."""
    spec = layer_spec(collectionId)
    _editable(spec, "DELETE")
    zone_id = _zone_id(featureId)
    zone_edits.delete_zone(conn, zone_id, expected_version=expected_version(if_match, zone_id))
    conn.commit()
    return Response(status_code=204)
