"""Ratings over HTTP: reading a period by role, the override (403 before 422, a reason needed, audited), credit
entries by hand, 责任牌 and 责任书, board coverage per street and grid."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.ops.ratings import records as rr


def test_ratings_api_by_role(nanjing):
    with nanjing.begin() as c:
        c.execute(text("TRUNCATE unit_ratings, credit_entries, duty_boards, pledges"))
        unit = c.execute(text("SELECT id FROM units ORDER BY id LIMIT 1")).scalar_one()
        shops = c.execute(text("SELECT count(*) FROM units")).scalar_one()
        rr.compute(c, "2026-11")
        party = c.execute(text("SELECT id FROM parties ORDER BY id LIMIT 1")).scalar_one()
    heads = {role: bearer(nanjing, f"rat-{role}", role, party_id=party if role == "party" else None)
             for role in ("admin", "inspector", "party", "dispatcher")}
    with TestClient(create_app(nanjing)) as client:
        assert client.get("/ratings", params={"period": "2026-11"}).status_code == 401
        assert client.get("/ratings", params={"period": "2026-11"}, headers=heads["party"]).status_code == 403
        r = client.get("/ratings", params={"period": "2026-11", "board": "none", "limit": 5},
                       headers=heads["dispatcher"])
        assert r.status_code == 200 and r.json()["total"] == shops and len(r.json()["ratings"]) == 5
        assert client.get("/ratings", params={"period": "2026-13"}, headers=heads["admin"]).status_code == 422
        url = f"/ratings/{unit}/override"
        # permission before content: a party and a dispatcher get 403 whatever the body
        for role in ("party", "dispatcher"):
            assert client.post(url, json={"bogus": 1}, headers=heads[role]).status_code == 403
        r = client.post(url, json={"period": "2026-11", "board": "red"}, headers=heads["inspector"])
        assert r.status_code == 422 and "reason" in r.json()["detail"], r.text
        r = client.post(url, json={"period": "2026-11", "board": "red", "reason": "现场复核达标"},
                        headers=heads["inspector"])
        assert r.status_code == 200 and r.json()["effective"] == "red", r.text
        v = r.json()["version"]
        stale = client.post(url, json={"period": "2026-11", "board": "black", "reason": "x", "version": v - 1},
                            headers=heads["inspector"])
        assert stale.status_code == 412
        page = client.get(f"/units/{unit}/credit", headers=heads["admin"]).json()
        assert page["balance"] == 105 and page["stars"] == 3  # 100 + 5 for the red board
        assert client.post(f"/units/{unit}/credit", json={"amount": 3, "reason": ""},
                           headers=heads["inspector"]).status_code == 422
        r = client.post(f"/units/{unit}/credit", json={"amount": 30, "reason": "见义勇为"}, headers=heads["inspector"])
        assert r.status_code == 201 and r.json()["balance"] == 135 and r.json()["stars"] == 5
        assert client.post(f"/units/{unit}/board", json={"status": "hung"}, headers=heads["party"]).status_code == 403
        r = client.post(f"/units/{unit}/board", json={"status": "hung"}, headers=heads["inspector"])
        assert r.status_code == 201 and r.json()["status"] == "hung"
        r = client.post(f"/units/{unit}/pledge", json={"signed_on": "2026-11-02", "signatory": "王老板"},
                        headers=heads["admin"])
        assert r.status_code == 201 and r.json()["pledges"][0]["signatory"] == "王老板"
        for by in ("street", "grid"):
            cov = client.get("/boards/coverage", params={"by": by}, headers=heads["admin"]).json()
            assert (cov["shops"], cov["hung"]) == (shops, 1) and sum(x["shops"] for x in cov["rows"]) == shops
        with nanjing.connect() as c:
            actors = set(c.execute(text("SELECT actor FROM audit_log WHERE table_name IN ('unit_ratings', "
                                        "'credit_entries', 'duty_boards', 'pledges') AND source = 'api'")).scalars())
        assert {"rat-inspector", "rat-admin"} <= actors
