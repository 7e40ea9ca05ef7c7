"""A grid's walk-through pack (巡查包): offline map, walking order, checklist, boards, layers, manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from ..errors import InputError
from ..files.spreadsheet import write_csv
from ..files.uploads import file_sha256
from ..ops.rules.checklists import policy_checklist
from ..ops.rules.ratings import load_ratings
from ..settings import get_settings
from ..timekeeping import instant, today
from ..zones.policies import load_policy
from .board_pdf import boards_pdf, unit_url
from .checklist_pdf import checklist_pdf
from .layers import write_layer
from .offline_map import write_offline_map
from .results_sheet import write_results_sheet
from .scope import Scope, cell_facts, read_scoped, read_units, read_zones, resolve_scope
from .unit_boards import board_units, default_policy, read_board_sources, read_unit_zones, unit_names
from .walk_order import MAX_STREET_M, walking_order

Progress = Callable[[str, int, int], None]
WALK_COLUMNS = ["seq", "unit_id", "name", "address", "street_name", "side", "station_m", "leg_m", "rating",
                "public_code", "url"]
FILES = {  # name -> (中文, English)
    "map.html": ("离线地图（浏览器直接打开，无需联网）", "offline map, opens in a browser without internet"),
    "walk_order.csv": ("巡查顺序（UTF-8，Excel 可直接打开）", "walking order (UTF-8 CSV)"),
    "checklist.pdf": ("巡查清单（A4，按巡查顺序）", "A4 checklist in walking order"),
    "results.xlsx": ("巡查结果表（按单位编号填写后用 gridsvc inspections import 导入）",
                     "results sheet keyed by unit id: fill in, then gridsvc inspections import"),
    "boards.pdf": ("门前责任牌（每户一页，扫码查看）", "responsibility boards, one page per unit, with QR codes"),
    "zones.geojson": ("责任区 GeoJSON", "zones, GeoJSON"),
    "units.geojson": ("沿街单位 GeoJSON", "units, GeoJSON"),
    "zones.kml": ("责任区 KML（奥维/Google Earth）", "zones, KML"),
    "units.kml": ("沿街单位 KML", "units, KML"),
    "grid.gpkg": ("GeoPackage（图层 zones、units）", "GeoPackage with layers zones and units"),
    "manifest.json": ("文件清单与校验和", "file list with SHA-256 checksums"),
}
STEPS = ("reading", "map", "walking order", "checklist", "boards", "layers", "manifest")


@dataclass
class PackReport:
    """What a pack holds."""

    out: Path
    scope: Scope
    units: int
    zones: int
    files: list[dict] = field(default_factory=list)  # name, bytes, sha256, what
    notes: list[str] = field(default_factory=list)
    pack_id: str = ""  # names the pack in its results sheet, so an imported sheet is recorded once


def walk(units: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, unit_zones: gpd.GeoDataFrame,
         base_url: str) -> pd.DataFrame:
    """The units in walking order (WALK_COLUMNS); a unit keeps to the street of its largest frontage zone."""
    front = unit_zones.sort_values("area_m2", ascending=False, kind="stable").drop_duplicates("unit_id")
    street_of = front.set_index("unit_id")["street_id"].reindex(units["id"].to_numpy())
    street_of = street_of.where(street_of.isin(streets["id"]))
    order = walking_order(units.assign(street_id=street_of.astype(object).where(street_of.notna(), None).to_numpy()),
                          streets)
    info = units.assign(name=unit_names(units)).set_index("id")
    rows = order.join(info[["name", "address", "rating", "public_code"]], on="unit_id")
    ratings = load_ratings()
    rows["rating"] = rows["rating"].map(ratings.spellings()).fillna(ratings.unrated.label)
    rows["url"] = rows["public_code"].map(lambda c: unit_url(base_url, c))
    return rows[WALK_COLUMNS]


def grid_scope(conn: Connection, grid: str) -> Scope:
    """The scope of one grid (an empty code would mean everything: packs and boards are one grid's)."""
    if not isinstance(grid, str) or not grid.strip():
        raise InputError("give the grid's 15-digit code", where="grid")
    return resolve_scope(conn, grid=grid)


def units_in_walk_order(conn: Connection, grid: str) -> gpd.GeoDataFrame:
    """The grid's units (as read_units gives them) in walking order."""
    scope = grid_scope(conn, grid)
    units = read_units(conn, scope)
    order = walk(units, read_scoped(conn, "streets", scope, margin_m=MAX_STREET_M),
                 read_unit_zones(conn, units), get_settings().public_base_url)
    return in_order(units, order)


def in_order(units: gpd.GeoDataFrame, order: pd.DataFrame) -> gpd.GeoDataFrame:
    """The units rearranged in the order of a walk."""
    return units.set_index("id", drop=False).loc[order["unit_id"].to_numpy()].reset_index(drop=True)


def _policy(conn: Connection, zones: gpd.GeoDataFrame) -> str:
    """The grid's policy: the most common among its frontage zones, else the latest build's."""
    frontage = zones.loc[zones["kind"] == "frontage", "policy"]
    return str(frontage.mode().iloc[0]) if len(frontage) else default_policy(conn)


def _export_frame(gdf: gpd.GeoDataFrame, base_url: str | None = None) -> gpd.GeoDataFrame:
    """A layer for GIS files: ratings as labels, unit URLs added, zones named by their party (KML placemarks)."""
    out = gdf.copy()
    if "zone_key" in out:
        out.insert(0, "name", out["party_name"].fillna(out["officer_name"]).fillna(out["kind"]))
    if "rating" in out:
        ratings = load_ratings()
        out["rating_label"] = out["rating"].map(ratings.spellings()).fillna(ratings.unrated.label)
    if base_url and "public_code" in out:
        out["url"] = out["public_code"].map(lambda c: unit_url(base_url, c))
    return out


def build_pack(conn: Connection, grid: str, out: Path, *, base_url: str | None = None,
               date: dt.date | None = None, progress: Progress | None = None) -> PackReport:
    """Write the walk-through pack of the grid with code `grid` into the folder out; returns what it wrote."""
    tick = progress or (lambda *_: None)
    base_url = base_url or get_settings().public_base_url
    date = date or today()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tick(STEPS[0], 0, len(STEPS))
    scope = grid_scope(conn, grid)
    units = read_units(conn, scope)
    zones = read_zones(conn, scope)
    streets = read_scoped(conn, "streets", scope, margin_m=MAX_STREET_M)
    sources = read_board_sources(conn, units)
    report = PackReport(out, scope, len(units), len(zones))

    tick(STEPS[1], 1, len(STEPS))
    write_offline_map(conn, scope, out / "map.html")

    tick(STEPS[2], 2, len(STEPS))
    order = walk(units, streets, sources["zones"], base_url)
    write_csv(order, out / "walk_order.csv")  # formula-like names/addresses defused for Excel

    tick(STEPS[3], 3, len(STEPS))
    policy = _policy(conn, zones)
    facts = cell_facts(conn, scope.cells).iloc[0]
    officer = (facts["officer_name"], facts["officer_phone"]) if pd.notna(facts["officer_name"]) else "未指定"
    checklist_pdf(order, grid_code=grid, community=scope.community, officer=officer,
                  policy_duties=load_policy(policy), out=out / "checklist.pdf", date=date)
    report.pack_id = f"{grid}-{instant(None):%Y%m%d%H%M%S}"
    write_results_sheet(order, policy_checklist(policy), out / "results.xlsx", pack_id=report.pack_id, grid=grid,
                        date=date)

    tick(STEPS[4], 4, len(STEPS))
    boards = board_units(in_order(units, order), sources["zones"], sources["buildings"], sources["streets"], policy)
    if boards:
        boards_pdf(boards, out / "boards.pdf", base_url=base_url)
    else:
        (out / "boards.pdf").unlink(missing_ok=True)
        report.notes.append("no units in this grid: no boards")

    tick(STEPS[5], 5, len(STEPS))
    layers = {"zones": _export_frame(zones), "units": _export_frame(units, base_url)}
    (out / "grid.gpkg").unlink(missing_ok=True)
    for name, gdf in layers.items():
        for ext in ("geojson", "kml"):
            write_layer(gdf, out / f"{name}.{ext}", name)
        write_layer(gdf, out / "grid.gpkg", name)

    tick(STEPS[6], 6, len(STEPS))
    report.files = _manifest(out, report, base_url, policy, date)
    tick("done", len(STEPS), len(STEPS))
    return report


def _entry(path: Path) -> dict:
    zh, en = FILES[path.name]
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path), "what": f"{zh} / {en}"}


def _manifest(out: Path, report: PackReport, base_url: str, policy: str, date: dt.date) -> list[dict]:
    """Write manifest.json (every other file with its checksum) and README.txt; returns the file entries."""
    files = [_entry(out / name) for name in FILES if name != "manifest.json" and (out / name).exists()]
    scope = report.scope
    manifest = {"pack_id": report.pack_id, "grid": scope.key, "community": scope.community, "label": scope.label, "policy": policy,
                "date": date.isoformat(), "generated_at": instant(None).isoformat(timespec="seconds"),
                "base_url": base_url, "units": report.units, "zones": report.zones, "notes": report.notes,
                "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    files.append(_entry(out / "manifest.json"))
    lines = [f"网格巡查包 Walk-through pack · {scope.label}", f"政策 policy: {policy}　日期 date: {date.isoformat()}",
             f"沿街单位 units: {report.units}　责任区 zones: {report.zones}", "",
             "文件 Files (SHA-256):"]
    lines += [f"  {f['name']:<16} {f['bytes']:>10,} B  {f['sha256']}\n      {f['what']}" for f in files]
    lines += ["", "扫描责任牌二维码可查看该户责任区 / Scan a board's QR code to see the unit's zone.",
              "地图数据 © OpenStreetMap contributors (ODbL 1.0)", *report.notes]
    (out / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files
