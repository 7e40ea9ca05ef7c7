"""Database errors become HTTP answers in one place: a deadlock is a 409 to resend, a lost server a 503."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from gridsvc.api.app import create_app


@pytest.mark.parametrize(("orig", "status", "words"), [
    (psycopg.errors.DeadlockDetected("deadlock detected"), 409, "send it again"),
    (psycopg.errors.SerializationFailure("could not serialize access"), 409, "nothing was changed"),
    (psycopg.OperationalError("connection refused"), 503, "not reachable"),
])
def test_operational_errors_are_told_apart(engine, orig, status, words, caplog):
    app = create_app(engine)

    @app.get("/boom")
    def boom():
        raise OperationalError("UPDATE zones …", {}, orig)

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == status and words in r.json()["detail"]
    assert ("Retry-After" in r.headers) == (status == 503)
    assert any("/boom" in m for m in caplog.messages), "the cause is logged"


def test_a_geos_topology_error_is_a_422_about_the_shape(engine):
    from sqlalchemy.exc import InternalError

    app = create_app(engine)
    orig = psycopg.errors.InternalError_("GEOSIntersects: TopologyException: side location conflict at "
                                         "118.7790817 32.0518121. This can occur if the input geometry is invalid.")

    @app.get("/topology")
    def topology():
        raise InternalError("SELECT …", {}, orig)

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/topology")
    assert r.status_code == 422, r.text
    assert "near 118.7790817 32.0518121" in r.json()["detail"] and r.json()["context"]["where"] == "geometry"
