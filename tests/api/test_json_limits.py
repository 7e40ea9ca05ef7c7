"""JSON past Python's parser limits (100,000 levels of nesting, a 5,000-digit integer) is a 422 naming the problem,
as the error table promises for bad input, not FastAPI's generic 400 "There was an error parsing the body"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gridsvc.api.app import create_app

DEPTH = 100_000
DIGITS = 5_000
ENDPOINTS = [("POST", "/lookup", "application/json"), ("POST", "/zones", "application/geo+json"),
             ("POST", "/parties", "application/json")]


@pytest.fixture(scope="module")
def client(engine, admin_headers):
    with TestClient(create_app(engine), headers=admin_headers) as c:
        yield c


def _send(client, method: str, path: str, media: str, body: str):
    return client.request(method, path, content=body.encode(), headers={"content-type": media})


@pytest.mark.parametrize(("method", "path", "media"), ENDPOINTS)
@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_deeply_nested_json_is_422_naming_the_depth(client, method, path, media, bracket):
    opening, closing = ('{"a":', "}") if bracket == "{}" else ("[", "]")
    body = opening * DEPTH + "1" + closing * DEPTH
    r = _send(client, method, path, media, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InputError"
    assert "nests arrays or objects too deeply" in r.json()["detail"] and r.json()["context"]["where"] == "body"


@pytest.mark.parametrize(("method", "path", "media"), ENDPOINTS)
def test_overlong_integer_is_422_naming_the_digits(client, method, path, media):
    r = _send(client, method, path, media, '{"points": [[' + "7" * DIGITS + ", 30]], \"name\": 1}")
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InputError"
    assert "an integer of more than 4,300 digits" in r.json()["detail"]


def test_ordinary_bad_json_still_names_the_position(client):
    r = _send(client, "POST", "/lookup", "application/json", '{"points": [[118.78, 32.04]')
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = _send(client, "POST", "/lookup", "application/json", '{"points": [[118.78, 32.04]], "crs": "wgs84"}')
    assert r.status_code in (200, 404)  # a well-formed body is read as before
