"""The field page (/field) on a phone: Chromium with mobile emulation (390×844, touch, zh-CN) and a fixed
geolocation inside Nanjing 新街口, logged in as a grid officer through the page's own form. It shows who is
responsible here, the units around and the officer's open cases by deadline (the overdue one in red); the officer
reports a case with a photo, acts on a dispatched one (处置完成 with a note and a photo, If-Match), and inspects
工人影城 against the real /checklists and /inspections: the unit's policy checklist comes first, the officer switches
to the scored 十乱 list, fails one item with a photo and 不合格时立案, and reads the score and the case opened; the
database then holds the inspection and the case linked to it.
Screenshots of each state go to test-artifacts/field-*.png. The page runs under its own Content-Security-Policy
(no bypass); every non-loopback request, and any script error, fails the test."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from samples import PNG
from sqlalchemy import text
from support import ARTIFACTS, loopback_page, needs_chromium

from gridsvc.ops.cases import core
from gridsvc.people.users import Principal, create_user
from gridsvc.timekeeping import zone

pytestmark = needs_chromium
USER, PASSWORD = "field-officer", "field-secret-42"
ADMIN = Principal("field-admin", "admin")
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
        # the officer's grids: the spot's, and the one holding the cinema's own point (an inspection's grid)
        grids = sorted({grid, c.execute(text(
            "SELECT g.code FROM grid_cells g JOIN units u ON ST_Covers(g.geom, u.geom) WHERE u.name = '工人影城' "
            "ORDER BY u.id LIMIT 1")).scalar_one()})
        if c.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": USER}).first() is None:
            create_user(c, USER, "grid_officer", PASSWORD, grids)
        c.execute(text("DELETE FROM user_grids WHERE user_id = (SELECT id FROM users WHERE name = :n)"), {"n": USER})
        c.execute(text("INSERT INTO user_grids (user_id, grid_code) SELECT id, g FROM users, unnest(CAST(:g AS text[])) g "
                       "WHERE name = :n"), {"g": grids, "n": USER})
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
    page, blocked, errors = loopback_page(ctx, console_errors=False)
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

    # start an inspection: the checklist of the unit's zone policy (三包) is the one offered first
    page.locator("#units li", has_text="工人影城").first.locator("button").click()
    page.locator("#sheetBody .seg").nth(2).wait_for()
    assert page.locator("#checklist").input_value() == "policy:三包"
    expect(page.locator("#sheetBody .item")).to_have_count(3)
    assert _tap_sizes(page) == [] and _overflow(page) == []
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


def _login(page, base_url) -> None:
    page.goto(f"{base_url}/field")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("#loginForm button")
    page.locator("#party .who b").wait_for()


def test_the_officer_inspects_a_unit_and_a_failed_item_opens_a_case(phone, base_url, spot, city):
    """No stubs: GET /checklists, GET /checklists/{id}, POST /uploads and POST /inspections of the live server."""
    page = phone
    _login(page, base_url)
    page.locator("#units li", has_text="工人影城").first.locator("button").click()
    page.locator("#sheetBody .seg").nth(2).wait_for()
    assert page.locator("#checklist").input_value() == "policy:三包"  # the unit's policy checklist first
    assert page.locator("#checklist option:checked").inner_text() == "门前三包责任检查"  # Chinese, no gloss
    page.select_option("#checklist", "shirong-shiluan")  # the officer switches to the scored 十乱 list
    expect(page.locator("#sheetBody .item")).to_have_count(10)
    items = page.locator("#sheetBody .item")
    for i in range(10):
        items.nth(i).locator(".seg").get_by_text("不合格" if i == 2 else "合格", exact=True).click()
    failed = items.nth(2)
    failed.locator("input[placeholder^='备注']").fill("门口堆放纸箱")
    failed.locator("input[type=file]").set_input_files(files=[{"name": "c.png", "mimeType": "image/png",
                                                               "buffer": PNG}])
    expect(failed.locator(".thumbs img")).to_have_count(1)
    failed.get_by_text("不合格时立案").click()
    assert failed.locator("input[type=checkbox]").is_checked()
    expect(items.nth(3).get_by_text("不合格时立案")).to_be_hidden()  # only a failed item opens a case
    assert _tap_sizes(page) == [] and _overflow(page) == []
    page.evaluate("document.querySelectorAll('#sheetBody .item')[2].scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "field-7-checklist.png"))
    _shot(page, "7-checklist-full")

    page.get_by_text("提交巡查结果").click()
    expect(page.locator("#msg")).to_contain_text("巡查已记录")
    result = page.locator("#sheetBody")
    expect(result.locator(".verdict")).to_have_text("不合格 1 项")
    text_ = result.inner_text()
    assert "90 / 100 分（90%）" in text_ and "无乱堆放" in text_ and "门口堆放纸箱" in text_, text_
    assert not any(w in text_ for w in ("pass", "fail", "null", "undefined", "SJ0504")), text_
    assert _tap_sizes(page) == [] and _overflow(page) == []
    _shot(page, "8-result")

    with city.connect() as c:
        ins = c.execute(text(
            "SELECT i.id, i.checklist, i.target_kind, i.target_ref, i.unit_id, u.name AS unit, i.inspector, "
            "i.inspector_kind, i.source, i.score, i.max_score, i.items_total, i.items_failed, i.passed, i.party_id, "
            "i.unannounced FROM inspections i JOIN units u ON u.id = i.unit_id ORDER BY i.id DESC LIMIT 1"
        )).mappings().one()
        party = c.execute(text(
            "SELECT z.party_id FROM zones z JOIN units u ON u.id = z.unit_id WHERE z.valid_to IS NULL "
            "AND z.kind = 'frontage' AND u.name = '工人影城' ORDER BY z.zone_id LIMIT 1")).scalar_one()
        results = c.execute(text("SELECT item_id, result, note, cardinality(photos) AS photos "
                                 "FROM inspection_results WHERE inspection_id = :i AND result <> 'pass'"),
                            {"i": ins["id"]}).all()
        cases = c.execute(text("SELECT c.code, c.source, c.category, c.party_id, c.inspection_item, "
                               "(SELECT cardinality(e.photos) FROM case_events e WHERE e.case_id = c.id AND e.seq = 1) "
                               "AS photos FROM cases c WHERE c.inspection_id = :i"), {"i": ins["id"]}).mappings().all()
    assert (ins["unit"], ins["target_kind"], ins["target_ref"], ins["checklist"]) == (
        "工人影城", "unit", str(ins["unit_id"]), "shirong-shiluan")
    assert (ins["inspector"], ins["inspector_kind"], ins["unannounced"], ins["source"]) == (
        USER, "grid_officer", False, "field")
    assert (float(ins["score"]), float(ins["max_score"])) == (90.0, 100.0)
    assert (ins["items_total"], ins["items_failed"], ins["passed"]) == (10, 1, False)
    assert ins["party_id"] == party
    assert [tuple(r) for r in results] == [("3", "fail", "门口堆放纸箱", 1)]
    assert len(cases) == 1, cases
    case = cases[0]
    assert (case["source"], case["inspection_item"], case["category"]) == ("inspection", "3", "SJ0504")
    assert case["party_id"] == party and case["photos"] == 1
    assert case["code"] in text_  # the case code opened from the failed item is on the page
