"""Users, roles and audit: login, tokens, the allowed/denied matrix, grid officers' grids, masking, the log."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.people.users import create_user, disable_user, issue_api_token, revoke_tokens

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def city(nanjing):
    from gridsvc.zones.build import build_zones

    build_zones(nanjing, "三包")
    with nanjing.begin() as c:
        grid = c.execute(text("SELECT code FROM grid_cells g WHERE EXISTS (SELECT 1 FROM zones_current z WHERE "
                              "z.kind = 'street_space' AND ST_Contains(g.geom, ST_PointOnSurface(z.geom))) "
                              "ORDER BY code LIMIT 1")).scalar_one()
        party = c.execute(text("SELECT id FROM parties WHERE kind = 'unit' ORDER BY id LIMIT 1")).scalar_one()
        if c.execute(text("SELECT 1 FROM users WHERE name = 'auth-planner'")).first() is None:
            create_user(c, "auth-planner", "planner", PASSWORD)
    heads = {role: bearer(nanjing, f"auth-{role}", role, (grid,) if role == "grid_officer" else (),
                          party if role == "party" else None)
             for role in ("admin", "planner", "grid_officer", "inspector", "party", "public")}
    return nanjing, grid, party, heads


@pytest.fixture(scope="module")
def client(city):
    with TestClient(create_app(city[0])) as c:
        yield c


def _square_in(engine, where: str) -> dict:
    with engine.connect() as c:
        x, y = c.execute(text(f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Centroid(geom) AS p FROM grid_cells WHERE {where} "
                              "ORDER BY code LIMIT 1) s")).one()
    d = 1.5e-5
    return mapping(shapely.box(x - d, y - d, x + d, y + d))


def test_login_gives_a_jwt_and_wrong_passwords_one_message(client):
    r = client.post("/auth/token", data={"username": "auth-planner", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["name"] == "auth-planner" and me["role"] == "planner"
    for user, pw in (("auth-planner", "wrong password!"), ("nobody", PASSWORD)):
        bad = client.post("/auth/token", data={"username": user, "password": pw})
        assert bad.status_code == 401 and bad.json()["detail"] == "wrong user name or password"
        assert bad.headers["www-authenticate"] == "Bearer"
    assert client.get("/auth/me", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401


def test_revoked_tokens_and_disabled_users_stop_at_once(client, city):
    engine = city[0]
    with engine.begin() as c:
        create_user(c, "short-lived", "planner", PASSWORD)
        token = issue_api_token(c, "short-lived")
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/auth/me", headers=h).json()["name"] == "short-lived"
    with engine.begin() as c:
        assert revoke_tokens(c, "short-lived") == 1
    assert client.get("/auth/me", headers=h).status_code == 401
    jwt = client.post("/auth/token", data={"username": "short-lived", "password": PASSWORD}).json()["access_token"]
    with engine.begin() as c:
        disable_user(c, "short-lived")
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {jwt}"})
    assert r.status_code == 401 and "disabled" in r.json()["detail"]


WRITERS = {"admin", "planner", "grid_officer"}
PARTY_CREATORS = {"admin", "planner"}
STAFF = {"admin", "planner", "grid_officer", "inspector"}


@pytest.mark.parametrize("role", [None, "public", "party", "inspector", "grid_officer", "planner", "admin"])
def test_every_role_against_every_kind_of_endpoint(client, city, role):
    engine, grid, _, heads = city
    h = heads.get(role, {}) if role else {}
    expect_write = 201 if role in WRITERS else (401 if role is None else 403)
    with engine.connect() as c:
        steward = c.execute(text("SELECT id FROM parties ORDER BY id LIMIT 1")).scalar_one()
    body = {"type": "Feature", "geometry": _square_in(engine, f"code = '{grid}'"), "properties": {"party_id": steward}}
    r = client.post("/zones", json=body, headers=h)
    assert r.status_code == expect_write, (role, r.text)
    assert r.json().get("detail") or r.status_code == 201, "every refusal says why"
    if r.status_code == 201:
        zid = r.json()["id"]
        assert client.put(f"/zones/{zid}", json={"type": "Feature", "geometry": None, "properties": {"note": role}},
                          headers={**h, "If-Match": f'"{zid}-1"'}).status_code == 200
        assert client.delete(f"/zones/{zid}", headers={**h, "If-Match": f'"{zid}-2"'}).status_code == 204
    else:
        assert client.delete("/zones/1", headers={**h, "If-Match": "*"}).status_code == expect_write
    party = client.post("/parties", json={"kind": "street_steward", "name": f"{role} 管家"}, headers=h)
    assert party.status_code == (201 if role in PARTY_CREATORS else (401 if role is None else 403)), party.text
    ogc = client.post("/ogc/collections/zones/items", json=body, headers=h)
    assert ogc.status_code == (expect_write if role not in WRITERS else 201), ogc.text
    if ogc.status_code == 201:
        client.delete(ogc.headers["Location"].removeprefix("http://testserver"), headers={**h, "If-Match": "*"})
    export = client.get("/exports/boards.pdf", params={"grid": grid}, headers=h)
    assert export.status_code in ((200, 404) if role in STAFF else ((401,) if role is None else (403,))), export.text
    audit = client.get("/audit", params={"limit": 1}, headers=h)
    assert audit.status_code == (200 if role in ("admin", "inspector") else (401 if role is None else 403))
    # reads work for everyone; personal fields only for staff
    units = client.get("/units", params={"limit": 200}, headers=h).json()["features"]
    phones = [f["properties"]["phone"] for f in units if f["properties"].get("phone")]
    assert phones, "Nanjing shops have phones"
    assert all("****" in p for p in phones) == (role not in STAFF), role


def test_a_grid_officer_edits_only_in_their_grids(client, city):
    engine, grid, _, heads = city
    h = heads["grid_officer"]
    with engine.connect() as c:
        steward = c.execute(text("SELECT id FROM parties ORDER BY id LIMIT 1")).scalar_one()
        before = c.execute(text("SELECT count(*) FROM zones")).scalar_one()
    outside = {"type": "Feature", "geometry": _square_in(engine, f"code <> '{grid}' AND substr(code, 1, 12) <> "
                                                                 f"'{grid[:12]}'"), "properties": {"party_id": steward}}
    r = client.post("/zones", json=outside, headers=h)
    assert r.status_code == 403 and "outside your grids" in r.json()["detail"], r.text
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM zones")).scalar_one() == before, "nothing changed"
    with engine.connect() as c:
        foreign = c.execute(text(f"SELECT z.zone_id FROM zones_current z JOIN grid_cells g ON ST_Contains(g.geom, "
                                 f"ST_PointOnSurface(z.geom)) WHERE substr(g.code, 1, 12) <> '{grid[:12]}' "
                                 "ORDER BY z.zone_id LIMIT 1")).scalar_one()
    r = client.delete(f"/zones/{foreign}", headers={**h, "If-Match": "*"})
    assert r.status_code == 403
    assert client.get(f"/zones/{foreign}").status_code == 200


def test_every_write_is_audited_with_who_what_and_where(client, city):
    engine, grid, _, heads = city
    with engine.connect() as c:
        steward = c.execute(text("SELECT id FROM parties ORDER BY id LIMIT 1")).scalar_one()
        since = c.execute(text("SELECT clock_timestamp()")).scalar_one()  # ids restart with each test module's data
    body = {"type": "Feature", "geometry": _square_in(engine, f"code = '{grid}'"), "properties": {"party_id": steward}}
    zid = client.post("/zones", json=body, headers={**heads["planner"], "X-Gridsvc-Client": "ui"}).json()["id"]
    client.put(f"/zones/{zid}", json={"type": "Feature", "geometry": None, "properties": {"note": "复查", "version": 1}},
               headers=heads["planner"])
    log = client.get("/audit", params={"table": "zones", "record": str(zid), "since": since.isoformat()},
                     headers=heads["admin"]).json()
    entries = log["entries"]
    assert {e["actor"] for e in entries} == {"auth-planner"}
    assert {e["source"] for e in entries} == {"ui", "api"}
    update = next(e for e in entries if e["action"] == "update")  # the closing of version 1
    assert update["before"]["valid_to"] is None and update["after"]["valid_to"] is not None
    assert update["before"]["geom"]["type"] == "MultiPolygon"
    v2 = next(e for e in entries if e["action"] == "insert" and e["after"]["version"] == 2)
    assert v2["after"]["props"]["note"] == "复查"
    by_user = client.get("/audit", params={"actor": "auth-planner"}, headers=heads["inspector"]).json()
    assert by_user["count"] >= 3
    with engine.connect() as c:
        last = c.execute(text("SELECT max(id) FROM audit_log")).scalar_one()
    for stmt in ("UPDATE audit_log SET actor = 'x' WHERE id = :i", "DELETE FROM audit_log WHERE id = :i",
                 "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text(stmt), {"i": last})
    assert not any("password" in str(e) for e in client.get(
        "/audit", params={"table": "users"}, headers=heads["admin"]).json()["entries"])


def test_anonymous_clients_are_rate_limited(city, monkeypatch):
    from gridsvc.settings import get_settings

    monkeypatch.setattr(get_settings(), "public_burst", 5)
    monkeypatch.setattr(get_settings(), "public_rate_per_s", 0.5)
    with TestClient(create_app(city[0]), client=("203.0.113.9", 5000)) as c:
        codes = [c.get("/lookup", params={"lng": 118.7836, "lat": 32.0427}).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and 429 in codes[5:]
        r = c.get("/lookup", params={"lng": 118.7836, "lat": 32.0427})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "retry" in r.json()["detail"]
        authed = c.get("/lookup", params={"lng": 118.7836, "lat": 32.0427}, headers=city[3]["planner"])
        assert authed.status_code == 200


def _login(client, name: str) -> dict:
    r = client.post("/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.parametrize("shared_secret", [None, "one GRIDSVC_JWT_SECRET for every database of the folder"])
def test_a_token_is_good_only_in_the_database_that_issued_it(client, city, second_engine, monkeypatch,
                                                             shared_secret):
    from gridsvc.settings import get_settings

    monkeypatch.setattr(get_settings(), "jwt_secret", shared_secret)
    engine = city[0]
    for eng, role in ((engine, "planner"), (second_engine, "admin")):  # one name, two databases, two roles
        with eng.begin() as c:
            if c.execute(text("SELECT 1 FROM users WHERE name = 'twin'")).first() is None:
                create_user(c, "twin", role, PASSWORD)
    with second_engine.begin() as c:
        other_api_token = issue_api_token(c, "twin")
    planner = _login(client, "twin")
    with TestClient(create_app(second_engine)) as other:
        r = other.get("/auth/me", headers=planner)
        assert r.status_code == 401, r.text  # signed with another key, or (one shared secret) for another audience
        assert r.json()["detail"] == ("the token was issued by another gridsvc database: log in here (POST /auth/token)"
                                      if shared_secret else "the token is not valid")
        assert other.get("/audit", params={"limit": 1}, headers=planner).status_code == 401
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {other_api_token}"}).status_code == 401
        admin = _login(other, "twin")
        assert other.get("/audit", params={"limit": 1}, headers=admin).status_code == 200
        assert client.get("/audit", params={"limit": 1}, headers=admin).status_code == 401
    assert client.get("/auth/me", headers=planner).json()["role"] == "planner"


def test_a_token_names_its_user_by_id_not_by_name(client, city):
    engine = city[0]
    with engine.begin() as c:
        create_user(c, "renamed-later", "inspector", PASSWORD)
    h = _login(client, "renamed-later")
    with engine.begin() as c:  # the account goes; a new one of the same name is an admin
        c.execute(text("DELETE FROM users WHERE name = 'renamed-later'"))
        create_user(c, "renamed-later", "admin", PASSWORD)
    r = client.get("/auth/me", headers=h)
    assert r.status_code == 401 and "disabled or gone" in r.json()["detail"]
    assert client.get("/audit", params={"limit": 1}, headers=h).status_code == 401


def _guess(c, name: str, password: str = "wrong password!"):
    return c.post("/auth/token", data={"username": name, "password": password})


def test_failed_logins_are_throttled_per_account_with_growing_delays(city, database_url, monkeypatch):
    """Two apps on two engines stand for two worker processes: the count is shared through PostgreSQL."""
    import time

    from gridsvc.db.engine import make_engine
    from gridsvc.people import login_throttle, users

    engine = city[0]
    with engine.begin() as c:
        create_user(c, "throttled", "planner", PASSWORD)
    verified = []
    real = users._hasher

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, *args):
            verified.append(1)
            return real.verify(*args)

    monkeypatch.setattr(users, "_hasher", Counting())
    other_engine = make_engine(database_url)
    try:
        with TestClient(create_app(engine), client=("198.51.100.7", 1000)) as one, \
                TestClient(create_app(other_engine), client=("198.51.100.8", 1000)) as two:
            free = login_throttle.FREE["account"]
            codes = [_guess(one if i % 2 else two, "throttled").status_code for i in range(free)]
            assert codes == [401] * free, codes
            assert len(verified) == free
            refused = [_guess(one if i % 2 else two, "throttled") for i in range(30)]
            assert {r.status_code for r in refused} == {429}, [r.text for r in refused[:3]]
            assert len(verified) == free, "a refused guess costs no password check"
            r = refused[0]
            assert int(r.headers["retry-after"]) >= 1 and "too many failed logins for this account" in r.json()["detail"]
            right = _guess(one, "throttled", PASSWORD)
            assert right.status_code == 429, "the right password waits too while the account is blocked"
            time.sleep(int(right.headers["retry-after"]) + 0.1)
            assert _guess(two, "throttled").status_code == 401  # one more failure: blocked twice as long
            again = _guess(one, "throttled", PASSWORD)
            assert again.status_code == 429 and int(again.headers["retry-after"]) >= 2
            time.sleep(int(again.headers["retry-after"]) + 0.1)
            assert _guess(one, "throttled", PASSWORD).status_code == 200
            assert _guess(two, "throttled").status_code == 401, "a right password starts the count afresh"
    finally:
        other_engine.dispose()
    with engine.connect() as c:
        rows = c.execute(text("SELECT actor, action, after FROM audit_log WHERE table_name = 'login_throttle' "
                              "AND record_id = 'account:throttled' ORDER BY id")).all()
    actions = [r.action for r in rows]
    assert actions.count("login_blocked") == 2 and all(r.actor == "anonymous" for r in rows)
    refusals = [r.after["refused"] for r in rows if r.action == "login_refused"]
    assert refusals[:6] == [1, 2, 4, 8, 16, 1], refusals  # 30 refused, then the right password: a new block
    assert rows[0].after["user"] == "throttled" and rows[0].after["address"] in ("198.51.100.7", "198.51.100.8")


def test_failed_logins_are_throttled_per_address(city, monkeypatch):
    from gridsvc.people import login_throttle

    monkeypatch.setitem(login_throttle.FREE, "address", 4)
    with TestClient(create_app(city[0]), client=("198.51.100.99", 1000)) as c:
        assert [_guess(c, f"nobody-{i}").status_code for i in range(4)] == [401] * 4
        r = _guess(c, "auth-planner", PASSWORD)  # another account, the right password, the same address
        assert r.status_code == 429 and "this address" in r.json()["detail"] and r.headers["retry-after"]
    with TestClient(create_app(city[0]), client=("198.51.100.100", 1000)) as elsewhere:
        assert _guess(elsewhere, "auth-planner", PASSWORD).status_code == 200


def test_inspectors_rate_units_and_change_nothing_else(client, city):
    """Ratings are earned from records: an inspector changes no unit field by PATCH (403 before anything else);
    sending rating or credit_points is refused for every role, pointing at the override and the credit ledger."""
    engine, _, _, heads = city
    with engine.connect() as c:
        unit, version, name = c.execute(text("SELECT id, version, name FROM units ORDER BY id LIMIT 1")).one()
    h = {**heads["inspector"], "If-Match": f'"{unit}-{version}"'}
    for change in ({"name": "改名"}, {"address": "某路1号"}, {"contact": "李四"}, {"phone": "13900000000"},
                   {"rating": "red", "name": "改名"}):
        r = client.patch(f"/units/{unit}", json=change, headers=h)
        assert r.status_code == 403, r.text
    with engine.connect() as c:
        assert c.execute(text("SELECT version, name FROM units WHERE id = :u"), {"u": unit}).one() == (version, name)
    r = client.patch(f"/units/{unit}", json={"rating": "yellow"}, headers={**heads["admin"], "If-Match": "*"})
    assert r.status_code == 422 and "/ratings/{unit_id}/override" in r.text, r.text
    fix = client.patch(f"/units/{unit}", json={"address": "中山路1号"},
                       headers={**heads["grid_officer"], "If-Match": "*"})
    assert fix.status_code in (200, 403), fix.text  # a grid officer may change addresses (inside their grids)
    assert fix.status_code == 200 or "outside your grids" in fix.json()["detail"]


def test_grid_officers_do_not_create_parties(client, city):
    heads = city[3]
    r = client.post("/parties", json={"kind": "street_steward", "name": "网格员的管家"}, headers=heads["grid_officer"])
    assert r.status_code == 403 and "needs admin or planner" in r.json()["detail"], r.text
    assert client.post("/parties", json={"kind": "street_steward", "name": "规划的管家"},
                       headers=heads["planner"]).status_code == 201


def test_a_party_user_sees_its_own_contact_and_only_its_own(client, city):
    engine = city[0]
    with engine.connect() as c:
        mine, unit, phone, contact = c.execute(text(
            "SELECT p.id, u.id, u.phone, u.contact FROM units u JOIN parties p ON p.kind = 'unit' "
            "AND p.ref = 'unit:' || u.id WHERE u.phone IS NOT NULL ORDER BY u.id LIMIT 1")).one()
        other = c.execute(text("SELECT id FROM units WHERE phone IS NOT NULL AND id <> :u ORDER BY id LIMIT 1"),
                          {"u": unit}).scalar_one()
    h = bearer(engine, "own-shop", "party", party_id=mine)
    assert client.get(f"/parties/{mine}", headers=h).json()["phone"] == phone
    own = client.get(f"/units/{unit}", headers=h).json()
    assert (own["phone"], own["contact"]) == (phone, contact)
    item = client.get(f"/ogc/collections/units/items/{unit}", headers=h).json()
    assert item["properties"]["phone"] == phone
    page = client.get("/ogc/collections/units/items", params={"limit": 10_000}, headers=h).json()["features"]
    layer = client.get("/units", params={"limit": 10_000}, headers=h).json()["features"]
    for features in (page, layer):
        shown = {f["id"]: f["properties"]["phone"] for f in features if f["properties"].get("phone")}
        assert shown[unit] == phone and all("****" in p for u, p in shown.items() if u != unit)
    assert "****" in client.get(f"/units/{other}", headers=h).json()["phone"]
    assert "****" in client.get(f"/units/{unit}").json()["phone"], "anonymous callers see it masked"
