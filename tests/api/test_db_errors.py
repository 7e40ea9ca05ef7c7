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
