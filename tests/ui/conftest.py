"""Browser tests of the planner's workspace: the real Nanjing extract with its grid and 三包 zones, served by a
real uvicorn, driven by Debian's Chromium with every non-loopback request blocked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from live import serve
from sqlalchemy import text
from support import APP_TABLES, NANJING, shared_file

from gridsvc.api.app import create_app
from gridsvc.grid import build_grid
from gridsvc.ingest import ingest
from gridsvc.parties import add_officer
from gridsvc.zones import build_zones

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
                 "--no-first-run", "--disable-sync"]
LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}
HOSTILE = "<img src=x onerror=alert(1)>"
# 1×1 transparent PNG, the answer to basemap tile requests a test allows (they never leave the machine)
BLANK_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def city(engine):
    """Nanjing 新街口: layers, H3 grid, 三包 zones, two grid officers and a unit with a hostile name."""
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    build_zones(engine, "三包")
    with engine.begin() as c:
        communities = c.execute(text("SELECT DISTINCT substr(code, 1, 12) FROM grid_cells ORDER BY 1 LIMIT 2")).scalars().all()
        add_officer(c, "王网格", "13800000001", [communities[0]])
        add_officer(c, "李网格", "13800000002", [communities[1]])
        c.execute(text("UPDATE units SET name = :n WHERE id = (SELECT min(id) FROM units)"), {"n": HOSTILE})
    return engine


@pytest.fixture(scope="session")
def hostile_name() -> str:
    """The name given to one unit, to prove records are shown as text."""
    return HOSTILE


@pytest.fixture(scope="module")
def base_url(city):
    with serve(create_app(city)) as url:
        yield url


@pytest.fixture(scope="module")  # not session: a running sync Playwright blocks gridsvc.maps.browser.open_page
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@dataclass
class Watch:
    """What a page did: console errors, uncaught errors, dialogs, requests (all, and those blocked)."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    allow_hosts: set[str] = field(default_factory=set)  # answered locally with a blank tile, never fetched

    def expected_console(self, *fragments: str) -> list[str]:
        """Console errors other than those naming one of `fragments` (e.g. the 409 an overlap test provokes)."""
        return [e for e in self.console_errors if not any(f in e for f in fragments)]


@pytest.fixture
def page(browser):
    """A fresh page (own storage) whose non-loopback requests are aborted and recorded; the test fails if any."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 860}, service_workers="block", locale="zh-CN")
    watch = Watch()

    def route(r):
        url = r.request.url
        watch.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or (parts.hostname or "") in LOCAL:
            r.continue_()
        elif any((parts.hostname or "").endswith(h) for h in watch.allow_hosts):
            watch.stubbed.append(url)
            r.fulfill(status=200, content_type="image/png", body=BLANK_PNG)
        else:
            watch.blocked.append(url)
            r.abort("blockedbyclient")

    ctx.route("**/*", route)
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    pg.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    pg.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    pg.watch = watch
    yield pg
    ctx.close()
    assert watch.blocked == [], f"the page tried to reach the network: {watch.blocked[:5]}"
