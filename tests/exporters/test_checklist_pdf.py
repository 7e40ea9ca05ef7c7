"""Tests for gridsvc.exporters.checklist_pdf: Chinese text round trip, paging, wrapping, fonts."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from support import ARTIFACTS

from gridsvc.errors import InputError, MissingColumnsError, MissingDependencyError
from gridsvc.exporters import pdf_fonts
from gridsvc.exporters.checklist_pdf import checklist_pdf
from gridsvc.ops.rules.ratings import rating_label
from gridsvc.zones.policies import load_policy

LONG_NAME = "鼓楼区湖南路街道社区卫生服务中心（湖南路分中心）附属便民药房及健康咨询服务站"
NAMES = ["老王牛肉面馆", LONG_NAME, "华联超市", "张记五金", "Starbucks 星巴克咖啡", "小李水果", "金陵饭店",
         "永和豆浆", "南京银行湖南路支行", "刘师傅修车铺", "堃喆犇烧烤"]
RATINGS = [None, "red", "yellow", "black", "红牌", "黄牌", float("nan"), "黑牌", "", None, "red"]
OFFICER = {"name": "王晓明", "phone": "138-1234-5678"}


def _rows(n: int = 40) -> list[dict]:
    return [{"seq": i + 1, "name": NAMES[i % len(NAMES)] if i else LONG_NAME,
             "address": f"湖南路{10 + 2 * i}号", "rating": RATINGS[i % len(RATINGS)]} for i in range(n)]


def _make(tmp_path: Path, rows=None, policy="三包", **kw) -> Path:
    args = {"grid_code": "320106-0012-03", "community": "湖南路社区", "officer": OFFICER,
            "policy_duties": load_policy(policy), "out": tmp_path / "checklist.pdf", "date": "2025-06-03"}
    return checklist_pdf(_rows() if rows is None else rows, **(args | kw))


def _pages(path: Path) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(path).pages]


def _squash(text: str) -> str:
    return "".join(text.split())


def test_chinese_text_comes_back_exactly(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gridsvc.exporters.pdf_fonts"):
        pdf = _make(tmp_path)
    assert not caplog.records, "every character has a glyph (no tofu)"
    pages = _pages(pdf)
    text = "\n".join(pages)
    lines = set(text.splitlines())
    for name in set(NAMES) - {LONG_NAME}:
        assert name in text
    assert "堃喆犇烧烤" in lines  # rare characters outside GB2312 too
    for label in ("环境卫生", "秩序", "绿化", "红牌", "黄牌", "黑牌", "未评", "湖南路88号"):
        assert label in text
    first = pages[0]
    for expected in ("网格巡查清单（门前三包）", "320106-0012-03", "湖南路社区", "王晓明", "138-1234-5678",
                     "2025-06-03", "政策：三包"):
        assert expected in first


def test_long_names_wrap_in_their_cell(tmp_path):
    pdf = _make(tmp_path)
    text = _pages(pdf)[0]
    assert LONG_NAME not in text.splitlines(), "the long name is wrapped over several lines"
    assert _squash(LONG_NAME) in _squash(text)
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    page_w = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    x_max = [float(v) for v in re.findall(r'xMax="([\d.]+)"', html)]
    assert x_max and max(x_max) <= page_w - 30, "no text runs past the right margin"


def test_pages_numbered_and_header_repeated(tmp_path):
    pdf = _make(tmp_path, rows=_rows(70))
    reader = pypdf.PdfReader(pdf)
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in text
        for head in ("序号", "单位名称", "地址", "当前评级", "备注", "环境卫生", "320106-0012-03"):
            assert head in text, f"page {n} repeats {head}"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait
    seqs = [int(s) for t in pages for s in re.findall(r"^\s*(\d+)$", t, flags=re.M)]
    assert list(range(1, 71)) == [s for s in seqs if s <= 70][:70]
    assert "网格员签字" in pages[-1]


def test_fonts_are_embedded_noto_subsets(tmp_path):
    reader = pypdf.PdfReader(_make(tmp_path, rows=_rows(5)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    used = [f.get_object() for f in fonts.values()]
    noto = [f for f in used if "NotoSansSC" in str(f["/BaseFont"])]
    assert len(noto) == 2  # regular and bold
    for font in noto:
        assert "/FontFile2" in font["/FontDescriptor"].get_object(), "embedded TrueType"


def test_five_duties_and_dataframe_rows(tmp_path):
    rows = pd.DataFrame(_rows(6)).drop(columns=["seq"])
    pdf = _make(tmp_path, rows=rows, policy="南京")
    reader = pypdf.PdfReader(pdf)
    text = reader.pages[0].extract_text()
    for label in ("环境卫生", "秩序", "绿化", "设施", "市容", "网格巡查清单（门前五包）", "南京（五包）"):
        assert label in text
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height), "five duty columns need landscape"


def test_plain_duty_dicts_and_officer_string(tmp_path):
    duties = [{"code": "clean", "zh": "门前整洁", "en": "Clean", "description": ""}]
    pdf = _make(tmp_path, rows=[{"name": "测试商户"}], policy_duties=duties, officer="李娟", policy_name="试点")
    text = _pages(pdf)[0]
    assert "门前整洁" in text and "李娟" in text and "政策：试点" in text and "未评" in text


def test_rating_labels_and_errors(tmp_path):
    assert [rating_label(v) for v in ("red", "Yellow", "黑", None, "")] == ["红牌", "黄牌", "黑牌", "未评", "未评"]
    with pytest.raises(InputError, match="unknown rating"):
        _make(tmp_path, rows=[{"name": "甲", "rating": "green"}])
    with pytest.raises(MissingColumnsError):
        _make(tmp_path, rows=[{"address": "无名"}])
    with pytest.raises(InputError, match="policy_duties"):
        _make(tmp_path, policy_duties=[])


def test_missing_glyph_is_reported(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gridsvc.exporters.pdf_fonts"):
        _make(tmp_path, rows=[{"name": "咖啡☕屋"}])
    assert any("☕" in r.getMessage() for r in caplog.records)


def test_missing_font_raises_with_install_hint(monkeypatch):
    pdf_fonts.find_cjk_font.cache_clear()
    monkeypatch.setattr(pdf_fonts, "_fc_match", lambda style: [])
    monkeypatch.setattr(pdf_fonts, "KNOWN_FILES", {"Regular": ("/nonexistent/NotoSansCJK-Regular.ttc",)})
    try:
        with pytest.raises(MissingDependencyError, match="apt-get install fonts-noto-cjk"):
            pdf_fonts.find_cjk_font("Regular")
    finally:
        pdf_fonts.find_cjk_font.cache_clear()


def test_renders_to_png(tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    pdf = _make(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    for policy, name in (("三包", "checklist"), ("南京", "checklist-wubao")):
        src = _make(tmp_path, policy=policy, out=tmp_path / f"{name}.pdf") if policy != "三包" else pdf
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(src),
                        str(ARTIFACTS / f"{name}-page1")], check=True)
        assert (ARTIFACTS / f"{name}-page1.png").stat().st_size > 20_000


def test_characters_drawn_beyond_the_declared_text_are_added(tmp_path, caplog):
    from reportlab.pdfgen.canvas import Canvas

    out = tmp_path / "extra.pdf"

    def render(fonts):
        c = Canvas(str(out))
        c.setFont(fonts.regular, 14)
        c.drawString(72, 720, "事先未声明的字：翀")
        c.save()
        return fonts

    with caplog.at_level(logging.WARNING, logger="gridsvc.exporters.pdf_fonts"):
        fonts = pdf_fonts.render_with_cjk("abc", render)
    assert pdf_fonts.missing_chars(fonts) == "" and not caplog.records
    assert "事先未声明的字：翀" in pypdf.PdfReader(out).pages[0].extract_text()
