"""The party's case page in Chromium on a phone viewport: open /c/{token} as the QR code would, fill in the form
with a photo, submit, and see 已提交整改，待核查; under the page's own CSP (no bypass), with nothing loaded from
the network. Screenshots go to test-artifacts/case_page/."""

from __future__ import annotations

import pytest
from case_city import city_with_case, gps_jpeg
from live import serve
from sqlalchemy import text
from support import ARTIFACTS, image_loaded, loopback_page

from gridsvc.api.app import create_app
from gridsvc.ops.cases.links import issue_link

pytestmark = [pytest.mark.browser, pytest.mark.shared]
OUT = ARTIFACTS / "case_page"
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    uploads = tmp_path_factory.mktemp("uploads")
    _info, _before, case_id = city_with_case(engine, uploads)
    with engine.connect() as c:
        token = issue_link(c, case_id).token
    app = create_app(engine)
    app.state.upload_dir = uploads
    with serve(app) as url:
        yield engine, url, case_id, token


def test_the_party_reports_its_case_rectified_from_a_phone(served, browser, tmp_path):
    engine, url, case_id, token = served
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    page, blocked, errors = loopback_page(ctx)
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/c/{token}")
    assert page.locator("h1").inner_text().startswith("暴露垃圾")
    assert image_loaded(page, ".photos img")  # the photo, under the CSP (loading=lazy: once scrolled to)
    page.screenshot(path=str(OUT / "case-page-phone.png"), full_page=True)
    photo = tmp_path / "after.jpg"
    photo.write_bytes(gps_jpeg((40, 160, 90)))
    page.fill("#note", "门前纸箱已清理，垃圾袋已投放到垃圾桶。")
    page.set_input_files("#photo", str(photo))
    page.click("button[type=submit]")
    page.wait_for_selector("#submitted")
    assert "已提交整改，待核查" in page.locator("#submitted").inner_text()
    assert image_loaded(page, "#submitted img")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    page.screenshot(path=str(OUT / "case-page-phone-submitted.png"), full_page=True)
    ctx.close()
    assert blocked == [] and errors == []
    with engine.connect() as c:
        assert c.execute(text("SELECT state FROM cases WHERE id = :i"), {"i": case_id}).scalar_one() == "rectified"
