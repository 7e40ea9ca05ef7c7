"""Uploaded files (photos of 随手拍 citizen reports, shop ledgers): typed by content, stored by SHA-256.

Pure checks and storage, no database (the `uploads` table is written by gridsvc/api/routers/uploads.py):

- the type comes from the **content** (magic bytes), never from the client's file name or Content-Type:
  JPEG, PNG, WebP and HEIC/HEIF photos; XLSX ledgers (a zip holding `[Content_Types].xml` that declares a
  spreadsheet) and CSV ledgers (UTF-8 or GBK/GB18030 text, no control characters, not HTML/XML). Anything
  else (executables, HTML, SVG, PDF, other zips such as .docx) is refused with UnsupportedMediaTypeError (415).
- each kind has a size limit (PayloadTooLargeError, 413), on top of the request-body limit of /uploads.
- a file is stored as `<dir>/<sha256[:2]>/<sha256>`: the client's name never touches the file system (it is
  kept, cleaned, only as a label), so `../../etc/passwd` cannot escape. Writes go to a temporary file in the
  same folder and are renamed into place, so a reader never sees half a file.
- old uploads (rows and files) and files without a row are removed by `gridsvc uploads prune`
  (gridsvc/upload_retention.py).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError, PayloadTooLargeError, UnsupportedMediaTypeError

MIB = 1024 * 1024
KINDS = ("photo", "ledger")
MAX_BYTES = {"photo": 15 * MIB, "ledger": 20 * MIB}
CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"[0-9a-f]{64}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPREADSHEET_MAIN = b"spreadsheetml.sheet.main+xml"
HEIF_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"heim": "image/heic", b"heis": "image/heic",
               b"hevc": "image/heic-sequence", b"hevx": "image/heic-sequence",
               b"mif1": "image/heif", b"msf1": "image/heif-sequence", b"heif": "image/heif"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic",
              "image/heic-sequence": "heic", "image/heif": "heif", "image/heif-sequence": "heif", XLSX: "xlsx",
              "text/csv; charset=utf-8": "csv", "text/csv; charset=gb18030": "csv"}
ACCEPTED = "JPEG, PNG, WebP or HEIC photos; XLSX or CSV (UTF-8/GBK) ledgers"
# What a refused file looks like, to say so in the message.
_KNOWN_BAD = ((b"MZ", "a Windows executable"), (b"\x7fELF", "an ELF executable"), (b"%PDF", "a PDF document"),
              (b"GIF8", "a GIF image"), (b"#!", "a script"), (b"\xca\xfe\xba\xbe", "a Mach-O/Java binary"),
              (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x1f\x8b", "a gzip archive"),
              (b"\xd0\xcf\x11\xe0", "an old Office (OLE) document, e.g. .xls: save it as .xlsx"))
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but tab, CR, LF
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|img|a\s|div|meta|!--)", re.I)


@dataclass(frozen=True)
class Detected:
    """What a file is by its content."""

    kind: str  # photo | ledger
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def clean_filename(name: str | None, max_chars: int = 200) -> str | None:
    """The client's file name as a label only: its last path component, control characters and
    separators removed, NFC, cut to max_chars (None when nothing is left)."""
    if not name:
        return None
    base = re.split(r"[\\/]", str(name))[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    base = base.strip().strip(".").strip()
    return base[:max_chars] or None


def _heif(head: bytes) -> str | None:
    """The HEIF content type of an ISO-BMFF `ftyp` box with a HEIF brand (major or compatible)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box = int.from_bytes(head[:4], "big")
    brands = [head[8:12]] + [head[i:i + 4] for i in range(16, min(box, len(head)) - 3, 4)]
    for brand in brands:
        if brand in HEIF_BRANDS:
            return HEIF_BRANDS[brand]
    return None


def _xlsx(f: BinaryIO) -> bool:
    """A zip (OOXML package) whose [Content_Types].xml declares a spreadsheet workbook."""
    f.seek(0)
    try:
        with zipfile.ZipFile(f) as z:
            info = z.getinfo("[Content_Types].xml")
            if info.file_size > 1 * MIB:
                return False
            with z.open(info) as member:
                types = member.read(1 * MIB)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zipfile.LargeZipFile):
        return False
    return SPREADSHEET_MAIN in types


def _text_encoding(f: BinaryIO) -> str | None:
    """'utf-8' or 'gb18030' when the whole file decodes as that text without control characters (None if not)."""
    for encoding in ("utf-8-sig", "gb18030"):
        f.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        ok = True
        while ok:
            chunk = f.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                ok = False
                break
            if _CONTROL.search(text):
                return None  # binary (NUL, escape codes): no encoding makes it a ledger
            if not chunk:
                break
        if ok:
            return "utf-8" if encoding == "utf-8-sig" else "gb18030"
    return None


def _what_it_looks_like(head: bytes) -> str:
    for magic, what in _KNOWN_BAD:
        if head.startswith(magic):
            return what
    if _MARKUP.match(head[:512]):
        return "HTML/XML markup"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive that is not an XLSX workbook"
    return "an unrecognised type"


def detect(f: BinaryIO) -> Detected:
    """The kind and content type of a file by its content; UnsupportedMediaTypeError otherwise."""
    f.seek(0)
    head = f.read(4096)
    if not head:
        raise InputError("the file is empty", where="file")
    if head.startswith(b"\xff\xd8\xff"):
        return Detected("photo", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Detected("photo", "image/png")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Detected("photo", "image/webp")
    heif = _heif(head)
    if heif:
        return Detected("photo", heif)
    if head.startswith(b"PK\x03\x04") and _xlsx(f):
        return Detected("ledger", XLSX)
    if not any(head.startswith(m) for m, _ in _KNOWN_BAD) and not _MARKUP.match(head[:512]):
        encoding = _text_encoding(f)
        if encoding:
            return Detected("ledger", f"text/csv; charset={encoding}")
    raise UnsupportedMediaTypeError(f"the file is {_what_it_looks_like(head)}; accepted: {ACCEPTED} "
                                    "(the type is read from the content, not the file name)", where="file")


def check_upload(f: BinaryIO, size: int, expected_kind: str | None = None) -> Detected:
    """Type and size of an uploaded file (f: seekable), against the kind the client asked for, if any."""
    if expected_kind is not None and expected_kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {expected_kind!r}", where="kind")
    if size > max(MAX_BYTES.values()):
        raise _too_large(size, max(MAX_BYTES.values()), "file")
    found = detect(f)
    if expected_kind and found.kind != expected_kind:
        raise UnsupportedMediaTypeError(f"kind={expected_kind} was asked for, but the file is {found.content_type} "
                                        f"(a {found.kind})", where="file")
    if size > MAX_BYTES[found.kind]:
        raise _too_large(size, MAX_BYTES[found.kind], found.kind)
    return found


def _too_large(size: int, limit: int, what: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the {what} has {size:,} bytes; at most {limit:,} bytes ({limit / MIB:.0f} MiB) "
                                "are accepted", where="file", limit_bytes=limit)


def sha256_of(f: BinaryIO) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in chunks."""
    f.seek(0)
    h, size = hashlib.sha256(), 0
    while chunk := f.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file on disk."""
    with open(path, "rb") as f:
        return sha256_of(f)[0]


def stored_path(root: Path, sha256: str) -> Path:
    """Where a file with this checksum lives under root (only 64 lowercase hex characters are accepted)."""
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise InputError("a file is named by its SHA-256: 64 lowercase hexadecimal characters", where="sha256")
    return root / sha256[:2] / sha256


def store(root: Path, f: BinaryIO, sha256: str) -> Path:
    """Write the file under root by its checksum (atomically; an existing copy is kept)."""
    path = stored_path(root, sha256)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            f.seek(0)
            h = hashlib.sha256()
            while chunk := f.read(CHUNK):
                h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise InputError("the file changed while it was stored; send it again", where="file")
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

