"""A grid's walk-through pack on real Nanjing data: files, checksums, PDFs a person can read, QR codes, GIS files."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import time

import pandas as pd
import pyogrio
import pypdf
import pytest

from gridsvc.exporters.pack import FILES, build_pack
from gridsvc.maps import assets
from gridsvc.zones.policies import load_policy

BASE_URL = "https://cg.gulou.example.cn"


@pytest.fixture(scope="module")
def pack(nanjing_zones, tmp_path_factory):
    """The busiest grid's pack, built once, with the stages it reported and the seconds it took."""
    out = tmp_path_factory.mktemp("pack") / "grid"
    stages: list[str] = []
    with nanjing_zones.engine.connect() as conn:
        t = time.perf_counter()
        report = build_pack(conn, nanjing_zones.grid, out, base_url=BASE_URL,
                            progress=lambda stage, done, total: stages.append(stage))
        seconds = time.perf_counter() - t
    return report, stages, seconds


def _squash(text: str) -> str:
    return "".join(text.split())


def _embedded_noto(reader: pypdf.PdfReader) -> list:
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    return [f for f in fonts if "NotoSansSC" in str(f["/BaseFont"])
            and "/FontFile2" in f["/FontDescriptor"].get_object()]


def test_pack_holds_every_file_with_checksums(pack, nanjing_zones):
    report, stages, seconds = pack
    names = {p.name for p in report.out.iterdir()}
    assert names == set(FILES) | {"README.txt"}
    assert stages[0] == "reading" and stages[-1] == "done" and "boards" in stages
    assert seconds < 5, f"pack took {seconds:.1f} s"
    manifest = json.loads((report.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["grid"] == nanjing_zones.grid and manifest["units"] == len(nanjing_zones.units)
    assert manifest["base_url"] == BASE_URL and manifest["policy"] == "三包"
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(FILES) - {"manifest.json"}
    for name, entry in listed.items():
        data = (report.out / name).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), name
    readme = (report.out / "README.txt").read_text(encoding="utf-8")
    assert nanjing_zones.grid in readme and listed["boards.pdf"]["sha256"] in readme
    html = (report.out / "map.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 1_000_000 and assets.external_refs(html) == []


def test_walking_order_csv_lists_every_unit_once(pack, nanjing_zones):
    report, _, _ = pack
    walk = pd.read_csv(report.out / "walk_order.csv", encoding="utf-8-sig", dtype={"public_code": str})
    assert list(walk["seq"]) == list(range(1, len(nanjing_zones.units) + 1))
    assert sorted(walk["unit_id"]) == sorted(u["id"] for u in nanjing_zones.units)
    codes = {u["id"]: u["public_code"] for u in nanjing_zones.units}
    assert all(walk["url"] == [f"{BASE_URL}/u/{codes[i]}" for i in walk["unit_id"]])
    assert set(nanjing_zones.names) <= set(walk["name"])
    assert {"红牌", "黄牌", "黑牌"} <= set(walk["rating"])


def test_checklist_reads_in_chinese_with_embedded_fonts(pack, nanjing_zones, caplog):
    report, _, _ = pack
    reader = pypdf.PdfReader(report.out / "checklist.pdf")
    text = _squash("".join(p.extract_text() for p in reader.pages))
    for name in nanjing_zones.names:
        assert _squash(name) in text, name
    for duty in load_policy("三包").duties:
        assert duty.zh in text
    assert "红牌" in text and "黄牌" in text and "黑牌" in text and "王网格" in text
    assert nanjing_zones.grid in text and "网格巡查清单" in text
    assert len(_embedded_noto(reader)) == 2, "regular and bold Noto Sans SC subsets embedded (no tofu)"
    walk = pd.read_csv(report.out / "walk_order.csv", encoding="utf-8-sig")
    positions = [text.index(_squash(n)) for n in walk["name"] if n in nanjing_zones.names]
    assert positions == sorted(positions), "rows in walking order"


def test_boards_one_page_per_unit_with_a_qr_of_its_public_code(pack, nanjing_zones, tmp_path):
    report, _, _ = pack
    reader = pypdf.PdfReader(report.out / "boards.pdf")
    walk = pd.read_csv(report.out / "walk_order.csv", encoding="utf-8-sig", dtype={"public_code": str})
    assert len(reader.pages) == len(walk)
    assert _embedded_noto(reader)
    pages = [_squash(p.extract_text()) for p in reader.pages]
    for page, name in zip(pages, walk["name"], strict=True):
        assert _squash(name) in page and "环境卫生" in page and "门前三包责任牌" in page
    zxingcpp = pytest.importorskip("zxingcpp")
    image_mod = pytest.importorskip("PIL.Image")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    for n, code in enumerate(walk["public_code"], start=1):
        stem = tmp_path / f"board-{n}"
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(n), "-l", str(n), "-singlefile",
                        str(report.out / "boards.pdf"), str(stem)], check=True)
        found = zxingcpp.read_barcodes(image_mod.open(f"{stem}.png"))
        assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [f"{BASE_URL}/u/{code}"]


def test_gis_files_read_back_with_chinese_intact(pack, nanjing_zones):
    report, _, _ = pack
    layers = {name for name, _ in pyogrio.list_layers(report.out / "grid.gpkg")}
    assert layers == {"zones", "units"}
    for source, layer in ((report.out / "grid.gpkg", "units"), (report.out / "units.geojson", None),
                          (report.out / "units.kml", None)):
        units = pyogrio.read_dataframe(source, layer=layer)
        names = set(units["Name" if source.suffix == ".kml" else "name"])
        assert set(nanjing_zones.names) <= names, source.name
        assert units.crs.to_epsg() == 4326 and len(units) == len(nanjing_zones.units)
    units = pyogrio.read_dataframe(report.out / "grid.gpkg", layer="units")
    assert set(units["rating_label"]) >= {"红牌", "黄牌", "黑牌"}
    assert any(a == '<img src=x onerror="alert(1)">中山路&1号' for a in units["address"])
    for source, layer in ((report.out / "grid.gpkg", "zones"), (report.out / "zones.kml", None),
                          (report.out / "zones.geojson", None)):
        zones = pyogrio.read_dataframe(source, layer=layer)
        names = set(zones["Name" if source.suffix == ".kml" else "name"])
        assert set(nanjing_zones.names) & names, source.name
        assert len(zones) == report.zones


def test_unknown_grid_is_not_found(nanjing_zones, tmp_path):
    from gridsvc.errors import NotFoundError

    with nanjing_zones.engine.connect() as conn, pytest.raises(NotFoundError, match="no grid with code '12345'"):
        build_pack(conn, "12345", tmp_path / "x")


def test_pack_for_a_grid_without_units_has_no_boards(nanjing_zones, tmp_path, caplog):
    with nanjing_zones.engine.connect() as conn:
        empty = conn.exec_driver_sql(
            "SELECT code FROM grid_cells g WHERE NOT EXISTS (SELECT 1 FROM feature_cells f WHERE f.h3 = g.h3 "
            "AND f.layer = 'units') ORDER BY code LIMIT 1").scalar_one()
        with caplog.at_level(logging.WARNING):
            report = build_pack(conn, empty, tmp_path / "empty", base_url=BASE_URL)
    assert report.units == 0 and not (report.out / "boards.pdf").exists()
    assert report.notes and (report.out / "checklist.pdf").exists() and (report.out / "map.html").exists()
    assert pyogrio.read_info(report.out / "grid.gpkg", layer="units")["features"] == 0
