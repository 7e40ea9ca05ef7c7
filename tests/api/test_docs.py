"""Offline API docs: Swagger UI from the vendored swagger-ui-dist, rendered by headless Chromium with no network."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from live import serve
from sqlalchemy import create_engine
from support import ARTIFACTS, needs_chromium

from gridsvc.api.app import create_app
from gridsvc.api.docs import STATIC_DIR, SWAGGER_UI
from gridsvc.maps.browser import open_page


@pytest.fixture(scope="module")
def app():
    # /docs and /openapi.json never touch the database
    dead = create_engine("postgresql+psycopg://nobody:x@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    app = create_app(dead)
    return app


def test_docs_page_points_at_local_assets_and_the_cdn_pages_are_gone(app):
    with TestClient(app) as c:
        html = c.get("/docs").text
        assert f"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js" in html and "cdn.jsdelivr" not in html
        assert "fastapi.tiangolo.com" not in html
        js = c.get(f"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert c.get(f"/static/vendor/{SWAGGER_UI}/swagger-ui.css").headers["content-type"].startswith("text/css")
        assert c.get("/redoc").status_code == 404
        assert [getattr(r, "path", None) for r in app.routes].count("/docs") == 1


def test_vendored_files_are_complete():
    folder = STATIC_DIR / "vendor" / SWAGGER_UI
    assert {p.name for p in folder.iterdir()} == {"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE",
                                                   "swagger-ui-bundle.js.LICENSE.txt"}
    assert SWAGGER_UI.removeprefix("swagger-ui-") in (STATIC_DIR / "vendor" / "VERSIONS.md").read_text()


@pytest.mark.browser
@needs_chromium
def test_swagger_ui_renders_offline(app):
    shot = ARTIFACTS / "api_docs.png"

    def actions(page):
        page.wait_for_selector(".opblock-summary-path", state="visible")
        tile_op = page.locator(".opblock-summary", has_text=".pbf").first
        tile_op.click()
        page.locator(".opblock.is-open .parameters").first.wait_for(state="visible")
        tile_op.scroll_into_view_if_needed()
        return {"params": page.locator(".opblock.is-open .parameter__name").all_inner_texts(),
                "ops": page.locator(".opblock").count(),
                "paths": page.locator(".opblock-summary-path").all_inner_texts(),
                "title": page.locator(".information-container .title").inner_text()}

    with serve(app) as url:
        report = open_page(f"{url}/docs", screenshot=shot, wait_for=".swagger-ui", actions=actions)
    assert report.console_errors == [] and report.page_errors == [] and report.blocked_requests == []
    seen = report.action_result
    assert "gridsvc" in seen["title"]
    assert seen["ops"] >= 15
    assert {"layer", "z", "x", "y"} <= {p.split()[0].rstrip("*") for p in seen["params"]}
    assert {"/tiles/{layer}/{z}/{x}/{y}.pbf", "/ogc/collections/{collectionId}/items", "/health"} <= {
        p.replace("\u200b", "") for p in seen["paths"]}
    assert shot.is_file() and shot.stat().st_size > 20_000
