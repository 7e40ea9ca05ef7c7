"""The public report page (/report) and the status page (/r/{code}) in Chromium, under their own CSP (no bypass),
with nothing loaded from the network: on a phone (390 × 844, touch, zh-CN, geolocation granted at a 新街口 point)
take a photo, see the responsible area and a nearby case of the same category suggested, choose to follow it and
change one's mind, file the report, read the tracking code and open the status page; the same on a desktop.
Screenshots go to test-artifacts/report_page/."""

from __future__ import annotations

import math

import pytest
from case_city import load_case_city, scene_jpeg
from live import serve
from sqlalchemy import text
from support import ARTIFACTS, image_loaded, loopback_page

from gridsvc.api.app import create_app
from gridsvc.ops.cases import core
from gridsvc.settings import get_settings

pytestmark = [pytest.mark.browser, pytest.mark.shared]
OUT = ARTIFACTS / "report_page"
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    info = load_case_city(engine)
    x, y = info["point"]
    near = (x + 12 / (111_320 * math.cos(math.radians(y))), y)
    with engine.begin() as c:
        case_id = core.open_case(c, lng=near[0], lat=near[1], category="SJ0102", description="路边堆放垃圾袋",
                                 source="grid_officer", actor="ui", role="admin")
        existing = c.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app(engine)
    app.state.upload_dir = uploads
    settings = get_settings()
    old = settings.report_per_hour
    settings.report_per_hour = 1000
    try:
        with serve(app) as url:
            yield engine, url, info, existing
    finally:
        settings.report_per_hour = old


def _context(browser, point, phone: bool):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    ctx = browser.new_context(viewport=size, device_scale_factor=2 if phone else 1, is_mobile=phone,
                              has_touch=phone, locale="zh-CN", geolocation={"longitude": point[0],
                                                                            "latitude": point[1]},
                              permissions=["geolocation"])
    page, blocked, errors = loopback_page(ctx)
    return ctx, page, blocked, errors


def _file(served_, page, url, tmp_path, seed: int, shots: str, width: int) -> str:
    engine, _url, info, existing = served_
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/report")
    page.wait_for_selector("#category option[value=SJ0102]", state="attached")
    page.wait_for_selector("#area:not([hidden])")  # located at once (permission granted) and looked up
    assert "位置：" in page.locator("#where").inner_text()
    assert "所在区域" in page.locator("#area").inner_text()
    photo = tmp_path / f"scene-{seed}.jpg"
    photo.write_bytes(scene_jpeg(seed, gps=info["point"]))
    page.set_input_files("#photo", str(photo))
    page.wait_for_selector("#thumbs img")
    page.select_option("#category", "SJ0102")
    page.wait_for_selector("#sugCard:not([hidden])")
    item = page.locator("#sugs li", has_text=existing)
    assert "距此 12 米" in item.inner_text()
    page.fill("#desc", "人行道上堆放了建筑垃圾，影响通行")
    page.fill("#phone", "13912345678")
    page.screenshot(path=str(OUT / f"{shots}-filled.png"), full_page=True)
    item.locator("button").click()
    page.wait_for_selector("#followCard:not([hidden])")
    assert page.locator("#submit").inner_text() == "关注此案件"
    page.screenshot(path=str(OUT / f"{shots}-follow.png"), full_page=True)
    page.click("#unfollow")
    assert page.locator("#submit").inner_text() == "提交上报"
    page.click("#submit")
    page.wait_for_selector("#done:not([hidden])")
    code = page.locator("#code").inner_text()
    assert len(code) == 10 and page.locator("#mine li").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(OUT / f"{shots}-done.png"), full_page=True)
    page.click("#statusLink")
    page.wait_for_selector(".steps")
    body = page.locator("body").inner_text()
    assert code in body and "受理" in body and "13912345678" not in body and "王网格" not in body
    assert image_loaded(page, ".photos img")  # the clean copy, under the CSP
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(OUT / f"{shots}-status.png"), full_page=True)
    return code


def test_report_from_a_phone(served, browser, tmp_path):
    engine, url, info, _existing = served
    ctx, page, blocked, errors = _context(browser, info["point"], phone=True)
    code = _file(served, page, url, tmp_path, 501, "phone", 390)
    small = page.evaluate("""() => [...document.querySelectorAll('a, button')].filter(e => e.offsetParent && !e.closest('footer'))
        .map(e => e.getBoundingClientRect()).filter(r => r.height < 40).length""")
    assert small == 0  # tap targets
    ctx.close()
    assert blocked == [] and errors == []
    with engine.connect() as c:
        row = c.execute(text("SELECT c.state, c.source, r.phone FROM reports r JOIN cases c ON c.id = r.case_id "
                             "WHERE r.code = :c"), {"c": code}).one()
    assert tuple(row) == ("accepted", "citizen", "13912345678")


def test_report_from_a_desktop(served, browser, tmp_path):
    _engine, url, info, _existing = served
    ctx, page, blocked, errors = _context(browser, info["point"], phone=False)
    _file(served, page, url, tmp_path, 502, "desktop", 1280)
    ctx.close()
    assert blocked == [] and errors == []
