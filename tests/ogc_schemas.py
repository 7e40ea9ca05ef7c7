"""JSON Schemas of the OGC API – Features Part 1 core and GeoJSON responses, written from the standard (17-069r4).

The official schemas (schemas.opengis.net/ogcapi/features/part1/1.0/openapi/schemas/) are OpenAPI 3.0 schema
objects and cannot be fetched here; these say the same things in JSON Schema 2020-12: the required members,
their types and the link structure.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BASE = "urn:ogcapi-features-1:"


def _ref(name: str) -> dict:
    return {"$ref": f"{BASE}{name}"}


POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
RING = {"type": "array", "minItems": 4, "items": POSITION}


def _geometry(kind: str, coordinates: dict) -> dict:
    return {"type": "object", "required": ["type", "coordinates"],
            "properties": {"type": {"const": kind}, "coordinates": coordinates}}


SCHEMAS: dict[str, dict] = {
    "link": {
        "type": "object", "required": ["href", "rel"],
        "properties": {"href": {"type": "string", "format": "uri-reference"}, "rel": {"type": "string"},
                       "type": {"type": "string"}, "hreflang": {"type": "string"}, "title": {"type": "string"},
                       "length": {"type": "integer"}},
    },
    "links": {"type": "array", "items": _ref("link")},
    "landingPage": {
        "type": "object", "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": _ref("links")},
    },
    "confClasses": {
        "type": "object", "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "extent": {
        "type": "object",
        "properties": {
            "spatial": {"type": "object", "properties": {
                "bbox": {"type": "array", "minItems": 1, "items": {
                    "type": "array", "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
                    "items": {"type": "number"}}},
                "crs": {"type": "string", "enum": [CRS84]}}},
            "temporal": {"type": "object", "properties": {
                "interval": {"type": "array", "minItems": 1, "items": {
                    "type": "array", "minItems": 2, "maxItems": 2,
                    "items": {"type": ["string", "null"], "format": "date-time"}}},
                "trs": {"type": "string"}}},
        },
    },
    "collection": {
        "type": "object", "required": ["id", "links"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                       "links": _ref("links"), "extent": _ref("extent"), "itemType": {"type": "string"},
                       "crs": {"type": "array", "items": {"type": "string"}}},
    },
    "collections": {
        "type": "object", "required": ["links", "collections"],
        "properties": {"links": _ref("links"), "collections": {"type": "array", "items": _ref("collection")}},
    },
    "geometryGeoJSON": {"oneOf": [
        _geometry("Point", POSITION),
        _geometry("MultiPoint", {"type": "array", "items": POSITION}),
        _geometry("LineString", {"type": "array", "minItems": 2, "items": POSITION}),
        _geometry("MultiLineString", {"type": "array", "items": {"type": "array", "minItems": 2, "items": POSITION}}),
        _geometry("Polygon", {"type": "array", "items": RING}),
        _geometry("MultiPolygon", {"type": "array", "items": {"type": "array", "items": RING}}),
        {"type": "object", "required": ["type", "geometries"],
         "properties": {"type": {"const": "GeometryCollection"},
                        "geometries": {"type": "array", "items": _ref("geometryGeoJSON")}}},
    ]},
    "featureGeoJSON": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {"type": {"const": "Feature"},
                       "geometry": {"oneOf": [{"type": "null"}, _ref("geometryGeoJSON")]},
                       "properties": {"type": ["object", "null"]},
                       "id": {"type": ["string", "integer"]}, "links": _ref("links")},
    },
    "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"const": "FeatureCollection"},
                       "features": {"type": "array", "items": _ref("featureGeoJSON")},
                       "links": _ref("links"), "timeStamp": {"type": "string", "format": "date-time"},
                       "numberMatched": {"type": "integer", "minimum": 0},
                       "numberReturned": {"type": "integer", "minimum": 0}},
    },
}
REGISTRY = Registry().with_resources(
    (f"{BASE}{name}", Resource.from_contents({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}))
    for name, schema in SCHEMAS.items()
)


def validator(name: str) -> Draft202012Validator:
    """A validator of one schema (landingPage, confClasses, collections, collection, featureCollectionGeoJSON ...)."""
    return Draft202012Validator(_ref(name), registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)
