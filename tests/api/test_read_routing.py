"""Which routes read from the standbys of GRIDSVC_READ_URLS: exactly the documented ones, never mixed with the primary.

A route that took both connections would open one on the primary too, which is what replicas are to spare.
"""

from __future__ import annotations

import psycopg
from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from gridsvc.api.app import create_app
from gridsvc.api.dependencies import get_conn, get_lazy_conn, get_read_conn

# (method, path) of every route that reads from a standby (docs/scaling.md#which-requests-read-from-a-standby)
READ_ROUTES = {
    ("GET", "/lookup"), ("POST", "/lookup"),
    ("GET", "/tiles"), ("GET", "/tiles/{layer}.json"), ("GET", "/tiles/{layer}/{z}/{x}/{y}.pbf"),
    *{("GET", p) for p in ("/streets", "/buildings", "/compounds", "/markets", "/units", "/grid/cells",
                           "/admin-units", "/zones")},
    ("GET", "/ogc/collections"), ("GET", "/ogc/collections/{collectionId}"),
    ("GET", "/ogc/collections/{collectionId}/items"), ("GET", "/ogc/collections/{collectionId}/items/{featureId}"),
}


def _calls(dependant) -> set:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _api_routes(routes):
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI includes them lazily)
            yield from _api_routes(route.original_router.routes)


def _routes():
    app = create_app(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), read_urls=[])
    for route in _api_routes(app.routes):
        for method in route.methods:
            yield method, route.path, _calls(route.dependant)


def test_read_routes_are_the_documented_ones_and_never_touch_the_primary():
    readers = set()
    for method, path, calls in _routes():
        reads = {get_read_conn, get_lazy_conn} & calls  # the lookups' lazy connection is a read connection too
        assert not (get_conn in calls and reads), f"{method} {path} opens both connections"
        if reads:
            readers.add((method, path))
    assert readers == READ_ROUTES


def test_a_read_cancelled_by_a_standby_answers_503_not_a_write_conflict():
    """A standby cancels a read that holds up its replay (SQLSTATE 40001, conflict with recovery): 503, retry."""
    app = create_app(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), read_urls=[])

    @app.get("/cancelled-read")
    def cancelled(request: Request, on: str):
        request.state.read_from = on
        raise OperationalError("SELECT …", {}, psycopg.errors.SerializationFailure(
            "canceling statement due to conflict with recovery"))

    with TestClient(app) as client:
        on_standby = client.get("/cancelled-read", params={"on": "replica-1"})
        assert on_standby.status_code == 503 and on_standby.headers["retry-after"]
        assert "read replica" in on_standby.json()["detail"]
        assert client.get("/cancelled-read", params={"on": "primary"}).status_code == 409  # a write's collision
