"""A city with a case for the notice and case-page tests: Nanjing 新街口 with 三包 zones, a grid officer, and
photos with GPS in their EXIF (which must never come out again)."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import text
from support import load_nanjing, zone_point

from gridsvc.db.instance import upload_root
from gridsvc.files import uploads
from gridsvc.ops.cases import core
from gridsvc.people.users import Principal
from gridsvc.settings import get_settings

ADMIN = Principal("notice-admin", "admin")
REPORTER, REPORTER_PHONE = "李举报", "13811112222"
GPS_MARK = b"GPS-SECRET-32.0418N"


def gps_jpeg(colour=(200, 120, 40), size=(640, 480)) -> bytes:
    """A JPEG whose EXIF carries a GPS position, a camera and a text marker."""
    from PIL import Image

    img = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):  # some structure, so the picture is not one flat colour
        for y in range(size[1] // 2, size[1]):
            img.putpixel((x, y), (30, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x010E] = GPS_MARK.decode()  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (32.0, 2.0, 30.5), 3: "E", 4: (118.0, 47.0, 2.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def store_upload(engine, data: bytes, upload_dir: Path | None = None) -> str:
    """Store a photo as POST /uploads does (bytes as sent) and record it; its sha256."""
    sha, size = uploads.sha256_of(io.BytesIO(data))
    with engine.begin() as c:
        root = upload_dir or upload_root(get_settings().upload_dir, c)
        uploads.store(root, io.BytesIO(data), sha)
        c.execute(text("INSERT INTO uploads (sha256, kind, content_type, size_bytes, filename) VALUES "
                       "(:s, 'photo', 'image/jpeg', :n, 'scene.jpg') ON CONFLICT DO NOTHING"), {"s": sha, "n": size})
    return sha


def load_case_city(engine) -> dict:
    """Nanjing with 三包 zones and a grid officer at a frontage zone's point; the point, grid and party."""
    load_nanjing(engine, zones="三包")
    with engine.begin() as c:
        _zone, unit, x, y = zone_point(c, "kind = 'frontage' AND party_id IS NOT NULL AND unit_id IS NOT NULL")
        grid = c.execute(text("SELECT code FROM grid_cells WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
                              "4326))"), {"x": x, "y": y}).scalar_one()
        officer = c.execute(text("INSERT INTO officers (name, phone) VALUES ('王网格', '13900000001') RETURNING id")
                            ).scalar_one()
        c.execute(text("INSERT INTO officer_grids (officer_id, grid_code) VALUES (:o, :g)"), {"o": officer, "g": grid})
    return {"point": (x, y), "grid": grid, "unit": unit}


def open_case(engine, point, *, photos=(), to: str = "dispatched", now=None) -> int:
    """A case with the reporter's name and phone, brought to `to` (accepted, registered or dispatched)."""
    with engine.begin() as c:
        case_id = core.open_case(c, lng=point[0], lat=point[1], category="SJ0102", description="门前堆放纸箱和垃圾袋",
                                 source="citizen", reporter_name=REPORTER, reporter_phone=REPORTER_PHONE,
                                 photos=list(photos), actor="notice-admin", role="admin", now=now, reported_at=now)
    steps = {"accepted": [], "registered": ["register"], "dispatched": ["register", "dispatch"]}[to]
    for action in steps:
        with engine.begin() as c:
            core.act(c, case_id, action, principal=ADMIN, expected_version="*", now=now)
    return case_id


def city_with_case(engine, uploads: Path) -> tuple[dict, str, int]:
    """The city, a photo with GPS stored in `uploads`, and a dispatched case with that photo."""
    info = load_case_city(engine)
    sha = store_upload(engine, gps_jpeg(), uploads)
    return info, sha, open_case(engine, info["point"], photos=[sha])


def _dms(value: float) -> tuple[float, float, float]:
    deg = int(value)
    minutes = int((value - deg) * 60)
    return float(deg), float(minutes), round(((value - deg) * 60 - minutes) * 60, 4)


def scene_jpeg(seed: int, gps: tuple[float, float] | None = None, size=(800, 600), quality: int = 90) -> bytes:
    """A photo of a made-up scene (random blocks: each seed a different picture to a perceptual hash), with an
    EXIF camera, marker and, if given, the GPS position (lng, lat) in WGS84."""
    import random

    from PIL import Image, ImageDraw

    rnd = random.Random(seed)
    img = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        w, h = rnd.randrange(size[0] // 10 + 1, size[0] // 2 + 2), rnd.randrange(size[1] // 10 + 1, size[1] // 2 + 2)
        draw.rectangle((x, y, x + w, y + h), fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x010E] = GPS_MARK.decode()
    if gps is not None:
        exif.get_ifd(0x8825).update({1: "N" if gps[1] >= 0 else "S", 2: _dms(abs(gps[1])),
                                     3: "E" if gps[0] >= 0 else "W", 4: _dms(abs(gps[0]))})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=quality)
    return out.getvalue()
