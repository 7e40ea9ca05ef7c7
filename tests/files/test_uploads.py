"""Uploaded files typed by their content and stored by checksum (gridsvc/uploads.py, no database)."""

from __future__ import annotations

import hashlib
import io

import pytest
from samples import CSV_GBK, CSV_UTF8, EXE, HEIC, HEIF_COMPATIBLE, HTML, PNG, docx_like, image, xlsx

from gridsvc.errors import InputError, PayloadTooLargeError, UnsupportedMediaTypeError
from gridsvc.files import uploads


@pytest.mark.parametrize(("data", "kind", "content_type"), [
    (PNG, "photo", "image/png"),
    (image("JPEG"), "photo", "image/jpeg"),
    (image("WEBP"), "photo", "image/webp"),
    (HEIC, "photo", "image/heic"),
    (HEIF_COMPATIBLE, "photo", "image/heif"),
    (xlsx(), "ledger", uploads.XLSX),
    (CSV_UTF8, "ledger", "text/csv; charset=utf-8"),
    (b"\xef\xbb\xbf" + CSV_UTF8, "ledger", "text/csv; charset=utf-8"),
    (CSV_GBK, "ledger", "text/csv; charset=gb18030"),
])
def test_types_come_from_the_content(data, kind, content_type):
    found = uploads.detect(io.BytesIO(data))
    assert (found.kind, found.content_type) == (kind, content_type)


@pytest.mark.parametrize(("data", "what"), [
    (EXE, "Windows executable"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "ELF executable"),
    (HTML, "HTML"),
    (b"  \n<html><img src=x onerror=alert(1)>", "HTML"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "HTML/XML"),
    (b'<?xml version="1.0"?><x/>', "HTML/XML"),
    (b"%PDF-1.7\n", "PDF"),
    (b"GIF89a\x01\x00\x01\x00", "GIF"),
    (docx_like(), "zip archive that is not an XLSX"),
    (b"PK\x03\x04garbage-not-a-zip", "zip archive"),
    (b"abc\x00def\x01", "unrecognised"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "save it as .xlsx"),
])
def test_anything_else_is_refused_with_what_it_looks_like(data, what):
    with pytest.raises(UnsupportedMediaTypeError) as info:
        uploads.detect(io.BytesIO(data))
    assert what in info.value.message and "not the file name" in info.value.message


def test_empty_files_kinds_and_sizes():
    with pytest.raises(InputError, match="empty"):
        uploads.detect(io.BytesIO(b""))
    with pytest.raises(UnsupportedMediaTypeError, match="kind=ledger"):
        uploads.check_upload(io.BytesIO(PNG), len(PNG), "ledger")
    assert uploads.check_upload(io.BytesIO(PNG), len(PNG), "photo").content_type == "image/png"
    with pytest.raises(PayloadTooLargeError) as info:
        uploads.check_upload(io.BytesIO(PNG), uploads.MAX_BYTES["photo"] + 1)
    assert info.value.details["limit_bytes"] == uploads.MAX_BYTES["photo"]
    with pytest.raises(PayloadTooLargeError):
        uploads.check_upload(io.BytesIO(PNG), 10**12)


@pytest.mark.parametrize(("name", "clean"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"), ("/etc/shadow", "shadow"),
    ("..", None), ("", None), (None, None), ("照片\x00.jpg", "照片.jpg"), ("a\r\nb.png", "ab.png"),
    ("x" * 500, "x" * 200), ("现场照片.JPG", "现场照片.JPG"),
])
def test_client_names_are_labels_only(name, clean):
    assert uploads.clean_filename(name) == clean


def test_stored_by_checksum_atomically(tmp_path):
    sha, size = uploads.sha256_of(io.BytesIO(PNG))
    assert sha == hashlib.sha256(PNG).hexdigest() and size == len(PNG)
    path = uploads.store(tmp_path, io.BytesIO(PNG), sha)
    assert path == tmp_path / sha[:2] / sha and path.read_bytes() == PNG
    assert uploads.store(tmp_path, io.BytesIO(PNG), sha) == path  # idempotent
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temporary files left
    for bad in ("../../etc/passwd", sha.upper(), sha[:-1], sha + "0", "/" + sha[1:], "0" * 63 + "/"):
        with pytest.raises(InputError):
            uploads.stored_path(tmp_path, bad)
    with pytest.raises(InputError, match="changed"):
        uploads.store(tmp_path, io.BytesIO(PNG + b"x"), hashlib.sha256(b"other").hexdigest())
    assert not list((tmp_path).rglob(".incoming-*"))
