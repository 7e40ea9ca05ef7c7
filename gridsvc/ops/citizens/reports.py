"""随手拍: citizens' reports with photos, their duplicates, and the reporter's status page.

A report (POST /reports) carries one or more photos, a position (sent, or read from a photo's EXIF GPS), a category
of categories.toml and a description; a phone and a nickname are optional. It becomes a case in 受理 (source
citizen), routed by ops.cases.open_case, and the reporter gets a tracking code (10 characters of base32, 50 random
bits) that opens the status page. A reporter may instead follow an open case (`follow` = its code), e.g. one of the
suggestions (`suggestions`): no new case, the report follows that one.

Photos: typed by content (files.uploads), bounded in pixels, read for their EXIF GPS, then re-encoded from their
pixels (files.photos.clean_jpeg) and only that clean copy is stored: no EXIF, GPS, XMP or thumbnail is kept or served.
Each photo's 64-bit perceptual hash (imagehash.phash) is kept; a photo within `report_phash_distance` bits of an
earlier report's (within `report_same_photo_days`) is the same photo sent again: 409 naming that report and case.

Duplicates: staff mark case B a duplicate of A with the flow's mark_duplicate action (作废（重复）, duplicate_of);
ops.cases.act then moves B's reporters to A (reports_move.sql). B is void with cases.duplicate_of set, so counts
take `cases.duplicate_of IS NULL` (and void cases are out of the on-time figures already).

Personal data: the phone and nickname are stored (staff read them masked or not by personal.read, like every
reporter field) and never appear in a public answer: the status page and suggestions carry none, nor the names of
officers or parties' contacts.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import math
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ...db.instance import identity
from ...db.sql import sql
from ...errors import (
    ConflictError,
    DuplicatePhotoError,
    InputError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
)
from ...files import uploads
from ...files.photos import clean_jpeg, register_codecs
from ...people.audit import use_actor
from ...settings import get_settings
from ...timekeeping import for_people, iso, zone
from ...versions import require_version
from ...zones.lookup import to_wgs84_point
from ..cases import core as case_ops
from ..cases.party import DATE, clean_stored_photo, store_clean_bytes
from ..rules.categories import load_categories, load_departments
from ..rules.flow import load_flow

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32: no 0/1/8/9, nothing to misread
CODE_LENGTH = 10
PROGRESS = ("accepted", "registered", "dispatched", "rectified", "verified", "closed")  # 受理 … 结案
PROGRESS_ZH = {"accepted": "已受理", "registered": "已立案", "dispatched": "已派遣", "rectified": "已处置",
               "verified": "已核查", "closed": "已结案"}
STAFF_EXCLUDED = ("public", "party")  # roles that get the public radius of suggestions
MAX_TEXT = 2000


def new_code() -> str:
    """A tracking code: 10 characters of base32 (50 random bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code: str) -> str:
    """A tracking code as typed (lower case, spaces, dashes) in its stored form."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())[:CODE_LENGTH * 2]


# ---- photos ----

@dataclass(frozen=True)
class ReportPhoto:
    """A photo as stored: the clean JPEG, its perceptual hash and the EXIF GPS position it came with (if any)."""

    clean: bytes
    phash: int  # signed 64-bit
    gps: tuple[float, float] | None  # (lng, lat), WGS84


def _rational(v: Any) -> float:
    return float(v[0]) / float(v[1]) if isinstance(v, tuple) and len(v) == 2 else float(v)


def exif_position(img) -> tuple[float, float] | None:
    """(lng, lat) of a photo's EXIF GPS (WGS84, as phones write it), None when absent or unreadable."""
    try:
        gps = img.getexif().get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = sum(_rational(x) / 60 ** i for i, x in enumerate(gps[2]))
        lng = sum(_rational(x) / 60 ** i for i, x in enumerate(gps[4]))
    except (TypeError, ValueError, ZeroDivisionError, KeyError, AttributeError):
        return None
    lat = -lat if str(gps.get(1, "N")).upper().startswith("S") else lat
    lng = -lng if str(gps.get(3, "E")).upper().startswith("W") else lng
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return round(lng, 7), round(lat, 7)


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def perceptual_hash(clean: bytes) -> int:
    """The 64-bit pHash of a photo, as a signed integer (bigint)."""
    import imagehash
    from PIL import Image

    with Image.open(io.BytesIO(clean)) as img:
        return signed64(int(str(imagehash.phash(img)), 16))


def read_photo(data: bytes, max_pixels: int) -> ReportPhoto:
    """Check a sent photo (type by content 415, bytes and pixels 413), read its GPS, and re-encode it clean."""
    from PIL import Image, UnidentifiedImageError

    uploads.check_upload(io.BytesIO(data), len(data), "photo")
    register_codecs()  # HEIC too
    gps = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > max_pixels:
                    raise PayloadTooLargeError(
                        f"the photo has {img.width}×{img.height} pixels; at most {max_pixels / 1e6:.0f} million are "
                        "accepted", where="photo", limit_pixels=max_pixels)
                gps = exif_position(img)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        pass  # clean_jpeg names the problem
    clean = clean_jpeg(data)
    return ReportPhoto(clean, perceptual_hash(clean), gps)


# ---- rate limit ----

def client_hash(conn: Connection, address: str) -> str:
    """A client address as a keyed hash (this database's key): enough to count, not to recover the address."""
    key = identity(conn).jwt_key.encode()
    return hmac.new(key, f"report-client:{address}".encode(), hashlib.sha256).hexdigest()[:32]


def check_rate(conn: Connection, ip_hash: str, now: datetime) -> None:
    """At most report_per_hour reports per client address in the last hour (429 with Retry-After)."""
    limit = get_settings().report_per_hour
    row = conn.execute(sql("report_ip_count"), {"ip": ip_hash, "since": now - timedelta(hours=1)}).one()
    if row.n >= limit:
        wait = max(1, round((row.oldest + timedelta(hours=1) - now).total_seconds()))
        raise RateLimitedError(f"at most {limit} reports an hour from one address; retry in {wait} s",
                               retry_after=wait)


# ---- filing ----

def _same_photo(conn: Connection, photos: list[ReportPhoto], now: datetime) -> None:
    s = get_settings()
    row = conn.execute(sql("report_same_photo"), {
        "phashes": [p.phash for p in photos], "d": s.report_phash_distance,
        "since": now - timedelta(days=s.report_same_photo_days)}).first()
    if row is not None:
        raise DuplicatePhotoError(
            f"this photo was reported already (report {row.report_code}, case {row.case_code}): see its progress "
            f"at /reports/{row.report_code}, or send follow={row.case_code} with a new photo to follow that case",
            report_code=row.report_code, case_code=row.case_code, status_url=f"/reports/{row.report_code}")


def follow_target(conn: Connection, code: str) -> Any:
    """The open case a reporter may follow by its code (a duplicate's original, followed to the end)."""
    row = conn.execute(sql("case_root"), {"i": None, "c": code}).first()
    if row is None:
        raise InputError(f"no case {code} to follow", where="follow")
    seen = {row.id}
    while row.duplicate_of is not None and row.duplicate_of not in seen:
        seen.add(row.duplicate_of)
        row = conn.execute(sql("case_root"), {"i": row.duplicate_of, "c": None}).one()
    if row.state in ("closed", "void"):
        raise ConflictError(f"case {row.code} is {load_flow().label(row.state)} and can no longer be followed: "
                            "report the problem as new", case_code=row.code)
    return row


def _position(lng: float | None, lat: float | None, crs: str, photos: list[ReportPhoto]) -> tuple[float, float, str]:
    if (lng is None) != (lat is None):
        raise InputError("send both lng and lat, or neither (then a photo's GPS is used)",
                         where="lng" if lng is None else "lat")
    if lng is not None:
        return lng, lat, crs
    for p in photos:
        if p.gps:
            return p.gps[0], p.gps[1], "wgs84"
    raise InputError("where is it? send lng and lat (the device's position or a pick on the map), or a photo that "
                     "carries its GPS position", where="lng")


def file_report(conn: Connection, *, photos: list[bytes], filenames: list[str | None] | None = None,
                lng: float | None = None, lat: float | None = None, crs: str = "wgs84",
                category: str | None = None, description: str | None = None, phone: str | None = None,
                nickname: str | None = None, follow: str | None = None, client: str | None = None,
                principal=None, upload_dir: Path, now: datetime | None = None) -> dict:
    """A report: a new case in 受理 (or, with follow, a follower of that case); its tracking code. The caller commits.

    Order: photo count (413), rate (429, anonymous only), each photo (415, 413), the same photo again (409), then the
    fields (422) and the case."""
    s = get_settings()
    now = now or datetime.now(zone())
    if len(photos) > s.report_max_photos:
        raise PayloadTooLargeError(f"{len(photos)} photos; at most {s.report_max_photos} per report",
                                   where="photo", limit_photos=s.report_max_photos)
    if not photos and not follow:
        raise InputError("add a photo of the problem (拍照)", where="photo")
    ip_hash = client_hash(conn, client) if client else None
    if principal is None and ip_hash:
        check_rate(conn, ip_hash, now)
    prepared = [read_photo(d, s.report_max_pixels) for d in photos]
    if prepared:
        _same_photo(conn, prepared, now)
    description = (description or "").strip() or None
    if description and len(description) > MAX_TEXT:
        raise InputError(f"the description has {len(description)} characters; at most {MAX_TEXT}",
                         where="description")
    code = new_code()
    actor, role = (principal.name, principal.role) if principal is not None else (f"report:{code}", "public")
    use_actor(conn, actor, role, "report")
    names = list(filenames or []) + [None] * len(prepared)
    if follow:
        target = follow_target(conn, follow.strip())
        case_id, filed = target.id, None
        shas = [store_clean_bytes(conn, p.clean, names[i], actor, upload_dir) for i, p in enumerate(prepared)]
    else:
        x, y, in_crs = _position(lng, lat, crs, prepared)
        if not category:
            raise InputError("choose a category (问题类别; GET /cases/categories?brief=true)", where="category")
        load_categories().get(category)
        if not description:
            raise InputError("describe the problem (问题描述)", where="description")
        shas = [store_clean_bytes(conn, p.clean, names[i], actor, upload_dir) for i, p in enumerate(prepared)]
        case_id = case_ops.open_case(conn, lng=x, lat=y, crs=in_crs, category=category, description=description,
                                     source="citizen", reporter_name=nickname, reporter_phone=phone, photos=shas,
                                     actor=actor, role=role, now=now)
        filed = case_id
    report_id = conn.execute(sql("report_insert"), {
        "code": code, "case": case_id, "filed": filed, "note": description if follow else None,
        "phone": phone, "nick": nickname, "ip": ip_hash}).scalar_one()
    if prepared:
        conn.execute(sql("report_photo_insert"), {"r": report_id, "shas": shas,
                                                  "phashes": [p.phash for p in prepared]})
    case_code = conn.execute(sql("case_root"), {"i": case_id, "c": None}).one().code
    return {"code": code, "case_code": case_code, "followed": filed is None, "photos": len(shas),
            "position_from": None if follow else ("sent" if lng is not None else "photo"),
            "status_url": f"/reports/{code}", "page_url": f"/r/{code}"}


# ---- suggestions ----

def is_staff(principal) -> bool:
    """Staff (any role but party) see suggestions from further away, with the description."""
    return principal is not None and principal.role not in STAFF_EXCLUDED


def suggestions(conn: Connection, *, lng: float, lat: float, category: str, crs: str = "wgs84", principal=None,
                now: datetime | None = None) -> dict:
    """Open cases of the category near a point (settings: radius public/staff, days, at most N), nearest then newest.
    The public gets codes, category, state, distance, the day reported and how many follow: nothing personal."""
    s = get_settings()
    now = now or datetime.now(zone())
    cat = load_categories().get(category)
    x, y = to_wgs84_point(lng, lat, crs)
    staff = is_staff(principal)
    radius = s.report_radius_staff_m if staff else s.report_radius_public_m
    deg = radius / (111_320.0 * max(math.cos(math.radians(y)), 0.01)) * 1.01
    rows = conn.execute(sql("report_suggestions"), {
        "lng": x, "lat": y, "r": radius, "deg": deg, "category": category,
        "since": now - timedelta(days=s.report_suggest_days), "limit": s.report_suggest_max}).mappings().all()
    flow = load_flow()
    out = []
    for r in rows:
        item = {"code": r["code"], "category": cat.code, "category_zh": cat.zh, "state": r["state"],
                "state_zh": flow.states[r["state"]].zh, "distance_m": float(r["distance_m"]),
                "reported_on": for_people(r["reported_at"], "%Y-%m-%d"), "reporters": r["reporters"]}
        if staff:
            item |= {"id": r["id"], "description": r["description"], "grid_code": r["grid_code"],
                     "reported_at": iso(r["reported_at"])}
        out.append(item)
    return {"lng": round(x, 6), "lat": round(y, 6), "radius_m": radius, "days": s.report_suggest_days,
            "category": category, "suggestions": out}


# ---- the status page ----

def _report(conn: Connection, code: str):
    row = conn.execute(sql("report_by_code"), {"code": normal_code(code)}).mappings().first()
    if row is None:
        raise NotFoundError("no report with this tracking code", where="code")
    return row


def status(conn: Connection, code: str, now: datetime | None = None) -> dict:
    """The reporter's page: the case's state and progress with Beijing dates, the category and department, the
    reward, and photos (the reporter's own; the rectified one when the report may go on public screens).
    Nothing personal: no reporter, officer or party names or phones."""
    now = now or datetime.now(zone())
    row = _report(conn, code)
    case = case_ops.get_case(conn, row["case_id"], now=now)
    flow = load_flow()
    reached: dict[str, str] = {}
    for e in case["events"]:
        if e["to_state"] and e["to_state"] not in reached:
            reached[e["to_state"]] = e["at"]
    state = case["state"]
    current = state if state in PROGRESS else None
    steps, done = [], True
    for s_ in PROGRESS:
        at = reached.get(s_)
        if current is None and s_ not in reached:
            done = False
        steps.append({"state": s_, "zh": flow.states[s_].zh, "label_zh": PROGRESS_ZH[s_],
                      "done": at is not None and done, "current": s_ == current,
                      "at": at, "at_zh": for_people(datetime.fromisoformat(at), DATE) if at else ""})
        if s_ == current:
            done = False
    after = [p for e in case["events"] if e["action"] == "rectify" for p in e["photos"] or []]
    cat = case["category"]
    dep = load_departments().get(case["routing"]["department"]["code"])
    merged = row["filed_case_id"] is not None and row["filed_case_id"] != row["case_id"]
    kind = "merged" if merged else ("following" if row["filed_case_id"] is None else "filed")
    note_zh = {"filed": "您上报的问题已生成案件，正在按流程办理。",
               "following": "您关注了已有的同类案件，办理进展如下。",
               "merged": f"您上报的问题（原案件 {row['filed_case_code']}）与案件 {case['code']} 重复，已合并办理，"
                         "进展如下。"}[kind]
    reward = None
    if row["reward_amount"] is not None:
        reward = {"amount": str(Decimal(row["reward_amount"]).quantize(Decimal("0.01"))), "paid": row["reward_paid"],
                  "paid_on": for_people(row["reward_paid_at"], "%Y-%m-%d") if row["reward_paid_at"] else None}
    return {
        "code": row["code"], "kind": kind, "note_zh": note_zh, "case_code": case["code"],
        "merged_from": row["filed_case_code"] if merged else None,
        "state": state, "state_zh": case["state_zh"], "final": flow.states[state].final,
        "category": {"code": cat.get("code"), "zh": cat.get("zh"), "major_zh": cat.get("major_zh"),
                     "kind_zh": cat.get("kind_zh")},
        "department_zh": dep.zh if dep else None,
        "description": case["description"] if kind == "filed" else None,  # the reporter's own words only
        "reported_at": row["created_at"].isoformat(), "reported_at_zh": for_people(row["created_at"], DATE),
        "steps": steps, "reporters": row["reporters"],
        "overdue": case["overdue"] and not flow.states[state].final,
        "reward": reward, "public_screen": row["public_screen"],
        "photos": list(row["photos"] or []),
        "photos_after": list(dict.fromkeys(after)) if row["public_screen"] else [],
        "version": row["version"],
    }


def photo(conn: Connection, code: str, sha256: str, upload_dir: Path) -> bytes:
    """A photo the status page shows (the report's own; the case's after photos when public_screen), re-encoded."""
    row = _report(conn, code)
    allowed = set(row["photos"] or [])
    if row["public_screen"]:
        case = case_ops.get_case(conn, row["case_id"])
        allowed |= {p for e in case["events"] if e["action"] == "rectify" for p in e["photos"] or []}
    if sha256 not in allowed:
        raise NotFoundError("no such photo on this report", where="photo")
    return clean_stored_photo(upload_dir, sha256)


# ---- staff: reward and public screens ----

def update_flags(conn: Connection, code: str, *, principal, expected_version: int | str | None,
                 reward_amount: Decimal | None | Any = ..., reward_paid: bool | None = None,
                 public_screen: bool | None = None, now: datetime | None = None) -> dict:
    """Set a report's reward (奖励: amount, paid) and its public-screen flag; versioned (428/412). A reward needs an
    accepted report: its case registered (立案) and not void (409); a paid reward needs an amount (422)."""
    now = now or datetime.now(zone())
    row = conn.execute(sql("report_for_update"), {"code": normal_code(code)}).mappings().first()
    if row is None:
        raise NotFoundError("no report with this tracking code", where="code")
    require_version(row["code"], row["version"], expected_version, what="report", field="version")
    amount = row["reward_amount"] if reward_amount is ... else reward_amount
    paid = row["reward_paid"] if reward_paid is None else reward_paid
    screen = row["public_screen"] if public_screen is None else public_screen
    if amount is not None and amount < 0:
        raise InputError("a reward cannot be negative", where="reward_amount")
    if paid and not amount:
        raise InputError("a paid reward needs its amount", where="reward_paid")
    if (amount is not None and amount != row["reward_amount"]) and row["case_state"] in ("accepted", "void"):
        raise ConflictError(f"case of report {row['code']} is {load_flow().label(row['case_state'])}: only an "
                            "accepted report (its case registered, 立案) earns a reward", case_state=row["case_state"])
    conn.execute(sql("report_flags_update"), {"id": row["id"], "amount": amount, "paid": paid, "screen": screen,
                                              "now": now})
    return {"code": row["code"], "reward_amount": None if amount is None else str(amount), "reward_paid": paid,
            "public_screen": screen, "version": row["version"] + 1}

