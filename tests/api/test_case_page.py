"""The party's case page over HTTP (/c/{token}, .json, rectify, photos) and the notice endpoint: the link opens one
case, expires (410), forged and foreign links are 404; the rectify round trip moves the case to 处置 with the
photo (EXIF stripped) as the 'after' photo, audited as the party from the link; notices by role and scope."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pypdf
import pytest
from case_city import GPS_MARK, REPORTER, REPORTER_PHONE, gps_jpeg, load_case_city, open_case, store_upload
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.api.case_page import CSP
from gridsvc.ops.cases.links import issue_link
from gridsvc.timekeeping import zone


@pytest.fixture(scope="module")
def city(engine, tmp_path_factory):
    info = load_case_city(engine)
    uploads = tmp_path_factory.mktemp("uploads")
    before = store_upload(engine, gps_jpeg(), uploads)
    app = create_app(engine)
    app.state.upload_dir = uploads
    client = TestClient(app, raise_server_exceptions=False)
    other_grid = "320102999999999"
    heads = {"dispatcher": bearer(engine, "cp-dispatcher", "dispatcher"),
             "officer": bearer(engine, "cp-officer", "grid_officer", (info["grid"],)),
             "other_officer": bearer(engine, "cp-officer-2", "grid_officer", (other_grid,)),
             "planner": bearer(engine, "cp-planner", "planner")}
    return engine, client, info, before, uploads, heads


def _link(engine, case_id, **kw) -> str:
    with engine.connect() as c:
        return issue_link(c, case_id, **kw).token


def test_the_json_view_shows_the_case_without_personal_data(city):
    engine, client, info, before, _, _ = city
    case_id = open_case(engine, info["point"], photos=[before])
    r = client.get(f"/c/{_link(engine, case_id)}.json")
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["state"] == "dispatched" and view["can_rectify"] and not view["submitted"]
    assert view["photos_before"] == [before] and view["deadline_zh"] and view["time_left_zh"].startswith("还剩")
    assert REPORTER not in r.text and REPORTER_PHONE not in r.text and "notice-admin" not in r.text
    page = client.get(f"/c/{_link(engine, case_id)}")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    assert "整改反馈" in page.text and "<script" not in page.text and REPORTER not in page.text
    photo = client.get(f"/c/{_link(engine, case_id)}/photos/{before}.jpg")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert GPS_MARK not in photo.content and b"Exif" not in photo.content
    assert client.get(f"/c/{_link(engine, case_id)}/photos/{'0' * 64}.jpg").status_code == 404


def test_expired_forged_and_other_case_links(city):
    engine, client, info, _, _, _ = city
    a = open_case(engine, info["point"])
    b = open_case(engine, info["point"])
    old = _link(engine, a, expires_at=datetime.now(zone()) - timedelta(minutes=1))
    r = client.get(f"/c/{old}.json")
    assert r.status_code == 410 and r.json()["error"] == "LinkExpiredError" and "expired" in r.json()["detail"]
    page = client.get(f"/c/{old}")
    assert page.status_code == 410 and "链接已过期" in page.text
    token = _link(engine, a)
    _id, exp, mac = token.split(".")
    for bad in (f"{b}.{exp}.{mac}", f"{a}.{exp}.{'A' * 22}", "nonsense"):
        r = client.get(f"/c/{bad}.json")
        assert r.status_code == 404 and str(a) not in r.json()["detail"]
        assert client.get(f"/c/{bad}").status_code == 404
        r = client.post(f"/c/{bad}/rectify", data={"note": "好了", "version": "3"},
                        files={"photo": ("a.jpg", gps_jpeg(), "image/jpeg")})
        assert r.status_code == 404
    r = client.post(f"/c/{old}/rectify", data={"note": "好了", "version": "3"},
                    files={"photo": ("a.jpg", gps_jpeg(), "image/jpeg")})
    assert r.status_code == 410
    with engine.connect() as c:
        assert c.execute(text("SELECT state FROM cases WHERE id = :i"), {"i": a}).scalar_one() == "dispatched"


def test_the_rectify_round_trip(city):
    engine, client, info, before, uploads, heads = city
    case_id = open_case(engine, info["point"], photos=[before])
    token = _link(engine, case_id)
    view = client.get(f"/c/{token}.json").json()
    photo = gps_jpeg((40, 160, 90))
    # refused before anything changes: no photo, no note, no version, a stale version
    for data, files, status in (({"note": "已清理", "version": view["version"]}, None, 422),
                                ({"version": view["version"]}, {"photo": ("p.jpg", photo, "image/jpeg")}, 422),
                                ({"note": "已清理"}, {"photo": ("p.jpg", photo, "image/jpeg")}, 428),
                                ({"note": "已清理", "version": 1}, {"photo": ("p.jpg", photo, "image/jpeg")}, 412),
                                ({"note": "已清理", "version": view["version"]},
                                 {"photo": ("p.jpg", b"MZ\x90\x00 not a photo", "image/jpeg")}, 415)):
        r = client.post(f"/c/{token}/rectify", data=data, files=files)
        assert r.status_code == status, (data, r.text)
    r = client.post(f"/c/{token}/rectify", data={"note": "门前纸箱已清理，垃圾袋已投放", "version": view["version"]},
                    files={"photo": ("after.jpg", photo, "image/jpeg")})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == "rectified" and out["submitted"] and not out["can_rectify"]
    assert out["transition"]["from"] == "dispatched" and out["transition"]["to"] == "rectified"
    after = out["photos_after"]
    assert len(after) == 1 and after[0] != before
    stored = (uploads / after[0][:2] / after[0]).read_bytes()
    assert GPS_MARK not in stored and b"Exif" not in stored and b"SecretCam" not in stored
    with engine.connect() as c:
        ev = c.execute(text("SELECT actor, role, photos, data FROM case_events WHERE case_id = :i AND "
                            "action = 'rectify'"), {"i": case_id}).one()
        assert ev.actor.startswith("case-link:") and ev.role == "party" and ev.photos == after
        assert ev.data["photos_after"] == after and ev.data["via"] == "case_link"
        audit = c.execute(text("SELECT actor, source FROM audit_log WHERE table_name = 'cases' AND record_id = :i "
                               "ORDER BY id DESC LIMIT 1"), {"i": str(case_id)}).one()
        assert audit.actor == ev.actor and audit.source == "link"
    # the staff see the after photo in the case; a second submission is refused by the flow (409)
    staff = client.get(f"/cases/{case_id}", headers=heads["dispatcher"]).json()
    assert staff["state"] == "rectified" and staff["events"][-1]["photos"] == after
    r = client.post(f"/c/{token}/rectify", data={"note": "again", "version": out["version"]},
                    files={"photo": ("after.jpg", photo, "image/jpeg")})
    assert r.status_code == 409
    page = client.get(f"/c/{token}")
    assert "已提交整改，待核查" in page.text and "<form" not in page.text


def test_a_browser_form_post_is_redirected_back_to_the_page(city):
    engine, client, info, _, _, _ = city
    case_id = open_case(engine, info["point"])
    token = _link(engine, case_id)
    version = client.get(f"/c/{token}.json").json()["version"]
    html = {"Accept": "text/html,application/xhtml+xml"}
    r = client.post(f"/c/{token}/rectify", data={"note": "", "version": version}, headers=html,
                    files={"photo": ("a.jpg", gps_jpeg(), "image/jpeg")})
    assert r.status_code == 422 and "提交未成功" in r.text and r.headers["content-security-policy"] == CSP
    r = client.post(f"/c/{token}/rectify", data={"note": "已整改", "version": version}, headers=html,
                    files={"photo": ("a.jpg", gps_jpeg(), "image/jpeg")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/c/{token}#submitted"


def test_notices_over_http_by_role_and_scope(city):
    engine, client, info, before, _, heads = city
    case_id = open_case(engine, info["point"], photos=[before])
    r = client.get(f"/cases/{case_id}/notices/rectification.pdf?size=A5", headers=heads["officer"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    text_ = "".join(pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text().split())
    with engine.connect() as c:
        code = c.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
    assert code in text_ and REPORTER not in text_
    assert client.get(f"/cases/{case_id}/notices/reminder.pdf", headers=heads["dispatcher"]).status_code == 200
    r = client.get(f"/cases/{case_id}/notices/rectification.pdf", headers=heads["other_officer"])
    assert r.status_code == 403 and "outside your grids" in r.json()["detail"]
    assert client.get(f"/cases/{case_id}/notices/rectification.pdf", headers=heads["planner"]).status_code == 403
    assert client.get(f"/cases/{case_id}/notices/rectification.pdf").status_code == 401
    r = client.get(f"/cases/{case_id}/notices/escalation.pdf", headers=heads["dispatcher"])
    assert r.status_code == 404 and "督办单" in r.json()["detail"]
    assert client.get(f"/cases/{case_id}/notices/other.pdf", headers=heads["dispatcher"]).status_code == 422
