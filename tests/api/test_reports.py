"""随手拍 over HTTP: POST /reports (a case in 受理 with a tracking code; the position from EXIF GPS when none is sent;
EXIF stripped from every stored and served copy; anonymous rate limit 429; size bounds 413; not a photo 415), the
same photo sent again (pHash, even re-encoded and resized: 409), following a case instead of filing one, the
suggestions (public 50 m vs staff 250 m, 30 days, order, at most 5, nothing personal), staff marking a duplicate
(its reporters follow the original; it counts once), the reward and public-screen flags, and the status page."""

from __future__ import annotations

import io
import math
import re
from datetime import datetime, timedelta

import pytest
from case_city import ADMIN, GPS_MARK, REPORTER, gps_jpeg, load_case_city, scene_jpeg, store_upload
from fastapi.testclient import TestClient
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.ops.cases import core
from gridsvc.settings import get_settings
from gridsvc.timekeeping import zone

PHONE = "13912345678"
CODE = re.compile(r"^[A-Z2-7]{10}$")


def offset(point, east_m: float, north_m: float) -> tuple[float, float]:
    """A point east_m and north_m metres from point (WGS84)."""
    x, y = point
    return x + east_m / (111_320 * math.cos(math.radians(y))), y + north_m / 111_320


def no_exif(data: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return not img.getexif() and "exif" not in img.info and GPS_MARK not in data and b"SecretCam" not in data


@pytest.fixture(scope="module")
def city(engine, tmp_path_factory):
    info = load_case_city(engine)
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app(engine)
    app.state.upload_dir = uploads
    settings = get_settings()
    old = settings.report_per_hour
    settings.report_per_hour = 10_000  # every test but the rate limit's reports from the same address
    heads = {"dispatcher": bearer(engine, "rp-dispatcher", "dispatcher"),
             "officer": bearer(engine, "rp-officer", "grid_officer", (info["grid"],)),
             "planner": bearer(engine, "rp-planner", "planner")}
    try:
        yield engine, app, info, uploads, heads
    finally:
        settings.report_per_hour = old


def client_at(app, address: str = "198.51.100.7") -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def post(client, photos=(), headers=None, **fields):
    files = [("photo", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    data = {k: str(v) for k, v in fields.items() if v is not None}
    return client.post("/reports", data=data, files=files or None, headers=headers or {})


def report(client, point, seed, **fields):
    fields = {"category": "SJ0102", "description": "人行道上堆放了建筑垃圾", **fields}
    r = post(client, [scene_jpeg(seed)], lng=point[0], lat=point[1], **fields)
    assert r.status_code == 201, r.text
    return r.json()


def case_of(engine, case_code: str) -> dict:
    with engine.connect() as c:
        return dict(c.execute(text("SELECT * FROM cases WHERE code = :c"), {"c": case_code}).mappings().one())


def test_a_report_becomes_a_routed_case_in_acceptance_with_a_tracking_code(city):
    engine, app, info, _uploads, _heads = city
    client = client_at(app)
    r = post(client, [scene_jpeg(1), scene_jpeg(2)], lng=info["point"][0], lat=info["point"][1], category="SJ0102",
             description="门口堆了很多纸箱", phone=PHONE, nickname="热心市民")
    assert r.status_code == 201, r.text
    body = r.json()
    assert CODE.match(body["code"]) and body["status_url"] == f"/reports/{body['code']}"
    assert body["page_url"] == f"/r/{body['code']}" and r.headers["location"] == body["status_url"]
    assert body["followed"] is False and body["photos"] == 2 and body["position_from"] == "sent"
    case = case_of(engine, body["case_code"])
    assert case["state"] == "accepted" and case["source"] == "citizen" and case["category"] == "SJ0102"
    assert case["grid_code"] == info["grid"] and case["party_id"] is not None  # routed by G's rules
    assert case["reporter_phone"] == PHONE and case["reporter_name"] == "热心市民"
    with engine.connect() as c:
        row = c.execute(text("SELECT phone, filed_case_id = case_id AS filed, ip_hash FROM reports WHERE code = :c"),
                        {"c": body["code"]}).one()
        photos = c.execute(text("SELECT count(*) FROM case_events WHERE action = 'report' AND cardinality(photos) = 2 "
                                "AND case_id = :i"), {"i": case["id"]}).scalar_one()
    assert row.phone == PHONE and row.filed and row.ip_hash and "198.51" not in row.ip_hash and photos == 1
    # staff see the phone masked or not by personal.read, like every reporter field
    planner = client.get(f"/cases/{case['id']}", headers=city[4]["planner"]).json()
    assert planner["reporter"]["phone"] == PHONE
    officer_party = client.get(f"/cases/{case['id']}").json()["reporter"]
    assert officer_party["phone"] == "139****5678"


def test_the_status_says_the_state_and_progress_and_nothing_personal(city):
    engine, app, info, _uploads, heads = city
    client = client_at(app)
    body = report(client, info["point"], 10, phone=PHONE, nickname=REPORTER)
    case = case_of(engine, body["case_code"])
    with engine.begin() as c:
        core.act(c, case["id"], "register", principal=ADMIN, expected_version="*")
    status = client.get(f"/reports/{body['code'].lower()}")
    assert status.status_code == 200 and status.headers["cache-control"] == "no-store"
    s = status.json()
    assert s["state"] == "registered" and s["state_zh"] == "立案" and s["kind"] == "filed"
    assert [x["zh"] for x in s["steps"]] == ["受理", "立案", "派遣", "处置", "核查", "结案"]
    assert [x["done"] for x in s["steps"]] == [True, True, False, False, False, False]  # reached
    assert s["steps"][1]["current"] and re.match(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}$", s["steps"][0]["at_zh"])
    assert s["category"]["zh"] == "暴露垃圾" and s["department_zh"]
    text_ = status.text
    for personal in (PHONE, "5678", REPORTER, "王网格", "13900000001", case["party_name"], case["officer_name"]):
        assert personal not in text_, personal
    page = client.get(f"/r/{body['code']}")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    assert body["code"] in page.text and "立案" in page.text and "<script" not in page.text
    for personal in (PHONE, REPORTER, "王网格", case["party_name"]):
        assert personal not in page.text
    assert client.get("/r/AAAAAAAAAA").status_code == 404 and "未找到" in client.get("/r/AAAAAAAAAA").text
    assert client.get("/reports/AAAAAAAAAA").status_code == 404


def test_exif_gps_gives_the_position_and_no_copy_keeps_exif(city):
    engine, app, info, uploads, heads = city
    client = client_at(app)
    sent = scene_jpeg(20, gps=info["point"])
    r = post(client, [sent], category="SJ0102", description="照片里有位置")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["position_from"] == "photo"
    with engine.connect() as c:
        x, y = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM cases WHERE code = :c"), {"c": body["case_code"]}).one()
        sha = c.execute(text("SELECT sha256 FROM report_photos p JOIN reports r ON r.id = p.report_id "
                             "WHERE r.code = :c"), {"c": body["code"]}).scalar_one()
    assert abs(x - info["point"][0]) < 1e-5 and abs(y - info["point"][1]) < 1e-5
    stored = (uploads / sha[:2] / sha).read_bytes()
    assert no_exif(stored)  # the stored copy
    served = client.get(f"/reports/{body['code']}/photos/{sha}.jpg")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg" and no_exif(served.content)
    staff = client.get(f"/uploads/{sha}", headers=heads["dispatcher"])
    assert staff.status_code == 200 and no_exif(staff.content)  # the copy staff read through /uploads
    case = client.get(f"/cases/{case_of(engine, body['case_code'])['id']}", headers=heads["dispatcher"]).json()
    assert case["events"][0]["photos"] == [sha]
    assert client.get(f"/reports/{body['code']}/photos/{'0' * 64}.jpg").status_code == 404
    # no position at all: 422 naming lng
    r = post(client, [scene_jpeg(21)], category="SJ0102", description="没有位置")
    assert r.status_code == 422 and "lng" in r.json()["detail"]


def test_the_same_photo_again_is_caught_even_re_encoded_and_resized(city):
    engine, app, info, _uploads, _heads = city
    from PIL import Image

    client = client_at(app)
    first = report(client, info["point"], 30)
    with Image.open(io.BytesIO(scene_jpeg(30))) as img:
        out = io.BytesIO()
        img.resize((560, 420)).save(out, "JPEG", quality=55)
    again = post(client, [out.getvalue()], lng=info["point"][0], lat=info["point"][1], category="SJ0102",
                 description="再报一次")
    assert again.status_code == 409, again.text
    err = again.json()
    assert err["error"] == "DuplicatePhotoError" and err["context"]["report_code"] == first["code"]
    assert err["context"]["case_code"] == first["case_code"] and first["case_code"] in err["detail"]
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM reports WHERE case_id = (SELECT id FROM cases WHERE code = :c)"),
                         {"c": first["case_code"]}).scalar_one() == 1
    assert post(client, [scene_jpeg(31)], lng=info["point"][0], lat=info["point"][1], category="SJ0102",
                description="另一张").status_code == 201


def test_follow_instead_of_filing(city):
    engine, app, info, _uploads, _heads = city
    client = client_at(app)
    first = report(client, offset(info["point"], 5, 0), 40)
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM cases")).scalar_one()
    r = post(client, [scene_jpeg(41)], follow=first["case_code"], description="我也看到了", phone=PHONE)
    assert r.status_code == 201, r.text
    follower = r.json()
    assert follower["followed"] and follower["case_code"] == first["case_code"]
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM cases")).scalar_one() == before
        assert c.execute(text("SELECT count(*) FROM case_followers WHERE code = :c"),
                         {"c": follower["code"]}).scalar_one() == 1
    s = client.get(f"/reports/{follower['code']}").json()
    assert s["kind"] == "following" and s["case_code"] == first["case_code"] and s["reporters"] == 2
    assert s["description"] is None  # the followed case's words are the other reporter's
    assert client.get(f"/reports/{first['code']}").json()["reporters"] == 2
    assert post(client, [], follow="2099010100001").status_code == 422  # no such case
    case = case_of(engine, first["case_code"])
    with engine.begin() as c:
        core.act(c, case["id"], "invalidate", principal=ADMIN, expected_version="*", note="无效")
    r = post(client, [], follow=first["case_code"])
    assert r.status_code == 409 and "作废" in r.json()["detail"]


def test_rate_limit_429_for_anonymous_reporters(city, monkeypatch):
    engine, app, info, _uploads, heads = city
    monkeypatch.setattr(get_settings(), "report_per_hour", 2)
    client = client_at(app, "203.0.113.9")
    for seed in (50, 51):
        report(client, info["point"], seed)
    r = post(client, [scene_jpeg(52)], lng=info["point"][0], lat=info["point"][1], category="SJ0102",
             description="第三次")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert report(client_at(app, "203.0.113.10"), info["point"], 53)  # another address
    staff = post(client, [scene_jpeg(54)], headers=heads["dispatcher"], lng=info["point"][0], lat=info["point"][1],
                 category="SJ0102", description="工作人员")
    assert staff.status_code == 201  # staff are not limited


def test_size_bounds_413_and_types_415(city, monkeypatch):
    engine, app, info, _uploads, _heads = city
    client = client_at(app, "203.0.113.20")
    at = {"lng": info["point"][0], "lat": info["point"][1], "category": "SJ0102", "description": "太大"}
    too_many = post(client, [scene_jpeg(60 + i, size=(64, 48)) for i in range(7)], **at)
    assert too_many.status_code == 413 and "at most 6" in too_many.json()["detail"]
    monkeypatch.setattr(get_settings(), "report_max_pixels", 1_000_000)
    pixels = post(client, [scene_jpeg(70, size=(1300, 1000))], **at)
    assert pixels.status_code == 413 and "pixels" in pixels.json()["detail"]
    monkeypatch.setattr(app.state.body_limits, "report", 30_000)
    body = post(client, [scene_jpeg(71, size=(1000, 800), quality=98)], **at)
    assert body.status_code == 413 and body.json()["error"] == "PayloadTooLargeError"
    monkeypatch.undo()
    html = post(client, [b"<html><script>alert(1)</script></html>"], **at)
    assert html.status_code == 415
    assert post(client, [], **at).status_code == 422  # a new report needs a photo


def test_suggestions_public_50m_staff_250m_30_days_nearest_then_newest_at_most_5(city):
    engine, app, info, _uploads, heads = city
    client = client_at(app, "203.0.113.30")
    centre = offset(info["point"], 0, 30)
    now = datetime.now(zone())

    def case_at(east, north, *, cat="SJ0104", days=1, hours=0):
        x, y = offset(centre, east, north)
        with engine.begin() as c:
            cid = core.open_case(c, lng=x, lat=y, category=cat, description="路面不洁，联系人 13800001111",
                                 source="citizen", reporter_name="赵某", reporter_phone="13800001111",
                                 actor="t", role="admin", reported_at=now - timedelta(days=days, hours=hours))
            return c.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": cid}).scalar_one()

    near_old = case_at(10, 0, days=3)
    near_new = case_at(0, 10, days=1)  # the same distance, newer: first of the two
    at_40 = case_at(40, 0)
    at_120 = case_at(0, -120)
    at_200 = case_at(-200, 0)
    at_240 = case_at(0, 240)
    case_at(300, 0)  # beyond the staff radius
    case_at(5, 0, days=31)  # too old
    case_at(5, 5, cat="SJ0102")  # another category
    closed = case_at(3, 3)
    with engine.begin() as c:
        core.act(c, case_of(engine, closed)["id"], "invalidate", principal=ADMIN, expected_version="*", note="无效")
    q = f"/reports/suggestions?lng={centre[0]}&lat={centre[1]}&category=SJ0104"
    public = client.get(q)
    assert public.status_code == 200
    p = public.json()
    assert p["radius_m"] == 50 and p["days"] == 30
    assert [s["code"] for s in p["suggestions"]] == [near_new, near_old, at_40]
    assert abs(p["suggestions"][2]["distance_m"] - 40) < 1.5
    assert set(p["suggestions"][0]) == {"code", "category", "category_zh", "state", "state_zh", "distance_m",
                                        "reported_on", "reporters"}
    assert "13800001111" not in public.text and "赵" not in public.text and "联系人" not in public.text
    staff = client.get(q, headers=heads["officer"]).json()
    assert staff["radius_m"] == 250
    assert [s["code"] for s in staff["suggestions"]] == [near_new, near_old, at_40, at_120, at_200]  # at most 5
    assert at_240 not in [s["code"] for s in staff["suggestions"]]
    assert "description" in staff["suggestions"][0]
    # GCJ-02 in, the same answer
    from gridsvc.geo.chinese_crs import wgs84_to_gcj02

    gx, gy = wgs84_to_gcj02(centre[0], centre[1])
    gcj = client.get(f"/reports/suggestions?lng={gx}&lat={gy}&crs=gcj02&category=SJ0104").json()
    assert [s["code"] for s in gcj["suggestions"]] == [near_new, near_old, at_40]
    assert client.get("/reports/suggestions?lng=118.78&lat=32.04&category=NOPE").status_code == 422


def test_staff_mark_a_duplicate_its_reporters_follow_the_original_and_it_counts_once(city):
    engine, app, info, _uploads, heads = city
    client = client_at(app, "203.0.113.40")
    spot = offset(info["point"], -8, 4)
    a = report(client, spot, 80)
    b = report(client, offset(spot, 3, 0), 81)
    follower_of_b = post(client, [], follow=b["case_code"], description="同一处").json()
    a_id, b_id = case_of(engine, a["case_code"])["id"], case_of(engine, b["case_code"])["id"]
    r = client.post(f"/cases/{b_id}/actions", json={"action": "mark_duplicate", "duplicate_of": a_id},
                    headers={**heads["dispatcher"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "void" and r.json()["duplicate_of"] == a_id
    assert r.json()["events"][-1]["data"]["reporters_moved"] == 2
    merged = client.get(f"/reports/{b['code']}").json()
    assert merged["kind"] == "merged" and merged["case_code"] == a["case_code"] and merged["merged_from"] == b["case_code"]
    assert merged["reporters"] == 3 and merged["state"] == "accepted"
    assert client.get(f"/reports/{follower_of_b['code']}").json()["case_code"] == a["case_code"]
    # following the duplicate now follows the original
    late = post(client, [], follow=b["case_code"]).json()
    assert late["case_code"] == a["case_code"]
    with engine.connect() as c:
        # the flag the bulletins rely on: a duplicate has duplicate_of set, so counting `duplicate_of IS NULL`
        # counts the problem once, with all its reporters
        counted = c.execute(text("SELECT count(*) FROM cases WHERE id IN (:a, :b) AND duplicate_of IS NULL"),
                            {"a": a_id, "b": b_id}).scalar_one()
        reporters = c.execute(text("SELECT count(*) FROM reports WHERE case_id = :a"), {"a": a_id}).scalar_one()
    assert counted == 1 and reporters == 4
    sug = client.get(f"/reports/suggestions?lng={spot[0]}&lat={spot[1]}&category=SJ0102").json()["suggestions"]
    assert b["case_code"] not in [s["code"] for s in sug] and a["case_code"] in [s["code"] for s in sug]
    # a duplicate of a duplicate is refused, naming the original
    c_ = report(client, offset(spot, 0, 3), 82)
    c_id = case_of(engine, c_["case_code"])["id"]
    r = client.post(f"/cases/{c_id}/actions", json={"action": "mark_duplicate", "duplicate_of": b_id},
                    headers={**heads["dispatcher"], "If-Match": "*"})
    assert r.status_code == 422 and f"itself a duplicate of case {a_id}" in r.json()["detail"]


def test_staff_set_the_reward_and_the_public_screen_flag(city):
    engine, app, info, uploads, heads = city
    client = client_at(app, "203.0.113.50")
    body = report(client, offset(info["point"], 6, -6), 90)
    code, case_id = body["code"], case_of(engine, body["case_code"])["id"]
    flags = {"reward_amount": "20", "reward_paid": False}
    assert client.patch(f"/reports/{code}", json=flags).status_code == 401
    assert client.patch(f"/reports/{code}", json=flags, headers=heads["officer"]).status_code == 403
    assert client.patch(f"/reports/{code}", json=flags, headers=heads["dispatcher"]).status_code == 428
    early = client.patch(f"/reports/{code}", json=flags, headers={**heads["dispatcher"], "If-Match": "*"})
    assert early.status_code == 409 and "立案" in early.json()["detail"]  # not accepted yet
    with engine.begin() as c:
        core.act(c, case_id, "register", principal=ADMIN, expected_version="*")
        core.act(c, case_id, "dispatch", principal=ADMIN, expected_version="*")
    ok = client.patch(f"/reports/{code}", json={**flags, "version": 1}, headers=heads["dispatcher"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.headers["etag"] == f'"{code}-2"'
    stale = client.patch(f"/reports/{code}", json={"reward_paid": True}, headers={**heads["dispatcher"],
                                                                                   "If-Match": f'"{code}-1"'})
    assert stale.status_code == 412
    paid = client.patch(f"/reports/{code}", json={"reward_paid": True, "public_screen": True},
                        headers={**heads["dispatcher"], "If-Match": f'"{code}-2"'})
    assert paid.status_code == 200 and paid.json()["reward_paid"] and paid.json()["public_screen"]
    # the rectified photo (uploaded by staff as sent, EXIF and all) is shown on the status page, re-encoded
    after = store_upload(engine, gps_jpeg((20, 160, 60)), uploads)
    with engine.begin() as c:
        core.act(c, case_id, "rectify", principal=ADMIN, expected_version="*", note="已清理", photos=[after])
    s = client.get(f"/reports/{code}").json()
    assert s["reward"] == {"amount": "20.00", "paid": True, "paid_on": s["reward"]["paid_on"]} and s["reward"]["paid_on"]
    assert s["photos_after"] == [after] and s["steps"][3]["done"] and s["steps"][3]["current"]
    served = client.get(f"/reports/{code}/photos/{after}.jpg")
    assert served.status_code == 200 and no_exif(served.content)
    page = client.get(f"/r/{code}").text
    assert "¥20.00" in page and "已发放" in page and f"/reports/{code}/photos/{after}.jpg" in page
    off = client.patch(f"/reports/{code}", json={"public_screen": False}, headers={**heads["dispatcher"],
                                                                                   "If-Match": "*"})
    assert off.status_code == 200
    assert client.get(f"/reports/{code}/photos/{after}.jpg").status_code == 404
    assert client.patch(f"/reports/{code}", json={"reward_amount": None, "reward_paid": True},
                        headers={**heads["dispatcher"], "If-Match": "*"}).status_code == 422
