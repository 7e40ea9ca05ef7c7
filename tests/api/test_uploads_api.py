"""POST /uploads and GET /uploads/{sha256}: typed by content, stored by checksum, limits, roles."""

from __future__ import annotations

import hashlib
import io

import pytest
from case_city import GPS_MARK, gps_jpeg
from fastapi.testclient import TestClient
from PIL import Image, ImageStat
from samples import CSV_GBK, EXE, HTML, PNG, image, xlsx
from sqlalchemy import text
from support import bearer

from gridsvc.api.app import create_app
from gridsvc.files import uploads


@pytest.fixture(scope="module")
def app(engine, tmp_path_factory):
    app = create_app(engine)
    app.state.upload_dir = tmp_path_factory.mktemp("store") / "uploads"
    return app


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app, headers=bearer(app.state.engine, "upload-inspector", "inspector"))


def _post(client, data: bytes, name: str, content_type: str = "application/octet-stream", **form):
    return client.post("/uploads", files={"file": (name, data, content_type)}, data=form)


def test_a_png_renamed_xlsx_is_stored_as_png_by_checksum(client, app):
    r = _post(client, PNG, "台账.xlsx", uploads.XLSX)
    assert r.status_code == 201, r.text
    body = r.json()
    sha = hashlib.sha256(PNG).hexdigest()
    assert body["sha256"] == sha and body["content_type"] == "image/png" and body["kind"] == "photo"
    assert body["size_bytes"] == len(PNG) and body["filename"] == "台账.xlsx" and body["url"] == f"/uploads/{sha}"
    assert body["uploaded_by"] == "upload-inspector"
    assert (app.state.upload_dir / sha[:2] / sha).read_bytes() == PNG
    got = client.get(f"/uploads/{sha}")  # a photo is served re-encoded from its pixels
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff" and got.headers["etag"] == f'"{sha}"'
    assert pixels(got.content) == pixels(PNG)
    assert "sandbox" in got.headers["content-security-policy"]
    again = _post(client, PNG, "again.png", "image/png")
    assert again.status_code == 200 and again.json()["sha256"] == sha and again.json()["filename"] == "台账.xlsx"
    with app.state.engine.connect() as c:
        audit = c.execute(text("SELECT actor, action FROM audit_log WHERE table_name = 'uploads' "
                               "AND after->>'sha256' = :s"), {"s": sha}).all()
    assert [tuple(a) for a in audit] == [("upload-inspector", "insert")]


@pytest.mark.parametrize(("data", "content_type"), [
    (image("JPEG"), "image/jpeg"), (image("WEBP"), "image/webp"), (xlsx(), uploads.XLSX),
    (CSV_GBK, "text/csv; charset=gb18030"),
])
def test_accepted_types_round_trip(client, data, content_type):
    """A ledger comes back as sent; a photo as a JPEG of the same pixels (nothing but pixels)."""
    r = _post(client, data, "x.bin")
    assert r.status_code == 201 and r.json()["content_type"] == content_type, r.text
    got = client.get(r.json()["url"])
    if r.json()["kind"] == "photo":
        assert got.headers["content-type"] == "image/jpeg" and pixels(got.content) == pixels(data)
        assert got.headers["content-disposition"].startswith("inline")
    else:
        assert got.content == data and got.headers["content-type"].replace(" ", "") == content_type.replace(" ", "")
        assert got.headers["content-disposition"].startswith("attachment")


def test_a_staff_photo_is_kept_as_sent_but_never_served_with_its_exif(client, app):
    """The inspector's phone wrote its GPS position and camera into the photo: the stored file keeps them (the
    evidence as sent), GET /uploads never serves them."""
    sent = gps_jpeg()
    r = _post(client, sent, "IMG_0001.jpg", "image/jpeg", kind="photo")
    assert r.status_code in (200, 201), r.text
    sha = r.json()["sha256"]
    assert (app.state.upload_dir / sha[:2] / sha).read_bytes() == sent
    got = client.get(f"/uploads/{sha}")
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert GPS_MARK not in got.content and b"SecretCam" not in got.content and b"Exif" not in got.content
    with Image.open(io.BytesIO(got.content)) as img:
        assert not img.getexif() and img.size == Image.open(io.BytesIO(sent)).size


def heic_with_exif() -> bytes:
    """An iPhone-like HEIC photo whose EXIF names the camera and a GPS marker (written by pillow-heif)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x010E] = GPS_MARK.decode()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 160, 90)).save(out, "HEIF", exif=exif.tobytes())
    return out.getvalue()


def test_a_heic_photo_is_decoded_and_served_as_a_jpeg_without_its_exif(client):
    sent = heic_with_exif()
    assert b"SecretCam" in sent
    r = _post(client, sent, "IMG_0002.HEIC", "image/heic", kind="photo")
    assert r.status_code == 201 and r.json()["content_type"] == "image/heic", r.text
    got = client.get(r.json()["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in got.content and GPS_MARK not in got.content
    assert pixels(got.content) == pixels(sent)


def test_a_photo_that_does_not_decode_is_refused_at_upload(client, app):
    """It could never be served (only its pixels are): one clear error now, nothing stored."""
    broken = image("PNG")[:-30]
    r = _post(client, broken, "cut.png", "image/png")
    assert r.status_code == 415 and "damaged or truncated" in r.json()["detail"], r.text
    sha = hashlib.sha256(broken).hexdigest()
    assert not (app.state.upload_dir / sha[:2] / sha).exists()


def pixels(data: bytes) -> tuple:
    """Size and mean colour, which survive JPEG re-encoding of a flat image."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
        return rgb.size, tuple(round(v / 8) for v in ImageStat.Stat(rgb).mean)


@pytest.mark.parametrize(("data", "name"), [(EXE, "photo.jpg"), (HTML, "photo.jpg"), (HTML, "ledger.csv"),
                                            (b"<svg onload=alert(1)>", "x.png")])
def test_executables_and_html_named_jpg_are_refused(client, app, data, name):
    r = _post(client, data, name, "image/jpeg")
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "UnsupportedMediaTypeError" and "not the file name" in r.json()["detail"]
    sha = hashlib.sha256(data).hexdigest()
    assert not (app.state.upload_dir / sha[:2] / sha).exists()
    assert client.get(f"/uploads/{sha}").status_code == 404


def test_traversal_names_cannot_escape(client, app):
    root = app.state.upload_dir.parent
    before = {p for p in root.parent.rglob("*")}
    data = "名称,地址\n甲,乙\n".encode()
    r = _post(client, data, "../../etc/passwd", "text/csv")
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "passwd"
    sha = hashlib.sha256(data).hexdigest()
    created = {p for p in root.parent.rglob("*")} - before
    assert created and all(p.resolve().is_relative_to(app.state.upload_dir) for p in created)
    assert app.state.upload_dir / sha[:2] / sha in created
    for bad in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", sha.upper(), sha[:63]):
        assert client.get(f"/uploads/{bad}").status_code in (404, 422)


def test_kind_is_enforced_when_asked(client):
    r = _post(client, PNG, "ledger.csv", kind="ledger")
    assert r.status_code == 415 and "kind=ledger" in r.json()["detail"]
    r = _post(client, PNG, "ledger.csv", kind="video")
    assert r.status_code == 422 and "kind" in r.json()["detail"]


def test_too_large_is_413(client, app, monkeypatch):
    big = PNG + b"\x00" * (200 * 1024)
    limits = app.state.body_limits
    monkeypatch.setattr(limits, "upload", 64 * 1024)
    r = _post(client, big, "big.png", "image/png")  # declared Content-Length over the limit
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLargeError", r.text
    assert "65,536 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while it streams
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n' \
                         b"Content-Type: image/png\r\n\r\n"
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]
        yield b"\r\n" + boundary + b"--\r\n"

    r = client.post("/uploads", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b0undary"})
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLargeError", r.text
    monkeypatch.setattr(limits, "upload", 25 * 1024 * 1024)
    monkeypatch.setitem(uploads.MAX_BYTES, "photo", 100 * 1024)  # the per-kind limit
    r = _post(client, big, "big.png", "image/png")
    assert r.status_code == 413 and "photo" in r.json()["detail"], r.text


def test_roles(app):
    engine = app.state.engine
    anonymous = TestClient(app)
    sha = hashlib.sha256(PNG).hexdigest()
    assert _post(anonymous, PNG, "a.png").status_code == 401
    assert anonymous.get(f"/uploads/{sha}").status_code == 401
    party = TestClient(app, headers=bearer(engine, "upload-public", "public"))
    assert _post(party, PNG, "a.png").status_code == 403
    assert party.get(f"/uploads/{sha}").status_code == 403
    for role in ("admin", "planner", "grid_officer"):
        grids = ("320102001001001",) if role == "grid_officer" else ()
        c = TestClient(app, headers=bearer(engine, f"upload-{role}", role, grids))
        assert _post(c, PNG, "a.png").status_code in (200, 201)


def test_unknown_upload_is_404(client):
    r = client.get(f"/uploads/{'0' * 64}")
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError"
