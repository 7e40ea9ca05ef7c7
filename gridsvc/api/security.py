"""Who is asking: Bearer credentials, role checks, the audited write connection, masking and rate limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import AuthError, ForbiddenError, RateLimitedError
from ..people.audit import use_actor
from ..people.masking import PERSONAL_COLUMNS, mask_field
from ..people.roles import PUBLIC, role_table
from ..people.users import Principal, principal_for_bearer
from ..settings import get_settings
from .dependencies import Conn, LazyConnDep, ReadConn

_bearer = HTTPBearer(auto_error=False, description="a login JWT (POST /auth/token) or an API token (gst_…)")


class _Buckets:
    """Token buckets per anonymous client (per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, burst: float, cost: float = 1.0) -> float:
        """0 if a request of this cost (in requests) may pass, else the seconds until it may."""
        now = time.monotonic()
        cost = min(cost, float(burst))  # a cost above the burst could never pass
        with self._lock:
            tokens, last = self._state.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens < cost:
                self._state[key] = (tokens, now)
                return (cost - tokens) / rate
            self._state[key] = (tokens - cost, now)
            if len(self._state) > 100_000:  # forget idle clients
                self._state = {k: v for k, v in self._state.items() if now - v[1] < 60}
            return 0.0


_buckets = _Buckets()
POINTS_PER_REQUEST = 50  # an anonymous batch of N points weighs 1 + N / 50 requests (a lookup is one point's work)
ANONYMOUS = "*"  # the bucket all anonymous clients share, so that many addresses together cannot starve staff


def charge_anonymous(request: Request, cost: float) -> None:
    """Take `cost` requests' worth from the anonymous client's bucket and from the one all anonymous clients
    share (RateLimitedError, 429 + Retry-After, when either is empty)."""
    s = get_settings()
    wait = _buckets.take(request.client.host if request.client else "?", s.public_rate_per_s, s.public_burst, cost)
    overall = "" if wait else " overall"
    if not wait:
        wait = _buckets.take(ANONYMOUS, s.public_total_rate_per_s, 3 * s.public_total_rate_per_s, cost)
    if wait:
        raise RateLimitedError(f"too many requests without credentials{overall}; retry in {wait:.1f} s or log in",
                               retry_after=max(1, round(wait + 0.49)))


def source_of(request: Request) -> str:
    """Where a write came from: the workspace (ui), QGIS (the OGC API) or another API client."""
    if request.headers.get("x-gridsvc-client") == "ui":
        return "ui"
    return "qgis" if request.url.path.startswith("/ogc") else "api"


def current_principal(request: Request, conn: Conn,
                      creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal | None:
    """The authenticated user, or None for an anonymous (rate-limited) client."""
    return _principal(request, creds, lambda: conn)


async def lazy_principal(request: Request, lazy: LazyConnDep,
                         creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal | None:
    """current_principal on a LazyConn: an anonymous client takes no connection (nor a thread of the pool)."""
    if creds is None:
        return _principal(request, creds, lazy.get)
    return await run_in_threadpool(_principal, request, creds, lazy.get)


def _principal(request: Request, creds: HTTPAuthorizationCredentials | None, conn_of) -> Principal | None:
    if creds is not None:
        checked = getattr(request.state, "principal", None)  # scope.RolesFirst found it for this write already
        return checked if checked is not None else principal_for_bearer(conn_of(), creds.credentials)
    charge_anonymous(request, 1.0)
    return None


def read_principal(request: Request, conn: ReadConn,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal | None:
    """current_principal, found on the read connection: for routes that take ReadConn, so that a read served by a
    standby opens no connection to the primary (api/reads.py)."""
    return current_principal(request, conn, creds)


CurrentUser = Annotated[Principal | None, Depends(current_principal)]
ReadUser = Annotated[Principal | None, Depends(read_principal)]  # CurrentUser for the routes that take ReadConn
LazyUser = Annotated[Principal | None, Depends(lazy_principal)]  # the same on a LazyConn (lookups)


def role_of(principal: Principal | None) -> str:
    """The principal's role; anonymous callers are the role public."""
    return PUBLIC if principal is None else principal.role


def may(principal: Principal | None, action: str) -> bool:
    """Whether the role table (gridsvc/people/roles.toml) lets this principal perform an action."""
    return role_of(principal) in role_table().allowed(action)


def _in_table_order(roles) -> list[str]:
    return [r for r in role_table().roles if r in roles]


def require_roles(*roles: str):
    """A dependency giving the principal if it holds one of roles (401 without credentials, 403 otherwise)."""

    def dependency(principal: CurrentUser) -> Principal:
        if principal is None:
            raise AuthError("this needs credentials: Authorization: Bearer <token> (POST /auth/token)")
        check_role(principal, roles)
        return principal

    dependency.roles = roles  # read by scope.RolesFirst, which checks them before the body is read
    return dependency


def check_role(principal: Principal, roles: Iterable[str]) -> None:
    """ForbiddenError unless the principal holds one of roles."""
    if principal.role not in roles:
        raise ForbiddenError(f"role {principal.role!r} may not do this; needs {' or '.join(roles)}")


def require(action: str):
    """A dependency giving the principal if the role table lets it perform action."""
    return require_roles(*_in_table_order(role_table().allowed(action)))


def writer_for(action: str | None = None, *, fields_of: str | None = None):
    """A dependency giving the request's connection to the roles that may perform action (or change some field
    of table fields_of), with the actor recorded for the audit."""

    roles = role_table().allowed(action) if action else role_table().editors(fields_of)
    needs = require_roles(*_in_table_order(roles))

    def writer(request: Request, conn: Conn, principal: Principal = Depends(needs)) -> Connection:  # noqa: B008
        bind_actor(conn, principal, source_of(request))
        return conn

    return writer


def bind_actor(conn: Connection, principal: Principal, source: str) -> None:
    """Tell the audit triggers (this transaction) and the edit rules (this connection) who is writing."""
    use_actor(conn, principal.name, principal.role, source)
    conn.info["principal"] = principal


Writer = Annotated[Connection, Depends(writer_for("zones.edit"))]


def check_fields(principal: Principal, table: str, fields, what: str) -> None:
    """ForbiddenError naming the fields of a record (a `what` of table) this principal's role may not change."""
    allowed = role_table().editable(table, principal.role)
    refused = [f for f in fields if f not in allowed]
    if refused:
        raise ForbiddenError(f"role {principal.role!r} may not change {', '.join(refused)} of a {what}; it may "
                             f"change {', '.join(allowed) or 'nothing'}", where="body")


def sees_personal(principal: Principal | None) -> bool:
    """Whether contact names and phones are shown to this principal (the role table's personal.read)."""
    return may(principal, "personal.read")


def own_records(conn: Connection, principal: Principal | None, table: str) -> frozenset[int]:
    """Ids of the parties or units that are the principal's own (a party user's party, its unit): their contact
    and phone are shown to it unmasked (the role table's personal.read_own)."""
    if principal is None or principal.party_id is None or not may(principal, "personal.read_own"):
        return frozenset()
    if table == "parties":
        return frozenset({principal.party_id})
    if table == "units":
        return frozenset(conn.execute(sql("party_unit"), {"party": principal.party_id}).scalars())
    return frozenset()


def redact(obj: Any, principal: Principal | None, own: Iterable[int] = (), records: Iterable[int] = ()) -> Any:
    """A JSON value with personal fields masked for principals that may not see them. Kept: those of their own
    party (a dict whose party_id is theirs), and whole records (a row or GeoJSON Feature by its id) listed in
    records (own_records)."""
    if sees_personal(principal):
        return obj
    return _redact(obj, principal, own, records)


def _redact(obj: Any, principal: Principal | None, own: Iterable[int] = (), records: Iterable[int] = ()) -> Any:
    """redact() below its first level (the role is asked once per answer, not once per value)."""
    records = frozenset(records)
    if records and isinstance(obj, dict):
        if obj.get("type") == "FeatureCollection":
            return {k: [_redact(f, principal, own, records) for f in v] if k == "features" else v
                    for k, v in obj.items()}
        if obj.get("id") in records:
            return obj
    if not isinstance(obj, list | dict):
        return obj
    mine = set(own) | ({principal.party_id} if principal and principal.party_id else set())
    if isinstance(obj, list):
        return [_redact(v, principal, mine) for v in obj]
    keep = obj.get("party_id") in mine if mine else False
    out = {}
    for k, v in obj.items():
        if k in PERSONAL_COLUMNS and not keep:
            out[k] = mask_field(k, v)
        else:
            out[k] = _redact(v, principal, mine)
    return out
