"""Sample files for upload tests, made in code: images of each type, a ledger (XLSX, CSV in UTF-8 and GBK), hostile files."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from PIL import Image

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944"
                    "4154789c6360606060000000050001a5f645400000000049454e44ae426082")
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
HEIF_COMPATIBLE = b"\x00\x00\x00\x1cftypXXXX\x00\x00\x00\x00isommif1miaf" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "地址", "经度", "纬度"])
    wb.active.append(["工人影城", "中山南路1号", 118.7836, 32.0427])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def docx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType="application/'
                                          'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


CSV_UTF8 = "名称,地址,电话\n工人影城,中山南路1号,025-84000000\n".encode()
CSV_GBK = "名称,地址,电话\r\n新街口百货,中山路1号,025-84000001\r\n".encode("gbk")
