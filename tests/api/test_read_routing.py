"""Which routes read from the standbys of GRIDSVC_READ_URLS: exactly the documented ones, never mixed with the primary.

A route that took both connections would open one on the primary too, which is what replicas are to spare.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from sqlalchemy import create_engine

from gridsvc.api.app import create_app
from gridsvc.api.dependencies import get_conn, get_read_conn

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
        assert not (get_conn in calls and get_read_conn in calls), f"{method} {path} opens both connections"
        if get_read_conn in calls:
            readers.add((method, path))
    assert readers == READ_ROUTES
