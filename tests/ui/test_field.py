"""The field page (/field) on a phone: Chromium with mobile emulation (390×844, touch, zh-CN) and a fixed
geolocation inside Nanjing 新街口, logged in as a grid officer through the page's own form. It shows who is
responsible here, the units around and the officer's open cases by deadline (the overdue one in red); the officer
reports a case with a photo, acts on a dispatched one (处置完成 with a note and a photo, If-Match), and starts
an inspection, which says plainly that inspections are not available when the server has no /checklists.
Screenshots of each state go to test-artifacts/field-*.png. The page runs under its own Content-Security-Policy
(no bypass); every non-loopback request, and any script error, fails the test."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from support import ARTIFACTS, needs_chromium

from gridsvc.ops import cases as core
from gridsvc.people.users import Principal, create_user
from gridsvc.timekeeping import zone

pytestmark = needs_chromium
USER, PASSWORD = "field-officer", "field-secret-42"
ADMIN = Principal("field-admin", "admin")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai", "permissions": ["geolocation"],
         "user_agent": "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/120.0 Mobile Safari/537.36"}


@pytest.fixture(scope="module")
def spot(city):
    """A point on the frontage zone of the cinema 工人影城, the officer's grid there, and two cases in that grid:
    one dispatched (to act on), one reported three days ago and never registered (overdue)."""
    with city.begin() as c:
        x, y, party = c.execute(text(
            "SELECT ST_X(ST_PointOnSurface(z.geom)), ST_Y(ST_PointOnSurface(z.geom)), p.name FROM zones z "
            "JOIN units u ON u.id = z.unit_id JOIN parties p ON p.id = z.party_id WHERE z.valid_to IS NULL "
            "AND z.kind = 'frontage' AND u.name = '工人影城' ORDER BY z.zone_id LIMIT 1")).one()
        grid = c.execute(text("SELECT code FROM grid_cells WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
                              "4326))"), {"x": x, "y": y}).scalar_one()
        if c.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": USER}).first() is None:
            create_user(c, USER, "grid_officer", PASSWORD, [grid])
        c.execute(text("UPDATE user_grids SET grid_code = :g WHERE user_id = (SELECT id FROM users WHERE name = :n)"),
                  {"g": grid, "n": USER})
        c.execute(text("DELETE FROM cases"))
        dispatched = core.open_case(c, lng=x, lat=y, category="SJ0102", description="门前堆放纸箱",
                                    source="grid_officer", actor="field-admin", role="admin")
        for action in ("register", "dispatch"):
            core.act(c, dispatched, action, principal=ADMIN, expected_version="*")
        late = datetime.now(zone()) - timedelta(days=3)
        overdue = core.open_case(c, lng=x, lat=y, category="SJ0102", description="人行道破损积水",
                                 source="grid_officer", actor="field-admin", role="admin", reported_at=late)
        code = c.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": overdue}).scalar_one()
    return x, y, party, grid, dispatched, code


@pytest.fixture
def phone(browser, base_url, spot):
    ctx = browser.new_context(geolocation={"longitude": spot[0], "latitude": spot[1], "accuracy": 12}, **PHONE)
    blocked, errors = [], []

    def route(r):
        host = urlsplit(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    ctx.close()
    assert blocked == [] and errors == [], (blocked, errors)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"field-{name}.png"), full_page=True)


def _tap_sizes(page) -> list[str]:
    """Visible buttons and inputs smaller than 40×40 CSS pixels (a finger's tap target)."""
    return page.evaluate("""() => [...document.querySelectorAll('button, select, input:not([type=checkbox]):not([type=radio]):not([type=file]), a.tel, label.file')]
        .filter(e => e.offsetParent !== null).map(e => [e.textContent.trim() || e.id || e.name || e.type, e.getBoundingClientRect()])
        .filter(([_, r]) => r.height < 40 || r.width < 40).map(([n, r]) => `${n}: ${Math.round(r.width)}×${Math.round(r.height)}`)""")


def _overflow(page) -> list[str]:
    """Elements wider than the phone's screen."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null
        && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '#' + e.id
        + '.' + e.className + ' ' + e.textContent.slice(0, 30))""")


def _payload(sizes: dict[str, int]) -> None:
    """The bytes of the page, its style and script, and the first answers (uncompressed and gzipped, level 6 as
    a proxy would), written to test-artifacts/field-bytes.json: the page itself must stay small for 3G."""
    import gzip
    import json

    page = {k: v for k, v in sizes.items() if k == "/field" or k.startswith("/static/field/")}
    assets = Path(__file__).resolve().parents[2] / "gridsvc" / "static" / "field"
    zipped = sum(len(gzip.compress((assets / n).read_bytes(), 6)) for n in ("index.html", "field.css", "field.js"))
    first = {k: v for k, v in sizes.items() if k in ("/auth/me", "/lookup", "/units/near", "/cases")}
    report = {"page_bytes": sum(page.values()), "page_gzip_bytes": zipped, "files": page, "first_answers": first,
              "first_answers_bytes": sum(first.values()), "categories_bytes": sizes.get("/cases/categories")}
    (ARTIFACTS / "field-bytes.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    assert len(page) == 3 and report["page_bytes"] < 40_000 and zipped < 12_000, report


def test_a_grid_officer_works_a_spot_from_the_phone(phone, base_url, spot):
    x, y, party, grid, dispatched, overdue_code = spot
    page = phone
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.setdefault(urlsplit(r.url).path, len(r.body())) if r.ok else None)
    response = page.goto(f"{base_url}/field")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("h2", has_text="登录").is_visible()
    _shot(page, "1-login")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("#loginForm button")
    page.locator("#party .who b").wait_for()
    assert page.evaluate("sessionStorage.getItem('gridsvc.field.token')").count(".") == 2  # a JWT
    assert page.locator("#who").inner_text() == USER
    assert page.locator("#party .who b").inner_text() == party
    assert grid in page.locator("#party").inner_text()
    page.locator("#units li button").first.wait_for()
    assert "工人影城" in page.locator("#units").inner_text()
    expect(page.locator("#cases li .case")).to_have_count(2)
    first = page.locator("#cases li").first
    assert "over" in first.get_attribute("class") and overdue_code in first.inner_text()
    assert "已超期" in first.inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('#cases li.over .due')).color") == "rgb(179, 38, 30)"
    assert _tap_sizes(page) == [] and _overflow(page) == []
    _shot(page, "2-here")
    _payload(sizes)

    # open a case here, with a photo
    page.locator("#category option[value=SJ0102]").wait_for(state="attached")
    page.select_option("#category", "SJ0102")
    page.fill("#desc", "店外乱堆放杂物")
    page.set_input_files("#reportPhoto", files=[{"name": "a.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("#reportForm button")
    expect(page.locator("#msg")).to_contain_text("已上报")
    expect(page.locator("#cases li .case")).to_have_count(3)
    _shot(page, "3-reported")

    # act on the dispatched case: 处置完成 needs a note and a photo
    page.locator("#cases li", has_text="门前堆放纸箱").first.click()
    page.locator("#sheetBody .actions button").first.wait_for()
    labels = page.locator("#sheetBody .actions button").all_inner_texts()
    assert "处置完成" in labels and "申请延期" in labels, labels
    page.locator("#sheetBody .actions button", has_text="处置完成").click()
    page.fill("#sheetBody form textarea", "已清理干净")
    page.set_input_files("#sheetBody form input[type=file]", files=[{"name": "b.png", "mimeType": "image/png",
                                                                      "buffer": PNG}])
    assert _tap_sizes(page) == [] and _overflow(page) == []
    _shot(page, "4-case")
    page.locator("#sheetBody form button").click()
    expect(page.locator("#msg")).to_contain_text("已提交")
    expect(page.locator("#sheetBody dd").first).to_have_text("处置")
    _shot(page, "5-acted")
    page.click("#back")

    # start an inspection: this server has no /checklists yet, and the page says so
    page.locator("#units li", has_text="工人影城").first.locator("button").click()
    expect(page.locator("#sheetBody")).to_contain_text("巡查功能尚未开通")
    _shot(page, "6-inspect")


def test_typed_gcj02_coordinates_find_the_same_spot(phone, base_url, spot):
    from gridsvc.geo.chinese_crs import wgs84_to_gcj02

    x, y, party, *_ = spot
    gx, gy = (float(v[0]) for v in wgs84_to_gcj02([x], [y]))
    page = phone
    page.goto(f"{base_url}/field")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("#loginForm button")
    page.locator("#party .who b").wait_for()
    page.check("#gcj")
    page.fill("#lng", f"{gx:.6f}")
    page.fill("#lat", f"{gy:.6f}")
    page.click("#manual button")
    expect(page.locator("#where")).to_contain_text("GCJ-02")
    expect(page.locator("#party .who b")).to_have_text(party)


def test_an_inspection_is_sent_in_the_inspections_contract(phone, base_url, spot):
    """GET /checklists and POST /inspections come from another branch: stubbed here with their contract, the page
    walks a checklist and posts what the contract says."""
    import json

    page, sent = phone, []
    lists = [{"id": "三包", "zh": "门前三包检查", "targets": ["unit"]}]
    one = {"id": "三包", "zh": "门前三包检查", "sections": [{"id": "s1", "zh": "环境卫生", "items": [
        {"id": "clean", "text_zh": "门前无垃圾、无积水", "score": 5}, {"id": "order", "text_zh": "无店外经营", "score": 5}]}]}
    page.route("**/checklists?target=unit", lambda r: r.fulfill(json=lists))
    page.route("**/checklists/*", lambda r: r.fulfill(json=one))
    page.route("**/inspections", lambda r: (sent.append(json.loads(r.request.post_data)),
                                            r.fulfill(status=201, json={"id": 1})))
    page.goto(f"{base_url}/field")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("#loginForm button")
    page.locator("#units li", has_text="工人影城").first.locator("button").click()
    page.locator("#sheetBody .seg").nth(1).wait_for()
    page.locator("#sheetBody .seg").nth(0).get_by_text("合格", exact=True).click()
    page.locator("#sheetBody .seg").nth(1).get_by_text("不合格", exact=True).click()
    page.locator("#sheetBody .item").nth(1).locator("input[placeholder='备注']").fill("店外摆放货架")
    page.locator("#sheetBody .item").nth(1).locator("input[type=file]").set_input_files(
        files=[{"name": "c.png", "mimeType": "image/png", "buffer": PNG}])
    page.locator("#sheetBody .item").nth(1).get_by_text("不合格时立案").click()
    assert _tap_sizes(page) == [] and _overflow(page) == []
    _shot(page, "7-checklist")
    page.get_by_text("提交巡查结果").click()
    expect(page.locator("#msg")).to_contain_text("巡查已记录")
    body = sent[0]
    unit = body.pop("unit_id")
    assert isinstance(unit, int) and body.pop("lng") and body.pop("lat")
    photos = body["results"][1].pop("photos")
    assert len(photos) == 1 and len(photos[0]) == 64
    assert body == {"target_kind": "unit", "checklist": "三包", "inspector_kind": "grid_officer", "unannounced": False,
                    "crs": "wgs84", "results": [
                        {"item": "clean", "result": "pass", "note": None, "photos": [], "open_case": False},
                        {"item": "order", "result": "fail", "note": "店外摆放货架", "open_case": True}]}
