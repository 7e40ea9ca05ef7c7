"""Every role's token against every operation of the OpenAPI: the allowed/denied matrix of the role table
(gridsvc/people/roles.toml), never a 5xx, and no contact name or phone unmasked in any answer to a role that may
not see them.

Each write operation (and staff read) must be listed in WRITES (STAFF_READS) with the action of the role table
it needs, so a new endpoint cannot be added without deciding who may use it. Anonymous callers get 401 on
writes and staff reads, roles outside the action's list 403; allowed roles get past authorisation (whatever
their dummy request then earns: 404, 409, 422, 428…).

Leaks are found without the product's own list of personal columns: any field named like a contact or phone,
and any text holding a phone number, must be masked.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.people.roles import role_table

TABLE = role_table()
ROLES = TABLE.roles
ANYONE = "anyone"

WRITES = {
    ("POST", "/auth/token"): ANYONE,
    ("POST", "/lookup"): ANYONE,  # a batch read
    ("POST", "/zones"): "zones.edit",
    ("POST", "/zones/merge"): "zones.edit",
    ("PUT", "/zones/{zone_id}"): "zones.edit",
    ("DELETE", "/zones/{zone_id}"): "zones.edit",
    ("POST", "/zones/{zone_id}/revert"): "zones.edit",
    ("POST", "/zones/{zone_id}/split"): "zones.edit",
    ("POST", "/parties"): "parties.create",
    ("PATCH", "/parties/{record_id}"): "fields:parties",
    ("PATCH", "/units/{record_id}"): "fields:units",
    ("POST", "/uploads"): "uploads.write",
    ("POST", "/ogc/collections/{collectionId}/items"): "zones.edit",
    ("PUT", "/ogc/collections/{collectionId}/items/{featureId}"): "zones.edit",
    ("DELETE", "/ogc/collections/{collectionId}/items/{featureId}"): "zones.edit",
    ("POST", "/cases"): "cases.report",
    ("POST", "/cases/{case_id}/actions"): "cases.act",
    ("POST", "/ratings/{unit_id}/override"): "ratings.override",
    ("POST", "/units/{unit_id}/credit"): "credit.write",
    ("POST", "/units/{unit_id}/board"): "boards.write",
    ("POST", "/units/{unit_id}/pledge"): "boards.write",
    ("POST", "/c/{token}/rectify"): ANYONE,  # the signed case link is the credential (404 for the scan's "1")
    ("POST", "/org/teams"): "org.edit",
    ("PUT", "/compounds/{compound_id}/head"): "compounds.head",
    ("POST", "/inspections"): "inspections.record",
    ("POST", "/inspections/{inspection_id}/cases"): "cases.report",
    ("POST", "/hotline/imports"): "hotline.import",
    ("POST", "/hotline/orders/{number}/place"): "hotline.import",
    ("POST", "/reports"): ANYONE,  # 随手拍: anonymous reporting is allowed (rate-limited)
    ("PATCH", "/reports/{code}"): "reports.manage",
    ("POST", "/open311/v2/requests.{format}"): "open311.report",  # api_key (or Bearer); without one the spec's 403
}
STAFF_READS = {
    r"/exports/.*": "exports.read",
    r"/audit": "audit.read",
    r"/uploads/\{sha256\}": "uploads.read",
    r"/ratings|/units/\{unit_id\}/(credit|board)|/boards/coverage": "ratings.read",
    r"/cases/\{case_id\}/notices/\{kind\}\.pdf": "cases.notices",
    r"/inspections(/\{inspection_id\})?": "inspections.read",
    r"/hotline/orders|/hotline/replies\.\{fmt\}": "hotline.read",
    r"/bulletins/\{kind\}/\{period\}\.\{fmt\}": "bulletins.read",
    r"/dashboard/.*": "dashboard.read",
}
PATH_VALUES = {"collectionId": "zones", "featureId": "1", "layer": "zones", "z": "14", "x": "13700", "y": "6700",
               "sha256": "0" * 64, "code": "x", "unit_id": "1", "fmt": "xlsx", "format": "json"}
# The test's own idea of personal data, independent of gridsvc.people.masking.PERSONAL_COLUMNS: fields named like a
# contact person or a phone, and Chinese mobile or landline numbers in any text.
PERSONAL_NAME = re.compile(r"(^|_)(contact|phone|mobile|tel|telephone|手机|电话|联系人)($|_)", re.I)
PHONE_NUMBER = re.compile(r"(?<![\d*])(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?![\d*])")


def _unmasked(value, path: str = "", key: str = "") -> list[str]:
    """Personal data (contacts, phones) anywhere in a JSON answer that is not masked."""
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _unmasked(v, f"{path}[{i}]", key)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _unmasked(v, f"{path}.{k}", str(k))]
    if not (isinstance(value, str) and value):
        return []
    if PERSONAL_NAME.search(key) and "*" not in value or PHONE_NUMBER.search(value):
        return [f"{path}={value!r}"]
    return []


def _roles(rule: str) -> set:
    if rule == ANYONE:
        return set(ROLES) | {None}
    if rule.startswith("fields:"):
        return set(TABLE.editors(rule.removeprefix("fields:")))
    return set(TABLE.allowed(rule))


def _allowed(method: str, path: str) -> set:
    if method != "GET":
        return _roles(WRITES[(method, path)])
    for pattern, action in STAFF_READS.items():
        if re.fullmatch(pattern, path):
            return _roles(action)
    return _roles(ANYONE)


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
    old = settings.public_burst, settings.public_rate_per_s, settings.public_total_rate_per_s
    settings.public_burst, settings.public_rate_per_s = 100_000, 100_000.0  # the scan is not a flood
    settings.public_total_rate_per_s = 100_000.0
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, ops, heads
    finally:
        settings.public_burst, settings.public_rate_per_s, settings.public_total_rate_per_s = old


def test_the_tables_actions_are_all_used_by_the_scan():
    used = {rule for rule in [*WRITES.values(), *STAFF_READS.values()] if rule != ANYONE}
    assert {a for a in TABLE.actions if not a.startswith("personal.")} <= used
    assert {f"fields:{t}" for t in TABLE.fields} <= used


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
            want = 401 if role is None and not path.startswith("/open311/") else 403  # Open311: 403, the spec's
            if r.status_code != want:
                problems.append(f"{method} {url} as {role}: {r.status_code}, expected {want}")
        elif r.status_code == 401 and path != "/auth/token" or r.status_code == 403 and not (
                role == "grid_officer" and "outside your grids" in r.text):
            problems.append(f"{method} {url} as {role}: refused ({r.status_code}) though allowed: {r.text[:200]}")
        if role not in TABLE.allowed("personal.read") and r.status_code == 200 \
                and "json" in r.headers.get("content-type", "") \
                and not path.startswith("/open311/v2/discovery"):  # its "contact" is the office's (the spec's field)
            problems += [f"{method} {url} as {role}: unmasked {hit}" for hit in _unmasked(r.json())]
        if r.status_code >= 400 and not r.headers.get("content-type", "").startswith("text/html"):
            body = r.json()
            if path.startswith("/open311/"):  # the GeoReport v2 form: [{"code", "description"}]
                body = {"detail": body[0].get("description")} if isinstance(body, list) and body else {}
            if not (body.get("detail")):
                problems.append(f"{method} {url} as {role}: {r.status_code} without a detail")
    assert problems == [], "\n".join(problems)


BAD_CONTENT = {  # what a body or query can get wrong, each refused by some check before the handler
    "malformed JSON": {"content": b'{"name": "broken', "headers": {"Content-Type": "application/json"}},
    "NaN in JSON": {"content": b'{"x": NaN}', "headers": {"Content-Type": "application/json"}},
    "NUL in the query": {"params": {"q": "a\x00b"}, "json": {}},
    "over the body limit": {"content": b"x" * (30 * 1024 * 1024), "headers": {"Content-Type": "application/json"}},
}


@pytest.mark.parametrize("role", [None, "party", "public_officer"])
def test_permission_comes_before_content(scan, role):
    """A caller who may not write is told so (401/403) whatever is wrong with the request's content: the role is
    checked before any body is read (gridsvc/api/scope.RolesFirst)."""
    client, ops, heads = scan
    role = "grid_officer" if role == "public_officer" else role  # a staff role lacking most write actions
    problems = []
    for method, path, _op in ops:
        if method == "GET" or path.startswith("/open311/") or role in _allowed(method, path):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)
        want = 401 if role is None else 403
        for what, kwargs in BAD_CONTENT.items():
            extra = kwargs.get("headers", {})
            r = client.request(method, url, headers={**heads[role], **extra, "If-Match": "*"},
                               **{k: v for k, v in kwargs.items() if k != "headers"})
            if r.status_code != want:
                problems.append(f"{method} {url} as {role} with {what}: {r.status_code}, expected {want}: "
                                f"{r.text[:120]}")
    assert problems == [], "\n".join(problems)


def test_the_leak_detector_finds_contacts_and_phones_by_itself():
    answer = {"features": [{"properties": {"steward_phone": "13812345678", "note": "联系 025-84000000",
                                           "contact": "张**", "phone": "138****5678", "code": "320102003005028"}}]}
    assert _unmasked(answer) == [".features[0].properties.steward_phone='13812345678'",
                                 ".features[0].properties.note='联系 025-84000000'"]
