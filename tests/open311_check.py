"""Checking Open311 GeoReport v2 answers: JSON against the Open311 project's JSON Schemas (tests/open311_schemas,
vendored; discovery and errors derived from the spec, see NOTICE.md), XML against the spec's structure (element
names, order and required elements)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

HERE = Path(__file__).resolve().parent / "open311_schemas"
BASE = "https://schemas.open311.test/georeport-v2/"
W3C_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _load(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _w3c(value) -> bool:
    """The spec's datetimes: W3C (ISO 8601) with the time zone required."""
    if not isinstance(value, str):
        return True
    if not W3C_TIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a W3C datetime with its zone")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_formats.checks("uri", raises=ValueError)
def _uri(value) -> bool:
    if isinstance(value, str) and not (urlsplit(value).scheme and urlsplit(value).netloc):
        raise ValueError(f"{value!r} is not an absolute URI")
    return True


_swagger = _load("swagger.json")
SCHEMAS = {
    "services": _load("services.json"),
    "service_definition": _load("service-definition.json"),
    "requests": _load("requests.json"),
    "post": {"type": "array", "minItems": 1, "items": _swagger["definitions"]["RequestResponse"]},
    "token": {"type": "array", "minItems": 1, "items": _swagger["definitions"]["TokenResponse"]},
    "discovery": _load("derived/discovery.json"),
    "errors": _load("derived/errors.json"),
}
_registry = Registry().with_resources(
    (BASE + name, Resource.from_contents(_load(name), default_specification=DRAFT7))
    for name in ("request.json", "service.json"))


def validate_json(kind: str, data) -> None:
    """AssertionError naming every place where data breaks the schema of kind."""
    schema = dict(SCHEMAS[kind], **{"$id": BASE + f"{kind}.json"})
    validator = Draft7Validator(schema, registry=_registry, format_checker=_formats)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, f"{kind} answer breaks the Open311 schema:\n" + "\n".join(errors[:20])
    if kind in ("services", "requests"):  # the vendored list schemas put minItems on the items: no constraint
        assert isinstance(data, list)


# The spec's XML: for each root, the element of its items and their children in order (optional ones may be
# left out, required ones not).
REQUEST = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
           "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
           "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE = ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
XML_SHAPES = {
    "services": ("service", SERVICE, {"service_code", "service_name", "metadata", "type"}),
    "requests": ("request", REQUEST, {"service_request_id", "status", "service_code", "requested_datetime"}),
    "post": ("request", ["service_request_id", "token", "service_notice", "account_id"], set()),
    "token": ("request", ["service_request_id", "token"], {"service_request_id", "token"}),
    "errors": ("error", ["code", "description"], {"code", "description"}),
}
ROOTS = {"services": "services", "requests": "service_requests", "post": "service_requests",
         "token": "service_requests", "errors": "errors", "service_definition": "service_definition",
         "discovery": "discovery"}


def _in_order(el: ET.Element, order: list[str], required: set[str], where: str) -> None:
    tags = [c.tag for c in el]
    assert len(tags) == len(set(tags)), f"{where}: repeated elements {tags}"
    unknown = [t for t in tags if t not in order]
    assert not unknown, f"{where}: elements not in the spec: {unknown}"
    assert tags == [t for t in order if t in tags], f"{where}: order {tags}, the spec's {order}"
    missing = required - set(tags)
    assert not missing, f"{where}: missing {sorted(missing)}"


def validate_xml(kind: str, body: bytes) -> ET.Element:
    """The root element after checking the spec's structure; AssertionError naming what is wrong."""
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:60]
    root = ET.fromstring(body)
    assert root.tag == ROOTS[kind], f"root {root.tag}, expected {ROOTS[kind]}"
    if kind in XML_SHAPES:
        item, order, required = XML_SHAPES[kind]
        assert all(c.tag == item for c in root), [c.tag for c in root]
        for i, c in enumerate(root):
            _in_order(c, order, required, f"{kind}[{i}]")
            for leaf in c:
                assert len(leaf) == 0, f"{kind}[{i}].{leaf.tag} is not a leaf"
        if kind == "requests":
            for c in root:
                assert c.findtext("status") in ("open", "closed")
                for t in ("requested_datetime", "updated_datetime", "expected_datetime"):
                    if c.findtext(t):
                        _w3c(c.findtext(t))
        if kind == "services":
            for c in root:
                assert c.findtext("metadata") in ("true", "false") and c.findtext("type") == "realtime"
    elif kind == "service_definition":
        _in_order(root, ["service_code", "attributes"], {"service_code", "attributes"}, kind)
        for i, a in enumerate(root.find("attributes")):
            assert a.tag == "attribute"
            _in_order(a, ATTRIBUTE, {"variable", "code", "datatype", "required", "order", "description"},
                      f"attribute[{i}]")
            assert a.findtext("datatype") in ("string", "number", "datetime", "text", "singlevaluelist",
                                              "multivaluelist")
            values = a.find("values")
            assert (values is not None) == (a.findtext("datatype") in ("singlevaluelist", "multivaluelist"))
            for v in values if values is not None else ():
                assert v.tag == "value"
                _in_order(v, ["key", "name"], {"key", "name"}, "value")
    elif kind == "discovery":
        _in_order(root, ["changeset", "contact", "key_service", "endpoints"],
                  {"changeset", "contact", "key_service", "endpoints"}, kind)
        for e in root.find("endpoints"):
            assert e.tag == "endpoint"
            order = ["specification", "url", "changeset", "type", "formats"]
            _in_order(e, order, set(order), "endpoint")
            assert all(f.tag == "format" for f in e.find("formats"))
    return root
