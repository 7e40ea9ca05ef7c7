"""Helpers shared by tests: where the real extracts are, and table counts."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from gridsvc.geo.basemap_shift import tile_of  # noqa: F401  (the tests' import)
from gridsvc.settings import REPO_ROOT

SHARED = Path(os.environ.get("GRIDSVC_SHARED_GEODATA", REPO_ROOT.parent / "shared" / "geodata"))
NANJING = SHARED / "nanjing_xinjiekou_2021-06-12.osm.pbf"
TAIYUAN = SHARED / "taiyuan_partial.gpkg"
APP_TABLES = ("zones", "zone_builds", "feature_cells", "officer_grids", "officers", "parties", "units", "grid_cells", "streets",
              "buildings", "compounds", "markets", "admin_units", "imports")
ARTIFACTS = REPO_ROOT / "test-artifacts"


def shared_file(path: Path) -> Path:
    """A file from ../shared/geodata, or skip the test where it is absent."""
    if not path.exists():
        pytest.skip(f"{path} not present (tests read the real extracts from ../shared/geodata)")
    return path


def table_counts(engine) -> dict[str, int]:
    """Row count of every gridsvc table (to prove failed imports change nothing)."""
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in APP_TABLES}


def load_nanjing(engine, *, zones: str | None = None):
    """Empty the database, then load Nanjing 新街口 with its H3 grid (and zones under a policy, if given)."""
    from gridsvc.grid import build_grid
    from gridsvc.ingest import ingest
    from gridsvc.zones import build_zones

    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    ingest(engine, shared_file(NANJING))
    build_grid(engine, 10, "320102")
    if zones:
        build_zones(engine, zones)
    return engine


def bearer(engine, name: str, role: str, grids: tuple[str, ...] = (), party_id: int | None = None) -> dict:
    """Authorization headers of an API token for a user (created if missing) with this role."""
    from gridsvc.users import create_user, issue_api_token

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
    from gridsvc.readers.ledger import read_ledger

    with pytest.raises(cls) as err:
        read_ledger(*args, **kwargs)
    assert type(err.value) is cls
    return err.value
