"""Browser tests of the planner's workspace: the real Nanjing extract with its grid and 三包 zones, served by a
real uvicorn, driven by Debian's Chromium with every non-loopback request blocked."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from live import serve
from sqlalchemy import text
from support import load_nanjing

from gridsvc.api.app import create_app
from gridsvc.people.parties import add_officer
from gridsvc.people.users import create_user

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
                 "--no-first-run", "--disable-sync"]
LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}
HOSTILE = "<img src=x onerror=alert(1)>"
# A unit with a contact and a phone, to see them masked for anonymous users and complete for staff
CONTACT_UNIT = "工人影城"
CONTACT, PHONE = "张三丰", "13812345678"
# 1×1 transparent PNG, the answer to basemap tile requests a test allows (they never leave the machine)
BLANK_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944"
                    "4154789c6360606060000000050001a5f645400000000049454e44ae426082")


@dataclass(frozen=True)
class Login:
    """A workspace user: name, password, role and grid codes."""

    name: str
    password: str
    role: str
    grids: tuple[str, ...] = ()


PLANNER = Login("ui-planner", "planner-secret-42", "planner")
OFFICER = Login("ui-officer", "officer-secret-42", "grid_officer")  # one grid cell: see city()


@pytest.fixture(scope="module")
def city(engine):
    """Nanjing 新街口: layers, H3 grid, 三包 zones, two grid officers, a unit with a hostile name, a unit with a
    contact and phone, and two users of the workspace (a planner, a grid officer with one grid cell)."""
    load_nanjing(engine, zones="三包")
    with engine.begin() as c:
        communities = c.execute(text("SELECT DISTINCT substr(code, 1, 12) FROM grid_cells ORDER BY 1 LIMIT 2")).scalars().all()
        add_officer(c, "王网格", "13800000001", [communities[0]])
        add_officer(c, "李网格", "13800000002", [communities[1]])
        c.execute(text("UPDATE units SET name = :n WHERE id = (SELECT min(id) FROM units)"), {"n": HOSTILE})
        c.execute(text("UPDATE units SET contact = :c, phone = :p WHERE name = :n"),
                  {"c": CONTACT, "p": PHONE, "n": CONTACT_UNIT})
        # the grid officer's one grid cell: the first by code, at the edge of the managed area, away from the
        # spots where the tests draw
        grid = c.execute(text("SELECT min(code) FROM grid_cells")).scalar_one()
        for user, grids in ((PLANNER, ()), (OFFICER, (grid,))):
            if c.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": user.name}).first() is None:
                create_user(c, user.name, user.role, user.password, grids)
            else:  # users outlive the data fixtures' truncations (and the grid codes)
                c.execute(text("DELETE FROM user_grids WHERE user_id = (SELECT id FROM users WHERE name = :n)"),
                          {"n": user.name})
                for g in grids:
                    c.execute(text("INSERT INTO user_grids (user_id, grid_code) SELECT id, :g FROM users WHERE name = :n"),
                              {"g": g, "n": user.name})
    return engine


@pytest.fixture(scope="session")
def planner() -> Login:
    """The planner user of the workspace tests."""
    return PLANNER


@pytest.fixture(scope="session")
def grid_officer() -> Login:
    """The grid officer user (one grid cell)."""
    return OFFICER


@pytest.fixture(scope="module")
def officer_grid(city) -> str:
    """The grid cell of the grid officer user."""
    with city.connect() as c:
        return c.execute(text("SELECT g.grid_code FROM user_grids g JOIN users u ON u.id = g.user_id "
                              "WHERE u.name = :n"), {"n": OFFICER.name}).scalar_one()


@pytest.fixture(scope="session")
def contact_unit() -> tuple[str, str, str]:
    """Name, contact and phone of the unit whose record is shown masked or complete."""
    return CONTACT_UNIT, CONTACT, PHONE


@pytest.fixture(scope="session")
def hostile_name() -> str:
    """The name given to one unit, to prove records are shown as text."""
    return HOSTILE


@pytest.fixture(scope="module")
def base_url(city):
    with serve(create_app(city)) as url:
        yield url


@pytest.fixture(scope="module")  # not session: a running sync Playwright blocks gridsvc.maps.browser.open_page
def browser(chromium):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
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
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's CSP (rightly) forbids;
    # test_the_page_runs_under_its_content_security_policy checks the page itself under the real policy
    ctx = browser.new_context(viewport={"width": 1400, "height": 860}, service_workers="block", locale="zh-CN",
                              bypass_csp=True)
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
