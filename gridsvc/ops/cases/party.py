"""The responsible party's view of its case through a case link (`/c/{token}`), and its one action: report the
problem rectified with a note and a photo.

What the party sees is what the notice told it, and no more: code, category, place, what is wrong, the deadline
with the time left (or how long overdue), the state, and the photos of the case (re-encoded without metadata when
served). Never the reporter's name or phone, nor staff names beyond the grid officer printed on the notice.

The rectify action goes through ops.cases.act as the party (role party, its own case only), in the caller's
transaction: the photo is checked by its content (files.uploads), re-encoded without EXIF/GPS (files.photos),
stored by the SHA-256 of the clean bytes, recorded in uploads, and named in the event as the 'after' photo;
audited as `case-link:<party>` from source `link`; version-checked (If-Match or the form's version).
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import InputError, NotFoundError
from ...files import uploads
from ...files.photos import clean_jpeg
from ...files.retention import lock_files
from ...people.audit import use_actor
from ...timekeeping import for_people, zone
from ..rules.flow import load_flow
from . import core as case_ops
from .links import CaseLink

DATE = "%Y年%m月%d日 %H:%M"
MAX_NOTE = 2000
MAX_PHOTO_BYTES = uploads.MAX_BYTES["photo"]
STAGE_DEADLINE = "handle"  # the party's clock: 处置


def _left_zh(due: datetime, now: datetime) -> tuple[str, bool]:
    """('还剩 1天3小时', False) or ('已超期 2小时', True)."""
    minutes = round((due - now).total_seconds() / 60)
    overdue = minutes < 0
    days, rest = divmod(abs(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days}天" if days else "") + (f"{hours}小时" if hours else "") + \
        (f"{mins}分钟" if mins and not days else "")
    return (f"已超期 {text or '不到1分钟'}" if overdue else f"还剩 {text or '不到1分钟'}"), overdue


def case_photos(case: dict) -> list[str]:
    """Every photo named by the case's events, in order."""
    return list(dict.fromkeys(p for e in case.get("events", []) for p in e.get("photos") or []))


def party_view(conn: Connection, link: CaseLink, now: datetime | None = None) -> dict:
    """The party's page of its case (JSON-ready, without personal data)."""
    now = now or datetime.now(zone())
    case = case_ops.get_case(conn, link.case_id, now=now)
    flow = load_flow()
    deadline = case["due_at"] if case["stage"] == STAGE_DEADLINE else \
        (case["deadlines"].get(STAGE_DEADLINE) or {}).get("due")
    due = datetime.fromisoformat(deadline) if deadline else None
    left, overdue = _left_zh(due, now) if due and not flow.states[case["state"]].final and \
        case["state"] not in ("rectified", "verified", "deferred") else ("", False)
    before = [p for e in case["events"] if e["action"] != "rectify" for p in e["photos"] or []]
    after = [p for e in case["events"] if e["action"] == "rectify" for p in e["photos"] or []]
    cat = case["category"]
    return {
        "code": case["code"], "state": case["state"], "state_zh": case["state_zh"], "version": case["version"],
        "category": {"code": cat.get("code"), "zh": cat.get("zh"), "major_zh": cat.get("major_zh")},
        "description": case["description"], "party": case["routing"]["party_name"],
        "grid_code": case["routing"]["grid_code"], "grid_officer": case["routing"]["grid_officer"],
        "point": case["point"], "reported_at": case["reported_at"],
        "reported_at_zh": for_people(datetime.fromisoformat(case["reported_at"]), DATE),
        "deadline": deadline, "deadline_zh": for_people(due, DATE) if due else "",
        "time_left_zh": left, "overdue": overdue,
        "can_rectify": "rectify" in flow.allowed(case["state"], "party"),
        "submitted": case["state"] == "rectified",
        "photos_before": list(dict.fromkeys(before)), "photos_after": list(dict.fromkeys(after)),
        "events": [{"action": e["action"], "to_state": e["to_state"],
                    "to_state_zh": flow.states[e["to_state"]].zh if e["to_state"] in flow.states else None,
                    "at": e["at"], "at_zh": for_people(datetime.fromisoformat(e["at"]), DATE)}
                   for e in case["events"]],
        "link_expires_at": link.expires_at.isoformat(),
    }


def photo_of_case(conn: Connection, link: CaseLink, sha256: str, upload_dir: Path) -> bytes:
    """A photo of the link's case, re-encoded without metadata (NotFoundError for any other photo)."""
    case = case_ops.get_case(conn, link.case_id)
    if sha256 not in case_photos(case):
        raise NotFoundError("no such photo in this case", where="photo")
    return clean_stored_photo(upload_dir, sha256)


def clean_stored_photo(upload_dir: Path, sha256: str) -> bytes:
    """A stored photo re-encoded without metadata (NotFoundError when its file is gone)."""
    path = uploads.stored_path(upload_dir, sha256)
    if not path.is_file():
        raise NotFoundError("the photo is no longer stored", where="photo")
    return clean_jpeg(path.read_bytes())


def store_clean_photo(conn: Connection, data: bytes, filename: str | None, actor: str, upload_dir: Path) -> str:
    """Check a sent photo by its content, re-encode it without metadata, store and record it; its SHA-256."""
    uploads.check_upload(io.BytesIO(data), len(data), "photo")
    return store_clean_bytes(conn, clean_jpeg(data), filename, actor, upload_dir)


def store_clean_bytes(conn: Connection, clean: bytes, filename: str | None, actor: str, upload_dir: Path) -> str:
    """Store and record a photo already re-encoded by clean_jpeg (no metadata); its SHA-256."""
    sha = hashlib.sha256(clean).hexdigest()
    lock_files(conn, [sha])  # until commit: `uploads prune` cannot unlink the file under the new row
    uploads.store(upload_dir, io.BytesIO(clean), sha)
    conn.execute(sql("upload_insert"), {"sha": sha, "kind": "photo", "ct": "image/jpeg", "size": len(clean),
                                        "name": uploads.clean_filename(filename), "by": actor})
    return sha


def rectify_by_link(conn: Connection, link: CaseLink, *, note: str | None, photo: bytes | None,
                    filename: str | None, expected_version: int | str | None, upload_dir: Path,
                    now: datetime | None = None) -> dict:
    """The party reports its case rectified (处置完成): one transition through ops.cases.act (the caller commits)."""
    principal = link.principal()
    use_actor(conn, principal.name, principal.role, "link")
    note = (note or "").strip()
    if not note:
        raise InputError("describe what was done (整改说明)", where="note")
    if len(note) > MAX_NOTE:
        raise InputError(f"the note has {len(note)} characters; at most {MAX_NOTE}", where="note")
    if photo is not None and len(photo) > MAX_PHOTO_BYTES:
        uploads.check_upload(io.BytesIO(photo), len(photo), "photo")  # 413 naming the limit
    if not photo:
        raise InputError("add a photo of the place after rectification (整改后照片)", where="photo")
    case_ops.check_case_scope(conn, link.case_id, principal)
    sha = store_clean_photo(conn, photo, filename, principal.name, upload_dir)
    return case_ops.act(conn, link.case_id, "rectify", principal=principal, expected_version=expected_version,
                        note=note, photos=[sha], data={"via": "case_link", "photos_after": [sha]}, now=now)
