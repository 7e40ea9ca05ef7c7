"""Tests for gridsvc.exporters.board_pdf: 责任牌 text, QR codes (decoded), unit codes, the sketch."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
import segno
from shapely import affinity
from shapely.geometry import LineString, Polygon, box
from support import ARTIFACTS

from gridsvc.errors import InputError, MissingColumnsError
from gridsvc.exporters.board_pdf import CODE_ALPHABET, boards_pdf, qr_matrix, unit_code, unit_url
from gridsvc.zones.policies import load_policy

BASE_URL = "https://cg.gulou.example.cn"
SECRET = "test-secret-not-for-production"
X0, Y0 = 668_000.0, 3_547_000.0  # UTM 50N metres (Nanjing)
LONG_NAME = "鼓楼区湖南路街道社区卫生服务中心（湖南路分中心）附属便民药房"


def _at(geom, angle=0.0):
    return affinity.rotate(affinity.translate(geom, X0, Y0), angle, origin=(X0, Y0))


def _units() -> list[dict]:
    return [
        {"id": 101, "name": "老王牛肉面馆", "address": "鼓楼区湖南路12号", "grid_code": "320106-0012-03",
         "officer": {"name": "王晓明", "phone": "138-1234-5678"}, "street_name": "湖南路",
         "building": _at(box(0, 6, 12, 20)), "zone": _at(box(0, -3, 12, 6)),
         "street": _at(LineString([(-40, -3), (50, -3)]))},
        {"id": 102, "name": LONG_NAME, "address": "狮子桥2号", "grid_code": "320106-0012-03",
         "officer_name": "李娟", "officer_phone": "139-8765-4321", "street_name": "狮子桥",
         "building": _at(Polygon([(0, 5), (18, 5), (18, 25), (8, 30), (0, 25)]), 30),
         "zone": _at(box(0, -2, 18, 5), 30), "street": _at(LineString([(-40, -2), (60, -2)]), 30)},
        {"id": 103, "name": "Starbucks 星巴克", "officer": "赵强", "code": "custom-code-1"},
    ]


def _make(tmp_path: Path, units=None, policy="三包", **kw) -> Path:
    args = {"base_url": BASE_URL, "policy": load_policy(policy) if policy else None, "hotline": "12345", "secret": SECRET}
    return boards_pdf(_units() if units is None else units, tmp_path / "boards.pdf", **(args | kw))


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_unit_code_is_short_url_safe_and_keyed():
    code = unit_code(101, SECRET)
    assert len(code) == 10 and set(code) <= set(CODE_ALPHABET)
    assert code == unit_code(101, SECRET), "deterministic"
    assert code != unit_code(102, SECRET) and code != unit_code(101, SECRET + "x")
    codes = {unit_code(i, SECRET) for i in range(5000)}
    assert len(codes) == 5000
    with pytest.raises(InputError):
        unit_code(1, "")
    with pytest.raises(InputError):
        unit_code("1", SECRET)


def test_text_comes_back_exactly(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gridsvc.exporters.pdf_fonts"):
        pdf = _make(tmp_path)
    assert not caplog.records, "no tofu"
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 3
    box_ = reader.pages[0].mediabox
    assert (round(float(box_.width)), round(float(box_.height))) == (595, 420)  # A5 landscape
    pages = [p.extract_text() for p in reader.pages]
    policy = load_policy("三包")
    for unit, text in zip(_units(), pages, strict=True):
        lines = text.splitlines()
        if unit["name"] != LONG_NAME:
            assert unit["name"] in lines
        else:
            assert "".join(LONG_NAME.split()) in "".join(text.split())
        assert "门前三包责任牌" in text and "监督电话：12345" in text
        for duty in policy.duties:
            assert duty.zh in text and duty.description_zh in "".join(text.split())
        code = unit.get("code") or unit_code(unit["id"], SECRET)
        assert f"编号 {code}" in text
    assert "网格员：王晓明" in pages[0] and "138-1234-5678" in pages[0] and "320106-0012-03" in pages[0]
    assert "网格员：李娟" in pages[1] and "139-8765-4321" in pages[1]
    assert "湖南路" in pages[0] and "面积约 108 m²" in pages[0]
    assert "无责任区示意图" in pages[2]


ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’()-]+[A-Za-z]{2,}){2,}")


@pytest.mark.parametrize("policy", ["三包", "南京"])
def test_board_reads_in_chinese_with_no_english_sentence(tmp_path, policy):
    """A board hung on a Chinese shop door: each duty's Chinese text, and no English duty text at all."""
    pages = [p.extract_text() for p in pypdf.PdfReader(_make(tmp_path, policy=policy)).pages]
    for text in pages:
        flat = "".join(text.split())
        for duty in load_policy(policy).duties:
            assert duty.description_zh in flat
            assert duty.en not in text and duty.description not in _squash(text)
        assert not ENGLISH_SENTENCE.search(text), ENGLISH_SENTENCE.search(text)


def test_qr_is_vector_and_encodes_the_unit_url(tmp_path):
    pdf = _make(tmp_path)
    reader = pypdf.PdfReader(pdf)
    assert all(not page.images for page in reader.pages), "QR drawn as vectors, not a bitmap"
    urls = [unit_url(BASE_URL, u.get("code") or unit_code(u["id"], SECRET)) for u in _units()]
    assert urls[0] == f"{BASE_URL}/u/{unit_code(101, SECRET)}"
    for url in urls:
        expected = segno.make(url, error="m", micro=False, boost_error=False)
        assert qr_matrix(url) == tuple(tuple(bool(v) for v in row) for row in expected.matrix)
    zxingcpp = pytest.importorskip("zxingcpp")
    image_mod = pytest.importorskip("PIL.Image")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    for n, url in enumerate(urls, start=1):
        stem = tmp_path / f"page{n}"
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(n), "-l", str(n), "-singlefile", str(pdf),
                        str(stem)], check=True)
        found = zxingcpp.read_barcodes(image_mod.open(f"{stem}.png"))
        assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [url]


def test_five_duties_and_per_unit_duties(tmp_path):
    pdf = _make(tmp_path, units=_units()[:1], policy="南京")
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert "门前五包责任牌" in text
    for duty in load_policy("南京").duties:
        assert duty.zh in text and duty.description_zh in "".join(text.split())
    own = [{**_units()[2], "duties": [{"code": "x", "zh": "门前整洁", "en": "Tidy", "description_zh": "保持整洁。",
                                       "description": "Keep it tidy."}]}]
    text = pypdf.PdfReader(_make(tmp_path, units=own, policy=None, title="责任区公示牌")).pages[0].extract_text()
    assert "门前整洁" in text and "保持整洁。" in text and "责任区公示牌" in text


def test_errors(tmp_path):
    with pytest.raises(MissingColumnsError, match="code"):
        _make(tmp_path, secret=None)
    with pytest.raises(InputError, match="base_url"):
        _make(tmp_path, base_url="cg.gulou.example.cn")
    with pytest.raises(InputError, match="no duties"):
        _make(tmp_path, policy=None)
    with pytest.raises(InputError, match="shapely"):
        _make(tmp_path, units=[{**_units()[0], "zone": [(0, 0), (1, 1)]}])
    with pytest.raises(InputError, match="URL-safe"):
        _make(tmp_path, units=[{**_units()[2], "code": "a b/c"}])
    with pytest.raises(InputError):
        _make(tmp_path, units=[])


def test_renders_to_png(tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = _make(tmp_path)
    for n in (1, 2):
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", str(n), "-l", str(n), "-singlefile", str(pdf),
                        str(ARTIFACTS / f"board-page{n}")], check=True)
        assert (ARTIFACTS / f"board-page{n}.png").stat().st_size > 20_000
