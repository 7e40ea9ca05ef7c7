"""Signed case links: the token in a notice's QR code (`/c/{token}`) that lets the responsible party see exactly one
case and report it rectified, until the link expires. No login: the link is the credential.

A token is `<case id>.<expiry, base 36 Unix seconds>.<MAC>`, short enough for a QR code that scans from paper. The
MAC (HMAC-SHA256, 128 bits, base64url) covers the purpose, this database's id, the case id, the case's party id and
the expiry, under a key derived from this database's own JWT key (table instance, or GRIDSVC_JWT_SECRET; see
gridsvc/people/users.py). So:

- a link names one case: changing the id (or anything else) breaks the MAC;
- a link of another database, or of a case whose party has changed since, does not verify;
- a link is never a login token, nor a login token a link (different keys, different shape);
- the expiry is checked only once the MAC holds, so a forged link learns nothing (404, like an unknown case),
  while a genuine old one says it has expired (410, LinkExpiredError).

The expiry is the later of the issue time and the case's running deadline, plus GRIDSVC_CASE_LINK_DAYS (30).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from ...db.instance import identity
from ...db.sql import sql
from ...errors import InputError, LinkExpiredError, NotFoundError
from ...people.users import Principal, signing_key
from ...settings import get_settings
from ...timekeeping import for_people, zone

PURPOSE = "party-case"  # the one purpose so far: the party sees its case and reports it rectified
MAC_BYTES = 16
TOKEN_RE = re.compile(r"^([1-9][0-9]{0,17})\.([0-9a-z]{1,13})\.([A-Za-z0-9_-]{22})$")
MAX_TOKEN = 64
_NOT_VALID = "this case link is not valid: scan the QR code on the notice again, or ask the grid officer"


@dataclass(frozen=True)
class CaseLink:
    """A verified link: the case it opens, its party, and when it expires."""

    case_id: int
    code: str
    party_id: int | None
    expires_at: datetime
    token: str
    party_name: str | None = None

    def principal(self) -> Principal:
        """The party acting through the link: role party, its own case only (ops.cases.check_case_scope)."""
        who = self.party_name or (f"party {self.party_id}" if self.party_id else "responsible party")
        return Principal(f"case-link:{who}"[:64], "party", (), self.party_id, "link", None)


def _key(conn: Connection) -> bytes:
    """The link key: derived from this database's signing key, so it never signs a login token."""
    return hmac.new(signing_key(conn).encode(), b"gridsvc case link key v1", hashlib.sha256).digest()


def _mac(conn: Connection, case_id: int, party_id: int | None, exp: int) -> str:
    msg = f"{PURPOSE}|{identity(conn).id}|{case_id}|{party_id or 0}|{exp}".encode()
    digest = hmac.new(_key(conn), msg, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def link_expiry(due_at: datetime | None, now: datetime) -> datetime:
    """When a link issued now expires: the later of now and the case's running deadline, plus case_link_days."""
    start = max(now, due_at) if due_at is not None else now
    return start + timedelta(days=get_settings().case_link_days)


def issue_link(conn: Connection, case_id: int, *, now: datetime | None = None,
               expires_at: datetime | None = None) -> CaseLink:
    """A signed link to one case for its party (NotFoundError for an unknown case)."""
    now = now or datetime.now(zone())
    row = conn.execute(sql("case_link_row"), {"i": case_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    when = expires_at or link_expiry(row["due_at"], now)
    exp = int(when.timestamp())
    token = f"{case_id}.{_b36(exp)}.{_mac(conn, case_id, row['party_id'], exp)}"
    return CaseLink(case_id, row["code"], row["party_id"], datetime.fromtimestamp(exp, UTC), token, row["party_name"])


def case_url(base_url: str, token: str) -> str:
    """The URL a notice's QR code encodes: {base_url}/c/{token}."""
    if not re.match(r"^https?://[^\s/]+", base_url or ""):
        raise InputError(f"base_url must be an http(s) URL, got {base_url!r}", source="base_url")
    return f"{base_url.rstrip('/')}/c/{token}"


def verify_link(conn: Connection, token: str, *, now: datetime | None = None) -> CaseLink:
    """The case a token opens. NotFoundError (404) for anything malformed, forged, of another database or of a case
    that is gone or changed party; LinkExpiredError (410) for a genuine link past its expiry."""
    now = now or datetime.now(zone())
    m = TOKEN_RE.match(token or "") if len(token or "") <= MAX_TOKEN else None
    if m is None:
        raise NotFoundError(_NOT_VALID, where="link")
    case_id, exp = int(m.group(1)), int(m.group(2), 36)
    row = conn.execute(sql("case_link_row"), {"i": case_id}).mappings().first() if case_id < 2**63 else None
    if row is None or exp > 2**40 or not hmac.compare_digest(_mac(conn, case_id, row["party_id"], exp), m.group(3)):
        raise NotFoundError(_NOT_VALID, where="link")
    expires = datetime.fromtimestamp(exp, UTC)
    if expires <= now:
        raise LinkExpiredError(f"this case link expired on {for_people(expires, '%Y-%m-%d %H:%M')} "
                               f"(Beijing time): ask the grid officer or the office on the notice for a new one "
                               f"(链接已过期，请联系网格员重新获取)", expired_at=expires.isoformat())
    return CaseLink(case_id, row["code"], row["party_id"], expires, token, row["party_name"])
