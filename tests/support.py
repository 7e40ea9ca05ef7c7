"""Helpers shared by tests: where the real extracts are, and table counts."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from gridsvc.geo.basemap_shift import tile_of  # noqa: F401  (the tests' import)
from gridsvc.settings import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")  # Debian's Chromium, which `make setup` installs
SHARED = Path(os.environ.get("GRIDSVC_SHARED_GEODATA", REPO_ROOT.parent / "shared" / "geodata"))
NANJING = SHARED / "nanjing_xinjiekou_2021-06-12.osm.pbf"
TAIYUAN = SHARED / "taiyuan_partial.gpkg"
APP_TABLES = ("zones", "zone_builds", "feature_cells", "officer_grids", "officers", "parties", "units", "grid_cells", "streets",
              "buildings", "compounds", "markets", "admin_units", "imports", "report_photos", "reports", "escalations", "case_events", "cases",
              "case_counters", "inspection_results", "inspections", "unit_ratings", "credit_entries", "duty_boards",
              "pledges", "compound_heads", "steward_team_members", "steward_teams", "hotline_orders")
ARTIFACTS = REPO_ROOT / "test-artifacts"


def shared_file(path: Path) -> Path:
    """A file from ../shared/geodata, or skip the test where it is absent."""
    if not path.exists():
        pytest.skip(f"{path} not present (tests read the real extracts from ../shared/geodata)")
    return path


def require_chromium() -> Path:
    """Debian's Chromium and Python playwright, or the test fails: a browser check that did not run must not pass."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}, so this test's browser checks cannot run: "
                    "`make setup` (or `sudo apt-get install chromium`) installs it", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Python playwright is not installed, so this test's browser checks cannot run: "
                    "`pip install -e '.[test]'`", pytrace=False)
    return CHROMIUM


# for tests that drive Chromium throughout: fail (never skip) where it is missing
needs_chromium = pytest.mark.usefixtures("chromium")


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """URL of a new empty database (local cluster or GRIDSVC_DATABASE_URL's server), dropped afterwards: for
    tests whose writes (a schema reset, fuzzing) must not reach the session database."""
    from sqlalchemy import make_url

    from gridsvc.db.engine import make_engine
    from gridsvc.settings import get_settings

    settings = get_settings()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    if settings.database_url:
        admin = make_engine(settings.database_url, settings).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    from gridsvc.pg.cluster import LocalCluster

    cluster = LocalCluster(settings.cluster_dir)
    cluster.up()
    cluster.ensure_database(name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


def table_counts(engine) -> dict[str, int]:
    """Row count of every gridsvc table (to prove failed imports change nothing)."""
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in APP_TABLES}


def load_nanjing(engine, *, zones: str | None = None):
    """Empty the database, then load Nanjing 新街口 with its H3 grid (and zones under a policy, if given)."""
    from gridsvc.city.grid import build_grid
    from gridsvc.city.ingest import ingest
    from gridsvc.zones.build import build_zones

    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    if zones:
        build_zones(engine, zones)
    return engine


def bearer(engine, name: str, role: str, grids: tuple[str, ...] = (), party_id: int | None = None) -> dict:
    """Authorization headers of an API token for a user (created if missing) with this role."""
    from gridsvc.people.users import create_user, issue_api_token

    with engine.begin() as c:
        if c.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": name}).first() is None:
            create_user(c, name, role, None, list(grids), party_id)
        return {"Authorization": f"Bearer {issue_api_token(c, name)}"}


def tile_pixel(lng: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Where a point falls in tile z/x/y, in MVT units (0..EXTENT, y down)."""
    from gridsvc.db.tiles import EXTENT

    n = 2**z
    fx = (lng + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return (fx - x) * EXTENT, (fy - y) * EXTENT


def write_xlsx(path: Path, rows: list[list], title: str = "Sheet1") -> Path:
    """Write rows to a one-sheet workbook (a string starting with '=' becomes a formula, as openpyxl does)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    """Write rows as comma-separated text."""
    path.write_text("\n".join(",".join(str(c) for c in r) for r in rows) + "\n", encoding=encoding)
    return path


def raises_exactly(cls, *args, **kwargs):
    """read_ledger(*args) must raise exactly cls; returns the error."""
    from gridsvc.city.readers.ledger import read_ledger

    with pytest.raises(cls) as err:
        read_ledger(*args, **kwargs)
    assert type(err.value) is cls
    return err.value


def zone_point(conn, where: str = "TRUE"):
    """(zone_id, unit_id, x, y) of a point on the first current zone matching `where`."""
    return conn.execute(text(
        f"SELECT zone_id, unit_id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM zones "
        f"WHERE valid_to IS NULL AND {where} ORDER BY zone_id LIMIT 1")).one()


def loopback_page(ctx, *, console_errors: bool = True, timeout_ms: int = 20_000):
    """A page of a Playwright context that may fetch only from this machine (127.0.0.1, localhost, data: and blob:
    URLs): (page, blocked, errors). Every other request is aborted and listed in `blocked`; script errors (and,
    with console_errors, console errors) are listed in `errors`. Tests assert both lists are empty."""
    from urllib.parse import urlsplit

    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        parts = urlsplit(r.request.url)
        if (parts.hostname or "") in ("127.0.0.1", "localhost") or parts.scheme in ("data", "blob"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.set_default_timeout(timeout_ms)
    if console_errors:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, blocked, errors


def image_loaded(page, selector: str) -> bool:
    """The first image of selector, scrolled into view and loaded (the public pages' photos are loading=lazy, so a
    page's load event does not wait for them)."""
    img = page.locator(selector).first
    img.scroll_into_view_if_needed()
    page.wait_for_function("s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 }",
                           arg=selector)
    return img.evaluate("img => img.naturalWidth") > 0
