"""Every role's token against every operation of the OpenAPI: the allowed/denied matrix, never a 5xx, and no
contact name or phone unmasked in any answer to an anonymous or public caller.

Each write operation must be listed in WRITES with the roles allowed to call it, so a new endpoint cannot be
added without deciding who may use it. Anonymous callers get 401 on writes and staff reads, roles outside the
list 403; allowed roles get past authorisation (whatever their dummy request then earns: 404, 409, 422, 428…).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.db.layers import PERSONAL_COLUMNS

ROLES = ("public", "party", "inspector", "grid_officer", "planner", "admin")
EDITORS = {"admin", "planner", "grid_officer"}
STAFF = EDITORS | {"inspector"}
ANYONE = set(ROLES) | {None}

WRITES = {
    ("POST", "/auth/token"): ANYONE,
    ("POST", "/lookup"): ANYONE,  # a batch read
    ("POST", "/zones"): EDITORS,
    ("POST", "/zones/merge"): EDITORS,
    ("PUT", "/zones/{zone_id}"): EDITORS,
    ("DELETE", "/zones/{zone_id}"): EDITORS,
    ("POST", "/zones/{zone_id}/revert"): EDITORS,
    ("POST", "/zones/{zone_id}/split"): EDITORS,
    ("POST", "/parties"): EDITORS,
    ("PATCH", "/parties/{record_id}"): {"admin", "planner"},
    ("PATCH", "/units/{record_id}"): STAFF,
    ("POST", "/uploads"): STAFF,
    ("POST", "/ogc/collections/{collectionId}/items"): EDITORS,
    ("PUT", "/ogc/collections/{collectionId}/items/{featureId}"): EDITORS,
    ("DELETE", "/ogc/collections/{collectionId}/items/{featureId}"): EDITORS,
}
STAFF_READS = {
    r"/exports/.*": STAFF,
    r"/audit": {"admin", "inspector"},
    r"/uploads/\{sha256\}": STAFF,
}
PATH_VALUES = {"collectionId": "zones", "featureId": "1", "layer": "zones", "z": "14", "x": "13700", "y": "6700",
               "sha256": "0" * 64, "code": "x"}


def _unmasked(value, path: str = "") -> list[str]:
    """Personal fields (contacts, phones) anywhere in a JSON answer that are not masked."""
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _unmasked(v, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return []
    hits = [f"{path}.{k}={v!r}" for k, v in value.items()
            if k in PERSONAL_COLUMNS and isinstance(v, str) and v and "*" not in v]
    return hits + [hit for k, v in value.items() if isinstance(v, dict | list) for hit in _unmasked(v, f"{path}.{k}")]


def _allowed(method: str, path: str) -> set:
    if method != "GET":
        return WRITES[(method, path)]
    for pattern, roles in STAFF_READS.items():
        if re.fullmatch(pattern, path):
            return roles
    return ANYONE


@pytest.fixture(scope="module")
def scan(nanjing):
    from gridsvc.settings import get_settings

    app = create_app(nanjing)
    ops = [(m.upper(), p, op) for p, item in app.openapi()["paths"].items() for m, op in item.items()]
    with nanjing.begin() as c:
        party = c.execute(text("INSERT INTO parties (kind, ref, name) VALUES ('street_steward', 'scan:1', '扫描管家') "
                               "ON CONFLICT (kind, ref) DO UPDATE SET name = EXCLUDED.name RETURNING id")).scalar_one()
    heads = {role: bearer(nanjing, f"scan-{role}", role, ("320102000000000",) if role == "grid_officer" else (),
                          party if role == "party" else None) for role in ROLES}
    heads[None] = {}
    settings = get_settings()
    old = settings.public_burst, settings.public_rate_per_s
    settings.public_burst, settings.public_rate_per_s = 100_000, 100_000.0  # the scan is not a flood
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, ops, heads
    finally:
        settings.public_burst, settings.public_rate_per_s = old


def test_every_write_operation_is_classified(scan):
    _, ops, _ = scan
    unlisted = sorted(f"{m} {p}" for m, p, _ in ops if m != "GET" and (m, p) not in WRITES)
    assert unlisted == [], "decide who may call these (WRITES): " + ", ".join(unlisted)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_role_against_every_operation(scan, role):
    client, ops, heads = scan
    problems = []
    for method, path, _op in ops:
        if path.startswith("/docs") or path == "/openapi.json":
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        if path == "/auth/token":
            kwargs = {"data": {"username": "nobody", "password": "wrong password"}}
        r = client.request(method, url, headers={**heads[role], "If-Match": "*"}, **kwargs)
        allowed = _allowed(method, path)
        if r.status_code >= 500:
            problems.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
        elif role not in allowed:
            want = 401 if role is None else 403
            if r.status_code != want:
                problems.append(f"{method} {url} as {role}: {r.status_code}, expected {want}")
        elif r.status_code == 401 and path != "/auth/token" or r.status_code == 403 and not (
                role == "grid_officer" and "outside your grids" in r.text):
            problems.append(f"{method} {url} as {role}: refused ({r.status_code}) though allowed: {r.text[:200]}")
        if role in (None, "public") and r.status_code == 200 and "json" in r.headers.get("content-type", ""):
            problems += [f"{method} {url} as {role}: unmasked {hit}" for hit in _unmasked(r.json())]
        if r.status_code >= 400 and not r.headers.get("content-type", "").startswith("text/html"):
            if not (r.json().get("detail")):
                problems.append(f"{method} {url} as {role}: {r.status_code} without a detail")
    assert problems == [], "\n".join(problems)
