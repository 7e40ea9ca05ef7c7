"""The workspace's dashboard tab in headless Chromium (desktop and phone): the H3 heat map of the cases with its week
slider, a cell's cases, the overdue cases and the ranking, on Nanjing 新街口 with cases made by the test in this
week and the last (Beijing time). Screenshots go to test-artifacts/dashboard-*.png."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import h3
import httpx
import pytest
from sqlalchemy import text
from support import ARTIFACTS

from gridsvc.ops.bulletins import dashboard
from gridsvc.timekeeping import period, zone

pytestmark = [pytest.mark.browser, pytest.mark.shared]
READY = "window.gridsvcReady"

HEAT_COUNTS = """() => Object.fromEntries([...document.querySelectorAll('.gs-heat-cell')]
  .map(p => [p.getAttribute('data-h3'), Number(p.getAttribute('data-count'))]))"""


def _insert(c, k, x, y, grid, at, due, state="dispatched", closed=None):
    return c.execute(text(
        "INSERT INTO cases (code, state, category, kind, urgency, description, source, reported_by, reported_at, geom, "
        "grid_code, department, rule, routing, deadlines, stage, due_at, closed_at) VALUES (:code, :st, 'SJ0102', "
        "'event', 'normal', :d, 'grid_officer', 'tester', :r, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :g, "
        "'sanitation', 'r', '{}', :dl, CASE WHEN :st = 'closed' THEN NULL ELSE 'handle' END, "
        "CASE WHEN :st = 'closed' THEN NULL ELSE CAST(:due AS timestamptz) END, :cl) RETURNING id"),
        {"code": f"UI{k:04d}", "st": state, "d": f"看板测试案件 {k}", "r": at, "x": x, "y": y, "g": grid,
         "dl": json.dumps({"handle": due.isoformat()}), "due": due, "cl": closed}).scalar_one()


@pytest.fixture(scope="module")
def cases(city):
    """Cases in three heat-map cells: this week 3 in X, 1 in Y, 1 closed in Z; last week 1 in X, 2 in Z. Two of
    this week's are overdue (by about 30 and 6 hours, or less early in the week)."""
    now = datetime.now(zone())
    this, last = period(dashboard.week_key(now)), period(period(dashboard.week_key(now)).previous)
    with city.begin() as c:
        c.execute(text("TRUNCATE cases, case_events, escalations RESTART IDENTITY CASCADE"))
        res = dashboard.resolution(c)
        cells = c.execute(text("SELECT code, ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y "
                               "FROM grid_cells ORDER BY ST_Distance(geom, ST_SetSRID(ST_MakePoint(118.7836, "
                               "32.0427), 4326)) LIMIT 400")).all()
        picked: dict[str, tuple] = {}
        for code, x, y in cells:
            hexagon = h3.latlng_to_cell(y, x, res)
            if hexagon not in picked:
                picked[hexagon] = (code, x, y)
            if len(picked) == 3:
                break
        (X, (gx, xx, xy)), (Y, (gy, yx, yy)), (Z, (gz, zx, zy)) = picked.items()
        span = now - this.start
        at = [this.start + span * f for f in (0.2, 0.4, 0.6, 0.8, 0.9)]
        ids = {}
        ids["x1"] = _insert(c, 1, xx, xy, gx, at[0], now - timedelta(hours=30))  # the longest overdue
        ids["x2"] = _insert(c, 2, xx + 1e-5, xy, gx, at[1], now - timedelta(hours=6))
        ids["x3"] = _insert(c, 3, xx, xy + 1e-5, gx, at[2], now + timedelta(days=2))
        ids["y1"] = _insert(c, 4, yx, yy, gy, at[3], now + timedelta(days=2))
        ids["z1"] = _insert(c, 5, zx, zy, gz, at[4], now, "closed", at[4] + (now - at[4]) / 2)
        _insert(c, 6, xx, xy, gx, last.start + timedelta(days=1), last.start + timedelta(days=20))
        _insert(c, 7, zx, zy, gz, last.start + timedelta(days=2), last.start + timedelta(days=20))
        _insert(c, 8, zx, zy + 1e-5, gz, last.end - timedelta(minutes=1), last.start + timedelta(days=20))
    return {"res": res, "this": this.key, "last": last.key, "X": X, "Y": Y, "Z": Z, "ids": ids,
            "counts": {this.key: {X: 3, Y: 1, Z: 1}, last.key: {X: 1, Z: 2}},
            "centre": ((xx + zx) / 2, (xy + zy) / 2)}


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def token_of(base_url, user) -> str:
    """A login JWT, as the top bar's form gets it."""
    r = httpx.post(f"{base_url}/auth/token", data={"username": user.name, "password": user.password}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def open_dashboard(page, base_url, user, cases):
    """Logged in (the token in sessionStorage, as the login form leaves it), the dashboard tab open."""
    page.add_init_script(f"window.sessionStorage.setItem('gridsvc.token', {json.dumps(token_of(base_url, user))})")
    page.goto(base_url + "/")
    assert page.evaluate(READY)["ok"]
    page.click("#tabbtn-dashboard")
    page.wait_for_function("document.body.dataset.dashboard === 'ready'")
    lng, lat = cases["centre"]
    page.evaluate("([lat, lng]) => GS.map.setView([lat, lng], 16, {animate: false})", [lat, lng])
    page.wait_for_timeout(300)


def test_anonymous_users_have_no_dashboard(page, base_url, cases):
    page.goto(base_url + "/")
    assert page.evaluate(READY)["ok"]
    assert page.locator("#tabbtn-dashboard").is_hidden()


def test_the_dashboard_on_a_desktop(page, base_url, city, cases, planner):
    open_dashboard(page, base_url, planner, cases)
    # this week: the hexagons and their counts, the week in Chinese
    assert page.evaluate("document.body.dataset.dashboardWeek") == cases["this"]
    assert page.evaluate(HEAT_COUNTS) == cases["counts"][cases["this"]]
    assert "发现 5 件" in page.locator("#dash-week-count").inner_text()
    assert "年第" in page.locator("#dash-week-label").inner_text()
    # the overdue cases, the longest overdue first
    page.wait_for_selector("#dash-overdue-cases .gs-dash-case")
    overdue = page.locator("#dash-overdue-cases .gs-dash-case")
    assert overdue.count() == 2
    assert [overdue.nth(i).get_attribute("data-case-id") for i in range(2)] == [
        str(cases["ids"]["x1"]), str(cases["ids"]["x2"])]
    assert "超期" in overdue.nth(0).inner_text()
    # the ranking of this week's assessment: 网格 rows with 末位 marked
    page.wait_for_function(f"document.body.dataset.dashboardRanking === 'weekly/{cases['this']}'")
    page.click("#dash-level-grid")
    rows = page.locator("#dash-rank-table tbody tr")
    assert rows.count() >= 3
    assert page.locator("#dash-rank-table tr.gs-last .gs-badge", has_text="末位").count() >= 1
    assert "结案率" in page.locator("#dash-rank-table thead").inner_text()
    shot(page, "dashboard-desktop-week.png")

    # the slider one week back: last week's counts
    page.focus("#dash-week")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"document.body.dataset.dashboardWeek === '{cases['last']}' && "
                           "document.body.dataset.dashboard === 'ready'")
    assert page.evaluate(HEAT_COUNTS) == cases["counts"][cases["last"]]
    assert "发现 3 件" in page.locator("#dash-week-count").inner_text()
    shot(page, "dashboard-desktop-last-week.png")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.body.dataset.dashboardWeek === '{cases['this']}' && "
                           "document.body.dataset.dashboard === 'ready'")

    # a cell's cases: click the hexagon with three
    page.locator(f".gs-heat-cell[data-h3='{cases['X']}']").click()
    page.wait_for_function(f"document.body.dataset.dashboardCell === '{cases['X']}'")
    listed = page.locator("#dash-cell-cases .gs-dash-case")
    assert listed.count() == 3
    assert {listed.nth(i).get_attribute("data-case-id") for i in range(3)} == {
        str(cases["ids"][k]) for k in ("x1", "x2", "x3")}
    assert "3 件" in page.locator("#dash-cell-title").inner_text()
    shot(page, "dashboard-desktop-cell.png")
    # the click went to the hexagon, not to the map's record underneath
    assert page.locator("#tab-dashboard").is_visible()

    # clicking an overdue case zooms to it
    overdue.nth(0).click()
    page.wait_for_function(f"document.body.dataset.dashboardZoomed === '{cases['ids']['x1']}'")
    page.wait_for_function("GS.map.getZoom() >= 18")  # the zoom is animated: wait for it to arrive
    shot(page, "dashboard-desktop-zoomed.png")

    # leaving the tab takes the hexagons off the map; coming back brings them
    page.click("#tabbtn-details")
    assert page.locator(".gs-heat-cell").count() == 0
    page.click("#tabbtn-dashboard")
    page.wait_for_selector(".gs-heat-cell", state="attached")
    assert page.watch.page_errors == [] and page.watch.console_errors == []


def test_the_dashboard_on_a_phone(page, base_url, city, cases, planner):
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, base_url, planner, cases)
    assert page.evaluate(HEAT_COUNTS) == cases["counts"][cases["this"]]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box_map = page.locator("#map").bounding_box()
    box_panel = page.locator("#panel").bounding_box()
    assert box_map["width"] >= 380 and box_panel["y"] >= box_map["y"] + box_map["height"] - 1  # the panel below
    shot(page, "dashboard-phone.png")
    page.locator(f".gs-heat-cell[data-h3='{cases['X']}']").click()
    page.wait_for_function(f"document.body.dataset.dashboardCell === '{cases['X']}'")
    assert page.locator("#dash-cell-cases .gs-dash-case").count() == 3
    page.locator("#dash-cell").scroll_into_view_if_needed()
    shot(page, "dashboard-phone-cell.png")
    page.locator("#dash-ranking").scroll_into_view_if_needed()
    page.wait_for_selector("#dash-rank-table")
    shot(page, "dashboard-phone-ranking.png")
    assert page.watch.page_errors == []
