"""Open311 GeoReport v2 at /open311/v2/ on a real PostGIS (Nanjing 新街口 with 三包 zones): every JSON answer
against the Open311 project's JSON Schemas, every XML answer against the spec's structure, errors in both forms,
attribute validation per datatype, the filters with the 90-day window, the status mapping, no personal data in
any answer, and an end-to-end run of a third-party client (georeport, PyPI) against a live server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from open311_check import validate_json, validate_xml
from sqlalchemy import text
from support import bearer, zone_point

from gridsvc.api.app import create_app
from gridsvc.ops.cases import core
from gridsvc.people.users import Principal
from gridsvc.settings import get_settings
from gridsvc.timekeeping import zone
from gridsvc.zones.build import build_zones

V2 = "/open311/v2"
ADMIN = Principal("o311-admin", "admin")
NAME, FAMILY, PHONE, EMAIL = "举报", "李", "13811112222", "li.jubao@example.cn"
PATHS = {
    "accepted": [], "registered": ["register"], "dispatched": ["register", "dispatch"],
    "rectified": ["register", "dispatch", "rectify"], "verified": ["register", "dispatch", "rectify", "verify_pass"],
    "closed": ["register", "dispatch", "rectify", "verify_pass", "close"], "deferred": ["register", "defer"],
    "void": ["invalidate"],
}
PHOTO = "cd" * 32


@pytest.fixture(autouse=True)
def no_flood_limit():
    """These tests read as the public a few hundred times: not a flood (the rate-limit test sets its own)."""
    s = get_settings()
    old = s.public_burst, s.public_rate_per_s, s.public_total_rate_per_s
    s.public_burst, s.public_rate_per_s, s.public_total_rate_per_s = 100_000, 100_000.0, 100_000.0
    yield
    s.public_burst, s.public_rate_per_s, s.public_total_rate_per_s = old


@pytest.fixture(scope="module")
def city(nanjing):
    build_zones(nanjing, "三包")
    with nanjing.begin() as c:
        _zone, _unit, x, y = zone_point(c, "kind = 'frontage' AND party_id IS NOT NULL")
        unit = c.execute(text("SELECT u.name, u.public_code FROM units u WHERE u.name = '工人影城' LIMIT 1")).one()
        c.execute(text("INSERT INTO uploads (sha256, kind, content_type, size_bytes, filename) VALUES "
                       "(:s, 'photo', 'image/jpeg', 1, 'after.jpg') ON CONFLICT DO NOTHING"), {"s": PHOTO})
        party = c.execute(text("SELECT party_id FROM zones WHERE party_id IS NOT NULL LIMIT 1")).scalar_one()
    keys = {role: bearer(nanjing, f"o311-{role}", role, party_id=party if role == "party" else None)
            ["Authorization"][7:] for role in ("admin", "dispatcher", "planner", "party")}
    client = TestClient(create_app(nanjing), raise_server_exceptions=False)
    return nanjing, client, keys, (x, y), unit


def _get(client, path: str, kind: str, want: int = 200, **params):
    """GET in both formats; both checked; the JSON answer."""
    rj = client.get(f"{V2}/{path}.json", params=params)
    rx = client.get(f"{V2}/{path}.xml", params=params)
    assert rj.status_code == want, rj.text
    assert rx.status_code == want, rx.text
    assert rj.headers["content-type"] == "application/json; charset=utf-8"
    assert rx.headers["content-type"] == "text/xml; charset=utf-8"
    validate_json(kind if want < 400 else "errors", rj.json())
    validate_xml(kind if want < 400 else "errors", rx.content)
    return rj.json()


def _post(client, fmt: str = "json", **form):
    return client.post(f"{V2}/requests.{fmt}", data=form)


def _form(keys, point, **extra) -> dict:
    return {"api_key": keys["dispatcher"], "service_code": "SJ0102", "lat": str(point[1]), "long": str(point[0]),
            "description": "路边暴露垃圾，联系电话 13900001111", **extra}


def _both_errors(client, status: int, **form) -> str:
    """POST in both formats expecting the spec's error; the description."""
    rj = _post(client, "json", **form)
    rx = _post(client, "xml", **form)
    assert rj.status_code == status, rj.text
    assert rx.status_code == status, rx.text
    validate_json("errors", rj.json())
    root = validate_xml("errors", rx.content)
    assert rj.json()[0]["code"] == status and root.findtext("error/code") == str(status)
    return rj.json()[0]["description"]


def _case(engine, point, state: str = "accepted", category: str = "SJ0102", **kw) -> tuple[int, str]:
    with engine.begin() as c:
        case_id = core.open_case(c, lng=point[0], lat=point[1], category=category, description=f"{state} 案卷",
                                 source="grid_officer", actor="o311-admin", role="admin", **kw)
        other = None
        for action in PATHS[state]:
            row = c.execute(text("SELECT version FROM cases WHERE id = :i"), {"i": case_id}).one()
            body = {"note": f"{action} 说明", "photos": [PHOTO] if action == "rectify" else None}
            if action == "invalidate":
                other = core.open_case(c, lng=point[0], lat=point[1], category=category, description="原案卷",
                                       source="grid_officer", actor="o311-admin", role="admin")
            core.act(c, case_id, action, principal=ADMIN, expected_version=row.version, **body)
        if other is not None:
            c.execute(text("UPDATE cases SET duplicate_of = :o WHERE id = :i"), {"o": other, "i": case_id})
        return case_id, c.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()


def test_discovery_services_and_definitions(city):
    _, client, _, _, _ = city
    disc = _get(client, "discovery", "discovery")
    assert disc["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(disc["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    services = _get(client, "services", "services")
    by_code = {s["service_code"]: s for s in services}
    assert len(services) == 70 and "SJ01" not in by_code  # minor classes only; majors are the groups
    assert by_code["SJ0102"] | {} == by_code["SJ0102"] and by_code["SJ0102"]["group"] == "市容环境"
    assert by_code["SJ0102"]["service_name"] == "暴露垃圾" and by_code["SJ0102"]["type"] == "realtime"
    assert by_code["SJ0102"]["metadata"] is True and by_code["BJ0301"]["metadata"] is False
    datatypes = set()
    for code, s in by_code.items():
        d = _get(client, f"services/{code}", "service_definition")
        assert d["service_code"] == code and bool(d["attributes"]) == s["metadata"]
        datatypes |= {a["datatype"] for a in d["attributes"]}
    assert datatypes == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    problems = _get(client, "services/BJ0101", "service_definition")["attributes"][0]
    assert problems["code"] == "problem" and [v["key"] for v in problems["values"]] == ["missing", "broken",
                                                                                          "displaced"]
    assert "404" in _get(client, "services/XX9999", "errors", 404)[0]["code"].__str__()
    _get(client, "services/SJ01", "errors", 404)  # a major class is a group, not a service


def test_post_creates_a_case_and_reads_back_without_personal_data(city):
    engine, client, keys, point, _ = city
    r = _post(client, "json", **_form(keys, point, first_name=NAME, last_name=FAMILY, phone=PHONE, email=EMAIL,
                                      account_id="acct-7", media_url="https://img.example.cn/a.jpg",
                                      **{"attribute[volume_m3]": "1.5", "attribute[waste_types][]":
                                         ["household", "bulky"], "attribute[first_seen]": "2026-01-05T08:30:00Z"}))
    assert r.status_code == 201, r.text
    validate_json("post", r.json())
    sid = r.json()[0]["service_request_id"]
    assert r.json()[0]["account_id"] == "acct-7" and "前处置完毕" in r.json()[0]["service_notice"]
    with engine.connect() as c:
        case = c.execute(text("SELECT * FROM cases WHERE code = :c"), {"c": sid}).mappings().one()
    assert case["source"] == "citizen" and case["state"] == "accepted" and case["category"] == "SJ0102"
    assert case["reporter_name"] == "李举报" and case["reporter_phone"] == PHONE
    o311 = case["routing"]["open311"]
    assert o311["attributes"] == {"volume_m3": 1.5, "waste_types": ["household", "bulky"],
                                  "first_seen": "2026-01-05T16:30:00+08:00"}
    assert o311["email"] == EMAIL and o311["media_url"] == "https://img.example.cn/a.jpg"
    assert o311["client"] == "o311-dispatcher"
    one = _get(client, f"requests/{sid}", "requests")
    assert len(one) == 1 and one[0]["service_request_id"] == sid and one[0]["status"] == "open"
    assert one[0]["media_url"] == "https://img.example.cn/a.jpg" and one[0]["agency_responsible"]
    assert one[0]["expected_datetime"] == datetime.fromisoformat(case["deadlines"]["handle"]).astimezone(
        zone()).replace(microsecond=0).isoformat()
    assert "139****1111" in one[0]["description"]  # a phone typed into the description is masked too
    every = client.get(f"{V2}/requests.json").text + client.get(f"{V2}/requests.xml").text + json.dumps(one)
    for secret in (PHONE, EMAIL, "李举报", "13900001111", "acct-7", "o311-dispatcher"):
        assert secret not in every
    staff_view = client.get(f"/cases/{case['id']}").json()  # the case API, anonymous: masked there as well
    assert EMAIL not in json.dumps(staff_view, ensure_ascii=False)


def test_post_as_xml_by_address_and_by_unit_code(city):
    engine, client, keys, point, unit = city
    form = _form(keys, point, address_string=f"南京市秦淮区{unit.name}门口")
    del form["lat"], form["long"]
    r = _post(client, "xml", **form)
    assert r.status_code == 201, r.text
    root = validate_xml("post", r.content)
    sid = root.findtext("request/service_request_id")
    got = _get(client, f"requests/{sid}", "requests")[0]
    with engine.connect() as c:
        upt = c.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE name = :n LIMIT 1"), {"n": unit.name}).one()
    assert (got["long"], got["lat"]) == (round(upt[0], 7), round(upt[1], 7))
    assert got["address"] == f"南京市秦淮区{unit.name}门口"
    del form["address_string"]
    r = _post(client, "json", **form, address_id=unit.public_code)
    assert r.status_code == 201, r.text
    got = _get(client, f"requests/{r.json()[0]['service_request_id']}", "requests")[0]
    assert got["address_id"] == unit.public_code and (got["long"], got["lat"]) == (round(upt[0], 7), round(upt[1], 7))
    assert "cannot place" in _both_errors(client, 400, **form, address_string="火星某某路一号")


def test_post_errors_in_the_specs_form(city):
    _, client, keys, point, _ = city
    form = _form(keys, point)
    assert "api_key" in _both_errors(client, 403, **{k: v for k, v in form.items() if k != "api_key"})
    assert "invalid api_key" in _both_errors(client, 403, **form | {"api_key": "gst_wrong"})
    for role in ("planner", "party"):  # permission first: nothing else is looked at
        _both_errors(client, 403, **form | {"api_key": keys[role], "service_code": "nonsense"})
    assert "service_code" in _both_errors(client, 404, **form | {"service_code": "XX0000"})
    assert "not provided" in _both_errors(client, 400, **{k: v for k, v in form.items() if k != "service_code"})
    assert "location" in _both_errors(client, 400, **{k: v for k, v in form.items() if k not in ("lat", "long")})
    assert "together" in _both_errors(client, 400, **{k: v for k, v in form.items() if k != "lat"})
    _both_errors(client, 400, **form | {"lat": "40.0", "long": "116.4"})  # outside the managed area: not placed
    _both_errors(client, 400, **form | {"media_url": "javascript:alert(1)"})
    _both_errors(client, 400, **form | {"email": "not-an-address"})
    _both_errors(client, 400, **form | {"description": "x" * 4001})


@pytest.mark.parametrize(("service", "attrs", "fragment"), [
    ("SJ0102", {"attribute[volume_m3]": "很多"}, "not a number"),
    ("SJ0102", {"attribute[volume_m3]": "NaN"}, "finite"),
    ("SJ0102", {"attribute[first_seen]": "yesterday"}, "first_seen"),
    ("SJ0102", {"attribute[waste_types][]": ["household", "nuclear"]}, "'nuclear' not among the keys"),
    ("SJ0302", {"attribute[site_name]": "一行\n两行"}, "one line"),
    ("SJ0302", {"attribute[site_name]": "长" * 101}, "at most 100"),
    ("SJ0301", {"attribute[noise_hours]": "夜" * 4001}, "at most 4000"),
    ("BJ0101", {"attribute[problem]": "stolen", "attribute[blocks_traffic]": "yes"}, "'stolen' not among"),
    ("BJ0101", {"attribute[problem]": ["missing", "broken"], "attribute[blocks_traffic]": "yes"}, "one value"),
    ("BJ0101", {}, "attribute[blocks_traffic]: required"),
    ("BJ0107", {"attribute[blocks_traffic]": "no", "attribute[gas_notice]": "好"}, "information only"),
    ("SJ0102", {"attribute[colour]": "红"}, "no such attribute"),
    ("SJ0102", {"attribute[a][b]": "x"}, "attribute[code]=value"),
])
def test_attributes_are_validated_per_datatype(city, service, attrs, fragment):
    _, client, keys, point, _ = city
    assert fragment in _both_errors(client, 400, **_form(keys, point, service_code=service, **attrs))


def test_attribute_answers_of_every_datatype_are_kept(city):
    engine, client, keys, point, _ = city
    r = _post(client, **_form(keys, point, service_code="SJ0301", **{
        "attribute[site_name]": "某某建设工地", "attribute[noise_hours]": "每晚 22 点后\n打桩",
        "attribute[first_seen]": "2026-01-05"}))
    assert r.status_code == 201, r.text
    r2 = _post(client, **_form(keys, point, service_code="BJ0101", **{"attribute[problem]": "missing",
                                                                       "attribute[blocks_traffic]": "yes"}))
    assert r2.status_code == 201, r2.text
    with engine.connect() as c:
        a = c.execute(text("SELECT routing -> 'open311' -> 'attributes' FROM cases WHERE code = :c"),
                      {"c": r.json()[0]["service_request_id"]}).scalar_one()
        b = c.execute(text("SELECT routing -> 'open311' -> 'attributes', urgency FROM cases WHERE code = :c"),
                      {"c": r2.json()[0]["service_request_id"]}).one()
    assert a == {"site_name": "某某建设工地", "noise_hours": "每晚 22 点后\n打桩",
                 "first_seen": "2026-01-05T00:00:00+08:00"}
    assert b[0] == {"problem": "missing", "blocks_traffic": "yes"} and b[1] == "urgent"  # a missing cover


def test_status_mapping(city):
    engine, client, _, point, _ = city
    codes = {state: _case(engine, point, state)[1] for state in PATHS}
    got = {r["service_request_id"]: r for r in _get(client, "requests", "requests",
                                                    service_request_id=",".join(codes.values()))}
    for state, code in codes.items():
        assert got[code]["status"] == ("closed" if state in ("closed", "void") else "open"), state
    assert got[codes["deferred"]]["status_notes"].startswith("挂账")
    assert "重复" in got[codes["void"]]["status_notes"]
    assert got[codes["closed"]]["service_notice"] is None
    with engine.connect() as c:
        closed_at = c.execute(text("SELECT closed_at FROM cases WHERE code = :c"), {"c": codes["closed"]}).scalar()
    assert got[codes["closed"]]["updated_datetime"] == closed_at.astimezone(zone()).replace(microsecond=0).isoformat()
    only_closed = _get(client, "requests", "requests", status="closed")
    assert {r["status"] for r in only_closed} == {"closed"}
    assert {codes["closed"], codes["void"]} <= {r["service_request_id"] for r in only_closed}
    assert {r["status"] for r in _get(client, "requests", "requests", status="open")} == {"open"}
    _get(client, "requests", "errors", 400, status="pending")


def test_filters_and_the_90_day_window(city):
    engine, client, _, point, _ = city
    now = datetime.now(zone())
    _, old = _case(engine, point, reported_at=(now - timedelta(days=100)).isoformat(), category="SJ0104")
    _, new = _case(engine, point, category="SJ0104")
    recent = {r["service_request_id"] for r in _get(client, "requests", "requests", service_code="SJ0104")}
    assert new in recent and old not in recent  # the default window: the last 90 days
    start = (now - timedelta(days=101)).astimezone(zone()).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    end = (now - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = {r["service_request_id"] for r in _get(client, "requests", "requests", start_date=start, end_date=end)}
    assert old in got and new not in got
    got = {r["service_request_id"] for r in _get(client, "requests", "requests", start_date=start)}
    assert old in got and new not in got  # 90 days from start_date
    assert {r["service_code"] for r in _get(client, "requests", "requests", service_code="SJ0104,SJ0102")} <= {
        "SJ0104", "SJ0102"}
    both = _get(client, "requests", "requests", service_request_id=f"{old},{new}", service_code="BJ0101",
                status="closed")  # ids override every other filter
    assert {r["service_request_id"] for r in both} == {old, new}
    far = (now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "at most 90" in _get(client, "requests", "errors", 400, start_date=far, end_date=end)[0]["description"]
    _get(client, "requests", "errors", 400, start_date=end, end_date=far)  # ends before it starts
    _get(client, "requests", "errors", 400, start_date="2026-01-01T00:00:00")  # a time needs its zone
    _get(client, "requests", "errors", 404, service_code="XX0000")  # as for a service definition


def test_tokens_get_request_and_unknown_things(city):
    engine, client, _, point, _ = city
    _, code = _case(engine, point)
    assert _get(client, f"tokens/{code}", "token") == [{"service_request_id": code, "token": code}]
    _get(client, "tokens/nope", "errors", 404)
    _get(client, "requests/19000101999999", "errors", 404)
    r = client.get(f"{V2}/requests.txt")  # not a format: the spec's 400, in XML (its required format)
    assert r.status_code == 400 and validate_xml("errors", r.content) is not None
    r = client.get(f"{V2}/nowhere.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.delete(f"{V2}/requests.json")
    assert r.status_code == 405 and validate_json("errors", r.json()) is None
    assert client.get("/cases/999999999").json()["error"] == "NotFoundError"  # the rest of gridsvc: its own form


def test_jurisdiction_id(city):
    _, client, keys, point, _ = city
    settings = get_settings()
    _get(client, "services", "services", jurisdiction_id="anything.gov")  # unset: accepted
    settings.open311_jurisdiction_id = "nanjing.gov.cn"
    try:
        _get(client, "services", "services", jurisdiction_id="nanjing.gov.cn")
        _get(client, "services", "errors", 404, jurisdiction_id="sfgov.org")
        _get(client, "requests", "errors", 404, jurisdiction_id="sfgov.org")
        assert "jurisdiction" in _both_errors(client, 404, **_form(keys, point, jurisdiction_id="sfgov.org"))
    finally:
        settings.open311_jurisdiction_id = None


def test_anonymous_reads_are_rate_limited_in_the_specs_form(city):
    _, client, _, _, _ = city
    settings = get_settings()
    old = settings.public_burst, settings.public_rate_per_s
    settings.public_burst, settings.public_rate_per_s = 2, 0.01
    try:
        codes = [client.get(f"{V2}/services.json").status_code for _ in range(4)]
        r = client.get(f"{V2}/services.xml")
    finally:
        settings.public_burst, settings.public_rate_per_s = old
    assert 429 in codes and r.status_code == 429 and r.headers["retry-after"]
    assert validate_xml("errors", r.content).findtext("error/code") == "429"


def test_a_third_party_client_georeport_end_to_end(city):
    """georeport (PyPI) reads services, definitions and requests from a live server in JSON and XML; it cannot
    create requests, so the POST goes with requests, as a client's form would."""
    georeport = pytest.importorskip("georeport")
    import requests
    from live import serve

    engine, _, keys, point, _ = city
    with serve(create_app(engine)) as base:
        root = f"{base}/open311/v2"
        r = requests.post(f"{root}/requests.json", data=_form(keys, point, **{"attribute[volume_m3]": "2"}), timeout=10)
        assert r.status_code == 201, r.text
        sid = r.json()[0]["service_request_id"]
        for fmt in ("json", "xml"):
            client = georeport.GeoReport(root, output_format=fmt)
            services = client.get_service_list()
            assert len(services) == 70 and {s["service_code"] for s in services} >= {"SJ0102", "BJ0101"}
            definition = client.get_service_definition("SJ0102")
            assert definition["service_code"] == "SJ0102"
            one = client.get_service_request(sid)
            assert one["service_request_id"] == sid and one["status"] == "open"
            listed = client.get_service_requests(service_request_id=sid)
            listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is a dict
            assert [x["service_request_id"] for x in listed] == [sid]
            assert client.get_service_requests(service_code="SJ0102", status="open")
        with pytest.raises(requests.HTTPError) as err:
            georeport.GeoReport(root).get_service_definition("XX0000")
        assert err.value.response.status_code == 404 and err.value.response.json()[0]["code"] == 404
